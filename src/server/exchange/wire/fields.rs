//! Lenient reading of one output object (a flat property bag, spec §3). Exchange is loose about
//! numbers vs strings vs booleans (`"True"`, `"8"`), so every reader accepts the plausible
//! spellings and turns anything else into `None`: one odd field never fails a whole page.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::parse_date;

/// One output object. Only a JSON object is accepted: anything else is a protocol error.
/// Keys holding `@` (`Guid@odata.type`, `X@data.type`) are annotations and are never read.
#[derive(Debug, Default)]
pub(crate) struct Bag(Map<String, Value>);

impl<'de> Deserialize<'de> for Bag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::<String, Value>::deserialize(d).map(Bag)
    }
}

/// Implements `Deserialize` for output types through `Bag` and their `from_bag`.
macro_rules! from_bag {
    ($($ty:ty),+ $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <super::fields::Bag as serde::Deserialize>::deserialize(d)
                    .map(|bag| Self::from_bag(&bag))
            }
        }
    )+};
}
pub(crate) use from_bag;

impl Bag {
    /// The value of `key` (exact spelling first, then any case: `DeviceID` vs `DeviceId`);
    /// `null` counts as absent.
    fn get(&self, key: &str) -> Option<&Value> {
        let found = self.0.get(key).or_else(|| {
            self.0
                .iter()
                .find(|(k, _)| !k.contains('@') && k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        });
        found.filter(|v| !v.is_null())
    }

    /// A scalar as text: strings as sent, numbers and booleans in their JSON spelling.
    pub(crate) fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
            _ => None,
        }
    }

    /// A date in either admin API format.
    pub(crate) fn date(&self, key: &str) -> Option<DateTime<Utc>> {
        self.get(key)?.as_str().and_then(parse_date)
    }

    /// `true`/`false`, also as `"True"`, `"false"`, `1`, `"0"`.
    pub(crate) fn flag(&self, key: &str) -> Option<bool> {
        bool_of(self.get(key)?)
    }

    /// A whole number that fits `N`, also when sent as text (`"8"`) or as `8.0`.
    pub(crate) fn int<N: TryFrom<i64>>(&self, key: &str) -> Option<N> {
        int_of(self.get(key)?).and_then(|n| N::try_from(n).ok())
    }

    /// A list of texts. A single text counts as a one-item list; absent, `null` and `""` give
    /// an empty list; items that are not scalars are skipped.
    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
                    _ => None,
                })
                .collect(),
            Some(Value::String(s)) if !s.trim().is_empty() => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// An enumeration value; blank text counts as absent, unknown text is kept (`Other`).
    pub(crate) fn enumeration<E: for<'a> From<&'a str>>(&self, key: &str) -> Option<E> {
        let raw = self.text(key)?;
        let raw = raw.trim();
        (!raw.is_empty()).then(|| E::from(raw))
    }

    /// `"Unlimited"` or a whole number.
    pub(crate) fn limit_int(&self, key: &str) -> Option<Limit<u32>> {
        let v = self.get(key)?;
        if is_unlimited(v) {
            return Some(Limit::Unlimited);
        }
        int_of(v)
            .and_then(|n| u32::try_from(n).ok())
            .map(Limit::Value)
    }

    /// `"Unlimited"` or a .NET time span (`d.hh:mm:ss`, `hh:mm:ss`).
    pub(crate) fn limit_span(&self, key: &str) -> Option<Limit<TimeSpan>> {
        let v = self.get(key)?;
        if is_unlimited(v) {
            return Some(Limit::Unlimited);
        }
        v.as_str().and_then(TimeSpan::parse).map(Limit::Value)
    }
}

fn is_unlimited(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("unlimited"))
}

pub(crate) fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Beyond this an `f64` no longer holds every whole number exactly.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

fn int_of(v: &Value) -> Option<i64> {
    let whole = |f: f64| (f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT_F64).then_some(f);
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().and_then(whole).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(whole).map(|f| f as i64))
        }
        _ => None,
    }
}

/// A value that is either `Unlimited` or bounded (Exchange's `Unlimited<T>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limit<T> {
    Unlimited,
    Value(T),
}

impl<T: Serialize> Serialize for Limit<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Unlimited => s.serialize_str("Unlimited"),
            Self::Value(v) => v.serialize(s),
        }
    }
}

/// A .NET `TimeSpan` (`[d.]hh:mm:ss[.fffffff]`), whole ticks of 100 ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimeSpan(pub Duration);

impl TimeSpan {
    /// A span of whole minutes.
    #[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
    pub(crate) fn minutes(m: u64) -> Self {
        Self(Duration::from_secs(m.saturating_mul(60)))
    }

    /// A span of whole days.
    #[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
    pub(crate) fn days(d: u64) -> Self {
        Self(Duration::from_secs(d.saturating_mul(86_400)))
    }

    /// Parses `hh:mm`, `hh:mm:ss`, `d.hh:mm:ss` with an optional fraction of up to 7 digits.
    /// Signs, out-of-range parts and anything else give `None`.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.trim().split(':').collect();
        let (head, minutes, seconds) = match parts.as_slice() {
            [h, m] => (*h, *m, "0"),
            [h, m, s] => (*h, *m, *s),
            _ => return None,
        };
        let (days, hours) = match head.split_once('.') {
            Some((d, h)) => (digits(d)?, digits(h)?),
            None => (0, digits(head)?),
        };
        // The fraction is in tenths, hundredths... of a second: `.5` is 500 ms.
        let (seconds, nanos) = match seconds.split_once('.') {
            Some((s, f)) if !f.is_empty() && f.len() <= 7 => {
                let scale = 10u64.pow(9 - u32::try_from(f.len()).ok()?);
                (digits(s)?, digits(f)? * scale)
            }
            Some(_) => return None,
            None => (digits(seconds)?, 0),
        };
        let minutes = digits(minutes)?;
        if hours > 23 || minutes > 59 || seconds > 59 {
            return None;
        }
        let secs = days
            .checked_mul(86_400)?
            .checked_add(hours * 3_600 + minutes * 60 + seconds)?;
        Some(Self(Duration::new(secs, u32::try_from(nanos).ok()?)))
    }
}

/// Plain decimal digits only (no sign, no spaces), small enough to never overflow.
fn digits(s: &str) -> Option<u64> {
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl fmt::Display for TimeSpan {
    /// `hh:mm:ss`, with `d.` in front when there are days and `.fffffff` after when there is a
    /// fraction: the form PowerShell binds back to a `TimeSpan`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.as_secs();
        let (days, rest) = (total / 86_400, total % 86_400);
        if days > 0 {
            write!(f, "{days}.")?;
        }
        write!(
            f,
            "{:02}:{:02}:{:02}",
            rest / 3_600,
            rest % 3_600 / 60,
            rest % 60
        )?;
        let ticks = self.0.subsec_nanos() / 100;
        if ticks > 0 {
            write!(f, ".{ticks:07}")?;
        }
        Ok(())
    }
}

impl Serialize for TimeSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
