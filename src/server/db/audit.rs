//! The `audit_log` table: append-only (the database refuses updates and deletes).

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

/// One entry to append.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NewEntry {
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub source_address: Option<String>,
    pub action: &'static str,
    pub target: Option<String>,
    pub cmdlet: Option<String>,
    /// JSON text.
    pub parameters: Option<String>,
    pub result: &'static str,
    pub detail: Option<String>,
}

/// Appends `e`.
pub(crate) async fn append(pool: &SqlitePool, e: &NewEntry) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, source_address, action, target, cmdlet, parameters, \
             result, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(e.at)
    .bind(&e.actor)
    .bind(&e.source_address)
    .bind(e.action)
    .bind(&e.target)
    .bind(&e.cmdlet)
    .bind(&e.parameters)
    .bind(e.result)
    .bind(&e.detail)
    .execute(pool)
    .await?;
    Ok(())
}
