//! `make bench`, faults part: the first full sync of 3,000 devices in 1,000 mailboxes against
//! the simulator (in this process; the time is the waits the protocol asks for), fault-free,
//! then with 5 % 429 (Retry-After 0.25 s) and 5 % 503 at random, then under real budget
//! pressure (the simulator's rate limit, 200 requests a second). Random faults must not
//! serialize a run (target: 25 s or less); under budget pressure the connector must not be
//! throttled more than before this part existed (7 429s, measured on the debug build).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use exchange_connector::model::SyncRun;
use exchange_connector::server::config::{ClientSettings, ExchangeSettings, SyncSettings};
use exchange_connector::sim::{self, ClockMode, FaultKind, FaultRule, RunningSimulator, SimConfig};

type Error = Box<dyn std::error::Error>;

/// 429s under budget pressure before this part existed.
const BUDGET_429S_BEFORE: u64 = 7;

pub async fn run() -> Result<(), Error> {
    println!("\n== faults: first full sync of 3,000 devices in 1,000 mailboxes ==");
    let clean = scenario("fault-free", |_| {}).await?;
    let faulty = scenario("5 % 429 (Retry-After 0.25 s) and 5 % 503", |sim| {
        let faults = sim.state().faults();
        faults.push(FaultRule::rate(
            FaultKind::Throttle {
                retry_after_secs: 0.25,
            },
            0.05,
        ));
        faults.push(FaultRule::rate(
            FaultKind::Unavailable {
                retry_after_secs: None,
            },
            0.05,
        ));
    })
    .await?;
    let budget = scenario("budget pressure (rate limit 200/1s)", |sim| {
        if let Ok(limit) = "200/1s".parse() {
            sim.state().faults().set_rate_limit(Some(limit));
        }
    })
    .await?;
    println!("summary, faults:");
    println!("  fault-free: {:.2} s", clean.1.as_secs_f64());
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "  random 429 and 503 <= 25 s: {:.2} s: {}",
        faulty.1.as_secs_f64(),
        met(faulty.1 <= Duration::from_secs(25))
    );
    println!(
        "  429s under budget pressure <= {BUDGET_429S_BEFORE} (before): {}: {}",
        budget.2,
        met(budget.2 <= BUDGET_429S_BEFORE)
    );
    Ok(())
}

/// One first full sync with the simulator set up by `faults`: the run, its wall time and the
/// 429s the simulator sent.
async fn scenario(
    name: &str,
    faults: impl FnOnce(&RunningSimulator),
) -> Result<(SyncRun, Duration, u64), Error> {
    let sim = sim::start(
        SimConfig {
            devices: 3_000,
            mailboxes: 1_000,
            clock: ClockMode::Frozen,
            ..SimConfig::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    let c = sim.config();
    let settings = ExchangeSettings::with_secret(
        sim.admin_api_url().parse()?,
        sim.authority_url().parse()?,
        &c.tenant_id,
        &c.client_id,
        &c.client_secret,
    );
    faults(&sim);
    let dir = tempfile::tempdir()?;
    let sync = SyncSettings {
        schedule: false,
        ..SyncSettings::default()
    };
    let db = dir.path().join("faults.db");
    let (control, server, _) =
        crate::sync::serve(&settings, ClientSettings::default(), sync, &db).await?;
    let t = Instant::now();
    let outcome = control.set_up().await;
    let wall = t.elapsed();
    let run = control
        .history(&Default::default(), None, 1)
        .await
        .map_err(|e| e.to_string())?
        .runs
        .into_iter()
        .next()
        .ok_or("no run")?;
    let throttled = sim
        .state()
        .faults()
        .injected_by_kind()
        .iter()
        .filter(|(kind, _)| kind.as_str() == "429" || kind.as_str() == sim::RATE_LIMITED)
        .map(|(_, n)| *n)
        .sum::<u64>();
    println!(
        "  {name}: {} in {:.2} s; API calls {}, retries {}, waits {} ms summed over calls, \
         429s {throttled}",
        run.status.as_str(),
        wall.as_secs_f64(),
        run.api_calls,
        run.retries,
        run.throttle_wait_ms
    );
    if let Err(e) = outcome {
        println!("    ({e})");
    }
    control.shutdown();
    let _ = server.await;
    Ok((run, wall, throttled))
}
