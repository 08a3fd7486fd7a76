//! `AppError`: the server's rich error. It is logged where it is turned into the small
//! `ApiError` the browser sees, and never sent as it is.

use crate::error::ApiError;

use super::exchange::ExchangeError;
use super::sync::SyncError;

/// Any failure inside a server operation.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Conflict(String),
    /// The permission pre-flight found required cmdlets the identity may not run.
    #[error("{0}")]
    MissingPermissions(String),
    /// Nobody is signed in.
    #[error("Sign in to continue.")]
    Unauthorized,
    /// The signed-in person's role does not allow this (the message says what is needed).
    #[error("{0}")]
    Forbidden(String),
    /// A field of a request is invalid.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Too many attempts; the message says when to try again.
    #[error("{0}")]
    Throttled(String),
    /// The server is too busy to take this now (password checks queued); try again shortly.
    #[error("{0}")]
    Busy(String),
    /// A session store failure.
    #[error("session error: {0}")]
    Session(String),
    /// Anything else that must not reach the browser (crypto, I/O); logged.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// What a person may read of this error (on a page, in the audit log): the error itself, or
    /// for a failure inside the server the plain message of [`ApiError::Internal`] (the details
    /// belong in the server log only: the caller logs them).
    pub(crate) fn public_message(&self) -> String {
        match self {
            AppError::Db(_) | AppError::Session(_) | AppError::Internal(_) => {
                ApiError::Internal.to_string()
            }
            shown => shown.to_string(),
        }
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Exchange(e) => Self::Exchange(e),
            SyncError::Db(e) => Self::Db(e),
            SyncError::Interrupted => Self::Conflict(SyncError::Interrupted.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Exchange(e) => ApiError::Exchange {
                message: e.to_string(),
                code: Some(e.code()),
                request_id: e.request_id().map(str::to_owned),
            },
            AppError::Conflict(message) => ApiError::Conflict { message },
            AppError::MissingPermissions(message) => ApiError::Exchange {
                message,
                code: Some("MissingPermissions".into()),
                request_id: None,
            },
            AppError::Db(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::Internal
            }
            AppError::Unauthorized => ApiError::Unauthorized {
                message: AppError::Unauthorized.to_string(),
            },
            AppError::Forbidden(message) => ApiError::Forbidden { message },
            AppError::Invalid { field, message } => ApiError::Invalid { field, message },
            AppError::Throttled(message) | AppError::Busy(message) => {
                ApiError::TooManyRequests { message }
            }
            AppError::Session(e) | AppError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                ApiError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_inside_the_server_is_shown_as_the_plain_message_only() {
        let inside = [
            AppError::Db(sqlx::Error::Protocol(
                "table connectors: secret detail".into(),
            )),
            AppError::Session("store at /var/lib/secret detail".into()),
            AppError::Internal("key file /etc/secret detail".into()),
        ];
        for e in inside {
            let shown = e.public_message();
            assert_eq!(shown, ApiError::Internal.to_string());
            assert!(!shown.contains("secret detail"), "{shown}");
        }
        let conflict = AppError::Conflict("A set-up is already running.".into());
        assert_eq!(conflict.public_message(), "A set-up is already running.");
    }
}
