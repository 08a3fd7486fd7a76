//! The token endpoint over HTTP: Entra-shaped refusals, certificate assertions.

use reqwest::StatusCode;
use serde_json::Value;

use super::*;

/// One refused token request and what Entra would answer.
#[derive(Clone)]
struct Refusal {
    tenant: String,
    client_id: String,
    secret: String,
    scope: &'static str,
    grant: &'static str,
    status: StatusCode,
    error: &'static str,
    code: u64,
}

#[tokio::test]
async fn token_endpoint_refuses_like_entra() {
    let sim = start_sim(SimConfig {
        mailboxes: 1,
        devices: 1,
        ..SimConfig::default()
    })
    .await;
    let c = sim.config().clone();
    let scope = "https://outlook.office365.com/.default";
    let good = Refusal {
        tenant: c.tenant_id.clone(),
        client_id: c.client_id.clone(),
        secret: c.client_secret.clone(),
        scope,
        grant: "client_credentials",
        status: StatusCode::OK,
        error: "",
        code: 0,
    };
    let cases = [
        Refusal {
            secret: "wrong".into(),
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            code: 7000215,
            ..good.clone()
        },
        Refusal {
            tenant: c.tenant_domain.clone(),
            client_id: "00000000-0000-0000-0000-000000000000".into(),
            status: StatusCode::BAD_REQUEST,
            error: "unauthorized_client",
            code: 700016,
            ..good.clone()
        },
        Refusal {
            scope: "https://graph.microsoft.com/.default",
            status: StatusCode::BAD_REQUEST,
            error: "invalid_scope",
            code: 70011,
            ..good.clone()
        },
        Refusal {
            scope: "https://outlook.office365.com/Exchange.ManageAsApp",
            status: StatusCode::BAD_REQUEST,
            error: "invalid_scope",
            code: 1002012,
            ..good.clone()
        },
        Refusal {
            tenant: "other.onmicrosoft.com".into(),
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            code: 90002,
            ..good.clone()
        },
        Refusal {
            grant: "password",
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            code: 70003,
            ..good.clone()
        },
    ];
    for case in cases {
        let form = [
            ("grant_type", case.grant),
            ("client_id", &case.client_id),
            ("client_secret", &case.secret),
            ("scope", case.scope),
        ];
        let (status, body) = token_response(&sim, &case.tenant, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (case.status, Some(case.error)),
            "{body}"
        );
        assert_eq!(body["error_codes"][0], case.code);
        let prefix = format!("AADSTS{}: ", case.code);
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| d.starts_with(&prefix)),
            "{body}"
        );
        for key in ["timestamp", "trace_id", "correlation_id"] {
            assert!(body[key].is_string(), "{key} in {body}");
        }
    }
    // The domain also names the tenant for tokens.
    let form = [
        ("grant_type", good.grant),
        ("client_id", &good.client_id),
        ("client_secret", &good.secret),
        ("scope", good.scope),
    ];
    let (status, body) = token_response(&sim, &c.tenant_domain, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sim.shutdown().await;
}

// Certificate credentials (client assertions).

const APP_PEM: &str = include_str!("../../../tests/fixtures/certs/app.pem");
const APP_KEY: &str = include_str!("../../../tests/fixtures/certs/app.key");
const OTHER_PEM: &str = include_str!("../../../tests/fixtures/certs/other.pem");
const OTHER_KEY: &str = include_str!("../../../tests/fixtures/certs/other.key");
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Which thumbprint header names the certificate.
#[derive(Clone, Copy)]
enum Thumbprint {
    Sha256,
    Sha1,
}

fn thumbprint(cert_pem: &str, kind: Thumbprint) -> String {
    use base64::Engine;
    let der = pem::parse(cert_pem)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_contents();
    let alg = match kind {
        Thumbprint::Sha256 => &ring::digest::SHA256,
        Thumbprint::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ring::digest::digest(alg, &der))
}

/// A client assertion naming `cert_pem`, signed with `key_pem`, with `claims`.
fn assertion(cert_pem: &str, key_pem: &str, kind: Thumbprint, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    match kind {
        Thumbprint::Sha256 => header.x5t_s256 = Some(thumbprint(cert_pem, kind)),
        Thumbprint::Sha1 => header.x5t = Some(thumbprint(cert_pem, kind)),
    }
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    jsonwebtoken::encode(&header, claims, &key).unwrap_or_else(|e| panic!("{e}"))
}

/// Claims a well-behaved client sends: valid for 5 minutes from now, a fresh jti.
fn good_claims(sim: &RunningSimulator) -> Value {
    let c = sim.config();
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "aud": format!("{}/{}/oauth2/v2.0/token", sim.authority_url(), c.tenant_id),
        "iss": c.client_id,
        "sub": c.client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 300,
    })
}

async fn assertion_token(sim: &RunningSimulator, assertion: &str) -> (StatusCode, Value) {
    let c = sim.config();
    token_response(
        sim,
        &c.tenant_id,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
            ("scope", "https://outlook.office365.com/.default"),
        ],
    )
    .await
}

async fn cert_sim() -> RunningSimulator {
    start_sim(SimConfig {
        mailboxes: 1,
        devices: 1,
        client_certificates: vec![APP_PEM.to_owned()],
        ..SimConfig::default()
    })
    .await
}

fn refused(status: StatusCode, body: &Value, code: u64, needle: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert_eq!(body["error_codes"][0], code, "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(
        description.contains(needle),
        "{needle:?} not in {description}"
    );
}

