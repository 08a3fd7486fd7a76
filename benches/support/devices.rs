//! `make bench`, device pages part: with the tenant a sync bench just stored (100,000 devices),
//! how fast the device list answers for every single filter, every sort (both ways) and pages
//! deep into the list; the summary; the readiness report; and the CSV of every device streamed
//! over HTTP, with how much the process's memory rose meanwhile; a bulk device action on 500
//! devices (calls per mailbox, time with its read-back). Server-side times: the same
//! service functions the pages' server functions call.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use exchange_connector::model::{
    AccessChangeForm, DeviceAction, DeviceFilter, DeviceQuery, DeviceSort, OsFamily, Removed,
    SortDir, Staleness, StateBucket, MAX_BULK_DEVICES,
};
use exchange_connector::server::control::SyncControl;

type Error = Box<dyn std::error::Error>;

fn filters(sample_id: &str) -> Vec<(String, DeviceFilter)> {
    let f = DeviceFilter::default;
    let mut out = vec![("no filter".to_owned(), f())];
    for b in StateBucket::ALL {
        out.push((
            format!("state {}", b.as_str()),
            DeviceFilter {
                state: Some(b),
                ..f()
            },
        ));
    }
    for r in ["Global", "DeviceRule", "Individual", "Policy"] {
        out.push((
            format!("reason {r}"),
            DeviceFilter {
                reason: Some(r.into()),
                ..f()
            },
        ));
    }
    for c in ["EAS", "Outlook", "REST"] {
        out.push((
            format!("client {c}"),
            DeviceFilter {
                client: Some(c.into()),
                ..f()
            },
        ));
    }
    for t in ["iPhone", "Android"] {
        out.push((
            format!("type {t}"),
            DeviceFilter {
                device_type: Some(t.into()),
                ..f()
            },
        ));
    }
    for o in [OsFamily::Ios, OsFamily::Android, OsFamily::Windows] {
        out.push((
            format!("os {}", o.as_str()),
            DeviceFilter { os: Some(o), ..f() },
        ));
    }
    out.push((
        "EAS below 16.1".into(),
        DeviceFilter {
            legacy_eas: true,
            ..f()
        },
    ));
    for s in [
        Staleness::Days(30),
        Staleness::Days(90),
        Staleness::Days(180),
        Staleness::Never,
    ] {
        out.push((
            format!("stale {}", s.param()),
            DeviceFilter {
                stale: Some(s),
                ..f()
            },
        ));
    }
    out.push((
        "removed".into(),
        DeviceFilter {
            removed: Removed::Only,
            ..f()
        },
    ));
    out.push((
        "search 'iphone'".into(),
        DeviceFilter {
            q: Some("iphone".into()),
            ..f()
        },
    ));
    let part = &sample_id[..sample_id.len().min(8)];
    out.push((
        format!("search device id '{part}'"),
        DeviceFilter {
            q: Some(part.to_lowercase()),
            ..f()
        },
    ));
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Current RSS of this process, in KB.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub async fn run(control: &SyncControl, base_url: &str, devices: u64) -> Result<(), Error> {
    println!("\n-- device pages with {devices} devices stored --");
    let first = control
        .devices(&DeviceQuery {
            limit: 50,
            ..DeviceQuery::default()
        })
        .await?;
    let sample = first
        .rows
        .first()
        .map(|r| r.device_id.clone())
        .unwrap_or_default();
    // Warm the page cache as a running server would be.
    control
        .devices(&DeviceQuery {
            limit: 50,
            ..DeviceQuery::default()
        })
        .await?;

    let mut times = Vec::new();
    let mut worst: Vec<(f64, String)> = Vec::new();
    for (label, filter) in filters(&sample) {
        for sort in DeviceSort::ALL {
            for dir in [SortDir::Asc, SortDir::Desc] {
                let mut q = DeviceQuery {
                    filter: filter.clone(),
                    sort,
                    dir,
                    limit: 50,
                    ..DeviceQuery::default()
                };
                // The first page, then four more pages following the next links.
                for page in 0..5 {
                    let t = Instant::now();
                    let p = control.devices(&q).await?;
                    let took = ms(t.elapsed());
                    times.push(took);
                    worst.push((
                        took,
                        format!("{label}, {sort:?} {dir:?}, page {}", page + 1),
                    ));
                    match p.next_cursor {
                        Some(c) => q.after = Some(c),
                        None => break,
                    }
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    let p99 = percentile(&times, 0.99);
    println!(
        "  device list: {} pages (every single filter x every sort x both ways, pages 1-5): \
         p50 {:.1} ms, p95 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times.last().copied().unwrap_or(0.0),
    );
    for (t, what) in worst.iter().take(5) {
        println!("    slowest: {t:.1} ms ({what})");
    }

    let mut summary = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        control.device_summary().await?;
        summary.push(ms(t.elapsed()));
    }
    summary.sort_by(f64::total_cmp);
    let summary_p99 = percentile(&summary, 0.99);
    println!(
        "  summary: p50 {:.1} ms, p99 {summary_p99:.1} ms (100 calls)",
        percentile(&summary, 0.5)
    );

    let mut readiness = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        control.readiness().await?;
        readiness.push(ms(t.elapsed()));
    }
    readiness.sort_by(f64::total_cmp);
    let readiness_p99 = percentile(&readiness, 0.99);
    println!(
        "  readiness: p50 {:.1} ms, p99 {readiness_p99:.1} ms (50 calls)",
        percentile(&readiness, 0.5)
    );

    // Previews of the Exchange access page: the default tightened with grandfathering, a new
    // rule on the most common model, each existing rule deleted (target: 200 ms).
    let access = control.exchange_access().await?;
    let model = access
        .suggestions
        .iter()
        .find(|v| v.characteristic == "DeviceModel")
        .map(|v| v.value.clone())
        .unwrap_or_default();
    let mut forms = vec![
        AccessChangeForm {
            change: "settings".into(),
            default_access_level: "Block".into(),
            admin_mail_recipients: access.settings.admin_mail_recipients.join(", "),
            user_mail_insert: access.settings.user_mail_insert.clone().unwrap_or_default(),
            ota_notification_mail_insert: access
                .settings
                .ota_notification_mail_insert
                .clone()
                .unwrap_or_default(),
            grandfather_days: "30".into(),
            ..AccessChangeForm::default()
        },
        AccessChangeForm {
            change: "newRule".into(),
            characteristic: "DeviceModel".into(),
            query_string: format!("{model} (bench)"),
            access_level: "Quarantine".into(),
            ..AccessChangeForm::default()
        },
    ];
    forms.extend(access.rules.iter().map(|r| AccessChangeForm {
        change: "deleteRule".into(),
        rule: r.identity.clone(),
        ..AccessChangeForm::default()
    }));
    let mut previews = Vec::new();
    let mut moved = 0;
    for _ in 0..10 {
        for form in &forms {
            let t = Instant::now();
            let p = control.preview_access(form).await?;
            previews.push(ms(t.elapsed()));
            moved = moved.max(p.changing + p.grandfathered);
        }
    }
    previews.sort_by(f64::total_cmp);
    println!(
        "  access preview ({} previews: default to Block with grandfathering, a new rule, each \
         of {} rules deleted; up to {moved} devices moved): p50 {:.1} ms, p99 {:.1} ms \
         (target <= 200 ms)",
        previews.len(),
        access.rules.len(),
        percentile(&previews, 0.5),
        percentile(&previews, 0.99),
    );

    // The CSV of every device over HTTP, signed in as a reader; RSS sampled every 5 ms.
    control
        .create_user(
            "bench-reader@contoso.test",
            "bench password long enough",
            exchange_connector::model::Role::Reader,
        )
        .await
        .ok();
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let r = http
        .post(format!("{base_url}/api/auth/sign-in"))
        .header("accept", "application/json")
        .form(&[
            ("email", "bench-reader@contoso.test"),
            ("password", "bench password long enough"),
        ])
        .send()
        .await?;
    if !r.status().is_success() {
        return Err(format!("bench sign-in: {}", r.status()).into());
    }
    let before = rss_kb();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kb(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let t = Instant::now();
    let mut response = http
        .get(format!("{base_url}/conditional-access/devices.csv"))
        .send()
        .await?;
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let csv_secs = t.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let rise_mb = peak.load(Ordering::Relaxed).saturating_sub(before) as f64 / 1024.0;
    println!(
        "  CSV of every device: {} rows, {:.1} MB in {csv_secs:.2} s; RSS rose {rise_mb:.1} MB \
         (the client reading it is in the same process)",
        lines.saturating_sub(1),
        bytes as f64 / 1e6
    );
    // A bulk action as the device list sends it: 500 devices taken in mailbox order (so that
    // mailboxes hold several), blocked in one go, then cleared again to leave the tenant as
    // it was. Each includes its read-back (a quick sync of the changed devices).
    let mut picked: Vec<(String, Option<String>)> = Vec::new();
    let mut q = DeviceQuery {
        limit: 200,
        ..DeviceQuery::default()
    };
    while picked.len() < MAX_BULK_DEVICES {
        let p = control.devices(&q).await?;
        picked.extend(p.rows.iter().map(|r| (r.guid.clone(), r.user.clone())));
        match p.next_cursor {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    picked.truncate(MAX_BULK_DEVICES);
    let guids: Vec<String> = picked.iter().map(|p| p.0.clone()).collect();
    let mailboxes = picked
        .iter()
        .filter_map(|p| p.1.as_deref())
        .collect::<HashSet<_>>()
        .len() as u32;
    let admin = "bench-admin@contoso.test";
    let t = Instant::now();
    let block = control.act(admin, &guids, DeviceAction::Block, "").await?;
    let block_secs = t.elapsed().as_secs_f64();
    let calls = block.calls_done + block.calls_failed;
    let t = Instant::now();
    let clear = control
        .act(admin, &guids, DeviceAction::ClearIndividual, "")
        .await?;
    let clear_secs = t.elapsed().as_secs_f64();
    println!(
        "  bulk action on {} devices in {mailboxes} mailboxes: Block {calls} Set-CASMailbox \
         calls ({} failed) in {block_secs:.2} s, Clear individual setting {} calls in \
         {clear_secs:.2} s (each with its read-back)",
        guids.len(),
        block.calls_failed,
        clear.calls_done + clear.calls_failed,
    );

    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("summary, device pages with {devices} devices:");
    println!(
        "  bulk action: at most one Set-CASMailbox per mailbox: {calls} calls for {mailboxes} \
         mailboxes: {}",
        met(calls <= mailboxes && block.calls_failed == 0)
    );
    println!(
        "  device list p99 <= 20 ms: {p99:.1} ms: {}",
        met(p99 <= 20.0)
    );
    println!(
        "  summary p99 <= 10 ms: {summary_p99:.1} ms: {}",
        met(summary_p99 <= 10.0)
    );
    println!(
        "  readiness p99 <= 50 ms: {readiness_p99:.1} ms: {}",
        met(readiness_p99 <= 50.0)
    );
    println!(
        "  CSV of all rows <= 2 s: {csv_secs:.2} s: {}",
        met(csv_secs <= 2.0)
    );
    println!(
        "  CSV memory rise < 20 MB: {rise_mb:.1} MB: {}",
        met(rise_mb < 20.0)
    );
    Ok(())
}
