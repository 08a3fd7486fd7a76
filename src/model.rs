//! Serializable types shared by the server and the browser. No database or HTTP types here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod access;
mod account;
mod alerts;
mod audit;
mod devices;
mod exchange_access;
mod policies;

pub use access::*;
pub use account::*;
pub use alerts::*;
pub use audit::*;
pub use devices::*;
pub use exchange_access::*;
pub use policies::*;

/// The cmdlets the connector's account must be allowed to run (spec §7), in the order the
/// set-up page lists them.
pub const REQUIRED_CMDLETS: [&str; 13] = [
    "Get-ActiveSyncOrganizationSettings",
    "Set-ActiveSyncOrganizationSettings",
    "Get-MobileDeviceMailboxPolicy",
    "Set-MobileDeviceMailboxPolicy",
    "New-MobileDeviceMailboxPolicy",
    "Remove-MobileDeviceMailboxPolicy",
    "Get-ActiveSyncDeviceAccessRule",
    "Set-ActiveSyncDeviceAccessRule",
    "New-ActiveSyncDeviceAccessRule",
    "Remove-ActiveSyncDeviceAccessRule",
    "Get-MobileDeviceStatistics",
    "Get-MobileDevice",
    "Get-ActiveSyncDeviceClass",
];

/// Connection status of the connector, with the names Intune's `exchangeConnectorStatus` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ConnectionStatus {
    /// No connector has been set up.
    None,
    /// Set-up has started and has not finished yet.
    ConnectionPending,
    /// The last attempt to reach Exchange Online succeeded.
    Connected,
    /// The last attempt to reach Exchange Online failed; the reason is kept with it.
    Disconnected,
}

impl ConnectionStatus {
    /// The wire / storage name (`none`, `connectionPending`, `connected`, `disconnected`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ConnectionPending => "connectionPending",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
        }
    }

    /// Parses the storage name; unknown values are `None` so that bad rows never panic.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "connectionPending" => Some(Self::ConnectionPending),
            "connected" => Some(Self::Connected),
            "disconnected" => Some(Self::Disconnected),
            _ => None,
        }
    }

    /// The word shown to admins.
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "Not set up",
            Self::ConnectionPending => "Connection pending",
            Self::Connected => "Connected",
            Self::Disconnected => "Disconnected",
        }
    }
}

/// Kind of a sync run (Graph's `deltaSync` / `fullSync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SyncKind {
    /// Everything: organization settings and every device.
    FullSync,
    /// Devices changed since the last sync.
    DeltaSync,
}

impl SyncKind {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullSync => "fullSync",
            Self::DeltaSync => "deltaSync",
        }
    }
}

/// What started a sync run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SyncTrigger {
    /// The first sync, run by set-up.
    Setup,
    /// The schedule.
    Scheduled,
    /// An admin pressed a sync button.
    Manual,
}

impl SyncTrigger {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Scheduled => "scheduled",
            Self::Manual => "manual",
        }
    }
}

/// Outcome of a sync run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SyncStatus {
    /// Still running.
    Running,
    /// Finished; the stored data now equals what Exchange returned.
    Succeeded,
    /// Finished, but part of what Exchange returned carried errors (some mailboxes'
    /// statistics, `@adminapi.errors`); what could be read was stored, the rest kept as it was.
    Partial,
    /// Finished with errors; the previous data was kept.
    Failed,
    /// Cut off by a stop of the server; the previous data was kept.
    Interrupted,
}

impl SyncStatus {
    /// Every status, in the order filters list them.
    pub const ALL: [SyncStatus; 5] = [
        Self::Running,
        Self::Succeeded,
        Self::Partial,
        Self::Failed,
        Self::Interrupted,
    ];

    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Partial => "partial",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    /// The status stored as `value`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// One run of the sync ledger, as the history page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::ToSchema),
    schema(rename_all = "camelCase")
)]
pub struct SyncRun {
    pub id: String,
    pub kind: SyncKind,
    pub trigger: SyncTrigger,
    /// Who started a manual run (the signed-in admin, once sign-in exists).
    pub triggered_by: Option<String>,
    pub status: SyncStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Wall time of the run, once finished.
    pub duration_ms: Option<u64>,
    pub devices_seen: u64,
    pub devices_added: u64,
    pub devices_changed: u64,
    pub devices_removed: u64,
    /// Mailboxes whose `Get-MobileDeviceStatistics` was read.
    pub mailboxes_queried: u64,
    /// Admin API requests (pages and retries included).
    pub api_calls: u64,
    /// The same requests by cmdlet, most first.
    pub api_calls_by_cmdlet: Vec<CmdletCalls>,
    /// Requests that repeated a failed one.
    pub retries: u64,
    /// Time spent waiting because Exchange throttled (Retry-After, back-off and slowing down).
    pub throttle_wait_ms: u64,
    /// Exchange's warnings, as sent.
    pub warnings: Vec<String>,
    pub error_code: Option<String>,
    /// Plain-language reason, for failed, partial and interrupted runs.
    pub error_message: Option<String>,
    pub error_request_id: Option<String>,
}