#[tokio::test]
async fn an_assertion_signed_with_the_registered_certificate_gets_a_working_token() {
    let sim = cert_sim().await;
    for kind in [Thumbprint::Sha256, Thumbprint::Sha1] {
        let jwt = assertion(APP_PEM, APP_KEY, kind, &good_claims(&sim));
        let (status, body) = assertion_token(&sim, &jwt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        let token = body["access_token"].as_str().unwrap_or_default();
        let org = serde_json::json!({"CmdletInput": {"CmdletName": "Get-ActiveSyncOrganizationSettings"}});
        let (status, _, _) = invoke(&invoke_url(&sim), Some(token), &org, None).await;
        assert_eq!(status, StatusCode::OK);
        let info = sim
            .state()
            .tokens()
            .validate(token, sim.state().now())
            .cloned();
        assert_eq!(
            info.map(|i| i.user),
            Ok(None),
            "app-only tokens have no user"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn an_assertion_signed_with_another_key_is_refused() {
    let sim = cert_sim().await;
    // Names the registered certificate but is signed with another private key.
    let forged = assertion(APP_PEM, OTHER_KEY, Thumbprint::Sha256, &good_claims(&sim));
    let (status, body) = assertion_token(&sim, &forged).await;
    refused(status, &body, 700027, "signature does not verify");
    // Names (and is signed with) a certificate the app does not have.
    let stranger = assertion(OTHER_PEM, OTHER_KEY, Thumbprint::Sha256, &good_claims(&sim));
    let (status, body) = assertion_token(&sim, &stranger).await;
    refused(status, &body, 700027, "is not registered on application");
    sim.shutdown().await;
}

#[tokio::test]
async fn without_registered_certificates_every_assertion_is_refused() {
    let sim = start_sim(SimConfig {
        mailboxes: 1,
        devices: 1,
        ..SimConfig::default()
    })
    .await;
    let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &good_claims(&sim));
    let (status, body) = assertion_token(&sim, &jwt).await;
    refused(status, &body, 700027, "0 certificate(s) registered");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_assertion_for_another_audience_is_refused() {
    let sim = cert_sim().await;
    let mut claims = good_claims(&sim);
    claims["aud"] = Value::from("https://login.microsoftonline.com/other/oauth2/v2.0/token");
    let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &claims);
    let (status, body) = assertion_token(&sim, &jwt).await;
    refused(status, &body, 50012, "audience claim does not match");
    // The tenant's domain in the endpoint URL is as good as its GUID.
    let mut claims = good_claims(&sim);
    claims["aud"] = Value::from(format!(
        "{}/{}/oauth2/v2.0/token",
        sim.authority_url(),
        sim.config().tenant_domain
    ));
    let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &claims);
    assert_eq!(assertion_token(&sim, &jwt).await.0, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let sim = cert_sim().await;
    let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &good_claims(&sim));
    let (status, body) = assertion_token(&sim, &jwt).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = assertion_token(&sim, &jwt).await;
    refused(status, &body, 700023, "already used");
    sim.shutdown().await;
}

#[tokio::test]
async fn expired_and_overlong_assertions_are_refused() {
    let sim = cert_sim().await;
    let now = chrono::Utc::now().timestamp();
    let mut expired = good_claims(&sim);
    expired["nbf"] = Value::from(now - 1800);
    expired["iat"] = Value::from(now - 1800);
    expired["exp"] = Value::from(now - 1500);
    let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &expired);
    let (status, body) = assertion_token(&sim, &jwt).await;
    refused(status, &body, 700024, "not within its valid time range");

    let mut overlong = good_claims(&sim);
    overlong["exp"] = Value::from(now + 3600);
    let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &overlong);
    let (status, body) = assertion_token(&sim, &jwt).await;
    refused(status, &body, 700024, "at most 10 minutes");
    sim.shutdown().await;
}

#[tokio::test]
async fn assertion_claims_and_parameters_are_checked() {
    let sim = cert_sim().await;
    let without = |name: &str| {
        let mut claims = good_claims(&sim);
        if let Some(map) = claims.as_object_mut() {
            map.remove(name);
        }
        claims
    };
    let mut wrong_iss = good_claims(&sim);
    wrong_iss["iss"] = Value::from("someone-else");
    for (claims, code, needle) in [
        (wrong_iss, 700021, "'iss' claim is 'someone-else'"),
        (without("sub"), 700021, "'sub' claim is missing"),
        (without("jti"), 50027, "no 'jti' claim"),
        (without("exp"), 700024, "needs an 'exp' claim"),
    ] {
        let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &claims);
        let (status, body) = assertion_token(&sim, &jwt).await;
        refused(status, &body, code, needle);
    }
    let (status, body) = assertion_token(&sim, "not-a-jwt").await;
    refused(status, &body, 50027, "is not a JWT");

    // A secret and an assertion together, or an unknown assertion type, are bad requests.
    let c = sim.config().clone();
    let jwt = assertion(APP_PEM, APP_KEY, Thumbprint::Sha256, &good_claims(&sim));
    let both = [
        ("grant_type", "client_credentials"),
        ("client_id", c.client_id.as_str()),
        ("client_secret", c.client_secret.as_str()),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt.as_str()),
        ("scope", "https://outlook.office365.com/.default"),
    ];
    let (status, body) = token_response(&sim, &c.tenant_id, &both).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let mut odd_type = both;
    odd_type[2] = ("x", "");
    odd_type[3] = ("client_assertion_type", "urn:example:saml");
    let (status, body) = token_response(&sim, &c.tenant_id, &odd_type).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    sim.shutdown().await;
}
