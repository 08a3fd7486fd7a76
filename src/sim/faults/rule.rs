//! Fault rules and their compact text syntax (`KIND[=PARAM][:TRIGGER][:CMDLET]`), shared by the
//! `--fault` flag, `EXO_SIM_FAULTS` and `/_sim/faults`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The exception names that the official module retries on (spec §5).
pub const TRANSIENT_EXCEPTIONS: [&str; 5] = [
    "DCOverloadedException",
    "SuitabilityDirectoryException",
    "ServerInMMException",
    "ADServerSettingsChangedException",
    "StorageTransientException",
];

/// What an injected fault does to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// `429` with `Retry-After: <secs>` (decimal allowed) and `Rate-Limit-Remaining: 0`.
    Throttle {
        /// Seconds the client must wait.
        retry_after_secs: f64,
    },
    /// `503` Service Unavailable, with `Retry-After` when set.
    Unavailable {
        /// Optional `Retry-After` in seconds.
        retry_after_secs: Option<f64>,
    },
    /// `504` Gateway Timeout.
    GatewayTimeout,
    /// `401` exactly like an expired token; the presented token is expired for good, so the
    /// client must get a new one.
    ExpiredToken,
    /// `403`: the cmdlet is not available to the caller (missing RBAC role).
    Forbidden,
    /// The connection is closed without a valid HTTP response.
    ConnectionReset,
    /// The request is answered normally after a delay (other rules still apply after it).
    Slow {
        /// The delay in milliseconds.
        delay_ms: u64,
    },
    /// `200` with a JSON content type whose body is cut short (invalid JSON).
    MalformedJson,
    /// `200` whose envelope carries an `@adminapi.errors` entry next to the values.
    PartialFailure,
    /// `200` with an envelope that has no `value` at all (`{"@odata.context": …}`): not what
    /// Exchange sends, and not an empty result.
    NoValue,
    /// `200` with an empty result (`"value": []`, no next page): what an empty tenant answers.
    /// On a device listing, everything stored looks removed.
    EmptyValue,
    /// `500` or `503` whose error message names a transient exception (spec §5).
    Transient {
        /// One of [`TRANSIENT_EXCEPTIONS`].
        exception: String,
        /// 500 or 503.
        status: u16,
    },
}

impl FaultKind {
    /// The kind's name in the rule syntax and in the `injected` counters: `429`, `503`, `504`,
    /// `expired`, `403`, `reset`, `slow`, `malformed`, `partial`, `novalue`, `empty` or
    /// `transient`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Throttle { .. } => "429",
            Self::Unavailable { .. } => "503",
            Self::GatewayTimeout => "504",
            Self::ExpiredToken => "expired",
            Self::Forbidden => "403",
            Self::ConnectionReset => "reset",
            Self::Slow { .. } => "slow",
            Self::MalformedJson => "malformed",
            Self::PartialFailure => "partial",
            Self::NoValue => "novalue",
            Self::EmptyValue => "empty",
            Self::Transient { .. } => "transient",
        }
    }

    fn param(&self) -> Option<String> {
        match self {
            Self::Throttle { retry_after_secs } => Some(retry_after_secs.to_string()),
            Self::Unavailable {
                retry_after_secs: Some(s),
            } => Some(s.to_string()),
            Self::Slow { delay_ms } => Some(format!("{delay_ms}ms")),
            Self::Transient { exception, status } if *status == 500 => Some(exception.clone()),
            Self::Transient { exception, status } => Some(format!("{exception}/{status}")),
            _ => None,
        }
    }

    fn parse(kind: &str, param: Option<&str>) -> Result<Self, String> {
        let no_param = |k: Self| match param {
            None => Ok(k),
            Some(p) => Err(format!("fault '{kind}' takes no value (got '={p}')")),
        };
        let secs = |p: &str| {
            p.trim()
                .trim_end_matches('s')
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && (0.0..=86_400.0).contains(s))
                .ok_or_else(|| format!("'{p}' is not a number of seconds from 0 to 86400"))
        };
        match kind.to_ascii_lowercase().as_str() {
            "429" | "throttle" => Ok(Self::Throttle {
                retry_after_secs: param.map(secs).transpose()?.unwrap_or(1.0),
            }),
            "503" | "unavailable" => Ok(Self::Unavailable {
                retry_after_secs: param.map(secs).transpose()?,
            }),
            "504" | "timeout" => no_param(Self::GatewayTimeout),
            "401" | "expired" => no_param(Self::ExpiredToken),
            "403" | "forbidden" => no_param(Self::Forbidden),
            "reset" => no_param(Self::ConnectionReset),
            "malformed" => no_param(Self::MalformedJson),
            "partial" => no_param(Self::PartialFailure),
            "novalue" => no_param(Self::NoValue),
            "empty" => no_param(Self::EmptyValue),
            "slow" => {
                let p = param.ok_or("fault 'slow' needs a delay, e.g. slow=500ms or slow=2s")?;
                Ok(Self::Slow {
                    delay_ms: parse_duration(p)?.as_millis().try_into().unwrap_or(u64::MAX),
                })
            }
            "transient" => {
                let (name, status) = param
                    .map(|p| p.split_once('/').unwrap_or((p, "500")))
                    .unwrap_or(("DCOverloadedException", "500"));
                let exception = TRANSIENT_EXCEPTIONS
                    .iter()
                    .find(|e| e.eq_ignore_ascii_case(name.trim()))
                    .ok_or_else(|| {
                        format!(
                            "'{name}' is not a transient exception; use one of {}",
                            TRANSIENT_EXCEPTIONS.join(", ")
                        )
                    })?;
                let status = match status.trim() {
                    "500" => 500,
                    "503" => 503,
                    other => return Err(format!("transient faults answer 500 or 503, not '{other}'")),
                };
                Ok(Self::Transient {
                    exception: (*exception).to_owned(),
                    status,
                })
            }
            other => Err(format!(
                "unknown fault '{other}'; use 429, 503, 504, expired, 403, reset, slow, malformed, partial or transient"
            )),
        }
    }
}

