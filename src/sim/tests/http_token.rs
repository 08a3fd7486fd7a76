//! The token endpoint over HTTP: Entra-shaped refusals.

use reqwest::StatusCode;

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
