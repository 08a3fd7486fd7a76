//! The OpenID provider as `openidconnect` sees it: discovery (cached for an hour), the
//! authorize URL, and redeeming a code into a checked id_token. The crate gets the app's own
//! reqwest (no redirects followed: a provider that redirects its token endpoint elsewhere is
//! refused, not followed), with bounded answers.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreProviderMetadata,
};
use openidconnect::{
    AsyncHttpClient, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// How long discovery (endpoints and signing keys) is trusted before it is read again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// The largest answer read from the provider.
const MAX_BODY: usize = 1 << 20;

/// A configured provider: who it is and how this app is registered with it.
pub(crate) struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<SecretString>,
    name: String,
    http: Http,
    metadata: tokio::sync::Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

/// The client `from_provider_metadata` makes: authorize endpoint known, token endpoint from
/// discovery.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Where the browser goes, and what the callback must check it against.
pub(crate) struct Authorization {
    pub url: Url,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Who the provider says signed in (from a checked id_token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    /// `iss`.
    pub issuer: String,
    /// Who the person is for good: Entra's `oid:<tid>/<oid>` (the object id in their tenant,
    /// the same for every app) when the id_token has both, else `sub` (stable for this person
    /// and this app).
    pub subject: String,
    /// `sub`, which accounts bound before `oid` was used are bound by.
    pub app_subject: String,
    /// `email`, else `preferred_username` when it is an address (Entra's UPN).
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Why the provider could not be used or did not vouch for anyone. The text is for the log and
/// the audit log; it never holds a token or a code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderError {
    /// Discovery failed: the provider cannot be reached or answers nonsense.
    #[error("the OpenID provider cannot be used: {0}")]
    Unavailable(String),
    /// The code was not redeemed, or the id_token did not check out.
    #[error("{0}")]
    Refused(String),
}

impl Provider {
    pub(crate) fn new(
        issuer: &str,
        client_id: &str,
        client_secret: Option<SecretString>,
        name: &str,
    ) -> Result<Self, String> {
        let issuer = IssuerUrl::new(issuer.trim_end_matches('/').to_owned())
            .map_err(|e| format!("bad issuer URL: {e}"))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            issuer,
            client_id: ClientId::new(client_id.to_owned()),
            client_secret,
            name: name.to_owned(),
            http: Http(http),
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    /// The name on the sign-in button.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    async fn client(&self, redirect: &str) -> Result<Client, ProviderError> {
        let metadata = self.metadata().await?;
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|e| ProviderError::Unavailable(format!("bad redirect URI: {e}")))?;
        let secret = self
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        // Entra and the simulator both take the secret in the form body.
        Ok(
            CoreClient::from_provider_metadata(metadata, self.client_id.clone(), secret)
                .set_redirect_uri(redirect)
                .set_auth_type(AuthType::RequestBody),
        )
    }

    /// Discovery, read again when older than an hour (signing keys rotate).
    async fn metadata(&self) -> Result<CoreProviderMetadata, ProviderError> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, m)) = cached.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(m.clone());
            }
        }
        let fresh = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| ProviderError::Unavailable(chain(&e)))?;
        *cached = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// Forgets discovery (after a signature failure: the keys may have rotated).
    pub(crate) async fn forget_metadata(&self) {
        // Whoever sends a bad code can get here: discovery is read again at most once a minute.
        let mut cached = self.metadata.lock().await;
        if cached
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() >= MIN_REDISCOVERY)
        {
            *cached = None;
        }
    }

    /// The authorize URL of a sign-in (code flow, PKCE S256, `state`, nonce), with the values
    /// the callback needs.
    pub(crate) async fn authorize(&self, redirect: &str) -> Result<Authorization, ProviderError> {
        let client = self.client(redirect).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            // Admins of several tenants pick the account each time.
            .add_prompt(CoreAuthPrompt::SelectAccount)
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Redeems `code` with the PKCE `verifier` and checks the id_token (signature by the
    /// provider's keys, issuer, audience, expiry, `nonce`).
    pub(crate) async fn redeem(
        &self,
        redirect: &str,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Identity, ProviderError> {
        let client = self.client(redirect).await?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
        let tokens = request
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Refused(token_error(&e)))?;
        let id_token = tokens.id_token().ok_or_else(|| {
            ProviderError::Refused("the provider sent no id_token (is openid granted?)".into())
        })?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| ProviderError::Refused(format!("the id_token is not valid: {e}")))?;
        let email = claimed_email(
            claims.email_verified(),
            claims.email().map(|e| e.as_str()),
            claims.preferred_username().map(|u| u.as_str()),
        );
        // Entra: the person's object id in their tenant, the same for every app, rather than
        // `sub` (one per app). The signature is checked above, so the payload is the
        // provider's.
        let subject = entra_object(&id_token.to_string())
            .unwrap_or_else(|| claims.subject().as_str().to_owned());
        Ok(Identity {
            issuer: claims.issuer().as_str().to_owned(),
            subject,
            app_subject: claims.subject().as_str().to_owned(),
            email,
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        })
    }
}

