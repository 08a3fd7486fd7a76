//! The audit log: who did what, from where, to what, and how it ended. Every action that
//! changes something (and every sign-in, failed or not) appends one entry.

pub(crate) mod budget;

use chrono::Utc;
use sqlx::SqlitePool;

use crate::model::{AuditAction, AuditEntry, AuditFilter, AuditPage, AuditResult, Role, SyncKind};

use futures_util::future::BoxFuture;

use super::csv::{inert, push_record, time, Sink};
use super::db::audit::{self, NewEntry};
use super::error::AppError;
use super::keyset;
use super::state::AppState;

/// An entry about to be recorded.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub actor: Option<String>,
    pub source_address: Option<String>,
    pub action: AuditAction,
    pub target: Option<String>,
    /// For Exchange writes: the cmdlet and its parameters (secrets never included).
    pub cmdlet: Option<String>,
    pub parameters: Option<serde_json::Value>,
    pub result: AuditResult,
    pub detail: Option<String>,
    /// Exchange's request id of the write's answer.
    pub request_id: Option<String>,
}

impl Event {
    /// An event of `action` by `actor` with `result`; the rest empty.
    pub(crate) fn new(action: AuditAction, actor: Option<&str>, result: AuditResult) -> Self {
        Self {
            actor: actor.map(str::to_owned),
            source_address: None,
            action,
            target: None,
            cmdlet: None,
            parameters: None,
            result,
            detail: None,
            request_id: None,
        }
    }

    /// The address the request came from, when known.
    pub(crate) fn address(mut self, address: Option<&str>) -> Self {
        self.source_address = address.map(str::to_owned);
        self
    }

    /// What was acted on.
    pub(crate) fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Anything else worth keeping: a reason, a run id.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The Exchange write this event records: the cmdlet and its parameters (no secrets).
    pub(crate) fn exchange_write(mut self, cmdlet: &str, parameters: serde_json::Value) -> Self {
        self.cmdlet = Some(cmdlet.to_owned());
        self.parameters = Some(parameters);
        self
    }

    /// Exchange's request id of the write's answer, when it sent one.
    pub(crate) fn request_id(mut self, id: Option<&str>) -> Self {
        self.request_id = id.map(str::to_owned);
        self
    }
}

/// Appends `event` made by a request nobody is signed in with (a failed sign-in, a refused
/// first-admin link, a single sign-on answer): within the anonymous budget, its detail and
/// typed actor cut short. See [`budget`].
pub(crate) async fn record_anonymous(state: &AppState, kind: budget::Kind, mut event: Event) {
    if !state.anonymous_audit.take(
        event.source_address.as_deref(),
        kind,
        std::time::Instant::now(),
    ) {
        return;
    }
    event.detail = event.detail.as_deref().map(budget::bounded);
    event.actor = event.actor.as_deref().map(budget::bounded);
    record(state.db.pool(), event).await;
}

/// Records that `who` asked for `path` (a server function, a page or a download) and their
/// role does not allow it.
pub(crate) async fn access_denied(
    pool: &SqlitePool,
    who: &str,
    address: Option<&str>,
    path: &str,
    needed: Role,
) {
    let event = Event::new(AuditAction::AccessDenied, Some(who), AuditResult::Denied)
        .address(address)
        .target(path)
        .detail(format!("needs the {} role", needed.as_str()));
    record(pool, event).await;
}

fn entry(event: Event) -> NewEntry {
    NewEntry {
        at: Utc::now(),
        actor: event.actor,
        source_address: event.source_address,
        action: event.action.as_str(),
        target: event.target,
        cmdlet: event.cmdlet,
        parameters: event.parameters.map(|p| p.to_string()),
        result: event.result.as_str(),
        detail: event.detail,
        request_id: event.request_id,
    }
}

/// Appends `event`. A failure to write the audit log is logged as an error (the action it
/// describes has already happened or been refused).
pub(crate) async fn record(pool: &SqlitePool, event: Event) {
    let entry = entry(event);
    if let Err(e) = audit::append(pool, &entry).await {
        tracing::error!(error = %e, action = entry.action, "cannot write the audit log");
    }
}

