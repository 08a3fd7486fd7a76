//! Entry points for `make bench` (benches can only use `pub` items): the bare protocol, i.e.
//! the requests of a full sync with their answers read and thrown away, to compare a sync with.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::config::{ClientSettings, ExchangeSettings};
use super::db::staging::mailbox_of;
use super::exchange::cmdlets::MobileDeviceQuery;
use super::exchange::ExchangeClient;

/// What the bare protocol did.
#[derive(Clone, Debug)]
pub struct BareReport {
    pub elapsed: Duration,
    pub devices: u64,
    pub mailboxes: u64,
    /// Requests by cmdlet.
    pub requests: BTreeMap<String, u64>,
}

/// Fetches what a full sync fetches (the four configuration cmdlets, every device page, the
/// statistics of every mailbox with devices, `concurrency` at a time) and discards it.
pub async fn bare_full_protocol(
    settings: &ExchangeSettings,
    client: &ClientSettings,
    concurrency: usize,
) -> Result<BareReport, String> {
    let exchange = ExchangeClient::new(settings, client).map_err(|e| e.to_string())?;
    let before = exchange.stats();
    let started = Instant::now();
    let (a, b, c, d) = tokio::join!(
        exchange.get_organization_settings(),
        exchange.get_mailbox_policies(),
        exchange.get_device_access_rules(),
        exchange.get_device_classes(),
    );
    a.map_err(|e| e.to_string())?;
    b.map_err(|e| e.to_string())?;
    c.map_err(|e| e.to_string())?;
    d.map_err(|e| e.to_string())?;
    let mut mailboxes = HashSet::new();
    let mut devices = 0u64;
    let mut pages = exchange.get_mobile_devices(MobileDeviceQuery::default());
    while let Some(page) = pages.next_page().await.map_err(|e| e.to_string())? {
        for item in page.items {
            devices += 1;
            if let Some(m) = item.identity.as_deref().and_then(mailbox_of) {
                mailboxes.insert(m.to_owned());
            }
        }
    }
    let count = mailboxes.len() as u64;
    let mut queue = mailboxes.into_iter();
    let mut calls = JoinSet::new();
    loop {
        while calls.len() < concurrency.max(1) {
            let Some(m) = queue.next() else { break };
            let exchange = exchange.clone();
            calls.spawn(async move { exchange.get_mobile_device_statistics(&m).await.map(drop) });
        }
        match calls.join_next().await {
            None => break,
            Some(Ok(r)) => r.map_err(|e| e.to_string())?,
            Some(Err(e)) => return Err(e.to_string()),
        }
    }
    Ok(BareReport {
        elapsed: started.elapsed(),
        devices,
        mailboxes: count,
        requests: exchange.stats().since(&before).requests,
    })
}
