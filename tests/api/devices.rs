//! The device pages' data over HTTP, checked against a brute-force reading of the same rows:
//! filters, sorts and keyset pages (forwards and back), the CSV export, the readiness numbers,
//! the explanation of a state and the device events a sync records.

use std::cmp::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use exchange_connector::app::devices::query_string;
use exchange_connector::model::{
    version_key, DeviceDetails, DeviceEventKind, DeviceFilter, DevicePage, DeviceQuery, DeviceSort,
    OsFamily, Readiness, Removed, SortDir, Staleness, StateBucket, SyncKind, SyncStatus,
    EAS_MINIMUM_KEY,
};
use sqlx::Row;

use crate::helpers::{call_fn, invoke, TestApp};

/// A device as the brute force sees it.
#[derive(Clone, Debug)]
struct Stored {
    guid: String,
    mailbox: Option<String>,
    device_id: String,
    friendly_name: Option<String>,
    device_type: Option<String>,
    device_model: Option<String>,
    device_os: Option<String>,
    user_agent: Option<String>,
    os_family: Option<String>,
    client_type: Option<String>,
    client_version: Option<String>,
    state: String,
    reason: Option<String>,
    last_success: Option<DateTime<Utc>>,
    first_sync: Option<DateTime<Utc>>,
    removed: bool,
}

async fn stored(app: &TestApp) -> Vec<Stored> {
    let db = app.db().await;
    let rows = sqlx::query("SELECT * FROM devices")
        .fetch_all(&db)
        .await
        .expect("devices");
    rows.iter()
        .map(|r| Stored {
            guid: r.get("guid"),
            mailbox: r.get("mailbox"),
            device_id: r.get("device_id"),
            friendly_name: r.get("friendly_name"),
            device_type: r.get("device_type"),
            device_model: r.get("device_model"),
            device_os: r.get("device_os"),
            user_agent: r.get("device_user_agent"),
            os_family: r.get("os_family"),
            client_type: r.get("client_type"),
            client_version: r.get("client_version"),
            state: r.get("access_state"),
            reason: r.get("access_state_reason"),
            last_success: r.get("last_success_sync"),
            first_sync: r.get("first_sync_time"),
            removed: r.get::<Option<DateTime<Utc>>, _>("removed_at").is_some(),
        })
        .collect()
}

fn s(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// SQLite's `lower`: ASCII only.
fn lower(v: &Option<String>) -> String {
    s(v).to_ascii_lowercase()
}

fn matches(d: &Stored, f: &DeviceFilter, now: DateTime<Utc>) -> bool {
    let eas = d.client_type.as_deref() == Some("EAS");
    (d.removed == (f.removed == Removed::Only))
        && f.q.as_ref().is_none_or(|q| {
            let q = q.to_lowercase();
            [
                Some(d.device_id.clone()),
                d.mailbox.clone(),
                d.friendly_name.clone(),
                d.device_model.clone(),
                d.device_os.clone(),
                d.user_agent.clone(),
            ]
            .iter()
            .flatten()
            .any(|t| t.to_lowercase().contains(&q))
        })
        && f.state.is_none_or(|b| StateBucket::of(&d.state) == b)
        && f.reason.as_ref().is_none_or(|r| s(&d.reason) == *r)
        && f.client.as_ref().is_none_or(|c| s(&d.client_type) == *c)
        && f.device_type
            .as_ref()
            .is_none_or(|t| lower(&d.device_type) == t.to_lowercase())
        && f.os.is_none_or(|o| s(&d.os_family) == o.as_str())
        && f.agent
            .as_ref()
            .is_none_or(|a| d.user_agent.as_ref() == Some(a))
        && f.version
            .as_ref()
            .is_none_or(|v| d.client_version.as_ref() == Some(v))
        && (!f.legacy_eas
            || (eas
                && version_key(d.client_version.as_deref()).is_some_and(|k| k < EAS_MINIMUM_KEY)))
        && match f.stale {
            None => true,
            Some(Staleness::Days(n)) => d
                .last_success
                .is_some_and(|t| t < now - chrono::Duration::days(i64::from(n))),
            Some(Staleness::Never) => {
                d.last_success.is_none() && d.client_type.as_deref() != Some("Outlook")
            }
        }
}

/// A sort key as the SQL has it: text (as SQLite compares it) or a number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Int(i64),
    Text(String),
}

