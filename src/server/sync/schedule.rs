//! The schedule: a quick sync every `SYNC_QUICK_INTERVAL_MINS`, a full sync daily at
//! `SYNC_FULL_AT` (UTC), each started up to `SYNC_JITTER_SECS` late. Runs only for a connector
//! that has been set up (connected, or disconnected after having synced); a run due while
//! another runs is skipped, not queued.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, Utc};
use tokio::time::Instant;

use crate::model::{ConnectionStatus, SyncKind, SyncTrigger};

use super::super::db::connectors;
use super::super::error::AppError;
use super::super::state::AppState;
use super::hub;

/// Starts the scheduler as a background task (stops when the server stops).
pub(crate) fn spawn(state: &AppState) {
    if !state.sync_settings.schedule {
        tracing::info!("sync schedule is off (SYNC_SCHEDULE=off)");
        return;
    }
    let state = state.clone();
    let background = state.background.clone();
    background.spawn_worker("sync scheduler", run(state));
}

async fn run(state: AppState) {
    let settings = state.sync_settings.clone();
    let cancel = state.background.cancel.clone();
    let mut next_quick = Instant::now() + settings.quick_interval + jitter(settings.jitter);
    let mut next_full = full_instant(&settings.full_at, settings.jitter);
    loop {
        let (kind, at) = if next_full <= next_quick {
            (SyncKind::FullSync, next_full)
        } else {
            (SyncKind::DeltaSync, next_quick)
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep_until(at) => {}
        }
        if kind == SyncKind::FullSync {
            next_full = full_instant(&settings.full_at, settings.jitter);
        }
        // A full sync also brings the devices up to date: the next quick one can wait.
        next_quick = Instant::now() + settings.quick_interval + jitter(settings.jitter);
        match start_if_set_up(&state, kind).await {
            Ok(Some(run_id)) => tracing::info!(run_id, kind = kind.as_str(), "scheduled sync"),
            Ok(None) => {}
            Err(AppError::Conflict(reason)) => {
                tracing::info!(kind = kind.as_str(), "scheduled sync skipped: {reason}");
            }
            Err(e) => {
                tracing::warn!(kind = kind.as_str(), error = %e, "scheduled sync not started")
            }
        }
    }
}

async fn start_if_set_up(state: &AppState, kind: SyncKind) -> Result<Option<String>, AppError> {
    let Some(c) = connectors::current(state.db.pool()).await? else {
        return Ok(None);
    };
    let set_up = c.status == ConnectionStatus::Connected
        || (c.status == ConnectionStatus::Disconnected && c.last_sync_at.is_some());
    if !set_up {
        return Ok(None);
    }
    hub::start(state, kind, SyncTrigger::Scheduled, None)
        .await
        .map(Some)
}

fn full_instant(at: &NaiveTime, jitter_max: Duration) -> Instant {
    let now = Utc::now();
    let wait = (next_daily(now, *at) - now).to_std().unwrap_or_default();
    Instant::now() + wait + jitter(jitter_max)
}

/// The first time of day `at` (UTC) strictly after `now`.
pub(crate) fn next_daily(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let today = now.date_naive().and_time(at).and_utc();
    if today > now {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// A random delay from zero to `max`.
fn jitter(max: Duration) -> Duration {
    let ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Duration::ZERO;
    }
    let random = (uuid::Uuid::new_v4().as_u128() % u128::from(ms + 1)) as u64;
    Duration::from_millis(random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_full_sync_is_the_next_occurrence_of_its_time() {
        let at = NaiveTime::from_hms_opt(2, 0, 0).unwrap();
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            next_daily(t("2026-11-24T01:59:00Z"), at),
            t("2026-11-24T02:00:00Z")
        );
        assert_eq!(
            next_daily(t("2026-11-24T02:00:00Z"), at),
            t("2026-11-25T02:00:00Z")
        );
        assert_eq!(
            next_daily(t("2026-11-24T23:00:00Z"), at),
            t("2026-11-25T02:00:00Z")
        );
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
        for _ in 0..200 {
            assert!(jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
    }
}
