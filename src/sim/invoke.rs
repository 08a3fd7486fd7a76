//! `POST /adminapi/{beta|v1.0}/{tenant}/InvokeCommand`: authentication, RBAC, body and parameter
//! binding, dispatch to a cmdlet (reads under the tenant read lock, changes under its write
//! lock), paging and the response envelope. Churn that is due is applied before the cmdlet runs.

use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;

use super::cmdlets::{self, Cmdlet, Request, Run};
use super::identity::{self, TokenInfo};
use super::paging::{self, SkipToken, MAX_PAGE};
use super::params::{Params, ResultSize};
use super::rbac;
use super::wire::{self, ExoError, JSON_CONTENT_TYPE};
use super::SimState;

/// Warning the service adds when `ResultSize` cut the output short.
pub(crate) const MORE_RESULTS_WARNING: &str =
    "There are more results available than are currently displayed. \
     To view them, increase the value for the ResultSize parameter.";

/// A successful cmdlet answer before it is written out.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub(crate) rows: Vec<String>,
    pub(crate) warnings: Vec<String>,
    pub(crate) next: Option<SkipToken>,
}

/// How far one call may go: page size, the overall cap and whether a next page may be offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) page: usize,
    /// Rows allowed over all pages (`u64::MAX` for Unlimited).
    pub(crate) total: u64,
    pub(crate) paging: bool,
}

impl Window {
    /// The spec §3 rules: `Unlimited` pages through everything, a number pages up to that number,
    /// no `ResultSize` (on a cmdlet that has one) gives the first page only, at most 1000 rows.
    pub(crate) fn new(cmdlet: &Cmdlet, result_size: Option<ResultSize>, page: usize) -> Self {
        match (cmdlet.has_result_size(), result_size) {
            (true, None) => Self {
                page: page.min(MAX_PAGE),
                total: page.min(MAX_PAGE) as u64,
                paging: false,
            },
            (_, Some(ResultSize::Limit(n))) => Self {
                page,
                total: n,
                paging: true,
            },
            _ => Self {
                page,
                total: u64::MAX,
                paging: true,
            },
        }
    }
}

/// Runs `cmdlet` for one page on behalf of `caller` (see [`Request::caller`]). `token` is the
/// decoded `$skiptoken`, already checked to belong to this cmdlet and these parameters.
pub(crate) fn run_page(
    state: &SimState,
    cmdlet: &Cmdlet,
    params: &Params,
    fingerprint: u64,
    window: Window,
    token: Option<&SkipToken>,
    caller: &str,
) -> Result<Page, ExoError> {
    let returned = token.map_or(0, |t| t.returned);
    let remaining = window.total.saturating_sub(returned);
    let take = usize::try_from(remaining)
        .unwrap_or(usize::MAX)
        .min(window.page);
    let request = Request {
        params,
        after: token.map(|t| t.after),
        limit: take.saturating_add(1),
        now: state.now(),
        caller,
    };
    let mut rows = match cmdlet.run {
        Run::Read(run) => run(&state.tenant(), &request)?,
        // A change happens once: a $skiptoken page of a changing cmdlet has nothing more to show.
        Run::Write(_) if token.is_some() => Vec::new(),
        Run::Write(run) => run(&mut state.tenant_mut(), &request)?,
    };
    let more = rows.len() > take;
    rows.truncate(take);
    let mut page = Page::default();
    if more {
        let returned_now = returned + rows.len() as u64;
        match rows.last() {
            Some(last) if window.paging && returned_now < window.total => {
                page.next = Some(SkipToken {
                    cmdlet: cmdlet.name.to_owned(),
                    fingerprint,
                    after: last.key,
                    returned: returned_now,
                });
            }
            _ => page.warnings.push(MORE_RESULTS_WARNING.to_owned()),
        }
    }
    page.rows = rows.into_iter().map(|r| r.json).collect();
    Ok(page)
}

/// The spec §3 envelope, written by hand so rows serialized once are not parsed again.
pub(crate) fn envelope(context: &str, page: &Page, next_link: Option<&str>) -> String {
    let size: usize = page.rows.iter().map(|r| r.len() + 1).sum();
    let mut out = String::with_capacity(size + 512);
    out.push_str("{\"@odata.context\":");
    out.push_str(&Value::from(context).to_string());
    if !page.warnings.is_empty() {
        out.push_str(",\"@adminapi.warnings\":");
        out.push_str(&Value::from(page.warnings.clone()).to_string());
    }
    out.push_str(",\"value\":[");
    for (i, row) in page.rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(row);
    }
    out.push(']');
    if let Some(link) = next_link {
        out.push_str(",\"@odata.nextLink\":");
        out.push_str(&Value::from(link).to_string());
    }
    out.push('}');
    out
}

/// Headers every InvokeCommand answer carries.
fn common_headers(state: &SimState, request: &HeaderMap) -> HeaderMap {
    let mut h = HeaderMap::new();
    wire::insert(&mut h, "request-id", &Uuid::new_v4().to_string());
    wire::insert(&mut h, "x-calculatedbetarget", &state.be_target());
    if let Some(id) = request
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
    {
        wire::insert(&mut h, "client-request-id", id);
    }
    h
}

