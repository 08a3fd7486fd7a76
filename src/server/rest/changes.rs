//! The changes `/api/v1` makes in Exchange (admin tokens): device actions, the access settings
//! and rules (with their preview), and mobile device mailbox policies. Each goes through
//! `server::access` as the page's does: checked before anything is sent, every Exchange call
//! audited (with the token's name), the result read back, and finished even when the caller
//! goes away.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use crate::model::{AccessChangeForm, DeviceAction, PolicyForm, Role};

use super::super::access;
use super::super::client_ip::ClientIp;
use super::super::error::AppError;
use super::super::setup::Actor;
use super::super::state::AppState;
use super::super::tokens::Caller;
use super::problem::{BadRequest, Forbidden, NotFound, Unauthorized};
use super::resources::{current, json_ok};
use super::{params, require, JsonBody, Problem};

type Answer = Result<Response, Problem>;

/// The actor of a change made with `caller`'s token from `peer`, as the audit log names it.
fn actor(caller: &Caller, peer: std::net::IpAddr) -> Actor {
    Actor {
        email: Some(caller.actor()),
        address: Some(peer.to_string()),
    }
}

/// A device action.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DeviceActionRequest {
    /// `allow`, `block`, `clearIndividual`, `remove`, `wipe`, `accountOnlyWipe` or
    /// `cancelWipe`.
    action: String,
    /// The devices' Exchange GUIDs (at most 500).
    devices: Vec<String>,
    /// `REMOVE` for remove, `WIPE` for the wipes.
    #[serde(default)]
    confirmation: String,
}

/// `POST /api/v1/connectors/{id}/devices/actions`.
#[utoipa::path(post, path = "/connectors/{id}/devices/actions", tag = "changes",
    summary = "Allow, block, clear, remove or wipe devices (admin tokens)",
    params(("id" = String, Path, description = "The connector's id")),
    request_body = DeviceActionRequest,
    responses(
        (status = 200, description = "What Exchange did, each failure, and what the read-back found", body = crate::model::ActionReport),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub(super) async fn device_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(ClientIp(peer)): Extension<ClientIp>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<DeviceActionRequest>,
) -> Answer {
    require(&caller, Role::Admin)?;
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    let action = DeviceAction::parse(&body.action).ok_or_else(|| {
        Problem::bad_request(
            "action",
            "one of: allow, block, clearIndividual, remove, wipe, accountOnlyWipe, cancelWipe",
        )
    })?;
    if body.devices.len() > crate::model::MAX_BULK_DEVICES {
        return Err(Problem::bad_request(
            "devices",
            format!("at most {} devices at once", crate::model::MAX_BULK_DEVICES),
        ));
    }
    let report = access::act(
        &state,
        &actor(&caller, peer),
        &body.devices,
        action,
        &body.confirmation,
    )
    .await?;
    json_ok(report)
}

/// A change of Exchange's ActiveSync access settings or rules: the page's form, in JSON.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub(super) struct AccessChangeRequest {
    /// `settings`, `newRule`, `ruleLevel` or `deleteRule`.
    change: String,
    /// Settings: `Allow`, `Block` or `Quarantine`.
    default_access_level: String,
    /// Settings: addresses separated by commas, semicolons or spaces.
    admin_mail_recipients: String,
    user_mail_insert: String,
    ota_notification_mail_insert: String,
    /// Settings: add the devices that synced in the last N days to their allowed lists.
    grandfather_days: String,
    /// New rule: `DeviceType`, `DeviceModel`, `DeviceOS` or `UserAgent`, and the value.
    characteristic: String,
    query_string: String,
    /// New rule, rule level: `Allow`, `Block` or `Quarantine`.
    access_level: String,
    /// Rule level, delete: the rule's identity.
    rule: String,
}

