//! Fault injection, traffic counters and the normal-traffic rate limit of the admin API.
//!
//! A middleware on `InvokeCommand` (and on the token endpoint, for rules aimed at `@token`)
//! counts every request it **receives**, applies the rate-limit budget, then the fault rules in
//! order: a `slow` rule delays and lets later rules apply; any other rule that fires answers the
//! request itself (first one wins). Rate decisions come from a RNG seeded with the tenant seed,
//! so a sequence of requests meets the same faults every run.
//!
//! # Rule syntax
//!
//! `KIND[=VALUE][:TRIGGER][:CMDLET]`, several separated by `;` (`EXO_SIM_FAULTS`) or given as
//! repeated `--fault` flags:
//!
//! | kind | value | answer |
//! |---|---|---|
//! | `429` | Retry-After seconds, decimal (default 1) | 429, `Retry-After`, `Rate-Limit-Remaining: 0`, `Rate-Limit-Reset` |
//! | `503` | optional Retry-After seconds | 503 |
//! | `504` | - | 504 |
//! | `expired` (`401`) | - | the 401 of an expired token; that token stays expired |
//! | `403` | - | 403 `CmdletAccessDeniedException` |
//! | `reset` | - | the connection closes without a response |
//! | `slow` | delay: `500ms`, `2s` | the normal answer, late |
//! | `malformed` | - | 200 whose JSON body is cut short |
//! | `partial` | - | 200 whose envelope has an `@adminapi.errors` entry |
//! | `transient` | exception name, optional `/503` (default `DCOverloadedException`, 500) | 500/503 naming the exception |
//!
//! TRIGGER: a rate `0.2` / `1.0` / `20%` (default `1.0`), or a count `3x` (the next 3 matching
//! requests). CMDLET: only that cmdlet (any case); `@token` aims at the token endpoint instead.
//! Examples: `429:0.2`, `503:0.1:Get-MobileDevice`, `slow=500ms:1.0`, `429=0.5:2x`,
//! `transient=StorageTransientException/503:1x`, `reset:1x:@token`.
//!
//! Rate limit (`EXO_SIM_RATE_LIMIT`, `--rate-limit`): `N/WINDOW`, e.g. `100/10s`.

mod admin;
mod layer;
mod rate_limit;
pub(crate) mod request_log;
mod rule;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use tokio::time::Instant;

pub(crate) use admin::{
    faults_delete, faults_get, faults_post, faults_put, requests_delete, requests_get,
};
pub(crate) use layer::{fault_layer, token_fault_layer};
pub use rate_limit::RateLimit;
pub use request_log::{redacted_authorization, RequestRecord};
pub use rule::{
    parse_fault_rules, FaultKind, FaultParseError, FaultRule, Trigger, TRANSIENT_EXCEPTIONS,
};

use super::rng::SplitMix64;
use super::SimState;

/// Label of the `injected` counter for requests refused by the rate-limit budget.
pub const RATE_LIMITED: &str = "ratelimit";

/// A rule and how it has fired so far.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRuleStatus {
    /// The rule.
    pub rule: FaultRule,
    /// Firings left for a count rule (`None` for a rate rule).
    pub remaining: Option<u64>,
    /// How many requests it hit.
    pub fired: u64,
}

/// Which endpoint a request is for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target<'a> {
    /// InvokeCommand, with the cmdlet name of the body when it has one.
    Invoke(Option<&'a str>),
    /// The token endpoint.
    Token,
}

/// The budget state sent back as `Rate-Limit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Budget {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// Seconds until the window restarts.
    pub(crate) reset_secs: f64,
}

/// What to do with one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Decision {
    pub(crate) delay_ms: u64,
    /// The budget, when a rate limit is set.
    pub(crate) budget: Option<Budget>,
    /// Over budget: answer 429.
    pub(crate) over_budget: bool,
    /// The fault that answers the request.
    pub(crate) fault: Option<FaultKind>,
}

