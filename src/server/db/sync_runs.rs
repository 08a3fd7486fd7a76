//! The `sync_runs` table: the ledger of every sync run. A run is inserted as `running` and
//! closed exactly once (`WHERE status = 'running'`); a closed run is never rewritten.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use crate::model::{
    ChartPoint, CmdletCalls, HistoryFilter, SyncKind, SyncRun, SyncStatus, SyncTrigger,
};

/// A run that has started.
pub(crate) struct NewRun<'a> {
    pub id: &'a str,
    pub connector_id: &'a str,
    pub kind: SyncKind,
    pub trigger: SyncTrigger,
    pub triggered_by: Option<&'a str>,
    pub started_at: DateTime<Utc>,
}

/// The failure recorded with a failed, partial or interrupted run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunError {
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// HTTP status of the failed answer, when there was one.
    pub status: Option<u16>,
    /// The cmdlet that failed, when known.
    pub cmdlet: Option<String>,
}

/// Everything recorded when a run ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunRecord {
    pub status: SyncStatus,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub devices_seen: u64,
    pub devices_added: u64,
    pub devices_changed: u64,
    pub devices_removed: u64,
    pub mailboxes_queried: u64,
    pub api_calls_by_cmdlet: Vec<CmdletCalls>,
    pub retries: u64,
    pub throttle_wait_ms: u64,
    pub warnings: Vec<String>,
    pub error: Option<RunError>,
}

/// Records a run as `running`.
pub(crate) async fn start(
    conn: &mut SqliteConnection,
    run: &NewRun<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sync_runs (id, connector_id, kind, trigger, triggered_by, status, started_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
    )
    .bind(run.id)
    .bind(run.connector_id)
    .bind(run.kind.as_str())
    .bind(run.trigger.as_str())
    .bind(run.triggered_by)
    .bind(run.started_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes a `running` run with its outcome; a run already closed is left as it is.
pub(crate) async fn finish(
    conn: &mut SqliteConnection,
    id: &str,
    r: &RunRecord,
) -> Result<(), sqlx::Error> {
    let api_calls: u64 = r.api_calls_by_cmdlet.iter().map(|c| c.calls).sum();
    let by_cmdlet = serde_json::to_string(&r.api_calls_by_cmdlet).unwrap_or_else(|_| "[]".into());
    let warnings = serde_json::to_string(&r.warnings).unwrap_or_else(|_| "[]".into());
    let e = r.error.as_ref();
    sqlx::query(
        "UPDATE sync_runs SET status = ?2, finished_at = ?3, duration_ms = ?4, devices_seen = ?5, \
             devices_added = ?6, devices_changed = ?7, devices_removed = ?8, \
             mailboxes_queried = ?9, api_calls = ?10, api_calls_by_cmdlet = ?11, retries = ?12, \
             throttle_wait_ms = ?13, warnings = ?14, error_code = ?15, error_message = ?16, \
             error_request_id = ?17, error_status = ?18, error_cmdlet = ?19 \
         WHERE id = ?1 AND status = 'running'",
    )
    .bind(id)
    .bind(r.status.as_str())
    .bind(r.finished_at)
    .bind(to_i64(r.duration_ms))
    .bind(to_i64(r.devices_seen))
    .bind(to_i64(r.devices_added))
    .bind(to_i64(r.devices_changed))
    .bind(to_i64(r.devices_removed))
    .bind(to_i64(r.mailboxes_queried))
    .bind(to_i64(api_calls))
    .bind(by_cmdlet)
    .bind(to_i64(r.retries))
    .bind(to_i64(r.throttle_wait_ms))
    .bind(warnings)
    .bind(e.and_then(|e| e.code.as_deref()))
    .bind(e.map(|e| e.message.as_str()))
    .bind(e.and_then(|e| e.request_id.as_deref()))
    .bind(e.and_then(|e| e.status).map(i64::from))
    .bind(e.and_then(|e| e.cmdlet.as_deref()))
    .execute(conn)
    .await?;
    Ok(())
}

/// At start-up: runs still `running` were cut off by a stop of the server (a crash or a
/// kill); they become `interrupted`. Returns how many.
pub(crate) async fn interrupt_abandoned(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sync_runs SET status = 'interrupted', finished_at = ?1, error_code = 'Interrupted', \
             error_message = 'The connector server stopped during this sync; the data of the \
             previous sync was kept.' \
         WHERE status = 'running'",
    )
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// The columns [`read_ended`] (and `read_run`) read, as a run's select list.
const COLUMNS: &str = "id, kind, trigger, triggered_by, status, started_at, \
    CAST(started_at AS TEXT) AS started_key, finished_at, duration_ms, devices_seen, \
    devices_added, devices_changed, devices_removed, mailboxes_queried, api_calls, \
    api_calls_by_cmdlet, retries, throttle_wait_ms, warnings, error_code, error_message, \
    error_request_id, error_status, error_cmdlet";

/// One run by id.
pub(crate) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<SyncRun>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM sync_runs WHERE id = ?1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| read_run(&r)).transpose()
}

