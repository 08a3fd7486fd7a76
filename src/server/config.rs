//! One typed configuration, read once at start from the environment and, when
//! `EXCHANGE_CONNECTOR_CONFIG` names one, a TOML file with the same keys (the environment wins).
//! A wrong or missing setting fails the start with a message that names the setting.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

pub use super::exchange::{CertificateError, ClientCertificate};
use crate::sim::SimConfig;
pub use oidc::{OidcIssuer, OidcSettings};
pub use security::SecuritySettings;
pub use sync::{SyncSettings, HELD_REMOVAL_MIN};

mod oidc;
mod security;
mod sync;

/// Default Exchange Online admin API base (commercial cloud).
pub const DEFAULT_ADMIN_API_URL: &str = "https://outlook.office365.com/adminapi/beta";
/// Default Microsoft identity platform authority.
pub const DEFAULT_AUTHORITY_URL: &str = "https://login.microsoftonline.com";
/// Default SQLite database, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/exchange-connector.db";
/// The variable that names an optional configuration file.
pub const CONFIG_FILE_VAR: &str = "EXCHANGE_CONNECTOR_CONFIG";

/// Every key the configuration reads (the file may hold only these).
const KNOWN_KEYS: &[&str] = &[
    "DATABASE_URL",
    "EXO_ADMIN_API_URL",
    "EXO_AUTHORITY_URL",
    "EXO_TENANT_ID",
    "EXO_CLIENT_ID",
    "EXO_CLIENT_SECRET",
    "EXO_CLIENT_CERTIFICATE",
    "EXO_CLIENT_KEY",
    "EXO_AUTH_MODE",
    "EXO_PAGE_SIZE",
    "EXO_REQUEST_TIMEOUT_SECS",
    "EXO_CALL_DEADLINE_SECS",
    "EXO_MAX_RETRIES",
    "EXO_RETRY_BASE_MS",
    "SYNC_CONCURRENCY",
    "SYNC_QUICK_INTERVAL_MINS",
    "SYNC_FULL_AT",
    "SYNC_JITTER_SECS",
    "SYNC_SCHEDULE",
    "SYNC_MAX_REMOVAL_PERCENT",
    "HEALTH_WARNING_HOURS",
    "HEALTH_UNHEALTHY_HOURS",
    "PUBLIC_URL",
    "SESSION_IDLE_MINUTES",
    "SESSION_LIFETIME_HOURS",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "SIGN_IN_MAX_FAILURES",
    "SIGN_IN_WINDOW_MINUTES",
    "TRUSTED_PROXIES",
    "METRICS_TOKEN",
    "OIDC_ISSUER_URL",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_PROVIDER_NAME",
];

/// The whole server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://path` (file created on first run).
    pub database_url: String,
    /// Which Exchange Online the connector talks to.
    pub exchange: ExchangeTarget,
    /// Client behaviour shared by both targets.
    pub client: ClientSettings,
    /// Sync engine, schedule and health thresholds.
    pub sync: SyncSettings,
    /// Sign-in, sessions and the key of stored secrets.
    pub security: SecuritySettings,
    /// `EXO_AUTH_MODE` when the embedded simulator is the Exchange (with a real tenant it is
    /// part of [`ExchangeSettings`]).
    pub simulated_auth_mode: AuthMode,
}

/// The Exchange Online the connector talks to.
#[derive(Clone, Debug)]
pub enum ExchangeTarget {
    /// The embedded simulator (the default when `EXO_TENANT_ID` is not set): a demo tenant
    /// started in-process on a loopback port.
    Simulator(SimConfig),
    /// A real (or standalone simulated) Exchange Online organization.
    Remote(ExchangeSettings),
}

/// Whose identity the connector uses towards Exchange Online (`EXO_AUTH_MODE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthMode {
    /// `app`: the application's own identity (client credentials); keeps working after the
    /// admin who set it up leaves.
    #[default]
    App,
    /// `delegated`: the admin who set the connector up (authorization code with PKCE, then a
    /// refresh token).
    Delegated,
}

