//! Server functions of the users page: the list of local accounts, adding one, changing a
//! role, disabling, enabling and deleting. Admins only. No change may leave the connector
//! without an enabled admin or lock the asking admin out; every change is in the audit log.
//!
//! A plain form post (no JavaScript) is redirected back to the users page with
//! `?notice=<code>` saying how it ended.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::{Role, UserSummary};

#[cfg(feature = "ssr")]
use super::{authorize, client_address, fail, is_form_post};
#[cfg(feature = "ssr")]
use crate::model::FormNotice;
#[cfg(feature = "ssr")]
use crate::server::users::{self as users, Actor, UserError};

/// Every local account, by email; the asking admin's own is marked `is_you`.
#[server(endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserSummary>, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    users::list(&state, &who).await.map_err(fail)
}

/// Adds an account with `role` and an initial `password` (at least 12 characters). Refused,
/// naming the field, when the email is not one or already has an account.
#[server(endpoint = "users/add")]
pub async fn add_user(
    email: String,
    #[server(default)] display_name: Option<String>,
    role: Role,
    password: String,
) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let account = users::NewAccount {
        email,
        display_name,
        role,
        password: secrecy::SecretString::from(password),
    };
    let actor = Actor {
        who: &who,
        address: &address,
    };
    let done = users::add(&state, &actor, account).await;
    answer(done, FormNotice::UserAdded)
}

/// Gives the account `id` the role `role`. Refused for your own admin role and for the last
/// enabled admin.
#[server(endpoint = "users/role")]
pub async fn change_user_role(id: String, role: Role) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let actor = Actor {
        who: &who,
        address: &address,
    };
    let done = users::change_role(&state, &actor, &id, role).await;
    answer(done, FormNotice::RoleChanged)
}

/// Disables the account `id`: it is signed out at its next request and cannot sign in.
/// Refused for your own account and for the last enabled admin.
#[server(endpoint = "users/disable")]
pub async fn disable_user(id: String) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let actor = Actor {
        who: &who,
        address: &address,
    };
    let done = users::set_disabled(&state, &actor, &id, true).await;
    answer(done, FormNotice::UserDisabled)
}

/// Enables the account `id` again.
#[server(endpoint = "users/enable")]
pub async fn enable_user(id: String) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let actor = Actor {
        who: &who,
        address: &address,
    };
    let done = users::set_disabled(&state, &actor, &id, false).await;
    answer(done, FormNotice::UserEnabled)
}

/// Sets a new password for the account `id` (at least 12 characters); all its sessions end.
/// Refused for your own account (use your account page).
#[server(endpoint = "users/password")]
pub async fn set_user_password(id: String, password: String) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let actor = Actor {
        who: &who,
        address: &address,
    };
    let password = secrecy::SecretString::from(password);
    let done = users::set_password(&state, &actor, &id, password).await;
    answer(done, FormNotice::PasswordSet)
}

/// Deletes the account `id`. Refused for your own account and for the last enabled admin.
#[server(endpoint = "users/delete")]
pub async fn delete_user(id: String) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let actor = Actor {
        who: &who,
        address: &address,
    };
    let done = users::delete(&state, &actor, &id).await;
    answer(done, FormNotice::UserDeleted)
}

/// Your own account (any signed-in person): how you sign in.
#[server(endpoint = "account/summary")]
pub async fn own_account() -> Result<UserSummary, ApiError> {
    let (state, who) = authorize(Role::Reader).await?;
    users::own(&state, &who).await.map_err(fail)
}

/// Changes your own password (any signed-in person). Refused, naming the field, when the
/// current password is not right (counted like a failed sign-in), the new one is shorter than
/// 12 characters or the same, or the confirmation differs. Your other sessions are signed out.
#[server(endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    password: String,
    confirm_password: String,
) -> Result<(), ApiError> {
    use secrecy::SecretString;
    let (state, who) = authorize(Role::Reader).await?;
    let session = super::session().await?;
    let address = client_address().await;
    let actor = Actor {
        who: &who,
        address: &address,
    };
    let change = users::PasswordChange {
        current: SecretString::from(current_password),
        new: SecretString::from(password),
        confirmation: SecretString::from(confirm_password),
    };
    let done = users::change_own_password(&state, &session, &actor, change).await;
    answer_at(
        crate::app::paths::ACCOUNT,
        done,
        FormNotice::PasswordChanged,
    )
}

/// The answer to a change of the users page (see [`answer_at`]).
#[cfg(feature = "ssr")]
fn answer(done: Result<(), UserError>, success: FormNotice) -> Result<(), ApiError> {
    answer_at(crate::app::paths::USERS, done, success)
}

/// The answer to a change: for a plain form post a redirect to `page` with `success` or the
/// refusal's notice (the 302 stands in for the error status), else the result.
#[cfg(feature = "ssr")]
fn answer_at(page: &str, done: Result<(), UserError>, success: FormNotice) -> Result<(), ApiError> {
    use crate::server::error::AppError;
    if !is_form_post() {
        return done.map_err(|e| fail(e.into()));
    }
    let notice = done.as_ref().err().map_or(success, UserError::notice);
    leptos_axum::redirect(&format!("{page}?notice={}", notice.as_str()));
    done.map_err(|e| ApiError::from(AppError::from(e)))
}
