//! The HTTP surface: Leptos pages and server functions, live status (SSE), the CSV exports of
//! the sync history, the devices and the audit log, health, static files, layers.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{middleware, routing::get, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use serde::Deserialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::app::live::EVENTS_PATH;
use crate::app::paths;
use crate::app::query::HISTORY_CSV_PATH;
use crate::app::{shell, App};
use crate::model::{AuditFilter, HistoryFilter};

use super::auth::{csrf, guard, oidc, session};
use super::setup;
use super::state::AppState;
use super::{
    assets, audit, client_ip, csv, fn_status, headers, history, live, metrics, probes, rest,
    run_to_end,
};

/// The span of a request in the log: its method and path, never its query (OAuth callbacks
/// carry codes there, the first-admin link its token).
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}

/// The whole router, with `state` provided to every server function.
pub(crate) fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let (files, preloads) = assets::build_files(&options);
    let readers = || middleware::from_fn_with_state(state.clone(), guard::readers);
    let sessions = session::layer(
        state.sessions.clone(),
        state.db.pool().clone(),
        &state.security,
    );
    // Everything a browser signs in to: sessions, the page guard and the cross-site check.
    let browser = Router::new()
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(metrics::scrape))
        .merge(assets::pkg_router(&state.leptos_options))
        .route(EVENTS_PATH, get(live::events).route_layer(readers()))
        .route(HISTORY_CSV_PATH, get(history_csv).route_layer(readers()))
        .route(paths::DEVICES_CSV, get(devices_csv).route_layer(readers()))
        .route(
            paths::AUDIT_LOG_CSV,
            get(audit_csv)
                .route_layer(middleware::from_fn_with_state(state.clone(), guard::admins)),
        )
        .route(
            paths::EXCHANGE_CONSENT_START,
            get(setup::http::start)
                .route_layer(middleware::from_fn_with_state(state.clone(), guard::admins)),
        )
        .route(paths::EXCHANGE_CONSENT_CALLBACK, get(setup::http::callback))
        .route(paths::SSO_START, get(oidc::http::start))
        .route(paths::SSO_CALLBACK, get(oidc::http::callback))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    headers::provide_nonce();
                    provide_context(preloads.clone());
                }
            },
            {
                let files = files.clone();
                move || shell(options.clone(), files.clone())
            },
        )
        // With the nonce too: a 404 page hydrates like any other.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(headers::provide_nonce, move |options| {
            shell(options, files.clone())
        }))
        // Innermost: a page or server function the browser abandons still ends in order.
        .layer(middleware::from_fn(run_to_end::run_to_end))
        // A server function refused before its body runs answers its error's status, not 500.
        .layer(middleware::from_fn(fn_status::error_status))
        .layer(middleware::from_fn_with_state(state.clone(), guard::pages))
        .layer(sessions)
        // Before sessions and handlers: a refused request touches nothing.
        .layer(middleware::from_fn_with_state(
            state.security.clone(),
            csrf::refuse_cross_site,
        ));
    Router::new()
        // Bearer tokens only: no session is read or written, so no cookie can act.
        .nest(rest::BASE, rest::router(&state))
        .merge(rest::docs::router())
        .merge(browser)
        // Who the client is, before anything counts or records them.
        .layer(middleware::from_fn_with_state(
            Arc::<[ipnet::IpNet]>::from(state.security.trusted_proxies.as_slice()),
            client_ip::resolve,
        ))
        // Outside the rest, so that every answer (a refusal, a redirect, a 404) has them.
        .layer(middleware::from_fn_with_state(
            headers::HeaderSettings::new(&state.security, &state.leptos_options),
            headers::security_headers,
        ))
        // Every answer counted by its route, refusals and errors included.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        // Compression buffers nothing of an event stream (tower-http skips `text/event-stream`).
        .layer(CompressionLayer::new())
        // A 502 for an unreachable Exchange is an answer, not a crash: warn, don't error.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        // A bug that panics answers 500 (and is logged) instead of cutting the connection.
        .layer(CatchPanicLayer::custom(panicked))
        // After the layers, so that none applies: a liveness probe answered as fast as a bare
        // handler (load balancers call it often), with nothing to secure or count.
        .route("/healthz", get(probes::healthz))
        .with_state(state)
}

/// The answer to a request whose handling panicked: a plain 500, the panic in the log (its
/// message and place are printed by the panic hook too).
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "a request's handling panicked");
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        "The server failed on this request. It was logged; try again.",
    )
        .into_response()
}

/// The history filters as the page's GET form sends them; empty or unknown values are no
/// filter (the form's "All" is an empty value).
#[derive(Debug, Default, Deserialize)]
struct FilterQuery {
    status: Option<String>,
    kind: Option<String>,
    trigger: Option<String>,
}

impl FilterQuery {
    fn filter(&self) -> HistoryFilter {
        HistoryFilter {
            status: self.status.as_deref().and_then(parse_name),
            kind: self.kind.as_deref().and_then(parse_name),
            trigger: self.trigger.as_deref().and_then(parse_name),
        }
    }
}

/// An enum from its storage name (its serde name).
fn parse_name<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).ok()
}

/// `GET /conditional-access/exchange-connector/sync-history.csv?status=&kind=&trigger=`: every
/// run of the filtered history, newest first, as a CSV download.
async fn history_csv(State(state): State<AppState>, Query(query): Query<FilterQuery>) -> Response {
    csv::streamed(
        "sync-history.csv",
        history::write_csv(&state, &query.filter()),
    )
}

/// `GET /conditional-access/devices.csv?<the device list's query>`: every device matching the
/// list's filter, in its order, streamed as a CSV download.
async fn devices_csv(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let query = crate::model::DeviceQuery::from_params(|key| query.get(key).cloned());
    super::devices::csv::download(&state, query).await
}

/// `GET /admin/audit-log.csv?action=&result=&actor=&from=&to=` (admins only): every entry of
/// the filtered audit log, newest first, as a CSV download. The filters read as the page's.
async fn audit_csv(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let filter = AuditFilter::from_params(|key| query.get(key).cloned());
    csv::streamed("audit-log.csv", audit::write_csv(&state, &filter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SyncKind, SyncStatus};

    #[test]
    fn csv_filters_ignore_empty_and_unknown_values() {
        let q = FilterQuery {
            status: Some("failed".into()),
            kind: Some(String::new()),
            trigger: Some("nonsense".into()),
        };
        assert_eq!(
            q.filter(),
            HistoryFilter {
                status: Some(SyncStatus::Failed),
                kind: None,
                trigger: None,
            }
        );
        assert_eq!(
            parse_name::<SyncKind>("deltaSync"),
            Some(SyncKind::DeltaSync)
        );
    }
}
