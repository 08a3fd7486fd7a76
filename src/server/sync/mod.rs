//! The sync engine: reads Exchange, then replaces the stored data in one transaction, so a
//! failed run leaves the previous good data exactly as it was. Every run is written to the
//! `sync_runs` ledger.

use chrono::Utc;

use crate::model::{SyncKind, SyncTrigger};

use super::db::{connectors, devices, sync_runs, Db};
use super::exchange::cmdlets::MobileDeviceQuery;
use super::exchange::{ExchangeClient, ExchangeError};

/// Why a run failed. The ledger and the connector status already say so when this is returned.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error("database error during sync: {0}")]
    Db(#[from] sqlx::Error),
}

/// Runs a full sync of `connector_id`: organization settings and every device (all pages).
/// On success the connector is `connected` with a new last-sync time; on failure it is
/// `disconnected` with the reason, and the devices are untouched.
pub(crate) async fn full_sync(
    exchange: &ExchangeClient,
    db: &Db,
    connector_id: &str,
    trigger: SyncTrigger,
) -> Result<sync_runs::RunCounts, SyncError> {
    let run_id = uuid::Uuid::new_v4().to_string();
    let started_at = Utc::now();
    {
        let mut conn = db.pool().acquire().await?;
        sync_runs::start(
            &mut conn,
            &sync_runs::NewRun {
                id: &run_id,
                connector_id,
                kind: SyncKind::FullSync,
                trigger,
                started_at,
            },
        )
        .await?;
    }
    let before = exchange.stats();

    let fetched = fetch_everything(exchange).await;
    let api_calls = exchange.stats().since(&before).total_requests();
    let (organization, fetched_devices, warnings) = match fetched {
        Ok(found) => found,
        Err(error) => {
            record_failure(db, connector_id, &run_id, &error, api_calls).await?;
            return Err(error.into());
        }
    };

    let finished_at = Utc::now();
    let mut tx = db.pool().begin().await?;
    let replaced =
        devices::replace_all(&mut tx, connector_id, &fetched_devices, finished_at).await?;
    let counts = sync_runs::RunCounts {
        devices_seen: fetched_devices.len() as u64,
        devices_added: replaced.added,
        devices_changed: replaced.changed,
        devices_removed: replaced.removed,
        api_calls,
    };
    sync_runs::succeed(&mut tx, &run_id, counts, finished_at).await?;
    connectors::mark_connected(&mut tx, connector_id, organization.as_deref(), finished_at).await?;
    tx.commit().await?;
    tracing::info!(
        run_id,
        devices = counts.devices_seen,
        added = counts.devices_added,
        changed = counts.devices_changed,
        removed = counts.devices_removed,
        api_calls,
        warnings = warnings.len(),
        "full sync succeeded"
    );
    for warning in &warnings {
        tracing::warn!(run_id, "Exchange warning: {warning}");
    }
    Ok(counts)
}

type Fetched = (Option<String>, Vec<crate::model::Device>, Vec<String>);

async fn fetch_everything(exchange: &ExchangeClient) -> Result<Fetched, ExchangeError> {
    let settings = exchange.get_organization_settings().await?;
    let mut warnings = Vec::new();
    let mut found = Vec::new();
    let mut pages = exchange.get_mobile_devices(MobileDeviceQuery::default());
    while let Some(page) = pages.next_page().await? {
        warnings.extend(page.warnings);
        for item in page.items {
            match item.into_device() {
                Some(device) => found.push(device),
                None => {
                    warnings.push("Exchange listed a device without a Guid; it was skipped.".into())
                }
            }
        }
    }
    Ok((settings.organization(), found, warnings))
}

async fn record_failure(
    db: &Db,
    connector_id: &str,
    run_id: &str,
    error: &ExchangeError,
    api_calls: u64,
) -> Result<(), sqlx::Error> {
    let message = error.to_string();
    let code = error.code();
    tracing::warn!(
        run_id,
        code,
        status = error.status(),
        cmdlet = error.cmdlet(),
        exception_type = error.exception_type(),
        request_id = error.request_id(),
        "sync failed: {message}"
    );
    let now = Utc::now();
    let mut tx = db.pool().begin().await?;
    sync_runs::fail(
        &mut tx,
        run_id,
        &sync_runs::RunFailure {
            code: Some(&code),
            message: &message,
            request_id: error.request_id(),
            api_calls,
        },
        now,
    )
    .await?;
    connectors::mark_disconnected(&mut tx, connector_id, &message, now).await?;
    tx.commit().await
}
