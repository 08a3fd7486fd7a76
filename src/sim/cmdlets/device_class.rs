//! `Get-ActiveSyncDeviceClass`: one object per (DeviceType, DeviceModel) the tenant has seen,
//! ordered by type then model (or by `SortBy`); `Filter` and `SortBy` take DeviceType,
//! DeviceModel and LastUpdateTime.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::sort::SortBy;
use super::{positional, Cmdlet, Request, Row, Run};
use crate::sim::filter::{Filter, Kind, Prop};
use crate::sim::tenant::{DeviceClass, Tenant};
use crate::sim::wire::{date_entry, guid_entry, list_entry, ExoError};

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-ActiveSyncDeviceClass",
    params: &["Identity", "Filter", "SortBy", "ResultSize"],
    run: Run::Read(get),
};

/// Properties `-Filter` and `-SortBy` accept.
const FIELDS: &[(&str, Kind)] = &[
    ("DeviceType", Kind::Text),
    ("DeviceModel", Kind::Text),
    ("LastUpdateTime", Kind::Date),
];

fn property<'a>(c: &'a DeviceClass, name: &str) -> Prop<'a> {
    match name {
        "DeviceType" => Prop::Text(c.device_type),
        "DeviceModel" => Prop::Text(c.model),
        "LastUpdateTime" => Prop::Date(c.last_update),
        _ => Prop::Null,
    }
}

fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let filter = p
        .string("Filter")?
        .map(|f| Filter::parse(f, FIELDS))
        .transpose()?;
    let sort = SortBy::from_params(p, FIELDS)?;
    let identity = p.string("Identity")?.map(str::trim);
    let mut classes: Vec<&DeviceClass> = tenant
        .classes
        .iter()
        .filter(|c| {
            identity.is_none_or(|id| {
                c.name().eq_ignore_ascii_case(id) || c.guid.to_string().eq_ignore_ascii_case(id)
            })
        })
        .filter(|c| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|n| property(c, n)))
        })
        .collect();
    if let (Some(id), true) = (identity, classes.is_empty()) {
        return Err(ExoError::not_found(id, &tenant.org.domain_controller));
    }
    if let Some(s) = sort {
        classes.sort_by(|a, b| s.order(&property(a, s.property), &property(b, s.property)));
    }
    positional(req, classes, |key, c| {
        Row::new(key, &ClassView { tenant, class: c })
    })
}

/// A device class as the flat property bag Exchange returns.
struct ClassView<'a> {
    tenant: &'a Tenant,
    class: &'a DeviceClass,
}

impl Serialize for ClassView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (t, c) = (self.tenant, self.class);
        let name = c.name();
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("DeviceType", c.device_type)?;
        m.serialize_entry("DeviceModel", c.model)?;
        date_entry(&mut m, "LastUpdateTime", &c.last_update)?;
        m.serialize_entry("AdminDisplayName", "")?;
        m.serialize_entry("ExchangeVersion", "0.10 (14.0.100.0)")?;
        m.serialize_entry("Name", &name)?;
        m.serialize_entry(
            "DistinguishedName",
            &format!(
                "CN={name},CN=ExchangeDeviceClasses,CN=Mobile Mailbox Settings,{}",
                t.org.dn_suffix()
            ),
        )?;
        m.serialize_entry("Identity", &name)?;
        m.serialize_entry("Id", &name)?;
        list_entry(
            &mut m,
            "ObjectClass",
            &["top", "msExchActiveSyncDeviceClass"],
        )?;
        date_entry(&mut m, "WhenChanged", &c.last_update)?;
        date_entry(&mut m, "WhenChangedUTC", &c.last_update)?;
        guid_entry(&mut m, "ExchangeObjectId", &c.guid)?;
        m.serialize_entry("OrganizationId", &t.org.organization_id())?;
        guid_entry(&mut m, "Guid", &c.guid)?;
        m.serialize_entry("OriginatingServer", &t.org.domain_controller)?;
        m.serialize_entry("IsValid", &true)?;
        m.serialize_entry("ObjectState", "Unchanged")?;
        m.end()
    }
}
