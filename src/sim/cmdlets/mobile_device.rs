//! `Get-MobileDevice`: every device partnership of the tenant (or of one mailbox, or one device),
//! in creation order (or by `SortBy`), with the spec §7 output fields; `Remove-MobileDevice`.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::errors::{self, confirm, what_if};
use super::sort::SortBy;
use super::{positional, Cmdlet, Request, Row, Run};
use crate::sim::filter::{Filter, Kind, Prop};
use crate::sim::tenant::{ClientType, Device, Tenant};
use crate::sim::wire::{date_entry, guid_entry, list_entry, ExoError};

pub(crate) const REMOVE: Cmdlet = Cmdlet {
    name: "Remove-MobileDevice",
    params: &["Identity", "Confirm", "WhatIf"],
    run: Run::Write(remove),
};

/// Deletes one device partnership. Refused without `"Confirm": false` (see [`confirm`]).
fn remove(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let identity = errors::identity(req.params)?;
    let (guid, shown) = tenant
        .find_device(identity)
        .map(|d| (d.guid, tenant.device_identity(d)))
        .ok_or_else(|| ExoError::not_found(identity, &tenant.org.domain_controller))?;
    confirm(req.params, "Removing mobile device", &shown)?;
    if !what_if(req.params)? {
        tenant.remove_device(&guid);
    }
    Ok(Vec::new())
}

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-MobileDevice",
    params: &[
        "Identity",
        "Mailbox",
        "ActiveSync",
        "OWAforDevices",
        "RestApi",
        "UniversalOutlook",
        "Filter",
        "ResultSize",
        "SortBy",
    ],
    run: Run::Read(get),
};

/// Properties `-Filter` accepts.
const FILTERABLE: &[(&str, Kind)] = &[
    ("FriendlyName", Kind::Text),
    ("DeviceId", Kind::Text),
    ("DeviceImei", Kind::Text),
    ("DeviceMobileOperator", Kind::Text),
    ("DeviceOS", Kind::Text),
    ("DeviceOSLanguage", Kind::Text),
    ("DeviceTelephoneNumber", Kind::Text),
    ("DeviceType", Kind::Text),
    ("DeviceUserAgent", Kind::Text),
    ("DeviceModel", Kind::Text),
    ("FirstSyncTime", Kind::Date),
    ("UserDisplayName", Kind::Text),
    ("DeviceAccessState", Kind::Text),
    ("DeviceAccessStateReason", Kind::Text),
    ("DeviceAccessControlRule", Kind::Text),
    ("ClientVersion", Kind::Text),
    ("ClientType", Kind::Text),
    ("IsManaged", Kind::Bool),
    ("IsCompliant", Kind::Bool),
    ("IsDisabled", Kind::Bool),
    ("Name", Kind::Text),
    ("Guid", Kind::Text),
    ("ExchangeObjectId", Kind::Text),
    ("WhenChanged", Kind::Date),
    ("WhenChangedUTC", Kind::Date),
    ("WhenCreated", Kind::Date),
    ("WhenCreatedUTC", Kind::Date),
];

fn property<'a>(tenant: &'a Tenant, d: &'a Device, name: &str) -> Prop<'a> {
    let opt = |v: Option<&'a str>| v.map_or(Prop::Null, Prop::Text);
    match name {
        "FriendlyName" => Prop::Text(d.friendly_name),
        "DeviceId" => Prop::Text(&d.device_id),
        "DeviceImei" => opt(d.imei.as_deref()),
        "DeviceMobileOperator" => opt(d.operator),
        "DeviceOS" => Prop::Text(d.device_os),
        "DeviceOSLanguage" => Prop::Text(d.os_language),
        "DeviceTelephoneNumber" => opt(d.phone.as_deref()),
        "DeviceType" => Prop::Text(d.device_type),
        "DeviceUserAgent" => Prop::Text(&d.user_agent),
        "DeviceModel" => Prop::Text(d.model),
        "UserDisplayName" => user_display_name(tenant, d).map_or(Prop::Null, Prop::Owned),
        "DeviceAccessState" => Prop::Text(d.access_state.as_str()),
        "DeviceAccessStateReason" => Prop::Text(d.access_reason.as_str()),
        "DeviceAccessControlRule" => opt(d.access_rule.as_deref()),
        "ClientVersion" => Prop::Text(d.client_version),
        "ClientType" => Prop::Text(d.client_type.as_str()),
        "IsManaged" => Prop::Bool(d.is_managed),
        "IsCompliant" => Prop::Bool(d.is_compliant),
        "IsDisabled" => Prop::Bool(d.is_disabled),
        "Name" => Prop::Owned(d.name()),
        "Guid" | "ExchangeObjectId" => Prop::Owned(d.guid.to_string()),
        "FirstSyncTime" => Prop::Date(d.first_sync),
        "WhenChanged" | "WhenChangedUTC" => Prop::Date(d.when_changed),
        "WhenCreated" | "WhenCreatedUTC" => Prop::Date(d.when_created),
        _ => Prop::Null,
    }
}

