//! Removing the connector: only after the organization's name is typed, never during a sync.
//! Its stored secrets are wiped either way; its sync history and device data are kept (the
//! connector is marked removed and no longer synced) or deleted, as the admin chooses.

use chrono::Utc;

use crate::model::{AuditAction, AuditResult};

use super::super::audit::{self, Event};
use super::super::config::AuthMode;
use super::super::db::{connectors, BEGIN_WRITE};
use super::super::error::AppError;
use super::super::state::AppState;
use super::super::sync;
use super::Actor;

/// Removes the current connector. `confirmation` must be its organization's name (the tenant
/// when the name is not known yet).
pub(crate) async fn remove(
    state: &AppState,
    actor: &Actor,
    confirmation: &str,
    delete_data: bool,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let connector = connectors::current(pool)
        .await?
        .ok_or_else(|| AppError::Conflict("There is no connector to remove.".into()))?;
    let name = connector
        .organization
        .clone()
        .unwrap_or_else(|| connector.tenant_id.clone());
    if confirmation.trim() != name {
        return Err(AppError::Invalid {
            field: "confirmation".into(),
            message: format!("type the organization name {name} exactly to confirm"),
        });
    }
    let _running = state
        .setup_lock
        .try_lock()
        .map_err(|_| AppError::Conflict("A set-up is running. Wait for it to finish.".into()))?;
    let _claim = state.hub.claim().ok_or_else(|| {
        AppError::Conflict(format!(
            "{} Wait for it to finish, then remove the connector.",
            sync::hub::ALREADY_RUNNING
        ))
    })?;
    let now = Utc::now();
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let wiped = connectors::wipe_secrets(&mut tx, &connector.id).await?;
    if delete_data {
        connectors::delete(&mut tx, &connector.id).await?;
    } else {
        connectors::mark_removed(&mut tx, &connector.id, actor.email.as_deref(), now).await?;
    }
    tx.commit().await?;
    if state.exchange.settings.auth_mode == AuthMode::Delegated {
        // The admin's tokens are gone from memory too.
        let signed_out = state.exchange.get().signed_out(&state.exchange.settings);
        state.exchange.replace(signed_out);
    }
    state.hub.notify();
    let detail = format!(
        "{} removed; {} stored secret{} wiped; sync history and device data {}",
        name,
        wiped,
        if wiped == 1 { "" } else { "s" },
        if delete_data { "deleted" } else { "kept" }
    );
    let event = Event::new(
        AuditAction::Removal,
        actor.email.as_deref(),
        AuditResult::Success,
    )
    .target(name)
    .detail(detail)
    .address(actor.address.as_deref());
    audit::record(pool, event).await;
    tracing::info!(
        connector_id = connector.id,
        delete_data,
        "connector removed"
    );
    Ok(())
}
