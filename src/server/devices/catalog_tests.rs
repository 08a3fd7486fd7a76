//! The in-memory device list against one plain SQL query over the same rows: every sort both
//! ways, filters of each kind, pages of 7 forwards and back, over keys that repeat and NULLs.

use chrono::Utc;
use sqlx::SqlitePool;

use super::*;
use crate::model::{DeviceFilter, DeviceSort, OsFamily, Removed, SortDir, Staleness, StateBucket};
use crate::server::db::Db;

/// A store with `n` devices whose sort keys repeat a lot (few users, states, types, OS
/// values, versions, days), some NULLs and some removed.
async fn store(n: usize) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("list.db").display());
    let db = Db::open(&url).await.expect("db");
    let pool = db.pool();
    sqlx::query(
            "INSERT INTO connectors (id, status, endpoint, tenant_id, account, set_up_at, updated_at) \
             VALUES ('c', 'connected', 'e', 't', 'a', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
        )
        .execute(pool)
        .await
        .expect("connector");
    let pick =
        |i: usize, m: usize, values: &[&str]| values[(i * m + i / 7) % values.len()].to_owned();
    for i in 0..n {
        let opt = |v: String| (v != "-").then_some(v);
        let day = 1 + (i * 13) % 9;
        sqlx::query(
                "INSERT INTO devices (connector_id, guid, identity, device_id, mailbox, friendly_name, \
                     device_type, device_model, device_os, os_family, client_type, client_version, \
                     client_version_key, access_state, access_state_reason, last_success_sync, \
                     first_sync_time, search_text, first_seen_at, last_seen_at, removed_at) \
                 VALUES ('c', ?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                         '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', ?17)",
            )
            .bind(format!("g{:04}", (i * 7919) % 10_000))
            .bind(format!("ID{i}"))
            .bind(opt(pick(i, 3, &["ann", "Bob", "-", "cy"])))
            .bind(opt(pick(i, 5, &["Phone", "phone", "-", "Tab"])))
            .bind(opt(pick(i, 2, &["iPhone", "Android", "-"])))
            .bind(opt(pick(i, 11, &["m1", "M2", "-"])))
            .bind(opt(pick(i, 17, &["iOS 17", "Android 14", "-"])))
            .bind(pick(i, 19, &["iOS", "Android", "Other"]))
            .bind(opt(pick(i, 23, &["EAS", "Outlook", "-"])))
            .bind(opt(pick(i, 29, &["16.1", "14.1", "-"])))
            .bind(crate::model::version_key(Some(&pick(i, 29, &["16.1", "14.1", "-"]))))
            .bind(pick(i, 31, &["Allowed", "Allowed", "Blocked", "Quarantined", "Unknown"]))
            .bind(opt(pick(i, 37, &["Global", "DeviceRule", "-"])))
            .bind((i % 5 != 0).then(|| format!("2026-0{day}-01T00:00:00+00:00")))
            .bind((i % 3 != 0).then(|| format!("2025-0{day}-01T00:00:00+00:00")))
            .bind(format!("id{i}\nphone"))
            .bind((i % 11 == 0).then_some("2026-02-01T00:00:00+00:00"))
            .execute(pool)
            .await
            .expect("device");
    }
    (dir, db)
}

fn sort_sql(sort: DeviceSort) -> &'static [&'static str] {
    match sort {
        DeviceSort::User => &["lower(COALESCE(mailbox, ''))"],
        DeviceSort::Name => &["lower(COALESCE(friendly_name, ''))"],
        DeviceSort::Type => &[
            "lower(COALESCE(device_type, ''))",
            "lower(COALESCE(device_model, ''))",
        ],
        DeviceSort::Os => &["COALESCE(os_family, '')", "lower(COALESCE(device_os, ''))"],
        DeviceSort::Client => &[
            "COALESCE(client_type, '')",
            "COALESCE(client_version_key, -1)",
        ],
        DeviceSort::State => &["access_state", "COALESCE(access_state_reason, '')"],
        DeviceSort::LastSync => &["COALESCE(last_success_sync, '')"],
        DeviceSort::FirstSync => &["COALESCE(first_sync_time, '')"],
    }
}

/// The whole list by one plain query: what the pages must add up to.
async fn oracle(
    pool: &SqlitePool,
    filter_sql: &str,
    sort: DeviceSort,
    dir: SortDir,
) -> Vec<String> {
    let order = if dir == SortDir::Asc { "ASC" } else { "DESC" };
    let keys: Vec<String> = sort_sql(sort)
        .iter()
        .map(|k| format!("{k} {order}"))
        .collect();
    let sql = format!(
        "SELECT guid FROM devices WHERE connector_id = 'c' AND {filter_sql} ORDER BY {}, guid {order}",
        keys.join(", ")
    );
    sqlx::query_scalar(&sql)
        .fetch_all(pool)
        .await
        .expect("oracle")
}

