//! Sign-in with OpenID Connect (Entra ID in real life; the simulator's authority here), by
//! `openidconnect`: the authorization code flow with PKCE, `state` and a nonce kept in a sealed
//! cookie of the browser (cleared at the callback, so an answer is used once; no session row is
//! made for a visitor who only starts a sign-in), the id_token checked
//! (signature by the provider's published keys, issuer, audience, expiry, nonce).
//!
//! Signing in never creates an account: an admin adds people on the Users page (with a password
//! or for single sign-on only). The first single sign-on matches the account by email address
//! and binds it to the provider's subject; from then on the subject decides, so a changed or
//! spoofed email claim cannot take another account over.

pub(crate) mod http;
mod provider;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ring::aead::NONCE_LEN;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::model::FormNotice;

use super::super::db::users::{self, UserRow};
use super::super::error::AppError;
use super::super::state::AppState;
pub(crate) use super::callback::Callback;
use super::callback::Refusal;
use super::crypto::Sealed;
use super::{start_session, Principal};
pub(crate) use provider::{Identity, Provider, ProviderError};

/// The cookie of a sign-in in progress: [`Pending`] sealed with the secret key (AES-256-GCM),
/// so the browser can neither read nor change it. Sent back only to the callback.
pub(crate) const PENDING_COOKIE: &str = "ec_sso";
/// What the sealing of [`PENDING_COOKIE`] is bound to.
const PENDING_CONTEXT: &str = "oidc:sign-in-in-progress";
/// The longest cookie value read (a sealed `Pending` is a few hundred bytes).
const MAX_PENDING: usize = 4096;

/// What the callback checks and redeems the answer with.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: Option<String>,
    started_at: DateTime<Utc>,
}

/// Why a single sign-on did not sign anyone in. `detail` is for the log and the audit log;
/// the person sees the fixed words of [`Failure::notice`].
#[derive(Debug)]
pub(crate) struct Failure {
    pub kind: FailureKind,
    pub detail: String,
    /// Who the provider said it was, when it got that far.
    pub email: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// Single sign-on is not configured.
    Off,
    /// The provider cannot be reached or read.
    Unavailable,
    /// The person cancelled (or the provider refused) at the provider.
    Cancelled,
    /// The answer does not belong to a sign-in started in this browser, came too late, or its
    /// code or id_token did not check out.
    Refused,
    /// The provider vouched for someone who has no enabled account here.
    NoAccount,
    /// The database or the session store failed.
    Server,
}

impl Failure {
    fn new(kind: FailureKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            email: None,
        }
    }

    /// What the sign-in page says.
    pub(crate) fn notice(&self) -> FormNotice {
        match self.kind {
            FailureKind::Off | FailureKind::Unavailable => FormNotice::SsoUnavailable,
            FailureKind::Cancelled => FormNotice::SsoCancelled,
            FailureKind::Refused => FormNotice::SsoFailed,
            FailureKind::NoAccount => FormNotice::SsoNoAccount,
            FailureKind::Server => FormNotice::ServerError,
        }
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self::new(FailureKind::Server, e.to_string())
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        AppError::Db(e).into()
    }
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        let kind = match e {
            ProviderError::Unavailable(_) => FailureKind::Unavailable,
            ProviderError::Refused(_) => FailureKind::Refused,
        };
        Self::new(kind, e.to_string())
    }
}

fn provider(state: &AppState) -> Result<&Provider, Failure> {
    state.oidc.as_deref().ok_or_else(|| {
        Failure::new(
            FailureKind::Off,
            "single sign-on is not configured (OIDC_ISSUER_URL)",
        )
    })
}

/// The callback address the provider sends the person back to (registered with the app).
pub(crate) fn redirect_uri(state: &AppState) -> String {
    format!("{}{}", state.public_base(), crate::app::paths::SSO_CALLBACK)
}

/// Starts a sign-in: the provider's authorize URL, and the value of [`PENDING_COOKIE`] to
/// give the browser. `next` (a path on this site, checked by the caller) is where the person
/// lands afterwards.
pub(crate) async fn begin(
    state: &AppState,
    next: Option<String>,
) -> Result<(url::Url, String), Failure> {
    let auth = provider(state)?.authorize(&redirect_uri(state)).await?;
    let pending = Pending {
        state: auth.state,
        nonce: auth.nonce,
        verifier: auth.verifier,
        next,
        started_at: Utc::now(),
    };
    let json = serde_json::to_vec(&pending)
        .map_err(|e| Failure::new(FailureKind::Server, e.to_string()))?;
    let sealed = state
        .secrets
        .seal(PENDING_CONTEXT, &json)
        .map_err(|e| Failure::new(FailureKind::Server, e))?;
    let mut bytes = sealed.nonce;
    bytes.extend_from_slice(&sealed.ciphertext);
    Ok((auth.url, URL_SAFE_NO_PAD.encode(bytes)))
}