/// What the audit log says of an Exchange write whose answer a stopped server never recorded.
pub(crate) const UNANSWERED_WRITE: &str = "The server stopped while this call was with \
    Exchange, before its answer was recorded: Exchange may or may not have made the change. The \
    next sync shows Exchange's state";

/// Journals an Exchange write about to be sent (`event` as it would be audited), so that a
/// server stopped before its answer is recorded still leaves an audit entry at its next start.
/// `None` when the journal cannot be written (logged): then the write must not be sent.
pub(crate) async fn journal_write(pool: &SqlitePool, event: &Event) -> Option<i64> {
    let entry = entry(event.clone());
    match audit::journal_write(pool, &entry).await {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::error!(error = %e, cmdlet = ?entry.cmdlet, "cannot journal an Exchange write");
            None
        }
    }
}

/// Appends `event`, Exchange's answer to the journaled write `journal`, and closes the journal
/// entry in the same transaction.
pub(crate) async fn record_answer(pool: &SqlitePool, journal: i64, event: Event) {
    let entry = entry(event);
    if let Err(e) = audit::append_answer(pool, journal, &entry).await {
        tracing::error!(error = %e, action = entry.action, "cannot write the audit log");
    }
}

/// At start: audits the Exchange writes the last run sent without recording their answer
/// (failure, [`UNANSWERED_WRITE`]). Returns how many.
pub(crate) async fn settle_unanswered_writes(pool: &SqlitePool) -> Result<u64, sqlx::Error> {
    audit::settle_journal(
        pool,
        AuditResult::Failure.as_str(),
        UNANSWERED_WRITE,
        Utc::now(),
    )
    .await
}

/// `exchange-connector admin create` made a user.
pub(crate) async fn record_cli_user_created(pool: &SqlitePool, email: &str, role: Role) {
    let event = Event::new(
        AuditAction::UserChange,
        Some("command line"),
        AuditResult::Success,
    )
    .target(email)
    .detail(format!("created as {}", role.as_str()));
    record(pool, event).await;
}

/// A manual sync start by `actor` from `address`: the kind as target; success names the run,
/// a refusal (a sync already running) is `denied` with its reason, anything else `failure`.
pub(crate) fn sync_start(
    actor: &str,
    address: &str,
    kind: SyncKind,
    outcome: &Result<String, AppError>,
) -> Event {
    let event = |result| {
        Event::new(AuditAction::SyncStart, Some(actor), result)
            .address(Some(address))
            .target(kind.as_str())
    };
    match outcome {
        Ok(run_id) => event(AuditResult::Success).detail(format!("run {run_id}")),
        Err(AppError::Conflict(reason)) => event(AuditResult::Denied).detail(reason.as_str()),
        Err(e) => event(AuditResult::Failure).detail(e.public_message()),
    }
}

/// Most entries one page may hold.
pub(crate) const MAX_PAGE: u32 = 200;

/// One page of entries matching `filter`, newest first, continuing after `cursor` (the
/// `next_cursor` of the previous page; an unreadable cursor starts from the top). `limit` is
/// clamped to 1..=200.
pub(crate) async fn page(
    state: &AppState,
    filter: &AuditFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<AuditPage, AppError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let after = cursor
        .and_then(keyset::parse)
        .and_then(|(at, id)| Some((at, id.parse::<i64>().ok()?)));
    // One more than asked: whether there is a next page.
    let rows = audit::list(state.db.pool(), filter, after, Some(limit + 1)).await?;
    let (rows, next_cursor) = keyset::cut(rows, limit, |(e, key)| keyset::cursor(key, e.id));
    Ok(AuditPage {
        entries: rows.into_iter().map(|(entry, _)| entry).collect(),
        next_cursor,
    })
}

