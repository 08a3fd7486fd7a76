//! The real binary, killed with SIGKILL in the middle of a sync, then started again.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exchange_connector::sim::{FaultKind, FaultRule, RunningSimulator};
use sqlx::SqlitePool;

use crate::helpers::{start_sim, PASSWORD};
use crate::tenant::{dump_devices, read_db, read_tenant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the server binary against `sim`, on its own port, with the database `db_file`.
async fn spawn_server(sim: &RunningSimulator, db_file: &Path) -> (Child, String) {
    let port = free_port();
    let c = sim.config();
    let child = Command::new(env!("CARGO_BIN_EXE_exchange-connector"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LEPTOS_OUTPUT_NAME", "exchange-connector")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("LEPTOS_ENV", "PROD")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", format!("sqlite://{}", db_file.display()))
        .env("EXO_TENANT_ID", &c.tenant_id)
        .env("EXO_CLIENT_ID", &c.client_id)
        .env("EXO_CLIENT_SECRET", &c.client_secret)
        .env("EXO_ADMIN_API_URL", sim.admin_api_url())
        .env("EXO_AUTHORITY_URL", sim.authority_url())
        .env("EXO_PAGE_SIZE", "50")
        .env("SYNC_SCHEDULE", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

/// Creates the admin with the binary's own command line, the way an operator does:
/// `echo "$PASSWORD" | exchange-connector admin create --email ...`.
fn create_admin(db_file: &Path) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_exchange-connector"))
        .args(["admin", "create", "--email", ADMIN])
        .env("DATABASE_URL", format!("sqlite://{}", db_file.display()))
        .env("EXO_TENANT_ID", "contoso.onmicrosoft.com")
        .env("EXO_CLIENT_ID", "00000000-0000-0000-0000-000000000001")
        .env("EXO_CLIENT_SECRET", "unused")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password written");
    let out = child.wait_with_output().expect("the command ends");
    assert!(
        out.status.success(),
        "admin create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(ADMIN));
}

const ADMIN: &str = "ops@contoso.test";

/// A client signed in as the admin on the server at `base`.
async fn sign_in(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = client
        .post(format!("{base}/api/auth/sign-in"))
        .header("accept", "application/json")
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign-in answers");
    assert_eq!(r.status(), 200);
    client
}

async fn post(client: &reqwest::Client, base: &str, endpoint: &str, body: &str) -> (u16, String) {
    let r = client
        .post(format!("{base}/api/{endpoint}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers");
    (r.status().as_u16(), r.text().await.expect("body"))
}

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
