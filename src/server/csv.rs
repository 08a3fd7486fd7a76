//! CSV exports (sync history, audit log, devices): RFC 4180 records with CRLF line ends,
//! streamed: records are read from the database a batch at a time and sent in chunks of about
//! 64 KiB, so memory stays flat whatever the size; a browser that goes away stops the reading.

use std::future::Future;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::error::ApiError;

use super::error::AppError;

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;

/// Where a streamed export writes its records.
pub(crate) struct Sink {
    tx: mpsc::Sender<std::io::Result<String>>,
    out: String,
}

impl Sink {
    fn new(tx: mpsc::Sender<std::io::Result<String>>) -> Self {
        Self {
            tx,
            out: String::with_capacity(CHUNK + 4096),
        }
    }

    /// The buffer records are appended to.
    pub(crate) fn out(&mut self) -> &mut String {
        &mut self.out
    }

    /// Sends the buffer once it holds a chunk; `false` when nobody reads any more (the
    /// browser went away): the writer stops.
    pub(crate) async fn flush(&mut self) -> bool {
        if self.out.len() < CHUNK {
            return !self.tx.is_closed();
        }
        let chunk = std::mem::replace(&mut self.out, String::with_capacity(CHUNK + 4096));
        self.tx.send(Ok(chunk)).await.is_ok()
    }

    /// Ends the export: the rest of the buffer, or (after `failure`) a cut-off body, so that
    /// the download fails visibly instead of looking complete.
    async fn end(self, failure: Option<sqlx::Error>) {
        let last = match failure {
            None => Ok(self.out),
            Some(e) => {
                tracing::error!(error = %e, "a CSV export stopped");
                Err(std::io::Error::other("database error"))
            }
        };
        let _ = self.tx.send(last).await;
    }
}

/// Runs `write` in its own task and hands over its chunks as they come.
fn spawn_writer<F, Fut>(write: F) -> mpsc::Receiver<std::io::Result<String>>
where
    F: FnOnce(Sink) -> Fut,
    Fut: Future<Output = (Sink, Result<(), sqlx::Error>)> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    let work = write(Sink::new(tx));
    tokio::spawn(async move {
        let (sink, result) = work.await;
        sink.end(result.err()).await;
    });
    rx
}

/// A CSV download named `file_name` (never cached) whose records `write` appends to its sink
/// while they are sent.
pub(crate) fn streamed<F, Fut>(file_name: &str, write: F) -> Response
where
    F: FnOnce(Sink) -> Fut,
    Fut: Future<Output = (Sink, Result<(), sqlx::Error>)> + Send + 'static,
{
    let rx = spawn_writer(write);
    // Fused: the compression layer polls a body once more after its end, which an unfused
    // `unfold` answers with a panic (the download then broke off for every gzip or brotli
    // client, browsers included).
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
    .fuse();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// What `write` produces, gathered into one string (for callers that want the whole text).
pub(crate) async fn collected<F, Fut>(write: F) -> Result<String, AppError>
where
    F: FnOnce(Sink) -> Fut,
    Fut: Future<Output = (Sink, Result<(), sqlx::Error>)> + Send + 'static,
{
    let mut rx = spawn_writer(write);
    let mut all = String::new();
    while let Some(chunk) = rx.recv().await {
        all.push_str(&chunk.map_err(|e| AppError::Internal(e.to_string()))?);
    }
    Ok(all)
}

/// The answer to an export that could not start: the failure's status and plain message.
pub(crate) fn refused(e: AppError) -> Response {
    let api = ApiError::from(e);
    let status =
        StatusCode::from_u16(api.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, api.to_string()).into_response()
}

/// A time as the exports write it: UTC, RFC 3339, milliseconds (`2026-11-24T10:00:00.000Z`).
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Appends one record: fields separated by commas, quoted only when they need it, CRLF after.
pub(crate) fn push_record(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, &field, false);
    }
    out.push_str("\r\n");
}

/// Appends one RFC 4180 field without building it apart: quoted only when it needs it, its
/// quotes doubled; `inert` first gives a field a spreadsheet would run a leading `'` (as
/// [`inert`] does).
pub(crate) fn push_field(out: &mut String, field: &str, inert: bool) {
    let mark = inert && runs_as_formula(field);
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        if mark {
            out.push('\'');
        }
        for (i, part) in field.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    } else {
        if mark {
            out.push('\'');
        }
        out.push_str(field);
    }
}

fn runs_as_formula(field: &str) -> bool {
    field.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A field a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (OWASP's advice against CSV formula injection). For
/// exports that carry text others typed (an audit log's actor is whatever a sign-in sent).
pub(crate) fn inert(field: String) -> String {
    if runs_as_formula(&field) {
        format!("'{field}")
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(field: &str) -> String {
        let mut out = String::new();
        push_field(&mut out, field, false);
        out
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_need_it() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        let mut out = String::new();
        push_record(&mut out, ["x".to_owned(), "y,z".to_owned()]);
        assert_eq!(out, "x,\"y,z\"\r\n");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_get_a_leading_quote() {
        for formula in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(formula.to_owned()), format!("'{formula}"));
        }
        assert_eq!(inert("admin@contoso.test".to_owned()), "admin@contoso.test");
        assert_eq!(inert(String::new()), "");
        let mut out = String::new();
        push_record(&mut out, [inert("=HYPERLINK(\"x\",\"y\")".to_owned())]);
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"\r\n");
        let mut direct = String::new();
        push_field(&mut direct, "=HYPERLINK(\"x\",\"y\")", true);
        direct.push_str("\r\n");
        assert_eq!(direct, out);
        for plain in ["", "x", "a,b", "-1", "\rx", "say \"hi\""] {
            let mut direct = String::new();
            push_field(&mut direct, plain, true);
            assert_eq!(direct, quote(&inert(plain.to_owned())), "{plain:?}");
        }
    }
}
