//! Server functions of the Notifications page (admins): alert destinations, their test and
//! the deliveries.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::{CreatedWebhook, Delivery, NotificationsPage, Webhook};

#[cfg(feature = "ssr")]
use super::{authorize, client_address, fail, is_form_post};
#[cfg(feature = "ssr")]
use crate::model::{Role, WebhookFlash};

/// The session key of a Notifications form's outcome, when it was posted without JavaScript.
#[cfg(feature = "ssr")]
const FLASH: &str = "webhook_flash";

/// A plain form post goes back to the page, its outcome kept for it (a signing key never
/// travels in an address).
#[cfg(feature = "ssr")]
async fn back_with(flash: WebhookFlash) -> Result<(), ApiError> {
    let session = super::session().await?;
    if let Err(e) = session.insert(FLASH, &flash).await {
        tracing::error!(error = %e, "cannot keep a notifications form's outcome in the session");
        return Err(fail(crate::server::error::AppError::Session(e.to_string())));
    }
    leptos_axum::redirect(crate::app::paths::NOTIFICATIONS);
    Ok(())
}

/// A refusal as a plain form post's outcome: at its field (`field` for any other error).
#[cfg(feature = "ssr")]
fn refused(e: crate::server::error::AppError, field: &str) -> WebhookFlash {
    let (field, message) = ApiError::from(e).at_field(field);
    WebhookFlash::Refused { field, message }
}

/// Every destination and the latest deliveries, and the outcome of a form posted without
/// JavaScript, once.
#[server(endpoint = "notifications/page")]
pub async fn get_notifications() -> Result<NotificationsPage, ApiError> {
    let (state, _who) = authorize(Role::Admin).await?;
    let mut page = crate::server::alerts::page(&state).await.map_err(fail)?;
    let session = super::session().await?;
    page.flash = session.remove::<WebhookFlash>(FLASH).await.ok().flatten();
    Ok(page)
}

/// Adds a destination: `kind` is `json`, `teams` or `slack`; `events` the event names (one
/// per check box: `events[0]=syncFailed`). A JSON destination's signing key is in the answer,
/// shown once.
#[server(endpoint = "notifications/create")]
pub async fn create_webhook(
    #[server(default)] name: String,
    #[server(default)] kind: String,
    #[server(default)] url: String,
    #[server(default)] events: Vec<String>,
) -> Result<Option<CreatedWebhook>, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let new = crate::server::alerts::NewWebhook {
        name: &name,
        kind: &kind,
        url: &url,
        events: &events,
    };
    let created = crate::server::alerts::create(&state, &who, &new, &address).await;
    if is_form_post() {
        let flash = match created {
            Ok(created) => WebhookFlash::Created(created),
            Err(e) => refused(e, "name"),
        };
        back_with(flash).await?;
        return Ok(None);
    }
    created.map(Some).map_err(fail)
}

/// Sets the events the destination `id` hears (one per check box: `events[0]=syncFailed`).
#[server(endpoint = "notifications/events")]
pub async fn set_webhook_events(
    id: String,
    #[server(default)] events: Vec<String>,
) -> Result<Option<Webhook>, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let done = crate::server::alerts::set_events(&state, &who, &id, &events, &address).await;
    if is_form_post() {
        let flash = match done {
            Ok(w) => WebhookFlash::Updated(w),
            Err(e) => refused(e, "events"),
        };
        back_with(flash).await?;
        return Ok(None);
    }
    done.map(Some).map_err(fail)
}

/// Deletes the destination `id` and its deliveries.
#[server(endpoint = "notifications/delete")]
pub async fn delete_webhook(id: String) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let done = crate::server::alerts::delete(&state, &who, &id, &address).await;
    if is_form_post() {
        let flash = match done {
            Ok(()) => WebhookFlash::Deleted,
            Err(e) => refused(e, "id"),
        };
        return back_with(flash).await;
    }
    done.map_err(fail)
}

/// Sends a test event to the destination `id` and waits for the attempt (at most the
/// attempt's time limit): the delivery as it stands.
#[server(endpoint = "notifications/test")]
pub async fn test_webhook(id: String) -> Result<Option<Delivery>, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let sent = crate::server::alerts::send_test(&state, &who, &id).await;
    if is_form_post() {
        let flash = match sent {
            Ok(d) => WebhookFlash::Tested(d),
            Err(e) => refused(e, "id"),
        };
        back_with(flash).await?;
        return Ok(None);
    }
    sent.map(Some).map_err(fail)
}

/// Sends the failed delivery `id` once more and waits for the attempt: the delivery as it
/// stands (still failed, with the new answer, when the receiver refuses again).
#[server(endpoint = "notifications/resend")]
pub async fn resend_delivery(id: String) -> Result<Option<Delivery>, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let sent = crate::server::alerts::resend(&state, &who, &id).await;
    if is_form_post() {
        let flash = match sent {
            Ok(d) => WebhookFlash::Resent(d),
            Err(e) => refused(e, "id"),
        };
        back_with(flash).await?;
        return Ok(None);
    }
    sent.map(Some).map_err(fail)
}
