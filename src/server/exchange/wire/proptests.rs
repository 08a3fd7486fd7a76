//! Property tests: no answer of the service, however odd, makes the parsers panic, and every
//! object in `value` is kept whatever its fields hold.

use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{Map, Value};

use super::*;
use crate::server::exchange::error::{error_body_message, unwrap_message};

/// Keys the service uses (outputs, envelope, error body), with their annotations.
const KEYS: &[&str] = &[
    "value",
    "@odata.context",
    "@odata.nextLink",
    "@adminapi.warnings",
    "@adminapi.errors",
    "Guid",
    "Guid@odata.type",
    "Identity",
    "Name",
    "DeviceId",
    "DeviceID",
    "deviceid",
    "DeviceOS",
    "FirstSyncTime",
    "FirstSyncTime@odata.type",
    "WhenChanged",
    "WhenChangedUTC",
    "LastSuccessSync",
    "LastUpdateTime",
    "DeviceWipeAckTime",
    "DeviceAccessState",
    "DeviceAccessStateReason",
    "ClientType",
    "ClientVersion",
    "Status",
    "DevicePolicyApplicationStatus",
    "IsManaged",
    "IsRemoteWipeSupported",
    "LastPingHeartbeat",
    "NumberOfFoldersSynced",
    "DefaultAccessLevel",
    "AdminMailRecipients",
    "AdminMailRecipients@odata.type",
    "OrganizationId",
    "MaxPasswordFailedAttempts",
    "PasswordExpiration",
    "MaxInactivityTimeLock",
    "DevicePolicyRefreshInterval",
    "MinPasswordLength",
    "AllowBluetooth",
    "MaxEmailAgeFilter",
    "AccessLevel",
    "Characteristic",
    "QueryString",
    "error",
    "code",
    "message",
    "Message",
    "ErrorMessage",
    "details",
    "target",
    "innererror",
    "internalexception",
    "type",
    "localizedString",
    "stringId",
    "ClassName",
];

/// Texts that sit on the edges of the lenient readers.
const TEXTS: &[&str] = &[
    "",
    " ",
    "Unlimited",
    "unlimited",
    "True",
    "FALSE",
    "0",
    "1",
    "-1",
    "8",
    "8.0",
    "1e400",
    "4294967296",
    "00:15:00",
    "90.00:00:00",
    "1.02:03:04.5",
    "24:00:00",
    "-00:01:00",
    "/Date(1663747667000)/",
    "/Date(1663747667000-0500)/",
    "/Date()/",
    "/Date(é)/",
    "/Date(",
    "2022-09-21T08:07:47.0000000+00:00",
    "2022-09-21T08:07:47",
    "Quarantined",
    "EAS",
    "DeviceOS",
    "XMSWLHeader",
    "Allow",
    "HandsfreeOnly",
    "a|B|c",
    "||",
    "{\"Message\":\"m\"}",
    "{\"Message\":7}",
    "{",
    "https://outlook.office365.com/adminapi/beta/t/InvokeCommand?$skiptoken=x",
    "é§\u{0}\u{feff}",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(KEYS).prop_map(str::to_owned),
        1 => "[A-Za-z@.]{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        3 => select(TEXTS).prop_map(Value::from),
        2 => ".{0,16}".prop_map(Value::String),
    ]
}

fn object_of(values: impl Strategy<Value = Value>, size: usize) -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), values), 0..size)
        .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>()))
}

/// Any JSON tree with plausible keys.
fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            object_of(inner, 8),
        ]
    })
}

/// A flat output object: plausible keys, any values.
fn item() -> impl Strategy<Value = Value> {
    object_of(json(), 16)
}

/// Something shaped like an InvokeCommand 200 body, not always well.
fn envelope() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            3 => prop::collection::vec(item(), 0..5).prop_map(Value::Array),
            1 => json(),
        ],
        prop::option::of(prop_oneof![select(TEXTS).prop_map(Value::from), json()]),
        prop::option::of(json()),
        prop::option::of(json()),
        object_of(json(), 3),
    )
        .prop_map(|(value, next, warnings, errors, extra)| {
            let mut map = match extra {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            map.insert("value".into(), value);
            for (k, v) in [
                ("@odata.nextLink", next),
                ("@adminapi.warnings", warnings),
                ("@adminapi.errors", errors),
            ] {
                if let Some(v) = v {
                    map.insert(k.into(), v);
                }
            }
            Value::Object(map)
        })
}

