//! The audit log: who did what, from where, to what, and how it ended. Every action that
//! changes something (and every sign-in, failed or not) appends one entry.

use chrono::Utc;
use sqlx::SqlitePool;

use crate::model::{AuditAction, AuditResult, Role};

use super::db::audit::{self, NewEntry};

/// An entry about to be recorded.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub actor: Option<String>,
    pub source_address: Option<String>,
    pub action: AuditAction,
    pub target: Option<String>,
    /// For Exchange writes: the cmdlet and its parameters (secrets never included).
    pub cmdlet: Option<String>,
    pub parameters: Option<serde_json::Value>,
    pub result: AuditResult,
    pub detail: Option<String>,
}

impl Event {
    /// An event of `action` by `actor` with `result`; the rest empty.
    pub(crate) fn new(action: AuditAction, actor: Option<&str>, result: AuditResult) -> Self {
        Self {
            actor: actor.map(str::to_owned),
            source_address: None,
            action,
            target: None,
            cmdlet: None,
            parameters: None,
            result,
            detail: None,
        }
    }

    pub(crate) fn from_address(mut self, address: &str) -> Self {
        self.source_address = Some(address.to_owned());
        self
    }

    pub(crate) fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn exchange_write(mut self, cmdlet: &str, parameters: serde_json::Value) -> Self {
        self.cmdlet = Some(cmdlet.to_owned());
        self.parameters = Some(parameters);
        self
    }
}

/// Appends `event`. A failure to write the audit log is logged as an error (the action it
/// describes has already happened or been refused).
pub(crate) async fn record(pool: &SqlitePool, event: Event) {
    let entry = NewEntry {
        at: Utc::now(),
        actor: event.actor,
        source_address: event.source_address,
        action: event.action.as_str(),
        target: event.target,
        cmdlet: event.cmdlet,
        parameters: event.parameters.map(|p| p.to_string()),
        result: event.result.as_str(),
        detail: event.detail,
    };
    if let Err(e) = audit::append(pool, &entry).await {
        tracing::error!(error = %e, action = entry.action, "cannot write the audit log");
    }
}

/// `exchange-connector admin create` made a user.
pub(crate) async fn record_cli_user_created(pool: &SqlitePool, email: &str, role: Role) {
    let event = Event::new(
        AuditAction::UserChange,
        Some("command line"),
        AuditResult::Success,
    )
    .target(email)
    .detail(format!("created as {}", role.as_str()));
    record(pool, event).await;
}
