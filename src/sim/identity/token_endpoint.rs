//! `POST /{tenant}/oauth2/v2.0/token`: `client_credentials` (client secret or certificate
//! assertion), `authorization_code` (PKCE S256) and `refresh_token` (rotating). Errors are
//! Entra-shaped (`AADSTS` codes, trace and correlation ids).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ring::digest;
use serde_json::{json, Value};
use uuid::Uuid;

use super::assertion::{self, JWT_BEARER};
use super::authorize::params;
use super::grants::{CodeProblem, RefreshProblem};
use super::oidc::{self, IdTokenInput};
use super::scopes::{granted_scope, has_exchange, has_scope};
use super::{is_our_tenant, random_token, AadError, EXCHANGE_SCOPE};
use crate::sim::wire;
use crate::sim::SimState;

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
    let request = TokenRequest {
        state: &state,
        tenant: &tenant,
        authority: &authority,
        form: params(&body),
        now,
    };
    let mut response = match request.answer() {
        Ok(body) => {
            state.stats().tokens_issued.fetch_add(1, Ordering::Relaxed);
            (
                StatusCode::OK,
                [
                    ("content-type", "application/json; charset=utf-8"),
                    ("cache-control", "no-store, no-cache"),
                ],
                body.to_string(),
            )
                .into_response()
        }
        Err(e) => {
            state.stats().token_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(tenant = %tenant, code = e.code, error = e.error, "exo-sim: token request refused");
            e.into_response(&authority, &correlation_id, &trace_id, now)
        }
    };
    wire::insert(response.headers_mut(), "client-request-id", &correlation_id);
    wire::insert(response.headers_mut(), "x-ms-request-id", &trace_id);
    response
}

/// How the client proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientAuth {
    Secret,
    Certificate,
    /// A public client (allowed for the delegated grants, which PKCE protects).
    None,
}

struct TokenRequest<'a> {
    state: &'a SimState,
    tenant: &'a str,
    authority: &'a str,
    form: HashMap<String, String>,
    now: DateTime<Utc>,
}

