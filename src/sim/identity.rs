//! The Microsoft identity platform side: `POST /{tenant}/oauth2/v2.0/token` (client credentials
//! with a client secret), the store of issued opaque tokens, and bearer checks for the admin API.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::wire::{self, ExoError};
use super::SimState;

/// The only scope app-only tokens may ask for (spec §2).
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

/// Issued tokens, by token text. Expired tokens are purged whenever a new one is issued.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, TokenInfo>,
}

impl TokenStore {
    /// Issues a random opaque token for `client_id`, valid `lifetime_secs` from `now`.
    pub(crate) fn issue(
        &mut self,
        client_id: &str,
        now: DateTime<Utc>,
        lifetime_secs: u64,
    ) -> String {
        self.tokens.retain(|_, t| t.expires_at > now);
        let token = format!(
            "exosim.{}{}",
            Uuid::new_v4().simple(),
            Uuid::new_v4().simple()
        );
        let lifetime = Duration::seconds(
            i64::try_from(lifetime_secs)
                .unwrap_or(i64::MAX / 1000)
                .min(10 * 365 * 86_400),
        );
        let info = TokenInfo {
            client_id: client_id.to_owned(),
            user: None,
            expires_at: now + lifetime,
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

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.tokens.len()
    }
}

/// Checks `Authorization: Bearer <token>` against the store.
pub(crate) fn check_bearer(
    state: &SimState,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<TokenInfo, TokenProblem> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(TokenProblem::Missing)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(TokenProblem::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(TokenProblem::Missing);
    }
    state.tokens().validate(token.trim(), now).cloned()
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

/// An Entra ID (AADSTS) error answer.
struct AadError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl AadError {
    fn new(
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

    fn into_response(
        self,
        authority: &str,
        correlation_id: &str,
        trace_id: &str,
        now: DateTime<Utc>,
    ) -> Response {
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let description = format!(
            "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
            self.code, self.description
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
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

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) async fn token(
    State(state): State<SimState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = state.now();
    let trace_id = Uuid::new_v4().to_string();
    let correlation_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .map_or_else(|| Uuid::new_v4().to_string(), |u| u.to_string());
    let authority = state.base_url(&headers);
    match issue(&state, &tenant, &body, now) {
        Ok(resp) => {
            state.stats().tokens_issued.fetch_add(1, Ordering::Relaxed);
            let mut r = resp.into_response();
            wire::insert(r.headers_mut(), "client-request-id", &correlation_id);
            wire::insert(r.headers_mut(), "x-ms-request-id", &trace_id);
            r
        }
        Err(e) => {
            state.stats().token_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(tenant = %tenant, code = e.code, "exo-sim: token request refused");
            let mut r = e.into_response(&authority, &correlation_id, &trace_id, now);
            wire::insert(r.headers_mut(), "client-request-id", &correlation_id);
            wire::insert(r.headers_mut(), "x-ms-request-id", &trace_id);
            r
        }
    }
}

fn issue(
    state: &SimState,
    tenant: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<impl IntoResponse, AadError> {
    let config = state.config();
    let bad = StatusCode::BAD_REQUEST;
    if !(tenant.eq_ignore_ascii_case(&config.tenant_id)
        || tenant.eq_ignore_ascii_case(&config.tenant_domain))
    {
        return Err(AadError::new(bad, "invalid_request", 90002, format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        )));
    }
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    let missing = |name: &str| {
        AadError::new(
            bad,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let field = |name: &str| form.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());

    let grant = field("grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(AadError::new(
            bad,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
    if !client_id.eq_ignore_ascii_case(&config.client_id) {
        return Err(AadError::new(bad, "unauthorized_client", 700016, format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application \
             has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent \
             your authentication request to the wrong tenant."
        )));
    }
    let scope = field("scope").ok_or_else(|| missing("scope"))?;
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if !scopes
        .iter()
        .all(|s| s.to_ascii_lowercase().ends_with("/.default"))
    {
        return Err(AadError::new(bad, "invalid_scope", 1002012, format!(
            "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default \
             suffixed to the resource identifier (application ID URI)."
        )));
    }
    if scopes.len() != 1 || !scopes[0].eq_ignore_ascii_case(EXCHANGE_SCOPE) {
        return Err(AadError::new(bad, "invalid_scope", 70011, format!(
            "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' \
             is not valid. The scope {scope} is not valid. This simulator issues tokens for {EXCHANGE_SCOPE} only."
        )));
    }
    let unauthorized = StatusCode::UNAUTHORIZED;
    if field("client_assertion").is_some() {
        return Err(AadError::new(unauthorized, "invalid_client", 700027, format!(
            "Client assertion failed signature validation. (exo-sim accepts only client secrets for app '{client_id}' so far.)"
        )));
    }
    let secret = form.get("client_secret").filter(|s| !s.is_empty()).ok_or_else(|| {
        AadError::new(unauthorized, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
    })?;
    if *secret != config.client_secret {
        return Err(AadError::new(unauthorized, "invalid_client", 7000215, format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client \
             secret ID, for a secret added to app '{client_id}'."
        )));
    }
    let lifetime = config.token_lifetime_secs;
    let access_token = state.tokens().issue(&config.client_id, now, lifetime);
    Ok((
        [
            ("content-type", "application/json; charset=utf-8"),
            ("cache-control", "no-store, no-cache"),
        ],
        json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        })
        .to_string(),
    ))
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
}
