//! The `audit_log` table: append-only (the database refuses updates and deletes).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::model::{AuditAction, AuditEntry, AuditFilter, AuditResult};

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
    pub request_id: Option<String>,
}

/// Appends `e`.
pub(crate) async fn append(pool: &SqlitePool, e: &NewEntry) -> Result<(), sqlx::Error> {
    insert(e).execute(pool).await?;
    Ok(())
}

/// Notes an Exchange write about to be sent (`e` as it will be audited): its journal id.
pub(crate) async fn journal_write(pool: &SqlitePool, e: &NewEntry) -> Result<i64, sqlx::Error> {
    with_write(
        "INSERT INTO exchange_write_journal (at, actor, source_address, action, target, cmdlet, \
             parameters) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        e,
    )
    .fetch_one(pool)
    .await?
    .try_get(0)
}

/// Appends `e`, the answer to the journaled write `journal`, and closes that write: both or
/// neither.
pub(crate) async fn append_answer(
    pool: &SqlitePool,
    journal: i64,
    e: &NewEntry,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    insert(e).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM exchange_write_journal WHERE id = ?1")
        .bind(journal)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Audits every journaled write left open (the server stopped before its answer was recorded)
/// as `result` with `detail`, and closes them. Returns how many there were.
pub(crate) async fn settle_journal(
    pool: &SqlitePool,
    result: &'static str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let moved = sqlx::query(
        "INSERT INTO audit_log (at, actor, source_address, action, target, cmdlet, parameters, \
             result, detail) \
         SELECT ?1, actor, source_address, action, target, cmdlet, parameters, ?2, \
                ?3 || ' (sent at ' || at || ')' \
           FROM exchange_write_journal ORDER BY id",
    )
    .bind(now)
    .bind(result)
    .bind(detail)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM exchange_write_journal")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(moved)
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// `sql` with what `e` says of the write bound as ?1 to ?7: at, actor, source address, action,
/// target, cmdlet, parameters (the columns the audit log and the journal share).
fn with_write<'q>(sql: &'q str, e: &'q NewEntry) -> Query<'q> {
    sqlx::query(sql)
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.source_address)
        .bind(e.action)
        .bind(&e.target)
        .bind(&e.cmdlet)
        .bind(&e.parameters)
}

fn insert(e: &NewEntry) -> Query<'_> {
    with_write(
        "INSERT INTO audit_log (at, actor, source_address, action, target, cmdlet, parameters, \
             result, detail, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        e,
    )
    .bind(e.result)
    .bind(&e.detail)
    .bind(&e.request_id)
}

const COLUMNS: &str = "id, at, CAST(at AS TEXT) AS at_key, actor, source_address, action, \
    target, cmdlet, parameters, result, detail, request_id";

/// Entries matching `filter`, newest first (`at`, then `id`), after the keyset position
/// `after` (`at` as stored, `id`); at most `limit`. Each entry comes with its `at` as stored.
/// `actor` matches any part of the actor, ignoring the case of ASCII letters; `from` and `to`
/// are whole days in UTC, both included.
pub(crate) async fn list(
    pool: &SqlitePool,
    filter: &AuditFilter,
    after: Option<(&str, i64)>,
    limit: Option<u32>,
) -> Result<Vec<(AuditEntry, String)>, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1"));
    if let Some(a) = filter.action {
        q.push(" AND action = ").push_bind(a.as_str());
    }
    if let Some(r) = filter.result {
        q.push(" AND result = ").push_bind(r.as_str());
    }
    if let Some(actor) = filter
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        q.push(" AND actor LIKE ")
            .push_bind(format!("%{}%", like_escape(actor)))
            .push(" ESCAPE '\\'");
    }
    // Times are stored as RFC 3339 in UTC, so they compare as text.
    if let Some(from) = filter.from {
        q.push(" AND at >= ").push_bind(day_start(from));
    }
    if let Some(after_to) = filter.to.and_then(|d| d.succ_opt()) {
        q.push(" AND at < ").push_bind(day_start(after_to));
    }
    if let Some((at, id)) = after {
        q.push(" AND (at, id) < (")
            .push_bind(at.to_owned())
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY at DESC, id DESC");
    if let Some(limit) = limit {
        q.push(" LIMIT ").push_bind(i64::from(limit));
    }
    let rows = q.build().fetch_all(pool).await?;
    rows.iter()
        .map(|r| Ok((read_entry(r)?, r.try_get::<String, _>("at_key")?)))
        .collect()
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// `text` as a LIKE pattern that matches only itself (escape character `\`).
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn read_entry(r: &SqliteRow) -> Result<AuditEntry, sqlx::Error> {
    // Only this build's names are ever written; anything else is a damaged row, not a guess.
    let unknown = |column: &str, value: &str| {
        sqlx::Error::Decode(format!("unknown audit_log.{column} {value:?}").into())
    };
    let action: String = r.try_get("action")?;
    let result: String = r.try_get("result")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        source_address: r.try_get("source_address")?,
        action: AuditAction::parse(&action).ok_or_else(|| unknown("action", &action))?,
        target: r.try_get("target")?,
        cmdlet: r.try_get("cmdlet")?,
        parameters: r.try_get("parameters")?,
        result: AuditResult::parse(&result).ok_or_else(|| unknown("result", &result))?,
        detail: r.try_get("detail")?,
        request_id: r.try_get("request_id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_an_actor_filter_match_only_themselves() {
        assert_eq!(like_escape("admin@contoso"), "admin@contoso");
        assert_eq!(like_escape("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn a_day_starts_at_midnight_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date");
        assert_eq!(day_start(day).to_rfc3339(), "2026-11-24T00:00:00+00:00");
    }
}
