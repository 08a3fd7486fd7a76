//! One typed configuration, read once at start from the environment. A wrong or missing setting
//! fails the start with a message that names the setting.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::sim::SimConfig;

/// Default Exchange Online admin API base (commercial cloud).
pub const DEFAULT_ADMIN_API_URL: &str = "https://outlook.office365.com/adminapi/beta";
/// Default Microsoft identity platform authority.
pub const DEFAULT_AUTHORITY_URL: &str = "https://login.microsoftonline.com";
/// Default SQLite database, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/exchange-connector.db";

/// The whole server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://path` (file created on first run).
    pub database_url: String,
    /// Which Exchange Online the connector talks to.
    pub exchange: ExchangeTarget,
    /// Client behaviour shared by both targets.
    pub client: ClientSettings,
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

/// How to reach and authenticate to an Exchange Online organization (app-only, client secret).
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
    /// `EXO_CLIENT_SECRET`: never logged, never sent to the browser.
    pub client_secret: SecretString,
}

/// Exchange client behaviour.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// `EXO_PAGE_SIZE`: `Prefer: odata.maxpagesize`, 1 to 1000.
    pub page_size: u32,
    /// `EXO_REQUEST_TIMEOUT_SECS`: per HTTP request.
    pub request_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            page_size: 1000,
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A setting that is missing or malformed; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {setting}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub setting: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !database_url.starts_with("sqlite:") {
            return Err(ConfigError {
                setting: "DATABASE_URL",
                message: format!(
                    "only sqlite: URLs are supported for now (got a URL starting with {:?})",
                    database_url.split(':').next().unwrap_or_default()
                ),
            });
        }

        let mut client = ClientSettings::default();
        if let Some(raw) = get("EXO_PAGE_SIZE") {
            client.page_size = match raw.trim().parse::<u32>() {
                Ok(n @ 1..=1000) => n,
                _ => {
                    return Err(ConfigError {
                        setting: "EXO_PAGE_SIZE",
                        message: format!("must be a whole number from 1 to 1000, got {raw:?}"),
                    })
                }
            };
        }
        if let Some(raw) = get("EXO_REQUEST_TIMEOUT_SECS") {
            client.request_timeout = match raw.trim().parse::<u64>() {
                Ok(n @ 1..=900) => Duration::from_secs(n),
                _ => {
                    return Err(ConfigError {
                        setting: "EXO_REQUEST_TIMEOUT_SECS",
                        message: format!(
                            "must be a whole number of seconds from 1 to 900, got {raw:?}"
                        ),
                    })
                }
            };
        }

        let exchange = match get("EXO_TENANT_ID") {
            None => {
                ExchangeTarget::Simulator(SimConfig::from_lookup(get).map_err(|e| ConfigError {
                    setting: e.setting,
                    message: e.message,
                })?)
            }
            Some(tenant_id) => {
                let required = |key: &'static str| {
                    get(key).ok_or_else(|| ConfigError {
                        setting: key,
                        message: "is required when EXO_TENANT_ID is set".into(),
                    })
                };
                ExchangeTarget::Remote(ExchangeSettings {
                    admin_api_url: parse_url(
                        "EXO_ADMIN_API_URL",
                        &get("EXO_ADMIN_API_URL").unwrap_or_else(|| DEFAULT_ADMIN_API_URL.into()),
                    )?,
                    authority_url: parse_url(
                        "EXO_AUTHORITY_URL",
                        &get("EXO_AUTHORITY_URL").unwrap_or_else(|| DEFAULT_AUTHORITY_URL.into()),
                    )?,
                    tenant_id: tenant_id.trim().to_owned(),
                    client_id: required("EXO_CLIENT_ID")?,
                    client_secret: SecretString::from(required("EXO_CLIENT_SECRET")?),
                })
            }
        };

        Ok(Self {
            database_url,
            exchange,
            client,
        })
    }
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

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
        assert_eq!(s.client_secret.expose_secret(), "s3cret");
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
}
