//! Reading Exchange for a run: the organization's configuration, the device pages (streamed
//! into staging while the next page is fetched) and the statistics of mailboxes (bounded,
//! throttle-adaptive concurrency, streamed into staging too).

use std::collections::{HashMap, HashSet};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::model::{Device, SyncPhase};

use super::super::db::staging::{self, DeviceStatistics, Staged, Stored};
use super::super::exchange::cmdlets::{DeviceScope, MobileDeviceQuery};
use super::super::exchange::wire::{
    DeviceAccessRule, DeviceClass, MobileDevice, MobileDeviceMailboxPolicy, MobileDeviceStatistics,
    OrganizationSettings,
};
use super::super::exchange::{ExchangeClient, ExchangeError, Pages};
use super::adaptive::Adaptive;
use super::digest;
use super::hub::{Claim, Progress};
use super::notes::{Notes, UnconfirmedRemovals};
use super::SyncError;

/// Exchange's configuration as read by a full sync; a part that came back only partly is
/// `None` (the stored one is kept).
#[derive(Default)]
pub(crate) struct ExchangeConfig {
    pub settings: Option<OrganizationSettings>,
    pub policies: Option<Vec<MobileDeviceMailboxPolicy>>,
    pub rules: Option<Vec<DeviceAccessRule>>,
    pub classes: Option<Vec<DeviceClass>>,
}

/// Reads the organization settings, mailbox policies, device access rules and device classes
/// (at the same time). A partial answer is noted and its part left out; any other failure
/// fails the run.
pub(crate) async fn read_config(
    exchange: &ExchangeClient,
    notes: &mut Notes,
) -> Result<ExchangeConfig, ExchangeError> {
    let (settings, policies, rules, classes) = tokio::join!(
        exchange.get_organization_settings(),
        exchange.get_mailbox_policies(),
        exchange.get_device_access_rules(),
        exchange.get_device_classes(),
    );
    Ok(ExchangeConfig {
        settings: notes.keep_partial(settings)?,
        policies: notes.keep_partial(policies)?,
        rules: notes.keep_partial(rules)?,
        classes: notes.keep_partial(classes)?,
    })
}

/// What the device pages held.
pub(crate) struct DevicePass {
    /// Every page was read (`false` after a partial answer, which is noted: devices read so far
    /// are kept, none is marked removed).
    pub complete: bool,
    /// Devices on the pages.
    pub seen: u64,
    /// Devices new to the store (or back after being removed), each counted once.
    pub added: u64,
    /// Stored present devices that differ (as `Compare` says), each counted once.
    pub changed: u64,
    /// The stored present devices the pages no longer hold.
    pub missing: Vec<String>,
}

/// What a run compares the listing with.
pub(crate) struct Against<'a> {
    /// The stored present devices, by GUID.
    pub stored: HashMap<String, Stored>,
    /// Devices a change made from here touched: re-read whatever their `WhenChangedUTC` says.
    pub touched: &'a HashSet<String>,
}

/// Which listed devices a run writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compare {
    /// A quick sync: new devices and those whose `WhenChangedUTC` moved; statistics are read
    /// for their mailboxes only.
    WhenChanged,
    /// A full sync: new devices and those with any difference from what is stored; statistics
    /// are read for every mailbox with devices.
    Content,
}

