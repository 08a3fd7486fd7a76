//! Delegated sign-in over HTTP: authorize, consent, PKCE code redemption, refresh rotation and
//! OpenID Connect discovery.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

const SCOPES: &str = "https://outlook.office365.com/.default offline_access openid email profile";
pub(super) const REDIRECT: &str = "http://127.0.0.1:53682/callback";

/// A client that shows redirects instead of following them.
pub(super) fn browser() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A PKCE verifier and its S256 challenge.
pub(super) fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    (verifier, challenge)
}

pub(super) async fn identity_sim(auto_consent: bool) -> RunningSimulator {
    start_sim(SimConfig {
        mailboxes: 2,
        devices: 2,
        auto_consent,
        redirect_uris: vec!["https://connector.example/auth/callback".into()],
        ..SimConfig::default()
    })
    .await
}

pub(super) fn authorize_url(sim: &RunningSimulator, params: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!(
        "{}/{}/oauth2/v2.0/authorize?{query}",
        sim.authority_url(),
        sim.config().tenant_id
    )
}

pub(super) fn standard_params<'a>(
    sim: &'a RunningSimulator,
    challenge: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", sim.config().client_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", SCOPES),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// The query parameters of a redirect's `Location`.
pub(super) fn location_params(
    resp: &reqwest::Response,
) -> (String, std::collections::HashMap<String, String>) {
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let url = url::Url::parse(&location).unwrap_or_else(|e| panic!("{location}: {e}"));
    let params = url.query_pairs().into_owned().collect();
    (location, params)
}

