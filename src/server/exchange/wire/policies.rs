//! The output object of `Get-MobileDeviceMailboxPolicy` (and of `New-`).

use chrono::{DateTime, Utc};

use super::enums::{BluetoothMode, MaxEmailAgeFilter};
use super::fields::{from_bag, Bag, Limit, TimeSpan};

/// One mobile device mailbox policy (spec §7, main fields).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MobileDeviceMailboxPolicy {
    pub identity: Option<String>,
    pub guid: Option<String>,
    pub name: Option<String>,
    /// The policy mailboxes without one of their own get; exactly one policy has it.
    pub is_default: Option<bool>,
    pub password_enabled: Option<bool>,
    pub alphanumeric_password_required: Option<bool>,
    pub allow_simple_password: Option<bool>,
    /// 1-16; `None` when not set.
    pub min_password_length: Option<u32>,
    /// 4-16 or unlimited.
    pub max_password_failed_attempts: Option<Limit<u32>>,
    /// 1-730 days or unlimited.
    pub password_expiration: Option<Limit<TimeSpan>>,
    /// 0-50.
    pub password_history: Option<u32>,
    /// 1-60 minutes or unlimited.
    pub max_inactivity_time_lock: Option<Limit<TimeSpan>>,
    /// 1-4.
    pub min_password_complex_characters: Option<u32>,
    pub require_device_encryption: Option<bool>,
    pub device_encryption_enabled: Option<bool>,
    pub allow_non_provisionable_devices: Option<bool>,
    pub device_policy_refresh_interval: Option<Limit<TimeSpan>>,
    pub attachments_enabled: Option<bool>,
    pub allow_camera: Option<bool>,
    pub allow_bluetooth: Option<BluetoothMode>,
    pub allow_wifi: Option<bool>,
    pub allow_text_messaging: Option<bool>,
    pub allow_storage_card: Option<bool>,
    pub max_email_age_filter: Option<MaxEmailAgeFilter>,
    pub when_changed_utc: Option<DateTime<Utc>>,
}

impl MobileDeviceMailboxPolicy {
    fn from_bag(b: &Bag) -> Self {
        Self {
            identity: b.text("Identity"),
            guid: b.text("Guid"),
            name: b.text("Name"),
            is_default: b.flag("IsDefault"),
            password_enabled: b.flag("PasswordEnabled"),
            alphanumeric_password_required: b.flag("AlphanumericPasswordRequired"),
            allow_simple_password: b.flag("AllowSimplePassword"),
            min_password_length: b.int("MinPasswordLength"),
            max_password_failed_attempts: b.limit_int("MaxPasswordFailedAttempts"),
            password_expiration: b.limit_span("PasswordExpiration"),
            password_history: b.int("PasswordHistory"),
            max_inactivity_time_lock: b.limit_span("MaxInactivityTimeLock"),
            min_password_complex_characters: b.int("MinPasswordComplexCharacters"),
            require_device_encryption: b.flag("RequireDeviceEncryption"),
            device_encryption_enabled: b.flag("DeviceEncryptionEnabled"),
            allow_non_provisionable_devices: b.flag("AllowNonProvisionableDevices"),
            device_policy_refresh_interval: b.limit_span("DevicePolicyRefreshInterval"),
            attachments_enabled: b.flag("AttachmentsEnabled"),
            allow_camera: b.flag("AllowCamera"),
            allow_bluetooth: b
                .text("AllowBluetooth")
                .filter(|t| !t.trim().is_empty())
                .map(|t| BluetoothMode::from_wire(&t)),
            allow_wifi: b.flag("AllowWiFi"),
            allow_text_messaging: b.flag("AllowTextMessaging"),
            allow_storage_card: b.flag("AllowStorageCard"),
            max_email_age_filter: b.enumeration("MaxEmailAgeFilter"),
            when_changed_utc: b.date("WhenChangedUTC"),
        }
    }
}

from_bag!(MobileDeviceMailboxPolicy);
