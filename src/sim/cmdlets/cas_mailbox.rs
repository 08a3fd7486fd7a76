//! `Get-CASMailbox` and `Set-CASMailbox`: the client access settings of mailboxes that matter to
//! ActiveSync (spec §9, "Per-mailbox lists"). The personal lists `ActiveSyncAllowedDeviceIDs` and
//! `ActiveSyncBlockedDeviceIDs` hold device ids (the `DeviceId` of `Get-MobileDevice`, the
//! `DeviceID` of the statistics; not the device's GUID). Changing them re-decides, at once, the
//! access state of the mailbox's devices (precedence in `tenant::access`).

use std::collections::HashSet;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::errors::{self, invalid_value, what_if};
use super::{Cmdlet, Request, Row, Run};
use crate::sim::filter::{Filter, Kind, Prop};
use crate::sim::params::{MultiValue, Params};
use crate::sim::tenant::{Mailbox, Tenant};
use crate::sim::wire::{date_entry, guid_entry, list_entry, ExoError};

/// Longest device id a personal list accepts.
pub(crate) const MAX_DEVICE_ID: usize = 64;

/// Most device ids one personal list holds.
pub(crate) const MAX_LIST: usize = 1000;

/// The two personal lists, as `Set-CASMailbox` names them.
const ALLOWED: &str = "ActiveSyncAllowedDeviceIDs";
const BLOCKED: &str = "ActiveSyncBlockedDeviceIDs";

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-CASMailbox",
    params: &["Identity", "Filter", "ResultSize"],
    run: Run::Read(get),
};

pub(crate) const SET: Cmdlet = Cmdlet {
    name: "Set-CASMailbox",
    params: &[
        "Identity",
        ALLOWED,
        BLOCKED,
        "ActiveSyncEnabled",
        "Confirm",
        "WhatIf",
    ],
    run: Run::Write(set),
};

/// Properties `-Filter` accepts.
const FILTERABLE: &[(&str, Kind)] = &[
    ("Identity", Kind::Text),
    ("Name", Kind::Text),
    ("DisplayName", Kind::Text),
    ("PrimarySmtpAddress", Kind::Text),
    ("ActiveSyncEnabled", Kind::Bool),
    ("ActiveSyncMailboxPolicy", Kind::Text),
    ("HasActiveSyncDevicePartnership", Kind::Bool),
    ("Guid", Kind::Text),
    ("ExchangeObjectId", Kind::Text),
    ("WhenChanged", Kind::Date),
    ("WhenChangedUTC", Kind::Date),
    ("WhenCreated", Kind::Date),
    ("WhenCreatedUTC", Kind::Date),
];

fn property<'a>(tenant: &'a Tenant, index: usize, m: &'a Mailbox, name: &str) -> Prop<'a> {
    match name {
        "Identity" | "Name" => Prop::Text(&m.alias),
        "DisplayName" => Prop::Text(&m.display_name),
        "PrimarySmtpAddress" => Prop::Text(&m.upn),
        "ActiveSyncEnabled" => Prop::Bool(m.active_sync_enabled),
        "ActiveSyncMailboxPolicy" => tenant
            .mailbox_policy(index)
            .map_or(Prop::Null, |p| Prop::Text(&p.name)),
        "HasActiveSyncDevicePartnership" => Prop::Bool(tenant.mailbox_has_devices(index)),
        "Guid" | "ExchangeObjectId" => Prop::Owned(m.guid.to_string()),
        "WhenChanged" | "WhenChangedUTC" => Prop::Date(m.when_changed),
        "WhenCreated" | "WhenCreatedUTC" => Prop::Date(m.when_created),
        _ => Prop::Null,
    }
}

/// The mailbox `identity` names (anything [`Tenant::find_mailbox`] accepts), else a 404.
fn find(tenant: &Tenant, identity: &str) -> Result<usize, ExoError> {
    tenant
        .find_mailbox(identity)
        .ok_or_else(|| ExoError::not_found(identity, &tenant.org.domain_controller))
}

/// One mailbox (`Identity`) or all of them in a stable order; paging key = position + 1.
fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let filter = p
        .string("Filter")?
        .map(|f| Filter::parse(f, FILTERABLE))
        .transpose()?;
    let range = match p.string("Identity")? {
        Some(id) => {
            let index = find(tenant, id)?;
            index..index + 1
        }
        None => 0..tenant.mailboxes().len(),
    };
    // Keys are positions + 1: the page after key `a` starts at position `a`.
    let after = req
        .after
        .map_or(0, |a| usize::try_from(a).unwrap_or(usize::MAX));
    (range.start.max(after)..range.end)
        .filter_map(|i| tenant.mailbox(i).map(|m| (i, m)))
        .filter(|(i, m)| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|name| property(tenant, *i, m, name)))
        })
        .take(req.limit)
        .map(|(index, mailbox)| {
            Row::new(
                index as u64 + 1,
                &CasView {
                    tenant,
                    index,
                    mailbox,
                },
            )
        })
        .collect()
}

/// Every device id a list value names (replaced, added or removed).
fn given_ids(value: &MultiValue) -> impl Iterator<Item = &String> {
    let (a, b): (&[String], &[String]) = match value {
        MultiValue::Replace(items) => (items, &[]),
        MultiValue::Modify { add, remove } => (add, remove),
    };
    a.iter().chain(b)
}

