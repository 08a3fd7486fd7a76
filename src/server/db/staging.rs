//! Staging: what a running sync has read, written page by page (so the tenant is never held in
//! memory), then merged into `devices` in the run's final transaction. Rows belong to one run.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::model::Device;

/// Rows per multi-row INSERT (well under SQLite's limit of bound values).
const BATCH: usize = 400;

/// The statistics of one device (`Get-MobileDeviceStatistics`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DeviceStatistics {
    pub guid: String,
    pub last_success_sync: Option<DateTime<Utc>>,
    pub last_sync_attempt_time: Option<DateTime<Utc>>,
    pub last_policy_update_time: Option<DateTime<Utc>>,
    pub last_ping_heartbeat: Option<i64>,
    pub number_of_folders_synced: Option<i64>,
    pub device_policy_applied: Option<String>,
    pub device_policy_application_status: Option<String>,
    pub status: Option<String>,
    pub status_note: Option<String>,
    pub is_remote_wipe_supported: Option<bool>,
    pub device_wipe_request_time: Option<DateTime<Utc>>,
    pub device_wipe_sent_time: Option<DateTime<Utc>>,
    pub device_wipe_ack_time: Option<DateTime<Utc>>,
    pub last_device_wipe_requestor: Option<String>,
}

/// The mailbox part of a device identity `<mailbox>\ExchangeActiveSyncDevices\<name>`.
pub(crate) fn mailbox_of(identity: &str) -> Option<&str> {
    let (mailbox, _) = identity.split_once('\\')?;
    let mailbox = mailbox.trim();
    (!mailbox.is_empty()).then_some(mailbox)
}

