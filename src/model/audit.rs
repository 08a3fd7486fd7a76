//! The audit log's entries, their actions and results, and its filters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an audit log entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignOut,
    SetUp,
    Removal,
    SyncStart,
    SettingsChange,
    UserChange,
    /// A signed-in person's request that their role does not allow (a reader calling an
    /// admin's function or opening an admin's page).
    AccessDenied,
    /// A change to a device in Exchange: allow, block, clear, remove, wipe.
    DeviceAction,
    /// A change to Exchange's access settings, rules or mailbox policies.
    ExchangeChange,
}

impl AuditAction {
    pub const ALL: [AuditAction; 11] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignOut,
        AuditAction::SetUp,
        AuditAction::Removal,
        AuditAction::SyncStart,
        AuditAction::SettingsChange,
        AuditAction::UserChange,
        AuditAction::AccessDenied,
        AuditAction::DeviceAction,
        AuditAction::ExchangeChange,
    ];

    /// The stored name (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "signIn",
            AuditAction::SignInFailed => "signInFailed",
            AuditAction::SignOut => "signOut",
            AuditAction::SetUp => "setUp",
            AuditAction::Removal => "removal",
            AuditAction::SyncStart => "syncStart",
            AuditAction::SettingsChange => "settingsChange",
            AuditAction::UserChange => "userChange",
            AuditAction::AccessDenied => "accessDenied",
            AuditAction::DeviceAction => "deviceAction",
            AuditAction::ExchangeChange => "exchangeChange",
        }
    }

    /// The action stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// How an audited action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AuditResult {
    Success,
    Failure,
    /// Refused before it ran (role, throttling, a failed pre-flight).
    Denied,
}

impl AuditResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResult::Success => "success",
            AuditResult::Failure => "failure",
            AuditResult::Denied => "denied",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Success, Self::Failure, Self::Denied]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// One entry of the audit log, as the audit log page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::ToSchema),
    schema(rename_all = "camelCase")
)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who acted: a signed-in person's email, the email a failed sign-in gave, `command line`.
    pub actor: Option<String>,
    /// The address the request came from.
    pub source_address: Option<String>,
    pub action: AuditAction,
    /// What was acted on (a connector, a user, a sync kind).
    pub target: Option<String>,
    /// For Exchange writes: the cmdlet run.
    pub cmdlet: Option<String>,
    /// For Exchange writes: the cmdlet's parameters as JSON text (never secrets).
    pub parameters: Option<String>,
    pub result: AuditResult,
    pub detail: Option<String>,
    /// For Exchange writes: Exchange's request id of the answer.
    pub request_id: Option<String>,
}

/// Filters of the audit log (all optional). `from` and `to` are whole days in UTC, both
/// included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub result: Option<AuditResult>,
    /// Part of the actor, in any case.
    pub actor: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

impl AuditFilter {
    /// Reads `action`, `result`, `actor`, `from` and `to` (`YYYY-MM-DD`) from a query string:
    /// the page's GET form and the CSV link. Empty or unknown values are no filter.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let value = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let date = |key: &str| value(key).and_then(|v| v.parse::<chrono::NaiveDate>().ok());
        Self {
            action: value("action").and_then(|v| AuditAction::parse(&v)),
            result: value("result").and_then(|v| AuditResult::parse(&v)),
            actor: value("actor"),
            from: date("from"),
            to: date("to"),
        }
    }

    /// The filter as query-string pairs, not yet percent-encoded; `from_params` reads them back.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        [
            ("action", self.action.map(|a| a.as_str().to_owned())),
            ("result", self.result.map(|r| r.as_str().to_owned())),
            ("actor", self.actor.clone()),
            ("from", self.from.map(date)),
            ("to", self.to.map(date)),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v)))
        .collect()
    }

    /// Whether any filter is set.
    pub fn is_filtered(&self) -> bool {
        *self != Self::default()
    }
}

/// One page of the audit log, newest first. `next_cursor` continues after the last entry
/// (keyset paging on `at`, `id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod audit_filter_tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> AuditFilter {
        AuditFilter::from_params(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn audit_filters_come_from_the_query_string_and_bad_values_are_ignored() {
        let f = from(&[
            ("action", "syncStart"),
            ("result", "exploded"),
            ("actor", "  Admin@ "),
            ("from", "2026-11-01"),
            ("to", "yesterday"),
        ]);
        assert_eq!(f.action, Some(AuditAction::SyncStart));
        assert_eq!(f.result, None);
        assert_eq!(f.actor.as_deref(), Some("Admin@"));
        assert_eq!(chrono::NaiveDate::from_ymd_opt(2026, 11, 1), f.from);
        assert_eq!(f.to, None);
        assert!(f.is_filtered());
        assert!(!from(&[("actor", " "), ("action", "")]).is_filtered());
    }

    #[test]
    fn audit_filter_params_read_back_as_the_same_filter() {
        let f = AuditFilter {
            action: Some(AuditAction::SignInFailed),
            result: Some(AuditResult::Denied),
            actor: Some("a&b".into()),
            from: chrono::NaiveDate::from_ymd_opt(2026, 1, 2),
            to: chrono::NaiveDate::from_ymd_opt(2026, 1, 3),
        };
        let params = f.params();
        assert_eq!(params[0], ("action", "signInFailed".to_owned()));
        assert_eq!(params[3], ("from", "2026-01-02".to_owned()));
        let back = AuditFilter::from_params(|key| {
            params
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        });
        assert_eq!(back, f);
        assert!(AuditFilter::default().params().is_empty());
    }
}