/// Applies `param` (a list, `null`, or the Add/Remove table) to `list`, checking every id given
/// and the size of the result.
fn edit_list(params: &Params, param: &str, list: &mut Vec<String>) -> Result<(), ExoError> {
    let Some(value) = params.multi(param)? else {
        return Ok(());
    };
    let too_many = |n: usize| {
        invalid_value(
            param,
            &format!(
                "The list can hold at most {MAX_LIST} device IDs; this change would leave {n}."
            ),
        )
    };
    // Far more ids than a list holds: refused before any work on them.
    let given = given_ids(&value).count();
    if given > 2 * MAX_LIST {
        return Err(too_many(given));
    }
    for id in given_ids(&value) {
        if id.trim().is_empty() {
            return Err(invalid_value(
                param,
                "A device ID can't be empty. Specify the DeviceId of the mobile device.",
            ));
        }
        let len = id.chars().count();
        if len > MAX_DEVICE_ID {
            return Err(invalid_value(
                param,
                &format!(
                    "The length of the device ID \"{id}\" is too long. The maximum length is {MAX_DEVICE_ID} and the length of the value provided is {len}."
                ),
            ));
        }
    }
    value.apply(list);
    // A replacing list may repeat an id; the property holds each id once.
    let mut seen = HashSet::with_capacity(list.len());
    list.retain(|id| seen.insert(id.to_ascii_lowercase()));
    if list.len() > MAX_LIST {
        return Err(too_many(list.len()));
    }
    Ok(())
}

/// Validates every given setting on a copy of the mailbox, then commits them all (or none) and
/// re-decides the mailbox's devices; `WhenChanged` moves only when a setting really changed. No
/// output.
fn set(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let index = find(tenant, errors::identity(p)?)?;
    let before = &tenant.mailboxes()[index];
    let mut m = before.clone();
    edit_list(p, ALLOWED, &mut m.allowed_device_ids)?;
    edit_list(p, BLOCKED, &mut m.blocked_device_ids)?;
    if let Some(enabled) = p.boolean("ActiveSyncEnabled")? {
        m.active_sync_enabled = enabled;
    }
    let changed = m.allowed_device_ids != before.allowed_device_ids
        || m.blocked_device_ids != before.blocked_device_ids
        || m.active_sync_enabled != before.active_sync_enabled;
    if what_if(p)? || !changed {
        return Ok(Vec::new());
    }
    m.when_changed = m.when_changed.max(req.now);
    tenant.mailboxes_mut()[index] = m;
    tenant.reevaluate_mailbox(index, req.now);
    Ok(Vec::new())
}

/// A mailbox's client access settings as the flat property bag Exchange returns.
struct CasView<'a> {
    tenant: &'a Tenant,
    index: usize,
    mailbox: &'a Mailbox,
}

impl Serialize for CasView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (t, m) = (self.tenant, self.mailbox);
        let org = &t.org;
        let policy = t.mailbox_policy(self.index);
        let mut out = serializer.serialize_map(None)?;
        let map = &mut out;
        map.serialize_entry("Name", &m.alias)?;
        map.serialize_entry("DisplayName", &m.display_name)?;
        map.serialize_entry("PrimarySmtpAddress", &m.upn)?;
        map.serialize_entry("ActiveSyncEnabled", &m.active_sync_enabled)?;
        list_entry(map, ALLOWED, &m.allowed_device_ids)?;
        list_entry(map, BLOCKED, &m.blocked_device_ids)?;
        map.serialize_entry("ActiveSyncMailboxPolicy", &policy.map(|p| p.name.as_str()))?;
        map.serialize_entry("ActiveSyncMailboxPolicyIsDefaulted", &m.policy.is_none())?;
        map.serialize_entry("ActiveSyncDebugLogging", &false)?;
        map.serialize_entry("ActiveSyncSuppressReadReceipt", &false)?;
        map.serialize_entry(
            "HasActiveSyncDevicePartnership",
            &t.mailbox_has_devices(self.index),
        )?;
        map.serialize_entry("AdminDisplayName", "")?;
        map.serialize_entry("ExchangeVersion", "0.20 (15.0.0.0)")?;
        map.serialize_entry(
            "DistinguishedName",
            &format!("CN={},{}", m.alias, org.dn_suffix()),
        )?;
        map.serialize_entry("Identity", &m.alias)?;
        map.serialize_entry("Id", &m.alias)?;
        map.serialize_entry(
            "ObjectCategory",
            &format!("{}/Configuration/Schema/Person", org.forest),
        )?;
        list_entry(
            map,
            "ObjectClass",
            &["top", "person", "organizationalPerson", "user"],
        )?;
        date_entry(map, "WhenChanged", &m.when_changed)?;
        date_entry(map, "WhenCreated", &m.when_created)?;
        date_entry(map, "WhenChangedUTC", &m.when_changed)?;
        date_entry(map, "WhenCreatedUTC", &m.when_created)?;
        guid_entry(map, "ExchangeObjectId", &m.guid)?;
        map.serialize_entry("OrganizationId", &org.organization_id())?;
        guid_entry(map, "Guid", &m.guid)?;
        map.serialize_entry("OriginatingServer", &org.domain_controller)?;
        map.serialize_entry("IsValid", &true)?;
        map.serialize_entry("ObjectState", "Unchanged")?;
        out.end()
    }
}
