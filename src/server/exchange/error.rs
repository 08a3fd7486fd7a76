//! `ExchangeError`: every way a conversation with Exchange Online can fail, with the facts a
//! sync record needs (status, code, request-id, cmdlet) and a message written for admins.

use serde_json::Value;

/// A failed call to Exchange Online or to its token endpoint.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    /// No HTTP answer at all: DNS, refused connection, TLS, reset.
    #[error("Exchange Online could not be reached at {host}: {reason}.")]
    Unreachable { host: String, reason: String },
    /// No answer within the client's own time limit.
    #[error("Exchange Online at {host} did not answer within {seconds} seconds.")]
    Timeout { host: String, seconds: u64 },
    /// The token endpoint refused the connector's credentials.
    #[error("The sign-in service at {host} refused the connector's credentials: {message}")]
    Credentials {
        host: String,
        status: u16,
        code: String,
        message: String,
    },
    /// Delegated mode before any admin has signed in: there is no identity to act as.
    #[error("No admin has signed in to Exchange Online for this connector yet. With EXO_AUTH_MODE=delegated the connector acts as the admin who set it up, and that sign-in page arrives with sign-in support; until then use EXO_AUTH_MODE=app.")]
    NotSignedIn,
    /// InvokeCommand answered with an error status.
    #[error("{}", api_message(.0))]
    Api(Box<ApiFailure>),
    /// A 200 that carries `@adminapi.errors`: the call only partly worked.
    #[error("{cmdlet} only partly succeeded: {message}")]
    Partial {
        cmdlet: String,
        message: String,
        request_id: Option<String>,
    },
    /// The client's own time limit for one logical call ran out (pages, retries and waits).
    #[error("{cmdlet} did not finish within the connector's limit of {seconds} seconds; Exchange Online is slow or throttling the connector.")]
    Deadline { cmdlet: String, seconds: u64 },
    /// An answer the client cannot read.
    #[error(
        "Exchange Online sent an answer to {cmdlet} that the connector could not read: {detail}"
    )]
    Protocol { cmdlet: String, detail: String },
}

/// The facts of an InvokeCommand error answer (spec §4).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiFailure {
    pub status: u16,
    pub cmdlet: String,
    pub code: Option<String>,
    /// The human message, already unwrapped from its `stringId|Class|Message` or JSON form.
    pub message: Option<String>,
    pub exception_type: Option<String>,
    pub request_id: Option<String>,
    /// Seconds from `Retry-After`, when present.
    pub retry_after: Option<f64>,
    /// How many times the request was repeated before giving up.
    pub retries: u32,
}

fn api_message(f: &ApiFailure) -> String {
    let detail = f
        .message
        .as_deref()
        .map(|m| format!(" Exchange said: {m}"))
        .unwrap_or_default();
    let text = status_message(f, &detail);
    match f.retries {
        0 => text,
        1 => format!("{text} (after 1 retry)"),
        n => format!("{text} (after {n} retries)"),
    }
}

fn status_message(f: &ApiFailure, detail: &str) -> String {
    match f.status {
        401 => format!(
            "Exchange Online did not accept the connector's access token for {}.{detail}",
            f.cmdlet
        ),
        403 => format!(
            "The account is not allowed to run {}. Give it an Exchange role that includes this cmdlet.",
            f.cmdlet
        ),
        404 => format!("{} did not find the object it was asked for.{detail}", f.cmdlet),
        429 => match f.retry_after {
            Some(s) => format!(
                "Exchange Online is throttling the connector; it asked to wait {s} seconds before {} is run again.",
                f.cmdlet
            ),
            None => format!("Exchange Online is throttling the connector while it runs {}.", f.cmdlet),
        },
        400 => format!("Exchange Online rejected the request to run {}.{detail}", f.cmdlet),
        s if s >= 500 => format!(
            "Exchange Online had a server error ({s}) while running {}.{detail}",
            f.cmdlet
        ),
        s => format!("Exchange Online answered {s} to {}.{detail}", f.cmdlet),
    }
}

