//! Password hashing with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes), off the
//! async threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

use super::super::error::AppError;

/// Shortest password a local account may have.
pub(crate) const MIN_LENGTH: usize = 12;

/// Checks a new password: at least [`MIN_LENGTH`] characters, not only spaces.
pub(crate) fn check_new(password: &SecretString) -> Result<(), AppError> {
    let p = password.expose_secret();
    if p.chars().count() < MIN_LENGTH || p.trim().is_empty() {
        return Err(AppError::Invalid {
            field: "password".into(),
            message: format!("use at least {MIN_LENGTH} characters"),
        });
    }
    Ok(())
}

/// The argon2id PHC string of `password` (salted).
pub(crate) async fn hash(password: SecretString) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("cannot hash a password: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hashing stopped: {e}")))?
}

/// Whether `password` matches the PHC string `stored`. With `stored` absent it still spends
/// the time of one verification, so that a missing account cannot be told from a wrong
/// password by timing.
pub(crate) async fn verify(password: SecretString, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let candidate = password.expose_secret().as_bytes();
        match stored.as_deref().map(PasswordHash::new) {
            Some(Ok(parsed)) => Argon2::default()
                .verify_password(candidate, &parsed)
                .is_ok(),
            _ => {
                let salt = SaltString::generate(&mut OsRng);
                let _ = Argon2::default().hash_password(candidate, &salt);
                false
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let a = hash(SecretString::from("correct horse battery"))
            .await
            .expect("hash");
        let b = hash(SecretString::from("correct horse battery"))
            .await
            .expect("hash");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify(SecretString::from("correct horse battery"), Some(a.clone())).await);
        assert!(!verify(SecretString::from("correct horse batterY"), Some(a)).await);
        assert!(!verify(SecretString::from("anything"), None).await);
        assert!(!verify(SecretString::from("anything"), Some("not a hash".into())).await);
    }

    #[test]
    fn short_passwords_are_refused_with_the_reason() {
        let e = check_new(&SecretString::from("short")).expect_err("short");
        assert_eq!(e.to_string(), "password: use at least 12 characters");
        assert!(check_new(&SecretString::from("            ")).is_err());
        assert!(check_new(&SecretString::from("long enough pass")).is_ok());
    }
}