impl From<AccessChangeRequest> for AccessChangeForm {
    fn from(r: AccessChangeRequest) -> Self {
        Self {
            change: r.change,
            default_access_level: r.default_access_level,
            admin_mail_recipients: r.admin_mail_recipients,
            user_mail_insert: r.user_mail_insert,
            ota_notification_mail_insert: r.ota_notification_mail_insert,
            grandfather_days: r.grandfather_days,
            characteristic: r.characteristic,
            query_string: r.query_string,
            access_level: r.access_level,
            rule: r.rule,
        }
    }
}

/// `GET /api/v1/connectors/{id}/exchangeAccess`.
#[utoipa::path(get, path = "/connectors/{id}/exchangeAccess", tag = "changes",
    summary = "The access settings, rules and mailbox policies as the last sync read them",
    params(("id" = String, Path, description = "The connector's id")),
    responses((status = 200, description = "Settings, rules, policies", body = serde_json::Value),
        Unauthorized, NotFound))]
pub(super) async fn exchange_access(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    json_ok(access::overview(&state, caller.who.role == Role::Admin).await?)
}

/// `POST /api/v1/connectors/{id}/exchangeAccess/preview`.
#[utoipa::path(post, path = "/connectors/{id}/exchangeAccess/preview", tag = "changes",
    summary = "What a change of the settings or rules would do to the devices (admin tokens)",
    params(("id" = String, Path, description = "The connector's id")),
    request_body = AccessChangeRequest,
    responses((status = 200, description = "The change in words, the devices that would change, by their new state, and why others keep theirs", body = serde_json::Value),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub(super) async fn preview(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<AccessChangeRequest>,
) -> Answer {
    require(&caller, Role::Admin)?;
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    json_ok(access::preview(&state, &body.into()).await?)
}

/// `POST /api/v1/connectors/{id}/exchangeAccess/changes`.
#[utoipa::path(post, path = "/connectors/{id}/exchangeAccess/changes", tag = "changes",
    summary = "Make a change of the settings or rules in Exchange (admin tokens)",
    params(("id" = String, Path, description = "The connector's id")),
    request_body = AccessChangeRequest,
    responses((status = 200, description = "What Exchange did and what the read-back found", body = crate::model::ActionReport),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub(super) async fn apply(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(ClientIp(peer)): Extension<ClientIp>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<AccessChangeRequest>,
) -> Answer {
    require(&caller, Role::Admin)?;
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    json_ok(access::apply(&state, &actor(&caller, peer), &body.into()).await?)
}

/// A mobile device mailbox policy change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PolicyChangeRequest {
    /// `save`, `makeDefault` or `delete`.
    change: String,
    /// The policy's identity; empty to create one.
    #[serde(default)]
    policy: String,
    /// A new policy's name.
    #[serde(default)]
    name: String,
    /// A new policy becomes the default.
    #[serde(default)]
    make_default: bool,
    /// Exchange's parameter names and their values (`"MinPasswordLength": "6"`).
    #[serde(default)]
    settings: BTreeMap<String, String>,
}

/// `POST /api/v1/connectors/{id}/mailboxPolicies/changes`.
#[utoipa::path(post, path = "/connectors/{id}/mailboxPolicies/changes", tag = "changes",
    summary = "Create, change, make default or delete a mobile device mailbox policy (admin tokens)",
    params(("id" = String, Path, description = "The connector's id")),
    request_body = PolicyChangeRequest,
    responses((status = 200, description = "What Exchange did and what the read-back found", body = crate::model::ActionReport),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub(super) async fn policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(ClientIp(peer)): Extension<ClientIp>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<PolicyChangeRequest>,
) -> Answer {
    require(&caller, Role::Admin)?;
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    let form = PolicyForm {
        change: body.change,
        policy: body.policy,
        name: body.name,
        make_default: body.make_default,
        settings: body.settings,
    };
    let report: Result<_, AppError> =
        access::apply_policy(&state, &actor(&caller, peer), form).await;
    json_ok(report?)
}
