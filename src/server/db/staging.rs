//! Staging: what a running sync has read, written page by page (so the tenant is never held in
//! memory) into TEMP tables of one connection that the run holds, then merged into `devices`
//! in the run's final transaction on that same connection. TEMP tables are private to their
//! connection and are neither journaled in the database's WAL nor kept after a crash, so
//! staging costs little and a stopped run leaves nothing behind.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::mpsc;

use crate::model::Device;

use super::super::devices::derive;
use super::device_events;

/// Rows per multi-row INSERT (well under SQLite's limit of bound values).
const BATCH: usize = 400;

/// The statistics of one device (`Get-MobileDeviceStatistics`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DeviceStatistics {
    pub guid: String,
    /// The digest of the values below (see `sync::digest`).
    pub digest: i64,
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

/// Something read that goes to staging.
pub(crate) enum Staged {
    /// Devices, each with the digest of its listing.
    Devices(Vec<(Device, i64)>),
    Statistics(Vec<DeviceStatistics>),
}

/// The staging of one run: a connection of its own (closed, with its TEMP tables, when the run
/// drops it) and the tables on it.
pub(crate) struct Staging {
    conn: PoolConnection<Sqlite>,
}

impl Staging {
    /// Takes a connection from `pool` for the run and creates empty staging tables on it.
    pub(crate) async fn open(pool: &SqlitePool) -> Result<Self, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        // Never hand a connection with staged rows back to the pool.
        conn.close_on_drop();
        for statement in [
            "CREATE TEMP TABLE IF NOT EXISTS staging_devices (
                 guid TEXT NOT NULL, identity TEXT NOT NULL, mailbox TEXT,
                 device_id TEXT NOT NULL, friendly_name TEXT, device_type TEXT,
                 device_model TEXT, device_os TEXT, device_user_agent TEXT,
                 user_display_name TEXT, access_state TEXT NOT NULL, access_state_reason TEXT,
                 client_type TEXT, client_version TEXT, first_sync_time TEXT,
                 when_changed_utc TEXT, content_digest BIGINT NOT NULL,
                 access_control_rule TEXT, is_managed BOOLEAN, is_compliant BOOLEAN,
                 os_family TEXT, client_version_key BIGINT, search_text TEXT
             )",
            "CREATE TEMP TABLE IF NOT EXISTS staging_statistics (
                 guid TEXT NOT NULL, last_success_sync TEXT,
                 last_sync_attempt_time TEXT, last_policy_update_time TEXT,
                 last_ping_heartbeat BIGINT, number_of_folders_synced BIGINT,
                 device_policy_applied TEXT, device_policy_application_status TEXT,
                 sync_status TEXT, status_note TEXT, is_remote_wipe_supported BOOLEAN,
                 device_wipe_request_time TEXT, device_wipe_sent_time TEXT,
                 device_wipe_ack_time TEXT, last_device_wipe_requestor TEXT,
                 statistics_digest BIGINT NOT NULL
             )",
            "DELETE FROM temp.staging_devices",
            "DELETE FROM temp.staging_statistics",
            // This connection's commit does not copy the WAL back into the database file:
            // `close_after_commit` does, once the run is over.
            "PRAGMA wal_autocheckpoint = 0",
        ] {
            sqlx::query(statement).execute(&mut *conn).await?;
        }
        Ok(Self { conn })
    }

    /// Writes what arrives on `staged`, on a task of its own, until every sender is gone. The
    /// run's own task parses the pages; turning rows into SQLite values and waiting for SQLite
    /// happen beside it, so that neither holds the other up (a writer on the run's task made
    /// the readers wait for it when a run writes every row, as a first sync does). On an error
    /// it stops (the senders then see a closed channel); [`Writer::finish`] returns it.
    pub(crate) fn write_all(mut self, mut staged: mpsc::Receiver<Staged>) -> Writer {
        let task = tokio::spawn(async move {
            let written = self.write(&mut staged).await;
            (self, written)
        });
        Writer { task }
    }

    async fn write(&mut self, staged: &mut mpsc::Receiver<Staged>) -> Result<(), sqlx::Error> {
        let mut busy = std::time::Duration::ZERO;
        while let Some(batch) = staged.recv().await {
            let t = std::time::Instant::now();
            match batch {
                Staged::Devices(d) => put_devices(&mut self.conn, d).await?,
                Staged::Statistics(s) => put_statistics(&mut self.conn, s).await?,
            }
            busy += t.elapsed();
        }
        tracing::debug!(ms = busy.as_millis() as u64, "staging writer busy");
        Ok(())
    }

    /// The run's connection, for its final transaction (which reads the staging tables).
    pub(crate) fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    /// Ends the run's use of its connection once the final transaction is committed: copies
    /// what the run committed from the WAL into the database file (a checkpoint) on a task of
    /// its own, then closes the connection. The run is over once its data is committed
    /// (readers find it in the WAL); after a first sync the copy is as large as the tenant,
    /// about a quarter of a second at 100,000 devices that the run no longer waits for.
    /// Passive: it waits for no reader or writer, and whatever it leaves (a server that stops
    /// meanwhile) the next checkpoint takes up.
    pub(crate) fn close_after_commit(mut self) {
        tokio::spawn(async move {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut *self.conn)
                .await
            {
                tracing::warn!(error = %e, "could not checkpoint after a sync");
            }
        });
    }
}

