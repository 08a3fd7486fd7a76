//! Churn: what happens to the tenant as simulated time passes (see `clock` for the model). Each
//! tick's events come from a stream derived from the seed and the tick number only.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::devices;
use crate::sim::catalog::{self, UserAgent};
use crate::sim::clock::{ChurnRates, ChurnReport, TICK_SECS};
use crate::sim::rng::SplitMix64;
use crate::sim::tenant::{
    AccessReason, AccessState, ClientType, Device, Interner, PolicyStatus, Tenant, Wipe, WipeStatus,
};

/// Net effect of the events applied so far.
#[derive(Default)]
struct Log {
    added: BTreeSet<Uuid>,
    changed: BTreeSet<Uuid>,
    removed: BTreeMap<Uuid, usize>,
}

impl Log {
    fn change(&mut self, guid: Uuid) {
        if !self.added.contains(&guid) {
            self.changed.insert(guid);
        }
    }

    fn remove(&mut self, guid: Uuid, mailbox: usize) {
        if !self.added.remove(&guid) {
            self.changed.remove(&guid);
            self.removed.insert(guid, mailbox);
        }
    }
}

/// Applies every tick that ended at or before `now` and was not applied yet.
pub(crate) fn run(tenant: &mut Tenant, rates: &ChurnRates, now: DateTime<Utc>) -> ChurnReport {
    let done = tenant.churn_ticks;
    let target = u64::try_from((now - tenant.epoch).num_seconds().max(0) / TICK_SECS)
        .unwrap_or(0)
        .max(done);
    let mut log = Log::default();
    for k in done..target {
        tick(tenant, rates, k, &mut log);
    }
    tenant.churn_ticks = target;
    let at = |k: u64| tenant.epoch + Duration::seconds(k as i64 * TICK_SECS);
    let mut mailboxes = BTreeSet::new();
    for g in log.added.iter().chain(&log.changed) {
        if let Some(m) = tenant.device(g).and_then(|d| tenant.mailbox(d.mailbox)) {
            mailboxes.insert(m.upn.clone());
        }
    }
    for m in log.removed.values() {
        if let Some(m) = tenant.mailbox(*m) {
            mailboxes.insert(m.upn.clone());
        }
    }
    ChurnReport {
        from: at(done),
        to: at(target),
        added: log.added.into_iter().collect(),
        changed: log.changed.into_iter().collect(),
        removed: log.removed.into_keys().collect(),
        mailboxes: mailboxes.into_iter().collect(),
    }
}

/// Poisson-distributed count with mean `lambda` (normal approximation above 30).
fn poisson(rng: &mut SplitMix64, lambda: f64) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= rng.unit();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    let (u1, u2) = (rng.unit().max(1e-12), rng.unit());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (lambda + lambda.sqrt() * z).round().max(0.0) as u64
}

fn tick(tenant: &mut Tenant, rates: &ChurnRates, k: u64, log: &mut Log) {
    let start = tenant.epoch + Duration::seconds(k as i64 * TICK_SECS);
    let mut rng = SplitMix64::derive(tenant.seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15), "churn");
    let per_tick = TICK_SECS as f64 / 3600.0;
    let adds = poisson(&mut rng, rates.added_per_hour * per_tick);
    let changes = poisson(&mut rng, rates.changed_per_hour * per_tick);
    let removes = poisson(&mut rng, rates.removed_per_hour * per_tick);
    let when = |rng: &mut SplitMix64| start + Duration::seconds(rng.below(TICK_SECS as u64) as i64);
    for _ in 0..adds {
        let t = when(&mut rng);
        add(tenant, &mut rng, t, log);
    }
    for _ in 0..changes {
        let t = when(&mut rng);
        change(tenant, &mut rng, t, log);
    }
    for _ in 0..removes {
        remove(tenant, &mut rng, log);
    }
}

fn add(tenant: &mut Tenant, rng: &mut SplitMix64, t: DateTime<Utc>, log: &mut Log) {
    let n = tenant.mailboxes().len();
    if n == 0 {
        return;
    }
    let owner = rng.index(n);
    let profile = devices::pick_profile(rng);
    let mut interner = std::mem::take(&mut tenant.interner);
    let made = devices::make_device(rng, &mut interner, profile, owner, t, t);
    tenant.interner = interner;
    let Some(mut d) = made else {
        return;
    };
    let decision = tenant.decision(&d);
    d.access_state = decision.state;
    d.access_reason = decision.reason;
    d.access_rule = decision.rule;
    d.access_since = t;
    d.when_changed = t;
    let guid = d.guid;
    tenant.insert_device(d);
    log.added.insert(guid);
}

/// A device picked at random (uniform enough over sequence numbers).
fn pick(tenant: &Tenant, rng: &mut SplitMix64) -> Option<Uuid> {
    if tenant.device_count() == 0 {
        return None;
    }
    let seq = 1 + rng.below(tenant.next_seq().saturating_sub(1).max(1));
    tenant.device_from(seq).map(|d| d.guid)
}

