//! Output objects of `Get-MobileDevice` and `Get-MobileDeviceStatistics`.

use chrono::{DateTime, Utc};

use super::enums::{
    ClientType, DeviceAccessState, DeviceAccessStateReason, DevicePolicyApplicationStatus,
    DeviceStatus,
};
use super::fields::{from_bag, Bag};
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
    fn from_bag(b: &Bag) -> Self {
        Self {
            friendly_name: b.text("FriendlyName"),
            device_id: b.text("DeviceId"),
            device_imei: b.text("DeviceImei"),
            device_mobile_operator: b.text("DeviceMobileOperator"),
            device_os: b.text("DeviceOS"),
            device_os_language: b.text("DeviceOSLanguage"),
            device_telephone_number: b.text("DeviceTelephoneNumber"),
            device_type: b.text("DeviceType"),
            device_user_agent: b.text("DeviceUserAgent"),
            device_model: b.text("DeviceModel"),
            first_sync_time: b.date("FirstSyncTime"),
            user_display_name: b.text("UserDisplayName"),
            device_access_state: b.enumeration("DeviceAccessState"),
            device_access_state_reason: b.enumeration("DeviceAccessStateReason"),
            device_access_control_rule: b.text("DeviceAccessControlRule"),
            client_version: b.text("ClientVersion"),
            client_type: b.enumeration("ClientType"),
            is_managed: b.flag("IsManaged"),
            is_compliant: b.flag("IsCompliant"),
            is_disabled: b.flag("IsDisabled"),
            identity: b.text("Identity"),
            guid: b.text("Guid"),
            exchange_object_id: b.text("ExchangeObjectId"),
            name: b.text("Name"),
            when_changed: b.date("WhenChanged"),
            when_changed_utc: b.date("WhenChangedUTC"),
            when_created: b.date("WhenCreated"),
            when_created_utc: b.date("WhenCreatedUTC"),
            organization_id: b.text("OrganizationId"),
            distinguished_name: b.text("DistinguishedName"),
        }
    }

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
            client_type: self.client_type.map(|c| c.to_string()),
            client_version: self.client_version,
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

impl MobileDeviceStatistics {
    fn from_bag(b: &Bag) -> Self {
        Self {
            device_id: b.text("DeviceID"),
            device_friendly_name: b.text("DeviceFriendlyName"),
            device_type: b.text("DeviceType"),
            device_model: b.text("DeviceModel"),
            device_os: b.text("DeviceOS"),
            device_user_agent: b.text("DeviceUserAgent"),
            device_access_state: b.enumeration("DeviceAccessState"),
            device_access_state_reason: b.enumeration("DeviceAccessStateReason"),
            device_access_control_rule: b.text("DeviceAccessControlRule"),
            client_type: b.enumeration("ClientType"),
            client_version: b.text("ClientVersion"),
            first_sync_time: b.date("FirstSyncTime"),
            last_sync_attempt_time: b.date("LastSyncAttemptTime"),
            last_success_sync: b.date("LastSuccessSync"),
            last_policy_update_time: b.date("LastPolicyUpdateTime"),
            last_ping_heartbeat: b.int("LastPingHeartbeat"),
            number_of_folders_synced: b.int("NumberOfFoldersSynced"),
            device_policy_applied: b.text("DevicePolicyApplied"),
            device_policy_application_status: b.enumeration("DevicePolicyApplicationStatus"),
            status: b.enumeration("Status"),
            status_note: b.text("StatusNote"),
            is_remote_wipe_supported: b.flag("IsRemoteWipeSupported"),
            identity: b.text("Identity"),
            guid: b.text("Guid"),
            device_wipe_request_time: b.date("DeviceWipeRequestTime"),
            device_wipe_sent_time: b.date("DeviceWipeSentTime"),
            device_wipe_ack_time: b.date("DeviceWipeAckTime"),
            last_device_wipe_requestor: b.text("LastDeviceWipeRequestor"),
        }
    }
}

from_bag!(MobileDevice, MobileDeviceStatistics);
