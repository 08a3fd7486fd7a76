//! Every server function. Thin: take the state from context, call `server::*`, map errors.
//! The same functions serve the page and, later, the JSON API.

// The access-change functions take the ten fields of one form, as a plain form post sends them.
#[allow(clippy::too_many_arguments)]
mod access;
mod audit;
mod auth;
mod connector;
mod devices;
mod history;
mod notifications;
mod tokens;
mod users;

pub use access::*;
pub use audit::*;
pub use auth::*;
pub use connector::*;
pub use devices::*;
pub use history::*;
pub use notifications::*;
pub use tokens::*;
pub use users::*;

#[cfg(feature = "ssr")]
use crate::error::ApiError;

#[cfg(feature = "ssr")]
fn state() -> Result<crate::server::state::AppState, ApiError> {
    use leptos::prelude::use_context;
    use_context::<crate::server::state::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        ApiError::Internal
    })
}

/// The state and the signed-in person, if their role allows `needed`; otherwise 401 (nobody
/// signed in) or 403, with the status set on the response. Every server function starts here.
#[cfg(feature = "ssr")]
async fn authorize(
    needed: crate::model::Role,
) -> Result<
    (
        crate::server::state::AppState,
        crate::server::auth::Principal,
    ),
    ApiError,
> {
    let state = state()?;
    let who = signed_in(&state).await?;
    let email = who.as_ref().map(|w| w.email.clone());
    match crate::server::auth::require(who, needed) {
        Ok(who) => Ok((state, who)),
        Err(e) => {
            // A signed-in person refused for their role is worth an audit entry (a probe, or
            // a page offering what it should not); nobody signed in is not.
            if let Some(email) = email {
                let path = leptos::prelude::use_context::<axum::http::request::Parts>()
                    .map(|p| p.uri.path().to_owned())
                    .unwrap_or_default();
                let address = client_address().await;
                crate::server::audit::access_denied(
                    state.db.pool(),
                    &email,
                    Some(&address),
                    &path,
                    needed,
                )
                .await;
            }
            Err(fail(e))
        }
    }
}

/// The person signed in, if any: read once per request (a page renders several server
/// functions, each asking).
#[cfg(feature = "ssr")]
async fn signed_in(
    state: &crate::server::state::AppState,
) -> Result<Option<crate::server::auth::Principal>, ApiError> {
    use crate::server::auth::RequestPrincipal;
    let session = session().await?;
    let memo = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestPrincipal>().cloned());
    crate::server::auth::signed_in(state, &session, memo.as_ref())
        .await
        .map_err(fail)
}

/// The request's session (the session layer wraps every route).
#[cfg(feature = "ssr")]
async fn session() -> Result<tower_sessions::Session, ApiError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "no session on a server function request");
            ApiError::Internal
        })
}

/// The address the request came from (the TCP peer), for throttling and the audit log.
#[cfg(feature = "ssr")]
async fn client_address() -> String {
    use crate::server::client_ip::ClientIp;
    leptos_axum::extract::<axum::Extension<ClientIp>>()
        .await
        .map(|axum::Extension(ClientIp(ip))| ip.to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Whether this is a plain HTML form post (the browser accepts `text/html`), which is answered
/// with a redirect instead of JSON.
#[cfg(feature = "ssr")]
fn is_form_post() -> bool {
    use axum::http::header::ACCEPT;
    use leptos::prelude::use_context;
    use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Turns a server failure into what the browser sees, with a matching HTTP status.
#[cfg(feature = "ssr")]
fn fail(error: crate::server::error::AppError) -> ApiError {
    let api = ApiError::from(error);
    set_status(api.status_code());
    api
}

#[cfg(feature = "ssr")]
fn set_status(code: u16) {
    use leptos::prelude::use_context;
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        response.set_status(status);
    }
}

/// The outcome of a form that a plain form post (no JavaScript) carries back to its page, kept
/// in the session for that one page (a new token or signing key never travels in an address).
#[cfg(feature = "ssr")]
trait FormFlash: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + Sized {
    /// The session key it is kept under.
    const KEY: &'static str;
    /// A refusal at `field`.
    fn refused(field: String, message: String) -> Self;
    /// The page a plain post goes back to.
    fn page() -> &'static str;
}

/// The answer of a form's server function: a plain form post goes back to its page with the
/// outcome (`shown` of the value, or the refusal at its field, `field` for any other error);
/// a script gets the value itself.
#[cfg(feature = "ssr")]
async fn form_answer<T, F: FormFlash>(
    done: Result<T, crate::server::error::AppError>,
    shown: impl FnOnce(T) -> F,
    field: &str,
) -> Result<Option<T>, ApiError> {
    if !is_form_post() {
        return done.map(Some).map_err(fail);
    }
    let flash = match done {
        Ok(value) => shown(value),
        Err(e) => {
            let (field, message) = ApiError::from(e).at_field(field);
            F::refused(field, message)
        }
    };
    let session = session().await?;
    if let Err(e) = session.insert(F::KEY, &flash).await {
        tracing::error!(error = %e, "cannot keep a form's outcome in the session");
        return Err(fail(crate::server::error::AppError::Session(e.to_string())));
    }
    leptos_axum::redirect(F::page());
    Ok(None)
}

/// The outcome a plain form post left for this page, once.
#[cfg(feature = "ssr")]
async fn take_flash<F: FormFlash>() -> Result<Option<F>, ApiError> {
    Ok(session().await?.remove::<F>(F::KEY).await.ok().flatten())
}
