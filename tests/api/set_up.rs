use exchange_connector::error::ApiError;
use exchange_connector::model::{ConnectionStatus, SetUpInfo};
use exchange_connector::server::config::Credential;
use sqlx::Row;

use crate::helpers::{settings_for, start_sim, unreachable_settings, TestApp};

#[tokio::test]
async fn set_up_stores_the_connector_every_device_and_one_sync_record() {
    let app = TestApp::with_sim(57, 10).await;
    let sim = app.sim.as_ref().expect("sim");
    assert_eq!(sim.device_count(), 57);

    let before = app.overview().await;
    assert!(before.connector.is_none());

    let overview = app.set_up().await.expect("set-up succeeds");
    let connector = overview.connector.expect("a connector");
    assert_eq!(connector.status, ConnectionStatus::Connected);
    assert_eq!(connector.device_count, 57);
    assert_eq!(connector.connector_type, "serviceToService");
    assert_eq!(connector.tenant_id, sim.config().tenant_id);
    assert_eq!(
        connector.organization.as_deref(),
        Some(sim.config().organization.as_str())
    );
    assert!(connector.last_sync_at.is_some());
    let by_state: u64 = connector.device_states.iter().map(|s| s.count).sum();
    assert_eq!(by_state, 57, "{:?}", connector.device_states);

    // 57 devices in pages of 10: six pages, each one request, plus the four configuration
    // calls and one statistics call per mailbox with devices.
    assert_eq!(sim.request_count("Get-MobileDevice"), 6);
    assert_eq!(sim.request_count("Get-ActiveSyncOrganizationSettings"), 1);
    assert_eq!(sim.request_count("Get-MobileDeviceMailboxPolicy"), 1);
    assert_eq!(sim.request_count("Get-ActiveSyncDeviceAccessRule"), 1);
    assert_eq!(sim.request_count("Get-ActiveSyncDeviceClass"), 1);
    let statistics = sim.request_count("Get-MobileDeviceStatistics");
    assert!(statistics > 0 && statistics <= 29, "{statistics}");

    let db = app.db().await;
    let devices: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM devices WHERE removed_at IS NULL AND connector_id = ?1",
    )
    .bind(&connector.id)
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(devices, 57);
    let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT guid) FROM devices")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(distinct, 57, "paging must not repeat or skip devices");

    let runs = sqlx::query(
        "SELECT kind, trigger, status, devices_seen, devices_added, api_calls, \
                mailboxes_queried FROM sync_runs",
    )
    .fetch_all(&db)
    .await
    .expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.get::<String, _>("kind"), "fullSync");
    assert_eq!(run.get::<String, _>("trigger"), "setup");
    assert_eq!(run.get::<String, _>("status"), "succeeded");
    assert_eq!(run.get::<i64, _>("devices_seen"), 57);
    assert_eq!(run.get::<i64, _>("devices_added"), 57);
    assert_eq!(run.get::<i64, _>("api_calls"), 6 + 4 + statistics as i64);
    assert_eq!(run.get::<i64, _>("mailboxes_queried"), statistics as i64);

    // What the page reads after a reload comes from the database.
    let again = app.overview().await.connector.expect("connector");
    assert_eq!(again.status, ConnectionStatus::Connected);
    assert_eq!(again.device_count, 57);
    assert_eq!(again.last_sync_at, connector.last_sync_at);
}

#[tokio::test]
async fn set_up_when_exchange_is_unreachable_leaves_a_disconnected_connector_and_no_devices() {
    let app = TestApp::spawn(unreachable_settings(), 1000, None).await;

    let error = app.set_up().await.expect_err("set-up fails");
    let ApiError::Exchange { message, .. } = &error else {
        panic!("expected an Exchange error, got {error:?}")
    };
    assert!(message.contains("could not be reached"), "{message}");
    assert!(message.contains("connection refused"), "{message}");
    assert!(
        message.contains("127.0.0.1:9"),
        "the message names host and port: {message}"
    );

    let connector = app.overview().await.connector.expect("connector recorded");
    assert_eq!(connector.status, ConnectionStatus::Disconnected);
    assert_eq!(connector.status_reason.as_deref(), Some(message.as_str()));
    assert_eq!(connector.device_count, 0);
    assert!(connector.last_sync_at.is_none());

    let db = app.db().await;
    let devices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(devices, 0);
    // The permission pre-flight failed before any sync could start.
    let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_runs")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(runs, 0);
}

