//! Device access rules and the default access level over HTTP: they move device states at once.

use std::collections::{BTreeSet, HashMap};

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::exo::{fixed_now, frozen, message, text, Exo};

/// Whether rules and the default level leave this device alone (see `tenant::access`).
fn exempt(d: &Value) -> bool {
    matches!(
        text(d, "DeviceAccessStateReason"),
        "Individual" | "Policy" | "ExternallyManaged"
    ) || text(d, "DeviceAccessState") == "DeviceDiscovery"
}

/// A value of `key` whose rule-covered devices are all decided by the default level (reason
/// Global), preferring the one with the most such devices; `scope` narrows the devices looked at.
fn uncovered(devices: &[Value], key: &str, scope: impl Fn(&Value) -> bool) -> String {
    let mut counts: HashMap<String, (usize, bool)> = HashMap::new();
    for d in devices.iter().filter(|d| scope(d) && !exempt(d)) {
        let e = counts.entry(text(d, key).to_owned()).or_insert((0, true));
        e.0 += 1;
        e.1 &= text(d, "DeviceAccessStateReason") == "Global";
    }
    counts
        .into_iter()
        .filter(|(_, (_, all_global))| *all_global)
        .max_by_key(|(value, (n, _))| (*n, value.clone()))
        .map(|(value, _)| value)
        .unwrap_or_else(|| panic!("no {key} without a rule"))
}

fn by_guid(devices: &[Value]) -> HashMap<String, Value> {
    devices
        .iter()
        .map(|d| (text(d, "Guid").to_owned(), d.clone()))
        .collect()
}

fn now_text() -> String {
    crate::sim::wire::exo_date(&fixed_now())
}

