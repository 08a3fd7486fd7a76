//! The normal-traffic budget of InvokeCommand and its `N/WINDOW` syntax.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::rule::{parse_duration, FaultParseError};

/// A normal-traffic budget: at most `limit` InvokeCommand requests per `window`. Answers carry
/// `Rate-Limit-Limit`, `Rate-Limit-Remaining` and `Rate-Limit-Reset`; requests over budget get
/// `429` with `Retry-After` until the window ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window (at least 1).
    pub limit: u32,
    /// Length of the fixed window.
    pub window: Duration,
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.window.as_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{}/{}s", self.limit, ms / 1000)
        } else {
            write!(f, "{}/{ms}ms", self.limit)
        }
    }
}

impl FromStr for RateLimit {
    type Err = FaultParseError;

    /// `N/WINDOW`, e.g. `100/10s`, `5/500ms`, `600/1m`.
    fn from_str(text: &str) -> Result<Self, FaultParseError> {
        let fail = |message: String| FaultParseError {
            text: text.to_owned(),
            message,
        };
        let (n, w) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| fail("write the budget as N/WINDOW, e.g. 100/10s".into()))?;
        let limit = n
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| fail(format!("'{n}' is not a whole number of requests above 0")))?;
        let window = parse_duration(w).map_err(fail)?;
        if window.is_zero() {
            return Err(fail("the window must be longer than 0".into()));
        }
        Ok(Self { limit, window })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_read_requests_per_window() {
        let r: Result<RateLimit, _> = "100/10s".parse();
        assert_eq!(
            r,
            Ok(RateLimit {
                limit: 100,
                window: Duration::from_secs(10)
            })
        );
        let r: Result<RateLimit, _> = "5/500ms".parse();
        assert_eq!(r.as_ref().map(|r| r.window), Ok(Duration::from_millis(500)));
        assert_eq!(r.map(|r| r.to_string()).unwrap_or_default(), "5/500ms");
        let r: Result<RateLimit, _> = "600/1m".parse();
        assert_eq!(r.map(|r| r.to_string()).unwrap_or_default(), "600/60s");
        assert!("0/1s".parse::<RateLimit>().is_err());
        assert!("10/0s".parse::<RateLimit>().is_err());
        assert!("10".parse::<RateLimit>().is_err());
    }
}
