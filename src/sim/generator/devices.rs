//! Making one device: hardware, OS, client, identifiers, sync schedule and wipe history, drawn
//! from the catalog. Used by the initial tenant and by churn (devices that appear later).

use chrono::{DateTime, Duration, Utc};

use crate::sim::catalog::{self, IdStyle, Profile};
use crate::sim::rng::SplitMix64;
use crate::sim::tenant::{
    AccessReason, AccessState, ClientType, Device, Interner, PolicyStatus, SyncProfile, Wipe,
    WipeStatus,
};

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

/// A profile index drawn with the catalog weights.
pub(crate) fn pick_profile(rng: &mut SplitMix64) -> usize {
    let weights: Vec<u32> = catalog::PROFILES.iter().map(|p| p.weight).collect();
    rng.weighted(&weights)
}

/// The user agent a device of `profile` with this model and build reports (`pick` chooses among
/// fixed user agents).
pub(crate) fn user_agent(
    interner: &mut Interner,
    profile: &Profile,
    model: &str,
    build: usize,
    pick: usize,
) -> Option<std::sync::Arc<str>> {
    let variant = profile.variants.iter().find(|v| v.model == model)?;
    let build = profile.builds.get(build)?;
    Some(interner.get(&catalog::user_agent(profile, variant, build, pick)))
}

fn sync_profile(rng: &mut SplitMix64, profile: &Profile) -> SyncProfile {
    const PERIODS: &[u32] = &[300, 900, 1_800, 3_600, 14_400];
    const HEARTBEATS: &[u16] = &[470, 540, 900, 1_680];
    let period_secs = PERIODS[rng.weighted(&[30, 30, 20, 15, 5])];
    let (heartbeat_secs, folders) = match profile.client_type {
        ClientType::Eas => (
            HEARTBEATS[rng.index(HEARTBEATS.len())],
            5 + rng.below(36) as u16,
        ),
        ClientType::Outlook => (0, 3 + rng.below(10) as u16),
        ClientType::Rest | ClientType::Mowa => (0, 0),
    };
    let policy_status = match profile.client_type {
        ClientType::Rest | ClientType::Mowa => PolicyStatus::NotApplied,
        _ => match rng.weighted(&[86, 8, 3, 3]) {
            0 => PolicyStatus::AppliedInFull,
            1 => PolicyStatus::PartiallyApplied,
            2 => PolicyStatus::Unknown,
            _ => PolicyStatus::NotApplied,
        },
    };
    SyncProfile {
        period_secs,
        heartbeat_secs,
        folders,
        policy_status,
        dormant_since: None,
    }
}

/// A new device of `profile_i` for mailbox `owner`, first synced at `first_sync` (on or before
/// `now`). Its access is `Allowed`/`Global`: the caller decides the real state.
pub(crate) fn make_device(
    rng: &mut SplitMix64,
    interner: &mut Interner,
    profile_i: usize,
    owner: usize,
    first_sync: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Device> {
    let profile = catalog::PROFILES.get(profile_i)?;
    let variant = profile.variants.get(rng.index(profile.variants.len()))?;
    // Newer OS builds (listed first) are more common.
    let build_weights: Vec<u32> = (0..profile.builds.len())
        .map(|i| (profile.builds.len() - i) as u32)
        .collect();
    let build_i = rng.weighted(&build_weights);
    let build = profile.builds.get(build_i)?;
    let version_weights: Vec<u32> = profile.client_versions.iter().map(|(_, w)| *w).collect();
    let client_version = profile
        .client_versions
        .get(rng.weighted(&version_weights))
        .map_or("16.1", |(v, _)| v);
    let ua = interner.get(&catalog::user_agent(profile, variant, build, rng.index(8)));
    let is_managed = rng.chance(profile.managed_share);
    let is_compliant = is_managed && rng.chance(0.9);
    let is_disabled = rng.chance(0.02);
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
    let when_created = first_sync - Duration::seconds(1 + rng.below(59) as i64);
    let age = (now - when_created).num_seconds().max(1) as f64;
    let u = rng.unit();
    let when_changed = (now - Duration::seconds((age * u * u) as i64)).max(when_created);
    let sync = sync_profile(rng, profile);
    Some(Device {
        seq: 0,
        mailbox: owner,
        guid: rng.guid(),
        device_id: device_id(rng, profile.id_style),
        profile: u8::try_from(profile_i).unwrap_or(0),
        build: u8::try_from(build_i).unwrap_or(0),
        device_type: variant.device_type,
        model: variant.model,
        friendly_name: variant.friendly,
        device_os: build.device_os,
        os_language,
        user_agent: ua,
        imei,
        operator,
        phone,
        client_type: profile.client_type,
        client_version,
        access_state: AccessState::Allowed,
        access_reason: AccessReason::Global,
        access_rule: None,
        access_since: first_sync,
        is_managed,
        is_compliant,
        is_disabled,
        first_sync,
        when_created,
        when_changed,
        sync,
        wipe: None,
    })
}

/// Gives an old device its history: maybe dormant for a while, maybe wiped.
pub(crate) fn add_history(
    rng: &mut SplitMix64,
    device: &mut Device,
    admin: &str,
    now: DateTime<Utc>,
) {
    let lived = (now - device.first_sync).num_seconds().max(0) as u64;
    if lived < 86_400 {
        return;
    }
    if rng.chance(0.004) {
        let requested = device.first_sync + Duration::seconds(rng.below(lived) as i64);
        let account_only = device.client_type == ClientType::Outlook;
        let done = rng.chance(0.8);
        let sent = requested + Duration::seconds(30 + rng.below(600) as i64);
        let status = match (account_only, done) {
            (false, true) => WipeStatus::Succeeded,
            (false, false) => WipeStatus::Pending,
            (true, true) => WipeStatus::AccountOnlySucceeded,
            (true, false) => WipeStatus::AccountOnlyPending,
        };
        let acknowledged = (done && sent < now).then_some(sent + Duration::seconds(5));
        device.wipe = Some(Box::new(Wipe {
            status,
            requested,
            sent: (sent < now).then_some(sent),
            acknowledged,
            requestor: admin.to_owned(),
        }));
        device.sync.dormant_since = Some(acknowledged.unwrap_or(requested));
        device.when_changed = device.when_changed.max(requested).min(now);
    } else if rng.chance(0.15) {
        // Skewed towards long ago: abandoned phones are old.
        let u = rng.unit();
        let back = (lived as f64 * (1.0 - u * u)) as i64;
        device.sync.dormant_since = Some(now - Duration::seconds(back.max(3_600)));
    }
}
