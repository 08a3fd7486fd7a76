//! RBAC over HTTP: 403 per application and per user, the EXOModuleFile pre-flight, and the
//! `/_sim/rbac` admin endpoint.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::exo::{frozen, Exo};
use super::*;

/// A token for another application or for a signed-in user, minted straight into the store.
fn token_for(exo: &Exo, client_id: &str, user: Option<&str>) -> String {
    let now = exo.state().now();
    exo.state().tokens().issue_for(client_id, user, now, 3600)
}

async fn module_file(exo: &Exo, token: Option<&str>, command: &str) -> (StatusCode, Value) {
    let url = format!(
        "{}/adminapi/v1.0/{}/EXOModuleFile?Version=3.9.0",
        exo.sim.base_url(),
        exo.sim.config().tenant_id
    );
    let mut req = client().get(url).header("CommandName", command);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
}

fn exported(v: &Value) -> BTreeSet<String> {
    v["value"][0]["exportedCmdlets"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

const SET: &str = "Set-ActiveSyncOrganizationSettings";

#[tokio::test]
async fn a_cmdlet_denied_to_everyone_answers_403_with_plain_text() {
    let exo = Exo::start(SimConfig {
        deny: Rbac::parse(SET).unwrap_or_default(),
        ..frozen(5, 5)
    })
    .await;
    let (status, headers, body) = exo
        .call_with(&exo.token, SET, json!({"DefaultAccessLevel": "Block"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/plain"));
    assert!(
        body.contains(SET) && serde_json::from_str::<Value>(&body).is_err(),
        "{body}"
    );
    let (_, s) = exo
        .call("Get-ActiveSyncOrganizationSettings", json!({}))
        .await;
    assert_eq!(
        s["value"][0]["DefaultAccessLevel"], "Allow",
        "the denied Set did not run"
    );
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn a_cmdlet_denied_to_one_app_or_one_user_stays_allowed_to_the_others() {
    let exo = Exo::start(frozen(5, 5)).await;
    let demo_app = exo.sim.config().client_id.clone();
    let spec = format!("app:{demo_app}=Remove-MobileDevice;user:helpdesk@contoso-demo.onmicrosoft.com={SET},Get-MobileDevice");
    assert_eq!(exo.state().set_denied(&spec), Ok(()));
    let other_app = token_for(&exo, "0f5a8e21-1111-4aaa-9bbb-123456789abc", None);
    let helpdesk = token_for(
        &exo,
        "0f5a8e21-1111-4aaa-9bbb-123456789abc",
        Some("HelpDesk@contoso-demo.onmicrosoft.com"),
    );
    let admin = token_for(
        &exo,
        "0f5a8e21-1111-4aaa-9bbb-123456789abc",
        Some("admin@contoso-demo.onmicrosoft.com"),
    );
    let remove = json!({"Identity": "nobody\\ExchangeActiveSyncDevices\\x", "Confirm": false});
    let cases = [
        (
            &exo.token,
            "Remove-MobileDevice",
            remove.clone(),
            StatusCode::FORBIDDEN,
        ),
        (
            &other_app,
            "Remove-MobileDevice",
            remove.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            &helpdesk,
            "Remove-MobileDevice",
            remove,
            StatusCode::NOT_FOUND,
        ),
        (
            &helpdesk,
            "Get-MobileDevice",
            json!({}),
            StatusCode::FORBIDDEN,
        ),
        (&helpdesk, SET, json!({}), StatusCode::FORBIDDEN),
        (&admin, "Get-MobileDevice", json!({}), StatusCode::OK),
        (&admin, SET, json!({}), StatusCode::OK),
        (&exo.token, "Get-MobileDevice", json!({}), StatusCode::OK),
    ];
    for (token, cmdlet, params, want) in cases {
        let (status, _, body) = exo.call_with(token, cmdlet, params).await;
        assert_eq!(status, want, "{cmdlet}: {body}");
    }
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn exo_module_file_lists_exactly_the_cmdlets_the_caller_may_run() {
    let exo = Exo::start(frozen(5, 5)).await;
    let (status, v) = module_file(&exo, Some(&exo.token), "*").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let all = exported(&v);
    let required = [
        "Get-ActiveSyncOrganizationSettings",
        SET,
        "Get-MobileDeviceMailboxPolicy",
        "Set-MobileDeviceMailboxPolicy",
        "New-MobileDeviceMailboxPolicy",
        "Remove-MobileDeviceMailboxPolicy",
        "Get-ActiveSyncDeviceAccessRule",
        "Set-ActiveSyncDeviceAccessRule",
        "New-ActiveSyncDeviceAccessRule",
        "Remove-ActiveSyncDeviceAccessRule",
        "Get-MobileDeviceStatistics",
        "Get-MobileDevice",
        "Get-ActiveSyncDeviceClass",
        "Remove-MobileDevice",
    ];
    for r in required {
        assert!(all.contains(r), "{r} missing from {all:?}");
    }
    assert!(
        all.contains("Get-Mailbox"),
        "other real cmdlets are listed too"
    );

    exo.state()
        .set_denied(&format!(
            "{SET},Get-Mailbox;user:someone@contoso-demo.onmicrosoft.com=*"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, v) = module_file(&exo, Some(&exo.token), "*").await;
    let now: BTreeSet<String> = exported(&v);
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|c| c.as_str() != SET && c.as_str() != "Get-Mailbox")
        .cloned()
        .collect();
    assert_eq!(now, expected);
    let someone = token_for(
        &exo,
        &exo.sim.config().client_id,
        Some("someone@contoso-demo.onmicrosoft.com"),
    );
    let (status, v) = module_file(&exo, Some(&someone), "*").await;
    assert_eq!(status, StatusCode::OK);
    assert!(exported(&v).is_empty(), "{v}");

    let (_, v) = module_file(&exo, Some(&exo.token), "Get-MobileDevice*,Set-*").await;
    let picked: Vec<String> = exported(&v).into_iter().collect();
    assert!(picked.contains(&"Get-MobileDeviceStatistics".to_owned()));
    assert!(picked
        .iter()
        .all(|c| c.starts_with("Get-MobileDevice") || c.starts_with("Set-")));
    assert!(!picked.contains(&SET.to_owned()));

    let (status, _) = module_file(&exo, None, "*").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn rbac_is_read_and_replaced_through_the_admin_endpoint() {
    let exo = Exo::start(frozen(5, 5)).await;
    let url = format!("{}/_sim/rbac", exo.sim.base_url());
    let put = |body: Value| client().put(&url).json(&body).send();
    let resp = put(json!({"deny": [{"principal": "*", "cmdlets": ["Get-MobileDevice"]}]}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, _, _) = exo
        .call_with(&exo.token, "Get-MobileDevice", json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let got: Value = client()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(got["spec"], "*=Get-MobileDevice");
    let bad = put(json!({"spec": "group:x=Get-MobileDevice"}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let cleared = put(json!({"spec": ""}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cleared.status(), StatusCode::OK);
    let (status, _, _) = exo
        .call_with(&exo.token, "Get-MobileDevice", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    exo.sim.shutdown().await;
}
