//! The HTTP surface of the sync history and of live status: the CSV export route, the
//! server-sent events stream and the no-JavaScript sync buttons.

use std::time::Duration;

use exchange_connector::model::Role;
use exchange_connector::model::{HistoryFilter, HistoryPage, SyncKind, SyncStatus, SyncTrigger};
use exchange_connector::sim::{FaultKind, FaultRule};

use crate::helpers::{Events, TestApp, EVENTS_PATH};

const CSV_PATH: &str = "/conditional-access/exchange-connector/sync-history.csv";
async fn get_csv(app: &TestApp, query: &str) -> (reqwest::header::HeaderMap, String) {
    let response = app
        .http()
        .get(format!("{}{CSV_PATH}{query}", app.base_url))
        .send()
        .await
        .expect("the export answers");
    assert_eq!(response.status(), 200, "{query}");
    let headers = response.headers().clone();
    (headers, response.text().await.expect("csv body"))
}

#[tokio::test]
async fn the_csv_export_downloads_the_filtered_history_with_a_header_row() {
    let app = TestApp::with_sim(30, 10).await;
    app.set_up().await.expect("set-up");
    let manual = app
        .control
        .run(SyncKind::DeltaSync)
        .await
        .expect("quick sync");

    let (headers, all) = get_csv(&app, "").await;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert!(
        header("content-type").starts_with("text/csv"),
        "{}",
        header("content-type")
    );
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"sync-history.csv\""
    );
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two runs: {all}");
    assert!(lines[0].starts_with("id,kind,trigger,"), "{}", lines[0]);
    // Newest first: the manual quick sync, then set-up's full sync.
    assert!(
        lines[1].starts_with(&format!("{},deltaSync,manual,", manual.id)),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains(",fullSync,setup,"), "{}", lines[2]);
    // The route serves exactly what the history module writes.
    let expected = app
        .control
        .csv(&HistoryFilter::default())
        .await
        .expect("csv");
    assert_eq!(all, expected);

    let (_, manual_only) = get_csv(&app, "?trigger=manual&status=&kind=").await;
    assert_eq!(manual_only.lines().count(), 2, "{manual_only}");
    assert!(manual_only
        .lines()
        .nth(1)
        .is_some_and(|l| l.starts_with(&manual.id)));
    let filter = HistoryFilter {
        trigger: Some(SyncTrigger::Manual),
        ..HistoryFilter::default()
    };
    assert_eq!(manual_only, app.control.csv(&filter).await.expect("csv"));

    let (_, failed) = get_csv(&app, "?status=failed").await;
    assert_eq!(failed.lines().count(), 1, "only the header: {failed}");
    let (_, unknown) = get_csv(&app, "?status=exploded").await;
    assert_eq!(unknown, all, "an unknown filter value is no filter");
}

#[tokio::test]
async fn the_live_stream_sends_the_status_at_once_then_every_change_and_ends_on_shutdown() {
    let app = TestApp::with_sim(60, 10).await;
    app.set_up().await.expect("set-up");
    let mut events = Events::open(&app).await;

    let first = tokio::time::timeout(Duration::from_secs(2), events.next())
        .await
        .expect("the first message comes at once")
        .expect("a message");
    let connector = first.overview.connector.as_ref().expect("set up");
    let synced_before = connector.last_sync_at.expect("set-up synced");
    assert_eq!(connector.device_count, 60);
    assert!(first.progress.is_none());

    // Slow pages: the stream shows the run while it goes.
    app.sim
        .as_ref()
        .expect("sim")
        .state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 150 }).for_cmdlet("Get-MobileDevice"));
    let run_id = app
        .control
        .start(SyncKind::FullSync, SyncTrigger::Manual, None)
        .await
        .expect("the sync starts");
    let running = events
        .until(Duration::from_secs(5), |s| s.progress.is_some())
        .await;
    assert_eq!(
        running.progress.as_ref().map(|p| p.run_id.as_str()),
        Some(run_id.as_str())
    );
    assert!(running
        .overview
        .connector
        .as_ref()
        .is_some_and(|c| c.syncing));

    let done = events
        .until(Duration::from_secs(20), |s| s.progress.is_none())
        .await;
    let connector = done.overview.connector.as_ref().expect("set up");
    assert!(!connector.syncing);
    assert!(
        connector.last_sync_at.is_some_and(|t| t > synced_before),
        "{connector:?}"
    );
    let run = app
        .control
        .record(&run_id)
        .await
        .expect("read")
        .expect("run");
    assert_eq!(run.status, SyncStatus::Succeeded);

    // A stop ends the stream, so the server's graceful shutdown does not wait on it.
    app.control.shutdown();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while events.next().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends when the server stops");
    let served = tokio::time::timeout(Duration::from_secs(10), app.server)
        .await
        .expect("the server stops while a stream was open");
    assert!(matches!(served, Ok(Ok(()))), "{served:?}");
}

