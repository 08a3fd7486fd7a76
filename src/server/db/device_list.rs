//! The device list as SQL: filters, sorts with keyset paging (a page continues after or ends
//! before the sort key of a row, then its GUID, so equal keys lose and repeat nothing), the
//! count of a filter, and the rows of a whole filter for the CSV export.
//!
//! Each sort's key expressions are exactly those of an index in the migration
//! `20261124000009_devices_pages.sql` (same text), so a page reads the index in order and stops
//! after one page. Portable SQL: row-value comparisons, `COALESCE`, `lower`, `LIKE … ESCAPE`.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::model::{DeviceFilter, DeviceRow, DeviceSort, Removed, SortDir, Staleness, StateBucket};

use super::super::devices::derive;

/// The key expressions of `sort`, in order (the GUID follows as the last key).
pub(crate) fn sort_keys(sort: DeviceSort) -> &'static [&'static str] {
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

/// The columns of a list row (and of a CSV line, which adds the rest).
pub(crate) const ROW_COLUMNS: &str = "guid, mailbox, user_display_name, device_id, friendly_name, \
    device_type, device_model, device_os, client_type, client_version, access_state, \
    access_state_reason, last_success_sync, first_sync_time, removed_at";

/// A position in a sorted list: the sort keys of a row, then its GUID.
pub(crate) type Position = Vec<Value>;

/// Appends `AND …` for every filter of `f` (and the present/removed choice).
pub(crate) fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &DeviceFilter, now: DateTime<Utc>) {
    q.push(match f.removed {
        Removed::Hidden => " AND removed_at IS NULL",
        Removed::Only => " AND removed_at IS NOT NULL",
    });
    if let Some(text) = &f.q {
        q.push(" AND search_text LIKE ")
            .push_bind(like_pattern(text))
            .push(" ESCAPE '\\'");
    }
    match f.state {
        Some(StateBucket::Other) => {
            q.push(
                " AND access_state NOT IN ('Allowed', 'Blocked', 'Quarantined', 'DeviceDiscovery')",
            );
        }
        Some(s) => {
            q.push(" AND access_state = ").push_bind(s.as_str());
        }
        None => {}
    }
    if let Some(r) = &f.reason {
        q.push(" AND COALESCE(access_state_reason, '') = ")
            .push_bind(r.clone());
    }
    if let Some(c) = &f.client {
        q.push(" AND COALESCE(client_type, '') = ")
            .push_bind(canonical_client(c));
    }
    if let Some(t) = &f.device_type {
        q.push(" AND lower(COALESCE(device_type, '')) = ")
            .push_bind(t.to_lowercase());
    }
    if let Some(os) = f.os {
        q.push(" AND COALESCE(os_family, '') = ")
            .push_bind(os.as_str());
    }
    if let Some(agent) = &f.agent {
        q.push(" AND device_user_agent = ").push_bind(agent.clone());
    }
    if let Some(version) = &f.version {
        q.push(" AND client_version = ").push_bind(version.clone());
    }
    if f.legacy_eas {
        q.push(" AND COALESCE(client_type, '') = 'EAS' AND COALESCE(client_version_key, -1) BETWEEN 0 AND ")
            .push_bind(crate::model::EAS_MINIMUM_KEY - 1);
    }
    match f.stale {
        Some(Staleness::Days(days)) => {
            q.push(
                " AND COALESCE(last_success_sync, '') <> '' AND COALESCE(last_success_sync, '') < ",
            )
            .push_bind(now - Duration::days(i64::from(days)));
        }
        Some(Staleness::Never) => {
            q.push(" AND COALESCE(last_success_sync, '') = '' AND COALESCE(client_type, '') <> 'Outlook'");
        }
        None => {}
    }
}

/// `%text%` for LIKE, lower-case, with `\`, `%` and `_` taken literally.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Client types as Exchange spells them, whatever case the address used.
fn canonical_client(value: &str) -> String {
    ["EAS", "Outlook", "REST", "MOWA"]
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(value))
        .map_or_else(|| value.to_owned(), str::to_owned)
}

/// Devices of `connector_id` matching `filter`.
pub(crate) async fn count(
    pool: &SqlitePool,
    connector_id: &str,
    filter: &DeviceFilter,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new("SELECT COUNT(*) FROM devices WHERE connector_id = ");
    q.push_bind(connector_id.to_owned());
    push_filter(&mut q, filter, now);
    let n: i64 = q.build_query_scalar().fetch_one(pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Which way a page is read from its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The rows after the position, in the list's order.
    After,
    /// The rows before the position, read backwards (the caller turns them round).
    Before,
}

/// How a page is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Along the sort's index from the position, checking the filter on each row: cheap when
    /// many rows match (the first page-full is found after a few rows).
    SortIndex,
    /// Every matching row through the filter's own index, then sorted: cheap when few match.
    /// The sort keys are written so that no index serves them (`k || ''`, `k + 0`).
    FilterIndex,
}

