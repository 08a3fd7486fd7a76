//! Alert webhooks against a real receiver on loopback: signed JSON verified with the key shown
//! once, a 500 retried, one delivery per transition, the health transitions, Teams' and
//! Slack's formats, a receiver that never answers given up, and what admins and readers see.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use exchange_connector::app::paths;
use exchange_connector::model::{
    CreatedWebhook, Delivery, DeliveryStatus, HealthThresholds, NotificationsPage, Role, SyncKind,
    WebhookFlash,
};
use exchange_connector::server::alerts::AlertSettings;
use exchange_connector::sim::{FaultKind, FaultRule};
use serde_json::Value;

use crate::helpers::{call_fn, settings_for, start_sim, TestApp};

/// What the receiver got: its path, headers and body.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

/// A webhook receiver: records every request; answers each path with its scripted statuses
/// in turn (then 200).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
    base: String,
}

impl Receiver {
    async fn start() -> Self {
        let mut receiver = Self::default();
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        receiver.base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = axum::Router::new()
            .route("/{path}", axum::routing::post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    /// Answers the requests to `path` (or, as `path#event`, only those of one event) with
    /// `statuses` in turn, then 200.
    fn answer(&self, path: &str, statuses: &[u16]) {
        self.script
            .lock()
            .expect("script")
            .insert(path.to_owned(), statuses.iter().copied().collect());
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// The same receiver by name (`localhost`): reached through the resolver that refuses
    /// link-local, broadcast and multicast addresses.
    fn named_url(&self, path: &str) -> String {
        self.url(path).replacen("127.0.0.1", "localhost", 1)
    }

    fn got(&self, path: &str) -> Vec<Received> {
        let got = self.got.lock().expect("got").clone();
        got.into_iter().filter(|r| r.path == path).collect()
    }

    /// The requests to `path` for `event` (by the event header, or the body's event).
    fn events(&self, path: &str, event: &str) -> Vec<Received> {
        self.got(path)
            .into_iter()
            .filter(|r| r.headers.get("x-connector-event").map(String::as_str) == Some(event))
            .collect()
    }
}

async fn receive(
    State(r): State<Receiver>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let event = headers
        .get("x-connector-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    r.got.lock().expect("got").push(Received {
        path: path.clone(),
        headers,
        body,
    });
    let status = {
        let mut script = r.script.lock().expect("script");
        let scripted = format!("{path}#{event}");
        match script.get_mut(&scripted).filter(|s| !s.is_empty()) {
            Some(statuses) => statuses.pop_front(),
            None => script.get_mut(&path).and_then(VecDeque::pop_front),
        }
    }
    .unwrap_or(200);
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// Fast checks and retries, and `health` thresholds.
async fn app_with(health: HealthThresholds, give_up: Duration) -> TestApp {
    let sim = start_sim(40, 20).await;
    let settings = settings_for(&sim);
    TestApp::spawn_configured(settings, Some(sim), move |c| {
        c.sync.health = health;
        c.sync.alerts = AlertSettings {
            check_every: Duration::from_millis(100),
            retry_base: Duration::from_millis(200),
            retry_max: Duration::from_millis(400),
            give_up_after: give_up,
            timeout: Duration::from_secs(5),
        };
    })
    .await
}

async fn create(
    app: &TestApp,
    name: &str,
    kind: &str,
    url: &str,
    events: &[&str],
) -> (u16, String) {
    let mut form = vec![
        ("name".to_owned(), name.to_owned()),
        ("kind".to_owned(), kind.to_owned()),
        ("url".to_owned(), url.to_owned()),
    ];
    for (i, e) in events.iter().enumerate() {
        form.push((format!("events[{i}]"), (*e).to_owned()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    call_fn(app.http(), &app.base_url, "notifications/create", &form).await
}

async fn created(
    app: &TestApp,
    name: &str,
    kind: &str,
    url: &str,
    events: &[&str],
) -> CreatedWebhook {
    let (status, body) = create(app, name, kind, url, events).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Option<CreatedWebhook>>(&body)
        .expect("json")
        .expect("created")
}

/// Calls `endpoint` (`notifications/test` or `notifications/resend`) for the delivery or
/// destination `id` as the page does: the delivery as the attempt left it.
async fn attempt(app: &TestApp, endpoint: &str, id: &str) -> Delivery {
    let (status, body) = call_fn(app.http(), &app.base_url, endpoint, &[("id", id)]).await;
    assert_eq!(status, 200, "{endpoint}: {body}");
    serde_json::from_str::<Option<Delivery>>(&body)
        .expect("json")
        .expect("delivery")
}

async fn page(app: &TestApp) -> NotificationsPage {
    app.call("notifications/page").await.expect("page")
}

/// Waits (at most 20 s) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most 20 s) until `done` holds; if it never does, says what the queue held and
/// what the receiver got.
async fn until_queued(
    app: &TestApp,
    receiver: &Receiver,
    what: &str,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        if Instant::now() >= deadline {
            type Row = (
                String,
                String,
                i64,
                Option<String>,
                Option<i64>,
                Option<String>,
            );
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT event, status, attempts, next_attempt_at, last_status, last_error \
                       FROM webhook_deliveries ORDER BY created_at, id",
            )
            .fetch_all(&app.db().await)
            .await
            .expect("deliveries");
            let got: Vec<String> = receiver
                .got
                .lock()
                .expect("got")
                .iter()
                .map(|r| format!("{} {}", r.path, r.headers["x-connector-event"]))
                .collect();
            panic!("never happened: {what}\nqueue: {rows:#?}\nreceived: {got:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the watcher has looked at the connector as it is now (its kept device count).
async fn watched(app: &TestApp) {
    let db = app.db().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM alert_state WHERE key LIKE '%:legacy'")
                .fetch_one(&db)
                .await
                .expect("state");
        if n == 1 {
            return;
        }
        assert!(Instant::now() < deadline, "the watcher never looked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn hmac_ok(key: &str, r: &Received) -> bool {
    let ts = &r.headers["x-connector-timestamp"];
    let sig = r.headers["x-connector-signature"].trim_start_matches("sha256=");
    let bytes: Vec<u8> = (0..sig.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(sig.get(i..i + 2)?, 16).ok())
        .collect();
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    ring::hmac::verify(&k, format!("{ts}.{}", r.body).as_bytes(), &bytes).is_ok()
}

#[tokio::test]
async fn a_failed_sync_reaches_a_signed_json_destination_once_after_a_500_is_retried() {
    let app = app_with(HealthThresholds::default(), Duration::from_secs(3600)).await;
    app.set_up().await.expect("set-up");
    watched(&app).await;
    let receiver = Receiver::start().await;
    // The failure's event only: the permission's, raised by the same look, may arrive first.
    receiver.answer("ops#syncFailed", &[500]);
    let hook = created(
        &app,
        "Ops receiver",
        "json",
        &receiver.url("ops"),
        &["syncFailed", "permissionMissing", "connectorHealthy"],
    )
    .await;
    let key = hook
        .signing_key
        .clone()
        .expect("a JSON destination has a key");
    assert!(key.starts_with("whsec_"));
    assert_eq!(hook.webhook.url_hint, format!("{}/…/ops", receiver.base));

    // Exchange refuses a cmdlet: the run fails.
    let sim = app.sim.as_ref().expect("sim");
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Forbidden).for_cmdlet("Get-MobileDevice"));
    app.control
        .run(SyncKind::DeltaSync)
        .await
        .expect_err("the run fails");

    // The failure: first answered 500, then delivered; the permission too.
    until_queued(
        &app,
        &receiver,
        "the failed sync delivered after a retry",
        || receiver.events("ops", "syncFailed").len() >= 2,
    )
    .await;
    until_queued(&app, &receiver, "the missing permission delivered", || {
        !receiver.events("ops", "permissionMissing").is_empty()
    })
    .await;
    let failed = receiver.events("ops", "syncFailed");
    let deliveries: Vec<&str> = failed
        .iter()
        .map(|r| r.headers["x-connector-delivery"].as_str())
        .collect();
    assert_eq!(failed.len(), 2, "the 500, then the retry: {deliveries:?}");
    for r in &failed {
        assert!(
            hmac_ok(&key, r),
            "the signature verifies with the key shown once"
        );
        assert!(!hmac_ok("whsec_another", r), "and only with it");
        assert_eq!(r.headers["content-type"], "application/json");
    }
    assert_eq!(
        failed[0].headers["x-connector-delivery"], failed[1].headers["x-connector-delivery"],
        "a retry is the same delivery"
    );
    assert_eq!(failed[0].body, failed[1].body, "with the same event");
    let event: Value = serde_json::from_str(&failed[1].body).expect("json");
    assert_eq!(event["event"], "syncFailed");
    assert!(
        event["summary"]
            .as_str()
            .expect("summary")
            .contains("failed"),
        "{event}"
    );
    assert_eq!(event["details"]["syncType"], "deltaSync");
    assert!(event["link"]
        .as_str()
        .expect("link")
        .ends_with("/conditional-access/exchange-connector"));
    let permission: Value =
        serde_json::from_str(&receiver.events("ops", "permissionMissing")[0].body).expect("json");
    assert_eq!(permission["details"]["cmdlets"][0], "Get-MobileDevice");

    // Counted for Prometheus: the 500 as a retry, then the deliveries.
    let metrics = app
        .http()
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(
            "exchange_connector_alert_delivery_attempts_total{kind=\"json\",result=\"retry\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "exchange_connector_alert_delivery_attempts_total{kind=\"json\",result=\"delivered\"}"
        ),
        "{metrics}"
    );

    // Many more checks: nothing more is sent for the same transitions.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.events("ops", "syncFailed").len(), 2);
    assert_eq!(receiver.events("ops", "permissionMissing").len(), 1);

    // The page lists them with their outcome.
    let listed = page(&app).await;
    assert_eq!(listed.webhooks.len(), 1);
    let failed_delivery: Vec<&Delivery> = listed
        .deliveries
        .iter()
        .filter(|d| d.event.as_str() == "syncFailed")
        .collect();
    assert_eq!(failed_delivery.len(), 1, "one delivery per transition");
    assert_eq!(failed_delivery[0].status, DeliveryStatus::Delivered);
    assert_eq!(failed_delivery[0].attempts, 2);
    assert_eq!(failed_delivery[0].last_status, Some(200));

    // A second failed run is a second event; the same refused cmdlet is not news.
    app.control
        .run(SyncKind::DeltaSync)
        .await
        .expect_err("fails again");
    until_queued(&app, &receiver, "the second failure delivered", || {
        receiver.events("ops", "syncFailed").len() == 3
    })
    .await;
    // A restart on the same database while the last run is still the failed one: its
    // transitions were kept, so the new start sends nothing again.
    app.control.shutdown();
    until("the first server stopped", || app.server.is_finished()).await;
    let sent = receiver.got("ops").len();
    let again = TestApp::reopen(&app, settings_for(sim)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        receiver.got("ops").len(),
        sent,
        "a restart repeats no alert"
    );
    assert_eq!(page(&again).await.webhooks.len(), 1);

    // Fixed: a sync succeeds; health never left healthy, so nothing is "healthy again".
    sim.state().faults().clear();
    again.control.run(SyncKind::DeltaSync).await.expect("runs");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(receiver.events("ops", "permissionMissing").len(), 1);
    assert_eq!(receiver.events("ops", "syncFailed").len(), 3);
    assert!(receiver.events("ops", "connectorHealthy").is_empty());
    assert!(
        receiver.got("ops").iter().all(|r| !r.body.contains(&key)),
        "the key is never sent"
    );

    // The address and key are sealed at rest.
    let db = app.db().await;
    let stored: Vec<(Vec<u8>, String)> =
        sqlx::query_as("SELECT url_ciphertext, url_hint FROM webhooks")
            .fetch_all(&db)
            .await
            .expect("rows");
    let plain = receiver.url("ops");
    assert!(!String::from_utf8_lossy(&stored[0].0).contains(&plain));
    assert_eq!(stored[0].1, format!("{}/…/ops", receiver.base));
}

#[tokio::test]
async fn health_turning_warning_unhealthy_and_healthy_again_is_sent_once_each() {
    let health = HealthThresholds {
        warning_secs: 3,
        unhealthy_secs: 5,
    };
    let app = app_with(health, Duration::from_secs(3600)).await;
    app.set_up().await.expect("set-up");
    watched(&app).await;
    let receiver = Receiver::start().await;
    created(
        &app,
        "Health",
        "json",
        &receiver.url("health"),
        &["connectorWarning", "connectorUnhealthy", "connectorHealthy"],
    )
    .await;
    until("warning", || {
        !receiver.events("health", "connectorWarning").is_empty()
    })
    .await;
    until("unhealthy", || {
        !receiver.events("health", "connectorUnhealthy").is_empty()
    })
    .await;
    app.control.run(SyncKind::DeltaSync).await.expect("runs");
    until("healthy again", || {
        !receiver.events("health", "connectorHealthy").is_empty()
    })
    .await;
    let unhealthy: Value =
        serde_json::from_str(&receiver.events("health", "connectorUnhealthy")[0].body)
            .expect("json");
    assert_eq!(unhealthy["details"]["previous"], "warning");
    assert_eq!(unhealthy["connector"]["health"], "unhealthy");
    // Healthy again for a while (under 3 s): each transition was sent once.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for event in ["connectorWarning", "connectorUnhealthy", "connectorHealthy"] {
        assert_eq!(receiver.events("health", event).len(), 1, "{event}");
    }
}

#[tokio::test]
async fn teams_and_slack_get_their_formats_a_dead_receiver_is_given_up_and_readers_see_nothing() {
    let app = app_with(HealthThresholds::default(), Duration::from_millis(700)).await;
    app.set_up().await.expect("set-up");
    let receiver = Receiver::start().await;
    let all = ["syncFailed"];
    let teams = created(&app, "Teams channel", "teams", &receiver.url("teams"), &all).await;
    let slack = created(
        &app,
        "Slack channel",
        "slack",
        &receiver.named_url("slack"),
        &all,
    )
    .await;
    assert_eq!(teams.signing_key, None);
    assert_eq!(slack.signing_key, None);

    // Send test: the answer is the attempt's outcome.
    for (hook, path) in [(&teams, "teams"), (&slack, "slack")] {
        let d = attempt(&app, "notifications/test", &hook.webhook.id).await;
        assert_eq!(d.status, DeliveryStatus::Delivered, "{d:?}");
        assert_eq!(d.last_status, Some(200));
        assert_eq!(receiver.got(path).len(), 1);
        assert!(!receiver.got(path)[0]
            .headers
            .contains_key("x-connector-signature"));
    }
    let card: Value = serde_json::from_str(&receiver.got("teams")[0].body).expect("json");
    assert_eq!(card["type"], "message");
    let content = &card["attachments"][0]["content"];
    assert_eq!(content["type"], "AdaptiveCard");
    assert!(
        content["body"][1]["text"]
            .as_str()
            .expect("text")
            .contains("A test"),
        "{card}"
    );
    let message: Value = serde_json::from_str(&receiver.got("slack")[0].body).expect("json");
    assert!(
        message["text"]
            .as_str()
            .expect("text")
            .contains("Exchange connector: Test"),
        "{message}"
    );
    assert_eq!(message["blocks"][0]["type"], "section");

    // A receiver that always fails is retried, then given up (here after 0.7 s).
    receiver.answer("down", &[503; 100]);
    let down = created(&app, "Down", "json", &receiver.url("down"), &all).await;
    let first = attempt(&app, "notifications/test", &down.webhook.id).await;
    assert_eq!(first.status, DeliveryStatus::Pending);
    assert_eq!(first.last_status, Some(503));
    assert!(first.next_attempt_at.is_some());
    let deadline = Instant::now() + Duration::from_secs(20);
    let gave_up = loop {
        let p = page(&app).await;
        let d = p
            .deliveries
            .into_iter()
            .find(|d| d.id == first.id)
            .expect("listed");
        if d.status == DeliveryStatus::Failed {
            break d;
        }
        assert!(Instant::now() < deadline, "never given up: {d:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(gave_up.attempts >= 2, "{gave_up:?}");
    assert_eq!(gave_up.next_attempt_at, None);
    let tries = receiver.got("down").len();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.got("down").len(), tries, "nothing after giving up");

    // Sent again by hand: one more attempt now. Still refused, it stays failed with the new
    // answer (and is not retried); once the receiver is back, it is delivered.
    let still = attempt(&app, "notifications/resend", &gave_up.id).await;
    assert_eq!(still.status, DeliveryStatus::Failed, "{still:?}");
    assert_eq!(still.attempts, gave_up.attempts + 1);
    assert_eq!(still.last_status, Some(503));
    assert_eq!(receiver.got("down").len(), tries + 1);
    receiver.answer("down", &[]);
    // This time as a plain form post (no JavaScript): back to the page, the outcome shown once.
    let plain = app
        .signed_in_with(
            Role::Admin,
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()),
        )
        .await;
    let r = plain
        .post(format!("{}/api/notifications/resend", app.base_url))
        .header("accept", "text/html")
        .form(&[("id", gave_up.id.as_str())])
        .send()
        .await
        .expect("post");
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(
        r.headers()["location"].to_str().expect("location"),
        paths::NOTIFICATIONS
    );
    let flash = || async {
        let (status, body) = call_fn(&plain, &app.base_url, "notifications/page", &[]).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<NotificationsPage>(&body)
            .expect("page")
            .flash
    };
    let Some(WebhookFlash::Resent(delivered)) = flash().await else {
        panic!("no outcome shown");
    };
    assert_eq!(flash().await, None, "shown once");
    assert_eq!(delivered.status, DeliveryStatus::Delivered, "{delivered:?}");
    assert_eq!(delivered.attempts, gave_up.attempts + 2);
    let last = receiver.got("down").pop().expect("received");
    assert_eq!(
        last.headers["x-connector-delivery"], gave_up.id,
        "the same delivery, sent again"
    );
    // Only a failed delivery is sent again.
    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "notifications/resend",
        &[("id", &gave_up.id)],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"id\""), "{body}");
    assert_eq!(receiver.got("down").len(), tries + 2, "nothing sent");

    // Bad input names its field; nothing is added.
    for (form_url, kind, events, field) in [
        ("ftp://x.example/", "json", vec!["syncFailed"], "url"),
        ("https://x.example/", "email", vec!["syncFailed"], "kind"),
        ("https://x.example/", "json", vec![], "events"),
        ("https://x.example/", "json", vec!["everything"], "events"),
    ] {
        let (status, body) = create(&app, "Bad", kind, form_url, &events).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains(&format!("\"field\":\"{field}\"")),
            "{field}: {body}"
        );
    }
    let (status, body) = create(&app, "", "json", "https://x.example/", &all).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(page(&app).await.webhooks.len(), 3);

    // The page never shows an address in full.
    let listed = serde_json::to_string(&page(&app).await).expect("json");
    assert!(!listed.contains(&receiver.url("teams")), "{listed}");

    // Readers: refused.
    let reader = app.signed_in(Role::Reader).await;
    let (status, _) = call_fn(&reader, &app.base_url, "notifications/page", &[]).await;
    assert_eq!(status, 403);
    for endpoint in ["notifications/test", "notifications/resend"] {
        let (status, _) = call_fn(
            &reader,
            &app.base_url,
            endpoint,
            &[("id", &teams.webhook.id)],
        )
        .await;
        assert_eq!(status, 403, "{endpoint}");
    }

    // The events of a destination change; its address and kind stay.
    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "notifications/events",
        &[
            ("id", &slack.webhook.id),
            ("events[0]", "connectorUnhealthy"),
            ("events[3]", "tokenExpiring"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let slack_now = page(&app)
        .await
        .webhooks
        .into_iter()
        .find(|w| w.id == slack.webhook.id)
        .expect("listed");
    assert_eq!(
        slack_now
            .events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>(),
        ["connectorUnhealthy", "tokenExpiring"]
    );
    assert_eq!(slack_now.url_hint, slack.webhook.url_hint);
    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "notifications/events",
        &[("id", &slack.webhook.id)],
    )
    .await;
    assert_eq!(status, 400, "no event at all is refused: {body}");
    assert!(body.contains("\"field\":\"events\""), "{body}");

    // Adding, changing and deleting are audited, with the address's hint only.
    let db = app.db().await;
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT target, detail FROM audit_log WHERE action = 'settingsChange' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .expect("audit");
    assert!(
        audited
            .iter()
            .any(|(t, d)| t == "alert destination \"Teams channel\""
                && d.contains("Microsoft Teams")
                && d.contains("…eams")),
        "{audited:?}"
    );
    assert!(audited
        .iter()
        .all(|(_, d)| !d.contains(&receiver.url("teams"))));
    assert!(
        audited.iter().any(|(_, d)| d
            == "changed the events of \"Slack channel\" to: Connector turned unhealthy, \
                Delegated sign-in about to expire"),
        "{audited:?}"
    );

    // Delete: gone with its deliveries.
    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "notifications/delete",
        &[("id", &teams.webhook.id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let after = page(&app).await;
    assert_eq!(after.webhooks.len(), 2);
    assert!(after
        .deliveries
        .iter()
        .all(|d| d.webhook_id != teams.webhook.id));
}

#[tokio::test]
async fn a_delegated_sign_in_about_to_expire_is_announced_once() {
    use crate::consent::{browser, callback, consent, consenting_sim, synced};
    let sim = consenting_sim(20).await;
    let mut settings = settings_for(&sim);
    settings.auth_mode = exchange_connector::server::config::AuthMode::Delegated;
    let app = TestApp::spawn_configured(settings, Some(sim), |c| {
        c.sync.alerts.check_every = Duration::from_millis(100);
    })
    .await;
    let admin = browser(&app).await;
    let back = consent(&app, &admin).await;
    callback(&admin, &back).await;
    synced(&app).await;
    let receiver = Receiver::start().await;
    created(
        &app,
        "Sign-in",
        "json",
        &receiver.url("signin"),
        &["tokenExpiring"],
    )
    .await;

    // Just renewed: nothing. Then the stored token last renewed 80 days ago (10 days left).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.got("signin").is_empty());
    let db = app.db().await;
    let renewed = chrono::Utc::now() - chrono::Duration::days(80);
    sqlx::query("UPDATE connector_secrets SET updated_at = ?1 WHERE name = 'refresh_token'")
        .bind(renewed)
        .execute(&db)
        .await
        .expect("aged");
    until("the expiry announced", || {
        !receiver.got("signin").is_empty()
    })
    .await;
    let event: Value = serde_json::from_str(&receiver.got("signin")[0].body).expect("json");
    assert_eq!(event["event"], "tokenExpiring");
    let summary = event["summary"].as_str().expect("summary");
    assert!(
        summary.contains("expires in about 9 days") || summary.contains("expires in about 10 days"),
        "{summary}"
    );
    // Still expiring at every check: announced once.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(receiver.got("signin").len(), 1);
}
