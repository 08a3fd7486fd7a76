//! Sessions in the database (tower-sessions with its SQLite store): an `HttpOnly`,
//! `SameSite=Lax` cookie, `Secure` when served over HTTPS, ended after the configured idle time;
//! expired rows are deleted in the background.

use std::time::Duration;

use tower_sessions::cookie::time;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use super::super::config::SecuritySettings;
use super::super::state::Background;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "ec_session";

/// Creates the session table if needed and returns the store.
pub(crate) async fn store(pool: sqlx::SqlitePool) -> Result<SqliteStore, sqlx::Error> {
    let store = SqliteStore::new(pool)
        .with_table_name("sessions")
        .map_err(|e| sqlx::Error::Configuration(e.into()))?;
    store.migrate().await?;
    Ok(store)
}

/// The session layer for the router.
pub(crate) fn layer(
    store: SqliteStore,
    settings: &SecuritySettings,
) -> SessionManagerLayer<SqliteStore> {
    let idle =
        time::Duration::seconds(i64::try_from(settings.session_idle.as_secs()).unwrap_or(1800));
    SessionManagerLayer::new(store)
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.https())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Deletes expired sessions every few minutes until shutdown.
pub(crate) fn spawn_cleanup(store: SqliteStore, background: &Background) {
    let cancel = background.cancel.clone();
    background.tracker.spawn(async move {
        tokio::select! {
            () = cancel.cancelled() => {}
            r = store.continuously_delete_expired(Duration::from_secs(300)) => {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "expired sessions are no longer deleted");
                }
            }
        }
    });
}
