//! Certificate credentials: the client assertion of `client_credentials` (RFC 7523 `jwt-bearer`),
//! checked like Entra does: the header's `x5t#S256` (or `x5t`) names a registered certificate,
//! the RS256 signature verifies with its public key, `aud` is the token endpoint, `iss` = `sub` =
//! the client id, the time window is current and short, and each `jti` is used once.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::digest;
use serde_json::Value;

use super::AadError;
use crate::sim::SimState;

/// `client_assertion_type` of a JWT client assertion.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew allowed on `nbf` and `exp` (Entra allows five minutes).
const SKEW_SECS: i64 = 300;
/// Longest `exp - nbf` (or `exp - iat`) accepted: ten minutes, plus the skew.
const MAX_LIFETIME_SECS: i64 = 600 + SKEW_SECS;

/// One registered certificate: its thumbprints and RSA public key.
#[derive(Clone, Debug)]
pub(crate) struct RegisteredCert {
    sha256: Vec<u8>,
    sha1: Vec<u8>,
    /// PKCS#1 `RSAPublicKey` DER, what `DecodingKey::from_rsa_der` expects.
    rsa_public_key: Vec<u8>,
}

impl RegisteredCert {
    fn from_der(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("is not a valid X.509 certificate ({e})"))?;
        let spki = cert.public_key();
        match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(_)) => {}
            _ => {
                return Err(
                    "has no RSA public key (exo-sim accepts RS256 certificates only)".into(),
                )
            }
        }
        Ok(Self {
            sha256: digest::digest(&digest::SHA256, der).as_ref().to_vec(),
            sha1: digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)
                .as_ref()
                .to_vec(),
            rsa_public_key: spki.subject_public_key.data.to_vec(),
        })
    }
}

/// Every `CERTIFICATE` block of a PEM text.
pub(crate) fn parse_certificates(pem_text: &str) -> Result<Vec<RegisteredCert>, String> {
    let blocks = pem::parse_many(pem_text).map_err(|e| format!("is not valid PEM ({e})"))?;
    let certs = blocks
        .iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| RegisteredCert::from_der(p.contents()))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err("holds no '-----BEGIN CERTIFICATE-----' block".into());
    }
    Ok(certs)
}

/// Checks a PEM text for configuration: the number of RSA certificates in it, or what is wrong.
pub(crate) fn check_certificate_pem(pem_text: &str) -> Result<usize, String> {
    parse_certificates(pem_text).map(|c| c.len())
}

/// The registered certificates of the app (unparseable ones were refused by the configuration;
/// any left are skipped here).
fn registered(state: &SimState) -> Vec<RegisteredCert> {
    state
        .config()
        .client_certificates
        .iter()
        .filter_map(|pem| parse_certificates(pem).ok())
        .flatten()
        .collect()
}

fn decode_b64url(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    [URL_SAFE_NO_PAD, URL_SAFE, STANDARD]
        .iter()
        .find_map(|e| e.decode(text.trim()).ok())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A NumericDate claim (integer or fractional seconds) as a time.
fn time_claim(claims: &Value, name: &str) -> Option<DateTime<Utc>> {
    let secs = claims.get(name)?.as_f64()?;
    if !secs.is_finite() {
        return None;
    }
    Utc.timestamp_opt(secs.floor() as i64, 0).single()
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%m/%d/%Y %H:%M:%S").to_string()
}

/// Verifies `assertion` for `client_id`. `audiences` are the accepted token endpoint URLs.
/// `now` is the wall clock (the client signed with its own clock).
pub(crate) fn verify(
    state: &SimState,
    client_id: &str,
    assertion: &str,
    audiences: &[String],
    now: DateTime<Utc>,
) -> Result<(), AadError> {
    let malformed = |why: &str| {
        AadError::client(
            50027,
            format!("JWT token is invalid or malformed: the client assertion {why}."),
        )
    };
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| malformed("is not a JWT (three base64url parts: header.claims.signature)"))?;
    if header.alg != Algorithm::RS256 {
        return Err(malformed(&format!(
            "is signed with {:?}; exo-sim accepts RS256 only",
            header.alg
        )));
    }
    let certs = registered(state);
    let (claimed, cert) = match (&header.x5t_s256, &header.x5t) {
        (Some(t), _) => {
            let bytes = decode_b64url(t).unwrap_or_default();
            (bytes.clone(), certs.iter().find(|c| c.sha256 == bytes))
        }
        (None, Some(t)) => {
            let bytes = decode_b64url(t).unwrap_or_default();
            (bytes.clone(), certs.iter().find(|c| c.sha1 == bytes))
        }
        (None, None) => {
            return Err(AadError::client(
                700027,
                "Client assertion failed signature validation. The assertion header names no certificate: \
                 send 'x5t#S256' (base64url SHA-256 of the certificate) or 'x5t' (base64url SHA-1).",
            ))
        }
    };
    let Some(cert) = cert else {
        return Err(AadError::client(700027, format!(
            "The certificate with identifier used to sign the client assertion is not registered on application. \
             [Reason - The key was not found., Thumbprint of key used by client: '{}'; {} certificate(s) registered for app '{client_id}']",
            hex(&claimed),
            certs.len()
        )));
    };
    let mut validation = Validation::new(Algorithm::RS256);
    // Claims are checked below, with clearer messages and the right clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let key = DecodingKey::from_rsa_der(&cert.rsa_public_key);
    let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => AadError::client(
                700027,
                "Client assertion failed signature validation: the signature does not verify with the public key of the \
                 certificate named in the header. Sign with that certificate's private key.",
            ),
            _ => malformed("cannot be decoded"),
        })?
        .claims;
    check_claims(state, client_id, &claims, audiences, now)
}

