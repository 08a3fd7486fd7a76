//! How much anonymous requests may write to the audit log. Failed sign-ins, first-admin
//! attempts and single sign-on answers come from people nobody knows yet; recording each one
//! lets anyone grow the database at will. Within a window each address may add a few entries
//! (more than the sign-in throttle lets through, so nothing an honest mistake or a real attack
//! within the limits does goes unrecorded), plus a few of the refusals beyond the throttle
//! (which cost nothing to send, so they must not crowd out the attempts that were checked), and
//! all anonymous requests together a bounded number; the rest is counted and reported in the
//! server log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::server::auth::throttle::address_key;

/// The window the counts cover.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries one address (an IPv6 /64) may add per window.
pub(crate) const PER_ADDRESS: u32 = 40;
/// Of which refusals beyond the throttle (counted apart).
pub(crate) const REFUSALS_PER_ADDRESS: u32 = 5;
/// Entries all anonymous requests together may add per window.
pub(crate) const TOTAL: u32 = 2_000;
/// The longest detail an anonymous entry keeps, in characters.
pub(crate) const MAX_DETAIL: usize = 200;

/// What kind of anonymous entry is to be recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Something was checked (a password, a link, a provider's answer).
    Attempt,
    /// Refused before anything was checked: throttled or too busy.
    Refusal,
}

#[derive(Debug)]
pub(crate) struct AnonymousBudget {
    inner: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    recorded: u32,
    dropped: u32,
    by_address: HashMap<String, u32>,
}

impl Window {
    fn new(now: Instant) -> Self {
        Self {
            started: now,
            recorded: 0,
            dropped: 0,
            by_address: HashMap::new(),
        }
    }
}

impl Default for AnonymousBudget {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Window::new(Instant::now())),
        }
    }
}

impl AnonymousBudget {
    /// Whether an anonymous entry from `address` may be recorded now (and counts it if so).
    pub(crate) fn take(&self, address: Option<&str>, kind: Kind, now: Instant) -> bool {
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(w.started) >= WINDOW {
            if w.dropped > 0 {
                tracing::warn!(
                    dropped = w.dropped,
                    recorded = w.recorded,
                    "anonymous requests wanted more audit entries than allowed; the rest were \
                     not recorded"
                );
            }
            *w = Window::new(now);
        }
        let (tag, limit) = match kind {
            Kind::Attempt => ('a', PER_ADDRESS),
            Kind::Refusal => ('r', REFUSALS_PER_ADDRESS),
        };
        let mut key = address.map_or_else(String::new, address_key);
        key.push(tag);
        let mine = w.by_address.get(&key).copied().unwrap_or(0);
        if w.recorded >= TOTAL || mine >= limit {
            if w.dropped == 0 {
                tracing::warn!(
                    address = %key,
                    "too many anonymous audit entries: the rest of this window is not recorded"
                );
            }
            w.dropped += 1;
            return false;
        }
        // At most TOTAL keys: one is added only with an entry recorded.
        w.recorded += 1;
        w.by_address.insert(key, mine + 1);
        true
    }
}

/// `detail` cut to [`MAX_DETAIL`] characters (an ellipsis says it was cut).
pub(crate) fn bounded(detail: &str) -> String {
    match detail.char_indices().nth(MAX_DETAIL) {
        None => detail.to_owned(),
        Some((at, _)) => format!("{}…", &detail[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_and_all_together_add_a_bounded_number_per_window() {
        let budget = AnonymousBudget::default();
        let t0 = Instant::now();
        let taken = (0..100)
            .filter(|_| budget.take(Some("203.0.113.9"), Kind::Attempt, t0))
            .count();
        assert_eq!(taken, PER_ADDRESS as usize);
        // Refusals beyond the throttle have their own, smaller share.
        let refused = (0..100)
            .filter(|_| budget.take(Some("203.0.113.9"), Kind::Refusal, t0))
            .count();
        assert_eq!(refused, REFUSALS_PER_ADDRESS as usize);
        // Another host of the same IPv6 /64 is the same address; another address is not.
        assert!(budget.take(Some("2001:db8::1"), Kind::Attempt, t0));
        let six = (0..100)
            .filter(|_| budget.take(Some("2001:db8::2"), Kind::Attempt, t0))
            .count();
        assert_eq!(six, PER_ADDRESS as usize - 1);
        // Spread over many addresses, the total is capped and the map with it.
        let spread = (0..10_000u32)
            .filter(|i| {
                let a = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
                budget.take(Some(&a), Kind::Attempt, t0)
            })
            .count();
        assert_eq!(
            spread,
            (TOTAL - 2 * PER_ADDRESS - REFUSALS_PER_ADDRESS) as usize
        );
        assert!(budget.inner.lock().expect("lock").by_address.len() <= TOTAL as usize);
        // A new window starts afresh.
        assert!(budget.take(Some("203.0.113.9"), Kind::Attempt, t0 + WINDOW));
    }

    #[test]
    fn details_are_cut_to_a_bounded_length() {
        assert_eq!(bounded("short"), "short");
        let long = "é".repeat(10_000);
        let cut = bounded(&long);
        assert_eq!(cut.chars().count(), MAX_DETAIL + 1);
        assert!(cut.ends_with('…'));
    }
}
