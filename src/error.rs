//! `ApiError`: what the browser may see of a failure. Small, serializable, plain language.
//! The server's rich error (`server::error::AppError`) is logged and mapped to this.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error a server function returns to the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ApiError {
    /// Exchange Online could not be reached or refused the request. `message` is written for
    /// admins; `request_id` is Exchange's `request-id`, for a support case.
    #[error("{message}")]
    Exchange {
        message: String,
        code: Option<String>,
        request_id: Option<String>,
    },
    /// The request conflicts with the current state (e.g. a set-up is already running).
    #[error("{message}")]
    Conflict { message: String },
    /// A field of the request is invalid.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Nobody is signed in (or the session ended).
    #[error("{message}")]
    Unauthorized { message: String },
    /// The signed-in person's role does not allow this.
    #[error("{message}")]
    Forbidden { message: String },
    /// Too many attempts in a short time (sign-in throttling).
    #[error("{message}")]
    TooManyRequests { message: String },
    /// Something failed inside the server; the details are only in the server log.
    #[error("Something went wrong on the connector server. The server log has the details.")]
    Internal,
    /// The browser could not talk to the connector server, or the answer was unreadable.
    #[error("The connector server could not be reached ({detail}). Check that it is running and try again.")]
    Transport { detail: String },
}

impl ApiError {
    /// Where a form shows this refusal and what it says: an invalid field's own name and
    /// message, else `field` with the error's text.
    pub fn at_field(&self, field: &str) -> (String, String) {
        match self {
            ApiError::Invalid { field, message } => (field.clone(), message.clone()),
            other => (field.to_owned(), other.to_string()),
        }
    }

    /// The HTTP status a server function answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            ApiError::Exchange { .. } => 502,
            ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 400,
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Internal => 500,
            ApiError::Transport { .. } => 503,
        }
    }
}

// Internally tagged (`"kind"`): every variant must be a struct or unit variant to serialize.
impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(detail) | ServerFnErrorErr::Deserialization(detail) => {
                ApiError::Transport { detail }
            }
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                ApiError::Invalid {
                    field: "request".into(),
                    message: detail,
                }
            }
            _ => ApiError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_survives_the_trip_to_the_browser() {
        let all = [
            ApiError::Exchange {
                message: "m".into(),
                code: Some("c".into()),
                request_id: None,
            },
            ApiError::Conflict {
                message: "busy".into(),
            },
            ApiError::Invalid {
                field: "f".into(),
                message: "bad".into(),
            },
            ApiError::Unauthorized {
                message: "sign in".into(),
            },
            ApiError::Forbidden {
                message: "admins only".into(),
            },
            ApiError::TooManyRequests {
                message: "wait".into(),
            },
            ApiError::Internal,
            ApiError::Transport {
                detail: "offline".into(),
            },
        ];
        for error in all {
            let bytes = error.ser();
            assert_eq!(ApiError::de(bytes), error);
        }
    }
}