/// `POST /adminapi/{version}/{tenant}/InvokeCommand`.
pub(crate) async fn invoke_command(
    State(state): State<SimState>,
    Path((version, tenant)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut out_headers = common_headers(&state, &headers);
    if !(version == "beta" || version == "v1.0") {
        return ExoError::plain(
            StatusCode::NOT_FOUND,
            "System.Web.HttpException",
            format!("No API version '{version}'."),
        )
        .into_response_with(out_headers);
    }
    let base = state.base_url(&headers);
    let caller = match identity::check_bearer(&state, &headers, state.now()) {
        Ok(info) => info,
        Err(problem) => {
            state.stats().unauthorized.fetch_add(1, Ordering::Relaxed);
            return identity::unauthorized(problem, &base, out_headers);
        }
    };
    if !state.tenant().org.matches(&tenant) {
        return ExoError::plain(
            StatusCode::NOT_FOUND,
            "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            format!("Tenant '{tenant}' is not served here. Use the tenant GUID or a verified domain of this tenant."),
        )
        .into_response_with(out_headers);
    }
    let url = format!("{base}/adminapi/{version}/{tenant}/InvokeCommand");
    let request = Incoming {
        url: &url,
        version: &version,
        tenant: &tenant,
        query: query.as_deref(),
        headers: &headers,
        body: &body,
        caller: &caller,
    };
    match handle(&state, &request) {
        Ok((page_size, response_body)) => {
            wire::insert(&mut out_headers, "content-type", JSON_CONTENT_TYPE);
            wire::insert(
                &mut out_headers,
                "preference-applied",
                &format!("odata.maxpagesize={page_size}"),
            );
            (StatusCode::OK, out_headers, response_body).into_response()
        }
        Err(Outcome::Error(e)) => e.into_response_with(out_headers),
        Err(Outcome::Forbidden(cmdlet)) => {
            wire::insert(
                &mut out_headers,
                "content-type",
                "text/plain; charset=utf-8",
            );
            (
                StatusCode::FORBIDDEN,
                out_headers,
                rbac::forbidden_text(cmdlet),
            )
                .into_response()
        }
        Err(Outcome::CliXml) => {
            wire::insert(
                &mut out_headers,
                "content-type",
                "application/xml; charset=utf-8",
            );
            (StatusCode::OK, out_headers, CLIXML_PLACEHOLDER).into_response()
        }
    }
}

/// What the service sends without `X-ResponseFormat: json`. Clients must never rely on it: the
/// simulator does not run the cmdlet and returns this fixed, clearly non-JSON document.
const CLIXML_PLACEHOLDER: &str =
    "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\
<!-- exo-sim: send the header 'X-ResponseFormat: json' to get JSON results --></Objs>";

enum Outcome {
    Error(ExoError),
    CliXml,
    /// RBAC denies this cmdlet (canonical name) to the caller.
    Forbidden(&'static str),
}

/// One InvokeCommand request, authenticated.
struct Incoming<'a> {
    url: &'a str,
    version: &'a str,
    tenant: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    body: &'a [u8],
    caller: &'a TokenInfo,
}

impl From<ExoError> for Outcome {
    fn from(e: ExoError) -> Self {
        Self::Error(e)
    }
}

fn handle(state: &SimState, request: &Incoming<'_>) -> Result<(usize, String), Outcome> {
    let Incoming {
        url,
        version,
        tenant,
        query,
        headers,
        body,
        caller,
    } = *request;
    let json: Value =
        serde_json::from_slice(body).map_err(|e| ExoError::bad_body(&e.to_string()))?;
    let input = json
        .get("CmdletInput")
        .filter(|v| v.is_object())
        .ok_or_else(|| ExoError::bad_body("missing the 'CmdletInput' object"))?;
    let name = input
        .get("CmdletName")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ExoError::bad_body("missing 'CmdletInput.CmdletName'"))?;
    let Some(cmdlet) = cmdlets::find(name) else {
        state
            .stats()
            .unknown_cmdlets
            .fetch_add(1, Ordering::Relaxed);
        return Err(ExoError::unknown_cmdlet(name).into());
    };
    state.stats().count(cmdlet.name);
    if !state.allowed(caller, cmdlet.name) {
        return Err(Outcome::Forbidden(cmdlet.name));
    }

    let json_format = headers
        .get("x-responseformat")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("json"));
    if !json_format {
        return Err(Outcome::CliXml);
    }

    let params = Params::bind(cmdlet.params, input.get("Parameters"))?;
    let result_size = if cmdlet.has_result_size() {
        params.result_size()?
    } else {
        None
    };
    let fingerprint = paging::fingerprint(cmdlet.name, &params);
    let token = match skiptoken(query) {
        None => None,
        Some(raw) => Some(
            SkipToken::decode(&raw)
                .filter(|t| t.cmdlet == cmdlet.name && t.fingerprint == fingerprint)
                .ok_or_else(|| {
                    ExoError::plain(
                        StatusCode::BAD_REQUEST,
                        "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                        "The $skiptoken is not valid for this request. Send the same body to the @odata.nextLink you received.",
                    )
                })?,
        ),
    };
    let prefer = headers.get("prefer").and_then(|v| v.to_str().ok());
    let page_size = paging::page_size(prefer, state.config().max_page_size);
    let window = Window::new(cmdlet, result_size, page_size);
    state.catch_up();
    let who = caller.user.as_deref().unwrap_or(&caller.client_id);
    let page = run_page(
        state,
        cmdlet,
        &params,
        fingerprint,
        window,
        token.as_ref(),
        who,
    )?;
    let next_link = page
        .next
        .as_ref()
        .map(|t| format!("{url}?$skiptoken={}", t.encode()));
    let context = format!(
        "{}/adminapi/{version}/{tenant}/$metadata#Collection(Exchange.GenericHashTable)",
        url.split("/adminapi/").next().unwrap_or_default()
    );
    Ok((window.page, envelope(&context, &page, next_link.as_deref())))
}

/// The `$skiptoken` query parameter, URL-decoded.
fn skiptoken(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "$skiptoken")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests;
