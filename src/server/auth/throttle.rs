//! Sign-in throttling: failed attempts per account and per source address within a window.
//! After too many, that account or address is refused until the window has passed, with the
//! same message whether or not the account exists.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins, kept in memory (a restart forgives; the audit log keeps the record).
#[derive(Debug)]
pub(crate) struct Throttle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, address: &str) -> [String; 2] {
        [
            format!("account:{}", email.trim().to_lowercase()),
            format!("address:{address}"),
        ]
    }

    /// How long until `email` from `address` may try again, if either is locked out now.
    pub(crate) fn locked_for(&self, email: &str, address: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for key in Self::keys(email, address) {
            let Some(times) = failures.get_mut(&key) else {
                continue;
            };
            times.retain(|t| now.duration_since(*t) < self.window);
            if times.len() >= self.max_failures as usize {
                if let Some(oldest) = times.first() {
                    let left = self.window.saturating_sub(now.duration_since(*oldest));
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        wait
    }

    /// Records a failed attempt.
    pub(crate) fn failed(&self, email: &str, address: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 100_000 {
            // Bounded memory under a flood: forget everything older than the window.
            let window = self.window;
            failures.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < window));
        }
        for key in Self::keys(email, address) {
            failures.entry(key).or_default().push(now);
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub(crate) fn succeeded(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&format!("account:{}", email.trim().to_lowercase()));
    }
}

/// The message for a locked-out attempt (the same for existing and unknown accounts).
pub(crate) fn message(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    format!(
        "Too many failed sign-ins. Wait {minutes} minute{} and try again.",
        if minutes == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_too_many_failures_from_any_address_until_the_window_passes() {
        let t = Throttle::new(3, Duration::from_secs(600));
        let start = Instant::now();
        for (i, address) in ["10.0.0.1", "10.0.0.2", "10.0.0.3"].iter().enumerate() {
            assert_eq!(
                t.locked_for("Ann@x.org", address, start),
                None,
                "attempt {i}"
            );
            t.failed("ann@x.org", address, start);
        }
        let wait = t
            .locked_for("ANN@x.org", "10.9.9.9", start)
            .expect("locked");
        assert_eq!(wait, Duration::from_secs(600));
        assert_eq!(t.locked_for("bob@x.org", "10.9.9.9", start), None);
        let later = start + Duration::from_secs(601);
        assert_eq!(t.locked_for("ann@x.org", "10.9.9.9", later), None);
    }

    #[test]
    fn an_address_is_locked_after_too_many_failures_on_any_accounts() {
        let t = Throttle::new(2, Duration::from_secs(60));
        let now = Instant::now();
        t.failed("a@x.org", "192.0.2.7", now);
        t.failed("b@x.org", "192.0.2.7", now);
        assert!(t.locked_for("c@x.org", "192.0.2.7", now).is_some());
        assert!(t.locked_for("c@x.org", "192.0.2.8", now).is_none());
    }

    #[test]
    fn success_clears_the_account_and_the_message_names_the_wait() {
        let t = Throttle::new(1, Duration::from_secs(60));
        let now = Instant::now();
        t.failed("a@x.org", "192.0.2.7", now);
        t.succeeded("a@x.org");
        assert!(t.locked_for("a@x.org", "192.0.2.99", now).is_none());
        assert_eq!(
            message(Duration::from_secs(61)),
            "Too many failed sign-ins. Wait 2 minutes and try again."
        );
        assert_eq!(
            message(Duration::from_secs(5)),
            "Too many failed sign-ins. Wait 1 minute and try again."
        );
    }
}
