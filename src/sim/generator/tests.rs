//! Tests of the demo tenant generator: determinism, sizes, and realistic contents.

use super::*;
use crate::sim::tenant::Characteristic;
use chrono::TimeZone;
use std::collections::HashMap;

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

/// Everything generated, in a comparable form (the tenant's own maps have no stable order).
fn fingerprint(t: &Tenant) -> Vec<String> {
    let mut out: Vec<String> = t.devices_after(None).map(|d| format!("{d:?}")).collect();
    out.extend(t.mailboxes().iter().map(|m| format!("{m:?}")));
    out.extend(t.policies.iter().map(|p| format!("{p:?}")));
    out.extend(t.rules.iter().map(|r| format!("{r:?}")));
    out.extend(t.classes.iter().map(|c| format!("{c:?}")));
    out.push(format!("{:?}{:?}", t.settings, t.org));
    out
}

#[test]
fn same_seed_gives_the_same_tenant() {
    let a = generate(&config(42, 250, 400), fixed_now());
    let b = generate(&config(42, 250, 400), fixed_now());
    assert_eq!(fingerprint(&a), fingerprint(&b));
    let later = generate(&config(42, 250, 400), fixed_now() + Duration::days(1));
    assert_ne!(fingerprint(&a), fingerprint(&later), "times follow `now`");
}

#[test]
fn generated_access_states_agree_with_the_lists_and_rules() {
    let t = generate(&config(11, 300, 1500), fixed_now());
    let mut by_rule = 0;
    for d in t.devices_after(None).filter(|d| !d.exempt_from_rules()) {
        let want = t.decision(d);
        assert_eq!(
            (d.access_state, d.access_reason, d.access_rule.clone()),
            (want.state, want.reason, want.rule),
            "{d:?}"
        );
        by_rule += usize::from(d.access_reason == AccessReason::DeviceRule);
    }
    assert!(by_rule > 100, "{by_rule}");
    assert!(t.rules.len() >= 3);
}

#[test]
fn the_tenant_has_realistic_clients_policies_classes_and_statistics() {
    let now = fixed_now();
    let t = generate(&config(3, 600, 2000), now);
    let versions: HashSet<&str> = t.devices_after(None).map(|d| d.client_version).collect();
    for v in ["14.1", "16.0", "16.1"] {
        assert!(versions.contains(v), "{versions:?}");
    }
    let types: HashSet<&str> = t
        .devices_after(None)
        .map(|d| d.client_type.as_str())
        .collect();
    for c in ["EAS", "Outlook", "REST"] {
        assert!(types.contains(c), "{types:?}");
    }
    let reasons: HashSet<&str> = t
        .devices_after(None)
        .map(|d| d.access_reason.as_str())
        .collect();
    for r in [
        "Global",
        "Individual",
        "DeviceRule",
        "Policy",
        "ExternallyManaged",
    ] {
        assert!(reasons.contains(r), "{reasons:?}");
    }
    assert!(t
        .devices_after(None)
        .any(|d| d.sync.dormant_since.is_some()));
    assert!(t.devices_after(None).any(|d| d.wipe.is_some()));
    for d in t.devices_after(None) {
        let last = d.last_success(now);
        assert!(last.is_none_or(|l| l >= d.first_sync && l <= now), "{d:?}");
        assert!(d.last_attempt(now) <= now && d.access_since <= now);
    }
    assert_eq!(t.policies.iter().filter(|p| p.is_default).count(), 1);
    assert!(t.policies.len() >= 2);
    assert!(t.mailboxes().iter().any(|m| m.policy.is_some()));
    let kinds: HashSet<(&str, &str)> = t
        .devices_after(None)
        .map(|d| (d.device_type, d.model))
        .collect();
    assert_eq!(t.classes.iter().count(), kinds.len());
}

