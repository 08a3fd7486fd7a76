//! The `sync_runs` table: the ledger of every sync run, appended to and never rewritten after a
//! run has finished.

use chrono::{DateTime, Utc};
use sqlx::{SqliteConnection, SqlitePool};

use crate::model::{SyncKind, SyncTrigger};

/// A run that has started.
pub(crate) struct NewRun<'a> {
    pub id: &'a str,
    pub connector_id: &'a str,
    pub kind: SyncKind,
    pub trigger: SyncTrigger,
    pub started_at: DateTime<Utc>,
}

/// The numbers of a finished run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunCounts {
    pub devices_seen: u64,
    pub devices_added: u64,
    pub devices_changed: u64,
    pub devices_removed: u64,
    pub api_calls: u64,
}

/// Why a run failed, as recorded for admins.
pub(crate) struct RunFailure<'a> {
    pub code: Option<&'a str>,
    pub message: &'a str,
    pub request_id: Option<&'a str>,
    pub api_calls: u64,
}

/// Records a run as `running`.
pub(crate) async fn start(
    conn: &mut SqliteConnection,
    run: &NewRun<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sync_runs (id, connector_id, kind, trigger, status, started_at) \
         VALUES (?1, ?2, ?3, ?4, 'running', ?5)",
    )
    .bind(run.id)
    .bind(run.connector_id)
    .bind(run.kind.as_str())
    .bind(run.trigger.as_str())
    .bind(run.started_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes a run as `succeeded` with its numbers.
pub(crate) async fn succeed(
    conn: &mut SqliteConnection,
    id: &str,
    counts: RunCounts,
    finished_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sync_runs SET status = 'succeeded', finished_at = ?2, devices_seen = ?3, \
             devices_added = ?4, devices_changed = ?5, devices_removed = ?6, api_calls = ?7 \
         WHERE id = ?1 AND status = 'running'",
    )
    .bind(id)
    .bind(finished_at)
    .bind(to_i64(counts.devices_seen))
    .bind(to_i64(counts.devices_added))
    .bind(to_i64(counts.devices_changed))
    .bind(to_i64(counts.devices_removed))
    .bind(to_i64(counts.api_calls))
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes a run as `failed` with the reason.
pub(crate) async fn fail(
    conn: &mut SqliteConnection,
    id: &str,
    failure: &RunFailure<'_>,
    finished_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sync_runs SET status = 'failed', finished_at = ?2, error_code = ?3, \
             error_message = ?4, error_request_id = ?5, api_calls = ?6 \
         WHERE id = ?1 AND status = 'running'",
    )
    .bind(id)
    .bind(finished_at)
    .bind(failure.code)
    .bind(failure.message)
    .bind(failure.request_id)
    .bind(to_i64(failure.api_calls))
    .execute(conn)
    .await?;
    Ok(())
}

/// At start-up: runs still `running` were cut off by a stop of the server.
pub(crate) async fn fail_interrupted(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sync_runs SET status = 'failed', finished_at = ?1, error_code = 'Interrupted', \
             error_message = 'The connector server stopped during this sync.' \
         WHERE status = 'running'",
    )
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
