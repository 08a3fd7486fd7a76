//! The device pages' service layer: the filtered, sorted, keyset-paged list; the access-state
//! summary; one device with why it has its state and its history; the EAS 16.1 readiness and
//! stale partnership report; and the CSV export, streamed. The pages' server functions and
//! the CSV route call these (and, later, the REST API).

pub(crate) mod catalog;
pub(crate) mod csv;
pub(crate) mod derive;
pub(crate) mod why;

use std::collections::HashSet;

use base64::Engine;
use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::model::{
    ChangeScope, DeviceDetails, DeviceEvent, DeviceEventKind, DeviceFilter, DevicePage,
    DeviceQuery, DeviceSummary, OsFamily, Readiness, ReadinessGroup, Staleness, StateBucket,
    EAS_MINIMUM_KEY,
};

use super::db::device_list;
use super::db::{device_events, devices};
use super::error::AppError;
use super::state::AppState;
use catalog::{Catalog, Direction, Position};

/// Most events a device page lists.
const MAX_EVENTS: u32 = 200;
/// Groups the readiness page lists by user agent; the rest are summed in one more group, which
/// links to the whole list.
const MAX_AGENT_GROUPS: usize = 25;
pub(crate) const OTHER_AGENTS: &str = "Other user agents";

/// A position as the address carries it: base64url of its JSON.
pub(crate) fn encode_position(position: &Position) -> String {
    let json = serde_json::to_vec(position).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// A position from the address; `None` for anything that is not one (the first page then).
pub(crate) fn decode_position(text: &str) -> Option<Position> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .ok()?;
    let position: Position = serde_json::from_slice(&bytes).ok()?;
    position
        .iter()
        .all(|v| v.is_string() || v.is_i64())
        .then_some(position)
}

/// The current connector's device list, if a connector is set up.
pub(crate) async fn catalog(state: &AppState) -> Result<Option<std::sync::Arc<Catalog>>, AppError> {
    let pool = state.db.pool();
    let Some((cid, version)) = devices::current_version(pool).await? else {
        return Ok(None);
    };
    Ok(Some(state.catalogs.get(pool, &cid, version).await?))
}

/// One page of the device list of the current connector (empty when there is none).
pub(crate) async fn page(state: &AppState, query: &DeviceQuery) -> Result<DevicePage, AppError> {
    let pool = state.db.pool();
    let Some(list) = catalog(state).await? else {
        return Ok(DevicePage {
            can_act: false,
            rows: Vec::new(),
            total: 0,
            next_cursor: None,
            prev_cursor: None,
            synced: false,
            change: None,
        });
    };
    let now = Utc::now();
    let limit = query.limit.clamp(1, 200) as usize;
    let f = &query.filter;
    let (change, only) = scope(state, &list, f).await?;
    let only = only.as_ref();
    let total = list.count(f, only, now);
    let after = query.after.as_deref().and_then(decode_position);
    let before = query.before.as_deref().and_then(decode_position);
    let read = |from: Option<(&Position, Direction)>| {
        list.page(f, only, query.sort, query.dir, from, limit + 1, now)
    };
    let (mut entries, has_prev, has_next) = match (&after, &before) {
        (Some(p), _) => {
            let mut e = read(Some((p, Direction::After)));
            let more = e.len() > limit;
            e.truncate(limit);
            (e, true, more)
        }
        (None, Some(p)) => {
            let e = read(Some((p, Direction::Before)));
            if e.len() > limit {
                // The rows just before the position: the last `limit` of them.
                (e[e.len() - limit..].to_vec(), true, true)
            } else {
                // Back at the start: the first page, full.
                let mut e = read(None);
                let more = e.len() > limit;
                e.truncate(limit);
                (e, false, more)
            }
        }
        (None, None) => {
            let mut e = read(None);
            let more = e.len() > limit;
            e.truncate(limit);
            (e, false, more)
        }
    };
    let prev_cursor = has_prev
        .then(|| {
            entries
                .first()
                .map(|e| encode_position(&list.position(query.sort, e)))
        })
        .flatten();
    let next_cursor = has_next
        .then(|| {
            entries
                .last()
                .map(|e| encode_position(&list.position(query.sort, e)))
        })
        .flatten();
    let guids: Vec<&str> = entries.drain(..).map(|e| list.text(e.guid)).collect();
    let rows = device_list::rows(pool, &list.connector_id, &guids).await?;
    // Only an empty answer needs telling "nothing synced yet" from "nothing matches".
    let synced = total > 0 || devices::has_synced(pool, &list.connector_id).await?;
    Ok(DevicePage {
        can_act: false,
        rows,
        total,
        next_cursor,
        prev_cursor,
        synced,
        change,
    })
}