#[tokio::test]
async fn without_javascript_a_sync_button_redirects_back_and_a_refusal_says_why() {
    let app = TestApp::with_sim(30, 10).await;
    app.set_up().await.expect("set-up");
    // Slow device pages: a run lasts long enough to start another during it.
    app.slow_device_pages(300);
    let client = app
        .signed_in_with(
            Role::Admin,
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()),
        )
        .await;
    let post = |referer: String| {
        client
            .post(format!("{}/api/connector/sync", app.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", referer)
            .body("kind=fullSync")
            .send()
    };
    let page = format!(
        "{}/conditional-access/exchange-connector?sync=busy",
        app.base_url
    );

    let started = post(page.clone()).await.expect("answer");
    assert_eq!(started.status(), 302);
    assert_eq!(
        started
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/conditional-access/exchange-connector"),
        "back to the page, without the old notice"
    );

    let refused = post(page).await.expect("answer");
    assert_eq!(refused.status(), 302);
    assert_eq!(
        refused
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/conditional-access/exchange-connector?sync=busy")
    );
    let (status, html) = app
        .get_html("/conditional-access/exchange-connector?sync=busy")
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("A sync is already running."),
        "the refusal is on the page"
    );
    assert!(
        html.contains("role=\"progressbar\""),
        "the running sync is on the first paint"
    );
    app.control.wait_idle().await;
}

#[tokio::test]
async fn the_history_server_function_reads_an_empty_request_as_no_filter() {
    let app = TestApp::with_sim(20, 10).await;
    app.set_up().await.expect("set-up");
    let page: HistoryPage = app.call("sync-history/page").await.expect("history page");
    assert_eq!(page.runs.len(), 1);
    assert_eq!(page.runs[0].trigger, SyncTrigger::Setup);
    assert_eq!(page.chart.len(), 1);
    assert!(page.next_cursor.is_none());
}

