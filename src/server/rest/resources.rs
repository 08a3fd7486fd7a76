//! The resources of `/api/v1`. Each handler checks the token's role, reads its parameters
//! strictly (unknown ones are a 400), calls the same service the page's server function calls,
//! and answers JSON in camelCase. Collections are `{"value": [...], "nextLink": ...}` like Graph.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{
    AuditFilter, ConnectorInfo, DeviceQuery, DeviceSort, HealthCause, HistoryFilter, Role,
    StateBucket, SyncKind, SyncTrigger,
};

use super::super::client_ip::ClientIp;
use super::super::state::AppState;
use super::super::tokens::Caller;
use super::super::{audit, connector, devices, history, keyset, sync};
use super::problem::{BadRequest, Forbidden, NotFound, ProblemDoc, Unauthorized};
use super::{camel_case, params, require, JsonBody, Problem, BASE};

type Answer = Result<Response, Problem>;

/// A connector as Graph's `deviceManagementExchangeConnector` names it, with its health.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConnectorResource {
    id: String,
    /// `none`, `connectionPending`, `connected` or `disconnected`.
    status: crate::model::ConnectionStatus,
    status_reason: Option<String>,
    last_sync_date_time: Option<DateTime<Utc>>,
    primary_smtp_address: String,
    server_name: String,
    exchange_organization: Option<String>,
    exchange_connector_type: String,
    version: &'static str,
    tenant_id: String,
    health: crate::model::Health,
    health_cause: Option<HealthCause>,
    syncing: bool,
    device_count: u64,
    set_up_date_time: DateTime<Utc>,
    set_up_by: Option<String>,
}

impl ConnectorResource {
    fn new(c: ConnectorInfo) -> Self {
        let server_name = url::Url::parse(&c.endpoint)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| c.endpoint.clone());
        Self {
            id: c.id,
            status: c.status,
            status_reason: c.status_reason,
            last_sync_date_time: c.last_sync_at,
            primary_smtp_address: c.account,
            server_name,
            exchange_organization: c.organization,
            exchange_connector_type: c.connector_type,
            version: env!("CARGO_PKG_VERSION"),
            tenant_id: c.tenant_id,
            health: c.health,
            health_cause: c.health_cause,
            syncing: c.syncing,
            device_count: c.device_count,
            set_up_date_time: c.set_up_at,
            set_up_by: c.set_up_by,
        }
    }
}

pub(super) fn json_ok(value: impl Serialize) -> Answer {
    let value = serde_json::to_value(value)
        .map_err(|e| Problem::from(super::super::error::AppError::Internal(e.to_string())))?;
    Ok(Json(camel_case(value)).into_response())
}

/// The connector set up now, if `id` names it; else 404.
pub(super) async fn current(state: &AppState, id: &str) -> Result<ConnectorInfo, Problem> {
    connector::overview(state)
        .await?
        .connector
        .filter(|c| c.id == id)
        .ok_or_else(|| Problem::not_found(format!("There is no connector \"{}\".", short(id))))
}

/// At most 64 characters of a caller's value, for a message.
fn short(value: &str) -> String {
    value.chars().take(64).collect()
}

/// An absolute link to `path` with `pairs` (through `PUBLIC_URL` behind a proxy).
fn link(state: &AppState, path: &str, pairs: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    let query = query.finish();
    let base = state.public_base();
    if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    }
}

/// `limit`: 1..=max, default `default`.
fn limit(p: &HashMap<String, String>, default: u32, max: u32) -> Result<u32, Problem> {
    match p.get("limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| Problem::bad_request("limit", format!("a number from 1 to {max}"))),
    }
}

/// A ledger cursor (`nextLink`'s), checked before use.
fn ledger_cursor(p: &HashMap<String, String>) -> Result<Option<&str>, Problem> {
    match p.get("cursor").map(String::as_str) {
        None => Ok(None),
        Some(c) if c.len() <= 256 && keyset::parse(c).is_some() => Ok(Some(c)),
        Some(_) => Err(Problem::bad_request(
            "cursor",
            "not a cursor of this list: follow nextLink as it is",
        )),
    }
}

