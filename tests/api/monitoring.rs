//! What a monitoring system sees: `/metrics` (Prometheus) after real syncs against the
//! simulator, its optional bearer token, and the `/healthz` and `/readyz` probes.

use std::collections::HashMap;

use exchange_connector::model::{Readiness, SyncKind};
use exchange_connector::sim::{FaultKind, FaultRule};
use secrecy::SecretString;

use crate::helpers::{header, settings_for, start_sim, TestApp};

/// The samples of an exposition: `name{labels}` → value (comments left out).
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn value(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing from {samples:#?}"))
}

/// The samples of the metric `name` whose labels contain every one of `labels`, summed.
fn sum(samples: &HashMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| {
            k.split_once('{')
                .is_some_and(|(n, rest)| n == name && labels.iter().all(|l| rest.contains(l)))
        })
        .map(|(_, v)| v)
        .sum()
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(format!("{}/metrics", app.base_url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("scrape");
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type");
    (status, content_type, response.text().await.expect("body"))
}

#[tokio::test]
async fn metrics_after_syncs_tell_the_runs_the_health_the_devices_and_the_exchange_calls() {
    let app = TestApp::with_sim(120, 25).await;

    // Before any set-up: nothing configured, nothing connected, no device figures.
    let (status, content_type, text) = scrape(&app, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    let before = samples(&text);
    assert_eq!(value(&before, "exchange_connector_configured"), 0.0);
    assert_eq!(value(&before, "exchange_connector_connected"), 0.0);
    assert!(!text.contains("exchange_connector_devices{"), "{text}");
    assert!(
        text.contains("exchange_connector_build_info{version=\""),
        "{text}"
    );

    // The set-up's full sync, then a quick one.
    let overview = app.set_up().await.expect("set-up");
    let connector = overview.connector.expect("connector");
    app.control
        .run(SyncKind::DeltaSync)
        .await
        .expect("quick sync");
    let readiness: Readiness = app.call("devices/readiness").await.expect("readiness");
    let missing = app.http().get(format!("{}/no-such-page/42", app.base_url));
    assert_eq!(missing.send().await.expect("404").status().as_u16(), 404);

    let (status, _, text) = scrape(&app, None).await;
    assert_eq!(status, 200);
    let after = samples(&text);
    assert_eq!(value(&after, "exchange_connector_configured"), 1.0);
    assert_eq!(value(&after, "exchange_connector_connected"), 1.0);
    assert_eq!(value(&after, "exchange_connector_sync_running"), 0.0);
    assert_eq!(
        value(
            &after,
            "exchange_connector_sync_runs_total{kind=\"fullSync\",result=\"succeeded\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "exchange_connector_sync_runs_total{kind=\"deltaSync\",result=\"succeeded\"}"
        ),
        1.0
    );
    assert_eq!(
        sum(
            &after,
            "exchange_connector_sync_duration_seconds_count",
            &[]
        ),
        2.0
    );
    assert_eq!(
        value(&after, "exchange_connector_health{state=\"healthy\"}"),
        1.0
    );
    assert_eq!(
        value(&after, "exchange_connector_health{state=\"unhealthy\"}"),
        0.0
    );
    let synced = value(
        &after,
        "exchange_connector_last_successful_sync_timestamp_seconds",
    );
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        (now - 120.0..=now + 1.0).contains(&synced),
        "{synced} vs {now}"
    );

    // Devices by access state add up to the connector's device count; every state is listed.
    assert_eq!(
        sum(&after, "exchange_connector_devices", &[]),
        connector.device_count as f64
    );
    assert!(connector.device_count > 0);
    for state in [
        "Allowed",
        "Blocked",
        "Quarantined",
        "DeviceDiscovery",
        "Other",
    ] {
        let key = format!("exchange_connector_devices{{access_state=\"{state}\"}}");
        assert!(after.contains_key(&key), "{key} missing");
    }
    assert_eq!(
        value(&after, "exchange_connector_devices_below_eas_16_1"),
        readiness.legacy_total as f64
    );

    // 120 devices in pages of 25: at least five device pages per run, each answered 200.
    assert!(
        value(
            &after,
            "exchange_connector_exchange_requests_total{cmdlet=\"Get-MobileDevice\",status=\"200\"}"
        ) >= 10.0,
        "{text}"
    );
    // Requests are counted by route pattern, never by path.
    assert!(
        sum(
            &after,
            "exchange_connector_http_requests_total",
            &["route=\"/metrics\"", "status=\"200\""]
        ) >= 1.0,
        "{text}"
    );
    // What nothing answered is counted under one label, not under its path.
    assert!(
        sum(
            &after,
            "exchange_connector_http_requests_total",
            &["route=\"unmatched\"", "status=\"404\""]
        ) >= 1.0,
        "{text}"
    );
    assert!(!text.contains("no-such-page"), "{text}");
    assert!(!text.contains(&connector.id), "no id in labels");
}

#[tokio::test]
async fn throttled_exchange_answers_and_the_waits_they_cause_are_counted() {
    let app = TestApp::with_sim(60, 25).await;
    app.set_up().await.expect("set-up");
    let sim = app.sim.as_ref().expect("sim");
    sim.state().faults().push(
        FaultRule::times(
            FaultKind::Throttle {
                retry_after_secs: 1.0,
            },
            1,
        )
        .for_cmdlet("Get-MobileDevice"),
    );
    app.control
        .run(SyncKind::FullSync)
        .await
        .expect("the sync waits out one 429");
    let (_, _, text) = scrape(&app, None).await;
    let s = samples(&text);
    assert_eq!(
        value(
            &s,
            "exchange_connector_exchange_requests_total{cmdlet=\"Get-MobileDevice\",status=\"429\"}"
        ),
        1.0,
        "{text}"
    );
    assert!(
        value(
            &s,
            "exchange_connector_exchange_wait_seconds_total{reason=\"throttled\"}"
        ) >= 1.0,
        "{text}"
    );
}

#[tokio::test]
async fn with_a_metrics_token_only_that_bearer_token_may_scrape() {
    let sim = start_sim(10, 5).await;
    let app = TestApp::spawn_configured(settings_for(&sim), Some(sim), |config| {
        config.security.metrics_token = Some(SecretString::from("scrape-me-0123456789"));
    })
    .await;
    for token in [None, Some("wrong"), Some("scrape-me-012345678")] {
        let (status, _, text) = scrape(&app, token).await;
        assert_eq!(status, 401, "{token:?}: {text}");
        assert!(!text.contains("exchange_connector"), "{text}");
    }
    let (status, _, text) = scrape(&app, Some("scrape-me-0123456789")).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("exchange_connector_configured 0"), "{text}");
}

async fn readyz(app: &TestApp) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{}/readyz", app.base_url))
        .await
        .expect("readyz");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn readyz_checks_the_database_and_the_workers_and_healthz_only_the_process() {
    let sim = start_sim(10, 5).await;
    let app = TestApp::spawn_configured(settings_for(&sim), Some(sim), |config| {
        // The scheduler is a worker /readyz watches.
        config.sync.schedule = true;
    })
    .await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["workers"], "ok");

    // A database without this build's last migration (an older schema, a restore gone wrong).
    let db = app.db().await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&db)
    .await
    .expect("forget a migration");
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not ready");
    let problem = body["checks"]["database"].as_str().unwrap_or_default();
    assert!(problem.contains("migration"), "{problem}");
    assert_eq!(body["checks"]["workers"], "ok");

    // The process still answers.
    let health = reqwest::get(format!("{}/healthz", app.base_url))
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);

    // Stopping: no longer ready, so that a load balancer sends requests elsewhere.
    app.control.shutdown();
    let gone = reqwest::get(format!("{}/readyz", app.base_url)).await;
    if let Ok(r) = gone {
        assert_eq!(r.status().as_u16(), 503);
    }
}
