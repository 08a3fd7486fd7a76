//! Server functions of API tokens: a person's own on "Your account", everyone's for admins.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::{ApiTokenPage, CreatedApiToken, Role};

#[cfg(feature = "ssr")]
use super::{authorize, client_address, fail, form_answer};

#[cfg(feature = "ssr")]
impl super::FormFlash for crate::model::TokenFlash {
    const KEY: &'static str = "api_token_flash";

    fn refused(field: String, message: String) -> Self {
        Self::Refused { field, message }
    }

    fn page() -> &'static str {
        back_to()
    }
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

/// The signed-in person's tokens (newest first), and the outcome of a form posted without
/// JavaScript, once.
#[server(endpoint = "tokens/own")]
pub async fn own_api_tokens() -> Result<ApiTokenPage, ApiError> {
    let (state, who) = authorize(Role::Reader).await?;
    let list = crate::server::tokens::own(&state, &who)
        .await
        .map_err(fail)?;
    let flash = super::take_flash().await?;
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
    let flash = super::take_flash().await?;
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
    form_answer(created, TokenFlash::Created, "name").await
}

/// Revokes the token `id` (its owner, or an admin).
#[server(endpoint = "tokens/revoke")]
pub async fn revoke_api_token(id: String) -> Result<(), ApiError> {
    use crate::model::TokenFlash;
    let (state, who) = authorize(Role::Reader).await?;
    let address = client_address().await;
    let done = crate::server::tokens::revoke(&state, &who, &id, &address).await;
    form_answer(done, |()| TokenFlash::Revoked, "id")
        .await
        .map(drop)
}
