//! Managing local accounts: the users page's list and changes, and the one-time first admin.
//! No change may leave the connector without an enabled admin, and no admin may lock
//! themselves out. Every change, and every refusal of those rules, is in the audit log.

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use crate::model::{AuditAction, AuditResult, FormNotice, Role, UserSummary};

use super::audit::{self, Event};
use super::auth::{self, password, same_secret, Principal};
use super::db::users::{self, UserRow};
use super::error::AppError;
use super::state::AppState;

/// The longest email address accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;
/// Display names longer than this are cut.
const MAX_NAME: usize = 200;

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UserError {
    /// Refused by a rule or a field check, with fixed words (also the no-JavaScript notice).
    #[error("{}", .0.message())]
    Refused(FormNotice),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for UserError {
    fn from(e: sqlx::Error) -> Self {
        Self::App(AppError::Db(e))
    }
}

impl From<UserError> for AppError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Refused(notice) => match notice.field() {
                Some(field) => AppError::Invalid {
                    field: field.into(),
                    message: notice.message().into(),
                },
                None => AppError::Conflict(notice.message().into()),
            },
            UserError::App(e) => e,
        }
    }
}

impl UserError {
    /// The notice a plain form post comes back with.
    pub(crate) fn notice(&self) -> FormNotice {
        match self {
            UserError::Refused(notice) => *notice,
            UserError::App(AppError::Busy(_)) => FormNotice::Busy,
            UserError::App(_) => FormNotice::ServerError,
        }
    }
}

/// Who asks for a change, and from where (for the audit log).
pub(crate) struct Actor<'a> {
    pub who: &'a Principal,
    pub address: &'a str,
}

impl Actor<'_> {
    async fn record(&self, state: &AppState, target: &str, result: AuditResult, detail: &str) {
        let event = Event::new(AuditAction::UserChange, Some(&self.who.email), result)
            .address(Some(self.address))
            .target(target)
            .detail(detail);
        audit::record(state.db.pool(), event).await;
    }

    /// Records the refusal `notice` about `target`, and returns it as the error.
    async fn refuse(&self, state: &AppState, target: &str, notice: FormNotice) -> UserError {
        self.record(state, target, AuditResult::Denied, notice.message())
            .await;
        UserError::Refused(notice)
    }
}

/// Every account, by email, the asking admin marked.
pub(crate) async fn list(state: &AppState, who: &Principal) -> Result<Vec<UserSummary>, AppError> {
    let rows = users::all(state.db.pool()).await?;
    Ok(rows.into_iter().map(|row| summary(row, who)).collect())
}

