//! Sign-in throttling, in memory (a restart forgives; the audit log keeps the record).
//!
//! An attempt is counted as a failure *before* its password is checked ([`Throttle::begin`]),
//! so parallel posts cannot all pass the check while the slow hash runs; a success takes its
//! own count back. Three limits within the window:
//! - an account from one address (`max_failures`, default 5): the guesser is locked out;
//! - one address on any accounts (4 × `max_failures`): a sweep over many accounts stops;
//! - an account from anywhere (10 × `max_failures`): a spread-out attack stops, but only for
//!   addresses the account has not signed in from before, so an attacker cannot lock the right
//!   person (from their usual address) out for good.
//!
//! Memory is bounded: emails are cut to 254 characters, IPv6 addresses are counted by their
//! /64 network (one host owns many addresses), empty entries are dropped, and past
//! [`MAX_KEYS`] entries the oldest go.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most entries kept; past it, the stalest are forgotten.
const MAX_KEYS: usize = 100_000;
/// Addresses remembered per account as ones it signed in from, and accounts remembered.
const KNOWN_PER_ACCOUNT: usize = 8;
const MAX_KNOWN_ACCOUNTS: usize = 10_000;
/// The longest email address (RFC 5321's path limit).
pub(crate) const MAX_EMAIL: usize = 254;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, String),
    Address(String),
    Account(String),
}

#[derive(Debug, Default)]
struct Inner {
    failures: HashMap<Key, Vec<Instant>>,
    /// Per account: the addresses it signed in from.
    known: HashMap<String, Vec<String>>,
}

/// Failed sign-ins per account and address.
#[derive(Debug)]
pub(crate) struct Throttle {
    max_failures: u32,
    window: Duration,
    inner: Mutex<Inner>,
}

/// An attempt counted by [`Throttle::begin`]; [`Throttle::succeeded`] takes it back.
#[derive(Debug)]
pub(crate) struct Attempt {
    account: String,
    address: String,
    at: Instant,
}

fn account_key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(MAX_EMAIL)
        .collect::<String>()
        .to_lowercase()
}

/// The address as counted: an IPv4 address, an IPv6 /64 network, or (unparsable) its first
/// 64 characters.
pub(crate) fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => address.chars().take(64).collect(),
    }
}

