//! Rows of the device list read by key: the page the in-memory list (`devices::catalog`)
//! picked, in its order.

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::model::DeviceRow;

use super::super::devices::derive;

/// The columns of a list row.
pub(crate) const ROW_COLUMNS: &str = "guid, mailbox, user_display_name, device_id, friendly_name, \
    device_type, device_model, device_os, client_type, client_version, access_state, \
    access_state_reason, last_success_sync, first_sync_time, removed_at";

/// The rows of `guids` (devices of `connector_id`), in the order given; a GUID no longer
/// stored is left out.
pub(crate) async fn rows(
    pool: &SqlitePool,
    connector_id: &str,
    guids: &[&str],
) -> Result<Vec<DeviceRow>, sqlx::Error> {
    if guids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {ROW_COLUMNS} FROM devices WHERE connector_id = "
    ));
    q.push_bind(connector_id.to_owned()).push(" AND guid IN (");
    let mut list = q.separated(", ");
    for g in guids {
        list.push_bind((*g).to_owned());
    }
    q.push(")");
    let mut found: std::collections::HashMap<String, DeviceRow> = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| read_row(r).map(|d| (d.guid.clone(), d)))
        .collect::<Result<_, _>>()?;
    Ok(guids.iter().filter_map(|g| found.remove(*g)).collect())
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
