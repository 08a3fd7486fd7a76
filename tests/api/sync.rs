use std::collections::BTreeSet;
use std::time::Duration;

use exchange_connector::error::ApiError;
use exchange_connector::model::{
    ConnectionStatus, HealthCause, HistoryFilter, SyncKind, SyncStatus, SyncTrigger,
};
use exchange_connector::sim::{FaultKind, FaultRule};

use crate::helpers::{settings_for, start_sim, TestApp};
use crate::tenant::{dump_devices, read_db, read_tenant};

const PAGE: u32 = 25;

fn calls(run: &exchange_connector::model::SyncRun, cmdlet: &str) -> u64 {
    run.api_calls_by_cmdlet
        .iter()
        .find(|c| c.cmdlet == cmdlet)
        .map_or(0, |c| c.calls)
}

#[tokio::test]
async fn a_full_sync_corrects_any_stored_difference_and_leaves_unchanged_rows_unwritten() {
    let app = TestApp::with_sim(120, PAGE).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let (damaged, untouched): (String, String) =
        sqlx::query_as("SELECT MIN(guid), MAX(guid) FROM devices WHERE removed_at IS NULL")
            .fetch_one(&db)
            .await
            .expect("two devices");
    let written_at = |guid: String| {
        let db = db.clone();
        async move {
            sqlx::query_as::<_, (String, Option<String>)>(
                "SELECT last_seen_at, statistics_read_at FROM devices WHERE guid = ?1",
            )
            .bind(guid)
            .fetch_one(&db)
            .await
            .expect("device")
        }
    };
    let untouched_before = written_at(untouched.clone()).await;
    // The stored copy differs from what Exchange lists, as after a change Exchange did not
    // stamp (WhenChangedUTC stays): a quick sync cannot see it, a full sync must put it right.
    // The stored digests move with the values, as they would have when the values were read.
    sqlx::query(
        "UPDATE devices SET access_state = 'Blocked', friendly_name = 'tampered', \
                content_digest = content_digest + 1, sync_status = 'tampered', \
                statistics_digest = statistics_digest + 1 WHERE guid = ?1",
    )
    .bind(&damaged)
    .execute(&db)
    .await
    .expect("tamper");
    let quick = app.control.run(SyncKind::DeltaSync).await.expect("quick");
    assert_eq!(quick.devices_changed, 0, "{quick:?}");
    assert_ne!(read_db(&db).await, read_tenant(sim).await);

    let full = app.control.run(SyncKind::FullSync).await.expect("full");
    assert_eq!(full.status, SyncStatus::Succeeded, "{full:?}");
    assert_eq!(full.devices_changed, 1, "{full:?}");
    assert_eq!(
        read_db(&db).await,
        read_tenant(sim).await,
        "every difference corrected"
    );
    // A device that did not change was not written again.
    assert_eq!(written_at(untouched).await, untouched_before);
}

