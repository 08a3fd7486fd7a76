//! The `devices` table. Devices that leave Exchange are marked removed, never deleted; a sync
//! writes them through `staging::merge`.

use sqlx::{Row, SqlitePool};

use crate::model::StateCount;

/// Present devices of `connector_id` counted by access state (unsorted).
pub(crate) async fn count_by_state(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<StateCount>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT access_state, COUNT(*) AS n FROM devices \
          WHERE connector_id = ?1 AND removed_at IS NULL GROUP BY access_state",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StateCount {
                state: row.try_get("access_state")?,
                count: u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0),
            })
        })
        .collect()
}

/// The present devices of `connector_id` counted by access state and reason.
pub(crate) async fn count_by_state_and_reason(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<(String, String, u64)>, sqlx::Error> {
    // Read from the state index alone (its expressions, its partial condition).
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT access_state, COALESCE(access_state_reason, '') AS reason, COUNT(*) FROM devices \
          WHERE connector_id = ?1 AND removed_at IS NULL \
          GROUP BY access_state, COALESCE(access_state_reason, '')",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(s, r, n)| (s, r, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// The device types the organization's device classes name (Get-ActiveSyncDeviceClass), for
/// the filter; sorted, each once.
pub(crate) async fn device_types(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT device_type FROM device_classes \
          WHERE connector_id = ?1 AND COALESCE(device_type, '') <> '' ORDER BY device_type",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await
}

/// The current connector's id (the one not removed), if any.
pub(crate) async fn current_connector(pool: &SqlitePool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM connectors WHERE removed_at IS NULL ORDER BY set_up_at LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// Every column of one device (present or removed), or `None`.
pub(crate) async fn one(
    pool: &SqlitePool,
    connector_id: &str,
    guid: &str,
) -> Result<Option<sqlx::sqlite::SqliteRow>, sqlx::Error> {
    sqlx::query("SELECT * FROM devices WHERE connector_id = ?1 AND guid = ?2")
        .bind(connector_id)
        .bind(guid)
        .fetch_optional(pool)
        .await
}

/// The organization's default access level as the last full sync read it.
pub(crate) async fn default_access_level(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let level: Option<Option<String>> = sqlx::query_scalar(
        "SELECT default_access_level FROM exchange_settings WHERE connector_id = ?1",
    )
    .bind(connector_id)
    .fetch_optional(pool)
    .await?;
    Ok(level.flatten())
}

/// The device access rules as the last full sync read them, oldest name first:
/// (name, query string, characteristic, access level).
pub(crate) async fn rules(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(name, identity), COALESCE(query_string, ''), \
                COALESCE(characteristic, ''), COALESCE(access_level, '') \
           FROM device_access_rules WHERE connector_id = ?1 ORDER BY identity",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await
}

/// Present EAS devices below `below_key` (a version key), grouped by user agent, OS family and
/// client version: (agent, family, version, count).
pub(crate) async fn legacy_groups(
    pool: &SqlitePool,
    connector_id: &str,
    below_key: i64,
) -> Result<Vec<(Option<String>, String, Option<String>, u64)>, sqlx::Error> {
    let rows: Vec<(Option<String>, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT device_user_agent, COALESCE(os_family, ''), client_version, COUNT(*) FROM devices \
          WHERE connector_id = ?1 AND removed_at IS NULL \
            AND COALESCE(client_type, '') = 'EAS' \
            AND COALESCE(client_version_key, -1) BETWEEN 0 AND ?2 \
          GROUP BY device_user_agent, COALESCE(os_family, ''), client_version",
    )
    .bind(connector_id)
    .bind(below_key - 1)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(a, f, v, n)| (a, f, v, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Present devices by client type (from the client index alone).
pub(crate) async fn count_by_client(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<(String, u64)>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT COALESCE(client_type, ''), COUNT(*) FROM devices \
          WHERE connector_id = ?1 AND removed_at IS NULL GROUP BY COALESCE(client_type, '')",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, n)| (c, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Whether `connector_id` has synced: a successful sync on record, or any device stored.
pub(crate) async fn has_synced(pool: &SqlitePool, connector_id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM connectors WHERE id = ?1 AND last_sync_at IS NOT NULL) \
             OR EXISTS (SELECT 1 FROM devices WHERE connector_id = ?1)",
    )
    .bind(connector_id)
    .fetch_one(pool)
    .await
}

/// Present Outlook mobile devices without any EAS sync time (they report none).
pub(crate) async fn outlook_without_sync_times(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM devices WHERE connector_id = ?1 AND removed_at IS NULL \
            AND COALESCE(last_success_sync, '') = '' AND COALESCE(client_type, '') = 'Outlook'",
    )
    .bind(connector_id)
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
