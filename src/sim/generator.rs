//! Deterministic demo tenant: the same seed, sizes and clock give the same tenant, byte for byte.
//! Every part draws from its own labelled PRNG stream so that tuning one part (say, device mix)
//! does not reshuffle the others (say, people's names).

pub(crate) mod churn;
pub(crate) mod devices;
mod objects;

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::catalog::{FIRST_NAMES, LAST_NAMES};
use super::rng::SplitMix64;
use super::tenant::{
    decide, AccessLevel, AccessReason, AccessState, ClientType, Device, Interner, Mailbox, Org,
    OrgSettings, PolicyStatus, Tenant,
};
use super::SimConfig;

const DAY: i64 = 86_400;

/// Builds the demo tenant for `config`, with every generated time before `now`: mailboxes,
/// organization settings, mailbox policies, device access rules, and devices whose access states
/// agree with those rules (see `tenant::access` for the precedence).
pub(crate) fn generate(config: &SimConfig, now: DateTime<Utc>) -> Tenant {
    let org = org(config);
    let mailboxes = mailboxes(config, now);
    let settings = settings(config, &mailboxes, now);
    let mut tenant = Tenant::new(org, settings, mailboxes, config.seed, now);
    objects::policies(config.seed, &mut tenant, now);
    objects::rules(config.seed, &mut tenant, now);
    let mut interner = Interner::default();
    for device in all_devices(config, &tenant, &mut interner, now) {
        tenant.insert_device(device);
    }
    tenant.interner = interner;
    list_individual_devices(&mut tenant);
    tenant
}

/// Puts every device whose access reason is `Individual` on its mailbox's allowed or blocked
/// list, so the lists and the states agree (`Get-CASMailbox` shows what decided them).
fn list_individual_devices(tenant: &mut Tenant) {
    let listed: Vec<(usize, Box<str>, bool, DateTime<Utc>)> = tenant
        .devices_after(None)
        .filter(|d| d.access_reason == AccessReason::Individual)
        .map(|d| {
            let allow = d.access_state == AccessState::Allowed;
            (d.mailbox, d.device_id.clone(), allow, d.access_since)
        })
        .collect();
    for (mailbox, device_id, allow, since) in listed {
        if let Some(m) = tenant.mailboxes_mut().get_mut(mailbox) {
            m.list_device(&device_id, Some(allow));
            m.when_changed = m.when_changed.max(since);
        }
    }
}

fn org(config: &SimConfig) -> Org {
    let mut rng = SplitMix64::derive(config.seed, "org");
    let pod = 1 + rng.below(9);
    let server = 1000 + rng.below(9000);
    Org {
        tenant_id: config.tenant_id.clone(),
        domain: config.tenant_domain.clone(),
        organization: config.organization.clone(),
        forest: "EURPR01A001.prod.outlook.com".to_owned(),
        be_target: format!("AM0PR0{pod}MB{server}.eurprd0{pod}.prod.exchangelabs.com"),
        domain_controller: format!(
            "AM0PR0{pod}A001DC0{}.EURPR01A001.prod.outlook.com",
            1 + rng.below(8)
        ),
    }
}

pub(crate) fn seconds_ago(
    rng: &mut SplitMix64,
    now: DateTime<Utc>,
    min_days: i64,
    max_days: i64,
) -> DateTime<Utc> {
    let span = u64::try_from((max_days - min_days) * DAY).unwrap_or(0);
    now - Duration::seconds(min_days * DAY + rng.below(span) as i64)
}

fn mailboxes(config: &SimConfig, now: DateTime<Utc>) -> Vec<Mailbox> {
    let mut rng = SplitMix64::derive(config.seed, "mailboxes");
    let mut taken: HashSet<String> = HashSet::with_capacity(config.mailboxes);
    let mut out = Vec::with_capacity(config.mailboxes);
    for _ in 0..config.mailboxes {
        let first = rng.pick(FIRST_NAMES).copied().unwrap_or("User");
        let last = rng.pick(LAST_NAMES).copied().unwrap_or("Demo");
        let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
        let mut alias = base.clone();
        let mut n = 2;
        while !taken.insert(alias.clone()) {
            alias = format!("{base}{n}");
            n += 1;
        }
        let guid = rng.guid();
        let when_created = seconds_ago(&mut rng, now, 760, 1500);
        out.push(Mailbox {
            upn: format!("{alias}@{}", config.tenant_domain),
            alias,
            display_name: format!("{first} {last}"),
            guid,
            when_created,
            policy: None,
            active_sync_enabled: true,
            allowed_device_ids: Vec::new(),
            blocked_device_ids: Vec::new(),
            when_changed: when_created,
        });
    }
    out
}

