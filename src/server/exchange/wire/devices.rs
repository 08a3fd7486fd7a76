//! Output objects of `Get-MobileDevice` and `Get-MobileDeviceStatistics`.

use chrono::{DateTime, Utc};

use super::enums::{
    ClientType, DeviceAccessState, DeviceAccessStateReason, DevicePolicyApplicationStatus,
    DeviceStatus,
};
use super::fields::lenient_object;
use crate::model::Device;

/// One device partnership from `Get-MobileDevice` (spec §7). Every field is optional: Exchange
/// leaves many of them empty, and a field that cannot be read is `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MobileDevice {
    pub friendly_name: Option<String>,
    pub device_id: Option<String>,
    pub device_imei: Option<String>,
    pub device_mobile_operator: Option<String>,
    pub device_os: Option<String>,
    pub device_os_language: Option<String>,
    pub device_telephone_number: Option<String>,
    pub device_type: Option<String>,
    pub device_user_agent: Option<String>,
    pub device_model: Option<String>,
    pub first_sync_time: Option<DateTime<Utc>>,
    pub user_display_name: Option<String>,
    pub device_access_state: Option<DeviceAccessState>,
    pub device_access_state_reason: Option<DeviceAccessStateReason>,
    pub device_access_control_rule: Option<String>,
    pub client_version: Option<String>,
    pub client_type: Option<ClientType>,
    pub is_managed: Option<bool>,
    pub is_compliant: Option<bool>,
    pub is_disabled: Option<bool>,
    /// `<mailbox>\ExchangeActiveSyncDevices\<name>`.
    pub identity: Option<String>,
    pub guid: Option<String>,
    pub exchange_object_id: Option<String>,
    pub name: Option<String>,
    pub when_changed: Option<DateTime<Utc>>,
    pub when_changed_utc: Option<DateTime<Utc>>,
    pub when_created: Option<DateTime<Utc>>,
    pub when_created_utc: Option<DateTime<Utc>>,
    pub organization_id: Option<String>,
    pub distinguished_name: Option<String>,
}

impl MobileDevice {
    /// The stored form. `None` when the object has no key to store it under (no `Guid` and no
    /// `ExchangeObjectId`). Enumerations are stored in Exchange's spelling, unknown ones as sent.
    pub fn into_device(self) -> Option<Device> {
        let guid = self.guid.or(self.exchange_object_id)?;
        let identity = self.identity.unwrap_or_else(|| guid.clone());
        Some(Device {
            device_id: self.device_id.unwrap_or_default(),
            guid,
            identity,
            friendly_name: self.friendly_name,
            device_type: self.device_type,
            device_model: self.device_model,
            device_os: self.device_os,
            device_user_agent: self.device_user_agent,
            user_display_name: self.user_display_name,
            access_state: self
                .device_access_state
                .unwrap_or(DeviceAccessState::Unknown)
                .to_string(),
            access_state_reason: self.device_access_state_reason.map(|r| r.to_string()),
            access_control_rule: self.device_access_control_rule.filter(|r| !r.is_empty()),
            client_type: self.client_type.map(|c| c.to_string()),
            client_version: self.client_version,
            is_managed: self.is_managed,
            is_compliant: self.is_compliant,
            first_sync_time: self.first_sync_time,
            when_changed_utc: self.when_changed_utc.or(self.when_changed),
        })
    }
}