#[derive(Debug)]
struct State {
    rules: Vec<FaultRuleStatus>,
    rng: SplitMix64,
    seed: u64,
    received: BTreeMap<String, u64>,
    received_total: u64,
    injected: BTreeMap<&'static str, u64>,
    rate_limit: Option<RateLimit>,
    window: Option<(Instant, u32)>,
}

/// The fault rules, counters and rate limit of one simulator (see the module doc). Methods take
/// `&self`; changes apply to the next request.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<State>,
}

fn status(rule: FaultRule) -> FaultRuleStatus {
    FaultRuleStatus {
        remaining: match rule.trigger {
            Trigger::Count(n) => Some(n),
            Trigger::Rate(_) => None,
        },
        rule,
        fired: 0,
    }
}

fn rng_for(seed: u64) -> SplitMix64 {
    SplitMix64::derive(seed, "faults")
}

impl Faults {
    /// Faults with `rules` and `rate_limit`, rate decisions seeded by `seed`.
    pub fn new(seed: u64, rules: Vec<FaultRule>, rate_limit: Option<RateLimit>) -> Self {
        Self {
            state: Mutex::new(State {
                rules: rules.into_iter().map(status).collect(),
                rng: rng_for(seed),
                seed,
                received: BTreeMap::new(),
                received_total: 0,
                injected: BTreeMap::new(),
                rate_limit,
                window: None,
            }),
        }
    }

    // Every write leaves the state consistent, so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule after the existing ones.
    pub fn push(&self, rule: FaultRule) {
        self.lock().rules.push(status(rule));
    }

    /// Replaces every rule and restarts the RNG from the seed, so the same rules meet the same
    /// requests again.
    pub fn set(&self, rules: Vec<FaultRule>) {
        let mut s = self.lock();
        s.rules = rules.into_iter().map(status).collect();
        s.rng = rng_for(s.seed);
    }

    /// Removes every rule (the rate limit and counters stay).
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// The rules in order, with their firing counts.
    pub fn rules(&self) -> Vec<FaultRuleStatus> {
        self.lock().rules.clone()
    }

    /// Restarts rate decisions from `seed`.
    pub fn reseed(&self, seed: u64) {
        let mut s = self.lock();
        s.seed = seed;
        s.rng = rng_for(seed);
    }

