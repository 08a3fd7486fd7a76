//! The two routes of single sign-on, both public: the start (a redirect to the provider) and
//! the callback the provider sends the person back to. Both end on a page: where the person
//! was going, or the sign-in page with a fixed notice (never the provider's words). Every
//! outcome of a callback is in the audit log.

use axum::extract::{Query, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use tower_sessions::Session;

use crate::api::safe_next;
use crate::app::paths;
use crate::model::{AuditAction, AuditResult, FormNotice};

use super::super::super::audit::{self, Event};
use super::super::super::client_ip::ClientIp;
use super::super::super::state::AppState;
use super::{begin, finish, Callback, FailureKind, PENDING_COOKIE};

/// The query of the start.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Start {
    pub next: Option<String>,
}

/// `next` when it is a path on this site.
fn checked_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| safe_next(Some(n)) == *n).map(str::to_owned)
}

/// The sign-in page with `notice` (and `next`, kept for a second try).
fn back_to_sign_in(notice: FormNotice, next: Option<&str>) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("notice", notice.as_str());
    if let Some(n) = next {
        query.append_pair("next", n);
    }
    Redirect::to(&format!("{}?{}", paths::SIGN_IN, query.finish())).into_response()
}

/// The `Set-Cookie` of the sign-in in progress: `value` for 15 minutes, or (`None`) cleared.
/// Only the callback gets it back; `SameSite=Lax` lets the provider's redirect carry it.
fn pending_cookie(state: &AppState, value: Option<&str>) -> HeaderValue {
    let (value, age) = value.map_or(("", 0), |v| (v, 15 * 60));
    let secure = if state.security.https() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{PENDING_COOKIE}={value}; Path={}; Max-Age={age}; HttpOnly; SameSite=Lax{secure}",
        paths::SSO_CALLBACK
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of the sign-in-in-progress cookie the browser sent, if any.
fn pending_sent(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == PENDING_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// `GET /auth/sso/start?next=`: to the provider's sign-in page.
pub(crate) async fn start(State(state): State<AppState>, Query(query): Query<Start>) -> Response {
    let next = checked_next(query.next.as_deref());
    match begin(&state, next.clone()).await {
        Ok((url, pending)) => (
            [(SET_COOKIE, pending_cookie(&state, Some(&pending)))],
            Redirect::to(url.as_str()),
        )
            .into_response(),
        Err(f) => {
            tracing::warn!(detail = %f.detail, "single sign-on cannot start");
            back_to_sign_in(f.notice(), next.as_deref())
        }
    }
}

/// `GET /auth/sso/callback?code=&state=` (or `?error=`): signs the person in, or back to the
/// sign-in page saying why not.
pub(crate) async fn callback(
    State(state): State<AppState>,
    session: Session,
    Extension(ClientIp(peer)): Extension<ClientIp>,
    headers: HeaderMap,
    Query(answer): Query<Callback>,
) -> Response {
    // Used once: whatever happens, the browser forgets the sign-in in progress.
    let clear = [(SET_COOKIE, pending_cookie(&state, None))];
    (
        clear,
        answered(&state, &session, peer, &headers, &answer).await,
    )
        .into_response()
}

async fn answered(
    state: &AppState,
    session: &Session,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    answer: &Callback,
) -> Response {
    let address = peer.to_string();
    let method = state
        .oidc
        .as_deref()
        .map(|p| format!("single sign-on with {}", p.name()))
        .unwrap_or_default();
    let pending = pending_sent(headers);
    match finish(state, session, pending.as_deref(), answer).await {
        Ok((who, next)) => {
            let event = Event::new(AuditAction::SignIn, Some(&who.email), AuditResult::Success)
                .address(Some(&address))
                .detail(method);
            audit::record(state.db.pool(), event).await;
            Redirect::to(&safe_next(next.as_deref())).into_response()
        }
        // Single sign-on is off: nothing was attempted, nothing to record.
        Err(f) if f.kind == FailureKind::Off => back_to_sign_in(f.notice(), None),
        Err(f) => {
            tracing::warn!(detail = %f.detail, "single sign-on refused");
            let result = match f.kind {
                FailureKind::NoAccount | FailureKind::Refused => AuditResult::Denied,
                _ => AuditResult::Failure,
            };
            let event = Event::new(AuditAction::SignInFailed, f.email.as_deref(), result)
                .address(Some(&address))
                .detail(format!("{method}: {}", f.detail));
            audit::record_anonymous(state, audit::budget::Kind::Attempt, event).await;
            back_to_sign_in(f.notice(), None)
        }
    }
}
