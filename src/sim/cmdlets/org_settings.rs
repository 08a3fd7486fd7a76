//! `Get-ActiveSyncOrganizationSettings`: the single "Mobile Mailbox Settings" object.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Cmdlet, Request, Row};
use crate::sim::tenant::Tenant;
use crate::sim::wire::{date_entry, guid_entry, list_entry, ExoError};

/// Name and `Identity` of the organization's ActiveSync settings object.
pub(crate) const SETTINGS_NAME: &str = "Mobile Mailbox Settings";

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-ActiveSyncOrganizationSettings",
    params: &["Identity"],
    run: get,
};

fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    if let Some(identity) = req.params.string("Identity")? {
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
        m.serialize_entry("TenantAdminPreference", &None::<&str>)?;
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
