//! Every server function. Thin: take the state from context, call `server::*`, map errors.
//! The same functions serve the page and, later, the JSON API.

mod connector;
mod history;

pub use connector::*;
pub use history::*;

#[cfg(feature = "ssr")]
use crate::error::ApiError;

#[cfg(feature = "ssr")]
fn state() -> Result<crate::server::state::AppState, ApiError> {
    use leptos::prelude::use_context;
    use_context::<crate::server::state::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        ApiError::Internal
    })
}

/// Turns a server failure into what the browser sees, with a matching HTTP status.
#[cfg(feature = "ssr")]
fn fail(error: crate::server::error::AppError) -> ApiError {
    let api = ApiError::from(error);
    set_status(api.status_code());
    api
}

#[cfg(feature = "ssr")]
fn set_status(code: u16) {
    use leptos::prelude::use_context;
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        response.set_status(status);
    }
}
