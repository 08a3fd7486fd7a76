//! The cmdlets the simulator knows. Each one is a [`Cmdlet`]: its canonical name, the parameter
//! names it binds, and a function that returns one page of rendered rows. Read cmdlets run under
//! the tenant's read lock, write cmdlets (`Set-`, `New-`, `Remove-`) under its write lock, so a
//! change is all-or-nothing as seen by concurrent readers. Adding a cmdlet means adding a module
//! and a line to [`ALL`].

mod access_rule;
mod cas_mailbox;
mod device_class;
mod device_stats;
mod errors;
mod mobile_device;
mod org_settings;
mod policy;
mod policy_settings;
mod sort;
mod wipe;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::params::Params;
use super::tenant::Tenant;
use super::wire::ExoError;

/// What a cmdlet is asked for: its bound parameters, the keyset window of the page and the clock.
pub(crate) struct Request<'a> {
    pub(crate) params: &'a Params,
    /// Return only rows whose key is greater than this (the previous page's last key).
    pub(crate) after: Option<u64>,
    /// Return at most this many rows.
    pub(crate) limit: usize,
    /// The simulator clock's reading for this call (sync times, `WhenChanged` of changes).
    pub(crate) now: DateTime<Utc>,
    /// Who calls: the signed-in admin's UPN for delegated tokens, else the application (client)
    /// id (`LastDeviceWipeRequestor` of a wipe).
    pub(crate) caller: &'a str,
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

/// A cmdlet that changes the tenant: runs under its write lock, once per call (never for a
/// `$skiptoken` page).
pub(crate) type WriteFn = fn(&mut Tenant, &Request<'_>) -> Result<Vec<Row>, ExoError>;

/// How a cmdlet runs.
#[derive(Clone, Copy)]
pub(crate) enum Run {
    Read(ReadFn),
    Write(WriteFn),
}

/// One cmdlet the simulator answers.
pub(crate) struct Cmdlet {
    pub(crate) name: &'static str,
    /// Declared parameters (common parameters are added by [`Params::bind`]).
    pub(crate) params: &'static [&'static str],
    pub(crate) run: Run,
}

impl Cmdlet {
    /// Whether the cmdlet takes `ResultSize` (and so the "first page only" default applies).
    pub(crate) fn has_result_size(&self) -> bool {
        self.params.contains(&"ResultSize")
    }
}

/// Every cmdlet the simulator implements: the 13 the connector requires plus the four optional
/// ones of the write side (spec §9): Get-CASMailbox, Set-CASMailbox, Clear-MobileDevice and
/// Remove-MobileDevice.
pub(crate) const ALL: &[Cmdlet] = &[
    org_settings::GET,
    org_settings::SET,
    policy::GET,
    policy::NEW,
    policy::SET,
    policy::REMOVE,
    access_rule::GET,
    access_rule::NEW,
    access_rule::SET,
    access_rule::REMOVE,
    device_stats::GET,
    mobile_device::GET,
    mobile_device::REMOVE,
    device_class::GET,
    cas_mailbox::GET,
    cas_mailbox::SET,
    wipe::CLEAR,
];

/// The cmdlet called `name` (case-insensitive, as PowerShell).
pub(crate) fn find(name: &str) -> Option<&'static Cmdlet> {
    ALL.iter()
        .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
}

/// Rows for a small, already ordered collection: keys are 1-based positions.
pub(crate) fn positional<T>(
    req: &Request<'_>,
    items: impl IntoIterator<Item = T>,
    render: impl Fn(u64, T) -> Result<Row, ExoError>,
) -> Result<Vec<Row>, ExoError> {
    let after = req.after.unwrap_or(0);
    items
        .into_iter()
        .zip(1u64..)
        .filter(|(_, key)| *key > after)
        .take(req.limit)
        .map(|(item, key)| render(key, item))
        .collect()
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
        assert_eq!(ALL.len(), 17);
    }

    #[test]
    fn only_get_cmdlets_are_reads() {
        for c in ALL {
            assert_eq!(
                matches!(c.run, Run::Read(_)),
                c.name.starts_with("Get-"),
                "{}",
                c.name
            );
            if !c.name.starts_with("Get-") {
                assert!(
                    c.params.contains(&"Confirm") && c.params.contains(&"WhatIf"),
                    "{}",
                    c.name
                );
            }
        }
    }
}
