//! The simulator's clock and the tenant churn it drives.
//!
//! The clock either follows wall time ([`ClockMode::Wall`], the default: a sync run a few minutes
//! after the last one finds real changes) or stands still until advanced ([`ClockMode::Frozen`],
//! for tests). [`SimState::now`] is its reading; token expiry and every generated time use it.
//!
//! Churn happens per whole simulated minute ("tick") since the tenant was generated: tick `k`
//! draws its events from a PRNG stream derived from the seed and `k` alone, so the tenant at a
//! given simulated time is the same however the clock got there (one big advance or many small
//! ones), provided no write cmdlet intervened. A tick is applied once the clock has passed its
//! end, lazily: by the next InvokeCommand, `GET /_sim/stats`, or [`SimState::advance`].
//!
//! Per tick, the numbers of devices added, changed and removed are Poisson-distributed with the
//! configured hourly rates divided by 60. Devices also sync as time passes (their statistics'
//! `LastSuccessSync`, `LastSyncAttemptTime` move) without counting as changes: syncing does not
//! change the directory object.
//!
//! Admin endpoint: `GET /_sim/clock` reads the clock; `POST /_sim/clock` with
//! `{"advanceSeconds": 3600}` and/or `{"mode": "frozen" | "wall"}` changes it and answers the
//! [`ChurnReport`] of that call as JSON.

use std::sync::{Mutex, MutexGuard};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::generator::churn;
use super::wire::exo_date;
use super::SimState;

/// Longest single advance (longer ones are cut to this).
pub(crate) const MAX_ADVANCE_DAYS: i64 = 3_660;

/// Simulated seconds per churn tick.
pub(crate) const TICK_SECS: i64 = 60;

/// How the simulator's clock moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// Follows wall time (plus whatever it was advanced by).
    #[default]
    Wall,
    /// Stands still; only [`SimState::advance`] or `POST /_sim/clock` move it.
    Frozen,
}

impl ClockMode {
    /// `wall` or `frozen` (any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "wall" => Ok(Self::Wall),
            "frozen" => Ok(Self::Frozen),
            _ => Err(format!("must be wall or frozen, got {text:?}")),
        }
    }

    /// `wall` or `frozen`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wall => "wall",
            Self::Frozen => "frozen",
        }
    }
}

/// Expected churn per simulated hour (Poisson means; fractions are fine).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChurnRates {
    /// New device partnerships.
    pub added_per_hour: f64,
    /// Changes to existing devices (OS or client upgrade, Intune enrolment or compliance,
    /// personal allow/block, leaving discovery, wipe request); each bumps `WhenChangedUTC`.
    pub changed_per_hour: f64,
    /// Device partnerships deleted (old phones, mostly dormant ones).
    pub removed_per_hour: f64,
}

impl ChurnRates {
    /// No churn at all.
    pub const OFF: Self = Self {
        added_per_hour: 0.0,
        changed_per_hour: 0.0,
        removed_per_hour: 0.0,
    };

    /// The default for a tenant of `devices` devices: per hour 1% added, 5% changed, 1% removed,
    /// at least one of each (none for an empty tenant).
    pub fn for_devices(devices: usize) -> Self {
        if devices == 0 {
            return Self::OFF;
        }
        let n = devices as f64;
        Self {
            added_per_hour: (n * 0.01).max(1.0),
            changed_per_hour: (n * 0.05).max(1.0),
            removed_per_hour: (n * 0.01).max(1.0),
        }
    }

    /// Parses `EXO_SIM_CHURN` / `--churn`: `auto` (`Ok(None)`: [`ChurnRates::for_devices`]),
    /// `off`, or `add=N,change=N,remove=N` (per hour; missing keys are 0).
    pub fn parse(spec: &str) -> Result<Option<Self>, String> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("auto") {
            return Ok(None);
        }
        if spec.eq_ignore_ascii_case("off") || spec == "0" {
            return Ok(Some(Self::OFF));
        }
        let mut rates = Self::OFF;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!("expects auto, off or add=N,change=N,remove=N; got {part:?}")
            })?;
            let n: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite() && (0.0..=1.0e7).contains(n))
                .ok_or_else(|| {
                    format!("{key} must be a number of events per hour, got {value:?}")
                })?;
            match key.trim().to_ascii_lowercase().as_str() {
                "add" | "added" => rates.added_per_hour = n,
                "change" | "changed" => rates.changed_per_hour = n,
                "remove" | "removed" => rates.removed_per_hour = n,
                other => {
                    return Err(format!(
                        "unknown churn kind {other:?} (add, change, remove)"
                    ))
                }
            }
        }
        Ok(Some(rates))
    }
}

