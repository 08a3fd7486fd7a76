//! Concurrency that adapts to throttling: halve when Exchange throttles, grow back by one after
//! a round of calls without throttling (additive increase, multiplicative decrease).
//!
//! A 429 is Exchange's budget speaking, but one 429 among many calls is as often a passing
//! hiccup: the call waits its `Retry-After` and the others go on. The limit is halved when
//! throttling repeats (two or more 429s within the last [`WINDOW`] calls), at most once per
//! round of calls at the current limit, so that a burst cuts once. Under real budget pressure
//! nearly every call is throttled and the limit falls as fast as ever; isolated 429s (and
//! 503s, which are not throttling) no longer serialize a run.

/// The calls looked back on to tell repeated throttling from an isolated 429.
const WINDOW: u32 = 16;

/// The number of calls allowed in flight.
#[derive(Clone, Debug)]
pub(crate) struct Adaptive {
    max: usize,
    limit: usize,
    /// Calls finished without throttling since the last change.
    calm: usize,
    /// Calls finished since the last cut (one burst of 429s cuts once, not once per call).
    since_cut: usize,
    /// The client's throttle counter when last looked at.
    throttled_seen: u64,
    /// The last [`WINDOW`] calls, newest in the lowest bit: 1 for a call that met a 429.
    recent: u32,
}

impl Adaptive {
    /// Starts at `max` (at least 1).
    pub(crate) fn new(max: usize, throttled_now: u64) -> Self {
        let max = max.max(1);
        Self {
            max,
            limit: max,
            calm: 0,
            since_cut: usize::MAX,
            throttled_seen: throttled_now,
            recent: 0,
        }
    }

    /// Calls allowed in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// One call finished; `throttled_total` is the client's 429 counter after it.
    pub(crate) fn finished(&mut self, throttled_total: u64) {
        self.since_cut = self.since_cut.saturating_add(1);
        let new = throttled_total.saturating_sub(self.throttled_seen);
        self.throttled_seen = throttled_total.max(self.throttled_seen);
        self.recent = (self.recent << 1 | u32::from(new > 0)) & ((1 << WINDOW) - 1);
        if new > 0 {
            self.calm = 0;
            let repeated = new >= 2 || self.recent.count_ones() >= 2;
            if repeated && self.since_cut >= self.limit {
                self.limit = (self.limit / 2).max(1);
                self.since_cut = 0;
            }
            return;
        }
        self.calm += 1;
        // Grow back after two rounds of calm calls at the current limit.
        if self.limit < self.max && self.calm >= self.limit * 2 {
            self.limit += 1;
            self.calm = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_throttling_halves_the_limit_once_per_round_and_calm_grows_it_back() {
        let mut a = Adaptive::new(8, 0);
        assert_eq!(a.limit(), 8);
        // One 429: the call waits, the limit stays.
        a.finished(1);
        assert_eq!(a.limit(), 8);
        // A second within the window: halved.
        a.finished(2);
        assert_eq!(a.limit(), 4);
        // The rest of the same burst (calls already in flight) does not cut again.
        a.finished(3);
        a.finished(4);
        assert_eq!(a.limit(), 4);
        for _ in 0..4 {
            a.finished(4);
        }
        a.finished(5);
        assert_eq!(a.limit(), 2, "throttled again a round later: halved again");
        let mut calls = 0;
        while a.limit() < 8 {
            a.finished(5);
            calls += 1;
        }
        // 2→3 takes 4 calm calls, 3→4 6, … 7→8 14.
        assert_eq!(calls, 4 + 6 + 8 + 10 + 12 + 14);
        for _ in 0..100 {
            a.finished(5);
        }
        assert_eq!(a.limit(), 8, "never above the configured maximum");
        let mut one = Adaptive::new(1, 0);
        one.finished(2);
        assert_eq!(one.limit(), 1, "never below one");
    }

    #[test]
    fn a_429_in_one_call_of_twenty_leaves_the_limit_near_its_maximum() {
        let mut a = Adaptive::new(8, 0);
        let mut throttled = 0;
        let mut lowest = 8;
        for call in 0..2_000u64 {
            // Every twentieth call meets one 429 (5 %), spread evenly.
            if call % 20 == 7 {
                throttled += 1;
            }
            a.finished(throttled);
            lowest = lowest.min(a.limit());
        }
        assert_eq!(lowest, 8, "isolated 429s do not serialize a run");
    }

    #[test]
    fn throttling_on_every_call_falls_to_one_as_fast_as_a_halving_per_round() {
        let mut a = Adaptive::new(8, 0);
        let mut calls = 0;
        while a.limit() > 1 {
            calls += 1;
            a.finished(calls);
        }
        // 8 → 4 at the second call, → 2 after 4 more, → 1 after 2 more.
        assert_eq!(calls, 2 + 4 + 2);
    }
}
