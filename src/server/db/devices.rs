//! The `devices` table. Devices that leave Exchange are marked removed, never deleted; a sync
//! writes them through `staging::merge`.

use sqlx::{Row, SqlitePool};

use crate::model::StateCount;

/// Present devices of `connector_id` counted by access state (unsorted).
pub(crate) async fn count_by_state(
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