#[tokio::test]
async fn the_csv_export_streams_a_long_history_whole_and_in_order() {
    let app = TestApp::with_sim(5, 10).await;
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    // 1,200 finished runs copied from set-up's, each a second apart.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) \
         INSERT INTO sync_runs (id, connector_id, kind, trigger, status, started_at) \
         SELECT printf('run-%05d', i), connector_id, 'deltaSync', 'scheduled', 'succeeded', \
                strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', printf('+%d seconds', i)) \
           FROM n, (SELECT connector_id FROM sync_runs LIMIT 1)",
    )
    .execute(&db)
    .await
    .expect("runs");
    let r = app
        .http()
        .get(format!("{}{CSV_PATH}?trigger=scheduled", app.base_url))
        .send()
        .await
        .expect("download");
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-length").is_none(), "streamed");
    let body = r.text().await.expect("body");
    let ids: Vec<&str> = body
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().expect("id"))
        .collect();
    let expected: Vec<String> = (1..=1200).rev().map(|i| format!("run-{i:05}")).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn many_open_streams_share_one_status_per_change_and_each_sees_the_run() {
    let app = TestApp::with_sim(60, 10).await;
    app.set_up().await.expect("set-up");
    let mut streams = Vec::new();
    for _ in 0..6 {
        let client = app.signed_in(Role::Reader).await;
        let mut events = Events::open_with(&app, &client).await;
        events.next().await.expect("first message");
        streams.push((client, events));
    }
    let before = app.control.live_statuses_computed();
    app.sim
        .as_ref()
        .expect("sim")
        .state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 100 }).for_cmdlet("Get-MobileDevice"));
    app.control
        .start(SyncKind::FullSync, SyncTrigger::Manual, None)
        .await
        .expect("the sync starts");
    let mut received = 0;
    for (_, events) in &mut streams {
        events
            .until(Duration::from_secs(20), |s| {
                s.overview.connector.as_ref().is_some_and(|c| !c.syncing) && s.progress.is_none()
            })
            .await;
        received += 1;
    }
    assert_eq!(received, 6);
    let computed = app.control.live_statuses_computed() - before;
    // One status per (coalesced) change for all six streams: a six-page run with its phases
    // makes a few dozen changes at most; computed per stream it would be six times as many.
    assert!(
        (1..=40).contains(&computed),
        "{computed} statuses computed for 6 streams"
    );
}

#[tokio::test]
async fn a_stream_ends_when_its_session_signs_out_and_a_session_holds_at_most_eight() {
    let app = TestApp::with_sim(10, 10).await;
    app.set_up().await.expect("set-up");
    let reader = app.signed_in(Role::Reader).await;
    let mut open = Vec::new();
    for _ in 0..8 {
        let mut events = Events::open_with(&app, &reader).await;
        events.next().await.expect("first message");
        open.push(events);
    }
    let ninth = reader
        .get(format!("{}{EVENTS_PATH}", app.base_url))
        .send()
        .await
        .expect("answer");
    assert_eq!(ninth.status(), 429, "a ninth stream of one session");
    // Another session is not limited by this one's.
    let other = app.signed_in(Role::Reader).await;
    let mut theirs = Events::open_with(&app, &other).await;
    theirs.next().await.expect("first message");

    // Signed out elsewhere (the same cookie): every stream of the session ends.
    let r = reader
        .post(format!("{}/api/auth/sign-out", app.base_url))
        .header("accept", "application/json")
        .send()
        .await
        .expect("sign-out");
    assert_eq!(r.status(), 200);
    for mut events in open {
        let ended = tokio::time::timeout(Duration::from_secs(15), async {
            while events.next().await.is_some() {}
        })
        .await;
        assert!(ended.is_ok(), "the stream ended after the sign-out");
    }
    // The other session's stream goes on.
    app.control
        .start(SyncKind::DeltaSync, SyncTrigger::Manual, None)
        .await
        .expect("sync");
    // Any message after the sync started: the stream is alive.
    theirs.until(Duration::from_secs(10), |_| true).await;
}

#[tokio::test]
async fn the_csv_exports_arrive_whole_when_the_browser_asks_for_gzip_or_brotli() {
    let app = TestApp::with_sim(30, 10).await;
    app.set_up().await.expect("set-up");
    for path in [
        CSV_PATH,
        "/conditional-access/devices.csv",
        "/admin/audit-log.csv",
    ] {
        for encoding in ["gzip", "br"] {
            let r = app
                .http()
                .get(format!("{}{path}", app.base_url))
                .header("accept-encoding", encoding)
                .send()
                .await
                .expect("answer");
            assert_eq!(r.status(), 200, "{path} {encoding}");
            assert_eq!(
                r.headers()
                    .get("content-encoding")
                    .and_then(|v| v.to_str().ok()),
                Some(encoding),
                "{path}"
            );
            // Read to its end: a body broken off mid-stream fails here.
            let body = r
                .bytes()
                .await
                .unwrap_or_else(|e| panic!("{path} {encoding}: {e}"));
            assert!(!body.is_empty(), "{path} {encoding}");
        }
    }
}
