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
        }
    }
}
