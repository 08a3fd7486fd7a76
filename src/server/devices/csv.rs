//! The device list as CSV, streamed (see `server::csv`): the order comes from the in-memory
//! list, the rows from SQLite a batch at a time.

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::de::{Deserialize, Deserializer, Visitor};

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::SqlitePool;

use crate::model::DeviceQuery;

use super::super::csv::{push_field, push_record, time};
use super::super::db::devices;
use super::super::state::AppState;
use super::derive;

/// Every column, as the header row names them.
const HEADER: [&str; 38] = [
    "guid",
    "identity",
    "user",
    "user_display_name",
    "device_id",
    "friendly_name",
    "device_type",
    "device_model",
    "device_os",
    "os_family",
    "device_user_agent",
    "client_type",
    "client_version",
    "access_state",
    "access_state_reason",
    "access_control_rule",
    "is_managed",
    "is_compliant",
    "first_sync_time",
    "last_success_sync",
    "last_sync_attempt_time",
    "last_policy_update_time",
    "last_ping_heartbeat",
    "number_of_folders_synced",
    "device_policy_applied",
    "device_policy_application_status",
    "sync_status",
    "status_note",
    "is_remote_wipe_supported",
    "device_wipe_request_time",
    "device_wipe_sent_time",
    "device_wipe_ack_time",
    "last_device_wipe_requestor",
    "when_changed_utc",
    "first_seen_at",
    "last_seen_at",
    "removed_at",
    "user_name",
];

/// GUIDs read from SQLite at a time.
const READ_BATCH: usize = 500;

/// The CSV download of the devices matching `query`'s filter, in its sort order, every column
/// (UTC times; text from Exchange made inert for spreadsheets). The order comes from the
/// in-memory list; the rows are read from SQLite by key, 500 at a time.
pub(crate) async fn download(state: &AppState, query: DeviceQuery) -> Response {
    let pool = state.db.pool().clone();
    let list = match super::catalog(state).await {
        Ok(list) => list,
        Err(e) => return super::super::csv::refused(e),
    };
    let (connector, guids): (String, Vec<String>) = match list {
        None => (String::new(), Vec::new()),
        Some(list) => {
            let only = match super::scope(state, &list, &query.filter).await {
                Ok((_, only)) => only,
                Err(e) => return super::super::csv::refused(e),
            };
            let all = list.all(
                &query.filter,
                only.as_ref(),
                query.sort,
                query.dir,
                Utc::now(),
            );
            (
                list.connector_id.clone(),
                all.iter().map(|e| list.text(e.guid).to_owned()).collect(),
            )
        }
    };
    super::super::csv::streamed("devices.csv", move |mut sink| async move {
        push_record(sink.out(), HEADER.iter().map(|h| (*h).to_owned()));
        for batch in guids.chunks(READ_BATCH) {
            match read_batch(&pool, &connector, batch).await {
                Ok(rows) => rows.iter().for_each(|record| sink.out().push_str(record)),
                Err(e) => return (sink, Err(e)),
            }
            if !sink.flush().await {
                break;
            }
        }
        (sink, Ok(()))
    })
}

/// The CSV records of the devices `guids`, in that order (a device gone since is left out).
/// The batch comes as one JSON document (`[[guid, identity, …], …]`, see
/// [`devices::rows_as_json`]); text is read in place from it where it needs no unescaping, and
/// each record is written straight into one string.
async fn read_batch(
    pool: &SqlitePool,
    connector_id: &str,
    guids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let columns = COLUMNS.map(|(column, _)| column);
    let json = devices::rows_as_json(pool, connector_id, &columns, guids).await?;
    let rows: Vec<Vec<Cell<'_>>> =
        serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let mut found: HashMap<&str, String> = HashMap::with_capacity(rows.len());
    for row in &rows {
        if let Some(Cell::Text(guid)) = row.first() {
            found.insert(guid, record(row));
        }
    }
    Ok(guids
        .iter()
        .filter_map(|g| found.remove(g.as_str()))
        .collect())
}

