//! Mobile device mailbox policies over HTTP: one default, validation in the spec shape,
//! confirmation on removal.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::exo::{frozen, message, text, Exo};

#[tokio::test]
async fn setting_is_default_on_one_policy_clears_it_on_the_others() {
    let exo = Exo::start(frozen(20, 30)).await;
    let defaults = |ps: &[Value]| -> Vec<String> {
        ps.iter()
            .filter(|p| p["IsDefault"] == true)
            .map(|p| text(p, "Name").to_owned())
            .collect()
    };
    let policies = exo
        .rows("Get-MobileDeviceMailboxPolicy", json!({}), 1000)
        .await;
    assert!(policies.len() >= 2, "Default plus extra ones");
    assert_eq!(defaults(&policies), ["Default"]);

    let (status, created) = exo
        .call(
            "New-MobileDeviceMailboxPolicy",
            json!({"Name": "Sales", "IsDefault": true, "PasswordEnabled": true, "MinPasswordLength": 6,
                   "MaxPasswordFailedAttempts": 8, "MaxInactivityTimeLock": "00:15:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let p = &created["value"][0];
    assert_eq!(
        (
            p["MinPasswordLength"].clone(),
            p["MaxPasswordFailedAttempts"].clone()
        ),
        (json!(6), json!("8"))
    );
    assert_eq!(p["MaxInactivityTimeLock"], "00:15:00");
    assert_eq!(p["PasswordExpiration"], "Unlimited");
    let policies = exo
        .rows("Get-MobileDeviceMailboxPolicy", json!({}), 1)
        .await;
    assert_eq!(defaults(&policies), ["Sales"]);

    exo.done(
        "Set-MobileDeviceMailboxPolicy",
        json!({"Identity": "default", "IsDefault": true}),
    )
    .await;
    let policies = exo
        .rows("Get-MobileDeviceMailboxPolicy", json!({}), 1000)
        .await;
    assert_eq!(defaults(&policies), ["Default"]);

    let (status, err) = exo
        .call(
            "Set-MobileDeviceMailboxPolicy",
            json!({"Identity": "Default", "IsDefault": false}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn policy_validation_errors_come_in_the_spec_shape() {
    let exo = Exo::start(frozen(5, 5)).await;
    for (params, expect) in [
        (
            json!({"Name": "P", "MinPasswordLength": 17}),
            "MinPasswordLength",
        ),
        (
            json!({"Name": "P", "MaxPasswordFailedAttempts": 3}),
            "MaxPasswordFailedAttempts",
        ),
        (
            json!({"Name": "P", "PasswordHistory": 51}),
            "PasswordHistory",
        ),
        (
            json!({"Name": "P", "PasswordExpiration": "731.00:00:00"}),
            "PasswordExpiration",
        ),
        (
            json!({"Name": "P", "MaxInactivityTimeLock": "02:00:00"}),
            "MaxInactivityTimeLock",
        ),
        (
            json!({"Name": "P", "MinPasswordComplexCharacters": 0}),
            "MinPasswordComplexCharacters",
        ),
        (
            json!({"Name": "P", "MaxEmailAgeFilter": "OneYear"}),
            "MaxEmailAgeFilter",
        ),
        (
            json!({"MinPasswordLength": 4}),
            "missing mandatory parameters: Name",
        ),
        (json!({"Name": "default"}), "ADObjectAlreadyExistsException"),
    ] {
        let (status, headers, body) = exo
            .call_with(&exo.token, "New-MobileDeviceMailboxPolicy", params.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params}");
        assert!(headers.contains_key("x-exceptiontype"));
        let err: Value = serde_json::from_str(&body).unwrap_or_default();
        let msg = message(&err);
        assert_eq!(
            msg.splitn(3, '|').count(),
            3,
            "stringId|ClassName|Message: {msg}"
        );
        assert!(msg.contains(expect), "{params}: {msg}");
        assert_eq!(
            err["error"]["innererror"]["internalexception"]["message"],
            msg
        );
    }
    let policies = exo
        .rows("Get-MobileDeviceMailboxPolicy", json!({}), 1000)
        .await;
    assert!(
        policies.iter().all(|p| p["Name"] != "P"),
        "refused policies were not created"
    );
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn the_default_policy_cannot_be_removed_and_others_need_confirm_false() {
    let exo = Exo::start(frozen(5, 5)).await;
    let (status, err) = exo
        .call(
            "Remove-MobileDeviceMailboxPolicy",
            json!({"Identity": "Default", "Confirm": false}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("can't be removed"), "{err}");
    let (status, _) = exo
        .call("New-MobileDeviceMailboxPolicy", json!({"Name": "Temp"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = exo
        .call(
            "Remove-MobileDeviceMailboxPolicy",
            json!({"Identity": "Temp"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("\"Confirm\": false"), "{err}");
    exo.done(
        "Remove-MobileDeviceMailboxPolicy",
        json!({"Identity": "temp", "Confirm": false}),
    )
    .await;
    let (status, _) = exo
        .call("Get-MobileDeviceMailboxPolicy", json!({"Identity": "Temp"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    exo.sim.shutdown().await;
}
