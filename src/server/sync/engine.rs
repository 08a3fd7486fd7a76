//! One sync run from start to ledger: read Exchange into staging, then merge everything in one
//! transaction. A failed or interrupted run leaves the previous data exactly as it was.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::Connection;

use crate::model::{CmdletCalls, ConnectionStatus, SyncKind, SyncPhase, SyncStatus, SyncTrigger};

use super::super::config::HELD_REMOVAL_MIN;
use super::super::db::staging::{self, Staging};
use super::super::db::sync_runs::{self, RunError, RunRecord};
use super::super::db::{connectors, exchange_config, BEGIN_WRITE};
use super::super::error::AppError;
use super::super::exchange::cmdlets::MobileDeviceQuery;
use super::super::exchange::{ClientStats, ExchangeClient};
use super::super::state::AppState;
use super::fetch::{self, Compare, ExchangeConfig, Removals};
use super::hub::Claim;
use super::notes::{run_error, Notes};
use super::SyncError;

/// A run recorded as `running`, not started yet.
pub(crate) struct PreparedRun {
    pub id: String,
    connector_id: String,
    kind: SyncKind,
    started_at: DateTime<Utc>,
    /// Devices read again whatever their `WhenChangedUTC` says (a quick sync that reads back
    /// a change the connector made: Exchange's times have whole seconds, so two changes in
    /// one second look like one).
    pub touched: std::collections::HashSet<String>,
    /// Whether a quick sync reads the configuration too (settings, policies, rules, device
    /// classes), as a full sync does: the read-back of a change to them.
    pub read_config: bool,
}

/// How a run ended (the ledger holds the details).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunSummary {
    pub id: String,
    pub status: SyncStatus,
    pub record: RunRecord,
}

/// Checks that there is a connector to sync and records the run as `running`.
pub(crate) async fn prepare(
    state: &AppState,
    claim: &Claim,
    kind: SyncKind,
    trigger: SyncTrigger,
    by: Option<String>,
) -> Result<PreparedRun, AppError> {
    let connector = connectors::current(state.db.pool())
        .await?
        .ok_or_else(|| AppError::Conflict("Set up the connector before syncing.".into()))?;
    if connector.status == ConnectionStatus::ConnectionPending && trigger != SyncTrigger::Setup {
        return Err(AppError::Conflict(
            "The connector is being set up; its first sync is running.".into(),
        ));
    }
    let run = PreparedRun {
        id: uuid::Uuid::new_v4().to_string(),
        connector_id: connector.id,
        kind,
        started_at: Utc::now(),
        touched: std::collections::HashSet::new(),
        read_config: false,
    };
    let mut conn = state.db.pool().acquire().await?;
    sync_runs::start(
        &mut conn,
        &sync_runs::NewRun {
            id: &run.id,
            connector_id: &run.connector_id,
            kind,
            trigger,
            triggered_by: by.as_deref(),
            started_at: run.started_at,
        },
    )
    .await?;
    claim.begin(&run.id, kind);
    tracing::info!(
        run_id = run.id,
        kind = kind.as_str(),
        trigger = trigger.as_str(),
        "sync started"
    );
    Ok(run)
}

/// What the reading part of a run produced.
struct Outcome {
    config: ExchangeConfig,
    devices: fetch::DevicePass,
    /// What a whole listing left out, checked with Exchange (`None` when the listing stopped
    /// early: nothing is removed).
    removals: Option<Removals>,
    mailboxes_queried: u64,
    notes: Notes,
}

