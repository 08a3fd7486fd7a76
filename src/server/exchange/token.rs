//! OAuth 2.0 access tokens for the admin API (spec §2): app-only client credentials (secret or
//! certificate assertion) and delegated refresh tokens. Cached and refreshed before they expire;
//! one refresh at a time, so concurrent callers wait for the same token. Tokens are
//! `SecretString`s and never logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::cert::ClientCertificate;
use super::error::ExchangeError;
use super::transport_error;

/// Audience of the admin API.
pub(crate) const SCOPE: &str = "https://outlook.office365.com/.default";
/// Scopes of the delegated flow: the admin API, a refresh token, and who signed in.
pub(crate) const DELEGATED_SCOPE: &str =
    "https://outlook.office365.com/.default offline_access openid email profile";
/// A token this close to its expiry is replaced before use.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the application proves who it is to the token endpoint.
#[derive(Clone)]
pub(crate) enum AppCredential {
    Secret(SecretString),
    Certificate(ClientCertificate),
    /// A public client (delegated flow without a secret).
    None,
}

/// Stores a rotated refresh token; awaited before the access token that came with it is used,
/// so that a crash cannot lose the only refresh token that still works.
pub(crate) type RotationSink = std::sync::Arc<
    dyn Fn(SecretString) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync,
>;

/// What the provider exchanges for access tokens.
pub(crate) enum Grant {
    /// App-only: `client_credentials`.
    App,
    /// Delegated: `refresh_token`, rotated on every use; each new one is also sent to
    /// `rotated` (to be stored), when given.
    Delegated {
        refresh_token: Mutex<SecretString>,
        rotated: Option<RotationSink>,
    },
    /// Delegated, but no admin has signed in yet: no token can be had.
    NotSignedIn,
}

/// Gets and caches access tokens for one application in one tenant.
pub(crate) struct TokenProvider {
    http: reqwest::Client,
    token_url: String,
    host: String,
    client_id: String,
    credential: AppCredential,
    grant: Grant,
    timeout_secs: u64,
    cached: Mutex<Option<CachedToken>>,
    requests: AtomicU64,
}

struct CachedToken {
    access_token: SecretString,
    refresh_at: Instant,
}

/// A successful token response (spec §2).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<serde_json::Value>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
}

impl TokenResponse {
    /// `expires_in` in seconds (a number or a numeric string; one hour when absent).
    pub fn lifetime(&self) -> Duration {
        let secs = self
            .expires_in
            .as_ref()
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(3600);
        Duration::from_secs(secs)
    }
}

#[derive(Deserialize, Default)]
struct TokenErrorResponse {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// `{authority}/{tenant}/oauth2/v2.0/{endpoint}`.
pub(crate) fn endpoint(authority: &url::Url, tenant: &str, endpoint: &str) -> String {
    let base = authority.as_str().trim_end_matches('/');
    format!("{base}/{tenant}/oauth2/v2.0/{endpoint}")
}

/// `host[:port]` of a URL, for messages.
pub(crate) fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => "the sign-in service".to_owned(),
    }
}

impl TokenProvider {
    pub(crate) fn new(
        http: reqwest::Client,
        authority: &url::Url,
        tenant: &str,
        client_id: String,
        credential: AppCredential,
        grant: Grant,
        timeout_secs: u64,
    ) -> Self {
        Self {
            http,
            token_url: endpoint(authority, tenant, "token"),
            host: host_of(authority),
            client_id,
            credential,
            grant,
            timeout_secs,
            cached: Mutex::new(None),
            requests: AtomicU64::new(0),
        }
    }

    /// Starts the cache with an access token already in hand (from a code redemption).
    pub(crate) async fn seed(&self, access_token: SecretString, lifetime: Duration) {
        *self.cached.lock().await = Some(CachedToken::new(access_token, Instant::now(), lifetime));
    }

    /// Requests made to the token endpoint so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
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