#[test]
fn individually_decided_devices_are_on_their_mailboxs_lists() {
    let t = generate(&config(5, 300, 1500), fixed_now());
    let (mut allowed, mut blocked) = (0, 0);
    for d in t.devices_after(None) {
        let Some(m) = t.mailbox(d.mailbox) else {
            panic!("device without a mailbox: {d:?}")
        };
        if d.access_reason == AccessReason::Individual {
            match d.access_state {
                AccessState::Allowed => {
                    assert!(m.allows(&d.device_id) && !m.blocks(&d.device_id), "{d:?}");
                    allowed += 1;
                }
                AccessState::Blocked => {
                    assert!(m.blocks(&d.device_id), "{d:?}");
                    blocked += 1;
                }
                other => panic!("Individual device in state {other:?}"),
            }
        } else if !d.exempt_from_rules() {
            assert!(!m.allows(&d.device_id) && !m.blocks(&d.device_id), "{d:?}");
        }
    }
    assert!(allowed > 0 && blocked > 0, "{allowed} {blocked}");
    let listed: usize = t
        .mailboxes()
        .iter()
        .map(|m| m.allowed_device_ids.len() + m.blocked_device_ids.len())
        .sum();
    assert_eq!(listed, allowed + blocked, "only those devices are listed");
    assert!(t.mailboxes().iter().all(|m| m.active_sync_enabled));
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

/// `ClientVersion` as numbers, so "9.0" sorts below "16.1".
fn eas_version(v: &str) -> (u32, u32) {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn the_default_tenant_fills_every_bucket_of_a_readiness_page() {
    let now = fixed_now();
    let t = generate(&SimConfig::default(), now);
    let devices: Vec<&Device> = t.devices_after(None).collect();
    let count = |f: &dyn Fn(&Device) -> bool| devices.iter().filter(|d| f(d)).count();
    let mut states: HashMap<&str, usize> = HashMap::new();
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    let mut by_rule: HashMap<String, usize> = HashMap::new();
    for d in &devices {
        *states.entry(d.access_state.as_str()).or_default() += 1;
        *reasons.entry(d.access_reason.as_str()).or_default() += 1;
        if let Some(rule) = &d.access_rule {
            *by_rule.entry(rule.to_string()).or_default() += 1;
        }
    }
    let old_eas =
        count(&|d| d.client_type == ClientType::Eas && eas_version(d.client_version) < (16, 1));
    let outlook = count(&|d| d.client_type == ClientType::Outlook);
    let stale = |days: i64| {
        count(&|d| {
            d.last_success(now)
                .is_some_and(|l| now - l > Duration::days(days))
        })
    };
    let (over_30, over_90, over_180) = (stale(30), stale(90), stale(180));
    let never = count(&|d| d.last_success(now).is_none());
    eprintln!(
        "devices {}, states {states:?}, reasons {reasons:?}, rules {by_rule:?}, EAS < 16.1 \
         {old_eas}, Outlook {outlook}, last success > 30 days {over_30}, > 90 {over_90}, \
         > 180 {over_180}, never {never}",
        devices.len()
    );
    assert_eq!(devices.len(), SimConfig::default().devices);
    assert!(old_eas > 0 && outlook > 0);
    assert!(
        over_180 > 0 && over_90 > over_180 && over_30 > over_90,
        "every band of staleness is populated"
    );
    assert!(never > 0);
    for s in ["Allowed", "Blocked", "Quarantined", "DeviceDiscovery"] {
        assert!(states.get(s).is_some_and(|n| *n > 0), "{s}: {states:?}");
    }
    let characteristics: HashSet<Characteristic> = t
        .rules
        .iter()
        .filter(|r| by_rule.contains_key(&*r.name))
        .map(|r| r.characteristic)
        .collect();
    assert!(characteristics.len() >= 2, "{by_rule:?}");
}

#[test]
fn some_devices_match_rules_of_two_characteristics() {
    // Whatever the seed, the order of characteristics decides some device of the tenant.
    for seed in [42, 1, 2, 3] {
        let t = generate(&config(seed, 250, 400), fixed_now());
        let overlapping = t
            .devices_after(None)
            .filter(|d| {
                let kinds: HashSet<Characteristic> = t
                    .rules
                    .iter()
                    .filter(|r| r.matches(d))
                    .map(|r| r.characteristic)
                    .collect();
                kinds.len() >= 2
            })
            .count();
        assert!(overlapping > 0, "seed {seed}");
    }
}

#[test]
fn churn_keeps_the_personal_lists_and_the_access_states_in_step() {
    let now = fixed_now();
    let mut t = generate(&config(9, 80, 300), now);
    let rates = crate::sim::ChurnRates {
        added_per_hour: 20.0,
        changed_per_hour: 200.0,
        removed_per_hour: 5.0,
    };
    let report = churn::run(&mut t, &rates, now + Duration::hours(12));
    assert!(report.changed.len() > 100, "{}", report.changed.len());
    let mut listed = 0;
    for d in t.devices_after(None).filter(|d| !d.exempt_from_rules()) {
        let want = t.decision(d);
        assert_eq!(
            (d.access_state, d.access_reason, d.access_rule.clone()),
            (want.state, want.reason, want.rule),
            "{d:?}"
        );
        listed += usize::from(d.access_reason == AccessReason::Individual);
    }
    assert!(listed > 20, "{listed}");
}