/// Share of devices, in percent, whose `UserDisplayName` is the owner's directory path.
const PATH_NAME_PERCENT: u128 = 30;

/// `UserDisplayName` as Exchange Online reports it. For about 30% of devices (fixed per device:
/// it follows from the GUID) it is the owner's canonical directory name,
/// `<forest>/Microsoft Exchange Hosted Organizations/<organization>/<display name>` (say
/// `EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Adele Vance`),
/// for the others the plain display name. `None` when the owner is unknown.
pub(crate) fn user_display_name(tenant: &Tenant, d: &Device) -> Option<String> {
    let name = &tenant.mailbox(d.mailbox)?.display_name;
    if d.guid.as_u128() % 100 < PATH_NAME_PERCENT {
        let org = &tenant.org;
        Some(format!(
            "{}/Microsoft Exchange Hosted Organizations/{}/{name}",
            org.forest, org.organization
        ))
    } else {
        Some(name.clone())
    }
}

/// Which client types the switches select (`None`: no switch given, all of them).
pub(super) fn client_types(req: &Request<'_>) -> Result<Option<Vec<ClientType>>, ExoError> {
    let p = req.params;
    let mut types = Vec::new();
    for (switch, t) in [
        ("ActiveSync", ClientType::Eas),
        ("OWAforDevices", ClientType::Mowa),
        ("RestApi", ClientType::Rest),
        ("UniversalOutlook", ClientType::Outlook),
    ] {
        if p.switch(switch)? {
            types.push(t);
        }
    }
    Ok((!types.is_empty()).then_some(types))
}

fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let identity = p.string("Identity")?;
    let mailbox = p.string("Mailbox")?;
    if identity.is_some() && mailbox.is_some() {
        return Err(ExoError::parameter(
            "Parameter set cannot be resolved using the specified named parameters.",
        ));
    }
    let sort = SortBy::from_params(p, FILTERABLE)?;
    let types = client_types(req)?;
    let filter = p
        .string("Filter")?
        .map(|f| Filter::parse(f, FILTERABLE))
        .transpose()?;
    let dc = &tenant.org.domain_controller;
    // Sorted output pages by position, so it starts from the beginning every time.
    let after = if sort.is_some() { None } else { req.after };
    let candidates: Box<dyn Iterator<Item = &Device>> = match (identity, mailbox) {
        (Some(id), _) => {
            let device = tenant
                .find_device(id)
                .ok_or_else(|| ExoError::not_found(id, dc))?;
            Box::new(std::iter::once(device).filter(move |d| after.is_none_or(|a| d.seq > a)))
        }
        (None, Some(m)) => {
            let index = tenant
                .find_mailbox(m)
                .ok_or_else(|| ExoError::not_found(m, dc))?;
            Box::new(tenant.mailbox_devices_after(index, after))
        }
        (None, None) => Box::new(tenant.devices_after(after)),
    };
    let matching = candidates
        .filter(|d| types.as_ref().is_none_or(|t| t.contains(&d.client_type)))
        .filter(|d| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|name| property(tenant, d, name)))
        });
    match sort {
        None => matching
            .take(req.limit)
            .map(|d| Row::new(d.seq, &DeviceView { tenant, device: d }))
            .collect(),
        Some(s) => {
            // Each key is computed once (some properties are built strings).
            let mut all: Vec<(Prop<'_>, &Device)> = matching
                .map(|d| (property(tenant, d, s.property), d))
                .collect();
            all.sort_by(|(ka, a), (kb, b)| s.order(ka, kb).then(a.seq.cmp(&b.seq)));
            positional(req, all, |key, (_, d)| {
                Row::new(key, &DeviceView { tenant, device: d })
            })
        }
    }
}

/// A device as the flat property bag Exchange returns.
struct DeviceView<'a> {
    tenant: &'a Tenant,
    device: &'a Device,
}

