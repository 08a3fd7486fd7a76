//! Server functions of the changes made in Exchange: device actions (admins only). Every
//! change goes through `server::access`, which checks it, audits each Exchange call and reads
//! the result back.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::ActionReport;

#[cfg(feature = "ssr")]
use super::{authorize, client_address, fail, is_form_post};
#[cfg(feature = "ssr")]
use crate::model::{DeviceAction, Role};

/// The query parameter a plain (no-JavaScript) device action comes back to its page with:
/// `done`, or `failed` with the reason in [`ACTION_ERROR_PARAM`].
pub const ACTION_NOTICE_PARAM: &str = "action";
/// The reason a plain form post's action did not happen.
pub const ACTION_ERROR_PARAM: &str = "reason";

/// Carries out `action` (`allow`, `block`, `clearIndividual`, `remove`, `wipe`,
/// `accountOnlyWipe`, `cancelWipe`) on `devices` (device GUIDs separated by spaces, commas or
/// new lines; at most 500). Remove and the wipes need `confirmation` (`REMOVE`, `WIPE`).
/// Nothing is sent to Exchange when a field is wrong; the answer names it.
#[server(endpoint = "devices/act")]
pub async fn run_device_action(
    devices: String,
    action: String,
    #[server(default)] confirmation: String,
) -> Result<ActionReport, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let actor = crate::server::setup::Actor {
        email: Some(who.email),
        address: Some(client_address().await),
    };
    let done = match DeviceAction::parse(&action) {
        None => Err(crate::server::error::AppError::Invalid {
            field: "action".into(),
            message: format!("{action:?} is not a device action."),
        }),
        Some(action) => {
            let guids: Vec<String> = devices
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|g| !g.is_empty())
                .take(crate::model::MAX_BULK_DEVICES + 1)
                .map(str::to_owned)
                .collect();
            crate::server::access::act(&state, &actor, &guids, action, &confirmation).await
        }
    };
    if is_form_post() {
        // Back to the page it came from (a device's page), saying how it ended.
        let back = back_to_device(&devices);
        let target = match &done {
            Ok(_) => format!("{back}?{ACTION_NOTICE_PARAM}=done"),
            Err(e) => {
                let reason: String =
                    url::form_urlencoded::byte_serialize(e.public_message().as_bytes()).collect();
                format!("{back}?{ACTION_NOTICE_PARAM}=failed&{ACTION_ERROR_PARAM}={reason}")
            }
        };
        leptos_axum::redirect(&target);
        return done.map_err(ApiError::from);
    }
    done.map_err(fail)
}

/// The page a plain form post returns to: the device's own page for one device, else the list.
#[cfg(feature = "ssr")]
fn back_to_device(devices: &str) -> String {
    let mut ids = devices
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|g| !g.is_empty());
    match (ids.next(), ids.next()) {
        (Some(one), None) if one.chars().all(|c| c.is_ascii_hexdigit() || c == '-') => {
            format!("{}/{one}", crate::app::paths::DEVICES)
        }
        _ => crate::app::paths::DEVICES.to_owned(),
    }
}

/// The query parameter a plain (no-JavaScript) Apply comes back with: `done`, or `failed`
/// with the reason in [`ACTION_ERROR_PARAM`].
pub const APPLIED_PARAM: &str = "applied";

/// The Exchange access page: settings and rules as the last sync read them (everyone signed
/// in; `can_change` for admins).
#[server(endpoint = "exchange-access")]
pub async fn get_exchange_access() -> Result<crate::model::ExchangeAccess, ApiError> {
    let (state, who) = authorize(Role::Reader).await?;
    crate::server::access::overview(&state, who.role == Role::Admin)
        .await
        .map_err(fail)
}

/// What a change of the settings or rules would do to the stored devices (admins). The fields
/// are those of [`crate::model::AccessChangeForm`]; a wrong one is named in the error.
#[server(endpoint = "exchange-access/preview")]
pub async fn preview_access_change(
    change: String,
    #[server(default)] default_access_level: String,
    #[server(default)] admin_mail_recipients: String,
    #[server(default)] user_mail_insert: String,
    #[server(default)] ota_notification_mail_insert: String,
    #[server(default)] grandfather_days: String,
    #[server(default)] characteristic: String,
    #[server(default)] query_string: String,
    #[server(default)] access_level: String,
    #[server(default)] rule: String,
) -> Result<crate::model::AccessPreview, ApiError> {
    let (state, _who) = authorize(Role::Admin).await?;
    let form = crate::model::AccessChangeForm {
        change,
        default_access_level,
        admin_mail_recipients,
        user_mail_insert,
        ota_notification_mail_insert,
        grandfather_days,
        characteristic,
        query_string,
        access_level,
        rule,
    };
    crate::server::access::preview(&state, &form)
        .await
        .map_err(fail)
}

/// Makes a previewed change in Exchange (admins): the same fields as the preview. A plain
/// form post comes back to the page with `?applied=done` or `?applied=failed&reason=`.
#[server(endpoint = "exchange-access/apply")]
pub async fn apply_access_change(
    change: String,
    #[server(default)] default_access_level: String,
    #[server(default)] admin_mail_recipients: String,
    #[server(default)] user_mail_insert: String,
    #[server(default)] ota_notification_mail_insert: String,
    #[server(default)] grandfather_days: String,
    #[server(default)] characteristic: String,
    #[server(default)] query_string: String,
    #[server(default)] access_level: String,
    #[server(default)] rule: String,
) -> Result<ActionReport, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let actor = crate::server::setup::Actor {
        email: Some(who.email),
        address: Some(client_address().await),
    };
    let form = crate::model::AccessChangeForm {
        change,
        default_access_level,
        admin_mail_recipients,
        user_mail_insert,
        ota_notification_mail_insert,
        grandfather_days,
        characteristic,
        query_string,
        access_level,
        rule,
    };
    let done = crate::server::access::apply(&state, &actor, &form).await;
    if is_form_post() {
        let back = crate::app::paths::EXCHANGE_ACCESS;
        let target = match &done {
            Ok(r) if r.calls_failed == 0 => format!("{back}?{APPLIED_PARAM}=done"),
            Ok(r) => {
                let reason: String =
                    url::form_urlencoded::byte_serialize(r.failures.join(" ").as_bytes()).collect();
                format!("{back}?{APPLIED_PARAM}=failed&{ACTION_ERROR_PARAM}={reason}")
            }
            Err(e) => {
                let reason: String =
                    url::form_urlencoded::byte_serialize(e.public_message().as_bytes()).collect();
                format!("{back}?{APPLIED_PARAM}=failed&{ACTION_ERROR_PARAM}={reason}")
            }
        };
        leptos_axum::redirect(&target);
        return done.map_err(ApiError::from);
    }
    done.map_err(fail)
}
