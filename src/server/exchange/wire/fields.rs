//! Lenient reading of one output object (a flat property bag, spec §3). Exchange is loose about
//! numbers vs strings vs booleans (`"True"`, `"8"`), so every reader accepts the plausible
//! spellings and turns anything else into `None`: one odd field never fails a whole page.
//!
//! Two ways in, one set of rules ([`Scalar`]): the device outputs, read by the hundred thousand,
//! go straight from the page's bytes into their fields ([`lenient_object!`]: no map, no
//! intermediate values, text borrowed until it is kept); the configuration outputs, read a few
//! at a time and holding lists and limits, go through a [`Bag`].

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::parse_date;

/// One field's value as sent, reduced to what a lenient reader can use: text (borrowed from
/// the page when it holds no escapes), a number, a boolean, or nothing (`null`, and lists and
/// objects where a scalar belongs).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(Number),
    Bool(bool),
    Absent,
}

impl<'a> Scalar<'a> {
    /// The scalar view of a JSON value.
    pub(crate) fn of(v: &'a Value) -> Self {
        match v {
            Value::String(s) => Self::Text(Cow::Borrowed(s)),
            Value::Number(n) => Self::Number(n.clone()),
            Value::Bool(b) => Self::Bool(*b),
            Value::Null | Value::Array(_) | Value::Object(_) => Self::Absent,
        }
    }

    /// Text: strings as sent, numbers and booleans in their JSON spelling.
    pub(crate) fn text(self) -> Option<String> {
        match self {
            Self::Text(s) => Some(s.into_owned()),
            Self::Number(n) => Some(n.to_string()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Absent => None,
        }
    }

    /// A date in either admin API format.
    pub(crate) fn date(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Text(s) => parse_date(&s),
            _ => None,
        }
    }

    /// `true`/`false`, also as `"True"`, `"false"`, `1`, `"0"`.
    pub(crate) fn flag(self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(b),
            Self::Number(n) => match n.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Self::Text(s) => {
                let s = s.trim();
                if s.eq_ignore_ascii_case("true") || s == "1" {
                    Some(true)
                } else if s.eq_ignore_ascii_case("false") || s == "0" {
                    Some(false)
                } else {
                    None
                }
            }
            Self::Absent => None,
        }
    }

    /// A whole number that fits `N`, also when sent as text (`"8"`) or as `8.0`.
    pub(crate) fn int<N: TryFrom<i64>>(self) -> Option<N> {
        let whole =
            |f: f64| (f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT_F64).then_some(f);
        let n = match self {
            Self::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().and_then(whole).map(|f| f as i64)),
            Self::Text(s) => {
                let s = s.trim();
                s.parse::<i64>()
                    .ok()
                    .or_else(|| s.parse::<f64>().ok().and_then(whole).map(|f| f as i64))
            }
            Self::Bool(_) | Self::Absent => None,
        }?;
        N::try_from(n).ok()
    }

    /// An enumeration value; blank text counts as absent, unknown text is kept (`Other`).
    pub(crate) fn enumeration<E: for<'e> From<&'e str>>(self) -> Option<E> {
        let raw = self.text()?;
        let raw = raw.trim();
        (!raw.is_empty()).then(|| E::from(raw))
    }

    /// `"Unlimited"`, in any case and with spaces around.
    fn is_unlimited(&self) -> bool {
        matches!(self, Self::Text(s) if s.trim().eq_ignore_ascii_case("unlimited"))
    }

    /// The same value, owning its text.
    pub(crate) fn into_owned(self) -> Scalar<'static> {
        match self {
            Self::Text(s) => Scalar::Text(Cow::Owned(s.into_owned())),
            Self::Number(n) => Scalar::Number(n),
            Self::Bool(b) => Scalar::Bool(b),
            Self::Absent => Scalar::Absent,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(s)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(n.into()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Ok(Number::from_f64(n).map_or(Scalar::Absent, Scalar::Number))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Absent)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Absent)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Absent)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Absent)
            }
        }
        d.deserialize_any(V)
    }
}

