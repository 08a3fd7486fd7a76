//! The simulated tenant: organization, mailboxes, mobile devices, ActiveSync settings, mailbox
//! policies, device access rules and device classes, kept in memory with the indexes the cmdlets
//! need (by mailbox, by GUID) so a page is served without scanning or cloning the whole tenant.

mod access;
mod classes;
mod device;
mod enums;
mod policy;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub(crate) use access::{decide, Decision, Rule};
pub(crate) use classes::{Classes, DeviceClass};
pub(crate) use device::{Device, SyncProfile, Wipe};
pub(crate) use enums::{
    AccessLevel, AccessReason, AccessState, Bluetooth, Characteristic, ClientType, EmailAge,
    PolicyStatus, WipeStatus,
};
pub(crate) use policy::{parse_timespan, unlimited_timespan, MailboxPolicy, DEFAULT_POLICY_NAME};

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
    /// Undocumented enum; empty (`None`) for most tenants.
    pub(crate) tenant_admin_preference: Option<String>,
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
    /// GUID of the assigned mobile device mailbox policy; `None` follows the default policy.
    pub(crate) policy: Option<Uuid>,
    /// `ActiveSyncEnabled`. Stored and reported only: it does not change device access states.
    pub(crate) active_sync_enabled: bool,
    /// `ActiveSyncAllowedDeviceIDs`: `DeviceId`s this mailbox allows (spec §9 step 2).
    pub(crate) allowed_device_ids: Vec<String>,
    /// `ActiveSyncBlockedDeviceIDs`: `DeviceId`s this mailbox blocks (step 1: wins over the
    /// allowed list).
    pub(crate) blocked_device_ids: Vec<String>,
    /// `WhenChanged` of the mailbox: moves when its client access settings change.
    pub(crate) when_changed: DateTime<Utc>,
}

impl Mailbox {
    /// Whether `device_id` is on the blocked list (device ids compare case-insensitively).
    pub(crate) fn blocks(&self, device_id: &str) -> bool {
        self.blocked_device_ids
            .iter()
            .any(|x| x.eq_ignore_ascii_case(device_id))
    }

    /// Whether `device_id` is on the allowed list.
    pub(crate) fn allows(&self, device_id: &str) -> bool {
        self.allowed_device_ids
            .iter()
            .any(|x| x.eq_ignore_ascii_case(device_id))
    }

    /// Puts `device_id` on the allowed (`Some(true)`) or blocked (`Some(false)`) list and takes it
    /// off the other one, or (`None`) takes it off both.
    pub(crate) fn list_device(&mut self, device_id: &str, allow: Option<bool>) {
        self.allowed_device_ids
            .retain(|x| !x.eq_ignore_ascii_case(device_id));
        self.blocked_device_ids
            .retain(|x| !x.eq_ignore_ascii_case(device_id));
        match allow {
            Some(true) => self.allowed_device_ids.push(device_id.to_owned()),
            Some(false) => self.blocked_device_ids.push(device_id.to_owned()),
            None => {}
        }
    }
}

/// Shares repeated strings (user agents, rule names) so 100k devices hold a few dozen copies.
#[derive(Debug, Default)]
pub(crate) struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.to_owned(), a.clone());
        a
    }
}

/// The whole simulated tenant.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub(crate) org: Org,
    pub(crate) settings: OrgSettings,
    /// Mailbox policies in creation order; exactly one has `is_default` (when any exist).
    pub(crate) policies: Vec<MailboxPolicy>,
    /// Device access rules in creation order.
    pub(crate) rules: Vec<Rule>,
    pub(crate) classes: Classes,
    pub(crate) interner: Interner,
    /// The generator seed (churn draws from streams derived from it).
    pub(crate) seed: u64,
    /// The clock reading the tenant was generated at; churn ticks count from here.
    pub(crate) epoch: DateTime<Utc>,
    /// Churn ticks already applied since `epoch`.
    pub(crate) churn_ticks: u64,
    mailboxes: Vec<Mailbox>,
    devices: BTreeMap<u64, Device>,
    by_mailbox: Vec<BTreeSet<u64>>,
    by_guid: HashMap<Uuid, u64>,
    mailbox_names: HashMap<String, usize>,
    next_seq: u64,
    next_key: u64,
}

impl Tenant {
    pub(crate) fn new(
        org: Org,
        settings: OrgSettings,
        mailboxes: Vec<Mailbox>,
        seed: u64,
        epoch: DateTime<Utc>,
    ) -> Self {
        let mut mailbox_names = HashMap::with_capacity(mailboxes.len() * 4);
        for (i, m) in mailboxes.iter().enumerate() {
            for key in [&m.alias, &m.upn, &m.display_name, &m.guid.to_string()] {
                mailbox_names.entry(key.to_lowercase()).or_insert(i);
            }
        }
        Self {
            org,
            settings,
            policies: Vec::new(),
            rules: Vec::new(),
            classes: Classes::new(seed),
            interner: Interner::default(),
            seed,
            epoch,
            churn_ticks: 0,
            by_mailbox: vec![BTreeSet::new(); mailboxes.len()],
            mailboxes,
            devices: BTreeMap::new(),
            by_guid: HashMap::new(),
            mailbox_names,
            next_seq: 1,
            next_key: 1,
        }
    }

    /// A fresh paging key for a policy or rule (increasing, never reused).
    pub(crate) fn next_key(&mut self) -> u64 {
        let k = self.next_key;
        self.next_key += 1;
        k
    }