#[tokio::test]
async fn a_full_sync_copies_the_tenant_and_a_quick_sync_after_churn_makes_it_equal_again() {
    let app = TestApp::with_sim(240, PAGE).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let full = app
        .control
        .run(SyncKind::FullSync)
        .await
        .expect("full sync");
    assert_eq!(full.status, SyncStatus::Succeeded, "{full:?}");

    let tenant = read_tenant(sim).await;
    let db = app.db().await;
    assert_eq!(read_db(&db).await, tenant, "devices, states and statistics");
    let mailboxes: BTreeSet<&str> = tenant
        .devices
        .values()
        .filter_map(|d| d.identity.split_once('\\').map(|(m, _)| m))
        .collect();
    // The minimum: every page once, one statistics call per mailbox with devices, four more.
    let pages = 240u64.div_ceil(u64::from(PAGE));
    assert_eq!(calls(&full, "Get-MobileDevice"), pages);
    assert_eq!(
        calls(&full, "Get-MobileDeviceStatistics"),
        mailboxes.len() as u64
    );
    assert_eq!(full.api_calls, pages + mailboxes.len() as u64 + 4);
    assert_eq!(full.retries, 0);
    assert_eq!(full.mailboxes_queried, mailboxes.len() as u64);
    assert_eq!((full.devices_seen, full.devices_added), (240, 0));
    let policies: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mailbox_policies")
        .fetch_one(&db)
        .await
        .expect("policies");
    assert!(policies >= 1);
    let settings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exchange_settings")
        .fetch_one(&db)
        .await
        .expect("settings");
    assert_eq!(settings, 1);

    let churn = sim.state().advance(Duration::from_secs(6 * 3600));
    assert!(
        !churn.added.is_empty() && !churn.changed.is_empty() && !churn.removed.is_empty(),
        "the clock move must add, change and remove: {churn:?}"
    );
    let quick = app.control.run(SyncKind::DeltaSync).await.expect("quick");
    assert_eq!(quick.status, SyncStatus::Succeeded, "{quick:?}");
    assert_eq!(quick.devices_added, churn.added.len() as u64);
    assert_eq!(quick.devices_changed, churn.changed.len() as u64);
    assert_eq!(quick.devices_removed, churn.removed.len() as u64);

    let tenant = read_tenant(sim).await;
    let stored = read_db(&db).await;
    assert_eq!(stored.devices, tenant.devices);
    // Statistics were read again for the mailboxes of new and changed devices only.
    let touched: BTreeSet<String> = churn
        .added
        .iter()
        .chain(&churn.changed)
        .map(|g| g.to_string())
        .collect();
    let touched_mailboxes: BTreeSet<&str> = touched
        .iter()
        .filter_map(|g| tenant.devices.get(g))
        .filter_map(|d| d.identity.split_once('\\').map(|(m, _)| m))
        .collect();
    // The minimum: every page, one statistics call per mailbox of a new or changed device,
    // one look-up per device the list left out (is it really gone?), plus the one retry with
    // a new token: six simulated hours outlived the old one.
    let pages = tenant.devices.len().div_ceil(PAGE as usize) as u64;
    assert!(quick.retries <= 1, "{quick:?}");
    let listed = pages + churn.removed.len() as u64;
    assert!(
        (listed..=listed + quick.retries).contains(&calls(&quick, "Get-MobileDevice")),
        "{quick:?}"
    );
    assert_eq!(
        quick.api_calls,
        pages + touched_mailboxes.len() as u64 + churn.removed.len() as u64 + quick.retries,
        "{quick:?}"
    );
    assert_eq!(quick.mailboxes_queried, touched_mailboxes.len() as u64);
    for guid in &touched {
        assert_eq!(
            stored.stats.get(guid),
            tenant.stats.get(guid),
            "statistics of {guid}"
        );
    }
    // Removed devices are kept, marked with the time.
    let removed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE removed_at IS NOT NULL")
            .fetch_one(&db)
            .await
            .expect("removed");
    assert_eq!(removed, churn.removed.len() as i64);

    // A full sync after that is exact for the statistics too.
    let again = app.control.run(SyncKind::FullSync).await.expect("full");
    assert_eq!(again.status, SyncStatus::Succeeded);
    assert_eq!(
        (
            again.devices_added,
            again.devices_changed,
            again.devices_removed
        ),
        (0, 0, 0)
    );
    assert_eq!(read_db(&db).await, read_tenant(sim).await);
}