/// The devices `filter.change` (a previewed change) would move or grandfather, computed as the
/// preview computes them, with the change in words. A change that cannot be previewed any more
/// (a rule deleted since, a value no longer valid) limits the list to nothing and says why.
pub(crate) async fn scope(
    state: &AppState,
    list: &Catalog,
    filter: &DeviceFilter,
) -> Result<(Option<ChangeScope>, Option<HashSet<u32>>), AppError> {
    let Some(form) = &filter.change else {
        return Ok((None, None));
    };
    match super::access::affected(state, form, list).await {
        Ok((summary, only)) => Ok((
            Some(ChangeScope {
                summary,
                problem: None,
            }),
            Some(only),
        )),
        Err(AppError::Invalid { message: why, .. } | AppError::Conflict(why)) => Ok((
            Some(ChangeScope {
                summary: Vec::new(),
                problem: Some(why),
            }),
            Some(HashSet::new()),
        )),
        Err(e) => Err(e),
    }
}

/// The present devices of the current connector by access state, and the values the filters
/// offer.
pub(crate) async fn summary(state: &AppState) -> Result<DeviceSummary, AppError> {
    let pool = state.db.pool();
    let mut counts: Vec<(StateBucket, u64)> = StateBucket::ALL.iter().map(|b| (*b, 0)).collect();
    let mut reasons: Vec<String> = Vec::new();
    let mut device_types = Vec::new();
    if let Some(list) = catalog(state).await? {
        for (s, r, n) in list.count_by_state_and_reason() {
            let bucket = StateBucket::of(s);
            if let Some(c) = counts.iter_mut().find(|(b, _)| *b == bucket) {
                c.1 += n;
            }
            if !r.is_empty() && !reasons.iter().any(|x| x == r) {
                reasons.push(r.to_owned());
            }
        }
        device_types = devices::device_types(pool, &list.connector_id).await?;
    }
    reasons.sort();
    Ok(DeviceSummary {
        total: counts.iter().map(|(_, n)| n).sum(),
        counts,
        reasons,
        clients: ["EAS", "Outlook", "REST", "MOWA"]
            .map(str::to_owned)
            .to_vec(),
        device_types,
    })
}

/// One device of the current connector (present or removed) with everything stored about it,
/// why it has its state and its history; `None` when there is no such device.
pub(crate) async fn details(
    state: &AppState,
    guid: &str,
) -> Result<Option<DeviceDetails>, AppError> {
    let pool = state.db.pool();
    let Some((cid, _)) = devices::current_version(pool).await? else {
        return Ok(None);
    };
    // A GUID is short; anything longer is not one (and not worth a query).
    if guid.is_empty() || guid.len() > 64 {
        return Ok(None);
    }
    let Some(r) = devices::one(pool, &cid, guid).await? else {
        return Ok(None);
    };
    let row = device_list::read_row(&r)?;
    let facts = why::Facts {
        state: row.access_state.clone(),
        reason: row.access_state_reason.clone(),
        rule: r.try_get("access_control_rule")?,
        device_type: row.device_type.clone(),
        device_model: row.device_model.clone(),
        device_os: row.device_os.clone(),
        user_agent: r.try_get("device_user_agent")?,
        is_managed: r.try_get("is_managed")?,
        is_compliant: r.try_get("is_compliant")?,
        policy: r.try_get("device_policy_applied")?,
        policy_status: r.try_get("device_policy_application_status")?,
    };
    let default_level = devices::default_access_level(pool, &cid).await?;
    let rules: Vec<why::RuleInfo> = devices::rules(pool, &cid)
        .await?
        .into_iter()
        .map(
            |(name, query_string, characteristic, access_level)| why::RuleInfo {
                name,
                query_string,
                characteristic,
                access_level,
            },
        )
        .collect();
    let why = why::explain(&facts, default_level.as_deref(), &rules);
    let first_seen_at: DateTime<Utc> = r.try_get("first_seen_at")?;
    let mut events = device_events::of_device(pool, &cid, guid, MAX_EVENTS).await?;
    events.push(DeviceEvent {
        at: first_seen_at,
        kind: DeviceEventKind::FirstSeen,
        old_value: None,
        new_value: Some(row.access_state.clone()),
        reason: row
            .access_state_reason
            .clone()
            .filter(|_| events.is_empty()),
        rule: None,
    });
    Ok(Some(DeviceDetails {
        identity: r.try_get("identity")?,
        mailbox: r.try_get("mailbox")?,
        user_display_name: r.try_get("user_display_name")?,
        device_user_agent: facts.user_agent.clone(),
        access_control_rule: facts.rule.clone(),
        is_managed: facts.is_managed,
        is_compliant: facts.is_compliant,
        when_changed_utc: r.try_get("when_changed_utc")?,
        last_sync_attempt_time: r.try_get("last_sync_attempt_time")?,
        last_policy_update_time: r.try_get("last_policy_update_time")?,
        last_ping_heartbeat: r.try_get("last_ping_heartbeat")?,
        number_of_folders_synced: r.try_get("number_of_folders_synced")?,
        device_policy_applied: facts.policy.clone(),
        device_policy_application_status: facts.policy_status.clone(),
        sync_status: r.try_get("sync_status")?,
        status_note: r.try_get("status_note")?,
        is_remote_wipe_supported: r.try_get("is_remote_wipe_supported")?,
        device_wipe_request_time: r.try_get("device_wipe_request_time")?,
        device_wipe_sent_time: r.try_get("device_wipe_sent_time")?,
        device_wipe_ack_time: r.try_get("device_wipe_ack_time")?,
        last_device_wipe_requestor: r.try_get("last_device_wipe_requestor")?,
        statistics_read_at: r.try_get("statistics_read_at")?,
        first_seen_at,
        last_seen_at: r.try_get("last_seen_at")?,
        why,
        events,
        actions: None,
        row,
    }))
}