/// Runs `run` to its end and records it: `succeeded`, `partial`, `failed` (connector
/// `disconnected` with the reason) or, when the server stops first, `interrupted`. Keeps
/// `claim` (the one-run slot) until the ledger says how it ended.
pub(crate) async fn execute(
    state: &AppState,
    run: PreparedRun,
    claim: Claim,
) -> Result<RunSummary, SyncError> {
    let clock = Instant::now();
    // The client of the whole run, even if the connector's identity changes meanwhile.
    let exchange = state.exchange.get();
    let before = exchange.stats();
    let cancel = state.background.cancel.clone();
    let read = perform(state, &exchange, &run, &claim, clock);
    let read = tokio::select! {
        biased;
        () = cancel.cancelled() => Err(SyncError::Interrupted),
        r = read => r,
    };
    // Once read, the run ends as its final transaction does: a stop that comes during the
    // commit waits for it (a second or two at most), so a run whose data was saved is never
    // reported interrupted, and one reported interrupted saved nothing.
    let percent = state.sync_settings.max_removal_percent;
    let ended = match read {
        Ok((staging, outcome)) => {
            save(&exchange, &run, staging, outcome, percent, &before, clock).await
        }
        Err(e) => Err(e),
    };
    let result = match ended {
        Ok(summary) => {
            let took = Duration::from_millis(summary.record.duration_ms);
            state.metrics.sync_ended(run.kind, summary.status, took);
            Ok(summary)
        }
        Err(e) => {
            let record = failure_record(&exchange, &run, &before, clock, &e);
            let took = Duration::from_millis(record.duration_ms);
            state.metrics.sync_ended(run.kind, record.status, took);
            if let Err(db) = close_failed(state, &run, &record, &e).await {
                tracing::error!(run_id = run.id, error = %db, "could not record the end of a sync");
            }
            Err(e)
        }
    };
    drop(claim);
    state.hub.notify();
    result
}

/// The reading part of a run: the configuration, the device pages and the statistics, staged.
async fn perform(
    state: &AppState,
    exchange: &ExchangeClient,
    run: &PreparedRun,
    claim: &Claim,
    clock: Instant,
) -> Result<(Staging, Outcome), SyncError> {
    let pool = state.db.pool();
    let full = run.kind == SyncKind::FullSync;
    let compare = match full {
        true => Compare::Content,
        false => Compare::WhenChanged,
    };
    let mut notes = Notes::default();
    // The first device page travels while the configuration and the stored index are read;
    // pages are compared with what is stored as they arrive.
    let mut pages = exchange.get_mobile_devices(MobileDeviceQuery::default());
    pages.start();
    let config = async {
        match full || run.read_config {
            true => fetch::read_config(exchange, &mut notes).await,
            false => Ok(ExchangeConfig::default()),
        }
    };
    let (config, stored) = tokio::join!(config, staging::present_index(pool, &run.connector_id));
    let (config, stored) = (config?, stored?);
    tracing::debug!(
        run_id = run.id,
        ms = elapsed_ms(clock),
        "configuration and index read"
    );
    // Statistics are read while the device pages are: each mailbox as soon as a page names it.
    let (mailbox_tx, mailbox_rx) = tokio::sync::mpsc::unbounded_channel();
    let (staged_tx, staged_rx) = tokio::sync::mpsc::channel(8);
    let writer = Staging::open(pool).await?.write_all(staged_rx);
    // Dropping the set (a run that stops early) stops the statistics reader.
    let mut statistics = tokio::task::JoinSet::new();
    statistics.spawn(fetch::stage_statistics(
        exchange.clone(),
        stored.statistics,
        mailbox_rx,
        state.sync_settings.concurrency,
        claim.progress(),
        staged_tx.clone(),
    ));
    let devices = fetch::stage_devices(
        pages,
        fetch::Against {
            stored: stored.devices,
            touched: &run.touched,
        },
        compare,
        claim,
        &mut notes,
        mailbox_tx,
        staged_tx,
    )
    .await;
    let (mailboxes_queried, statistics_notes) = match statistics.join_next().await {
        Some(Ok(read)) => read,
        Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only when the runtime shuts down under the run.
        _ => return Err(SyncError::Interrupted),
    };
    notes.absorb(statistics_notes);
    // Both readers are done and their senders gone: the writer ends once it has written all.
    let staging = writer.finish().await;
    tracing::debug!(
        run_id = run.id,
        ms = elapsed_ms(clock),
        "devices and statistics staged"
    );
    let staging = staging?;
    let mut devices = devices?;
    let removals = match devices.complete {
        true => Some(
            fetch::confirm_removals(
                exchange,
                std::mem::take(&mut devices.missing),
                state.sync_settings.concurrency,
                &mut notes,
            )
            .await,
        ),
        false => None,
    };
    claim.update(|p| p.phase = SyncPhase::Saving);
    let outcome = Outcome {
        config,
        devices,
        removals,
        mailboxes_queried,
        notes,
    };
    Ok((staging, outcome))
}