/// The signed-in person's own account.
pub(crate) async fn own(state: &AppState, who: &Principal) -> Result<UserSummary, AppError> {
    let row = users::by_id(state.db.pool(), &who.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(summary(row, who))
}

fn summary(row: UserRow, who: &Principal) -> UserSummary {
    UserSummary {
        is_you: row.id == who.id,
        role: row.role(),
        has_password: row.password_hash.is_some(),
        sso_linked: row.oidc_subject.is_some(),
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        created_at: row.created_at,
        last_sign_in_at: row.last_sign_in_at,
        disabled_at: row.disabled_at,
    }
}

/// A new account's fields as typed.
pub(crate) struct NewAccount {
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub password: SecretString,
}

impl NewAccount {
    /// The fields checked (email shape and length, password length) and tidied (trimmed, name
    /// cut to length), before anything is stored. With `sso_only_allowed` (single sign-on is
    /// configured) an empty password makes an account that signs in only that way.
    fn checked(self, sso_only_allowed: bool) -> Result<Self, UserError> {
        let email = self.email.trim().to_owned();
        if email.len() > MAX_EMAIL || !auth::looks_like_email(&email) {
            return Err(UserError::Refused(FormNotice::EmailInvalid));
        }
        let sso_only = sso_only_allowed && self.password.expose_secret().is_empty();
        if !sso_only && password::check_new(&self.password).is_err() {
            return Err(UserError::Refused(FormNotice::PasswordShort));
        }
        let display_name = self
            .display_name
            .map(|n| n.trim().chars().take(MAX_NAME).collect::<String>())
            .filter(|n| !n.is_empty());
        Ok(Self {
            email,
            display_name,
            ..self
        })
    }

    async fn create(self, state: &AppState) -> Result<String, UserError> {
        // Checked: empty only for an account of single sign-on.
        let password = (!self.password.expose_secret().is_empty()).then_some(self.password);
        auth::create_user(
            state.db.pool(),
            &self.email,
            self.display_name.as_deref(),
            self.role,
            password,
        )
        .await
        .map_err(|e| match e {
            // The email's shape was checked: a refused email is one already taken.
            AppError::Invalid { field, .. } if field == "email" => {
                UserError::Refused(FormNotice::EmailTaken)
            }
            other => UserError::App(other),
        })
    }
}

/// Adds an account. Refused with a field's notice when the email is not one or is taken, or
/// the password is too short.
pub(crate) async fn add(
    state: &AppState,
    actor: &Actor<'_>,
    account: NewAccount,
) -> Result<(), UserError> {
    let account = account.checked(state.oidc.is_some())?;
    let (email, role) = (account.email.clone(), account.role);
    let sso_only = account.password.expose_secret().is_empty();
    account.create(state).await?;
    let mut detail = format!("added as {}", role.as_str());
    if sso_only {
        detail.push_str(", single sign-on only");
    }
    actor
        .record(state, &email, AuditResult::Success, &detail)
        .await;
    Ok(())
}

async fn target(state: &AppState, id: &str) -> Result<UserRow, UserError> {
    users::by_id(state.db.pool(), id)
        .await?
        .ok_or(UserError::Refused(FormNotice::UserNotFound))
}

/// Gives `id` the role `role`. An admin cannot take their own admin role, and the last enabled
/// admin keeps theirs.
pub(crate) async fn change_role(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    role: Role,
) -> Result<(), UserError> {
    let user = target(state, id).await?;
    let before = user.role();
    if before == role {
        return Ok(());
    }
    if user.id == actor.who.id {
        return Err(actor.refuse(state, &user.email, FormNotice::OwnRole).await);
    }
    if !users::set_role_keeping_an_admin(state.db.pool(), id, role).await? {
        return Err(actor
            .refuse(state, &user.email, FormNotice::LastAdmin)
            .await);
    }
    let detail = format!("role {} → {}", before.as_str(), role.as_str());
    actor
        .record(state, &user.email, AuditResult::Success, &detail)
        .await;
    Ok(())
}

/// Disables `id` (signed out at their next request) or enables it again. An admin cannot
/// disable themselves, and the last enabled admin stays enabled.
pub(crate) async fn set_disabled(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    disabled: bool,
) -> Result<(), UserError> {
    let user = target(state, id).await?;
    if disabled == user.disabled_at.is_some() {
        return Ok(());
    }
    let pool = state.db.pool();
    if disabled {
        if user.id == actor.who.id {
            return Err(actor
                .refuse(state, &user.email, FormNotice::OwnDisable)
                .await);
        }
        if !users::disable_keeping_an_admin(pool, id, Utc::now()).await? {
            return Err(actor
                .refuse(state, &user.email, FormNotice::LastAdmin)
                .await);
        }
    } else {
        users::enable(pool, id).await?;
    }
    let detail = if disabled { "disabled" } else { "enabled" };
    actor
        .record(state, &user.email, AuditResult::Success, detail)
        .await;
    Ok(())
}

/// Sets a new password for `id` (a forgotten one, or password sign-in for an account of
/// single sign-on): at least 12 characters; all of that account's sessions end. Your own
/// password is changed on your account page, with the current one.
pub(crate) async fn set_password(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    password: SecretString,
) -> Result<(), UserError> {
    let user = target(state, id).await?;
    if user.id == actor.who.id {
        return Err(UserError::Refused(FormNotice::OwnPassword));
    }
    if password::check_new(&password).is_err() {
        return Err(UserError::Refused(FormNotice::PasswordShort));
    }
    let hash = password::hash(password).await?;
    users::set_password(state.db.pool(), id, &hash)
        .await?
        .ok_or(UserError::Refused(FormNotice::UserNotFound))?;
    actor
        .record(
            state,
            &user.email,
            AuditResult::Success,
            "new password set by an admin; their sessions were signed out",
        )
        .await;
    Ok(())
}

/// Deletes `id`. An admin cannot delete themselves, and the last enabled admin stays.
pub(crate) async fn delete(state: &AppState, actor: &Actor<'_>, id: &str) -> Result<(), UserError> {
    let user = target(state, id).await?;
    if user.id == actor.who.id {
        return Err(actor
            .refuse(state, &user.email, FormNotice::OwnDelete)
            .await);
    }
    if !users::delete_keeping_an_admin(state.db.pool(), id).await? {
        return Err(actor
            .refuse(state, &user.email, FormNotice::LastAdmin)
            .await);
    }
    let detail = format!("deleted ({})", user.role().as_str());
    actor
        .record(state, &user.email, AuditResult::Success, &detail)
        .await;
    Ok(())
}

/// Whether no enabled admin exists (the sign-in page then says how to create one).
pub(crate) async fn first_admin_needed(state: &AppState) -> Result<bool, AppError> {
    Ok(users::count_admins(state.db.pool()).await? == 0)
}

/// A password change as typed.
pub(crate) struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    pub confirmation: SecretString,
}

