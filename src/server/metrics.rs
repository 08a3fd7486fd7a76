//! Prometheus metrics at `/metrics` (OpenMetrics text, which Prometheus scrapes natively).
//!
//! Two kinds of figures. Events are counted as they happen, in this process (sync runs and
//! their durations, Exchange requests by cmdlet and status, the time spent waiting on
//! Exchange, HTTP requests by route and status): counters start again at zero when the server
//! restarts, which Prometheus' `rate()` expects. States are read at each scrape from the same
//! service functions the pages use (the connector's health, its last successful sync, its
//! devices by access state, devices below EAS 16.1), so they are never stale and survive
//! restarts. No label names a device or a person: cardinality stays bounded by the code's own
//! routes, cmdlets and states.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use secrecy::ExposeSecret;

use crate::model::{ConnectionStatus, Health, StateBucket, SyncKind, SyncStatus};

use super::exchange::{ExchangeObserver, Wait};
use super::state::AppState;
use super::{connector, devices};

/// `Content-Type` of the exposition.
pub(crate) const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a file served outside the router's own routes (`/pkg`, `public/`).
const STATIC: &str = "static";
/// The route label of a request nothing answered (404).
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExchangeLabels {
    cmdlet: String,
    /// The HTTP status, or `error` when no answer came (connection, timeout, unreadable).
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WaitLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    kind: &'static str,
    /// `delivered`, `retry` (the attempt failed, another follows) or `failed` (given up).
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AccessStateLabels {
    access_state: &'static str,
}

/// The counters and histograms of this process (shared by every request and the sync engine).
pub(crate) struct Metrics {
    registry: Registry,
    sync_runs: Family<RunLabels, Counter>,
    sync_duration: Family<KindLabels, Histogram>,
    exchange_requests: Family<ExchangeLabels, Counter>,
    exchange_wait: Family<WaitLabels, Counter<f64, AtomicU64>>,
    http_requests: Family<HttpLabels, Counter>,
    alert_attempts: Family<AlertLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("exchange_connector");
        let build_info = Family::<VersionLabels, Gauge>::default();
        build_info
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "build_info",
            "The running build (always 1; the version is the label)",
            build_info,
        );
        let sync_runs = Family::<RunLabels, Counter>::default();
        registry.register(
            "sync_runs",
            "Sync runs ended, by kind (fullSync, deltaSync) and result (succeeded, partial, \
             failed, interrupted)",
            sync_runs.clone(),
        );
        // 0.25 s to about 68 min.
        let sync_duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.25, 2.0, 15))
        });
        registry.register_with_unit(
            "sync_duration",
            "Duration of ended sync runs, by kind",
            Unit::Seconds,
            sync_duration.clone(),
        );
        let exchange_requests = Family::<ExchangeLabels, Counter>::default();
        registry.register(
            "exchange_requests",
            "HTTP requests to the Exchange Online admin API (every page and every retry), by \
             cmdlet and HTTP status (error: no answer)",
            exchange_requests.clone(),
        );
        let exchange_wait = Family::<WaitLabels, Counter<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "exchange_wait",
            "Time spent waiting before Exchange requests, by reason (throttled: a 429's \
             Retry-After; backoff: before retrying a failure; pacing: the rate-limit budget ran \
             low)",
            Unit::Seconds,
            exchange_wait.clone(),
        );
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by route pattern, method and status",
            http_requests.clone(),
        );
        let alert_attempts = Family::<AlertLabels, Counter>::default();
        registry.register(
            "alert_delivery_attempts",
            "Attempts to deliver an alert to a webhook, by destination kind (json, teams, \
             slack) and result (delivered, retry, failed: given up)",
            alert_attempts.clone(),
        );
        Self {
            registry,
            sync_runs,
            sync_duration,
            exchange_requests,
            exchange_wait,
            http_requests,
            alert_attempts,
        }
    }
}

