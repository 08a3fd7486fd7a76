//! `Get-MobileDevice`, `Get-MobileDeviceStatistics` and `Remove-MobileDevice`.

use chrono::{DateTime, Utc};

use super::{ExchangeClient, ExchangeError, Invocation, Pages, Params};
use crate::server::exchange::wire::{format_param_date, MobileDevice, MobileDeviceStatistics};

/// Which devices `Get-MobileDevice` looks at (`Identity` and `Mailbox` exclude each other).
#[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum DeviceScope {
    /// Every device of the organization.
    #[default]
    Organization,
    /// The devices of one mailbox (any mailbox identity: address, alias, GUID).
    Mailbox(String),
    /// One device (`<mailbox>\ExchangeActiveSyncDevices\<name>` or its GUID).
    Identity(String),
}

/// `ResultSize`: `Unlimited` follows every `@odata.nextLink`; a count stops after that many.
#[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ResultSize {
    #[default]
    Unlimited,
    AtMost(u32),
}

/// The parameters of `Get-MobileDevice`. The default is every device of the organization,
/// all pages.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MobileDeviceQuery {
    pub scope: DeviceScope,
    /// OPATH filter, e.g. `DeviceAccessState -eq 'Quarantined'`.
    pub filter: Option<String>,
    pub result_size: ResultSize,
    pub sort_by: Option<String>,
    /// Only Exchange ActiveSync devices.
    pub active_sync: bool,
    /// Only Outlook on the web for devices.
    pub owa_for_devices: bool,
    /// Only REST (Outlook mobile) devices.
    pub rest_api: bool,
    /// Only the new Outlook for Windows / Mail and Calendar.
    pub universal_outlook: bool,
}

impl MobileDeviceQuery {
    /// Narrows the query to devices changed after `since` (`WhenChangedUTC -gt '...'`, combined
    /// with `-and` with a filter already set): what a delta sync asks for.
    #[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
    pub(crate) fn changed_since(mut self, since: DateTime<Utc>) -> Self {
        let changed = format!("WhenChangedUTC -gt '{}'", format_param_date(&since));
        self.filter = Some(match self.filter.take() {
            Some(f) if !f.trim().is_empty() => format!("({f}) -and ({changed})"),
            _ => changed,
        });
        self
    }

    /// The encoded call.
    pub(crate) fn call(&self) -> Invocation {
        let params = match &self.scope {
            DeviceScope::Organization => Params::new(),
            DeviceScope::Mailbox(m) => Params::new().set("Mailbox", m),
            DeviceScope::Identity(i) => Params::new().set("Identity", i),
        };
        let params = match self.result_size {
            ResultSize::Unlimited => params.set("ResultSize", "Unlimited"),
            ResultSize::AtMost(n) => params.set("ResultSize", &n),
        };
        params
            .maybe("Filter", self.filter.as_ref())
            .maybe("SortBy", self.sort_by.as_ref())
            .switch("ActiveSync", self.active_sync)
            .switch("OWAforDevices", self.owa_for_devices)
            .switch("RestApi", self.rest_api)
            .switch("UniversalOutlook", self.universal_outlook)
            .call("Get-MobileDevice")
    }
}

pub(super) fn statistics_call(mailbox: &str) -> Invocation {
    Params::new()
        .set("Mailbox", mailbox)
        .call("Get-MobileDeviceStatistics")
}

pub(crate) fn remove_call(identity: &str) -> Invocation {
    Params::removal(identity).call("Remove-MobileDevice")
}

/// What `Clear-MobileDevice` asks of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wipe {
    /// Erase the whole device (Outlook mobile: the app and all its accounts) at its next
    /// connection.
    Device,
    /// Remove only this mailbox's data (Exchange ActiveSync 16.1 or later).
    AccountOnly,
    /// Withdraw a wipe that is still pending.
    Cancel,
}

pub(crate) fn wipe_call(identity: &str, wipe: Wipe) -> Invocation {
    Params::removal(identity)
        .switch("AccountOnly", wipe == Wipe::AccountOnly)
        .switch("Cancel", wipe == Wipe::Cancel)
        .call("Clear-MobileDevice")
}

#[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
impl ExchangeClient {
    /// `Get-MobileDevice`, page by page (a tenant can have many thousands of devices).
    pub(crate) fn get_mobile_devices(&self, query: MobileDeviceQuery) -> Pages<MobileDevice> {
        self.start(query.call())
    }

    /// `Get-MobileDeviceStatistics -Mailbox <mailbox>`: the sync times and wipe state of every
    /// device of one mailbox, all pages.
    pub(crate) async fn get_mobile_device_statistics(
        &self,
        mailbox: &str,
    ) -> Result<Vec<MobileDeviceStatistics>, ExchangeError> {
        self.collect(statistics_call(mailbox)).await
    }

    /// `Remove-MobileDevice -Identity <identity> -Confirm:$false`: deletes the partnership (the
    /// device syncs again as new, subject to the access rules, if it still can).
    pub(crate) async fn remove_mobile_device(&self, identity: &str) -> Result<(), ExchangeError> {
        self.run(remove_call(identity)).await
    }

    /// `Clear-MobileDevice -Identity <identity> -Confirm:$false` with `-AccountOnly` or
    /// `-Cancel` as `wipe` says. Exchange only records the request: the device acts on it at
    /// its next connection, and Exchange Online usually leaves the status "pending".
    /// Returns Exchange's request id.
    pub(crate) async fn clear_mobile_device(
        &self,
        identity: &str,
        wipe: Wipe,
    ) -> Result<Option<String>, ExchangeError> {
        self.write(wipe_call(identity, wipe)).await
    }
}