/// An enum by its API name, or a 400 naming the field.
fn named<T: serde::de::DeserializeOwned>(
    p: &HashMap<String, String>,
    key: &str,
    values: &str,
) -> Result<Option<T>, Problem> {
    match p.get(key).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => serde_json::from_value(Value::String(v.clone()))
            .map(Some)
            .map_err(|_| Problem::bad_request(key, format!("one of: {values}"))),
    }
}

/// `GET /api/v1/connectors`: the connector, if one is set up (Graph's collection shape).
#[utoipa::path(get, path = "/connectors", summary = "The connector, if one is set up", tag = "connectors",
    responses((status = 200, description = "The connector, if one is set up", body = ConnectorList), Unauthorized, BadRequest))]
pub(super) async fn connectors(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    params(query.as_deref(), &[])?;
    let overview = connector::overview(&state).await?;
    json_ok(ConnectorList {
        value: overview
            .connector
            .into_iter()
            .map(ConnectorResource::new)
            .collect(),
    })
}

/// `GET /api/v1/connectors/{id}`.
#[utoipa::path(get, path = "/connectors/{id}", summary = "One connector: status, health, last sync, server", tag = "connectors", params(("id" = String, Path, description = "The connector's id")),
    responses((status = 200, description = "The connector", body = ConnectorResource), Unauthorized, NotFound))]
pub(super) async fn connector(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    params(query.as_deref(), &[])?;
    json_ok(ConnectorResource::new(current(&state, &id).await?))
}

/// What `POST …/sync` takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SyncRequest {
    sync_type: SyncKind,
}

/// A sync that started: its run, and where to follow it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SyncAccepted {
    run_id: String,
    sync_type: SyncKind,
    /// The run's address (also in `Location`).
    url: String,
}

/// The connectors (one, or none before set-up).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ConnectorList {
    value: Vec<ConnectorResource>,
}

/// One page of sync runs, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SyncRunList {
    value: Vec<crate::model::SyncRun>,
    /// The next page, when there is one.
    next_link: Option<String>,
}

/// One page of devices.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeviceList {
    value: Vec<crate::model::DeviceRow>,
    /// Devices matching the filter, on every page.
    total: u64,
    /// Whether a sync ever ran (an empty list then means "no match").
    synced: bool,
    next_link: Option<String>,
    prev_link: Option<String>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct AuditList {
    value: Vec<crate::model::AuditEntry>,
    next_link: Option<String>,
}