impl Throttle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The limits that apply to `account` from `address`: each key with its maximum.
    fn limits(&self, inner: &Inner, account: &str, address: &str) -> Vec<(Key, usize)> {
        let max = self.max_failures as usize;
        let mut limits = vec![
            (Key::Pair(account.to_owned(), address.to_owned()), max),
            (Key::Address(address.to_owned()), max * 4),
        ];
        let known = inner
            .known
            .get(account)
            .is_some_and(|addresses| addresses.iter().any(|a| a == address));
        if !known {
            limits.push((Key::Account(account.to_owned()), max * 10));
        }
        limits
    }

    /// How long until a limit frees, if one is reached now (expired failures are dropped).
    fn wait(
        &self,
        inner: &mut Inner,
        account: &str,
        address: &str,
        now: Instant,
    ) -> Option<Duration> {
        let mut wait: Option<Duration> = None;
        for (key, max) in self.limits(inner, account, address) {
            let Some(times) = inner.failures.get_mut(&key) else {
                continue;
            };
            times.retain(|t| now.duration_since(*t) < self.window);
            if times.is_empty() {
                inner.failures.remove(&key);
                continue;
            }
            if times.len() >= max {
                // The failure that must expire for one more attempt.
                let freeing = times[times.len() - max];
                let left = self.window.saturating_sub(now.duration_since(freeing));
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        wait
    }

    /// How long until `email` from `address` may try again, if a limit is reached now.
    pub(crate) fn locked_for(&self, email: &str, address: &str, now: Instant) -> Option<Duration> {
        let mut inner = self.lock();
        self.wait(&mut inner, &account_key(email), &address_key(address), now)
    }

    /// Counts an attempt of `email` from `address` as failed, before its password is checked:
    /// the attempt, or the wait when a limit is reached (nothing is counted then).
    pub(crate) fn begin(
        &self,
        email: &str,
        address: &str,
        now: Instant,
    ) -> Result<Attempt, Duration> {
        let account = account_key(email);
        let address = address_key(address);
        let mut inner = self.lock();
        if let Some(wait) = self.wait(&mut inner, &account, &address, now) {
            return Err(wait);
        }
        if inner.failures.len() >= MAX_KEYS {
            self.shrink(&mut inner, now);
        }
        for key in [
            Key::Pair(account.clone(), address.clone()),
            Key::Address(address.clone()),
            Key::Account(account.clone()),
        ] {
            inner.failures.entry(key).or_default().push(now);
        }
        Ok(Attempt {
            account,
            address,
            at: now,
        })
    }

    /// The attempt's password was right: its count is taken back, the account's failures from
    /// that address are forgiven, and the address is remembered as the account's.
    pub(crate) fn succeeded(&self, attempt: Attempt) {
        let mut inner = self.lock();
        inner
            .failures
            .remove(&Key::Pair(attempt.account.clone(), attempt.address.clone()));
        for key in [
            Key::Address(attempt.address.clone()),
            Key::Account(attempt.account.clone()),
        ] {
            if let Some(times) = inner.failures.get_mut(&key) {
                if let Some(i) = times.iter().rposition(|t| *t == attempt.at) {
                    times.remove(i);
                }
                if times.is_empty() {
                    inner.failures.remove(&key);
                }
            }
        }
        if inner.known.len() >= MAX_KNOWN_ACCOUNTS && !inner.known.contains_key(&attempt.account) {
            inner.known.clear();
        }
        let known = inner.known.entry(attempt.account).or_default();
        known.retain(|a| *a != attempt.address);
        known.push(attempt.address);
        if known.len() > KNOWN_PER_ACCOUNT {
            known.remove(0);
        }
    }

    /// The attempt was not decided (the password could not be checked): its count is taken
    /// back, nothing else changes.
    pub(crate) fn undecided(&self, attempt: Attempt) {
        let mut inner = self.lock();
        for key in [
            Key::Pair(attempt.account.clone(), attempt.address.clone()),
            Key::Address(attempt.address),
            Key::Account(attempt.account),
        ] {
            if let Some(times) = inner.failures.get_mut(&key) {
                if let Some(i) = times.iter().rposition(|t| *t == attempt.at) {
                    times.remove(i);
                }
                if times.is_empty() {
                    inner.failures.remove(&key);
                }
            }
        }
    }

    /// Forgets expired failures and, if still too many entries remain, the stalest tenth.
    fn shrink(&self, inner: &mut Inner, now: Instant) {
        let window = self.window;
        inner.failures.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < window);
            !times.is_empty()
        });
        if inner.failures.len() >= MAX_KEYS {
            let mut last: Vec<(Instant, Key)> = inner
                .failures
                .iter()
                .filter_map(|(k, times)| times.last().map(|t| (*t, k.clone())))
                .collect();
            last.sort_by_key(|(t, _)| *t);
            for (_, key) in last.into_iter().take(MAX_KEYS / 10) {
                inner.failures.remove(&key);
            }
        }
    }

    /// How many entries are kept (for tests).
    #[cfg(test)]
    fn entries(&self) -> usize {
        self.lock().failures.len()
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

    const WINDOW: Duration = Duration::from_secs(600);

    fn fail(t: &Throttle, email: &str, address: &str, now: Instant) {
        t.begin(email, address, now).expect("not locked");
    }

    #[test]
    fn an_account_is_locked_from_one_address_after_too_many_failures_until_the_window_passes() {
        let t = Throttle::new(3, WINDOW);
        let start = Instant::now();
        for _ in 0..3 {
            fail(&t, "Ann@x.org", "10.0.0.1", start);
        }
        assert_eq!(
            t.begin("ANN@x.org", "10.0.0.1", start).map(|_| ()),
            Err(WINDOW)
        );
        assert_eq!(t.locked_for("ann@x.org", "10.0.0.1", start), Some(WINDOW));
        // Another address may still try; another account from this address too.
        assert!(t.locked_for("ann@x.org", "10.0.0.2", start).is_none());
        assert!(t.locked_for("bob@x.org", "10.0.0.1", start).is_none());
        let later = start + WINDOW + Duration::from_secs(1);
        assert!(t.begin("ann@x.org", "10.0.0.1", later).is_ok());
    }

    #[test]
    fn attempts_are_counted_before_the_check_so_parallel_ones_cannot_all_pass() {
        let t = Throttle::new(5, WINDOW);
        let now = Instant::now();
        let passed = (0..50)
            .filter(|_| t.begin("ann@x.org", "10.0.0.1", now).is_ok())
            .count();
        assert_eq!(passed, 5);
    }

    #[test]
    fn an_address_is_locked_after_failures_on_many_accounts() {
        let t = Throttle::new(2, WINDOW);
        let now = Instant::now();
        for i in 0..8 {
            fail(&t, &format!("u{i}@x.org"), "192.0.2.7", now);
        }
        assert!(t.locked_for("new@x.org", "192.0.2.7", now).is_some());
        assert!(t.locked_for("new@x.org", "192.0.2.8", now).is_none());
    }

    #[test]
    fn a_spread_out_attack_locks_the_account_but_not_for_an_address_it_signed_in_from() {
        let t = Throttle::new(2, WINDOW);
        let now = Instant::now();
        let mine = t.begin("ann@x.org", "198.51.100.1", now).expect("first");
        t.succeeded(mine);
        for i in 0..20 {
            fail(&t, "ann@x.org", &format!("203.0.113.{i}"), now);
        }
        assert!(
            t.locked_for("ann@x.org", "203.0.113.200", now).is_some(),
            "a new address"
        );
        assert!(
            t.locked_for("ann@x.org", "198.51.100.1", now).is_none(),
            "hers"
        );
    }

    #[test]
    fn success_takes_its_count_back_and_forgives_that_address() {
        let t = Throttle::new(2, WINDOW);
        let now = Instant::now();
        fail(&t, "a@x.org", "192.0.2.7", now);
        let right = t.begin("a@x.org", "192.0.2.7", now).expect("second");
        t.succeeded(right);
        assert_eq!(
            t.entries(),
            2,
            "one failure left: its address and account entries"
        );
        let undecided = t.begin("b@x.org", "192.0.2.9", now).expect("b");
        t.undecided(undecided);
        assert_eq!(t.entries(), 2, "an undecided attempt leaves nothing");
        assert_eq!(
            message(Duration::from_secs(61)),
            "Too many failed sign-ins. Wait 2 minutes and try again."
        );
        assert_eq!(
            message(Duration::from_secs(5)),
            "Too many failed sign-ins. Wait 1 minute and try again."
        );
    }

    #[test]
    fn ipv6_hosts_count_by_network_and_huge_emails_are_cut() {
        let t = Throttle::new(2, WINDOW);
        let now = Instant::now();
        fail(&t, "a@x.org", "2001:db8:1:2::1", now);
        fail(&t, "a@x.org", "2001:db8:1:2::ffff", now);
        assert!(t
            .locked_for("a@x.org", "2001:db8:1:2:abcd::9", now)
            .is_some());
        assert!(t.locked_for("a@x.org", "2001:db8:1:3::1", now).is_none());
        let huge = "x".repeat(1_000_000);
        fail(&t, &huge, "192.0.2.1", now);
        let kept: usize = t
            .lock()
            .failures
            .keys()
            .map(|k| match k {
                Key::Pair(a, _) | Key::Account(a) => a.len(),
                Key::Address(a) => a.len(),
            })
            .max()
            .unwrap_or(0);
        assert!(kept <= MAX_EMAIL, "{kept}");
    }

    #[test]
    fn the_map_stays_bounded_under_a_flood_of_new_accounts_and_addresses() {
        let t = Throttle::new(5, WINDOW);
        let now = Instant::now();
        for i in 0..(MAX_KEYS / 2) {
            let _ = t.begin(
                &format!("u{i}@x.org"),
                &format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
                now,
            );
        }
        assert!(t.entries() <= MAX_KEYS + 3, "{}", t.entries());
    }
}