/// How the application proves its identity to the token endpoint.
#[derive(Clone, Debug)]
pub enum Credential {
    /// `EXO_CLIENT_SECRET`.
    Secret(SecretString),
    /// `EXO_CLIENT_CERTIFICATE` + `EXO_CLIENT_KEY`: a signed JWT client assertion.
    Certificate(ClientCertificate),
    /// No credential: a public client (delegated mode only).
    None,
}

/// How to reach and authenticate to an Exchange Online organization.
#[derive(Clone, Debug)]
pub struct ExchangeSettings {
    /// `EXO_ADMIN_API_URL`, e.g. `https://outlook.office365.com/adminapi/beta`.
    pub admin_api_url: Url,
    /// `EXO_AUTHORITY_URL`, e.g. `https://login.microsoftonline.com`.
    pub authority_url: Url,
    /// `EXO_TENANT_ID`: tenant GUID or verified domain.
    pub tenant_id: String,
    /// `EXO_CLIENT_ID`: the application (client) id.
    pub client_id: String,
    /// The application's credential; never logged, never sent to the browser.
    pub credential: Credential,
    /// `EXO_AUTH_MODE`.
    pub auth_mode: AuthMode,
}

impl ExchangeSettings {
    /// App-only settings with a client secret.
    pub fn with_secret(
        admin_api_url: Url,
        authority_url: Url,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self {
            admin_api_url,
            authority_url,
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            credential: Credential::Secret(SecretString::from(secret.into())),
            auth_mode: AuthMode::App,
        }
    }
}

impl ExchangeSettings {
    /// App-only settings for a running simulator, with its demo application and secret.
    pub fn for_simulator(sim: &crate::sim::RunningSimulator) -> Result<Self, url::ParseError> {
        let c = sim.config();
        Ok(Self::with_secret(
            Url::parse(&sim.admin_api_url())?,
            Url::parse(&sim.authority_url())?,
            c.tenant_id.clone(),
            c.client_id.clone(),
            c.client_secret.clone(),
        ))
    }
}

/// Exchange client behaviour.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// `EXO_PAGE_SIZE`: `Prefer: odata.maxpagesize`, 1 to 1000.
    pub page_size: u32,
    /// `EXO_REQUEST_TIMEOUT_SECS`: per HTTP request.
    pub request_timeout: Duration,
    /// `EXO_CALL_DEADLINE_SECS`: time the client may spend on one logical cmdlet call (all its
    /// pages, retries and waits; not the time the caller spends between pages).
    pub call_deadline: Duration,
    /// `EXO_MAX_RETRIES`: retries of one request (spec §5: 5).
    pub max_retries: u32,
    /// `EXO_RETRY_BASE_MS`: first back-off step for 503/504 and transient errors (spec §5:
    /// 2 s, doubled each retry, with jitter).
    pub retry_base: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            page_size: 1000,
            request_timeout: Duration::from_secs(60),
            call_deadline: Duration::from_secs(600),
            max_retries: 5,
            retry_base: Duration::from_secs(2),
        }
    }
}

/// A setting that is missing or malformed; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {setting}: {message}")]
pub struct ConfigError {
    /// The environment variable (or file key) at fault.
    pub setting: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

/// A whole number within `range`, or an error naming `setting`.
fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    setting: &'static str,
    raw: &str,
    min: T,
    max: T,
    unit: &str,
) -> Result<T, ConfigError> {
    raw.trim()
        .parse::<T>()
        .ok()
        .filter(|n| *n >= min && *n <= max)
        .ok_or_else(|| {
            bad(
                setting,
                format!("must be a whole number{unit} from {min} to {max}, got {raw:?}"),
            )
        })
}

