//! The watcher: after every sync and every `ALERT_CHECK_SECS`, it reads the facts alerts are
//! about and compares each with the value it last kept (in the database, so that a restart
//! neither repeats nor loses a transition). A change that is news raises its event once.
//!
//! | fact | kept as | raises |
//! |---|---|---|
//! | health | `never`, `healthy`, `warning`, `unhealthy` | warning, unhealthy; healthy again after either |
//! | the last failed run | its id | a sync failed (each failed run once) |
//! | refused cmdlets | their sorted names | a permission missing (a cmdlet not refused before) |
//! | delegated sign-in | `ok`, `expiring` | about to expire (14 days or less left) |
//! | devices below EAS 16.1 | their count | new ones (the count grew) |

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::model::{AlertEvent, ConnectorInfo, Health, HealthCause, SyncStatus};

use super::super::config::AuthMode;
use super::super::db::{connectors, sync_runs, webhooks};
use super::super::error::AppError;
use super::super::state::AppState;
use super::{payload, raise};

/// Entra ID's refresh tokens expire after 90 days without use (its default inactivity
/// limit); the connector renews its token at each use, so a token not renewed for that long
/// is gone.
const REFRESH_TOKEN_INACTIVE_LIMIT: chrono::Duration = chrono::Duration::days(90);
/// "About to expire": this little left.
const EXPIRY_NOTICE: chrono::Duration = chrono::Duration::days(14);
/// Checks closer together than this (a sync's progress changes often) wait.
const SETTLE: Duration = Duration::from_secs(1);

/// Starts the watcher; it runs until the server stops.
pub(crate) fn spawn(state: &AppState) {
    let state = state.clone();
    let cancel = state.background.cancel.clone();
    let background = state.background.clone();
    background.spawn_worker("alert watcher", async move {
        let mut changes = state.hub.subscribe();
        loop {
            if let Err(e) = check(&state, Utc::now()).await {
                tracing::warn!(error = %e, "cannot check what alerts are about");
            }
            let every = state.alerts.settings.check_every;
            tokio::select! {
                () = cancel.cancelled() => return,
                changed = changes.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(every) => {}
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(SETTLE.min(every)) => {}
            }
            changes.mark_unchanged();
        }
    });
}

/// Health as the watcher keeps it: `never` until a first sync succeeded.
fn health_value(c: &ConnectorInfo) -> &'static str {
    match (c.last_sync_at, c.health) {
        (None, _) => "never",
        (Some(_), Health::Healthy) => "healthy",
        (Some(_), Health::Warning) => "warning",
        (Some(_), Health::Unhealthy) => "unhealthy",
    }
}

/// The event a change of health from `old` to `new` raises, if any.
fn health_event(old: &str, new: &str) -> Option<AlertEvent> {
    match (old, new) {
        (o, n) if o == n => None,
        (_, "warning") => Some(AlertEvent::ConnectorWarning),
        (_, "unhealthy") => Some(AlertEvent::ConnectorUnhealthy),
        ("warning" | "unhealthy", "healthy") => Some(AlertEvent::ConnectorHealthy),
        _ => None,
    }
}

