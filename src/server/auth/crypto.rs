//! Secrets at rest: AES-256-GCM (ring) under one key, from `SECRET_KEY` or a key file created on
//! first run with mode 0600. Each value is sealed with a fresh random nonce and bound to where
//! it is stored (the associated data), so a ciphertext copied to another row does not open.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

/// Why the key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("SECRET_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")]
    BadKey,
    #[error("the key file {path} must hold 32 bytes in base64: {reason}")]
    BadFile { path: String, reason: String },
    #[error("cannot create the key file {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot generate a key")]
    Random,
}

pub(crate) use super::super::db::connectors::Sealed;

/// Seals and opens secrets.
pub(crate) struct SecretBox {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(AES-256-GCM, key hidden)")
    }
}

impl SecretBox {
    /// The key from `configured` (base64), else from `file`, creating it (0600) when missing.
    pub(crate) fn load(configured: Option<&SecretString>, file: &Path) -> Result<Self, KeyError> {
        let bytes = match configured {
            Some(key) => decode(key.expose_secret()).ok_or(KeyError::BadKey)?,
            None => read_or_create(file)?,
        };
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| KeyError::BadKey)?;
        Ok(Self {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts `plain`, bound to `context` (e.g. `connector:<id>:refresh_token`).
    pub(crate) fn seal(&self, context: &str, plain: &[u8]) -> Result<Sealed, String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| "no randomness for a nonce".to_owned())?;
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .map_err(|_| "cannot encrypt".to_owned())?;
        Ok(Sealed {
            nonce: nonce.to_vec(),
            ciphertext: data,
        })
    }

    /// Decrypts what [`SecretBox::seal`] made for the same `context`.
    pub(crate) fn open(&self, context: &str, sealed: &Sealed) -> Result<SecretString, String> {
        let nonce = Nonce::try_assume_unique_for_key(&sealed.nonce)
            .map_err(|_| "a stored nonce has the wrong length".to_owned())?;
        let mut data = sealed.ciphertext.clone();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| {
                "a stored secret does not decrypt (another key, or the data was changed)".to_owned()
            })?;
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| "a stored secret is not text".to_owned())?;
        Ok(SecretString::from(text))
    }
}

fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    (bytes.len() == 32).then_some(bytes)
}

fn read_or_create(path: &Path) -> Result<Vec<u8>, KeyError> {
    let shown = || path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => decode(&text).ok_or_else(|| KeyError::BadFile {
            path: shown(),
            reason: "not 32 bytes of base64".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            SystemRandom::new()
                .fill(&mut key)
                .map_err(|_| KeyError::Random)?;
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            match write_private(path, &text) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "generated the key that encrypts stored secrets");
                    Ok(key.to_vec())
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_or_create(path),
                Err(source) => Err(KeyError::Create {
                    path: shown(),
                    source,
                }),
            }
        }
        Err(e) => Err(KeyError::BadFile {
            path: shown(),
            reason: e.to_string(),
        }),
    }
}

/// Creates `path` (never overwriting) readable and writable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The default key file: `secret.key` next to the SQLite database file.
pub(crate) fn default_key_file(database_url: &str) -> PathBuf {
    let path = database_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() && path != ":memory:" => dir.join("secret.key"),
        _ => PathBuf::from("secret.key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("keys").join("secret.key");
        let a = SecretBox::load(None, &file).expect("created");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = a.seal("connector:1:refresh_token", b"r-123").expect("seal");
        let b = SecretBox::load(None, &file).expect("reused");
        let opened = b.open("connector:1:refresh_token", &sealed).expect("open");
        assert_eq!(opened.expose_secret(), "r-123");
    }

    #[test]
    fn sealed_values_hide_the_text_and_open_only_in_their_context_with_their_key() {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let b = SecretBox::load(Some(&SecretString::from(key)), Path::new("/nonexistent"))
            .expect("configured key");
        let one = b.seal("ctx", b"refresh-token-value").expect("seal");
        let two = b.seal("ctx", b"refresh-token-value").expect("seal");
        assert_ne!(one.nonce, two.nonce, "a fresh nonce each time");
        assert!(!one
            .ciphertext
            .windows(b"refresh".len())
            .any(|w| w == b"refresh"));
        assert!(b.open("other-ctx", &one).is_err());
        let mut tampered = one.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(b.open("ctx", &tampered).is_err());
        let other = base64::engine::general_purpose::STANDARD.encode([8u8; 32]);
        let c = SecretBox::load(Some(&SecretString::from(other)), Path::new("/x")).expect("key");
        assert!(c.open("ctx", &one).is_err());
    }

    #[test]
    fn a_bad_key_is_refused_and_the_default_file_sits_next_to_the_database() {
        let short = SecretString::from("c2hvcnQ=".to_owned());
        assert!(matches!(
            SecretBox::load(Some(&short), Path::new("/x")),
            Err(KeyError::BadKey)
        ));
        assert_eq!(
            default_key_file("sqlite://data/exchange-connector.db"),
            PathBuf::from("data/secret.key")
        );
        assert_eq!(
            default_key_file("sqlite:///var/lib/ec/db.sqlite?mode=rwc"),
            PathBuf::from("/var/lib/ec/secret.key")
        );
    }
}
