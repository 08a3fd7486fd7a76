//! The Microsoft identity platform side of the simulator (spec §2):
//!
//! - `POST /{tenant}/oauth2/v2.0/token`: `client_credentials` (client secret or certificate
//!   assertion), `authorization_code` with PKCE (S256) and `refresh_token` (rotating);
//! - `GET /{tenant}/oauth2/v2.0/authorize` and `POST /{tenant}/oauth2/v2.0/consent`: a minimal,
//!   server-rendered consent page for the simulated admin (or auto-consent);
//! - `GET /{tenant}/v2.0/.well-known/openid-configuration` and `GET /{tenant}/discovery/v2.0/keys`:
//!   OpenID Connect discovery, so the simulator can act as a sign-in provider;
//! - the store of issued opaque access tokens and the bearer check of the admin API.
//!
//! Clocks: lifetimes the simulator alone decides (access tokens, codes, refresh tokens) follow
//! [`SimState::now`], so a moved simulator clock expires them. Times that the other side checks
//! with its own clock (a client assertion's `nbf`/`exp`, an id_token's `iat`/`exp`) use the wall
//! clock, so moving the simulator clock does not break a real client.
//!
//! Secrets (client secrets, assertions, codes, tokens) never reach the logs.

mod assertion;
mod authorize;
mod grants;
mod html;
mod oidc;
mod scopes;
mod token_endpoint;

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::wire::{self, ExoError};
use super::SimState;

pub(crate) use assertion::check_certificate_pem;
pub(crate) use authorize::{authorize, consent};
pub(crate) use grants::Grants;
pub(crate) use oidc::{jwks, openid_configuration};
pub(crate) use token_endpoint::token;

/// The only resource tokens may be asked for (spec §2).
pub(crate) const EXCHANGE_SCOPE: &str = "https://outlook.office365.com/.default";

/// What an issued token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenInfo {
    pub(crate) client_id: String,
    /// The signed-in user's UPN for delegated tokens; `None` for app-only tokens.
    pub(crate) user: Option<String>,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Why a bearer token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Missing,
    Unknown,
    Expired,
}

impl TokenProblem {
    fn message(self) -> &'static str {
        match self {
            Self::Missing => {
                "The request has no bearer token. Send 'Authorization: Bearer <access token>'."
            }
            Self::Unknown => {
                "The access token is invalid or was not issued by this tenant's authority."
            }
            Self::Expired => "The access token has expired. Get a new token and try again.",
        }
    }
}

/// Issued tokens, by token text, plus the grants of the delegated flow. Expired tokens are purged
/// whenever a new one is issued.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, TokenInfo>,
    /// Pending consents, authorization codes, refresh tokens and seen assertion ids.
    pub(crate) grants: Grants,
}

/// `prefix` followed by 256 random bits (two v4 UUIDs), for tokens, codes and ids.
pub(crate) fn random_token(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    )
}

/// `secs` as a duration, capped at ten years so absurd settings cannot overflow.
pub(crate) fn capped_secs(secs: u64) -> Duration {
    Duration::seconds(
        i64::try_from(secs)
            .unwrap_or(i64::MAX / 1000)
            .min(10 * 365 * 86_400),
    )
}

impl TokenStore {
    /// Issues a random opaque app-only token for `client_id`, valid `lifetime_secs` from `now`.
    pub(crate) fn issue(
        &mut self,
        client_id: &str,
        now: DateTime<Utc>,
        lifetime_secs: u64,
    ) -> String {
        self.issue_for(client_id, None, now, lifetime_secs)
    }

    /// Issues a token for `client_id`, acting as `user` (UPN) when delegated.
    pub(crate) fn issue_for(
        &mut self,
        client_id: &str,
        user: Option<&str>,
        now: DateTime<Utc>,
        lifetime_secs: u64,
    ) -> String {
        self.tokens.retain(|_, t| t.expires_at > now);
        let token = random_token("exosim.");
        let info = TokenInfo {
            client_id: client_id.to_owned(),
            user: user.map(str::to_owned),
            expires_at: now + capped_secs(lifetime_secs),
        };
        self.tokens.insert(token.clone(), info);
        token
    }

