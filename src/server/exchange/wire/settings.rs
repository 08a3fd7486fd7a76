//! The output object of `Get-ActiveSyncOrganizationSettings`.

use chrono::{DateTime, Utc};

use super::enums::AccessLevel;
use super::fields::{from_bag, Bag};

/// The organization's one "Mobile Mailbox Settings" object (spec §7).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct OrganizationSettings {
    /// What happens to a device no rule and no personal list covers.
    pub default_access_level: Option<AccessLevel>,
    /// Who is told about quarantined devices (empty when nobody is).
    pub admin_mail_recipients: Vec<String>,
    pub user_mail_insert: Option<String>,
    pub ota_notification_mail_insert: Option<String>,
    pub allow_access_for_unsupported_platform: Option<bool>,
    pub allow_rms_support_for_unenlightened_apps: Option<bool>,
    pub is_intune_managed: Option<bool>,
    /// Undocumented; most tenants have none. Kept as text.
    pub tenant_admin_preference: Option<String>,
    pub identity: Option<String>,
    pub guid: Option<String>,
    pub when_changed: Option<DateTime<Utc>>,
    /// `<forest>/Microsoft Exchange Hosted Organizations/<name> - <forest>/ConfigurationUnits/...`
    pub organization_id: Option<String>,
}

impl OrganizationSettings {
    fn from_bag(b: &Bag) -> Self {
        Self {
            default_access_level: b.enumeration("DefaultAccessLevel"),
            admin_mail_recipients: b.list("AdminMailRecipients"),
            user_mail_insert: b.text("UserMailInsert"),
            ota_notification_mail_insert: b.text("OtaNotificationMailInsert"),
            allow_access_for_unsupported_platform: b.flag("AllowAccessForUnSupportedPlatform"),
            allow_rms_support_for_unenlightened_apps: b.flag("AllowRMSSupportForUnenlightenedApps"),
            is_intune_managed: b.flag("IsIntuneManaged"),
            tenant_admin_preference: b.text("TenantAdminPreference").filter(|t| !t.is_empty()),
            identity: b.text("Identity"),
            guid: b.text("Guid"),
            when_changed: b.date("WhenChanged"),
            organization_id: b.text("OrganizationId"),
        }
    }

    /// The organization name, read from `OrganizationId`
    /// (`<forest>/Microsoft Exchange Hosted Organizations/<name> - <forest>/ConfigurationUnits/...`).
    pub fn organization(&self) -> Option<String> {
        const MARKER: &str = "Microsoft Exchange Hosted Organizations/";
        let raw = self.organization_id.as_deref()?;
        let rest = raw.find(MARKER).and_then(|i| raw.get(i + MARKER.len()..))?;
        let name = rest.split(" - ").next()?.split('/').next()?.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
}

from_bag!(OrganizationSettings);
