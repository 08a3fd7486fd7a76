//! Every typed call of the client against the simulator's cmdlets: what the client sends is
//! understood, and what comes back is read into the typed outputs.

use super::super::cmdlets::{
    MailboxPolicySettings, NewDeviceAccessRule, NewMailboxPolicy, OrganizationSettingsChange,
};
use super::super::wire::{
    AccessLevel, Characteristic, DeviceAccessState, DeviceAccessStateReason, Limit, MobileDevice,
};
use super::*;

/// Every device of the tenant, as the typed call reads it.
async fn list_devices(c: &ExchangeClient) -> Vec<MobileDevice> {
    c.get_mobile_devices(MobileDeviceQuery::default())
        .collect_all()
        .await
        .expect("devices")
        .items
}

#[tokio::test]
async fn the_read_calls_return_typed_objects_for_the_whole_tenant() {
    let sim = simulator(60, |_| {}).await;
    let c = client(&sim, 25);

    let settings = c.get_organization_settings().await.expect("settings");
    assert!(settings.default_access_level.is_some());
    assert!(settings.organization().is_some());

    let mut devices = Vec::new();
    let mut pages = c.get_mobile_devices(MobileDeviceQuery::default());
    while let Some(page) = pages.next_page().await.expect("page") {
        devices.extend(page.items);
    }
    assert_eq!(devices.len(), 60);
    assert!(devices
        .iter()
        .all(|d| d.guid.is_some() && d.device_access_state.is_some()));

    // Statistics of the first device's mailbox: the same device is among them.
    let first = &devices[0];
    let mailbox = first
        .identity
        .as_deref()
        .and_then(|i| i.split('\\').next())
        .expect("identity names the mailbox");
    let stats = c
        .get_mobile_device_statistics(mailbox)
        .await
        .expect("statistics");
    assert!(!stats.is_empty());
    assert!(stats.iter().any(|s| s.device_id == first.device_id));
    assert!(stats
        .iter()
        .all(|s| s.last_success_sync.is_some() || s.status.is_some()));

    let policies = c.get_mailbox_policies().await.expect("policies");
    assert_eq!(
        policies
            .iter()
            .filter(|p| p.is_default == Some(true))
            .count(),
        1
    );
    let classes = c.get_device_classes().await.expect("classes");
    assert!(!classes.is_empty());
    assert!(classes.iter().all(|k| k.device_type.is_some()));
    c.get_device_access_rules().await.expect("rules");
}

#[tokio::test]
async fn an_access_rule_made_changed_and_removed_moves_the_matching_devices() {
    let sim = simulator(80, |_| {}).await;
    let c = client(&sim, 1000);
    let devices = list_devices(&c).await;
    // Devices the default level decides: a rule on their type moves them (a device decided by
    // a rule on an earlier characteristic, or by a personal list, stays as it is: spec §9).
    let by_default =
        |d: &&MobileDevice| d.device_access_state_reason == Some(DeviceAccessStateReason::Global);
    let device_type = devices
        .iter()
        .find(by_default)
        .and_then(|d| d.device_type.clone())
        .expect("a device type");
    let guids: Vec<Option<String>> = devices
        .iter()
        .filter(by_default)
        .filter(|d| d.device_type.as_deref() == Some(device_type.as_str()))
        .map(|d| d.guid.clone())
        .collect();
    let matching = |list: &[MobileDevice]| {
        list.iter()
            .filter(|d| guids.contains(&d.guid))
            .map(|d| d.device_access_state.clone())
            .collect::<Vec<_>>()
    };

    let rule = c
        .new_device_access_rule(&NewDeviceAccessRule {
            access_level: AccessLevel::Block,
            characteristic: Characteristic::DeviceType,
            query_string: device_type.clone(),
        })
        .await
        .expect("rule created");
    let identity = rule
        .and_then(|r| r.identity)
        .unwrap_or_else(|| format!("{device_type} (DeviceType)"));
    let after = list_devices(&c).await;
    let states = matching(&after);
    assert!(!states.is_empty());
    assert!(
        states
            .iter()
            .all(|s| *s == Some(DeviceAccessState::Blocked)),
        "{states:?}"
    );

    c.set_device_access_rule(&identity, &AccessLevel::Quarantine)
        .await
        .expect("rule changed");
    let after = list_devices(&c).await;
    assert!(matching(&after)
        .iter()
        .all(|s| *s == Some(DeviceAccessState::Quarantined)));

    c.remove_device_access_rule(&identity)
        .await
        .expect("rule removed");
    let rules = c.get_device_access_rules().await.expect("rules");
    assert!(rules
        .iter()
        .all(|r| r.identity.as_deref() != Some(&identity)));
}

#[tokio::test]
async fn a_mailbox_policy_and_the_organization_settings_can_be_written() {
    let sim = simulator(5, |_| {}).await;
    let c = client(&sim, 1000);
    c.new_mailbox_policy(&NewMailboxPolicy {
        name: "Executives".into(),
        settings: MailboxPolicySettings {
            password_enabled: Some(true),
            min_password_length: Some(Some(8)),
            max_password_failed_attempts: Some(Limit::Value(6)),
            ..MailboxPolicySettings::default()
        },
    })
    .await
    .expect("policy created");
    c.set_mailbox_policy(
        "Executives",
        &MailboxPolicySettings {
            is_default: Some(true),
            ..MailboxPolicySettings::default()
        },
    )
    .await
    .expect("made the default");
    let policies = c.get_mailbox_policies().await.expect("policies");
    let exec = policies
        .iter()
        .find(|p| p.name.as_deref() == Some("Executives"))
        .expect("the new policy");
    assert_eq!(exec.is_default, Some(true));
    assert_eq!(exec.min_password_length, Some(8));
    assert_eq!(exec.max_password_failed_attempts, Some(Limit::Value(6)));
    assert_eq!(
        policies
            .iter()
            .filter(|p| p.is_default == Some(true))
            .count(),
        1,
        "setting IsDefault clears it on the others"
    );

    // An out-of-range value is refused with Exchange's message, and nothing changes.
    let e = c
        .set_mailbox_policy(
            "Executives",
            &MailboxPolicySettings {
                min_password_length: Some(Some(40)),
                ..MailboxPolicySettings::default()
            },
        )
        .await
        .expect_err("out of range");
    assert_eq!(e.status(), Some(400), "{e}");

    c.set_organization_settings(&OrganizationSettingsChange {
        user_mail_insert: Some("Call the help desk at 555-0100.".into()),
        ..OrganizationSettingsChange::default()
    })
    .await
    .expect("settings written");
    let settings = c.get_organization_settings().await.expect("settings");
    assert_eq!(
        settings.user_mail_insert.as_deref(),
        Some("Call the help desk at 555-0100.")
    );
}

#[tokio::test]
async fn a_device_is_removed_with_confirm_false_and_is_gone_afterwards() {
    let sim = simulator(6, |_| {}).await;
    let c = client(&sim, 1000);
    let devices = list_devices(&c).await;
    let identity = devices[0].identity.clone().expect("identity");
    c.remove_mobile_device(&identity).await.expect("removed");
    assert_eq!(sim.device_count(), 5);
    let e = c
        .remove_mobile_device(&identity)
        .await
        .expect_err("already gone");
    assert_eq!(e.status(), Some(404), "{e}");
}
