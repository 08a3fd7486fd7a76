//! The output objects of `Get-ActiveSyncDeviceAccessRule` and `Get-ActiveSyncDeviceClass`.

use chrono::{DateTime, Utc};

use super::enums::{AccessLevel, Characteristic};
use super::fields::{from_bag, Bag};

/// One device access rule (spec §7): devices whose `characteristic` equals `query_string` get
/// `access_level`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DeviceAccessRule {
    pub identity: Option<String>,
    pub guid: Option<String>,
    /// Usually `QueryString (Characteristic)`.
    pub name: Option<String>,
    pub query_string: Option<String>,
    pub characteristic: Option<Characteristic>,
    pub access_level: Option<AccessLevel>,
}

impl DeviceAccessRule {
    fn from_bag(b: &Bag) -> Self {
        Self {
            identity: b.text("Identity"),
            guid: b.text("Guid"),
            name: b.text("Name"),
            query_string: b.text("QueryString"),
            characteristic: b.enumeration("Characteristic"),
            access_level: b.enumeration("AccessLevel"),
        }
    }
}

/// One device class the organization has seen (spec §7): a device type and model pair.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DeviceClass {
    pub device_type: Option<String>,
    pub device_model: Option<String>,
    pub last_update_time: Option<DateTime<Utc>>,
    pub name: Option<String>,
    pub identity: Option<String>,
    pub guid: Option<String>,
}

impl DeviceClass {
    fn from_bag(b: &Bag) -> Self {
        Self {
            device_type: b.text("DeviceType"),
            device_model: b.text("DeviceModel"),
            last_update_time: b.date("LastUpdateTime"),
            name: b.text("Name"),
            identity: b.text("Identity"),
            guid: b.text("Guid"),
        }
    }
}

from_bag!(DeviceAccessRule, DeviceClass);