/// Changes the signed-in person's own password: the current one must be right (wrong ones
/// count towards sign-in throttling), the new one long enough, different, and typed twice
/// alike. The account's other sessions end; this one goes on under a new id.
pub(crate) async fn change_own_password(
    state: &AppState,
    session: &tower_sessions::Session,
    actor: &Actor<'_>,
    change: PasswordChange,
) -> Result<(), UserError> {
    let email = actor.who.email.as_str();
    let row = target(state, &actor.who.id).await?;
    let Some(hash) = row.password_hash else {
        return Err(UserError::Refused(FormNotice::NoPassword));
    };
    let Ok(attempt) = state
        .throttle
        .begin(email, actor.address, std::time::Instant::now())
    else {
        return Err(actor.refuse(state, email, FormNotice::Throttled).await);
    };
    let unchanged = change.new.expose_secret() == change.current.expose_secret();
    match password::verify(change.current, Some(hash)).await {
        Ok(true) => state.throttle.succeeded(attempt),
        Ok(false) => {
            return Err(actor
                .refuse(state, email, FormNotice::CurrentPasswordWrong)
                .await)
        }
        Err(e) => {
            state.throttle.undecided(attempt);
            return Err(UserError::App(e));
        }
    }
    let refusal = if password::check_new(&change.new).is_err() {
        Some(FormNotice::PasswordShort)
    } else if unchanged {
        Some(FormNotice::PasswordUnchanged)
    } else if !same_secret(
        change.new.expose_secret(),
        change.confirmation.expose_secret(),
    ) {
        Some(FormNotice::PasswordsDiffer)
    } else {
        None
    };
    if let Some(notice) = refusal {
        return Err(UserError::Refused(notice));
    }
    let hash = password::hash(change.new).await?;
    let epoch = users::set_password(state.db.pool(), &row.id, &hash)
        .await?
        .ok_or(UserError::Refused(FormNotice::UserNotFound))?;
    auth::renew_session(session, epoch).await?;
    actor
        .record(
            state,
            email,
            AuditResult::Success,
            "changed their own password; their other sessions were signed out",
        )
        .await;
    Ok(())
}

