//! OpenID Connect: discovery, the JWKS and id_tokens.
//!
//! The signing key is `demo-signing-key.pem`, an RSA 2048 key committed with the source (ring
//! cannot generate RSA keys). Like [`crate::sim::DEMO_CLIENT_SECRET`] it is a public demo value:
//! every simulator signs with it, so its JWKS never changes between runs and tests can pin it. It
//! protects nothing and must never be used outside the simulator.

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::digest;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{is_our_tenant, AadError};
use crate::sim::SimState;

const DEMO_SIGNING_KEY_PEM: &str = include_str!("demo-signing-key.pem");
/// id_tokens live one hour, like Entra's.
const ID_TOKEN_LIFETIME_SECS: i64 = 3600;

/// Scopes of OpenID Connect itself (the rest must name Exchange Online).
pub(crate) const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

struct SigningKey {
    encoding: EncodingKey,
    kid: String,
    n: String,
    e: String,
}

fn load_signing_key() -> Result<SigningKey, String> {
    let pem = pem::parse(DEMO_SIGNING_KEY_PEM).map_err(|e| e.to_string())?;
    let pair = ring::signature::RsaKeyPair::from_pkcs8(pem.contents())
        .map_err(|e| format!("demo signing key: {e}"))?;
    let components = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
    let encoding = EncodingKey::from_rsa_pem(DEMO_SIGNING_KEY_PEM.as_bytes())
        .map_err(|e| format!("demo signing key: {e}"))?;
    let fingerprint = digest::digest(&digest::SHA256, pair.public().as_ref());
    Ok(SigningKey {
        encoding,
        kid: URL_SAFE_NO_PAD.encode(&fingerprint.as_ref()[..20]),
        n: URL_SAFE_NO_PAD.encode(&components.n),
        e: URL_SAFE_NO_PAD.encode(&components.e),
    })
}

fn signing_key() -> Result<&'static SigningKey, AadError> {
    static KEY: OnceLock<Result<SigningKey, String>> = OnceLock::new();
    KEY.get_or_init(load_signing_key).as_ref().map_err(|e| {
        tracing::error!(error = %e, "exo-sim: the demo signing key does not load");
        AadError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            50000,
            "exo-sim cannot sign id_tokens: its demo signing key does not load.",
        )
    })
}

/// `{authority}/{tenant id}/v2.0`, the `iss` of id_tokens.
pub(crate) fn issuer(state: &SimState, authority: &str) -> String {
    format!("{authority}/{}/v2.0", state.config().tenant_id)
}

/// A stable GUID derived from `parts` (SHA-256), for the user's object id.
fn derived_guid(parts: &[&str]) -> Uuid {
    let digest = digest::digest(&digest::SHA256, parts.join("\n").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Display name of the simulated admin: Microsoft's demo tenants call theirs "MOD Administrator".
fn display_name(upn: &str) -> String {
    match upn.split('@').next() {
        Some(local) if local.eq_ignore_ascii_case("admin") || local.is_empty() => {
            "MOD Administrator".to_owned()
        }
        Some(local) => local.to_owned(),
        None => upn.to_owned(),
    }
}

/// What an id_token says about its user.
pub(crate) struct IdTokenInput<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) user: &'a str,
    pub(crate) nonce: Option<&'a str>,
}

/// Signs an id_token for `input.user`, valid one hour from `now` (the wall clock: the client
/// checks it with its own).
pub(crate) fn id_token(
    state: &SimState,
    authority: &str,
    input: &IdTokenInput<'_>,
    now: DateTime<Utc>,
) -> Result<String, AadError> {
    let key = signing_key()?;
    let tenant_id = state.config().tenant_id.as_str();
    let oid = derived_guid(&["oid", tenant_id, &input.user.to_ascii_lowercase()]);
    let sub_digest = digest::digest(
        &digest::SHA256,
        format!("{}\n{oid}", input.client_id.to_ascii_lowercase()).as_bytes(),
    );
    let iat = now.timestamp();
    let mut claims = json!({
        "ver": "2.0",
        "iss": issuer(state, authority),
        "aud": input.client_id,
        "sub": URL_SAFE_NO_PAD.encode(sub_digest.as_ref()),
        "oid": oid.to_string(),
        "tid": tenant_id,
        "iat": iat,
        "nbf": iat,
        "exp": (now + Duration::seconds(ID_TOKEN_LIFETIME_SECS)).timestamp(),
        "name": display_name(input.user),
        "preferred_username": input.user,
        "email": input.user,
        "upn": input.user,
    });
    if let (Some(nonce), Some(map)) = (input.nonce, claims.as_object_mut()) {
        map.insert("nonce".into(), Value::from(nonce));
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, &claims, &key.encoding).map_err(|e| {
        tracing::error!(error = %e, "exo-sim: cannot sign an id_token");
        AadError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            50000,
            "exo-sim could not sign the id_token.",
        )
    })
}

fn unknown_tenant(state: &SimState, headers: &HeaderMap, tenant: &str) -> Response {
    let authority = state.base_url(headers);
    let id = Uuid::new_v4().to_string();
    AadError::unknown_tenant(tenant).into_response(&authority, &id, &id, Utc::now())
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub(crate) async fn openid_configuration(
    State(state): State<SimState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !is_our_tenant(&state, &tenant) {
        return unknown_tenant(&state, &headers, &tenant);
    }
    state
        .stats()
        .discoveries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let authority = state.base_url(&headers);
    let tenant_id = &state.config().tenant_id;
    let base = format!("{authority}/{tenant_id}");
    Json(json!({
        "issuer": issuer(&state, &authority),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": OIDC_SCOPES,
        "claims_supported": [
            "iss", "aud", "sub", "oid", "tid", "iat", "nbf", "exp", "nonce", "ver",
            "name", "preferred_username", "email", "upn"
        ],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "exo-sim",
        "request_uri_parameter_supported": false,
    }))
    .into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys`: the JWKS of the id_token signing key.
pub(crate) async fn jwks(
    State(state): State<SimState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !is_our_tenant(&state, &tenant) {
        return unknown_tenant(&state, &headers, &tenant);
    }
    let authority = state.base_url(&headers);
    match signing_key() {
        Ok(key) => Json(json!({
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": key.kid,
                "n": key.n,
                "e": key.e,
                "issuer": issuer(&state, &authority),
            }]
        }))
        .into_response(),
        Err(e) => {
            let id = Uuid::new_v4().to_string();
            e.into_response(&authority, &id, &id, Utc::now())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_signing_key_loads_and_is_2048_bits() {
        let Ok(key) = signing_key() else {
            panic!("the demo signing key does not load")
        };
        // 256 bytes of modulus in base64url without padding.
        assert_eq!(key.n.len(), 342);
        assert_eq!(key.e, "AQAB");
    }

    #[test]
    fn the_admin_gets_a_stable_object_id_and_a_display_name() {
        let a = derived_guid(&["oid", "t", "admin@x"]);
        assert_eq!(a, derived_guid(&["oid", "t", "admin@x"]));
        assert_ne!(a, derived_guid(&["oid", "t", "other@x"]));
        assert_eq!(display_name("admin@contoso.test"), "MOD Administrator");
        assert_eq!(display_name("jane@contoso.test"), "jane");
    }
}
