//! What the client did, for sync records and benchmarks: requests per cmdlet (every page and
//! every retry counts), retries, throttled answers and the time spent waiting.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Live counters of one client (all calls through it).
#[derive(Debug, Default)]
pub(crate) struct Meter {
    requests: Mutex<BTreeMap<String, u64>>,
    retries: AtomicU64,
    throttled: AtomicU64,
    throttle_wait_us: AtomicU64,
    backoff_wait_us: AtomicU64,
    pacing_wait_us: AtomicU64,
}

/// Sees every answer and every wait of a client and of the clients derived from it (the
/// metrics). Called on the request path: must not block.
pub(crate) trait ExchangeObserver: Send + Sync {
    /// A request to `cmdlet` was answered with `status`, or not at all (`None`: no connection,
    /// a timeout, an unreadable answer).
    fn answered(&self, cmdlet: &str, status: Option<u16>);
    /// The client waited `how_long` before a request, because of `why`.
    fn waited(&self, why: Wait, how_long: Duration);
}

/// Why the client waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A 429's `Retry-After`.
    Throttled,
    /// Back-off before retrying a transient failure.
    Backoff,
    /// Slowing down because `Rate-Limit-Remaining` ran low.
    Pacing,
}

impl Meter {
    pub(crate) fn request(&self, cmdlet: &str) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(cmdlet.to_owned()).or_default() += 1;
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn waited(&self, why: Wait, how_long: Duration) {
        let counter = match why {
            Wait::Throttled => &self.throttle_wait_us,
            Wait::Backoff => &self.backoff_wait_us,
            Wait::Pacing => &self.pacing_wait_us,
        };
        let us = u64::try_from(how_long.as_micros()).unwrap_or(u64::MAX);
        counter.fetch_add(us, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, token_requests: u64) -> ClientStats {
        let us = |c: &AtomicU64| Duration::from_micros(c.load(Ordering::Relaxed));
        ClientStats {
            requests: self
                .requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttle_wait: us(&self.throttle_wait_us),
            backoff_wait: us(&self.backoff_wait_us),
            pacing_wait: us(&self.pacing_wait_us),
            token_requests,
        }
    }
}

/// A reading of the counters; two readings subtract to what happened in between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientStats {
    /// HTTP requests to the admin API by cmdlet (pages and retries included).
    pub requests: BTreeMap<String, u64>,
    /// Requests that were repeats of a failed one.
    pub retries: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Time spent waiting for `Retry-After`.
    pub throttle_wait: Duration,
    /// Time spent backing off before retries.
    pub backoff_wait: Duration,
    /// Time spent slowing down before the service throttled.
    pub pacing_wait: Duration,
    /// Requests to the token endpoint.
    pub token_requests: u64,
}

impl ClientStats {
    /// All admin API requests.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &Self) -> Self {
        let requests = self
            .requests
            .iter()
            .filter_map(|(k, v)| {
                let d = v.saturating_sub(earlier.requests.get(k).copied().unwrap_or(0));
                (d > 0).then(|| (k.clone(), d))
            })
            .collect();
        Self {
            requests,
            retries: self.retries.saturating_sub(earlier.retries),
            throttled: self.throttled.saturating_sub(earlier.throttled),
            throttle_wait: self.throttle_wait.saturating_sub(earlier.throttle_wait),
            backoff_wait: self.backoff_wait.saturating_sub(earlier.backoff_wait),
            pacing_wait: self.pacing_wait.saturating_sub(earlier.pacing_wait),
            token_requests: self.token_requests.saturating_sub(earlier.token_requests),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_readings_subtract_to_what_happened_between_them() {
        let m = Meter::default();
        m.request("Get-MobileDevice");
        let before = m.snapshot(1);
        m.request("Get-MobileDevice");
        m.request("Get-MobileDevice");
        m.request("Get-MobileDeviceStatistics");
        m.retry();
        m.throttled();
        m.waited(Wait::Throttled, Duration::from_millis(250));
        m.waited(Wait::Backoff, Duration::from_millis(10));
        let delta = m.snapshot(2).since(&before);
        assert_eq!(delta.requests["Get-MobileDevice"], 2);
        assert_eq!(delta.total_requests(), 3);
        assert_eq!(
            (delta.retries, delta.throttled, delta.token_requests),
            (1, 1, 1)
        );
        assert_eq!(delta.throttle_wait, Duration::from_millis(250));
        assert_eq!(delta.backoff_wait, Duration::from_millis(10));
        assert_eq!(delta.pacing_wait, Duration::ZERO);
    }
}
