//! The status of a server function's error. Leptos answers 500 for any error raised before the
//! function's body runs (its arguments missing or unreadable), whatever the error says; the
//! body runs `api::fail`, which sets the right status. This layer gives those early errors the
//! status their kind promises: a request that cannot be read is the caller's error (400), not
//! the server's.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

use crate::error::ApiError;

/// The largest error body read back (errors are a few hundred bytes).
const MAX_ERROR: usize = 64 * 1024;

pub(crate) async fn error_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        let status = match error {
            // On the server, "could not be read" is the request's fault: too big (the body
            // limit's error), or not what the function takes.
            ApiError::Transport { detail } if detail.contains("length limit exceeded") => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Transport { .. } => StatusCode::BAD_REQUEST,
            other => StatusCode::from_u16(other.status_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}
