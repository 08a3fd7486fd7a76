//! `make bench`, sync part: full and quick syncs of the real application against the simulator
//! with 10,000 and 100,000 devices, next to the bare protocol (the same requests, answers read
//! and thrown away). The simulator runs as its own process (the `exo-sim` binary) so that the
//! peak RSS printed is the connector's alone.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exchange_connector::model::{SyncKind, SyncRun};
use exchange_connector::server::bench::bare_full_protocol;
use exchange_connector::server::config::{
    ClientSettings, Config, ExchangeSettings, ExchangeTarget, SyncSettings,
};
use exchange_connector::server::Application;
use exchange_connector::sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID};
use leptos::config::LeptosOptions;
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error>;

/// Kills the simulator process when the bench ends, however it ends.
struct SimProcess(Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run() -> Result<(), Error> {
    println!("== sync: the connector against exo-sim (separate process), pages of 1,000 ==");
    for (devices, mailboxes) in [(10_000, 5_000), (100_000, 50_000)] {
        one_size(devices, mailboxes).await?;
    }
    Ok(())
}

async fn one_size(devices: usize, mailboxes: usize) -> Result<(), Error> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    // 1 % of the devices change in one simulated hour; nothing is added or removed.
    let churn = format!("add=0,change={},remove=0", devices / 100);
    let _sim = SimProcess(
        Command::new(env!("CARGO_BIN_EXE_exo-sim"))
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--devices", &devices.to_string()])
            .args(["--mailboxes", &mailboxes.to_string()])
            .args(["--clock", "frozen", "--churn", &churn])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while http.get(format!("{base}/_sim/stats")).send().await.is_err() {
        if Instant::now() > deadline {
            return Err("exo-sim did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settings = ExchangeSettings::with_secret(
        format!("{base}/adminapi/beta").parse()?,
        base.parse()?,
        DEMO_TENANT_ID,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
    );
    let client = ClientSettings::default();
    let sync = SyncSettings {
        schedule: false,
        ..SyncSettings::default()
    };
    println!("\n-- {devices} devices over {mailboxes} mailboxes --");

    let bare = bare_full_protocol(&settings, &client, sync.concurrency).await?;
    println!(
        "bare protocol (full): {:.2} s, {} devices, {} mailboxes with devices, calls {}",
        bare.elapsed.as_secs_f64(),
        bare.devices,
        bare.mailboxes,
        by_cmdlet(&bare.requests)
    );

    let dir = tempfile::tempdir()?;
    let config = Config {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        exchange: ExchangeTarget::Remote(settings),
        client,
        sync,
        security: Default::default(),
        simulated_auth_mode: Default::default(),
    };
    let options = LeptosOptions::builder()
        .output_name("exchange-connector")
        .site_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
        .build();
    let app = Application::build(config, options).await?;
    let control = app.control();
    let server = tokio::spawn(app.run_until_stopped(std::future::pending()));

    reset_peak_rss();
    let t = Instant::now();
    control.set_up().await?;
    let first = last_run(&control).await?;
    report(
        "full sync (set-up, empty database)",
        &first,
        t.elapsed(),
        Some(&bare),
    );
    let t = Instant::now();
    let full = control.run(SyncKind::FullSync).await?;
    report(
        "full sync (again, every device known)",
        &full,
        t.elapsed(),
        Some(&bare),
    );

    let moved: Value = http
        .post(format!("{base}/_sim/clock"))
        .json(&json!({"advanceSeconds": 3600}))
        .send()
        .await?
        .json()
        .await?;
    let changed = moved["report"]["changed"].as_array().map_or(0, Vec::len);
    let t = Instant::now();
    let quick = control.run(SyncKind::DeltaSync).await?;
    report(
        &format!("quick sync ({changed} devices changed)"),
        &quick,
        t.elapsed(),
        None,
    );
    println!(
        "  expected calls: full = {} pages + {} mailboxes + 4 = {}; quick = {} pages + changed mailboxes",
        devices.div_ceil(1000),
        bare.mailboxes,
        devices.div_ceil(1000) as u64 + bare.mailboxes + 4,
        devices.div_ceil(1000)
    );
    println!(
        "peak RSS of the connector (sets-up, syncs): {} MB",
        peak_rss_mb().unwrap_or(0)
    );
    control.shutdown();
    let _ = server.await;
    Ok(())
}

async fn last_run(
    control: &exchange_connector::server::control::SyncControl,
) -> Result<SyncRun, Error> {
    let page = control
        .history(&Default::default(), None, 1)
        .await
        .map_err(|e| e.to_string())?;
    page.runs.into_iter().next().ok_or_else(|| "no run".into())
}

fn report(
    what: &str,
    run: &SyncRun,
    wall: Duration,
    bare: Option<&exchange_connector::server::bench::BareReport>,
) {
    let secs = wall.as_secs_f64();
    let ratio = bare
        .map(|b| format!(", {:.2}x the bare protocol", secs / b.elapsed.as_secs_f64()))
        .unwrap_or_default();
    println!(
        "{what}: {:?} in {secs:.2} s ({:.0} devices/s{ratio}); seen {} added {} changed {} removed {}; \
         mailboxes {}; API calls {} ({}); retries {}; throttle waits {} ms",
        run.status,
        run.devices_seen as f64 / secs,
        run.devices_seen,
        run.devices_added,
        run.devices_changed,
        run.devices_removed,
        run.mailboxes_queried,
        run.api_calls,
        run.api_calls_by_cmdlet
            .iter()
            .map(|c| format!("{} {}", c.cmdlet, c.calls))
            .collect::<Vec<_>>()
            .join(", "),
        run.retries,
        run.throttle_wait_ms,
    );
}

fn by_cmdlet(requests: &BTreeMap<String, u64>) -> String {
    let total: u64 = requests.values().sum();
    let each: Vec<String> = requests.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!("{total} ({})", each.join(", "))
}

/// Resets this process's `VmHWM` to its current RSS (Linux `clear_refs` 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `VmHWM` of this process, in MB.
pub fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
