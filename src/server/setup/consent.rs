//! The delegated set-up's round trip: a redirect to the authority's consent page with PKCE,
//! `state` and a nonce kept in the admin's session, then the callback that checks `state`
//! (once: it is taken out of the session), redeems the code and connects as the admin. Also
//! keeps the stored refresh token current (rotation) and restores the admin's sign-in after a
//! restart.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use url::Url;

use crate::app::paths;
use crate::model::{ConnectorOverview, IdentityMode, PermissionCheck};

pub(crate) use super::super::auth::callback::Callback;
use super::super::auth::callback::Refusal;
use super::super::auth::crypto::SecretBox;
use super::super::config::AuthMode;
use super::super::db::connectors;
use super::super::error::AppError;
use super::super::exchange::delegated::{random_token, AuthorizeRequest, Pkce};
use super::super::exchange::RotationSink;
use super::super::state::AppState;
use super::{connect, secret_context, Actor, Stopped};

/// The session key of a consent round trip in progress.
const PENDING: &str = "exchange_consent";

/// What the callback needs to check and redeem the answer.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    verifier: String,
    nonce: String,
    started_at: DateTime<Utc>,
}

/// The callback address the authority sends the admin back to (registered with the app).
pub(crate) fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}{}",
        state.public_base(),
        paths::EXCHANGE_CONSENT_CALLBACK
    )
}

/// Starts the round trip: the authority's authorize URL to send the admin to.
pub(crate) async fn start(state: &AppState, session: &Session) -> Result<Url, AppError> {
    if state.exchange.settings.auth_mode != AuthMode::Delegated {
        return Err(AppError::Conflict(
            "This connector connects with its application identity (EXO_AUTH_MODE=app): use \
             Set Up, no Microsoft sign-in is needed."
                .into(),
        ));
    }
    let pkce = Pkce::new();
    let pending = Pending {
        state: random_token(32),
        verifier: pkce.verifier.expose_secret().to_owned(),
        nonce: random_token(16),
        started_at: Utc::now(),
    };
    let redirect = redirect_uri(state);
    let url = state.exchange.get().authorize_url(&AuthorizeRequest {
        redirect_uri: &redirect,
        state: &pending.state,
        challenge: &pkce.challenge,
        nonce: &pending.nonce,
        login_hint: None,
    });
    session
        .insert(PENDING, &pending)
        .await
        .map_err(|e| AppError::Session(e.to_string()))?;
    Ok(url)
}

/// Finishes the round trip: refuses an answer this session did not ask for (or asked for too
/// long ago, or already used), a cancelled consent, and a code the authority does not redeem;
/// otherwise connects as the admin (see [`connect`]); the first sync runs in the background.
pub(crate) async fn finish(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    answer: &Callback,
) -> Result<(ConnectorOverview, Vec<PermissionCheck>), Stopped> {
    let pending: Option<Pending> = session
        .remove(PENDING)
        .await
        .map_err(|e| AppError::Session(e.to_string()))?;
    let refused = |message: &str| -> Stopped {
        AppError::Invalid {
            field: "state".into(),
            message: message.to_owned(),
        }
        .into()
    };
    let Some(pending) = pending else {
        return Err(refused(
            "This sign-in answer does not belong to a set-up started in this browser, or it was \
             already used. Nothing was set up; start the set-up again.",
        ));
    };
    let code = answer
        .code(&pending.state, pending.started_at)
        .map_err(|r| -> Stopped {
            match r {
                Refusal::StateDiffers => refused(
                    "The sign-in answer does not match the set-up started here (its state \
                     differs). Nothing was set up; start the set-up again.",
                ),
                Refusal::Answered(why) => AppError::Conflict(format!(
                    "Microsoft sign-in did not give consent ({why}). Nothing was set up."
                ))
                .into(),
                Refusal::TooOld => refused(
                    "The sign-in took too long. Nothing was set up; start the set-up again.",
                ),
                Refusal::NoCode => {
                    refused("The sign-in answer carries no code. Start the set-up again.")
                }
            }
        })?;
    let base = state.exchange.get();
    let grant = base
        .redeem_code(
            code,
            &SecretString::from(pending.verifier),
            &redirect_uri(state),
            Some(&pending.nonce),
        )
        .await
        .map_err(AppError::Exchange)?;
    let refresh = grant.refresh_token.clone();
    let client = base
        .signed_in(&state.exchange.settings, grant, Some(rotation_sink(state)))
        .await;
    connect(
        state,
        actor,
        client,
        IdentityMode::Delegated,
        Some(refresh),
        false,
    )
    .await
}

/// Stores every rotated refresh token (sealed) for the current connector, before it is used.
/// Nothing runs in the background: a graceful stop has nothing to wait for.
pub(crate) fn rotation_sink(state: &AppState) -> RotationSink {
    // The database and the key only: the client holding this must not hold the whole state.
    let (pool, secrets) = (state.db.pool().clone(), state.secrets.clone());
    std::sync::Arc::new(move |token: SecretString| {
        let (pool, secrets) = (pool.clone(), secrets.clone());
        Box::pin(async move {
            if let Err(e) = store_current(&pool, &secrets, &token).await {
                tracing::error!(error = %e, "cannot store the rotated refresh token");
            }
        })
    })
}

async fn store_current(
    pool: &sqlx::SqlitePool,
    secrets: &SecretBox,
    token: &SecretString,
) -> Result<(), AppError> {
    let Some(c) = connectors::current(pool).await? else {
        return Ok(());
    };
    let mut conn = pool.acquire().await?;
    super::seal_refresh_token(secrets, &mut conn, &c.id, token).await
}

/// At start-up, in delegated mode: acts as the admin again with the stored refresh token. A
/// token that does not decrypt (another key) leaves the connector disconnected with the reason.
pub(crate) async fn restore(state: &AppState) -> Result<(), AppError> {
    if state.exchange.settings.auth_mode != AuthMode::Delegated {
        return Ok(());
    }
    let pool = state.db.pool();
    let Some(c) = connectors::current(pool).await? else {
        return Ok(());
    };
    if c.mode != IdentityMode::Delegated {
        return Ok(());
    }
    let Some(sealed) = connectors::secret(pool, &c.id, connectors::REFRESH_TOKEN).await? else {
        return Ok(());
    };
    match state.secrets.open(&secret_context(&c.id), &sealed) {
        Ok(token) => {
            let client = state.exchange.get().as_admin(
                &state.exchange.settings,
                c.account.clone(),
                token,
                Some(rotation_sink(state)),
            );
            state.exchange.replace(client);
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, "the stored sign-in of the connector cannot be read");
            let mut conn = pool.acquire().await?;
            connectors::mark_disconnected(
                &mut conn,
                &c.id,
                "The stored Microsoft sign-in cannot be read (the secret key changed?). Set the \
                 connector up again.",
                Utc::now(),
            )
            .await?;
            Ok(())
        }
    }
}
