//! The Exchange Online admin API client: InvokeCommand over REST with OAuth tokens
//! (`shared/exchange-admin-api.md`). It only knows the wire; what to do with the answers is the
//! sync's business.

mod error;
mod token;
pub(crate) mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use url::Url;

pub(crate) use error::ExchangeError;
use error::{error_body_message, ApiFailure};
use token::TokenProvider;
use wire::{entry_text, Envelope};

use super::config::{ClientSettings, ExchangeSettings};

/// `User-Agent` of every request.
const PRODUCT: &str = concat!("exchange-connector/", env!("CARGO_PKG_VERSION"));
/// The system mailbox app-only calls are anchored to (spec §1).
const APP_ANCHOR_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// A client for one Exchange Online organization. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ExchangeClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    invoke_url: Url,
    admin_api_url: Url,
    tenant_id: String,
    client_id: String,
    page_size: u32,
    timeout_secs: u64,
    tokens: TokenProvider,
    calls: AtomicU64,
}

impl ExchangeClient {
    /// Builds a client; makes no request yet.
    pub(crate) fn new(
        settings: &ExchangeSettings,
        client: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        // Several parts may build a client; only the first installation counts.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(client.request_timeout)
            .connect_timeout(
                client
                    .request_timeout
                    .min(std::time::Duration::from_secs(15)),
            )
            .user_agent(PRODUCT)
            .build()?;
        let base = settings.admin_api_url.as_str().trim_end_matches('/');
        let invoke_url = Url::parse(&format!("{base}/{}/InvokeCommand", settings.tenant_id))
            .unwrap_or_else(|_| settings.admin_api_url.clone());
        let tokens = TokenProvider::new(
            http.clone(),
            &settings.authority_url,
            &settings.tenant_id,
            settings.client_id.clone(),
            settings.client_secret.clone(),
            client.request_timeout.as_secs(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                invoke_url,
                admin_api_url: settings.admin_api_url.clone(),
                tenant_id: settings.tenant_id.clone(),
                client_id: settings.client_id.clone(),
                page_size: client.page_size,
                timeout_secs: client.request_timeout.as_secs(),
                tokens,
                calls: AtomicU64::new(0),
            }),
        })
    }

    /// The admin API base this client talks to.
    pub(crate) fn endpoint(&self) -> &str {
        self.inner.admin_api_url.as_str()
    }

    /// The tenant (GUID or domain).
    pub(crate) fn tenant_id(&self) -> &str {
        &self.inner.tenant_id
    }

    /// The identity the connector uses, as shown to admins.
    pub(crate) fn account(&self) -> String {
        format!("Application {}", self.inner.client_id)
    }

    /// HTTP requests made to InvokeCommand so far (every page and retry counts).
    pub(crate) fn api_calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// `Get-ActiveSyncOrganizationSettings`: the one settings object of the organization.
    pub(crate) async fn organization_settings(
        &self,
    ) -> Result<wire::OrganizationSettings, ExchangeError> {
        let cmdlet = "Get-ActiveSyncOrganizationSettings";
        let mut pages = self.invoke::<wire::OrganizationSettings>(cmdlet, Map::new());
        let first = pages.next_page().await?.unwrap_or_default();
        first
            .items
            .into_iter()
            .next()
            .ok_or_else(|| ExchangeError::Protocol {
                cmdlet: cmdlet.into(),
                detail: "the answer holds no settings object".into(),
            })
    }

    /// `Get-MobileDevice -ResultSize Unlimited`, page by page.
    pub(crate) fn mobile_devices(&self) -> Pages<wire::MobileDevice> {
        let mut params = Map::new();
        params.insert("ResultSize".into(), json!("Unlimited"));
        self.invoke("Get-MobileDevice", params)
    }

    /// Any cmdlet through InvokeCommand; pages are fetched on demand.
    pub(crate) fn invoke<T: DeserializeOwned>(
        &self,
        cmdlet: &str,
        parameters: Map<String, Value>,
    ) -> Pages<T> {
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}});
        Pages {
            client: self.clone(),
            cmdlet: cmdlet.to_owned(),
            body: body.to_string(),
            request_id: uuid::Uuid::new_v4().to_string(),
            next: Some(self.inner.invoke_url.clone()),
            _items: std::marker::PhantomData,
        }
    }

    fn headers(&self, cmdlet: &str, request_id: &str, token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        };
        put(AUTHORIZATION.as_str(), format!("Bearer {token}"));
        put(CONTENT_TYPE.as_str(), "application/json".into());
        put(ACCEPT.as_str(), "application/json".into());
        put(USER_AGENT.as_str(), PRODUCT.into());
        put("x-responseformat", "json".into());
        put(
            "prefer",
            format!("odata.maxpagesize={}", self.inner.page_size),
        );
        put(
            "x-anchormailbox",
            format!("APP:{APP_ANCHOR_MAILBOX}@{}", self.inner.tenant_id),
        );
        put("client-request-id", request_id.into());
        put("x-cmdletname", cmdlet.into());
        if let Some(v) = headers.get_mut(AUTHORIZATION) {
            v.set_sensitive(true);
        }
        headers
    }

    fn host(&self) -> String {
        self.inner
            .invoke_url
            .host_str()
            .map(|h| match self.inner.invoke_url.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
            .unwrap_or_else(|| "the configured address".into())
    }
}

