//! [`SimConfig`]: what the simulated tenant looks like, from defaults and `EXO_SIM_*` variables.

use chrono::{DateTime, Utc};

use super::paging;

/// Demo tenant GUID used when none is configured.
pub const DEMO_TENANT_ID: &str = "3f6d2c1a-8b4e-4c7d-9a15-0e2b7f4c5d61";
/// Demo application (client) id used when none is configured.
pub const DEMO_CLIENT_ID: &str = "9c1b7e42-5d3a-4f60-8e29-b1a4c6d8e0f3";
/// Demo client secret (a simulator secret, safe to print).
pub const DEMO_CLIENT_SECRET: &str = "exo8Q~sim.DemoSecret-NotForProduction_0042";
/// Demo initial domain, also the organization name.
pub const DEMO_DOMAIN: &str = "contoso-demo.onmicrosoft.com";

/// Largest tenant `from_env` accepts (mailboxes or devices), to keep memory bounded.
pub const MAX_OBJECTS: usize = 1_000_000;

/// How the simulated tenant looks and behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of the tenant generator: same seed (and sizes, and `now`), same tenant.
    pub seed: u64,
    /// Number of user mailboxes.
    pub mailboxes: usize,
    /// Number of mobile devices (none when there are no mailboxes to own them).
    pub devices: usize,
    /// Tenant GUID, accepted in URLs.
    pub tenant_id: String,
    /// Initial domain, accepted in URLs instead of the GUID; users' UPNs end with it.
    pub tenant_domain: String,
    /// Organization name Exchange reports (in `OrganizationId` and DNs).
    pub organization: String,
    /// Application (client) id the token endpoint accepts.
    pub client_id: String,
    /// Client secret the token endpoint accepts.
    pub client_secret: String,
    /// Server-side page cap (1..=1000); `Prefer: odata.maxpagesize=n` picks smaller pages.
    pub max_page_size: usize,
    /// Lifetime of issued access tokens, in seconds.
    pub token_lifetime_secs: u64,
    /// Clock base for generated times; `None` means the current time when the tenant is built.
    pub now: Option<DateTime<Utc>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            mailboxes: 250,
            devices: 400,
            tenant_id: DEMO_TENANT_ID.to_owned(),
            tenant_domain: DEMO_DOMAIN.to_owned(),
            organization: DEMO_DOMAIN.to_owned(),
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            max_page_size: 1000,
            token_lifetime_secs: 3599,
            now: None,
        }
    }
}

/// A bad `EXO_SIM_*` value: which variable, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{setting} {message}")]
pub struct SimConfigError {
    /// The environment variable at fault.
    pub setting: &'static str,
    /// What is wrong with its value (without the variable's name).
    pub message: String,
}

impl SimConfig {
    /// Defaults overridden by `EXO_SIM_SEED`, `EXO_SIM_MAILBOXES`, `EXO_SIM_DEVICES` and
    /// `EXO_SIM_PAGE_SIZE` (empty values count as unset). The error names the bad variable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok()).map_err(|e| e.to_string())
    }

    /// [`SimConfig::from_env`] over any variable lookup (tests, layered configuration).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SimConfigError> {
        let mut config = Self::default();
        let read = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let fail =
            |setting: &'static str| move |message: String| SimConfigError { setting, message };
        if let Some(v) = read("EXO_SIM_SEED") {
            config.seed = v
                .parse()
                .map_err(|_| format!("must be a whole number from 0 to {}, got {v:?}", u64::MAX))
                .map_err(fail("EXO_SIM_SEED"))?;
        }
        if let Some(v) = read("EXO_SIM_MAILBOXES") {
            config.mailboxes = count(&v, 0, MAX_OBJECTS).map_err(fail("EXO_SIM_MAILBOXES"))?;
        }
        if let Some(v) = read("EXO_SIM_DEVICES") {
            config.devices = count(&v, 0, MAX_OBJECTS).map_err(fail("EXO_SIM_DEVICES"))?;
        }
        if let Some(v) = read("EXO_SIM_PAGE_SIZE") {
            config.max_page_size =
                count(&v, 1, paging::MAX_PAGE).map_err(fail("EXO_SIM_PAGE_SIZE"))?;
        }
        Ok(config)
    }
}

fn count(value: &str, min: usize, max: usize) -> Result<usize, String> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("must be a whole number from {min} to {max}, got {value:?}"))
}

/// Parses a count for `name` (an environment variable or a flag), within `min..=max`; the error
/// message names `name`.
pub fn parse_count(name: &str, value: &str, min: usize, max: usize) -> Result<usize, String> {
    count(value, min, max).map_err(|m| format!("{name} {m}"))
}
