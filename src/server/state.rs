//! `AppState`: what every handler and server function shares, reached from server functions
//! through Leptos context.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::db::Db;
use super::exchange::ExchangeClient;

/// Shared server state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) leptos_options: LeptosOptions,
    pub(crate) db: Db,
    pub(crate) exchange: ExchangeClient,
    /// True when the embedded simulator is the Exchange (the demo tenant).
    pub(crate) simulated: bool,
    /// Held while a set-up runs, so that a second one is refused rather than run twice.
    pub(crate) setup_lock: Arc<tokio::sync::Mutex<()>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