/// Reads every page of `pages` into staging, writing only what `compare` says differs from
/// `stored` (what remains of `stored` afterwards is what Exchange no longer lists), so that
/// the writes follow the changes, not the tenant's size. Mailboxes whose statistics are due
/// go to `mailboxes` once each, as soon as their page is read, so that statistics are read
/// while the next pages are.
pub(crate) async fn stage_devices(
    mut pages: Pages<MobileDevice>,
    against: Against<'_>,
    compare: Compare,
    claim: &Claim,
    notes: &mut Notes,
    mailboxes: mpsc::UnboundedSender<String>,
    staged: mpsc::Sender<Staged>,
) -> Result<DevicePass, SyncError> {
    claim.update(|p| p.phase = SyncPhase::Devices);
    let Against {
        mut stored,
        touched,
    } = against;
    let stored_ref = &mut stored;
    let read = async move {
        let (mut seen, mut added, mut changed_count) = (0u64, 0u64, 0u64);
        // A device listed twice (paging while Exchange changes) is staged twice, counted once.
        let mut listed = HashSet::new();
        let mut sent = HashSet::new();
        loop {
            let page = match pages.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => return Ok((true, seen, added, changed_count)),
                Err(e @ ExchangeError::Partial { .. }) => {
                    notes.partial(&e);
                    return Ok((false, seen, added, changed_count));
                }
                Err(e) => return Err(SyncError::Exchange(e)),
            };
            notes.warn_all(page.warnings);
            let mut devices = Vec::with_capacity(page.items.len());
            for item in page.items {
                match item.into_device() {
                    Some(d) => devices.push(d),
                    None => notes.warn("Exchange listed a device without a Guid; it was skipped."),
                }
            }
            let n = devices.len() as u64;
            seen += n;
            let mut due = |d: &Device| {
                if let Some(mailbox) = staging::mailbox_of(&d.identity) {
                    if sent.insert(mailbox.to_owned()) {
                        // The reader only stops when the run fails; then this is moot.
                        let _ = mailboxes.send(mailbox.to_owned());
                    }
                }
            };
            let mut changed = Vec::new();
            for d in devices {
                let digest = digest::device(&d);
                let first = listed.insert(digest::key(&d.guid));
                let differs = match stored_ref.remove(&d.guid) {
                    None => {
                        // Not stored, or stored and already met on an earlier page.
                        added += u64::from(first);
                        true
                    }
                    Some(s) => {
                        let differs = match compare {
                            // A row without a digest was written by an older version and
                            // lacks what it derives now: written again once.
                            Compare::WhenChanged => {
                                s.content_digest.is_none()
                                    || s.when_changed_utc != d.when_changed_utc
                                    || touched.contains(&d.guid)
                            }
                            Compare::Content => s.content_digest != Some(digest),
                        };
                        changed_count += u64::from(differs);
                        differs
                    }
                };
                if differs || compare == Compare::Content {
                    due(&d);
                }
                if differs {
                    changed.push((d, digest));
                }
            }
            let devices = changed;
            if staged.send(Staged::Devices(devices)).await.is_err() {
                // The writer stopped: its error is what the run reports.
                return Ok((false, seen, added, changed_count));
            }
            claim.update(|p| {
                p.pages += 1;
                p.devices += n;
            });
        }
    };
    let (complete, seen, added, changed) = read.await?;
    Ok(DevicePass {
        complete,
        seen,
        added,
        changed,
        missing: stored.into_keys().collect(),
    })
}