/// A spec §4 error body, with odd parts.
fn error_body() -> impl Strategy<Value = Value> {
    (
        prop::option::of(json()),
        prop::option::of(prop_oneof![select(TEXTS).prop_map(Value::from), json()]),
        prop::option::of(prop::collection::vec(object_of(json(), 4), 0..3)),
        prop::option::of(json()),
    )
        .prop_map(|(code, message, details, inner)| {
            let mut error = Map::new();
            let parts = [
                ("code", code),
                ("message", message),
                ("details", details.map(Value::Array)),
                (
                    "innererror",
                    inner.map(|m| serde_json::json!({"internalexception": {"message": m}})),
                ),
            ];
            for (k, v) in parts {
                if let Some(v) = v {
                    error.insert(k.into(), v);
                }
            }
            serde_json::json!({ "error": error })
        })
}

/// Parses `body` as a page of every output type; the item counts, or the errors.
fn parse_as_every_type(body: &[u8]) -> Vec<Result<usize, String>> {
    vec![
        parse_envelope::<MobileDevice>(body).map(|e| e.value.len()),
        parse_envelope::<MobileDeviceStatistics>(body).map(|e| e.value.len()),
        parse_envelope::<OrganizationSettings>(body).map(|e| e.value.len()),
        parse_envelope::<MobileDeviceMailboxPolicy>(body).map(|e| e.value.len()),
        parse_envelope::<DeviceAccessRule>(body).map(|e| e.value.len()),
        parse_envelope::<DeviceClass>(body).map(|e| e.value.len()),
        parse_envelope::<serde::de::IgnoredAny>(body).map(|e| e.value.len()),
        parse_envelope::<Value>(body).map(|e| e.value.len()),
    ]
}

/// Every text in `v`, also inside texts that are JSON themselves.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                strings(&inner, out);
            }
            out.push(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

const FIXTURES: &[&str] = &[
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exchange/get-mobile-device.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exchange/get-mobile-device-statistics.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exchange/get-mobile-device-mailbox-policy.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exchange/error-internalexception-json.json"
    )),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_make_the_parsers_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        parse_as_every_type(&bytes);
        error_body_message(&bytes);
    }

    #[test]
    fn damaged_fixtures_never_make_the_parsers_panic(
        which in select(FIXTURES),
        at in any::<Index>(),
        byte in any::<u8>(),
        truncate in any::<bool>(),
    ) {
        let mut body = which.as_bytes().to_vec();
        let i = at.index(body.len());
        if truncate {
            body.truncate(i);
        } else {
            body[i] = byte;
        }
        parse_as_every_type(&body);
        error_body_message(&body);
    }

    #[test]
    fn envelope_shaped_json_never_makes_the_parsers_panic(envelope in envelope()) {
        let body = envelope.to_string();
        parse_as_every_type(body.as_bytes());
        error_body_message(body.as_bytes());
    }

    #[test]
    fn every_object_in_value_is_kept_whatever_its_fields_hold(
        items in prop::collection::vec(item(), 0..6),
        next in prop::option::of(".{0,20}"),
        warnings in prop::option::of(json()),
    ) {
        let mut map = Map::new();
        map.insert("value".into(), Value::Array(items.clone()));
        if let Some(next) = next {
            map.insert("@odata.nextLink".into(), Value::String(next));
        }
        if let Some(warnings) = warnings {
            map.insert("@adminapi.warnings".into(), warnings);
        }
        let body = Value::Object(map).to_string();
        for parsed in parse_as_every_type(body.as_bytes()) {
            prop_assert_eq!(parsed, Ok(items.len()));
        }
    }

    #[test]
    fn error_shaped_json_never_makes_the_message_parser_panic(body in error_body()) {
        let (code, message) = error_body_message(body.to_string().as_bytes());
        // What is found is always text that was in the body, never invented.
        let all = body.to_string();
        if let Some(code) = code {
            prop_assert!(all.contains(&serde_json::to_string(&code).unwrap_or_default()));
        }
        if let Some(message) = message {
            let mut texts = Vec::new();
            strings(&body, &mut texts);
            prop_assert!(texts.iter().any(|t| t.contains(&message)), "{message:?} is not in {all}");
        }
    }

    #[test]
    fn message_unwrapping_and_dates_never_panic(raw in ".{0,40}", date in "/Date\\(.{0,10}\\)/") {
        unwrap_message(&raw);
        parse_date(&raw);
        parse_date(&date);
        TimeSpan::parse(&raw);
    }

    #[test]
    fn time_spans_print_in_a_form_that_parses_back(secs in 0u64..(3_650 * 86_400), ticks in 0u32..10_000_000) {
        let span = TimeSpan(std::time::Duration::new(secs, ticks * 100));
        prop_assert_eq!(TimeSpan::parse(&span.to_string()), Some(span));
    }
}
