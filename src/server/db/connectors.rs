//! The `connectors` table: one row per Exchange organization the product connects to.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::devices;
use super::sync_runs::{self, Ended};
use crate::model::{ConnectionStatus, ConnectorInfo, Health, HealthThresholds, IdentityMode};

/// A secret as stored: AES-256-GCM ciphertext and its nonce (see `auth::crypto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// What set-up knows before it has talked to Exchange.
pub(crate) struct NewConnector<'a> {
    pub id: &'a str,
    pub endpoint: &'a str,
    pub tenant_id: &'a str,
    pub account: &'a str,
    pub set_up_by: Option<&'a str>,
    pub mode: IdentityMode,
    pub now: DateTime<Utc>,
}

/// The connector's columns, named apart from a run's (see [`current_with_last_ended`]).
const COLUMNS: &str = "c.id AS c_id, c.status AS c_status, c.status_reason AS c_status_reason, \
    c.endpoint AS c_endpoint, c.tenant_id AS c_tenant_id, c.organization AS c_organization, \
    c.account AS c_account, c.connector_type AS c_connector_type, c.set_up_at AS c_set_up_at, \
    c.last_sync_at AS c_last_sync_at, c.set_up_by AS c_set_up_by, c.auth_mode AS c_auth_mode, \
    c.devices_version AS c_devices_version";

/// The connector in use, as a table `c` of at most one row.
const CURRENT: &str =
    "SELECT * FROM connectors WHERE removed_at IS NULL ORDER BY set_up_at LIMIT 1";

/// The connector (there is at most one until the tenants page arrives), with its present
/// devices counted by access state (unsorted) and in all.
pub(crate) async fn current(pool: &SqlitePool) -> Result<Option<ConnectorInfo>, sqlx::Error> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("WITH c AS ({CURRENT}) SELECT {COLUMNS} FROM c"));
    let row = sqlx::query(&SQL).fetch_optional(pool).await?;
    match row {
        Some(row) => read(pool, &row).await.map(Some),
        None => Ok(None),
    }
}

/// [`current`] and its latest run that ended on its own (`sync_runs::latest_ended`), read in
/// one query: the connector page and the live status read both each time.
pub(crate) async fn current_with_last_ended(
    pool: &SqlitePool,
) -> Result<Option<(ConnectorInfo, Option<Ended>)>, sqlx::Error> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH c AS ({CURRENT}) SELECT {COLUMNS}, r.* FROM c LEFT JOIN ({}) r",
            sync_runs::latest_ended("(SELECT id FROM c)")
        )
    });
    let row = sqlx::query(&SQL).fetch_optional(pool).await?;
    let Some(row) = row else { return Ok(None) };
    let connector = read(pool, &row).await?;
    let ended = match row.try_get::<Option<String>, _>("id")? {
        Some(_) => Some(sync_runs::read_ended(&row)?),
        None => None,
    };
    Ok(Some((connector, ended)))
}

/// A connector read with [`COLUMNS`].
async fn read(pool: &SqlitePool, row: &SqliteRow) -> Result<ConnectorInfo, sqlx::Error> {
    let id: String = row.try_get("c_id")?;
    let status: String = row.try_get("c_status")?;
    let device_states =
        devices::count_by_state_at(pool, &id, row.try_get("c_devices_version")?).await?;
    let last_sync_at: Option<DateTime<Utc>> = row.try_get("c_last_sync_at")?;
    Ok(ConnectorInfo {
        id,
        // A value this build does not know reads as disconnected rather than failing the page.
        status: ConnectionStatus::parse(&status).unwrap_or(ConnectionStatus::Disconnected),
        status_reason: row.try_get("c_status_reason")?,
        endpoint: row.try_get("c_endpoint")?,
        tenant_id: row.try_get("c_tenant_id")?,
        organization: row.try_get("c_organization")?,
        account: row.try_get("c_account")?,
        connector_type: row.try_get("c_connector_type")?,
        set_up_at: row.try_get("c_set_up_at")?,
        last_sync_at,
        device_count: device_states.iter().map(|s| s.count).sum(),
        device_states,
        health: Health::at(last_sync_at, Utc::now(), HealthThresholds::default()),
        health_cause: None,
        syncing: false,
        set_up_by: row.try_get("c_set_up_by")?,
        mode: match row.try_get::<String, _>("c_auth_mode")?.as_str() {
            "delegated" => IdentityMode::Delegated,
            _ => IdentityMode::App,
        },
    })
}