impl Config {
    /// Reads the configuration from the process environment, plus the file named by
    /// `EXCHANGE_CONNECTOR_CONFIG` when set (the environment wins over the file).
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = match std::env::var(CONFIG_FILE_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(path) => read_file(Path::new(path.trim()))?,
            None => HashMap::new(),
        };
        Self::from_lookup(|key| std::env::var(key).ok().or_else(|| file.get(key).cloned()))
    }

    /// Reads the configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !database_url.starts_with("sqlite:") {
            return Err(bad(
                "DATABASE_URL",
                format!(
                    "only sqlite: URLs are supported for now (got a URL starting with {:?})",
                    database_url.split(':').next().unwrap_or_default()
                ),
            ));
        }

        let mut client = ClientSettings::default();
        if let Some(raw) = get("EXO_PAGE_SIZE") {
            client.page_size = number("EXO_PAGE_SIZE", &raw, 1, 1000, "")?;
        }
        if let Some(raw) = get("EXO_REQUEST_TIMEOUT_SECS") {
            client.request_timeout = Duration::from_secs(number(
                "EXO_REQUEST_TIMEOUT_SECS",
                &raw,
                1,
                900,
                " of seconds",
            )?);
        }
        if let Some(raw) = get("EXO_CALL_DEADLINE_SECS") {
            client.call_deadline = Duration::from_secs(number(
                "EXO_CALL_DEADLINE_SECS",
                &raw,
                1,
                86_400,
                " of seconds",
            )?);
        }
        if let Some(raw) = get("EXO_MAX_RETRIES") {
            client.max_retries = number("EXO_MAX_RETRIES", &raw, 0, 10, "")?;
        }
        if let Some(raw) = get("EXO_RETRY_BASE_MS") {
            client.retry_base = Duration::from_millis(number(
                "EXO_RETRY_BASE_MS",
                &raw,
                1,
                60_000,
                " of milliseconds",
            )?);
        }

        let exchange = match get("EXO_TENANT_ID") {
            None => ExchangeTarget::Simulator(
                SimConfig::from_lookup(get).map_err(|e| bad(e.setting, e.message))?,
            ),
            Some(tenant_id) => ExchangeTarget::Remote(remote(&get, tenant_id.trim())?),
        };

        let security = SecuritySettings::from_lookup(&get)?;
        let simulator_sign_in = security
            .oidc
            .as_ref()
            .is_some_and(|o| o.issuer == OidcIssuer::Simulator);
        if simulator_sign_in && matches!(exchange, ExchangeTarget::Remote(_)) {
            return Err(bad(
                "OIDC_ISSUER_URL",
                "\"simulator\" signs in with the embedded simulator, which does not run when \
                 EXO_TENANT_ID is set: give your tenant's issuer URL",
            ));
        }

        Ok(Self {
            database_url,
            exchange,
            client,
            sync: SyncSettings::from_lookup(&get)?,
            security,
            simulated_auth_mode: auth_mode(&get)?,
        })
    }
}

/// `EXO_AUTH_MODE`: `app` (default) or `delegated`.
fn auth_mode(get: &impl Fn(&str) -> Option<String>) -> Result<AuthMode, ConfigError> {
    match get("EXO_AUTH_MODE").map(|m| m.trim().to_ascii_lowercase()) {
        None => Ok(AuthMode::App),
        Some(m) if m == "app" => Ok(AuthMode::App),
        Some(m) if m == "delegated" => Ok(AuthMode::Delegated),
        Some(m) => Err(bad(
            "EXO_AUTH_MODE",
            format!("must be \"app\" or \"delegated\", got {m:?}"),
        )),
    }
}

