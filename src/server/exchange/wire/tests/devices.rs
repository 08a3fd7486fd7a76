//! `Get-MobileDevice` and `Get-MobileDeviceStatistics` outputs.

use super::super::*;
use super::{at, fixture, page};

#[test]
fn every_mobile_device_field_of_the_spec_is_read_and_annotations_are_ignored() {
    let envelope = page::<MobileDevice>(fixture!("get-mobile-device.json"));
    let d = &envelope.value[0];
    assert_eq!(d.friendly_name.as_deref(), Some("Anna's iPhone"));
    assert_eq!(
        d.device_id.as_deref(),
        Some("F3A1C0DE9B7E4D2A8C6B5A4F3E2D1C0B")
    );
    assert_eq!(d.device_imei.as_deref(), Some("356938035643809"));
    assert_eq!(d.device_mobile_operator.as_deref(), Some("Contoso Mobile"));
    assert_eq!(d.device_os.as_deref(), Some("iOS 18.1 22B83"));
    assert_eq!(d.device_os_language.as_deref(), Some("en-US"));
    assert_eq!(d.device_telephone_number.as_deref(), Some("+15555550123"));
    assert_eq!(d.device_type.as_deref(), Some("iPhone"));
    assert_eq!(
        d.device_user_agent.as_deref(),
        Some("Apple-iPhone16C1/2208.83")
    );
    assert_eq!(d.device_model.as_deref(), Some("iPhone16C1"));
    assert_eq!(d.first_sync_time, at("2025-01-14T09:12:33Z"));
    assert_eq!(d.user_display_name.as_deref(), Some("Anna Lindqvist"));
    assert_eq!(d.device_access_state, Some(DeviceAccessState::Quarantined));
    assert_eq!(
        d.device_access_state_reason,
        Some(DeviceAccessStateReason::Global)
    );
    assert_eq!(d.device_access_control_rule, None);
    assert_eq!(d.client_version.as_deref(), Some("16.1"));
    assert_eq!(d.client_type, Some(ClientType::Eas));
    assert_eq!(
        (d.is_managed, d.is_compliant, d.is_disabled),
        (Some(false), Some(false), Some(false))
    );
    assert!(d.identity.as_deref().is_some_and(
        |i| i.starts_with("anna@contoso.onmicrosoft.com\\ExchangeActiveSyncDevices\\")
    ));
    assert_eq!(
        d.guid.as_deref(),
        Some("8c1c7f9e-3d2b-4a55-9a3e-0f6d2b7c4e10")
    );
    assert_eq!(d.exchange_object_id, d.guid);
    assert!(d.name.as_deref().is_some_and(|n| n.starts_with("iPhone§")));
    // WhenChanged carries +01:00 and is the same instant as WhenChangedUTC.
    assert_eq!(d.when_changed, at("2026-11-01T10:00:00Z"));
    assert_eq!(d.when_changed_utc, at("2026-11-01T10:00:00Z"));
    assert_eq!(d.when_created, at("2025-01-14T09:12:33Z"));
    assert_eq!(d.when_created_utc, at("2025-01-14T09:12:33Z"));
    assert!(d
        .organization_id
        .as_deref()
        .is_some_and(|o| o.contains("Microsoft Exchange Hosted Organizations/")));
    assert!(d
        .distinguished_name
        .as_deref()
        .is_some_and(|n| n.starts_with("CN=iPhone§")));
}

#[test]
fn legacy_dates_text_booleans_and_numbers_in_a_device_are_read_leniently() {
    let envelope = page::<MobileDevice>(fixture!("get-mobile-device.json"));
    let d = &envelope.value[1];
    assert_eq!(d.first_sync_time, at("2022-09-21T08:07:47Z"));
    assert_eq!(d.when_changed_utc, at("2025-11-01T10:00:00Z"));
    assert_eq!(d.when_created_utc, at("2022-09-21T08:07:47Z"));
    assert_eq!(d.client_version.as_deref(), Some("16.1"));
    assert_eq!(
        (d.is_managed, d.is_compliant, d.is_disabled),
        (Some(true), Some(false), Some(false))
    );
}

