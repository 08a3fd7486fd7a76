//! The sync hub: at most one run per connector at a time, the progress of the running one, and
//! a change counter that live views (server-sent events) wait on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::sync::{oneshot, watch};

use crate::model::{SyncKind, SyncPhase, SyncProgress, SyncTrigger};

use super::super::error::AppError;
use super::super::state::AppState;
use super::engine::{self, RunSummary};
use super::SyncError;

/// What a refused trigger says.
pub(crate) const ALREADY_RUNNING: &str = "A sync is already running.";

/// Shared by every handle of one server. Cheap to clone.
#[derive(Clone)]
pub(crate) struct SyncHub {
    inner: Arc<Inner>,
}

struct Inner {
    busy: AtomicBool,
    progress: Mutex<Option<SyncProgress>>,
    changes: watch::Sender<u64>,
}

impl Default for SyncHub {
    fn default() -> Self {
        Self::new()
    }
}

impl SyncHub {
    /// A hub with no run.
    pub(crate) fn new() -> Self {
        let (changes, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                busy: AtomicBool::new(false),
                progress: Mutex::new(None),
                changes,
            }),
        }
    }

    /// The running sync's progress, or `None` when no sync runs.
    pub(crate) fn progress(&self) -> Option<SyncProgress> {
        self.lock().clone()
    }

    /// A counter bumped on every progress step and on every change of the connector or of a
    /// run (start, end, set-up). Wait on `changed()`, then read what you show.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Tells subscribers that something they show changed.
    pub(crate) fn notify(&self) {
        self.inner.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether a sync runs now.
    pub(crate) fn is_running(&self) -> bool {
        self.inner.busy.load(Ordering::Acquire)
    }

    /// Takes the one-run slot, or `None` when a run holds it. The slot is freed (and the
    /// progress cleared) when the returned claim is dropped.
    pub(crate) fn claim(&self) -> Option<Claim> {
        self.inner
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Claim { hub: self.clone() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SyncProgress>> {
        self.inner
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The one-run slot, held for the length of a run.
pub(crate) struct Claim {
    hub: SyncHub,
}

impl Claim {
    /// Publishes the first progress of run `run_id`.
    pub(crate) fn begin(&self, run_id: &str, kind: SyncKind) {
        *self.hub.lock() = Some(SyncProgress {
            run_id: run_id.to_owned(),
            kind,
            phase: if kind == SyncKind::FullSync {
                SyncPhase::Settings
            } else {
                SyncPhase::Devices
            },
            started_at: Utc::now(),
            pages: 0,
            devices: 0,
            mailboxes_done: 0,
            mailboxes_total: 0,
        });
        self.hub.notify();
    }

    /// Changes the progress and tells subscribers.
    pub(crate) fn update(&self, change: impl FnOnce(&mut SyncProgress)) {
        self.progress().update(change);
    }

    /// A handle that reports this run's progress from another task (it does not hold the slot).
    pub(crate) fn progress(&self) -> Progress {
        Progress {
            hub: self.hub.clone(),
        }
    }
}

/// Reports the progress of the running sync (see [`Claim::progress`]). Cheap to clone.
#[derive(Clone)]
pub(crate) struct Progress {
    hub: SyncHub,
}

impl Progress {
    /// Changes the progress, if a run is still going, and tells subscribers.
    pub(crate) fn update(&self, change: impl FnOnce(&mut SyncProgress)) {
        if let Some(p) = self.hub.lock().as_mut() {
            change(p);
        }
        self.hub.notify();
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        *self.hub.lock() = None;
        self.hub.inner.busy.store(false, Ordering::Release);
        self.hub.notify();
    }
}

/// Starts a sync of the connector in the background and returns its run id at once (the run
/// is already in the ledger as `running`). Refused with [`AppError::Conflict`] ("A sync is
/// already running.") while another run (or set-up's first sync) holds the slot, and when no
/// connector has been set up. The run stops, recorded `interrupted`, when the server shuts down.
pub(crate) async fn start(
    state: &AppState,
    kind: SyncKind,
    trigger: SyncTrigger,
    by: Option<String>,
) -> Result<String, AppError> {
    let claim = state
        .hub
        .claim()
        .ok_or_else(|| AppError::Conflict(ALREADY_RUNNING.into()))?;
    start_claimed(state, claim, kind, trigger, by).await
}

/// As [`start`], with the one-run slot already held (set-up claims it before its checks).
pub(crate) async fn start_claimed(
    state: &AppState,
    claim: Claim,
    kind: SyncKind,
    trigger: SyncTrigger,
    by: Option<String>,
) -> Result<String, AppError> {
    // The outcome is in the ledger and the connector row; nothing waits for it here.
    Ok(start_watched(state, claim, kind, trigger, by).await?.0)
}

/// As [`start_claimed`], with a way to learn the run's end: the receiver gets its outcome.
/// Whoever waits on it may go away (a browser that closes): the run goes on regardless.
pub(crate) async fn start_watched(
    state: &AppState,
    claim: Claim,
    kind: SyncKind,
    trigger: SyncTrigger,
    by: Option<String>,
) -> Result<(String, oneshot::Receiver<Result<RunSummary, SyncError>>), AppError> {
    let run = engine::prepare(state, &claim, kind, trigger, by).await?;
    let id = run.id.clone();
    let state = state.clone();
    let tracker = state.background.tracker.clone();
    let (done, outcome) = oneshot::channel();
    tracker.spawn(async move {
        let _ = done.send(engine::execute(&state, run, claim).await);
    });
    Ok((id, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_claim_is_held_at_a_time_and_dropping_it_frees_the_slot() {
        let hub = SyncHub::new();
        let mut rx = hub.subscribe();
        let first = hub.claim().expect("free");
        assert!(hub.claim().is_none());
        assert!(hub.is_running());
        first.begin("r1", SyncKind::DeltaSync);
        first.update(|p| p.pages += 1);
        assert_eq!(hub.progress().map(|p| p.pages), Some(1));
        assert!(rx.has_changed().unwrap_or(false));
        rx.mark_unchanged();
        drop(first);
        assert!(rx.has_changed().unwrap_or(false));
        assert!(hub.progress().is_none());
        assert!(!hub.is_running());
        assert!(hub.claim().is_some());
    }
}
