//! REST API v1 (`/api/v1`): the second door to the services the pages' server functions call.
//! JSON in camelCase, errors as problem+json, `Authorization: Bearer <API token>` only: no
//! cookies, no session, so no cross-site request can ride on a browser's sign-in.

mod changes;
pub(crate) mod docs;
mod problem;
mod resources;

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::model::Role;

use super::client_ip::ClientIp;
use super::state::AppState;
use super::tokens::{self, Caller, Refused};

pub(crate) use problem::Problem;

/// Where the API lives.
pub(crate) const BASE: &str = "/api/v1";
/// The largest request body taken (500 device GUIDs fit with room to spare).
const MAX_BODY: usize = 64 * 1024;
/// The most query parameters read from one request.
const MAX_PARAMS: usize = 32;

/// The routes, relative to [`BASE`]: every one needs a token, except the API's description
/// (`/openapi.json`). The routes and the description come from the same handlers' annotations,
/// so the description cannot leave one out.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let (routes, description) = api();
    let description = Arc::new(description);
    routes
        .fallback(unknown)
        .method_not_allowed_fallback(not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        // After the token layer: the description is public, like the reference page.
        .route(
            OPENAPI_PATH,
            get(move || {
                let description = description.clone();
                async move { axum::Json(description.as_ref().clone()) }
            }),
        )
}

/// Where the description is, under [`BASE`].
pub(crate) const OPENAPI_PATH: &str = "/openapi.json";

/// The API's routes and its OpenAPI 3.1 description, from the handlers.
pub(crate) fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(resources::connectors))
        .routes(routes!(resources::connector))
        .routes(routes!(resources::sync))
        .routes(routes!(resources::sync_runs))
        .routes(routes!(resources::sync_run))
        .routes(routes!(resources::devices))
        .routes(routes!(resources::device))
        .routes(routes!(resources::access_state_summary))
        .routes(routes!(resources::readiness))
        .routes(routes!(resources::audit_log))
        .routes(routes!(changes::device_action))
        .routes(routes!(changes::exchange_access))
        .routes(routes!(changes::preview))
        .routes(routes!(changes::apply))
        .routes(routes!(changes::policy))
        .split_for_parts()
}

/// What the description says besides the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Exchange Connector API",
        description = "The connector's data and actions for scripts and monitoring. Send an API \
            token (create one on Your account) as `Authorization: Bearer <token>`. Errors are RFC \
            9457 problem details (`application/problem+json`).",
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerToken),
    security(("token" = [])),
    tags(
        (name = "connectors", description = "The connector: status, health, syncs"),
        (name = "sync runs", description = "The sync history"),
        (name = "devices", description = "Exchange ActiveSync devices and why each has its state"),
        (name = "changes", description = "Changes in Exchange, each audited and read back \
            (admin tokens): device actions, access settings and rules, mailbox policies"),
        (name = "audit log", description = "Who did what (admin tokens)"),
    )
)]
struct ApiDoc;

/// The bearer token scheme every route uses.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from Your account (`exc_…`)"))
                    .build(),
            ),
        );
    }
}

async fn unknown() -> Problem {
    Problem::not_found("There is no such resource in the API; see /api/docs.")
}

async fn not_allowed() -> Problem {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "This resource does not take that method; see /api/docs.",
    )
}

/// Finds the caller of a request by its bearer token, or answers 401 (none, malformed,
/// unknown, expired, revoked, owner disabled) or 429 (too many failed attempts from here).
async fn authenticate(
    State(state): State<AppState>,
    Extension(ClientIp(peer)): Extension<ClientIp>,
    mut request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let Some(header) = header else {
        return Problem::unauthorized(
            "Send an API token: Authorization: Bearer <token>. Create one on \"Your account\".",
        )
        .into_response();
    };
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Problem::unauthorized("The Authorization header must be: Bearer <token>.")
                .into_response()
        }
    };
    match tokens::authenticate(&state, token, &peer.to_string()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(Refused::Invalid) => {
            Problem::unauthorized(Refused::Invalid.to_string()).into_response()
        }
        Err(Refused::Throttled(message)) => Problem::too_many(message).into_response(),
        Err(Refused::App(e)) => Problem::from(e).into_response(),
    }
}

/// The caller, if their token's role allows `needed`; else 403 saying what is needed.
fn require(caller: &Caller, needed: Role) -> Result<(), Problem> {
    if caller.who.role.allows(needed) {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "This needs an {} token; this one is a {} token.",
            needed.as_str(),
            caller.who.role.as_str()
        )))
    }
}

/// The query's parameters, each at most once and each one of `allowed`: anything else is a
/// 400 naming it (a mistyped filter must not silently return everything).
fn params(query: Option<&str>, allowed: &[&str]) -> Result<HashMap<String, String>, Problem> {
    let mut out = HashMap::new();
    for (i, (key, value)) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()).enumerate()
    {
        if i >= MAX_PARAMS {
            return Err(Problem::bad_request(
                "query",
                format!("at most {MAX_PARAMS} query parameters"),
            ));
        }
        if !allowed.contains(&key.as_ref()) {
            let name: String = key.chars().take(64).collect();
            return Err(Problem::bad_request(
                &name,
                format!(
                    "unknown query parameter \"{name}\"; this resource takes: {}",
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                ),
            ));
        }
        if out
            .insert(key.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(Problem::bad_request(
                &key,
                format!("\"{key}\" is given more than once"),
            ));
        }
    }
    Ok(out)
}

/// A JSON body, or a problem: 415 for another content type, 413 over [`MAX_BODY`], 400 for
/// JSON that does not parse or does not fit.
pub(crate) struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the body as JSON, with Content-Type: application/json.",
            )),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(Problem::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    "Request body too large",
                    format!("The body may be at most {MAX_BODY} bytes."),
                ))
            }
            Err(e) => Err(Problem::bad_request("body", e.body_text())),
        }
    }
}

/// The page models' field names as the API's: `last_sync_at` → `lastSyncAt`, in every object
/// however deep (the models' own enum names are camelCase already).
pub(crate) fn camel_case(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (camel_key(&k), camel_case(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case).collect()),
        other => other,
    }
}

fn camel_key(key: &str) -> String {
    if !key.contains('_') {
        return key.to_owned();
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_camel_case_at_every_depth() {
        let v = serde_json::json!({
            "last_sync_at": 1,
            "rows": [{"device_os": "iOS", "kind": "fullSync"}],
            "id": "x",
        });
        assert_eq!(
            camel_case(v),
            serde_json::json!({
                "lastSyncAt": 1,
                "rows": [{"deviceOs": "iOS", "kind": "fullSync"}],
                "id": "x",
            })
        );
        assert_eq!(camel_key("_x_y"), "xY");
    }

    #[test]
    fn unknown_or_repeated_query_parameters_are_refused_by_name() {
        let ok = params(Some("state=Blocked&limit=25"), &["state", "limit"]).expect("ok");
        assert_eq!(ok["state"], "Blocked");
        let e = params(Some("stat=Blocked"), &["state"]).expect_err("typo");
        assert_eq!(
            e.into_response().status(),
            axum::http::StatusCode::BAD_REQUEST
        );
        assert!(params(Some("state=a&state=b"), &["state"]).is_err());
        assert!(params(Some(&"a=1&".repeat(40)), &["a"]).is_err());
        assert!(params(None, &[]).expect("empty").is_empty());
    }
}
