//! Set-up as the signed-in admin (`EXO_AUTH_MODE=delegated`): the round trip through the
//! simulator's consent page, the checklist, the refresh token at rest, refusals of a tampered
//! `state`, a replayed code and a wrong PKCE verifier; removal of the connector.

use std::net::SocketAddr;
use std::time::Duration;

use exchange_connector::error::ApiError;
use exchange_connector::model::{
    ConnectionStatus, ConnectorOverview, IdentityMode, Role, SetUpInfo,
};
use exchange_connector::server::config::AuthMode;
use exchange_connector::sim::{self, RunningSimulator, SimConfig};
use reqwest::redirect::Policy;

use crate::helpers::{settings_for, TestApp};

pub(crate) async fn consenting_sim(devices: usize) -> RunningSimulator {
    let config = SimConfig {
        devices,
        mailboxes: devices / 2 + 1,
        clock: sim::ClockMode::Frozen,
        auto_consent: true,
        ..SimConfig::default()
    };
    sim::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("simulator starts")
}

async fn delegated_app(devices: usize) -> TestApp {
    let sim = consenting_sim(devices).await;
    let mut settings = settings_for(&sim);
    settings.auth_mode = AuthMode::Delegated;
    TestApp::spawn(settings, 1000, Some(sim)).await
}

/// An admin's browser that does not follow redirects (each hop is checked).
pub(crate) async fn browser(app: &TestApp) -> reqwest::Client {
    app.signed_in_with(
        Role::Admin,
        reqwest::Client::builder().redirect(Policy::none()),
    )
    .await
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_owned()
}

/// `/auth/exchange/start`, then the simulator's authorize (auto-consent): the callback URL it
/// sends the browser back to.
pub(crate) async fn consent(app: &TestApp, client: &reqwest::Client) -> url::Url {
    let r = client
        .get(format!("{}/auth/exchange/start", app.base_url))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status().as_u16(), 303, "start redirects");
    let authorize = location(&r);
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(authorize.contains("state="), "{authorize}");
    let r = client.get(&authorize).send().await.expect("authorize");
    assert_eq!(
        r.status().as_u16(),
        302,
        "the simulator consents and sends back"
    );
    let back = url::Url::parse(&location(&r)).expect("callback URL");
    assert_eq!(back.path(), "/auth/exchange/callback");
    back
}

pub(crate) async fn callback(client: &reqwest::Client, url: &url::Url) {
    let r = client.get(url.as_str()).send().await.expect("callback");
    assert_eq!(r.status().as_u16(), 303, "back to the page");
    assert_eq!(location(&r), "/conditional-access/exchange-connector");
}