/// Stages one page of devices (a later copy of the same device replaces an earlier one).
pub(crate) async fn put_devices(
    conn: &mut SqliteConnection,
    run_id: &str,
    connector_id: &str,
    devices: &[Device],
) -> Result<(), sqlx::Error> {
    for chunk in devices.chunks(BATCH) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT OR REPLACE INTO sync_staging_devices (run_id, connector_id, guid, identity, \
             mailbox, device_id, friendly_name, device_type, device_model, device_os, \
             device_user_agent, user_display_name, access_state, access_state_reason, \
             client_type, client_version, first_sync_time, when_changed_utc) ",
        );
        q.push_values(chunk, |mut b, d| {
            b.push_bind(run_id)
                .push_bind(connector_id)
                .push_bind(&d.guid)
                .push_bind(&d.identity)
                .push_bind(mailbox_of(&d.identity))
                .push_bind(&d.device_id)
                .push_bind(&d.friendly_name)
                .push_bind(&d.device_type)
                .push_bind(&d.device_model)
                .push_bind(&d.device_os)
                .push_bind(&d.device_user_agent)
                .push_bind(&d.user_display_name)
                .push_bind(&d.access_state)
                .push_bind(&d.access_state_reason)
                .push_bind(&d.client_type)
                .push_bind(&d.client_version)
                .push_bind(d.first_sync_time)
                .push_bind(d.when_changed_utc);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Stages device statistics.
pub(crate) async fn put_statistics(
    conn: &mut SqliteConnection,
    run_id: &str,
    stats: &[DeviceStatistics],
) -> Result<(), sqlx::Error> {
    for chunk in stats.chunks(BATCH) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT OR REPLACE INTO sync_staging_statistics (run_id, guid, last_success_sync, \
             last_sync_attempt_time, last_policy_update_time, last_ping_heartbeat, \
             number_of_folders_synced, device_policy_applied, device_policy_application_status, \
             sync_status, status_note, is_remote_wipe_supported, device_wipe_request_time, \
             device_wipe_sent_time, device_wipe_ack_time, last_device_wipe_requestor) ",
        );
        q.push_values(chunk, |mut b, s| {
            b.push_bind(run_id)
                .push_bind(&s.guid)
                .push_bind(s.last_success_sync)
                .push_bind(s.last_sync_attempt_time)
                .push_bind(s.last_policy_update_time)
                .push_bind(s.last_ping_heartbeat)
                .push_bind(s.number_of_folders_synced)
                .push_bind(&s.device_policy_applied)
                .push_bind(&s.device_policy_application_status)
                .push_bind(&s.status)
                .push_bind(&s.status_note)
                .push_bind(s.is_remote_wipe_supported)
                .push_bind(s.device_wipe_request_time)
                .push_bind(s.device_wipe_sent_time)
                .push_bind(s.device_wipe_ack_time)
                .push_bind(&s.last_device_wipe_requestor);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The stored present devices of a connector by GUID, with their `WhenChangedUTC`: what a
/// quick sync compares pages with (about 100 bytes a device).
pub(crate) async fn present_index(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<std::collections::HashMap<String, Option<DateTime<Utc>>>, sqlx::Error> {
    let rows: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT guid, when_changed_utc FROM devices WHERE connector_id = ?1 AND removed_at IS NULL",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Which stored devices a merge marks removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Removal {
    /// None (the device list is incomplete).
    Nothing,
    /// Every present device that is not staged (staging holds the whole list).
    NotStaged,
    /// These GUIDs (staging holds only new and changed devices).
    These(Vec<String>),
}

/// What a merge changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MergeCounts {
    pub seen: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
}

/// Merges the run's staged devices and statistics into `devices`; run it inside the run's final
/// transaction. New devices are inserted, known ones updated (only those whose `WhenChangedUTC`
/// moved unless `rewrite_all`), statistics written where they were read, and the devices that
/// `removal` names are marked removed (kept, with the time).
pub(crate) async fn merge(
    conn: &mut SqliteConnection,
    run_id: &str,
    connector_id: &str,
    now: DateTime<Utc>,
    removal: Removal,
    rewrite_all: bool,
) -> Result<MergeCounts, sqlx::Error> {
    let (seen, added, changed): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), \
                SUM(CASE WHEN d.guid IS NULL OR d.removed_at IS NOT NULL THEN 1 ELSE 0 END), \
                SUM(CASE WHEN d.guid IS NOT NULL AND d.removed_at IS NULL \
                          AND d.when_changed_utc IS NOT s.when_changed_utc THEN 1 ELSE 0 END) \
           FROM sync_staging_devices s \
           LEFT JOIN devices d ON d.connector_id = s.connector_id AND d.guid = s.guid \
          WHERE s.run_id = ?1",
    )
    .bind(run_id)
    .fetch_one(&mut *conn)
    .await?;

    let only_changed = if rewrite_all {
        ""
    } else {
        " WHERE devices.removed_at IS NOT NULL \
             OR devices.when_changed_utc IS NOT excluded.when_changed_utc"
    };
    sqlx::query(&format!(
        "INSERT INTO devices (connector_id, guid, identity, mailbox, device_id, friendly_name, \
             device_type, device_model, device_os, device_user_agent, user_display_name, \
             access_state, access_state_reason, client_type, client_version, first_sync_time, \
             when_changed_utc, first_seen_at, last_seen_at, removed_at) \
         SELECT ?2, guid, identity, mailbox, device_id, friendly_name, device_type, \
             device_model, device_os, device_user_agent, user_display_name, access_state, \
             access_state_reason, client_type, client_version, first_sync_time, \
             when_changed_utc, ?3, ?3, NULL \
           FROM sync_staging_devices WHERE run_id = ?1 AND true \
         ON CONFLICT (connector_id, guid) DO UPDATE SET identity = excluded.identity, \
             mailbox = excluded.mailbox, device_id = excluded.device_id, \
             friendly_name = excluded.friendly_name, device_type = excluded.device_type, \
             device_model = excluded.device_model, device_os = excluded.device_os, \
             device_user_agent = excluded.device_user_agent, \
             user_display_name = excluded.user_display_name, \
             access_state = excluded.access_state, \
             access_state_reason = excluded.access_state_reason, \
             client_type = excluded.client_type, client_version = excluded.client_version, \
             first_sync_time = excluded.first_sync_time, \
             when_changed_utc = excluded.when_changed_utc, \
             last_seen_at = excluded.last_seen_at, removed_at = NULL{only_changed}"
    ))
    .bind(run_id)
    .bind(connector_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "UPDATE devices SET last_success_sync = s.last_success_sync, \
             last_sync_attempt_time = s.last_sync_attempt_time, \
             last_policy_update_time = s.last_policy_update_time, \
             last_ping_heartbeat = s.last_ping_heartbeat, \
             number_of_folders_synced = s.number_of_folders_synced, \
             device_policy_applied = s.device_policy_applied, \
             device_policy_application_status = s.device_policy_application_status, \
             sync_status = s.sync_status, status_note = s.status_note, \
             is_remote_wipe_supported = s.is_remote_wipe_supported, \
             device_wipe_request_time = s.device_wipe_request_time, \
             device_wipe_sent_time = s.device_wipe_sent_time, \
             device_wipe_ack_time = s.device_wipe_ack_time, \
             last_device_wipe_requestor = s.last_device_wipe_requestor, \
             statistics_read_at = ?3 \
           FROM sync_staging_statistics s \
          WHERE s.run_id = ?1 AND devices.connector_id = ?2 AND devices.guid = s.guid",
    )
    .bind(run_id)
    .bind(connector_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    let removed = match removal {
        Removal::Nothing => 0,
        Removal::NotStaged => sqlx::query(
            "UPDATE devices SET removed_at = ?3 \
              WHERE connector_id = ?2 AND removed_at IS NULL AND NOT EXISTS \
                    (SELECT 1 FROM sync_staging_devices s \
                      WHERE s.run_id = ?1 AND s.guid = devices.guid)",
        )
        .bind(run_id)
        .bind(connector_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected(),
        Removal::These(guids) => {
            let mut n = 0;
            for chunk in guids.chunks(BATCH) {
                let mut q: QueryBuilder<Sqlite> =
                    QueryBuilder::new("UPDATE devices SET removed_at = ");
                q.push_bind(now)
                    .push(" WHERE connector_id = ")
                    .push_bind(connector_id)
                    .push(" AND removed_at IS NULL AND guid IN (");
                let mut list = q.separated(", ");
                for g in chunk {
                    list.push_bind(g);
                }
                q.push(")");
                n += q.build().execute(&mut *conn).await?.rows_affected();
            }
            n
        }
    };
    let n = |v: Option<i64>| u64::try_from(v.unwrap_or(0)).unwrap_or(0);
    Ok(MergeCounts {
        seen: n(Some(seen)),
        added: n(added),
        changed: n(changed),
        removed,
    })
}

/// Deletes what run `run_id` staged.
pub(crate) async fn clear(conn: &mut SqliteConnection, run_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sync_staging_devices WHERE run_id = ?1")
        .bind(run_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM sync_staging_statistics WHERE run_id = ?1")
        .bind(run_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// At start-up: nothing runs yet, so everything staged was left by a stopped run.
pub(crate) async fn clear_all(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sync_staging_devices")
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM sync_staging_statistics")
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::mailbox_of;

    #[test]
    fn the_mailbox_is_the_part_of_the_identity_before_the_first_backslash() {
        assert_eq!(
            mailbox_of("adele\\ExchangeActiveSyncDevices\\iPhone§abc"),
            Some("adele")
        );
        assert_eq!(mailbox_of("no-backslash"), None);
        assert_eq!(mailbox_of("\\ExchangeActiveSyncDevices\\x"), None);
    }
}
