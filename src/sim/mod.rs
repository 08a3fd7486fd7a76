//! Exchange Online simulator: a real HTTP server that speaks the Exchange admin API (spec
//! `exchange-admin-api.md`: InvokeCommand over REST, OAuth client-credentials token endpoint) over
//! a deterministic, seeded demo tenant. It is the other side of the wire: it uses nothing from the
//! rest of the crate.
//!
//! Routes:
//! - `POST /{tenant}/oauth2/v2.0/token` (identity platform; `{tenant}` = GUID or domain)
//! - `GET /{tenant}/oauth2/v2.0/authorize`, `POST /{tenant}/oauth2/v2.0/consent` (delegated
//!   sign-in with PKCE and a consent page), `GET /{tenant}/v2.0/.well-known/openid-configuration`,
//!   `GET /{tenant}/discovery/v2.0/keys` (OpenID Connect): see `identity`
//! - `POST /adminapi/{beta|v1.0}/{tenant}/InvokeCommand`: the 17 cmdlets of `cmdlets`
//! - `GET /adminapi/{v1.0|beta}/{tenant}/EXOModuleFile`: permission pre-flight (see `module_file`)
//! - `GET/POST /_sim/clock`: the simulated clock and churn (see [`ClockMode`], [`ChurnReport`])
//! - `GET/PUT /_sim/rbac`: cmdlets denied per application or user (see [`Rbac`])
//! - `GET /_sim/stats`: the simulator's own counters (JSON); `/_sim/` is its admin namespace.
//!   `requests` there counts authenticated requests that reached a cmdlet; `received` counts
//!   every InvokeCommand that arrived (faulted ones too); `injected` counts faults by kind.
//! - `GET/PUT/POST/DELETE /_sim/faults`, `GET/DELETE /_sim/requests`: fault injection and the
//!   request log (see [`faults`]).
//!
//! Clients must send `X-ResponseFormat: json`; without it the simulator, like the service, does
//! not answer JSON (it returns a fixed CliXml placeholder with `application/xml`).

mod catalog;
mod clock;
mod cmdlets;
mod config;
pub mod faults;
mod filter;
mod generator;
mod identity;
mod invoke;
mod module_file;
mod paging;
mod params;
mod rbac;
mod rng;
mod tenant;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{SubsecRound, Utc};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use clock::{ChurnRates, ChurnReport, ClockMode};
pub use config::{
    check_redirect_uri, load_client_certificate, parse_count, parse_flag, SimConfig,
    SimConfigError, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DOMAIN, DEMO_TENANT_ID, MAX_OBJECTS,
};
pub use faults::{
    parse_fault_rules, redacted_authorization, FaultKind, FaultParseError, FaultRule,
    FaultRuleStatus, Faults, RateLimit, RequestRecord, Trigger, RATE_LIMITED,
};
use identity::TokenStore;
pub use rbac::{Principal, Rbac};
use tenant::Tenant;

/// Per-cmdlet and other counters (all atomic; no lock on the request path).
#[derive(Debug)]
pub(crate) struct Stats {
    per_cmdlet: HashMap<&'static str, AtomicU64>,
    pub(crate) unknown_cmdlets: AtomicU64,
    pub(crate) unauthorized: AtomicU64,
    pub(crate) tokens_issued: AtomicU64,
    pub(crate) token_errors: AtomicU64,
    pub(crate) discoveries: AtomicU64,
}

impl Stats {
    fn new() -> Self {
        Self {
            per_cmdlet: cmdlets::ALL
                .iter()
                .map(|c| (c.name, AtomicU64::new(0)))
                .collect(),
            unknown_cmdlets: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            token_errors: AtomicU64::new(0),
            discoveries: AtomicU64::new(0),
        }
    }

    /// Counts one InvokeCommand of a known cmdlet (canonical name).
    pub(crate) fn count(&self, cmdlet: &str) {
        if let Some(c) = self.per_cmdlet.get(cmdlet) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn get(&self, cmdlet: &str) -> u64 {
        self.per_cmdlet
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(cmdlet.trim()))
            .map_or(0, |(_, c)| c.load(Ordering::Relaxed))
    }
}

struct Inner {
    config: SimConfig,
    tenant: RwLock<Tenant>,
    tokens: Mutex<TokenStore>,
    stats: Stats,
    faults: faults::Faults,
    requests: faults::request_log::RequestLog,
    local_addr: OnceLock<SocketAddr>,
    clock: clock::ClockCell,
    rbac: RwLock<Rbac>,
}