/// Reads the statistics of the mailboxes that arrive on `mailboxes` into staging, at most
/// `concurrency` at a time (halved while Exchange throttles), until the sender is done and
/// every call has ended. A mailbox that fails is noted (the run becomes partial and its
/// devices keep their previous statistics); one that no longer exists is a warning. Returns
/// how many mailboxes were read and what was noted.
///
/// It runs on a task of its own: on the run's task, every device page it parses would hold up
/// the answers waiting here, and the calls in flight would drop below `concurrency` meanwhile.
pub(crate) async fn stage_statistics(
    exchange: ExchangeClient,
    stored: HashMap<String, i64>,
    mut mailboxes: mpsc::UnboundedReceiver<String>,
    concurrency: usize,
    progress: Progress,
    staged: mpsc::Sender<Staged>,
) -> (u64, Notes) {
    let mut notes = Notes::default();
    let read = {
        let mut adaptive = Adaptive::new(concurrency, exchange.stats().throttled);
        let mut calls: JoinSet<(String, Result<Vec<MobileDeviceStatistics>, ExchangeError>)> =
            JoinSet::new();
        let spawn = |calls: &mut JoinSet<_>, mailbox: String| {
            progress.update(|p| p.mailboxes_total += 1);
            let exchange = exchange.clone();
            calls.spawn(async move {
                let stats = exchange.get_mobile_device_statistics(&mailbox).await;
                (mailbox, stats)
            });
        };
        let mut batch = Vec::new();
        let mut read = 0u64;
        let mut open = true;
        let mut paged = false;
        loop {
            while open && calls.len() < adaptive.limit() {
                match mailboxes.try_recv() {
                    Ok(mailbox) => spawn(&mut calls, mailbox),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            if !open && !paged {
                // Every page is read: what is left is statistics.
                paged = true;
                progress.update(|p| p.phase = SyncPhase::Statistics);
            }
            let joined = if open && calls.len() < adaptive.limit() {
                // Room for more: wait for whichever comes first, a mailbox or an answer.
                tokio::select! {
                    next = mailboxes.recv() => {
                        match next {
                            Some(mailbox) => spawn(&mut calls, mailbox),
                            None => open = false,
                        }
                        continue;
                    }
                    joined = calls.join_next(), if !calls.is_empty() => joined,
                }
            } else {
                calls.join_next().await
            };
            let Some(joined) = joined else {
                if open {
                    continue;
                }
                break;
            };
            adaptive.finished(exchange.stats().throttled);
            progress.update(|p| p.mailboxes_done += 1);
            match joined {
                Ok((mailbox, Ok(items))) if items.is_empty() => {
                    read += 1;
                    notes.statistics_empty(&mailbox);
                }
                Ok((_, Ok(items))) => {
                    read += 1;
                    let differs = |s: &DeviceStatistics| stored.get(&s.guid) != Some(&s.digest);
                    batch.extend(items.into_iter().filter_map(statistics).filter(differs));
                }
                Ok((mailbox, Err(e))) if e.status() == Some(404) => notes.warn(&format!(
                    "The mailbox {mailbox} was gone before its statistics were read."
                )),
                Ok((mailbox, Err(e))) => notes.mailbox_failed(&mailbox, &e),
                Err(e) => notes.warn(&format!("A statistics call stopped unexpectedly: {e}")),
            }
            if batch.len() >= 400
                && staged
                    .send(Staged::Statistics(std::mem::take(&mut batch)))
                    .await
                    .is_err()
            {
                // The writer stopped: its error is what the run reports.
                return (read, notes);
            }
        }
        if !batch.is_empty() {
            let _ = staged.send(Staged::Statistics(batch)).await;
        }
        read
    };
    (read, notes)
}

fn statistics(s: MobileDeviceStatistics) -> Option<DeviceStatistics> {
    let mut read = DeviceStatistics {
        guid: s.guid?,
        digest: 0,
        last_success_sync: s.last_success_sync,
        last_sync_attempt_time: s.last_sync_attempt_time,
        last_policy_update_time: s.last_policy_update_time,
        last_ping_heartbeat: s.last_ping_heartbeat.map(i64::from),
        number_of_folders_synced: s.number_of_folders_synced.map(i64::from),
        device_policy_applied: s.device_policy_applied,
        device_policy_application_status: s
            .device_policy_application_status
            .map(|v| v.as_str().to_owned()),
        status: s.status.map(|v| v.as_str().to_owned()),
        status_note: s.status_note,
        is_remote_wipe_supported: s.is_remote_wipe_supported,
        device_wipe_request_time: s.device_wipe_request_time,
        device_wipe_sent_time: s.device_wipe_sent_time,
        device_wipe_ack_time: s.device_wipe_ack_time,
        last_device_wipe_requestor: s.last_device_wipe_requestor,
    };
    read.digest = digest::statistics(&read);
    Some(read)
}

/// Up to this many devices missing from a listing are looked up one by one; beyond it, a
/// sample of [`CONFIRM_SAMPLE`] spread over them.
const CONFIRM_ALL: usize = 1_000;
const CONFIRM_SAMPLE: usize = 200;

/// Which stored devices a listing left out are really gone from Exchange.
pub(crate) struct Removals {
    /// How many stored devices the listing left out.
    pub left_out: usize,
    /// The GUIDs to mark removed.
    pub gone: Vec<String>,
    /// Each was looked up and Exchange said it does not exist: no need to hold them.
    pub confirmed_each: bool,
}

/// Asks Exchange about the devices `missing` from a whole listing (`Get-MobileDevice
/// -Identity <guid>`, `concurrency` at a time) before they are marked removed, so that a
/// listing that lost pages on the way (an empty page, a proxy, an Exchange fault) cannot
/// remove devices Exchange still has. Exchange answers a device that does not exist with 404;
/// any other answer keeps the device (a device it returns is noted as left out of the list;
/// a failed or empty answer as unconfirmed, and the run is partial).
///
/// Past [`CONFIRM_ALL`] devices a sample is asked: all of it gone and the whole list is
/// believed (the mass-removal hold still applies); any of it still there and nothing is
/// removed.
pub(crate) async fn confirm_removals(
    exchange: &ExchangeClient,
    missing: Vec<String>,
    concurrency: usize,
    notes: &mut Notes,
) -> Removals {
    use futures_util::StreamExt;

    let left_out = missing.len();
    if missing.is_empty() {
        return Removals {
            left_out,
            gone: missing,
            confirmed_each: true,
        };
    }
    let every = missing.len() <= CONFIRM_ALL;
    let asked: Vec<String> = match every {
        true => missing.clone(),
        false => {
            let step = missing.len() / CONFIRM_SAMPLE;
            missing.iter().step_by(step.max(1)).cloned().collect()
        }
    };
    let answers: Vec<(String, Lookup)> = futures_util::stream::iter(asked)
        .map(|guid| async move {
            let query = MobileDeviceQuery {
                scope: DeviceScope::Identity(guid.clone()),
                ..MobileDeviceQuery::default()
            };
            let answer = exchange.get_mobile_devices(query).collect_all().await;
            let lookup = match answer {
                Ok(page) if !page.items.is_empty() => Lookup::Listed,
                Ok(_) => Lookup::Unconfirmed(None),
                Err(e) if e.status() == Some(404) => Lookup::Gone,
                Err(e) => Lookup::Unconfirmed(Some(e)),
            };
            (guid, lookup)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let listed = answers
        .iter()
        .filter(|(_, l)| matches!(l, Lookup::Listed))
        .count();
    let failure = answers.iter().find_map(|(_, l)| match l {
        Lookup::Unconfirmed(e) => Some(e.as_ref()),
        _ => None,
    });
    let unconfirmed = answers
        .iter()
        .filter(|(_, l)| matches!(l, Lookup::Unconfirmed(_)))
        .count();
    let kept = (listed > 0 || unconfirmed > 0).then(|| match every {
        true => listed + unconfirmed,
        false => missing.len(),
    });
    if let Some(kept) = kept {
        notes.removals_unconfirmed(UnconfirmedRemovals {
            missing: missing.len(),
            asked: answers.len(),
            listed,
            unconfirmed,
            kept,
            failure: failure.flatten(),
        });
    }
    match every {
        true => Removals {
            left_out,
            gone: answers
                .into_iter()
                .filter(|(_, l)| matches!(l, Lookup::Gone))
                .map(|(guid, _)| guid)
                .collect(),
            confirmed_each: true,
        },
        false => Removals {
            left_out,
            gone: match kept {
                Some(_) => Vec::new(),
                None => missing,
            },
            confirmed_each: false,
        },
    }
}

/// What Exchange said of one device the listing left out.
enum Lookup {
    /// It returned the device: the listing was wrong.
    Listed,
    /// 404: it does not exist.
    Gone,
    /// An empty answer or a failure: not known.
    Unconfirmed(Option<ExchangeError>),
}