/// Every kind of fault the sync meets, on a share `rate` of the calls: each run ends succeeded,
/// partial or failed with a clear reason, never loses or duplicates a device, keeps the
/// previous data when it fails, and the next clean run is exact.
async fn fault_matrix(rate: f64) {
    let kinds = [
        FaultKind::Throttle {
            retry_after_secs: 0.01,
        },
        FaultKind::Unavailable {
            retry_after_secs: None,
        },
        FaultKind::GatewayTimeout,
        FaultKind::ExpiredToken,
        FaultKind::Forbidden,
        FaultKind::ConnectionReset,
        // Past the client's request timeout (one second here).
        FaultKind::Slow { delay_ms: 1_300 },
        FaultKind::MalformedJson,
        FaultKind::PartialFailure,
        FaultKind::NoValue,
        FaultKind::EmptyValue,
        FaultKind::Transient {
            exception: "DCOverloadedException".into(),
            status: 503,
        },
    ];
    for kind in kinds {
        let label = format!("{} at {rate}", kind.label());
        let sim = start_sim(120, 61).await;
        let settings = settings_for(&sim);
        let app = TestApp::spawn_configured(settings, Some(sim), |config| {
            config.client.page_size = 20;
            config.client.request_timeout = Duration::from_secs(1);
        })
        .await;
        let sim = app.sim.as_ref().expect("sim");
        app.set_up().await.expect("set-up");
        app.settled().await;
        let db = app.db().await;
        sim.state().advance(Duration::from_secs(4 * 3600));
        let before = dump_devices(&db).await;
        let kept = read_db(&db).await;

        sim.state().faults().push(FaultRule::rate(kind, rate));
        let run = app.control.run(SyncKind::FullSync).await;
        sim.state().faults().clear();

        let run = match run {
            Ok(run) => run,
            Err(ApiError::Exchange { message, .. }) => {
                assert!(!message.is_empty(), "{label}");
                let page = app
                    .control
                    .history(&HistoryFilter::default(), None, 1)
                    .await
                    .expect("history");
                page.runs.into_iter().next().expect("the failed run")
            }
            Err(e) => panic!("{label}: unexpected {e:?}"),
        };
        let stored = dump_devices(&db).await;
        let now = read_db(&db).await;
        let tenant = read_tenant(sim).await;
        let lost: Vec<&String> = kept
            .devices
            .keys()
            .filter(|guid| tenant.devices.contains_key(*guid) && !now.devices.contains_key(*guid))
            .collect();
        assert!(
            lost.is_empty(),
            "{label}: devices still in Exchange lost: {lost:?}"
        );
        let identities: BTreeSet<&String> = now.devices.values().map(|d| &d.identity).collect();
        assert_eq!(
            identities.len(),
            now.devices.len(),
            "{label}: no device twice"
        );
        match run.status {
            SyncStatus::Succeeded => {
                assert_eq!(now, tenant, "{label}");
            }
            SyncStatus::Failed => {
                let reason = run.error_message.clone().unwrap_or_default();
                assert!(reason.len() > 20, "{label}: a clear reason, got {reason:?}");
                assert!(run.error_code.is_some(), "{label}");
                assert_eq!(stored, before, "{label}: previous data intact");
                let c = app.overview().await.connector.expect("connector");
                assert_eq!(c.status, ConnectionStatus::Disconnected, "{label}");
                assert_eq!(c.status_reason, run.error_message, "{label}");
            }
            SyncStatus::Partial => {
                let reason = run.error_message.clone().unwrap_or_default();
                assert!(reason.len() > 20, "{label}: a clear reason, got {reason:?}");
                let c = app.overview().await.connector.expect("connector");
                assert_eq!(c.health_cause, Some(HealthCause::PartialSync), "{label}");
            }
            other => panic!("{label}: unexpected status {other:?}"),
        }
        // Whatever happened, the next sync without faults is exact.
        let clean = app
            .control
            .run(SyncKind::FullSync)
            .await
            .expect("clean run");
        assert_eq!(clean.status, SyncStatus::Succeeded, "{label}");
        assert_eq!(read_db(&db).await, read_tenant(sim).await, "{label}");
    }
}

#[tokio::test]
async fn every_fault_kind_at_5_percent_ends_in_success_or_a_clear_failure_and_never_damages_data() {
    fault_matrix(0.05).await;
}

#[tokio::test]
async fn every_fault_kind_at_20_percent_ends_in_success_or_a_clear_failure_and_never_damages_data()
{
    fault_matrix(0.2).await;
}

#[tokio::test]
async fn fifty_concurrent_triggers_start_exactly_one_run() {
    let app = TestApp::with_sim(60, 20).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    // Slow pages: the run outlives every trigger.
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 300 }).for_cmdlet("Get-MobileDevice"));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let control = app.control.clone();
        tasks.push(tokio::spawn(async move {
            control
                .start(
                    SyncKind::DeltaSync,
                    SyncTrigger::Manual,
                    Some(format!("admin{i}")),
                )
                .await
        }));
    }
    let mut started = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(id) => started.push(id),
            Err(ApiError::Conflict { message }) => {
                assert_eq!(message, "A sync is already running.");
                refused += 1;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((started.len(), refused), (1, 49));
    let live = app.control.live_status().await.expect("live");
    assert!(live.overview.connector.expect("c").syncing);
    assert_eq!(live.progress.map(|p| p.run_id), Some(started[0].clone()));
    app.control.wait_idle().await;
    let page = app
        .control
        .history(&HistoryFilter::default(), None, 100)
        .await
        .expect("history");
    assert_eq!(page.runs.len(), 2, "set-up's run and exactly one more");
    let run = &page.runs[0];
    assert_eq!(run.id, started[0]);
    assert_eq!(run.status, SyncStatus::Succeeded);
    assert!(run
        .triggered_by
        .as_deref()
        .is_some_and(|b| b.starts_with("admin")));
}

