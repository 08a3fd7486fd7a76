//! One typed method per cmdlet of spec §7 on `ExchangeClient`, and the parameter encoding of
//! spec §1: switches are JSON `true`, `Remove-*` always sends `"Confirm": false`, multi-value
//! changes are `#Exchange.GenericHashTable`s, dates are UTC `yyyy-MM-ddTHH:mm:ss`, and a
//! parameter that is not set is not sent.
//!
//! Each call is first built as a pure [`Invocation`] (tested for its exact JSON), then run through
//! `ExchangeClient::invoke`.

mod devices;
mod mailboxes;
mod policies;
mod rules;
mod settings;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{json, Map, Value};

use super::wire::{
    format_param_date, AccessLevel, BluetoothMode, Characteristic, Limit, MaxEmailAgeFilter,
    TimeSpan,
};
use super::{ExchangeClient, ExchangeError, Page, Pages};

#[allow(unused_imports)] // used by the sync engine (issue 4) and set-up (issue 5)
pub(crate) use self::{
    devices::{
        remove_call as remove_device_call, wipe_call, DeviceScope, MobileDeviceQuery, ResultSize,
        Wipe,
    },
    mailboxes::DeviceListsChange,
    policies::{
        remove_call as remove_policy_call, set_call as set_policy_call, MailboxPolicySettings,
        NewMailboxPolicy,
    },
    rules::{remove_call as remove_rule_call, set_call as set_rule_call, NewDeviceAccessRule},
    settings::{ListUpdate, OrganizationSettingsChange},
};

/// A cmdlet with its encoded parameters: exactly what goes into `CmdletInput`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Invocation {
    pub cmdlet: &'static str,
    pub parameters: Map<String, Value>,
}

/// Builds the `Parameters` object; unset values are left out.
#[derive(Debug, Default)]
struct Params(Map<String, Value>);

impl Params {
    fn new() -> Self {
        Self::default()
    }

    fn set(mut self, name: &str, value: &(impl ParamValue + ?Sized)) -> Self {
        self.0.insert(name.to_owned(), value.to_param());
        self
    }

    fn maybe<V: ParamValue>(self, name: &str, value: Option<&V>) -> Self {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    /// A switch is sent as `true` when on and not at all when off.
    fn switch(self, name: &str, on: bool) -> Self {
        if on {
            self.set(name, &true)
        } else {
            self
        }
    }

    /// `Remove-*` cmdlets: the object and `"Confirm": false`.
    fn removal(identity: &str) -> Self {
        Self::new().set("Identity", identity).set("Confirm", &false)
    }

    fn call(self, cmdlet: &'static str) -> Invocation {
        Invocation {
            cmdlet,
            parameters: self.0,
        }
    }
}

/// How a Rust value is written as a cmdlet parameter.
trait ParamValue {
    fn to_param(&self) -> Value;
}

impl ParamValue for str {
    fn to_param(&self) -> Value {
        Value::String(self.to_owned())
    }
}

impl ParamValue for String {
    fn to_param(&self) -> Value {
        Value::String(self.clone())
    }
}

/// `None` is sent as `null` (Exchange's `$null`: the setting cleared).
impl<T: ParamValue> ParamValue for Option<T> {
    fn to_param(&self) -> Value {
        self.as_ref().map_or(Value::Null, ParamValue::to_param)
    }
}

impl ParamValue for bool {
    fn to_param(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ParamValue for u32 {
    fn to_param(&self) -> Value {
        json!(self)
    }
}

impl ParamValue for TimeSpan {
    fn to_param(&self) -> Value {
        Value::String(self.to_string())
    }
}

impl ParamValue for DateTime<Utc> {
    fn to_param(&self) -> Value {
        Value::String(format_param_date(self))
    }
}

impl<T: ParamValue> ParamValue for Limit<T> {
    fn to_param(&self) -> Value {
        match self {
            Limit::Unlimited => Value::String("Unlimited".into()),
            Limit::Value(v) => v.to_param(),
        }
    }
}

macro_rules! enum_params {
    ($($ty:ty),+) => {$(
        impl ParamValue for $ty {
            fn to_param(&self) -> Value {
                Value::String(self.as_str().to_owned())
            }
        }
    )+};
}
enum_params!(
    AccessLevel,
    Characteristic,
    MaxEmailAgeFilter,
    BluetoothMode
);

impl<T: DeserializeOwned> Pages<T> {
    /// Fetches every remaining page; the items and warnings of all pages, in order.
    pub(crate) async fn collect_all(mut self) -> Result<Page<T>, ExchangeError> {
        let mut all = Page::default();
        while let Some(page) = self.next_page().await? {
            all.items.extend(page.items);
            all.warnings.extend(page.warnings);
            all.request_id = all.request_id.or(page.request_id);
        }
        Ok(all)
    }
}

impl ExchangeClient {
    fn start<T: DeserializeOwned>(&self, call: Invocation) -> Pages<T> {
        self.invoke(call.cmdlet, call.parameters)
    }

    /// Runs `call` to its last page. Warnings are logged: for these calls they are notes such
    /// as "no settings were modified", not data.
    async fn collect<T: DeserializeOwned>(
        &self,
        call: Invocation,
    ) -> Result<Vec<T>, ExchangeError> {
        let cmdlet = call.cmdlet;
        let page = self.start(call).collect_all().await?;
        for warning in &page.warnings {
            tracing::warn!(cmdlet, "Exchange warning: {warning}");
        }
        Ok(page.items)
    }

    /// Runs a cmdlet whose output does not matter (`Set-*`, `Remove-*`).
    async fn run(&self, call: Invocation) -> Result<(), ExchangeError> {
        self.collect::<IgnoredAny>(call).await.map(drop)
    }

    /// Runs a write and returns Exchange's `request-id` of its answer (for the audit log).
    pub(crate) async fn write(&self, call: Invocation) -> Result<Option<String>, ExchangeError> {
        let cmdlet = call.cmdlet;
        let page = self.start::<IgnoredAny>(call).collect_all().await?;
        for warning in &page.warnings {
            tracing::warn!(cmdlet, "Exchange warning: {warning}");
        }
        Ok(page.request_id)
    }
}