fn time_key(t: Option<DateTime<Utc>>) -> Key {
    // Stored as sqlx writes it; compared as text in SQL. Same order as the times.
    Key::Text(
        t.map(|t| format!("{:020}", t.timestamp_micros()))
            .unwrap_or_default(),
    )
}

fn key(d: &Stored, sort: DeviceSort) -> Vec<Key> {
    let t = Key::Text;
    let mut k = match sort {
        DeviceSort::User => vec![t(lower(&d.mailbox))],
        DeviceSort::Name => vec![t(lower(&d.friendly_name))],
        DeviceSort::Type => vec![t(lower(&d.device_type)), t(lower(&d.device_model))],
        DeviceSort::Os => vec![t(s(&d.os_family)), t(lower(&d.device_os))],
        DeviceSort::Client => vec![
            t(s(&d.client_type)),
            Key::Int(version_key(d.client_version.as_deref()).unwrap_or(-1)),
        ],
        DeviceSort::State => vec![t(d.state.clone()), t(s(&d.reason))],
        DeviceSort::LastSync => vec![time_key(d.last_success)],
        DeviceSort::FirstSync => vec![time_key(d.first_sync)],
    };
    k.push(t(d.guid.clone()));
    k
}

fn brute_force(all: &[Stored], q: &DeviceQuery, now: DateTime<Utc>) -> Vec<String> {
    let mut rows: Vec<&Stored> = all.iter().filter(|d| matches(d, &q.filter, now)).collect();
    rows.sort_by(|a, b| {
        let o = key(a, q.sort).cmp(&key(b, q.sort));
        if q.dir == SortDir::Desc {
            o.reverse()
        } else {
            o
        }
    });
    rows.into_iter().map(|d| d.guid.clone()).collect()
}

async fn page(app: &TestApp, q: &DeviceQuery) -> DevicePage {
    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "devices/page",
        &[("query", &query_string(q))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a device page")
}

/// Every page of `q`, following the next links; then back from the last page to the first
/// with the previous links. Both must give the whole list, once each.
async fn walk(app: &TestApp, q: &DeviceQuery) -> (Vec<String>, u64) {
    let mut forward = Vec::new();
    let mut pages = Vec::new();
    let mut view = q.clone();
    let total = loop {
        let p = page(app, &view).await;
        assert!(p.rows.len() <= q.limit as usize);
        forward.extend(p.rows.iter().map(|r| r.guid.clone()));
        pages.push(p.rows.iter().map(|r| r.guid.clone()).collect::<Vec<_>>());
        match p.next_cursor {
            Some(c) => {
                assert_eq!(
                    p.rows.len(),
                    q.limit as usize,
                    "only the last page is short"
                );
                view.after = Some(c);
                view.before = None;
            }
            None => break p.total,
        }
    };
    // Backwards: each previous page is exactly the page before it.
    let mut back = q.clone();
    let mut i = pages.len();
    let mut p = page(app, &view).await;
    while let Some(c) = p.prev_cursor.clone() {
        i -= 1;
        back.after = None;
        back.before = Some(c);
        p = page(app, &back).await;
        let got: Vec<String> = p.rows.iter().map(|r| r.guid.clone()).collect();
        assert_eq!(got, pages[i - 1], "page {i} read backwards");
    }
    assert!(i <= 1, "the previous links reach the first page");
    (forward, total)
}

/// A small deterministic generator for the random views.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn random_view(rng: &mut Lcg, all: &[Stored]) -> DeviceQuery {
    let mut f = DeviceFilter::default();
    let pick = |rng: &mut Lcg| &all[rng.below(all.len())];
    match rng.below(12) {
        0 => f.state = Some(StateBucket::ALL[rng.below(5)]),
        1 => f.reason = pick(rng).reason.clone(),
        2 => f.client = pick(rng).client_type.clone(),
        3 => f.device_type = pick(rng).device_type.clone().map(|t| t.to_uppercase()),
        4 => f.os = Some(OsFamily::ALL[rng.below(5)]),
        5 => f.legacy_eas = true,
        6 => {
            f.stale = Some(
                [
                    Staleness::Days(30),
                    Staleness::Days(90),
                    Staleness::Days(180),
                    Staleness::Never,
                ][rng.below(4)],
            )
        }
        7 => {
            // Part of a device id, in the other case.
            let id = &pick(rng).device_id;
            let start = rng.below(id.len().max(1));
            f.q = Some(id[start..(start + 5).min(id.len())].to_uppercase());
        }
        8 => {
            f.q = ["iphone", "ANDROID", "16.", "%", "_"]
                .get(rng.below(5))
                .map(|s| (*s).to_owned())
        }
        9 => {
            f.state = Some(StateBucket::Allowed);
            f.os = Some(OsFamily::Ios);
        }
        10 => f.agent = pick(rng).user_agent.clone(),
        _ => {}
    }
    DeviceQuery {
        filter: f,
        sort: DeviceSort::ALL[rng.below(8)],
        dir: if rng.below(2) == 0 {
            SortDir::Asc
        } else {
            SortDir::Desc
        },
        limit: [25, 50][rng.below(2)],
        ..DeviceQuery::default()
    }
}

