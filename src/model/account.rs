//! Who signs in and how: roles, the signed-in person, accounts as the users page shows them,
//! and the fixed notices the account forms come back with.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a signed-in person may do. Admins set up, remove, start syncs, change settings, manage
/// users and read the audit log; readers see everything else and change nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    Reader,
    Admin,
}

impl Role {
    /// The name stored and sent (`admin`, `reader`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Admin => "admin",
        }
    }

    /// The role stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "reader" => Some(Role::Reader),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether this role includes everything `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// The signed-in person, as pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
}

/// A local account, as the users page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Whether the account has a password (else it signs in only with single sign-on).
    pub has_password: bool,
    /// Whether the account is bound to an identity of the single sign-on provider.
    pub sso_linked: bool,
    /// Whether this is the person looking.
    pub is_you: bool,
}

/// How a form of the account pages (sign-in, first admin, users) ended, when it was posted
/// without JavaScript: the server redirects back with `?notice=<code>`. A fixed set with fixed
/// words, so that a link cannot put its own text on a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormNotice {
    SignedOut,
    SignInFailed,
    /// Comes with `wait=<minutes>`.
    Throttled,
    EmailMissing,
    LinkInvalid,
    EmailInvalid,
    EmailTaken,
    PasswordShort,
    UserAdded,
    RoleChanged,
    UserDisabled,
    UserEnabled,
    UserDeleted,
    LastAdmin,
    OwnRole,
    OwnDisable,
    OwnDelete,
    UserNotFound,
    PasswordChanged,
    /// An admin set another account's password.
    PasswordSet,
    /// An admin tried to set their own password on the users page.
    OwnPassword,
    CurrentPasswordWrong,
    PasswordUnchanged,
    PasswordsDiffer,
    /// The account signs in only with single sign-on.
    NoPassword,
    /// Single sign-on: the provider cannot be reached or is not configured.
    SsoUnavailable,
    /// Single sign-on was cancelled at the provider.
    SsoCancelled,
    /// Single sign-on's answer did not check out (state, code, id_token).
    SsoFailed,
    /// The provider vouched for someone without an enabled account here.
    SsoNoAccount,
    /// Too many password checks at once: try again in a few seconds.
    Busy,
    ServerError,
}

impl FormNotice {
    pub const ALL: [FormNotice; 31] = [
        FormNotice::SignedOut,
        FormNotice::SignInFailed,
        FormNotice::Throttled,
        FormNotice::EmailMissing,
        FormNotice::LinkInvalid,
        FormNotice::EmailInvalid,
        FormNotice::EmailTaken,
        FormNotice::PasswordShort,
        FormNotice::UserAdded,
        FormNotice::RoleChanged,
        FormNotice::UserDisabled,
        FormNotice::UserEnabled,
        FormNotice::UserDeleted,
        FormNotice::LastAdmin,
        FormNotice::OwnRole,
        FormNotice::OwnDisable,
        FormNotice::OwnDelete,
        FormNotice::UserNotFound,
        FormNotice::PasswordChanged,
        FormNotice::PasswordSet,
        FormNotice::OwnPassword,
        FormNotice::CurrentPasswordWrong,
        FormNotice::PasswordUnchanged,
        FormNotice::PasswordsDiffer,
        FormNotice::NoPassword,
        FormNotice::SsoUnavailable,
        FormNotice::SsoCancelled,
        FormNotice::SsoFailed,
        FormNotice::SsoNoAccount,
        FormNotice::Busy,
        FormNotice::ServerError,
    ];

