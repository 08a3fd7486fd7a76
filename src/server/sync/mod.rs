//! The sync engine. A run reads Exchange page by page into staging (TEMP tables), then merges
//! everything into `devices` (and Exchange's configuration) in one transaction, so a failed or
//! interrupted run leaves the previous data exactly as it was. Every run is in the `sync_runs`
//! ledger. At most one run at a time ([`hub`]); the [`schedule`] starts quick and full syncs.
//!
//! - Full sync: organization settings, mailbox policies, device access rules, device classes,
//!   every device page, then `Get-MobileDeviceStatistics` for every mailbox with devices. Every
//!   device and statistics row is compared with what is stored by its digest ([`digest`]): any
//!   difference is written, an unchanged row is not.
//! - Quick sync: every device page, compared with what is stored (new, changed by
//!   `WhenChangedUTC`, removed); statistics only for the mailboxes of new or changed devices.

mod adaptive;
mod digest;
pub(crate) mod engine;
mod fetch;
pub(crate) mod hub;
mod notes;
pub(crate) mod schedule;

use crate::model::{SyncKind, SyncTrigger};

use super::error::AppError;
use super::exchange::ExchangeError;
use super::state::AppState;

pub(crate) use engine::RunSummary;
pub(crate) use hub::start;

/// Why a run did not finish. The ledger and the connector status already say so when this is
/// returned.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error("database error during sync: {0}")]
    Db(#[from] sqlx::Error),
    #[error("The sync was interrupted because the connector server is stopping.")]
    Interrupted,
}

/// Runs a sync now and waits for its end (set-up's first sync). Goes through the same
/// one-run-at-a-time slot as [`hub::start`]: refused with "A sync is already running." while
/// another run holds it. A failed run returns its error; a partial one is `Ok` (see
/// `RunSummary::status`).
pub(crate) async fn run_now(
    state: &AppState,
    kind: SyncKind,
    trigger: SyncTrigger,
    by: Option<String>,
) -> Result<RunSummary, AppError> {
    let claim = claim(state)?;
    run_claimed(state, claim, kind, trigger, by).await
}

/// The one-run slot, or "A sync is already running."
fn claim(state: &AppState) -> Result<hub::Claim, AppError> {
    state
        .hub
        .claim()
        .ok_or_else(|| AppError::Conflict(hub::ALREADY_RUNNING.into()))
}

/// A quick sync that reads the devices `touched` whatever their change time says, and the
/// configuration when `config` (the read-back of a change the connector made), run now under
/// the same one-run slot.
pub(crate) async fn read_back(
    state: &AppState,
    touched: std::collections::HashSet<String>,
    config: bool,
    by: Option<String>,
) -> Result<RunSummary, AppError> {
    let claim = claim(state)?;
    let mut run =
        engine::prepare(state, &claim, SyncKind::DeltaSync, SyncTrigger::Manual, by).await?;
    run.touched = touched;
    run.read_config = config;
    Ok(engine::execute(state, run, claim).await?)
}

/// [`run_now`] with the slot already taken (set-up takes it before it touches the connector).
pub(crate) async fn run_claimed(
    state: &AppState,
    claim: hub::Claim,
    kind: SyncKind,
    trigger: SyncTrigger,
    by: Option<String>,
) -> Result<RunSummary, AppError> {
    let run = engine::prepare(state, &claim, kind, trigger, by).await?;
    Ok(engine::execute(state, run, claim).await?)
}
