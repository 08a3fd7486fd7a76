//! The tenant's configuration objects: mailbox policies (the built-in Default plus a few extra
//! ones assigned to some mailboxes) and a few device access rules.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::seconds_ago;
use crate::sim::rng::SplitMix64;
use crate::sim::tenant::{
    AccessLevel, Bluetooth, Characteristic, EmailAge, MailboxPolicy, Rule, Tenant,
    DEFAULT_POLICY_NAME,
};

/// An extra policy: its name and how it differs from the defaults.
struct Template {
    name: &'static str,
    apply: fn(&mut MailboxPolicy),
}

const TEMPLATES: &[Template] = &[
    Template {
        name: "Executives",
        apply: |p| {
            p.password_enabled = true;
            p.allow_simple_password = false;
            p.min_password_length = Some(6);
            p.max_password_failed_attempts = Some(10);
            p.max_inactivity_time_lock = Some(300);
            p.require_device_encryption = true;
            p.device_encryption_enabled = true;
        },
    },
    Template {
        name: "Contractors",
        apply: |p| {
            p.password_enabled = true;
            p.alphanumeric_password_required = true;
            p.allow_simple_password = false;
            p.min_password_length = Some(8);
            p.min_password_complex_characters = 3;
            p.password_expiration = Some(90 * 86_400);
            p.password_history = 5;
            p.allow_storage_card = false;
            p.max_email_age_filter = EmailAge::TwoWeeks;
        },
    },
    Template {
        name: "Shared kiosk devices",
        apply: |p| {
            p.allow_camera = false;
            p.allow_bluetooth = Bluetooth::Disable;
            p.attachments_enabled = false;
            p.allow_non_provisionable_devices = false;
            p.max_email_age_filter = EmailAge::ThreeDays;
            p.device_policy_refresh_interval = Some(3_600);
        },
    },
    Template {
        name: "Field staff",
        apply: |p| {
            p.password_enabled = true;
            p.min_password_length = Some(4);
            p.max_password_failed_attempts = Some(8);
            p.max_inactivity_time_lock = Some(900);
            p.max_email_age_filter = EmailAge::OneMonth;
        },
    },
];

/// Adds the Default policy and one to three extra ones; about 15% of mailboxes get an extra one.
pub(super) fn policies(seed: u64, tenant: &mut Tenant, now: DateTime<Utc>) {
    let mut rng = SplitMix64::derive(seed, "policies");
    let key = tenant.next_key();
    let created = tenant.settings.when_created;
    let mut default =
        MailboxPolicy::with_defaults(key, rng.guid(), DEFAULT_POLICY_NAME.to_owned(), created);
    default.is_default = true;
    default.when_changed = seconds_ago(&mut rng, now, 300, 900).max(created);
    tenant.policies.push(default);
    let extra = 1 + rng.index(3);
    let start = rng.index(TEMPLATES.len());
    for i in 0..extra {
        let Some(t) = TEMPLATES.get((start + i) % TEMPLATES.len()) else {
            continue;
        };
        let key = tenant.next_key();
        let when = seconds_ago(&mut rng, now, 100, 700);
        let mut p = MailboxPolicy::with_defaults(key, rng.guid(), t.name.to_owned(), when);
        (t.apply)(&mut p);
        p.when_changed = seconds_ago(&mut rng, now, 1, 99).max(when);
        tenant.policies.push(p);
    }
    let extras: Vec<uuid::Uuid> = tenant.policies.iter().skip(1).map(|p| p.guid).collect();
    for m in tenant.mailboxes_mut() {
        if !extras.is_empty() && rng.chance(0.15) {
            m.policy = extras.get(rng.index(extras.len())).copied();
        }
    }
}

type RuleSpec = (&'static str, Characteristic, AccessLevel);

/// Pairs of rules an admin sets up together: a broad rule and an exception to it on a
/// characteristic Exchange looks at first (see `tenant::access`), so the exception wins even
/// where it is the more lenient one.
const PAIRS: &[[RuleSpec; 2]] = &[
    // Block generic Android mail apps, but allow the approved Nine client.
    [
        ("Android", Characteristic::DeviceType, AccessLevel::Block),
        ("Nine/4.9.4a", Characteristic::UserAgent, AccessLevel::Allow),
    ],
    // Quarantine iPads, except the model the company hands out.
    [
        ("iPad", Characteristic::DeviceType, AccessLevel::Quarantine),
        ("iPad13C18", Characteristic::DeviceModel, AccessLevel::Allow),
    ],
    // Block Windows Mail, except on the company's Surface devices.
    [
        (
            "WindowsMail",
            Characteristic::DeviceType,
            AccessLevel::Block,
        ),
        (
            "Surface Pro 9",
            Characteristic::DeviceModel,
            AccessLevel::Allow,
        ),
    ],
];

/// Single rules a tenant might have, all matching something in the catalog and none repeating a
/// rule of [`PAIRS`]. Every two neighbours (cyclically) hold a Quarantine rule that covers a good
/// share of devices, so the demo tenant always shows quarantined devices.
const SINGLES: &[RuleSpec] = &[
    (
        "iPhone12C1",
        Characteristic::DeviceModel,
        AccessLevel::Quarantine,
    ),
    (
        "Android/10-EAS-2.0",
        Characteristic::UserAgent,
        AccessLevel::Block,
    ),
    (
        "iOS 17.5.1 21F90",
        Characteristic::DeviceOs,
        AccessLevel::Quarantine,
    ),
    (
        "iOS 16.7.10 20H350",
        Characteristic::DeviceOs,
        AccessLevel::Block,
    ),
];

/// Adds "Outlook for iOS and Android (DeviceModel)" = Allow, one of [`PAIRS`] and two neighbours
/// of [`SINGLES`]: rules of at least two characteristics decide devices, and some devices match
/// rules of two characteristics (so the order of `tenant::access` shows).
pub(super) fn rules(seed: u64, tenant: &mut Tenant, now: DateTime<Utc>) {
    let mut rng = SplitMix64::derive(seed, "rules");
    let mut chosen = vec![(
        "Outlook for iOS and Android",
        Characteristic::DeviceModel,
        AccessLevel::Allow,
    )];
    if let Some(pair) = rng.pick(PAIRS) {
        chosen.extend(pair.iter().copied());
    }
    let start = rng.index(SINGLES.len());
    chosen.extend((0..2).filter_map(|i| SINGLES.get((start + i) % SINGLES.len()).copied()));
    for (query, characteristic, level) in chosen {
        let key = tenant.next_key();
        let when_created = seconds_ago(&mut rng, now, 200, 700);
        tenant.rules.push(Rule {
            key,
            guid: rng.guid(),
            name: Arc::from(Rule::name_for(query, characteristic)),
            query_string: query.to_owned(),
            characteristic,
            access_level: level,
            when_created,
            when_changed: seconds_ago(&mut rng, now, 100, 199).max(when_created),
        });
    }
}