impl TokenRequest<'_> {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn require(&self, name: &str) -> Result<&str, AadError> {
        self.field(name).ok_or_else(|| AadError::missing(name))
    }

    fn answer(&self) -> Result<Value, AadError> {
        if !is_our_tenant(self.state, self.tenant) {
            return Err(AadError::unknown_tenant(self.tenant));
        }
        let grant = self.require("grant_type")?;
        if !matches!(
            grant,
            "client_credentials" | "authorization_code" | "refresh_token"
        ) {
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{grant}'."),
            ));
        }
        let client_id = self.require("client_id")?;
        if !client_id.eq_ignore_ascii_case(&self.state.config().client_id) {
            return Err(AadError::unknown_client(client_id, self.tenant));
        }
        match grant {
            "client_credentials" => self.client_credentials(client_id),
            "authorization_code" => self.authorization_code(client_id),
            _ => self.refresh(client_id),
        }
    }

    /// Checks the client secret or assertion; `required` for app-only tokens.
    fn authenticate(&self, client_id: &str, required: bool) -> Result<ClientAuth, AadError> {
        let config = self.state.config();
        let assertion = self.field("client_assertion");
        let secret = self.form.get("client_secret").filter(|s| !s.is_empty());
        match (assertion, secret) {
            (Some(_), Some(_)) => Err(AadError::request(
                7000218,
                "Send either 'client_secret' or 'client_assertion', not both.",
            )),
            (Some(assertion), None) => {
                match self.field("client_assertion_type") {
                    Some(JWT_BEARER) => {}
                    Some(other) => {
                        return Err(AadError::request(
                            50027,
                            format!("client_assertion_type '{other}' is not supported; use '{JWT_BEARER}'."),
                        ))
                    }
                    None => return Err(AadError::missing("client_assertion_type")),
                }
                let audiences: Vec<String> = [&config.tenant_id, &config.tenant_domain, &self.tenant.to_owned()]
                    .iter()
                    .flat_map(|t| {
                        [
                            format!("{}/{t}/oauth2/v2.0/token", self.authority),
                            format!("{}/{t}/oauth2/token", self.authority),
                        ]
                    })
                    .collect();
                assertion::verify(self.state, client_id, assertion, &audiences, Utc::now())?;
                Ok(ClientAuth::Certificate)
            }
            (None, Some(secret)) => {
                if *secret != config.client_secret {
                    return Err(AadError::client(7000215, format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, \
                         not the client secret ID, for a secret added to app '{client_id}'."
                    )));
                }
                Ok(ClientAuth::Secret)
            }
            (None, None) if required => Err(AadError::client(
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            )),
            (None, None) => Ok(ClientAuth::None),
        }
    }

    fn client_credentials(&self, client_id: &str) -> Result<Value, AadError> {
        let config = self.state.config();
        let scope = self.require("scope")?;
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if !scopes
            .iter()
            .all(|s| s.to_ascii_lowercase().ends_with("/.default"))
        {
            return Err(AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", 1002012, format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default \
                 suffixed to the resource identifier (application ID URI)."
            )));
        }
        if scopes.len() != 1 || !scopes[0].eq_ignore_ascii_case(EXCHANGE_SCOPE) {
            return Err(AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", 70011, format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' \
                 is not valid. The scope {scope} is not valid. This simulator issues tokens for {EXCHANGE_SCOPE} only."
            )));
        }
        self.authenticate(client_id, true)?;
        let lifetime = config.token_lifetime_secs;
        let access_token = self
            .state
            .tokens()
            .issue(&config.client_id, self.now, lifetime);
        Ok(json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        }))
    }

    fn authorization_code(&self, client_id: &str) -> Result<Value, AadError> {
        let code = self.require("code")?;
        let redirect_uri = self.require("redirect_uri")?;
        let verifier = self.require("code_verifier")?;
        self.authenticate(client_id, false)?;
        let redeemed = self.state.tokens().grants.redeem_code(code, self.now);
        let code = redeemed.map_err(|p| match p {
            CodeProblem::Unknown => AadError::grant(
                70000,
                "Provided grant is invalid or malformed: exo-sim did not issue this authorization code (a restarted simulator \
                 forgets its codes).",
            ),
            CodeProblem::Expired => AadError::grant(
                70008,
                "The provided authorization code has expired: codes are valid for 10 minutes. Start the sign-in again.",
            ),
            CodeProblem::Redeemed => AadError::grant(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh \
                 token. (exo-sim revoked the refresh tokens issued for this code.)",
            ),
        })?;
        let request = &code.request;
        if !request.client_id.eq_ignore_ascii_case(client_id) {
            return Err(AadError::grant(
                70000,
                format!("Provided grant is invalid or malformed: the authorization code was issued to another application, not '{client_id}'."),
            ));
        }
        if request.redirect_uri != redirect_uri {
            return Err(AadError::grant(70000, format!(
                "Provided grant is invalid or malformed: redirect_uri '{redirect_uri}' does not match the redirect URI of the \
                 authorization request, '{}'.",
                request.redirect_uri
            )));
        }
        let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        if computed != request.code_challenge {
            return Err(AadError::grant(
                501481,
                "The code_verifier does not match the code_challenge supplied in the authorization request (S256: \
                 BASE64URL(SHA256(code_verifier)) must equal code_challenge).",
            ));
        }
        self.delegated(
            client_id,
            &request.user,
            &request.scopes,
            &code.family,
            request.nonce.as_deref(),
        )
    }

    fn refresh(&self, client_id: &str) -> Result<Value, AadError> {
        let token = self.require("refresh_token")?;
        self.authenticate(client_id, false)?;
        let used = self.state.tokens().grants.use_refresh(token, self.now);
        let grant = used.map_err(|p| match p {
            RefreshProblem::Unknown => AadError::grant(
                9002313,
                "Invalid request. Request is malformed or invalid: exo-sim did not issue this refresh token.",
            ),
            RefreshProblem::Expired => AadError::grant(
                700082,
                "The refresh token has expired due to inactivity (90 days). Sign in again.",
            ),
            RefreshProblem::Revoked => AadError::grant(
                50173,
                "The provided grant has been revoked: exo-sim rotates refresh tokens, so each one works once. Use the refresh \
                 token of the latest token response, or sign in again.",
            ),
        })?;
        if !grant.client_id.eq_ignore_ascii_case(client_id) {
            return Err(AadError::grant(
                70000,
                format!("Provided grant is invalid or malformed: the refresh token was issued to another application, not '{client_id}'."),
            ));
        }
        self.delegated(client_id, &grant.user, &grant.scopes, &grant.family, None)
    }

    /// The token response of the delegated grants: an access token bound to `user`, a new
    /// refresh token with `offline_access`, an id_token with `openid`.
    fn delegated(
        &self,
        client_id: &str,
        user: &str,
        scopes: &[String],
        family: &str,
        nonce: Option<&str>,
    ) -> Result<Value, AadError> {
        let config = self.state.config();
        let lifetime = config.token_lifetime_secs;
        let mut body = json!({
            "token_type": "Bearer",
            "scope": granted_scope(scopes),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
        });
        let mut add = |key: &str, value: String| {
            if let Some(map) = body.as_object_mut() {
                map.insert(key.to_owned(), Value::from(value));
            }
        };
        if has_scope(scopes, "openid") {
            let input = IdTokenInput {
                client_id,
                user,
                nonce,
            };
            add(
                "id_token",
                oidc::id_token(self.state, self.authority, &input, Utc::now())?,
            );
        }
        let mut store = self.state.tokens();
        // A sign-in without Exchange scopes gets a token for another resource (Entra: Microsoft
        // Graph): the admin API refuses it, as the real service would.
        let access = if has_exchange(scopes) {
            store.issue_for(&config.client_id, Some(user), self.now, lifetime)
        } else {
            random_token("exosim-graph.")
        };
        add("access_token", access);
        if has_scope(scopes, "offline_access") {
            let refresh =
                store
                    .grants
                    .issue_refresh(&config.client_id, user, scopes, family, self.now);
            add("refresh_token", refresh);
        }
        Ok(body)
    }
}
