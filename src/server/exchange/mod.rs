//! The Exchange Online admin API client: InvokeCommand over REST with OAuth tokens
//! (`shared/exchange-admin-api.md`). It only knows the wire; what to do with the answers is the
//! sync's business.
//!
//! Every request carries the headers of spec §1. One logical call (a cmdlet and all its pages)
//! keeps one `client-request-id`, has one deadline for the time the client spends on it, and
//! retries as spec §5 says (see `retry`). Pages are handed out one at a time, never buffered.

mod body;
mod cert;
pub(crate) mod cmdlets;
// The delegated sign-in is driven by the set-up page once sign-in exists (issue 5); until then
// only the tests use it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod delegated;
mod error;
mod pages;
mod preflight;
mod retry;
mod stats;
mod token;
pub(crate) mod wire;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use url::Url;

pub use cert::{CertificateError, ClientCertificate};
use delegated::DelegatedGrant;
use error::error_body_message;
pub(crate) use error::{ApiFailure, ExchangeError};
pub(crate) use pages::{Page, Pages};
#[cfg(test)]
use preflight::PermissionSource;
pub(crate) use preflight::{Permission, PermissionReport, OPTIONAL_CMDLETS};
use retry::Verdict;
pub(crate) use stats::ClientStats;
use stats::Meter;
pub(crate) use stats::{ExchangeObserver, Wait};
pub(crate) use token::RotationSink;
use token::{AppCredential, Grant, TokenProvider};

use super::config::{AuthMode, ClientSettings, Credential, ExchangeSettings};

/// `User-Agent` of every request.
const PRODUCT: &str = concat!("exchange-connector/", env!("CARGO_PKG_VERSION"));
/// The system mailbox app-only calls are anchored to (spec §1).
const APP_ANCHOR_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// A client for one Exchange Online organization. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ExchangeClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    invoke_url: Url,
    admin_api_url: Url,
    authority_url: Url,
    tenant_id: String,
    client_id: String,
    /// `X-AnchorMailbox`.
    anchor: String,
    /// Who the connector acts as, in words.
    account: String,
    settings: ClientSettings,
    tokens: TokenProvider,
    meter: Meter,
    /// Told of every answer and wait (the metrics); kept by the clients derived from this one.
    observer: Option<Arc<dyn ExchangeObserver>>,
    /// No request before this instant (set when `Rate-Limit-Remaining` runs low).
    pace_until: std::sync::Mutex<Option<Instant>>,
    /// The last [`RECENT`] answers, newest in the lowest bit: 1 for a 429.
    recent_429: std::sync::Mutex<u32>,
}

/// The answers looked back on to tell the budget running out from an isolated 429.
const RECENT: u32 = 16;
/// 429s among the last [`RECENT`] answers from which they mean the budget ran out.
const BUDGET_OUT: u32 = 4;

impl ExchangeClient {
    /// Builds a client; makes no request yet. In delegated mode it can only start a sign-in
    /// until [`ExchangeClient::signed_in`] gives it the admin's tokens.
    pub(crate) fn new(
        settings: &ExchangeSettings,
        client: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        // Several parts may build a client; only the first installation counts.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(client.request_timeout)
            .connect_timeout(client.request_timeout.min(Duration::from_secs(15)))
            .user_agent(PRODUCT)
            .build()?;
        let grant = match settings.auth_mode {
            AuthMode::App => Grant::App,
            AuthMode::Delegated => Grant::NotSignedIn,
        };
        let account = match settings.auth_mode {
            AuthMode::App => format!("Application {}", settings.client_id),
            AuthMode::Delegated => "(no admin signed in yet)".to_owned(),
        };
        let anchor = format!("APP:{APP_ANCHOR_MAILBOX}@{}", settings.tenant_id);
        Ok(Self::build(http, settings, client, grant, anchor, account))
    }

