//! `GET /adminapi/{v1.0|beta}/{tenant}/EXOModuleFile?Version=3.9.0`: the permission pre-flight of
//! spec §6. The bearer token is checked as for InvokeCommand. The `CommandName` header selects
//! cmdlets: `*` (or no header) for all, else a comma-separated list of names or `*`/`?`
//! wildcards. The answer's `exportedCmdlets` lists, comma-separated and sorted, the selected
//! cmdlets the caller may run: the simulator's own cmdlets plus a few other real ones (which the
//! simulator does not implement), minus those RBAC denies.

use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use super::filter::like;
use super::wire::{self, ExoError, JSON_CONTENT_TYPE};
use super::{cmdlets, identity, SimState};

/// Real Exchange Online cmdlets outside the connector's needs, listed so that clients have to
/// pick the ones they need out of a longer list. Invoking them answers "not recognized".
pub(crate) const OTHER_CMDLETS: &[&str] = &[
    "Get-Mailbox",
    "Set-Mailbox",
    "Get-Recipient",
    "Get-User",
    "Get-OrganizationConfig",
    "Get-AcceptedDomain",
    "Get-MailboxStatistics",
    "Get-ManagementRoleAssignment",
];

/// Every cmdlet name the module file can list, sorted.
pub(crate) fn all_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = cmdlets::ALL
        .iter()
        .map(|c| c.name)
        .chain(OTHER_CMDLETS.iter().copied())
        .collect();
    names.sort_unstable();
    names
}

fn selected(header: Option<&str>, name: &str) -> bool {
    let Some(h) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return true;
    };
    h.split(',')
        .map(str::trim)
        .any(|pattern| like(name, pattern))
}

/// `GET /adminapi/{version}/{tenant}/EXOModuleFile`.
pub(crate) async fn module_file(
    State(state): State<SimState>,
    Path((version, tenant)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut out = HeaderMap::new();
    wire::insert(&mut out, "request-id", &Uuid::new_v4().to_string());
    if !(version == "beta" || version == "v1.0") {
        return ExoError::plain(
            StatusCode::NOT_FOUND,
            "System.Web.HttpException",
            format!("No API version '{version}'."),
        )
        .into_response_with(out);
    }
    let base = state.base_url(&headers);
    let token = match identity::check_bearer(&state, &headers, state.now()) {
        Ok(t) => t,
        Err(problem) => {
            state.stats().unauthorized.fetch_add(1, Ordering::Relaxed);
            return identity::unauthorized(problem, &base, out);
        }
    };
    if !state.tenant().org.matches(&tenant) {
        return ExoError::plain(
            StatusCode::NOT_FOUND,
            "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            format!("Tenant '{tenant}' is not served here."),
        )
        .into_response_with(out);
    }
    let header = headers.get("commandname").and_then(|v| v.to_str().ok());
    let names: Vec<&str> = all_names()
        .into_iter()
        .filter(|n| selected(header, n) && state.allowed(&token, n))
        .collect();
    let body = json!({
        "@odata.context": format!("{base}/adminapi/{version}/{tenant}/$metadata#EXOModuleFile"),
        "value": [{
            "exportedCmdlets": names.join(","),
            "exportedFunctions": "",
            "version": "3.9.0",
        }],
    });
    wire::insert(&mut out, "content-type", JSON_CONTENT_TYPE);
    (StatusCode::OK, out, body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_name_header_selects_by_name_or_wildcard() {
        assert!(selected(None, "Get-Mailbox"));
        assert!(selected(Some("*"), "Get-Mailbox"));
        assert!(selected(Some("Get-MobileDevice, Set-*"), "set-casmailbox"));
        assert!(!selected(
            Some("Get-MobileDevice"),
            "Get-MobileDeviceStatistics"
        ));
        let all = all_names();
        assert!(all.len() >= cmdlets::ALL.len() + OTHER_CMDLETS.len());
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }
}