/// Runs matching `filter`, newest first (`started_at`, then `id`), after the keyset position
/// `after` (`started_at` as stored, `id`); at most `limit`. Each run comes with its key.
pub(crate) async fn list(
    pool: &SqlitePool,
    filter: &HistoryFilter,
    after: Option<(&str, &str)>,
    limit: Option<u32>,
) -> Result<Vec<(SyncRun, String)>, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM sync_runs WHERE 1 = 1"));
    if let Some(s) = filter.status {
        q.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(k) = filter.kind {
        q.push(" AND kind = ").push_bind(k.as_str());
    }
    if let Some(t) = filter.trigger {
        q.push(" AND trigger = ").push_bind(t.as_str());
    }
    if let Some((started, id)) = after {
        q.push(" AND (started_at < ")
            .push_bind(started.to_owned())
            .push(" OR (started_at = ")
            .push_bind(started.to_owned())
            .push(" AND id < ")
            .push_bind(id.to_owned())
            .push("))");
    }
    q.push(" ORDER BY started_at DESC, id DESC");
    if let Some(limit) = limit {
        q.push(" LIMIT ").push_bind(i64::from(limit));
    }
    let rows = q.build().fetch_all(pool).await?;
    rows.iter()
        .map(|r| Ok((read_run(r)?, r.try_get::<String, _>("started_key")?)))
        .collect()
}

/// Finished runs (not `running`) started at or after `since`, oldest first.
pub(crate) async fn chart(
    pool: &SqlitePool,
    since: DateTime<Utc>,
) -> Result<Vec<ChartPoint>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT started_at, kind, status, COALESCE(duration_ms, 0) AS duration_ms, devices_seen \
           FROM sync_runs WHERE status <> 'running' AND started_at >= ?1 \
          ORDER BY started_at, id",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ChartPoint {
                started_at: r.try_get("started_at")?,
                kind: kind(&r.try_get::<String, _>("kind")?),
                status: status(&r.try_get::<String, _>("status")?),
                duration_ms: to_u64(r.try_get("duration_ms")?),
                devices_seen: to_u64(r.try_get("devices_seen")?),
            })
        })
        .collect()
}

/// The query of a connector's latest run that ended on its own (succeeded, partial or failed):
/// the one the health cause is read from, with the HTTP status and cmdlet of its failure. The
/// connector's id is what `connector` gives (a parameter, or the subquery of
/// `connectors::current_with_last_ended`).
pub(super) fn latest_ended(connector: &str) -> String {
    format!(
        "SELECT {COLUMNS} FROM sync_runs \
          WHERE connector_id = {connector} AND status IN ('succeeded', 'partial', 'failed') \
          ORDER BY started_at DESC, id DESC LIMIT 1"
    )
}

/// A run read with [`COLUMNS`], with its failure's answer.
pub(super) fn read_ended(r: &SqliteRow) -> Result<Ended, sqlx::Error> {
    let status: Option<i64> = r.try_get("error_status")?;
    Ok(Ended {
        run: read_run(r)?,
        error_status: status.and_then(|s| u16::try_from(s).ok()),
        error_cmdlet: r.try_get("error_cmdlet")?,
    })
}

/// A run that ended, with what its failure's answer said.
pub(crate) struct Ended {
    pub run: SyncRun,
    /// The HTTP status of the answer that failed it.
    pub error_status: Option<u16>,
    /// The cmdlet of the call that failed it.
    pub error_cmdlet: Option<String>,
}

fn read_run(r: &SqliteRow) -> Result<SyncRun, sqlx::Error> {
    let by_cmdlet: String = r.try_get("api_calls_by_cmdlet")?;
    let warnings: String = r.try_get("warnings")?;
    Ok(SyncRun {
        id: r.try_get("id")?,
        kind: kind(&r.try_get::<String, _>("kind")?),
        trigger: trigger(&r.try_get::<String, _>("trigger")?),
        triggered_by: r.try_get("triggered_by")?,
        status: status(&r.try_get::<String, _>("status")?),
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        duration_ms: r.try_get::<Option<i64>, _>("duration_ms")?.map(to_u64),
        devices_seen: to_u64(r.try_get("devices_seen")?),
        devices_added: to_u64(r.try_get("devices_added")?),
        devices_changed: to_u64(r.try_get("devices_changed")?),
        devices_removed: to_u64(r.try_get("devices_removed")?),
        mailboxes_queried: to_u64(r.try_get("mailboxes_queried")?),
        api_calls: to_u64(r.try_get("api_calls")?),
        api_calls_by_cmdlet: serde_json::from_str(&by_cmdlet).unwrap_or_default(),
        retries: to_u64(r.try_get("retries")?),
        throttle_wait_ms: to_u64(r.try_get("throttle_wait_ms")?),
        warnings: serde_json::from_str(&warnings).unwrap_or_default(),
        error_code: r.try_get("error_code")?,
        error_message: r.try_get("error_message")?,
        error_request_id: r.try_get("error_request_id")?,
    })
}

// Values this build does not know read as the closest known one rather than failing the page.
fn kind(v: &str) -> SyncKind {
    if v == SyncKind::DeltaSync.as_str() {
        SyncKind::DeltaSync
    } else {
        SyncKind::FullSync
    }
}

fn trigger(v: &str) -> SyncTrigger {
    [SyncTrigger::Setup, SyncTrigger::Scheduled]
        .into_iter()
        .find(|t| t.as_str() == v)
        .unwrap_or(SyncTrigger::Manual)
}

fn status(v: &str) -> SyncStatus {
    SyncStatus::parse(v).unwrap_or(SyncStatus::Failed)
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