#[tokio::test]
async fn filters_sorts_and_pages_give_exactly_what_a_brute_force_filter_gives() {
    let app = TestApp::with_sim(320, 100).await;
    app.set_up().await.expect("set-up");
    let all = stored(&app).await;
    assert_eq!(all.len(), 320);
    let mut rng = Lcg(7);
    let mut checked_nonempty = 0;
    for i in 0..36 {
        let q = random_view(&mut rng, &all);
        let (got, total) = walk(&app, &q).await;
        let want = brute_force(&all, &q, Utc::now());
        assert_eq!(got, want, "view {i}: {}", query_string(&q));
        assert_eq!(total, want.len() as u64, "count of view {i}");
        checked_nonempty += usize::from(!want.is_empty());
    }
    assert!(checked_nonempty > 20, "{checked_nonempty}");
    // Every sort both ways over the whole list: equal keys (states, types) cross page edges.
    for sort in DeviceSort::ALL {
        for dir in [SortDir::Asc, SortDir::Desc] {
            let q = DeviceQuery {
                sort,
                dir,
                limit: 25,
                ..DeviceQuery::default()
            };
            let (got, _) = walk(&app, &q).await;
            assert_eq!(got, brute_force(&all, &q, Utc::now()), "{sort:?} {dir:?}");
        }
    }
}

#[tokio::test]
async fn bad_query_values_are_ignored_or_answered_never_a_server_error() {
    let app = TestApp::with_sim(40, 100).await;
    app.set_up().await.expect("set-up");
    let huge = "x".repeat(100_000);
    for query in [
        "state=Exploded&limit=-5&sort=nope&dir=sideways",
        "stale=-3&os=BeOS&eas=maybe&removed=perhaps",
        "after=not-a-cursor&before=%FF%FE",
        "after=WyJcdTAwMDAiLDEsbnVsbF0",
        "q=%25%25%25&reason=%27%20OR%201%3D1",
        &format!("q={huge}"),
    ] {
        let (status, body) = call_fn(
            app.http(),
            &app.base_url,
            "devices/page",
            &[("query", query)],
        )
        .await;
        assert_eq!(status, 200, "{query}: {body}");
        let p: DevicePage = serde_json::from_str(&body).expect("page");
        assert!(p.rows.len() <= 50);
    }
    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "devices/device",
        &[("id", &huge)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Option<DeviceDetails>>(&body).expect("json"),
        None
    );
    let (status, html) = app
        .get_html("/conditional-access/devices?limit=-1&state=%00&q=%E2%80%AE")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("devices-count"), "the page renders");
    let (status, _) = app
        .get_html(&format!(
            "/conditional-access/devices.csv?q={}",
            "y".repeat(20_000)
        ))
        .await;
    assert_eq!(status, 200);
}

/// Splits CSV text into records (RFC 4180: quoted fields may hold commas, quotes, line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

