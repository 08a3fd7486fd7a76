//! Every server function. Thin: take the state from context, call `server::*`, map errors.
//! The same functions serve the page and, later, the JSON API.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::ConnectorOverview;

#[cfg(feature = "ssr")]
fn state() -> Result<crate::server::state::AppState, ApiError> {
    use_context::<crate::server::state::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        ApiError::Internal
    })
}

/// Turns a server failure into what the browser sees, with a matching HTTP status.
#[cfg(feature = "ssr")]
fn fail(error: crate::server::error::AppError) -> ApiError {
    let api = ApiError::from(error);
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(api.status_code()),
    ) {
        response.set_status(status);
    }
    api
}

/// What the Exchange service connector page shows: the connector (if any), its status, last
/// successful sync and device count.
#[server(endpoint = "connector/overview")]
pub async fn get_connector_overview() -> Result<ConnectorOverview, ApiError> {
    let state = state()?;
    crate::server::connector::overview(&state)
        .await
        .map_err(fail)
}

/// Sets up the Service to Service connector and runs its first sync. Returns the new overview;
/// fails with a plain-language reason when Exchange cannot be reached or refuses.
#[server(endpoint = "connector/set-up")]
pub async fn set_up_connector() -> Result<ConnectorOverview, ApiError> {
    let state = state()?;
    crate::server::connector::set_up(&state).await.map_err(fail)
}
