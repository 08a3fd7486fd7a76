//! The two routes of single sign-on, both public: the start (a redirect to the provider) and
//! the callback the provider sends the person back to. Both end on a page: where the person
//! was going, or the sign-in page with a fixed notice (never the provider's words). Every
//! outcome of a callback is in the audit log.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::api::safe_next;
use crate::app::paths;
use crate::model::{AuditAction, AuditResult, FormNotice};

use super::super::super::audit::{self, Event};
use super::super::super::state::AppState;
use super::{begin, finish, Callback, FailureKind};

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

/// `GET /auth/sso/start?next=`: to the provider's sign-in page.
pub(crate) async fn start(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<Start>,
) -> Response {
    let next = checked_next(query.next.as_deref());
    match begin(&state, &session, next.clone()).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(answer): Query<Callback>,
) -> Response {
    let address = peer.ip().to_string();
    let method = state
        .oidc
        .as_deref()
        .map(|p| format!("single sign-on with {}", p.name()))
        .unwrap_or_default();
    match finish(&state, &session, &answer).await {
        Ok((who, next)) => {
            let event = Event::new(AuditAction::SignIn, Some(&who.email), AuditResult::Success)
                .address(Some(&address))
                .detail(method);
            audit::record(state.db.pool(), event).await;
            Redirect::to(&safe_next(next.as_deref())).into_response()
        }
        Err(f) => {
            tracing::warn!(detail = %f.detail, "single sign-on refused");
            let result = match f.kind {
                FailureKind::NoAccount | FailureKind::Refused => AuditResult::Denied,
                _ => AuditResult::Failure,
            };
            let event = Event::new(AuditAction::SignInFailed, f.email.as_deref(), result)
                .address(Some(&address))
                .detail(format!("{method}: {}", f.detail));
            audit::record(state.db.pool(), event).await;
            back_to_sign_in(f.notice(), None)
        }
    }
}