/// Stale thresholds the readiness page reports, in days.
pub(crate) const STALE_DAYS: [u32; 3] = [30, 90, 180];

/// EAS 16.1 readiness and stale partnerships of the current connector's present devices.
pub(crate) async fn readiness(state: &AppState) -> Result<Readiness, AppError> {
    let now = Utc::now();
    let list = catalog(state).await?;
    let legacy = DeviceFilter {
        legacy_eas: true,
        ..DeviceFilter::default()
    };
    let mut by_agent: Vec<ReadinessGroup> = Vec::new();
    let mut by_os: Vec<ReadinessGroup> = Vec::new();
    let mut by_version: Vec<ReadinessGroup> = Vec::new();
    let (mut legacy_total, mut eas_total, mut outlook_total, mut present_total) = (0, 0, 0, 0);
    let mut stale = Vec::new();
    let mut never_count = 0;
    let mut outlook_without = 0;
    if let Some(list) = list.as_deref() {
        for e in list.present() {
            present_total += 1;
            let client = list.text(e.client);
            match client {
                "EAS" => eas_total += 1,
                "Outlook" => {
                    outlook_total += 1;
                    outlook_without += u64::from(e.last_sync == catalog::NO_TIME);
                }
                _ => {}
            }
            if client != "EAS" || !(0..EAS_MINIMUM_KEY).contains(&e.version_key) {
                continue;
            }
            legacy_total += 1;
            let agent = list.text(e.agent);
            let agent_filter = DeviceFilter {
                agent: (!agent.is_empty()).then(|| agent.to_owned()),
                ..legacy.clone()
            };
            let label = if agent.is_empty() {
                "(no user agent)"
            } else {
                agent
            };
            add(&mut by_agent, label.to_owned(), agent_filter);
            let os = OsFamily::parse(list.text(e.os_family)).unwrap_or(OsFamily::Other);
            let os_filter = DeviceFilter {
                os: Some(os),
                ..legacy.clone()
            };
            add(&mut by_os, os.as_str().to_owned(), os_filter);
            let version = list.text(e.version);
            let version_filter = DeviceFilter {
                version: Some(version.to_owned()),
                ..legacy.clone()
            };
            add(&mut by_version, format!("EAS {version}"), version_filter);
        }
        for days in STALE_DAYS {
            let filter = DeviceFilter {
                stale: Some(Staleness::Days(days)),
                ..DeviceFilter::default()
            };
            stale.push(ReadinessGroup {
                label: format!("No successful sync in more than {days} days"),
                count: list.count(&filter, None, now),
                filter,
            });
        }
        let never = DeviceFilter {
            stale: Some(Staleness::Never),
            ..DeviceFilter::default()
        };
        never_count = list.count(&never, None, now);
    }
    for groups in [&mut by_agent, &mut by_os, &mut by_version] {
        groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    }
    if by_agent.len() > MAX_AGENT_GROUPS {
        let rest: u64 = by_agent[MAX_AGENT_GROUPS..].iter().map(|g| g.count).sum();
        by_agent.truncate(MAX_AGENT_GROUPS);
        by_agent.push(ReadinessGroup {
            label: OTHER_AGENTS.into(),
            count: rest,
            filter: legacy.clone(),
        });
    }
    Ok(Readiness {
        legacy_total,
        legacy_by_agent: by_agent,
        legacy_by_os: by_os,
        legacy_by_version: by_version,
        eas_total,
        outlook_total,
        stale,
        never: ReadinessGroup {
            label: "Never synced successfully".into(),
            count: never_count,
            filter: DeviceFilter {
                stale: Some(Staleness::Never),
                ..DeviceFilter::default()
            },
        },
        outlook_without_sync_times: outlook_without,
        present_total,
        now,
    })
}

/// Counts one more device in the group labelled `label`, creating it with `filter`.
fn add(groups: &mut Vec<ReadinessGroup>, label: String, filter: DeviceFilter) {
    match groups.iter_mut().find(|g| g.label == label) {
        Some(g) => g.count += 1,
        None => groups.push(ReadinessGroup {
            label,
            count: 1,
            filter,
        }),
    }
}