/// One device of `Get-MobileDeviceStatistics` (spec §7): the sync times and wipe state that
/// `Get-MobileDevice` does not carry. Note `DeviceID` with a capital ID on the wire.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MobileDeviceStatistics {
    pub device_id: Option<String>,
    pub device_friendly_name: Option<String>,
    pub device_type: Option<String>,
    pub device_model: Option<String>,
    pub device_os: Option<String>,
    pub device_user_agent: Option<String>,
    pub device_access_state: Option<DeviceAccessState>,
    pub device_access_state_reason: Option<DeviceAccessStateReason>,
    pub device_access_control_rule: Option<String>,
    pub client_type: Option<ClientType>,
    pub client_version: Option<String>,
    pub first_sync_time: Option<DateTime<Utc>>,
    pub last_sync_attempt_time: Option<DateTime<Utc>>,
    pub last_success_sync: Option<DateTime<Utc>>,
    pub last_policy_update_time: Option<DateTime<Utc>>,
    /// Seconds between the device's pings.
    pub last_ping_heartbeat: Option<u32>,
    pub number_of_folders_synced: Option<u32>,
    /// The name of the mailbox policy the device applied.
    pub device_policy_applied: Option<String>,
    pub device_policy_application_status: Option<DevicePolicyApplicationStatus>,
    pub status: Option<DeviceStatus>,
    pub status_note: Option<String>,
    pub is_remote_wipe_supported: Option<bool>,
    pub identity: Option<String>,
    pub guid: Option<String>,
    pub device_wipe_request_time: Option<DateTime<Utc>>,
    pub device_wipe_sent_time: Option<DateTime<Utc>>,
    pub device_wipe_ack_time: Option<DateTime<Utc>>,
    pub last_device_wipe_requestor: Option<String>,
}

lenient_object!(MobileDevice {
    friendly_name: text = "FriendlyName",
    device_id: text = "DeviceId",
    device_imei: text = "DeviceImei",
    device_mobile_operator: text = "DeviceMobileOperator",
    device_os: text = "DeviceOS",
    device_os_language: text = "DeviceOSLanguage",
    device_telephone_number: text = "DeviceTelephoneNumber",
    device_type: text = "DeviceType",
    device_user_agent: text = "DeviceUserAgent",
    device_model: text = "DeviceModel",
    first_sync_time: date = "FirstSyncTime",
    user_display_name: text = "UserDisplayName",
    device_access_state: enumeration = "DeviceAccessState",
    device_access_state_reason: enumeration = "DeviceAccessStateReason",
    device_access_control_rule: text = "DeviceAccessControlRule",
    client_version: text = "ClientVersion",
    client_type: enumeration = "ClientType",
    is_managed: flag = "IsManaged",
    is_compliant: flag = "IsCompliant",
    is_disabled: flag = "IsDisabled",
    identity: text = "Identity",
    guid: text = "Guid",
    exchange_object_id: text = "ExchangeObjectId",
    name: text = "Name",
    when_changed: date = "WhenChanged",
    when_changed_utc: date = "WhenChangedUTC",
    when_created: date = "WhenCreated",
    when_created_utc: date = "WhenCreatedUTC",
    organization_id: text = "OrganizationId",
    distinguished_name: text = "DistinguishedName",
});

lenient_object!(MobileDeviceStatistics {
    device_id: text = "DeviceID",
    device_friendly_name: text = "DeviceFriendlyName",
    device_type: text = "DeviceType",
    device_model: text = "DeviceModel",
    device_os: text = "DeviceOS",
    device_user_agent: text = "DeviceUserAgent",
    device_access_state: enumeration = "DeviceAccessState",
    device_access_state_reason: enumeration = "DeviceAccessStateReason",
    device_access_control_rule: text = "DeviceAccessControlRule",
    client_type: enumeration = "ClientType",
    client_version: text = "ClientVersion",
    first_sync_time: date = "FirstSyncTime",
    last_sync_attempt_time: date = "LastSyncAttemptTime",
    last_success_sync: date = "LastSuccessSync",
    last_policy_update_time: date = "LastPolicyUpdateTime",
    last_ping_heartbeat: int = "LastPingHeartbeat",
    number_of_folders_synced: int = "NumberOfFoldersSynced",
    device_policy_applied: text = "DevicePolicyApplied",
    device_policy_application_status: enumeration = "DevicePolicyApplicationStatus",
    status: enumeration = "Status",
    status_note: text = "StatusNote",
    is_remote_wipe_supported: flag = "IsRemoteWipeSupported",
    identity: text = "Identity",
    guid: text = "Guid",
    device_wipe_request_time: date = "DeviceWipeRequestTime",
    device_wipe_sent_time: date = "DeviceWipeSentTime",
    device_wipe_ack_time: date = "DeviceWipeAckTime",
    last_device_wipe_requestor: text = "LastDeviceWipeRequestor",
});
