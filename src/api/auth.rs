//! Server functions of signing in and out, and of the one-time first admin.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::SessionUser;

#[cfg(feature = "ssr")]
use super::{fail, session, state};

/// Who is signed in (`None` when nobody is). The only server function besides signing in that
/// answers without a session.
#[server(endpoint = "auth/me")]
pub async fn get_current_user() -> Result<Option<SessionUser>, ApiError> {
    let state = state()?;
    let session = session().await?;
    let who = crate::server::auth::principal(&state, &session)
        .await
        .map_err(fail)?;
    Ok(who.map(|w| w.session_user()))
}

/// Signs in with a local account. A wrong email or password gets one message for both (no
/// account enumeration); too many failures per account or per address are refused for a
/// while. A plain form post is redirected to `next` (a path on this site) on success.
#[server(endpoint = "auth/sign-in")]
pub async fn sign_in(
    email: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<SessionUser, ApiError> {
    let state = state()?;
    let session = session().await?;
    let address = super::client_address().await;
    let who = crate::server::auth::sign_in(
        &state,
        &session,
        &email,
        secrecy::SecretString::from(password),
        &address,
    )
    .await
    .map_err(fail)?;
    if super::is_form_post() {
        leptos_axum::redirect(&safe_next(next.as_deref()));
    }
    Ok(who.session_user())
}

/// Ends the session. A plain form post is redirected to the sign-in page.
#[server(endpoint = "auth/sign-out")]
pub async fn sign_out() -> Result<(), ApiError> {
    let session = session().await?;
    crate::server::auth::sign_out(&session)
        .await
        .map_err(fail)?;
    if super::is_form_post() {
        leptos_axum::redirect(crate::app::paths::SIGN_IN);
    }
    Ok(())
}

/// Where to go after signing in: `next` when it is a path on this site, else the connector
/// page (never another site: no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => crate::app::layout::CONNECTOR_PATH.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some(
                "/conditional-access/exchange-connector/sync-history?status=failed"
            )),
            "/conditional-access/exchange-connector/sync-history?status=failed"
        );
        for bad in ["https://evil.example", "//evil.example", "/\\evil", "evil"] {
            assert_eq!(
                safe_next(Some(bad)),
                "/conditional-access/exchange-connector"
            );
        }
        assert_eq!(safe_next(None), "/conditional-access/exchange-connector");
    }
}