fn change(tenant: &mut Tenant, rng: &mut SplitMix64, t: DateTime<Utc>, log: &mut Log) {
    let Some(guid) = pick(tenant, rng) else {
        return;
    };
    let admin = tenant
        .settings
        .admin_mail_recipients
        .first()
        .cloned()
        .unwrap_or_default();
    let Some((mailbox, device_id)) = tenant
        .device(&guid)
        .map(|d| (d.mailbox, d.device_id.clone()))
    else {
        return;
    };
    let listed = tenant
        .mailbox(mailbox)
        .is_some_and(|m| m.allows(&device_id) || m.blocks(&device_id));
    let mut interner = std::mem::take(&mut tenant.interner);
    let after = tenant.device_mut(&guid).map_or(After::Nothing, |d| {
        mutate(d, rng, &mut interner, t, &admin, listed)
    });
    tenant.interner = interner;
    match after {
        After::Nothing => {}
        After::Reevaluate => {
            tenant.reevaluate_one(&guid, t);
        }
        After::List(allow) => {
            if let Some(m) = tenant.mailboxes_mut().get_mut(mailbox) {
                m.list_device(&device_id, allow);
                m.when_changed = m.when_changed.max(t);
            }
            for other in tenant.reevaluate_mailbox(mailbox, t) {
                log.change(other);
            }
        }
    }
    if let Some(d) = tenant.device_mut(&guid) {
        d.when_changed = d.when_changed.max(t);
        log.change(guid);
    }
}

/// What the tenant must do after [`mutate`] changed a device.
enum After {
    Nothing,
    /// The lists, rules and default level must look at the device again.
    Reevaluate,
    /// An admin put the device's id on its mailbox's allowed (`Some(true)`) or blocked
    /// (`Some(false)`) list, or took it off both (`None`); the mailbox's devices are re-decided.
    List(Option<bool>),
}

/// Changes one thing about a device (`listed`: whether its id is on a personal list of its
/// mailbox); says what the tenant must do next.
fn mutate(
    d: &mut Device,
    rng: &mut SplitMix64,
    interner: &mut Interner,
    t: DateTime<Utc>,
    admin: &str,
    listed: bool,
) -> After {
    if d.access_state == AccessState::DeviceDiscovery {
        // Discovery ends: the device is known now and the rules apply.
        (d.access_state, d.access_reason, d.access_since) =
            (AccessState::Allowed, AccessReason::Global, t);
        d.sync.policy_status = PolicyStatus::AppliedInFull;
        return After::Reevaluate;
    }
    match rng.weighted(&[45, 15, 20, 12, 3]) {
        0 if os_upgrade(d, interner) => return After::Reevaluate,
        1 if d.client_type == ClientType::Eas && d.client_version != "16.1" => {
            d.client_version = "16.1";
            return After::Nothing;
        }
        // Taken off the personal lists: rules and default decide again.
        3 if listed => return After::List(None),
        // Put on the blocked (60%) or the allowed list.
        3 => return After::List(Some(!rng.chance(0.6))),
        4 if d.wipe.is_none() && d.remote_wipe_supported() => {
            let status = if d.client_type == ClientType::Outlook {
                WipeStatus::AccountOnlyPending
            } else {
                WipeStatus::Pending
            };
            d.wipe = Some(Box::new(Wipe {
                status,
                requested: t,
                sent: None,
                acknowledged: None,
                requestor: admin.to_owned(),
            }));
            return After::Nothing;
        }
        _ => {}
    }
    // Intune enrolment or a compliance change.
    if d.is_managed {
        d.is_compliant = !d.is_compliant;
    } else {
        d.is_managed = true;
        d.is_compliant = rng.chance(0.9);
    }
    After::Nothing
}

/// Moves the device to the next newer OS build of its profile (and the matching user agent).
fn os_upgrade(d: &mut Device, interner: &mut Interner) -> bool {
    let Some(profile) = catalog::PROFILES.get(usize::from(d.profile)) else {
        return false;
    };
    let Some(newer) = usize::from(d.build).checked_sub(1) else {
        return false;
    };
    let Some(build) = profile.builds.get(newer) else {
        return false;
    };
    if let UserAgent::ModelSlashOs(_) = profile.user_agent {
        if let Some(ua) = devices::user_agent(interner, profile, d.model, newer, 0) {
            d.user_agent = ua;
        }
    }
    d.build = u8::try_from(newer).unwrap_or(0);
    d.device_os = build.device_os;
    true
}

fn remove(tenant: &mut Tenant, rng: &mut SplitMix64, log: &mut Log) {
    // Old, silent phones are the ones that get cleaned up: prefer a dormant one of three.
    let candidates: Vec<Uuid> = (0..3).filter_map(|_| pick(tenant, rng)).collect();
    let chosen = candidates
        .iter()
        .find(|g| {
            tenant
                .device(g)
                .is_some_and(|d| d.sync.dormant_since.is_some())
        })
        .or(candidates.first())
        .copied();
    if let Some(d) = chosen.and_then(|g| tenant.remove_device(&g)) {
        log.remove(d.guid, d.mailbox);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_counts_have_the_right_mean() {
        let mut rng = SplitMix64::new(5);
        for lambda in [0.3, 4.0, 80.0] {
            let n = 4000;
            let total: u64 = (0..n).map(|_| poisson(&mut rng, lambda)).sum();
            let mean = total as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < lambda * 0.1 + 0.05,
                "{lambda}: {mean}"
            );
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert_eq!(poisson(&mut rng, f64::NAN), 0);
    }
}