impl Metrics {
    /// A sync run of `kind` ended as `status` after `duration`.
    pub(crate) fn sync_ended(&self, kind: SyncKind, status: SyncStatus, duration: Duration) {
        self.sync_runs
            .get_or_create(&RunLabels {
                kind: kind.as_str(),
                result: status.as_str(),
            })
            .inc();
        self.sync_duration
            .get_or_create(&KindLabels {
                kind: kind.as_str(),
            })
            .observe(duration.as_secs_f64());
    }

    /// An attempt to deliver an alert to a destination of `kind` ended as `result`.
    pub(crate) fn alert_attempt(&self, kind: &'static str, result: &'static str) {
        self.alert_attempts
            .get_or_create(&AlertLabels { kind, result })
            .inc();
    }

    fn http_request(&self, route: String, method: &str, status: u16) {
        let labels = HttpLabels {
            route,
            method: method.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
    }

    /// The exposition: this process' counters, then the states read now.
    async fn render(&self, state: &AppState) -> Result<String, super::error::AppError> {
        let now = current(state).await?;
        let mut text = String::with_capacity(16 * 1024);
        let written = encode_registry(&mut text, &self.registry)
            .and_then(|()| encode_registry(&mut text, &now))
            .and_then(|()| encode_eof(&mut text));
        if written.is_err() {
            // Writing to a String cannot fail; should the encoder refuse, say so plainly.
            let _ = writeln!(text, "# EOF");
        }
        Ok(text)
    }
}

impl ExchangeObserver for Metrics {
    fn answered(&self, cmdlet: &str, status: Option<u16>) {
        let labels = ExchangeLabels {
            cmdlet: cmdlet.to_owned(),
            status: status.map_or_else(|| "error".to_owned(), |s| s.to_string()),
        };
        self.exchange_requests.get_or_create(&labels).inc();
    }

    fn waited(&self, why: Wait, how_long: Duration) {
        let reason = match why {
            Wait::Throttled => "throttled",
            Wait::Backoff => "backoff",
            Wait::Pacing => "pacing",
        };
        self.exchange_wait
            .get_or_create(&WaitLabels { reason })
            .inc_by(how_long.as_secs_f64());
    }
}

fn health_name(health: Health) -> &'static str {
    match health {
        Health::Healthy => "healthy",
        Health::Warning => "warning",
        Health::Unhealthy => "unhealthy",
    }
}

/// The states of now, in a registry of their own (built at each scrape, so that a state that
/// went away is not reported with its last value).
async fn current(state: &AppState) -> Result<Registry, super::error::AppError> {
    let overview = connector::overview(state).await?;
    let mut registry = Registry::with_prefix("exchange_connector");
    let gauge = |value: i64| {
        let g = Gauge::<i64>::default();
        g.set(value);
        g
    };
    let c = overview.connector.as_ref();
    registry.register(
        "configured",
        "1 when a connector has been set up (or its set-up is pending)",
        gauge(i64::from(c.is_some())),
    );
    registry.register(
        "connected",
        "1 when the last attempt to reach Exchange Online succeeded",
        gauge(i64::from(
            c.is_some_and(|c| c.status == ConnectionStatus::Connected),
        )),
    );
    registry.register(
        "sync_running",
        "1 while a sync runs",
        gauge(i64::from(c.is_some_and(|c| c.syncing))),
    );
    let Some(c) = c else {
        return Ok(registry);
    };
    let health = Family::<HealthLabels, Gauge>::default();
    for h in [Health::Healthy, Health::Warning, Health::Unhealthy] {
        health
            .get_or_create(&HealthLabels {
                state: health_name(h),
            })
            .set(i64::from(c.health == h));
    }
    registry.register(
        "health",
        "The connector's health from the age of its last successful sync (1 for the current \
         state)",
        health,
    );
    if let Some(at) = c.last_sync_at {
        let seconds = Gauge::<f64, AtomicU64>::default();
        seconds.set(at.timestamp_millis() as f64 / 1000.0);
        registry.register_with_unit(
            "last_successful_sync_timestamp",
            "When the last successful sync ended (Unix time)",
            Unit::Seconds,
            seconds,
        );
    }
    let by_state = Family::<AccessStateLabels, Gauge>::default();
    for bucket in StateBucket::ALL {
        by_state
            .get_or_create(&AccessStateLabels {
                access_state: bucket.as_str(),
            })
            .set(0);
    }
    for s in &c.device_states {
        let bucket = StateBucket::of(&s.state);
        by_state
            .get_or_create(&AccessStateLabels {
                access_state: bucket.as_str(),
            })
            .inc_by(i64::try_from(s.count).unwrap_or(i64::MAX));
    }
    registry.register(
        "devices",
        "Present devices by Exchange access state",
        by_state,
    );
    let readiness = devices::readiness(state).await?;
    registry.register(
        "devices_below_eas_16_1",
        "Present Exchange ActiveSync devices below protocol 16.1 (cut off by Exchange Online \
         since 1 March 2026)",
        gauge(i64::try_from(readiness.legacy_total).unwrap_or(i64::MAX)),
    );
    Ok(registry)
}