/// The final transaction: configuration, devices, statistics, ledger and connector together.
async fn save(
    exchange: &ExchangeClient,
    run: &PreparedRun,
    mut staging: Staging,
    mut o: Outcome,
    max_removal_percent: u8,
    before: &ClientStats,
    clock: Instant,
) -> Result<RunSummary, SyncError> {
    let now = Utc::now();
    let cid = run.connector_id.as_str();
    let mut tx = staging.connection().begin_with(BEGIN_WRITE).await?;
    let c = &o.config;
    if let Some(s) = &c.settings {
        exchange_config::put_settings(&mut tx, cid, s, now).await?;
    }
    if let Some(p) = &c.policies {
        exchange_config::put_policies(&mut tx, cid, p, now).await?;
    }
    if let Some(r) = &c.rules {
        exchange_config::put_rules(&mut tx, cid, r, now).await?;
    }
    if let Some(k) = &c.classes {
        exchange_config::put_classes(&mut tx, cid, k, now).await?;
    }
    let removal = match o.removals.take() {
        None => staging::Removal::Nothing,
        Some(Removals {
            left_out,
            gone: missing,
            confirmed_each,
        }) => {
            let stored = left_out as u64 + o.devices.seen.saturating_sub(o.devices.added);
            // Each one looked up and absent: nothing left to doubt.
            let mass =
                !confirmed_each && is_mass_removal(missing.len(), stored, max_removal_percent);
            // Believed when a full sync sees it again after a run held it.
            let held = connectors::removal_hold(&mut tx, cid).await?;
            let keep = mass && (run.kind != SyncKind::FullSync || held.is_none());
            let since = keep.then(|| held.unwrap_or(now));
            connectors::set_removal_hold(&mut tx, cid, since).await?;
            match since {
                Some(since) => {
                    o.notes.removal_held(missing.len(), stored, since);
                    staging::Removal::Nothing
                }
                None => staging::Removal::These(missing),
            }
        }
    };
    let removed = staging::merge(&mut tx, cid, &run.id, now, removal).await?;
    let d = &o.devices;
    tracing::debug!(run_id = run.id, ms = elapsed_ms(clock), "merged");
    let partial = o.notes.partial_reason();
    let status = if partial.is_some() {
        SyncStatus::Partial
    } else {
        SyncStatus::Succeeded
    };
    let delta = exchange.stats().since(before);
    let record = RunRecord {
        status,
        finished_at: now,
        duration_ms: elapsed_ms(clock),
        devices_seen: d.seen,
        devices_added: d.added,
        devices_changed: d.changed,
        devices_removed: removed,
        mailboxes_queried: o.mailboxes_queried,
        api_calls_by_cmdlet: by_cmdlet(&delta),
        retries: delta.retries,
        throttle_wait_ms: waited_ms(&delta),
        warnings: o.notes.warnings,
        error: partial,
    };
    sync_runs::finish(&mut tx, &run.id, &record).await?;
    let organization = c.settings.as_ref().and_then(|s| s.organization());
    let synced_at = (status == SyncStatus::Succeeded).then_some(now);
    connectors::mark_synced(&mut tx, cid, organization.as_deref(), synced_at).await?;
    tx.commit().await?;
    staging.close_after_commit();
    tracing::debug!(run_id = run.id, ms = elapsed_ms(clock), "committed");
    tracing::info!(
        run_id = run.id,
        status = status.as_str(),
        devices = d.seen,
        added = d.added,
        changed = d.changed,
        removed,
        mailboxes = o.mailboxes_queried,
        api_calls = delta.total_requests(),
        ms = record.duration_ms,
        "sync finished"
    );
    Ok(RunSummary {
        id: run.id.clone(),
        status,
        record,
    })
}

