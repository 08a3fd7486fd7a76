//! The `devices` table. Devices that leave Exchange are marked removed, never deleted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::model::{Device, StateCount};

/// What a full replacement changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReplaceCounts {
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
}

/// Makes the stored devices of `connector_id` equal to `devices` (a complete list from Exchange):
/// new ones inserted, known ones updated, missing ones marked removed. Run it inside the sync's
/// transaction so that a failure leaves the previous data as it was.
pub(crate) async fn replace_all(
    conn: &mut SqliteConnection,
    connector_id: &str,
    devices: &[Device],
    now: DateTime<Utc>,
) -> Result<ReplaceCounts, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT guid, when_changed_utc, removed_at IS NOT NULL AS removed \
           FROM devices WHERE connector_id = ?1",
    )
    .bind(connector_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut known: HashMap<String, (Option<DateTime<Utc>>, bool)> =
        HashMap::with_capacity(rows.len());
    for row in rows {
        known.insert(
            row.try_get("guid")?,
            (row.try_get("when_changed_utc")?, row.try_get("removed")?),
        );
    }

    let mut counts = ReplaceCounts::default();
    for device in devices {
        match known.remove(&device.guid) {
            None | Some((_, true)) => counts.added += 1,
            Some((changed, false)) if changed != device.when_changed_utc => counts.changed += 1,
            Some(_) => {}
        }
        upsert(&mut *conn, connector_id, device, now).await?;
    }

    for (guid, (_, removed)) in known {
        if removed {
            continue;
        }
        sqlx::query("UPDATE devices SET removed_at = ?3 WHERE connector_id = ?1 AND guid = ?2")
            .bind(connector_id)
            .bind(&guid)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        counts.removed += 1;
    }
    Ok(counts)
}

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

async fn upsert(
    conn: &mut SqliteConnection,
    connector_id: &str,
    d: &Device,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO devices (connector_id, guid, identity, device_id, friendly_name, device_type, \
             device_model, device_os, device_user_agent, user_display_name, access_state, \
             access_state_reason, client_type, client_version, first_sync_time, \
             when_changed_utc, first_seen_at, last_seen_at, removed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, NULL) \
         ON CONFLICT (connector_id, guid) DO UPDATE SET identity = excluded.identity, \
             device_id = excluded.device_id, friendly_name = excluded.friendly_name, \
             device_type = excluded.device_type, device_model = excluded.device_model, \
             device_os = excluded.device_os, device_user_agent = excluded.device_user_agent, \
             user_display_name = excluded.user_display_name, \
             access_state = excluded.access_state, \
             access_state_reason = excluded.access_state_reason, \
             client_type = excluded.client_type, client_version = excluded.client_version, \
             first_sync_time = excluded.first_sync_time, \
             when_changed_utc = excluded.when_changed_utc, \
             last_seen_at = excluded.last_seen_at, removed_at = NULL",
    )
    .bind(connector_id)
    .bind(&d.guid)
    .bind(&d.identity)
    .bind(&d.device_id)
    .bind(&d.friendly_name)
    .bind(&d.device_type)
    .bind(&d.device_model)
    .bind(&d.device_os)
    .bind(&d.device_user_agent)
    .bind(&d.user_display_name)
    .bind(&d.access_state)
    .bind(&d.access_state_reason)
    .bind(&d.client_type)
    .bind(&d.client_version)
    .bind(d.first_sync_time)
    .bind(d.when_changed_utc)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
