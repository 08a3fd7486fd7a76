//! Who is signed in and what they may do: local accounts (argon2id), sessions in the database,
//! the admin and reader roles, sign-in throttling, the first admin, and the key of stored
//! secrets. Every server function and route asks [`require`] before it acts.

pub(crate) mod callback;
pub(crate) mod crypto;
pub(crate) mod csrf;
pub(crate) mod guard;
pub(crate) mod oidc;
pub(crate) mod password;
pub(crate) mod session;
pub(crate) mod throttle;

use std::time::Instant;

use chrono::Utc;
use secrecy::SecretString;
use tower_sessions::Session;

use crate::model::{Role, SessionUser};

use super::db::users::{self, UserRow};
use super::error::AppError;
use super::state::AppState;

/// The session key holding the signed-in user's id.
const USER_ID: &str = "user_id";
/// The session key holding the account's session epoch at sign-in (see `users.session_epoch`).
const EPOCH: &str = "epoch";
/// The session key holding when the session ends whatever its activity (Unix seconds): the
/// sign-in time plus `SESSION_LIFETIME_HOURS`.
const ENDS_AT: &str = "ends_at";

/// The session key under which a session read from the store carries its signed-in account,
/// as the database held it in the same read (`session::Store::load` joins the two). Never
/// stored: the store takes it out of every write.
const ACCOUNT: &str = "__account";

/// What [`principal`] needs of an account, as a session carries it (see [`ACCOUNT`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Account {
    id: String,
    email: String,
    display_name: Option<String>,
    role: Role,
    disabled: bool,
    session_epoch: i64,
}

impl From<UserRow> for Account {
    fn from(row: UserRow) -> Self {
        Self {
            role: row.role(),
            disabled: row.disabled_at.is_some(),
            session_epoch: row.session_epoch,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
        }
    }
}

/// The signed-in person, as the server knows them (read from the database on every request,
/// so a role change or a disabled account takes effect at once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Principal {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
}

impl Principal {
    fn from_row(row: UserRow) -> Self {
        Self::from_account(row.into())
    }

    fn from_account(account: Account) -> Self {
        Self {
            id: account.id,
            email: account.email,
            display_name: account.display_name,
            role: account.role,
        }
    }

    /// What pages see.
    pub(crate) fn session_user(&self) -> SessionUser {
        SessionUser {
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
        }
    }
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Session(e.to_string())
}

