//! The `api_tokens` table: people's bearer tokens for `/api/v1`, kept as hashes.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqlitePool};

/// A stored token with its owner (as the lists show it).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub(crate) struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub owner_email: String,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token found by its hash, with what decides whether it may be used now.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub(crate) struct Holder {
    pub id: String,
    pub name: String,
    /// The token's role (its owner's role may since have been lowered).
    pub role: String,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub user_role: String,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A new token's row.
pub(crate) struct NewToken<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub token_hash: &'a str,
    pub prefix: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const COLUMNS: &str = "t.id, t.user_id, u.email AS owner_email, t.name, t.role, t.prefix, \
     t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

pub(crate) async fn insert(pool: &SqlitePool, token: &NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, role, token_hash, prefix, created_at, \
         expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(token.id)
    .bind(token.user_id)
    .bind(token.name)
    .bind(token.role)
    .bind(token.token_hash)
    .bind(token.prefix)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// How many tokens `user_id` has that are neither revoked nor expired at `now`.
pub(crate) async fn count_live(
    pool: &SqlitePool,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_tokens WHERE user_id = ?1 AND revoked_at IS NULL \
         AND expires_at > ?2",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(pool)
    .await
}

/// The tokens of `user_id` (every person's when `None`), newest first.
pub(crate) async fn list(
    pool: &SqlitePool,
    user_id: Option<&str>,
) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens AS t JOIN users AS u ON u.id = t.user_id \
         WHERE ?1 IS NULL OR t.user_id = ?1 ORDER BY t.created_at DESC, t.id"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// The token `id`, if it exists.
pub(crate) async fn by_id(pool: &SqlitePool, id: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens AS t JOIN users AS u ON u.id = t.user_id \
         WHERE t.id = ?1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The token whose hash is `token_hash`, with its owner.
pub(crate) async fn by_hash(
    pool: &SqlitePool,
    token_hash: &str,
) -> Result<Option<Holder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, t.name, t.role, t.expires_at, t.last_used_at, t.revoked_at, \
         u.id AS user_id, u.email, u.display_name, u.role AS user_role, u.disabled_at \
         FROM api_tokens AS t JOIN users AS u ON u.id = t.user_id WHERE t.token_hash = ?1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// Revokes `id` at `now` (a revoked token stays revoked). Whether it was live before.
pub(crate) async fn revoke(
    pool: &SqlitePool,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a use of `id` at `now`.
pub(crate) async fn used(
    pool: &SqlitePool,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}
