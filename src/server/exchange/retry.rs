//! When to try a request again and how long to wait first (spec §5): `Retry-After` honoured
//! exactly on 429, a new token once after 401, exponential back-off with jitter on 503/504 and on
//! the named transient exceptions, and slowing down before the service throttles, from the
//! `Rate-Limit-*` headers. Only reads are retried after a lost or unreadable answer: a write may
//! already have happened.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// Exception names that mark a failure as transient (spec §5).
const TRANSIENT_EXCEPTIONS: &[&str] = &[
    "DCOverloadedException",
    "SuitabilityDirectoryException",
    "ServerInMMException",
    "ADServerSettingsChangedException",
    "StorageTransientException",
];

/// What to do after one answer (or the lack of one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Wait exactly this long (429 `Retry-After`), then retry.
    RetryAfter(Duration),
    /// Get a new token, then retry once.
    NewToken,
    /// Back off exponentially, then retry.
    Backoff,
    /// Do not retry: report the failure.
    Fail,
}

/// The verdict on an error answer.
pub(crate) fn classify_status(
    status: u16,
    retry_after: Option<Duration>,
    exception_type: Option<&str>,
    message: Option<&str>,
) -> Verdict {
    match status {
        429 => retry_after.map_or(Verdict::Backoff, Verdict::RetryAfter),
        401 => Verdict::NewToken,
        503 | 504 => Verdict::Backoff,
        _ if is_transient(exception_type) || is_transient(message) => Verdict::Backoff,
        _ => Verdict::Fail,
    }
}

/// Whether `text` names a transient exception or the per-tenant concurrency limit.
pub(crate) fn is_transient(text: Option<&str>) -> bool {
    let Some(text) = text else { return false };
    TRANSIENT_EXCEPTIONS.iter().any(|e| text.contains(e)) || {
        let lower = text.to_ascii_lowercase();
        lower.contains("maximum number of concurrent") || lower.contains("too many concurrent")
    }
}

/// `Retry-After` in seconds, decimals allowed (`"2.5"`); HTTP dates are not used by Exchange.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    let secs: f64 = raw.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The wait before retry number `retry` (0-based): `base × 2^retry`, times a jitter factor
/// between 0.8 and 1.2 so that many clients do not retry in step.
pub(crate) fn backoff(base: Duration, retry: u32, jitter: f64) -> Duration {
    let factor = 2f64.powi(retry.min(16) as i32) * (0.8 + 0.4 * jitter.clamp(0.0, 1.0));
    base.mul_f64(factor)
}

/// A uniform number in `[0, 1)` for jitter.
pub(crate) fn jitter() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64 >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// How long to pause before the next request so the remaining budget lasts until it resets,
/// once less than a tenth of it is left (`Rate-Limit-Limit`, `-Remaining`, `-Reset` in seconds).
pub(crate) fn pacing(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let remaining = number("rate-limit-remaining")?;
    let limit = number("rate-limit-limit").unwrap_or(remaining.max(1.0) * 10.0);
    let reset = number("rate-limit-reset")?.min(3600.0);
    if limit <= 0.0 || remaining > (limit / 10.0).max(1.0) {
        return None;
    }
    Some(Duration::from_secs_f64(reset / (remaining + 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_is_read_in_decimal_seconds() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2.5")])),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(retry_after(&headers(&[])), None);
    }

    #[test]
    fn statuses_and_exceptions_get_the_spec_verdicts() {
        let s = Duration::from_secs(1);
        assert_eq!(
            classify_status(429, Some(s), None, None),
            Verdict::RetryAfter(s)
        );
        assert_eq!(classify_status(429, None, None, None), Verdict::Backoff);
        assert_eq!(classify_status(401, None, None, None), Verdict::NewToken);
        assert_eq!(classify_status(503, None, None, None), Verdict::Backoff);
        assert_eq!(classify_status(504, None, None, None), Verdict::Backoff);
        assert_eq!(classify_status(500, None, None, None), Verdict::Fail);
        assert_eq!(classify_status(403, None, None, None), Verdict::Fail);
        assert_eq!(
            classify_status(400, None, None, Some("bad parameter")),
            Verdict::Fail
        );
        assert_eq!(
            classify_status(
                500,
                None,
                Some("Microsoft.Exchange.Data.Directory.DCOverloadedException"),
                None
            ),
            Verdict::Backoff
        );
        assert_eq!(
            classify_status(
                500,
                None,
                None,
                Some("The maximum number of concurrent requests per tenant was reached.")
            ),
            Verdict::Backoff
        );
    }

    #[test]
    fn backoff_doubles_from_the_base_within_the_jitter_band() {
        let base = Duration::from_secs(2);
        assert_eq!(backoff(base, 0, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(base, 2, 0.5), Duration::from_secs(8));
        assert_eq!(backoff(base, 1, 0.0), Duration::from_millis(3200));
        assert_eq!(backoff(base, 1, 1.0), Duration::from_millis(4800));
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn pacing_starts_when_a_tenth_of_the_budget_is_left() {
        let plenty = headers(&[
            ("rate-limit-limit", "100"),
            ("rate-limit-remaining", "50"),
            ("rate-limit-reset", "10"),
        ]);
        assert_eq!(pacing(&plenty), None);
        let low = headers(&[
            ("rate-limit-limit", "100"),
            ("rate-limit-remaining", "4"),
            ("rate-limit-reset", "10"),
        ]);
        assert_eq!(pacing(&low), Some(Duration::from_secs(2)));
        let none_left = headers(&[
            ("rate-limit-limit", "100"),
            ("rate-limit-remaining", "0"),
            ("rate-limit-reset", "3"),
        ]);
        assert_eq!(pacing(&none_left), Some(Duration::from_secs(3)));
        assert_eq!(pacing(&headers(&[("rate-limit-remaining", "0")])), None);
    }
}
