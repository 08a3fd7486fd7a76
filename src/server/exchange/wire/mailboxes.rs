//! The output object of `Get-CASMailbox`: a mailbox's ActiveSync switch and its personal
//! allow and block lists of device ids (spec §9).

use super::fields::{from_bag, Bag};

/// A mailbox's client access settings that decide its devices before any rule does.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CasMailbox {
    pub identity: Option<String>,
    pub primary_smtp_address: Option<String>,
    pub active_sync_enabled: Option<bool>,
    /// `DeviceId`s allowed whatever the rules say.
    pub allowed_device_ids: Vec<String>,
    /// `DeviceId`s blocked whatever the rules say (a device in both lists is blocked).
    pub blocked_device_ids: Vec<String>,
    pub active_sync_mailbox_policy: Option<String>,
}

impl CasMailbox {
    fn from_bag(b: &Bag) -> Self {
        Self {
            identity: b.text("Identity"),
            primary_smtp_address: b.text("PrimarySmtpAddress"),
            active_sync_enabled: b.flag("ActiveSyncEnabled"),
            allowed_device_ids: b.list("ActiveSyncAllowedDeviceIDs"),
            blocked_device_ids: b.list("ActiveSyncBlockedDeviceIDs"),
            active_sync_mailbox_policy: b.text("ActiveSyncMailboxPolicy"),
        }
    }
}

from_bag!(CasMailbox);
