//! Serializable types shared by the server and the browser. No database or HTTP types here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
pub enum SyncStatus {
    /// Still running.
    Running,
    /// Finished; the stored data now equals what Exchange returned.
    Succeeded,
    /// Finished with errors; the previous data was kept.
    Failed,
}

impl SyncStatus {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
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
    pub client_type: Option<String>,
    pub client_version: Option<String>,
    pub first_sync_time: Option<DateTime<Utc>>,
    pub when_changed_utc: Option<DateTime<Utc>>,
}