/// One look: every fact compared with its kept value, each transition raised.
pub(crate) async fn check(state: &AppState, now: DateTime<Utc>) -> Result<(), AppError> {
    let (overview, last_ended) = super::super::connector::overview_with_last_ended(state).await?;
    let Some(c) = overview.connector else {
        return Ok(());
    };
    let pool = state.db.pool();
    let key = |fact: &str| format!("{}:{fact}", c.id);

    // Health.
    let health = health_value(&c);
    let old = kept(state, &key("health")).await?;
    let old = old.as_deref().unwrap_or("never");
    if old != health {
        match health_event(old, health) {
            Some(event) => {
                let age = c.last_sync_at.map(|at| (now - at).num_hours());
                let summary = match event {
                    AlertEvent::ConnectorHealthy => format!(
                        "The connector to {} is healthy again: a sync succeeded.",
                        organization(&c)
                    ),
                    _ => format!(
                        "The connector to {} is {health}: no successful sync for {} hours.",
                        organization(&c),
                        age.unwrap_or_default()
                    ),
                };
                let body = payload(
                    state,
                    event,
                    summary,
                    json!({ "previous": old, "current": health, "cause": c.health_cause }),
                )
                .await;
                raise(state, event, &body, &key("health"), health, now).await?;
            }
            None => keep(state, &key("health"), health, now).await?,
        }
    }

    // The last failed run.
    if let Some(sync_runs::Ended { run, .. }) = last_ended {
        if run.status == SyncStatus::Failed
            && kept(state, &key("failedRun")).await?.as_deref() != Some(run.id.as_str())
        {
            let why = run
                .error_message
                .clone()
                .unwrap_or_else(|| "no reason was recorded".into());
            let kind = match run.kind {
                crate::model::SyncKind::FullSync => "full",
                crate::model::SyncKind::DeltaSync => "quick",
            };
            let summary = format!("A {kind} sync of {} failed: {why}", organization(&c));
            let body = payload(
                state,
                AlertEvent::SyncFailed,
                summary,
                json!({
                    "runId": run.id,
                    "syncType": run.kind,
                    "errorCode": run.error_code,
                    "errorMessage": run.error_message,
                    "startedAt": run.started_at,
                    "endedAt": run.finished_at,
                    "cause": c.health_cause,
                }),
            )
            .await;
            raise(
                state,
                AlertEvent::SyncFailed,
                &body,
                &key("failedRun"),
                &run.id,
                now,
            )
            .await?;
        }
    }

    // Refused cmdlets: the last run's, and the optional ones set-up found refused.
    let mut refused: BTreeSet<String> = connectors::denied_optional(pool, &c.id)
        .await?
        .into_iter()
        .collect();
    if let Some(HealthCause::MissingPermission { cmdlet }) = &c.health_cause {
        refused.insert(cmdlet.clone());
    }
    let value = refused.iter().cloned().collect::<Vec<_>>().join(",");
    let old = kept(state, &key("refused")).await?.unwrap_or_default();
    if value != old {
        let before: BTreeSet<&str> = old.split(',').filter(|s| !s.is_empty()).collect();
        let new: Vec<&String> = refused
            .iter()
            .filter(|c| !before.contains(c.as_str()))
            .collect();
        if new.is_empty() {
            keep(state, &key("refused"), &value, now).await?;
        } else {
            let names = new
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let summary = format!(
                "Exchange refused {names} to the connector of {}: a role or permission is \
                 missing. Check the permission list on the connector page.",
                organization(&c)
            );
            let body = payload(
                state,
                AlertEvent::PermissionMissing,
                summary,
                json!({ "cmdlets": new, "allRefused": refused }),
            )
            .await;
            raise(
                state,
                AlertEvent::PermissionMissing,
                &body,
                &key("refused"),
                &value,
                now,
            )
            .await?;
        }
    }

    // The delegated sign-in's refresh token.
    if state.exchange.settings.auth_mode == AuthMode::Delegated {
        if let Some(renewed) =
            connectors::secret_updated_at(pool, &c.id, connectors::REFRESH_TOKEN).await?
        {
            let expires = renewed + REFRESH_TOKEN_INACTIVE_LIMIT;
            let value = if expires - now <= EXPIRY_NOTICE {
                "expiring"
            } else {
                "ok"
            };
            let old = kept(state, &key("signIn")).await?;
            if old.as_deref() != Some(value) {
                if value == "expiring" {
                    let days = (expires - now).num_days().max(0);
                    let summary = format!(
                        "The Microsoft sign-in the connector of {} uses was last renewed on {} \
                         and expires in about {days} days. Sign in again with Set Up to renew it.",
                        organization(&c),
                        renewed.format("%Y-%m-%d")
                    );
                    let body = payload(
                        state,
                        AlertEvent::TokenExpiring,
                        summary,
                        json!({ "renewedAt": renewed, "expiresAt": expires }),
                    )
                    .await;
                    raise(
                        state,
                        AlertEvent::TokenExpiring,
                        &body,
                        &key("signIn"),
                        value,
                        now,
                    )
                    .await?;
                } else {
                    keep(state, &key("signIn"), value, now).await?;
                }
            }
        }
    }

    // Devices below EAS 16.1 (counted once no sync runs: a run's count is only final at
    // its end).
    if !state.hub.is_running() {
        let legacy = super::super::devices::readiness(state).await?.legacy_total;
        let old: u64 = kept(state, &key("legacy"))
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if legacy != old {
            if legacy > old {
                let summary = format!(
                    "{} more devices of {} sync with Exchange ActiveSync below 16.1 ({legacy} in \
                     all): they stop working when Exchange Online requires 16.1.",
                    legacy - old,
                    organization(&c)
                );
                let body = payload(
                    state,
                    AlertEvent::LegacyDevicesAppeared,
                    summary,
                    json!({ "previous": old, "current": legacy, "new": legacy - old }),
                )
                .await;
                raise(
                    state,
                    AlertEvent::LegacyDevicesAppeared,
                    &body,
                    &key("legacy"),
                    &legacy.to_string(),
                    now,
                )
                .await?;
            } else {
                keep(state, &key("legacy"), &legacy.to_string(), now).await?;
            }
        }
    }
    Ok(())
}

fn organization(c: &ConnectorInfo) -> String {
    c.organization
        .clone()
        .unwrap_or_else(|| c.tenant_id.clone())
}

async fn kept(state: &AppState, key: &str) -> Result<Option<String>, AppError> {
    Ok(webhooks::state(state.db.pool(), key).await?)
}

async fn keep(
    state: &AppState,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut conn = state.db.pool().acquire().await?;
    webhooks::set_state(&mut conn, key, value, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_raises_on_the_way_down_and_on_recovery_only() {
        assert_eq!(health_event("never", "healthy"), None);
        assert_eq!(health_event("healthy", "healthy"), None);
        assert_eq!(
            health_event("healthy", "warning"),
            Some(AlertEvent::ConnectorWarning)
        );
        assert_eq!(
            health_event("warning", "unhealthy"),
            Some(AlertEvent::ConnectorUnhealthy)
        );
        assert_eq!(
            health_event("healthy", "unhealthy"),
            Some(AlertEvent::ConnectorUnhealthy)
        );
        assert_eq!(
            health_event("unhealthy", "healthy"),
            Some(AlertEvent::ConnectorHealthy)
        );
        assert_eq!(
            health_event("warning", "healthy"),
            Some(AlertEvent::ConnectorHealthy)
        );
        assert_eq!(
            health_event("unhealthy", "warning"),
            Some(AlertEvent::ConnectorWarning)
        );
    }
}