    fn build(
        http: reqwest::Client,
        settings: &ExchangeSettings,
        client: &ClientSettings,
        grant: Grant,
        anchor: String,
        account: String,
    ) -> Self {
        let base = settings.admin_api_url.as_str().trim_end_matches('/');
        let invoke_url = Url::parse(&format!("{base}/{}/InvokeCommand", settings.tenant_id))
            .unwrap_or_else(|_| settings.admin_api_url.clone());
        let credential = match &settings.credential {
            Credential::Secret(s) => AppCredential::Secret(s.clone()),
            Credential::Certificate(c) => AppCredential::Certificate(c.clone()),
            Credential::None => AppCredential::None,
        };
        let tokens = TokenProvider::new(
            http.clone(),
            &settings.authority_url,
            &settings.tenant_id,
            settings.client_id.clone(),
            credential,
            grant,
            client.request_timeout.as_secs(),
        );
        Self {
            inner: Arc::new(Inner {
                http,
                invoke_url,
                admin_api_url: settings.admin_api_url.clone(),
                authority_url: settings.authority_url.clone(),
                tenant_id: settings.tenant_id.clone(),
                client_id: settings.client_id.clone(),
                anchor,
                account,
                settings: client.clone(),
                tokens,
                meter: Meter::default(),
                observer: None,
                pace_until: std::sync::Mutex::new(None),
                recent_429: std::sync::Mutex::new(0),
            }),
        }
    }

    /// A client that acts as the admin of `grant` (delegated mode): their refresh token, their
    /// mailbox as the routing anchor. Rotated refresh tokens go to `rotated`.
    pub(crate) async fn signed_in(
        &self,
        settings: &ExchangeSettings,
        grant: DelegatedGrant,
        rotated: Option<RotationSink>,
    ) -> Self {
        let client = self.as_admin(settings, grant.user, grant.refresh_token, rotated);
        client
            .inner
            .tokens
            .seed(grant.access_token, grant.lifetime)
            .await;
        client
    }

    /// A client that acts as `user` with a stored `refresh_token` (after a restart); the first
    /// call redeems it.
    pub(crate) fn as_admin(
        &self,
        settings: &ExchangeSettings,
        user: String,
        refresh_token: SecretString,
        rotated: Option<RotationSink>,
    ) -> Self {
        Self::build(
            self.inner.http.clone(),
            settings,
            &self.inner.settings,
            Grant::Delegated {
                refresh_token: tokio::sync::Mutex::new(refresh_token),
                rotated,
            },
            format!("UPN:{user}"),
            user,
        )
        .observed_by(self.inner.observer.clone())
    }

    /// The same client without a signed-in admin (after the connector is removed).
    pub(crate) fn signed_out(&self, settings: &ExchangeSettings) -> Self {
        let account = "(no admin signed in yet)".to_owned();
        let anchor = format!("APP:{APP_ANCHOR_MAILBOX}@{}", settings.tenant_id);
        Self::build(
            self.inner.http.clone(),
            settings,
            &self.inner.settings,
            Grant::NotSignedIn,
            anchor,
            account,
        )
        .observed_by(self.inner.observer.clone())
    }

    /// The identity the connector uses, as shown to admins.
    pub(crate) fn account(&self) -> String {
        self.inner.account.clone()
    }