/// A sort key as the plan writes it.
fn key_expr(key: &str, plan: Plan) -> String {
    match plan {
        Plan::SortIndex => key.to_owned(),
        Plan::FilterIndex if key.contains("client_version_key") => format!("({key} + 0)"),
        Plan::FilterIndex => format!("({key} || '')"),
    }
}

/// Binds one value of a position.
fn push_value(q: &mut QueryBuilder<'_, Sqlite>, v: &Value) {
    match v {
        Value::Number(n) => q.push_bind(n.as_i64().unwrap_or(0)),
        Value::String(s) => q.push_bind(s.clone()),
        _ => q.push_bind(String::new()),
    };
}

/// Up to `limit` rows of the list sorted by `sort` in `dir`, starting after (or, read backwards,
/// before) `from`, each with its position.
///
/// With [`Plan::SortIndex`] and a position, the rows after `(k1, k2, guid) > (a, b, c)` are read
/// as the union of the ranges `k1 = a AND k2 = b AND guid > c`, `k1 = a AND k2 > b` and
/// `k1 > a`, each one range of the sort's index in order (a row-value comparison is not used
/// as an index range by SQLite), so a page deep into a long run of equal keys costs what the
/// first page costs.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn page(
    pool: &SqlitePool,
    connector_id: &str,
    filter: &DeviceFilter,
    sort: DeviceSort,
    dir: SortDir,
    from: Option<(&Position, Direction)>,
    limit: u32,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<Vec<(DeviceRow, Position)>, sqlx::Error> {
    let reading = match from {
        Some((_, Direction::Before)) => dir.flip(),
        _ => dir,
    };
    let (order, cmp) = match reading {
        SortDir::Asc => ("ASC", ">"),
        SortDir::Desc => ("DESC", "<"),
    };
    // The sort keys, then the GUID, as this plan writes them.
    let mut keys: Vec<String> = sort_keys(sort).iter().map(|k| key_expr(k, plan)).collect();
    keys.push(key_expr("guid", plan));
    let n = keys.len();
    let position = from.map(|(p, _)| p).filter(|p| p.len() == n);
    let select = |q: &mut QueryBuilder<'_, Sqlite>| {
        q.push(format!("SELECT {ROW_COLUMNS}"));
        for (i, k) in keys[..n - 1].iter().enumerate() {
            q.push(format!(", {k} AS k{i}"));
        }
        q.push(" FROM devices WHERE connector_id = ")
            .push_bind(connector_id.to_owned());
        push_filter(q, filter, now);
    };
    let order_by = |q: &mut QueryBuilder<'_, Sqlite>, from_key: usize, aliases: bool| {
        q.push(" ORDER BY ");
        let names: Vec<String> = (from_key..n)
            .map(|i| match (aliases, i + 1 == n) {
                (_, true) => "guid".to_owned(),
                (true, false) => format!("k{i}"),
                (false, false) => keys[i].clone(),
            })
            .collect();
        q.push(
            names
                .iter()
                .map(|k| format!("{k} {order}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    };
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("");
    match (position, plan) {
        (None, _) => {
            select(&mut q);
            order_by(&mut q, 0, false);
        }
        (Some(p), Plan::FilterIndex) => {
            select(&mut q);
            q.push(format!(" AND ({}) {cmp} (", keys.join(", ")));
            for (i, v) in p.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                push_value(&mut q, v);
            }
            q.push(")");
            order_by(&mut q, 0, false);
        }
        (Some(p), Plan::SortIndex) => {
            // Part j: the first j keys equal to the position's, key j past it; ordered by the
            // keys from j on (the ones before are constant in it).
            for j in 0..n {
                if j > 0 {
                    q.push(" UNION ALL ");
                }
                q.push("SELECT * FROM (");
                select(&mut q);
                for i in 0..j {
                    q.push(format!(" AND {} = ", keys[i]));
                    push_value(&mut q, &p[i]);
                }
                q.push(format!(" AND {} {cmp} ", keys[j]));
                push_value(&mut q, &p[j]);
                order_by(&mut q, j, false);
                q.push(" LIMIT ").push_bind(i64::from(limit));
                q.push(format!(") AS part{j}"));
            }
            order_by(&mut q, 0, true);
        }
    }
    q.push(" LIMIT ").push_bind(i64::from(limit));
    let rows = q.build().fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let mut position = Vec::with_capacity(n);
            for i in 0..n - 1 {
                let name = format!("k{i}");
                position.push(match r.try_get::<i64, _>(name.as_str()) {
                    Ok(v) => Value::from(v),
                    Err(_) => Value::from(r.try_get::<String, _>(name.as_str())?),
                });
            }
            let row = read_row(r)?;
            position.push(Value::from(row.guid.clone()));
            Ok((row, position))
        })
        .collect()
}