#[tokio::test]
async fn pages_forwards_and_back_give_exactly_what_one_sorted_query_gives() {
    let (_dir, db) = store(240).await;
    let pool = db.pool();
    let list = Catalog::load(pool, "c", 1).await.expect("catalog");
    let present = "removed_at IS NULL";
    let f = DeviceFilter::default;
    let cases: Vec<(DeviceFilter, String)> = vec![
        (f(), present.into()),
        (DeviceFilter { state: Some(StateBucket::Allowed), ..f() }, format!("{present} AND access_state = 'Allowed'")),
        (
            DeviceFilter { state: Some(StateBucket::Other), ..f() },
            format!("{present} AND access_state NOT IN ('Allowed', 'Blocked', 'Quarantined', 'DeviceDiscovery')"),
        ),
        (DeviceFilter { reason: Some("Global".into()), ..f() }, format!("{present} AND access_state_reason = 'Global'")),
        (DeviceFilter { removed: Removed::Only, ..f() }, "removed_at IS NOT NULL".into()),
        (
            DeviceFilter { legacy_eas: true, ..f() },
            format!("{present} AND client_type = 'EAS' AND client_version_key BETWEEN 0 AND 16000"),
        ),
        (DeviceFilter { q: Some("PHONE".into()), ..f() }, format!("{present} AND search_text LIKE '%phone%'")),
        (DeviceFilter { device_type: Some("IPHONE".into()), ..f() }, format!("{present} AND lower(device_type) = 'iphone'")),
        (DeviceFilter { client: Some("eas".into()), ..f() }, format!("{present} AND client_type = 'EAS'")),
        (DeviceFilter { os: Some(OsFamily::Ios), ..f() }, format!("{present} AND os_family = 'iOS'")),
        (
            DeviceFilter { stale: Some(Staleness::Never), ..f() },
            format!("{present} AND last_success_sync IS NULL AND COALESCE(client_type, '') <> 'Outlook'"),
        ),
        (DeviceFilter { reason: Some("NoSuchReason".into()), ..f() }, "0".into()),
    ];
    let now = Utc::now();
    for (filter, sql) in &cases {
        for sort in DeviceSort::ALL {
            for dir in [SortDir::Asc, SortDir::Desc] {
                let want = oracle(pool, sql, sort, dir).await;
                assert_eq!(
                    list.count(filter, None, now),
                    want.len() as u64,
                    "{filter:?}"
                );
                let all: Vec<String> = list
                    .all(filter, None, sort, dir, now)
                    .iter()
                    .map(|e| list.text(e.guid).to_owned())
                    .collect();
                assert_eq!(all, want, "{filter:?} {sort:?} {dir:?}");
                let mut pages: Vec<Vec<&Entry>> = Vec::new();
                loop {
                    let last = pages
                        .last()
                        .and_then(|p| p.last())
                        .map(|e| list.position(sort, e));
                    let from = last.as_ref().map(|p| (p, Direction::After));
                    let page = list.page(filter, None, sort, dir, from, 7, now);
                    let done = page.len() < 7;
                    pages.push(page);
                    if done {
                        break;
                    }
                }
                let walked: Vec<String> = pages
                    .iter()
                    .flatten()
                    .map(|e| list.text(e.guid).to_owned())
                    .collect();
                assert_eq!(walked, want, "{filter:?} {sort:?} {dir:?}");
                // Back from each page's first row: exactly the page before it.
                for i in 1..pages.len() {
                    let Some(first) = pages[i].first() else {
                        continue;
                    };
                    let p = list.position(sort, first);
                    let back: Vec<&str> = list
                        .page(
                            filter,
                            None,
                            sort,
                            dir,
                            Some((&p, Direction::Before)),
                            7,
                            now,
                        )
                        .iter()
                        .map(|e| list.text(e.guid))
                        .collect();
                    let expected: Vec<&str> =
                        pages[i - 1].iter().map(|e| list.text(e.guid)).collect();
                    assert_eq!(back, expected, "{filter:?} {sort:?} {dir:?} page {i}");
                }
            }
        }
    }
}

#[test]
fn client_types_are_read_in_any_case() {
    assert_eq!(canonical_client("eas"), "EAS");
    assert_eq!(canonical_client("Weird"), "Weird");
}
