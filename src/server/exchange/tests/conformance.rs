//! What the client puts on the wire, as the simulator received it (spec §1).

use serde_json::Value;

use super::*;
use crate::sim::{FaultKind, FaultRule};

#[tokio::test]
async fn every_request_carries_the_spec_headers_and_the_compact_body() {
    let sim = simulator(25, |_| {}).await;
    let c = client(&sim, 10);
    let (devices, pages) = all_devices(&c).await.expect("listing");
    assert_eq!((devices, pages), (25, 3));

    let log: Vec<_> = sim
        .state()
        .recent_requests()
        .into_iter()
        .filter(|r| r.cmdlet.as_deref() == Some("Get-MobileDevice"))
        .collect();
    assert_eq!(log.len(), 3);
    let tenant = &sim.config().tenant_id;
    for r in &log {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, format!("/adminapi/beta/{tenant}/InvokeCommand"));
        let h = |name: &str| r.header(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(h("authorization").starts_with("Bearer "));
        assert_eq!(h("content-type"), "application/json");
        assert_eq!(h("accept"), "application/json");
        assert_eq!(h("x-responseformat"), "json");
        assert_eq!(h("prefer"), "odata.maxpagesize=10");
        assert_eq!(
            h("x-anchormailbox"),
            format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tenant}")
        );
        assert_eq!(h("x-cmdletname"), "Get-MobileDevice");
        assert!(h("user-agent").starts_with("exchange-connector/"));
        assert!(uuid::Uuid::parse_str(h("client-request-id")).is_ok());
        assert_eq!(
            r.body,
            r#"{"CmdletInput":{"CmdletName":"Get-MobileDevice","Parameters":{"ResultSize":"Unlimited"}}}"#
        );
        let body: Value = serde_json::from_str(&r.body).expect("json body");
        assert_eq!(body["CmdletInput"]["Parameters"]["ResultSize"], "Unlimited");
    }
    // The first page goes to InvokeCommand, the others to the next links.
    assert!(log[0].query.is_none());
    assert!(log[1..]
        .iter()
        .all(|r| r.query.as_deref().is_some_and(|q| q.contains("skiptoken"))));
    // One client-request-id for the whole logical call.
    let ids: Vec<_> = log
        .iter()
        .filter_map(|r| r.header("client-request-id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
}

#[tokio::test]
async fn a_retry_keeps_the_request_id_and_a_new_call_gets_a_new_one() {
    let sim = simulator(3, |_| {}).await;
    sim.state().faults().push(
        FaultRule::times(
            FaultKind::Unavailable {
                retry_after_secs: None,
            },
            1,
        )
        .for_cmdlet("Get-ActiveSyncOrganizationSettings"),
    );
    let c = client(&sim, 1000);
    org_settings(&c).await.expect("first call, retried once");
    org_settings(&c).await.expect("second call");
    let ids: Vec<String> = sim
        .state()
        .recent_requests()
        .into_iter()
        .filter(|r| r.cmdlet.as_deref() == Some("Get-ActiveSyncOrganizationSettings"))
        .filter_map(|r| r.header("client-request-id").map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "the retry reuses the id");
    assert_ne!(ids[1], ids[2], "a new logical call has its own id");
}

#[tokio::test]
async fn the_token_request_sends_client_credentials_for_the_exchange_scope() {
    let sim = simulator(1, |_| {}).await;
    let c = client(&sim, 1000);
    org_settings(&c).await.expect("call");
    let token = sim
        .state()
        .recent_requests()
        .into_iter()
        .find(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .expect("a token request");
    assert_eq!(token.method, "POST");
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(token.body.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "https://outlook.office365.com/.default");
    assert_eq!(form["client_id"], sim.config().client_id);
    assert!(
        !token.body.contains(&sim.config().client_secret),
        "the request log redacts the secret"
    );
}
