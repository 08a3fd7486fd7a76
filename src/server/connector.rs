//! The overview the connector page shows (with health) and the live status the server-sent
//! events stream. Set-up and removal are in `setup`.

use chrono::Utc;

use crate::model::{ConnectorOverview, Health, HealthCause, LiveStatus, SyncRun, SyncStatus};

use super::db::connectors;
use super::db::sync_runs::Ended;
use super::error::AppError;
use super::state::AppState;

/// The connector page's data, read from the database: health from the age of the last
/// successful sync (thresholds from the configuration), the named cause of the last failed or
/// partial run, and whether a sync runs now.
pub(crate) async fn overview(state: &AppState) -> Result<ConnectorOverview, AppError> {
    Ok(overview_with_last_ended(state).await?.0)
}

/// [`overview`] and the connector's last run that ended on its own, the one its health cause
/// comes from (read together, for the alert watcher).
pub(crate) async fn overview_with_last_ended(
    state: &AppState,
) -> Result<(ConnectorOverview, Option<Ended>), AppError> {
    let pool = state.db.pool();
    // Whether a sync runs, before the row: a run that ends in between shows as running next to
    // the row it had, never as over next to a row it has not written yet.
    let syncing = state.hub.is_running();
    let now = Utc::now();
    let (connector, ended) = match connectors::current_with_last_ended(pool).await? {
        Some((mut c, ended)) => {
            sort_states(&mut c.device_states);
            c.health = Health::at(c.last_sync_at, now, state.sync_settings.health);
            c.health_cause = ended
                .as_ref()
                .and_then(|e| health_cause(&e.run, e.error_status, e.error_cmdlet.clone()));
            c.syncing = syncing;
            (Some(c), ended)
        }
        None => (None, None),
    };
    let overview = ConnectorOverview {
        connector,
        now,
        simulated: state.simulated,
        endpoint: state.exchange.settings.admin_api_url.to_string(),
    };
    Ok((overview, ended))
}

/// The overview and the running sync's progress, for the live status stream.
pub(crate) async fn live_status(state: &AppState) -> Result<LiveStatus, AppError> {
    // Progress first: a run that ends in between shows as ended in the overview, never as a
    // progress bar next to a finished run.
    let progress = state.hub.progress();
    let overview = overview(state).await?;
    let progress = progress.filter(|_| state.hub.is_running());
    Ok(LiveStatus {
        overview,
        progress,
        changes: state.changes.list(),
    })
}

/// The named cause of `run` when it failed or only partly worked; `status` and `cmdlet` are
/// the HTTP status and cmdlet of its failure.
pub(crate) fn health_cause(
    run: &SyncRun,
    status: Option<u16>,
    cmdlet: Option<String>,
) -> Option<HealthCause> {
    match run.status {
        SyncStatus::Partial => return Some(HealthCause::PartialSync),
        SyncStatus::Failed => {}
        _ => return None,
    }
    let code = run.error_code.as_deref().unwrap_or_default();
    let token_codes = [
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "NotSignedIn",
    ];
    if status == Some(401) || token_codes.iter().any(|c| code.eq_ignore_ascii_case(c)) {
        return Some(HealthCause::TokenExpired);
    }
    if status == Some(403) {
        return Some(HealthCause::MissingPermission {
            cmdlet: cmdlet.unwrap_or_else(|| "a required cmdlet".into()),
        });
    }
    if status == Some(429) || (code == "DeadlineExceeded" && run.throttle_wait_ms > 0) {
        return Some(HealthCause::Throttled);
    }
    if matches!(code, "Unreachable" | "Timeout") || matches!(status, Some(502..=504)) {
        return Some(HealthCause::Unreachable);
    }
    None
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
    use crate::model::{StateCount, SyncKind, SyncTrigger};

    fn run(status: SyncStatus, code: Option<&str>, throttle_wait_ms: u64) -> SyncRun {
        SyncRun {
            id: "r".into(),
            kind: SyncKind::DeltaSync,
            trigger: SyncTrigger::Scheduled,
            triggered_by: None,
            status,
            started_at: Utc::now(),
            finished_at: None,
            duration_ms: None,
            devices_seen: 0,
            devices_added: 0,
            devices_changed: 0,
            devices_removed: 0,
            mailboxes_queried: 0,
            api_calls: 0,
            api_calls_by_cmdlet: Vec::new(),
            retries: 0,
            throttle_wait_ms,
            warnings: Vec::new(),
            error_code: code.map(str::to_owned),
            error_message: None,
            error_request_id: None,
        }
    }

    #[test]
    fn the_health_cause_names_what_made_the_last_run_fail() {
        let failed = |code, wait| run(SyncStatus::Failed, Some(code), wait);
        assert_eq!(
            health_cause(&failed("Http401", 0), Some(401), None),
            Some(HealthCause::TokenExpired)
        );
        assert_eq!(
            health_cause(&failed("invalid_grant", 0), Some(400), None),
            Some(HealthCause::TokenExpired)
        );
        assert_eq!(
            health_cause(
                &failed("Http403", 0),
                Some(403),
                Some("Get-MobileDevice".into())
            ),
            Some(HealthCause::MissingPermission {
                cmdlet: "Get-MobileDevice".into()
            })
        );
        assert_eq!(
            health_cause(&failed("Http429", 0), Some(429), None),
            Some(HealthCause::Throttled)
        );
        assert_eq!(
            health_cause(&failed("DeadlineExceeded", 5_000), None, None),
            Some(HealthCause::Throttled)
        );
        assert_eq!(
            health_cause(&failed("DeadlineExceeded", 0), None, None),
            None
        );
        assert_eq!(
            health_cause(&failed("Unreachable", 0), None, None),
            Some(HealthCause::Unreachable)
        );
        assert_eq!(
            health_cause(&run(SyncStatus::Partial, None, 0), None, None),
            Some(HealthCause::PartialSync)
        );
        assert_eq!(
            health_cause(&run(SyncStatus::Succeeded, None, 0), None, None),
            None
        );
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
