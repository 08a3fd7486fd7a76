//! A handle on a built application's syncs, for integration tests and benchmarks (which can
//! only use `pub` items). Not part of the product's API: the pages use server functions.

use crate::error::ApiError;
use crate::model::{
    ConnectorOverview, DeviceDetails, DevicePage, DeviceQuery, DeviceSummary, HistoryFilter,
    HistoryPage, LiveStatus, Readiness, SyncKind, SyncProgress, SyncRun, SyncTrigger,
};

use super::state::AppState;
use super::{connector, devices, history, sync};

/// Starts, runs and watches syncs of one application.
#[derive(Clone)]
pub struct SyncControl {
    state: AppState,
}

impl SyncControl {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
    }

    /// Creates a local account, as `exchange-connector admin create` does.
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        role: crate::model::Role,
    ) -> Result<(), ApiError> {
        super::auth::create_user(
            self.state.db.pool(),
            email,
            None,
            role,
            Some(secrecy::SecretString::from(password.to_owned())),
        )
        .await?;
        Ok(())
    }

    /// Sets the connector up (its first full sync included), as the set-up button does.
    pub async fn set_up(&self) -> Result<ConnectorOverview, ApiError> {
        let actor = super::setup::Actor::default();
        Ok(super::setup::set_up_with_app(&self.state, None, &actor, true).await?)
    }

    /// Starts a sync in the background; its run id, or a conflict while one runs.
    pub async fn start(
        &self,
        kind: SyncKind,
        trigger: SyncTrigger,
        by: Option<String>,
    ) -> Result<String, ApiError> {
        Ok(sync::hub::start(&self.state, kind, trigger, by).await?)
    }

    /// Runs a manual sync and waits for it; the ledger's record of it.
    pub async fn run(&self, kind: SyncKind) -> Result<SyncRun, ApiError> {
        let summary = sync::run_now(&self.state, kind, SyncTrigger::Manual, None).await?;
        self.record(&summary.id).await?.ok_or(ApiError::Internal)
    }

    /// Waits until no sync runs.
    pub async fn wait_idle(&self) {
        let mut changes = self.state.hub.subscribe();
        while self.state.hub.is_running() {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// How many live statuses were computed for the open live streams (each is sent to all).
    pub fn live_statuses_computed(&self) -> u64 {
        self.state.live.published()
    }

    /// The running sync's progress.
    pub fn progress(&self) -> Option<SyncProgress> {
        self.state.hub.progress()
    }

    /// What the live status stream sends.
    pub async fn live_status(&self) -> Result<LiveStatus, ApiError> {
        Ok(connector::live_status(&self.state).await?)
    }

    /// The connector page's data.
    pub async fn overview(&self) -> Result<ConnectorOverview, ApiError> {
        Ok(connector::overview(&self.state).await?)
    }

    /// One page of the sync history.
    pub async fn history(
        &self,
        filter: &HistoryFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<HistoryPage, ApiError> {
        Ok(history::page(&self.state, filter, cursor, limit).await?)
    }

    /// One run of the ledger.
    pub async fn record(&self, id: &str) -> Result<Option<SyncRun>, ApiError> {
        Ok(history::run(&self.state, id).await?)
    }

    /// The filtered history as CSV.
    pub async fn csv(&self, filter: &HistoryFilter) -> Result<String, ApiError> {
        let write = history::write_csv(&self.state, filter);
        Ok(super::csv::collected(write).await?)
    }

    /// One page of the device list, as its server function reads it.
    pub async fn devices(&self, query: &DeviceQuery) -> Result<DevicePage, ApiError> {
        Ok(devices::page(&self.state, query).await?)
    }

    /// The device summary (counts by access state).
    pub async fn device_summary(&self) -> Result<DeviceSummary, ApiError> {
        Ok(devices::summary(&self.state).await?)
    }

    /// The readiness report.
    pub async fn readiness(&self) -> Result<Readiness, ApiError> {
        Ok(devices::readiness(&self.state).await?)
    }

    /// The Exchange access page (as an admin sees it).
    pub async fn exchange_access(&self) -> Result<crate::model::ExchangeAccess, ApiError> {
        Ok(super::access::overview(&self.state, true).await?)
    }

    /// The preview of a change of the access settings or rules.
    pub async fn preview_access(
        &self,
        form: &crate::model::AccessChangeForm,
    ) -> Result<crate::model::AccessPreview, ApiError> {
        Ok(super::access::preview(&self.state, form).await?)
    }

    /// Runs a device action on `guids` as the admin `by` (bulk: one call per mailbox).
    pub async fn act(
        &self,
        by: &str,
        guids: &[String],
        action: crate::model::DeviceAction,
        confirmation: &str,
    ) -> Result<crate::model::ActionReport, ApiError> {
        let actor = super::setup::Actor {
            email: Some(by.to_owned()),
            address: None,
        };
        Ok(super::access::act(&self.state, &actor, guids, action, confirmation).await?)
    }

    /// One device's details.
    pub async fn device(&self, guid: &str) -> Result<Option<DeviceDetails>, ApiError> {
        Ok(devices::details(&self.state, guid).await?)
    }

    /// Stops the application as SIGTERM does: background work is cancelled (a running sync is
    /// recorded `interrupted`), then the server stops serving.
    pub fn shutdown(&self) {
        self.state.background.cancel.cancel();
    }
}
