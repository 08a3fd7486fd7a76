//! The delegated sign-in of spec §2: authorization code with PKCE (S256) at
//! `{authority}/{tenant}/oauth2/v2.0/authorize`, the code redeemed for an access token, a refresh
//! token and an id_token that names the admin. The caller keeps `state` and the verifier between
//! the redirect and the callback and checks `state` itself.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SecureRandom as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::error::ExchangeError;
use super::token::{self, DELEGATED_SCOPE};
use super::ExchangeClient;

/// A PKCE pair: the verifier stays on the server, the challenge goes in the authorize URL.
pub(crate) struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

/// Random URL-safe text with `bytes` bytes of entropy.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The system RNG failing leaves the buffer zeroed; fall back to UUID randomness then.
    if ring::rand::SystemRandom::new().fill(&mut buf).is_err() {
        for chunk in buf.chunks_mut(16) {
            let id = uuid::Uuid::new_v4();
            chunk.copy_from_slice(&id.as_bytes()[..chunk.len()]);
        }
    }
    URL_SAFE_NO_PAD.encode(buf)
}

impl Pkce {
    /// A new verifier (43 characters, 256 bits) and its S256 challenge.
    pub(crate) fn new() -> Self {
        Self::from_verifier(random_token(32))
    }

    fn from_verifier(verifier: String) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        Self {
            challenge: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            verifier: SecretString::from(verifier),
        }
    }
}

/// Everything the authorize redirect carries.
pub(crate) struct AuthorizeRequest<'a> {
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub challenge: &'a str,
    pub nonce: &'a str,
    pub login_hint: Option<&'a str>,
}

/// The admin's tokens after the code was redeemed.
pub(crate) struct DelegatedGrant {
    pub access_token: SecretString,
    pub lifetime: std::time::Duration,
    pub refresh_token: SecretString,
    /// The admin's address from the id_token (`preferred_username`, `email` or `upn`).
    pub user: String,
}

impl std::fmt::Debug for DelegatedGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegatedGrant")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct IdClaims {
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    upn: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    #[serde(default)]
    nonce: Option<String>,
}

/// The admin's address from an id_token received straight from the token endpoint over TLS
/// (OpenID Connect Core §3.1.3.7: the transport vouches for the issuer, so the signature is not
/// checked here). The audience must be our client id and the nonce ours.
pub(crate) fn id_token_user(
    id_token: &str,
    client_id: &str,
    nonce: Option<&str>,
) -> Result<String, String> {
    let payload = id_token
        .split('.')
        .nth(1)
        .ok_or("the id_token is not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("the id_token payload is not base64url ({e})"))?;
    let claims: IdClaims =
        serde_json::from_slice(&bytes).map_err(|e| format!("the id_token claims: {e}"))?;
    let audience_ok = match &claims.aud {
        Some(serde_json::Value::String(a)) => a == client_id,
        Some(serde_json::Value::Array(list)) => list.iter().any(|a| a == client_id),
        _ => false,
    };
    if !audience_ok {
        return Err("the id_token was issued for another application".into());
    }
    if let Some(expected) = nonce {
        if claims.nonce.as_deref() != Some(expected) {
            return Err("the id_token does not carry the nonce of this sign-in".into());
        }
    }
    [claims.preferred_username, claims.email, claims.upn]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_owned())
        .find(|s| s.contains('@'))
        .ok_or_else(|| "the id_token names no email address".into())
}

impl ExchangeClient {
    /// The URL to send the admin to (authorization code with PKCE, spec §2).
    pub(crate) fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> Url {
        let raw = token::endpoint(
            &self.inner.authority_url,
            &self.inner.tenant_id,
            "authorize",
        );
        let mut url = Url::parse(&raw).unwrap_or_else(|_| self.inner.authority_url.clone());
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.inner.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", request.redirect_uri)
                .append_pair("response_mode", "query")
                .append_pair("scope", DELEGATED_SCOPE)
                .append_pair("state", request.state)
                .append_pair("nonce", request.nonce)
                .append_pair("code_challenge", request.challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = request.login_hint {
                q.append_pair("login_hint", hint);
            }
        }
        url
    }

    /// Redeems an authorization code: the access token, the refresh token and the admin's
    /// address. A refused code (wrong verifier, replayed, expired) is a `Credentials` error.
    pub(crate) async fn redeem_code(
        &self,
        code: &str,
        verifier: &SecretString,
        redirect_uri: &str,
        nonce: Option<&str>,
    ) -> Result<DelegatedGrant, ExchangeError> {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
            ("code_verifier", verifier.expose_secret().to_owned()),
            ("scope", DELEGATED_SCOPE.to_owned()),
        ];
        let response = self.inner.tokens.post(&mut form).await?;
        let unreadable = |detail: String| ExchangeError::Protocol {
            cmdlet: "the sign-in".into(),
            detail,
        };
        let refresh_token = response
            .refresh_token
            .clone()
            .ok_or_else(|| unreadable("the token response has no refresh_token".into()))?;
        let id_token = response
            .id_token
            .as_deref()
            .ok_or_else(|| unreadable("the token response has no id_token".into()))?;
        let user = id_token_user(id_token, &self.inner.client_id, nonce).map_err(unreadable)?;
        Ok(DelegatedGrant {
            lifetime: response.lifetime(),
            access_token: SecretString::from(response.access_token),
            refresh_token: SecretString::from(refresh_token),
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        format!(
            "e30.{}.sig",
            URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn the_challenge_is_the_s256_of_the_verifier() {
        // Computed independently: base64url(sha256(verifier)) without padding.
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mJ92IZtK9CSbkJ8Vj1uuY6fDLmmlFM".into());
        assert_eq!(p.challenge, "yums6HauuQtpzlGelJJ39IISqujYv-luCiYKMh8Klnw");
        let a = Pkce::new();
        let b = Pkce::new();
        assert_eq!(a.verifier.expose_secret().len(), 43);
        assert_ne!(a.verifier.expose_secret(), b.verifier.expose_secret());
    }

    #[test]
    fn the_admin_address_comes_from_the_id_token_claims() {
        let t = jwt(serde_json::json!({"aud": "app", "nonce": "n1",
            "preferred_username": "admin@contoso.com", "email": "other@contoso.com"}));
        assert_eq!(
            id_token_user(&t, "app", Some("n1")).as_deref(),
            Ok("admin@contoso.com")
        );
        let upn_only = jwt(
            serde_json::json!({"aud": ["app"], "upn": "u@c.com", "preferred_username": "no-at"}),
        );
        assert_eq!(
            id_token_user(&upn_only, "app", None).as_deref(),
            Ok("u@c.com")
        );
    }

    #[test]
    fn an_id_token_for_another_app_or_nonce_is_refused() {
        let t = jwt(serde_json::json!({"aud": "other", "email": "a@b.c"}));
        assert!(id_token_user(&t, "app", None).is_err());
        let t = jwt(serde_json::json!({"aud": "app", "nonce": "x", "email": "a@b.c"}));
        assert!(id_token_user(&t, "app", Some("y")).is_err());
        assert!(id_token_user("garbage", "app", None).is_err());
        let t = jwt(serde_json::json!({"aud": "app"}));
        assert!(id_token_user(&t, "app", None).is_err());
    }
}