    /// The token's grant if it exists and has not expired at `now`.
    pub(crate) fn validate(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<&TokenInfo, TokenProblem> {
        match self.tokens.get(token) {
            None => Err(TokenProblem::Unknown),
            Some(t) if t.expires_at <= now => Err(TokenProblem::Expired),
            Some(t) => Ok(t),
        }
    }

    /// Makes `token` expired as of `now` (it then answers exactly like a token that ran out).
    /// Returns whether the token was known.
    pub(crate) fn expire(&mut self, token: &str, now: DateTime<Utc>) -> bool {
        match self.tokens.get_mut(token) {
            Some(t) => {
                t.expires_at = t.expires_at.min(now - Duration::seconds(1));
                true
            }
            None => false,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.tokens.len()
    }
}

/// The bearer token of `Authorization: Bearer <token>`, if the header has that shape.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks `Authorization: Bearer <token>` against the store.
pub(crate) fn check_bearer(
    state: &SimState,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<TokenInfo, TokenProblem> {
    let token = bearer_token(headers).ok_or(TokenProblem::Missing)?;
    state.tokens().validate(token, now).cloned()
}

/// The 401 answer of the admin API: spec §4 body plus a `WWW-Authenticate` challenge.
pub(crate) fn unauthorized(
    problem: TokenProblem,
    authority: &str,
    mut headers: HeaderMap,
) -> Response {
    let error = match problem {
        TokenProblem::Missing => "invalid_request",
        TokenProblem::Unknown | TokenProblem::Expired => "invalid_token",
    };
    let challenge = format!(
        "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", \
         token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"{authority}/common/oauth2/authorize\", \
         error=\"{error}\", error_description=\"{}\"",
        problem.message()
    );
    wire::insert(&mut headers, "www-authenticate", &challenge);
    ExoError::unauthorized(problem.message()).into_response_with(headers)
}

/// Whether `tenant` (from a URL) names the simulated tenant: its GUID or its domain.
pub(crate) fn is_our_tenant(state: &SimState, tenant: &str) -> bool {
    let config = state.config();
    tenant.eq_ignore_ascii_case(&config.tenant_id)
        || tenant.eq_ignore_ascii_case(&config.tenant_domain)
}

/// The UPN of the simulated admin who signs in and consents.
pub(crate) fn admin_upn(state: &SimState) -> String {
    state.config().admin_upn()
}

/// An Entra ID (AADSTS) error answer.
#[derive(Debug)]
pub(crate) struct AadError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) code: u32,
    pub(crate) description: String,
}

impl AadError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    /// 400 `invalid_request`.
    pub(crate) fn request(code: u32, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            code,
            description,
        )
    }

    /// 400 `invalid_grant`.
    pub(crate) fn grant(code: u32, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", code, description)
    }

    /// 401 `invalid_client`.
    pub(crate) fn client(code: u32, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            description,
        )
    }

    /// 400: a mandatory parameter is absent (AADSTS900144).
    pub(crate) fn missing(name: &str) -> Self {
        Self::request(
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// 400: the tenant in the URL is neither the tenant GUID nor its domain (AADSTS90002).
    pub(crate) fn unknown_tenant(tenant: &str) -> Self {
        Self::request(90002, format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ))
    }

    /// 400: the client id is not the simulator's app registration (AADSTS700016).
    pub(crate) fn unknown_client(client_id: &str, tenant: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application \
             has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent \
             your authentication request to the wrong tenant."
        ))
    }

    /// `AADSTS{code}: {description}` plus the trace and correlation ids, as Entra writes it.
    pub(crate) fn full_description(
        &self,
        correlation_id: &str,
        trace_id: &str,
        now: DateTime<Utc>,
    ) -> String {
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ");
        format!(
            "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
            self.code, self.description
        )
    }

    pub(crate) fn into_response(
        self,
        authority: &str,
        correlation_id: &str,
        trace_id: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let body = json!({
            "error": self.error,
            "error_description": self.full_description(correlation_id, trace_id, now),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("{authority}/error?code={}", self.code),
        });
        (
            self.status,
            [
                ("content-type", "application/json; charset=utf-8"),
                ("cache-control", "no-store, no-cache"),
            ],
            body.to_string(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_unknown_tokens_are_refused() {
        let mut store = TokenStore::default();
        let t0 = Utc::now();
        let token = store.issue("app", t0, 60);
        assert_eq!(
            store
                .validate(&token, t0 + Duration::seconds(59))
                .map(|i| i.client_id.as_str()),
            Ok("app")
        );
        assert_eq!(
            store.validate(&token, t0 + Duration::seconds(60)),
            Err(TokenProblem::Expired)
        );
        assert_eq!(store.validate("nope", t0), Err(TokenProblem::Unknown));
        // Issuing later purges expired tokens, so the store does not grow without bound.
        let _second = store.issue("app", t0 + Duration::seconds(120), 60);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn absurd_lifetimes_do_not_overflow() {
        let mut store = TokenStore::default();
        let t0 = Utc::now();
        let token = store.issue("app", t0, u64::MAX);
        assert!(store.validate(&token, t0 + Duration::days(365)).is_ok());
    }

    #[test]
    fn delegated_tokens_carry_the_user_and_app_tokens_do_not() {
        let mut store = TokenStore::default();
        let t0 = Utc::now();
        let delegated = store.issue_for("app", Some("admin@contoso.test"), t0, 60);
        let app_only = store.issue("app", t0, 60);
        assert_eq!(
            store.validate(&delegated, t0).map(|i| i.user.clone()),
            Ok(Some("admin@contoso.test".to_owned()))
        );
        assert_eq!(
            store.validate(&app_only, t0).map(|i| i.user.clone()),
            Ok(None)
        );
    }

    #[test]
    fn an_expired_on_purpose_token_answers_as_expired() {
        let mut store = TokenStore::default();
        let t0 = Utc::now();
        let token = store.issue("app", t0, 3600);
        assert!(store.expire(&token, t0));
        assert_eq!(store.validate(&token, t0), Err(TokenProblem::Expired));
        assert!(!store.expire("unknown", t0));
    }

    #[test]
    fn bearer_token_reads_only_the_bearer_scheme() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        wire::insert(&mut h, "authorization", "Basic abc");
        assert_eq!(bearer_token(&h), None);
        wire::insert(&mut h, "authorization", "bearer  tok ");
        assert_eq!(bearer_token(&h), Some("tok"));
        wire::insert(&mut h, "authorization", "Bearer ");
        assert_eq!(bearer_token(&h), None);
    }
}
