//! The application certificate of app-only sign-in (spec §2): a PEM certificate and its RSA
//! private key, checked to belong together when loaded, used to sign the JWT client assertion
//! (`x5t#S256` header) that replaces a client secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{KeyPair as _, RsaKeyPair};
use serde::Serialize;

/// How long a client assertion is valid (spec §2: 5 to 10 minutes).
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A loaded application certificate. The private key never leaves this struct and `Debug`
/// shows only the thumbprint.
#[derive(Clone)]
pub struct ClientCertificate {
    key: EncodingKey,
    /// base64url(SHA-256(certificate DER)): the `x5t#S256` header.
    x5t_s256: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

/// Why a certificate or key could not be used; says which of the two is at fault.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate file is not a PEM certificate ({0})")]
    Certificate(String),
    #[error("the key file is not an RSA private key in PEM form ({0})")]
    Key(String),
    #[error("the private key does not belong to the certificate")]
    Mismatch,
}

impl CertificateError {
    /// Whether the key (rather than the certificate) is at fault.
    pub fn is_key_problem(&self) -> bool {
        !matches!(self, Self::Certificate(_))
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl ClientCertificate {
    /// Loads a PEM certificate and its PEM private key (PKCS#8 `PRIVATE KEY` or PKCS#1
    /// `RSA PRIVATE KEY`), and checks that the key is the certificate's.
    pub fn from_pem(certificate: &[u8], key: &[u8]) -> Result<Self, CertificateError> {
        let cert = pem::parse_many(certificate)
            .map_err(|e| CertificateError::Certificate(e.to_string()))?
            .into_iter()
            .find(|p| p.tag() == "CERTIFICATE")
            .ok_or_else(|| CertificateError::Certificate("no CERTIFICATE block".into()))?;
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.contents())
            .map_err(|e| CertificateError::Certificate(e.to_string()))?;
        let cert_public_key = parsed.public_key().subject_public_key.data.to_vec();

        let key_block = pem::parse_many(key)
            .map_err(|e| CertificateError::Key(e.to_string()))?
            .into_iter()
            .find(|p| p.tag().ends_with("PRIVATE KEY"))
            .ok_or_else(|| CertificateError::Key("no PRIVATE KEY block".into()))?;
        let pair = match key_block.tag() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(key_block.contents()),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(key_block.contents()),
            other => {
                return Err(CertificateError::Key(format!(
                    "{other} is not supported; use an unencrypted RSA key"
                )))
            }
        }
        .map_err(|e| CertificateError::Key(e.to_string()))?;
        if pair.public_key().as_ref() != cert_public_key.as_slice() {
            return Err(CertificateError::Mismatch);
        }
        let key =
            EncodingKey::from_rsa_pem(key).map_err(|e| CertificateError::Key(e.to_string()))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, cert.contents());
        Ok(Self {
            key,
            x5t_s256: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        })
    }

    /// The `x5t#S256` thumbprint, as the app registration shows it (base64url).
    pub fn thumbprint(&self) -> &str {
        &self.x5t_s256
    }

    /// A signed client assertion for `token_url` (its `aud`), issued by `client_id`.
    pub(crate) fn assertion(&self, client_id: &str, token_url: &str) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let mut header = Header::new(Algorithm::RS256);
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = AssertionClaims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now - 5,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = include_str!("../../../tests/fixtures/certs/app.pem");
    const KEY: &str = include_str!("../../../tests/fixtures/certs/app.key");
    const OTHER_KEY: &str = include_str!("../../../tests/fixtures/certs/other.key");

    #[test]
    fn a_matching_certificate_and_key_sign_an_assertion_with_the_thumbprint() {
        let cert = ClientCertificate::from_pem(CERT.as_bytes(), KEY.as_bytes()).unwrap();
        let jwt = cert
            .assertion("app-id", "https://login/t/oauth2/v2.0/token")
            .unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.x5t_s256.as_deref(), Some(cert.thumbprint()));
        assert_eq!(cert.thumbprint().len(), 43);
        assert!(!format!("{cert:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let err = ClientCertificate::from_pem(CERT.as_bytes(), OTHER_KEY.as_bytes()).unwrap_err();
        assert_eq!(err, CertificateError::Mismatch);
        assert!(err.is_key_problem());
    }

    #[test]
    fn swapped_or_garbage_files_say_which_file_is_wrong() {
        let err = ClientCertificate::from_pem(KEY.as_bytes(), KEY.as_bytes()).unwrap_err();
        assert!(matches!(err, CertificateError::Certificate(_)));
        let err = ClientCertificate::from_pem(CERT.as_bytes(), b"not a key").unwrap_err();
        assert!(matches!(err, CertificateError::Key(_)));
    }
}
