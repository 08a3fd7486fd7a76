//! `Get-`, `New-`, `Set-` and `Remove-ActiveSyncDeviceAccessRule`, and `Get-ActiveSyncDeviceClass`.

use super::{ExchangeClient, ExchangeError, Invocation, Params};
use crate::server::exchange::wire::{AccessLevel, Characteristic, DeviceAccessRule, DeviceClass};

/// A device access rule to create: devices whose `characteristic` is exactly `query_string`
/// (no wildcards) get `access_level`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NewDeviceAccessRule {
    pub access_level: AccessLevel,
    pub characteristic: Characteristic,
    pub query_string: String,
}

impl NewDeviceAccessRule {
    /// The encoded call.
    pub(crate) fn call(&self) -> Invocation {
        Params::new()
            .set("AccessLevel", &self.access_level)
            .set("Characteristic", &self.characteristic)
            .set("QueryString", &self.query_string)
            .call("New-ActiveSyncDeviceAccessRule")
    }
}

pub(super) fn get_call() -> Invocation {
    Params::new().call("Get-ActiveSyncDeviceAccessRule")
}

pub(crate) fn set_call(identity: &str, access_level: &AccessLevel) -> Invocation {
    Params::new()
        .set("Identity", identity)
        .set("AccessLevel", access_level)
        .call("Set-ActiveSyncDeviceAccessRule")
}

pub(crate) fn remove_call(identity: &str) -> Invocation {
    Params::removal(identity).call("Remove-ActiveSyncDeviceAccessRule")
}

pub(super) fn classes_call() -> Invocation {
    Params::new().call("Get-ActiveSyncDeviceClass")
}

#[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
impl ExchangeClient {
    /// `Get-ActiveSyncDeviceAccessRule`: every device access rule, all pages.
    pub(crate) async fn get_device_access_rules(
        &self,
    ) -> Result<Vec<DeviceAccessRule>, ExchangeError> {
        self.collect(get_call()).await
    }

    /// `New-ActiveSyncDeviceAccessRule`: creates the rule; the new rule as Exchange describes
    /// it, when it sends it back.
    pub(crate) async fn new_device_access_rule(
        &self,
        rule: &NewDeviceAccessRule,
    ) -> Result<Option<DeviceAccessRule>, ExchangeError> {
        let created = self.collect(rule.call()).await?;
        Ok(created.into_iter().next())
    }

    /// `Set-ActiveSyncDeviceAccessRule -Identity <identity> -AccessLevel <level>` (the only
    /// thing a rule lets change).
    pub(crate) async fn set_device_access_rule(
        &self,
        identity: &str,
        access_level: &AccessLevel,
    ) -> Result<(), ExchangeError> {
        self.run(set_call(identity, access_level)).await
    }

    /// `Remove-ActiveSyncDeviceAccessRule -Identity <identity> -Confirm:$false`.
    pub(crate) async fn remove_device_access_rule(
        &self,
        identity: &str,
    ) -> Result<(), ExchangeError> {
        self.run(remove_call(identity)).await
    }

    /// `Get-ActiveSyncDeviceClass`: every device type and model pair the organization has
    /// seen, all pages.
    pub(crate) async fn get_device_classes(&self) -> Result<Vec<DeviceClass>, ExchangeError> {
        self.collect(classes_call()).await
    }
}
