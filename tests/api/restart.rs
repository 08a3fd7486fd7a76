//! The real binary, killed with SIGKILL in the middle of a sync, then started again.

use std::path::Path;
use std::time::{Duration, Instant};

use exchange_connector::sim::{FaultKind, FaultRule};
use sqlx::SqlitePool;

use crate::binary::{create_admin, post, sign_in, spawn_server, ADMIN};
use crate::helpers::start_sim;
use crate::tenant::{dump_devices, read_db, read_tenant};

async fn count(db: &SqlitePool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.expect(sql)
}

async fn open(db_file: &Path) -> SqlitePool {
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", db_file.display()))
        .await
        .expect("database")
}

#[tokio::test]
async fn a_server_killed_mid_sync_records_the_run_interrupted_keeps_the_data_and_syncs_exactly_after_restart(
) {
    let sim = start_sim(600, 300).await;
    let dir = tempfile::tempdir().expect("dir");
    let db_file = dir.path().join("connector.db");

    create_admin(&db_file);
    let (mut first, base) = spawn_server(&sim, &db_file).await;
    let client = sign_in(&base).await;
    let (status, body) = post(&client, &base, "connector/set-up", "").await;
    assert_eq!(status, 200, "{body}");
    let db = open(&db_file).await;
    // The first sync runs in the background: wait for its end.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(
        &db,
        "SELECT COUNT(*) FROM sync_runs WHERE status = 'running'",
    )
    .await
        > 0
    {
        assert!(Instant::now() < deadline, "the first sync never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sim.state().advance(Duration::from_secs(4 * 3600));
    let before = dump_devices(&db).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM devices").await, 600);

    // A slow Exchange: the full sync takes long enough to be killed in the middle.
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 200 }));
    let statistics_before = sim.state().received("Get-MobileDeviceStatistics");
    let (status, body) = post(&client, &base, "connector/sync", "kind=fullSync").await;
    assert_eq!(status, 200, "{body}");
    let run_id: String = serde_json::from_str(&body).expect("run id");
    // Killed in the middle: the device page is read and statistics are being read.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.state().received("Get-MobileDeviceStatistics") < statistics_before + 16 {
        assert!(
            Instant::now() < deadline,
            "the sync never got to statistics"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let status: String = sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = ?1")
        .bind(&run_id)
        .fetch_one(&db)
        .await
        .expect("run");
    assert_eq!(status, "running", "killed before it could record anything");

    sim.state().faults().clear();
    let (mut second, base) = spawn_server(&sim, &db_file).await;
    // Sessions live in the database: the admin is still signed in after the restart.
    let (status, body) = post(&client, &base, "auth/me", "").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(ADMIN), "{body}");
    let (status, message): (String, Option<String>) =
        sqlx::query_as("SELECT status, error_message FROM sync_runs WHERE id = ?1")
            .bind(&run_id)
            .fetch_one(&db)
            .await
            .expect("run");
    assert_eq!(status, "interrupted");
    assert!(message.unwrap_or_default().contains("stopped"));
    assert_eq!(
        dump_devices(&db).await,
        before,
        "the previous data, exactly"
    );

    let (status, body) = post(&client, &base, "connector/sync", "kind=fullSync").await;
    assert_eq!(status, 200, "{body}");
    let next_id: String = serde_json::from_str(&body).expect("run id");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status: String = sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = ?1")
            .bind(&next_id)
            .fetch_one(&db)
            .await
            .expect("run");
        if status != "running" {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the sync after the restart never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, "succeeded");
    assert_eq!(
        read_db(&db).await,
        read_tenant(&sim).await,
        "exact after the restart"
    );
    second.kill().expect("stop");
    let _ = second.wait();
}