/// Records a set-up in progress: a new connector, or an existing one being set up again.
pub(crate) async fn begin_setup(
    conn: &mut SqliteConnection,
    new: &NewConnector<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO connectors (id, status, status_reason, endpoint, tenant_id, account, \
                                 set_up_at, updated_at, set_up_by, auth_mode) \
         VALUES (?1, 'connectionPending', NULL, ?2, ?3, ?4, ?5, ?5, ?6, ?7) \
         ON CONFLICT (id) DO UPDATE SET status = 'connectionPending', status_reason = NULL, \
             endpoint = excluded.endpoint, tenant_id = excluded.tenant_id, \
             account = excluded.account, set_up_at = excluded.set_up_at, \
             updated_at = excluded.updated_at, set_up_by = excluded.set_up_by, \
             auth_mode = excluded.auth_mode",
    )
    .bind(new.id)
    .bind(new.endpoint)
    .bind(new.tenant_id)
    .bind(new.account)
    .bind(new.now)
    .bind(new.set_up_by)
    .bind(new.mode.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the connector connected after a sync that reached Exchange; `synced_at` (a fully
/// successful sync) moves the last successful sync time, `None` (a partial one) keeps it.
pub(crate) async fn mark_synced(
    conn: &mut SqliteConnection,
    id: &str,
    organization: Option<&str>,
    synced_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connectors SET status = 'connected', status_reason = NULL, \
             organization = COALESCE(?2, organization), \
             last_sync_at = COALESCE(?3, last_sync_at), updated_at = ?4 \
         WHERE id = ?1",
    )
    .bind(id)
    .bind(organization)
    .bind(synced_at)
    .bind(Utc::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Since when a mass removal of `id`'s devices is held (see `SYNC_MAX_REMOVAL_PERCENT`).
pub(crate) async fn removal_hold(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let held: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("SELECT removal_held_at FROM connectors WHERE id = ?1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(held.flatten())
}

/// Holds a mass removal of `id`'s devices since `since`, or (`None`) lifts the hold.
pub(crate) async fn set_removal_hold(
    conn: &mut SqliteConnection,
    id: &str,
    since: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connectors SET removal_held_at = ?2 \
         WHERE id = ?1 AND removal_held_at IS NOT ?2",
    )
    .bind(id)
    .bind(since)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the optional cmdlets `id`'s identity may not run (the pre-flight's finding).
pub(crate) async fn set_denied_optional(
    conn: &mut SqliteConnection,
    id: &str,
    denied: &[&str],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE connectors SET denied_optional = ?2 WHERE id = ?1")
        .bind(id)
        .bind(denied.join(","))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds `cmdlet` to the optional cmdlets `id`'s identity may not run (Exchange refused it).
pub(crate) async fn add_denied_optional(
    pool: &SqlitePool,
    id: &str,
    cmdlet: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connectors SET denied_optional = CASE WHEN denied_optional = '' THEN ?2 \
             ELSE denied_optional || ',' || ?2 END \
         WHERE id = ?1 AND instr(',' || denied_optional || ',', ',' || ?2 || ',') = 0",
    )
    .bind(id)
    .bind(cmdlet)
    .execute(pool)
    .await?;
    Ok(())
}

/// The optional cmdlets `id`'s identity may not run, as far as the connector knows.
pub(crate) async fn denied_optional(
    pool: &SqlitePool,
    id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let denied: Option<String> =
        sqlx::query_scalar("SELECT denied_optional FROM connectors WHERE id = ?1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(denied
        .unwrap_or_default()
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Marks the connector disconnected with a plain-language reason.
pub(crate) async fn mark_disconnected(
    conn: &mut SqliteConnection,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connectors SET status = 'disconnected', status_reason = ?2, updated_at = ?3 \
         WHERE id = ?1",
    )
    .bind(id)
    .bind(reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// At start-up: a set-up still pending was cut off by a stop of the server.
pub(crate) async fn fail_interrupted_setups(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE connectors SET status = 'disconnected', \
             status_reason = 'Set-up was interrupted because the connector server stopped. Set it up again.', \
             updated_at = ?1 \
         WHERE status = 'connectionPending'",
    )
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// The name of the stored delegated refresh token.
pub(crate) const REFRESH_TOKEN: &str = "refresh_token";

/// Stores (replacing) a sealed secret of `connector_id`.
pub(crate) async fn put_secret(
    conn: &mut SqliteConnection,
    connector_id: &str,
    name: &str,
    sealed: &Sealed,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO connector_secrets (connector_id, name, nonce, ciphertext, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (connector_id, name) DO UPDATE SET nonce = excluded.nonce, \
             ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
    )
    .bind(connector_id)
    .bind(name)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A sealed secret of `connector_id`, if stored.
pub(crate) async fn secret(
    pool: &SqlitePool,
    connector_id: &str,
    name: &str,
) -> Result<Option<Sealed>, sqlx::Error> {
    let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT nonce, ciphertext FROM connector_secrets WHERE connector_id = ?1 AND name = ?2",
    )
    .bind(connector_id)
    .bind(name)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(nonce, ciphertext)| Sealed { nonce, ciphertext }))
}

/// When the secret `name` of `connector_id` was last stored (a refresh token: last renewed).
pub(crate) async fn secret_updated_at(
    pool: &SqlitePool,
    connector_id: &str,
    name: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT updated_at FROM connector_secrets WHERE connector_id = ?1 AND name = ?2",
    )
    .bind(connector_id)
    .bind(name)
    .fetch_optional(pool)
    .await
}

/// Deletes every secret of `connector_id`.
pub(crate) async fn wipe_secrets(
    conn: &mut SqliteConnection,
    connector_id: &str,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM connector_secrets WHERE connector_id = ?1")
            .bind(connector_id)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Deletes the connector and, through the foreign keys, its devices, configuration, sync runs
/// and secrets.
pub(crate) async fn delete(
    conn: &mut SqliteConnection,
    connector_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM connectors WHERE id = ?1")
        .bind(connector_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the connector removed (its rows are kept): it is no longer the current connector.
pub(crate) async fn mark_removed(
    conn: &mut SqliteConnection,
    id: &str,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connectors SET status = 'disconnected', \
             status_reason = 'The connector was removed; its sync history and devices were kept.', \
             removed_at = ?2, removed_by = ?3, updated_at = ?2 WHERE id = ?1",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SyncStatus;
    use crate::server::db::Db;

    async fn exec(db: &Db, sql: &str) {
        sqlx::query(sql).execute(db.pool()).await.expect(sql);
    }

    async fn run(db: &Db, connector: &str, id: &str, status: &str, second: u32) {
        exec(
            db,
            &format!(
                "INSERT INTO sync_runs (id, connector_id, kind, trigger, status, started_at, \
                     error_status, error_cmdlet) \
                 VALUES ('{id}', '{connector}', 'fullSync', 'manual', '{status}', \
                     '2026-01-01T00:00:{second:02}+00:00', 403, 'Get-MobileDevice')"
            ),
        )
        .await;
    }

    /// What the connector page reads in one query is what the two separate reads give.
    #[tokio::test]
    async fn the_connector_comes_with_its_latest_run_that_ended_on_its_own() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let db = Db::open(&url).await.expect("db");
        let pool = db.pool();
        assert!(current_with_last_ended(pool).await.expect("read").is_none());

        for (id, set_up, removed) in [
            ("old", "00", "'2026-01-01T00:00:30+00:00'"),
            ("c", "01", "NULL"),
        ] {
            exec(
                &db,
                &format!(
                    "INSERT INTO connectors (id, status, endpoint, tenant_id, account, set_up_at, \
                         updated_at, removed_at) \
                     VALUES ('{id}', 'connected', 'e', 't', 'a', '2026-01-01T00:00:{set_up}+00:00', \
                         '2026-01-01T00:00:00+00:00', {removed})"
                ),
            )
            .await;
        }
        let (connector, ended) = current_with_last_ended(pool)
            .await
            .expect("read")
            .expect("c");
        assert_eq!(connector.id, "c");
        assert!(ended.is_none(), "no run yet");

        run(&db, "c", "failed", "failed", 1).await;
        run(&db, "c", "partial", "partial", 2).await;
        // Later, but not ended on their own, or of another connector.
        run(&db, "c", "interrupted", "interrupted", 3).await;
        run(&db, "c", "running", "running", 4).await;
        run(&db, "old", "other", "succeeded", 5).await;

        let (connector, ended) = current_with_last_ended(pool)
            .await
            .expect("read")
            .expect("c");
        let ended = ended.expect("an ended run");
        assert_eq!(ended.run.id, "partial");
        assert_eq!(ended.run.status, SyncStatus::Partial);
        assert_eq!(ended.error_status, Some(403));
        assert_eq!(ended.error_cmdlet.as_deref(), Some("Get-MobileDevice"));
        // The run query on its own, for the connector by its id.
        let alone = sqlx::query(&sync_runs::latest_ended("?1"))
            .bind("c")
            .fetch_one(pool)
            .await
            .expect("read");
        assert_eq!(ended.run, sync_runs::read_ended(&alone).expect("run").run);
        assert_eq!(Some(connector), current(pool).await.expect("read"));
    }
}