/// Shared state of one simulator: config, the in-memory tenant (behind a `RwLock`), issued
/// tokens and counters. Cheap to clone.
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimState")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl SimState {
    /// Generates the tenant for `config` (CPU work proportional to its size: about a second for
    /// 100k devices in debug builds, so call it off the async runtime for big tenants). The
    /// simulated clock starts at `config.now` (else the current time), in `config.clock` mode.
    pub fn new(config: SimConfig) -> Self {
        let now = config.now.unwrap_or_else(|| Utc::now().trunc_subsecs(0));
        let tenant = generator::generate(&config, now);
        let churn = config
            .churn
            .unwrap_or_else(|| ChurnRates::for_devices(tenant.device_count()));
        let clock = Mutex::new(clock::Clock::new(config.clock, now, churn));
        let rbac = RwLock::new(config.deny.clone());
        let faults = faults::Faults::new(config.seed, config.faults.clone(), config.rate_limit);
        Self {
            inner: Arc::new(Inner {
                faults,
                requests: faults::request_log::RequestLog::default(),
                config,
                tenant: RwLock::new(tenant),
                tokens: Mutex::new(TokenStore::default()),
                stats: Stats::new(),
                local_addr: OnceLock::new(),
                clock,
                rbac,
            }),
        }
    }

    /// The configuration the tenant was built from.
    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// Devices in the tenant right now.
    pub fn device_count(&self) -> usize {
        self.tenant().device_count()
    }

    /// Deletes the partnerships of the first `count` devices (in listing order), as
    /// `Remove-MobileDevice` would; returns how many went.
    pub fn remove_devices(&self, count: usize) -> usize {
        let mut tenant = self.tenant_mut();
        let guids: Vec<uuid::Uuid> = tenant
            .devices_after(None)
            .take(count)
            .map(|d| d.guid)
            .collect();
        guids
            .iter()
            .filter(|guid| tenant.remove_device(guid).is_some())
            .count()
    }

    /// InvokeCommand requests of `cmdlet` (any case) that passed authentication, every page counted.
    pub fn request_count(&self, cmdlet: &str) -> u64 {
        self.inner.stats.get(cmdlet)
    }

    // A panic while holding the lock cannot leave the tenant half-written (writers replace whole
    // values), so a poisoned lock is used as is rather than failing every later request.
    pub(crate) fn tenant_mut(&self) -> RwLockWriteGuard<'_, Tenant> {
        self.inner.tenant.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn tenant(&self) -> RwLockReadGuard<'_, Tenant> {
        self.inner.tenant.read().unwrap_or_else(|e| e.into_inner())
    }

    /// An app-only access token for the configured application, issued without the token
    /// endpoint: for tools and tests that want to read the tenant over the admin API.
    pub fn issue_app_token(&self) -> String {
        let config = self.config();
        self.tokens()
            .issue(&config.client_id, self.now(), config.token_lifetime_secs)
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        self.inner.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// OpenID Connect discovery documents served (`/.well-known/openid-configuration`).
    pub fn discoveries(&self) -> u64 {
        self.inner.stats.discoveries.load(Ordering::Relaxed)
    }

    pub(crate) fn be_target(&self) -> String {
        self.tenant().org.be_target.clone()
    }

    /// `http://host:port` as the client addressed us (`Host` header), else the bound address.
    pub(crate) fn base_url(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'"')
            });
        let scheme = match headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
        {
            Some("https") => "https",
            _ => "http",
        };
        match (host, self.inner.local_addr.get()) {
            (Some(h), _) => format!("{scheme}://{h}"),
            (None, Some(addr)) => format!("http://{}", reachable(*addr)),
            (None, None) => "http://localhost".to_owned(),
        }
    }
}

