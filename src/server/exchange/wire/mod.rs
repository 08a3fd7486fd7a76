//! The JSON shapes of the admin API (spec §3) and their parsing: the response envelope, the two
//! date formats, and the output objects of the cmdlets the connector runs (spec §7).
//!
//! Parsing is lenient where Exchange is loose and strict where a mistake would lose data:
//! an output object must be a JSON object, but inside it a field that cannot be read is `None`,
//! annotation keys (`Guid@odata.type`) are ignored and unknown enum values are kept as sent.

mod devices;
mod enums;
mod fields;
mod mailboxes;
mod policies;
mod rules;
mod settings;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::de::{DeserializeOwned, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub(crate) use devices::{MobileDevice, MobileDeviceStatistics};
#[allow(unused_imports)] // read by the sync engine (issue 4)
pub(crate) use enums::{
    AccessLevel, BluetoothMode, Characteristic, ClientType, DeviceAccessState,
    DeviceAccessStateReason, DevicePolicyApplicationStatus, DeviceStatus, MaxEmailAgeFilter,
};
use fields::Key;
pub(crate) use fields::{Limit, TimeSpan};
pub(crate) use mailboxes::CasMailbox;
pub(crate) use policies::MobileDeviceMailboxPolicy;
pub(crate) use rules::{DeviceAccessRule, DeviceClass};
pub(crate) use settings::OrganizationSettings;

/// A 200 answer of InvokeCommand, with warnings and errors already turned into text.
#[derive(Debug)]
pub(crate) struct Envelope<T> {
    /// The output objects of this page (`value`, a list: `[]` is none). Absent or `null` is a
    /// protocol error unless the answer carries errors: Exchange always sends the list (spec
    /// §3), and reading `{}` as "nothing there" would empty a tenant.
    pub value: Vec<T>,
    /// `@odata.nextLink`: where the next page is, absent on the last one.
    /// Pages read it with [`parse_outline`] before the items; kept here for the whole picture.
    #[cfg_attr(not(test), allow(dead_code))]
    pub next_link: Option<String>,
    /// `@adminapi.warnings`.
    pub warnings: Vec<String>,
    /// `@adminapi.errors`: a 200 that carries errors only partly worked.
    pub errors: Vec<String>,
}

/// Parses a 200 body of InvokeCommand. An error names what is wrong (not JSON, not an object,
/// an output item that is not an object, a next link that is not text); it never panics.
pub(crate) fn parse_envelope<T: DeserializeOwned>(body: &[u8]) -> Result<Envelope<T>, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice::<Envelope<T>>(body).map_err(|e| e.to_string())
}

/// Reads only where the next page is: checks that `body` is a JSON object (every byte of it)
/// and returns its `@odata.nextLink`, without building the items. Cheap enough to run before
/// the page is parsed, so that the next page can be asked for first.
pub(crate) fn parse_outline(body: &[u8]) -> Result<Option<String>, String> {
    #[derive(Deserialize)]
    struct Outline {
        #[serde(rename = "@odata.nextLink", default)]
        next_link: Option<Value>,
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("the answer is not a JSON object".into());
    }
    let outline: Outline = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    match outline.next_link {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err("`@odata.nextLink` is not text".into()),
    }
}

/// Read in one pass over the page: the output objects go straight into `T`, the members that
/// are not the envelope's are skipped unread. A member sent twice: the last copy wins.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Envelope<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Envelope<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an InvokeCommand answer (a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<T>, A::Error> {
                let mut envelope = Envelope {
                    value: Vec::new(),
                    next_link: None,
                    warnings: Vec::new(),
                    errors: Vec::new(),
                };
                let mut listed = false;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match key.as_ref() {
                        "value" => match map.next_value::<Items<T>>()?.0 {
                            Some(items) => {
                                envelope.value = items;
                                listed = true;
                            }
                            None => {
                                envelope.value = Vec::new();
                                listed = false;
                            }
                        },
                        "@odata.nextLink" => {
                            envelope.next_link = match map.next_value::<Option<Value>>()? {
                                None | Some(Value::Null) => None,
                                Some(Value::String(s)) if s.trim().is_empty() => None,
                                Some(Value::String(s)) => Some(s),
                                Some(_) => {
                                    return Err(A::Error::custom("`@odata.nextLink` is not text"))
                                }
                            }
                        }
                        "@adminapi.warnings" => envelope.warnings = entries(map.next_value()?),
                        "@adminapi.errors" => envelope.errors = entries(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if !listed && envelope.errors.is_empty() {
                    return Err(A::Error::custom(
                        "the answer has no `value` list (missing or null)",
                    ));
                }
                Ok(envelope)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// The output objects of a page (`value`): a list, or (`None`) `null`, which the envelope
/// refuses. An item that cannot be read names its place (`value[3]: ...`).
struct Items<T>(Option<Vec<T>>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Items<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`value` as a list")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Items<T>, E> {
                Ok(Items(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                loop {
                    let i = items.len();
                    match seq.next_element::<T>() {
                        Ok(Some(item)) => items.push(item),
                        Ok(None) => return Ok(Items(Some(items))),
                        Err(e) => return Err(A::Error::custom(format!("value[{i}]: {e}"))),
                    }
                }
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The texts of a warnings or errors entry: a list, or a lone entry of any shape.
fn entries(raw: Option<Value>) -> Vec<String> {
    match raw {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|v| !v.is_null())
            .map(entry_text)
            .collect(),
        Some(other) => vec![entry_text(&other)],
    }
}

/// Text of a warning or error entry, whatever shape it came in.
pub(crate) fn entry_text(entry: &Value) -> String {
    match entry {
        Value::String(s) => s.clone(),
        Value::Object(map) => ["Message", "message", "ErrorMessage", "Exception"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
            .unwrap_or_else(|| entry.to_string()),
        other => other.to_string(),
    }
}

/// Parses an admin API date: ISO 8601 with up to 7 fraction digits and an offset, the same
/// without an offset (taken as UTC), or the older `/Date(1663747667000)/`.
pub(crate) fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Some(inner) = raw
        .strip_prefix("/Date(")
        .and_then(|r| r.strip_suffix(")/"))
    {
        // The millisecond count may be followed by an offset (`+0000`) that does not move it;
        // a leading sign belongs to the count.
        let end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| matches!(c, '+' | '-'))
            .map_or(inner.len(), |(i, _)| i);
        let millis: i64 = inner.get(..end)?.parse().ok()?;
        return Utc.timestamp_millis_opt(millis).single();
    }
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// A date as a cmdlet parameter or filter value takes it: UTC, `yyyy-MM-ddTHH:mm:ss` (spec §1).
pub(crate) fn format_param_date(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}
