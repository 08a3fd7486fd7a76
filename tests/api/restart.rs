//! The real binary, killed with SIGKILL in the middle of a sync, then started again, twenty
//! times in a row.

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

/// The status of run `id` once it has ended (polling the database).
async fn ended(db: &SqlitePool, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = ?1")
            .bind(id)
            .fetch_one(db)
            .await
            .expect("run");
        if status != "running" {
            return status;
        }
        assert!(Instant::now() < deadline, "run {id} never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn integrity(db: &SqlitePool) -> String {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(db)
        .await
        .expect("integrity check")
}

/// Times the server is killed in a row.
const KILLS: u64 = 20;

#[tokio::test]
async fn a_server_killed_mid_sync_twenty_times_records_each_run_interrupted_keeps_the_data_and_syncs_exactly_after(
) {
    let sim = start_sim(600, 300).await;
    let dir = tempfile::tempdir().expect("dir");
    let db_file = dir.path().join("connector.db");

    create_admin(&db_file);
    let (mut server, mut base) = spawn_server(&sim, &db_file).await;
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
    assert_eq!(count(&db, "SELECT COUNT(*) FROM devices").await, 600);

    let mut interrupted = 0;
    for kill in 0..KILLS {
        // Exchange changed meanwhile, so that each run has something to write.
        sim.state().advance(Duration::from_secs(3600));
        let before = dump_devices(&db).await;
        // A slow Exchange: the full sync takes long enough to be killed in the middle.
        sim.state()
            .faults()
            .push(FaultRule::always(FaultKind::Slow { delay_ms: 15 }));
        let statistics_before = sim.state().received("Get-MobileDeviceStatistics");
        let (status, body) = post(&client, &base, "connector/sync", "kind=fullSync").await;
        assert_eq!(status, 200, "{body}");
        let run_id: String = serde_json::from_str(&body).expect("run id");
        // Killed at a different point each time: while the device pages are read, among the
        // statistics of the (about 260) mailboxes with devices, near the end or after it.
        let point = (kill * 47) % 280;
        let deadline = Instant::now() + Duration::from_secs(30);
        while sim.state().received("Get-MobileDeviceStatistics") < statistics_before + point {
            let status: String = sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = ?1")
                .bind(&run_id)
                .fetch_one(&db)
                .await
                .expect("run");
            if status != "running" {
                break;
            }
            assert!(Instant::now() < deadline, "kill {kill}: the sync stalled");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill().expect("SIGKILL");
        server.wait().expect("reaped");
        sim.state().faults().clear();

        (server, base) = spawn_server(&sim, &db_file).await;
        assert_eq!(integrity(&db).await, "ok", "kill {kill}");
        let (status, message): (String, Option<String>) =
            sqlx::query_as("SELECT status, error_message FROM sync_runs WHERE id = ?1")
                .bind(&run_id)
                .fetch_one(&db)
                .await
                .expect("run");
        match status.as_str() {
            "interrupted" => {
                interrupted += 1;
                assert!(
                    message.unwrap_or_default().contains("stopped"),
                    "kill {kill}"
                );
                assert_eq!(
                    dump_devices(&db).await,
                    before,
                    "kill {kill}: the previous data, exactly"
                );
            }
            // The kill came after the final commit.
            "succeeded" => assert_eq!(
                read_db(&db).await,
                read_tenant(&sim).await,
                "kill {kill}: saved whole"
            ),
            other => panic!("kill {kill}: the run ended {other}"),
        }
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM sync_runs WHERE status = 'running'"
            )
            .await,
            0,
            "kill {kill}: no run left running"
        );
        // Sessions live in the database: the admin is still signed in after the restart.
        let (status, body) = post(&client, &base, "auth/me", "").await;
        assert_eq!(status, 200, "kill {kill}: {body}");
        assert!(body.contains(ADMIN), "{body}");
    }
    assert!(
        interrupted >= KILLS - 5,
        "most kills land in the middle of a run: {interrupted} of {KILLS}"
    );

    let (status, body) = post(&client, &base, "connector/sync", "kind=fullSync").await;
    assert_eq!(status, 200, "{body}");
    let next_id: String = serde_json::from_str(&body).expect("run id");
    assert_eq!(ended(&db, &next_id).await, "succeeded");
    assert_eq!(
        read_db(&db).await,
        read_tenant(&sim).await,
        "exact after the restarts"
    );
    server.kill().expect("stop");
    let _ = server.wait();
}