/// The task that writes a run's staging (see [`Staging::write_all`]). Dropping it (a run that
/// stops early) stops the task, which closes the run's connection with what it staged.
pub(crate) struct Writer {
    task: tokio::task::JoinHandle<(Staging, Result<(), sqlx::Error>)>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Writer {
    /// Waits until everything sent is written (every sender must be gone), then hands the
    /// staging back for the merge; or the error that stopped the writing.
    pub(crate) async fn finish(mut self) -> Result<Staging, sqlx::Error> {
        match (&mut self.task).await {
            Ok((staging, Ok(()))) => Ok(staging),
            Ok((_, Err(e))) => Err(e),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only when the runtime shuts down under the run.
            Err(_) => Err(sqlx::Error::WorkerCrashed),
        }
    }
}

/// Stages one page of devices. Rows are only appended (cheap: no key to keep in order); a
/// device listed twice is merged in the order read, so the later copy wins.
async fn put_devices(
    conn: &mut SqliteConnection,
    devices: Vec<(Device, i64)>,
) -> Result<(), sqlx::Error> {
    // Values are moved into the statement, not copied: SQLite gets its own copy anyway.
    let mut rows = devices.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO temp.staging_devices (guid, identity, mailbox, device_id, \
             friendly_name, device_type, device_model, device_os, device_user_agent, \
             user_display_name, access_state, access_state_reason, client_type, client_version, \
             first_sync_time, when_changed_utc, content_digest, access_control_rule, is_managed, \
             is_compliant, os_family, client_version_key, search_text) ",
        );
        q.push_values(rows.by_ref().take(BATCH), |mut b, (d, digest)| {
            let mailbox = mailbox_of(&d.identity).map(str::to_owned);
            let os_family = derive::os_family(
                d.device_os.as_deref(),
                d.device_type.as_deref(),
                d.device_user_agent.as_deref(),
            );
            let version_key = crate::model::version_key(d.client_version.as_deref());
            let search_text = derive::search_text(&d, mailbox.as_deref());
            b.push_bind(d.guid)
                .push_bind(d.identity)
                .push_bind(mailbox)
                .push_bind(d.device_id)
                .push_bind(d.friendly_name)
                .push_bind(d.device_type)
                .push_bind(d.device_model)
                .push_bind(d.device_os)
                .push_bind(d.device_user_agent)
                .push_bind(d.user_display_name)
                .push_bind(d.access_state)
                .push_bind(d.access_state_reason)
                .push_bind(d.client_type)
                .push_bind(d.client_version)
                .push_bind(d.first_sync_time)
                .push_bind(d.when_changed_utc)
                .push_bind(digest)
                .push_bind(d.access_control_rule)
                .push_bind(d.is_managed)
                .push_bind(d.is_compliant)
                .push_bind(os_family.as_str())
                .push_bind(version_key)
                .push_bind(search_text);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Stages device statistics (moved into the statement, like devices).
async fn put_statistics(
    conn: &mut SqliteConnection,
    stats: Vec<DeviceStatistics>,
) -> Result<(), sqlx::Error> {
    let mut rows = stats.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO temp.staging_statistics (guid, last_success_sync, \
             last_sync_attempt_time, last_policy_update_time, last_ping_heartbeat, \
             number_of_folders_synced, device_policy_applied, device_policy_application_status, \
             sync_status, status_note, is_remote_wipe_supported, device_wipe_request_time, \
             device_wipe_sent_time, device_wipe_ack_time, last_device_wipe_requestor, \
             statistics_digest) ",
        );
        q.push_values(rows.by_ref().take(BATCH), |mut b, s| {
            b.push_bind(s.guid)
                .push_bind(s.last_success_sync)
                .push_bind(s.last_sync_attempt_time)
                .push_bind(s.last_policy_update_time)
                .push_bind(s.last_ping_heartbeat)
                .push_bind(s.number_of_folders_synced)
                .push_bind(s.device_policy_applied)
                .push_bind(s.device_policy_application_status)
                .push_bind(s.status)
                .push_bind(s.status_note)
                .push_bind(s.is_remote_wipe_supported)
                .push_bind(s.device_wipe_request_time)
                .push_bind(s.device_wipe_sent_time)
                .push_bind(s.device_wipe_ack_time)
                .push_bind(s.last_device_wipe_requestor)
                .push_bind(s.digest);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// What is stored of a present device: what a sync compares a listed device with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub when_changed_utc: Option<DateTime<Utc>>,
    /// `None` for a row written before digests were kept (it is rewritten once).
    pub content_digest: Option<i64>,
}

/// The stored present devices of a connector by GUID, and the digests of their statistics
/// (about 120 bytes a device).
#[derive(Debug, Default)]
pub(crate) struct PresentIndex {
    pub devices: HashMap<String, Stored>,
    pub statistics: HashMap<String, i64>,
}

/// Devices a [`present_index`] read takes at a time.
const INDEX_CHUNK: i64 = 5_000;

/// Reads the [`PresentIndex`] of `connector_id`.
///
/// SQLite builds the index as JSON, a few thousand devices at a time, that is parsed here:
/// handed over row by row, 100,000 rows cost about a quarter of a second of thread hand-offs
/// between SQLite's worker and the run before a sync can compare its first page; in one piece,
/// the text would add some 20 MB to the peak memory of a run.
pub(crate) async fn present_index(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<PresentIndex, sqlx::Error> {
    let mut index = PresentIndex::default();
    let mut conn = pool.acquire().await?;
    let mut after = 0i64;
    loop {
        let (json, last): (Option<String>, Option<i64>) = sqlx::query_as(
            "SELECT json_group_array(json_array(guid, when_changed_utc, content_digest, \
                                                statistics_digest)), max(rowid) \
               FROM (SELECT rowid, guid, when_changed_utc, content_digest, statistics_digest \
                       FROM devices \
                      WHERE connector_id = ?1 AND removed_at IS NULL AND rowid > ?2 \
                      ORDER BY rowid LIMIT ?3)",
        )
        .bind(connector_id)
        .bind(after)
        .bind(INDEX_CHUNK)
        .fetch_one(&mut *conn)
        .await?;
        let Some(last) = last else {
            return Ok(index);
        };
        after = last;
        let rows: Vec<IndexRow<'_>> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        index.devices.reserve(rows.len());
        for IndexRow(guid, when_changed_utc, content_digest, statistics_digest) in rows {
            let guid = guid.into_owned();
            if let Some(d) = statistics_digest {
                index.statistics.insert(guid.clone(), d);
            }
            let stored = Stored {
                when_changed_utc: when_changed_utc.as_deref().and_then(stored_time),
                content_digest,
            };
            index.devices.insert(guid, stored);
        }
    }
}

/// One device of the present index as SQLite's `json_array` writes it.
#[derive(serde::Deserialize)]
struct IndexRow<'a>(
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    #[serde(borrow)] Option<std::borrow::Cow<'a, str>>,
    Option<i64>,
    Option<i64>,
);

/// A time as this application stores it (RFC 3339, written by sqlx). One that does not read
/// compares as absent, so the sync writes the device again instead of failing.
fn stored_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Which stored devices a merge marks removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Removal {
    /// None (the device list is incomplete).
    Nothing,
    /// These GUIDs: the stored present devices the listing no longer holds.
    These(Vec<String>),
}

/// The device columns a sync writes (besides the key and the bookkeeping times).
const DEVICE_COLUMNS: [&str; 22] = [
    "identity",
    "mailbox",
    "device_id",
    "friendly_name",
    "device_type",
    "device_model",
    "device_os",
    "device_user_agent",
    "user_display_name",
    "access_state",
    "access_state_reason",
    "client_type",
    "client_version",
    "first_sync_time",
    "when_changed_utc",
    "content_digest",
    "access_control_rule",
    "is_managed",
    "is_compliant",
    "os_family",
    "client_version_key",
    "search_text",
];

/// The statistics columns of a device.
const STATISTICS_COLUMNS: [&str; 15] = [
    "last_success_sync",
    "last_sync_attempt_time",
    "last_policy_update_time",
    "last_ping_heartbeat",
    "number_of_folders_synced",
    "device_policy_applied",
    "device_policy_application_status",
    "sync_status",
    "status_note",
    "is_remote_wipe_supported",
    "device_wipe_request_time",
    "device_wipe_sent_time",
    "device_wipe_ack_time",
    "last_device_wipe_requestor",
    "statistics_digest",
];

/// `src.a, src.b, …`
fn qualified(columns: &[&str], src: &str) -> String {
    let each: Vec<String> = columns.iter().map(|c| format!("{src}.{c}")).collect();
    each.join(", ")
}

/// `a = src.a, b = src.b, …`
fn assignments(columns: &[&str], src: &str) -> String {
    let each: Vec<String> = columns.iter().map(|c| format!("{c} = {src}.{c}")).collect();
    each.join(", ")
}

/// `devices.a IS NOT src.a OR …`: true when any column differs (NULLs compared as values).
fn differs(columns: &[&str], src: &str) -> String {
    let each: Vec<String> = columns
        .iter()
        .map(|c| format!("devices.{c} IS NOT {src}.{c}"))
        .collect();
    each.join(" OR ")
}

/// Merges the run's staged devices and statistics into `devices`; run it inside the run's final
/// transaction on the staging connection. New devices are inserted; a known device or its
/// statistics are written only where a value differs (a full sync still corrects every
/// difference, but a tenant that did not change costs reads, not writes); the devices that
/// `removal` names are marked removed (kept, with the time); changes of a known device's state,
/// client and owner, its removal and its return are recorded as device events of `run_id`.
/// `last_seen_at` and
/// `statistics_read_at` say when a sync last wrote the row's values. Returns how many devices
/// were marked removed.
pub(crate) async fn merge(
    conn: &mut SqliteConnection,
    connector_id: &str,
    run_id: &str,
    now: DateTime<Utc>,
    removal: Removal,
) -> Result<u64, sqlx::Error> {
    // A connector without any stored row (its first sync): every statistics row goes in with
    // its new device below, and the pass over known devices has nothing to do.
    let had_rows: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM devices WHERE connector_id = ?1)")
            .bind(connector_id)
            .fetch_one(&mut *conn)
            .await?;

    // Built here, in one sort, not kept up to date while rows are staged: an index written
    // 400 rows at a time costs several times the staging itself.
    sqlx::query(
        "CREATE INDEX IF NOT EXISTS temp.staging_statistics_guid ON staging_statistics (guid)",
    )
    .execute(&mut *conn)
    .await?;
    if had_rows {
        // Before the rows change: what changed of a known device, as its events.
        device_events::record_changes(&mut *conn, connector_id, run_id, now).await?;
    }
    // A new device is written once, with its statistics. Rows go in the order they were read
    // (a later copy of a device, with a higher rowid, is applied last): staging is read front
    // to back, and so are the statistics, which arrive in about the order of their devices.
    // Sorting by GUID instead wrote the key index of `devices` in order but read both staging
    // tables at random, which cost more.
    sqlx::query(&format!(
        "INSERT INTO devices (connector_id, guid, {columns}, {statistics}, statistics_read_at, \
             first_seen_at, last_seen_at, removed_at) \
         SELECT ?1, d.guid, {d_columns}, {s_statistics}, \
                CASE WHEN s.guid IS NULL THEN NULL ELSE ?2 END, ?2, ?2, NULL \
           FROM temp.staging_devices d \
           LEFT JOIN temp.staging_statistics s ON s.guid = d.guid \
          WHERE true ORDER BY d.rowid \
         ON CONFLICT (connector_id, guid) DO UPDATE SET {set}, \
             last_seen_at = excluded.last_seen_at, removed_at = NULL \
          WHERE devices.removed_at IS NOT NULL OR {changed}",
        columns = DEVICE_COLUMNS.join(", "),
        statistics = STATISTICS_COLUMNS.join(", "),
        d_columns = qualified(&DEVICE_COLUMNS, "d"),
        s_statistics = qualified(&STATISTICS_COLUMNS, "s"),
        set = assignments(&DEVICE_COLUMNS, "excluded"),
        changed = differs(&DEVICE_COLUMNS, "excluded"),
    ))
    .bind(connector_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    if had_rows {
        // Known devices: statistics are written where they differ. The rows to look at come from
        // staging (CROSS JOIN keeps it the outer loop), so the cost follows what was read, not the
        // size of `devices`; rows the insert above just wrote are skipped.
        sqlx::query(&format!(
            "UPDATE devices SET {set}, statistics_read_at = ?2 \
               FROM temp.staging_statistics s \
              WHERE devices.rowid IN (SELECT d.rowid FROM temp.staging_statistics k \
                                       CROSS JOIN devices d \
                                       WHERE d.connector_id = ?1 AND d.guid = k.guid \
                                         AND d.statistics_read_at IS NOT ?2) \
                AND devices.guid = s.guid \
                AND (devices.statistics_read_at IS NULL OR {changed})",
            set = assignments(&STATISTICS_COLUMNS, "s"),
            changed = differs(&STATISTICS_COLUMNS, "s"),
        ))
        .bind(connector_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }

    let removed = match removal {
        Removal::Nothing => 0,
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
            if n > 0 {
                device_events::record_removals(&mut *conn, connector_id, run_id, now).await?;
            }
            n
        }
    };
    // The device list in memory follows this number (see `devices::catalog`).
    sqlx::query("UPDATE connectors SET devices_version = devices_version + 1 WHERE id = ?1")
        .bind(connector_id)
        .execute(&mut *conn)
        .await?;
    Ok(removed)
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