async fn call<T: serde::de::DeserializeOwned>(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> Result<T, (u16, ApiError)> {
    let (status, body) = crate::helpers::call_fn(client, &app.base_url, endpoint, form).await;
    if status == 200 {
        Ok(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
    } else {
        Err((
            status,
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")),
        ))
    }
}

async fn info(app: &TestApp, client: &reqwest::Client) -> SetUpInfo {
    call(app, client, "connector/set-up-info", &[])
        .await
        .expect("info")
}

/// Waits until the connector's first sync has ended.
pub(crate) async fn synced(app: &TestApp) -> ConnectorOverview {
    for _ in 0..200 {
        let o = app.overview().await;
        if o.connector
            .as_ref()
            .is_some_and(|c| !c.syncing && c.last_sync_at.is_some())
        {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the first sync did not finish")
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.db().await)
        .await
        .expect(sql)
}

#[tokio::test]
async fn the_admin_consents_and_the_connector_connects_as_the_admin_named_by_the_id_token() {
    let app = delegated_app(40).await;
    let client = browser(&app).await;
    let before = info(&app, &client).await;
    assert_eq!(before.mode, IdentityMode::Delegated);
    assert!(before.can_manage);
    let back = consent(&app, &client).await;
    callback(&client, &back).await;

    let overview = synced(&app).await;
    let c = overview.connector.expect("connector");
    let admin = app.sim.as_ref().expect("sim").config().admin_upn();
    assert_eq!(
        c.account, admin,
        "the account is the admin from the id_token"
    );
    assert_eq!(c.mode, IdentityMode::Delegated);
    assert_eq!(c.status, ConnectionStatus::Connected);
    assert_eq!(c.device_count, 40);
    assert!(c
        .set_up_by
        .as_deref()
        .is_some_and(|b| b.starts_with("admin-")));

    // The checklist of the attempt: all 13 allowed.
    let after = info(&app, &client).await;
    assert_eq!(after.error, None);
    assert_eq!(
        after.checks.len(),
        13 + 4,
        "the required cmdlets, then the optional ones"
    );
    assert!(
        after.checks.iter().all(|c| c.allowed == Some(true)),
        "{after:?}"
    );

    // The refresh token is stored sealed (never as text), under a private key file.
    let db = app.db().await;
    let (nonce, ciphertext): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT nonce, ciphertext FROM connector_secrets WHERE name = 'refresh_token'",
    )
    .fetch_one(&db)
    .await
    .expect("a sealed refresh token");
    assert_eq!(nonce.len(), 12);
    assert!(ciphertext.len() > 16);
    let key = app.db_file.parent().expect("dir").join("secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'setUp' AND result = 'success'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn after_a_restart_the_connector_still_acts_as_the_admin_with_the_stored_token() {
    let app = delegated_app(12).await;
    let client = browser(&app).await;
    let back = consent(&app, &client).await;
    callback(&client, &back).await;
    synced(&app).await;
    app.control.shutdown();

    let mut settings = settings_for(app.sim.as_ref().expect("sim"));
    settings.auth_mode = AuthMode::Delegated;
    let again = TestApp::reopen(&app, settings).await;
    let run = again
        .control
        .run(exchange_connector::model::SyncKind::DeltaSync)
        .await
        .expect("a sync after the restart");
    assert_eq!(
        run.status,
        exchange_connector::model::SyncStatus::Succeeded,
        "{run:?}"
    );
}

#[tokio::test]
async fn a_tampered_state_a_replayed_answer_and_a_wrong_verifier_are_refused_and_nothing_is_saved()
{
    let app = delegated_app(8).await;
    let client = browser(&app).await;

    // A changed state.
    let mut back = consent(&app, &client).await;
    let pairs: Vec<(String, String)> = back
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    back.query_pairs_mut().clear().extend_pairs(pairs);
    callback(&client, &back).await;
    let i = info(&app, &client).await;
    assert!(
        i.error
            .as_deref()
            .is_some_and(|e| e.contains("state differs")),
        "{i:?}"
    );

    // The same answer twice: the second one finds no set-up waiting for it.
    let back = consent(&app, &client).await;
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    // Round A's code with round B's state: B's verifier does not match A's challenge.
    let round_b = consent(&app, &client).await;
    let state_b = round_b
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let mut mixed = round_b.clone();
    mixed
        .query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", &state_b);
    callback(&client, &mixed).await;
    let i = info(&app, &client).await;
    let e = i.error.expect("refused");
    assert!(e.contains("invalid_grant") || e.contains("refused"), "{e}");
    // Round B's own answer, now that B was used: already used.
    callback(&client, &round_b).await;
    let i = info(&app, &client).await;
    assert!(
        i.error
            .as_deref()
            .is_some_and(|e| e.contains("already used")),
        "{i:?}"
    );

    assert!(
        app.overview().await.connector.is_none(),
        "nothing was set up"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM connector_secrets").await,
        0
    );
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'setUp' AND result <> 'success'"
        )
        .await
            >= 3
    );
}

#[tokio::test]
async fn a_reader_sees_the_set_up_but_cannot_start_or_remove_it() {
    let app = delegated_app(4).await;
    let reader = app
        .signed_in_with(
            Role::Reader,
            reqwest::Client::builder().redirect(Policy::none()),
        )
        .await;
    assert!(!info(&app, &reader).await.can_manage);
    let r = reader
        .get(format!("{}/auth/exchange/start", app.base_url))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status().as_u16(), 403);
    let refused = call::<ConnectorOverview>(&app, &reader, "connector/set-up", &[]).await;
    assert!(
        matches!(refused, Err((403, ApiError::Forbidden { .. }))),
        "{refused:?}"
    );
    let refused = call::<()>(&app, &reader, "connector/remove", &[("confirmation", "x")]).await;
    assert!(
        matches!(refused, Err((403, ApiError::Forbidden { .. }))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn removing_asks_for_the_organization_name_wipes_the_token_and_keeps_or_deletes_the_data() {
    let app = delegated_app(10).await;
    let client = browser(&app).await;
    let back = consent(&app, &client).await;
    callback(&client, &back).await;
    let overview = synced(&app).await;
    let name = {
        let c = overview.connector.expect("connector");
        c.organization.unwrap_or(c.tenant_id)
    };
    let wrong = call::<()>(
        &app,
        &client,
        "connector/remove",
        &[("confirmation", "Contoso?")],
    )
    .await;
    match wrong {
        Err((400, ApiError::Invalid { field, message })) => {
            assert_eq!(field, "confirmation");
            assert!(message.contains(&name), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    call::<()>(
        &app,
        &client,
        "connector/remove",
        &[("confirmation", name.as_str()), ("delete_data", "false")],
    )
    .await
    .expect("removed");
    assert!(app.overview().await.connector.is_none());
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM connector_secrets").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM devices").await,
        10,
        "kept"
    );
    assert!(
        count(&app, "SELECT COUNT(*) FROM sync_runs").await >= 1,
        "kept"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'removal'"
        )
        .await,
        1
    );

    // Set up again, then remove with the data.
    let back = consent(&app, &client).await;
    callback(&client, &back).await;
    synced(&app).await;
    call::<()>(
        &app,
        &client,
        "connector/remove",
        &[("confirmation", name.as_str()), ("delete_data", "true")],
    )
    .await
    .expect("removed with data");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM devices d JOIN connectors c ON c.id = d.connector_id WHERE c.removed_at IS NULL").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM connectors").await,
        1,
        "only the kept one"
    );
}

#[tokio::test]
async fn a_graceful_stop_after_a_delegated_set_up_ends_promptly_with_the_newest_token_stored() {
    let mut app = delegated_app(12).await;
    let client = browser(&app).await;
    let back = consent(&app, &client).await;
    callback(&client, &back).await;
    synced(&app).await;
    // A 401 makes the connector redeem its refresh token: the token rotates (the simulator
    // refuses the old one from now on), and the new one must be stored before it is used.
    let sim = app.sim.as_ref().expect("sim");
    sim.state()
        .faults()
        .push(exchange_connector::sim::FaultRule::times(
            exchange_connector::sim::FaultKind::ExpiredToken,
            1,
        ));
    let run = app
        .control
        .run(exchange_connector::model::SyncKind::DeltaSync)
        .await
        .expect("a sync with a new token");
    assert!(run.retries >= 1, "the token was renewed: {run:?}");

    // SIGTERM does what this does: the server must be gone within 10 seconds.
    app.control.shutdown();
    tokio::time::timeout(Duration::from_secs(10), &mut app.server)
        .await
        .expect("the server stops within 10 s")
        .expect("task")
        .expect("served");

    // Started again, it acts as the admin with what was stored: the rotated token (the one
    // it replaced is refused by now).
    let mut settings = settings_for(app.sim.as_ref().expect("sim"));
    settings.auth_mode = AuthMode::Delegated;
    let again = TestApp::reopen(&app, settings).await;
    let run = again
        .control
        .run(exchange_connector::model::SyncKind::DeltaSync)
        .await
        .expect("a sync after the restart");
    assert_eq!(
        run.status,
        exchange_connector::model::SyncStatus::Succeeded,
        "{run:?}"
    );
}
