//! Password hashing with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes), off the
//! async threads, a few at a time: each hash holds 19 MiB, so at most one per core runs and a
//! short queue waits; past that, the attempt is refused at once ("busy") instead of piling up
//! blocking threads and memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::super::error::AppError;

/// Where argon2 computations run: a few at a time, a short queue, the rest refused.
struct Slots {
    permits: Semaphore,
    /// Attempts waiting for a permit now.
    waiting: AtomicUsize,
    /// Computations running now, and the most that ever ran at once.
    running: AtomicUsize,
    most: AtomicUsize,
}

/// The process's slots: one per core.
static SLOTS: LazyLock<Slots> =
    LazyLock::new(|| Slots::new(std::thread::available_parallelism().map_or(2, |n| n.get())));
/// How many attempts may wait for a slot.
const MAX_WAITING: usize = 32;
/// The longest an attempt waits for a slot.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// What a refused attempt is told.
pub(crate) const BUSY: &str =
    "The server is checking many sign-ins at once. Try again in a few seconds.";

impl Slots {
    fn new(at_once: usize) -> Self {
        Self {
            permits: Semaphore::new(at_once.max(1)),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        }
    }

    /// A permit, or `Busy` when too many wait already or the wait is too long.
    async fn permit(&self) -> Result<SemaphorePermit<'_>, AppError> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::Busy(BUSY.into()));
        }
        let permit = tokio::time::timeout(MAX_WAIT, self.permits.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Busy(BUSY.into())),
        }
    }

    /// Runs one argon2 computation with a permit, off the async threads.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self.permit().await?;
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(running, Ordering::SeqCst);
        let done = tokio::task::spawn_blocking(work).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        done.map_err(|e| AppError::Internal(format!("password hashing stopped: {e}")))
    }
}

/// Runs one argon2 computation in one of the process's slots.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    SLOTS.run(work).await
}

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
    in_slot(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("cannot hash a password: {e}")))
    })
    .await?
}

/// Whether `password` matches the PHC string `stored`. With `stored` absent it still spends
/// the time of one verification, so that a missing account cannot be told from a wrong
/// password by timing. `Busy` when no slot is free soon enough.
pub(crate) async fn verify(
    password: SecretString,
    stored: Option<String>,
) -> Result<bool, AppError> {
    in_slot(move || {
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
        let check = |p: &str, stored: Option<String>| verify(SecretString::from(p), stored);
        assert!(check("correct horse battery", Some(a.clone()))
            .await
            .expect("checked"));
        assert!(!check("correct horse batterY", Some(a))
            .await
            .expect("checked"));
        assert!(!check("anything", None).await.expect("checked"));
        assert!(!check("anything", Some("not a hash".into()))
            .await
            .expect("checked"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_one_hash_per_core_runs_and_a_flood_is_refused_quickly() {
        // Slots of its own: the process's are shared with the other tests.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let slots = std::sync::Arc::new(Slots::new(cores));
        let started = std::time::Instant::now();
        let attempts: Vec<_> = (0..cores + MAX_WAITING + 20)
            .map(|_| {
                let slots = slots.clone();
                tokio::spawn(async move {
                    slots
                        .run(|| {
                            let salt = SaltString::generate(&mut OsRng);
                            Argon2::default()
                                .hash_password(b"guess guess guess", &salt)
                                .is_ok()
                        })
                        .await
                })
            })
            .collect();
        let mut busy = 0;
        for a in attempts {
            match a.await.expect("task") {
                Ok(hashed) => assert!(hashed),
                Err(AppError::Busy(message)) => {
                    assert_eq!(message, BUSY);
                    busy += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        let most = slots.most.load(Ordering::SeqCst);
        assert!(most <= cores, "{most} > {cores}");
        assert!(
            busy >= 20,
            "the attempts beyond the queue are refused: {busy}"
        );
        assert!(started.elapsed() < MAX_WAIT * 3, "{:?}", started.elapsed());
    }

    #[test]
    fn short_passwords_are_refused_with_the_reason() {
        let e = check_new(&SecretString::from("short")).expect_err("short");
        assert_eq!(e.to_string(), "password: use at least 12 characters");
        assert!(check_new(&SecretString::from("            ")).is_err());
        assert!(check_new(&SecretString::from("long enough pass")).is_ok());
    }
}
