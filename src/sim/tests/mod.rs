//! End-to-end tests: the real server on port 0, spoken to over HTTP with reqwest.

mod exo;
mod http_clock;
mod http_cmdlets;
mod http_faults;
mod http_identity;
mod http_invoke;
mod http_oidc;
mod http_policies;
mod http_rbac;
mod http_rules;
mod http_token;
mod http_traffic;
mod http_write_side;

use std::net::SocketAddr;

use reqwest::StatusCode;
use serde_json::Value;

use super::*;

pub(super) async fn start_sim(config: SimConfig) -> RunningSimulator {
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    match start(config, addr).await {
        Ok(sim) => sim,
        Err(e) => panic!("simulator did not start: {e}"),
    }
}

pub(super) fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub(super) async fn token_response(
    sim: &RunningSimulator,
    tenant: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let url = format!("{}/{tenant}/oauth2/v2.0/token", sim.authority_url());
    let resp = client()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("token request: {e}"));
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
}

pub(super) async fn access_token(sim: &RunningSimulator) -> String {
    let c = sim.config();
    let (status, body) = token_response(
        sim,
        &c.tenant_id,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("scope", "https://outlook.office365.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    body["access_token"].as_str().unwrap_or_default().to_owned()
}

pub(super) fn invoke_url(sim: &RunningSimulator) -> String {
    format!(
        "{}/{}/InvokeCommand",
        sim.admin_api_url(),
        sim.config().tenant_id
    )
}

pub(super) async fn invoke(
    url: &str,
    token: Option<&str>,
    body: &Value,
    page_size: Option<usize>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = client()
        .post(url)
        .header("X-ResponseFormat", "json")
        .header("client-request-id", "5d1c8f7e-0000-4000-8000-000000000001")
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(n) = page_size {
        req = req.header("Prefer", format!("odata.maxpagesize={n}"));
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("invoke request: {e}"));
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_dropped_simulator_stops_without_panicking() {
    let sim = start_sim(SimConfig {
        mailboxes: 1,
        devices: 1,
        ..SimConfig::default()
    })
    .await;
    let url = format!("{}/_sim/stats", sim.base_url());
    drop(sim);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(client().get(url).send().await.is_err());
}

#[test]
fn config_from_env_names_the_bad_variable() {
    fn env(pairs: Vec<(&'static str, &'static str)>) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }
    let ok = SimConfig::from_lookup(env(vec![
        ("EXO_SIM_SEED", "7"),
        ("EXO_SIM_DEVICES", "100000"),
        ("EXO_SIM_PAGE_SIZE", " "),
    ]));
    let ok = ok.unwrap_or_default();
    assert_eq!(
        (ok.seed, ok.devices, ok.max_page_size, ok.mailboxes),
        (7, 100_000, 1000, 250)
    );
    for (var, value) in [
        ("EXO_SIM_SEED", "-1"),
        ("EXO_SIM_MAILBOXES", "many"),
        ("EXO_SIM_DEVICES", "99999999"),
        ("EXO_SIM_PAGE_SIZE", "0"),
    ] {
        let err = SimConfig::from_lookup(env(vec![(var, value)])).err();
        assert_eq!(err.as_ref().map(|e| e.setting), Some(var), "{err:?}");
        assert!(err.is_some_and(|e| e.to_string().starts_with(var)));
    }
}
