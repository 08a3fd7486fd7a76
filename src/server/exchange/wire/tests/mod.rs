//! Parsing of every cmdlet's output, on fixtures written from the spec
//! (`tests/fixtures/exchange/`): here the envelope, dates and time spans.

mod devices;
mod settings;

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/exchange/",
            $name
        ))
    };
}
use fixture;

fn page<T: DeserializeOwned>(body: &str) -> Envelope<T> {
    match parse_envelope::<T>(body.as_bytes()) {
        Ok(envelope) => envelope,
        Err(e) => panic!("the fixture does not parse: {e}"),
    }
}

fn at(rfc3339: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[test]
fn an_empty_result_is_an_empty_last_page() {
    let envelope = page::<DeviceClass>(fixture!("empty.json"));
    assert!(envelope.value.is_empty());
    assert_eq!(envelope.next_link, None);
    let envelope = page::<DeviceClass>(r#"{"value":[],"@odata.nextLink":"  "}"#);
    assert!(envelope.value.is_empty());
    assert_eq!(envelope.next_link, None);
}

#[test]
fn a_missing_or_null_value_is_a_protocol_error_not_an_empty_result() {
    // Read as "no devices", either would mark every stored device removed.
    for body in [
        &br#"{}"#[..],
        br#"{"value":null}"#,
        br#"{"@odata.context":"x"}"#,
    ] {
        let error = parse_envelope::<MobileDevice>(body).err();
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("no `value` list")),
            "{}: {error:?}",
            String::from_utf8_lossy(body)
        );
    }
    // An answer that only carries errors has no list to give: it is a partial failure.
    assert!(parse_envelope::<MobileDevice>(br#"{"@adminapi.errors":["gone"]}"#).is_ok());
}

#[test]
fn partial_failures_keep_every_error_as_text_next_to_the_warnings() {
    let envelope = page::<serde::de::IgnoredAny>(fixture!("partial-failure.json"));
    assert_eq!(
        envelope.errors,
        [
            "The operation couldn't be performed because object 'ghost' couldn't be found.",
            "A second error as plain text"
        ]
    );
    assert_eq!(envelope.warnings.len(), 1);
    // A lone entry that is not a list is still kept.
    let envelope = page::<serde::de::IgnoredAny>(r#"{"@adminapi.errors":{"message":"alone"}}"#);
    assert_eq!(envelope.errors, ["alone"]);
}

#[test]
fn an_output_item_that_is_not_an_object_is_a_protocol_error() {
    let error = parse_envelope::<DeviceAccessRule>(br#"{"value":[{"Name":"a"},"text"]}"#).err();
    assert!(error.is_some_and(|e| e.contains("value[1]")));
    assert!(parse_envelope::<MobileDevice>(br#"{"value":[[1,2]]}"#).is_err());
}

#[test]
fn bodies_that_are_not_an_envelope_are_errors() {
    for body in [
        &b""[..],
        b"<html>Service Unavailable</html>",
        b"[]",
        b"\"value\"",
        br#"{"value":{"Name":"x"}}"#,
        br#"{"value":[],"@odata.nextLink":42}"#,
    ] {
        assert!(
            parse_envelope::<DeviceClass>(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn a_byte_order_mark_before_the_body_is_tolerated() {
    let body = b"\xEF\xBB\xBF{\"value\":[{\"Name\":\"x\"}]}";
    let envelope = parse_envelope::<DeviceClass>(body);
    assert_eq!(envelope.ok().map(|e| e.value.len()), Some(1));
}

#[test]
fn dates_with_seven_fraction_digits_and_an_offset_parse() {
    let d = parse_date("2022-09-21T08:07:47.0000000+00:00");
    assert_eq!(
        d.map(|d| d.to_rfc3339()).as_deref(),
        Some("2022-09-21T08:07:47+00:00")
    );
    let shifted = parse_date("2022-09-21T10:07:47.1234567+02:00");
    assert_eq!(shifted.map(|t| t.timestamp()), d.map(|t| t.timestamp()));
}

#[test]
fn legacy_date_format_parses_with_and_without_an_offset() {
    let seconds = |raw: &str| parse_date(raw).map(|t| t.timestamp());
    assert_eq!(seconds("/Date(1663747667000)/"), Some(1_663_747_667));
    assert_eq!(seconds("/Date(1663747667000+0000)/"), Some(1_663_747_667));
    assert_eq!(seconds("/Date(1663747667000-0500)/"), Some(1_663_747_667));
    assert_eq!(seconds("/Date(-1000)/"), Some(-1));
}

#[test]
fn dates_without_offset_are_utc_and_garbage_is_none() {
    assert_eq!(
        parse_date("2022-09-21T08:07:47").map(|t| t.timestamp()),
        Some(1_663_747_667)
    );
    for garbage in [
        "yesterday",
        "/Date(abc)/",
        "/Date()/",
        "/Date(é)/",
        "/Date(-)/",
        "/Date(99999999999999999999)/",
        "/Date(9223372036854775807)/",
    ] {
        assert_eq!(parse_date(garbage), None, "{garbage}");
    }
}

#[test]
fn time_spans_parse_in_every_dotnet_form_and_print_back() {
    let span = |raw: &str| TimeSpan::parse(raw).map(|t| t.0);
    assert_eq!(span("00:15:00"), Some(Duration::from_secs(900)));
    assert_eq!(span("90.00:00:00"), Some(Duration::from_secs(90 * 86_400)));
    assert_eq!(
        span("1.02:03:04.5"),
        Some(Duration::from_millis(93_784_500))
    );
    assert_eq!(span("00:01"), Some(Duration::from_secs(60)));
    assert_eq!(TimeSpan::minutes(15).to_string(), "00:15:00");
    assert_eq!(TimeSpan::days(730).to_string(), "730.00:00:00");
    assert_eq!(
        TimeSpan(Duration::from_millis(1_500)).to_string(),
        "00:00:01.5000000"
    );
    let odd = TimeSpan(Duration::from_millis(93_784_500));
    assert_eq!(TimeSpan::parse(&odd.to_string()), Some(odd));
}

#[test]
fn time_spans_out_of_range_or_signed_are_rejected() {
    for raw in [
        "24:00:00",
        "00:60:00",
        "00:00:60",
        "-00:15:00",
        "+1:00:00",
        "00:00:01.12345678",
        "00:00:01.",
        "",
        "15",
        "1:2:3:4",
        "١:٠٠:٠٠",
    ] {
        assert_eq!(TimeSpan::parse(raw), None, "{raw}");
    }
}
