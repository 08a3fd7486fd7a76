//! What the device pages show, as plain functions: labels of states, reasons and client types,
//! the addresses of a view (filters, sort, page) and its CSV, and the summary chart's segments.

use crate::app::paths::{DEVICES, DEVICES_CSV, EXCHANGE_ACCESS};
use crate::app::query::{encode, with_query};
use crate::model::{AccessChangeForm, DeviceFilter, DeviceQuery, DeviceSort, SortDir, StateBucket};

/// The word Intune uses for a state bucket.
pub fn bucket_label(bucket: StateBucket) -> &'static str {
    match bucket {
        StateBucket::Allowed => "Allowed",
        StateBucket::Blocked => "Blocked",
        StateBucket::Quarantined => "Quarantined",
        StateBucket::DeviceDiscovery => "Discovery",
        StateBucket::Other => "Unknown / other",
    }
}

/// Tailwind classes of a bucket: the chart's stroke, the legend's swatch, the badge.
pub fn bucket_stroke(bucket: StateBucket) -> &'static str {
    match bucket {
        StateBucket::Allowed => "stroke-emerald-600",
        StateBucket::Blocked => "stroke-red-600",
        StateBucket::Quarantined => "stroke-amber-500",
        StateBucket::DeviceDiscovery => "stroke-sky-600",
        StateBucket::Other => "stroke-slate-400",
    }
}

pub fn bucket_swatch(bucket: StateBucket) -> &'static str {
    match bucket {
        StateBucket::Allowed => "bg-emerald-600",
        StateBucket::Blocked => "bg-red-600",
        StateBucket::Quarantined => "bg-amber-500",
        StateBucket::DeviceDiscovery => "bg-sky-600",
        StateBucket::Other => "bg-slate-400",
    }
}

pub fn bucket_badge(bucket: StateBucket) -> &'static str {
    match bucket {
        StateBucket::Allowed => "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
        StateBucket::Blocked => "bg-red-50 text-red-800 ring-red-600/30",
        StateBucket::Quarantined => "bg-amber-50 text-amber-900 ring-amber-600/30",
        StateBucket::DeviceDiscovery => "bg-sky-50 text-sky-800 ring-sky-600/30",
        StateBucket::Other => "bg-slate-100 text-slate-700 ring-slate-500/30",
    }
}

/// A `DeviceAccessStateReason` in plain words; unknown reasons as sent.
pub fn reason_label(reason: &str) -> String {
    match reason {
        "Global" => "Organization default".into(),
        "Individual" => "Personal allow/block list".into(),
        "DeviceRule" => "Device access rule".into(),
        "Policy" => "Mailbox policy".into(),
        "Upgrade" => "Exchange upgrade".into(),
        "ExternallyManaged" => "Intune (managed)".into(),
        "ExternalCompliance" => "Intune compliance".into(),
        "ExternalEnrollment" => "Intune enrollment".into(),
        "" => "None given".into(),
        other => other.to_owned(),
    }
}

/// A client type as people know it.
pub fn client_label(client: &str) -> &str {
    match client {
        "EAS" => "Exchange ActiveSync",
        "Outlook" => "Outlook mobile",
        "REST" => "REST",
        "MOWA" => "Outlook on the web (mobile)",
        other => other,
    }
}

/// A column's heading and what it sorts by.
pub const COLUMNS: [(&str, DeviceSort); 8] = [
    ("User", DeviceSort::User),
    ("Device", DeviceSort::Name),
    ("Type and model", DeviceSort::Type),
    ("OS", DeviceSort::Os),
    ("Client", DeviceSort::Client),
    ("Access state", DeviceSort::State),
    ("Last successful sync", DeviceSort::LastSync),
    ("First sync", DeviceSort::FirstSync),
];

/// The query string of a view (filters, sort, size, position), as the server function takes it.
pub fn query_string(q: &DeviceQuery) -> String {
    let mut pairs = q.params();
    if let Some(a) = &q.after {
        pairs.push(("after", a.clone()));
    }
    if let Some(b) = &q.before {
        pairs.push(("before", b.clone()));
    }
    encode(&pairs)
}

/// The address of a view.
pub fn list_href(q: &DeviceQuery) -> String {
    with_query(DEVICES, &query_string(q))
}

/// The list with only `filter` (the default sort and size): readiness and chart links.
pub fn filter_href(filter: &DeviceFilter) -> String {
    with_query(DEVICES, &encode(&filter.params()))
}

/// The device list of the devices a previewed change would move or grandfather.
pub fn change_devices_href(form: &AccessChangeForm) -> String {
    with_query(DEVICES, &encode(&form.params()))
}

/// The Exchange access page showing the preview of `form` again.
pub fn preview_href(form: &AccessChangeForm) -> String {
    with_query(EXCHANGE_ACCESS, &encode(&form.params()))
}