/// `GET /metrics`. With `METRICS_TOKEN` set, only `Authorization: Bearer <token>` gets in.
pub(crate) async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.security.metrics_token {
        if !bearer_matches(&headers, expected.expose_secret()) {
            let mut refused =
                (StatusCode::UNAUTHORIZED, "a bearer token is required\n").into_response();
            refused.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return refused;
        }
    }
    match state.metrics.render(&state).await {
        Ok(text) => (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE_OPENMETRICS),
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the metrics");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the metrics cannot be read now\n",
            )
                .into_response()
        }
    }
}

/// Whether `headers` carry `Authorization: Bearer <expected>` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    super::auth::same_secret(given.trim(), expected)
}

/// Counts every request by its route pattern (never its path: ids stay out of labels).
pub(crate) async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Nested services (the `/pkg` files) and the fallback (files of `public/`, 404s) have no
    // matched path.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let route = route.unwrap_or_else(|| {
        let found = status.is_success() || status == StatusCode::NOT_MODIFIED;
        if found { STATIC } else { UNMATCHED }.to_owned()
    });
    state
        .metrics
        .http_request(route, method.as_str(), status.as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_token_must_match_exactly() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("header"));
            h
        };
        assert!(bearer_matches(&with("Bearer s3cret"), "s3cret"));
        assert!(!bearer_matches(&with("Bearer s3cre"), "s3cret"));
        assert!(!bearer_matches(&with("Bearer s3cretx"), "s3cret"));
        assert!(!bearer_matches(&with("Basic s3cret"), "s3cret"));
        assert!(!bearer_matches(&HeaderMap::new(), "s3cret"));
    }

    #[test]
    fn sync_runs_and_exchange_answers_are_counted_with_conventional_names() {
        let m = Metrics::default();
        m.sync_ended(
            SyncKind::FullSync,
            SyncStatus::Succeeded,
            Duration::from_millis(1500),
        );
        m.answered("Get-MobileDevice", Some(200));
        m.answered("Get-MobileDevice", Some(200));
        m.answered("Get-MobileDevice", None);
        m.waited(Wait::Throttled, Duration::from_millis(2500));
        let mut text = String::new();
        encode_registry(&mut text, &m.registry).expect("encoded");
        for line in [
            "exchange_connector_build_info{version=\"",
            "exchange_connector_sync_runs_total{kind=\"fullSync\",result=\"succeeded\"} 1",
            "exchange_connector_sync_duration_seconds_count{kind=\"fullSync\"} 1",
            "exchange_connector_sync_duration_seconds_sum{kind=\"fullSync\"} 1.5",
            "exchange_connector_exchange_requests_total{cmdlet=\"Get-MobileDevice\",status=\"200\"} 2",
            "exchange_connector_exchange_requests_total{cmdlet=\"Get-MobileDevice\",status=\"error\"} 1",
            "exchange_connector_exchange_wait_seconds_total{reason=\"throttled\"} 2.5",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
