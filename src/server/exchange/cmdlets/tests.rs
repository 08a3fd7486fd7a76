//! The exact `CmdletInput` each typed call sends (spec §1 encoding).

use chrono::TimeZone;
use serde_json::{json, Value};

use super::*;

/// The request body the transport sends for `call`.
fn body(call: &Invocation) -> Value {
    json!({"CmdletInput": {"CmdletName": call.cmdlet, "Parameters": call.parameters}})
}

#[test]
fn get_mobile_device_asks_for_every_page_by_default() {
    assert_eq!(
        body(&MobileDeviceQuery::default().call()),
        json!({"CmdletInput": {"CmdletName": "Get-MobileDevice",
            "Parameters": {"ResultSize": "Unlimited"}}})
    );
}

#[test]
fn get_mobile_device_sends_switches_as_true_and_leaves_off_switches_out() {
    let query = MobileDeviceQuery {
        scope: DeviceScope::Mailbox("anna@contoso.com".into()),
        result_size: ResultSize::AtMost(50),
        sort_by: Some("DeviceType".into()),
        active_sync: true,
        rest_api: true,
        ..MobileDeviceQuery::default()
    };
    assert_eq!(
        Value::Object(query.call().parameters),
        json!({"Mailbox": "anna@contoso.com", "ResultSize": 50, "SortBy": "DeviceType",
            "ActiveSync": true, "RestApi": true})
    );
    let every_switch = MobileDeviceQuery {
        scope: DeviceScope::Identity("anna\\ExchangeActiveSyncDevices\\iPhone§AB".into()),
        active_sync: true,
        owa_for_devices: true,
        rest_api: true,
        universal_outlook: true,
        ..MobileDeviceQuery::default()
    };
    assert_eq!(
        Value::Object(every_switch.call().parameters),
        json!({"Identity": "anna\\ExchangeActiveSyncDevices\\iPhone§AB", "ResultSize": "Unlimited",
            "ActiveSync": true, "OWAforDevices": true, "RestApi": true, "UniversalOutlook": true})
    );
}

#[test]
fn a_delta_query_filters_on_the_change_time_in_utc_without_fraction() {
    let since = chrono::FixedOffset::east_opt(2 * 3600)
        .and_then(|o| o.with_ymd_and_hms(2026, 3, 1, 12, 30, 5).single())
        .map(|t| t.with_timezone(&chrono::Utc) + chrono::Duration::milliseconds(250));
    let Some(since) = since else {
        panic!("a valid date");
    };
    let plain = MobileDeviceQuery::default().changed_since(since);
    assert_eq!(
        plain.filter.as_deref(),
        Some("WhenChangedUTC -gt '2026-03-01T10:30:05'")
    );
    let combined = MobileDeviceQuery {
        filter: Some("DeviceAccessState -eq 'Quarantined'".into()),
        ..MobileDeviceQuery::default()
    }
    .changed_since(since);
    assert_eq!(
        Value::Object(combined.call().parameters),
        json!({"ResultSize": "Unlimited",
            "Filter": "(DeviceAccessState -eq 'Quarantined') -and (WhenChangedUTC -gt '2026-03-01T10:30:05')"})
    );
}

#[test]
fn statistics_are_asked_for_one_mailbox_without_result_size() {
    assert_eq!(
        body(&devices::statistics_call("anna@contoso.com")),
        json!({"CmdletInput": {"CmdletName": "Get-MobileDeviceStatistics",
            "Parameters": {"Mailbox": "anna@contoso.com"}}})
    );
}

#[test]
fn every_remove_cmdlet_sends_confirm_false() {
    let id = "x";
    for (call, cmdlet) in [
        (devices::remove_call(id), "Remove-MobileDevice"),
        (
            policies::remove_call(id),
            "Remove-MobileDeviceMailboxPolicy",
        ),
        (rules::remove_call(id), "Remove-ActiveSyncDeviceAccessRule"),
    ] {
        assert_eq!(
            body(&call),
            json!({"CmdletInput": {"CmdletName": cmdlet,
                "Parameters": {"Identity": "x", "Confirm": false}}})
        );
    }
}

#[test]
fn the_get_cmdlets_without_options_send_no_parameters() {
    for (call, cmdlet) in [
        (settings::get_call(), "Get-ActiveSyncOrganizationSettings"),
        (policies::get_call(), "Get-MobileDeviceMailboxPolicy"),
        (rules::get_call(), "Get-ActiveSyncDeviceAccessRule"),
        (rules::classes_call(), "Get-ActiveSyncDeviceClass"),
    ] {
        assert_eq!(
            body(&call),
            json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": {}}})
        );
    }
}

#[test]
fn organization_settings_changes_send_only_what_is_set() {
    let change = OrganizationSettingsChange {
        default_access_level: Some(AccessLevel::Quarantine),
        user_mail_insert: Some("Wait for IT.".into()),
        allow_access_for_unsupported_platform: Some(false),
        ..OrganizationSettingsChange::default()
    };
    assert_eq!(
        change.call().as_ref().map(body),
        Some(
            json!({"CmdletInput": {"CmdletName": "Set-ActiveSyncOrganizationSettings",
            "Parameters": {"DefaultAccessLevel": "Quarantine", "UserMailInsert": "Wait for IT.",
                "AllowAccessForUnSupportedPlatform": false}}})
        )
    );
    assert_eq!(OrganizationSettingsChange::default().call(), None);
}

