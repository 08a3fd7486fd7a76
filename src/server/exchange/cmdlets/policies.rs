//! `Get-`, `New-`, `Set-` and `Remove-MobileDeviceMailboxPolicy`.

use super::{ExchangeClient, ExchangeError, Invocation, Params};
use crate::server::exchange::wire::{
    BluetoothMode, Limit, MaxEmailAgeFilter, MobileDeviceMailboxPolicy, TimeSpan,
};

/// The settings of a mailbox policy to write; `None` leaves a setting as it is (for `New-`:
/// at Exchange's default). Exchange checks the ranges and refuses values outside them.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MailboxPolicySettings {
    /// Making one policy the default takes it away from the others.
    pub is_default: Option<bool>,
    pub password_enabled: Option<bool>,
    pub alphanumeric_password_required: Option<bool>,
    pub allow_simple_password: Option<bool>,
    /// 1-16; `Some(None)` clears it (`$null`).
    pub min_password_length: Option<Option<u32>>,
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
}

impl MailboxPolicySettings {
    fn add_to(&self, p: Params) -> Params {
        p.maybe("IsDefault", self.is_default.as_ref())
            .maybe("PasswordEnabled", self.password_enabled.as_ref())
            .maybe(
                "AlphanumericPasswordRequired",
                self.alphanumeric_password_required.as_ref(),
            )
            .maybe("AllowSimplePassword", self.allow_simple_password.as_ref())
            .maybe("MinPasswordLength", self.min_password_length.as_ref())
            .maybe(
                "MaxPasswordFailedAttempts",
                self.max_password_failed_attempts.as_ref(),
            )
            .maybe("PasswordExpiration", self.password_expiration.as_ref())
            .maybe("PasswordHistory", self.password_history.as_ref())
            .maybe(
                "MaxInactivityTimeLock",
                self.max_inactivity_time_lock.as_ref(),
            )
            .maybe(
                "MinPasswordComplexCharacters",
                self.min_password_complex_characters.as_ref(),
            )
            .maybe(
                "RequireDeviceEncryption",
                self.require_device_encryption.as_ref(),
            )
            .maybe(
                "DeviceEncryptionEnabled",
                self.device_encryption_enabled.as_ref(),
            )
            .maybe(
                "AllowNonProvisionableDevices",
                self.allow_non_provisionable_devices.as_ref(),
            )
            .maybe(
                "DevicePolicyRefreshInterval",
                self.device_policy_refresh_interval.as_ref(),
            )
            .maybe("AttachmentsEnabled", self.attachments_enabled.as_ref())
            .maybe("AllowCamera", self.allow_camera.as_ref())
            .maybe("AllowBluetooth", self.allow_bluetooth.as_ref())
            .maybe("AllowWiFi", self.allow_wifi.as_ref())
            .maybe("AllowTextMessaging", self.allow_text_messaging.as_ref())
            .maybe("AllowStorageCard", self.allow_storage_card.as_ref())
            .maybe("MaxEmailAgeFilter", self.max_email_age_filter.as_ref())
    }
}

/// A policy to create: its name and the settings that differ from Exchange's defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct NewMailboxPolicy {
    pub name: String,
    pub settings: MailboxPolicySettings,
}

impl NewMailboxPolicy {
    /// The encoded call.
    pub(crate) fn call(&self) -> Invocation {
        self.settings
            .add_to(Params::new().set("Name", &self.name))
            .call("New-MobileDeviceMailboxPolicy")
    }
}

pub(super) fn get_call() -> Invocation {
    Params::new().call("Get-MobileDeviceMailboxPolicy")
}

/// `None` when `settings` sets nothing.
pub(crate) fn set_call(identity: &str, settings: &MailboxPolicySettings) -> Option<Invocation> {
    let params = settings.add_to(Params::new());
    if params.0.is_empty() {
        return None;
    }
    Some(
        params
            .set("Identity", identity)
            .call("Set-MobileDeviceMailboxPolicy"),
    )
}

pub(crate) fn remove_call(identity: &str) -> Invocation {
    Params::removal(identity).call("Remove-MobileDeviceMailboxPolicy")
}

#[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
impl ExchangeClient {
    /// `Get-MobileDeviceMailboxPolicy`: every mailbox policy, all pages.
    pub(crate) async fn get_mailbox_policies(
        &self,
    ) -> Result<Vec<MobileDeviceMailboxPolicy>, ExchangeError> {
        self.collect(get_call()).await
    }

    /// `New-MobileDeviceMailboxPolicy`: creates the policy; the new policy as Exchange
    /// describes it, when it sends it back.
    pub(crate) async fn new_mailbox_policy(
        &self,
        policy: &NewMailboxPolicy,
    ) -> Result<Option<MobileDeviceMailboxPolicy>, ExchangeError> {
        let created = self.collect(policy.call()).await?;
        Ok(created.into_iter().next())
    }

    /// `Set-MobileDeviceMailboxPolicy -Identity <identity>` with the settings that `settings`
    /// sets. Settings that set nothing make no request.
    pub(crate) async fn set_mailbox_policy(
        &self,
        identity: &str,
        settings: &MailboxPolicySettings,
    ) -> Result<(), ExchangeError> {
        match set_call(identity, settings) {
            Some(call) => self.run(call).await,
            None => Ok(()),
        }
    }

    /// `Remove-MobileDeviceMailboxPolicy -Identity <identity> -Confirm:$false`.
    pub(crate) async fn remove_mailbox_policy(&self, identity: &str) -> Result<(), ExchangeError> {
        self.run(remove_call(identity)).await
    }
}
