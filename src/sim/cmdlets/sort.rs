//! `SortBy`: one property, ascending (`Name` or `Name asc`) or descending (`Name desc` or
//! `-Name`). Nulls sort first, text compares case-insensitively, ties keep the natural order.
//! Paging over a sorted result is by position (a change between pages may shift rows).

use std::cmp::Ordering;

use crate::sim::filter::{Kind, Prop};
use crate::sim::params::Params;
use crate::sim::wire::ExoError;

/// A parsed `SortBy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SortBy {
    pub(crate) property: &'static str,
    pub(crate) descending: bool,
}

impl SortBy {
    /// `SortBy` from `params`, checked against the sortable properties `known`.
    pub(crate) fn from_params(
        params: &Params,
        known: &[(&'static str, Kind)],
    ) -> Result<Option<Self>, ExoError> {
        let Some(text) = params
            .string("SortBy")?
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let (name, descending) = match text.split_once(char::is_whitespace) {
            Some((n, dir)) if dir.trim().eq_ignore_ascii_case("desc") => (n, true),
            Some((n, dir)) if dir.trim().eq_ignore_ascii_case("asc") => (n, false),
            Some(_) => return Err(unknown(text, known)),
            None => match text.strip_prefix('-') {
                Some(n) => (n, true),
                None => (text, false),
            },
        };
        known
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(property, _)| {
                Some(Self {
                    property,
                    descending,
                })
            })
            .ok_or_else(|| unknown(text, known))
    }

    /// Orders two property values in this sort's direction.
    pub(crate) fn order(&self, a: &Prop<'_>, b: &Prop<'_>) -> Ordering {
        let o = compare(a, b);
        if self.descending {
            o.reverse()
        } else {
            o
        }
    }
}

fn unknown(text: &str, known: &[(&'static str, Kind)]) -> ExoError {
    let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
    ExoError::parameter(&format!(
        "Cannot bind parameter 'SortBy'. \"{text}\" is not a property you can sort on. Use one of: {}, optionally followed by ' desc'.",
        names.join(", ")
    ))
}

fn text<'a>(p: &'a Prop<'_>) -> Option<&'a str> {
    match p {
        Prop::Text(s) => Some(s),
        Prop::Owned(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Nulls first; text case-insensitively; booleans false < true; dates in time order.
pub(crate) fn compare(a: &Prop<'_>, b: &Prop<'_>) -> Ordering {
    match (a, b) {
        (Prop::Null, Prop::Null) => Ordering::Equal,
        (Prop::Null, _) => Ordering::Less,
        (_, Prop::Null) => Ordering::Greater,
        (Prop::Bool(x), Prop::Bool(y)) => x.cmp(y),
        (Prop::Date(x), Prop::Date(y)) => x.cmp(y),
        _ => match (text(a), text(b)) {
            (Some(x), Some(y)) => x
                .bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(y.bytes().map(|c| c.to_ascii_lowercase())),
            _ => Ordering::Equal,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KNOWN: &[(&str, Kind)] = &[("DeviceType", Kind::Text), ("LastUpdateTime", Kind::Date)];

    fn parse(v: &str) -> Result<Option<SortBy>, ExoError> {
        let p = Params::bind(&["SortBy"], Some(&json!({ "SortBy": v }))).unwrap_or_default();
        SortBy::from_params(&p, KNOWN)
    }

    #[test]
    fn sort_by_takes_a_known_property_and_a_direction() {
        let asc = parse("devicetype").ok().flatten();
        assert_eq!(
            asc.map(|s| (s.property, s.descending)),
            Some(("DeviceType", false))
        );
        let desc = parse("LastUpdateTime desc").ok().flatten();
        assert_eq!(desc.map(|s| s.descending), Some(true));
        assert_eq!(
            parse("-DeviceType").ok().flatten().map(|s| s.descending),
            Some(true)
        );
        assert!(parse("Colour").is_err());
        assert!(parse("DeviceType sideways").is_err());
        assert_eq!(parse(" ").ok().flatten(), None);
    }

    #[test]
    fn nulls_sort_first_and_text_ignores_case() {
        assert_eq!(compare(&Prop::Null, &Prop::Text("a")), Ordering::Less);
        assert_eq!(
            compare(&Prop::Text("B"), &Prop::Owned("a".into())),
            Ordering::Greater
        );
        assert_eq!(
            compare(&Prop::Text("abc"), &Prop::Text("ABC")),
            Ordering::Equal
        );
    }
}
