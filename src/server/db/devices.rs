//! The `devices` table. Devices that leave Exchange are marked removed, never deleted; a sync
//! writes them through `staging::merge`.

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::model::StateCount;

/// Present devices of `connector_id` counted by access state (unsorted), as of its
/// `devices_version`. Every write of the devices table is in a sync's final transaction, which
/// moves that version (`staging::merge`), so counts read at one version hold until it moves:
/// they are counted once per version and kept. Counting walks every present device (at 100,000
/// devices, tens of milliseconds), and the connector page and every live status message show
/// them. Kept by database file and connector, so two databases never share counts.
pub(crate) async fn count_by_state_at(
    pool: &SqlitePool,
    connector_id: &str,
    devices_version: i64,
) -> Result<Vec<StateCount>, sqlx::Error> {
    type Key = (std::path::PathBuf, String, i64);
    static KEPT: std::sync::Mutex<Option<(Key, Vec<StateCount>)>> = std::sync::Mutex::new(None);
    let kept = || KEPT.lock().unwrap_or_else(|p| p.into_inner());
    let key: Key = (
        pool.connect_options().get_filename().to_path_buf(),
        connector_id.to_owned(),
        devices_version,
    );
    if let Some((_, counts)) = kept().as_ref().filter(|(k, _)| *k == key) {
        return Ok(counts.clone());
    }
    let counts = count_by_state(pool, connector_id).await?;
    *kept() = Some((key, counts.clone()));
    Ok(counts)
}

/// Present devices of `connector_id` counted by access state (unsorted), read now.
async fn count_by_state(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<StateCount>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT access_state, COUNT(*) AS n FROM devices \
          WHERE connector_id = ?1 AND removed_at IS NULL GROUP BY access_state",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StateCount {
                state: row.try_get("access_state")?,
                count: u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0),
            })
        })
        .collect()
}

/// The device types the organization's device classes name (Get-ActiveSyncDeviceClass), for
/// the filter; sorted, each once.
pub(crate) async fn device_types(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT device_type FROM device_classes \
          WHERE connector_id = ?1 AND COALESCE(device_type, '') <> '' ORDER BY device_type",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await
}

/// Every column of one device (present or removed), or `None`.
pub(crate) async fn one(
    pool: &SqlitePool,
    connector_id: &str,
    guid: &str,
) -> Result<Option<sqlx::sqlite::SqliteRow>, sqlx::Error> {
    sqlx::query("SELECT * FROM devices WHERE connector_id = ?1 AND guid = ?2")
        .bind(connector_id)
        .bind(guid)
        .fetch_optional(pool)
        .await
}

/// What a device action needs to know of one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub guid: String,
    /// `<mailbox>\ExchangeActiveSyncDevices\<name>`.
    pub identity: String,
    /// The id the mailbox's allowed and blocked lists hold.
    pub device_id: String,
    pub name: String,
    pub client_version: Option<String>,
    pub access_state: String,
    pub access_state_reason: Option<String>,
    /// Get-MobileDeviceStatistics' `Status` (`DeviceWipePending`, …).
    pub sync_status: Option<String>,
    /// Get-MobileDeviceStatistics' `IsRemoteWipeSupported`.
    pub remote_wipe: Option<bool>,
    pub removed: bool,
}

/// The devices of `connector_id` among `guids` (present or removed; unknown ones are left out).
pub(crate) async fn targets(
    pool: &SqlitePool,
    connector_id: &str,
    guids: &[String],
) -> Result<Vec<Target>, sqlx::Error> {
    let mut found = Vec::with_capacity(guids.len());
    // SQLite takes 32,766 parameters; a bulk action is far below, chunks keep it so.
    for chunk in guids.chunks(900) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT guid, identity, device_id, \
                    COALESCE(NULLIF(friendly_name, ''), NULLIF(device_model, ''), device_id) AS name, \
                    client_version, access_state, access_state_reason, sync_status, \
                    is_remote_wipe_supported, \
                    removed_at IS NOT NULL AS removed \
               FROM devices WHERE connector_id = ",
        );
        q.push_bind(connector_id).push(" AND guid IN (");
        let mut list = q.separated(", ");
        for guid in chunk {
            list.push_bind(guid);
        }
        q.push(")");
        for r in q.build().fetch_all(pool).await? {
            found.push(Target {
                guid: r.try_get("guid")?,
                identity: r.try_get("identity")?,
                device_id: r.try_get("device_id")?,
                name: r.try_get("name")?,
                client_version: r.try_get("client_version")?,
                access_state: r.try_get("access_state")?,
                access_state_reason: r.try_get("access_state_reason")?,
                sync_status: r.try_get("sync_status")?,
                remote_wipe: r.try_get("is_remote_wipe_supported")?,
                removed: r.try_get("removed")?,
            });
        }
    }
    Ok(found)
}

/// The organization's default access level as the last full sync read it.
pub(crate) async fn default_access_level(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let level: Option<Option<String>> = sqlx::query_scalar(
        "SELECT default_access_level FROM exchange_settings WHERE connector_id = ?1",
    )
    .bind(connector_id)
    .fetch_optional(pool)
    .await?;
    Ok(level.flatten())
}