/// The sign-in in progress that `cookie` (the value of [`PENDING_COOKIE`]) carries, if it
/// opens with the key.
fn pending_of(state: &AppState, cookie: Option<&str>) -> Option<Pending> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cookie.filter(|c| c.len() <= MAX_PENDING)?)
        .ok()?;
    if bytes.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let sealed = Sealed {
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.to_vec(),
    };
    let json = state.secrets.open(PENDING_CONTEXT, &sealed).ok()?;
    serde_json::from_str(json.expose_secret()).ok()
}

/// Finishes a sign-in: refuses an answer this session did not ask for (or asked too long ago,
/// or already used), a cancelled one, and a code or id_token that does not check out; then
/// signs in the account the provider vouched for. Returns who, and where to go next.
pub(crate) async fn finish(
    state: &AppState,
    session: &Session,
    cookie: Option<&str>,
    answer: &Callback,
) -> Result<(Principal, Option<String>), Failure> {
    let provider = provider(state)?;
    let pending = pending_of(state, cookie);
    let refused = |detail: &str| Failure::new(FailureKind::Refused, detail);
    let Some(pending) = pending else {
        return Err(refused(
            "the answer does not belong to a sign-in started in this browser, or was used already",
        ));
    };
    let code = answer
        .code(&pending.state, pending.started_at)
        .map_err(|r| match r {
            Refusal::StateDiffers => refused("the answer's state differs from the sign-in's"),
            Refusal::Answered(why) => Failure::new(
                FailureKind::Cancelled,
                format!("the provider answered {why}"),
            ),
            Refusal::TooOld => refused("the sign-in took longer than 15 minutes"),
            Refusal::NoCode => refused("the answer carries no code"),
        })?;
    let redirect = redirect_uri(state);
    let identity = match provider
        .redeem(&redirect, code, &pending.verifier, &pending.nonce)
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            // Signing keys rotate: read discovery again next time rather than in an hour.
            provider.forget_metadata().await;
            return Err(e.into());
        }
    };
    let row = account(state, &identity).await.map_err(|mut f| {
        f.email = identity.email.clone();
        f
    })?;
    let who = start_session(state, session, row).await?;
    Ok((who, pending.next))
}

/// An account bound by the app-specific `sub` before Entra's object id was used: moved to the
/// object id now (the id_token vouches for both).
async fn legacy_binding(state: &AppState, identity: &Identity) -> Result<Option<UserRow>, Failure> {
    if identity.app_subject == identity.subject {
        return Ok(None);
    }
    let pool = state.db.pool();
    let Some(row) = users::by_oidc_subject(pool, &identity.issuer, &identity.app_subject).await?
    else {
        return Ok(None);
    };
    users::rebind_oidc_subject(
        pool,
        &row.id,
        &identity.issuer,
        &identity.app_subject,
        &identity.subject,
    )
    .await?;
    Ok(Some(row))
}

/// The enabled account `identity` signs in as: the one bound to its subject, else (first time)
/// the unbound one with its email address, which is bound now.
async fn account(state: &AppState, identity: &Identity) -> Result<UserRow, Failure> {
    let pool = state.db.pool();
    let no_account = |detail: String| Failure::new(FailureKind::NoAccount, detail);
    let bound = match users::by_oidc_subject(pool, &identity.issuer, &identity.subject).await? {
        Some(row) => Some(row),
        None => legacy_binding(state, identity).await?,
    };
    let row = match bound {
        Some(row) => row,
        None => {
            let Some(email) = identity.email.as_deref() else {
                return Err(no_account(
                    "the id_token carries no email address (grant the email scope)".into(),
                ));
            };
            let Some(row) = users::by_email(pool, email).await? else {
                return Err(no_account(format!("no account has the address {email}")));
            };
            if row.oidc_subject.is_some() {
                return Err(no_account(format!(
                    "the account {email} is bound to another identity of the provider"
                )));
            }
            if !users::bind_oidc_subject(pool, &row.id, &identity.issuer, &identity.subject).await?
            {
                return Err(no_account(format!(
                    "the account {email} was bound to another identity meanwhile"
                )));
            }
            row
        }
    };
    if row.disabled_at.is_some() {
        return Err(no_account(format!("the account {} is disabled", row.email)));
    }
    Ok(row)
}
