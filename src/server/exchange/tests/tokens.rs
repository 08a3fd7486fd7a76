//! The three ways to a token (spec §2) against the simulator's identity endpoints: client
//! secret (elsewhere), certificate assertion, and the delegated code flow with PKCE and refresh.

use super::super::delegated::{AuthorizeRequest, Pkce};
use super::*;
use crate::server::config::{AuthMode, ClientCertificate, Credential};
use crate::sim::{FaultKind, FaultRule};

const CERT: &str = include_str!("../../../../tests/fixtures/certs/app.pem");
const KEY: &str = include_str!("../../../../tests/fixtures/certs/app.key");
const OTHER_CERT: &str = include_str!("../../../../tests/fixtures/certs/other.pem");
const OTHER_KEY: &str = include_str!("../../../../tests/fixtures/certs/other.key");
const REDIRECT: &str = "http://127.0.0.1:3000/auth/exchange/callback";

fn with_certificate(sim: &RunningSimulator, cert: &str, key: &str) -> ExchangeClient {
    let mut s = settings(sim);
    s.credential = Credential::Certificate(
        ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes()).expect("certificate"),
    );
    ExchangeClient::new(&s, &fast(1000)).expect("client")
}

#[tokio::test]
async fn a_registered_certificate_signs_in_without_a_secret() {
    let sim = simulator(4, |c| c.client_certificates = vec![CERT.to_owned()]).await;
    let c = with_certificate(&sim, CERT, KEY);
    let (devices, _) = all_devices(&c)
        .await
        .expect("signed in with the certificate");
    assert_eq!(devices, 4);
    let token = sim
        .state()
        .recent_requests()
        .into_iter()
        .find(|r| r.path.ends_with("/token"))
        .expect("token request");
    assert!(token.body.contains("client_assertion_type"));
    assert!(!token.body.contains("client_secret"));
}

#[tokio::test]
async fn an_unregistered_certificate_is_refused_as_credentials() {
    let sim = simulator(4, |c| c.client_certificates = vec![CERT.to_owned()]).await;
    let c = with_certificate(&sim, OTHER_CERT, OTHER_KEY);
    let e = org_settings(&c).await.expect_err("refused");
    assert!(matches!(e, ExchangeError::Credentials { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("refused the connector's credentials"),
        "{e}"
    );
    assert_eq!(
        sim.state().received("Get-ActiveSyncOrganizationSettings"),
        0
    );
}

fn delegated(sim: &RunningSimulator) -> (ExchangeSettings, ExchangeClient) {
    let mut s = settings(sim);
    s.auth_mode = AuthMode::Delegated;
    let c = ExchangeClient::new(&s, &fast(1000)).expect("client");
    (s, c)
}

/// Follows the authorize URL like a browser whose admin accepts at once; the code and state
/// the simulator sent back.
async fn consent(url: url::Url) -> (String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let response = http.get(url).send().await.expect("authorize answers");
    assert_eq!(response.status().as_u16(), 302, "auto-consent redirects");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location");
    let back = url::Url::parse(location).expect("redirect URL");
    assert!(location.starts_with(REDIRECT), "{location}");
    let get = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    (get("code"), get("state"))
}

#[tokio::test]
async fn the_admin_signs_in_with_pkce_and_the_connector_acts_as_that_admin() {
    let sim = simulator(6, |c| c.auto_consent = true).await;
    let (settings, c) = delegated(&sim);
    let before = org_settings(&c).await.expect_err("nobody signed in yet");
    assert_eq!(before.code(), "NotSignedIn");

    let pkce = Pkce::new();
    let url = c.authorize_url(&AuthorizeRequest {
        redirect_uri: REDIRECT,
        state: "state-123",
        challenge: &pkce.challenge,
        nonce: "nonce-9",
        login_hint: None,
    });
    let (code, state) = consent(url).await;
    assert_eq!(state, "state-123");
    let grant = c
        .redeem_code(&code, &pkce.verifier, REDIRECT, Some("nonce-9"))
        .await
        .expect("code redeemed");
    let admin = format!("admin@{}", sim.config().tenant_domain);
    assert_eq!(grant.user, admin);
    assert!(
        !format!("{grant:?}").contains("refresh"),
        "Debug hides the tokens"
    );

    let admin_client = c.signed_in(&settings, grant, None).await;
    assert_eq!(admin_client.account(), admin);
    let (devices, _) = all_devices(&admin_client).await.expect("acts as the admin");
    assert_eq!(devices, 6);
    let last = sim
        .state()
        .recent_requests()
        .into_iter()
        .rev()
        .find(|r| r.cmdlet.as_deref() == Some("Get-MobileDevice"))
        .expect("a device request");
    assert_eq!(
        last.header("x-anchormailbox"),
        Some(format!("UPN:{admin}").as_str())
    );

    // An expired access token is replaced through the refresh token, which rotates.
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::ExpiredToken, 1));
    org_settings(&admin_client).await.expect("refreshed");
    let refresh = sim
        .state()
        .recent_requests()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with("/token"))
        .expect("a refresh");
    assert!(
        refresh.body.contains("grant_type=refresh_token"),
        "{}",
        refresh.body
    );
}

#[tokio::test]
async fn a_wrong_verifier_or_a_replayed_code_is_refused() {
    let sim = simulator(1, |c| c.auto_consent = true).await;
    let (_, c) = delegated(&sim);
    let pkce = Pkce::new();
    let request = AuthorizeRequest {
        redirect_uri: REDIRECT,
        state: "s",
        challenge: &pkce.challenge,
        nonce: "n",
        login_hint: None,
    };
    let (code, _) = consent(c.authorize_url(&request)).await;
    let wrong = Pkce::new().verifier;
    let e = c
        .redeem_code(&code, &wrong, REDIRECT, Some("n"))
        .await
        .expect_err("wrong verifier");
    assert_eq!(e.code(), "invalid_grant", "{e}");

    let (code, _) = consent(c.authorize_url(&request)).await;
    c.redeem_code(&code, &pkce.verifier, REDIRECT, Some("n"))
        .await
        .expect("first use");
    let e = c
        .redeem_code(&code, &pkce.verifier, REDIRECT, Some("n"))
        .await
        .expect_err("replayed");
    assert_eq!(e.code(), "invalid_grant", "{e}");
}

#[tokio::test]
async fn concurrent_calls_share_one_token_request() {
    let sim = simulator(3, |_| {}).await;
    let c = client(&sim, 1000);
    let calls = (0..20).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { org_settings(&c).await })
    });
    for call in calls {
        call.await.expect("task").expect("call");
    }
    assert_eq!(c.stats().token_requests, 1);
    assert_eq!(
        sim.state().received("Get-ActiveSyncOrganizationSettings"),
        20
    );
}
