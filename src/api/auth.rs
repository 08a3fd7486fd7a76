//! Server functions of signing in and out, and of the one-time first admin. Every sign-in
//! (failed or not), sign-out and first admin is in the audit log; passwords never are.
//!
//! A plain form post (no JavaScript) is answered with a redirect: to `next` after signing in,
//! else back to the form's page with `?notice=<code>` (a `FormNotice`, never free text).

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::SessionUser;

#[cfg(feature = "ssr")]
use super::{client_address, fail, is_form_post, session, signed_in, state};
#[cfg(feature = "ssr")]
use crate::model::FormNotice;
#[cfg(feature = "ssr")]
use crate::server::{auth::Principal, error::AppError, state::AppState};

/// Who is signed in (`None` when nobody is). Answers without a session.
#[server(endpoint = "auth/me")]
pub async fn get_current_user() -> Result<Option<SessionUser>, ApiError> {
    let state = state()?;
    let who = signed_in(&state).await?;
    Ok(who.map(|w| w.session_user()))
}

/// Who is signed in for the page being rendered, as the page guard read it before the page
/// (no database read, no await: the frame renders it at once). `None` when nobody is, and on a
/// page the guard does not check.
#[cfg(feature = "ssr")]
pub fn page_user() -> Option<SessionUser> {
    use crate::server::auth::RequestPrincipal;
    let parts = use_context::<axum::http::request::Parts>()?;
    let who = parts.extensions.get::<RequestPrincipal>()?.read_already()?;
    who.as_ref().map(Principal::session_user)
}

/// Whether no enabled admin exists yet (the sign-in page then says how to create the first
/// one). Answers without a session.
#[server(endpoint = "auth/first-admin-needed")]
pub async fn first_admin_needed() -> Result<bool, ApiError> {
    let state = state()?;
    crate::server::users::first_admin_needed(&state)
        .await
        .map_err(fail)
}

/// The name of the single sign-on provider ("Microsoft"), when single sign-on is configured
/// (the sign-in page then offers "Sign in with …"). Answers without a session.
#[server(endpoint = "auth/single-sign-on")]
pub async fn single_sign_on() -> Result<Option<String>, ApiError> {
    let state = state()?;
    Ok(state.oidc.as_deref().map(|p| p.name().to_owned()))
}