    /// The code in the query string (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            FormNotice::SignedOut => "signed-out",
            FormNotice::SignInFailed => "sign-in-failed",
            FormNotice::Throttled => "throttled",
            FormNotice::EmailMissing => "email-missing",
            FormNotice::LinkInvalid => "link-invalid",
            FormNotice::EmailInvalid => "email-invalid",
            FormNotice::EmailTaken => "email-taken",
            FormNotice::PasswordShort => "password-short",
            FormNotice::UserAdded => "user-added",
            FormNotice::RoleChanged => "role-changed",
            FormNotice::UserDisabled => "user-disabled",
            FormNotice::UserEnabled => "user-enabled",
            FormNotice::UserDeleted => "user-deleted",
            FormNotice::LastAdmin => "last-admin",
            FormNotice::OwnRole => "own-role",
            FormNotice::OwnDisable => "own-disable",
            FormNotice::OwnDelete => "own-delete",
            FormNotice::UserNotFound => "user-not-found",
            FormNotice::PasswordChanged => "password-changed",
            FormNotice::PasswordSet => "password-set",
            FormNotice::OwnPassword => "own-password",
            FormNotice::CurrentPasswordWrong => "current-password-wrong",
            FormNotice::PasswordUnchanged => "password-unchanged",
            FormNotice::PasswordsDiffer => "passwords-differ",
            FormNotice::NoPassword => "no-password",
            FormNotice::SsoUnavailable => "sso-unavailable",
            FormNotice::SsoCancelled => "sso-cancelled",
            FormNotice::SsoFailed => "sso-failed",
            FormNotice::SsoNoAccount => "sso-no-account",
            FormNotice::Busy => "busy",
            FormNotice::ServerError => "server-error",
        }
    }

    /// The notice with code `code`.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == code)
    }

    /// What the page says (for `Throttled`, see [`FormNotice::throttled`]).
    pub fn message(self) -> &'static str {
        match self {
            FormNotice::SignedOut => "You are signed out.",
            FormNotice::SignInFailed => "The email address or password is not right.",
            FormNotice::Throttled => "Too many failed sign-ins. Wait a while and try again.",
            FormNotice::EmailMissing => "Enter your email address.",
            FormNotice::LinkInvalid => "This link was already used or is not valid.",
            FormNotice::EmailInvalid => "Enter an email address like admin@contoso.com.",
            FormNotice::EmailTaken => "This email address already has an account.",
            FormNotice::PasswordShort => "Use at least 12 characters.",
            FormNotice::UserAdded => "The user was added.",
            FormNotice::RoleChanged => "The role was changed.",
            FormNotice::UserDisabled => "The user was disabled and signed out.",
            FormNotice::UserEnabled => "The user was enabled.",
            FormNotice::UserDeleted => "The user was deleted.",
            FormNotice::LastAdmin => "This is the last admin. Make another user an admin first.",
            FormNotice::OwnRole => "You cannot remove your own admin role.",
            FormNotice::OwnDisable => "You cannot disable your own account.",
            FormNotice::OwnDelete => "You cannot delete your own account.",
            FormNotice::UserNotFound => "This user no longer exists.",
            FormNotice::PasswordChanged => {
                "Your password was changed. Your other sessions were signed out."
            }
            FormNotice::PasswordSet => "The new password was set; the user was signed out.",
            FormNotice::OwnPassword => {
                "Change your own password on your account page (it asks for the current one)."
            }
            FormNotice::CurrentPasswordWrong => "The current password is not right.",
            FormNotice::PasswordUnchanged => "Choose a password different from the current one.",
            FormNotice::PasswordsDiffer => "The two new passwords differ.",
            FormNotice::NoPassword => {
                "You sign in with single sign-on: this account has no password here."
            }
            FormNotice::SsoUnavailable => {
                "Single sign-on is not available right now. Sign in with your password, or try \
                 again later."
            }
            FormNotice::SsoCancelled => "Single sign-on was cancelled. Nobody was signed in.",
            FormNotice::SsoFailed => {
                "Single sign-on did not complete (the answer had expired, was used already or \
                 did not check out). Start it again."
            }
            FormNotice::SsoNoAccount => {
                "Your account at the sign-in provider has no enabled account here. Ask an admin \
                 to add your email address on the Users page."
            }
            FormNotice::Busy => {
                "The server is checking many sign-ins at once. Try again in a few seconds."
            }
            FormNotice::ServerError => {
                "Something went wrong on the connector server. The server log has the details."
            }
        }
    }

    /// The throttling message for a wait of `minutes`.
    pub fn throttled(minutes: u64) -> String {
        let minutes = minutes.max(1);
        format!(
            "Too many failed sign-ins. Wait {minutes} minute{} and try again.",
            if minutes == 1 { "" } else { "s" }
        )
    }

    /// The form field the notice is about, if one.
    pub fn field(self) -> Option<&'static str> {
        match self {
            FormNotice::EmailMissing | FormNotice::EmailInvalid | FormNotice::EmailTaken => {
                Some("email")
            }
            FormNotice::SignInFailed
            | FormNotice::PasswordShort
            | FormNotice::PasswordUnchanged => Some("password"),
            FormNotice::CurrentPasswordWrong => Some("current_password"),
            FormNotice::PasswordsDiffer => Some("confirm_password"),
            _ => None,
        }
    }

    /// Whether it reports a success (else a refusal or failure).
    pub fn is_success(self) -> bool {
        matches!(
            self,
            FormNotice::SignedOut
                | FormNotice::UserAdded
                | FormNotice::RoleChanged
                | FormNotice::UserDisabled
                | FormNotice::UserEnabled
                | FormNotice::UserDeleted
                | FormNotice::PasswordChanged
                | FormNotice::PasswordSet
        )
    }
}

/// API tokens: the default and longest lifetime, and the longest name.
pub const API_TOKEN_DEFAULT_DAYS: u32 = 90;
pub const API_TOKEN_MAX_DAYS: u32 = 365;
pub const API_TOKEN_MAX_NAME: usize = 100;

/// A bearer token for `/api/v1`, as the account and users pages list it (never the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// What the token may do (never more than its owner may).
    pub role: Role,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub owner_email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token works at `now` (its owner's account aside).
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    /// "Active", "Expired" or "Revoked".
    pub fn state_label(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "Revoked"
        } else if self.expires_at <= now {
            "Expired"
        } else {
            "Active"
        }
    }
}

/// A token just created: the token itself, shown this once and never again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub token: ApiToken,
    pub secret: String,
}

/// A person's tokens, or (for an admin's view) everyone's, with the server's time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenList {
    pub tokens: Vec<ApiToken>,
    pub now: DateTime<Utc>,
}

/// What the account page's token section shows: the tokens, and after a form posted without
/// JavaScript, how it ended (kept in the session for the one page that follows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenPage {
    pub list: ApiTokenList,
    /// Where the API is reached (`PUBLIC_URL`, else the server's address), for the example.
    pub base: String,
    pub flash: Option<TokenFlash>,
}

/// How a token form posted without JavaScript ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenFlash {
    Created(CreatedApiToken),
    Revoked,
    Refused { field: String, message: String },
}
