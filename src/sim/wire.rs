//! JSON shapes and formats of the Exchange admin API as the simulator writes them: dates, the
//! spec §4 error body and its headers.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde_json::json;

/// `application/json; odata.metadata=minimal`, the content type of every InvokeCommand answer.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; odata.metadata=minimal";

/// Wrapper message of every cmdlet error, as the service writes it.
const EXECUTING_CMDLET: &str = "Error executing cmdlet";

/// Exchange's date format: `2022-09-21T08:07:47.0000000+00:00` (7 fraction digits, offset).
pub(crate) fn exo_date(t: &DateTime<Utc>) -> String {
    format!(
        "{}.{:07}+00:00",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

/// A failure answered in the spec §4 error shape. `message` is the full text placed in
/// `details[0].message` and `innererror.internalexception.message`: either plain text or
/// `stringId|ClassName|Message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExoError {
    pub(crate) status: StatusCode,
    /// Full .NET class name, reported in `innererror.type` and (short form) `x-ExceptionType`.
    pub(crate) class_name: &'static str,
    pub(crate) message: String,
}

impl ExoError {
    /// A cmdlet error with a `stringId|ClassName|Message` text.
    pub(crate) fn cmdlet(
        status: StatusCode,
        string_id: &str,
        class_name: &'static str,
        text: &str,
    ) -> Self {
        Self {
            status,
            class_name,
            message: format!("{string_id}|{class_name}|{text}"),
        }
    }

    /// A plain-text error (authentication, malformed requests).
    pub(crate) fn plain(
        status: StatusCode,
        class_name: &'static str,
        text: impl Into<String>,
    ) -> Self {
        Self {
            status,
            class_name,
            message: text.into(),
        }
    }

    /// 400: the body is not the `{"CmdletInput":...}` JSON the endpoint expects.
    pub(crate) fn bad_body(detail: &str) -> Self {
        Self::plain(
            StatusCode::BAD_REQUEST,
            "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            format!("The request body is not a valid InvokeCommand payload: {detail}"),
        )
    }

    /// 400: `The term 'X' is not recognized as the name of a cmdlet...`.
    pub(crate) fn unknown_cmdlet(name: &str) -> Self {
        Self::cmdlet(
            StatusCode::BAD_REQUEST,
            "Ex5C2A6F",
            "System.Management.Automation.CommandNotFoundException",
            &format!(
                "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. \
                 Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
            ),
        )
    }

    /// 400: a parameter-binding problem (unknown name, wrong type, conflicting parameter sets).
    pub(crate) fn parameter(text: &str) -> Self {
        Self::cmdlet(
            StatusCode::BAD_REQUEST,
            "Ex2A7D14",
            "System.Management.Automation.ParameterBindingException",
            text,
        )
    }

    /// 400: `A parameter cannot be found that matches parameter name 'X'.`
    pub(crate) fn unknown_parameter(name: &str) -> Self {
        Self::parameter(&format!(
            "A parameter cannot be found that matches parameter name '{name}'."
        ))
    }

    /// 404: `ManagementObjectNotFoundException` for `object` on the fake domain controller.
    pub(crate) fn not_found(object: &str, server: &str) -> Self {
        Self::cmdlet(
            StatusCode::NOT_FOUND,
            "Ex6F9304",
            "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
            &format!("The operation couldn't be performed because object '{object}' couldn't be found on '{server}'."),
        )
    }

    /// 401: the bearer token is missing, unknown or expired.
    pub(crate) fn unauthorized(text: &str) -> Self {
        Self::plain(
            StatusCode::UNAUTHORIZED,
            "Microsoft.Exchange.Security.Authorization.UnauthorizedAccessException",
            text,
        )
    }

    fn code(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "BadRequest",
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::NOT_FOUND => "NotFound",
            StatusCode::TOO_MANY_REQUESTS => "TooManyRequests",
            StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
            StatusCode::GATEWAY_TIMEOUT => "GatewayTimeout",
            _ => "InternalServerError",
        }
    }

    /// Short class name for the `x-ExceptionType` header.
    pub(crate) fn short_class(&self) -> &'static str {
        self.class_name
            .rsplit('.')
            .next()
            .unwrap_or(self.class_name)
    }

    /// The spec §4 body.
    pub(crate) fn body(&self) -> serde_json::Value {
        json!({
            "error": {
                "code": self.code(),
                "message": EXECUTING_CMDLET,
                "details": [{ "code": "Context", "target": "", "message": self.message }],
                "innererror": {
                    "message": EXECUTING_CMDLET,
                    "type": self.class_name,
                    "internalexception": { "message": self.message, "type": self.class_name }
                }
            }
        })
    }

    /// The full response: status, body, `x-ExceptionType` plus the given common headers.
    pub(crate) fn into_response_with(self, mut headers: HeaderMap) -> Response {
        insert(&mut headers, "x-exceptiontype", self.short_class());
        insert(&mut headers, "content-type", JSON_CONTENT_TYPE);
        (self.status, headers, self.body().to_string()).into_response()
    }
}

