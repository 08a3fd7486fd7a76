//! The cmdlets the simulator knows. Each one is a [`Cmdlet`]: its canonical name, the parameter
//! names it binds, and a function that reads the tenant and returns one page of rendered rows.
//! Adding a cmdlet means adding a module and a line to [`ALL`].

mod mobile_device;
mod org_settings;

use serde::Serialize;

use super::params::Params;
use super::tenant::Tenant;
use super::wire::ExoError;

/// What a cmdlet is asked for: its bound parameters and the keyset window of the page.
pub(crate) struct Request<'a> {
    pub(crate) params: &'a Params,
    /// Return only rows whose key is greater than this (the previous page's last key).
    pub(crate) after: Option<u64>,
    /// Return at most this many rows.
    pub(crate) limit: usize,
}

/// One output object, already serialized, with its paging key (stable, increasing).
pub(crate) struct Row {
    pub(crate) key: u64,
    pub(crate) json: String,
}

impl Row {
    /// Serializes `object` (a flat property bag) into a row.
    pub(crate) fn new(key: u64, object: &impl Serialize) -> Result<Self, ExoError> {
        serde_json::to_string(object)
            .map(|json| Self { key, json })
            .map_err(|e| {
                ExoError::plain(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "System.InvalidOperationException",
                    format!("Could not serialize the output object: {e}"),
                )
            })
    }
}

/// A read-only cmdlet: runs under the tenant's read lock.
pub(crate) type ReadFn = fn(&Tenant, &Request<'_>) -> Result<Vec<Row>, ExoError>;

/// One cmdlet the simulator answers.
pub(crate) struct Cmdlet {
    pub(crate) name: &'static str,
    /// Declared parameters (common parameters are added by [`Params::bind`]).
    pub(crate) params: &'static [&'static str],
    pub(crate) run: ReadFn,
}

impl Cmdlet {
    /// Whether the cmdlet takes `ResultSize` (and so the "first page only" default applies).
    pub(crate) fn has_result_size(&self) -> bool {
        self.params.contains(&"ResultSize")
    }
}

/// Every cmdlet the simulator implements.
pub(crate) const ALL: &[Cmdlet] = &[org_settings::GET, mobile_device::GET];

/// The cmdlet called `name` (case-insensitive, as PowerShell).
pub(crate) fn find(name: &str) -> Option<&'static Cmdlet> {
    ALL.iter()
        .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found_in_any_case() {
        for c in ALL {
            assert_eq!(ALL.iter().filter(|o| o.name == c.name).count(), 1);
            assert!(find(&c.name.to_uppercase()).is_some());
        }
        assert!(find("Get-Foo").is_none());
    }
}