/// Requests made to one cmdlet during a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::ToSchema),
    schema(rename_all = "camelCase")
)]
pub struct CmdletCalls {
    pub cmdlet: String,
    pub calls: u64,
}

/// Filters of the sync history (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    pub status: Option<SyncStatus>,
    pub kind: Option<SyncKind>,
    pub trigger: Option<SyncTrigger>,
}

/// One page of the sync history, newest first. `next_cursor` continues after the last row
/// (keyset paging on `started_at`, `id`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub runs: Vec<SyncRun>,
    pub next_cursor: Option<String>,
    /// Duration and device counts of the last 30 days, oldest first, for the chart.
    pub chart: Vec<ChartPoint>,
    pub now: DateTime<Utc>,
}

/// One finished run in the history chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub started_at: DateTime<Utc>,
    pub kind: SyncKind,
    pub status: SyncStatus,
    pub duration_ms: u64,
    pub devices_seen: u64,
}

/// Where a running sync is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncPhase {
    /// Organization settings, policies, rules, device classes.
    Settings,
    /// Paging through `Get-MobileDevice`.
    Devices,
    /// `Get-MobileDeviceStatistics`, mailbox by mailbox.
    Statistics,
    /// Writing the result.
    Saving,
}

/// Progress of the running sync (what the progress bar shows).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub run_id: String,
    pub kind: SyncKind,
    pub phase: SyncPhase,
    pub started_at: DateTime<Utc>,
    /// Device pages read so far.
    pub pages: u64,
    /// Devices read so far.
    pub devices: u64,
    /// Mailboxes whose statistics are read, of `mailboxes_total`.
    pub mailboxes_done: u64,
    pub mailboxes_total: u64,
}

/// Health from the age of the last successful sync (healthy under 1 day, warning over 1 day,
/// unhealthy at 3 days; thresholds configurable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Health {
    Healthy,
    Warning,
    Unhealthy,
}

/// Age thresholds of [`Health`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthThresholds {
    /// Older than this (and not older than `unhealthy`): warning. Default 1 day.
    pub warning_secs: i64,
    /// At least this old, or never synced: unhealthy. Default 3 days.
    pub unhealthy_secs: i64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            warning_secs: 86_400,
            unhealthy_secs: 3 * 86_400,
        }
    }
}

impl Health {
    /// Health at `now` of a connector whose last successful sync was `last_sync`.
    pub fn at(
        last_sync: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        thresholds: HealthThresholds,
    ) -> Self {
        let Some(last) = last_sync else {
            return Self::Unhealthy;
        };
        let age = (now - last).num_seconds();
        if age >= thresholds.unhealthy_secs {
            Self::Unhealthy
        } else if age > thresholds.warning_secs {
            Self::Warning
        } else {
            Self::Healthy
        }
    }

    /// Storage / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Warning => "warning",
            Self::Unhealthy => "unhealthy",
        }
    }
}

/// The named cause of the last failure, shown next to the health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum HealthCause {
    /// The token expired or consent was revoked.
    TokenExpired,
    /// A cmdlet the connector needs is not allowed.
    MissingPermission { cmdlet: String },
    /// Exchange throttled the connector until the run gave up.
    Throttled,
    /// Exchange could not be reached.
    Unreachable,
    /// The last run only partly succeeded.
    PartialSync,
}

/// What the live status stream (server-sent events) sends on every change: the connector as
/// the page shows it, the running sync, if any, and the Exchange changes under way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub overview: ConnectorOverview,
    pub progress: Option<SyncProgress>,
    #[serde(default)]
    pub changes: Vec<ChangeProgress>,
}

/// An Exchange change under way (a device action, an access or policy change): how far its
/// calls got.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeProgress {
    /// Tells one change from another while they run.
    pub id: u64,
    /// The change in words ("Block · 120 devices").
    pub what: String,
    /// Who asked for it.
    pub by: Option<String>,
    pub calls_total: u32,
    pub calls_done: u32,
    pub calls_failed: u32,
    /// Every call answered: the change is being read back from Exchange.
    pub reading_back: bool,
}

/// Everything the "Exchange service connector" page shows, read in one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorOverview {
    /// The connector, or `None` before set-up.
    pub connector: Option<ConnectorInfo>,
    /// Server time when this overview was read; relative times are computed against it so the
    /// server-rendered page and the hydrated page agree.
    pub now: DateTime<Utc>,
    /// Whether the embedded Exchange Online simulator (the demo tenant) is the target.
    pub simulated: bool,
    /// The Exchange endpoint the connector will use (shown before set-up too).
    pub endpoint: String,
}

