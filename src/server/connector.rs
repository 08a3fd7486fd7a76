//! The connector's life: set-up (the first sync) and the overview the page shows.

use chrono::Utc;

use crate::model::{ConnectionStatus, ConnectorOverview, SyncTrigger};

use super::db::connectors;
use super::error::AppError;
use super::state::AppState;
use super::sync;

/// The connector page's data, read from the database.
pub(crate) async fn overview(state: &AppState) -> Result<ConnectorOverview, AppError> {
    let mut connector = connectors::current(state.db.pool()).await?;
    if let Some(c) = connector.as_mut() {
        sort_states(&mut c.device_states);
    }
    Ok(ConnectorOverview {
        connector,
        now: Utc::now(),
        simulated: state.simulated,
        endpoint: state.exchange.endpoint().to_owned(),
    })
}

/// Sets up the Service to Service connector: records it as pending, runs the first full sync
/// and leaves it `connected`, or `disconnected` with the reason (and no device data) when
/// Exchange cannot be reached or refuses. One set-up at a time.
pub(crate) async fn set_up(state: &AppState) -> Result<ConnectorOverview, AppError> {
    let Ok(_running) = state.setup_lock.try_lock() else {
        return Err(AppError::Conflict(
            "A set-up is already running. Wait for it to finish.".into(),
        ));
    };
    let existing = connectors::current(state.db.pool()).await?;
    if let Some(c) = existing
        .as_ref()
        .filter(|c| c.status == ConnectionStatus::Connected)
    {
        return Err(AppError::Conflict(format!(
            "The connector is already set up and connected to {}.",
            c.organization.as_deref().unwrap_or(&c.tenant_id)
        )));
    }
    let id = existing
        .map(|c| c.id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let account = state.exchange.account();
    {
        let mut conn = state.db.pool().acquire().await?;
        connectors::begin_setup(
            &mut conn,
            &connectors::NewConnector {
                id: &id,
                endpoint: state.exchange.endpoint(),
                tenant_id: state.exchange.tenant_id(),
                account: &account,
                now: Utc::now(),
            },
        )
        .await?;
    }
    tracing::info!(connector_id = id, "set-up started");
    if let Err(e) = check_permissions(state).await {
        let mut conn = state.db.pool().acquire().await?;
        connectors::mark_disconnected(&mut conn, &id, &e.to_string(), Utc::now()).await?;
        return Err(e);
    }
    sync::full_sync(&state.exchange, &state.db, &id, SyncTrigger::Setup).await?;
    overview(state).await
}

/// The permission pre-flight: every required cmdlet must be allowed (or at least not known to
/// be denied) before anything is synced.
async fn check_permissions(state: &AppState) -> Result<(), AppError> {
    let report = state.exchange.check_permissions().await?;
    let denied = report.denied();
    if denied.is_empty() {
        return Ok(());
    }
    Err(AppError::MissingPermissions(missing_permissions_message(
        &state.exchange.account(),
        &denied,
    )))
}

/// "The account … is not allowed to run A and B. …" in plain words.
fn missing_permissions_message(account: &str, denied: &[&str]) -> String {
    let list = match denied {
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    };
    let noun = if denied.len() == 1 {
        "this cmdlet"
    } else {
        "these cmdlets"
    };
    format!(
        "The account ({account}) is not allowed to run {list}. Give it an Exchange role that \
         includes {noun} (for example Organization Management), then try again."
    )
}

/// Allowed, Quarantined, Blocked, Discovery first (the Intune order), then any other state.
fn sort_states(states: &mut [crate::model::StateCount]) {
    const ORDER: [&str; 4] = ["Allowed", "Quarantined", "Blocked", "DeviceDiscovery"];
    states.sort_by_key(|s| {
        (
            ORDER
                .iter()
                .position(|o| *o == s.state)
                .unwrap_or(ORDER.len()),
            s.state.clone(),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StateCount;

    #[test]
    fn missing_permissions_are_listed_in_plain_words() {
        let one =
            missing_permissions_message("Application x", &["Set-ActiveSyncOrganizationSettings"]);
        assert_eq!(
            one,
            "The account (Application x) is not allowed to run Set-ActiveSyncOrganizationSettings. \
             Give it an Exchange role that includes this cmdlet (for example Organization \
             Management), then try again."
        );
        let three = missing_permissions_message("a", &["A", "B", "C"]);
        assert!(three.contains("run A, B and C."), "{three}");
        assert!(three.contains("these cmdlets"));
    }

    #[test]
    fn states_follow_the_intune_order_with_unknown_ones_last() {
        let mut states: Vec<StateCount> = [
            "Zeta",
            "Blocked",
            "Allowed",
            "DeviceDiscovery",
            "Quarantined",
        ]
        .into_iter()
        .map(|s| StateCount {
            state: s.into(),
            count: 1,
        })
        .collect();
        sort_states(&mut states);
        let order: Vec<&str> = states.iter().map(|s| s.state.as_str()).collect();
        assert_eq!(
            order,
            [
                "Allowed",
                "Quarantined",
                "Blocked",
                "DeviceDiscovery",
                "Zeta"
            ]
        );
    }
}
