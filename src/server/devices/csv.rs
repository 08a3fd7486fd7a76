//! The device list as CSV, streamed: rows are read from SQLite a batch at a time and sent in
//! chunks of about 64 KiB, so memory stays flat whatever the tenant's size; a browser that goes
//! away stops the reading.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use tokio::sync::mpsc;

use std::collections::HashMap;

use sqlx::SqlitePool;

use crate::model::DeviceQuery;

use super::super::csv::{inert, push_record, time};
use super::super::state::AppState;
use super::derive;

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;

/// Every column, as the header row names them.
const HEADER: [&str; 38] = [
    "guid",
    "identity",
    "user",
    "user_display_name",
    "device_id",
    "friendly_name",
    "device_type",
    "device_model",
    "device_os",
    "os_family",
    "device_user_agent",
    "client_type",
    "client_version",
    "access_state",
    "access_state_reason",
    "access_control_rule",
    "is_managed",
    "is_compliant",
    "first_sync_time",
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
    "when_changed_utc",
    "first_seen_at",
    "last_seen_at",
    "removed_at",
    "user_name",
];

/// GUIDs read from SQLite at a time.
const READ_BATCH: usize = 500;

/// The CSV download of the devices matching `query`'s filter, in its sort order, every column
/// (UTC times; text from Exchange made inert for spreadsheets). The order comes from the
/// in-memory list; the rows are read from SQLite by key, 500 at a time.
pub(crate) async fn download(state: &AppState, query: DeviceQuery) -> Response {
    let pool = state.db.pool().clone();
    let list = match super::catalog(state).await {
        Ok(list) => list,
        Err(e) => return super::super::csv::download("devices.csv", Err(e)),
    };
    let (connector, guids): (String, Vec<String>) = match list {
        None => (String::new(), Vec::new()),
        Some(list) => (
            list.connector_id.clone(),
            list.all(&query.filter, query.sort, query.dir, Utc::now())
                .iter()
                .map(|e| list.text(e.guid).to_owned())
                .collect(),
        ),
    };
    let (tx, rx) = mpsc::channel::<Result<String, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut out = String::with_capacity(CHUNK + 4096);
        push_record(&mut out, HEADER.iter().map(|h| (*h).to_owned()));
        for batch in guids.chunks(READ_BATCH) {
            let rows = match read_batch(&pool, &connector, batch).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "device CSV stopped");
                    let _ = tx.send(Err(std::io::Error::other("database error"))).await;
                    return;
                }
            };
            for fields in rows {
                push_record(&mut out, fields);
            }
            if out.len() >= CHUNK {
                let chunk = std::mem::replace(&mut out, String::with_capacity(CHUNK + 4096));
                if tx.send(Ok(chunk)).await.is_err() {
                    // The browser went away.
                    return;
                }
            }
        }
        let _ = tx.send(Ok(out)).await;
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"devices.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// The CSV fields of the devices `guids`, in that order (a device gone since is left out).
async fn read_batch(
    pool: &SqlitePool,
    connector_id: &str,
    guids: &[String],
) -> Result<Vec<Vec<String>>, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new("SELECT * FROM devices WHERE connector_id = ");
    q.push_bind(connector_id.to_owned()).push(" AND guid IN (");
    let mut list = q.separated(", ");
    for g in guids {
        list.push_bind(g.clone());
    }
    q.push(")");
    let mut found: HashMap<String, Vec<String>> = HashMap::with_capacity(guids.len());
    let mut rows = q.build().fetch(pool);
    while let Some(r) = rows.next().await {
        let r = r?;
        found.insert(r.try_get("guid")?, fields(&r)?);
    }
    Ok(guids.iter().filter_map(|g| found.remove(g)).collect())
}

/// One device's CSV fields, in `HEADER` order.
fn fields(r: &SqliteRow) -> Result<Vec<String>, sqlx::Error> {
    let text = |c: &str| -> Result<String, sqlx::Error> {
        Ok(inert(
            r.try_get::<Option<String>, _>(c)?.unwrap_or_default(),
        ))
    };
    let at = |c: &str| -> Result<String, sqlx::Error> {
        Ok(r.try_get::<Option<DateTime<Utc>>, _>(c)?
            .map(time)
            .unwrap_or_default())
    };
    let int = |c: &str| -> Result<String, sqlx::Error> {
        Ok(r.try_get::<Option<i64>, _>(c)?
            .map(|n| n.to_string())
            .unwrap_or_default())
    };
    let flag = |c: &str| -> Result<String, sqlx::Error> {
        Ok(r.try_get::<Option<bool>, _>(c)?
            .map(|b| b.to_string())
            .unwrap_or_default())
    };
    let display: Option<String> = r.try_get("user_display_name")?;
    Ok(vec![
        text("guid")?,
        text("identity")?,
        text("mailbox")?,
        text("user_display_name")?,
        text("device_id")?,
        text("friendly_name")?,
        text("device_type")?,
        text("device_model")?,
        text("device_os")?,
        text("os_family")?,
        text("device_user_agent")?,
        text("client_type")?,
        text("client_version")?,
        text("access_state")?,
        text("access_state_reason")?,
        text("access_control_rule")?,
        flag("is_managed")?,
        flag("is_compliant")?,
        at("first_sync_time")?,
        at("last_success_sync")?,
        at("last_sync_attempt_time")?,
        at("last_policy_update_time")?,
        int("last_ping_heartbeat")?,
        int("number_of_folders_synced")?,
        text("device_policy_applied")?,
        text("device_policy_application_status")?,
        text("sync_status")?,
        text("status_note")?,
        flag("is_remote_wipe_supported")?,
        at("device_wipe_request_time")?,
        at("device_wipe_sent_time")?,
        at("device_wipe_ack_time")?,
        text("last_device_wipe_requestor")?,
        at("when_changed_utc")?,
        at("first_seen_at")?,
        at("last_seen_at")?,
        at("removed_at")?,
        inert(derive::user_name(display.as_deref()).unwrap_or_default()),
    ])
}