/// Creates the first admin with the one-time link's `token`: refused (`LinkInvalid`) when an
/// admin exists or the token is not the one in the server log. The token works once: it is
/// taken before the account is created, and put back only if the account could not be made.
pub(crate) async fn create_first_admin(
    state: &AppState,
    token: &str,
    account: NewAccount,
    address: &str,
) -> Result<(), UserError> {
    let account = NewAccount {
        role: Role::Admin,
        ..account
    }
    .checked(false)?;
    let email = account.email.clone();
    let Some(taken) = take_token(state, token) else {
        return Err(refuse_link(state, address).await);
    };
    let made = match first_admin_needed(state).await {
        // An admin came another way (the command line): the link is spent for good.
        Ok(false) => return Err(refuse_link(state, address).await),
        Ok(true) => account.create(state).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = made {
        put_token_back(state, taken);
        return Err(e);
    }
    let event = Event::new(AuditAction::UserChange, Some(&email), AuditResult::Success)
        .address(Some(address))
        .target(&email)
        .detail("first admin, created with the one-time link");
    audit::record(state.db.pool(), event).await;
    Ok(())
}

async fn refuse_link(state: &AppState, address: &str) -> UserError {
    let notice = FormNotice::LinkInvalid;
    let event = Event::new(AuditAction::UserChange, None, AuditResult::Denied)
        .address(Some(address))
        .detail(format!("first-admin link refused: {}", notice.message()));
    audit::record_anonymous(state, audit::budget::Kind::Attempt, event).await;
    UserError::Refused(notice)
}

/// The first-admin token, taken out, if `given` is it (compared in constant time).
fn take_token(state: &AppState, given: &str) -> Option<String> {
    let mut slot = state.first_admin.lock().unwrap_or_else(|p| p.into_inner());
    match slot.as_deref() {
        Some(expected) if !expected.is_empty() && same_secret(expected, given) => slot.take(),
        _ => None,
    }
}

fn put_token_back(state: &AppState, token: String) {
    let mut slot = state.first_admin.lock().unwrap_or_else(|p| p.into_inner());
    slot.get_or_insert(token);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(email: &str, password: &str) -> NewAccount {
        NewAccount {
            email: email.into(),
            display_name: Some(format!("  {}  ", "n".repeat(300))),
            role: Role::Reader,
            password: SecretString::from(password.to_owned()),
        }
    }

    #[test]
    fn tokens_match_only_themselves() {
        assert!(same_secret("abc-DEF_123", "abc-DEF_123"));
        assert!(!same_secret("abc-DEF_123", "abc-DEF_124"));
        assert!(!same_secret("abc-DEF_123", "abc"));
        assert!(!same_secret("abc-DEF_123", ""));
    }

    #[test]
    fn new_accounts_are_checked_and_tidied_before_anything_is_stored() {
        let ok = account("  ann@contoso.test ", "long enough pass")
            .checked(false)
            .expect("valid");
        assert_eq!(ok.email, "ann@contoso.test");
        assert_eq!(ok.display_name.map(|n| n.chars().count()), Some(MAX_NAME));

        let refused = |a: NewAccount| a.checked(false).err().map(|e| e.notice());
        assert_eq!(
            refused(account("ann", "long enough pass")),
            Some(FormNotice::EmailInvalid)
        );
        let long = format!("{}@contoso.test", "a".repeat(250));
        assert_eq!(
            refused(account(&long, "long enough pass")),
            Some(FormNotice::EmailInvalid)
        );
        assert_eq!(
            refused(account("ann@contoso.test", "short")),
            Some(FormNotice::PasswordShort)
        );
        // No password: refused, unless single sign-on is on (then a short one still is).
        assert_eq!(
            refused(account("ann@contoso.test", "")),
            Some(FormNotice::PasswordShort)
        );
        assert!(account("ann@contoso.test", "").checked(true).is_ok());
        let short = account("ann@contoso.test", "short").checked(true);
        assert_eq!(
            short.err().map(|e| e.notice()),
            Some(FormNotice::PasswordShort)
        );
    }

    #[test]
    fn refusals_reach_the_browser_with_their_field_or_as_a_conflict() {
        let e = AppError::from(UserError::Refused(FormNotice::PasswordShort));
        assert!(
            matches!(&e, AppError::Invalid { field, message } if field == "password" && message == "Use at least 12 characters."),
            "{e:?}"
        );
        let e = AppError::from(UserError::Refused(FormNotice::OwnRole));
        assert_eq!(e.to_string(), "You cannot remove your own admin role.");
        assert!(matches!(e, AppError::Conflict(_)));
    }
}