#[tokio::test]
async fn the_csv_holds_exactly_the_filtered_rows_in_the_list_order() {
    let app = TestApp::with_sim(260, 100).await;
    app.set_up().await.expect("set-up");
    let all = stored(&app).await;
    for query in [
        "",
        "state=Allowed&sort=name",
        "eas=legacy&sort=client&dir=desc",
        "stale=90",
        "q=iphone&sort=lastSync",
    ] {
        let q = DeviceQuery::from_params(|k| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.into_owned())
        });
        let r = app
            .http()
            .get(format!(
                "{}/conditional-access/devices.csv?{query}",
                app.base_url
            ))
            .send()
            .await
            .expect("csv");
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv"));
        let records = parse_csv(&r.text().await.expect("body"));
        assert_eq!(records[0][0], "guid");
        let width = records[0].len();
        assert!(
            records.iter().all(|r| r.len() == width),
            "every record has every column"
        );
        let guids: Vec<String> = records[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(guids, brute_force(&all, &q, Utc::now()), "{query}");
        // UTC times, as the exports write them.
        let at = records[0]
            .iter()
            .position(|h| h == "first_sync_time")
            .expect("column");
        assert!(records[1..]
            .iter()
            .all(|r| r[at].is_empty() || r[at].ends_with('Z')));
    }
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .get(format!("{}/conditional-access/devices.csv", app.base_url))
        .send()
        .await
        .expect("csv");
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn readiness_numbers_equal_a_count_by_hand() {
    let app = TestApp::with_sim(400, 100).await;
    app.set_up().await.expect("set-up");
    let all = stored(&app).await;
    let r: Readiness = app.call("devices/readiness").await.expect("readiness");
    let now = Utc::now();
    let present: Vec<&Stored> = all.iter().filter(|d| !d.removed).collect();
    let legacy: Vec<&&Stored> = present
        .iter()
        .filter(|d| {
            d.client_type.as_deref() == Some("EAS")
                && version_key(d.client_version.as_deref()).is_some_and(|k| k < EAS_MINIMUM_KEY)
        })
        .collect();
    assert!(
        !legacy.is_empty(),
        "the demo tenant has EAS clients below 16.1"
    );
    assert_eq!(r.legacy_total, legacy.len() as u64);
    for groups in [&r.legacy_by_agent, &r.legacy_by_os, &r.legacy_by_version] {
        assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), r.legacy_total);
        // The long tail of user agents is one group that links to the whole list.
        for g in groups.iter().filter(|g| g.label != "Other user agents") {
            let by_hand = present
                .iter()
                .filter(|d| matches(d, &g.filter, now))
                .count();
            assert_eq!(g.count, by_hand as u64, "{}", g.label);
        }
    }
    assert_eq!(
        r.eas_total,
        present
            .iter()
            .filter(|d| d.client_type.as_deref() == Some("EAS"))
            .count() as u64
    );
    assert_eq!(
        r.outlook_total,
        present
            .iter()
            .filter(|d| d.client_type.as_deref() == Some("Outlook"))
            .count() as u64
    );
    for g in r.stale.iter().chain(std::iter::once(&r.never)) {
        let by_hand = present
            .iter()
            .filter(|d| matches(d, &g.filter, now))
            .count();
        assert_eq!(g.count, by_hand as u64, "{}", g.label);
    }
    assert!(r.stale[0].count >= r.stale[1].count && r.stale[1].count >= r.stale[2].count);
    assert_eq!(r.present_total, present.len() as u64);
}

