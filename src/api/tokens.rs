//! Server functions of API tokens: a person's own on "Your account", everyone's for admins.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::{ApiTokenPage, CreatedApiToken, Role};

#[cfg(feature = "ssr")]
use super::{authorize, client_address, fail, is_form_post};

/// The session key of a token form's outcome, when it was posted without JavaScript.
#[cfg(feature = "ssr")]
const FLASH: &str = "api_token_flash";

/// A plain form post goes back to the account page, its outcome kept for that page (the
/// token itself never travels in an address).
#[cfg(feature = "ssr")]
async fn back_with(flash: crate::model::TokenFlash) -> Result<(), ApiError> {
    let session = super::session().await?;
    if let Err(e) = session.insert(FLASH, &flash).await {
        tracing::error!(error = %e, "cannot keep a token form's outcome in the session");
        return Err(fail(crate::server::error::AppError::Session(e.to_string())));
    }
    leptos_axum::redirect(back_to());
    Ok(())
}

/// The page a token form was posted from: the users page (admins revoking anyone's token),
/// else "Your account".
#[cfg(feature = "ssr")]
fn back_to() -> &'static str {
    use crate::app::paths::{ACCOUNT, USERS};
    let from_users = use_context::<axum::http::request::Parts>()
        .and_then(|parts| {
            let referer = parts.headers.get(axum::http::header::REFERER)?;
            let url = url::Url::parse(referer.to_str().ok()?).ok()?;
            Some(url.path() == USERS)
        })
        .unwrap_or(false);
    if from_users {
        USERS
    } else {
        ACCOUNT
    }
}

/// A refusal as a plain form post's outcome: at its field (`field` for any other error).
#[cfg(feature = "ssr")]
fn refused(e: crate::server::error::AppError, field: &str) -> crate::model::TokenFlash {
    let (field, message) = ApiError::from(e).at_field(field);
    crate::model::TokenFlash::Refused { field, message }
}

/// The outcome of a token form posted without JavaScript, once.
#[cfg(feature = "ssr")]
async fn take_flash() -> Result<Option<crate::model::TokenFlash>, ApiError> {
    let session = super::session().await?;
    Ok(session
        .remove::<crate::model::TokenFlash>(FLASH)
        .await
        .ok()
        .flatten())
}

/// The signed-in person's tokens (newest first), and the outcome of a form posted without
/// JavaScript, once.
#[server(endpoint = "tokens/own")]
pub async fn own_api_tokens() -> Result<ApiTokenPage, ApiError> {
    let (state, who) = authorize(Role::Reader).await?;
    let list = crate::server::tokens::own(&state, &who)
        .await
        .map_err(fail)?;
    let flash = take_flash().await?;
    Ok(ApiTokenPage {
        list,
        base: state.public_base(),
        flash,
    })
}

/// Every person's tokens (admins).
#[server(endpoint = "tokens/all")]
pub async fn all_api_tokens() -> Result<ApiTokenPage, ApiError> {
    let (state, _who) = authorize(Role::Admin).await?;
    let list = crate::server::tokens::everyone(&state)
        .await
        .map_err(fail)?;
    let flash = take_flash().await?;
    Ok(ApiTokenPage {
        list,
        base: state.public_base(),
        flash,
    })
}

/// Creates a token for the signed-in person: `role` at most their own, expiring after
/// `expires_in_days` (default 90, at most 365). The answer holds the token, shown once.
#[server(endpoint = "tokens/create")]
pub async fn create_api_token(
    name: String,
    role: Role,
    #[server(default)] expires_in_days: Option<u32>,
) -> Result<Option<CreatedApiToken>, ApiError> {
    use crate::model::TokenFlash;
    let (state, who) = authorize(Role::Reader).await?;
    let address = client_address().await;
    let created =
        crate::server::tokens::create(&state, &who, &name, role, expires_in_days, &address).await;
    if is_form_post() {
        let flash = match created {
            Ok(created) => TokenFlash::Created(created),
            Err(e) => refused(e, "name"),
        };
        back_with(flash).await?;
        return Ok(None);
    }
    created.map(Some).map_err(fail)
}

/// Revokes the token `id` (its owner, or an admin).
#[server(endpoint = "tokens/revoke")]
pub async fn revoke_api_token(id: String) -> Result<(), ApiError> {
    use crate::model::TokenFlash;
    let (state, who) = authorize(Role::Reader).await?;
    let address = client_address().await;
    let done = crate::server::tokens::revoke(&state, &who, &id, &address).await;
    if is_form_post() {
        let flash = match done {
            Ok(()) => TokenFlash::Revoked,
            Err(e) => refused(e, "id"),
        };
        return back_with(flash).await;
    }
    done.map_err(fail)
}