fn settings(config: &SimConfig, mailboxes: &[Mailbox], now: DateTime<Utc>) -> OrgSettings {
    let mut rng = SplitMix64::derive(config.seed, "settings");
    let admins: Vec<String> = match mailboxes.first() {
        Some(m) => vec![
            m.upn.clone(),
            format!("mobile-admins@{}", config.tenant_domain),
        ],
        None => vec![format!("admin@{}", config.tenant_domain)],
    };
    OrgSettings {
        guid: rng.guid(),
        default_access_level: AccessLevel::Allow,
        admin_mail_recipients: admins,
        user_mail_insert: String::new(),
        ota_notification_mail_insert: String::new(),
        allow_access_for_unsupported_platform: false,
        allow_rms_support_for_unenlightened_apps: false,
        enable_mobile_mailbox_policy_when_ca_inplace: false,
        is_intune_managed: false,
        tenant_admin_preference: None,
        when_created: seconds_ago(&mut rng, now, 1500, 1600),
        when_changed: seconds_ago(&mut rng, now, 10, 200),
    }
}

/// Which mailboxes own the devices: a subset of "mobile users" (about 85% at most), each with at
/// least one device, the rest handed out with a skew so a few people have three or four.
pub(crate) fn owners(rng: &mut SplitMix64, mailboxes: usize, devices: usize) -> Vec<usize> {
    if mailboxes == 0 || devices == 0 {
        return Vec::new();
    }
    let cap = (mailboxes * 85).div_ceil(100).max(1);
    let users = devices
        .div_ceil(3)
        .max(devices * 2 / 3)
        .clamp(1, cap)
        .min(devices);
    let mut order: Vec<usize> = (0..mailboxes).collect();
    for i in (1..order.len()).rev() {
        let j = rng.index(i + 1);
        order.swap(i, j);
    }
    order.truncate(users);
    (0..devices)
        .map(|d| {
            if d < users {
                order[d]
            } else {
                let u = rng.unit();
                order[((u * u) * users as f64) as usize % users]
            }
        })
        .collect()
}

/// Access at generation time: a few devices on personal lists, refused by policy, managed by
/// Intune or still in discovery; the rest as the rules and default level decide.
fn initial_access(rng: &mut SplitMix64, tenant: &Tenant, d: &mut Device, now: DateTime<Utc>) {
    let lived = (now - d.first_sync).num_seconds().max(1) as u64;
    let mut since = d.first_sync + Duration::seconds(rng.below(lived) as i64);
    match rng.weighted(&[918, 20, 15, 8, 30, 9]) {
        1 => (d.access_state, d.access_reason) = (AccessState::Allowed, AccessReason::Individual),
        2 => (d.access_state, d.access_reason) = (AccessState::Blocked, AccessReason::Individual),
        3 if d.client_type == ClientType::Eas => {
            (d.access_state, d.access_reason) = (AccessState::Blocked, AccessReason::Policy);
            d.sync.policy_status = PolicyStatus::NotApplied;
        }
        4 if d.is_managed => {
            d.access_state = if d.is_compliant {
                AccessState::Allowed
            } else {
                AccessState::Blocked
            };
            d.access_reason = AccessReason::ExternallyManaged;
            d.sync.policy_status = PolicyStatus::ExternallyManaged;
        }
        5 => {
            (d.access_state, d.access_reason) =
                (AccessState::DeviceDiscovery, AccessReason::Global);
            d.sync.policy_status = PolicyStatus::Unknown;
        }
        _ => {
            let decision = decide(&tenant.rules, tenant.settings.default_access_level, d);
            since = match &decision.rule {
                Some(name) => tenant
                    .rules
                    .iter()
                    .find(|r| r.name == *name)
                    .map_or(d.first_sync, |r| r.when_changed.max(d.first_sync)),
                None => d.first_sync,
            };
            d.access_state = decision.state;
            d.access_reason = decision.reason;
            d.access_rule = decision.rule;
        }
    }
    d.access_since = since.min(now);
    if d.access_state != AccessState::Allowed || d.access_reason != AccessReason::Global {
        d.when_changed = d.when_changed.max(d.access_since);
    }
}

fn all_devices(
    config: &SimConfig,
    tenant: &Tenant,
    interner: &mut Interner,
    now: DateTime<Utc>,
) -> Vec<Device> {
    let mut rng = SplitMix64::derive(config.seed, "devices");
    let mailboxes = tenant.mailboxes();
    let owners = owners(&mut rng, mailboxes.len(), config.devices);
    let admin = tenant
        .settings
        .admin_mail_recipients
        .first()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::with_capacity(owners.len());
    for owner in owners {
        let profile = devices::pick_profile(&mut rng);
        // First sync within the last two years, but after the mailbox existed.
        let mailbox_created = mailboxes
            .get(owner)
            .map_or(now - Duration::days(800), |m| m.when_created);
        let first_sync =
            seconds_ago(&mut rng, now, 1, 730).max(mailbox_created + Duration::hours(1));
        let Some(mut d) = devices::make_device(&mut rng, interner, profile, owner, first_sync, now)
        else {
            continue;
        };
        initial_access(&mut rng, tenant, &mut d, now);
        devices::add_history(&mut rng, &mut d, &admin, now);
        out.push(d);
    }
    // Creation order is the stable order Get-MobileDevice pages through.
    out.sort_by(|a, b| {
        a.when_created
            .cmp(&b.when_created)
            .then(a.guid.cmp(&b.guid))
    });
    out
}

#[cfg(test)]
mod tests;
