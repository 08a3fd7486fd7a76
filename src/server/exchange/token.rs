//! OAuth 2.0 client-credentials tokens for the admin API, cached and refreshed before they
//! expire. One refresh at a time: concurrent callers wait for the same token.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::ExchangeError;
use super::transport_error;

/// Audience of the admin API.
pub(crate) const SCOPE: &str = "https://outlook.office365.com/.default";
/// A token this close to its expiry is replaced before use.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Gets and caches app-only tokens for one application in one tenant.
pub(crate) struct TokenProvider {
    http: reqwest::Client,
    token_url: String,
    host: String,
    client_id: String,
    client_secret: SecretString,
    timeout_secs: u64,
    cached: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    access_token: SecretString,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct TokenErrorResponse {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenProvider {
    pub(crate) fn new(
        http: reqwest::Client,
        authority: &url::Url,
        tenant: &str,
        client_id: String,
        client_secret: SecretString,
        timeout_secs: u64,
    ) -> Self {
        let base = authority.as_str().trim_end_matches('/');
        Self {
            http,
            token_url: format!("{base}/{tenant}/oauth2/v2.0/token"),
            host: match (authority.host_str(), authority.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                (None, _) => "the sign-in service".to_owned(),
            },
            client_id,
            client_secret,
            timeout_secs,
            cached: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, or a new one.
    pub(crate) async fn token(&self) -> Result<SecretString, ExchangeError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(token.access_token.clone());
        }
        let fresh = self.request().await?;
        let access_token = fresh.access_token.clone();
        *cached = Some(fresh);
        Ok(access_token)
    }

    /// Forgets the cached token (after a 401), so the next call gets a new one.
    pub(crate) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn request(&self) -> Result<CachedToken, ExchangeError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("scope", SCOPE),
        ];
        let started = Instant::now();
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| transport_error(&self.host, self.timeout_secs, &e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&self.host, self.timeout_secs, &e))?;
        if !status.is_success() {
            let parsed: TokenErrorResponse = serde_json::from_slice(&body).unwrap_or_default();
            // Entra descriptions carry trace and correlation ids on later lines: keep the first.
            let message = parsed
                .error_description
                .as_deref()
                .and_then(|d| d.lines().next())
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
            return Err(ExchangeError::Credentials {
                host: self.host.clone(),
                status: status.as_u16(),
                code: parsed
                    .error
                    .unwrap_or_else(|| format!("Http{}", status.as_u16())),
                message,
            });
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| ExchangeError::Protocol {
                cmdlet: "the token request".into(),
                detail: e.to_string(),
            })?;
        let lifetime = parsed
            .expires_in
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(3600);
        let lifetime = Duration::from_secs(lifetime);
        Ok(CachedToken {
            access_token: SecretString::from(parsed.access_token),
            refresh_at: started + lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2)),
        })
    }
}
