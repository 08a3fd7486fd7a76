//! What the simulator's tenant holds, read over its admin API the way any client would, and
//! what the app's database holds, in the same shape, so tests can compare the two.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use exchange_connector::sim::RunningSimulator;
use serde_json::Value;
use sqlx::{Row, SqlitePool};

/// The fields a sync stores, per device GUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    pub identity: String,
    pub device_id: String,
    pub access_state: String,
    pub when_changed_utc: Option<DateTime<Utc>>,
}

/// The statistics a sync stores, per device GUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRow {
    pub last_success_sync: Option<DateTime<Utc>>,
    pub last_sync_attempt_time: Option<DateTime<Utc>>,
    pub device_policy_applied: Option<String>,
    pub status: Option<String>,
}

/// Devices and statistics by GUID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub devices: BTreeMap<String, DeviceRow>,
    pub stats: BTreeMap<String, StatsRow>,
}

fn date(v: &Value) -> Option<DateTime<Utc>> {
    let text = v.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// Every device and the statistics of every mailbox with devices, read from the simulator.
pub async fn read_tenant(sim: &RunningSimulator) -> Snapshot {
    let http = reqwest::Client::new();
    let c = sim.config();
    let token = sim.state().issue_app_token();
    let invoke = format!("{}/{}/InvokeCommand", sim.admin_api_url(), c.tenant_id);
    let call = |cmdlet: &str, params: Value| {
        let body = serde_json::json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": params}});
        (body, invoke.clone())
    };
    let all = |cmdlet: &'static str, params: Value| {
        let (body, first) = call(cmdlet, params);
        let http = http.clone();
        let token = token.clone();
        async move {
            let mut items = Vec::new();
            let mut next = Some(first);
            while let Some(url) = next.take() {
                let page: Value = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("x-responseformat", "json")
                    .json(&body)
                    .send()
                    .await
                    .expect("invoke")
                    .json()
                    .await
                    .expect("invoke json");
                assert!(page.get("value").is_some(), "{cmdlet}: {page}");
                items.extend(page["value"].as_array().cloned().unwrap_or_default());
                next = page["@odata.nextLink"].as_str().map(str::to_owned);
            }
            items
        }
    };
    let mut snap = Snapshot::default();
    let mut mailboxes = BTreeSet::new();
    let devices = all(
        "Get-MobileDevice",
        serde_json::json!({"ResultSize": "Unlimited"}),
    )
    .await;
    for d in devices {
        let identity = text(&d["Identity"]).expect("identity");
        if let Some((mailbox, _)) = identity.split_once('\\') {
            mailboxes.insert(mailbox.to_owned());
        }
        snap.devices.insert(
            text(&d["Guid"]).expect("guid"),
            DeviceRow {
                identity,
                device_id: text(&d["DeviceId"]).unwrap_or_default(),
                access_state: text(&d["DeviceAccessState"]).expect("state"),
                when_changed_utc: date(&d["WhenChangedUTC"]),
            },
        );
    }
    for mailbox in mailboxes {
        let stats = all(
            "Get-MobileDeviceStatistics",
            serde_json::json!({"Mailbox": mailbox}),
        )
        .await;
        for s in stats {
            snap.stats.insert(
                text(&s["Guid"]).expect("guid"),
                StatsRow {
                    last_success_sync: date(&s["LastSuccessSync"]),
                    last_sync_attempt_time: date(&s["LastSyncAttemptTime"]),
                    device_policy_applied: text(&s["DevicePolicyApplied"]),
                    status: text(&s["Status"]),
                },
            );
        }
    }
    snap
}

/// The devices the database holds as present (not marked removed), with their statistics.
pub async fn read_db(db: &SqlitePool) -> Snapshot {
    let rows = sqlx::query(
        "SELECT guid, identity, device_id, access_state, when_changed_utc, last_success_sync, \
                last_sync_attempt_time, device_policy_applied, sync_status, statistics_read_at \
           FROM devices WHERE removed_at IS NULL",
    )
    .fetch_all(db)
    .await
    .expect("devices");
    let mut snap = Snapshot::default();
    for r in rows {
        let guid: String = r.get("guid");
        snap.devices.insert(
            guid.clone(),
            DeviceRow {
                identity: r.get("identity"),
                device_id: r.get("device_id"),
                access_state: r.get("access_state"),
                when_changed_utc: r.get("when_changed_utc"),
            },
        );
        let read: Option<DateTime<Utc>> = r.get("statistics_read_at");
        if read.is_some() {
            snap.stats.insert(
                guid,
                StatsRow {
                    last_success_sync: r.get("last_success_sync"),
                    last_sync_attempt_time: r.get("last_sync_attempt_time"),
                    device_policy_applied: r.get("device_policy_applied"),
                    status: r.get("sync_status"),
                },
            );
        }
    }
    snap
}

/// Every column of every device row (removed ones too), as text, ordered: "exactly as it was".
pub async fn dump_devices(db: &SqlitePool) -> Vec<String> {
    let rows = sqlx::query("SELECT * FROM devices ORDER BY connector_id, guid")
        .fetch_all(db)
        .await
        .expect("devices");
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .or_else(|| {
                            r.try_get::<Option<i64>, _>(i)
                                .ok()
                                .flatten()
                                .map(|n| n.to_string())
                        })
                        .unwrap_or_else(|| "NULL".into())
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}