/// Inserts a header, skipping values that are not valid header text (never panics).
pub(crate) fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// Writes a date property and its `#DateTime` annotation, as the service does.
pub(crate) fn date_entry<M: SerializeMap>(
    map: &mut M,
    key: &str,
    t: &DateTime<Utc>,
) -> Result<(), M::Error> {
    map.serialize_entry(key, &exo_date(t))?;
    map.serialize_entry(&format!("{key}@odata.type"), "#DateTime")
}

/// Writes a GUID property and its `#Guid` annotation.
pub(crate) fn guid_entry<M: SerializeMap>(
    map: &mut M,
    key: &str,
    guid: &uuid::Uuid,
) -> Result<(), M::Error> {
    map.serialize_entry(key, &guid.hyphenated().to_string())?;
    map.serialize_entry(&format!("{key}@odata.type"), "#Guid")
}

/// Writes a string-list property and its `#Collection(String)` annotation.
pub(crate) fn list_entry<M: SerializeMap, S: serde::Serialize>(
    map: &mut M,
    key: &str,
    items: &[S],
) -> Result<(), M::Error> {
    map.serialize_entry(&format!("{key}@odata.type"), "#Collection(String)")?;
    map.serialize_entry(key, items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_have_seven_fraction_digits_and_an_offset() {
        let t = Utc
            .with_ymd_and_hms(2022, 9, 21, 8, 7, 47)
            .single()
            .unwrap_or_default();
        assert_eq!(exo_date(&t), "2022-09-21T08:07:47.0000000+00:00");
        let t = t + chrono::Duration::milliseconds(123);
        assert_eq!(exo_date(&t), "2022-09-21T08:07:47.1230000+00:00");
    }

    #[test]
    fn error_body_has_the_spec_shape() {
        let e = ExoError::unknown_cmdlet("Get-Foo");
        let b = e.body();
        let detail = b["error"]["details"][0]["message"]
            .as_str()
            .unwrap_or_default();
        let parts: Vec<&str> = detail.splitn(3, '|').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[1],
            "System.Management.Automation.CommandNotFoundException"
        );
        assert!(
            parts[2].starts_with("The term 'Get-Foo' is not recognized as the name of a cmdlet")
        );
        assert_eq!(
            b["error"]["innererror"]["internalexception"]["message"],
            detail
        );
        assert_eq!(
            b["error"]["innererror"]["type"],
            "System.Management.Automation.CommandNotFoundException"
        );
        assert_eq!(b["error"]["code"], "BadRequest");
        assert_eq!(b["error"]["message"], "Error executing cmdlet");
        assert_eq!(e.short_class(), "CommandNotFoundException");

        let nf = ExoError::not_found("x", "dc1");
        assert_eq!(nf.status, StatusCode::NOT_FOUND);
        assert_eq!(nf.body()["error"]["code"], "NotFound");
    }

    #[test]
    fn bad_header_values_are_skipped_not_panicked_on() {
        let mut h = HeaderMap::new();
        insert(&mut h, "client-request-id", "bad\nvalue");
        assert!(h.is_empty());
        insert(&mut h, "client-request-id", "ok");
        assert_eq!(h.len(), 1);
    }
}