#[test]
fn unknown_enum_values_are_kept_as_sent_and_known_ones_match_any_case() {
    let envelope = page::<MobileDevice>(fixture!("get-mobile-device.json"));
    let d = &envelope.value[1];
    assert_eq!(d.device_access_state, Some(DeviceAccessState::Allowed));
    assert_eq!(
        d.device_access_state_reason,
        Some(DeviceAccessStateReason::Other("SomeFutureReason".into()))
    );
    assert_eq!(d.client_type, Some(ClientType::Other("Graph".into())));
    assert_eq!(ClientType::from("rest"), ClientType::Rest);
    assert_eq!(ClientType::Rest.as_str(), "REST");
    assert_eq!(Characteristic::from("xmswlheader").as_str(), "XMSWLHeader");
}

#[test]
fn malformed_fields_become_none_without_failing_the_page() {
    let envelope = page::<MobileDevice>(fixture!("get-mobile-device.json"));
    assert_eq!(envelope.value.len(), 3);
    let d = &envelope.value[2];
    assert_eq!(d.device_id.as_deref(), Some("BROKEN1"));
    assert_eq!(d.first_sync_time, None);
    assert_eq!(d.device_access_state, None);
    assert_eq!(d.is_managed, None);
    assert_eq!(d.is_compliant, None);
    assert_eq!(d.when_changed_utc, None);
    assert_eq!(d.client_type, Some(ClientType::Other("7".into())));
    assert!(envelope
        .next_link
        .as_deref()
        .is_some_and(|l| l.ends_with("$skiptoken=eyJQYWdlIjoyfQ")));
    assert_eq!(envelope.warnings.len(), 1);
    assert!(envelope.warnings[0].starts_with("There are more results available"));
    assert!(envelope.errors.is_empty());
}

#[test]
fn a_device_maps_to_its_stored_form_with_enums_in_exchange_spelling() {
    let mut devices = page::<MobileDevice>(fixture!("get-mobile-device.json"))
        .value
        .into_iter()
        .map(MobileDevice::into_device);
    let first = devices.next().flatten();
    let first = first.as_ref();
    assert_eq!(first.map(|d| d.access_state.as_str()), Some("Quarantined"));
    assert_eq!(first.and_then(|d| d.client_type.as_deref()), Some("EAS"));
    assert_eq!(
        first.and_then(|d| d.when_changed_utc),
        at("2026-11-01T10:00:00Z")
    );
    let second = devices.next().flatten();
    assert_eq!(
        second.as_ref().map(|d| d.access_state.as_str()),
        Some("Allowed")
    );
    assert_eq!(
        second
            .as_ref()
            .and_then(|d| d.access_state_reason.as_deref()),
        Some("SomeFutureReason")
    );
    // No Guid: ExchangeObjectId is the key; no readable state: Unknown.
    let third = devices.next().flatten();
    assert_eq!(
        third
            .as_ref()
            .map(|d| (d.guid.as_str(), d.access_state.as_str())),
        Some(("5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", "Unknown"))
    );
}

