//! `make bench`, sync part: full and quick syncs of the real application against the simulator
//! with 10,000 and 100,000 devices, next to the bare protocol (the same requests, answers read
//! and thrown away). The simulator runs as its own process (the `exo-sim` binary) so that the
//! peak RSS printed is the connector's alone.
//!
//! Each size is measured `BENCH_RUNS` times (default 5): bare protocol, first full sync into an
//! empty database, full sync again, then a quick sync after the simulator's clock moved an hour
//! (1 % of the devices change). A run's ratio compares its syncs with its own bare protocol;
//! the summary gives the median of the runs next to each target, because one run on a shared
//! two-core machine can be off by a fifth either way. The first run's database then serves the
//! device pages' benchmark (`support/devices.rs`; `BENCH_DEVICES=0` leaves it out).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exchange_connector::model::{SyncKind, SyncRun};
use exchange_connector::server::bench::{bare_full_protocol, BareReport};
use exchange_connector::server::config::{
    ClientSettings, Config, ExchangeSettings, ExchangeTarget, SyncSettings,
};
use exchange_connector::server::control::SyncControl;
use exchange_connector::server::Application;
use exchange_connector::sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID};
use leptos::config::LeptosOptions;
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error>;

/// Devices a page holds (the client's `odata.maxpagesize`).
const PAGE: u64 = 1000;

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
    // BENCH_SIZES=100000 measures one size only (devices; mailboxes are half as many).
    let sizes = match std::env::var("BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|n| n.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()?,
        Err(_) => vec![10_000, 100_000],
    };
    let runs = match std::env::var("BENCH_RUNS") {
        Ok(n) => n.trim().parse::<usize>()?.max(1),
        Err(_) => 5,
    };
    for devices in sizes {
        one_size(devices, devices / 2, runs).await?;
    }
    Ok(())
}

/// What one run of one size measured.
struct Measured {
    bare: BareReport,
    first: (SyncRun, Duration),
    again: (SyncRun, Duration),
    quick: (SyncRun, Duration),
    /// Devices the simulator changed before the quick sync.
    changed: usize,
    peak_rss_mb: u64,
}

async fn one_size(devices: usize, mailboxes: usize, runs: usize) -> Result<(), Error> {
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
    println!("\n-- {devices} devices over {mailboxes} mailboxes, {runs} runs --");
    let mut all = Vec::new();
    for n in 1..=runs {
        // The device pages are measured once, on the first run's database.
        let pages = n == 1 && std::env::var("BENCH_DEVICES").map_or(true, |v| v != "0");
        let m = measure(&settings, &base, &http, pages.then_some(devices as u64)).await?;
        print_run(n, &m);
        all.push(m);
    }
    summary(devices as u64, &all);
    Ok(())
}

/// One run: the bare protocol, then a new connector (empty database) that sets up, syncs in full
/// again and, once the simulator's clock has moved, quickly.
async fn measure(
    settings: &ExchangeSettings,
    base: &str,
    http: &reqwest::Client,
    device_pages: Option<u64>,
) -> Result<Measured, Error> {
    let client = ClientSettings::default();
    let sync = SyncSettings {
        schedule: false,
        ..SyncSettings::default()
    };
    let bare = bare_full_protocol(settings, &client, sync.concurrency).await?;

    let dir = tempfile::tempdir()?;
    let (control, server, app_url) =
        serve(settings, client, sync, &dir.path().join("bench.db")).await?;

    reset_peak_rss();
    let t = Instant::now();
    control.set_up().await?;
    let first = (last_run(&control).await?, t.elapsed());
    let t = Instant::now();
    let again = (control.run(SyncKind::FullSync).await?, t.elapsed());
    let moved: Value = http
        .post(format!("{base}/_sim/clock"))
        .json(&json!({"advanceSeconds": 3600}))
        .send()
        .await?
        .json()
        .await?;
    let changed = moved["report"]["changed"].as_array().map_or(0, Vec::len);
    let t = Instant::now();
    let quick = (control.run(SyncKind::DeltaSync).await?, t.elapsed());
    let peak_rss_mb = peak_rss_mb().unwrap_or(0);
    if let Some(devices) = device_pages {
        crate::devices::run(&control, &app_url, devices).await?;
    }
    control.shutdown();
    let _ = server.await;
    Ok(Measured {
        bare,
        first,
        again,
        quick,
        changed,
        peak_rss_mb,
    })
}

/// The connector against `settings` with a new database at `db`, served on a free port: its
/// control, the server task and its address.
pub async fn serve(
    settings: &ExchangeSettings,
    client: ClientSettings,
    sync: SyncSettings,
    db: &std::path::Path,
) -> Result<
    (
        SyncControl,
        tokio::task::JoinHandle<std::io::Result<()>>,
        String,
    ),
    Error,