    pub(crate) fn mailboxes(&self) -> &[Mailbox] {
        &self.mailboxes
    }

    pub(crate) fn mailbox(&self, index: usize) -> Option<&Mailbox> {
        self.mailboxes.get(index)
    }

    pub(crate) fn mailboxes_mut(&mut self) -> &mut [Mailbox] {
        &mut self.mailboxes
    }

    /// Whether the mailbox has any device partnership (`HasActiveSyncDevicePartnership`).
    pub(crate) fn mailbox_has_devices(&self, index: usize) -> bool {
        self.by_mailbox
            .get(index)
            .is_some_and(|set| !set.is_empty())
    }

    /// The policy marked default, if any.
    pub(crate) fn default_policy(&self) -> Option<&MailboxPolicy> {
        self.policies.iter().find(|p| p.is_default)
    }

    /// The policy that applies to a mailbox: its own, else the default.
    pub(crate) fn mailbox_policy(&self, index: usize) -> Option<&MailboxPolicy> {
        self.mailbox(index)
            .and_then(|m| m.policy)
            .and_then(|g| self.policies.iter().find(|p| p.guid == g))
            .or_else(|| self.default_policy())
    }

    /// Adds a device (its `seq` is assigned here) and returns that sequence number.
    pub(crate) fn insert_device(&mut self, mut device: Device) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        device.seq = seq;
        if let Some(set) = self.by_mailbox.get_mut(device.mailbox) {
            set.insert(seq);
        }
        self.classes
            .seen(device.device_type, device.model, device.when_created);
        self.by_guid.insert(device.guid, seq);
        self.devices.insert(seq, device);
        seq
    }

    /// Removes the device with this GUID and returns it.
    pub(crate) fn remove_device(&mut self, guid: &Uuid) -> Option<Device> {
        let seq = self.by_guid.remove(guid)?;
        let device = self.devices.remove(&seq)?;
        if let Some(set) = self.by_mailbox.get_mut(device.mailbox) {
            set.remove(&seq);
        }
        Some(device)
    }

    pub(crate) fn device(&self, guid: &Uuid) -> Option<&Device> {
        self.by_guid.get(guid).and_then(|seq| self.devices.get(seq))
    }

    /// The device with this GUID, to change in place. Callers must not change its `seq`, `guid`
    /// or `mailbox` (the indexes are keyed on them).
    pub(crate) fn device_mut(&mut self, guid: &Uuid) -> Option<&mut Device> {
        let seq = self.by_guid.get(guid)?;
        self.devices.get_mut(seq)
    }

    /// The first device whose sequence number is `seq` or later (for picking devices at random).
    pub(crate) fn device_from(&self, seq: u64) -> Option<&Device> {
        self.devices
            .range(seq..)
            .next()
            .or_else(|| self.devices.iter().next())
            .map(|(_, d)| d)
    }

    /// The next sequence number a device would get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
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

    /// What Exchange decides for `device` now (spec §9): its mailbox's blocked list, then its
    /// allowed list, then the rules, then the default level. Exemptions are not looked at.
    pub(crate) fn decision(&self, device: &Device) -> Decision {
        access::evaluate(
            self.mailboxes.get(device.mailbox),
            &self.rules,
            self.settings.default_access_level,
            device,
        )
    }

    /// Re-decides the access state of every device that is not exempt (see
    /// [`Device::exempt_from_rules`]) from the personal lists, the rules and the default level;
    /// returns the GUIDs of the devices that changed (their `WhenChanged` is now `now`).
    pub(crate) fn reevaluate(&mut self, now: DateTime<Utc>) -> Vec<Uuid> {
        let default = self.settings.default_access_level;
        let (rules, mailboxes) = (&self.rules, &self.mailboxes);
        let mut changed = Vec::new();
        for d in self.devices.values_mut() {
            if d.exempt_from_rules() {
                continue;
            }
            let decision = access::evaluate(mailboxes.get(d.mailbox), rules, default, d);
            if access::apply(d, decision, now) {
                changed.push(d.guid);
            }
        }
        changed
    }

    /// [`Tenant::reevaluate`] for the devices of one mailbox (after its personal lists changed).
    pub(crate) fn reevaluate_mailbox(&mut self, mailbox: usize, now: DateTime<Utc>) -> Vec<Uuid> {
        let default = self.settings.default_access_level;
        let (rules, owner) = (&self.rules, self.mailboxes.get(mailbox));
        let mut changed = Vec::new();
        for seq in self.by_mailbox.get(mailbox).into_iter().flatten() {
            let Some(d) = self.devices.get_mut(seq) else {
                continue;
            };
            if d.exempt_from_rules() {
                continue;
            }
            let decision = access::evaluate(owner, rules, default, d);
            if access::apply(d, decision, now) {
                changed.push(d.guid);
            }
        }
        changed
    }

    /// Applies the personal lists, the rules and the default level to one device (unless it is
    /// exempt); returns whether it changed.
    pub(crate) fn reevaluate_one(&mut self, guid: &Uuid, now: DateTime<Utc>) -> bool {
        let default = self.settings.default_access_level;
        let Some(seq) = self.by_guid.get(guid) else {
            return false;
        };
        let Some(d) = self.devices.get_mut(seq) else {
            return false;
        };
        if d.exempt_from_rules() {
            return false;
        }
        let decision = access::evaluate(self.mailboxes.get(d.mailbox), &self.rules, default, d);
        access::apply(d, decision, now)
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
