//! API tokens: people create named bearer tokens for `/api/v1` with a role no higher than
//! their own and an expiry, see them listed with their last use, and revoke them; admins see
//! and revoke everyone's. Only a token's SHA-256 is stored: tokens carry 256 random bits, so a
//! fast hash cannot be reversed, and one indexed lookup finds a token.
//!
//! A token works while it is neither revoked nor expired and its owner's account exists and is
//! enabled; its role is never more than its owner's role now (a demoted admin's admin token
//! reads only). Failed attempts are throttled per address like sign-ins.

use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{Duration, Utc};
use ring::rand::{SecureRandom, SystemRandom};

use crate::model::{
    ApiToken, ApiTokenList, AuditAction, AuditResult, CreatedApiToken, Role,
    API_TOKEN_DEFAULT_DAYS, API_TOKEN_MAX_DAYS, API_TOKEN_MAX_NAME,
};

use super::audit::{self, Event};
use super::auth::{throttle, Principal};
use super::db::api_tokens::{self, NewToken, TokenRow};
use super::error::AppError;
use super::state::AppState;

/// Every token starts with this, so that secret scanners and people recognise one.
pub(crate) const TOKEN_PREFIX: &str = "exc_";
/// Random bytes in a token (43 characters of base64url).
const TOKEN_BYTES: usize = 32;
/// A token's length: the prefix and its random part.
const TOKEN_LEN: usize = TOKEN_PREFIX.len() + 43;
/// Characters of a token kept to tell it apart (the prefix and 6 random characters, 36 bits).
const SHOWN_CHARS: usize = TOKEN_PREFIX.len() + 6;
/// Live tokens one person may hold.
pub(crate) const MAX_LIVE_PER_PERSON: i64 = 25;
/// A use is written back at most this often per token (a script polling writes nothing more).
const LAST_USE_EVERY: Duration = Duration::seconds(60);

fn hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn new_secret() -> Result<String, AppError> {
    let mut buf = [0u8; TOKEN_BYTES];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| AppError::Internal("the system random generator failed".into()))?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(buf)))
}