/// An object key, borrowed from the page when it holds no escapes.
#[derive(Deserialize)]
pub(crate) struct Key<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// Implements `Deserialize` for an output type whose fields are all scalars, reading each
/// field straight from the page with the [`Scalar`] reader named next to it:
///
/// ```text
/// lenient_object!(MobileDevice {
///     friendly_name: text = "FriendlyName",
///     first_sync_time: date = "FirstSyncTime",
/// });
/// ```
///
/// Only a JSON object is accepted. A key is matched in its exact spelling first and then in any
/// case (`DeviceID` vs `DeviceId`); keys holding `@` (`Guid@odata.type`) are annotations and,
/// like unknown keys, are skipped without being read into memory. A key sent twice: the last
/// copy wins. The type must implement `Default` (every field absent).
macro_rules! lenient_object {
    ($ty:ident { $($field:ident: $reader:ident = $key:literal,)+ }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::{IgnoredAny, MapAccess, Visitor};
                use $crate::server::exchange::wire::fields::{Key, Scalar};

                const KEYS: &[&str] = &[$($key),+];
                #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
                enum Field { $($field),+ }

                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("an object (", stringify!($ty), ")"))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = $ty::default();
                        // Fields met in their exact spelling (they beat any other case).
                        let mut exact = 0u64;
                        let mut loose: Vec<(String, Scalar<'static>)> = Vec::new();
                        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                            match key.as_ref() {
                                $($key => {
                                    exact |= 1 << Field::$field as u64;
                                    out.$field = map.next_value::<Scalar<'de>>()?.$reader();
                                })+
                                k if !k.contains('@')
                                    && KEYS.iter().any(|known| known.eq_ignore_ascii_case(k)) =>
                                {
                                    let value = map.next_value::<Scalar<'de>>()?.into_owned();
                                    loose.push((k.to_owned(), value));
                                }
                                _ => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        for (key, value) in loose {
                            $(if exact & (1 << Field::$field as u64) == 0
                                && $key.eq_ignore_ascii_case(&key)
                            {
                                out.$field = value.clone().$reader();
                            })+
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}
pub(crate) use lenient_object;

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

    fn scalar(&self, key: &str) -> Option<Scalar<'_>> {
        self.get(key).map(Scalar::of)
    }

    /// A scalar as text: strings as sent, numbers and booleans in their JSON spelling.
    pub(crate) fn text(&self, key: &str) -> Option<String> {
        self.scalar(key)?.text()
    }

    /// A date in either admin API format.
    pub(crate) fn date(&self, key: &str) -> Option<DateTime<Utc>> {
        self.scalar(key)?.date()
    }

    /// `true`/`false`, also as `"True"`, `"false"`, `1`, `"0"`.
    pub(crate) fn flag(&self, key: &str) -> Option<bool> {
        self.scalar(key)?.flag()
    }

    /// A whole number that fits `N`, also when sent as text (`"8"`) or as `8.0`.
    pub(crate) fn int<N: TryFrom<i64>>(&self, key: &str) -> Option<N> {
        self.scalar(key)?.int()
    }

    /// A list of texts. A single text counts as a one-item list; absent, `null` and `""` give
    /// an empty list; items that are not scalars are skipped.
    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::Array(items)) => {
                items.iter().filter_map(|v| Scalar::of(v).text()).collect()
            }
            Some(Value::String(s)) if !s.trim().is_empty() => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// An enumeration value; blank text counts as absent, unknown text is kept (`Other`).
    pub(crate) fn enumeration<E: for<'a> From<&'a str>>(&self, key: &str) -> Option<E> {
        self.scalar(key)?.enumeration()
    }

    /// `"Unlimited"` or a whole number.
    pub(crate) fn limit_int(&self, key: &str) -> Option<Limit<u32>> {
        let v = self.scalar(key)?;
        if v.is_unlimited() {
            return Some(Limit::Unlimited);
        }
        v.int().map(Limit::Value)
    }

    /// `"Unlimited"` or a .NET time span (`d.hh:mm:ss`, `hh:mm:ss`).
    pub(crate) fn limit_span(&self, key: &str) -> Option<Limit<TimeSpan>> {
        let v = self.scalar(key)?;
        if v.is_unlimited() {
            return Some(Limit::Unlimited);
        }
        match v {
            Scalar::Text(s) => TimeSpan::parse(&s).map(Limit::Value),
            _ => None,
        }
    }
}

/// Beyond this an `f64` no longer holds every whole number exactly.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

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