#[tokio::test]
async fn a_new_block_rule_blocks_matching_devices_and_removing_it_restores_the_default() {
    let exo = Exo::start(frozen(60, 200)).await;
    let before = exo.devices().await;
    let model = uncovered(&before, "DeviceModel", |_| true);
    let (status, created) = exo
        .call(
            "New-ActiveSyncDeviceAccessRule",
            json!({"AccessLevel": "Block", "Characteristic": "DeviceModel", "QueryString": model}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let name = format!("{model} (DeviceModel)");
    assert_eq!(created["value"][0]["Name"], name);
    assert_eq!(created["value"][0]["Identity"], name);
    assert_eq!(created["value"][0]["AccessLevel"], "Block");

    let after = by_guid(&exo.devices().await);
    let mut blocked = 0;
    for d in &before {
        let now = &after[text(d, "Guid")];
        if text(d, "DeviceModel") == model && !exempt(d) {
            assert_eq!(now["DeviceAccessState"], "Blocked", "{now}");
            assert_eq!(now["DeviceAccessStateReason"], "DeviceRule");
            assert_eq!(now["DeviceAccessControlRule"], name);
            assert_eq!(now["WhenChangedUTC"], now_text());
            blocked += 1;
        } else {
            assert_eq!(now, d, "a device the rule does not cover changed");
        }
    }
    assert!(blocked > 0);

    exo.done(
        "Set-ActiveSyncDeviceAccessRule",
        json!({"Identity": name, "AccessLevel": "Quarantine"}),
    )
    .await;
    let filter = json!({"Filter": format!("DeviceModel -eq '{model}'"), "ResultSize": "Unlimited"});
    for d in exo.rows("Get-MobileDevice", filter.clone(), 1000).await {
        if !exempt(&d) {
            assert_eq!(d["DeviceAccessState"], "Quarantined");
        }
    }

    let (status, err) = exo
        .call(
            "Remove-ActiveSyncDeviceAccessRule",
            json!({"Identity": name}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "removal needs Confirm:false"
    );
    assert!(message(&err).contains("Confirm"), "{err}");
    exo.done(
        "Remove-ActiveSyncDeviceAccessRule",
        json!({"Identity": name, "Confirm": false}),
    )
    .await;
    for d in exo.rows("Get-MobileDevice", filter, 1000).await {
        if !exempt(&d) {
            assert_eq!(
                (
                    text(&d, "DeviceAccessState"),
                    text(&d, "DeviceAccessStateReason")
                ),
                ("Allowed", "Global")
            );
            assert_eq!(d["DeviceAccessControlRule"], Value::Null);
        }
    }
    let (status, _) = exo
        .call("Get-ActiveSyncDeviceAccessRule", json!({"Identity": name}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    exo.sim.shutdown().await;
}

/// Creates one device access rule, which must succeed.
async fn new_rule(exo: &Exo, level: &str, characteristic: &str, query: &str) {
    let (status, v) = exo
        .call(
            "New-ActiveSyncDeviceAccessRule",
            json!({"AccessLevel": level, "Characteristic": characteristic, "QueryString": query}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn the_first_characteristic_with_a_matching_rule_wins_not_the_strictest_rule() {
    let exo = Exo::start(frozen(80, 300)).await;
    let before = exo.devices().await;
    let iphone = |d: &Value| text(d, "DeviceType") == "iPhone";
    let model = uncovered(&before, "DeviceModel", iphone);
    // DeviceModel comes before DeviceType: the Allow on the model beats the Block on the type.
    new_rule(&exo, "Block", "DeviceType", "iPhone").await;
    new_rule(&exo, "Allow", "DeviceModel", &model).await;
    let after = by_guid(&exo.devices().await);
    let mut seen = BTreeSet::new();
    for d in before.iter().filter(|d| iphone(d) && !exempt(d)) {
        let now = &after[text(d, "Guid")];
        let want = if text(d, "DeviceModel") == model {
            ("Allowed", format!("{model} (DeviceModel)"))
        } else if text(d, "DeviceAccessStateReason") == "DeviceRule" {
            // A generated rule on the user agent, OS or model still comes first.
            assert_eq!(now, d);
            continue;
        } else {
            ("Blocked", "iPhone (DeviceType)".to_owned())
        };
        assert_eq!(text(now, "DeviceAccessState"), want.0, "{now}");
        assert_eq!(text(now, "DeviceAccessStateReason"), "DeviceRule", "{now}");
        assert_eq!(text(now, "DeviceAccessControlRule"), want.1, "{now}");
        seen.insert(want.0);
    }
    assert_eq!(seen.len(), 2, "both rules decided some device");

    // DeviceOS comes before DeviceModel: a Quarantine on the OS of an allowed device wins.
    let os = before
        .iter()
        .find(|d| text(d, "DeviceModel") == model && !exempt(d))
        .map(|d| text(d, "DeviceOS").to_owned())
        .unwrap_or_else(|| panic!("a device of {model}"));
    new_rule(&exo, "Quarantine", "DeviceOS", &os).await;
    let mut quarantined = 0;
    for d in exo.devices().await.iter().filter(|d| !exempt(d)) {
        let rule = text(d, "DeviceAccessControlRule");
        if text(d, "DeviceOS") == os && !rule.ends_with("(UserAgent)") {
            assert_eq!(text(d, "DeviceAccessState"), "Quarantined", "{d}");
            assert_eq!(rule, format!("{os} (DeviceOS)"), "{d}");
            quarantined += usize::from(text(d, "DeviceModel") == model);
        } else {
            assert_ne!(rule, format!("{os} (DeviceOS)"), "{d}");
        }
    }
    assert!(quarantined > 0);
    let (status, err) = exo
        .call(
            "New-ActiveSyncDeviceAccessRule",
            json!({"AccessLevel": "Block", "Characteristic": "devicetype", "QueryString": "IPHONE"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "duplicate rule");
    assert!(
        message(&err).contains("ADObjectAlreadyExistsException"),
        "{err}"
    );
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn changing_the_default_access_level_moves_only_devices_no_rule_or_list_covers() {
    let exo = Exo::start(frozen(60, 250)).await;
    let before = exo.devices().await;
    exo.done(
        "Set-ActiveSyncOrganizationSettings",
        json!({"DefaultAccessLevel": "Quarantine", "UserMailInsert": "Call the help desk."}),
    )
    .await;
    let after = by_guid(&exo.devices().await);
    let mut moved = 0;
    for d in &before {
        let now = &after[text(d, "Guid")];
        if !exempt(d) && text(d, "DeviceAccessStateReason") == "Global" {
            assert_eq!(now["DeviceAccessState"], "Quarantined", "{now}");
            assert_eq!(now["WhenChangedUTC"], now_text());
            moved += 1;
        } else {
            assert_eq!(now, d);
        }
    }
    assert!(moved > 100, "{moved}");
    let (_, s) = exo
        .call("Get-ActiveSyncOrganizationSettings", json!({}))
        .await;
    let s = &s["value"][0];
    assert_eq!(s["DefaultAccessLevel"], "Quarantine");
    assert_eq!(s["UserMailInsert"], "Call the help desk.");
    assert_eq!(s["WhenChanged"], now_text());

    let (status, err) = exo
        .call(
            "Set-ActiveSyncOrganizationSettings",
            json!({"UserMailInsert": "x".repeat(257)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let msg = message(&err);
    assert!(
        msg.contains("|Microsoft.Exchange.Data.DataValidationException|"),
        "{msg}"
    );
    assert!(msg.contains("maximum length is 256"), "{msg}");
    let (status, err) = exo
        .call(
            "Set-ActiveSyncOrganizationSettings",
            json!({"DefaultAccessLevel": "Maybe"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("Allow, Block, Quarantine"), "{err}");
    let (_, s) = exo
        .call("Get-ActiveSyncOrganizationSettings", json!({}))
        .await;
    assert_eq!(
        s["value"][0]["DefaultAccessLevel"], "Quarantine",
        "a refused Set changes nothing"
    );
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn rule_cmdlets_need_their_mandatory_parameters_and_set_changes_only_the_level() {
    let exo = Exo::start(frozen(5, 5)).await;
    let (status, err) = exo
        .call(
            "New-ActiveSyncDeviceAccessRule",
            json!({"AccessLevel": "Allow", "Characteristic": "DeviceOS"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&err).ends_with("missing mandatory parameters: QueryString."),
        "{err}"
    );
    let (status, err) = exo
        .call(
            "New-ActiveSyncDeviceAccessRule",
            json!({"AccessLevel": "Allow", "Characteristic": "Colour", "QueryString": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("XMSWLHeader"), "{err}");
    let rules = exo
        .rows("Get-ActiveSyncDeviceAccessRule", json!({}), 1000)
        .await;
    let name = text(&rules[0], "Name").to_owned();
    let (status, err) = exo
        .call(
            "Set-ActiveSyncDeviceAccessRule",
            json!({"Identity": name, "QueryString": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&err).contains("parameter name 'QueryString'"),
        "{err}"
    );
    for key in [
        "Identity",
        "Guid",
        "Name",
        "QueryString",
        "Characteristic",
        "AccessLevel",
    ] {
        assert!(rules[0].get(key).is_some(), "{key}");
    }
    exo.sim.shutdown().await;
}