/// The connector and what the last attempts found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// Stable id; every connector-owned row carries it.
    pub id: String,
    /// Connection status.
    pub status: ConnectionStatus,
    /// Plain-language reason of the last failure, when disconnected.
    pub status_reason: Option<String>,
    /// Exchange admin API base URL.
    pub endpoint: String,
    /// Exchange organization name.
    pub organization: Option<String>,
    /// Tenant id (GUID or verified domain).
    pub tenant_id: String,
    /// The account the connector uses (`primarySmtpAddress`, or the application id).
    pub account: String,
    /// Always `serviceToService` for this product.
    pub connector_type: String,
    /// When the connector was set up.
    pub set_up_at: DateTime<Utc>,
    /// When the last sync succeeded.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Devices currently known (not marked removed).
    pub device_count: u64,
    /// The same devices by Exchange access state, in the order the page shows them.
    pub device_states: Vec<StateCount>,
    /// Health from the age of the last successful sync.
    pub health: Health,
    /// The named cause of the last failure, when the last run did not succeed.
    pub health_cause: Option<HealthCause>,
    /// Whether a sync is running now.
    pub syncing: bool,
    /// Who set the connector up (the signed-in admin's email).
    pub set_up_by: Option<String>,
    /// The identity it connects with.
    pub mode: IdentityMode,
}

/// How many devices have one access state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    /// `Allowed`, `Blocked`, `Quarantined`, `DeviceDiscovery`, `Unknown` or a newer value.
    pub state: String,
    pub count: u64,
}

/// An Exchange ActiveSync device partnership as the connector stores and shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Exchange's object Guid: the stable key (a `DeviceId` can repeat across mailboxes).
    pub guid: String,
    /// `<mailbox>\ExchangeActiveSyncDevices\<name>`.
    pub identity: String,
    pub device_id: String,
    pub friendly_name: Option<String>,
    pub device_type: Option<String>,
    pub device_model: Option<String>,
    pub device_os: Option<String>,
    pub device_user_agent: Option<String>,
    pub user_display_name: Option<String>,
    /// `Allowed`, `Blocked`, `Quarantined`, `DeviceDiscovery`, `Unknown`, or a value a newer
    /// Exchange introduced (kept as sent).
    pub access_state: String,
    pub access_state_reason: Option<String>,
    /// The rule Exchange names for a `DeviceRule` state.
    pub access_control_rule: Option<String>,
    pub client_type: Option<String>,
    pub client_version: Option<String>,
    pub is_managed: Option<bool>,
    pub is_compliant: Option<bool>,
    pub first_sync_time: Option<DateTime<Utc>>,
    pub when_changed_utc: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod health_tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn health_follows_the_age_of_the_last_successful_sync() {
        let now = Utc::now();
        let t = HealthThresholds::default();
        let ago = |s: i64| Some(now - Duration::seconds(s));
        assert_eq!(Health::at(ago(60), now, t), Health::Healthy);
        assert_eq!(Health::at(ago(86_400), now, t), Health::Healthy);
        assert_eq!(Health::at(ago(86_401), now, t), Health::Warning);
        assert_eq!(Health::at(ago(3 * 86_400 - 1), now, t), Health::Warning);
        assert_eq!(Health::at(ago(3 * 86_400), now, t), Health::Unhealthy);
        assert_eq!(Health::at(None, now, t), Health::Unhealthy);
    }

    #[test]
    fn sync_statuses_round_trip_through_their_storage_names() {
        for s in SyncStatus::ALL {
            assert_eq!(SyncStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(SyncStatus::parse("exploded"), None);
    }
}

/// Which identity the connector connects with (`EXO_AUTH_MODE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentityMode {
    /// The application's own identity (certificate or secret).
    #[default]
    App,
    /// The admin who set it up (authorization code with PKCE, then a refresh token).
    Delegated,
}

impl IdentityMode {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityMode::App => "app",
            IdentityMode::Delegated => "delegated",
        }
    }
}

/// One line of the set-up's permission check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionCheck {
    pub cmdlet: String,
    /// An optional cmdlet (device actions): without it the connector works, and the actions
    /// that need it say so.
    #[serde(default)]
    pub optional: bool,
    /// `Some(true)` allowed, `Some(false)` denied, `None` could not be told.
    pub allowed: Option<bool>,
    /// For a denied cmdlet: what to grant.
    pub hint: Option<String>,
}

/// What the set-up part of the connector page shows: the identity used and the last attempt
/// of the person looking (kept in their session).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUpInfo {
    pub mode: IdentityMode,
    /// The application (client) id the connector is registered as.
    pub client_id: String,
    /// The checklist of the last set-up attempt in this session, if any.
    pub checks: Vec<PermissionCheck>,
    /// Why the last attempt stopped, if it did.
    pub error: Option<String>,
    /// Whether the person looking may set up, sync and remove (an admin).
    pub can_manage: bool,
}
