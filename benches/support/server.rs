//! What the benches that run the release binaries share: child processes that end with the
//! bench, free loopback ports, the first admin, signing in, server functions, waiting for a
//! sync.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub const PASSWORD: &str = "bench password 1234";
pub const ADMIN: &str = "bench@contoso.test";

/// A child process killed when the soak ends, however it ends.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a bench's `run`; on failure prints why and exits non-zero.
pub async fn main_of(name: &str, run: impl std::future::Future<Output = Result<(), Error>>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Err(e) = run.await {
        eprintln!("{name} failed: {e}");
        std::process::exit(1);
    }
}

/// The number in the environment variable `name`, else `default`.
pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The release connector serving the built site on `port` with the database at
/// `database_url`, no sync schedule, warnings only; the caller adds what differs and spawns it.
pub fn connector(port: u16, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_exchange-connector"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LEPTOS_OUTPUT_NAME", "exchange-connector")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("LEPTOS_ENV", "PROD")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url)
        .env("SYNC_SCHEDULE", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

pub fn free_port() -> Result<u16, Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Creates the admin account [`ADMIN`] in the database at `database_url`.
pub fn create_admin(database_url: &str) -> Result<(), Error> {
    let mut admin = Command::new(env!("CARGO_BIN_EXE_exchange-connector"))
        .args(["admin", "create", "--email", ADMIN])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    admin
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(format!("{PASSWORD}\n").as_bytes())?;
    if !admin.wait()?.success() {
        return Err("admin create failed".into());
    }
    Ok(())
}

pub async fn wait_for(url: &str, within: Duration) -> Result<(), Error> {
    let deadline = Instant::now() + within;
    while reqwest::get(url)
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        if Instant::now() > deadline {
            return Err(format!("{url} did not come up").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A client signed in as [`ADMIN`] (its cookie kept).
pub async fn sign_in(base: &str) -> Result<reqwest::Client, Error> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(64)
        .build()?;
    let r = client
        .post(format!("{base}/api/auth/sign-in"))
        .header("accept", "application/json")
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await?;
    if r.status() != 200 {
        return Err(format!("sign-in: {}", r.status()).into());
    }
    Ok(client)
}

/// Calls server function `endpoint` with the form `body`: its status and body.
pub async fn post(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    body: &str,
) -> Result<(u16, String), Error> {
    let r = client
        .post(format!("{base}/api/{endpoint}"))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await?;
    Ok((r.status().as_u16(), r.text().await?))
}

/// Whether no sync runs.
pub async fn idle(client: &reqwest::Client, base: &str) -> bool {
    match post(client, base, "connector/overview", "").await {
        Ok((200, body)) => serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .is_some_and(|v| v["connector"]["syncing"] == serde_json::Value::Bool(false)),
        _ => false,
    }
}

/// Waits until no sync runs (10 minutes at most).
pub async fn wait_idle(client: &reqwest::Client, base: &str) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !idle(client, base).await {
        if Instant::now() > deadline {
            return Err("the sync did not end within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}
