//! Server functions of the connector page: overview, live status, set-up and sync buttons.

use leptos::prelude::*;

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::model::Role;
use crate::model::{ConnectorOverview, LiveStatus, SetUpInfo, SyncKind};

#[cfg(feature = "ssr")]
use super::{authorize, fail};

/// The query parameter a plain (no-JavaScript) sync form post comes back with when the sync
/// did not start: `busy` (a sync is already running) or `failed`.
pub const SYNC_NOTICE_PARAM: &str = "sync";

/// What the Exchange service connector page shows: the connector (if any), its status, last
/// successful sync and device count.
#[server(endpoint = "connector/overview")]
pub async fn get_connector_overview() -> Result<ConnectorOverview, ApiError> {
    let (state, _who) = authorize(Role::Reader).await?;
    crate::server::connector::overview(&state)
        .await
        .map_err(fail)
}

/// The overview and the running sync's progress, read together: the page's first paint, and
/// the same value the live stream (`/api/connector/events`) sends on every change.
#[server(endpoint = "connector/live")]
pub async fn get_live_status() -> Result<LiveStatus, ApiError> {
    let (state, _who) = authorize(Role::Reader).await?;
    crate::server::connector::live_status(&state)
        .await
        .map_err(fail)
}

/// Sets up the Service to Service connector with the application identity and starts its first
/// sync in the background (admins): the page follows it on the live stream. The permission
/// pre-flight runs first; its checklist is kept for `get_set_up_info`. Returns the new
/// overview (connection pending while the first sync runs); fails with a plain-language reason
/// when a required cmdlet is denied, or Exchange cannot be reached or refuses. A plain form post
/// (no JavaScript to follow the stream) waits for the first sync's end before the page.
#[server(endpoint = "connector/set-up")]
pub async fn set_up_connector() -> Result<ConnectorOverview, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let session = super::session().await?;
    let actor = crate::server::setup::Actor {
        email: Some(who.email),
        address: Some(super::client_address().await),
    };
    let wait = super::is_form_post();
    crate::server::setup::set_up_with_app(&state, Some(&session), &actor, wait)
        .await
        .map_err(fail)
}

/// The set-up part of the page: the identity the connector uses, the checklist and error of
/// the last set-up attempt in this session, and whether the viewer may manage the connector.
#[server(endpoint = "connector/set-up-info")]
pub async fn get_set_up_info() -> Result<SetUpInfo, ApiError> {
    let (state, who) = authorize(Role::Reader).await?;
    let session = super::session().await?;
    Ok(crate::server::setup::info(&state, &session, &who).await)
}

/// Removes the connector (admins): `confirmation` must be the organization's name. Its stored
/// secrets are wiped; `delete_data` also deletes its sync history and devices (else they are
/// kept and no longer synced).
#[server(endpoint = "connector/remove")]
pub async fn remove_connector(
    confirmation: String,
    #[server(default)] delete_data: bool,
) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let actor = crate::server::setup::Actor {
        email: Some(who.email),
        address: Some(super::client_address().await),
    };
    crate::server::setup::remove(&state, &actor, &confirmation, delete_data)
        .await
        .map_err(fail)
}

/// Starts a manual sync of `kind` and returns the run's id at once (the run goes on in the
/// background). Refused with a conflict ("A sync is already running.") while one runs.
///
/// A plain form post (no JavaScript) is redirected back to the page it came from, with
/// `?sync=busy` or `?sync=failed` when the sync did not start.
#[server(endpoint = "connector/sync")]
pub async fn start_sync(kind: SyncKind) -> Result<String, ApiError> {
    use crate::model::SyncTrigger;
    use crate::server::error::AppError;

    let (state, who) = authorize(Role::Admin).await?;
    let address = super::client_address().await;
    let started =
        crate::server::sync::start(&state, kind, SyncTrigger::Manual, Some(who.email.clone()))
            .await;
    let event = crate::server::audit::sync_start(&who.email, &address, kind, &started);
    crate::server::audit::record(state.db.pool(), event).await;
    match form_post_referer() {
        Some(referer) => {
            let notice = match &started {
                Ok(_) => None,
                Err(AppError::Conflict(_)) => Some("busy"),
                Err(_) => Some("failed"),
            };
            // The redirect's 302 stands in for the error status: the browser shows the page.
            leptos_axum::redirect(&back_with_notice(&referer, notice));
            started.map_err(ApiError::from)
        }
        None => started.map_err(fail),
    }
}

/// The `Referer` of a plain HTML form post (one that accepts `text/html`), if this is one.
#[cfg(feature = "ssr")]
fn form_post_referer() -> Option<String> {
    use axum::http::header::{ACCEPT, REFERER};
    let parts = use_context::<axum::http::request::Parts>()?;
    let accepts_html = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !accepts_html {
        return None;
    }
    parts
        .headers
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The path and query of `referer` (never another site), without an old sync notice, with
/// `notice` added when there is one.
#[cfg(feature = "ssr")]
pub(crate) fn back_with_notice(referer: &str, notice: Option<&str>) -> String {
    let Ok(url) = url::Url::parse(referer) else {
        return "/".into();
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url.query_pairs().filter(|(k, _)| k != SYNC_NOTICE_PARAM) {
        query.append_pair(&k, &v);
    }
    if let Some(notice) = notice {
        query.append_pair(SYNC_NOTICE_PARAM, notice);
    }
    let query = query.finish();
    if query.is_empty() {
        url.path().to_owned()
    } else {
        format!("{}?{query}", url.path())
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::back_with_notice;

    #[test]
    fn a_form_post_goes_back_to_its_own_page_without_an_old_notice() {
        assert_eq!(back_with_notice("http://127.0.0.1:3000/", None), "/");
        assert_eq!(
            back_with_notice(
                "http://h/conditional-access/exchange-connector?sync=busy",
                None
            ),
            "/conditional-access/exchange-connector"
        );
        assert_eq!(
            back_with_notice("http://h/?x=1&sync=failed", Some("busy")),
            "/?x=1&sync=busy"
        );
        assert_eq!(back_with_notice("not a url", Some("busy")), "/");
    }
}
