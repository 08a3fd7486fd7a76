//! Server functions of the Notifications page (admins): alert destinations, their test and
//! the deliveries.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::{CreatedWebhook, Delivery, NotificationsPage, Webhook};

#[cfg(feature = "ssr")]
use super::{authorize, client_address, fail, form_answer};
#[cfg(feature = "ssr")]
use crate::model::{Role, WebhookFlash};

#[cfg(feature = "ssr")]
impl super::FormFlash for WebhookFlash {
    const KEY: &'static str = "webhook_flash";

    fn refused(field: String, message: String) -> Self {
        Self::Refused { field, message }
    }

    fn page() -> &'static str {
        crate::app::paths::NOTIFICATIONS
    }
}

/// Every destination and the latest deliveries, and the outcome of a form posted without
/// JavaScript, once.
#[server(endpoint = "notifications/page")]
pub async fn get_notifications() -> Result<NotificationsPage, ApiError> {
    let (state, _who) = authorize(Role::Admin).await?;
    let mut page = crate::server::alerts::page(&state).await.map_err(fail)?;
    page.flash = super::take_flash().await?;
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
    form_answer(created, WebhookFlash::Created, "name").await
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
    form_answer(done, WebhookFlash::Updated, "events").await
}

/// Deletes the destination `id` and its deliveries.
#[server(endpoint = "notifications/delete")]
pub async fn delete_webhook(id: String) -> Result<(), ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let address = client_address().await;
    let done = crate::server::alerts::delete(&state, &who, &id, &address).await;
    form_answer(done, |()| WebhookFlash::Deleted, "id")
        .await
        .map(drop)
}

/// Sends a test event to the destination `id` and waits for the attempt (at most the
/// attempt's time limit): the delivery as it stands.
#[server(endpoint = "notifications/test")]
pub async fn test_webhook(id: String) -> Result<Option<Delivery>, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let sent = crate::server::alerts::send_test(&state, &who, &id).await;
    form_answer(sent, WebhookFlash::Tested, "id").await
}

/// Sends the failed delivery `id` once more and waits for the attempt: the delivery as it
/// stands (still failed, with the new answer, when the receiver refuses again).
#[server(endpoint = "notifications/resend")]
pub async fn resend_delivery(id: String) -> Result<Option<Delivery>, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let sent = crate::server::alerts::resend(&state, &who, &id).await;
    form_answer(sent, WebhookFlash::Resent, "id").await
}
