//! The simulated tenant: organization, mailboxes, mobile devices and ActiveSync settings, kept in
//! memory with the indexes the cmdlets need (by mailbox, by GUID) so a page is served without
//! scanning or cloning the whole tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// `ClientType` of a mobile device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientType {
    Eas,
    // Reported by OWA for Devices; the demo mix has none yet, the wire value is kept for filters.
    #[allow(dead_code)]
    Mowa,
    Outlook,
    Rest,
}

impl ClientType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Eas => "EAS",
            Self::Mowa => "MOWA",
            Self::Outlook => "Outlook",
            Self::Rest => "REST",
        }
    }
}

/// `DeviceAccessState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessState {
    Allowed,
    Blocked,
    Quarantined,
    DeviceDiscovery,
}

impl AccessState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "Allowed",
            Self::Blocked => "Blocked",
            Self::Quarantined => "Quarantined",
            Self::DeviceDiscovery => "DeviceDiscovery",
        }
    }
}

/// `DeviceAccessStateReason` (the subset the generator produces; the wire enum is larger).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessReason {
    Global,
    Individual,
    DeviceRule,
    Policy,
    Upgrade,
    ExternallyManaged,
}

impl AccessReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Global => "Global",
            Self::Individual => "Individual",
            Self::DeviceRule => "DeviceRule",
            Self::Policy => "Policy",
            Self::Upgrade => "Upgrade",
            Self::ExternallyManaged => "ExternallyManaged",
        }
    }
}

/// `AccessLevel` / `DefaultAccessLevel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessLevel {
    Allow,
    // Set-ActiveSyncOrganizationSettings (a later issue) changes the default level.
    #[allow(dead_code)]
    Block,
    #[allow(dead_code)]
    Quarantine,
}

impl AccessLevel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::Block => "Block",
            Self::Quarantine => "Quarantine",
        }
    }
}

/// Where the tenant "lives": names that appear in directory fields and headers.
#[derive(Clone, Debug)]
pub(crate) struct Org {
    pub(crate) tenant_id: String,
    pub(crate) domain: String,
    pub(crate) organization: String,
    /// e.g. `EURPR01A001.prod.outlook.com`
    pub(crate) forest: String,
    /// Fake mailbox server reported in `X-CalculatedBETarget`.
    pub(crate) be_target: String,
    /// Fake domain controller (`OriginatingServer`, "couldn't be found on" messages).
    pub(crate) domain_controller: String,
}

impl Org {
    /// `OrganizationId` as Exchange Online prints it.
    pub(crate) fn organization_id(&self) -> String {
        let (forest, org) = (&self.forest, &self.organization);
        format!(
            "{forest}/Microsoft Exchange Hosted Organizations/{org} - {forest}/ConfigurationUnits/{org}/Configuration"
        )
    }

    /// The LDAP tail `OU=<org>,OU=Microsoft Exchange Hosted Organizations,DC=...` of DNs.
    pub(crate) fn dn_suffix(&self) -> String {
        let dcs: Vec<String> = self
            .forest
            .split('.')
            .map(|p| format!("DC={}", p.to_uppercase()))
            .collect();
        format!(
            "OU={},OU=Microsoft Exchange Hosted Organizations,{}",
            self.organization,
            dcs.join(",")
        )
    }

    /// Whether a `{tenant}` URL segment names this tenant (GUID, initial or organization domain).
    pub(crate) fn matches(&self, segment: &str) -> bool {
        segment.eq_ignore_ascii_case(&self.tenant_id)
            || segment.eq_ignore_ascii_case(&self.domain)
            || segment.eq_ignore_ascii_case(&self.organization)
    }
}

/// The single "Mobile Mailbox Settings" object.
#[derive(Clone, Debug)]
pub(crate) struct OrgSettings {
    pub(crate) guid: Uuid,
    pub(crate) default_access_level: AccessLevel,
    pub(crate) admin_mail_recipients: Vec<String>,
    pub(crate) user_mail_insert: String,
    pub(crate) ota_notification_mail_insert: String,
    pub(crate) allow_access_for_unsupported_platform: bool,
    pub(crate) allow_rms_support_for_unenlightened_apps: bool,
    pub(crate) enable_mobile_mailbox_policy_when_ca_inplace: bool,
    pub(crate) is_intune_managed: bool,
    pub(crate) when_created: DateTime<Utc>,
    pub(crate) when_changed: DateTime<Utc>,
}

/// A user mailbox.
#[derive(Clone, Debug)]
pub(crate) struct Mailbox {
    /// Also the mailbox `Name` used in device identities.
    pub(crate) alias: String,
    pub(crate) display_name: String,
    pub(crate) upn: String,
    pub(crate) guid: Uuid,
    pub(crate) when_created: DateTime<Utc>,
}