/// The address a local client should use: wildcard binds become loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// The simulator's routes over `state`, for callers that serve it themselves.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(identity::token).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                faults::token_fault_layer,
            )),
        )
        .route("/{tenant}/oauth2/v2.0/authorize", get(identity::authorize))
        .route("/{tenant}/oauth2/v2.0/consent", post(identity::consent))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(identity::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(identity::jwks))
        .route(
            "/adminapi/{version}/{tenant}/InvokeCommand",
            post(invoke::invoke_command).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                faults::fault_layer,
            )),
        )
        .route(
            "/adminapi/{version}/{tenant}/EXOModuleFile",
            get(module_file::module_file).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                faults::fault_layer,
            )),
        )
        .route("/_sim/stats", get(stats))
        .route("/_sim/clock", get(clock::get_clock).post(clock::post_clock))
        .route("/_sim/rbac", get(rbac::get_rbac).put(rbac::put_rbac))
        .route(
            "/_sim/faults",
            get(faults::faults_get)
                .put(faults::faults_put)
                .post(faults::faults_post)
                .delete(faults::faults_delete),
        )
        .route(
            "/_sim/requests",
            get(faults::requests_get).delete(faults::requests_delete),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::request_log::record,
        ))
        .with_state(state)
}

async fn stats(State(state): State<SimState>) -> Json<serde_json::Value> {
    state.catch_up();
    let s = state.stats();
    let per: serde_json::Map<String, serde_json::Value> = cmdlets::ALL
        .iter()
        .map(|c| (c.name.to_owned(), json!(s.get(c.name))))
        .collect();
    let tenant = state.tenant();
    Json(json!({
        "requests": per,
        "unknownCmdletRequests": s.unknown_cmdlets.load(Ordering::Relaxed),
        "unauthorizedRequests": s.unauthorized.load(Ordering::Relaxed),
        "tokensIssued": s.tokens_issued.load(Ordering::Relaxed),
        "tokenErrors": s.token_errors.load(Ordering::Relaxed),
        "discoveries": s.discoveries.load(Ordering::Relaxed),
        "mailboxes": tenant.mailboxes().len(),
        "devices": tenant.device_count(),
        "tenantId": tenant.org.tenant_id,
        "organization": tenant.org.organization,
        "received": state.faults().received_by_cmdlet(),
        "receivedTotal": state.faults().received_total(),
        "injected": state.faults().injected_by_kind(),
    }))
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"code": "NotFound", "message": "exo-sim has no such endpoint."}})),
    )
        .into_response()
}

/// A simulator serving in a background task. Dropping it without [`RunningSimulator::shutdown`]
/// cancels the server (it stops gracefully in the background); it never panics.
pub struct RunningSimulator {
    addr: SocketAddr,
    state: SimState,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSimulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningSimulator {
    /// The bound address (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (wildcard binds are reported as loopback).
    pub fn base_url(&self) -> String {
        format!("http://{}", reachable(self.addr))
    }

    /// `{base_url}/adminapi/beta`: the admin API base the client configures.
    pub fn admin_api_url(&self) -> String {
        format!("{}/adminapi/beta", self.base_url())
    }

    /// The identity authority: the token endpoint is `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn authority_url(&self) -> String {
        self.base_url()
    }

    /// The configuration the tenant was built from.
    pub fn config(&self) -> &SimConfig {
        self.state.config()
    }

    /// The shared state (for tests and, later, fault injection).
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Devices in the tenant right now.
    pub fn device_count(&self) -> usize {
        self.state.device_count()
    }

    /// InvokeCommand requests of `cmdlet` that passed authentication, every page counted.
    pub fn request_count(&self, cmdlet: &str) -> u64 {
        self.state.request_count(cmdlet)
    }

    /// Stops accepting requests, lets in-flight ones finish (up to 10 s) and waits for the task.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(10), &mut task)
                .await
                .is_err()
            {
                tracing::warn!(
                    "exo-sim: connections still open after 10 s; aborting the server task"
                );
                task.abort();
            }
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Binds `addr` (use port 0 for a free port) and serves in a background tokio task.
pub async fn start(config: SimConfig, addr: SocketAddr) -> std::io::Result<RunningSimulator> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let state = tokio::task::spawn_blocking(move || SimState::new(config))
        .await
        .map_err(std::io::Error::other)?;
    // A fresh state: the cell is empty, so this cannot fail.
    let _ = state.inner.local_addr.set(local);
    let cancel = CancellationToken::new();
    let app = router(state.clone());
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        // As the connector's server: an answer's body must not wait for a delayed ACK.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(e) = server.await {
            tracing::error!(error = %e, "exo-sim: server stopped with an error");
        }
    });
    tracing::info!(addr = %local, devices = state.device_count(), "exo-sim: Exchange Online simulator listening");
    Ok(RunningSimulator {
        addr: local,
        state,
        cancel,
        task: Some(task),
    })
}
