//! The two routes of the delegated set-up: the start (a redirect to the consent page) and the
//! callback the authority sends the admin back to. Both end on the connector page, which shows
//! the attempt kept in the session (checklist, or why it stopped).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use tower_sessions::Session;

use crate::app::layout::CONNECTOR_PATH;
use crate::app::paths;
use crate::model::Role;

use super::super::auth::{principal, require};
use super::super::client_ip::ClientIp;
use super::super::error::AppError;
use super::super::state::AppState;
use super::{consent, remember, set_up_with_consent, Actor, Attempt};

/// `GET /auth/exchange/start` (admins): to the consent page, or back with the reason.
pub(crate) async fn start(State(state): State<AppState>, session: Session) -> Response {
    match consent::start(&state, &session).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "the delegated set-up cannot start");
            let attempt = Attempt {
                checks: Vec::new(),
                error: Some(e.public_message()),
            };
            remember(&session, &attempt).await;
            Redirect::to(CONNECTOR_PATH).into_response()
        }
    }
}

/// `GET /auth/exchange/callback?code=&state=` (or `?error=`): finishes the set-up as the
/// signed-in admin, then back to the connector page.
pub(crate) async fn callback(
    State(state): State<AppState>,
    session: Session,
    Extension(ClientIp(peer)): Extension<ClientIp>,
    Query(answer): Query<consent::Callback>,
) -> Response {
    let who = match principal(&state, &session)
        .await
        .and_then(|who| require(who, Role::Admin))
    {
        Ok(who) => who,
        Err(AppError::Unauthorized) => {
            // The session ended on the way: sign in again, then start over.
            return Redirect::to(&format!("{}?next={CONNECTOR_PATH}", paths::SIGN_IN))
                .into_response();
        }
        Err(e) => {
            let api = crate::error::ApiError::from(e);
            return (axum::http::StatusCode::FORBIDDEN, api.to_string()).into_response();
        }
    };
    let actor = Actor {
        email: Some(who.email),
        address: Some(peer.to_string()),
    };
    // The outcome is kept in the session and the audit log; the page shows it.
    let _ = set_up_with_consent(&state, &session, &actor, &answer).await;
    Redirect::to(CONNECTOR_PATH).into_response()
}