> {
    let config = Config {
        database_url: format!("sqlite://{}", db.display()),
        exchange: ExchangeTarget::Remote(settings.clone()),
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
    let app_url = format!("http://127.0.0.1:{}", app.port());
    let control = app.control();
    let server = tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok((control, server, app_url))
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

fn print_run(n: usize, m: &Measured) {
    let b = &m.bare;
    println!(
        "run {n}: bare protocol (full) {:.2} s: {} devices, {} mailboxes with devices, calls {}",
        b.elapsed.as_secs_f64(),
        b.devices,
        b.mailboxes,
        by_cmdlet(&b.requests)
    );
    report("  full sync (set-up, empty database)", &m.first, Some(b));
    report("  full sync (again, every device known)", &m.again, Some(b));
    report(
        &format!("  quick sync ({} devices changed)", m.changed),
        &m.quick,
        None,
    );
    println!("  peak RSS of the connector: {} MB", m.peak_rss_mb);
}

fn report(what: &str, (run, wall): &(SyncRun, Duration), bare: Option<&BareReport>) {
    let secs = wall.as_secs_f64();
    let ratio = bare
        .map(|b| format!(", {:.2}x the bare protocol", secs / b.elapsed.as_secs_f64()))
        .unwrap_or_default();
    println!(
        "{what}: {:?} in {secs:.2} s ({:.0} devices/s{ratio}); seen {} added {} changed {} \
         removed {}; mailboxes {}; API calls {} ({}); retries {}; throttle waits {} ms",
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

/// The medians of the runs next to the targets (the 20 s, 2 s and RSS targets are set
/// for 100,000 devices; at other sizes they are printed for reference).
fn summary(devices: u64, all: &[Measured]) {
    let bare = median(all.iter().map(|m| m.bare.elapsed.as_secs_f64()));
    let first = median(all.iter().map(|m| m.first.1.as_secs_f64()));
    let again = median(all.iter().map(|m| m.again.1.as_secs_f64()));
    let quick = median(all.iter().map(|m| m.quick.1.as_secs_f64()));
    let ratio = |pick: fn(&Measured) -> Duration| {
        median(
            all.iter()
                .map(|m| pick(m).as_secs_f64() / m.bare.elapsed.as_secs_f64()),
        )
    };
    let first_ratio = ratio(|m| m.first.1);
    let again_ratio = ratio(|m| m.again.1);
    let rss = all.iter().map(|m| m.peak_rss_mb).max().unwrap_or(0);
    let spread = |values: Vec<f64>, unit: &str| {
        let each: Vec<String> = values.iter().map(|v| format!("{v:.2}{unit}")).collect();
        each.join(" / ")
    };
    let pages = devices.div_ceil(PAGE);
    let minimal = all.iter().all(|m| minimal_calls(m, pages));
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("summary, {devices} devices (median of {} runs):", all.len());
    println!("  bare protocol (full): {bare:.2} s");
    println!(
        "  full sync <= 20 s: first {first:.2} s, again {again:.2} s: {}",
        met(first.max(again) <= 20.0)
    );
    println!(
        "  first full sync <= 1.3x bare: {first_ratio:.2}x (runs {}): {}",
        spread(all.iter().map(|m| ratio_of(m.first.1, m)).collect(), "x"),
        met(first_ratio <= 1.3)
    );
    println!(
        "  full sync again <= 1.3x bare: {again_ratio:.2}x (runs {}): {}",
        spread(all.iter().map(|m| ratio_of(m.again.1, m)).collect(), "x"),
        met(again_ratio <= 1.3)
    );
    println!(
        "  quick sync, 1 % changed, <= 2 s: {quick:.2} s (runs {}): {}",
        spread(all.iter().map(|m| m.quick.1.as_secs_f64()).collect(), " s"),
        met(quick <= 2.0)
    );
    println!(
        "  peak RSS <= 150 MB: {rss} MB (highest run): {}",
        met(rss <= 150)
    );
    println!(
        "  API calls = minimum (full: {pages} pages + mailboxes with devices + 4; quick: {pages} \
         pages + mailboxes of changed devices; a retried call counts once): {}",
        met(minimal)
    );
}

fn ratio_of(wall: Duration, m: &Measured) -> f64 {
    wall.as_secs_f64() / m.bare.elapsed.as_secs_f64()
}

/// Whether every sync of `m` made the minimum of calls.
fn minimal_calls(m: &Measured, pages: u64) -> bool {
    let calls = |run: &SyncRun| run.api_calls.saturating_sub(run.retries);
    let full = |run: &SyncRun| calls(run) == pages + m.bare.mailboxes + 4;
    full(&m.first.0) && full(&m.again.0) && calls(&m.quick.0) == pages + m.quick.0.mailboxes_queried
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
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