/// The device access rules as the last full sync read them, oldest name first:
/// (name, query string, characteristic, access level).
pub(crate) async fn rules(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(name, identity), COALESCE(query_string, ''), \
                COALESCE(characteristic, ''), COALESCE(access_level, '') \
           FROM device_access_rules WHERE connector_id = ?1 ORDER BY identity",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await
}

/// Whether `connector_id` has synced: a successful sync on record, or any device stored.
pub(crate) async fn has_synced(pool: &SqlitePool, connector_id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM connectors WHERE id = ?1 AND last_sync_at IS NOT NULL) \
             OR EXISTS (SELECT 1 FROM devices WHERE connector_id = ?1)",
    )
    .bind(connector_id)
    .fetch_one(pool)
    .await
}

/// The current connector (the one not removed) and the version of its devices, if any.
pub(crate) async fn current_version(
    pool: &SqlitePool,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, devices_version FROM connectors WHERE removed_at IS NULL \
          ORDER BY set_up_at LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// The `columns` of `connector_id`'s devices `guids` (any order; a missing one left out), as
/// one JSON array of arrays. One value per row and column, handed over one at a time, made up
/// most of an export's time; one document per batch does not. SQLite's `json_group_array` /
/// `json_array`; PostgreSQL's twin is `json_agg(json_build_array(...))`. `columns` are the
/// caller's constants, never input.
pub(crate) async fn rows_as_json(
    pool: &SqlitePool,
    connector_id: &str,
    columns: &[&'static str],
    guids: &[String],
) -> Result<String, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT json_group_array(json_array(");
    let mut listed = q.separated(", ");
    for column in columns {
        listed.push(*column);
    }
    q.push(")) FROM devices WHERE connector_id = ");
    q.push_bind(connector_id.to_owned()).push(" AND guid IN (");
    let mut list = q.separated(", ");
    for g in guids {
        list.push_bind(g.clone());
    }
    q.push(")");
    let json: Option<String> = q.build_query_scalar().fetch_one(pool).await?;
    Ok(json.unwrap_or_else(|| "[]".to_owned()))
}

/// The most frequent values of one rule characteristic among the present devices of
/// `connector_id`, with their device counts (at most `limit`, most devices first).
pub(crate) async fn value_counts(
    pool: &SqlitePool,
    connector_id: &str,
    characteristic: &str,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    // A fixed column per characteristic: nothing from the caller reaches the SQL text.
    let column = match characteristic {
        "UserAgent" => "device_user_agent",
        "DeviceOS" => "device_os",
        "DeviceModel" => "device_model",
        "DeviceType" => "device_type",
        _ => return Ok(Vec::new()),
    };
    sqlx::query_as(&format!(
        "SELECT {column}, COUNT(*) FROM devices \
          WHERE connector_id = ?1 AND removed_at IS NULL AND COALESCE({column}, '') <> '' \
          GROUP BY {column} ORDER BY COUNT(*) DESC, {column} LIMIT ?2"
    ))
    .bind(connector_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many present devices of `connector_id` report each mailbox policy applied (by the
/// policy's name, as the devices give it).
pub(crate) async fn policy_counts(
    pool: &SqlitePool,
    connector_id: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_policy_applied, COUNT(*) FROM devices \
          WHERE connector_id = ?1 AND removed_at IS NULL \
            AND COALESCE(device_policy_applied, '') <> '' \
          GROUP BY device_policy_applied",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::Db;

    /// A database whose connector `c` has `blocked` blocked devices.
    async fn store(blocked: usize) -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("counts.db").display());
        let db = Db::open(&url).await.expect("db");
        sqlx::query(
            "INSERT INTO connectors (id, status, endpoint, tenant_id, account, set_up_at, updated_at) \
             VALUES ('c', 'connected', 'e', 't', 'a', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
        )
        .execute(db.pool())
        .await
        .expect("connector");
        for i in 0..blocked {
            add(&db, &format!("g{i}"), "Blocked").await;
        }
        (dir, db)
    }

    async fn add(db: &Db, guid: &str, state: &str) {
        sqlx::query(
            "INSERT INTO devices (connector_id, guid, identity, device_id, access_state, \
                 first_seen_at, last_seen_at) \
             VALUES ('c', ?1, ?1, ?1, ?2, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
        )
        .bind(guid)
        .bind(state)
        .execute(db.pool())
        .await
        .expect("device");
    }

    async fn blocked(db: &Db, version: i64) -> u64 {
        count_by_state_at(db.pool(), "c", version)
            .await
            .expect("counts")
            .iter()
            .filter(|s| s.state == "Blocked")
            .map(|s| s.count)
            .sum()
    }

    #[tokio::test]
    async fn counts_are_read_again_when_the_devices_version_moves_and_never_shared_between_databases(
    ) {
        let (_a_dir, a) = store(2).await;
        let (_b_dir, b) = store(5).await;
        assert_eq!(blocked(&a, 0).await, 2);
        // The same connector id and version in another database: its own counts.
        assert_eq!(blocked(&b, 0).await, 5);
        assert_eq!(blocked(&a, 0).await, 2);
        // A write moves the version (as a sync's final transaction does): counted again.
        add(&a, "new", "Blocked").await;
        assert_eq!(blocked(&a, 1).await, 3);
    }
}