/// What churn did between two clock readings. A device added and then changed within the span
/// is only `added`; one added and removed within it appears nowhere; a removed device is only
/// `removed`. So `added`/`removed` are exactly the GUIDs `Get-MobileDevice` gains/loses between
/// before and after, and `changed` the ones it returns in both with a newer `WhenChangedUTC`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChurnReport {
    /// Start of the simulated span whose churn this covers (a tick boundary).
    pub from: DateTime<Utc>,
    /// End of that span (a tick boundary, at most the clock reading).
    pub to: DateTime<Utc>,
    /// Sorted GUIDs of devices that appeared.
    pub added: Vec<Uuid>,
    /// Sorted GUIDs of devices that changed and still exist.
    pub changed: Vec<Uuid>,
    /// Sorted GUIDs of devices that were deleted.
    pub removed: Vec<Uuid>,
    /// Sorted UPNs of the mailboxes owning any of those devices.
    pub mailboxes: Vec<String>,
}

impl ChurnReport {
    /// Whether nothing happened.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    fn to_json(&self) -> Value {
        let ids = |v: &[Uuid]| v.iter().map(Uuid::to_string).collect::<Vec<_>>();
        json!({
            "from": exo_date(&self.from),
            "to": exo_date(&self.to),
            "added": ids(&self.added),
            "changed": ids(&self.changed),
            "removed": ids(&self.removed),
            "mailboxes": self.mailboxes,
        })
    }
}

/// The clock itself: a reading anchored to a wall-clock instant.
#[derive(Debug)]
pub(crate) struct Clock {
    mode: ClockMode,
    sim_anchor: DateTime<Utc>,
    wall_anchor: DateTime<Utc>,
    rates: ChurnRates,
}

impl Clock {
    pub(crate) fn new(mode: ClockMode, start: DateTime<Utc>, rates: ChurnRates) -> Self {
        Self {
            mode,
            sim_anchor: start,
            wall_anchor: Utc::now(),
            rates,
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        match self.mode {
            ClockMode::Frozen => self.sim_anchor,
            ClockMode::Wall => self.sim_anchor + (Utc::now() - self.wall_anchor),
        }
    }

    fn advance(&mut self, by: Duration) {
        let by = by.min(Duration::days(MAX_ADVANCE_DAYS));
        self.sim_anchor = self
            .sim_anchor
            .checked_add_signed(by)
            .unwrap_or(self.sim_anchor);
    }

    fn set_mode(&mut self, mode: ClockMode) {
        self.sim_anchor = self.now();
        self.wall_anchor = Utc::now();
        self.mode = mode;
    }
}

impl SimState {
    fn clock(&self) -> MutexGuard<'_, Clock> {
        self.inner.clock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The simulator's clock reading (see the module docs).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock().now()
    }

    /// How the clock moves now.
    pub fn clock_mode(&self) -> ClockMode {
        self.clock().mode
    }

    /// Switches between following wall time and standing still, keeping the current reading.
    pub fn set_clock_mode(&self, mode: ClockMode) {
        self.clock().set_mode(mode);
    }

    /// The churn rates in force.
    pub fn churn_rates(&self) -> ChurnRates {
        self.clock().rates
    }

    /// Changes the churn rates from now on.
    pub fn set_churn_rates(&self, rates: ChurnRates) {
        self.clock().rates = rates;
    }

    /// Moves the clock forward by `by` and applies the churn of every tick that has ended (also
    /// ticks that ended before this call and were not applied yet); reports exactly what changed.
    pub fn advance(&self, by: std::time::Duration) -> ChurnReport {
        let by = Duration::from_std(by).unwrap_or(Duration::days(MAX_ADVANCE_DAYS));
        self.clock().advance(by);
        self.catch_up()
    }