/// One page of a cmdlet's output.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub warnings: Vec<String>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// The pages of one logical cmdlet call: the same body and `client-request-id` are sent to each
/// `@odata.nextLink` until there is none.
pub(crate) struct Pages<T> {
    client: ExchangeClient,
    cmdlet: String,
    body: String,
    request_id: String,
    next: Option<Url>,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pages<T> {
    /// The next page, or `None` after the last one.
    pub(crate) async fn next_page(&mut self) -> Result<Option<Page<T>>, ExchangeError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let inner = &self.client.inner;
        let mut retried_auth = false;
        let (response, body) = loop {
            let token = inner.tokens.token().await?;
            let headers =
                self.client
                    .headers(&self.cmdlet, &self.request_id, token.expose_secret());
            inner.calls.fetch_add(1, Ordering::Relaxed);
            let response = inner
                .http
                .post(url.clone())
                .headers(headers)
                .body(self.body.clone())
                .send()
                .await
                .map_err(|e| self.transport(&e))?;
            // One new token and one retry after a 401 (spec §2).
            if response.status() == reqwest::StatusCode::UNAUTHORIZED && !retried_auth {
                retried_auth = true;
                inner.tokens.invalidate().await;
                continue;
            }
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|e| self.transport(&e))?;
            break ((status, headers), body);
        };
        let (status, headers) = response;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("request-id");
        if !status.is_success() {
            let (code, message) = error_body_message(&body);
            return Err(ExchangeError::Api(Box::new(ApiFailure {
                status: status.as_u16(),
                cmdlet: self.cmdlet.clone(),
                code,
                message,
                exception_type: header("x-exceptiontype"),
                request_id,
                retry_after: header("retry-after").and_then(|v| v.trim().parse().ok()),
            })));
        }
        let envelope: Envelope<T> =
            serde_json::from_slice(&body).map_err(|e| ExchangeError::Protocol {
                cmdlet: self.cmdlet.clone(),
                detail: e.to_string(),
            })?;
        if !envelope.errors.is_empty() {
            return Err(ExchangeError::Partial {
                cmdlet: self.cmdlet.clone(),
                message: envelope
                    .errors
                    .iter()
                    .map(entry_text)
                    .collect::<Vec<_>>()
                    .join("; "),
                request_id,
            });
        }
        if let Some(link) = envelope.next_link {
            self.next = Some(self.checked_next_link(&link)?);
        }
        Ok(Some(Page {
            items: envelope.value,
            warnings: envelope.warnings.iter().map(entry_text).collect(),
        }))
    }

    /// A next link must stay on the admin API's origin: the bearer token goes with it.
    fn checked_next_link(&self, link: &str) -> Result<Url, ExchangeError> {
        let base = &self.client.inner.invoke_url;
        let url = base.join(link).map_err(|e| ExchangeError::Protocol {
            cmdlet: self.cmdlet.clone(),
            detail: format!("@odata.nextLink is not a URL ({e})"),
        })?;
        if url.origin() != base.origin() {
            return Err(ExchangeError::Protocol {
                cmdlet: self.cmdlet.clone(),
                detail: format!(
                    "@odata.nextLink points to another server ({})",
                    url.host_str().unwrap_or("?")
                ),
            });
        }
        Ok(url)
    }

    fn transport(&self, e: &reqwest::Error) -> ExchangeError {
        transport_error(&self.client.host(), self.client.inner.timeout_secs, e)
    }
}

/// Maps a reqwest failure without an HTTP answer to `Unreachable` / `Timeout`, with the root
/// cause in words (e.g. "connection refused").
pub(crate) fn transport_error(host: &str, timeout_secs: u64, e: &reqwest::Error) -> ExchangeError {
    if e.is_timeout() {
        return ExchangeError::Timeout {
            host: host.to_owned(),
            seconds: timeout_secs,
        };
    }
    let mut reason = e.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    let reason = match reason.to_ascii_lowercase() {
        r if r.contains("connection refused") => {
            "connection refused (nothing is listening there)".into()
        }
        r if r.contains("dns") || r.contains("failed to lookup") => {
            "the name could not be resolved".into()
        }
        _ => reason,
    };
    ExchangeError::Unreachable {
        host: host.to_owned(),
        reason,
    }
}