#[tokio::test]
async fn a_wrong_client_secret_is_reported_as_refused_credentials() {
    let sim = start_sim(5, 5).await;
    let mut settings = settings_for(&sim);
    settings.credential = Credential::Secret("wrong-secret".to_string().into());
    let app = TestApp::spawn(settings, 1000, Some(sim)).await;

    let error = app.set_up().await.expect_err("refused");
    let text = error.to_string();
    assert!(
        text.contains("refused the connector's credentials"),
        "{text}"
    );
    assert!(
        !text.contains("wrong-secret"),
        "the secret must not be echoed: {text}"
    );
    assert_eq!(
        app.overview().await.connector.expect("connector").status,
        ConnectionStatus::Disconnected
    );
    assert_eq!(
        app.sim
            .as_ref()
            .expect("sim")
            .request_count("Get-MobileDevice"),
        0
    );
}

#[tokio::test]
async fn a_failed_set_up_can_be_retried_and_then_connects() {
    // The first attempt fails because the secret is wrong; the admin fixes nothing on our side
    // but Exchange comes back: simulated by pointing a second app at the same database.
    let sim = start_sim(12, 6).await;
    let mut bad = settings_for(&sim);
    bad.credential = Credential::Secret("wrong".to_string().into());
    let app = TestApp::spawn(bad, 1000, None).await;
    app.set_up().await.expect_err("first attempt fails");

    let fixed = TestApp::reopen(&app, settings_for(&sim)).await;
    let overview = fixed.set_up().await.expect("retry succeeds");
    let connector = overview.connector.expect("connector");
    assert_eq!(connector.status, ConnectionStatus::Connected);
    assert_eq!(connector.device_count, 12);
    assert!(connector.status_reason.is_none());
}

#[tokio::test]
async fn setting_up_a_connected_connector_again_is_refused_and_changes_nothing() {
    let app = TestApp::with_sim(8, 1000).await;
    let first = app.set_up().await.expect("first set-up");
    let error = app.set_up().await.expect_err("second set-up refused");
    assert!(matches!(error, ApiError::Conflict { .. }), "{error:?}");
    let after = app.overview().await;
    assert_eq!(
        after.connector.expect("c").last_sync_at,
        first.connector.expect("c").last_sync_at
    );
}

