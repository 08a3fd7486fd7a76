//! `Get-ActiveSyncOrganizationSettings` and `Set-ActiveSyncOrganizationSettings`: the single
//! "Mobile Mailbox Settings" object. Changing `DefaultAccessLevel` re-decides, at once, the
//! access state of every device that no rule and no personal list covers.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::errors::{bad_enum, invalid_value, what_if};
use super::{Cmdlet, Request, Row, Run};
use crate::sim::params::Params;
use crate::sim::tenant::{AccessLevel, OrgSettings, Tenant};
use crate::sim::wire::{date_entry, guid_entry, list_entry, ExoError};

/// Longest `UserMailInsert` / `OtaNotificationMailInsert`.
pub(crate) const MAX_INSERT: usize = 256;

pub(crate) const SET: Cmdlet = Cmdlet {
    name: "Set-ActiveSyncOrganizationSettings",
    params: &[
        "Identity",
        "DefaultAccessLevel",
        "AdminMailRecipients",
        "UserMailInsert",
        "OtaNotificationMailInsert",
        "AllowAccessForUnSupportedPlatform",
        "AllowRMSSupportForUnenlightenedApps",
        "IsIntuneManaged",
        "TenantAdminPreference",
        "EnableMobileMailboxPolicyWhenCAInplace",
        "Confirm",
        "WhatIf",
    ],
    run: Run::Write(set),
};

fn check_identity(tenant: &Tenant, params: &Params) -> Result<(), ExoError> {
    if let Some(identity) = params.string("Identity")? {
        let id = identity.trim();
        let matches = id.eq_ignore_ascii_case(SETTINGS_NAME)
            || id.eq_ignore_ascii_case(&tenant.settings.guid.to_string())
            || id.rsplit_once('\\').is_some_and(|(org, name)| {
                tenant.org.matches(org) && name.eq_ignore_ascii_case(SETTINGS_NAME)
            });
        if !matches {
            return Err(ExoError::not_found(identity, &tenant.org.domain_controller));
        }
    }
    Ok(())
}

fn insert_text(params: &Params, name: &str) -> Result<Option<String>, ExoError> {
    let Some(text) = params.string(name)? else {
        return Ok(params.get(name).map(|_| String::new()));
    };
    let len = text.chars().count();
    if len > MAX_INSERT {
        return Err(invalid_value(
            name,
            &format!(
                "The length of the property is too long. The maximum length is {MAX_INSERT} and the length of the value provided is {len}."
            ),
        ));
    }
    Ok(Some(text.to_owned()))
}

fn valid_smtp(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !a.chars().any(|c| c.is_whitespace() || c == ',' || c == ';')
        && !domain.contains('@')
}

/// Validates every given setting on a copy, then commits them all (or none).
fn set(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    check_identity(tenant, p)?;
    let mut s: OrgSettings = tenant.settings.clone();
    if let Some(level) = p.string("DefaultAccessLevel")? {
        s.default_access_level = AccessLevel::parse(level).ok_or_else(|| {
            bad_enum(
                "DefaultAccessLevel",
                level,
                "Microsoft.Exchange.Data.Directory.SystemConfiguration.DeviceAccessLevel",
                &AccessLevel::names(),
            )
        })?;
    } else if p.get("DefaultAccessLevel").is_some() {
        return Err(invalid_value("DefaultAccessLevel", "The argument is null. Provide a valid value for the argument, and then try running the command again."));
    }
    if let Some(list) = p.multi("AdminMailRecipients")? {
        list.apply(&mut s.admin_mail_recipients);
        if let Some(bad) = s.admin_mail_recipients.iter().find(|a| !valid_smtp(a)) {
            return Err(invalid_value(
                "AdminMailRecipients",
                &format!("\"{bad}\" is not a valid SMTP address."),
            ));
        }
    }
    if let Some(t) = insert_text(p, "UserMailInsert")? {
        s.user_mail_insert = t;
    }
    if let Some(t) = insert_text(p, "OtaNotificationMailInsert")? {
        s.ota_notification_mail_insert = t;
    }
    for (name, field) in [
        (
            "AllowAccessForUnSupportedPlatform",
            &mut s.allow_access_for_unsupported_platform,
        ),
        (
            "AllowRMSSupportForUnenlightenedApps",
            &mut s.allow_rms_support_for_unenlightened_apps,
        ),
        ("IsIntuneManaged", &mut s.is_intune_managed),
        (
            "EnableMobileMailboxPolicyWhenCAInplace",
            &mut s.enable_mobile_mailbox_policy_when_ca_inplace,
        ),
    ] {
        if let Some(b) = p.boolean(name)? {
            *field = b;
        }
    }
    if p.get("TenantAdminPreference").is_some() {
        s.tenant_admin_preference = p.string("TenantAdminPreference")?.map(str::to_owned);
    }
    if what_if(p)? {
        return Ok(Vec::new());
    }
    let level_changed = s.default_access_level != tenant.settings.default_access_level;
    s.when_changed = req.now;
    tenant.settings = s;
    if level_changed {
        tenant.reevaluate(req.now);
    }
    Ok(Vec::new())
}