/// Whether marking `missing` of `stored` present devices removed is more than `percent` of
/// them (and at least [`HELD_REMOVAL_MIN`]): too much to believe from one listing.
fn is_mass_removal(missing: usize, stored: u64, percent: u8) -> bool {
    percent < 100
        && missing >= HELD_REMOVAL_MIN
        && (missing as u64).saturating_mul(100) > stored.saturating_mul(u64::from(percent))
}

fn failure_record(
    exchange: &ExchangeClient,
    run: &PreparedRun,
    before: &ClientStats,
    clock: Instant,
    e: &SyncError,
) -> RunRecord {
    let delta = exchange.stats().since(before);
    let (status, error) = match e {
        SyncError::Interrupted => (
            SyncStatus::Interrupted,
            RunError {
                code: Some("Interrupted".into()),
                message: "The connector server stopped during this sync; the data of the \
                          previous sync was kept."
                    .into(),
                ..RunError::default()
            },
        ),
        SyncError::Exchange(x) => {
            tracing::warn!(
                run_id = run.id,
                code = x.code(),
                status = x.status(),
                cmdlet = x.cmdlet(),
                exception_type = x.exception_type(),
                request_id = x.request_id(),
                "Exchange failed the sync"
            );
            (SyncStatus::Failed, run_error(x))
        }
        SyncError::Db(d) => (
            SyncStatus::Failed,
            RunError {
                code: Some("DatabaseError".into()),
                message: format!(
                    "The connector could not save what it read ({d}); the data of the previous \
                     sync was kept."
                ),
                ..RunError::default()
            },
        ),
    };
    tracing::warn!(
        run_id = run.id,
        status = status.as_str(),
        "sync did not finish: {}",
        error.message
    );
    RunRecord {
        status,
        finished_at: Utc::now(),
        duration_ms: elapsed_ms(clock),
        devices_seen: 0,
        devices_added: 0,
        devices_changed: 0,
        devices_removed: 0,
        mailboxes_queried: 0,
        api_calls_by_cmdlet: by_cmdlet(&delta),
        retries: delta.retries,
        throttle_wait_ms: waited_ms(&delta),
        warnings: Vec::new(),
        error: Some(error),
    }
}

/// Records a run that did not finish (what it staged went with its connection) and, when Exchange failed, marks
/// the connector disconnected with the reason.
async fn close_failed(
    state: &AppState,
    run: &PreparedRun,
    record: &RunRecord,
    e: &SyncError,
) -> Result<(), sqlx::Error> {
    let mut tx = state.db.pool().begin_with(BEGIN_WRITE).await?;
    sync_runs::finish(&mut tx, &run.id, record).await?;
    if let (SyncError::Exchange(x), Some(_)) = (e, &record.error) {
        connectors::mark_disconnected(&mut tx, &run.connector_id, &x.to_string(), Utc::now())
            .await?;
    }
    tx.commit().await
}

fn by_cmdlet(delta: &ClientStats) -> Vec<CmdletCalls> {
    let mut calls: Vec<CmdletCalls> = delta
        .requests
        .iter()
        .map(|(cmdlet, calls)| CmdletCalls {
            cmdlet: cmdlet.clone(),
            calls: *calls,
        })
        .collect();
    calls.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.cmdlet.cmp(&b.cmdlet)));
    calls
}

fn waited_ms(delta: &ClientStats) -> u64 {
    let total = delta.throttle_wait + delta.backoff_wait + delta.pacing_wait;
    u64::try_from(total.as_millis()).unwrap_or(u64::MAX)
}

fn elapsed_ms(clock: Instant) -> u64 {
    u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::is_mass_removal;

    #[test]
    fn a_removal_is_held_when_it_is_more_than_the_share_and_at_least_ten_devices() {
        // More than half of 100, at the default 50 %.
        assert!(!is_mass_removal(50, 100, 50));
        assert!(is_mass_removal(51, 100, 50));
        // A small tenant losing most of its few devices is believed.
        assert!(!is_mass_removal(9, 9, 50));
        assert!(is_mass_removal(10, 10, 50));
        // 100 % never holds.
        assert!(!is_mass_removal(100_000, 100_000, 100));
        assert!(is_mass_removal(11, 100, 10));
    }
}