/// The person signed in with `session`, if any (a disabled or deleted account is signed out).
pub(crate) async fn principal(
    state: &AppState,
    session: &Session,
) -> Result<Option<Principal>, AppError> {
    let Some(id) = session
        .get::<String>(USER_ID)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    // Sessions from before epochs existed carry none: they are of epoch 0.
    let epoch = session
        .get::<i64>(EPOCH)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    // Sessions from before the absolute lifetime carry no end: they end now.
    let ends_at = session
        .get::<i64>(ENDS_AT)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    let live = Utc::now().timestamp() < ends_at;
    // The account as read with the session; a session that does not carry it (its row was
    // written before sessions named their account, or a sign-in of this request changed who it
    // is) reads it on its own.
    let account = match session
        .get::<Account>(ACCOUNT)
        .await
        .map_err(session_error)?
    {
        Some(account) if account.id == id => Some(account),
        _ => users::by_id(state.db.pool(), &id).await?.map(Account::from),
    };
    match account {
        Some(account) if live && !account.disabled && account.session_epoch == epoch => {
            // Activity: the idle timeout starts again. The session layer saves only a changed
            // session, so re-setting its expiry is what moves the stored end (and the cookie's
            // Max-Age) forward; the store writes it at most once a minute
            // (`session::Store`), and requests that check nobody write nothing.
            session.set_expiry(session.expiry());
            Ok(Some(Principal::from_account(account)))
        }
        _ => {
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// The signed-in person of one request, read from the database at most once however many
/// server functions its page renders (each checks who is signed in). The page guard puts one
/// in every request's extensions; [`signed_in`] uses it.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestPrincipal(std::sync::Arc<tokio::sync::OnceCell<Option<Principal>>>);

impl RequestPrincipal {
    /// Who is signed in, if this request has read it already (`None` when it has not);
    /// never reads the database.
    pub(crate) fn read_already(&self) -> Option<&Option<Principal>> {
        self.0.get()
    }
}

/// The person signed in with `session`, as [`principal`], read once per request when the
/// request carries a [`RequestPrincipal`] (a failed read is not kept: the next call tries again).
pub(crate) async fn signed_in(
    state: &AppState,
    session: &Session,
    memo: Option<&RequestPrincipal>,
) -> Result<Option<Principal>, AppError> {
    match memo {
        Some(RequestPrincipal(cell)) => cell
            .get_or_try_init(|| principal(state, session))
            .await
            .cloned(),
        None => principal(state, session).await,
    }
}

/// `who` if they are signed in with a role that allows `needed`: otherwise `Unauthorized`
/// (nobody signed in) or `Forbidden` (saying which role is needed).
pub(crate) fn require(who: Option<Principal>, needed: Role) -> Result<Principal, AppError> {
    let who = who.ok_or(AppError::Unauthorized)?;
    if who.role.allows(needed) {
        Ok(who)
    } else {
        Err(AppError::Forbidden(format!(
            "Only an admin can do this; you are signed in as a {}.",
            who.role.as_str()
        )))
    }
}

/// The one message for a failed sign-in: the same for an unknown account, a wrong password and
/// a disabled account, so that it tells nobody which accounts exist.
pub(crate) const SIGN_IN_FAILED: &str = "The email address or password is not right.";

/// Signs `email` in with `password` from `address`: throttled per account and per address, a
/// new session id on success (no session fixation).
pub(crate) async fn sign_in(
    state: &AppState,
    session: &Session,
    email: &str,
    password: SecretString,
    address: &str,
) -> Result<Principal, AppError> {
    let email = email.trim();
    if email.is_empty() {
        return Err(AppError::Invalid {
            field: "email".into(),
            message: "enter your email address".into(),
        });
    }
    if email.chars().count() > throttle::MAX_EMAIL {
        return Err(AppError::Invalid {
            field: "password".into(),
            message: SIGN_IN_FAILED.into(),
        });
    }
    // Counted before the slow check: parallel attempts cannot all pass the limit.
    let attempt = state
        .throttle
        .begin(email, address, Instant::now())
        .map_err(|wait| AppError::Throttled(throttle::message(wait)))?;
    let row = match users::by_email(state.db.pool(), email).await {
        Ok(row) => row,
        Err(e) => {
            state.throttle.undecided(attempt);
            return Err(e.into());
        }
    };
    let hash = row.as_ref().and_then(|r| r.password_hash.clone());
    let matches = match password::verify(password, hash).await {
        Ok(matches) => matches,
        Err(e) => {
            // Not checked (the server is busy): this attempt does not count.
            state.throttle.undecided(attempt);
            return Err(e);
        }
    };
    let row = match row {
        Some(row) if matches && row.disabled_at.is_none() => row,
        _ => {
            return Err(AppError::Invalid {
                field: "password".into(),
                message: SIGN_IN_FAILED.into(),
            })
        }
    };
    state.throttle.succeeded(attempt);
    start_session(state, session, row).await
}

/// Signs `row` in on `session`: a new session id first (no session fixation), then the last
/// sign-in time.
async fn start_session(
    state: &AppState,
    session: &Session,
    row: UserRow,
) -> Result<Principal, AppError> {
    session.cycle_id().await.map_err(session_error)?;
    forget_account(session).await?;
    session
        .insert(USER_ID, &row.id)
        .await
        .map_err(session_error)?;
    session
        .insert(EPOCH, row.session_epoch)
        .await
        .map_err(session_error)?;
    let lifetime = i64::try_from(state.security.session_lifetime.as_secs()).unwrap_or(i64::MAX);
    session
        .insert(ENDS_AT, Utc::now().timestamp().saturating_add(lifetime))
        .await
        .map_err(session_error)?;
    users::signed_in(state.db.pool(), &row.id, Utc::now()).await?;
    Ok(Principal::from_row(row))
}

/// Keeps `session` signed in after its account's epoch became `epoch` (a password change):
/// a new session id, the new epoch. The account's other sessions end.
pub(crate) async fn renew_session(session: &Session, epoch: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    forget_account(session).await?;
    session.insert(EPOCH, epoch).await.map_err(session_error)
}

/// Drops the account `session` carries from its read (a sign-in or a new epoch changes it):
/// a later check in the same request reads the account again.
async fn forget_account(session: &Session) -> Result<(), AppError> {
    session
        .remove_value(ACCOUNT)
        .await
        .map(drop)
        .map_err(session_error)
}

/// Ends the session (its row is deleted and the cookie cleared).
pub(crate) async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// Creates an account. The email must look like one and be new; the password, when there is
/// one, must be long enough (without one, the account signs in only with single sign-on).
pub(crate) async fn create_user(
    pool: &sqlx::SqlitePool,
    email: &str,
    display_name: Option<&str>,
    role: Role,
    password: Option<SecretString>,
) -> Result<String, AppError> {
    let email = email.trim();
    if !looks_like_email(email) {
        return Err(AppError::Invalid {
            field: "email".into(),
            message: "enter an email address like admin@contoso.com".into(),
        });
    }
    let hash = match password {
        Some(password) => {
            password::check_new(&password)?;
            Some(password::hash(password).await?)
        }
        None => None,
    };
    let display_name = display_name.map(str::trim).filter(|n| !n.is_empty());
    users::insert(pool, email, display_name, role, hash.as_deref(), Utc::now())
        .await
        .map_err(|e| {
            if users::is_duplicate(&e) {
                AppError::Invalid {
                    field: "email".into(),
                    message: format!("{email} already has an account"),
                }
            } else {
                AppError::Db(e)
            }
        })
}

/// Whether two secrets (tokens, `state` values) are equal, in time that depends only on their
/// lengths.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// A fresh token for the one-time first-admin link (256 random bits, URL-safe).
pub(crate) fn first_admin_token() -> String {
    super::exchange::delegated::random_token(32)
}

/// A plausible email address: one `@`, something before it, a dot in the domain, no spaces.
pub(crate) fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role) -> Option<Principal> {
        Some(Principal {
            id: "u".into(),
            email: "a@b.c".into(),
            display_name: None,
            role,
        })
    }

    #[test]
    fn roles_are_checked_and_the_refusal_says_why() {
        assert!(matches!(
            require(None, Role::Reader),
            Err(AppError::Unauthorized)
        ));
        assert!(require(who(Role::Reader), Role::Reader).is_ok());
        assert!(require(who(Role::Admin), Role::Reader).is_ok());
        assert!(require(who(Role::Admin), Role::Admin).is_ok());
        let e = require(who(Role::Reader), Role::Admin).expect_err("reader");
        assert_eq!(
            e.to_string(),
            "Only an admin can do this; you are signed in as a reader."
        );
    }

    #[test]
    fn email_addresses_are_checked_loosely() {
        for ok in ["admin@contoso.com", "a.b+c@sub.example.org"] {
            assert!(looks_like_email(ok), "{ok}");
        }
        for bad in [
            "",
            "admin",
            "@contoso.com",
            "a@b",
            "a@.com",
            "a b@c.com",
            "a@b.c.",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