impl ExchangeError {
    /// A short code for the sync record (`error_code`).
    pub fn code(&self) -> String {
        match self {
            Self::Unreachable { .. } => "Unreachable".into(),
            Self::Timeout { .. } => "Timeout".into(),
            Self::Credentials { code, .. } => code.clone(),
            Self::Api(f) => f
                .code
                .clone()
                .unwrap_or_else(|| format!("Http{}", f.status)),
            Self::Partial { .. } => "PartialFailure".into(),
            Self::Deadline { .. } => "DeadlineExceeded".into(),
            Self::NotSignedIn => "NotSignedIn".into(),
            Self::Protocol { .. } => "UnreadableResponse".into(),
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(f) => Some(f.status),
            Self::Credentials { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The cmdlet the failed call ran, when it was a cmdlet call.
    pub fn cmdlet(&self) -> Option<&str> {
        match self {
            Self::Api(f) => Some(&f.cmdlet),
            Self::Partial { cmdlet, .. }
            | Self::Deadline { cmdlet, .. }
            | Self::Protocol { cmdlet, .. } => Some(cmdlet),
            _ => None,
        }
    }

    /// `x-ExceptionType` of the answer, when Exchange sent one.
    pub fn exception_type(&self) -> Option<&str> {
        match self {
            Self::Api(f) => f.exception_type.as_deref(),
            _ => None,
        }
    }

    /// Exchange's `request-id`, when the failure came with one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(f) => f.request_id.as_deref(),
            Self::Partial { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

/// The human message of an error body (spec §4): `error.details[0].message`, else
/// `error.innererror.internalexception.message`, else `error.message`, each unwrapped from its
/// three possible forms. `None` when the body is empty or not JSON (403s often are).
pub(crate) fn error_body_message(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body).trim().to_owned();
        let plain =
            (!text.is_empty() && text.len() <= 500 && !text.starts_with('<')).then_some(text);
        return (None, plain);
    };
    let error = &json["error"];
    let code = error["code"].as_str().map(str::to_owned);
    let message = [
        &error["details"][0]["message"],
        &error["innererror"]["internalexception"]["message"],
        &error["message"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().filter(|s| !s.trim().is_empty()))
    .map(unwrap_message);
    (code, message)
}

/// Unwraps `stringId|ClassName|Message` and `{"localizedString":..,"ClassName":..,"Message":..}`;
/// plain text is returned as it is.
pub(crate) fn unwrap_message(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with('{') {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) {
            if let Some(m) = map.get("Message").and_then(Value::as_str) {
                return m.trim().to_owned();
            }
        }
    }
    let mut parts = raw.splitn(3, '|');
    if let (Some(id), Some(class), Some(message)) = (parts.next(), parts.next(), parts.next()) {
        let token = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        if token(id) && token(class) {
            return message.trim().to_owned();
        }
    }
    raw.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_message_forms_unwrap_to_the_message() {
        assert_eq!(
            unwrap_message("Plain words | with a bar"),
            "Plain words | with a bar"
        );
        assert_eq!(
            unwrap_message("ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found."),
            "The operation couldn't be performed because object 'x' couldn't be found."
        );
        assert_eq!(
            unwrap_message(
                r#"{"localizedString":{"stringId":"ex1"},"ClassName":"C","Message":"Denied."}"#
            ),
            "Denied."
        );
    }

    #[test]
    fn the_message_is_taken_from_details_then_innererror_then_error() {
        let body = br#"{"error":{"code":"BadRequest","message":"outer","details":[{"code":"Ex","message":"a|B|inner detail"}],"innererror":{"internalexception":{"message":"internal"}}}}"#;
        assert_eq!(
            error_body_message(body),
            (Some("BadRequest".into()), Some("inner detail".into()))
        );
        let body = br#"{"error":{"code":"X","message":"outer","innererror":{"internalexception":{"message":"internal"}}}}"#;
        assert_eq!(error_body_message(body).1.as_deref(), Some("internal"));
        let body = br#"{"error":{"code":"X","message":"outer"}}"#;
        assert_eq!(error_body_message(body).1.as_deref(), Some("outer"));
    }

    #[test]
    fn empty_or_garbage_bodies_give_no_invented_message() {
        assert_eq!(error_body_message(b""), (None, None));
        assert_eq!(error_body_message(b"<html>Forbidden</html>"), (None, None));
        assert_eq!(
            error_body_message(b"Too many concurrent requests")
                .1
                .as_deref(),
            Some("Too many concurrent requests")
        );
    }

    #[test]
    fn a_403_names_the_cmdlet_in_plain_language() {
        let e = ExchangeError::Api(Box::new(ApiFailure {
            status: 403,
            cmdlet: "Set-ActiveSyncOrganizationSettings".into(),
            code: None,
            message: None,
            exception_type: None,
            request_id: Some("r-1".into()),
            retry_after: None,
            retries: 0,
        }));
        assert!(e
            .to_string()
            .starts_with("The account is not allowed to run Set-ActiveSyncOrganizationSettings."));
        assert_eq!(e.code(), "Http403");
        assert_eq!(e.request_id(), Some("r-1"));
    }
}