/// The CSV of a view's filter, in its sort (all pages).
pub fn csv_href(q: &DeviceQuery) -> String {
    let mut pairs = q.filter.params();
    if q.sort != DeviceSort::default() || q.dir != q.sort.natural_dir() {
        pairs.push(("sort", q.sort.as_str().to_owned()));
        pairs.push(("dir", q.dir.as_str().to_owned()));
    }
    with_query(DEVICES_CSV, &encode(&pairs))
}

/// The CSV of `filter` alone.
pub fn filter_csv_href(filter: &DeviceFilter) -> String {
    with_query(DEVICES_CSV, &encode(&filter.params()))
}

/// The first page of the view sorted by `sort`: the other direction when it already is.
pub fn sort_href(q: &DeviceQuery, sort: DeviceSort) -> String {
    let dir = if q.sort == sort {
        q.dir.flip()
    } else {
        sort.natural_dir()
    };
    list_href(&DeviceQuery {
        sort,
        dir,
        ..q.first_page()
    })
}

/// The view with the state filter set to `bucket` (the other filters kept), first page.
pub fn state_href(q: &DeviceQuery, bucket: Option<StateBucket>) -> String {
    let mut v = q.first_page();
    v.filter.state = bucket;
    list_href(&v)
}

/// `aria-sort` of a column.
pub fn aria_sort(q: &DeviceQuery, sort: DeviceSort) -> &'static str {
    match (q.sort == sort, q.dir) {
        (false, _) => "none",
        (true, SortDir::Asc) => "ascending",
        (true, SortDir::Desc) => "descending",
    }
}

/// The donut's radius and circumference (viewBox 0 0 160 160, centre 80,80).
pub const DONUT_RADIUS: f64 = 60.0;
pub fn donut_circumference() -> f64 {
    2.0 * std::f64::consts::PI * DONUT_RADIUS
}

/// One arc of the donut: its bucket, count, length along the circle and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Arc {
    pub bucket: StateBucket,
    pub count: u64,
    pub length: f64,
    pub start: f64,
}

/// The arcs of the non-empty buckets, in order, filling the circle.
pub fn donut(counts: &[(StateBucket, u64)]) -> Vec<Arc> {
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return Vec::new();
    }
    let c = donut_circumference();
    let mut start = 0.0_f64;
    let mut arcs = Vec::new();
    for (bucket, count) in counts.iter().copied().filter(|(_, n)| *n > 0) {
        let length = c * count as f64 / total as f64;
        arcs.push(Arc {
            bucket,
            count,
            length: (length * 100.0).round() / 100.0,
            start: (start * 100.0).round() / 100.0,
        });
        start += length;
    }
    arcs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OsFamily, Staleness};

    #[test]
    fn the_arcs_fill_the_circle_in_order_and_skip_empty_states() {
        let arcs = donut(&[
            (StateBucket::Allowed, 3),
            (StateBucket::Blocked, 0),
            (StateBucket::Quarantined, 1),
        ]);
        assert_eq!(arcs.len(), 2);
        let c = donut_circumference();
        assert!((arcs[0].length - c * 0.75).abs() < 0.01);
        assert!((arcs[1].start - c * 0.75).abs() < 0.01);
        assert!(donut(&[(StateBucket::Allowed, 0)]).is_empty());
    }

    #[test]
    fn links_keep_the_view_and_sorting_twice_turns_the_order_round() {
        let q = DeviceQuery {
            filter: DeviceFilter {
                os: Some(OsFamily::Ios),
                stale: Some(Staleness::Days(30)),
                q: Some("a b".into()),
                ..DeviceFilter::default()
            },
            after: Some("abc".into()),
            limit: 50,
            ..DeviceQuery::default()
        };
        assert_eq!(
            list_href(&q),
            format!("{DEVICES}?q=a%20b&os=iOS&stale=30&after=abc")
        );
        let by_user = sort_href(&q, DeviceSort::User);
        assert_eq!(
            by_user,
            format!("{DEVICES}?q=a%20b&os=iOS&stale=30&sort=user&dir=desc")
        );
        assert_eq!(
            sort_href(&q, DeviceSort::LastSync),
            format!("{DEVICES}?q=a%20b&os=iOS&stale=30&sort=lastSync&dir=desc")
        );
        assert_eq!(
            state_href(&q, Some(StateBucket::Blocked)),
            format!("{DEVICES}?q=a%20b&state=Blocked&os=iOS&stale=30")
        );
        assert_eq!(
            csv_href(&q),
            format!("{DEVICES_CSV}?q=a%20b&os=iOS&stale=30")
        );
        assert_eq!(aria_sort(&q, DeviceSort::User), "ascending");
        assert_eq!(aria_sort(&q, DeviceSort::Os), "none");
        assert_eq!(reason_label("DeviceRule"), "Device access rule");
        assert_eq!(reason_label("SomethingNew"), "SomethingNew");
    }
}
