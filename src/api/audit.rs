//! Server functions of the audit log page (admins only).

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::{AuditFilter, AuditPage};

#[cfg(feature = "ssr")]
use super::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::model::Role;

/// Entries on one audit log page by default.
pub const AUDIT_PAGE_SIZE: u32 = 50;
/// The most entries one page may ask for.
pub const AUDIT_MAX_PAGE_SIZE: u32 = 200;

/// One page of the audit log, newest first, filtered; `cursor` is the `next_cursor` of the
/// page before (none for the newest entries). Admins only: 401 anonymous, 403 for a reader.
#[server(endpoint = "audit-log/page")]
pub async fn get_audit_log(
    // An empty filter has no fields to send: it must read as "no filter", not as missing.
    #[server(default)] filter: AuditFilter,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<AuditPage, ApiError> {
    let (state, _who) = authorize(Role::Admin).await?;
    let limit = limit
        .unwrap_or(AUDIT_PAGE_SIZE)
        .clamp(1, AUDIT_MAX_PAGE_SIZE);
    crate::server::audit::page(&state, &filter, cursor.as_deref(), limit)
        .await
        .map_err(fail)
}