/// The address an id_token vouches for: `email`, else `preferred_username` when it is an
/// address (Entra's UPN). An address the provider marks unverified vouches for nothing (nor
/// does the username offered instead): it could be anybody's.
fn claimed_email(
    verified: Option<bool>,
    email: Option<&str>,
    preferred_username: Option<&str>,
) -> Option<String> {
    if verified == Some(false) {
        return None;
    }
    email
        .or(preferred_username.filter(|u| super::super::looks_like_email(u)))
        .map(str::to_owned)
}

/// The shortest time between two discoveries forced by failed sign-ins.
const MIN_REDISCOVERY: Duration = Duration::from_secs(60);

/// `oid:<tid>/<oid>` when the (verified) id_token `jwt` carries Entra's `oid` and `tid`.
fn entra_object(jwt: &str) -> Option<String> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Ids {
        oid: Option<String>,
        tid: Option<String>,
    }
    let payload = jwt.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let ids: Ids = serde_json::from_slice(&json).ok()?;
    let (oid, tid) = (ids.oid?, ids.tid?);
    // GUIDs at Entra (the simulator's tenant id is a domain name).
    let id = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    (id(&oid) && id(&tid)).then(|| format!("oid:{tid}/{oid}"))
}

/// A token endpoint failure in words, without the answer's body (a half-readable answer may
/// hold tokens).
fn token_error<E: std::error::Error + 'static>(
    e: &openidconnect::RequestTokenError<
        E,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> String {
    use openidconnect::RequestTokenError as R;
    match e {
        R::ServerResponse(answer) => {
            let mut text = format!("the provider refused the code ({})", answer.error());
            if let Some(d) = answer.error_description() {
                text.push_str(": ");
                text.extend(d.chars().take(300));
            }
            text
        }
        R::Request(inner) => format!("the token endpoint cannot be reached: {}", chain(inner)),
        R::Parse(_, _) => "the token endpoint's answer cannot be read".into(),
        R::Other(what) => format!("the token endpoint's answer is not usable: {what}"),
    }
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The app's reqwest, as `openidconnect` wants an HTTP client.
struct Http(reqwest::Client);

/// What [`Http`] fails with.
#[derive(Debug, thiserror::Error)]
enum HttpError {
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    #[error("the answer is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("bad answer: {0}")]
    Http(#[from] openidconnect::http::Error),
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut out = openidconnect::http::Response::builder().status(response.status());
            if let Some(headers) = out.headers_mut() {
                *headers = std::mem::take(response.headers_mut());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(HttpError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(out.body(body)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn jwt(payload: serde_json::Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            b64.encode(br#"{"alg":"RS256"}"#),
            b64.encode(payload.to_string())
        )
    }

    #[test]
    fn an_address_the_provider_has_not_verified_binds_nothing() {
        let (e, u) = (Some("ann@contoso.test"), Some("ann@contoso.test"));
        assert_eq!(
            claimed_email(None, e, u).as_deref(),
            Some("ann@contoso.test")
        );
        assert_eq!(
            claimed_email(Some(true), e, None).as_deref(),
            Some("ann@contoso.test")
        );
        assert_eq!(claimed_email(Some(false), e, u), None);
        assert_eq!(claimed_email(Some(false), None, u), None);
        assert_eq!(
            claimed_email(None, None, u).as_deref(),
            Some("ann@contoso.test")
        );
        assert_eq!(claimed_email(None, None, Some("not an address")), None);
    }

    #[test]
    fn entra_accounts_are_known_by_tenant_and_object_id_when_the_token_has_both() {
        let both = jwt(serde_json::json!({
            "sub": "app-specific",
            "oid": "8f0a3c2e-0000-4000-8000-000000000001",
            "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        }));
        assert_eq!(
            entra_object(&both).as_deref(),
            Some("oid:72f988bf-86f1-41af-91ab-2d7cd011db47/8f0a3c2e-0000-4000-8000-000000000001")
        );
        for payload in [
            serde_json::json!({"sub": "x", "oid": "8f0a"}),
            serde_json::json!({"sub": "x", "tid": "t"}),
            serde_json::json!({"sub": "x", "oid": "a/b", "tid": "t"}),
            serde_json::json!({"sub": "x"}),
        ] {
            assert_eq!(entra_object(&jwt(payload.clone())), None, "{payload}");
        }
        assert_eq!(entra_object("not a jwt"), None);
    }
}