/// One value of a row as SQLite's JSON gives it: text borrowed from the document when it has
/// no escapes, a number (integers and booleans), or null.
#[derive(Debug, PartialEq)]
enum Cell<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
}

impl<'de> Deserialize<'de> for Cell<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cell<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text, a number or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Cell<'de>, E> {
                Ok(Cell::Null)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Cell<'de>, E> {
                Ok(Cell::Null)
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Cell<'de>, E> {
                Ok(Cell::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Cell<'de>, E> {
                Ok(Cell::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Cell<'de>, E> {
                Ok(Cell::Text(Cow::Owned(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Cell<'de>, E> {
                Ok(Cell::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Cell<'de>, E> {
                Ok(Cell::Int(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Cell<'de>, E> {
                // Only integers are stored as numbers; a float is cut to one.
                Ok(Cell::Int(v as i64))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Cell<'de>, E> {
                Ok(Cell::Int(i64::from(v)))
            }
        }
        d.deserialize_any(V)
    }
}

impl Cell<'_> {
    fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// How a column is written.
#[derive(Clone, Copy)]
enum Kind {
    /// Text from Exchange, made inert for spreadsheets.
    Text,
    /// A time, in UTC (`2026-11-24T10:00:00.000Z`).
    Time,
    Int,
    Flag,
    /// The person's name taken from `UserDisplayName` (the column before it).
    UserName,
}

/// The columns read, in `HEADER` order (the guid first: rows are matched to the order by it).
const COLUMNS: [(&str, Kind); 38] = [
    ("guid", Kind::Text),
    ("identity", Kind::Text),
    ("mailbox", Kind::Text),
    ("user_display_name", Kind::Text),
    ("device_id", Kind::Text),
    ("friendly_name", Kind::Text),
    ("device_type", Kind::Text),
    ("device_model", Kind::Text),
    ("device_os", Kind::Text),
    ("os_family", Kind::Text),
    ("device_user_agent", Kind::Text),
    ("client_type", Kind::Text),
    ("client_version", Kind::Text),
    ("access_state", Kind::Text),
    ("access_state_reason", Kind::Text),
    ("access_control_rule", Kind::Text),
    ("is_managed", Kind::Flag),
    ("is_compliant", Kind::Flag),
    ("first_sync_time", Kind::Time),
    ("last_success_sync", Kind::Time),
    ("last_sync_attempt_time", Kind::Time),
    ("last_policy_update_time", Kind::Time),
    ("last_ping_heartbeat", Kind::Int),
    ("number_of_folders_synced", Kind::Int),
    ("device_policy_applied", Kind::Text),
    ("device_policy_application_status", Kind::Text),
    ("sync_status", Kind::Text),
    ("status_note", Kind::Text),
    ("is_remote_wipe_supported", Kind::Flag),
    ("device_wipe_request_time", Kind::Time),
    ("device_wipe_sent_time", Kind::Time),
    ("device_wipe_ack_time", Kind::Time),
    ("last_device_wipe_requestor", Kind::Text),
    ("when_changed_utc", Kind::Time),
    ("first_seen_at", Kind::Time),
    ("last_seen_at", Kind::Time),
    ("removed_at", Kind::Time),
    ("user_display_name", Kind::UserName),
];

/// One device's CSV record, CRLF included, from its row (in [`COLUMNS`] order).
fn record(row: &[Cell<'_>]) -> String {
    let mut out = String::with_capacity(640);
    for (i, (_, kind)) in COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let cell = row.get(i).unwrap_or(&Cell::Null);
        match (kind, cell) {
            (_, Cell::Null) => {}
            (Kind::Text, Cell::Text(text)) => push_field(&mut out, text, true),
            (Kind::UserName, _) => {
                if let Some(name) = derive::user_name(cell.text()) {
                    push_field(&mut out, &name, true);
                }
            }
            (Kind::Time, Cell::Text(text)) => push_any_time(&mut out, text),
            (Kind::Flag, Cell::Int(n)) => out.push_str(if *n != 0 { "true" } else { "false" }),
            (Kind::Int | Kind::Text | Kind::Time, Cell::Int(n)) => {
                let _ = write!(out, "{n}");
            }
            (Kind::Int | Kind::Flag, Cell::Text(text)) => push_field(&mut out, text, true),
        }
    }
    out.push_str("\r\n");
    out
}

/// A stored time as the exports write it: rewritten without parsing in the sync's form, else
/// parsed (RFC 3339 or SQLite's `YYYY-MM-DD HH:MM:SS`); text that is no time is kept, inert.
fn push_any_time(out: &mut String, text: &str) {
    if stored_time(text) {
        return push_time(out, text);
    }
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        });
    match parsed {
        Some(at) => out.push_str(&time(at)),
        None => push_field(out, text, true),
    }
}

/// Whether a stored time is in the form the sync writes (`2026-11-24T10:00:00[.fraction]+00:00`,
/// RFC 3339 in UTC), which [`push_time`] rewrites without parsing; any other form is decoded.
fn stored_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 25 {
        return false;
    }
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let fraction = &b[19..b.len() - 6];
    let fraction_ok = fraction.is_empty()
        || (fraction.len() >= 2
            && fraction[0] == b'.'
            && fraction[1..].iter().all(u8::is_ascii_digit));
    digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && fraction_ok
        && text.ends_with("+00:00")
}

/// Writes a time that [`stored_time`] accepted as the exports do: milliseconds (cut, not
/// rounded, like [`time`]) and `Z`.
fn push_time(out: &mut String, text: &str) {
    out.push_str(&text[..19]);
    out.push('.');
    let fraction = text[19..text.len() - 6].trim_start_matches('.');
    let millis = fraction.get(..3).unwrap_or(fraction);
    out.push_str(millis);
    for _ in millis.len()..3 {
        out.push('0');
    }
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_batch_document_is_read_in_place_and_written_as_records() {
        let json = r#"[["g1","mbx\\EASDevices\\x",null,1,"=cmd()","2026-11-24 10:00:07"]]"#;
        let rows: Vec<Vec<Cell<'_>>> = serde_json::from_str(json).expect("json");
        let row = &rows[0];
        assert_eq!(row[0], Cell::Text(Cow::Borrowed("g1")));
        assert!(matches!(row[0], Cell::Text(Cow::Borrowed(_))), "in place");
        assert_eq!(row[1].text(), Some("mbx\\EASDevices\\x"));
        assert_eq!((&row[2], &row[3]), (&Cell::Null, &Cell::Int(1)));
        let mut out = String::new();
        if let Cell::Text(t) = &row[4] {
            push_field(&mut out, t, true);
        }
        assert_eq!(out, "'=cmd()");
        let mut out = String::new();
        push_any_time(&mut out, row[5].text().expect("time"));
        assert_eq!(out, "2026-11-24T10:00:07.000Z");
        let mut out = String::new();
        push_any_time(&mut out, "not a time");
        assert_eq!(out, "not a time");
    }

    #[test]
    fn stored_times_are_rewritten_as_the_exports_write_times() {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 7).unwrap();
        for nanos in [0, 120_000_000, 123_456_789, 999_999_999, 5_000] {
            let at = at + chrono::Duration::nanoseconds(nanos);
            // As sqlx stores a DateTime<Utc> in SQLite.
            let stored = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
            assert!(stored_time(&stored), "{stored}");
            let mut out = String::new();
            push_time(&mut out, &stored);
            assert_eq!(out, time(at), "{stored}");
        }
        for other in [
            "2026-11-24 10:00:07",
            "2026-11-24T10:00:07Z",
            "2026-11-24T10:00:07+01:00",
            "2026-11-24T10:00:07.+00:00",
            "",
            "garbage",
        ] {
            assert!(!stored_time(other), "{other}");
        }
    }
}