    /// This client, telling `observer` of every answer and wait (as will every client derived
    /// from it). Only a client nothing else holds yet can take an observer.
    pub(crate) fn observed_by(mut self, observer: Option<Arc<dyn ExchangeObserver>>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.observer = observer,
            None => tracing::warn!("an Exchange client in use cannot take an observer"),
        }
        self
    }

    fn waited(&self, why: Wait, how_long: Duration) {
        self.inner.meter.waited(why, how_long);
        if let Some(o) = &self.inner.observer {
            o.waited(why, how_long);
        }
    }

    /// Counters of everything this client did so far.
    pub(crate) fn stats(&self) -> ClientStats {
        self.inner.meter.snapshot(self.inner.tokens.requests())
    }

    /// Any cmdlet through InvokeCommand; pages are fetched on demand.
    pub(crate) fn invoke<T: DeserializeOwned>(
        &self,
        cmdlet: &str,
        parameters: Map<String, Value>,
    ) -> Pages<T> {
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}});
        Pages::new(self.clone(), Call::new(cmdlet), body.to_string())
    }

    fn headers(&self, call: &Call, token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        };
        put(AUTHORIZATION.as_str(), &format!("Bearer {token}"));
        put(CONTENT_TYPE.as_str(), "application/json");
        put(ACCEPT.as_str(), "application/json");
        put(USER_AGENT.as_str(), PRODUCT);
        put("x-responseformat", "json");
        put(
            "prefer",
            &format!("odata.maxpagesize={}", self.inner.settings.page_size),
        );
        put("x-anchormailbox", &self.inner.anchor);
        put("client-request-id", &call.request_id);
        put("x-cmdletname", &call.cmdlet);
        if let Some(v) = headers.get_mut(AUTHORIZATION) {
            v.set_sensitive(true);
        }
        headers
    }

    fn host(&self) -> String {
        token::host_of(&self.inner.invoke_url)
    }

    /// Waits out any slow-down the `Rate-Limit-*` headers asked for.
    async fn pace(&self) {
        let until = *self
            .inner
            .pace_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(wait) = until.and_then(|u| u.checked_duration_since(Instant::now())) {
            tokio::time::sleep(wait).await;
            self.waited(Wait::Pacing, wait);
        }
    }

    /// Keeps whether an answer was a 429; whether 429s are many among the recent answers.
    fn note_answer(&self, throttled: bool) -> bool {
        let mut recent = self
            .inner
            .recent_429
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *recent = (*recent << 1 | u32::from(throttled)) & ((1 << RECENT) - 1);
        recent.count_ones() >= BUDGET_OUT
    }

    /// Holds every call back as long as the budget headers of an answer ask (at most `cap`).
    fn note_rate_limit(&self, headers: &HeaderMap, cap: Option<Duration>) {
        if let Some(wait) = retry::pacing(headers) {
            let wait = cap.map_or(wait, |cap| wait.min(cap));
            let until = Instant::now() + wait;
            let mut slot = self
                .inner
                .pace_until
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if slot.is_none_or(|u| u < until) {
                *slot = Some(until);
            }
        }
    }

    /// One request with the retries of spec §5. `accept` reads a 2xx body; when it cannot,
    /// the answer counts as unreadable (retried for reads only).
    async fn send<R>(
        &self,
        call: &mut Call,
        method: Method,
        url: &Url,
        body: Option<&str>,
        extra: &[(&'static str, &str)],
        accept: impl Fn(&[u8]) -> Result<R, String>,
    ) -> Result<(R, HeaderMap), ExchangeError> {
        let inner = &self.inner;
        let started = Instant::now();
        let deadline = inner.settings.call_deadline;
        let mut retries = 0u32;
        let mut renewed_token = false;
        let outcome = loop {
            self.pace().await;
            let Some(left) = deadline.checked_sub(call.spent + started.elapsed()) else {
                break Err(call.deadline(deadline));
            };
            let token = inner.tokens.token().await?;
            let mut headers = self.headers(call, token.expose_secret());
            for (name, value) in extra {
                if let Ok(v) = HeaderValue::from_str(value) {
                    headers.insert(*name, v);
                }
            }
            inner.meter.request(&call.cmdlet);
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .headers(headers);
            if let Some(body) = body {
                request = request.body(body.to_owned());
            }
            let answer = tokio::time::timeout(left, async {
                let response = request.send().await?;
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let bytes = body::read(response, body::MAX_ANSWER).await?;
                Ok::<_, body::ReadError>((status, headers, bytes))
            })
            .await;
            if let Some(o) = &inner.observer {
                let status = match &answer {
                    Ok(Ok((status, _, _))) => Some(*status),
                    _ => None,
                };
                o.answered(&call.cmdlet, status);
            }
            // What went wrong, and whether and how long to wait before trying again.
            let (failure, verdict) = match answer {
                Err(_) => break Err(call.deadline(deadline)),
                Ok(Err(body::ReadError::TooLarge(limit))) => {
                    (call.unreadable(body::too_large(limit)), Verdict::Fail)
                }
                Ok(Err(body::ReadError::Http(e))) => {
                    // A refused connection or an unknown name is a setting, not a hiccup; a
                    // reset or a timed-out request is worth another try (reads only).
                    let transient = !e.is_connect() || e.is_timeout();
                    let verdict = if call.read && transient {
                        Verdict::Backoff
                    } else {
                        Verdict::Fail
                    };
                    (
                        transport_error(&self.host(), inner.settings.request_timeout.as_secs(), &e),
                        verdict,
                    )
                }
                Ok(Ok((status, headers, bytes))) => {
                    // The budget headers slow every call down before Exchange throttles. On a
                    // 429 they hold every call back no longer than its Retry-After: one 429
                    // among many calls must not stop them all for the budget's whole window.
                    // The budget headers slow every call down before Exchange throttles. When
                    // 429s are many, they hold every call back until the budget's window
                    // resets; an isolated 429 holds them no longer than its Retry-After (a
                    // passing fault must not stop every call for a whole window).
                    let cap = match self.note_answer(status == 429) {
                        true => None,
                        false => retry::retry_after(&headers),
                    };
                    self.note_rate_limit(&headers, cap);
                    if (200..300).contains(&status) {
                        match accept(&bytes) {
                            Ok(value) => break Ok((value, headers)),
                            Err(detail) => {
                                let verdict = if call.read {
                                    Verdict::Backoff
                                } else {
                                    Verdict::Fail
                                };
                                (call.unreadable(detail), verdict)
                            }
                        }
                    } else {
                        let failure = call.failure(status, &headers, &bytes, retries);
                        if status == 429 {
                            inner.meter.throttled();
                        }
                        let verdict = match &failure {
                            ExchangeError::Api(f) => retry::classify_status(
                                status,
                                retry::retry_after(&headers),
                                f.exception_type.as_deref(),
                                f.message.as_deref(),
                            ),
                            _ => Verdict::Fail,
                        };
                        // A write that may have run (504, or an unknown server error) is not
                        // repeated; 429 and 503 mean it was not run.
                        let verdict = match verdict {
                            Verdict::Backoff if !call.read && !matches!(status, 429 | 503) => {
                                Verdict::Fail
                            }
                            v => v,
                        };
                        if verdict == Verdict::NewToken {
                            inner.tokens.invalidate(&token).await;
                        }
                        (failure, verdict)
                    }
                }
            };
            let wait = match verdict {
                Verdict::NewToken if !renewed_token => {
                    renewed_token = true;
                    None
                }
                Verdict::RetryAfter(d) if retries < inner.settings.max_retries => {
                    Some((Wait::Throttled, d))
                }
                Verdict::Backoff if retries < inner.settings.max_retries => Some((
                    Wait::Backoff,
                    retry::backoff(inner.settings.retry_base, retries, retry::jitter()),
                )),
                _ => break Err(failure),
            };
            if let Some((why, wait)) = wait {
                // Waiting past the deadline would only fail later: report the failure now.
                if call.spent + started.elapsed() + wait >= deadline {
                    break Err(failure);
                }
                tracing::debug!(cmdlet = %call.cmdlet, retry = retries + 1, wait_ms = wait.as_millis() as u64, error = %failure, "retrying Exchange call");
                tokio::time::sleep(wait).await;
                self.waited(why, wait);
                retries += 1;
            }
            inner.meter.retry();
        };
        call.spent += started.elapsed();
        outcome
    }
}

/// The state of one logical call: its `client-request-id`, whether it only reads, and the time
/// the client has spent on it.
struct Call {
    cmdlet: String,
    request_id: String,
    read: bool,
    spent: Duration,
}

impl Call {
    fn new(cmdlet: &str) -> Self {
        Self {
            cmdlet: cmdlet.to_owned(),
            request_id: uuid::Uuid::new_v4().to_string(),
            read: cmdlet.starts_with("Get-") || cmdlet == preflight::MODULE_FILE,
            spent: Duration::ZERO,
        }
    }

    fn deadline(&self, limit: Duration) -> ExchangeError {
        ExchangeError::Deadline {
            cmdlet: self.cmdlet.clone(),
            seconds: limit.as_secs(),
        }
    }

    fn unreadable(&self, detail: String) -> ExchangeError {
        ExchangeError::Protocol {
            cmdlet: self.cmdlet.clone(),
            detail,
        }
    }

    fn failure(
        &self,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        retries: u32,
    ) -> ExchangeError {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (code, message) = error_body_message(body);
        ExchangeError::Api(Box::new(ApiFailure {
            status,
            cmdlet: self.cmdlet.clone(),
            code,
            message,
            exception_type: header("x-exceptiontype"),
            request_id: header("request-id"),
            retry_after: retry::retry_after(headers).map(|d| d.as_secs_f64()),
            retries,
        }))
    }
}

/// Maps a reqwest failure without an HTTP answer to `Unreachable` / `Timeout`, with the root
/// cause in words (e.g. "connection refused").
pub(crate) fn transport_error(host: &str, timeout_secs: u64, e: &reqwest::Error) -> ExchangeError {
    if e.is_timeout() {
        return ExchangeError::Timeout {
            host: host.to_owned(),
            seconds: timeout_secs,
        };
    }
    let mut reason = e.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    let reason = match reason.to_ascii_lowercase() {
        r if r.contains("connection refused") => {
            "connection refused (nothing is listening there)".into()
        }
        r if r.contains("dns") || r.contains("failed to lookup") => {
            "the name could not be resolved".into()
        }
        _ => reason,
    };
    ExchangeError::Unreachable {
        host: host.to_owned(),
        reason,
    }
}
