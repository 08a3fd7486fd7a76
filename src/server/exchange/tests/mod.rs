//! The client against the simulator over loopback HTTP: every fault kind, the headers and body
//! sent (checked on the simulator's side), the three ways to get a token, and the permission
//! pre-flight. Counts of requests are exact: the simulator counts what it received.

mod cmdlets;
mod conformance;
mod faults;
mod preflight;
mod tokens;

use std::net::SocketAddr;
use std::time::Duration;

use super::cmdlets::{MobileDeviceQuery, OrganizationSettingsChange};
use super::{ExchangeClient, ExchangeError};
use crate::server::config::{ClientSettings, ExchangeSettings};
use crate::sim::{self, RunningSimulator, SimConfig};

/// A frozen-clock simulator with `devices` devices, as configured by `tweak`.
async fn simulator(devices: usize, tweak: impl FnOnce(&mut SimConfig)) -> RunningSimulator {
    let mut config = SimConfig {
        devices,
        mailboxes: devices / 2 + 1,
        clock: sim::ClockMode::Frozen,
        ..SimConfig::default()
    };
    tweak(&mut config);
    match sim::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await {
        Ok(sim) => sim,
        Err(e) => panic!("the simulator did not start: {e}"),
    }
}

/// App-only settings with the simulator's demo secret.
fn settings(sim: &RunningSimulator) -> ExchangeSettings {
    ExchangeSettings::for_simulator(sim).expect("simulator URLs")
}

/// Fast retries so the tests take milliseconds, not the spec's seconds.
fn fast(page_size: u32) -> ClientSettings {
    ClientSettings {
        page_size,
        request_timeout: Duration::from_secs(5),
        call_deadline: Duration::from_secs(20),
        max_retries: 5,
        retry_base: Duration::from_millis(5),
    }
}

fn client(sim: &RunningSimulator, page_size: u32) -> ExchangeClient {
    ExchangeClient::new(&settings(sim), &fast(page_size)).expect("client")
}

/// Every device, page by page; the number of pages.
async fn all_devices(client: &ExchangeClient) -> Result<(usize, usize), ExchangeError> {
    let mut pages = client.get_mobile_devices(MobileDeviceQuery::default());
    let (mut devices, mut count) = (0, 0);
    while let Some(page) = pages.next_page().await? {
        devices += page.items.len();
        count += 1;
    }
    Ok((devices, count))
}

/// One page of `Get-ActiveSyncOrganizationSettings`.
async fn org_settings(client: &ExchangeClient) -> Result<(), ExchangeError> {
    client.get_organization_settings().await.map(|_| ())
}

/// `Set-ActiveSyncOrganizationSettings` with one harmless change (a write).
async fn set_org_settings(client: &ExchangeClient) -> Result<(), ExchangeError> {
    client
        .set_organization_settings(&OrganizationSettingsChange {
            user_mail_insert: Some("Contact the help desk.".into()),
            ..OrganizationSettingsChange::default()
        })
        .await
}