/// Whether `token` has a token's shape (checked before any lookup).
fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn to_model(row: TokenRow) -> ApiToken {
    ApiToken {
        role: Role::parse(&row.role).unwrap_or(Role::Reader),
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        owner_email: row.owner_email,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}

/// The name as kept: trimmed, non-empty, at most [`API_TOKEN_MAX_NAME`] characters, no
/// control characters.
fn clean_name(name: &str) -> Result<String, AppError> {
    super::names::clean(
        name,
        API_TOKEN_MAX_NAME,
        "give the token a name, such as the script that uses it",
    )
}

/// Creates a token named `name` for `who` with `role` (at most their own) that expires after
/// `days` (default 90, at most 365). Audited. The token is in the answer, and nowhere else.
pub(crate) async fn create(
    state: &AppState,
    who: &Principal,
    name: &str,
    role: Role,
    days: Option<u32>,
    address: &str,
) -> Result<CreatedApiToken, AppError> {
    let name = clean_name(name)?;
    if !who.role.allows(role) {
        return Err(AppError::Invalid {
            field: "role".into(),
            message: format!(
                "a token's role cannot be higher than yours (you are a {})",
                who.role.as_str()
            ),
        });
    }
    let days = days.unwrap_or(API_TOKEN_DEFAULT_DAYS);
    if !(1..=API_TOKEN_MAX_DAYS).contains(&days) {
        return Err(AppError::Invalid {
            field: "expires_in_days".into(),
            message: format!("between 1 and {API_TOKEN_MAX_DAYS} days"),
        });
    }
    let pool = state.db.pool();
    let now = Utc::now();
    if api_tokens::count_live(pool, &who.id, now).await? >= MAX_LIVE_PER_PERSON {
        return Err(AppError::Invalid {
            field: "name".into(),
            message: format!(
                "you already have {MAX_LIVE_PER_PERSON} active tokens: revoke one you no longer use"
            ),
        });
    }
    let secret = new_secret()?;
    let id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + Duration::days(i64::from(days));
    let prefix: String = secret.chars().take(SHOWN_CHARS).collect();
    api_tokens::insert(
        pool,
        &NewToken {
            id: &id,
            user_id: &who.id,
            name: &name,
            role: role.as_str(),
            token_hash: &hash(&secret),
            prefix: &prefix,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    let event = Event::new(
        AuditAction::UserChange,
        Some(&who.email),
        AuditResult::Success,
    )
    .address(Some(address))
    .target(&who.email)
    .detail(format!(
        "created the API token \"{name}\" ({}, expires {})",
        role.as_str(),
        expires_at.format("%Y-%m-%d")
    ));
    audit::record(pool, event).await;
    let token = api_tokens::by_id(pool, &id)
        .await?
        .map(to_model)
        .ok_or_else(|| AppError::Internal("a token just created is missing".into()))?;
    Ok(CreatedApiToken { token, secret })
}

/// The tokens of `who`, newest first.
pub(crate) async fn own(state: &AppState, who: &Principal) -> Result<ApiTokenList, AppError> {
    let rows = api_tokens::list(state.db.pool(), Some(&who.id)).await?;
    Ok(ApiTokenList {
        tokens: rows.into_iter().map(to_model).collect(),
        now: Utc::now(),
    })
}

/// Every person's tokens, newest first (admins).
pub(crate) async fn everyone(state: &AppState) -> Result<ApiTokenList, AppError> {
    let rows = api_tokens::list(state.db.pool(), None).await?;
    Ok(ApiTokenList {
        tokens: rows.into_iter().map(to_model).collect(),
        now: Utc::now(),
    })
}

/// Revokes the token `id`: its owner may, and any admin. Audited. A token already revoked is
/// left as it is (no error: the outcome is the one asked for).
pub(crate) async fn revoke(
    state: &AppState,
    who: &Principal,
    id: &str,
    address: &str,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let not_found = || AppError::Invalid {
        field: "id".into(),
        message: "there is no such token".into(),
    };
    let token = api_tokens::by_id(pool, id).await?.ok_or_else(not_found)?;
    if token.user_id != who.id && who.role != Role::Admin {
        // Someone else's token is as good as unknown to a reader.
        return Err(not_found());
    }
    if api_tokens::revoke(pool, id, Utc::now()).await? {
        let event = Event::new(
            AuditAction::UserChange,
            Some(&who.email),
            AuditResult::Success,
        )
        .address(Some(address))
        .target(&token.owner_email)
        .detail(format!("revoked the API token \"{}\"", token.name));
        audit::record(pool, event).await;
    }
    Ok(())
}

/// Who calls `/api/v1` with a token: the token's owner, with the token's role capped at the
/// owner's role now, and the token's name (it appears in the audit log).
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub who: Principal,
    pub token_name: String,
}

impl Caller {
    /// How the audit log names a change made with this token.
    pub(crate) fn actor(&self) -> String {
        format!("{} (API token \"{}\")", self.who.email, self.token_name)
    }
}

/// Why a bearer token was not accepted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// Unknown, malformed, revoked, expired, or its owner is disabled or deleted: one answer
    /// for all, so that it tells nobody which tokens exist.
    #[error("The token is not valid: it may be mistyped, expired or revoked.")]
    Invalid,
    #[error("{0}")]
    Throttled(String),
    #[error(transparent)]
    App(#[from] AppError),
}

/// The answer to an address past the limit of failed token attempts.
fn throttled(wait: std::time::Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    format!(
        "Too many failed attempts with API tokens from this address. Wait {minutes} minute{} \
         and try again.",
        if minutes == 1 { "" } else { "s" }
    )
}

/// The caller `token` stands for, from `address`. Failures count against the address, as
/// failed sign-ins do; past the limit every attempt is refused until the window frees.
pub(crate) async fn authenticate(
    state: &AppState,
    token: &str,
    address: &str,
) -> Result<Caller, Refused> {
    // Keyed by the address alone: a token names no account before it is found.
    let key = format!("api-token@{}", throttle::address_key(address));
    if let Some(wait) = state.throttle.locked_for(&key, address, Instant::now()) {
        return Err(Refused::Throttled(throttled(wait)));
    }
    let now = Utc::now();
    let holder = if well_formed(token) {
        api_tokens::by_hash(state.db.pool(), &hash(token))
            .await
            .map_err(AppError::from)?
    } else {
        None
    };
    let usable =
        holder.filter(|h| h.revoked_at.is_none() && h.expires_at > now && h.disabled_at.is_none());
    let Some(h) = usable else {
        if let Err(wait) = state.throttle.begin(&key, address, Instant::now()) {
            return Err(Refused::Throttled(throttled(wait)));
        }
        return Err(Refused::Invalid);
    };
    if h.last_used_at.is_none_or(|at| now - at >= LAST_USE_EVERY) {
        if let Err(e) = api_tokens::used(state.db.pool(), &h.id, now).await {
            // The call goes on: the last use is a convenience, not a record.
            tracing::warn!(error = %e, "cannot record an API token's use");
        }
    }
    let token_role = Role::parse(&h.role).unwrap_or(Role::Reader);
    let owner_role = Role::parse(&h.user_role).unwrap_or(Role::Reader);
    Ok(Caller {
        who: Principal {
            id: h.user_id,
            email: h.email,
            display_name: h.display_name,
            role: token_role.min(owner_role),
        },
        token_name: h.name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_prefixed_and_checked_for_shape_before_any_lookup() {
        let a = new_secret().expect("token");
        let b = new_secret().expect("token");
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(well_formed(&a), "{a}");
        assert!(!well_formed(&a[..TOKEN_LEN - 1]));
        assert!(!well_formed(&format!("{a}x")));
        assert!(!well_formed(&a.replacen(TOKEN_PREFIX, "xyz_", 1)));
        let mut odd = a.clone();
        odd.replace_range(10..11, "é");
        assert!(!well_formed(&odd));
        // The stored hash is not the token, and is the same for the same token.
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert!(!hash(&a).contains(&a[TOKEN_PREFIX.len()..]));
        assert_eq!(hash(&a).len(), 64);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            clean_name("  nightly export ").expect("ok"),
            "nightly export"
        );
        for bad in ["", "   ", "a\nb", &"x".repeat(API_TOKEN_MAX_NAME + 1)] {
            let e = clean_name(bad).expect_err(bad);
            assert!(
                matches!(e, AppError::Invalid { ref field, .. } if field == "name"),
                "{e}"
            );
        }
        assert!(clean_name(&"é".repeat(API_TOKEN_MAX_NAME)).is_ok());
    }
}