    /// Forgets `rejected` (after a 401), so the next call gets a new token. A token that was
    /// already replaced by a concurrent caller is left alone.
    pub(crate) async fn invalidate(&self, rejected: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.access_token.expose_secret() == rejected.expose_secret())
        {
            *cached = None;
        }
    }

    /// The form of one token request, without the client authentication.
    async fn grant_form(&self) -> Result<Vec<(&'static str, String)>, ExchangeError> {
        Ok(match &self.grant {
            Grant::App => vec![
                ("grant_type", "client_credentials".into()),
                ("scope", SCOPE.into()),
            ],
            Grant::Delegated { refresh_token, .. } => vec![
                ("grant_type", "refresh_token".into()),
                (
                    "refresh_token",
                    refresh_token.lock().await.expose_secret().to_owned(),
                ),
                ("scope", DELEGATED_SCOPE.into()),
            ],
            Grant::NotSignedIn => return Err(ExchangeError::NotSignedIn),
        })
    }

    async fn request(&self) -> Result<CachedToken, ExchangeError> {
        let mut form = self.grant_form().await?;
        let started = Instant::now();
        let parsed = self.post(&mut form).await?;
        if let (
            Grant::Delegated {
                refresh_token,
                rotated,
            },
            Some(new),
        ) = (&self.grant, parsed.refresh_token.as_deref())
        {
            let new = SecretString::from(new.to_owned());
            *refresh_token.lock().await = new.clone();
            if let Some(store) = rotated {
                store(new).await;
            }
        }
        let lifetime = parsed.lifetime();
        Ok(CachedToken::new(
            SecretString::from(parsed.access_token),
            started,
            lifetime,
        ))
    }

    /// Posts `form` plus the client authentication to the token endpoint.
    pub(crate) async fn post(
        &self,
        form: &mut Vec<(&'static str, String)>,
    ) -> Result<TokenResponse, ExchangeError> {
        form.push(("client_id", self.client_id.clone()));
        match &self.credential {
            AppCredential::Secret(secret) => {
                form.push(("client_secret", secret.expose_secret().to_owned()));
            }
            AppCredential::Certificate(cert) => {
                let assertion =
                    cert.assertion(&self.client_id, &self.token_url)
                        .map_err(|detail| ExchangeError::Protocol {
                            cmdlet: "the certificate sign-in".into(),
                            detail,
                        })?;
                form.push(("client_assertion_type", ASSERTION_TYPE.into()));
                form.push(("client_assertion", assertion));
            }
            AppCredential::None => {}
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| transport_error(&self.host, self.timeout_secs, &e))?;
        let status = response.status();
        let body = super::body::read(response, super::body::MAX_TOKEN_ANSWER)
            .await
            .map_err(|e| match e {
                super::body::ReadError::Http(e) => {
                    transport_error(&self.host, self.timeout_secs, &e)
                }
                super::body::ReadError::TooLarge(limit) => ExchangeError::Protocol {
                    cmdlet: "the token request".into(),
                    detail: super::body::too_large(limit),
                },
            })?;
        if !status.is_success() {
            return Err(self.refusal(status.as_u16(), &body));
        }
        serde_json::from_slice(&body).map_err(|e| ExchangeError::Protocol {
            cmdlet: "the token request".into(),
            detail: e.to_string(),
        })
    }

    fn refusal(&self, status: u16, body: &[u8]) -> ExchangeError {
        let parsed: TokenErrorResponse = serde_json::from_slice(body).unwrap_or_default();
        // Entra descriptions carry trace and correlation ids on later lines: keep the first.
        let message = parsed
            .error_description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| format!("HTTP {status}"));
        ExchangeError::Credentials {
            host: self.host.clone(),
            status,
            code: parsed.error.unwrap_or_else(|| format!("Http{status}")),
            message,
        }
    }
}

impl CachedToken {
    fn new(access_token: SecretString, issued: Instant, lifetime: Duration) -> Self {
        Self {
            access_token,
            refresh_at: issued + lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2)),
        }
    }
}
