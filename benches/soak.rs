//! `make soak`: load and a long sync at once, loopback only, bounded in time. The connector
//! (the release binary) and the simulator (`exo-sim`, 100,000 devices) run as their own
//! processes; this process is the load: `SOAK_CONNECTIONS` (200) clients requesting pages and
//! server functions for `SOAK_SECONDS` (60) while `SOAK_STREAMS` (500) live streams stay open
//! and a full sync of every device runs. It reports the errors (5xx, resets, streams that
//! ended early: target 0), the latency of the requests (p50, p99) and the connector's RSS
//! after warm-up and at the end (target: flat, within 20 %).

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/server.rs"]
mod server;
use server::{
    connector, create_admin, free_port, idle, main_of, post, setting, sign_in, wait_for, wait_idle,
    Error, Process,
};

#[tokio::main]
async fn main() {
    main_of("soak", run()).await;
}

async fn run() -> Result<(), Error> {
    let connections = setting("SOAK_CONNECTIONS", 200) as usize;
    let streams = setting("SOAK_STREAMS", 500) as usize;
    let seconds = setting("SOAK_SECONDS", 60);
    let devices = setting("SOAK_DEVICES", 100_000);
    println!(
        "== soak: {connections} connections for {seconds} s, {streams} live streams, a full \
         sync of {devices} devices =="
    );

    let dir = tempfile::tempdir()?;
    let sim_port = free_port()?;
    let _sim = Process(
        Command::new(env!("CARGO_BIN_EXE_exo-sim"))
            .args(["--addr", &format!("127.0.0.1:{sim_port}")])
            .args(["--devices", &devices.to_string()])
            .args(["--mailboxes", &(devices / 2).to_string()])
            .args(["--clock", "frozen"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let sim = format!("http://127.0.0.1:{sim_port}");
    wait_for(&format!("{sim}/_sim/stats"), Duration::from_secs(180)).await?;

    let db = dir.path().join("soak.db");
    let database_url = format!("sqlite://{}", db.display());
    create_admin(&database_url)?;

    let port = free_port()?;
    let server = Process(
        connector(port, &database_url)
            .env("EXO_TENANT_ID", exchange_connector::sim::DEMO_TENANT_ID)
            .env("EXO_CLIENT_ID", exchange_connector::sim::DEMO_CLIENT_ID)
            .env(
                "EXO_CLIENT_SECRET",
                exchange_connector::sim::DEMO_CLIENT_SECRET,
            )
            .env("EXO_ADMIN_API_URL", format!("{sim}/adminapi/beta"))
            .env("EXO_AUTHORITY_URL", &sim)
            .spawn()?,
    );
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/healthz"), Duration::from_secs(60)).await?;

    // Sessions: a live view per tab, at most 8 per session, so 500 streams need 63 of them.
    let sessions = streams.div_ceil(8).max(connections.min(50));
    let mut clients = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        clients.push(sign_in(&base).await?);
    }
    let admin = clients[0].clone();
    let (status, body) = post(&admin, &base, "connector/set-up", "").await?;
    if status != 200 {
        return Err(format!("set-up: {status} {body}").into());
    }
    let first = Instant::now();
    wait_idle(&admin, &base).await?;
    println!(
        "set-up's first full sync of {devices} devices: {:.1} s",
        first.elapsed().as_secs_f64()
    );

    // The live streams, each reading until the end.
    let ended_early = Arc::new(AtomicU64::new(0));
    let messages = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut stream_tasks = Vec::new();
    for i in 0..streams {
        let client = clients[i / 8].clone();
        let url = format!("{base}/api/connector/events");
        let (ended_early, messages, stop) = (ended_early.clone(), messages.clone(), stop.clone());
        stream_tasks.push(tokio::spawn(async move {
            let Ok(mut response) = client.get(&url).send().await else {
                ended_early.fetch_add(1, Ordering::Relaxed);
                return;
            };
            if response.status() != 200 {
                ended_early.fetch_add(1, Ordering::Relaxed);
                return;
            }
            loop {
                tokio::select! {
                    () = stop.notified() => return,
                    chunk = response.chunk() => match chunk {
                        Ok(Some(c)) => {
                            let n = c.windows(5).filter(|w| w == b"data:").count();
                            messages.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        _ => {
                            ended_early.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    },
                }
            }
        }));
    }

    // A full sync of every device while the load runs.
    let (status, body) = post(&admin, &base, "connector/sync", "kind=fullSync").await?;
    if status != 200 {
        return Err(format!("sync: {status} {body}").into());
    }
    let sync_started = Instant::now();

    let paths: [(&str, Option<&str>); 6] = [
        ("/conditional-access/exchange-connector", None),
        ("/conditional-access/devices", None),
        ("/conditional-access/exchange-connector/sync-history", None),
        ("/api/connector/overview", Some("")),
        ("/api/devices/page", Some("sort=user&dir=asc")),
        ("/healthz", None),
    ];
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for i in 0..connections {
        let client = clients[i % clients.len()].clone();
        let base = base.clone();
        let (latencies, errors) = (latencies.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut n = i;
            while Instant::now() < deadline {
                let (path, form) = paths[n % paths.len()];
                n += 1;
                let url = format!("{base}{path}");
                let request = match form {
                    None => client.get(&url),
                    Some(body) => client
                        .post(&url)
                        .header("accept", "application/json")
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body),
                };
                let t = Instant::now();
                match request.send().await {
                    Ok(r) if r.status().is_server_error() => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        if r.bytes().await.is_err() {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                mine.push(t.elapsed());
            }
            latencies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(mine);
        }));
    }

    // The connector's memory, once a second.
    let mut rss = Vec::new();
    let mut sync_took = None;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.push(rss_mb(pid).unwrap_or(0));
        if sync_took.is_none() && idle(&admin, &base).await {
            sync_took = Some(sync_started.elapsed());
        }
    }
    for w in workers {
        let _ = w.await;
    }
    if sync_took.is_none() {
        wait_idle(&admin, &base).await?;
        sync_took = Some(sync_started.elapsed());
    }
    let early = ended_early.load(Ordering::Relaxed);
    stop.notify_waiters();
    for t in stream_tasks {
        t.abort();
    }

    let mut all = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let errors = errors.load(Ordering::Relaxed);
    let warm = rss.get(10).or(rss.first()).copied().unwrap_or(0);
    let end = rss.last().copied().unwrap_or(0);
    let peak = rss.iter().copied().max().unwrap_or(0);
    println!(
        "requests: {} in {seconds} s ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        all.len() as f64 / seconds as f64,
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(all.last().copied().unwrap_or_default())
    );
    println!(
        "live streams: {streams} open, {} messages, {early} ended early",
        messages.load(Ordering::Relaxed)
    );
    println!(
        "full sync under load: {:.1} s",
        sync_took.unwrap_or_default().as_secs_f64()
    );
    println!("connector RSS: {warm} MB after warm-up, {end} MB at the end, peak {peak} MB");
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("summary, soak:");
    println!("  errors (5xx, resets) = 0: {errors}: {}", met(errors == 0));
    println!(
        "  live streams ended early = 0: {early}: {}",
        met(early == 0)
    );
    println!("  p99 latency: {:.1} ms", ms(pct(0.99)));
    println!(
        "  RSS flat after warm-up (end within 20 % of warm-up): {warm} → {end} MB: {}",
        met(end as f64 <= warm as f64 * 1.2)
    );
    drop(server);
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The resident memory of process `pid`, in MB.
fn rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024)
}