/// One mobile device partnership. Catalog values are `&'static str`/`Arc<str>` to keep 100k
/// devices small.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    /// Creation sequence: the stable order of `Get-MobileDevice` and the paging key.
    pub(crate) seq: u64,
    pub(crate) mailbox: usize,
    pub(crate) guid: Uuid,
    pub(crate) device_id: Box<str>,
    pub(crate) device_type: &'static str,
    pub(crate) model: &'static str,
    pub(crate) friendly_name: &'static str,
    pub(crate) device_os: &'static str,
    pub(crate) os_language: &'static str,
    pub(crate) user_agent: Arc<str>,
    pub(crate) imei: Option<Box<str>>,
    pub(crate) operator: Option<&'static str>,
    pub(crate) phone: Option<Box<str>>,
    pub(crate) client_type: ClientType,
    pub(crate) client_version: &'static str,
    pub(crate) access_state: AccessState,
    pub(crate) access_reason: AccessReason,
    pub(crate) access_rule: Option<Arc<str>>,
    pub(crate) is_managed: bool,
    pub(crate) is_compliant: bool,
    pub(crate) is_disabled: bool,
    pub(crate) first_sync: DateTime<Utc>,
    pub(crate) when_created: DateTime<Utc>,
    pub(crate) when_changed: DateTime<Utc>,
}

impl Device {
    /// The directory `Name`: `<DeviceType>§<DeviceId>`.
    pub(crate) fn name(&self) -> String {
        format!("{}\u{a7}{}", self.device_type, self.device_id)
    }
}

/// The whole simulated tenant.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub(crate) org: Org,
    pub(crate) settings: OrgSettings,
    mailboxes: Vec<Mailbox>,
    devices: BTreeMap<u64, Device>,
    by_mailbox: Vec<BTreeSet<u64>>,
    by_guid: HashMap<Uuid, u64>,
    mailbox_names: HashMap<String, usize>,
    next_seq: u64,
}

impl Tenant {
    pub(crate) fn new(org: Org, settings: OrgSettings, mailboxes: Vec<Mailbox>) -> Self {
        let mut mailbox_names = HashMap::with_capacity(mailboxes.len() * 4);
        for (i, m) in mailboxes.iter().enumerate() {
            for key in [&m.alias, &m.upn, &m.display_name, &m.guid.to_string()] {
                mailbox_names.entry(key.to_lowercase()).or_insert(i);
            }
        }
        Self {
            org,
            settings,
            by_mailbox: vec![BTreeSet::new(); mailboxes.len()],
            mailboxes,
            devices: BTreeMap::new(),
            by_guid: HashMap::new(),
            mailbox_names,
            next_seq: 1,
        }
    }

    pub(crate) fn mailboxes(&self) -> &[Mailbox] {
        &self.mailboxes
    }

    pub(crate) fn mailbox(&self, index: usize) -> Option<&Mailbox> {
        self.mailboxes.get(index)
    }

    /// Adds a device (its `seq` is assigned here) and returns that sequence number.
    pub(crate) fn insert_device(&mut self, mut device: Device) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        device.seq = seq;
        if let Some(set) = self.by_mailbox.get_mut(device.mailbox) {
            set.insert(seq);
        }
        self.by_guid.insert(device.guid, seq);
        self.devices.insert(seq, device);
        seq
    }

    pub(crate) fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// All devices in creation order, starting after the paging key `after`.
    pub(crate) fn devices_after(&self, after: Option<u64>) -> impl Iterator<Item = &Device> + '_ {
        let start = after.map_or(0, |a| a.saturating_add(1));
        self.devices.range(start..).map(|(_, d)| d)
    }

    /// One mailbox's devices in creation order, starting after the paging key `after`.
    pub(crate) fn mailbox_devices_after(
        &self,
        mailbox: usize,
        after: Option<u64>,
    ) -> impl Iterator<Item = &Device> + '_ {
        let start = after.map_or(0, |a| a.saturating_add(1));
        self.by_mailbox
            .get(mailbox)
            .into_iter()
            .flat_map(move |set| set.range(start..))
            .filter_map(|seq| self.devices.get(seq))
    }

    /// Resolves a mailbox identity: alias, UPN/SMTP address, display name or GUID (any case).
    pub(crate) fn find_mailbox(&self, identity: &str) -> Option<usize> {
        self.mailbox_names
            .get(&identity.trim().to_lowercase())
            .copied()
    }

    /// Resolves a device identity: its GUID, or `<mailbox>\ExchangeActiveSyncDevices\<name>`
    /// (where `<mailbox>` is anything [`Tenant::find_mailbox`] accepts).
    pub(crate) fn find_device(&self, identity: &str) -> Option<&Device> {
        let identity = identity.trim();
        if let Ok(guid) = Uuid::parse_str(identity) {
            return self
                .by_guid
                .get(&guid)
                .and_then(|seq| self.devices.get(seq));
        }
        let mut parts = identity.split('\\');
        let (Some(mbx), Some(container), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if !container.eq_ignore_ascii_case("ExchangeActiveSyncDevices") {
            return None;
        }
        let mailbox = self.find_mailbox(mbx)?;
        self.mailbox_devices_after(mailbox, None)
            .find(|d| d.name().eq_ignore_ascii_case(name))
    }

    /// `Identity` of a device: `<mailbox alias>\ExchangeActiveSyncDevices\<name>`.
    pub(crate) fn device_identity(&self, device: &Device) -> String {
        let mbx = self
            .mailboxes
            .get(device.mailbox)
            .map_or("", |m| m.alias.as_str());
        format!("{mbx}\\ExchangeActiveSyncDevices\\{}", device.name())
    }

    /// `DistinguishedName` of a device.
    pub(crate) fn device_dn(&self, device: &Device) -> String {
        let mbx = self
            .mailboxes
            .get(device.mailbox)
            .map_or("", |m| m.alias.as_str());
        format!(
            "CN={},CN=ExchangeActiveSyncDevices,CN={mbx},{}",
            device.name(),
            self.org.dn_suffix()
        )
    }
}