/// Signs in with a local account. A wrong email or password gets one message for both (no
/// account enumeration); too many failures per account or per address are refused for a
/// while (429). A plain form post is redirected to `next` (a path on this site) on success,
/// and back to the sign-in page with a notice on failure.
#[server(endpoint = "auth/sign-in")]
pub async fn sign_in(
    email: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<SessionUser, ApiError> {
    let state = state()?;
    let session = session().await?;
    let address = client_address().await;
    let signed_in = audited_sign_in(
        &state,
        &session,
        &email,
        secrecy::SecretString::from(password),
        &address,
    )
    .await;
    let next = next.as_deref().filter(|n| safe_next(Some(n)) == *n);
    match signed_in {
        Ok(who) => {
            if is_form_post() {
                leptos_axum::redirect(&safe_next(next));
            }
            Ok(who.session_user())
        }
        Err(e) if is_form_post() => {
            let mut query = failed_sign_in_notice(&state, &e, &email, &address);
            query.extend(next.map(|n| ("next", n.to_owned())));
            // The redirect's 302 stands in for the error status: the browser shows the page.
            leptos_axum::redirect(&with_query(crate::app::paths::SIGN_IN, &query));
            Err(ApiError::from(e))
        }
        Err(e) => Err(fail(e)),
    }
}

/// Ends the session. A plain form post is redirected to the sign-in page ("You are signed
/// out.").
#[server(endpoint = "auth/sign-out")]
pub async fn sign_out() -> Result<(), ApiError> {
    use crate::model::{AuditAction, AuditResult};
    use crate::server::audit::{self, Event};

    let state = state()?;
    let session = session().await?;
    let who = crate::server::auth::principal(&state, &session)
        .await
        .map_err(fail)?;
    crate::server::auth::sign_out(&session)
        .await
        .map_err(fail)?;
    if let Some(who) = who {
        let address = client_address().await;
        let event = Event::new(AuditAction::SignOut, Some(&who.email), AuditResult::Success)
            .address(Some(&address));
        audit::record(state.db.pool(), event).await;
    }
    if is_form_post() {
        let query = [("notice", FormNotice::SignedOut.as_str().to_owned())];
        leptos_axum::redirect(&with_query(crate::app::paths::SIGN_IN, &query));
    }
    Ok(())
}

/// Creates the first admin with the one-time link's `token` and signs them in. Refused ("This
/// link was already used or is not valid.") when an admin exists or the token is wrong; the
/// link works once. Fields are checked first (email, password of at least 12 characters), each
/// refusal naming its field. A plain form post goes to the connector page on success, else
/// back to the form with a notice.
#[server(endpoint = "auth/first-admin")]
pub async fn create_first_admin(
    token: String,
    email: String,
    #[server(default)] display_name: Option<String>,
    password: String,
) -> Result<SessionUser, ApiError> {
    use crate::server::users::{NewAccount, UserError};
    use secrecy::SecretString;

    let state = state()?;
    let session = session().await?;
    let address = client_address().await;
    let account = NewAccount {
        email: email.clone(),
        display_name,
        role: crate::model::Role::Admin,
        password: SecretString::from(password.clone()),
    };
    let made = crate::server::users::create_first_admin(&state, &token, account, &address).await;
    let signed_in = match made {
        Ok(()) => {
            let password = SecretString::from(password);
            audited_sign_in(&state, &session, email.trim(), password, &address)
                .await
                .map_err(UserError::App)
        }
        Err(e) => Err(e),
    };
    match signed_in {
        Ok(who) => {
            if is_form_post() {
                leptos_axum::redirect(crate::app::layout::CONNECTOR_PATH);
            }
            Ok(who.session_user())
        }
        Err(e) if is_form_post() => {
            let notice = e.notice();
            let mut query = Vec::new();
            if notice != FormNotice::LinkInvalid {
                query.push(("token", token));
            }
            query.push(("notice", notice.as_str().to_owned()));
            leptos_axum::redirect(&with_query(crate::app::paths::FIRST_ADMIN, &query));
            Err(ApiError::from(AppError::from(e)))
        }
        Err(e) => Err(fail(e.into())),
    }
}

/// Signs in and records it: `signIn` with the account's email, or `signInFailed` with the
/// email as typed (`denied` when throttled). The password is never recorded.
#[cfg(feature = "ssr")]
async fn audited_sign_in(
    state: &AppState,
    session: &tower_sessions::Session,
    email: &str,
    password: secrecy::SecretString,
    address: &str,
) -> Result<Principal, AppError> {
    use crate::model::{AuditAction, AuditResult};
    use crate::server::audit::{self, Event};

    let signed_in = crate::server::auth::sign_in(state, session, email, password, address).await;
    let event = match &signed_in {
        Ok(who) => {
            let event = Event::new(AuditAction::SignIn, Some(&who.email), AuditResult::Success);
            audit::record(state.db.pool(), event.address(Some(address))).await;
            return signed_in;
        }
        Err(e) => {
            // What was typed, bounded: an attacker's megabyte is not worth keeping.
            let typed: String = email.trim().chars().take(254).collect();
            let actor = Some(typed.as_str()).filter(|t| !t.is_empty());
            let (result, detail) = match e {
                AppError::Throttled(_) => (AuditResult::Denied, "too many failed sign-ins"),
                AppError::Busy(_) => (AuditResult::Denied, "too many password checks at once"),
                AppError::Invalid { field, .. } if field == "email" => {
                    (AuditResult::Failure, "no email address")
                }
                AppError::Invalid { .. } => {
                    (AuditResult::Failure, "wrong email address or password")
                }
                _ => (AuditResult::Failure, "server error"),
            };
            Event::new(AuditAction::SignInFailed, actor, result).detail(detail)
        }
    };
    // Failures come from anyone: recorded within the anonymous budget.
    let kind = match &signed_in {
        Err(AppError::Throttled(_) | AppError::Busy(_)) => audit::budget::Kind::Refusal,
        _ => audit::budget::Kind::Attempt,
    };
    audit::record_anonymous(state, kind, event.address(Some(address))).await;
    signed_in
}

/// The notice (and for throttling, the wait in minutes) a failed plain-form sign-in comes
/// back with.
#[cfg(feature = "ssr")]
fn failed_sign_in_notice(
    state: &AppState,
    error: &AppError,
    email: &str,
    address: &str,
) -> Vec<(&'static str, String)> {
    let notice = match error {
        AppError::Throttled(_) => FormNotice::Throttled,
        AppError::Busy(_) => FormNotice::Busy,
        AppError::Invalid { field, .. } if field == "email" => FormNotice::EmailMissing,
        AppError::Invalid { .. } => FormNotice::SignInFailed,
        _ => FormNotice::ServerError,
    };
    let mut query = vec![("notice", notice.as_str().to_owned())];
    if notice == FormNotice::Throttled {
        let left = state
            .throttle
            .locked_for(email, address, std::time::Instant::now());
        query.extend(left.map(|d| ("wait", d.as_secs().div_ceil(60).max(1).to_string())));
    }
    query
}

/// `path?k=v&…`, the values escaped.
#[cfg(feature = "ssr")]
fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    format!("{path}?{}", query.finish())
}

