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
    /// The OpenID subject this account is bound to (after its first single sign-on).
    pub oidc_subject: Option<String>,
    /// Raised by a password change: sessions signed in at an older epoch end.
    pub session_epoch: i64,
}

impl UserRow {
    /// The role (an unknown stored value reads as the least one).
    pub(crate) fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Reader)
    }
}

const COLUMNS: &str = "id, email, display_name, role, password_hash, created_at, disabled_at, \
     last_sign_in_at, oidc_subject, session_epoch";

/// The columns of a user row read through a join where `users` is named `alias`, under their
/// own names (for [`UserRow`]'s `FromRow`).
pub(crate) fn columns_as(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c} AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

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

/// The user bound to the OpenID subject `subject` of `issuer`.
pub(crate) async fn by_oidc_subject(
    pool: &SqlitePool,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE oidc_issuer = ?1 AND oidc_subject = ?2"
    ))
    .bind(issuer)
    .bind(subject)
    .fetch_optional(pool)
    .await
}

/// Binds `id` to an OpenID subject, unless it is bound already. Whether it was bound now.
pub(crate) async fn bind_oidc_subject(
    pool: &SqlitePool,
    id: &str,
    issuer: &str,
    subject: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET oidc_issuer = ?2, oidc_subject = ?3 \
         WHERE id = ?1 AND oidc_subject IS NULL",
    )
    .bind(id)
    .bind(issuer)
    .bind(subject)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves `id`'s binding from `old` to `new` (the same person, now known by a lasting id).
/// Whether it moved.
pub(crate) async fn rebind_oidc_subject(
    pool: &SqlitePool,
    id: &str,
    issuer: &str,
    old: &str,
    new: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET oidc_subject = ?4 \
         WHERE id = ?1 AND oidc_issuer = ?2 AND oidc_subject = ?3",
    )
    .bind(id)
    .bind(issuer)
    .bind(old)
    .bind(new)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
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

/// Stores a new password hash for `id` and raises its session epoch (its other sessions end).
/// The new epoch, or `None` when there is no such account.
pub(crate) async fn set_password(
    pool: &SqlitePool,
    id: &str,
    hash: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE users SET password_hash = ?2, session_epoch = session_epoch + 1 WHERE id = ?1 \
         RETURNING session_epoch",
    )
    .bind(id)
    .bind(hash)
    .fetch_optional(pool)
    .await
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

// The guarded changes below check "another enabled admin remains" inside the statement that
// makes the change: SQLite runs one statement at a time, so two admins demoting each other at
// once cannot both succeed.

/// True unless the row `?1` is an enabled admin and no other enabled admin exists.
const KEEPS_AN_ADMIN: &str = "(NOT (role = 'admin' AND disabled_at IS NULL) OR EXISTS \
     (SELECT 1 FROM users AS other WHERE other.role = 'admin' AND other.disabled_at IS NULL \
      AND other.id <> ?1))";

/// Sets the role of `id`, unless that would leave no enabled admin. Whether it changed.
pub(crate) async fn set_role_keeping_an_admin(
    pool: &SqlitePool,
    id: &str,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "UPDATE users SET role = ?2 WHERE id = ?1 AND (?2 = 'admin' OR {KEEPS_AN_ADMIN})"
    ))
    .bind(id)
    .bind(role.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Disables `id` at `now`, unless that would leave no enabled admin. Whether it changed. Its
/// sessions end for good: the epoch moves on, so enabling it again does not revive them.
pub(crate) async fn disable_keeping_an_admin(
    pool: &SqlitePool,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "UPDATE users SET disabled_at = ?2, session_epoch = session_epoch + 1 \
         WHERE id = ?1 AND disabled_at IS NULL AND {KEEPS_AN_ADMIN}"
    ))
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Enables `id` again. Whether it changed.
pub(crate) async fn enable(pool: &SqlitePool, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET disabled_at = NULL WHERE id = ?1 AND disabled_at IS NOT NULL",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes `id`, unless that would leave no enabled admin. Whether it was deleted.
pub(crate) async fn delete_keeping_an_admin(
    pool: &SqlitePool,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "DELETE FROM users WHERE id = ?1 AND {KEEPS_AN_ADMIN}"
    ))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::Db;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("users.db").display());
        let db = Db::open(&url).await.expect("db");
        (dir, db)
    }

    async fn user(pool: &SqlitePool, email: &str, role: Role) -> String {
        insert(pool, email, None, role, None, Utc::now())
            .await
            .expect("insert")
    }

    #[tokio::test]
    async fn the_last_enabled_admin_cannot_be_demoted_disabled_or_deleted() {
        let (_dir, db) = db().await;
        let pool = db.pool();
        let ann = user(pool, "ann@contoso.test", Role::Admin).await;
        let rob = user(pool, "rob@contoso.test", Role::Reader).await;

        assert!(!set_role_keeping_an_admin(pool, &ann, Role::Reader)
            .await
            .expect("role"));
        assert!(!disable_keeping_an_admin(pool, &ann, Utc::now())
            .await
            .expect("disable"));
        assert!(!delete_keeping_an_admin(pool, &ann).await.expect("delete"));
        assert_eq!(count_admins(pool).await.expect("count"), 1);

        // Readers are free to change; a second admin frees the first.
        assert!(disable_keeping_an_admin(pool, &rob, Utc::now())
            .await
            .expect("disable"));
        assert!(enable(pool, &rob).await.expect("enable"));
        assert!(set_role_keeping_an_admin(pool, &rob, Role::Admin)
            .await
            .expect("role"));
        assert!(set_role_keeping_an_admin(pool, &ann, Role::Reader)
            .await
            .expect("role"));
        assert!(!delete_keeping_an_admin(pool, &rob).await.expect("delete"));
        assert!(delete_keeping_an_admin(pool, &ann).await.expect("delete"));
        assert_eq!(all(pool).await.expect("all").len(), 1);
    }

    #[tokio::test]
    async fn a_disabled_admin_does_not_count_as_the_admin_that_remains() {
        let (_dir, db) = db().await;
        let pool = db.pool();
        let ann = user(pool, "ann@contoso.test", Role::Admin).await;
        let bea = user(pool, "bea@contoso.test", Role::Admin).await;
        assert!(disable_keeping_an_admin(pool, &bea, Utc::now())
            .await
            .expect("disable"));
        assert!(!set_role_keeping_an_admin(pool, &ann, Role::Reader)
            .await
            .expect("role"));
        // The disabled admin itself may go: it is not the one that keeps the door open.
        assert!(delete_keeping_an_admin(pool, &bea).await.expect("delete"));
        assert!(!enable(pool, &ann).await.expect("already enabled"));
    }
}
