//! The `users` table: who may sign in, with which role.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqlitePool};

use crate::model::Role;

/// A stored user.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub role: String,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl UserRow {
    /// The role (an unknown stored value reads as the least one).
    pub(crate) fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Reader)
    }
}

const COLUMNS: &str =
    "id, email, display_name, role, password_hash, created_at, disabled_at, last_sign_in_at";

/// The user with `email` (any case).
pub(crate) async fn by_email(
    pool: &SqlitePool,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = ?1"))
        .bind(email.trim())
        .fetch_optional(pool)
        .await
}

/// The user with `id`.
pub(crate) async fn by_id(pool: &SqlitePool, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Every user, by email.
pub(crate) async fn all(pool: &SqlitePool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY email"))
        .fetch_all(pool)
        .await
}

/// A new user; fails on a duplicate email (unique, without case).
pub(crate) async fn insert(
    pool: &SqlitePool,
    email: &str,
    display_name: Option<&str>,
    role: Role,
    password_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO users (id, email, display_name, role, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(&id)
    .bind(email.trim())
    .bind(display_name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(id)
}

/// Enabled admins.
pub(crate) async fn count_admins(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
        .fetch_one(pool)
        .await
}

/// Records a successful sign-in.
pub(crate) async fn signed_in(
    pool: &SqlitePool,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_sign_in_at = ?2 WHERE id = ?1")
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Whether `e` is the unique violation of a duplicate email.
pub(crate) fn is_duplicate(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