#[test]
fn a_device_without_guid_or_object_id_is_not_stored() {
    let envelope =
        page::<MobileDevice>(r##"{"value":[{"DeviceId":"X","Guid@odata.type":"#Guid"}]}"##);
    let device = envelope.value.into_iter().next();
    assert_eq!(device.map(MobileDevice::into_device), Some(None));
}

#[test]
fn statistics_read_device_id_sync_times_counters_and_wipe_state() {
    let envelope = page::<MobileDeviceStatistics>(fixture!("get-mobile-device-statistics.json"));
    let s = &envelope.value[0];
    assert_eq!(
        s.device_id.as_deref(),
        Some("F3A1C0DE9B7E4D2A8C6B5A4F3E2D1C0B")
    );
    assert_eq!(s.device_friendly_name.as_deref(), Some("Anna's iPhone"));
    assert_eq!(s.device_type.as_deref(), Some("iPhone"));
    assert_eq!(s.device_model.as_deref(), Some("iPhone16C1"));
    assert_eq!(s.device_os.as_deref(), Some("iOS 18.1 22B83"));
    assert_eq!(
        s.device_user_agent.as_deref(),
        Some("Apple-iPhone16C1/2208.83")
    );
    assert_eq!(s.device_access_state, Some(DeviceAccessState::Quarantined));
    assert_eq!(
        s.device_access_state_reason,
        Some(DeviceAccessStateReason::Global)
    );
    assert_eq!(s.device_access_control_rule, None);
    assert_eq!(s.client_type, Some(ClientType::Eas));
    assert_eq!(s.client_version.as_deref(), Some("16.1"));
    assert_eq!(s.first_sync_time, at("2025-01-14T09:12:33Z"));
    assert_eq!(
        s.last_sync_attempt_time.map(|t| t.timestamp_subsec_nanos()),
        Some(123_456_700)
    );
    assert_eq!(s.last_success_sync, at("2026-11-01T09:59:58Z"));
    assert_eq!(s.last_policy_update_time, at("2026-10-31T22:05:10Z"));
    assert_eq!(s.last_ping_heartbeat, Some(1740));
    assert_eq!(s.number_of_folders_synced, Some(12));
    assert_eq!(s.device_policy_applied.as_deref(), Some("Default"));
    assert_eq!(
        s.device_policy_application_status,
        Some(DevicePolicyApplicationStatus::AppliedInFull)
    );
    assert_eq!(s.status, Some(DeviceStatus::DeviceOk));
    assert_eq!(s.status_note, None);
    assert_eq!(s.is_remote_wipe_supported, Some(true));
    assert!(s
        .identity
        .as_deref()
        .is_some_and(|i| i.contains("\\ExchangeActiveSyncDevices\\")));
    assert_eq!(
        s.guid.as_deref(),
        Some("8c1c7f9e-3d2b-4a55-9a3e-0f6d2b7c4e10")
    );
    assert_eq!(
        (
            s.device_wipe_request_time,
            s.device_wipe_sent_time,
            s.device_wipe_ack_time
        ),
        (None, None, None)
    );
    assert_eq!(s.last_device_wipe_requestor, None);
}

#[test]
fn statistics_accept_counters_as_text_and_legacy_dates_with_an_offset() {
    let envelope = page::<MobileDeviceStatistics>(fixture!("get-mobile-device-statistics.json"));
    let s = &envelope.value[1];
    assert_eq!(s.device_id.as_deref(), Some("ANDROIDC1234567890"));
    assert_eq!(s.last_ping_heartbeat, Some(900));
    assert_eq!(s.number_of_folders_synced, Some(7));
    assert_eq!(s.is_remote_wipe_supported, Some(true));
    // The offset of a legacy date does not move the instant.
    assert_eq!(
        s.last_success_sync.map(|t| t.timestamp_millis()),
        Some(1_761_991_140_000)
    );
    assert_eq!(s.device_wipe_request_time, at("2026-11-01T08:00:00Z"));
    assert_eq!(s.device_wipe_sent_time, at("2026-11-01T08:00:05Z"));
    assert_eq!(s.device_wipe_ack_time, None);
    assert_eq!(s.status, Some(DeviceStatus::AccountOnlyDeviceWipePending));
    assert_eq!(
        s.device_access_state_reason,
        Some(DeviceAccessStateReason::AadBlockDueToCompromisedPassword)
    );
    assert_eq!(
        s.device_policy_application_status,
        Some(DevicePolicyApplicationStatus::Other(
            "SomethingNewer".into()
        ))
    );
    assert_eq!(
        s.last_device_wipe_requestor.as_deref(),
        Some("admin@contoso.onmicrosoft.com")
    );
}

#[test]
fn a_key_in_another_case_is_read_when_the_exact_one_is_missing_and_a_repeated_key_keeps_its_last_copy(
) {
    let envelope = page::<MobileDevice>(
        r##"{"value":[{"deviceid":"other case","DeviceId":"exact","Guid":"first","Guid":"last",
            "Guid@odata.type":"#Guid","friendlyname":"Anna's \"work\" phone","DeviceOS":null,
            "ISMANAGED":"True","Unknown":{"deep":[1,2,{"x":null}]},"WhenChangedUTC":"2026-11-01T10:00:00Z"}]}"##,
    );
    let d = &envelope.value[0];
    // The exact spelling wins over another case, whichever comes first.
    assert_eq!(d.device_id.as_deref(), Some("exact"));
    assert_eq!(d.guid.as_deref(), Some("last"));
    assert_eq!(d.friendly_name.as_deref(), Some("Anna's \"work\" phone"));
    assert_eq!(d.device_os, None);
    assert_eq!(d.is_managed, Some(true));
    assert_eq!(d.when_changed_utc, at("2026-11-01T10:00:00Z"));
}
