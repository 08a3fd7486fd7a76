//! The other cmdlets over HTTP: not-found errors, Remove-MobileDevice, statistics, device
//! classes and sorting.

use std::collections::{BTreeSet, HashMap};

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::exo::{frozen, message, text, Exo};

#[tokio::test]
async fn unknown_objects_answer_404_management_object_not_found() {
    let exo = Exo::start(frozen(5, 5)).await;
    for (cmdlet, params) in [
        (
            "Set-MobileDeviceMailboxPolicy",
            json!({"Identity": "Nope", "PasswordEnabled": true}),
        ),
        (
            "Remove-ActiveSyncDeviceAccessRule",
            json!({"Identity": "Nope (DeviceType)", "Confirm": false}),
        ),
        (
            "Get-MobileDeviceStatistics",
            json!({"Mailbox": "nobody@nowhere.example"}),
        ),
        (
            "Remove-MobileDevice",
            json!({"Identity": "nobody\\ExchangeActiveSyncDevices\\x", "Confirm": false}),
        ),
        (
            "Get-ActiveSyncDeviceClass",
            json!({"Identity": "Nope\u{a7}Nope"}),
        ),
    ] {
        let (status, err) = exo.call(cmdlet, params).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{cmdlet}");
        let msg = message(&err);
        assert!(msg.contains("|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object '"), "{msg}");
        assert!(msg.contains("' couldn't be found on '"), "{msg}");
    }
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn remove_mobile_device_needs_confirm_false() {
    let exo = Exo::start(frozen(10, 12)).await;
    let devices = exo.devices().await;
    let identity = text(&devices[3], "Identity").to_owned();
    let (status, err) = exo
        .call("Remove-MobileDevice", json!({"Identity": identity}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&err).contains("PSInvalidOperationException"),
        "{err}"
    );
    assert_eq!(
        exo.sim.device_count(),
        12,
        "nothing removed without confirmation"
    );
    exo.done(
        "Remove-MobileDevice",
        json!({"Identity": identity, "Confirm": false}),
    )
    .await;
    assert_eq!(exo.sim.device_count(), 11);
    let (status, _) = exo
        .call("Get-MobileDevice", json!({"Identity": identity}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(exo.sim.request_count("Remove-MobileDevice"), 2);
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn statistics_need_a_mailbox_or_an_identity_and_move_with_the_clock() {
    let mut exo = Exo::start(frozen(30, 60)).await;
    let (status, err) = exo.call("Get-MobileDeviceStatistics", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&err).contains("missing mandatory parameters"),
        "{err}"
    );
    let (status, _) = exo
        .call(
            "Get-MobileDeviceStatistics",
            json!({"Mailbox": "x", "ResultSize": "Unlimited"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no ResultSize on this cmdlet"
    );

    let devices = exo.devices().await;
    let owner = text(&devices[0], "Identity")
        .split('\\')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mine: Vec<&Value> = devices
        .iter()
        .filter(|d| text(d, "Identity").starts_with(&format!("{owner}\\")))
        .collect();
    let stats = exo
        .rows(
            "Get-MobileDeviceStatistics",
            json!({"Mailbox": owner}),
            1000,
        )
        .await;
    assert_eq!(stats.len(), mine.len());
    for key in [
        "DeviceID",
        "DeviceFriendlyName",
        "DeviceType",
        "DeviceModel",
        "DeviceOS",
        "DeviceUserAgent",
        "DeviceAccessState",
        "DeviceAccessStateReason",
        "DeviceAccessControlRule",
        "ClientType",
        "ClientVersion",
        "FirstSyncTime",
        "LastSyncAttemptTime",
        "LastSuccessSync",
        "LastPolicyUpdateTime",
        "LastPingHeartbeat",
        "NumberOfFoldersSynced",
        "DevicePolicyApplied",
        "DevicePolicyApplicationStatus",
        "Status",
        "StatusNote",
        "IsRemoteWipeSupported",
        "Identity",
        "Guid",
        "DeviceWipeRequestTime",
        "DeviceWipeSentTime",
        "DeviceWipeAckTime",
        "LastDeviceWipeRequestor",
    ] {
        assert!(stats[0].get(key).is_some(), "missing {key}: {}", stats[0]);
    }
    assert_eq!(stats[0]["DeviceID"], mine[0]["DeviceId"]);
    assert!(stats[0]["NumberOfFoldersSynced"].is_u64());

    // Two hours later most allowed, still active devices have synced again.
    let ids: Vec<String> = devices.iter().map(|d| text(d, "Guid").to_owned()).collect();
    let before = stats_by_id(&exo, &ids).await;
    let _ = exo.advance(std::time::Duration::from_secs(2 * 3600)).await;
    let after = stats_by_id(&exo, &ids).await;
    let mut moved = 0;
    for (id, b) in &before {
        let a = &after[id];
        assert!(text(a, "LastSyncAttemptTime") >= text(b, "LastSyncAttemptTime"));
        if text(a, "LastSuccessSync") > text(b, "LastSuccessSync") {
            moved += 1;
        }
        if b["DeviceAccessState"] == "Blocked" {
            assert_eq!(
                a["LastSuccessSync"], b["LastSuccessSync"],
                "blocked devices do not sync"
            );
        }
    }
    assert!(moved > devices.len() / 2, "{moved} of {}", devices.len());
    exo.sim.shutdown().await;
}

async fn stats_by_id(exo: &Exo, ids: &[String]) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for id in ids {
        let (status, v) = exo
            .call("Get-MobileDeviceStatistics", json!({"Identity": id}))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        out.insert(id.clone(), v["value"][0].clone());
    }
    out
}

#[tokio::test]
async fn device_classes_filter_and_sort_on_type_model_and_time() {
    let exo = Exo::start(frozen(60, 200)).await;
    let devices = exo.devices().await;
    let kinds: BTreeSet<(String, String)> = devices
        .iter()
        .map(|d| {
            (
                text(d, "DeviceType").to_owned(),
                text(d, "DeviceModel").to_owned(),
            )
        })
        .collect();
    let first = exo.rows("Get-ActiveSyncDeviceClass", json!({}), 5).await;
    assert_eq!(
        first.len(),
        5,
        "without ResultSize only the first page comes back"
    );
    let classes = exo
        .rows(
            "Get-ActiveSyncDeviceClass",
            json!({"ResultSize": "Unlimited"}),
            5,
        )
        .await;
    assert_eq!(classes.len(), kinds.len());
    let iphones = exo
        .rows(
            "Get-ActiveSyncDeviceClass",
            json!({"Filter": "DeviceType -eq 'iPhone'"}),
            1000,
        )
        .await;
    assert!(!iphones.is_empty() && iphones.iter().all(|c| c["DeviceType"] == "iPhone"));
    let newest_first = exo
        .rows(
            "Get-ActiveSyncDeviceClass",
            json!({"SortBy": "LastUpdateTime desc"}),
            3,
        )
        .await;
    let times: Vec<&str> = newest_first
        .iter()
        .map(|c| text(c, "LastUpdateTime"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let by_model = exo
        .rows(
            "Get-ActiveSyncDeviceClass",
            json!({"SortBy": "DeviceModel"}),
            1000,
        )
        .await;
    let models: Vec<String> = by_model
        .iter()
        .map(|c| text(c, "DeviceModel").to_lowercase())
        .collect();
    assert!(models.windows(2).all(|w| w[0] <= w[1]), "{models:?}");
    let name = text(&classes[0], "Name").to_owned();
    let one = exo
        .rows("Get-ActiveSyncDeviceClass", json!({"Identity": name}), 1000)
        .await;
    assert_eq!(one.len(), 1);
    let (status, _) = exo
        .call(
            "Get-ActiveSyncDeviceClass",
            json!({"Filter": "FriendlyName -eq 'x'"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn get_mobile_device_sorts_by_a_property_across_pages() {
    let exo = Exo::start(frozen(40, 90)).await;
    let sorted = exo
        .rows(
            "Get-MobileDevice",
            json!({"SortBy": "DeviceModel", "ResultSize": "Unlimited"}),
            7,
        )
        .await;
    assert_eq!(sorted.len(), 90);
    let models: Vec<String> = sorted
        .iter()
        .map(|d| text(d, "DeviceModel").to_lowercase())
        .collect();
    assert!(models.windows(2).all(|w| w[0] <= w[1]));
    let ids: BTreeSet<&str> = sorted.iter().map(|d| text(d, "Guid")).collect();
    assert_eq!(ids.len(), 90, "no device twice, none missing");
    let (status, err) = exo
        .call("Get-MobileDevice", json!({"SortBy": "Colour"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("SortBy"), "{err}");
    exo.sim.shutdown().await;
}
