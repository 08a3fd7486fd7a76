//! Sign-in, session and secret-encryption settings (`PUBLIC_URL`, `SESSION_*`, `SECRET_KEY*`,
//! `SIGN_IN_*`).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::oidc::OidcSettings;
use super::{bad, number, ConfigError};

/// Sign-in, session and secret settings.
#[derive(Clone, Debug)]
pub struct SecuritySettings {
    /// `PUBLIC_URL`: the address admins open (e.g. `https://connector.example.com`). Session
    /// cookies are `Secure` and HSTS is sent when it is `https`; it is also the origin that
    /// state-changing requests must come from and the base of OAuth redirect URIs. Unset: the
    /// address the server listens on, over http.
    pub public_url: Option<Url>,
    /// `SESSION_IDLE_MINUTES`: a session ends after this long without a request (5 to 1440,
    /// default 30).
    pub session_idle: Duration,
    /// Activity moves a session's stored end at most this often (one database write per
    /// session per minute by default, not one per request). Not read from the environment.
    pub session_refresh: Duration,
    /// `SESSION_LIFETIME_HOURS`: a session ends this long after its sign-in, however active
    /// (1 to 720, default 12).
    pub session_lifetime: Duration,
    /// `SECRET_KEY`: 32 bytes, base64, that encrypt stored secrets (AES-256-GCM). Unset: a key
    /// generated on first run in `SECRET_KEY_FILE`.
    pub secret_key: Option<SecretString>,
    /// `SECRET_KEY_FILE`: where the generated key lives (created with mode 0600). Default:
    /// `secret.key` next to the SQLite database.
    pub secret_key_file: Option<PathBuf>,
    /// `SIGN_IN_MAX_FAILURES` failed sign-ins per account or per address within
    /// `SIGN_IN_WINDOW_MINUTES` lock that account or address out for the rest of the window.
    pub sign_in_max_failures: u32,
    pub sign_in_window: Duration,
    /// `OIDC_*`: sign-in with an OpenID provider besides local passwords (off when unset).
    pub oidc: Option<OidcSettings>,
    /// `TRUSTED_PROXIES`: addresses or networks (CIDR) of reverse proxies whose
    /// `Forwarded` / `X-Forwarded-For` name the client (default none: the TCP peer is the
    /// client). Throttling and the audit log use that address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <token>` (at
    /// least 16 characters). Unset: `/metrics` is open, like `/healthz`.
    pub metrics_token: Option<SecretString>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            public_url: None,
            session_idle: Duration::from_secs(30 * 60),
            session_refresh: Duration::from_secs(60),
            session_lifetime: Duration::from_secs(12 * 3600),
            secret_key: None,
            secret_key_file: None,
            sign_in_max_failures: 5,
            sign_in_window: Duration::from_secs(15 * 60),
            oidc: None,
            trusted_proxies: Vec::new(),
            metrics_token: None,
        }
    }
}

impl SecuritySettings {
    /// Whether the connector is served over HTTPS (Secure cookies, HSTS).
    pub fn https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }

    pub(super) fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut s = Self::default();
        if let Some(raw) = get("PUBLIC_URL") {
            let url = Url::parse(raw.trim()).map_err(|e| {
                bad(
                    "PUBLIC_URL",
                    format!("must be a URL like https://connector.example.com ({e})"),
                )
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(bad("PUBLIC_URL", "must be an http:// or https:// address"));
            }
            s.public_url = Some(url);
        }
        if let Some(raw) = get("SESSION_IDLE_MINUTES") {
            let mins: u64 = number("SESSION_IDLE_MINUTES", &raw, 5, 1440, " of minutes")?;
            s.session_idle = Duration::from_secs(mins * 60);
        }
        if let Some(raw) = get("SESSION_LIFETIME_HOURS") {
            let hours: u64 = number("SESSION_LIFETIME_HOURS", &raw, 1, 720, " of hours")?;
            s.session_lifetime = Duration::from_secs(hours * 3600);
        }
        if let Some(raw) = get("SECRET_KEY") {
            s.secret_key = Some(SecretString::from(raw.trim().to_owned()));
        }
        if let Some(raw) = get("SECRET_KEY_FILE") {
            s.secret_key_file = Some(PathBuf::from(raw.trim()));
        }
        if let Some(raw) = get("SIGN_IN_MAX_FAILURES") {
            s.sign_in_max_failures = number("SIGN_IN_MAX_FAILURES", &raw, 1, 100, "")?;
        }
        if let Some(raw) = get("SIGN_IN_WINDOW_MINUTES") {
            let mins: u64 = number("SIGN_IN_WINDOW_MINUTES", &raw, 1, 1440, " of minutes")?;
            s.sign_in_window = Duration::from_secs(mins * 60);
        }
        if let Some(raw) = get("TRUSTED_PROXIES") {
            s.trusted_proxies = crate::server::client_ip::parse_trusted(&raw)
                .map_err(|e| bad("TRUSTED_PROXIES", e))?;
        }
        if let Some(raw) = get("METRICS_TOKEN") {
            let token = raw.trim();
            if token.len() < 16 || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(bad(
                    "METRICS_TOKEN",
                    "must be at least 16 characters, without spaces",
                ));
            }
            s.metrics_token = Some(SecretString::from(token.to_owned()));
        }
        s.oidc = OidcSettings::from_lookup(get)?;
        Ok(s)
    }
}
