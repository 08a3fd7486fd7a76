//! `Get-`, `New-`, `Set-` and `Remove-ActiveSyncDeviceAccessRule`. Every change re-decides the
//! access state of the devices at once (precedence in `tenant::access`): a device that changes
//! gets `DeviceAccessStateReason` `DeviceRule` (or `Global` when no rule covers it any more),
//! `DeviceAccessControlRule` = the deciding rule's name, and a new `WhenChanged`.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::errors::{self, already_exists, bad_enum, confirm, missing_mandatory, what_if};
use super::{positional, Cmdlet, Request, Row, Run};
use crate::sim::params::Params;
use crate::sim::rng::SplitMix64;
use crate::sim::tenant::{AccessLevel, Characteristic, Rule, Tenant};
use crate::sim::wire::{date_entry, guid_entry, list_entry, ExoError};

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-ActiveSyncDeviceAccessRule",
    params: &["Identity"],
    run: Run::Read(get),
};

pub(crate) const NEW: Cmdlet = Cmdlet {
    name: "New-ActiveSyncDeviceAccessRule",
    params: &[
        "AccessLevel",
        "Characteristic",
        "QueryString",
        "Confirm",
        "WhatIf",
    ],
    run: Run::Write(new),
};

pub(crate) const SET: Cmdlet = Cmdlet {
    name: "Set-ActiveSyncDeviceAccessRule",
    params: &["Identity", "AccessLevel", "Confirm", "WhatIf"],
    run: Run::Write(set),
};

pub(crate) const REMOVE: Cmdlet = Cmdlet {
    name: "Remove-ActiveSyncDeviceAccessRule",
    params: &["Identity", "Confirm", "WhatIf"],
    run: Run::Write(remove),
};

/// Index of the rule named by `identity` (name or GUID, any case).
fn find(tenant: &Tenant, identity: &str) -> Result<usize, ExoError> {
    let id = identity.trim();
    tenant
        .rules
        .iter()
        .position(|r| {
            r.name.eq_ignore_ascii_case(id) || r.guid.to_string().eq_ignore_ascii_case(id)
        })
        .ok_or_else(|| ExoError::not_found(identity, &tenant.org.domain_controller))
}

fn access_level(params: &Params) -> Result<Option<AccessLevel>, ExoError> {
    params
        .string("AccessLevel")?
        .map(|text| {
            AccessLevel::parse(text).ok_or_else(|| {
                bad_enum(
                    "AccessLevel",
                    text,
                    "Microsoft.Exchange.Data.Directory.SystemConfiguration.DeviceAccessLevel",
                    &AccessLevel::names(),
                )
            })
        })
        .transpose()
}

fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let chosen: Vec<&Rule> = match req.params.string("Identity")? {
        Some(id) => vec![&tenant.rules[find(tenant, id)?]],
        None => tenant.rules.iter().collect(),
    };
    positional(req, chosen, |key, r| {
        Row::new(key, &RuleView { tenant, rule: r })
    })
}

fn new(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let level = access_level(p)?;
    let characteristic = p
        .string("Characteristic")?
        .map(|text| {
            Characteristic::parse(text).ok_or_else(|| {
                bad_enum(
                    "Characteristic",
                    text,
                    "Microsoft.Exchange.Data.Directory.SystemConfiguration.DeviceAccessCharacteristic",
                    &Characteristic::names(),
                )
            })
        })
        .transpose()?;
    let query = p.string("QueryString")?.filter(|q| !q.is_empty());
    let (Some(level), Some(characteristic), Some(query)) = (level, characteristic, query) else {
        let missing: Vec<&str> = [
            ("AccessLevel", level.is_none()),
            ("Characteristic", characteristic.is_none()),
            ("QueryString", query.is_none()),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| *n)
        .collect();
        return Err(missing_mandatory(&missing.join(" ")));
    };
    let name = Rule::name_for(query, characteristic);
    if tenant
        .rules
        .iter()
        .any(|r| r.characteristic == characteristic && r.query_string.eq_ignore_ascii_case(query))
    {
        return Err(already_exists(&name));
    }
    if what_if(p)? {
        return Ok(Vec::new());
    }
    let key = tenant.next_key();
    let guid = SplitMix64::derive(tenant.seed, &format!("rule|{key}|{name}")).guid();
    tenant.rules.push(Rule {
        key,
        guid,
        name: Arc::from(name),
        query_string: query.to_owned(),
        characteristic,
        access_level: level,
        when_created: req.now,
        when_changed: req.now,
    });
    tenant.reevaluate(req.now);
    let rule = &tenant.rules[tenant.rules.len() - 1];
    Row::new(1, &RuleView { tenant, rule }).map(|r| vec![r])
}

fn set(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let index = find(tenant, errors::identity(p)?)?;
    let level = access_level(p)?;
    if what_if(p)? {
        return Ok(Vec::new());
    }
    if let Some(level) = level {
        let rule = &mut tenant.rules[index];
        rule.access_level = level;
        rule.when_changed = req.now;
        tenant.reevaluate(req.now);
    }
    Ok(Vec::new())
}

fn remove(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let index = find(tenant, errors::identity(p)?)?;
    let name = tenant.rules[index].name.clone();
    confirm(p, "Removing ActiveSync device access rule", &name)?;
    if what_if(p)? {
        return Ok(Vec::new());
    }
    tenant.rules.remove(index);
    tenant.reevaluate(req.now);
    Ok(Vec::new())
}

/// A rule as the flat property bag Exchange returns.
struct RuleView<'a> {
    tenant: &'a Tenant,
    rule: &'a Rule,
}

impl Serialize for RuleView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (t, r) = (self.tenant, self.rule);
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("QueryString", &r.query_string)?;
        m.serialize_entry("Characteristic", r.characteristic.as_str())?;
        m.serialize_entry("AccessLevel", r.access_level.as_str())?;
        m.serialize_entry("AdminDisplayName", "")?;
        m.serialize_entry("ExchangeVersion", "0.10 (14.0.100.0)")?;
        m.serialize_entry("Name", &*r.name)?;
        m.serialize_entry(
            "DistinguishedName",
            &format!(
                "CN={},CN=Mobile Mailbox Settings,{}",
                r.name,
                t.org.dn_suffix()
            ),
        )?;
        m.serialize_entry("Identity", &*r.name)?;
        m.serialize_entry("Id", &*r.name)?;
        m.serialize_entry(
            "ObjectCategory",
            &format!(
                "{}/Configuration/Schema/ms-Exch-Device-Access-Rule",
                t.org.forest
            ),
        )?;
        list_entry(&mut m, "ObjectClass", &["top", "msExchDeviceAccessRule"])?;
        date_entry(&mut m, "WhenChanged", &r.when_changed)?;
        date_entry(&mut m, "WhenCreated", &r.when_created)?;
        date_entry(&mut m, "WhenChangedUTC", &r.when_changed)?;
        date_entry(&mut m, "WhenCreatedUTC", &r.when_created)?;
        guid_entry(&mut m, "ExchangeObjectId", &r.guid)?;
        m.serialize_entry("OrganizationId", &t.org.organization_id())?;
        guid_entry(&mut m, "Guid", &r.guid)?;
        m.serialize_entry("OriginatingServer", &t.org.domain_controller)?;
        m.serialize_entry("IsValid", &true)?;
        m.serialize_entry("ObjectState", "Unchanged")?;
        m.end()
    }
}
