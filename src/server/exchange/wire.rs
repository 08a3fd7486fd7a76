//! The JSON shapes of the admin API (spec §3) and their parsing: the response envelope, the two
//! date formats, and the objects of the cmdlets the connector reads. Annotation keys such as
//! `Guid@odata.type` are ignored because unknown keys are.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::model::Device;

/// A 200 answer of InvokeCommand.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@adminapi.warnings", default)]
    pub warnings: Vec<Value>,
    #[serde(rename = "@adminapi.errors", default)]
    pub errors: Vec<Value>,
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
        // The millisecond count may be followed by an offset (`+0000`) that does not move it.
        let end = inner[1..]
            .find(['+', '-'])
            .map(|i| i + 1)
            .unwrap_or(inner.len());
        let millis: i64 = inner[..end].parse().ok()?;
        return Utc.timestamp_millis_opt(millis).single();
    }
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    // An unreadable date is dropped rather than failing the whole page.
    Ok(raw.as_deref().and_then(parse_date))
}

/// Any JSON scalar as text (Exchange is not consistent about numbers vs strings).
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// `Get-ActiveSyncOrganizationSettings` (the fields the connector uses today).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct OrganizationSettings {
    #[serde(default, deserialize_with = "text")]
    pub organization_id: Option<String>,
}

impl OrganizationSettings {
    /// The organization name, read from `OrganizationId`
    /// (`<forest>/Microsoft Exchange Hosted Organizations/<name> - <forest>/ConfigurationUnits/...`).
    pub fn organization(&self) -> Option<String> {
        const MARKER: &str = "Microsoft Exchange Hosted Organizations/";
        let raw = self.organization_id.as_deref()?;
        let rest = raw.find(MARKER).map(|i| &raw[i + MARKER.len()..])?;
        let name = rest.split(" - ").next()?.split('/').next()?.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
}

/// One object of `Get-MobileDevice`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MobileDevice {
    #[serde(default, deserialize_with = "text")]
    pub guid: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub exchange_object_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub identity: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub device_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub friendly_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub device_type: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub device_model: Option<String>,
    #[serde(rename = "DeviceOS", default, deserialize_with = "text")]
    pub device_os: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub device_user_agent: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user_display_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub device_access_state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub device_access_state_reason: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub client_type: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub client_version: Option<String>,
    #[serde(default, deserialize_with = "date")]
    pub first_sync_time: Option<DateTime<Utc>>,
    #[serde(rename = "WhenChangedUTC", default, deserialize_with = "date")]
    pub when_changed_utc: Option<DateTime<Utc>>,
}

impl MobileDevice {
    /// The stored form. `None` when the object has no key to store it under.
    pub fn into_device(self) -> Option<Device> {
        let guid = self.guid.or(self.exchange_object_id)?;
        let identity = self.identity.unwrap_or_else(|| guid.clone());
        Some(Device {
            device_id: self.device_id.unwrap_or_default(),
            guid,
            identity,
            friendly_name: self.friendly_name,
            device_type: self.device_type,
            device_model: self.device_model,
            device_os: self.device_os,
            device_user_agent: self.device_user_agent,
            user_display_name: self.user_display_name,
            access_state: self.device_access_state.unwrap_or_else(|| "Unknown".into()),
            access_state_reason: self.device_access_state_reason,
            client_type: self.client_type,
            client_version: self.client_version,
            first_sync_time: self.first_sync_time,
            when_changed_utc: self.when_changed_utc,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_seven_fraction_digits_and_an_offset_parse() {
        let d = parse_date("2022-09-21T08:07:47.0000000+00:00").unwrap();
        assert_eq!(d.to_rfc3339(), "2022-09-21T08:07:47+00:00");
        let shifted = parse_date("2022-09-21T10:07:47.1234567+02:00").unwrap();
        assert_eq!(shifted.timestamp(), d.timestamp());
    }

    #[test]
    fn legacy_date_format_parses_with_and_without_an_offset() {
        assert_eq!(
            parse_date("/Date(1663747667000)/").unwrap().timestamp(),
            1_663_747_667
        );
        assert_eq!(
            parse_date("/Date(1663747667000+0000)/")
                .unwrap()
                .timestamp(),
            1_663_747_667
        );
        assert_eq!(parse_date("/Date(-1000)/").unwrap().timestamp(), -1);
    }

    #[test]
    fn dates_without_offset_are_utc_and_garbage_is_none() {
        assert_eq!(
            parse_date("2022-09-21T08:07:47").unwrap().timestamp(),
            1_663_747_667
        );
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("/Date(abc)/"), None);
    }

    #[test]
    fn annotation_keys_are_ignored_and_a_device_maps_to_its_stored_form() {
        let json = r##"{"Guid@odata.type":"#Guid","Guid":"6c1f","Identity":"anna\\ExchangeActiveSyncDevices\\iPhone_ab",
            "DeviceId":"AB12","DeviceOS":"iOS 18.1","DeviceAccessState":"Quarantined",
            "WhenChangedUTC@odata.type":"#DateTime","WhenChangedUTC":"2026-11-01T10:00:00.0000000+00:00",
            "FirstSyncTime":"/Date(1663747667000)/","IsManaged":false,"ClientVersion":16.1}"##;
        let d: MobileDevice = serde_json::from_str(json).unwrap();
        let d = d.into_device().unwrap();
        assert_eq!(d.guid, "6c1f");
        assert_eq!(d.device_os.as_deref(), Some("iOS 18.1"));
        assert_eq!(d.access_state, "Quarantined");
        assert_eq!(d.client_version.as_deref(), Some("16.1"));
        assert_eq!(d.first_sync_time.unwrap().timestamp(), 1_663_747_667);
        assert!(d.when_changed_utc.is_some());
    }

    #[test]
    fn unknown_access_states_are_kept_as_sent() {
        let d: MobileDevice =
            serde_json::from_str(r#"{"Guid":"g","DeviceAccessState":"SomethingNew"}"#).unwrap();
        assert_eq!(d.into_device().unwrap().access_state, "SomethingNew");
    }

    #[test]
    fn organization_name_comes_from_organization_id() {
        let settings = |id: &str| OrganizationSettings {
            organization_id: Some(id.into()),
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
}