fn remote(
    get: &impl Fn(&str) -> Option<String>,
    tenant_id: &str,
) -> Result<ExchangeSettings, ConfigError> {
    let auth_mode = auth_mode(get)?;
    let client_id = get("EXO_CLIENT_ID")
        .ok_or_else(|| bad("EXO_CLIENT_ID", "is required when EXO_TENANT_ID is set"))?;
    let secret = get("EXO_CLIENT_SECRET");
    let certificate = get("EXO_CLIENT_CERTIFICATE");
    let key = get("EXO_CLIENT_KEY");
    let credential = match (secret, certificate, key) {
        (Some(_), Some(_), _) => {
            return Err(bad(
                "EXO_CLIENT_CERTIFICATE",
                "set either EXO_CLIENT_SECRET or EXO_CLIENT_CERTIFICATE with EXO_CLIENT_KEY, not both",
            ))
        }
        (Some(secret), None, _) => Credential::Secret(SecretString::from(secret)),
        (None, Some(_), None) => {
            return Err(bad(
                "EXO_CLIENT_KEY",
                "is required with EXO_CLIENT_CERTIFICATE (the PEM file of its private key)",
            ))
        }
        (None, None, Some(_)) => {
            return Err(bad(
                "EXO_CLIENT_CERTIFICATE",
                "is required with EXO_CLIENT_KEY (the PEM file of the certificate)",
            ))
        }
        (None, Some(cert), Some(key)) => Credential::Certificate(load_certificate(&cert, &key)?),
        (None, None, None) if auth_mode == AuthMode::Delegated => Credential::None,
        (None, None, None) => {
            return Err(bad(
                "EXO_CLIENT_SECRET",
                "is required when EXO_TENANT_ID is set (or use EXO_CLIENT_CERTIFICATE and EXO_CLIENT_KEY)",
            ))
        }
    };
    Ok(ExchangeSettings {
        admin_api_url: parse_url(
            "EXO_ADMIN_API_URL",
            &get("EXO_ADMIN_API_URL").unwrap_or_else(|| DEFAULT_ADMIN_API_URL.into()),
        )?,
        authority_url: parse_url(
            "EXO_AUTHORITY_URL",
            &get("EXO_AUTHORITY_URL").unwrap_or_else(|| DEFAULT_AUTHORITY_URL.into()),
        )?,
        tenant_id: tenant_id.to_owned(),
        client_id: client_id.trim().to_owned(),
        credential,
        auth_mode,
    })
}

fn load_certificate(cert_path: &str, key_path: &str) -> Result<ClientCertificate, ConfigError> {
    let cert = std::fs::read(cert_path.trim()).map_err(|e| {
        bad(
            "EXO_CLIENT_CERTIFICATE",
            format!("cannot read {cert_path:?}: {e}"),
        )
    })?;
    let key = std::fs::read(key_path.trim())
        .map_err(|e| bad("EXO_CLIENT_KEY", format!("cannot read {key_path:?}: {e}")))?;
    ClientCertificate::from_pem(&cert, &key).map_err(|e: CertificateError| {
        let setting = if e.is_key_problem() {
            "EXO_CLIENT_KEY"
        } else {
            "EXO_CLIENT_CERTIFICATE"
        };
        bad(setting, e.to_string())
    })
}

/// Reads a flat TOML file of `KEY = "value"` pairs (numbers and booleans allowed). Unknown keys
/// are refused so that a typo does not silently fall back to a default.
pub fn read_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(
            CONFIG_FILE_VAR,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    parse_file(&text).map_err(|m| bad(CONFIG_FILE_VAR, format!("{}: {m}", path.display())))
}

fn parse_file(text: &str) -> Result<HashMap<String, String>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    let mut out = HashMap::new();
    for (key, value) in table {
        let known = KNOWN_KEYS.contains(&key.as_str()) || key.starts_with("EXO_SIM_");
        if !known {
            return Err(format!("unknown key {key:?}"));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "{key} must be a string or a number, got {}",
                    other.type_str()
                ))
            }
        };
        out.insert(key, text);
    }
    Ok(out)
}

