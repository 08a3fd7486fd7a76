//! Route guards: pages send whoever is not signed in to the sign-in page (and readers away from
//! admin pages); other routes (the live stream, CSV downloads) answer 401 or 403 themselves.
//! Server functions check in `api::authorize`.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::app::paths;
use crate::model::Role;

use super::super::audit;
use super::super::client_ip::ClientIp;
use super::super::error::AppError;
use super::super::state::AppState;
use super::{require, signed_in, RequestPrincipal};

/// Whether `path` is a page (not a server function, an asset, a download or a public page).
pub(crate) fn is_guarded_page(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics")
        || last.contains('.')
        || paths::PUBLIC_PAGES.contains(&path)
        || path == paths::SSO_START
        || path == paths::SSO_CALLBACK
        || path.starts_with(paths::EXCHANGE_CONSENT_CALLBACK))
}

/// Pages: anonymous → the sign-in page (coming back here afterwards); a reader on an admin
/// page → 403.
pub(crate) async fn pages(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    // Whoever checks who is signed in during this request (this guard, then every server
    // function the page renders) shares one read.
    let memo = RequestPrincipal::default();
    request.extensions_mut().insert(memo.clone());
    let path = request.uri().path();
    if !matches!(*request.method(), Method::GET | Method::HEAD) || !is_guarded_page(path) {
        return next.run(request).await;
    }
    let needed = if paths::ADMIN_PAGES.iter().any(|p| path.starts_with(p)) {
        Role::Admin
    } else {
        Role::Reader
    };
    match allowed(&state, &session, Some(&memo), whence(&request), needed).await {
        Ok(()) => next.run(request).await,
        Err(AppError::Unauthorized) => {
            let here = request
                .uri()
                .path_and_query()
                .map_or(path, |pq| pq.as_str());
            let next_param: String =
                url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            Redirect::to(&format!("{}?next={next_param}", paths::SIGN_IN)).into_response()
        }
        Err(e) => refusal(e),
    }
}

/// Routes readers may use: 401 without a session.
pub(crate) async fn readers(
    state: State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    check(state, session, request, next, Role::Reader).await
}

/// Routes only admins may use: 401 without a session, 403 for a reader.
pub(crate) async fn admins(
    state: State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    check(state, session, request, next, Role::Admin).await
}

async fn check(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
    needed: Role,
) -> Response {
    match allowed(&state, &session, None, whence(&request), needed).await {
        Ok(()) => next.run(request).await,
        Err(e) => refusal(e),
    }
}

/// The path of `request` and the address it came from (owned: a request is not shared between
/// threads, so no reference to it may be held across an await).
fn whence(request: &Request) -> (String, Option<String>) {
    let address = request
        .extensions()
        .get::<ClientIp>()
        .map(|ClientIp(ip)| ip.to_string());
    (request.uri().path().to_owned(), address)
}

/// Whether the person signed in with `session` may make a request of `path` from `address`; a signed-in person refused
/// for their role is recorded in the audit log.
async fn allowed(
    state: &AppState,
    session: &Session,
    memo: Option<&RequestPrincipal>,
    (path, address): (String, Option<String>),
    needed: Role,
) -> Result<(), AppError> {
    let who = signed_in(state, session, memo).await?;
    let email = who.as_ref().map(|w| w.email.clone());
    match require(who, needed) {
        Ok(_) => Ok(()),
        Err(e) => {
            if let Some(email) = email {
                let pool = state.db.pool();
                audit::access_denied(pool, &email, address.as_deref(), &path, needed).await;
            }
            Err(e)
        }
    }
}

fn refusal(e: AppError) -> Response {
    let api = crate::error::ApiError::from(e);
    let status =
        StatusCode::from_u16(api.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, api.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_guarded_and_assets_public_pages_and_server_functions_are_not() {
        for page in [
            "/",
            "/conditional-access/exchange-connector",
            "/conditional-access/exchange-connector/sync-history/run-1",
            paths::USERS,
            paths::NOTIFICATIONS,
            paths::AUDIT_LOG,
        ] {
            assert!(is_guarded_page(page), "{page}");
        }
        for other in [
            "/api/connector/overview",
            "/pkg/exchange-connector.wasm",
            "/favicon.ico",
            "/healthz",
            paths::SIGN_IN,
            paths::FIRST_ADMIN,
            paths::AUDIT_LOG_CSV,
            paths::EXCHANGE_CONSENT_CALLBACK,
            paths::SSO_START,
            paths::SSO_CALLBACK,
        ] {
            assert!(!is_guarded_page(other), "{other}");
        }
    }
}
