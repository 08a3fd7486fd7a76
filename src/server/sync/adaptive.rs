//! Concurrency that adapts to throttling: halve when Exchange throttles, grow back by one after
//! a run of calls without throttling (additive increase, multiplicative decrease).

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
        }
    }

    /// Calls allowed in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// One call finished; `throttled_total` is the client's 429 counter after it.
    pub(crate) fn finished(&mut self, throttled_total: u64) {
        self.since_cut = self.since_cut.saturating_add(1);
        if throttled_total > self.throttled_seen {
            self.throttled_seen = throttled_total;
            self.calm = 0;
            if self.since_cut >= self.limit {
                self.limit = (self.limit / 2).max(1);
                self.since_cut = 0;
            }
            return;
        }
        self.calm += 1;
        // Grow slowly: one more after four rounds of calm calls at the current limit.
        if self.limit < self.max && self.calm >= self.limit * 4 {
            self.limit += 1;
            self.calm = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_halves_the_limit_once_per_burst_and_calm_grows_it_back_slowly() {
        let mut a = Adaptive::new(8, 0);
        assert_eq!(a.limit(), 8);
        a.finished(1);
        assert_eq!(a.limit(), 4);
        // The rest of the same burst (calls already in flight) does not cut again.
        a.finished(2);
        a.finished(3);
        assert_eq!(a.limit(), 4);
        for _ in 0..4 {
            a.finished(3);
        }
        a.finished(4);
        assert_eq!(a.limit(), 2);
        let mut calls = 0;
        while a.limit() < 8 {
            a.finished(4);
            calls += 1;
        }
        // 2→3 takes 8 calm calls, 3→4 12, … 7→8 28: slow on purpose.
        assert_eq!(calls, 8 + 12 + 16 + 20 + 24 + 28);
        for _ in 0..100 {
            a.finished(4);
        }
        assert_eq!(a.limit(), 8, "never above the configured maximum");
        let mut one = Adaptive::new(1, 0);
        one.finished(1);
        assert_eq!(one.limit(), 1, "never below one");
    }
}