/// Every entry matching `filter`, newest first, as CSV (RFC 4180) with a header row. Cells a
/// spreadsheet would run as a formula start with `'`: actors and details carry text that
/// whoever signs in typed. Written to `sink` [`EXPORT_BATCH`] entries at a time.
pub(crate) fn write_csv(
    state: &AppState,
    filter: &AuditFilter,
) -> impl FnOnce(Sink) -> BoxFuture<'static, (Sink, Result<(), sqlx::Error>)> {
    let pool = state.db.pool().clone();
    let filter = filter.clone();
    move |mut sink| {
        Box::pin(async move {
            push_record(sink.out(), CSV_HEADER.map(str::to_owned));
            let mut after: Option<(String, i64)> = None;
            loop {
                let key = after.as_ref().map(|(k, id)| (k.as_str(), *id));
                let rows = match audit::list(&pool, &filter, key, Some(EXPORT_BATCH)).await {
                    Ok(rows) => rows,
                    Err(e) => return (sink, Err(e)),
                };
                let full = rows.len() == EXPORT_BATCH as usize;
                after = rows.last().map(|(entry, key)| (key.clone(), entry.id));
                for (entry, _) in rows {
                    push_record(sink.out(), csv_fields(entry).map(inert));
                }
                if !sink.flush().await || !full {
                    return (sink, Ok(()));
                }
            }
        })
    }
}

/// Entries the audit export reads at a time.
const EXPORT_BATCH: u32 = 500;

const CSV_HEADER: [&str; 10] = [
    "time",
    "actor",
    "source_address",
    "action",
    "target",
    "cmdlet",
    "parameters",
    "result",
    "detail",
    "request_id",
];

fn csv_fields(e: AuditEntry) -> [String; 10] {
    [
        time(e.at),
        e.actor.unwrap_or_default(),
        e.source_address.unwrap_or_default(),
        e.action.as_str().to_owned(),
        e.target.unwrap_or_default(),
        e.cmdlet.unwrap_or_default(),
        e.parameters.unwrap_or_default(),
        e.result.as_str().to_owned(),
        e.detail.unwrap_or_default(),
        e.request_id.unwrap_or_default(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_start_is_a_success_a_refusal_is_denied_and_an_error_a_failure() {
        let ok = sync_start(
            "a@contoso.test",
            "10.0.0.1",
            SyncKind::FullSync,
            &Ok("r1".into()),
        );
        assert_eq!(ok.action, AuditAction::SyncStart);
        assert_eq!(ok.result, AuditResult::Success);
        assert_eq!(ok.actor.as_deref(), Some("a@contoso.test"));
        assert_eq!(ok.source_address.as_deref(), Some("10.0.0.1"));
        assert_eq!(ok.target.as_deref(), Some("fullSync"));
        assert_eq!(ok.detail.as_deref(), Some("run r1"));

        let busy = Err(AppError::Conflict("A sync is already running.".into()));
        let denied = sync_start("a", "b", SyncKind::DeltaSync, &busy);
        assert_eq!(denied.result, AuditResult::Denied);
        assert_eq!(denied.detail.as_deref(), Some("A sync is already running."));

        let broken = Err(AppError::Internal("key file unreadable at /secret".into()));
        let failed = sync_start("a", "b", SyncKind::DeltaSync, &broken);
        assert_eq!(failed.result, AuditResult::Failure);
        assert!(
            !failed.detail.unwrap_or_default().contains("/secret"),
            "internal details stay in the server log"
        );
    }

    #[test]
    fn a_csv_row_has_the_time_in_utc_and_every_column_in_header_order() {
        let entry = AuditEntry {
            id: 1,
            at: chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00.5+01:00")
                .expect("a time")
                .to_utc(),
            actor: Some("=cmd".into()),
            source_address: Some("127.0.0.1".into()),
            action: AuditAction::SetUp,
            target: None,
            cmdlet: Some("New-Thing".into()),
            parameters: Some(r#"{"a":1}"#.into()),
            result: AuditResult::Failure,
            detail: Some("a, b".into()),
            request_id: Some("req-1".into()),
        };
        let mut out = String::new();
        push_record(&mut out, csv_fields(entry).map(inert));
        assert_eq!(
            out,
            "2026-11-24T09:00:00.500Z,'=cmd,127.0.0.1,setUp,,New-Thing,\"{\"\"a\"\":1}\",failure,\"a, b\",req-1\r\n"
        );
    }
}
