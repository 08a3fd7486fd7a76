//! Organization settings, mailbox policies, access rules, device classes and error bodies.

use super::super::*;
use super::{at, fixture, page};
use crate::server::exchange::error::error_body_message;

#[test]
fn organization_settings_read_every_field_and_the_organization_name() {
    let envelope =
        page::<OrganizationSettings>(fixture!("get-activesync-organization-settings.json"));
    let s = &envelope.value[0];
    assert_eq!(s.default_access_level, Some(AccessLevel::Quarantine));
    assert_eq!(
        s.admin_mail_recipients,
        [
            "it@contoso.onmicrosoft.com",
            "helpdesk@contoso.onmicrosoft.com"
        ]
    );
    assert_eq!(
        s.user_mail_insert.as_deref(),
        Some("Your phone is waiting for approval by IT.")
    );
    assert_eq!(s.ota_notification_mail_insert.as_deref(), Some(""));
    assert_eq!(s.allow_access_for_unsupported_platform, Some(false));
    assert_eq!(s.allow_rms_support_for_unenlightened_apps, Some(false));
    assert_eq!(s.is_intune_managed, Some(true));
    assert_eq!(s.tenant_admin_preference, None);
    assert_eq!(s.identity.as_deref(), Some("Mobile Mailbox Settings"));
    assert_eq!(
        s.guid.as_deref(),
        Some("0b7a6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d")
    );
    assert_eq!(s.when_changed, at("2026-10-30T14:22:01Z"));
    assert_eq!(s.organization().as_deref(), Some("contoso.onmicrosoft.com"));
}

