//! The `webhooks`, `webhook_deliveries` and `alert_state` tables: alert destinations, the
//! queue of deliveries, and the last state seen of each watched fact.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteConnection, SqlitePool};

use super::connectors::Sealed;

/// A destination as stored (its address and key still sealed).
#[derive(Clone, Debug, FromRow)]
pub(crate) struct WebhookRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub url_nonce: Vec<u8>,
    pub url_ciphertext: Vec<u8>,
    pub url_hint: String,
    pub key_nonce: Option<Vec<u8>>,
    pub key_ciphertext: Option<Vec<u8>>,
    pub events: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl WebhookRow {
    pub(crate) fn url(&self) -> Sealed {
        Sealed {
            nonce: self.url_nonce.clone(),
            ciphertext: self.url_ciphertext.clone(),
        }
    }

    pub(crate) fn key(&self) -> Option<Sealed> {
        Some(Sealed {
            nonce: self.key_nonce.clone()?,
            ciphertext: self.key_ciphertext.clone()?,
        })
    }
}

/// A delivery with its destination's name.
#[derive(Clone, Debug, FromRow)]
pub(crate) struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub webhook_name: String,
    pub event: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

pub(crate) async fn insert(pool: &SqlitePool, row: &WebhookRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhooks (id, name, kind, url_nonce, url_ciphertext, url_hint, key_nonce, \
         key_ciphertext, events, created_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.kind)
    .bind(&row.url_nonce)
    .bind(&row.url_ciphertext)
    .bind(&row.url_hint)
    .bind(&row.key_nonce)
    .bind(&row.key_ciphertext)
    .bind(&row.events)
    .bind(&row.created_by)
    .bind(row.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every destination, oldest first.
pub(crate) async fn all(pool: &SqlitePool) -> Result<Vec<WebhookRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM webhooks ORDER BY created_at, id")
        .fetch_all(pool)
        .await
}

pub(crate) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<WebhookRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM webhooks WHERE id = ?1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub(crate) async fn count(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhooks")
        .fetch_one(pool)
        .await
}

/// Sets the events the destination `id` hears; whether it exists.
pub(crate) async fn set_events(
    pool: &SqlitePool,
    id: &str,
    events: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE webhooks SET events = ?2 WHERE id = ?1")
        .bind(id)
        .bind(events)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the destination `id` and its deliveries; whether it existed.
pub(crate) async fn delete(pool: &SqlitePool, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = ?1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A delivery to queue: `payload` for the destination `webhook_id`, made at `now`, first
/// due at `due`.
pub(crate) struct Queued<'a> {
    pub id: &'a str,
    pub webhook_id: &'a str,
    pub event: &'a str,
    pub payload: &'a str,
    pub now: DateTime<Utc>,
    pub due: DateTime<Utc>,
}

pub(crate) async fn enqueue(
    conn: &mut SqliteConnection,
    q: &Queued<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, created_at, status, \
         next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
    )
    .bind(q.id)
    .bind(q.webhook_id)
    .bind(q.event)
    .bind(q.payload)
    .bind(q.now)
    .bind(q.due)
    .execute(conn)
    .await?;
    Ok(())
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, w.name AS webhook_name, d.event, d.payload, \
     d.created_at, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status, \
     d.last_error";

/// Pending deliveries due at `now`, oldest first, at most `limit`.
pub(crate) async fn due(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 \
         ORDER BY d.next_attempt_at, d.id LIMIT ?2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// When the next pending delivery is due, if any is.
pub(crate) async fn next_due(pool: &SqlitePool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT next_attempt_at FROM webhook_deliveries WHERE status = 'pending' \
         ORDER BY next_attempt_at LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// The latest deliveries, newest first.
pub(crate) async fn recent(pool: &SqlitePool, limit: i64) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         ORDER BY d.created_at DESC, d.id DESC LIMIT ?1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The delivery `id` with its destination's name.
pub(crate) async fn recent_by_id(
    pool: &SqlitePool,
    id: &str,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.id = ?1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Takes the pending delivery `id` for one attempt: it is not due again before `until` (so
/// that no other attempt sends it meanwhile; if the server stops during the attempt, it is
/// sent again then). Whether it was taken.
pub(crate) async fn claim(
    pool: &SqlitePool,
    id: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = ?3 \
         WHERE id = ?1 AND status = 'pending' AND next_attempt_at <= ?2",
    )
    .bind(id)
    .bind(now)
    .bind(until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes the failed delivery `id` for one more attempt (sent again by hand): pending, not due
/// before `until` (the attempt's lease). Whether it was failed and is now taken.
pub(crate) async fn retake(
    pool: &SqlitePool,
    id: &str,
    until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?2 \
         WHERE id = ?1 AND status = 'failed'",
    )
    .bind(id)
    .bind(until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An attempt's outcome: `status` is the new state (`pending` with `next` for a retry).
pub(crate) struct Attempted<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub at: DateTime<Utc>,
    pub next: Option<DateTime<Utc>>,
    pub http_status: Option<u16>,
    pub error: Option<&'a str>,
}

pub(crate) async fn attempted(pool: &SqlitePool, a: &Attempted<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = ?2, attempts = attempts + 1, last_attempt_at = ?3, \
         next_attempt_at = ?4, last_status = ?5, last_error = ?6 WHERE id = ?1",
    )
    .bind(a.id)
    .bind(a.status)
    .bind(a.at)
    .bind(a.next)
    .bind(a.http_status.map(i64::from))
    .bind(a.error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes finished deliveries created before `before` (the list keeps 30 days).
pub(crate) async fn prune(pool: &SqlitePool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ?1")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// The last value seen of the watched fact `key`.
pub(crate) async fn state(pool: &SqlitePool, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM alert_state WHERE key = ?1")
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// Keeps `value` as the last value seen of `key`.
pub(crate) async fn set_state(
    conn: &mut SqliteConnection,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO alert_state (key, value, changed_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at",
    )
    .bind(key)
    .bind(value)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