/// When a rule fires.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trigger {
    /// Each matching request with this probability (0.0 to 1.0), drawn from the seeded RNG.
    Rate(f64),
    /// The next N matching requests, then never again.
    Count(u64),
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rate(r) if r.fract() == 0.0 => write!(f, "{r:.1}"),
            Self::Rate(r) => write!(f, "{r}"),
            Self::Count(n) => write!(f, "{n}x"),
        }
    }
}

impl FromStr for Trigger {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(n) = s.strip_suffix(['x', 'X']) {
            return n
                .parse()
                .map(Self::Count)
                .map_err(|_| format!("'{s}' is not a count such as 3x"));
        }
        let rate = match s.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
            None if s.contains('.') => s.parse::<f64>(),
            None => {
                return Err(format!(
                    "'{s}' is ambiguous or not a trigger: write a rate with a decimal point (1.0, 0.2) or a percentage \
                     (20%), or a count with x (3x)"
                ))
            }
        };
        rate.ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .map(Self::Rate)
            .ok_or_else(|| format!("'{s}' is not a rate from 0.0 to 1.0"))
    }
}

/// One fault-injection rule: what to do, how often, and (optionally) for which cmdlet.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// What the fault does.
    pub kind: FaultKind,
    /// How often it fires.
    pub trigger: Trigger,
    /// Only requests of this cmdlet (any case); `None` for every InvokeCommand. `@token` targets
    /// the token endpoint instead.
    pub cmdlet: Option<String>,
}

impl FaultRule {
    /// `kind` with `trigger`, for every cmdlet.
    pub fn new(kind: FaultKind, trigger: Trigger) -> Self {
        Self {
            kind,
            trigger,
            cmdlet: None,
        }
    }

    /// `kind` on each request with probability `rate`.
    pub fn rate(kind: FaultKind, rate: f64) -> Self {
        Self::new(kind, Trigger::Rate(rate))
    }

    /// `kind` on the next `n` matching requests.
    pub fn times(kind: FaultKind, n: u64) -> Self {
        Self::new(kind, Trigger::Count(n))
    }

    /// `kind` on every matching request.
    pub fn always(kind: FaultKind) -> Self {
        Self::rate(kind, 1.0)
    }

    /// Restricts the rule to `cmdlet` (any case; `@token` for the token endpoint).
    pub fn for_cmdlet(mut self, cmdlet: impl Into<String>) -> Self {
        self.cmdlet = Some(cmdlet.into());
        self
    }
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.label())?;
        if let Some(p) = self.kind.param() {
            write!(f, "={p}")?;
        }
        write!(f, ":{}", self.trigger)?;
        if let Some(c) = &self.cmdlet {
            write!(f, ":{c}")?;
        }
        Ok(())
    }
}

/// A rule or rate limit that does not parse: the text and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad fault rule {text:?}: {message}")]
pub struct FaultParseError {
    /// The rule as written.
    pub text: String,
    /// What is wrong with it.
    pub message: String,
}