/// Name and `Identity` of the organization's ActiveSync settings object.
pub(crate) const SETTINGS_NAME: &str = "Mobile Mailbox Settings";

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-ActiveSyncOrganizationSettings",
    params: &["Identity"],
    run: Run::Read(get),
};

fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    check_identity(tenant, req.params)?;
    const KEY: u64 = 1;
    if req.limit == 0 || req.after.is_some_and(|a| a >= KEY) {
        return Ok(Vec::new());
    }
    Ok(vec![Row::new(KEY, &SettingsView(tenant))?])
}

struct SettingsView<'a>(&'a Tenant);

impl Serialize for SettingsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (s, org) = (&self.0.settings, &self.0.org);
        let dn = format!(
            "CN={SETTINGS_NAME},CN=Configuration,CN={},CN=ConfigurationUnits,{}",
            org.organization,
            org.dn_suffix()
                .split_once(",DC=")
                .map_or(String::new(), |(_, dcs)| format!("DC={dcs}"))
        );
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry(
            "AllowAccessForUnSupportedPlatform",
            &s.allow_access_for_unsupported_platform,
        )?;
        m.serialize_entry(
            "AllowRMSSupportForUnenlightenedApps",
            &s.allow_rms_support_for_unenlightened_apps,
        )?;
        m.serialize_entry("DefaultAccessLevel", s.default_access_level.as_str())?;
        m.serialize_entry("UserMailInsert", &s.user_mail_insert)?;
        list_entry(&mut m, "AdminMailRecipients", &s.admin_mail_recipients)?;
        m.serialize_entry("OtaNotificationMailInsert", &s.ota_notification_mail_insert)?;
        m.serialize_entry("IsIntuneManaged", &s.is_intune_managed)?;
        m.serialize_entry(
            "EnableMobileMailboxPolicyWhenCAInplace",
            &s.enable_mobile_mailbox_policy_when_ca_inplace,
        )?;
        // Undocumented enum; the real service prints it empty for most tenants.
        m.serialize_entry("TenantAdminPreference", &s.tenant_admin_preference)?;
        m.serialize_entry("AdminDisplayName", "")?;
        m.serialize_entry("ExchangeVersion", "0.10 (14.0.100.0)")?;
        m.serialize_entry("Name", SETTINGS_NAME)?;
        m.serialize_entry("DistinguishedName", &dn)?;
        m.serialize_entry("Identity", SETTINGS_NAME)?;
        m.serialize_entry("Id", SETTINGS_NAME)?;
        m.serialize_entry(
            "ObjectCategory",
            &format!(
                "{}/Configuration/Schema/ms-Exch-Mobile-Mailbox-Settings",
                org.forest
            ),
        )?;
        list_entry(
            &mut m,
            "ObjectClass",
            &["top", "msExchMobileMailboxSettings"],
        )?;
        date_entry(&mut m, "WhenChanged", &s.when_changed)?;
        date_entry(&mut m, "WhenCreated", &s.when_created)?;
        date_entry(&mut m, "WhenChangedUTC", &s.when_changed)?;
        date_entry(&mut m, "WhenCreatedUTC", &s.when_created)?;
        guid_entry(&mut m, "ExchangeObjectId", &s.guid)?;
        m.serialize_entry("OrganizationId", &org.organization_id())?;
        guid_entry(&mut m, "Guid", &s.guid)?;
        m.serialize_entry("OriginatingServer", &org.domain_controller)?;
        m.serialize_entry("IsValid", &true)?;
        m.serialize_entry("ObjectState", "Unchanged")?;
        m.end()
    }
}