/// One list row.
pub(crate) fn read_row(r: &SqliteRow) -> Result<DeviceRow, sqlx::Error> {
    let display: Option<String> = r.try_get("user_display_name")?;
    Ok(DeviceRow {
        guid: r.try_get("guid")?,
        user: r.try_get("mailbox")?,
        user_name: derive::user_name(display.as_deref()),
        device_id: r.try_get("device_id")?,
        friendly_name: r.try_get("friendly_name")?,
        device_type: r.try_get("device_type")?,
        device_model: r.try_get("device_model")?,
        device_os: r.try_get("device_os")?,
        client_type: r.try_get("client_type")?,
        client_version: r.try_get("client_version")?,
        access_state: r.try_get("access_state")?,
        access_state_reason: r.try_get("access_state_reason")?,
        last_success_sync: r.try_get("last_success_sync")?,
        first_sync_time: r.try_get("first_sync_time")?,
        removed_at: r.try_get("removed_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// The whole list by one plain query: what keyset pages must add up to.
    async fn oracle(
        pool: &SqlitePool,
        f: &DeviceFilter,
        sort: DeviceSort,
        dir: SortDir,
    ) -> Vec<String> {
        let order = if dir == SortDir::Asc { "ASC" } else { "DESC" };
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT guid FROM devices WHERE connector_id = 'c'");
        push_filter(&mut q, f, Utc::now());
        let keys: Vec<String> = sort_keys(sort)
            .iter()
            .map(|k| format!("{k} {order}"))
            .collect();
        q.push(format!(" ORDER BY {}, guid {order}", keys.join(", ")));
        q.build_query_scalar()
            .fetch_all(pool)
            .await
            .expect("oracle")
    }

    #[tokio::test]
    async fn both_plans_page_forwards_and_back_through_exactly_the_whole_list() {
        let (_dir, db) = store(240).await;
        let pool = db.pool();
        let filters = [
            DeviceFilter::default(),
            DeviceFilter {
                state: Some(StateBucket::Allowed),
                ..DeviceFilter::default()
            },
            DeviceFilter {
                state: Some(StateBucket::Other),
                ..DeviceFilter::default()
            },
            DeviceFilter {
                reason: Some("Global".into()),
                ..DeviceFilter::default()
            },
            DeviceFilter {
                removed: Removed::Only,
                ..DeviceFilter::default()
            },
            DeviceFilter {
                legacy_eas: true,
                ..DeviceFilter::default()
            },
            DeviceFilter {
                q: Some("PHONE".into()),
                ..DeviceFilter::default()
            },
        ];
        let now = Utc::now();
        for f in &filters {
            for sort in DeviceSort::ALL {
                for dir in [SortDir::Asc, SortDir::Desc] {
                    let want = oracle(pool, f, sort, dir).await;
                    for plan in [Plan::SortIndex, Plan::FilterIndex] {
                        let mut got: Vec<(DeviceRow, Position)> = Vec::new();
                        let mut pages: Vec<Vec<String>> = Vec::new();
                        loop {
                            let from = got.last().map(|(_, p)| (p, Direction::After));
                            let rows = page(pool, "c", f, sort, dir, from, 7, plan, now)
                                .await
                                .expect("page");
                            let done = rows.len() < 7;
                            pages.push(rows.iter().map(|(r, _)| r.guid.clone()).collect());
                            got.extend(rows);
                            if done {
                                break;
                            }
                        }
                        let guids: Vec<String> = got.iter().map(|(r, _)| r.guid.clone()).collect();
                        assert_eq!(guids, want, "{f:?} {sort:?} {dir:?} {plan:?}");
                        // Backwards from each page's first row: the page before it.
                        for i in 1..pages.len() {
                            let first = &got[i * 7].1;
                            let mut back = page(
                                pool,
                                "c",
                                f,
                                sort,
                                dir,
                                Some((first, Direction::Before)),
                                7,
                                plan,
                                now,
                            )
                            .await
                            .expect("back");
                            back.reverse();
                            let back: Vec<String> = back.into_iter().map(|(r, _)| r.guid).collect();
                            assert_eq!(
                                back,
                                pages[i - 1],
                                "{f:?} {sort:?} {dir:?} {plan:?} page {i}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn search_text_is_taken_literally() {
        assert_eq!(like_pattern("50%_a\\B"), "%50\\%\\_a\\\\b%");
        assert_eq!(canonical_client("eas"), "EAS");
        assert_eq!(canonical_client("Weird"), "Weird");
    }
}