impl FromStr for FaultRule {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, FaultParseError> {
        let fail = |message: String| FaultParseError {
            text: text.to_owned(),
            message,
        };
        let mut parts = text.trim().splitn(3, ':');
        let head = parts.next().unwrap_or_default().trim();
        if head.is_empty() {
            return Err(fail("empty rule".into()));
        }
        let (kind, param) = match head.split_once('=') {
            Some((k, p)) => (k.trim(), Some(p.trim())),
            None => (head, None),
        };
        let kind = FaultKind::parse(kind, param).map_err(fail)?;
        let second = parts.next().map(str::trim).filter(|s| !s.is_empty());
        let third = parts.next().map(str::trim).filter(|s| !s.is_empty());
        let (trigger, cmdlet) = match (second, third) {
            (None, None) => (Trigger::Rate(1.0), None),
            (Some(t), c) => match (t.parse::<Trigger>(), c) {
                (Ok(trigger), c) => (trigger, c),
                // `403:Get-MobileDevice`: a cmdlet where the trigger would be means "always".
                (Err(_), None) if t.contains('-') || t.starts_with('@') => {
                    (Trigger::Rate(1.0), Some(t))
                }
                (Err(e), _) => return Err(fail(e)),
            },
            (None, Some(c)) => (Trigger::Rate(1.0), Some(c)),
        };
        Ok(Self {
            kind,
            trigger,
            cmdlet: cmdlet.map(str::to_owned),
        })
    }
}

/// Parses `;`- or newline-separated rules (the `EXO_SIM_FAULTS` format); blanks are skipped.
pub fn parse_fault_rules(text: &str) -> Result<Vec<FaultRule>, FaultParseError> {
    text.split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

/// `500ms`, `2s`, `1.5s`, `1m` or a bare number of milliseconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit_ms) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (t, 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|n| n * unit_ms)
        .filter(|ms| ms.is_finite() && (0.0..=86_400_000.0).contains(ms))
        .map(|ms| Duration::from_micros((ms * 1000.0) as u64))
        .ok_or_else(|| {
            format!("'{text}' is not a duration such as 500ms, 2s or 1m (at most a day)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> FaultRule {
        text.parse()
            .unwrap_or_else(|e: FaultParseError| panic!("{e}"))
    }

    #[test]
    fn the_compact_syntax_reads_kind_value_trigger_and_cmdlet() {
        assert_eq!(
            rule("429:0.2"),
            FaultRule::rate(
                FaultKind::Throttle {
                    retry_after_secs: 1.0
                },
                0.2
            )
        );
        assert_eq!(
            rule("503:0.1:Get-MobileDevice"),
            FaultRule::rate(
                FaultKind::Unavailable {
                    retry_after_secs: None
                },
                0.1
            )
            .for_cmdlet("Get-MobileDevice")
        );
        assert_eq!(
            rule("slow=500ms:1.0"),
            FaultRule::always(FaultKind::Slow { delay_ms: 500 })
        );
        assert_eq!(
            rule("slow=2s"),
            FaultRule::always(FaultKind::Slow { delay_ms: 2000 })
        );
        assert_eq!(
            rule("429=0.2:3x"),
            FaultRule::times(
                FaultKind::Throttle {
                    retry_after_secs: 0.2
                },
                3
            )
        );
        assert_eq!(
            rule("403:Get-MobileDevice").cmdlet.as_deref(),
            Some("Get-MobileDevice")
        );
        assert_eq!(rule("reset:25%").trigger, Trigger::Rate(0.25));
        assert_eq!(
            rule("transient=storagetransientexception/503:1x").kind,
            FaultKind::Transient {
                exception: "StorageTransientException".into(),
                status: 503
            }
        );
        assert_eq!(rule("expired:1x:@token").cmdlet.as_deref(), Some("@token"));
    }

    #[test]
    fn rules_print_back_in_the_same_syntax() {
        for text in [
            "429=0.2:3x:Get-MobileDevice",
            "503:0.1",
            "503=2:1.0",
            "slow=500ms:1.0",
            "transient=DCOverloadedException:2x",
            "transient=ServerInMMException/503:0.5",
            "expired:1x",
            "partial:1.0:Get-MobileDeviceStatistics",
        ] {
            assert_eq!(rule(text).to_string(), text);
            assert_eq!(rule(&rule(text).to_string()), rule(text));
        }
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        for (text, needle) in [
            ("418", "unknown fault"),
            ("429:1", "ambiguous"),
            ("429:1.5", "rate from 0.0 to 1.0"),
            ("slow", "needs a delay"),
            ("504=3", "takes no value"),
            ("transient=Oops", "not a transient exception"),
            ("429:often", "not a trigger"),
            ("", "empty"),
        ] {
            let err = text.parse::<FaultRule>().err();
            assert!(
                err.as_ref().is_some_and(|e| e.to_string().contains(needle)),
                "{text}: {err:?}"
            );
        }
    }

    #[test]
    fn rule_lists_split_on_semicolons_and_lines() {
        let rules = parse_fault_rules(" 429:0.2 ; 503:3x\nslow=10ms ;; ").unwrap_or_default();
        assert_eq!(rules.len(), 3);
        assert!(parse_fault_rules("429:0.2;nope").is_err());
    }
}
