//! The device pages' types: the list's filter, sort and page, the access-state summary, a
//! device's details with the explanation of its state and its history, and the readiness
//! report. The query string is read and written here, so the page, its links and the CSV
//! export agree on it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AccessChangeForm, MAX_MAIL_INSERT, MAX_RECIPIENTS};

/// The longest field of a previewed change read from a device list's address (the longest
/// the form allows: every recipient at its longest).
const MAX_CHANGE_FIELD: usize = MAX_RECIPIENTS * 320 + MAX_MAIL_INSERT;

/// The longest search text kept (longer input is cut, not refused).
pub const MAX_SEARCH_CHARS: usize = 100;
/// Devices on one page by default, and the sizes offered.
pub const DEVICE_PAGE_SIZE: u32 = 50;
pub const DEVICE_PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];
/// The EAS protocol version Exchange Online requires since 1 March 2026, as a version key.
pub const EAS_MINIMUM_KEY: i64 = 16_001;

/// A client version as a number that orders like the version: major × 1000 + minor ("16.1" →
/// 16001, "14.1" → 14001, "16" → 16000). `None` for anything else (absent, "n/a", "16.x").
pub fn version_key(version: Option<&str>) -> Option<i64> {
    let v = version?.trim();
    let mut parts = v.split('.');
    let major: i64 = parts.next()?.parse().ok()?;
    let minor: i64 = match parts.next() {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    // A patch level may follow; anything else is not a version.
    if !parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    ((0..=9_999).contains(&major) && (0..1000).contains(&minor)).then_some(major * 1000 + minor)
}

/// The access states the summary and the filter know; every other value is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StateBucket {
    Allowed,
    Blocked,
    Quarantined,
    DeviceDiscovery,
    /// `Unknown`, or a value a newer Exchange introduced.
    Other,
}

impl StateBucket {
    pub const ALL: [StateBucket; 5] = [
        StateBucket::Allowed,
        StateBucket::Blocked,
        StateBucket::Quarantined,
        StateBucket::DeviceDiscovery,
        StateBucket::Other,
    ];
    /// The states stored under their own name (the rest is `Other`).
    pub const NAMED: [&'static str; 4] = ["Allowed", "Blocked", "Quarantined", "DeviceDiscovery"];

    pub fn as_str(self) -> &'static str {
        match self {
            StateBucket::Allowed => "Allowed",
            StateBucket::Blocked => "Blocked",
            StateBucket::Quarantined => "Quarantined",
            StateBucket::DeviceDiscovery => "DeviceDiscovery",
            StateBucket::Other => "Other",
        }
    }

    /// The bucket of a stored access state.
    pub fn of(state: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|b| *b != StateBucket::Other && b.as_str() == state)
            .unwrap_or(StateBucket::Other)
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(name))
    }
}

/// Operating system families the filter offers (from DeviceOS, DeviceType and the user agent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OsFamily {
    #[serde(rename = "iOS")]
    Ios,
    Android,
    Windows,
    #[serde(rename = "macOS")]
    MacOs,
    Other,
}

impl OsFamily {
    pub const ALL: [OsFamily; 5] = [
        OsFamily::Ios,
        OsFamily::Android,
        OsFamily::Windows,
        OsFamily::MacOs,
        OsFamily::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OsFamily::Ios => "iOS",
            OsFamily::Android => "Android",
            OsFamily::Windows => "Windows",
            OsFamily::MacOs => "macOS",
            OsFamily::Other => "Other",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
    }
}

/// What the device list is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceSort {
    #[default]
    User,
    Name,
    Type,
    Os,
    Client,
    State,
    LastSync,
    FirstSync,
}

