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
    /// A session store failure.
    #[error("session error: {0}")]
    Session(String),
    /// Anything else that must not reach the browser (crypto, I/O); logged.
    #[error("{0}")]
    Internal(String),
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
            AppError::Throttled(message) => ApiError::TooManyRequests { message },
            AppError::Session(e) | AppError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                ApiError::Internal
            }
        }
    }
}