#[tokio::test]
async fn a_sync_cut_off_by_shutdown_is_recorded_interrupted_and_keeps_the_previous_data() {
    let app = TestApp::with_sim(200, 20).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    sim.state().advance(Duration::from_secs(4 * 3600));
    let before = dump_devices(&db).await;
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 100 }));
    let id = app
        .control
        .start(SyncKind::FullSync, SyncTrigger::Manual, None)
        .await
        .expect("started");
    let mut progress = app.control.progress();
    while progress.as_ref().is_none_or(|p| p.pages < 2) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        progress = app.control.progress();
    }
    app.control.shutdown();
    tokio::time::timeout(Duration::from_secs(10), app.server)
        .await
        .expect("stops promptly")
        .expect("task")
        .expect("served");
    let status: String = sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = ?1")
        .bind(&id)
        .fetch_one(&db)
        .await
        .expect("run");
    assert_eq!(status, "interrupted");
    assert_eq!(dump_devices(&db).await, before);
}

#[tokio::test]
async fn a_failed_sync_names_the_missing_cmdlet_as_the_health_cause() {
    let app = TestApp::with_sim(30, 100).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let healthy = app.overview().await.connector.expect("c");
    assert_eq!(healthy.health, exchange_connector::model::Health::Healthy);
    assert_eq!(healthy.health_cause, None);
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Forbidden).for_cmdlet("Get-MobileDevice"));
    let error = app
        .control
        .run(SyncKind::DeltaSync)
        .await
        .expect_err("fails");
    assert!(error.to_string().contains("Get-MobileDevice"), "{error}");
    let c = app.overview().await.connector.expect("c");
    assert_eq!(
        c.health_cause,
        Some(HealthCause::MissingPermission {
            cmdlet: "Get-MobileDevice".into()
        })
    );
    assert_eq!(
        c.last_sync_at, healthy.last_sync_at,
        "a failure is not a sync"
    );
    assert_eq!(c.device_count, 30, "the previous devices are kept");
}

#[tokio::test]
async fn the_history_pages_newest_first_filters_and_exports_csv() {
    let app = TestApp::with_sim(20, 100).await;
    app.set_up().await.expect("set-up");
    for kind in [SyncKind::DeltaSync, SyncKind::FullSync, SyncKind::DeltaSync] {
        app.control.run(kind).await.expect("run");
    }
    let all = HistoryFilter::default();
    let first = app.control.history(&all, None, 3).await.expect("page 1");
    assert_eq!(first.runs.len(), 3);
    let cursor = first.next_cursor.clone().expect("more");
    let second = app
        .control
        .history(&all, Some(&cursor), 3)
        .await
        .expect("page 2");
    assert_eq!(second.runs.len(), 1);
    assert!(second.next_cursor.is_none());
    let ids: Vec<&str> = first
        .runs
        .iter()
        .chain(&second.runs)
        .map(|r| r.id.as_str())
        .collect();
    let unique: BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), 4);
    let starts: Vec<_> = first
        .runs
        .iter()
        .chain(&second.runs)
        .map(|r| r.started_at)
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(second.runs[0].trigger, SyncTrigger::Setup);
    assert_eq!(first.chart.len(), 4);
    assert!(first
        .chart
        .windows(2)
        .all(|w| w[0].started_at <= w[1].started_at));

    let quick = HistoryFilter {
        kind: Some(SyncKind::DeltaSync),
        ..HistoryFilter::default()
    };
    let page = app.control.history(&quick, None, 50).await.expect("quick");
    assert_eq!(page.runs.len(), 2);
    assert!(page.runs.iter().all(|r| r.kind == SyncKind::DeltaSync));
    let csv = app.control.csv(&quick).await.expect("csv");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,kind,trigger,triggered_by,status,started_at"));
    assert!(lines[1].contains(",deltaSync,manual,,succeeded,"));
    let one = app.control.record(&page.runs[0].id).await.expect("run");
    assert_eq!(one.as_ref(), Some(&page.runs[0]));
    assert_eq!(app.control.record("no-such-run").await.expect("none"), None);
}

