//! The Exchange changes under way and how far their calls got, for the live status stream: a
//! bulk action over 500 devices shows its calls as Exchange answers them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::model::ChangeProgress;

use super::super::sync::hub::SyncHub;

/// The changes under way on this server. Cheap to share.
#[derive(Debug, Default)]
pub(crate) struct ChangeBoard {
    running: Mutex<BTreeMap<u64, ChangeProgress>>,
    next: AtomicU64,
}

impl ChangeBoard {
    /// The changes under way, oldest first.
    pub(crate) fn list(&self) -> Vec<ChangeProgress> {
        self.lock().values().cloned().collect()
    }

    /// Shows a change of `calls` Exchange calls until the returned tracker is dropped; every
    /// step tells the live views through `hub`.
    pub(crate) fn start(
        self: &Arc<Self>,
        hub: &SyncHub,
        what: String,
        by: Option<String>,
        calls: usize,
    ) -> Tracker {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(
            id,
            ChangeProgress {
                id,
                what,
                by,
                calls_total: u32::try_from(calls).unwrap_or(u32::MAX),
                ..ChangeProgress::default()
            },
        );
        hub.notify();
        Tracker {
            board: self.clone(),
            hub: hub.clone(),
            id,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, ChangeProgress>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One change under way on the board, until dropped.
pub(crate) struct Tracker {
    board: Arc<ChangeBoard>,
    hub: SyncHub,
    id: u64,
}

impl Tracker {
    /// Changes the progress and tells the live views.
    pub(crate) fn update(&self, change: impl FnOnce(&mut ChangeProgress)) {
        if let Some(p) = self.board.lock().get_mut(&self.id) {
            change(p);
        }
        self.hub.notify();
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.board.lock().remove(&self.id);
        self.hub.notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_shows_while_its_tracker_lives_and_each_step_is_announced() {
        let (board, hub) = (Arc::new(ChangeBoard::default()), SyncHub::new());
        let changes = hub.subscribe();
        let a = board.start(&hub, "Block · 3 devices".into(), Some("a@x".into()), 2);
        let b = board.start(&hub, "Allow · 1 device".into(), None, 1);
        assert!(changes.has_changed().unwrap_or(false));
        a.update(|p| p.calls_done += 1);
        let shown = board.list();
        assert_eq!(shown.len(), 2);
        assert_eq!((shown[0].calls_done, shown[0].calls_total), (1, 2));
        assert_eq!(shown[1].what, "Allow · 1 device");
        drop(a);
        assert_eq!(board.list().len(), 1);
        drop(b);
        assert!(board.list().is_empty());
    }
}
