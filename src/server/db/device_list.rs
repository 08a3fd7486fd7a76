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

/// Up to `limit` rows of the list sorted by `sort` in `dir`, starting after (or, read backwards,
/// before) `from`, each with its position.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn page(
    pool: &SqlitePool,
    connector_id: &str,
    filter: &DeviceFilter,
    sort: DeviceSort,
    dir: SortDir,
    from: Option<(&Position, Direction)>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<(DeviceRow, Position)>, sqlx::Error> {
    let keys = sort_keys(sort);
    let reading = match from {
        Some((_, Direction::Before)) => dir.flip(),
        _ => dir,
    };
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!("SELECT {ROW_COLUMNS}"));
    for (i, k) in keys.iter().enumerate() {
        q.push(format!(", {k} AS k{i}"));
    }
    q.push(" FROM devices WHERE connector_id = ")
        .push_bind(connector_id.to_owned());
    push_filter(&mut q, filter, now);
    if let Some((position, _)) = from {
        if position.len() == keys.len() + 1 {
            q.push(" AND (");
            q.push(keys.join(", "));
            q.push(", guid) ");
            q.push(match reading {
                SortDir::Asc => ">",
                SortDir::Desc => "<",
            });
            q.push(" (");
            let mut values = q.separated(", ");
            for v in position {
                match v {
                    Value::Number(n) => values.push_bind(n.as_i64().unwrap_or(0)),
                    Value::String(s) => values.push_bind(s.clone()),
                    _ => values.push_bind(String::new()),
                };
            }
            q.push(")");
        }
    }
    let order = match reading {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    };
    q.push(" ORDER BY ");
    for k in keys {
        q.push(format!("{k} {order}, "));
    }
    q.push(format!("guid {order} LIMIT "))
        .push_bind(i64::from(limit));
    let rows = q.build().fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let mut position = Vec::with_capacity(keys.len() + 1);
            for i in 0..keys.len() {
                let name = format!("k{i}");
                position.push(match r.try_get::<i64, _>(name.as_str()) {
                    Ok(n) => Value::from(n),
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

    #[test]
    fn search_text_is_taken_literally() {
        assert_eq!(like_pattern("50%_a\\B"), "%50\\%\\_a\\\\b%");
        assert_eq!(canonical_client("eas"), "EAS");
        assert_eq!(canonical_client("Weird"), "Weird");
    }
}