/// `POST /api/v1/connectors/{id}/sync` `{"syncType": "fullSync" | "deltaSync"}` (admin
/// tokens): 202 with the run's address in `Location`; 409 while a sync runs. Audited with the
/// token's name, like the page's button.
#[utoipa::path(post, path = "/connectors/{id}/sync", summary = "Start a full or delta sync (admin tokens)", tag = "connectors", params(("id" = String, Path, description = "The connector's id")),
    request_body = SyncRequest,
    responses(
        (status = 202, description = "Started; follow the run at `Location`", body = SyncAccepted,
            headers(("Location" = String, description = "The run's address"))),
        (status = 409, description = "A sync is already running", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub(super) async fn sync(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(ClientIp(peer)): Extension<ClientIp>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<SyncRequest>,
) -> Answer {
    require(&caller, Role::Admin)?;
    params(query.as_deref(), &[])?;
    let c = current(&state, &id).await?;
    let actor = caller.actor();
    let started = sync::start(
        &state,
        body.sync_type,
        SyncTrigger::Manual,
        Some(actor.clone()),
    )
    .await;
    let event = audit::sync_start(&actor, &peer.to_string(), body.sync_type, &started);
    audit::record(state.db.pool(), event).await;
    let run_id = started?;
    let url = link(
        &state,
        &format!("{BASE}/connectors/{}/syncRuns/{run_id}", c.id),
        &[],
    );
    let accepted = SyncAccepted {
        run_id,
        sync_type: body.sync_type,
        url: url.clone(),
    };
    let mut response = (StatusCode::ACCEPTED, Json(accepted)).into_response();
    if let Ok(location) = header::HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /api/v1/connectors/{id}/syncRuns?status=&kind=&trigger=&limit=&cursor=`: newest first.
#[utoipa::path(get, path = "/connectors/{id}/syncRuns", summary = "The sync history, newest first", tag = "sync runs",
    params(("id" = String, Path, description = "The connector's id"),
        ("status" = Option<crate::model::SyncStatus>, Query, description = "Only runs that ended so"),
        ("kind" = Option<SyncKind>, Query, description = "Only full or delta syncs"),
        ("trigger" = Option<SyncTrigger>, Query, description = "Only runs started so"),
        ("limit" = Option<u32>, Query, description = "Runs per page, 1 to 200 (25)"),
        ("cursor" = Option<String>, Query, description = "From `nextLink`")),
    responses((status = 200, description = "Runs, newest first", body = SyncRunList), BadRequest, Unauthorized, NotFound))]
pub(super) async fn sync_runs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let p = params(
        query.as_deref(),
        &["status", "kind", "trigger", "limit", "cursor"],
    )?;
    let c = current(&state, &id).await?;
    let filter = HistoryFilter {
        status: named(
            &p,
            "status",
            "running, succeeded, partiallySucceeded, failed, interrupted",
        )?,
        kind: named(&p, "kind", "fullSync, deltaSync")?,
        trigger: named(&p, "trigger", "setup, scheduled, manual")?,
    };
    let limit = limit(&p, 25, history::MAX_PAGE)?;
    let page = history::page(&state, &filter, ledger_cursor(&p)?, limit).await?;
    let next_link = page.next_cursor.map(|cursor| {
        let mut pairs: Vec<(&str, String)> = ["status", "kind", "trigger", "limit"]
            .into_iter()
            .filter_map(|k| p.get(k).map(|v| (k, v.clone())))
            .collect();
        pairs.push(("cursor", cursor));
        link(
            &state,
            &format!("{BASE}/connectors/{}/syncRuns", c.id),
            &pairs,
        )
    });
    json_ok(SyncRunList {
        value: page.runs,
        next_link,
    })
}

/// `GET /api/v1/connectors/{id}/syncRuns/{runId}`.
#[utoipa::path(get, path = "/connectors/{id}/syncRuns/{runId}", summary = "One sync run with its counts and errors", tag = "sync runs",
    params(("id" = String, Path, description = "The connector's id"), ("runId" = String, Path, description = "The run's id")),
    responses((status = 200, description = "The run", body = crate::model::SyncRun), Unauthorized, NotFound))]
pub(super) async fn sync_run(
    State(state): State<AppState>,
    Path((id, run_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    let run = history::run(&state, &run_id).await?.ok_or_else(|| {
        Problem::not_found(format!("There is no sync run \"{}\".", short(&run_id)))
    })?;
    json_ok(run)
}

/// The device list's parameters, as the page's address takes them.
const DEVICE_PARAMS: &[&str] = &[
    "q", "state", "reason", "client", "type", "os", "agent", "version", "eas", "stale", "removed",
    "sort", "dir", "limit", "after", "before",
];

/// `GET /api/v1/connectors/{id}/devices?<the device list's filters>&sort=&dir=&limit=&after=`:
/// one page, with `nextLink` and `prevLink`.
#[utoipa::path(get, path = "/connectors/{id}/devices", summary = "The devices, filtered and sorted like the device list", tag = "devices",
    params(("id" = String, Path, description = "The connector's id"),
        ("q" = Option<String>, Query, description = "Search: user, device, model, id"),
        ("state" = Option<String>, Query, description = "Allowed, Blocked, Quarantined, DeviceDiscovery or Other"),
        ("reason" = Option<String>, Query, description = "Exchange's access state reason"),
        ("client" = Option<String>, Query, description = "Client type (EAS, Outlook, ...)"),
        ("type" = Option<String>, Query, description = "Device type"),
        ("os" = Option<String>, Query, description = "Operating system family"),
        ("agent" = Option<String>, Query, description = "User agent"),
        ("version" = Option<String>, Query, description = "Client version"),
        ("eas" = Option<String>, Query, description = "`legacy`: only EAS below 16.1"),
        ("stale" = Option<String>, Query, description = "Not synced for this long (as the list offers)"),
        ("removed" = Option<String>, Query, description = "`only`: devices gone from Exchange"),
        ("sort" = Option<String>, Query, description = "A column of the list"),
        ("dir" = Option<String>, Query, description = "asc or desc"),
        ("limit" = Option<u32>, Query, description = "25, 50, 100 or 200 (50)"),
        ("after" = Option<String>, Query, description = "From `nextLink`"),
        ("before" = Option<String>, Query, description = "From `prevLink`")),
    responses((status = 200, description = "One page of devices", body = DeviceList), BadRequest, Unauthorized, NotFound))]
pub(super) async fn devices(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let p = params(query.as_deref(), DEVICE_PARAMS)?;
    let c = current(&state, &id).await?;
    // The page forgives odd values (a link keeps working); a script is told.
    let given = |k: &str| p.get(k).filter(|v| !v.trim().is_empty());
    if let Some(v) = given("state") {
        if StateBucket::parse(v).is_none() {
            return Err(Problem::bad_request(
                "state",
                "one of: Allowed, Blocked, Quarantined, DeviceDiscovery, Other",
            ));
        }
    }
    if let Some(v) = given("sort") {
        if DeviceSort::parse(v).is_none() {
            return Err(Problem::bad_request("sort", "not a column of the list"));
        }
    }
    if let Some(v) = given("dir") {
        if v != "asc" && v != "desc" {
            return Err(Problem::bad_request("dir", "asc or desc"));
        }
    }
    if let Some(v) = given("limit") {
        if !v
            .parse::<u32>()
            .is_ok_and(|l| crate::model::DEVICE_PAGE_SIZES.contains(&l))
        {
            return Err(Problem::bad_request("limit", "25, 50, 100 or 200"));
        }
    }
    for key in ["after", "before"] {
        if let Some(v) = given(key) {
            if devices::decode_position(v).is_none() {
                return Err(Problem::bad_request(
                    key,
                    "not a position of this list: follow nextLink or prevLink as they are",
                ));
            }
        }
    }
    let query = DeviceQuery::from_params(|key| p.get(key).cloned());
    let page = devices::page(&state, &query).await?;
    let path = format!("{BASE}/connectors/{}/devices", c.id);
    let keep = |cursor_key: &'static str, cursor: String| {
        // The query as the list reads it (limit included), then the position.
        let mut pairs: Vec<(&str, String)> = query.params();
        pairs.push((cursor_key, cursor));
        link(&state, &path, &pairs)
    };
    let next_link = page.next_cursor.clone().map(|c| keep("after", c));
    let prev_link = page.prev_cursor.clone().map(|c| keep("before", c));
    json_ok(DeviceList {
        value: page.rows,
        total: page.total,
        synced: page.synced,
        next_link,
        prev_link,
    })
}