/// Where to go after signing in: `next` when it is a path on this site, else the connector
/// page (never another site: no open redirect).
///
/// A path on this site starts with one `/` and holds only visible ASCII: browsers drop tabs
/// and line breaks from a URL and read `\` as `/`, so `/\t/evil.example` or `/\\evil.example`
/// would lead to another host, and a control character cannot go in a `Location` header.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => crate::app::layout::CONNECTOR_PATH.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use crate::model::FormNotice;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some(
                "/conditional-access/exchange-connector/sync-history?status=failed"
            )),
            "/conditional-access/exchange-connector/sync-history?status=failed"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "evil",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/\r\nSet-Cookie: x=y",
            "/\u{0}",
            "/\u{7f}",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(
                safe_next(Some(bad)),
                "/conditional-access/exchange-connector"
            );
        }
        assert_eq!(safe_next(None), "/conditional-access/exchange-connector");
    }

    #[test]
    fn every_notice_code_reads_back_and_nothing_else_does() {
        for n in FormNotice::ALL {
            assert_eq!(FormNotice::parse(n.as_str()), Some(n));
            let json = serde_json::to_string(&n).expect("json");
            assert_eq!(json, format!("\"{}\"", n.as_str()));
        }
        assert_eq!(FormNotice::parse("<script>"), None);
        assert_eq!(FormNotice::parse(""), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_pages_say_what_the_server_says() {
        use crate::server::auth::{throttle, SIGN_IN_FAILED};
        use std::time::Duration;
        assert_eq!(FormNotice::SignInFailed.message(), SIGN_IN_FAILED);
        assert_eq!(
            FormNotice::Busy.message(),
            crate::server::auth::password::BUSY
        );
        for secs in [1u64, 60, 61, 600, 900] {
            let minutes = secs.div_ceil(60);
            assert_eq!(
                FormNotice::throttled(minutes),
                throttle::message(Duration::from_secs(secs))
            );
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_notice_address_escapes_what_it_carries() {
        assert_eq!(
            super::with_query(
                "/sign-in",
                &[
                    ("notice", "throttled".into()),
                    ("next", "/a?b=c&d=e".into())
                ]
            ),
            "/sign-in?notice=throttled&next=%2Fa%3Fb%3Dc%26d%3De"
        );
    }
}