impl Serialize for DeviceView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (t, d) = (self.tenant, self.device);
        let org = &t.org;
        let user = user_display_name(t, d);
        let identity = t.device_identity(d);
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("FriendlyName", d.friendly_name)?;
        m.serialize_entry("DeviceId", &*d.device_id)?;
        m.serialize_entry("DeviceImei", &d.imei.as_deref())?;
        m.serialize_entry("DeviceMobileOperator", &d.operator)?;
        m.serialize_entry("DeviceOS", d.device_os)?;
        m.serialize_entry("DeviceOSLanguage", d.os_language)?;
        m.serialize_entry("DeviceTelephoneNumber", &d.phone.as_deref())?;
        m.serialize_entry("DeviceType", d.device_type)?;
        m.serialize_entry("DeviceUserAgent", &*d.user_agent)?;
        m.serialize_entry("DeviceModel", d.model)?;
        date_entry(&mut m, "FirstSyncTime", &d.first_sync)?;
        m.serialize_entry("UserDisplayName", &user)?;
        m.serialize_entry("DeviceAccessState", d.access_state.as_str())?;
        m.serialize_entry("DeviceAccessStateReason", d.access_reason.as_str())?;
        m.serialize_entry("DeviceAccessControlRule", &d.access_rule.as_deref())?;
        m.serialize_entry("ClientVersion", d.client_version)?;
        m.serialize_entry("ClientType", d.client_type.as_str())?;
        m.serialize_entry("IsManaged", &d.is_managed)?;
        m.serialize_entry("IsCompliant", &d.is_compliant)?;
        m.serialize_entry("IsDisabled", &d.is_disabled)?;
        m.serialize_entry("AdminDisplayName", "")?;
        m.serialize_entry("ExchangeVersion", "0.10 (14.0.100.0)")?;
        m.serialize_entry("Name", &d.name())?;
        m.serialize_entry("DistinguishedName", &t.device_dn(d))?;
        // Some payloads annotate with "@data.type" instead of "@odata.type"; clients ignore both.
        m.serialize_entry(
            "Identity@data.type",
            "#Microsoft.Exchange.Data.Directory.ADObjectId",
        )?;
        m.serialize_entry("Identity", &identity)?;
        m.serialize_entry("Id", &identity)?;
        m.serialize_entry(
            "ObjectCategory",
            &format!(
                "{}/Configuration/Schema/ms-Exch-Active-Sync-Device",
                org.forest
            ),
        )?;
        list_entry(&mut m, "ObjectClass", &["top", "msExchActiveSyncDevice"])?;
        date_entry(&mut m, "WhenChanged", &d.when_changed)?;
        date_entry(&mut m, "WhenCreated", &d.when_created)?;
        date_entry(&mut m, "WhenChangedUTC", &d.when_changed)?;
        date_entry(&mut m, "WhenCreatedUTC", &d.when_created)?;
        guid_entry(&mut m, "ExchangeObjectId", &d.guid)?;
        m.serialize_entry("OrganizationId", &org.organization_id())?;
        guid_entry(&mut m, "Guid", &d.guid)?;
        m.serialize_entry("OriginatingServer", &org.domain_controller)?;
        m.serialize_entry("IsValid", &true)?;
        m.serialize_entry("ObjectState", "Unchanged")?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generator::generate;
    use crate::sim::SimConfig;
    use chrono::{TimeZone, Utc};

    #[test]
    fn about_a_third_of_devices_show_the_owner_as_a_directory_path() {
        let now = Utc
            .with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let t = generate(&SimConfig::default(), now);
        let prefix = "EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/\
                      contoso-demo.onmicrosoft.com/";
        let mut paths = 0;
        for d in t.devices_after(None) {
            let owner = t.mailbox(d.mailbox).map(|m| m.display_name.clone());
            let shown = user_display_name(&t, d);
            assert_eq!(shown, user_display_name(&t, d), "stable per device");
            match shown.as_deref().and_then(|s| s.strip_prefix(prefix)) {
                Some(name) => {
                    assert_eq!(Some(name.to_owned()), owner);
                    paths += 1;
                }
                None => assert_eq!(shown, owner),
            }
            assert!(t
                .device_identity(d)
                .contains("\\ExchangeActiveSyncDevices\\"));
            let by_filter = property(&t, d, "UserDisplayName");
            assert!(matches!(by_filter, Prop::Owned(ref s) if Some(s) == shown.as_ref()));
        }
        let share = paths * 100 / t.device_count();
        assert!(
            (20..=40).contains(&share),
            "{paths} of {}",
            t.device_count()
        );
    }
}
