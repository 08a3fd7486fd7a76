//! The sync history's address: filters, cursor and page size in the query string, so that
//! filtering and paging are plain links and GET forms (they work without JavaScript).

use crate::app::format::parse_param;
use crate::app::layout::HISTORY_PATH;
use crate::model::HistoryFilter;

/// The CSV export of the (filtered) history.
pub const HISTORY_CSV_PATH: &str = "/conditional-access/exchange-connector/sync-history.csv";

/// What the history page's query string asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub filter: HistoryFilter,
    /// `next_cursor` of the page before; `None` for the newest runs.
    pub cursor: Option<String>,
    /// Runs per page when not the default.
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// Reads `status`, `kind`, `trigger`, `cursor` and `limit`; unknown or empty values are
    /// ignored rather than refused.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let value = |key: &str| get(key).filter(|v| !v.is_empty());
        Self {
            filter: HistoryFilter {
                status: value("status").and_then(|v| parse_param(&v)),
                kind: value("kind").and_then(|v| parse_param(&v)),
                trigger: value("trigger").and_then(|v| parse_param(&v)),
            },
            cursor: value("cursor"),
            limit: value("limit").and_then(|v| v.parse().ok()),
        }
    }

    /// The filter (and page size) as `key=value&…`, without the cursor.
    pub fn filter_query(&self) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        let f = &self.filter;
        if let Some(s) = f.status {
            q.push(("status", s.as_str().to_owned()));
        }
        if let Some(k) = f.kind {
            q.push(("kind", k.as_str().to_owned()));
        }
        if let Some(t) = f.trigger {
            q.push(("trigger", t.as_str().to_owned()));
        }
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        encode(&q)
    }

    /// The page of runs after `cursor`, with the same filters.
    pub fn older_href(&self, cursor: &str) -> String {
        let base = self.filter_query();
        let cursor = format!("cursor={}", escape(cursor));
        if base.is_empty() {
            format!("{HISTORY_PATH}?{cursor}")
        } else {
            format!("{HISTORY_PATH}?{base}&{cursor}")
        }
    }

    /// The newest runs with the same filters.
    pub fn newest_href(&self) -> String {
        with_query(HISTORY_PATH, &self.filter_query())
    }

    /// The CSV export of the filtered list (all pages).
    pub fn csv_href(&self) -> String {
        let mut only_filter = self.clone();
        only_filter.limit = None;
        with_query(HISTORY_CSV_PATH, &only_filter.filter_query())
    }

    /// Whether any filter is set.
    pub fn is_filtered(&self) -> bool {
        self.filter != HistoryFilter::default()
    }
}

/// `key=value&…`, each value percent-encoded.
pub(crate) fn encode(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `path?query`, or `path` alone when there is no query.
pub(crate) fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986); the same on the server and
/// in the browser.
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SyncKind, SyncStatus, SyncTrigger};

    fn query(pairs: &[(&str, &str)]) -> HistoryQuery {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HistoryQuery::from_params(|key| {
            pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn filters_come_from_the_query_string_and_bad_values_are_ignored() {
        let q = query(&[
            ("status", "failed"),
            ("kind", "fullSync"),
            ("trigger", ""),
            ("limit", "x"),
        ]);
        assert_eq!(q.filter.status, Some(SyncStatus::Failed));
        assert_eq!(q.filter.kind, Some(SyncKind::FullSync));
        assert_eq!(q.filter.trigger, None);
        assert_eq!(q.limit, None);
        assert!(q.is_filtered());
        assert!(!query(&[("status", "exploded")]).is_filtered());
    }

    #[test]
    fn paging_and_export_links_keep_the_filters() {
        let q = query(&[("trigger", "manual"), ("limit", "2"), ("cursor", "old")]);
        assert_eq!(q.filter.trigger, Some(SyncTrigger::Manual));
        assert_eq!(
            q.older_href("2026-11-24T10:00:00Z|a b"),
            format!(
                "{HISTORY_PATH}?trigger=manual&limit=2&cursor=2026-11-24T10%3A00%3A00Z%7Ca%20b"
            )
        );
        assert_eq!(
            q.newest_href(),
            format!("{HISTORY_PATH}?trigger=manual&limit=2")
        );
        assert_eq!(q.csv_href(), format!("{HISTORY_CSV_PATH}?trigger=manual"));
        let all = HistoryQuery::default();
        assert_eq!(all.csv_href(), HISTORY_CSV_PATH);
        assert_eq!(all.older_href("c"), format!("{HISTORY_PATH}?cursor=c"));
    }
}
