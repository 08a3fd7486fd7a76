//! The HTTP surface: Leptos pages and server functions, live status (SSE), the CSV export of
//! the sync history, health, static files, layers.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{middleware, routing::get, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use serde::Deserialize;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::app::live::EVENTS_PATH;
use crate::app::query::HISTORY_CSV_PATH;
use crate::app::{shell, App};
use crate::model::HistoryFilter;

use super::auth::{guard, session};
use super::state::AppState;
use super::{history, live};

/// The whole router, with `state` provided to every server function.
pub(crate) fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let readers = || middleware::from_fn_with_state(state.clone(), guard::readers);
    let sessions = session::layer(state.sessions.clone(), &state.security);
    Router::new()
        .route("/healthz", get(|| async { (StatusCode::OK, "ok") }))
        .route(EVENTS_PATH, get(live::events).route_layer(readers()))
        .route(HISTORY_CSV_PATH, get(history_csv).route_layer(readers()))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), guard::pages))
        .layer(sessions)
        // Compression buffers nothing of an event stream (tower-http skips `text/event-stream`).
        .layer(CompressionLayer::new())
        // A 502 for an unreachable Exchange is an answer, not a crash: warn, don't error.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::WARN)))
        .with_state(state)
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
    match history::csv(&state, &query.filter()).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"sync-history.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            let api = crate::error::ApiError::from(e);
            let status = StatusCode::from_u16(api.status_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, api.to_string()).into_response()
        }
    }
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
