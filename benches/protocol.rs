//! `make bench`. First the sync part (`support/sync.rs`: full and quick syncs of the
//! application with 10,000 and 100,000 devices next to the bare protocol; the simulator in its
//! own process, so the peak RSS is the connector's), then the faults part (`support/faults.rs`:
//! a first full sync under random 429s and 503s, and under budget pressure), then the protocol
//! part: how fast the simulator answers the admin API over loopback
//! HTTP, so that it is never the bottleneck of a sync benchmark. A 100,000-device tenant
//! (50,000 mailboxes) is paged through with 1,000-device pages, the way the client asks.
//!
//! Prints the page latency (p50 / p95 / max), devices per second, statistics latency and the
//! peak RSS of the process (simulator and client together).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use exchange_connector::sim::{self, ClockMode, SimConfig};

#[path = "support/devices.rs"]
mod devices;
#[path = "support/faults.rs"]
mod faults;
#[path = "support/sync.rs"]
mod sync;
use serde_json::{json, Value};

const DEVICES: usize = 100_000;
const MAILBOXES: usize = 50_000;
const PAGE: usize = 1000;

#[tokio::main]
async fn main() {
    // BENCH_LOG=exchange_connector=debug shows the phases of each sync.
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .init();
    }
    // reqwest is built without a default TLS provider (the app installs ring at start).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The sync part first: the protocol part builds a 100k tenant in this very process.
    if let Err(e) = sync::run().await {
        eprintln!("sync bench failed: {e}");
        std::process::exit(1);
    }
    // BENCH_FAULTS=0 leaves the faults part out.
    if std::env::var("BENCH_FAULTS").map_or(true, |v| v != "0") {
        if let Err(e) = faults::run().await {
            eprintln!("faults bench failed: {e}");
            std::process::exit(1);
        }
    }
    // BENCH_PROTOCOL=0 leaves the protocol part out.
    if std::env::var("BENCH_PROTOCOL").is_ok_and(|v| v == "0") {
        return;
    }
    println!("\n== protocol: the simulator's admin API over loopback ==");
    if let Err(e) = run().await {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // reqwest is built without a default TLS provider (the app installs ring at start).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let built = Instant::now();
    let sim = sim::start(
        SimConfig {
            devices: DEVICES,
            mailboxes: MAILBOXES,
            clock: ClockMode::Frozen,
            ..SimConfig::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    println!(
        "simulator: {} devices over {} mailboxes generated and listening in {:.2} s",
        sim.device_count(),
        MAILBOXES,
        built.elapsed().as_secs_f64()
    );
    let http = reqwest::Client::new();
    let c = sim.config();
    let bearer = format!("Bearer {}", sim.state().issue_app_token());
    let invoke = format!("{}/{}/InvokeCommand", sim.admin_api_url(), c.tenant_id);
    let post = |url: &str, body: &Value| {
        http.post(url)
            .header("authorization", &bearer)
            .header("x-responseformat", "json")
            .header("prefer", format!("odata.maxpagesize={PAGE}"))
            .json(body)
    };

    // Every device, page by page.
    let body = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice",
        "Parameters": {"ResultSize": "Unlimited"}}});
    let mut latencies = Vec::new();
    let mut devices = 0;
    let mut page_bytes = 0;
    let mut next = Some(invoke.clone());
    let started = Instant::now();
    let mut mailboxes_with_devices = Vec::new();
    while let Some(url) = next.take() {
        let t = Instant::now();
        let bytes = post(&url, &body)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        latencies.push(t.elapsed());
        page_bytes += bytes.len();
        let page: Value = serde_json::from_slice(&bytes)?;
        let items = page["value"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        devices += items.len();
        if mailboxes_with_devices.len() < 500 {
            for item in items.iter().take(5) {
                if let Some(id) = item["Identity"].as_str().and_then(|i| i.split('\\').next()) {
                    mailboxes_with_devices.push(id.to_owned());
                }
            }
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    let total = started.elapsed();
    let (p50, p95, max) = spread(&mut latencies);
    println!(
        "Get-MobileDevice: {devices} devices in {} pages of {PAGE}, {:.2} s, {:.0} devices/s",
        latencies.len(),
        total.as_secs_f64(),
        devices as f64 / total.as_secs_f64()
    );
    println!(
        "  page latency (request sent to last byte received, {:.2} MB a page): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        page_bytes as f64 / latencies.len().max(1) as f64 / 1e6,
        ms(p50),
        ms(p95),
        ms(max)
    );

    // Statistics, one mailbox at a time, as a full sync does.
    mailboxes_with_devices.sort();
    mailboxes_with_devices.dedup();
    let mut stats_latencies = Vec::new();
    for mailbox in mailboxes_with_devices.iter().take(300) {
        let body = json!({"CmdletInput": {"CmdletName": "Get-MobileDeviceStatistics",
            "Parameters": {"Mailbox": mailbox}}});
        let t = Instant::now();
        post(&invoke, &body)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        stats_latencies.push(t.elapsed());
    }
    let (p50, p95, max) = spread(&mut stats_latencies);
    println!(
        "Get-MobileDeviceStatistics: {} mailboxes, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        stats_latencies.len(),
        ms(p50),
        ms(p95),
        ms(max)
    );
    println!(
        "peak RSS (simulator and client in one process): {} MB",
        sync::peak_rss_mb().unwrap_or(0)
    );
    sim.shutdown().await;
    Ok(())
}

fn spread(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    (at(0.5), at(0.95), at(1.0))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