#[test]
fn a_single_admin_recipient_sent_as_text_is_a_one_item_list() {
    let envelope =
        page::<OrganizationSettings>(r#"{"value":[{"AdminMailRecipients":"it@contoso.com"}]}"#);
    assert_eq!(envelope.value[0].admin_mail_recipients, ["it@contoso.com"]);
    let envelope = page::<OrganizationSettings>(r#"{"value":[{"AdminMailRecipients":null}]}"#);
    assert!(envelope.value[0].admin_mail_recipients.is_empty());
}

#[test]
fn organization_name_comes_from_organization_id() {
    let settings = |id: &str| OrganizationSettings {
        organization_id: Some(id.into()),
        ..OrganizationSettings::default()
    };
    let real = settings(
        "EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com - EURPR01A001.prod.outlook.com/ConfigurationUnits/contoso.onmicrosoft.com/Configuration",
    );
    assert_eq!(
        real.organization().as_deref(),
        Some("contoso.onmicrosoft.com")
    );
    assert_eq!(settings("no marker here").organization(), None);
}

#[test]
fn the_default_policy_reads_unlimited_limits_and_every_main_field() {
    let envelope =
        page::<MobileDeviceMailboxPolicy>(fixture!("get-mobile-device-mailbox-policy.json"));
    let p = &envelope.value[0];
    assert_eq!(p.identity.as_deref(), Some("Default"));
    assert_eq!(
        p.guid.as_deref(),
        Some("7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a")
    );
    assert_eq!(p.name.as_deref(), Some("Default"));
    assert_eq!(p.is_default, Some(true));
    assert_eq!(p.password_enabled, Some(false));
    assert_eq!(p.alphanumeric_password_required, Some(false));
    assert_eq!(p.allow_simple_password, Some(true));
    assert_eq!(p.min_password_length, None);
    assert_eq!(p.max_password_failed_attempts, Some(Limit::Unlimited));
    assert_eq!(p.password_expiration, Some(Limit::Unlimited));
    assert_eq!(p.password_history, Some(0));
    assert_eq!(p.max_inactivity_time_lock, Some(Limit::Unlimited));
    assert_eq!(p.min_password_complex_characters, Some(1));
    assert_eq!(p.require_device_encryption, Some(false));
    assert_eq!(p.device_encryption_enabled, Some(false));
    assert_eq!(p.allow_non_provisionable_devices, Some(true));
    assert_eq!(p.device_policy_refresh_interval, Some(Limit::Unlimited));
    assert_eq!(p.attachments_enabled, Some(true));
    assert_eq!(p.allow_camera, Some(true));
    assert_eq!(p.allow_bluetooth, Some(BluetoothMode::Allow));
    assert_eq!(p.allow_wifi, Some(true));
    assert_eq!(p.allow_text_messaging, Some(true));
    assert_eq!(p.allow_storage_card, Some(true));
    assert_eq!(p.max_email_age_filter, Some(MaxEmailAgeFilter::All));
    assert_eq!(p.when_changed_utc, at("2025-05-02T07:00:00Z"));
}

#[test]
fn policy_limits_and_time_spans_are_read_from_text() {
    let envelope =
        page::<MobileDeviceMailboxPolicy>(fixture!("get-mobile-device-mailbox-policy.json"));
    let p = &envelope.value[1];
    assert_eq!(p.is_default, Some(false));
    assert_eq!(p.password_enabled, Some(true));
    assert_eq!(p.min_password_length, Some(8));
    assert_eq!(p.max_password_failed_attempts, Some(Limit::Value(10)));
    assert_eq!(
        p.password_expiration,
        Some(Limit::Value(TimeSpan::days(90)))
    );
    assert_eq!(p.password_history, Some(5));
    assert_eq!(
        p.max_inactivity_time_lock,
        Some(Limit::Value(TimeSpan::minutes(15)))
    );
    assert_eq!(
        p.device_policy_refresh_interval,
        Some(Limit::Value(TimeSpan::minutes(60)))
    );
    assert_eq!(p.allow_bluetooth, Some(BluetoothMode::HandsfreeOnly));
    assert_eq!(p.max_email_age_filter, Some(MaxEmailAgeFilter::TwoWeeks));
    assert_eq!(p.when_changed_utc, at("2025-11-01T10:00:00Z"));
}

#[test]
fn out_of_range_time_spans_and_unknown_values_do_not_fail_the_policy() {
    let envelope =
        page::<MobileDeviceMailboxPolicy>(fixture!("get-mobile-device-mailbox-policy.json"));
    let p = &envelope.value[2];
    assert_eq!(p.name.as_deref(), Some("Odd"));
    assert_eq!(p.max_password_failed_attempts, Some(Limit::Value(6)));
    assert_eq!(p.password_expiration, None);
    assert_eq!(p.max_inactivity_time_lock, None);
    assert_eq!(p.min_password_length, None);
    assert_eq!(p.allow_bluetooth, Some(BluetoothMode::Disable));
    assert_eq!(
        p.max_email_age_filter,
        Some(MaxEmailAgeFilter::Other("ThreeMonths".into()))
    );
}

#[test]
fn device_access_rules_read_characteristics_and_levels_including_unknown_ones() {
    let envelope = page::<DeviceAccessRule>(fixture!("get-activesync-device-access-rule.json"));
    let read: Vec<_> = envelope
        .value
        .iter()
        .map(|r| {
            (
                r.query_string.as_deref(),
                r.characteristic.clone(),
                r.access_level.clone(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (
                Some("iPhone"),
                Some(Characteristic::DeviceType),
                Some(AccessLevel::Allow)
            ),
            (
                Some("Android 9"),
                Some(Characteristic::DeviceOs),
                Some(AccessLevel::Block)
            ),
            (
                Some("Contoso-Agent/1.0"),
                Some(Characteristic::XmsWlHeader),
                Some(AccessLevel::Quarantine)
            ),
            (
                Some("Fridge"),
                Some(Characteristic::Other("DeviceCategory".into())),
                Some(AccessLevel::Other("Elevate".into()))
            ),
        ]
    );
    let first = &envelope.value[0];
    assert_eq!(first.name.as_deref(), Some("iPhone (DeviceType)"));
    assert_eq!(first.identity.as_deref(), Some("iPhone (DeviceType)"));
    assert_eq!(
        first.guid.as_deref(),
        Some("3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f")
    );
}

#[test]
fn device_classes_read_both_date_formats() {
    let envelope = page::<DeviceClass>(fixture!("get-activesync-device-class.json"));
    let c = &envelope.value[0];
    assert_eq!(c.device_type.as_deref(), Some("iPhone"));
    assert_eq!(c.device_model.as_deref(), Some("iPhone16C1"));
    assert_eq!(c.last_update_time, at("2026-11-01T09:59:58Z"));
    assert_eq!(c.name.as_deref(), Some("iPhone§iPhone16C1"));
    assert_eq!(
        c.identity.as_deref(),
        Some("ExchangeDeviceClasses\\iPhone§iPhone16C1")
    );
    assert_eq!(
        c.guid.as_deref(),
        Some("5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")
    );
    assert_eq!(
        envelope.value[1].last_update_time,
        at("2025-11-01T10:00:00Z")
    );
}

#[test]
fn error_messages_are_found_in_each_of_the_three_spec_forms() {
    let message = |body: &str| error_body_message(body.as_bytes());
    assert_eq!(
        message(fixture!("error-details-pipe.json")),
        (
            Some("NotFound".into()),
            Some("The operation couldn't be performed because object 'Strict' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'.".into())
        )
    );
    assert_eq!(
        message(fixture!("error-internalexception-json.json")),
        (
            Some("BadRequest".into()),
            Some("A device access rule for 'iPhone (DeviceType)' already exists.".into())
        )
    );
    assert_eq!(
        message(fixture!("error-plain.json")),
        (
            Some("Unauthorized".into()),
            Some("The token has expired.".into())
        )
    );
}
