//! RFC 9457 problem details: every error of `/api/v1` is `application/problem+json` with
//! `type`, `title`, `status` and `detail` (plus `field` for a bad input, `code` and
//! `requestId` for an Exchange error), never the server's internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::error::ApiError;

use super::super::error::AppError;

/// The media type of a problem.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// One error answer of the API.
#[derive(Debug)]
pub(crate) struct Problem {
    status: StatusCode,
    /// The last part of the `type` URI (`/api/docs#problem-<kind>`).
    kind: &'static str,
    title: &'static str,
    detail: String,
    extra: Map<String, Value>,
}

impl Problem {
    pub(crate) fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub(crate) fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "Invalid request",
            detail,
        )
        .with("field", field)
    }

    pub(crate) fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }

    pub(crate) fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub(crate) fn too_many(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            detail,
        )
    }
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Self {
        let detail = e.to_string();
        match e {
            ApiError::Exchange {
                message,
                code,
                request_id,
            } => {
                let mut p = Self::new(
                    StatusCode::BAD_GATEWAY,
                    "exchange",
                    "Exchange Online refused or failed",
                    message,
                );
                if let Some(code) = code {
                    p = p.with("code", code);
                }
                if let Some(id) = request_id {
                    p = p.with("requestId", id);
                }
                p
            }
            ApiError::Conflict { message } => {
                Self::new(StatusCode::CONFLICT, "conflict", "Conflict", message)
            }
            ApiError::Invalid { field, message } => Self::bad_request(&field, message),
            ApiError::Unauthorized { message } => Self::unauthorized(message),
            ApiError::Forbidden { message } => Self::forbidden(message),
            ApiError::TooManyRequests { message } => Self::too_many(message),
            ApiError::Internal => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                detail,
            ),
            ApiError::Transport { .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Unavailable",
                detail,
            ),
        }
    }
}

/// Internals are logged by the conversion to [`ApiError`], never sent.
impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            json!(format!("/api/docs#problem-{}", self.kind)),
        );
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("detail".into(), json!(self.detail));
        body.extend(self.extra);
        let mut response = (self.status, Value::Object(body).to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"exchange-connector\""),
            );
        }
        response
    }
}

/// The body of every error, for the API's reference (RFC 9457 problem details).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Described, never built: `Problem` writes the body.
pub(crate) struct ProblemDoc {
    /// `/api/docs#problem-<kind>`.
    #[schema(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    /// What went wrong, in plain words.
    detail: String,
    /// For a bad input: the parameter or field.
    field: Option<String>,
}

/// The error answers the reference lists (one per status).
#[derive(utoipa::IntoResponses)]
#[response(
    status = 400,
    description = "A parameter or the body is not right: `field` names it",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub(crate) struct BadRequest(ProblemDoc);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 401,
    description = "No token, or one that is not valid (mistyped, expired, revoked, owner disabled)",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub(crate) struct Unauthorized(ProblemDoc);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 403,
    description = "The token's role does not allow this",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub(crate) struct Forbidden(ProblemDoc);

#[derive(utoipa::IntoResponses)]
#[response(
    status = 404,
    description = "No such connector, run or device",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub(crate) struct NotFound(ProblemDoc);
