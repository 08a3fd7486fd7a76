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
/// new lines), or `selected` (one GUID each, as the device list's check boxes send them:
/// `selected[3]=…`); at most 500 in all. Remove and the wipes need `confirmation` (`REMOVE`,
/// `WIPE`). Nothing is sent to Exchange when a field is wrong; the answer names it.
#[server(endpoint = "devices/act")]
pub async fn run_device_action(
    #[server(default)] devices: String,
    action: String,
    #[server(default)] confirmation: String,
    #[server(default)] selected: Vec<String>,
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
                .chain(selected.iter().map(|g| g.trim()))
                .filter(|g| !g.is_empty())
                .take(crate::model::MAX_BULK_DEVICES + 1)
                .map(str::to_owned)
                .collect();
            crate::server::access::act(&state, &actor, &guids, action, &confirmation).await
        }
    };
    if is_form_post() {
        // Back to the page it came from (a device's page), saying how it ended.
        let back = if selected.is_empty() {
            back_to_device(&devices)
        } else {
            crate::app::paths::DEVICES.to_owned()
        };
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

/// The form field a plain (no-JavaScript) post's error is about.
pub const FIELD_PARAM: &str = "field";

/// Creates, changes, makes default or deletes a mobile device mailbox policy (admins): see
/// [`crate::model::PolicyForm`]. `settings` maps Exchange's parameter names to the values typed
/// (`settings[MinPasswordLength]=6`); each is checked against Exchange's range before anything
/// is sent, and a refused one is named. A plain form post comes back to the page with
/// `?applied=done`, or `failed` with the reason and the field.
#[server(endpoint = "exchange-access/policy")]
pub async fn change_mailbox_policy(
    change: String,
    #[server(default)] policy: String,
    #[server(default)] name: String,
    #[server(default)] make_default: Option<String>,
    #[server(default)] settings: std::collections::BTreeMap<String, String>,
) -> Result<ActionReport, ApiError> {
    let (state, who) = authorize(Role::Admin).await?;
    let actor = crate::server::setup::Actor {
        email: Some(who.email),
        address: Some(client_address().await),
    };
    let form = crate::model::PolicyForm {
        make_default: make_default.is_some_and(|v| matches!(v.as_str(), "on" | "true")),
        change,
        policy,
        name,
        settings,
    };
    let done = crate::server::access::apply_policy(&state, &actor, form.clone()).await;
    if is_form_post() {
        let encode =
            |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
        let back = crate::app::paths::EXCHANGE_ACCESS;
        let open = match form.change.as_str() {
            "save" if !form.policy.trim().is_empty() => {
                format!("&{}={}", crate::model::POLICY_PARAM, encode(&form.policy))
            }
            _ => String::new(),
        };
        let target = match &done {
            Ok(r) if r.calls_failed == 0 => format!("{back}?{APPLIED_PARAM}=done{open}#policies"),
            Ok(r) => format!(
                "{back}?{APPLIED_PARAM}=failed&{ACTION_ERROR_PARAM}={}{open}#policies",
                encode(&r.failures.join(" "))
            ),
            Err(e) => {
                let field = match e {
                    crate::server::error::AppError::Invalid { field, .. } => encode(field),
                    _ => String::new(),
                };
                let open = if open.is_empty() && form.change == "save" {
                    format!(
                        "&{}={}",
                        crate::model::POLICY_PARAM,
                        crate::model::NEW_POLICY
                    )
                } else {
                    open
                };
                // The values typed come back with the form, so only the refused one needs
                // typing again (known settings only, each cut short).
                let typed: String = crate::model::POLICY_SETTINGS
                    .iter()
                    .filter_map(|s| form.settings.get(s.key).map(|v| (s.key, v)))
                    .map(|(k, v)| (format!("settings[{k}]"), v.as_str()))
                    .chain(std::iter::once(("name".to_owned(), form.name.as_str())))
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| {
                        let v: String = v.chars().take(crate::model::MAX_POLICY_NAME).collect();
                        format!("&{}={}", encode(&k), encode(&v))
                    })
                    .collect();
                let open = format!("{open}{typed}");
                format!(
                    "{back}?{APPLIED_PARAM}=failed&{ACTION_ERROR_PARAM}={}&{FIELD_PARAM}={field}{open}#policies",
                    encode(&e.public_message())
                )
            }
        };
        leptos_axum::redirect(&target);
        return done.map_err(ApiError::from);
    }
    done.map_err(fail)
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
