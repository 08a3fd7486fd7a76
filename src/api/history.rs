//! Server functions of the sync history page.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::model::{HistoryFilter, HistoryPage, SyncRun};

#[cfg(feature = "ssr")]
use super::{authorize, fail};
#[cfg(feature = "ssr")]
use crate::model::Role;

/// Runs on one history page by default.
pub const HISTORY_PAGE_SIZE: u32 = 25;
/// The most runs one page may ask for.
pub const HISTORY_MAX_PAGE_SIZE: u32 = 200;

/// One page of the sync history, newest first, filtered; `cursor` is the `next_cursor` of the
/// page before (none for the newest runs). Also carries the chart of the last 30 days.
#[server(endpoint = "sync-history/page")]
pub async fn get_sync_history(
    // An empty filter has no fields to send: it must read as "no filter", not as missing.
    #[server(default)] filter: HistoryFilter,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<HistoryPage, ApiError> {
    let (state, _who) = authorize(Role::Reader).await?;
    let limit = limit
        .unwrap_or(HISTORY_PAGE_SIZE)
        .clamp(1, HISTORY_MAX_PAGE_SIZE);
    crate::server::history::page(&state, &filter, cursor.as_deref(), limit)
        .await
        .map_err(fail)
}

/// One run with everything the ledger knows about it; `None` when there is no such run.
#[server(endpoint = "sync-history/run")]
pub async fn get_sync_run(id: String) -> Result<Option<SyncRun>, ApiError> {
    let (state, _who) = authorize(Role::Reader).await?;
    crate::server::history::run(&state, &id).await.map_err(fail)
}