    /// Applies the churn of every tick that ended at or before the clock reading. Takes the
    /// tenant write lock only when a tick is due.
    pub(crate) fn catch_up(&self) -> ChurnReport {
        let (now, rates) = {
            let c = self.clock();
            (c.now(), c.rates)
        };
        let due = |epoch: DateTime<Utc>, done: u64| {
            let target = (now - epoch).num_seconds().max(0) / TICK_SECS;
            u64::try_from(target).unwrap_or(0) > done
        };
        {
            let t = self.tenant();
            if !due(t.epoch, t.churn_ticks) {
                let at = t.epoch + Duration::seconds(t.churn_ticks as i64 * TICK_SECS);
                return ChurnReport {
                    from: at,
                    to: at,
                    ..ChurnReport::default()
                };
            }
        }
        let mut tenant = self.tenant_mut();
        churn::run(&mut tenant, &rates, now)
    }
}

/// Shared lock type for the clock inside `SimState`.
pub(crate) type ClockCell = Mutex<Clock>;

fn clock_json(state: &SimState) -> Value {
    let rates = state.churn_rates();
    json!({
        "now": exo_date(&state.now()),
        "mode": state.clock_mode().as_str(),
        "churnPerHour": {
            "added": rates.added_per_hour,
            "changed": rates.changed_per_hour,
            "removed": rates.removed_per_hour,
        },
    })
}

/// `GET /_sim/clock`.
pub(crate) async fn get_clock(State(state): State<SimState>) -> Json<Value> {
    Json(clock_json(&state))
}

/// `POST /_sim/clock`: `{"advanceSeconds": n, "mode": "wall"|"frozen"}` (both optional).
pub(crate) async fn post_clock(State(state): State<SimState>, body: axum::body::Bytes) -> Response {
    let bad = |m: String| (StatusCode::BAD_REQUEST, Json(json!({"error": m}))).into_response();
    let req: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return bad(format!("body must be JSON: {e}")),
        }
    };
    let mode = match req.get("mode").filter(|v| !v.is_null()) {
        None => None,
        Some(Value::String(s)) => match ClockMode::parse(s) {
            Ok(m) => Some(m),
            Err(e) => return bad(format!("mode {e}")),
        },
        Some(other) => return bad(format!("mode must be a string, got {other}")),
    };
    let seconds = match req.get("advanceSeconds").filter(|v| !v.is_null()) {
        None => 0.0,
        Some(v) => match v
            .as_f64()
            .filter(|s| s.is_finite() && (0.0..=366.0 * 86_400.0).contains(s))
        {
            Some(s) => s,
            None => {
                return bad(format!(
                "advanceSeconds must be a number of seconds from 0 to 31622400 (366 days), got {v}"
            ))
            }
        },
    };
    if let Some(m) = mode {
        state.set_clock_mode(m);
    }
    let state2 = state.clone();
    let report = tokio::task::spawn_blocking(move || {
        state2.advance(std::time::Duration::from_secs_f64(seconds))
    })
    .await;
    match report {
        Ok(report) => {
            let mut out = clock_json(&state);
            out["report"] = report.to_json();
            Json(out).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_specs_parse_and_bad_ones_name_the_problem() {
        assert_eq!(ChurnRates::parse("auto"), Ok(None));
        assert_eq!(ChurnRates::parse("OFF"), Ok(Some(ChurnRates::OFF)));
        let r = ChurnRates::parse("add=2, change=10.5").ok().flatten();
        assert_eq!(
            r,
            Some(ChurnRates {
                added_per_hour: 2.0,
                changed_per_hour: 10.5,
                removed_per_hour: 0.0
            })
        );
        for bad in ["add", "add=-1", "grow=3", "add=lots"] {
            assert!(ChurnRates::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ChurnRates::for_devices(0), ChurnRates::OFF);
        assert_eq!(ChurnRates::for_devices(400).changed_per_hour, 20.0);
    }

    #[test]
    fn a_frozen_clock_moves_only_when_advanced() {
        let t0 = DateTime::<Utc>::default();
        let mut c = Clock::new(ClockMode::Frozen, t0, ChurnRates::OFF);
        assert_eq!(c.now(), t0);
        c.advance(Duration::seconds(90));
        assert_eq!(c.now(), t0 + Duration::seconds(90));
        c.set_mode(ClockMode::Wall);
        assert!(c.now() >= t0 + Duration::seconds(90));
        assert_eq!(ClockMode::parse("Frozen"), Ok(ClockMode::Frozen));
        assert!(ClockMode::parse("sundial").is_err());
    }
}
