//! The `device_events` table: what syncs observed of each device (a change of access state, of
//! client or of owner, its removal and its return). Written inside a sync's final transaction,
//! read newest first on the device's page.

use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::model::{DeviceEvent, DeviceEventKind};

/// Records how the staged devices differ from the stored ones, before the merge writes them:
/// one event per changed access state (with the new reason and rule), client type or version,
/// and owner (mailbox), and one for a removed device that is listed again. Only staged rows are
/// looked at (a sync stages only what differs), so the cost follows the changes.
pub(crate) async fn record_changes(
    conn: &mut SqliteConnection,
    connector_id: &str,
    run_id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // One pass over the join, materialized, then one row per kind of change.
    sqlx::query(
        "WITH changed AS MATERIALIZED ( \
             SELECT d.guid, \
                    v.access_state AS old_state, d.access_state AS new_state, \
                    d.access_state_reason AS reason, d.access_control_rule AS rule, \
                    TRIM(COALESCE(v.client_type, '') || ' ' || COALESCE(v.client_version, '')) \
                        AS old_client, \
                    TRIM(COALESCE(d.client_type, '') || ' ' || COALESCE(d.client_version, '')) \
                        AS new_client, \
                    v.mailbox AS old_owner, d.mailbox AS new_owner, \
                    v.removed_at IS NOT NULL AS came_back \
               FROM temp.staging_devices d \
               JOIN devices v ON v.connector_id = ?1 AND v.guid = d.guid \
         ) \
         INSERT INTO device_events (connector_id, guid, at, run_id, kind, old_value, new_value, \
                                    reason, rule) \
         SELECT ?1, guid, ?2, ?3, 'returned', NULL, NULL, NULL, NULL FROM changed \
          WHERE came_back \
         UNION ALL \
         SELECT ?1, guid, ?2, ?3, 'stateChanged', old_state, new_state, reason, rule \
           FROM changed WHERE old_state IS NOT new_state \
         UNION ALL \
         SELECT ?1, guid, ?2, ?3, 'clientChanged', old_client, new_client, NULL, NULL \
           FROM changed WHERE old_client IS NOT new_client \
         UNION ALL \
         SELECT ?1, guid, ?2, ?3, 'ownerChanged', old_owner, new_owner, NULL, NULL \
           FROM changed WHERE old_owner IS NOT new_owner",
    )
    .bind(connector_id)
    .bind(now)
    .bind(run_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the removal of the devices a merge has just marked removed at `now`.
pub(crate) async fn record_removals(
    conn: &mut SqliteConnection,
    connector_id: &str,
    run_id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO device_events (connector_id, guid, at, run_id, kind) \
         SELECT connector_id, guid, ?2, ?3, 'removed' FROM devices \
          WHERE connector_id = ?1 AND removed_at = ?2",
    )
    .bind(connector_id)
    .bind(now)
    .bind(run_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The events of one device, newest first (at most `limit`).
pub(crate) async fn of_device(
    pool: &SqlitePool,
    connector_id: &str,
    guid: &str,
    limit: u32,
) -> Result<Vec<DeviceEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, kind, old_value, new_value, reason, rule FROM device_events \
          WHERE connector_id = ?1 AND guid = ?2 ORDER BY at DESC, id DESC LIMIT ?3",
    )
    .bind(connector_id)
    .bind(guid)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get("kind")?;
        // A kind this version does not know (written by a newer one) is left out.
        let Some(kind) = DeviceEventKind::parse(&kind) else {
            continue;
        };
        events.push(DeviceEvent {
            at: row.try_get("at")?,
            kind,
            old_value: row.try_get("old_value")?,
            new_value: row.try_get("new_value")?,
            reason: row.try_get("reason")?,
            rule: row.try_get("rule")?,
        });
    }
    Ok(events)
}