fn check_claims(
    state: &SimState,
    client_id: &str,
    claims: &Value,
    audiences: &[String],
    now: DateTime<Utc>,
) -> Result<(), AadError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::trim);
    for (name, value) in [("iss", text("iss")), ("sub", text("sub"))] {
        if !value.is_some_and(|v| v.eq_ignore_ascii_case(client_id)) {
            return Err(AadError::client(700021, format!(
                "Client assertion application identifier doesn't match 'client_id' parameter: the '{name}' claim is {}, \
                 it must be the client id '{client_id}'.",
                value.map_or_else(|| "missing".to_owned(), |v| format!("'{v}'"))
            )));
        }
    }
    let auds: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let normal = |u: &str| u.trim().trim_end_matches('/').to_ascii_lowercase();
    if !auds
        .iter()
        .any(|a| audiences.iter().any(|ok| normal(ok) == normal(a)))
    {
        return Err(AadError::client(50012, format!(
            "Client assertion audience claim does not match Realm issuer. The 'aud' claim is {:?}; it must be the token \
             endpoint, {}.",
            auds,
            audiences.first().map_or("", String::as_str)
        )));
    }
    let exp = time_claim(claims, "exp");
    let start = time_claim(claims, "nbf").or_else(|| time_claim(claims, "iat"));
    let (Some(exp), Some(start)) = (exp, start) else {
        return Err(AadError::client(
            700024,
            "Client assertion is not within its valid time range: it needs an 'exp' claim and an 'nbf' (or 'iat') claim.",
        ));
    };
    let skew = Duration::seconds(SKEW_SECS);
    let window = format!(
        "Current time: {}, assertion valid from {}, expiry time of assertion {}.",
        fmt_time(now),
        fmt_time(start),
        fmt_time(exp)
    );
    if exp + skew <= now || start - skew > now {
        return Err(AadError::client(
            700024,
            format!("Client assertion is not within its valid time range. {window}"),
        ));
    }
    if exp - start > Duration::seconds(MAX_LIFETIME_SECS) {
        return Err(AadError::client(
            700024,
            format!(
                "Client assertion is valid for too long: 'exp' may be at most 10 minutes after 'nbf'/'iat'. {window}"
            ),
        ));
    }
    let jti = text("jti").filter(|j| !j.is_empty()).ok_or_else(|| {
        AadError::client(
            50027,
            "JWT token is invalid or malformed: the client assertion has no 'jti' claim (a unique id for each assertion).",
        )
    })?;
    let key = format!("{}/{jti}", client_id.to_ascii_lowercase());
    if !state.tokens().grants.remember_jti(&key, exp + skew, now) {
        return Err(AadError::client(
            700023,
            format!(
                "Client assertion was already used: the 'jti' claim '{jti}' was seen before. Create a new assertion, with a \
                 new 'jti', for every token request."
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_PEM: &str = include_str!("../../../tests/fixtures/certs/app.pem");

    #[test]
    fn the_test_certificate_parses_with_both_thumbprints() {
        let certs = parse_certificates(APP_PEM).unwrap_or_default();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].sha256.len(), 32);
        assert_eq!(certs[0].sha1.len(), 20);
        // PKCS#1 RSAPublicKey: a DER SEQUENCE.
        assert_eq!(certs[0].rsa_public_key.first(), Some(&0x30));
        assert_eq!(
            check_certificate_pem(&format!("{APP_PEM}\n{APP_PEM}")),
            Ok(2)
        );
    }

    #[test]
    fn text_without_a_certificate_is_refused() {
        let key = include_str!("../../../tests/fixtures/certs/app.key");
        assert!(check_certificate_pem(key).is_err_and(|e| e.contains("no '-----BEGIN CERTIFICATE")));
        assert!(check_certificate_pem("hello").is_err());
    }

    #[test]
    fn thumbprints_decode_with_or_without_padding() {
        assert_eq!(decode_b64url("AQI"), Some(vec![1, 2]));
        assert_eq!(decode_b64url("AQI="), Some(vec![1, 2]));
        assert_eq!(hex(&[0xab, 1]), "AB01");
    }
}
