//! Server functions of the device pages: the list, the summary, one device, readiness.

use leptos::prelude::*;

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::model::DeviceQuery;
use crate::model::{DeviceDetails, DevicePage, DeviceSummary, Readiness};

#[cfg(feature = "ssr")]
use super::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::model::Role;

/// One page of the current connector's devices. `query` is the page's query string
/// (`state=Blocked&sort=lastSync&…`, as `DeviceQuery::from_params` reads it); unknown or bad
/// values are ignored.
#[server(endpoint = "devices/page")]
pub async fn get_devices(#[server(default)] query: String) -> Result<DevicePage, ApiError> {
    let (state, who) = authorize(Role::Reader).await?;
    let pairs: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes())
            .take(64)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let query = DeviceQuery::from_params(|key| pairs.get(key).cloned());
    let mut page = crate::server::devices::page(&state, &query)
        .await
        .map_err(fail)?;
    page.can_act = who.role == Role::Admin;
    Ok(page)
}

/// The present devices by access state, and the values the filters offer.
#[server(endpoint = "devices/summary")]
pub async fn get_device_summary() -> Result<DeviceSummary, ApiError> {
    let (state, _who) = authorize(Role::Reader).await?;
    crate::server::devices::summary(&state).await.map_err(fail)
}

/// One device with why it has its state and its history; `None` when there is no such device.
#[server(endpoint = "devices/device")]
pub async fn get_device(id: String) -> Result<Option<DeviceDetails>, ApiError> {
    let (state, who) = authorize(Role::Reader).await?;
    let mut details = crate::server::devices::details(&state, &id)
        .await
        .map_err(fail)?;
    // Admins see what they can do to it in Exchange.
    if let Some(d) = details.as_mut().filter(|_| who.role == Role::Admin) {
        d.actions = crate::server::access::device_options(&state, &id)
            .await
            .map_err(fail)?;
    }
    Ok(details)
}

/// EAS 16.1 readiness and stale partnerships.
#[server(endpoint = "devices/readiness")]
pub async fn get_readiness() -> Result<Readiness, ApiError> {
    let (state, _who) = authorize(Role::Reader).await?;
    crate::server::devices::readiness(&state)
        .await
        .map_err(fail)
}
