//! The sync history (the ledger) as the history page, its chart and its CSV export read it.

use chrono::{Duration, Utc};

use crate::model::{HistoryFilter, HistoryPage, SyncRun};

use futures_util::future::BoxFuture;

use super::csv::{inert, push_record, time, Sink};
use super::db::sync_runs;
use super::error::AppError;
use super::keyset;
use super::state::AppState;

/// Most runs one page may hold.
pub(crate) const MAX_PAGE: u32 = 200;

/// One page of runs matching `filter`, newest first, continuing after `cursor` (the
/// `next_cursor` of the previous page; an unreadable cursor starts from the top). `limit` is
/// clamped to 1..=200. `chart` holds the finished runs of the last 30 days, oldest first,
/// whatever the filter.
pub(crate) async fn page(
    state: &AppState,
    filter: &HistoryFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<HistoryPage, AppError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let pool = state.db.pool();
    let after = cursor.and_then(keyset::parse);
    // One more than asked: whether there is a next page.
    let rows = sync_runs::list(pool, filter, after, Some(limit + 1)).await?;
    let (rows, next_cursor) = keyset::cut(rows, limit, |(run, key)| keyset::cursor(key, &run.id));
    let now = Utc::now();
    let chart = sync_runs::chart(pool, now - Duration::days(30)).await?;
    Ok(HistoryPage {
        runs: rows.into_iter().map(|(run, _)| run).collect(),
        next_cursor,
        chart,
        now,
    })
}

/// One run, or `None` when there is no run with that id.
pub(crate) async fn run(state: &AppState, id: &str) -> Result<Option<SyncRun>, AppError> {
    Ok(sync_runs::get(state.db.pool(), id).await?)
}

/// Every run matching `filter`, newest first, as CSV (RFC 4180: CRLF line ends, fields with a
/// comma, quote or line break quoted, quotes doubled), with a header row, written to `sink`
/// [`EXPORT_BATCH`] runs at a time.
pub(crate) fn write_csv(
    state: &AppState,
    filter: &HistoryFilter,
) -> impl FnOnce(Sink) -> BoxFuture<'static, (Sink, Result<(), sqlx::Error>)> {
    let pool = state.db.pool().clone();
    let filter = filter.clone();
    move |mut sink| {
        Box::pin(async move {
            push_record(sink.out(), HEADER.iter().map(|h| (*h).to_owned()));
            let mut after: Option<(String, String)> = None;
            loop {
                let key = after.as_ref().map(|(k, id)| (k.as_str(), id.as_str()));
                let rows = match sync_runs::list(&pool, &filter, key, Some(EXPORT_BATCH)).await {
                    Ok(rows) => rows,
                    Err(e) => return (sink, Err(e)),
                };
                for (run, _) in &rows {
                    push_record(sink.out(), csv_fields(run));
                }
                let full = rows.len() == EXPORT_BATCH as usize;
                after = rows.into_iter().last().map(|(run, key)| (key, run.id));
                if !sink.flush().await || !full {
                    return (sink, Ok(()));
                }
            }
        })
    }
}

/// Runs the history export reads at a time.
const EXPORT_BATCH: u32 = 500;

const HEADER: [&str; 21] = [
    "id",
    "kind",
    "trigger",
    "triggered_by",
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "devices_seen",
    "devices_added",
    "devices_changed",
    "devices_removed",
    "mailboxes_queried",
    "api_calls",
    "api_calls_by_cmdlet",
    "retries",
    "throttle_wait_ms",
    "warnings",
    "error_code",
    "error_message",
    "error_request_id",
];

fn csv_fields(r: &SyncRun) -> Vec<String> {
    // Text from outside (an admin's address, Exchange's error words and warnings) is made inert
    // for spreadsheets; the rest is the connector's own words and numbers.
    let opt = |v: &Option<String>| inert(v.clone().unwrap_or_default());
    vec![
        r.id.clone(),
        r.kind.as_str().to_owned(),
        r.trigger.as_str().to_owned(),
        opt(&r.triggered_by),
        r.status.as_str().to_owned(),
        time(r.started_at),
        r.finished_at.map(time).unwrap_or_default(),
        r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
        r.devices_seen.to_string(),
        r.devices_added.to_string(),
        r.devices_changed.to_string(),
        r.devices_removed.to_string(),
        r.mailboxes_queried.to_string(),
        r.api_calls.to_string(),
        r.api_calls_by_cmdlet
            .iter()
            .map(|c| format!("{}={}", c.cmdlet, c.calls))
            .collect::<Vec<_>>()
            .join("; "),
        r.retries.to_string(),
        r.throttle_wait_ms.to_string(),
        inert(r.warnings.join("\n")),
        opt(&r.error_code),
        opt(&r.error_message),
        opt(&r.error_request_id),
    ]
}