#[tokio::test]
async fn a_rule_added_in_exchange_blocks_devices_and_their_page_says_why_and_when() {
    let app = TestApp::with_sim(120, 100).await;
    app.set_up().await.expect("set-up");
    let all = stored(&app).await;
    // An allowed device by the default level, with a model: block its model by a rule.
    let target = all
        .iter()
        .find(|d| {
            d.state == "Allowed"
                && d.reason.as_deref() == Some("Global")
                && d.device_model.is_some()
        })
        .expect("an allowed device")
        .clone();
    let model = target.device_model.clone().unwrap_or_default();
    let made = invoke(
        &app,
        "New-ActiveSyncDeviceAccessRule",
        serde_json::json!({"QueryString": model, "Characteristic": "DeviceModel", "AccessLevel": "Block"}),
    )
    .await;
    assert!(made.get("error").is_none(), "{made}");
    let full = app.control.run(SyncKind::FullSync).await.expect("sync");
    assert_eq!(full.status, SyncStatus::Succeeded);

    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "devices/device",
        &[("id", &target.guid)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let d: Option<DeviceDetails> = serde_json::from_str(&body).expect("json");
    let d = d.expect("the device");
    let rule = format!("{model} (DeviceModel)");
    assert_eq!(d.row.access_state, "Blocked");
    assert_eq!(d.access_control_rule.as_deref(), Some(rule.as_str()));
    assert_eq!(
        d.why.summary,
        format!("Blocked by the device access rule {rule}.")
    );
    // Newest first: the change, then when it was first seen.
    let kinds: Vec<DeviceEventKind> = d.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds.first(),
        Some(&DeviceEventKind::StateChanged),
        "{:?}",
        d.events
    );
    assert_eq!(kinds.last(), Some(&DeviceEventKind::FirstSeen));
    let change = &d.events[0];
    assert_eq!(
        (
            change.old_value.as_deref(),
            change.new_value.as_deref(),
            change.rule.as_deref()
        ),
        (Some("Allowed"), Some("Blocked"), Some(rule.as_str()))
    );
    // The list agrees, and the page renders the explanation without JavaScript.
    let blocked = page(
        &app,
        &DeviceQuery {
            filter: DeviceFilter {
                reason: Some("DeviceRule".into()),
                state: Some(StateBucket::Blocked),
                ..DeviceFilter::default()
            },
            limit: 200,
            ..DeviceQuery::default()
        },
    )
    .await;
    assert!(blocked.rows.iter().any(|r| r.guid == target.guid));
    let (status, html) = app
        .get_html(&format!("/conditional-access/devices/{}", target.guid))
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Why this access state") && html.contains(&rule),
        "{html}"
    );
}

#[tokio::test]
async fn syncs_record_each_observed_change_as_a_device_event() {
    let app = TestApp::with_sim(300, 100).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let before = stored(&app).await;
    let db = app.db().await;
    let none: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM device_events")
        .fetch_one(&db)
        .await
        .expect("events");
    assert_eq!(
        none, 0,
        "a first sync records no changes (first seen is the device's own time)"
    );

    let churn = sim.state().advance(Duration::from_secs(12 * 3600));
    assert!(
        !churn.changed.is_empty() && !churn.removed.is_empty(),
        "{churn:?}"
    );
    let quick = app.control.run(SyncKind::DeltaSync).await.expect("quick");
    assert_eq!(quick.status, SyncStatus::Succeeded, "{quick:?}");
    let after = stored(&app).await;

    let mut expected: Vec<(String, String, Option<String>, Option<String>)> = Vec::new();
    for old in &before {
        let Some(new) = after.iter().find(|d| d.guid == old.guid) else {
            continue;
        };
        if new.removed && !old.removed {
            expected.push((old.guid.clone(), "removed".into(), None, None));
            continue;
        }
        if old.state != new.state {
            expected.push((
                old.guid.clone(),
                "stateChanged".into(),
                Some(old.state.clone()),
                Some(new.state.clone()),
            ));
        }
        let client = |d: &Stored| {
            format!("{} {}", s(&d.client_type), s(&d.client_version))
                .trim()
                .to_owned()
        };
        if client(old) != client(new) {
            expected.push((
                old.guid.clone(),
                "clientChanged".into(),
                Some(client(old)),
                Some(client(new)),
            ));
        }
        if old.mailbox != new.mailbox {
            expected.push((
                old.guid.clone(),
                "ownerChanged".into(),
                old.mailbox.clone(),
                new.mailbox.clone(),
            ));
        }
    }
    let mut got: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT guid, kind, old_value, new_value FROM device_events WHERE run_id = ?1",
    )
    .bind(&quick.id)
    .fetch_all(&db)
    .await
    .expect("events");
    expected.sort();
    got.sort();
    assert!(
        expected.iter().any(|e| e.1 == "stateChanged"),
        "the churn changed a state: {expected:?}"
    );
    assert!(expected.iter().any(|e| e.1 == "removed"));
    assert_eq!(got, expected);
    // Nothing changed since: a full sync records nothing more.
    let full = app.control.run(SyncKind::FullSync).await.expect("full");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM device_events WHERE run_id = ?1")
        .bind(&full.id)
        .fetch_one(&db)
        .await
        .expect("events");
    assert_eq!(n, 0);
}

#[test]
fn keys_compare_like_sqlite() {
    assert_eq!(Key::Int(-1).cmp(&Key::Int(16_001)), Ordering::Less);
    assert!(
        Key::Text("A".into()) < Key::Text("a".into()),
        "binary collation"
    );
}