#[test]
fn admin_recipients_are_added_and_removed_through_a_generic_hash_table() {
    let change = OrganizationSettingsChange {
        admin_mail_recipients: Some(ListUpdate::Change {
            add: vec!["it@contoso.com".into()],
            remove: vec!["old@contoso.com".into(), "gone@contoso.com".into()],
        }),
        ..OrganizationSettingsChange::default()
    };
    assert_eq!(
        change.call().map(|c| Value::Object(c.parameters)),
        Some(
            json!({"AdminMailRecipients": {"@odata.type": "#Exchange.GenericHashTable",
            "Add": ["it@contoso.com"], "Remove": ["old@contoso.com", "gone@contoso.com"]}})
        )
    );
    let add_only = OrganizationSettingsChange {
        admin_mail_recipients: Some(ListUpdate::Change {
            add: vec!["it@contoso.com".into()],
            remove: vec![],
        }),
        ..OrganizationSettingsChange::default()
    };
    assert_eq!(
        add_only.call().map(|c| Value::Object(c.parameters)),
        Some(
            json!({"AdminMailRecipients": {"@odata.type": "#Exchange.GenericHashTable",
            "Add": ["it@contoso.com"]}})
        )
    );
    let replace = OrganizationSettingsChange {
        admin_mail_recipients: Some(ListUpdate::Replace(vec!["a@contoso.com".into()])),
        ..OrganizationSettingsChange::default()
    };
    assert_eq!(
        replace.call().map(|c| Value::Object(c.parameters)),
        Some(json!({"AdminMailRecipients": ["a@contoso.com"]}))
    );
    let nothing = OrganizationSettingsChange {
        admin_mail_recipients: Some(ListUpdate::Change {
            add: vec![],
            remove: vec![],
        }),
        ..OrganizationSettingsChange::default()
    };
    assert_eq!(nothing.call(), None);
}

#[test]
fn a_new_policy_sends_its_name_limits_and_time_spans_in_exchange_form() {
    let policy = NewMailboxPolicy {
        name: "Strict".into(),
        settings: MailboxPolicySettings {
            password_enabled: Some(true),
            min_password_length: Some(Some(8)),
            max_password_failed_attempts: Some(Limit::Value(10)),
            password_expiration: Some(Limit::Value(TimeSpan::days(90))),
            max_inactivity_time_lock: Some(Limit::Value(TimeSpan::minutes(15))),
            device_policy_refresh_interval: Some(Limit::Unlimited),
            allow_bluetooth: Some(BluetoothMode::HandsfreeOnly),
            max_email_age_filter: Some(MaxEmailAgeFilter::TwoWeeks),
            ..MailboxPolicySettings::default()
        },
    };
    assert_eq!(
        body(&policy.call()),
        json!({"CmdletInput": {"CmdletName": "New-MobileDeviceMailboxPolicy", "Parameters": {
            "Name": "Strict", "PasswordEnabled": true, "MinPasswordLength": 8,
            "MaxPasswordFailedAttempts": 10, "PasswordExpiration": "90.00:00:00",
            "MaxInactivityTimeLock": "00:15:00", "DevicePolicyRefreshInterval": "Unlimited",
            "AllowBluetooth": "HandsfreeOnly", "MaxEmailAgeFilter": "TwoWeeks"}}})
    );
}

#[test]
fn a_policy_change_names_the_policy_and_an_empty_change_sends_nothing() {
    let settings = MailboxPolicySettings {
        is_default: Some(true),
        max_password_failed_attempts: Some(Limit::Unlimited),
        ..MailboxPolicySettings::default()
    };
    assert_eq!(
        policies::set_call("Strict", &settings).as_ref().map(body),
        Some(
            json!({"CmdletInput": {"CmdletName": "Set-MobileDeviceMailboxPolicy", "Parameters": {
            "Identity": "Strict", "IsDefault": true, "MaxPasswordFailedAttempts": "Unlimited"}}})
        )
    );
    assert_eq!(
        policies::set_call("Strict", &MailboxPolicySettings::default()),
        None
    );
}

#[test]
fn a_new_access_rule_sends_all_three_parameters_in_exchange_spelling() {
    let rule = NewDeviceAccessRule {
        access_level: AccessLevel::Block,
        characteristic: Characteristic::XmsWlHeader,
        query_string: "Contoso-Agent/1.0".into(),
    };
    assert_eq!(
        body(&rule.call()),
        json!({"CmdletInput": {"CmdletName": "New-ActiveSyncDeviceAccessRule", "Parameters": {
            "AccessLevel": "Block", "Characteristic": "XMSWLHeader",
            "QueryString": "Contoso-Agent/1.0"}}})
    );
}

#[test]
fn an_access_rule_change_sends_the_identity_and_the_new_level_only() {
    assert_eq!(
        body(&rules::set_call(
            "iPhone (DeviceType)",
            &AccessLevel::Quarantine
        )),
        json!({"CmdletInput": {"CmdletName": "Set-ActiveSyncDeviceAccessRule", "Parameters": {
            "Identity": "iPhone (DeviceType)", "AccessLevel": "Quarantine"}}})
    );
}

#[test]
fn unknown_enum_values_are_sent_back_as_they_were_read() {
    assert_eq!(
        body(&rules::set_call("r", &AccessLevel::from("Elevate"))),
        json!({"CmdletInput": {"CmdletName": "Set-ActiveSyncDeviceAccessRule", "Parameters": {
            "Identity": "r", "AccessLevel": "Elevate"}}})
    );
}

#[test]
fn parameter_dates_are_utc_without_fraction_or_offset() {
    let t = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 7, 8, 9).single();
    assert_eq!(t.map(|t| t.to_param()), Some(json!("2026-03-01T07:08:09")));
}
