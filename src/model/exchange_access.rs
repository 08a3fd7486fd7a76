//! The Exchange access page: the organization's access settings and device access rules as the
//! last sync read them, a change as the forms send it, and the preview of what it would do.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StateCount;

/// `AccessLevel` values, in the order the forms offer them.
pub const ACCESS_LEVELS: [&str; 3] = ["Allow", "Block", "Quarantine"];

/// Rule characteristics, in Exchange's order of evaluation (XMSWLHeader last: never matched
/// against stored devices, which do not keep that header).
pub const CHARACTERISTICS: [&str; 5] = [
    "UserAgent",
    "DeviceOS",
    "DeviceModel",
    "DeviceType",
    "XMSWLHeader",
];

/// The longest text Exchange accepts in `UserMailInsert` and `OtaNotificationMailInsert`.
pub const MAX_MAIL_INSERT: usize = 256;

/// The longest rule value (`QueryString`) the forms accept.
pub const MAX_QUERY_STRING: usize = 256;

/// At most this many admin mail recipients.
pub const MAX_RECIPIENTS: usize = 25;

/// Grandfathering's default: devices that synced in the last 30 days keep their access.
pub const DEFAULT_GRANDFATHER_DAYS: u32 = 30;

/// The devices a preview lists by name (the counts cover all of them).
pub const PREVIEW_LISTED: usize = 200;

/// The state an access level gives a device.
pub fn level_state(level: &str) -> &str {
    match level {
        "Allow" => "Allowed",
        "Block" => "Blocked",
        "Quarantine" => "Quarantined",
        other => other,
    }
}

/// The organization settings as the last sync read them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSettings {
    pub default_access_level: Option<String>,
    pub admin_mail_recipients: Vec<String>,
    pub user_mail_insert: Option<String>,
    pub ota_notification_mail_insert: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A device access rule with the stored devices it matches now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRule {
    pub identity: String,
    pub name: String,
    pub characteristic: String,
    pub query_string: String,
    pub access_level: String,
    /// Stored present devices whose characteristic equals the value (any case).
    pub matches: u64,
    /// Of those, the devices this rule decides (no earlier characteristic's rule matched, no
    /// personal list, policy or outside decision covers them).
    pub decides: u64,
}

/// A value the sync has seen for a characteristic, with its device count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueSuggestion {
    pub characteristic: String,
    pub value: String,
    pub devices: u64,
}

/// What the Exchange access page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeAccess {
    /// Whether a connector has read Exchange's configuration (a sync ran).
    pub synced: bool,
    pub settings: AccessSettings,
    pub rules: Vec<AccessRule>,
    /// The mobile device mailbox policies, by name.
    pub policies: Vec<super::MailboxPolicyInfo>,
    /// The most frequent values per characteristic (at most 50 each).
    pub suggestions: Vec<ValueSuggestion>,
    /// Whether the person may change anything (admins).
    pub can_change: bool,
    /// Why changes cannot be made now (no connector, not connected), when so.
    pub unavailable: Option<String>,
}

/// The kinds of change the page previews and applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessChangeKind {
    Settings,
    NewRule,
    RuleLevel,
    DeleteRule,
}

impl AccessChangeKind {
    pub const ALL: [Self; 4] = [
        Self::Settings,
        Self::NewRule,
        Self::RuleLevel,
        Self::DeleteRule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Settings => "settings",
            Self::NewRule => "newRule",
            Self::RuleLevel => "ruleLevel",
            Self::DeleteRule => "deleteRule",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// A change as the forms send it: every field as text (the server checks each).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessChangeForm {
    /// `settings`, `newRule`, `ruleLevel` or `deleteRule`.
    pub change: String,
    /// Settings: the default access level.
    pub default_access_level: String,
    /// Settings: addresses separated by commas, semicolons, spaces or new lines.
    pub admin_mail_recipients: String,
    pub user_mail_insert: String,
    pub ota_notification_mail_insert: String,
    /// Settings: "add the devices that synced in the last N days to their allowed lists"
    /// (empty: no grandfathering).
    pub grandfather_days: String,
    /// New rule: the characteristic and the value.
    pub characteristic: String,
    pub query_string: String,
    /// New rule and rule level: the access level.
    pub access_level: String,
    /// Rule level and delete: the rule's identity.
    pub rule: String,
}

/// The query keys of [`AccessChangeForm`], in its field order.
pub const ACCESS_CHANGE_KEYS: [&str; 10] = [
    "change",
    "default_access_level",
    "admin_mail_recipients",
    "user_mail_insert",
    "ota_notification_mail_insert",
    "grandfather_days",
    "characteristic",
    "query_string",
    "access_level",
    "rule",
];

impl AccessChangeForm {
    /// Reads the form from query parameters (a preview's address); `None` without `change`.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let f = |k: &str| get(k).unwrap_or_default();
        let change = f("change");
        if change.trim().is_empty() {
            return None;
        }
        Some(Self {
            change,
            default_access_level: f("default_access_level"),
            admin_mail_recipients: f("admin_mail_recipients"),
            user_mail_insert: f("user_mail_insert"),
            ota_notification_mail_insert: f("ota_notification_mail_insert"),
            grandfather_days: f("grandfather_days"),
            characteristic: f("characteristic"),
            query_string: f("query_string"),
            access_level: f("access_level"),
            rule: f("rule"),
        })
    }

    /// The fields that are set, as (key, value) pairs for an address: the preview's, and the
    /// device list of the devices it moves.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        self.pairs()
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k, v.to_owned()))
            .collect()
    }

    /// The fields as (key, value) pairs, in [`ACCESS_CHANGE_KEYS`] order.
    pub fn pairs(&self) -> [(&'static str, &str); 10] {
        [
            ("change", &self.change),
            ("default_access_level", &self.default_access_level),
            ("admin_mail_recipients", &self.admin_mail_recipients),
            ("user_mail_insert", &self.user_mail_insert),
            (
                "ota_notification_mail_insert",
                &self.ota_notification_mail_insert,
            ),
            ("grandfather_days", &self.grandfather_days),
            ("characteristic", &self.characteristic),
            ("query_string", &self.query_string),
            ("access_level", &self.access_level),
            ("rule", &self.rule),
        ]
    }
}

/// Devices a change leaves alone, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptCount {
    pub why: String,
    pub devices: u64,
}

/// One device a change would move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewDevice {
    pub guid: String,
    pub name: String,
    pub user: Option<String>,
    pub from: String,
    pub to: String,
    /// Whether grandfathering puts it on its mailbox's allowed list instead.
    pub grandfathered: bool,
}

/// What a change would do, computed from the stored devices with Exchange's order of
/// evaluation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPreview {
    /// The change in words ("Default access level: Allow → Block").
    pub summary: Vec<String>,
    /// Devices whose state would change.
    pub changing: u64,
    /// The changing devices by the state they would get.
    pub by_new_state: Vec<StateCount>,
    /// Devices left as they are, by reason (only reasons that apply, largest first).
    pub kept: Vec<KeptCount>,
    /// Devices grandfathering would add to their mailboxes' allowed lists, and the mailboxes.
    pub grandfathered: u64,
    pub grandfathered_mailboxes: u64,
    /// The first [`PREVIEW_LISTED`] devices that would change or be grandfathered.
    pub devices: Vec<PreviewDevice>,
    /// Whether the form changes nothing at all (then there is nothing to apply).
    pub no_change: bool,
    /// The form, checked, to send back with Apply.
    pub form: AccessChangeForm,
}
