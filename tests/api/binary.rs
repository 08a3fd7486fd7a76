//! The real server binary, started as a separate process against a simulator in the test: its
//! command line creates the admin, a cookie-keeping client signs in.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exchange_connector::sim::RunningSimulator;

use crate::helpers::PASSWORD;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the server binary against `sim`, on its own port, with the database `db_file`.
pub async fn spawn_server(sim: &RunningSimulator, db_file: &Path) -> (Child, String) {
    spawn_server_with(sim, db_file, &[], None).await
}

/// As [`spawn_server`], with `extra` environment and, when `log` is given, its standard output
/// and error written to that file.
pub async fn spawn_server_with(
    sim: &RunningSimulator,
    db_file: &Path,
    extra: &[(&str, &str)],
    log: Option<&Path>,
) -> (Child, String) {
    // reqwest is built without a default TLS provider (the app installs ring at start).
    let _ = rustls::crypto::ring::default_provider().install_default();
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
        .envs(extra.iter().copied())
        .stdout(output(log))
        .stderr(output(log))
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
pub fn create_admin(db_file: &Path) {
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

pub const ADMIN: &str = "ops@contoso.test";

/// A client signed in as the admin on the server at `base`.
pub async fn sign_in(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = sign_in_with(&client, base).await;
    // Read to its end: an answer dropped unread leaves its connection to be drained or closed
    // while the pool may hand it to the next request (seen once in CI as IncompleteMessage).
    let body = r.text().await.expect("the sign-in's answer");
    assert!(body.contains(ADMIN), "{body}");
    client
}

/// The admin's sign-in answer, with `client` (checked: 200).
pub async fn sign_in_with(client: &reqwest::Client, base: &str) -> reqwest::Response {
    let r = client
        .post(format!("{base}/api/auth/sign-in"))
        .header("accept", "application/json")
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign-in answers");
    assert_eq!(r.status(), 200);
    r
}

pub async fn post(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    body: &str,
) -> (u16, String) {
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

fn output(log: Option<&Path>) -> Stdio {
    match log {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Stdio::from)
            .expect("log file"),
        None => Stdio::null(),
    }
}