#[tokio::test]
async fn syncs_save_while_people_use_the_pages() {
    // Every signed-in request writes its session (the idle timeout starts again), so a sync
    // saves while other connections write. Its final transaction must wait for them, not fail
    // on a stale snapshot ("database is locked", SQLite's BUSY_SNAPSHOT).
    let app = TestApp::with_sim(120, 60).await;
    app.set_up().await.expect("set-up");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut browsing = Vec::new();
    for _ in 0..4 {
        let client = app.http().clone();
        let url = format!("{}/api/auth/me", app.base_url);
        let stop = stop.clone();
        browsing.push(tokio::spawn(async move {
            let mut requests = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = client
                    .post(&url)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .expect("answer");
                assert_eq!(r.status(), 200);
                requests += 1;
            }
            requests
        }));
    }
    let mut statuses = Vec::new();
    for i in 0..12 {
        let kind = if i % 3 == 0 {
            SyncKind::FullSync
        } else {
            SyncKind::DeltaSync
        };
        statuses.push(app.control.run(kind).await.map(|run| run.status));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut requests = 0;
    for b in browsing {
        requests += b.await.expect("browsing");
    }
    assert!(
        requests > 50,
        "the pages were used meanwhile ({requests} requests)"
    );
    assert!(
        statuses.iter().all(|s| *s == Ok(SyncStatus::Succeeded)),
        "{statuses:?}"
    );
}

/// Devices stored and not marked removed.
async fn present(db: &sqlx::SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE removed_at IS NULL")
        .fetch_one(db)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_device_listing_without_value_fails_the_run_and_removes_nothing() {
    let app = TestApp::with_sim(60, 20).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let before = dump_devices(&db).await;
    // `{}` on every device page: read as "no devices" it would mark all 60 removed.
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::NoValue).for_cmdlet("Get-MobileDevice"));
    for kind in [SyncKind::DeltaSync, SyncKind::FullSync] {
        let error = app.control.run(kind).await.expect_err("a protocol error");
        assert!(
            error.to_string().contains("no `value` list"),
            "{kind:?}: {error}"
        );
        assert_eq!(dump_devices(&db).await, before, "{kind:?}: data kept");
    }
}

async fn held_since(db: &sqlx::SqlitePool) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>("SELECT removal_held_at FROM connectors")
        .fetch_one(db)
        .await
        .expect("connector")
}

#[tokio::test]
async fn devices_a_listing_leaves_out_are_removed_only_when_exchange_says_they_are_gone() {
    let app = TestApp::with_sim(120, 20).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let empty = || FaultRule::times(FaultKind::EmptyValue, 1).for_cmdlet("Get-MobileDevice");

    // An empty list once: Exchange, asked about each device, still has them all.
    for kind in [SyncKind::DeltaSync, SyncKind::FullSync] {
        sim.state().faults().push(empty());
        let run = app.control.run(kind).await.expect("run");
        assert_eq!(run.status, SyncStatus::Partial, "{run:?}");
        assert_eq!(run.error_code.as_deref(), Some("ListingIncomplete"));
        let reason = run.error_message.clone().unwrap_or_default();
        assert!(
            reason.contains("left out 120 stored devices") && reason.contains("still returned 120"),
            "{reason}"
        );
        assert_eq!((run.devices_removed, present(&db).await), (0, 120));
        assert!(held_since(&db).await.is_none());
        let c = app.overview().await.connector.expect("connector");
        assert_eq!(c.health_cause, Some(HealthCause::PartialSync));
    }

    // The list comes back empty again and Exchange refuses the first look-ups: a device
    // without a clear answer is kept too.
    sim.state().faults().push(empty());
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::Forbidden, 5).for_cmdlet("Get-MobileDevice"));
    let run = app.control.run(SyncKind::FullSync).await.expect("full");
    sim.state().faults().clear();
    assert_eq!(run.status, SyncStatus::Partial, "{run:?}");
    let reason = run.error_message.clone().unwrap_or_default();
    assert!(reason.contains("no clear answer for 5"), "{reason}");
    assert_eq!((run.devices_removed, present(&db).await), (0, 120));

    // Devices really gone are removed, and a whole listing again makes the run a success.
    assert_eq!(sim.state().remove_devices(70), 70);
    let run = app.control.run(SyncKind::DeltaSync).await.expect("quick");
    assert_eq!(run.status, SyncStatus::Succeeded, "{run:?}");
    assert_eq!(
        (run.devices_removed, present(&db).await),
        (70, 50),
        "each one confirmed gone, so more than half may go at once"
    );
    assert_eq!(read_db(&db).await, read_tenant(sim).await);
}

