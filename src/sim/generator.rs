//! Deterministic demo tenant: the same seed, sizes and clock give the same tenant, byte for byte.
//! Every part draws from its own labelled PRNG stream so that tuning one part (say, device mix)
//! does not reshuffle the others (say, people's names).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::catalog::{self, IdStyle, Profile, FIRST_NAMES, LAST_NAMES};
use super::rng::SplitMix64;
use super::tenant::{
    AccessLevel, AccessReason, AccessState, ClientType, Device, Mailbox, Org, OrgSettings, Tenant,
};
use super::SimConfig;

const DAY: i64 = 86_400;

/// Builds the demo tenant for `config`, with every generated time before `now`.
pub(crate) fn generate(config: &SimConfig, now: DateTime<Utc>) -> Tenant {
    let org = org(config);
    let mailboxes = mailboxes(config, now);
    let settings = settings(config, &mailboxes, now);
    let mut tenant = Tenant::new(org, settings, mailboxes);
    for device in devices(config, tenant.mailboxes(), now) {
        tenant.insert_device(device);
    }
    tenant
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

fn seconds_ago(
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
        out.push(Mailbox {
            upn: format!("{alias}@{}", config.tenant_domain),
            alias,
            display_name: format!("{first} {last}"),
            guid: rng.guid(),
            when_created: seconds_ago(&mut rng, now, 760, 1500),
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
        when_created: seconds_ago(&mut rng, now, 1500, 1600),
        when_changed: seconds_ago(&mut rng, now, 10, 200),
    }
}

/// Which mailboxes own the devices: a subset of "mobile users" (about 85% at most), each with at
/// least one device, the rest handed out with a skew so a few people have three or four.
fn owners(rng: &mut SplitMix64, mailboxes: usize, devices: usize) -> Vec<usize> {
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

fn device_id(rng: &mut SplitMix64, style: IdStyle) -> Box<str> {
    const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const UPPER_HEX: &[u8] = b"0123456789ABCDEF";
    const LOWER_HEX: &[u8] = b"0123456789abcdef";
    const DIGITS: &[u8] = b"0123456789";
    let id = match style {
        IdStyle::AppleUpper => rng.string_from(UPPER_ALNUM, 32),
        IdStyle::Samsung => format!("SEC{}", rng.string_from(UPPER_HEX, 13)),
        IdStyle::AndroidC => format!("androidc{}", rng.string_from(DIGITS, 10)),
        IdStyle::LowerHex => rng.string_from(LOWER_HEX, 32),
        IdStyle::UpperHex => rng.string_from(UPPER_HEX, 32),
    };
    id.into_boxed_str()
}

/// Access state, reason and rule name, in realistic proportions.
fn access(
    rng: &mut SplitMix64,
    profile: &Profile,
    device_type: &str,
    managed: bool,
) -> (AccessState, AccessReason, Option<String>) {
    let rule = || match profile.client_type {
        ClientType::Outlook => "Outlook for iOS and Android (DeviceModel)".to_owned(),
        _ => format!("{device_type} (DeviceType)"),
    };
    match rng.weighted(&[86, 5, 4, 3]) {
        0 => match rng.weighted(&[80, 6, 6, 4, 4]) {
            1 => (AccessState::Allowed, AccessReason::Individual, None),
            2 => (AccessState::Allowed, AccessReason::DeviceRule, Some(rule())),
            3 => (AccessState::Allowed, AccessReason::Policy, None),
            4 if managed => (AccessState::Allowed, AccessReason::ExternallyManaged, None),
            _ => (AccessState::Allowed, AccessReason::Global, None),
        },
        1 => match rng.weighted(&[60, 25, 15]) {
            0 => (
                AccessState::Quarantined,
                AccessReason::DeviceRule,
                Some(rule()),
            ),
            1 => (AccessState::Quarantined, AccessReason::Global, None),
            _ => (AccessState::Quarantined, AccessReason::Upgrade, None),
        },
        2 => match rng.weighted(&[40, 35, 25]) {
            0 => (AccessState::Blocked, AccessReason::Individual, None),
            1 => (AccessState::Blocked, AccessReason::DeviceRule, Some(rule())),
            _ => (AccessState::Blocked, AccessReason::Policy, None),
        },
        _ => (AccessState::DeviceDiscovery, AccessReason::Global, None),
    }
}

/// Interns repeated strings (user agents, rule names) so 100k devices share a few dozen copies.
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: String) -> Arc<str> {
        self.0
            .entry(s)
            .or_insert_with_key(|k| Arc::from(k.as_str()))
            .clone()
    }
}

fn devices(config: &SimConfig, mailboxes: &[Mailbox], now: DateTime<Utc>) -> Vec<Device> {
    let mut rng = SplitMix64::derive(config.seed, "devices");
    let owners = owners(&mut rng, mailboxes.len(), config.devices);
    let weights: Vec<u32> = catalog::PROFILES.iter().map(|p| p.weight).collect();
    let mut interner = Interner::default();
    let mut out = Vec::with_capacity(owners.len());
    for owner in owners {
        let Some(profile) = catalog::PROFILES.get(rng.weighted(&weights)) else {
            continue;
        };
        let variant_i = rng.index(profile.variants.len());
        // Newer OS builds (listed first) are more common.
        let build_weights: Vec<u32> = (0..profile.builds.len())
            .map(|i| (profile.builds.len() - i) as u32)
            .collect();
        let build_i = rng.weighted(&build_weights);
        let (Some(variant), Some(build)) =
            (profile.variants.get(variant_i), profile.builds.get(build_i))
        else {
            continue;
        };
        let version_weights: Vec<u32> = profile.client_versions.iter().map(|(_, w)| *w).collect();
        let client_version = profile
            .client_versions
            .get(rng.weighted(&version_weights))
            .map_or("16.1", |(v, _)| v);
        let ua_pick = rng.index(8);
        let user_agent = interner.get(catalog::user_agent(profile, variant, build, ua_pick));
        let is_managed = rng.chance(profile.managed_share);
        let is_compliant = is_managed && rng.chance(0.9);
        let is_disabled = rng.chance(0.02);
        let (access_state, access_reason, rule) =
            access(&mut rng, profile, variant.device_type, is_managed);
        let on_cell = profile.is_phone && profile.client_type == ClientType::Eas;
        let imei = (on_cell && rng.chance(0.5))
            .then(|| format!("35{}", rng.string_from(b"0123456789", 13)).into_boxed_str());
        let phone = (on_cell && rng.chance(0.3))
            .then(|| format!("+316{}", rng.string_from(b"0123456789", 8)).into_boxed_str());
        let operator = if on_cell && rng.chance(0.7) {
            rng.pick(catalog::OPERATORS).copied()
        } else {
            None
        };
        let os_language = rng.pick(catalog::OS_LANGUAGES).copied().unwrap_or("en-US");
        // First sync within the last two years, but after the mailbox existed.
        let mailbox_created = mailboxes
            .get(owner)
            .map_or(now - Duration::days(800), |m| m.when_created);
        let first_sync =
            seconds_ago(&mut rng, now, 1, 730).max(mailbox_created + Duration::hours(1));
        let when_created = first_sync - Duration::seconds(1 + rng.below(59) as i64);
        let age = (now - when_created).num_seconds().max(1) as f64;
        let u = rng.unit();
        let when_changed = (now - Duration::seconds((age * u * u) as i64)).max(when_created);
        out.push(Device {
            seq: 0,
            mailbox: owner,
            guid: rng.guid(),
            device_id: device_id(&mut rng, profile.id_style),
            device_type: variant.device_type,
            model: variant.model,
            friendly_name: variant.friendly,
            device_os: build.device_os,
            os_language,
            user_agent,
            imei,
            operator,
            phone,
            client_type: profile.client_type,
            client_version,
            access_state,
            access_reason,
            access_rule: rule.map(|r| interner.get(r)),
            is_managed,
            is_compliant,
            is_disabled,
            first_sync,
            when_created,
            when_changed,
        });
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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn config(seed: u64, mailboxes: usize, devices: usize) -> SimConfig {
        SimConfig {
            seed,
            mailboxes,
            devices,
            ..SimConfig::default()
        }
    }

    fn fixed_now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn fingerprint(t: &Tenant) -> Vec<String> {
        t.devices_after(None)
            .map(|d| {
                format!(
                    "{}|{}|{}|{}|{}|{}",
                    d.guid,
                    d.device_id,
                    d.mailbox,
                    d.user_agent,
                    d.access_state.as_str(),
                    d.when_created
                )
            })
            .collect()
    }

    #[test]
    fn same_seed_gives_the_same_tenant() {
        let a = generate(&config(42, 250, 400), fixed_now());
        let b = generate(&config(42, 250, 400), fixed_now());
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let names_a: Vec<&str> = a.mailboxes().iter().map(|m| m.upn.as_str()).collect();
        let names_b: Vec<&str> = b.mailboxes().iter().map(|m| m.upn.as_str()).collect();
        assert_eq!(names_a, names_b);
    }

    #[test]
    fn different_seed_gives_a_different_tenant() {
        let a = generate(&config(42, 250, 400), fixed_now());
        let b = generate(&config(43, 250, 400), fixed_now());
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn counts_are_honoured_and_upns_unique() {
        let t = generate(&config(7, 300, 1000), fixed_now());
        assert_eq!(t.mailboxes().len(), 300);
        assert_eq!(t.device_count(), 1000);
        let upns: HashSet<&str> = t.mailboxes().iter().map(|m| m.upn.as_str()).collect();
        assert_eq!(upns.len(), 300);
        assert!(t
            .mailboxes()
            .iter()
            .all(|m| m.upn.ends_with("@contoso-demo.onmicrosoft.com")));
        let empty = generate(&config(7, 0, 50), fixed_now());
        assert_eq!(
            empty.device_count(),
            0,
            "no mailboxes means nowhere to put devices"
        );
    }

    #[test]
    fn devices_spread_over_some_mailboxes_with_a_realistic_mix() {
        let now = fixed_now();
        let t = generate(&config(42, 250, 400), now);
        let mut per_mailbox = vec![0usize; 250];
        let mut states = HashMap::new();
        let mut types = HashSet::new();
        for d in t.devices_after(None) {
            per_mailbox[d.mailbox] += 1;
            *states.entry(d.access_state.as_str()).or_insert(0usize) += 1;
            types.insert(d.client_type.as_str());
            assert!(d.first_sync <= now && d.first_sync >= now - Duration::days(731));
            assert!(
                d.when_created <= d.first_sync
                    && d.when_changed >= d.when_created
                    && d.when_changed <= now
            );
            assert_eq!(
                d.access_rule.is_some(),
                d.access_reason == AccessReason::DeviceRule
            );
        }
        assert!(
            per_mailbox.iter().filter(|n| **n == 0).count() > 10,
            "some people have no device"
        );
        assert!(
            per_mailbox.iter().any(|n| *n >= 3),
            "some people have several devices"
        );
        assert!(states["Allowed"] > 300 && states.len() >= 3, "{states:?}");
        assert!(types.contains("EAS") && types.contains("Outlook"));
        let seqs: Vec<u64> = t.devices_after(None).map(|d| d.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn devices_are_found_by_guid_and_identity() {
        let t = generate(&config(42, 20, 30), fixed_now());
        let d = t
            .devices_after(None)
            .nth(5)
            .map(|d| (d.guid, t.device_identity(d)));
        let Some((guid, identity)) = d else {
            panic!("tenant has devices")
        };
        assert_eq!(t.find_device(&guid.to_string()).map(|d| d.guid), Some(guid));
        assert_eq!(
            t.find_device(&identity.to_uppercase()).map(|d| d.guid),
            Some(guid)
        );
        assert!(t
            .find_device("nobody\\ExchangeActiveSyncDevices\\x")
            .is_none());
        assert!(t.find_device("garbage").is_none());
    }
}
