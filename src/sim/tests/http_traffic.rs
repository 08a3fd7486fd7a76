//! Traffic over HTTP: the fault admin endpoint, the rate-limit budget, token-endpoint faults,
//! the request log and the identity/fault settings of the configuration.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::http_faults::{devices, fault_sim, org_settings, sim_json};
use super::*;

#[tokio::test]
async fn the_admin_endpoint_sets_lists_appends_and_clears_faults() {
    let sim = fault_sim("").await;
    let token = access_token(&sim).await;
    let url = format!("{}/_sim/faults", sim.base_url());
    let put = client()
        .put(&url)
        .body("429=0.5:2x:Get-MobileDevice; slow=10ms")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(put.status(), StatusCode::OK);
    let view: Value = put.json().await.unwrap_or_default();
    assert_eq!(view["rules"][0]["rule"], "429=0.5:2x:Get-MobileDevice");
    assert_eq!(view["rules"][0]["remaining"], 2);
    assert_eq!(view["rules"][1]["rule"], "slow=10ms:1.0");

    let (status, headers, _) = invoke(&invoke_url(&sim), Some(&token), &devices(), None).await;
    assert_eq!(
        (status, headers["retry-after"].to_str().ok()),
        (StatusCode::TOO_MANY_REQUESTS, Some("0.5"))
    );

    let post = client()
        .post(&url)
        .json(&json!({"rules": ["504:1x"], "rateLimit": "100/10s"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let view: Value = post.json().await.unwrap_or_default();
    assert_eq!(view["rules"].as_array().map(Vec::len), Some(3));
    assert_eq!(view["rules"][0]["fired"], 1);
    assert_eq!(view["rateLimit"], "100/10s");
    assert_eq!(
        sim.state().faults().rate_limit().map(|r| r.limit),
        Some(100)
    );

    let bad = client()
        .put(&url)
        .body("418:1x")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let err: Value = bad.json().await.unwrap_or_default();
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown fault '418'")),
        "{err}"
    );
    assert_eq!(
        sim.state().faults().rules().len(),
        3,
        "a bad body changes nothing"
    );

    let cleared: Value = client()
        .delete(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(cleared["rules"], json!([]));
    assert_eq!(cleared["rateLimit"], Value::Null);
    assert_eq!(sim_json(&sim, "/_sim/faults").await["injected"]["429"], 1);

    // The Rust API does the same in process.
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::GatewayTimeout, 1));
    assert_eq!(
        invoke(&invoke_url(&sim), Some(&token), &devices(), None)
            .await
            .0,
        StatusCode::GATEWAY_TIMEOUT
    );
    assert_eq!(
        invoke(&invoke_url(&sim), Some(&token), &devices(), None)
            .await
            .0,
        StatusCode::OK
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_rate_limit_budget_counts_down_in_headers_and_throttles_over_budget() {
    let sim = start_sim(SimConfig {
        mailboxes: 1,
        devices: 1,
        rate_limit: Some(RateLimit {
            limit: 3,
            window: Duration::from_secs(30),
        }),
        ..SimConfig::default()
    })
    .await;
    let token = access_token(&sim).await;
    for remaining in ["2", "1", "0"] {
        let (status, headers, _) =
            invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["rate-limit-limit"], "3");
        assert_eq!(headers["rate-limit-remaining"], remaining);
        assert!(headers["rate-limit-reset"]
            .to_str()
            .unwrap_or_default()
            .parse::<u64>()
            .is_ok_and(|s| (29..=30).contains(&s)));
    }
    let (status, headers, body) =
        invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: f64 = headers["retry-after"]
        .to_str()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();
    assert!((29.0..=30.0).contains(&wait), "{wait}");
    assert_eq!(headers["rate-limit-remaining"], "0");
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(sim.state().injected(RATE_LIMITED), 1);
    assert_eq!(
        sim.state()
            .request_count("Get-ActiveSyncOrganizationSettings"),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_faults_apply_only_to_rules_aimed_at_it() {
    let sim = fault_sim("503:1x:@token; 504:1x").await;
    let c = sim.config().clone();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", c.client_id.as_str()),
        ("client_secret", c.client_secret.as_str()),
        ("scope", "https://outlook.office365.com/.default"),
    ];
    let (status, _) = token_response(&sim, &c.tenant_id, &form).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let token = access_token(&sim).await;
    assert_eq!(
        sim.state().faults().rules()[1].fired,
        0,
        "the InvokeCommand rule did not fire on tokens"
    );
    let (status, _, _) = invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_request_log_keeps_every_header_and_body_and_redacts_secrets() {
    let sim = fault_sim("").await;
    let token = access_token(&sim).await;
    let body = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"ResultSize": "Unlimited"}}});
    let resp = client()
        .post(invoke_url(&sim))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .header("X-ResponseFormat", "json")
        .header("Prefer", "odata.maxpagesize=2")
        .header(
            "X-AnchorMailbox",
            "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso-demo.onmicrosoft.com",
        )
        .header("client-request-id", "11111111-2222-4333-8444-555555555555")
        .header("X-CmdletName", "Get-MobileDevice")
        .header("User-Agent", "exchange-connector/0.1.0")
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);

    let log = sim.state().recent_requests();
    let token_request = log.iter().find(|r| r.path.ends_with("/oauth2/v2.0/token"));
    let token_request = token_request.unwrap_or_else(|| panic!("{log:?}"));
    assert!(
        token_request.body.contains("client_secret=%5Bredacted%5D"),
        "{}",
        token_request.body
    );
    assert!(!token_request.body.contains(&sim.config().client_secret));

    let r = log.last().unwrap_or_else(|| panic!("empty log"));
    assert_eq!(
        (r.method.as_str(), r.status, r.cmdlet.as_deref()),
        ("POST", Some(200), Some("Get-MobileDevice"))
    );
    assert_eq!(
        r.path,
        format!("/adminapi/beta/{}/InvokeCommand", sim.config().tenant_id)
    );
    assert_eq!(r.body, body.to_string());
    for (name, value) in [
        ("content-type", "application/json"),
        ("accept", "application/json"),
        ("x-responseformat", "json"),
        ("prefer", "odata.maxpagesize=2"),
        (
            "x-anchormailbox",
            "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso-demo.onmicrosoft.com",
        ),
        ("client-request-id", "11111111-2222-4333-8444-555555555555"),
        ("x-cmdletname", "Get-MobileDevice"),
        ("user-agent", "exchange-connector/0.1.0"),
    ] {
        assert_eq!(r.header(name), Some(value), "{name}");
    }
    assert_eq!(
        r.header("Authorization"),
        Some(redacted_authorization(&format!("Bearer {token}")).as_str())
    );
    assert!(r
        .header("authorization")
        .is_some_and(|a| a.starts_with("Bearer [redacted len=")));

    // Over HTTP too, and no secret anywhere in the log.
    let page = client()
        .get(format!(
            "{}/_sim/requests?cmdlet=get-mobiledevice&limit=1",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    let json: Value = serde_json::from_str(&page).unwrap_or_default();
    assert_eq!(json["requests"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["requests"][0]["cmdlet"], "Get-MobileDevice");
    let all = sim_json(&sim, "/_sim/requests").await.to_string();
    assert!(!all.contains(&token) && !all.contains(&sim.config().client_secret));
    assert!(!all.contains("/_sim/"), "admin requests are not logged");

    let cleared = client()
        .delete(format!("{}/_sim/requests", sim.base_url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert!(sim.state().recent_requests().is_empty());
    sim.shutdown().await;
}

#[test]
fn config_from_env_reads_the_identity_and_fault_settings() {
    let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/app.pem");
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/app.key");
    let env = |pairs: Vec<(&'static str, String)>| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    };
    let ok = SimConfig::from_lookup(env(vec![
        ("EXO_SIM_CLIENT_CERTIFICATE", cert.to_owned()),
        ("EXO_SIM_ADMIN_UPN", "boss@contoso.example".into()),
        ("EXO_SIM_AUTO_CONSENT", "1".into()),
        (
            "EXO_SIM_REDIRECT_URIS",
            "https://a.example/cb, https://b.example/cb".into(),
        ),
        ("EXO_SIM_FAULTS", "429:0.2; 503:3x:Get-MobileDevice".into()),
        ("EXO_SIM_RATE_LIMIT", "100/10s".into()),
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.client_certificates.len(), 1);
    assert_eq!(ok.admin_upn(), "boss@contoso.example");
    assert!(ok.auto_consent);
    assert_eq!(
        ok.redirect_uris,
        ["https://a.example/cb", "https://b.example/cb"]
    );
    assert_eq!(ok.faults.len(), 2);
    assert_eq!(ok.rate_limit.map(|r| r.limit), Some(100));
    assert_eq!(
        SimConfig::default().admin_upn(),
        "admin@contoso-demo.onmicrosoft.com"
    );
    for (var, value) in [
        ("EXO_SIM_CLIENT_CERTIFICATE", key.to_owned()),
        ("EXO_SIM_CLIENT_CERTIFICATE", "/no/such/file.pem".to_owned()),
        ("EXO_SIM_ADMIN_UPN", "nobody".into()),
        ("EXO_SIM_AUTO_CONSENT", "maybe".into()),
        ("EXO_SIM_REDIRECT_URIS", "not a url".into()),
        ("EXO_SIM_FAULTS", "429:often".into()),
        ("EXO_SIM_RATE_LIMIT", "fast".into()),
    ] {
        let err = SimConfig::from_lookup(env(vec![(var, value.clone())])).err();
        assert_eq!(
            err.as_ref().map(|e| e.setting),
            Some(var),
            "{value}: {err:?}"
        );
    }
}
