//! The request log: the last [`CAPACITY`] requests as the simulator received them (method, path,
//! query, every header, the body as text, the cmdlet), so conformance tests can check what a
//! client sends. Secrets are redacted on the way in: the `Authorization` value keeps only its
//! scheme, length and a SHA-256 prefix; cookies are dropped; secret form fields (client secret,
//! assertion, code, verifier, refresh token) are replaced.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use ring::digest;
use serde::Serialize;

use super::layer::{cmdlet_name, InjectedFault, MAX_BODY};
use crate::sim::SimState;

/// Requests kept.
pub const CAPACITY: usize = 512;
/// Longest body text kept per request.
const MAX_LOGGED_BODY: usize = 64 * 1024;
/// Form fields whose values never reach the log.
const SECRET_FIELDS: [&str; 7] = [
    "client_secret",
    "client_assertion",
    "code",
    "code_verifier",
    "refresh_token",
    "assertion",
    "password",
];

/// One received request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Arrival order, from 1.
    pub seq: u64,
    /// Arrival time (simulator clock).
    pub time: DateTime<Utc>,
    /// `GET`, `POST`...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Every header in arrival order, names lower-case, secrets redacted.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8, at most 64 KiB, secret form fields redacted).
    pub body: String,
    /// `CmdletInput.CmdletName` of an InvokeCommand body.
    pub cmdlet: Option<String>,
    /// The answer's status (`None` when the connection was cut on purpose).
    pub status: Option<u16>,
    /// The label of the fault injected, if any.
    pub fault: Option<String>,
    /// Time to the response head, in milliseconds.
    pub elapsed_ms: u64,
}

impl RequestRecord {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the log shows for an `Authorization` value: the scheme, then the credential's length and
/// the first 16 hex digits of its SHA-256 (`Bearer [redacted len=73 sha256=0a1b...]`), so a test
/// can tell which token was sent without the log holding it.
pub fn redacted_authorization(value: &str) -> String {
    let value = value.trim();
    let (scheme, credential) = value.split_once(' ').unwrap_or(("", value));
    let credential = credential.trim();
    let hash = digest::digest(&digest::SHA256, credential.as_bytes());
    let hex: String = hash.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let redacted = format!("[redacted len={} sha256={hex}]", credential.len());
    if scheme.is_empty() {
        redacted
    } else {
        format!("{scheme} {redacted}")
    }
}

fn headers_for_log(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            let shown = match name.as_str() {
                "authorization" | "proxy-authorization" => redacted_authorization(&text),
                "cookie" => "[redacted]".to_owned(),
                _ => text.into_owned(),
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

fn body_for_log(headers: &HeaderMap, body: &[u8]) -> String {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let text = if form {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(body) {
            let secret = SECRET_FIELDS.contains(&k.as_ref());
            out.append_pair(&k, if secret { "[redacted]" } else { &v });
        }
        out.finish()
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    if text.len() <= MAX_LOGGED_BODY {
        return text;
    }
    let mut cut = MAX_LOGGED_BODY;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...[{} more bytes]", &text[..cut], text.len() - cut)
}

/// The last [`CAPACITY`] requests.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    seq: AtomicU64,
    entries: Mutex<VecDeque<RequestRecord>>,
}

impl RequestLog {
    fn push(&self, record: RequestRecord) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.pop_front();
        }
        entries.push_back(record);
    }

    /// Oldest first.
    pub fn recent(&self) -> Vec<RequestRecord> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().cloned().collect()
    }

    /// Forgets every entry (the sequence keeps counting).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Middleware over the whole router: records every request outside `/_sim/`.
pub(crate) async fn record(
    State(state): State<SimState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/_sim/") {
        return next.run(request).await;
    }
    let started = Instant::now();
    let time = state.now();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "exo-sim: request body over 2 MiB",
        )
            .into_response();
    };
    let log = &state.inner.requests;
    let mut record = RequestRecord {
        seq: log.seq.fetch_add(1, Ordering::Relaxed) + 1,
        time,
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: headers_for_log(&parts.headers),
        body: body_for_log(&parts.headers, &bytes),
        cmdlet: cmdlet_name(&bytes),
        status: None,
        fault: None,
        elapsed_ms: 0,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(Bytes::clone(&bytes))))
        .await;
    let fault = response.extensions().get::<InjectedFault>().map(|f| f.0);
    record.status = (fault != Some("reset")).then(|| response.status().as_u16());
    record.fault = fault.map(str::to_owned);
    record.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    log.push(record);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::wire;

    #[test]
    fn authorization_keeps_its_scheme_and_loses_its_secret() {
        let shown = redacted_authorization("Bearer exosim.secret-token");
        assert!(
            shown.starts_with("Bearer [redacted len=19 sha256="),
            "{shown}"
        );
        assert!(!shown.contains("secret-token"));
        assert_eq!(
            shown,
            redacted_authorization("Bearer  exosim.secret-token ")
        );
        assert_ne!(shown, redacted_authorization("Bearer exosim.other-token"));
    }

    #[test]
    fn secret_form_fields_and_cookies_are_redacted() {
        let mut h = HeaderMap::new();
        wire::insert(&mut h, "content-type", "application/x-www-form-urlencoded");
        wire::insert(&mut h, "cookie", "session=abc");
        let body = body_for_log(
            &h,
            b"grant_type=client_credentials&client_secret=s3cr3t&scope=x",
        );
        assert_eq!(
            body,
            "grant_type=client_credentials&client_secret=%5Bredacted%5D&scope=x"
        );
        let headers = headers_for_log(&h);
        assert!(headers.contains(&("cookie".to_owned(), "[redacted]".to_owned())));
    }

    #[test]
    fn the_log_keeps_the_last_512() {
        let log = RequestLog::default();
        for i in 0..600u64 {
            log.push(RequestRecord {
                seq: i,
                time: Utc::now(),
                method: "POST".into(),
                path: "/".into(),
                query: None,
                headers: Vec::new(),
                body: String::new(),
                cmdlet: None,
                status: Some(200),
                fault: None,
                elapsed_ms: 0,
            });
        }
        let recent = log.recent();
        assert_eq!(recent.len(), CAPACITY);
        assert_eq!(recent.first().map(|r| r.seq), Some(88));
        log.clear();
        assert!(log.recent().is_empty());
    }
}