impl DeviceSort {
    pub const ALL: [DeviceSort; 8] = [
        DeviceSort::User,
        DeviceSort::Name,
        DeviceSort::Type,
        DeviceSort::Os,
        DeviceSort::Client,
        DeviceSort::State,
        DeviceSort::LastSync,
        DeviceSort::FirstSync,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceSort::User => "user",
            DeviceSort::Name => "name",
            DeviceSort::Type => "type",
            DeviceSort::Os => "os",
            DeviceSort::Client => "client",
            DeviceSort::State => "state",
            DeviceSort::LastSync => "lastSync",
            DeviceSort::FirstSync => "firstSync",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// The direction a click on the column's heading sorts first: newest first for times.
    pub fn natural_dir(self) -> SortDir {
        match self {
            DeviceSort::LastSync | DeviceSort::FirstSync => SortDir::Desc,
            _ => SortDir::Asc,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

impl SortDir {
    pub fn as_str(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }

    pub fn flip(self) -> Self {
        match self {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        }
    }
}

/// "No successful sync for more than N days", or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Staleness {
    /// The last successful sync is more than this many days old (1..=3650).
    Days(u32),
    /// No successful sync recorded (Outlook mobile excluded: it reports no EAS sync times).
    Never,
}

impl Staleness {
    pub fn param(self) -> String {
        match self {
            Staleness::Days(d) => d.to_string(),
            Staleness::Never => "never".into(),
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("never") {
            return Some(Staleness::Never);
        }
        value
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(Staleness::Days)
    }
}

/// Which removed partnerships the list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Removed {
    /// Present devices only (the default).
    #[default]
    Hidden,
    /// Only the partnerships Exchange no longer lists.
    Only,
}

/// The device list's filters. Each is optional; together they all apply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceFilter {
    /// Part of the device id, user, friendly name, model, OS or user agent (any case).
    pub q: Option<String>,
    pub state: Option<StateBucket>,
    /// `DeviceAccessStateReason` as Exchange spells it (`Global`, `DeviceRule`, …).
    pub reason: Option<String>,
    /// `EAS`, `Outlook`, `REST`, `MOWA`.
    pub client: Option<String>,
    /// `DeviceType`, any case.
    pub device_type: Option<String>,
    pub os: Option<OsFamily>,
    /// The exact user agent (the readiness page's groups).
    pub agent: Option<String>,
    /// The exact client version (the readiness page's groups).
    pub version: Option<String>,
    /// EAS clients below protocol 16.1.
    pub legacy_eas: bool,
    pub stale: Option<Staleness>,
    pub removed: Removed,
    /// Only the devices a previewed change on the Exchange access page would move or
    /// grandfather (the preview's own fields, `change=…`).
    #[serde(default)]
    pub change: Option<AccessChangeForm>,
}

/// A filter value as the query string gives it: trimmed, control characters dropped, at most
/// `max` characters; empty is none.
fn clean(value: Option<String>, max: usize) -> Option<String> {
    let v: String = value?
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

impl DeviceFilter {
    /// Reads `q`, `state`, `reason`, `client`, `type`, `os`, `agent`, `version`, `eas`,
    /// `stale` and `removed`. Unknown values are ignored (no filter) rather than refused; text is cut to a
    /// sane length.
    pub fn from_params(get: &impl Fn(&str) -> Option<String>) -> Self {
        let word = |key: &str| clean(get(key), 64);
        Self {
            q: clean(get("q"), MAX_SEARCH_CHARS),
            state: word("state").and_then(|v| StateBucket::parse(&v)),
            reason: word("reason").filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric())),
            client: word("client").filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric())),
            device_type: word("type"),
            os: word("os").and_then(|v| OsFamily::parse(&v)),
            agent: clean(get("agent"), 256),
            version: clean(get("version"), 32),
            legacy_eas: word("eas").is_some_and(|v| v.eq_ignore_ascii_case("legacy")),
            stale: word("stale").and_then(|v| Staleness::parse(&v)),
            removed: match word("removed") {
                Some(v) if v == "only" || v == "1" || v == "true" => Removed::Only,
                _ => Removed::Hidden,
            },
            // As the preview's form sent it (new lines separate addresses); the server checks
            // each field as the preview does.
            change: AccessChangeForm::from_params(|k| {
                get(k).map(|v| v.chars().take(MAX_CHANGE_FIELD).collect())
            }),
        }
    }

    /// The filter as query-string pairs (not yet percent-encoded); `from_params` reads them back.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        [
            ("q", self.q.clone()),
            ("state", self.state.map(|s| s.as_str().to_owned())),
            ("reason", self.reason.clone()),
            ("client", self.client.clone()),
            ("type", self.device_type.clone()),
            ("os", self.os.map(|o| o.as_str().to_owned())),
            ("agent", self.agent.clone()),
            ("version", self.version.clone()),
            ("eas", self.legacy_eas.then(|| "legacy".to_owned())),
            ("stale", self.stale.map(Staleness::param)),
            (
                "removed",
                (self.removed == Removed::Only).then(|| "only".to_owned()),
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .chain(self.change.iter().flat_map(AccessChangeForm::params))
        .collect()
    }

    pub fn is_filtered(&self) -> bool {
        *self != Self::default()
    }
}

/// What the device list's address asks for: filters, sort, page position and size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceQuery {
    pub filter: DeviceFilter,
    pub sort: DeviceSort,
    pub dir: SortDir,
    /// Continue after this position (a page's `next_cursor`) …
    pub after: Option<String>,
    /// … or end before it (a page's `prev_cursor`).
    pub before: Option<String>,
    pub limit: u32,
}