/// `GET /api/v1/connectors/{id}/devices/{deviceId}`: the device, why it has its state, and
/// its history.
#[utoipa::path(get, path = "/connectors/{id}/devices/{deviceId}", summary = "One device, why it has its state, and its history", tag = "devices",
    params(("id" = String, Path, description = "The connector's id"), ("deviceId" = String, Path, description = "The device's Exchange GUID")),
    responses((status = 200, description = "The device (`row`), why it has its state, and its history", body = serde_json::Value), Unauthorized, NotFound))]
pub(super) async fn device(
    State(state): State<AppState>,
    Path((id, device_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    let details = devices::details(&state, &device_id).await?.ok_or_else(|| {
        Problem::not_found(format!("There is no device \"{}\".", short(&device_id)))
    })?;
    json_ok(details)
}

/// `GET /api/v1/connectors/{id}/accessStateSummary`: present devices by access state.
#[utoipa::path(get, path = "/connectors/{id}/accessStateSummary", summary = "Present devices by access state", tag = "devices", params(("id" = String, Path, description = "The connector's id")),
    responses((status = 200, description = "`counts`: [state, devices] pairs; `total`; the values the filters offer", body = serde_json::Value), Unauthorized, NotFound))]
pub(super) async fn access_state_summary(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    json_ok(devices::summary(&state).await?)
}