fn parse_url(setting: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim()).map_err(|e| ConfigError {
        setting,
        message: format!("{raw:?} is not a valid URL ({e})"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError {
            setting,
            message: format!("{raw:?} must start with https:// (or http:// for a local simulator)"),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    pub(super) fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn empty_environment_uses_sqlite_under_data_and_the_embedded_simulator() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert!(matches!(c.exchange, ExchangeTarget::Simulator(_)));
        assert_eq!(c.client.page_size, 1000);
    }

    #[test]
    fn a_tenant_id_selects_real_exchange_with_the_commercial_defaults() {
        let c = config(&[
            ("EXO_TENANT_ID", "contoso.onmicrosoft.com"),
            ("EXO_CLIENT_ID", "app"),
            ("EXO_CLIENT_SECRET", "s3cret"),
        ])
        .unwrap();
        let ExchangeTarget::Remote(s) = c.exchange else {
            panic!("expected a remote target")
        };
        assert_eq!(s.admin_api_url.as_str(), DEFAULT_ADMIN_API_URL);
        assert_eq!(
            s.authority_url.as_str(),
            "https://login.microsoftonline.com/"
        );
        let Credential::Secret(secret) = &s.credential else {
            panic!("expected a client secret")
        };
        assert_eq!(secret.expose_secret(), "s3cret");
        assert_eq!(s.auth_mode, AuthMode::App);
    }

    #[test]
    fn a_metrics_token_must_be_long_and_without_spaces() {
        assert!(config(&[]).unwrap().security.metrics_token.is_none());
        let c = config(&[("METRICS_TOKEN", " 0123456789abcdef ")]).unwrap();
        let token = c.security.metrics_token.expect("token");
        assert_eq!(token.expose_secret(), "0123456789abcdef");
        for bad in ["short", "0123456789 abcdef"] {
            let err = config(&[("METRICS_TOKEN", bad)]).unwrap_err();
            assert_eq!(err.setting, "METRICS_TOKEN");
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn a_tenant_id_without_a_client_secret_names_the_missing_setting() {
        let err = config(&[("EXO_TENANT_ID", "t"), ("EXO_CLIENT_ID", "app")]).unwrap_err();
        assert_eq!(err.setting, "EXO_CLIENT_SECRET");
    }

    #[test]
    fn a_bad_admin_api_url_names_the_setting() {
        let err = config(&[
            ("EXO_TENANT_ID", "t"),
            ("EXO_CLIENT_ID", "app"),
            ("EXO_CLIENT_SECRET", "x"),
            ("EXO_ADMIN_API_URL", "outlook.office365.com"),
        ])
        .unwrap_err();
        assert_eq!(err.setting, "EXO_ADMIN_API_URL");
    }

    #[test]
    fn page_size_out_of_range_is_refused() {
        assert_eq!(
            config(&[("EXO_PAGE_SIZE", "0")]).unwrap_err().setting,
            "EXO_PAGE_SIZE"
        );
        assert_eq!(
            config(&[("EXO_PAGE_SIZE", "1001")]).unwrap_err().setting,
            "EXO_PAGE_SIZE"
        );
        assert_eq!(
            config(&[("EXO_PAGE_SIZE", "50")]).unwrap().client.page_size,
            50
        );
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let c = config(&[
            ("EXO_TENANT_ID", "t"),
            ("EXO_CLIENT_ID", "app"),
            ("EXO_CLIENT_SECRET", "very-secret-value"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("very-secret-value"));
    }

    const CERT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/app.pem");
    const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/app.key");
    const OTHER_KEY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/certs/other.key"
    );

    fn remote(extra: &[(&str, &str)]) -> Result<ExchangeSettings, ConfigError> {
        let mut pairs = vec![("EXO_TENANT_ID", "t"), ("EXO_CLIENT_ID", "app")];
        pairs.extend_from_slice(extra);
        match config(&pairs)?.exchange {
            ExchangeTarget::Remote(s) => Ok(s),
            ExchangeTarget::Simulator(_) => panic!("expected a remote target"),
        }
    }

    #[test]
    fn a_certificate_and_its_key_replace_the_secret() {
        let s = remote(&[("EXO_CLIENT_CERTIFICATE", CERT), ("EXO_CLIENT_KEY", KEY)]).unwrap();
        let Credential::Certificate(cert) = &s.credential else {
            panic!("expected a certificate")
        };
        assert_eq!(cert.thumbprint().len(), 43);
    }

    #[test]
    fn certificate_problems_name_the_file_at_fault() {
        let e = remote(&[("EXO_CLIENT_CERTIFICATE", CERT)]).unwrap_err();
        assert_eq!(e.setting, "EXO_CLIENT_KEY");
        let e = remote(&[
            ("EXO_CLIENT_CERTIFICATE", CERT),
            ("EXO_CLIENT_KEY", OTHER_KEY),
        ])
        .unwrap_err();
        assert_eq!(e.setting, "EXO_CLIENT_KEY");
        assert!(e.message.contains("does not belong"), "{}", e.message);
        let e = remote(&[
            ("EXO_CLIENT_CERTIFICATE", "/nonexistent.pem"),
            ("EXO_CLIENT_KEY", KEY),
        ])
        .unwrap_err();
        assert_eq!(e.setting, "EXO_CLIENT_CERTIFICATE");
        let e = remote(&[
            ("EXO_CLIENT_SECRET", "s"),
            ("EXO_CLIENT_CERTIFICATE", CERT),
            ("EXO_CLIENT_KEY", KEY),
        ])
        .unwrap_err();
        assert!(e.message.contains("not both"));
    }

    #[test]
    fn auth_mode_is_app_or_delegated_and_delegated_may_be_a_public_client() {
        let s = remote(&[("EXO_AUTH_MODE", "delegated")]).unwrap();
        assert_eq!(s.auth_mode, AuthMode::Delegated);
        assert!(matches!(s.credential, Credential::None));
        let e = remote(&[("EXO_AUTH_MODE", "user"), ("EXO_CLIENT_SECRET", "s")]).unwrap_err();
        assert_eq!(e.setting, "EXO_AUTH_MODE");
    }

    #[test]
    fn retry_and_deadline_settings_are_read_and_checked() {
        let c = config(&[
            ("EXO_MAX_RETRIES", "2"),
            ("EXO_RETRY_BASE_MS", "10"),
            ("EXO_CALL_DEADLINE_SECS", "30"),
        ])
        .unwrap();
        assert_eq!(c.client.max_retries, 2);
        assert_eq!(c.client.retry_base, Duration::from_millis(10));
        assert_eq!(c.client.call_deadline, Duration::from_secs(30));
        assert_eq!(
            config(&[("EXO_MAX_RETRIES", "many")]).unwrap_err().setting,
            "EXO_MAX_RETRIES"
        );
    }

    #[test]
    fn a_config_file_holds_the_same_keys_and_refuses_unknown_ones() {
        let map = parse_file("EXO_TENANT_ID = \"t\"\nEXO_PAGE_SIZE = 200\nEXO_SIM_DEVICES = 10\n")
            .unwrap();
        assert_eq!(map["EXO_PAGE_SIZE"], "200");
        assert_eq!(map["EXO_TENANT_ID"], "t");
        let err = parse_file("EXO_TENNANT_ID = \"t\"").unwrap_err();
        assert!(err.contains("EXO_TENNANT_ID"), "{err}");
        assert!(parse_file("EXO_TENANT_ID = [1]").is_err());
        assert!(parse_file("not toml at all").is_err());
        let dir = tempfile::tempdir().unwrap();
        let missing = read_file(&dir.path().join("none.toml")).unwrap_err();
        assert_eq!(missing.setting, CONFIG_FILE_VAR);
    }
}