impl DeviceQuery {
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let filter = DeviceFilter::from_params(&get);
        let sort = clean(get("sort"), 16)
            .and_then(|v| DeviceSort::parse(&v))
            .unwrap_or_default();
        let dir = match clean(get("dir"), 8).as_deref() {
            Some("desc") => SortDir::Desc,
            Some("asc") => SortDir::Asc,
            _ => sort.natural_dir(),
        };
        let limit = clean(get("limit"), 8)
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|l| DEVICE_PAGE_SIZES.contains(l))
            .unwrap_or(DEVICE_PAGE_SIZE);
        Self {
            filter,
            sort,
            dir,
            after: clean(get("after"), 1024),
            before: clean(get("before"), 1024),
            limit,
        }
    }

    /// The query as pairs, without the page position.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut out = self.filter.params();
        if self.sort != DeviceSort::default() || self.dir != self.sort.natural_dir() {
            out.push(("sort", self.sort.as_str().to_owned()));
            out.push(("dir", self.dir.as_str().to_owned()));
        }
        if self.limit != DEVICE_PAGE_SIZE {
            out.push(("limit", self.limit.to_string()));
        }
        out
    }

    /// The first page of the same view.
    pub fn first_page(&self) -> Self {
        Self {
            after: None,
            before: None,
            ..self.clone()
        }
    }
}

/// One row of the device list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::ToSchema),
    schema(rename_all = "camelCase")
)]
pub struct DeviceRow {
    pub guid: String,
    /// The mailbox that owns the partnership (from its Identity).
    pub user: Option<String>,
    /// The person's name, when Exchange's UserDisplayName gives one.
    pub user_name: Option<String>,
    pub device_id: String,
    pub friendly_name: Option<String>,
    pub device_type: Option<String>,
    pub device_model: Option<String>,
    pub device_os: Option<String>,
    pub client_type: Option<String>,
    pub client_version: Option<String>,
    pub access_state: String,
    pub access_state_reason: Option<String>,
    pub last_success_sync: Option<DateTime<Utc>>,
    pub first_sync_time: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
}

/// One page of the device list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePage {
    pub rows: Vec<DeviceRow>,
    /// Devices matching the filter (all pages).
    pub total: u64,
    /// The position after the last row, when there are more.
    pub next_cursor: Option<String>,
    /// The position before the first row, when this is not the first page.
    pub prev_cursor: Option<String>,
    /// Whether a connector has ever synced (an empty list then means "no match").
    pub synced: bool,
    /// Whether the person may select devices for an Exchange action (admins).
    #[serde(default)]
    pub can_act: bool,
    /// When the list is limited to a previewed change's devices: that change.
    #[serde(default)]
    pub change: Option<ChangeScope>,
}

/// The previewed change a device list is limited to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeScope {
    /// The change in words, as the preview says it.
    pub summary: Vec<String>,
    /// Why the change cannot be previewed any more (then the list is empty).
    pub problem: Option<String>,
}

/// The present devices by access state, for the chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    /// Every bucket, in `StateBucket::ALL` order, zeros included.
    pub counts: Vec<(StateBucket, u64)>,
    pub total: u64,
    /// The values the filters offer (as stored): reasons, client types, device types.
    pub reasons: Vec<String>,
    pub clients: Vec<String>,
    pub device_types: Vec<String>,
}

/// What a sync observed of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceEventKind {
    FirstSeen,
    StateChanged,
    ClientChanged,
    OwnerChanged,
    Removed,
    Returned,
}

impl DeviceEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceEventKind::FirstSeen => "firstSeen",
            DeviceEventKind::StateChanged => "stateChanged",
            DeviceEventKind::ClientChanged => "clientChanged",
            DeviceEventKind::OwnerChanged => "ownerChanged",
            DeviceEventKind::Removed => "removed",
            DeviceEventKind::Returned => "returned",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            DeviceEventKind::FirstSeen,
            DeviceEventKind::StateChanged,
            DeviceEventKind::ClientChanged,
            DeviceEventKind::OwnerChanged,
            DeviceEventKind::Removed,
            DeviceEventKind::Returned,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEvent {
    pub at: DateTime<Utc>,
    pub kind: DeviceEventKind,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
    pub rule: Option<String>,
}

/// Why a device has its access state, in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// One sentence: what decided the state.
    pub summary: String,
    /// What else was considered, in Exchange's order of evaluation.
    pub details: Vec<String>,
}