#[tokio::test]
async fn a_large_removal_is_held_until_a_full_sync_sees_the_same() {
    let app = TestApp::with_sim(1_200, 500).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    app.settled().await;
    let db = app.db().await;
    let listed = sim.state().request_count("Get-MobileDevice");
    assert_eq!(sim.state().remove_devices(1_200), 1_200);

    // Too many to ask about one by one: a sample is, and all of it is gone.
    let quick = app.control.run(SyncKind::DeltaSync).await.expect("quick");
    assert_eq!(quick.status, SyncStatus::Partial, "{quick:?}");
    assert_eq!(quick.error_code.as_deref(), Some("RemovalHeld"));
    let reason = quick.error_message.clone().unwrap_or_default();
    assert!(reason.contains("left out 1200 of the 1200"), "{reason}");
    assert_eq!((quick.devices_removed, present(&db).await), (0, 1_200));
    let asked = sim.state().request_count("Get-MobileDevice") - listed;
    assert!((150..=260).contains(&asked), "a sample, not 1,200: {asked}");
    assert!(held_since(&db).await.is_some());

    let quick = app.control.run(SyncKind::DeltaSync).await.expect("quick");
    assert_eq!(
        (quick.status, present(&db).await),
        (SyncStatus::Partial, 1_200),
        "quick syncs never confirm"
    );
    let full = app.control.run(SyncKind::FullSync).await.expect("full");
    assert_eq!(full.status, SyncStatus::Succeeded, "{full:?}");
    assert_eq!((full.devices_removed, present(&db).await), (1_200, 0));
    assert!(held_since(&db).await.is_none());
}

#[tokio::test]
async fn a_stop_that_comes_while_the_run_saves_lets_it_finish_and_the_ledger_says_so() {
    use exchange_connector::model::SyncPhase;
    use sqlx::Connection;

    let app = TestApp::with_sim(400, 50).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    sim.state().advance(Duration::from_secs(4 * 3600));
    let id = app
        .control
        .start(SyncKind::FullSync, SyncTrigger::Manual, None)
        .await
        .expect("started");
    // The moment the run starts its final transaction, another writer holds the database for
    // a while and the server is told to stop: the stop lands inside the save.
    let url = format!("sqlite://{}", app.db_file.display());
    let mut other = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    while app
        .control
        .progress()
        .is_none_or(|p| p.phase != SyncPhase::Saving)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("lock");
    app.control.shutdown();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("COMMIT")
        .execute(&mut other)
        .await
        .expect("unlock");
    tokio::time::timeout(Duration::from_secs(10), app.server)
        .await
        .expect("stops promptly")
        .expect("task")
        .expect("served");
    let status: String = sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = ?1")
        .bind(&id)
        .fetch_one(&db)
        .await
        .expect("run");
    assert_eq!(status, "succeeded", "the save was under way: it finished");
    assert_eq!(
        read_db(&db).await,
        read_tenant(sim).await,
        "and its data is saved"
    );
}

#[tokio::test]
async fn one_429_holds_the_other_calls_back_no_longer_than_its_retry_after() {
    // The simulator's 429 says the budget is spent for a second (Rate-Limit-Remaining 0,
    // Rate-Limit-Reset 1) but asks for 0.25 s: one such answer among many calls is a passing
    // fault, not the budget running out.
    let sim = crate::helpers::start_sim(600, 300).await;
    let settings = crate::helpers::settings_for(&sim);
    let app = TestApp::spawn(settings, 100, Some(sim)).await;
    app.set_up().await.expect("set-up");
    let sim = app.sim.as_ref().expect("sim");
    sim.state().faults().push(
        FaultRule::times(
            FaultKind::Throttle {
                retry_after_secs: 0.25,
            },
            1,
        )
        .for_cmdlet("Get-MobileDeviceStatistics"),
    );
    let run = app.control.run(SyncKind::FullSync).await.expect("full");
    assert_eq!(run.status, SyncStatus::Succeeded, "{run:?}");
    assert_eq!(run.retries, 1, "{run:?}");
    // Its own 0.25 s, and at most as long for each other call in flight (8 statistics calls
    // and the device pages); held back for the budget's whole second, they waited about 9 s.
    assert!(
        run.throttle_wait_ms <= 10 * 250,
        "waits summed over the calls: {} ms",
        run.throttle_wait_ms
    );
}