    /// The seed of rate decisions.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// Sets (or with `None` removes) the normal-traffic budget; a new window starts.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        let mut s = self.lock();
        s.rate_limit = limit;
        s.window = None;
    }

    /// The normal-traffic budget, if any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.lock().rate_limit
    }

    /// InvokeCommand requests received for `cmdlet` (any case), faulted or not, authenticated or
    /// not, every page counted. Unknown cmdlets count under the name sent; a body without a
    /// cmdlet name counts under `""`.
    pub fn received(&self, cmdlet: &str) -> u64 {
        let s = self.lock();
        s.received
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(cmdlet.trim()))
            .map(|(_, n)| *n)
            .sum()
    }

    /// Every InvokeCommand request received.
    pub fn received_total(&self) -> u64 {
        self.lock().received_total
    }

    /// Per-cmdlet received counts.
    pub fn received_by_cmdlet(&self) -> BTreeMap<String, u64> {
        self.lock().received.clone()
    }

    /// Requests answered (or delayed) by faults of `kind` ([`FaultKind::label`], or
    /// [`RATE_LIMITED`] for the budget).
    pub fn injected(&self, kind: &str) -> u64 {
        self.lock()
            .injected
            .get(kind.to_ascii_lowercase().as_str())
            .copied()
            .unwrap_or(0)
    }

    /// Injected counts by kind label.
    pub fn injected_by_kind(&self) -> BTreeMap<String, u64> {
        self.lock()
            .injected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    /// Sets the received and injected counters back to zero.
    pub fn reset_counters(&self) {
        let mut s = self.lock();
        s.received.clear();
        s.received_total = 0;
        s.injected.clear();
    }

    /// Counts the request and decides its fate.
    pub(crate) fn decide(&self, target: Target<'_>, now: Instant) -> Decision {
        let mut s = self.lock();
        let mut decision = Decision::default();
        let cmdlet = match target {
            Target::Invoke(name) => {
                let key = name.map_or_else(String::new, canonical_cmdlet);
                *s.received.entry(key).or_insert(0) += 1;
                s.received_total += 1;
                if let Some(limit) = s.rate_limit {
                    let (budget, over) = spend(&mut s.window, limit, now);
                    decision.budget = Some(budget);
                    if over {
                        decision.over_budget = true;
                        *s.injected.entry(RATE_LIMITED).or_insert(0) += 1;
                        return decision;
                    }
                }
                name
            }
            Target::Token => None,
        };
        let State {
            rules,
            rng,
            injected,
            ..
        } = &mut *s;
        for r in rules.iter_mut() {
            let applies = match (&r.rule.cmdlet, target) {
                (Some(c), Target::Token) => c.eq_ignore_ascii_case("@token"),
                (None, Target::Token) => false,
                (Some(c), Target::Invoke(_)) => {
                    cmdlet.is_some_and(|name| name.trim().eq_ignore_ascii_case(c.trim()))
                }
                (None, Target::Invoke(_)) => true,
            };
            if !applies {
                continue;
            }
            let fires = match (&mut r.remaining, r.rule.trigger) {
                (Some(0), _) => false,
                (Some(n), _) => {
                    *n -= 1;
                    true
                }
                (None, Trigger::Rate(p)) => rng.chance(p),
                (None, Trigger::Count(_)) => false,
            };
            if !fires {
                continue;
            }
            r.fired += 1;
            *injected.entry(r.rule.kind.label()).or_insert(0) += 1;
            match &r.rule.kind {
                FaultKind::Slow { delay_ms } => {
                    decision.delay_ms = decision.delay_ms.saturating_add(*delay_ms);
                }
                other => {
                    decision.fault = Some(other.clone());
                    break;
                }
            }
        }
        decision
    }
}

/// Spends one request of the budget: the headers to send and whether it is over.
fn spend(window: &mut Option<(Instant, u32)>, limit: RateLimit, now: Instant) -> (Budget, bool) {
    let (start, used) = match *window {
        Some((start, used)) if now.duration_since(start) < limit.window => (start, used),
        _ => (now, 0),
    };
    let used = used.saturating_add(1);
    *window = Some((start, used));
    let reset = limit.window.saturating_sub(now.duration_since(start));
    let budget = Budget {
        limit: limit.limit,
        remaining: limit.limit.saturating_sub(used),
        reset_secs: reset.as_secs_f64(),
    };
    (budget, used > limit.limit)
}

/// The cmdlet's canonical name when the simulator knows it, else the name as sent.
fn canonical_cmdlet(name: &str) -> String {
    super::cmdlets::find(name).map_or_else(|| name.trim().to_owned(), |c| c.name.to_owned())
}

impl SimState {
    /// Fault rules, traffic counters and the rate limit of this simulator.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// InvokeCommand requests received for `cmdlet` (any case), including faulted and
    /// unauthenticated ones, every page counted. Compare [`SimState::request_count`], which
    /// counts only requests that passed authentication and reached the cmdlet.
    pub fn received(&self, cmdlet: &str) -> u64 {
        self.faults().received(cmdlet)
    }

    /// Requests answered or delayed by faults of `kind` (a [`FaultKind::label`] or
    /// [`RATE_LIMITED`]).
    pub fn injected(&self, kind: &str) -> u64 {
        self.faults().injected(kind)
    }

    /// The last requests the simulator received (oldest first, at most 512), `/_sim/` excluded.
    pub fn recent_requests(&self) -> Vec<RequestRecord> {
        self.inner.requests.recent()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.inner.requests.clear();
    }
}

#[cfg(test)]
mod tests;
