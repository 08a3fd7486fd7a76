//! The write side of spec §9 over HTTP: `Get-CASMailbox` / `Set-CASMailbox` and the personal
//! allow/block lists, `Clear-MobileDevice`, and how the new cmdlets show in RBAC.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::exo::{frozen, message, text, Exo};
use super::*;

const ALLOWED: &str = "ActiveSyncAllowedDeviceIDs";
const BLOCKED: &str = "ActiveSyncBlockedDeviceIDs";

/// The first device (creation order) that `pick` accepts.
fn first(devices: &[Value], what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    devices
        .iter()
        .find(|d| pick(d))
        .cloned()
        .unwrap_or_else(|| panic!("no device that is {what}"))
}

/// A device that the rules and the default decide (reason Global: no rule covers it).
fn by_default(d: &Value) -> bool {
    text(d, "DeviceAccessStateReason") == "Global"
        && text(d, "DeviceAccessState") != "DeviceDiscovery"
}

/// The alias of the device's mailbox (the first part of its Identity).
fn mailbox_of(d: &Value) -> String {
    text(d, "Identity")
        .split('\\')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Moves the frozen clock on a little, so changes made next get a `WhenChanged` of their own.
fn tick(exo: &Exo) -> String {
    exo.state().advance(Duration::from_secs(90));
    crate::sim::wire::exo_date(&exo.state().now())
}

async fn device(exo: &Exo, guid: &str) -> Value {
    let (status, v) = exo
        .call("Get-MobileDevice", json!({"Identity": guid}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["value"][0].clone()
}

async fn stats(exo: &Exo, guid: &str) -> Value {
    let (status, v) = exo
        .call("Get-MobileDeviceStatistics", json!({"Identity": guid}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["value"][0].clone()
}

async fn cas(exo: &Exo, mailbox: &str) -> Value {
    let (status, v) = exo
        .call("Get-CASMailbox", json!({"Identity": mailbox}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["value"].as_array().map(Vec::len), Some(1), "{v}");
    v["value"][0].clone()
}

fn access(d: &Value) -> (&str, &str) {
    (
        text(d, "DeviceAccessState"),
        text(d, "DeviceAccessStateReason"),
    )
}

fn ids(list: &[&str]) -> Value {
    json!(list)
}

fn edit(add: &[&str], remove: &[&str]) -> Value {
    json!({"@odata.type": "#Exchange.GenericHashTable", "Add": add, "Remove": remove})
}

#[tokio::test]
async fn get_cas_mailbox_has_the_spec_shape_and_shows_the_generated_lists() {
    let exo = Exo::start(frozen(60, 200)).await;
    let devices = exo.devices().await;
    let d = first(&devices, "listed as allowed", |d| {
        access(d) == ("Allowed", "Individual")
    });
    let alias = mailbox_of(&d);
    let m = cas(&exo, &alias).await;
    for key in [
        "Identity",
        "Name",
        "PrimarySmtpAddress",
        "ActiveSyncMailboxPolicy",
        "Guid",
        "ExchangeObjectId",
    ] {
        assert!(m[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {m}");
    }
    assert_eq!(m["Identity"], alias.as_str());
    assert_eq!(m["Name"], alias.as_str());
    assert_eq!(m["ActiveSyncEnabled"], true);
    assert_eq!(m["ActiveSyncMailboxPolicy"], "Default", "{m}");
    assert_eq!(m["Guid"], m["ExchangeObjectId"]);
    assert_eq!(m["Guid@odata.type"], "#Guid");
    assert_eq!(m[format!("{ALLOWED}@odata.type")], "#Collection(String)");
    let allowed = m[ALLOWED].as_array().cloned().unwrap_or_default();
    assert!(allowed.contains(&d["DeviceId"]), "{m}");
    assert!(m[BLOCKED].is_array(), "{m}");
    assert!(m["PrimarySmtpAddress"]
        .as_str()
        .is_some_and(|a| a.starts_with(&format!("{alias}@"))));
    // Every mailbox identity finds the same mailbox.
    for id in [
        text(&m, "PrimarySmtpAddress").to_uppercase(),
        text(&m, "Guid").to_owned(),
        text(&m, "DisplayName").to_owned(),
    ] {
        assert_eq!(cas(&exo, &id).await["Guid"], m["Guid"], "{id}");
    }
    // Every Individual device is on the matching list of its mailbox.
    for d in devices
        .iter()
        .filter(|d| text(d, "DeviceAccessStateReason") == "Individual")
    {
        let m = cas(&exo, &mailbox_of(d)).await;
        let list = if text(d, "DeviceAccessState") == "Blocked" {
            BLOCKED
        } else {
            ALLOWED
        };
        assert!(
            m[list]
                .as_array()
                .is_some_and(|l| l.contains(&d["DeviceId"])),
            "{d} {m}"
        );
    }
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn get_cas_mailbox_lists_every_mailbox_in_pages_and_filters() {
    let exo = Exo::start(frozen(60, 200)).await;
    let all = exo
        .rows("Get-CASMailbox", json!({"ResultSize": "Unlimited"}), 7)
        .await;
    assert_eq!(all.len(), 60);
    let mut guids: Vec<&str> = all.iter().map(|m| text(m, "Guid")).collect();
    guids.sort_unstable();
    guids.dedup();
    assert_eq!(guids.len(), 60);
    let (status, first_page) = exo.call("Get-CASMailbox", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first_page["value"].as_array().map(Vec::len), Some(60));

    let with_devices = exo
        .rows(
            "Get-CASMailbox",
            json!({"ResultSize": "Unlimited", "Filter": "HasActiveSyncDevicePartnership -eq $true"}),
            1000,
        )
        .await;
    let mut owners: Vec<String> = exo.devices().await.iter().map(mailbox_of).collect();
    owners.sort();
    owners.dedup();
    assert_eq!(with_devices.len(), owners.len());
    assert!(with_devices.len() < 60);
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn adding_to_the_allowed_list_alone_leaves_a_blocked_listed_device_blocked() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = first(&exo.devices().await, "decided by default", by_default);
    let (guid, id, mbx) = (text(&d, "Guid"), text(&d, "DeviceId"), mailbox_of(&d));
    let now = tick(&exo);
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, BLOCKED: edit(&[id], &[])}),
    )
    .await;
    let blocked = device(&exo, guid).await;
    assert_eq!(access(&blocked), ("Blocked", "Individual"));
    assert_eq!(blocked["DeviceAccessControlRule"], Value::Null);
    assert_eq!(
        blocked["WhenChangedUTC"],
        now.as_str(),
        "a quick sync sees it"
    );

    tick(&exo);
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, ALLOWED: edit(&[id], &[])}),
    )
    .await;
    let still = device(&exo, guid).await;
    assert_eq!(access(&still), ("Blocked", "Individual"));
    assert_eq!(still["WhenChangedUTC"], now.as_str(), "nothing moved");
    let m = cas(&exo, &mbx).await;
    assert!(m[ALLOWED]
        .as_array()
        .is_some_and(|l| l.contains(&json!(id))));
    assert!(m[BLOCKED]
        .as_array()
        .is_some_and(|l| l.contains(&json!(id))));
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn allow_after_block_in_one_call_leaves_the_device_allowed_individually() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = first(&exo.devices().await, "decided by default", by_default);
    let (guid, id, mbx) = (text(&d, "Guid"), text(&d, "DeviceId"), mailbox_of(&d));
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, BLOCKED: ids(&[id])}),
    )
    .await;
    assert_eq!(access(&device(&exo, guid).await), ("Blocked", "Individual"));
    let now = tick(&exo);
    // Device ids compare in any case.
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, ALLOWED: edit(&[id], &[]), BLOCKED: edit(&[], &[&id.to_lowercase()])}),
    )
    .await;
    let allowed = device(&exo, guid).await;
    assert_eq!(access(&allowed), ("Allowed", "Individual"));
    assert_eq!(allowed["WhenChangedUTC"], now.as_str());
    let m = cas(&exo, &mbx).await;
    assert_eq!(m[BLOCKED], json!([]));
    assert!(m[ALLOWED]
        .as_array()
        .is_some_and(|l| l.contains(&json!(id))));
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn removing_a_device_from_both_lists_hands_it_back_to_the_rules_and_default() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = first(&exo.devices().await, "allowed by default", |d| {
        by_default(d) && text(d, "DeviceAccessState") == "Allowed"
    });
    let (guid, id, mbx) = (text(&d, "Guid"), text(&d, "DeviceId"), mailbox_of(&d));
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, ALLOWED: edit(&[id], &[]), BLOCKED: edit(&[id], &[])}),
    )
    .await;
    assert_eq!(access(&device(&exo, guid).await), ("Blocked", "Individual"));
    exo.done(
        "Set-ActiveSyncOrganizationSettings",
        json!({"DefaultAccessLevel": "Quarantine"}),
    )
    .await;
    assert_eq!(
        access(&device(&exo, guid).await),
        ("Blocked", "Individual"),
        "the default does not move a listed device"
    );
    let now = tick(&exo);
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, ALLOWED: edit(&[], &[id]), BLOCKED: edit(&[], &[id])}),
    )
    .await;
    let back = device(&exo, guid).await;
    assert_eq!(access(&back), ("Quarantined", "Global"));
    assert_eq!(back["WhenChangedUTC"], now.as_str());
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn a_list_is_replaced_by_an_array_and_cleared_by_null() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = first(&exo.devices().await, "allowed by default", |d| {
        by_default(d) && text(d, "DeviceAccessState") == "Allowed"
    });
    let (guid, id, mbx) = (text(&d, "Guid"), text(&d, "DeviceId"), mailbox_of(&d));
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, BLOCKED: ids(&[id, "OTHERDEVICE1", "otherdevice1"])}),
    )
    .await;
    assert_eq!(
        cas(&exo, &mbx).await[BLOCKED],
        json!([id, "OTHERDEVICE1"]),
        "each id once"
    );
    assert_eq!(access(&device(&exo, guid).await), ("Blocked", "Individual"));
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, BLOCKED: ids(&["SOMETHINGELSE"])}),
    )
    .await;
    assert_eq!(cas(&exo, &mbx).await[BLOCKED], json!(["SOMETHINGELSE"]));
    assert_eq!(access(&device(&exo, guid).await), ("Allowed", "Global"));
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, ALLOWED: id, BLOCKED: null}),
    )
    .await;
    let m = cas(&exo, &mbx).await;
    assert_eq!(m[BLOCKED], json!([]));
    assert_eq!(
        m[ALLOWED],
        json!([id]),
        "a single string is a one-item list"
    );
    assert_eq!(access(&device(&exo, guid).await), ("Allowed", "Individual"));
    exo.done("Set-CASMailbox", json!({"Identity": mbx, ALLOWED: null}))
        .await;
    assert_eq!(cas(&exo, &mbx).await[ALLOWED], json!([]));
    assert_eq!(access(&device(&exo, guid).await), ("Allowed", "Global"));
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn a_rule_change_does_not_move_an_individually_allowed_device() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = first(&exo.devices().await, "decided by default", by_default);
    let (guid, id, mbx) = (text(&d, "Guid"), text(&d, "DeviceId"), mailbox_of(&d));
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, ALLOWED: ids(&[id])}),
    )
    .await;
    let listed = device(&exo, guid).await;
    assert_eq!(access(&listed), ("Allowed", "Individual"));
    tick(&exo);
    let ua = text(&d, "DeviceUserAgent");
    let (status, created) = exo
        .call(
            "New-ActiveSyncDeviceAccessRule",
            json!({"AccessLevel": "Block", "Characteristic": "UserAgent", "QueryString": ua}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let rule = text(&created["value"][0], "Identity").to_owned();
    exo.done(
        "Set-ActiveSyncDeviceAccessRule",
        json!({"Identity": rule, "AccessLevel": "Quarantine"}),
    )
    .await;
    assert_eq!(device(&exo, guid).await, listed, "not moved at all");
    // Off the list, the rule decides.
    exo.done("Set-CASMailbox", json!({"Identity": mbx, ALLOWED: null}))
        .await;
    let ruled = device(&exo, guid).await;
    assert_eq!(access(&ruled), ("Quarantined", "DeviceRule"));
    assert_eq!(ruled["DeviceAccessControlRule"], rule.as_str());
    exo.done(
        "Remove-ActiveSyncDeviceAccessRule",
        json!({"Identity": rule, "Confirm": false}),
    )
    .await;
    assert_eq!(access(&device(&exo, guid).await), access(&d));
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn bad_device_ids_and_long_lists_are_refused_naming_the_parameter() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = first(&exo.devices().await, "decided by default", by_default);
    let mbx = mailbox_of(&d);
    let before = cas(&exo, &mbx).await;
    let long = "A".repeat(65);
    let too_many: Vec<String> = (0..1001).map(|i| format!("DEV{i:04}")).collect();
    let far_too_many = vec!["SAME"; 5000];
    for (param, value) in [
        (ALLOWED, ids(&[&long])),
        (BLOCKED, edit(&["ok", ""], &[])),
        (ALLOWED, json!(too_many)),
        (BLOCKED, edit(&far_too_many, &[])),
        (BLOCKED, json!({"Add": ["x"], "Replace": ["y"]})),
        (ALLOWED, json!(5)),
    ] {
        let (status, err) = exo
            .call(
                "Set-CASMailbox",
                json!({"Identity": mbx, param: value.clone()}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{param} {value}: {err}");
        assert!(message(&err).contains(param), "{}", message(&err));
    }
    assert_eq!(cas(&exo, &mbx).await, before, "nothing changed");
    let longest = "B".repeat(64);
    let most: Vec<String> = (0..1000).map(|i| format!("DEV{i:04}")).collect();
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, ALLOWED: most, BLOCKED: [longest.clone()]}),
    )
    .await;
    let m = cas(&exo, &mbx).await;
    assert_eq!(m[ALLOWED].as_array().map(Vec::len), Some(1000));
    assert_eq!(m[BLOCKED], json!([longest]));
    let (status, err) = exo
        .call(
            "Set-CASMailbox",
            json!({"Identity": mbx, ALLOWED: edit(&["ONEMORE"], &[])}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("at most 1000"), "{err}");
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn active_sync_enabled_is_set_and_what_if_changes_nothing() {
    let exo = Exo::start(frozen(20, 30)).await;
    let d = first(&exo.devices().await, "decided by default", by_default);
    let (guid, id, mbx) = (text(&d, "Guid"), text(&d, "DeviceId"), mailbox_of(&d));
    let before = cas(&exo, &mbx).await;
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, BLOCKED: ids(&[id]), "ActiveSyncEnabled": false, "WhatIf": true}),
    )
    .await;
    assert_eq!(cas(&exo, &mbx).await, before);
    assert_eq!(device(&exo, guid).await, d);
    let now = tick(&exo);
    exo.done(
        "Set-CASMailbox",
        json!({"Identity": mbx, "ActiveSyncEnabled": false}),
    )
    .await;
    let m = cas(&exo, &mbx).await;
    assert_eq!(m["ActiveSyncEnabled"], false);
    assert_eq!(m["WhenChangedUTC"], now.as_str());
    let (status, err) = exo
        .call(
            "Set-CASMailbox",
            json!({"Identity": mbx, "ActiveSyncEnabled": "maybe"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn unknown_mailboxes_and_devices_are_404() {
    let exo = Exo::start(frozen(5, 5)).await;
    for (cmdlet, params) in [
        (
            "Get-CASMailbox",
            json!({"Identity": "nobody@nowhere.example"}),
        ),
        (
            "Set-CASMailbox",
            json!({"Identity": "nobody", ALLOWED: ["X"]}),
        ),
        (
            "Clear-MobileDevice",
            json!({"Identity": "00000000-0000-4000-8000-000000000000", "Confirm": false}),
        ),
        (
            "Clear-MobileDevice",
            json!({"Identity": "nobody\\ExchangeActiveSyncDevices\\iPhone§X", "Cancel": true, "Confirm": false}),
        ),
    ] {
        let (status, err) = exo.call(cmdlet, params).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{cmdlet}: {err}");
        assert_eq!(err["error"]["code"], "NotFound");
        let msg = message(&err);
        assert!(
            msg.contains("ManagementObjectNotFoundException") && msg.contains("couldn't be found"),
            "{msg}"
        );
    }
    for cmdlet in ["Set-CASMailbox", "Clear-MobileDevice"] {
        let (status, err) = exo.call(cmdlet, json!({"Confirm": false})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cmdlet}: {err}");
        assert!(message(&err).contains("missing mandatory parameters: Identity"));
    }
    exo.sim.shutdown().await;
}

/// A device `pick` accepts whose statistics show no wipe.
async fn unwiped(exo: &Exo, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    for d in exo.devices().await.iter().filter(|d| pick(d)) {
        let s = stats(exo, text(d, "Guid")).await;
        if s["DeviceWipeRequestTime"].is_null() {
            return d.clone();
        }
    }
    panic!("no device without a wipe that is {what}")
}

#[tokio::test]
async fn clear_mobile_device_marks_a_wipe_pending_and_cancel_withdraws_it() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = unwiped(&exo, "an EAS 16.1 phone", |d| {
        text(d, "ClientType") == "EAS" && text(d, "ClientVersion") == "16.1"
    })
    .await;
    let guid = text(&d, "Guid");
    let before = stats(&exo, guid).await;
    let now = tick(&exo);
    exo.done(
        "Clear-MobileDevice",
        json!({"Identity": guid, "Confirm": false}),
    )
    .await;
    let s = stats(&exo, guid).await;
    assert_eq!(s["Status"], "DeviceWipePending");
    assert_eq!(s["DeviceWipeRequestTime"], now.as_str());
    assert_eq!(s["DeviceWipeRequestTime@odata.type"], "#DateTime");
    assert_eq!(s["DeviceWipeSentTime"], Value::Null);
    assert_eq!(s["DeviceWipeAckTime"], Value::Null);
    assert_eq!(
        s["LastDeviceWipeRequestor"],
        exo.sim.config().client_id.as_str(),
        "app-only: the application id"
    );
    assert_eq!(device(&exo, guid).await["WhenChangedUTC"], now.as_str());

    let later = tick(&exo);
    exo.done(
        "Clear-MobileDevice",
        json!({"Identity": text(&d, "Identity"), "Cancel": true, "Confirm": false}),
    )
    .await;
    let s = stats(&exo, guid).await;
    assert_eq!(s["Status"], before["Status"]);
    assert_eq!(s["DeviceWipeRequestTime"], Value::Null);
    assert_eq!(s["LastDeviceWipeRequestor"], Value::Null);
    assert_eq!(device(&exo, guid).await["WhenChangedUTC"], later.as_str());

    let (status, err) = exo
        .call(
            "Clear-MobileDevice",
            json!({"Identity": guid, "Cancel": true, "Confirm": false}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        message(&err).contains("no pending wipe request"),
        "{}",
        message(&err)
    );
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn an_account_only_wipe_needs_eas_16_1_or_later() {
    let exo = Exo::start(frozen(60, 200)).await;
    let old = unwiped(&exo, "an EAS client older than 16.1", |d| {
        text(d, "ClientType") == "EAS" && text(d, "ClientVersion") != "16.1"
    })
    .await;
    let guid = text(&old, "Guid");
    let (status, err) = exo
        .call(
            "Clear-MobileDevice",
            json!({"Identity": guid, "AccountOnly": true, "Confirm": false}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let msg = message(&err);
    assert!(
        msg.contains("requires Exchange ActiveSync 16.1 or later")
            && msg.contains(text(&old, "ClientVersion")),
        "{msg}"
    );
    assert!(stats(&exo, guid).await["DeviceWipeRequestTime"].is_null());
    // A full wipe of the same device is fine.
    exo.done(
        "Clear-MobileDevice",
        json!({"Identity": guid, "Confirm": false}),
    )
    .await;
    assert_eq!(stats(&exo, guid).await["Status"], "DeviceWipePending");

    let new = unwiped(&exo, "an EAS 16.1 client", |d| {
        text(d, "ClientType") == "EAS" && text(d, "ClientVersion") == "16.1"
    })
    .await;
    let guid = text(&new, "Guid");
    exo.done(
        "Clear-MobileDevice",
        json!({"Identity": guid, "AccountOnly": true, "Confirm": false}),
    )
    .await;
    let s = stats(&exo, guid).await;
    assert_eq!(s["Status"], "AccountOnlyDeviceWipePending");
    assert!(s["DeviceWipeRequestTime"].is_string());
    exo.done(
        "Clear-MobileDevice",
        json!({"Identity": guid, "Cancel": true, "Confirm": false}),
    )
    .await;
    assert!(stats(&exo, guid).await["DeviceWipeRequestTime"].is_null());
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn clear_mobile_device_needs_confirm_false_and_honours_what_if() {
    let exo = Exo::start(frozen(60, 200)).await;
    let d = unwiped(&exo, "an EAS 16.1 phone", |d| {
        text(d, "ClientType") == "EAS" && text(d, "ClientVersion") == "16.1"
    })
    .await;
    let guid = text(&d, "Guid");
    let before = stats(&exo, guid).await;
    for params in [
        json!({"Identity": guid}),
        json!({"Identity": guid, "Confirm": true}),
        json!({"Identity": guid, "AccountOnly": true}),
    ] {
        let (status, err) = exo.call("Clear-MobileDevice", params.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params}: {err}");
        assert!(message(&err).contains("\"Confirm\": false"), "{err}");
    }
    exo.done(
        "Clear-MobileDevice",
        json!({"Identity": guid, "Confirm": false, "WhatIf": true}),
    )
    .await;
    assert_eq!(stats(&exo, guid).await, before);
    assert_eq!(device(&exo, guid).await, d);
    let (status, err) = exo
        .call(
            "Clear-MobileDevice",
            json!({"Identity": guid, "AccountOnly": true, "Cancel": true, "Confirm": false}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // Devices that cannot be wiped (IsRemoteWipeSupported false) are refused.
    let rest = first(&exo.devices().await, "a REST client", |d| {
        text(d, "ClientType") == "REST"
    });
    let (status, err) = exo
        .call(
            "Clear-MobileDevice",
            json!({"Identity": text(&rest, "Guid"), "Confirm": false}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        message(&err).contains("doesn't support remote wipe"),
        "{err}"
    );
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn the_write_side_cmdlets_are_exported_counted_and_can_be_denied() {
    const NEW: [&str; 3] = ["Get-CASMailbox", "Set-CASMailbox", "Clear-MobileDevice"];
    let exo = Exo::start(frozen(5, 5)).await;
    let url = format!(
        "{}/adminapi/v1.0/{}/EXOModuleFile?Version=3.9.0",
        exo.sim.base_url(),
        exo.sim.config().tenant_id
    );
    let exported = |v: Value| -> Vec<String> {
        v["value"][0]["exportedCmdlets"]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect()
    };
    let module = || async {
        let resp = client()
            .get(&url)
            .bearer_auth(&exo.token)
            .header("CommandName", "*")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        resp.json::<Value>().await.unwrap_or_default()
    };
    let names = exported(module().await);
    for n in NEW.iter().chain(&["Remove-MobileDevice"]) {
        assert_eq!(names.iter().filter(|x| x == n).count(), 1, "{n}: {names:?}");
    }
    let (status, _) = exo.call("Get-CASMailbox", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(exo.state().request_count("get-casmailbox"), 1);

    assert_eq!(exo.state().set_denied(&NEW.join(",")), Ok(()));
    let names = exported(module().await);
    assert!(
        NEW.iter().all(|n| !names.iter().any(|x| x == n)),
        "{names:?}"
    );
    for cmdlet in NEW {
        let (status, _, body) = exo
            .call_with(
                &exo.token,
                cmdlet,
                json!({"Identity": "x", "Confirm": false}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cmdlet}: {body}");
    }
    exo.sim.shutdown().await;
}