/// `GET /api/v1/connectors/{id}/readiness`: EAS 16.1 readiness and stale partnerships.
#[utoipa::path(get, path = "/connectors/{id}/readiness", summary = "EAS 16.1 readiness and stale partnerships", tag = "devices", params(("id" = String, Path, description = "The connector's id")),
    responses((status = 200, description = "EAS 16.1 readiness and stale partnerships", body = serde_json::Value), Unauthorized, NotFound))]
pub(super) async fn readiness(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    params(query.as_deref(), &[])?;
    current(&state, &id).await?;
    json_ok(devices::readiness(&state).await?)
}

/// `GET /api/v1/auditLog?action=&result=&actor=&from=&to=&limit=&cursor=` (admin tokens).
#[utoipa::path(get, path = "/auditLog", summary = "The audit log, newest first (admin tokens)", tag = "audit log",
    params(
        ("action" = Option<crate::model::AuditAction>, Query, description = "Only this action"),
        ("result" = Option<crate::model::AuditResult>, Query, description = "Only this result"),
        ("actor" = Option<String>, Query, description = "Who acted (part of it)"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (UTC)"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (UTC)"),
        ("limit" = Option<u32>, Query, description = "Entries per page, 1 to 200 (50)"),
        ("cursor" = Option<String>, Query, description = "From `nextLink`")),
    responses((status = 200, description = "Entries, newest first (admin tokens)", body = AuditList), BadRequest, Unauthorized, Forbidden))]
pub(super) async fn audit_log(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Answer {
    require(&caller, Role::Admin)?;
    let p = params(
        query.as_deref(),
        &["action", "result", "actor", "from", "to", "limit", "cursor"],
    )?;
    for key in ["from", "to"] {
        if let Some(v) = p.get(key).filter(|v| !v.is_empty()) {
            if v.parse::<chrono::NaiveDate>().is_err() {
                return Err(Problem::bad_request(key, "a date as YYYY-MM-DD"));
            }
        }
    }
    if let Some(v) = p.get("action").filter(|v| !v.is_empty()) {
        if crate::model::AuditAction::parse(v).is_none() {
            return Err(Problem::bad_request(
                "action",
                "not an action of the audit log",
            ));
        }
    }
    if let Some(v) = p.get("result").filter(|v| !v.is_empty()) {
        if crate::model::AuditResult::parse(v).is_none() {
            return Err(Problem::bad_request("result", "success, failure or denied"));
        }
    }
    let filter = AuditFilter::from_params(|key| p.get(key).cloned());
    let limit = limit(&p, 50, audit::MAX_PAGE)?;
    let page = audit::page(&state, &filter, ledger_cursor(&p)?, limit).await?;
    let next_link = page.next_cursor.map(|cursor| {
        let mut pairs: Vec<(&str, String)> = ["action", "result", "actor", "from", "to", "limit"]
            .into_iter()
            .filter_map(|k| p.get(k).map(|v| (k, v.clone())))
            .collect();
        pairs.push(("cursor", cursor));
        link(&state, &format!("{BASE}/auditLog"), &pairs)
    });
    json_ok(AuditList {
        value: page.entries,
        next_link,
    })
}
