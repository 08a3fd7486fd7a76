//! The answer an OAuth authority sends the browser back with (`?code=&state=`, or `?error=`),
//! and the checks both of its users make: the set-up's consent and single sign-on.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::same_secret;

/// How long a person may take at the authority.
const MAX_AGE_MINUTES: i64 = 15;

/// The query of a callback.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Why a callback's answer is not redeemed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its `state` is not the one this session sent (compared in constant time).
    StateDiffers,
    /// The authority answered with an error (the person cancelled, or it refused): the error
    /// and its description, cut to 100 and 300 characters.
    Answered(String),
    /// The round trip took longer than 15 minutes.
    TooOld,
    /// No code came back.
    NoCode,
}

impl Callback {
    /// The code to redeem, if the answer is for the round trip that sent `state` at
    /// `started_at`, carries no error, came in time and has a code (checked in this order).
    pub(crate) fn code(&self, state: &str, started_at: DateTime<Utc>) -> Result<&str, Refusal> {
        let state_ok = self.state.as_deref().is_some_and(|s| same_secret(s, state));
        if !state_ok {
            return Err(Refusal::StateDiffers);
        }
        if let Some(error) = &self.error {
            let why = self.error_description.as_deref().unwrap_or(error);
            return Err(Refusal::Answered(format!(
                "{}: {}",
                error.chars().take(100).collect::<String>(),
                why.chars().take(300).collect::<String>()
            )));
        }
        if Utc::now() - started_at > chrono::Duration::minutes(MAX_AGE_MINUTES) {
            return Err(Refusal::TooOld);
        }
        self.code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(Refusal::NoCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: Option<&str>, state: Option<&str>, error: Option<&str>) -> Callback {
        Callback {
            code: code.map(str::to_owned),
            state: state.map(str::to_owned),
            error: error.map(str::to_owned),
            error_description: None,
        }
    }

    #[test]
    fn only_a_timely_answer_with_this_state_and_a_code_is_redeemed() {
        let now = Utc::now();
        assert_eq!(answer(Some("c"), Some("s"), None).code("s", now), Ok("c"));
        assert_eq!(
            answer(Some("c"), Some("other"), None).code("s", now),
            Err(Refusal::StateDiffers)
        );
        assert_eq!(
            answer(Some("c"), None, None).code("s", now),
            Err(Refusal::StateDiffers)
        );
        assert_eq!(
            answer(None, Some("s"), Some("access_denied")).code("s", now),
            Err(Refusal::Answered("access_denied: access_denied".into()))
        );
        let old = now - chrono::Duration::minutes(16);
        assert_eq!(
            answer(Some("c"), Some("s"), None).code("s", old),
            Err(Refusal::TooOld)
        );
        assert_eq!(
            answer(Some(""), Some("s"), None).code("s", now),
            Err(Refusal::NoCode)
        );
    }
}
