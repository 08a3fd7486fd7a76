//! Fault injection, the rate-limit budget, traffic counters and the request log, over HTTP.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

pub(super) fn org_settings() -> Value {
    json!({"CmdletInput": {"CmdletName": "Get-ActiveSyncOrganizationSettings"}})
}

pub(super) fn devices() -> Value {
    json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"ResultSize": "Unlimited"}}})
}

pub(super) async fn fault_sim(faults: &str) -> RunningSimulator {
    start_sim(SimConfig {
        mailboxes: 2,
        devices: 3,
        faults: parse_fault_rules(faults).unwrap_or_else(|e| panic!("{e}")),
        ..SimConfig::default()
    })
    .await
}

/// One InvokeCommand; the raw response (the body may not be JSON).
async fn raw_invoke(sim: &RunningSimulator, token: &str, body: &Value) -> reqwest::Response {
    client()
        .post(invoke_url(sim))
        .bearer_auth(token)
        .header("X-ResponseFormat", "json")
        .header("client-request-id", "5d1c8f7e-0000-4000-8000-000000000002")
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("invoke: {e}"))
}

fn message(body: &Value) -> &str {
    body["error"]["details"][0]["message"]
        .as_str()
        .unwrap_or_default()
}

pub(super) async fn sim_json(sim: &RunningSimulator, path: &str) -> Value {
    client()
        .get(format!("{}{path}", sim.base_url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn a_429_fault_carries_a_decimal_retry_after_and_rate_limit_headers() {
    let sim = fault_sim("429=0.2:1x").await;
    let token = access_token(&sim).await;
    let (status, headers, body) =
        invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "0.2");
    assert_eq!(headers["rate-limit-remaining"], "0");
    assert_eq!(headers["rate-limit-reset"], "1");
    assert_eq!(
        headers["client-request-id"],
        "5d1c8f7e-0000-4000-8000-000000000001"
    );
    assert!(headers.contains_key("request-id") && headers.contains_key("x-exceptiontype"));
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert!(message(&body).contains("throttled"), "{body}");
    let (status, _, _) = invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.state().injected("429"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn server_error_faults_answer_in_the_spec_error_shape() {
    let sim =
        fault_sim("503=2:1x; 504:1x; transient:1x; transient=StorageTransientException/503:1x")
            .await;
    let token = access_token(&sim).await;
    let url = invoke_url(&sim);
    let (status, headers, body) = invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(body["error"]["code"], "ServiceUnavailable");
    assert!(!message(&body).is_empty());
    let (status, _, body) = invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body["error"]["code"], "GatewayTimeout");
    assert!(!message(&body).is_empty());
    let (status, headers, body) = invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers["x-exceptiontype"], "DCOverloadedException");
    assert!(message(&body).contains("DCOverloadedException"), "{body}");
    assert_eq!(
        body["error"]["innererror"]["internalexception"]["message"],
        message(&body)
    );
    let (status, _, body) = invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        message(&body).contains("StorageTransientException"),
        "{body}"
    );
    let (status, _, _) = invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_fault_answers_like_a_real_expiry_and_the_token_stays_expired() {
    let sim = fault_sim("expired:1x").await;
    let token = access_token(&sim).await;
    let url = invoke_url(&sim);
    let (status, injected_headers, injected_body) =
        invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The rule is used up: this 401 comes from the ordinary bearer check.
    let (status, real_headers, real_body) = invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        injected_headers["www-authenticate"],
        real_headers["www-authenticate"]
    );
    assert!(real_headers["www-authenticate"]
        .to_str()
        .unwrap_or_default()
        .contains("error=\"invalid_token\""));
    assert_eq!(
        injected_headers["x-exceptiontype"],
        real_headers["x-exceptiontype"]
    );
    assert_eq!(injected_body, real_body);
    assert!(message(&real_body).contains("expired"), "{real_body}");
    // A new token works.
    let fresh = access_token(&sim).await;
    let (status, _, _) = invoke(&url, Some(&fresh), &org_settings(), None).await;
    assert_eq!(status, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_connection_reset_fault_ends_the_connection_without_a_response() {
    let sim = fault_sim("reset:1x").await;
    let token = access_token(&sim).await;
    let result = client()
        .post(invoke_url(&sim))
        .bearer_auth(&token)
        .header("X-ResponseFormat", "json")
        .json(&org_settings())
        .send()
        .await;
    // hyper aborts the connection before the response head is flushed: no status at all.
    assert!(result.is_err(), "{result:?}");
    let (status, _, _) = invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::OK);
    let log = sim.state().recent_requests();
    let reset = log.iter().find(|r| r.fault.as_deref() == Some("reset"));
    assert_eq!(reset.map(|r| r.status), Some(None));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_fault_delays_and_then_answers_normally() {
    let sim = fault_sim("slow=300ms:1x").await;
    let token = access_token(&sim).await;
    let started = Instant::now();
    let (status, _, body) = invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"][0]["Identity"], "Mobile Mailbox Settings");
    let started = Instant::now();
    let (status, _, _) = invoke(&invoke_url(&sim), Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(300));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_malformed_json_fault_answers_200_with_a_body_that_does_not_parse() {
    let sim = fault_sim("malformed:1x").await;
    let token = access_token(&sim).await;
    let resp = raw_invoke(&sim, &token, &devices()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/json"));
    let text = resp.text().await.unwrap_or_default();
    assert!(text.starts_with("{\"@odata.context\""), "{text}");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_partial_failure_fault_adds_adminapi_errors_next_to_the_values() {
    let sim = fault_sim("partial:1x:Get-MobileDevice").await;
    let token = access_token(&sim).await;
    let (status, _, body) = invoke(&invoke_url(&sim), Some(&token), &devices(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["value"].as_array().map(Vec::len),
        Some(sim.device_count())
    );
    let errors = body["@adminapi.errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0].as_str().map(|e| e.split('|').count()), Some(3));
    assert!(body["@odata.context"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_403_fault_hits_only_the_chosen_cmdlet() {
    let sim = fault_sim("403:get-mobiledevice").await;
    let token = access_token(&sim).await;
    let url = invoke_url(&sim);
    for _ in 0..2 {
        let (status, headers, body) = invoke(&url, Some(&token), &devices(), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(headers["x-exceptiontype"], "CmdletAccessDeniedException");
        assert!(
            message(&body).contains("'Get-MobileDevice' is not available"),
            "{body}"
        );
    }
    let (status, _, _) = invoke(&url, Some(&token), &org_settings(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.state().injected("403"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn count_rules_fire_exactly_n_times_and_every_request_is_counted_as_received() {
    let sim = fault_sim("503:3x").await;
    let token = access_token(&sim).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            invoke(&invoke_url(&sim), Some(&token), &org_settings(), None)
                .await
                .0,
        );
    }
    let u = StatusCode::SERVICE_UNAVAILABLE;
    assert_eq!(statuses, [u, u, u, StatusCode::OK, StatusCode::OK]);
    let s = sim.state();
    assert_eq!(s.received("get-activesyncorganizationsettings"), 5);
    assert_eq!(s.request_count("Get-ActiveSyncOrganizationSettings"), 2);
    assert_eq!(s.injected("503"), 3);
    assert_eq!(s.faults().rules()[0].remaining, Some(0));
    // Unauthenticated requests are received too.
    invoke(&invoke_url(&sim), None, &org_settings(), None).await;
    assert_eq!(s.received("Get-ActiveSyncOrganizationSettings"), 6);
    let stats = sim_json(&sim, "/_sim/stats").await;
    assert_eq!(stats["received"]["Get-ActiveSyncOrganizationSettings"], 6);
    assert_eq!(stats["receivedTotal"], 6);
    assert_eq!(stats["injected"]["503"], 3);
    assert_eq!(stats["requests"]["Get-ActiveSyncOrganizationSettings"], 2);
    sim.shutdown().await;
}

/// The statuses of `n` requests to a fresh simulator with `rule` and `seed`.
async fn statuses_with(rule: &str, seed: u64, n: usize) -> Vec<u16> {
    let sim = start_sim(SimConfig {
        seed,
        mailboxes: 1,
        devices: 1,
        faults: parse_fault_rules(rule).unwrap_or_default(),
        ..SimConfig::default()
    })
    .await;
    let token = access_token(&sim).await;
    // One client for all requests: building a client per request costs more than the request.
    let http = client();
    let (url, body) = (invoke_url(&sim), org_settings());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let resp = http
            .post(&url)
            .bearer_auth(&token)
            .header("X-ResponseFormat", "json")
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoke: {e}"));
        out.push(resp.status().as_u16());
    }
    sim.shutdown().await;
    out
}

#[tokio::test]
async fn a_rate_of_a_fifth_over_1000_requests_lands_near_200_and_repeats_for_a_seed() {
    let first = statuses_with("504:0.2", 7, 1000).await;
    let faulted = first.iter().filter(|s| **s == 504).count();
    assert!((150..=250).contains(&faulted), "{faulted}");
    assert_eq!(first.iter().filter(|s| **s == 200).count(), 1000 - faulted);
    assert_eq!(statuses_with("504:0.2", 7, 1000).await, first);
    assert_ne!(statuses_with("504:0.2", 8, 1000).await, first);
}
