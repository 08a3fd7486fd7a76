//! [`SimConfig`]: what the simulated tenant looks like, from defaults and `EXO_SIM_*` variables.

use chrono::{DateTime, Utc};

use super::clock::{ChurnRates, ClockMode};
use super::faults::{parse_fault_rules, FaultRule, RateLimit};
use super::paging;
use super::rbac::Rbac;

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
    /// PEM texts of the certificates registered for the app (client assertions must be signed
    /// with one of them); each text may hold several certificates.
    pub client_certificates: Vec<String>,
    /// UPN of the simulated admin who signs in; `None` means `admin@<tenant_domain>`.
    pub admin_upn: Option<String>,
    /// Skip the consent page: the authorize endpoint redirects back with a code at once.
    pub auto_consent: bool,
    /// Redirect URIs trusted besides any `http://127.0.0.1:*` / `http://localhost:*` URL.
    pub redirect_uris: Vec<String>,
    /// Fault-injection rules in force from the start (see `sim::faults`).
    pub faults: Vec<FaultRule>,
    /// Normal-traffic budget of InvokeCommand, if any.
    pub rate_limit: Option<RateLimit>,
    /// Whether the simulated clock follows wall time (default) or stands still until advanced.
    pub clock: ClockMode,
    /// Churn per simulated hour; `None` scales with the tenant ([`ChurnRates::for_devices`]).
    pub churn: Option<ChurnRates>,
    /// Cmdlets denied per application or user from the start (see [`Rbac`]).
    pub deny: Rbac,
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
            client_certificates: Vec::new(),
            admin_upn: None,
            auto_consent: false,
            redirect_uris: Vec::new(),
            faults: Vec::new(),
            rate_limit: None,
            clock: ClockMode::Wall,
            churn: None,
            deny: Rbac::default(),
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
    /// Defaults overridden by `EXO_SIM_SEED`, `EXO_SIM_MAILBOXES`, `EXO_SIM_DEVICES`,
    /// `EXO_SIM_PAGE_SIZE`, `EXO_SIM_CLIENT_CERTIFICATE` (PEM file paths, separated like `PATH`),
    /// `EXO_SIM_ADMIN_UPN`, `EXO_SIM_AUTO_CONSENT` (`1`/`true`/`yes` or `0`/`false`/`no`),
    /// `EXO_SIM_REDIRECT_URIS` (comma- or space-separated), `EXO_SIM_FAULTS` (`;`-separated
    /// rules), `EXO_SIM_RATE_LIMIT` (`N/WINDOW`), `EXO_SIM_CLOCK` (`wall`/`frozen`),
    /// `EXO_SIM_CHURN` (`auto`, `off` or `add=N,change=N,remove=N` per hour) and `EXO_SIM_DENY`
    /// (RBAC deny list, see [`Rbac::parse`]); empty values count as unset. The error names the
    /// bad variable.
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
        if let Some(v) = read("EXO_SIM_CLIENT_CERTIFICATE") {
            for path in std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()) {
                let pem = load_client_certificate(&path.to_string_lossy())
                    .map_err(fail("EXO_SIM_CLIENT_CERTIFICATE"))?;
                config.client_certificates.push(pem);
            }
        }
        if let Some(v) = read("EXO_SIM_ADMIN_UPN") {
            config.admin_upn = Some(check_upn(&v).map_err(fail("EXO_SIM_ADMIN_UPN"))?);
        }
        if let Some(v) = read("EXO_SIM_AUTO_CONSENT") {
            config.auto_consent = parse_flag(&v).map_err(fail("EXO_SIM_AUTO_CONSENT"))?;
        }
        if let Some(v) = read("EXO_SIM_REDIRECT_URIS") {
            config.redirect_uris = v
                .split([',', ' '])
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(|u| check_redirect_uri(u).map(|()| u.to_owned()))
                .collect::<Result<_, _>>()
                .map_err(fail("EXO_SIM_REDIRECT_URIS"))?;
        }
        if let Some(v) = read("EXO_SIM_FAULTS") {
            config.faults = parse_fault_rules(&v)
                .map_err(|e| e.to_string())
                .map_err(fail("EXO_SIM_FAULTS"))?;
        }
        if let Some(v) = read("EXO_SIM_RATE_LIMIT") {
            config.rate_limit = Some(
                v.parse::<RateLimit>()
                    .map_err(|e| e.to_string())
                    .map_err(fail("EXO_SIM_RATE_LIMIT"))?,
            );
        }
        if let Some(v) = read("EXO_SIM_CLOCK") {
            config.clock = ClockMode::parse(&v).map_err(fail("EXO_SIM_CLOCK"))?;
        }
        if let Some(v) = read("EXO_SIM_CHURN") {
            config.churn = ChurnRates::parse(&v).map_err(fail("EXO_SIM_CHURN"))?;
        }
        if let Some(v) = read("EXO_SIM_DENY") {
            config.deny = Rbac::parse(&v).map_err(fail("EXO_SIM_DENY"))?;
        }
        Ok(config)
    }

    /// The simulated admin's UPN: `admin_upn`, else `admin@<tenant_domain>`.
    pub fn admin_upn(&self) -> String {
        self.admin_upn
            .clone()
            .unwrap_or_else(|| format!("admin@{}", self.tenant_domain))
    }
}

/// Reads a PEM file of one or more RSA certificates to register for client assertions; the error
/// says what is wrong (for `EXO_SIM_CLIENT_CERTIFICATE` and `--client-certificate`).
pub fn load_client_certificate(path: &str) -> Result<String, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path:?}: {e}"))?;
    super::identity::check_certificate_pem(&pem).map_err(|e| format!("file {path:?} {e}"))?;
    Ok(pem)
}

/// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` (any case).
pub fn parse_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "must be 1 or 0 (true/false, yes/no), got {value:?}"
        )),
    }
}

fn check_upn(value: &str) -> Result<String, String> {
    let v = value.trim();
    match v.split_once('@') {
        Some((user, domain))
            if !user.is_empty() && domain.contains('.') && !v.contains(char::is_whitespace) =>
        {
            Ok(v.to_owned())
        }
        _ => Err(format!(
            "must be an address such as admin@contoso.onmicrosoft.com, got {value:?}"
        )),
    }
}

/// A redirect URI must be an absolute URL without a fragment.
pub fn check_redirect_uri(value: &str) -> Result<(), String> {
    match url::Url::parse(value) {
        Ok(u) if u.fragment().is_none() && u.has_host() => Ok(()),
        _ => Err(format!(
            "must hold absolute URLs without a #fragment, got {value:?}"
        )),
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