#[tokio::test]
async fn the_page_is_server_rendered_with_the_requirements_and_the_button() {
    let app = TestApp::with_sim(3, 1000).await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Set Up Service to Service Connector"));
    assert!(html.contains("Get-ActiveSyncDeviceClass"));
    let (status, _) = app.get_html("/conditional-access/exchange-connector").await;
    assert_eq!(status, 200);
    let (status, _) = app.get_html("/nowhere").await;
    assert_eq!(status, 404);
    let (status, body) = app.get_html("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn set_up_stops_before_syncing_when_the_account_may_not_run_a_required_cmdlet() {
    let sim = start_sim(9, 5).await;
    sim.state()
        .set_denied("Set-ActiveSyncOrganizationSettings")
        .expect("rbac");
    let settings = settings_for(&sim);
    let app = TestApp::spawn(settings, 1000, Some(sim)).await;

    let error = app.set_up().await.expect_err("refused by the pre-flight");
    let ApiError::Exchange { message, code, .. } = &error else {
        panic!("expected an Exchange error, got {error:?}")
    };
    assert_eq!(code.as_deref(), Some("MissingPermissions"));
    assert!(
        message.contains("is not allowed to run Set-ActiveSyncOrganizationSettings."),
        "{message}"
    );
    // Nothing is saved but the audit entry.
    assert!(
        app.overview().await.connector.is_none(),
        "no connector saved"
    );
    let sim = app.sim.as_ref().expect("sim");
    assert_eq!(
        sim.request_count("Get-MobileDevice"),
        0,
        "nothing was synced"
    );
    // The checklist: that one cmdlet denied, with what to grant; the other twelve allowed.
    let info: SetUpInfo = app.call("connector/set-up-info").await.expect("info");
    assert_eq!(info.error.as_deref(), Some(message.as_str()));
    assert_eq!(
        info.checks.len(),
        13 + 4,
        "the required cmdlets, then the optional ones"
    );
    for check in &info.checks {
        if check.cmdlet == "Set-ActiveSyncOrganizationSettings" {
            assert_eq!(check.allowed, Some(false));
            assert!(check
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("Organization Client Access")));
        } else {
            assert_eq!(check.allowed, Some(true), "{check:?}");
            assert_eq!(check.hint, None);
        }
    }
    let db = app.db().await;
    let audit: (String, String) = sqlx::query_as(
        "SELECT result, detail FROM audit_log WHERE action = 'setUp' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .expect("audited");
    assert_eq!(audit.0, "denied");
    assert!(
        audit.1.contains("Set-ActiveSyncOrganizationSettings"),
        "{audit:?}"
    );
    let saved: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM connectors")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(saved, 0);
}

#[tokio::test]
async fn a_failure_inside_the_server_during_set_up_shows_the_plain_message_not_its_internals() {
    let app = TestApp::with_sim(4, 1000).await;
    // The database refuses to save the connector, with a message only the log may hold.
    let db = app.db().await;
    sqlx::query(
        "CREATE TRIGGER refuse_connector BEFORE INSERT ON connectors \
         BEGIN SELECT RAISE(ABORT, 'internal detail /var/lib/connector'); END",
    )
    .execute(&db)
    .await
    .expect("trigger");

    let error = app.set_up().await.expect_err("set-up fails");
    assert!(matches!(error, ApiError::Internal), "{error:?}");
    let plain = ApiError::Internal.to_string();
    let info: SetUpInfo = app.call("connector/set-up-info").await.expect("info");
    assert_eq!(info.error.as_deref(), Some(plain.as_str()));
    let (result, detail): (String, String) = sqlx::query_as(
        "SELECT result, detail FROM audit_log WHERE action = 'setUp' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .expect("audited");
    assert_eq!(
        (result.as_str(), detail.as_str()),
        ("failure", plain.as_str())
    );
    let leaked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%internal detail%'")
            .fetch_one(&db)
            .await
            .expect("count");
    assert_eq!(leaked, 0);
}

#[tokio::test]
async fn while_the_first_sync_runs_the_page_says_so_instead_of_unhealthy_and_never() {
    let app = TestApp::with_sim(40, 10).await;
    // Four device pages of 400 ms: the first sync takes a while.
    app.slow_device_pages(400);
    let started: exchange_connector::model::ConnectorOverview =
        app.call("connector/set-up").await.expect("set-up starts");
    let c = started.connector.expect("connector");
    assert_eq!(c.status, ConnectionStatus::ConnectionPending);
    assert!(c.syncing, "the first sync runs in the background");
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("First sync running"), "{html}");
    assert!(html.contains(r#"data-testid="first-sync""#));
    assert!(
        !html.contains(r#"data-health="unhealthy""#),
        "no failure shown"
    );
    assert!(!html.contains(">Never<"), "no 'Never' during set-up");
    assert!(
        !html.contains("Try again"),
        "no offer to try again while the set-up goes well"
    );

    let done = app.settled().await.connector.expect("connector");
    assert_eq!(done.status, ConnectionStatus::Connected);
    assert_eq!(done.device_count, 40);
    let (_, html) = app.get_html("/").await;
    assert!(!html.contains("First sync running"));
}

#[tokio::test]
async fn a_set_up_whose_browser_goes_away_still_ends_its_first_sync() {
    let app = TestApp::with_sim(40, 10).await;
    app.slow_device_pages(300);
    // A plain form post waits for the first sync; this browser gives up after half a second.
    let gone = app
        .http()
        .post(format!("{}/api/connector/set-up", app.base_url))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await;
    assert!(
        gone.is_err_and(|e| e.is_timeout()),
        "the browser went away first"
    );
    let c = app.settled().await.connector.expect("connector");
    assert_eq!(c.status, ConnectionStatus::Connected, "{c:?}");
    assert_eq!(c.device_count, 40);
    let db = app.db().await;
    let runs: Vec<String> = sqlx::query_scalar("SELECT status FROM sync_runs")
        .fetch_all(&db)
        .await
        .expect("runs");
    assert_eq!(runs, ["succeeded"]);
}