/// Everything stored about one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDetails {
    pub row: DeviceRow,
    pub identity: String,
    pub mailbox: Option<String>,
    pub user_display_name: Option<String>,
    pub device_user_agent: Option<String>,
    pub access_control_rule: Option<String>,
    pub is_managed: Option<bool>,
    pub is_compliant: Option<bool>,
    pub when_changed_utc: Option<DateTime<Utc>>,
    pub last_sync_attempt_time: Option<DateTime<Utc>>,
    pub last_policy_update_time: Option<DateTime<Utc>>,
    pub last_ping_heartbeat: Option<i64>,
    pub number_of_folders_synced: Option<i64>,
    pub device_policy_applied: Option<String>,
    pub device_policy_application_status: Option<String>,
    pub sync_status: Option<String>,
    pub status_note: Option<String>,
    pub is_remote_wipe_supported: Option<bool>,
    pub device_wipe_request_time: Option<DateTime<Utc>>,
    pub device_wipe_sent_time: Option<DateTime<Utc>>,
    pub device_wipe_ack_time: Option<DateTime<Utc>>,
    pub last_device_wipe_requestor: Option<String>,
    pub statistics_read_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub why: Explanation,
    /// Newest first; the last one is when it was first seen.
    pub events: Vec<DeviceEvent>,
    /// What an admin can do to the device in Exchange (`None` for readers).
    #[serde(default)]
    pub actions: Option<Vec<crate::model::ActionOption>>,
}

/// A group of devices on the readiness page, with the device-list address that shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessGroup {
    pub label: String,
    pub count: u64,
    pub filter: DeviceFilter,
}

/// EAS 16.1 readiness and stale partnerships.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// Present EAS devices below protocol 16.1.
    pub legacy_total: u64,
    pub legacy_by_agent: Vec<ReadinessGroup>,
    pub legacy_by_os: Vec<ReadinessGroup>,
    pub legacy_by_version: Vec<ReadinessGroup>,
    /// Present EAS devices (any version).
    pub eas_total: u64,
    /// Outlook for iOS and Android: not affected by the EAS cut-off.
    pub outlook_total: u64,
    /// No successful sync in more than 30, 90 and 180 days; and never.
    pub stale: Vec<ReadinessGroup>,
    pub never: ReadinessGroup,
    /// Outlook mobile devices without any EAS sync time (not counted as never synced).
    pub outlook_without_sync_times: u64,
    pub present_total: u64,
    pub now: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_versions_not_as_text() {
        assert_eq!(version_key(Some("16.1")), Some(16_001));
        assert_eq!(version_key(Some("14.1")), Some(14_001));
        assert_eq!(version_key(Some("16")), Some(16_000));
        assert!(version_key(Some("9.10")) > version_key(Some("9.9")));
        assert!(version_key(Some("16.0")) < version_key(Some("16.1")));
        assert!(
            version_key(Some("2.5")) < version_key(Some("12.1")),
            "text would say otherwise"
        );
        for bad in ["", "n/a", "16.x", "16.1.2.3x", "-1.0"] {
            assert_eq!(version_key(Some(bad)), None, "{bad}");
        }
        assert_eq!(version_key(None), None);
    }

    fn query(pairs: &[(&str, &str)]) -> DeviceQuery {
        DeviceQuery::from_params(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_query_string_reads_back_what_it_wrote_and_ignores_nonsense() {
        let q = query(&[
            ("q", "  iPhone\u{7}  "),
            ("state", "blocked"),
            ("reason", "DeviceRule"),
            ("os", "ios"),
            ("eas", "legacy"),
            ("stale", "90"),
            ("sort", "lastSync"),
            ("dir", "asc"),
            ("limit", "100"),
        ]);
        assert_eq!(q.filter.q.as_deref(), Some("iPhone"));
        assert_eq!(q.filter.state, Some(StateBucket::Blocked));
        assert_eq!(q.filter.os, Some(OsFamily::Ios));
        assert!(q.filter.legacy_eas);
        assert_eq!(q.filter.stale, Some(Staleness::Days(90)));
        assert_eq!(
            (q.sort, q.dir, q.limit),
            (DeviceSort::LastSync, SortDir::Asc, 100)
        );
        let pairs = q.params();
        let again = DeviceQuery::from_params(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        });
        assert_eq!(again, q);

        let bad = query(&[
            ("state", "Exploded"),
            ("limit", "-5"),
            ("stale", "-1"),
            ("sort", "nope"),
            ("reason", "x' OR 1=1"),
            ("os", "BeOS"),
        ]);
        assert_eq!(bad.filter, DeviceFilter::default());
        assert_eq!(
            (bad.sort, bad.dir, bad.limit),
            (DeviceSort::User, SortDir::Asc, 50)
        );
        let long = "x".repeat(10_000);
        assert_eq!(query(&[("q", &long)]).filter.q.map(|q| q.len()), Some(100));
    }

    #[test]
    fn times_sort_newest_first_unless_asked_otherwise() {
        assert_eq!(query(&[("sort", "firstSync")]).dir, SortDir::Desc);
        assert!(!query(&[("sort", "firstSync")]).params().is_empty());
        assert!(query(&[]).params().is_empty());
        assert_eq!(StateBucket::of("Unknown"), StateBucket::Other);
        assert_eq!(StateBucket::of("Quarantined"), StateBucket::Quarantined);
    }
}