/// The hidden transaction id of a consent page.
fn transaction(html: &str) -> String {
    let marker = "name=\"transaction\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .unwrap_or_default();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn consent_page(sim: &RunningSimulator, challenge: &str) -> String {
    let resp = browser()
        .get(authorize_url(sim, &standard_params(sim, challenge)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.unwrap_or_default()
}

async fn decide(sim: &RunningSimulator, html: &str, decision: &str) -> reqwest::Response {
    browser()
        .post(format!(
            "{}/{}/oauth2/v2.0/consent",
            sim.authority_url(),
            sim.config().tenant_id
        ))
        .form(&[
            ("transaction", transaction(html).as_str()),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Signs in through the consent page; returns the code.
async fn sign_in(sim: &RunningSimulator, challenge: &str) -> String {
    let html = consent_page(sim, challenge).await;
    let resp = decide(sim, &html, "accept").await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let (location, params) = location_params(&resp);
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(params.get("state").map(String::as_str), Some("st-123"));
    params.get("code").cloned().unwrap_or_default()
}

pub(super) async fn redeem(
    sim: &RunningSimulator,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> (StatusCode, Value) {
    let c = sim.config();
    token_response(
        sim,
        &c.tenant_id,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &c.client_id),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("scope", SCOPES),
        ],
    )
    .await
}

pub(super) async fn refresh(sim: &RunningSimulator, refresh_token: &str) -> (StatusCode, Value) {
    let c = sim.config();
    token_response(
        sim,
        &c.tenant_id,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

pub(super) fn assert_invalid_grant(status: StatusCode, body: &Value, needle: &str) {
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(needle),
        "{needle:?} not in {description}"
    );
}

#[tokio::test]
async fn the_consent_page_names_the_app_tenant_and_admin_and_offers_accept_and_cancel() {
    let sim = identity_sim(false).await;
    let (_, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(&sim, &standard_params(&sim, &challenge)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .contains("default-src 'none'"));
    let html = resp.text().await.unwrap_or_default();
    for needle in [
        "<html lang=\"en\">",
        "Exchange connector",
        "contoso-demo.onmicrosoft.com",
        "admin@contoso-demo.onmicrosoft.com",
        "Exchange.Manage",
        "Sign you in",
        "<form method=\"post\" action=\"/3f6d2c1a-8b4e-4c7d-9a15-0e2b7f4c5d61/oauth2/v2.0/consent\"",
        "<button type=\"submit\" name=\"decision\" value=\"accept\" class=\"primary\">Accept</button>",
        "<button type=\"submit\" name=\"decision\" value=\"cancel\" class=\"secondary\">Cancel</button>",
    ] {
        assert!(html.contains(needle), "{needle:?} not in {html}");
    }
    assert_eq!(transaction(&html).len(), 64);
    assert!(!html.contains("<script"));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_admin_upn_is_configurable() {
    let sim = start_sim(SimConfig {
        mailboxes: 1,
        devices: 1,
        admin_upn: Some("it-admin@fabrikam.example".into()),
        ..SimConfig::default()
    })
    .await;
    let (_, challenge) = pkce();
    let html = consent_page(&sim, &challenge).await;
    assert!(html.contains("it-admin@fabrikam.example"), "{html}");
    sim.shutdown().await;
}

#[tokio::test]
async fn cancel_sends_access_denied_back_with_the_state() {
    let sim = identity_sim(false).await;
    let (_, challenge) = pkce();
    let html = consent_page(&sim, &challenge).await;
    let resp = decide(&sim, &html, "cancel").await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let (location, params) = location_params(&resp);
    assert!(location.starts_with(REDIRECT));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(params.get("state").map(String::as_str), Some("st-123"));
    assert!(params
        .get("error_description")
        .is_some_and(|d| d.starts_with("AADSTS65004: ")));
    assert!(!params.contains_key("code"));
    // The page was answered: a second answer is refused on a page, not redirected.
    let again = decide(&sim, &html, "accept").await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again
        .text()
        .await
        .unwrap_or_default()
        .contains("expired or was already answered"));
    sim.shutdown().await;
}

#[tokio::test]
async fn auto_consent_redirects_with_a_code_at_once() {
    let sim = identity_sim(true).await;
    let (verifier, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(&sim, &standard_params(&sim, &challenge)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::FOUND);
    let (_, params) = location_params(&resp);
    assert_eq!(params.get("state").map(String::as_str), Some("st-123"));
    let code = params.get("code").cloned().unwrap_or_default();
    let (status, body) = redeem(&sim, &code, &verifier, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_pkce_sign_in_returns_user_bound_tokens_and_an_id_token() {
    let sim = identity_sim(false).await;
    let (verifier, challenge) = pkce();
    let code = sign_in(&sim, &challenge).await;
    let (status, body) = redeem(&sim, &code, &verifier, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(
        body["scope"],
        "https://outlook.office365.com/Exchange.Manage openid profile email offline_access"
    );
    for key in ["access_token", "refresh_token", "id_token"] {
        assert!(
            body[key].as_str().is_some_and(|t| t.len() > 20),
            "{key} in {body}"
        );
    }
    let token = body["access_token"].as_str().unwrap_or_default();
    let info = sim
        .state()
        .tokens()
        .validate(token, sim.state().now())
        .cloned();
    assert_eq!(
        info.map(|i| (i.client_id, i.user)),
        Ok((
            sim.config().client_id.clone(),
            Some("admin@contoso-demo.onmicrosoft.com".to_owned())
        ))
    );
    let org = json!({"CmdletInput": {"CmdletName": "Get-ActiveSyncOrganizationSettings"}});
    let (status, _, _) = invoke(&invoke_url(&sim), Some(token), &org, None).await;
    assert_eq!(status, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused_and_uses_the_code_up() {
    let sim = identity_sim(false).await;
    let (verifier, challenge) = pkce();
    let code = sign_in(&sim, &challenge).await;
    let (other_verifier, _) = pkce();
    let (status, body) = redeem(&sim, &code, &other_verifier, REDIRECT).await;
    assert_invalid_grant(
        status,
        &body,
        "code_verifier does not match the code_challenge",
    );
    let (status, body) = redeem(&sim, &code, &verifier, REDIRECT).await;
    assert_invalid_grant(status, &body, "already redeemed");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_revokes_the_refresh_token() {
    let sim = identity_sim(false).await;
    let (verifier, challenge) = pkce();
    let code = sign_in(&sim, &challenge).await;
    let (status, first) = redeem(&sim, &code, &verifier, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, body) = redeem(&sim, &code, &verifier, REDIRECT).await;
    assert_invalid_grant(
        status,
        &body,
        "AADSTS54005: OAuth2 Authorization code was already redeemed",
    );
    let (status, body) = refresh(&sim, first["refresh_token"].as_str().unwrap_or_default()).await;
    assert_invalid_grant(status, &body, "revoked");
    let (status, body) = redeem(&sim, "made-up-code", &verifier, REDIRECT).await;
    assert_invalid_grant(status, &body, "did not issue this authorization code");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_code_redeemed_with_another_redirect_uri_is_refused() {
    let sim = identity_sim(false).await;
    let (verifier, challenge) = pkce();
    let code = sign_in(&sim, &challenge).await;
    let (status, body) = redeem(&sim, &code, &verifier, "http://127.0.0.1:53682/other").await;
    assert_invalid_grant(
        status,
        &body,
        "does not match the redirect URI of the authorization request",
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn authorize_errors_show_a_page_until_the_redirect_uri_is_trusted_then_go_back() {
    let sim = identity_sim(false).await;
    let (_, challenge) = pkce();
    let with = |changes: &[(&'static str, &'static str)]| {
        let mut params = standard_params(&sim, &challenge);
        for (k, v) in changes {
            params.retain(|(name, _)| name != k);
            if !v.is_empty() {
                params.push((k, v));
            }
        }
        authorize_url(&sim, &params)
    };
    // Untrusted: shown on a page, never redirected.
    for (changes, needle) in [
        (
            &[("redirect_uri", "https://evil.example/cb")][..],
            "AADSTS50011",
        ),
        (
            &[("client_id", "00000000-0000-0000-0000-000000000000")][..],
            "AADSTS700016",
        ),
        (&[("redirect_uri", "")][..], "redirect_uri"),
    ] {
        let resp = browser()
            .get(with(changes))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{changes:?}");
        assert!(resp.headers().get("location").is_none());
        let html = resp.text().await.unwrap_or_default();
        assert!(
            html.contains(needle) && html.contains("role=\"alert\""),
            "{needle}: {html}"
        );
    }
    // Trusted: redirected back with the error and the state.
    for (changes, error, code) in [
        (
            &[("code_challenge", "")][..],
            "invalid_request",
            "AADSTS9002325",
        ),
        (
            &[("code_challenge_method", "plain")][..],
            "invalid_request",
            "AADSTS9002325",
        ),
        (
            &[("response_type", "token")][..],
            "unsupported_response_type",
            "AADSTS700054",
        ),
        (
            &[("scope", "https://graph.microsoft.com/.default")][..],
            "invalid_scope",
            "AADSTS70011",
        ),
        (&[("prompt", "none")][..], "consent_required", "AADSTS65001"),
    ] {
        let resp = browser()
            .get(with(changes))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status(), StatusCode::FOUND, "{changes:?}");
        let (location, params) = location_params(&resp);
        assert!(location.starts_with(REDIRECT));
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{changes:?}"
        );
        assert!(
            params
                .get("error_description")
                .is_some_and(|d| d.starts_with(code)),
            "{params:?}"
        );
        assert_eq!(params.get("state").map(String::as_str), Some("st-123"));
    }
    // A configured redirect URI and localhost on any port are trusted.
    for uri in [
        "https://connector.example/auth/callback",
        "http://localhost:3000/auth/callback",
    ] {
        let resp = browser()
            .get(with(&[("redirect_uri", uri)]))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    }
    sim.shutdown().await;
}
