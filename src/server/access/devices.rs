//! Device actions (spec §9): allow, block and clear through the mailbox's lists
//! (Set-CASMailbox), remove the partnership, wipe and cancel a wipe.

use std::collections::BTreeMap;

use futures_util::StreamExt;

use crate::model::{
    version_key, ActionOption, ActionReport, AuditAction, ConnectionStatus, DeviceAction,
    EAS_MINIMUM_KEY, MAX_BULK_DEVICES,
};

use super::super::db::devices::{self, Target};
use super::super::db::{connectors, staging};
use super::super::error::AppError;
use super::super::exchange::cmdlets::{
    remove_device_call, wipe_call, DeviceListsChange, Invocation, ListUpdate, Wipe,
};
use super::super::exchange::wire::CasMailbox;
use super::super::exchange::ExchangeError;
use super::super::setup::Actor;
use super::super::state::AppState;
use super::{invalid, list, read_back, send, Write, CONCURRENCY};

/// The actions the device page offers for `t`, each available or disabled with the reason.
/// `denied` are the optional cmdlets the connector's identity may not run.
pub(crate) fn options(t: &Target, connected: bool, denied: &[String]) -> Vec<ActionOption> {
    let individual = t.access_state_reason.as_deref() == Some("Individual");
    let wipe_pending = t
        .sync_status
        .as_deref()
        .is_some_and(|s| s.contains("WipePending"));
    DeviceAction::ALL
        .into_iter()
        .map(|action| {
            let cmdlet = action.cmdlet();
            let disabled = if t.removed {
                Some("The device is no longer in Exchange.".to_owned())
            } else if !connected {
                Some("The connector is not connected to Exchange.".to_owned())
            } else if denied.iter().any(|d| d == cmdlet) {
                Some(format!(
                    "The connector's account may not run {cmdlet}: give it the Exchange \
                     management role \"Mail Recipients\" (or a role group that includes \
                     {cmdlet}) and set the connector up again."
                ))
            } else {
                match action {
                    DeviceAction::Allow if individual && t.access_state == "Allowed" => {
                        Some("The device is already on its mailbox's allowed list.".into())
                    }
                    DeviceAction::Block if individual && t.access_state == "Blocked" => {
                        Some("The device is already on its mailbox's blocked list.".into())
                    }
                    DeviceAction::ClearIndividual if !individual => {
                        Some("The device is on neither of its mailbox's lists.".into())
                    }
                    DeviceAction::Wipe => wipe_refusal(t),
                    DeviceAction::AccountOnlyWipe => {
                        wipe_refusal(t).or_else(|| account_only_refusal(t))
                    }
                    DeviceAction::CancelWipe if !wipe_pending => {
                        Some("No wipe is pending for this device.".into())
                    }
                    _ => None,
                }
            };
            ActionOption { action, disabled }
        })
        .collect()
}

/// Why no wipe can be asked of `t` (Exchange says it does not support remote wipe), if so.
fn wipe_refusal(t: &Target) -> Option<String> {
    (t.remote_wipe == Some(false)).then(|| {
        "Exchange says this device does not support remote wipe (Outlook on the web for \
         devices and REST clients cannot be wiped from Exchange)."
            .to_owned()
    })
}

/// Why an account-only wipe cannot be asked of `t`, if it cannot.
fn account_only_refusal(t: &Target) -> Option<String> {
    match version_key(t.client_version.as_deref()) {
        Some(v) if v >= EAS_MINIMUM_KEY => None,
        _ => Some(format!(
            "Account-only wipe needs Exchange ActiveSync 16.1 or later; this device uses {}.",
            t.client_version.as_deref().unwrap_or("an unknown version")
        )),
    }
}

/// The options of the device `guid` of the current connector for an admin (`None` when there
/// is no such device).
pub(crate) async fn device_options(
    state: &AppState,
    guid: &str,
) -> Result<Option<Vec<ActionOption>>, AppError> {
    let pool = state.db.pool();
    let Some(connector) = connectors::current(pool).await? else {
        return Ok(None);
    };
    let found = devices::targets(pool, &connector.id, &[guid.to_owned()]).await?;
    let Some(target) = found.first() else {
        return Ok(None);
    };
    let denied = connectors::denied_optional(pool, &connector.id).await?;
    let connected = connector.status == ConnectionStatus::Connected;
    Ok(Some(options(target, connected, &denied)))
}

/// Carries out `action` on the devices `guids` of the current connector for `actor`: checks
/// everything first (nothing is sent when a device is unknown or removed, the selection is too
/// big, the confirmation is wrong or the action cannot apply), then makes the calls (one
/// Set-CASMailbox per mailbox for the list actions, one call per device otherwise), records each
/// in the audit log, and reads the result back with a quick sync.
pub(crate) async fn act(
    state: &AppState,
    actor: &Actor,
    guids: &[String],
    action: DeviceAction,
    confirmation: &str,
) -> Result<ActionReport, AppError> {
    let mut guids: Vec<String> = guids
        .iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    guids.sort();
    guids.dedup();
    if guids.is_empty() {
        return Err(invalid("devices", "Choose at least one device."));
    }
    if guids.len() > MAX_BULK_DEVICES {
        return Err(invalid(
            "devices",
            format!(
                "At most {MAX_BULK_DEVICES} devices at a time; {} were chosen.",
                guids.len()
            ),
        ));
    }
    if guids.iter().any(|g| g.len() > 64) {
        return Err(invalid("devices", "A device id is not valid."));
    }
    if let Some(word) = action.confirmation_word() {
        if confirmation.trim() != word {
            return Err(invalid(
                "confirmation",
                format!("Type {word} to confirm: {}", action.explanation()),
            ));
        }
    }
    let pool = state.db.pool();
    let connector = connectors::current(pool)
        .await?
        .ok_or_else(|| AppError::Conflict("No connector is set up.".into()))?;
    if connector.status != ConnectionStatus::Connected {
        return Err(AppError::Conflict(
            "The connector is not connected to Exchange: set it up or sync first.".into(),
        ));
    }
    let cmdlet = action.cmdlet();
    let denied = connectors::denied_optional(pool, &connector.id).await?;
    if denied.iter().any(|d| d == cmdlet) {
        return Err(AppError::Conflict(format!(
            "The connector's account may not run {cmdlet}: give it the Exchange management role \
             \"Mail Recipients\" (or a role group that includes {cmdlet}) and set the connector \
             up again."
        )));
    }
    let targets = devices::targets(pool, &connector.id, &guids).await?;
    let unknown: Vec<&String> = guids
        .iter()
        .filter(|g| !targets.iter().any(|t| &t.guid == *g))
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(
            "devices",
            format!(
                "The connector has no device with the id {}.",
                list(unknown.iter().map(|g| g.as_str()))
            ),
        ));
    }
    let gone: Vec<&Target> = targets.iter().filter(|t| t.removed).collect();
    if !gone.is_empty() {
        return Err(invalid(
            "devices",
            format!(
                "No longer in Exchange: {}. Nothing was changed.",
                list(gone.iter().map(|t| t.name.as_str()))
            ),
        ));
    }
    if matches!(action, DeviceAction::Wipe | DeviceAction::AccountOnlyWipe) {
        let refused: Vec<String> = targets
            .iter()
            .filter_map(|t| {
                let why = match action {
                    DeviceAction::AccountOnlyWipe => {
                        wipe_refusal(t).or_else(|| account_only_refusal(t))
                    }
                    _ => wipe_refusal(t),
                };
                why.map(|why| format!("{}: {why}", t.name))
            })
            .collect();
        if !refused.is_empty() {
            return Err(invalid(
                "action",
                format!(
                    "{} is not possible for {}. Nothing was changed.",
                    action.label(),
                    refused.join("; ")
                ),
            ));
        }
    }

    let writes = writes(action, &targets)?;
    let mut report = ActionReport {
        devices: targets.len() as u32,
        ..ActionReport::default()
    };
    let progress = state.changes.start(
        &state.hub,
        match targets.as_slice() {
            [one] => format!("{} · {}", action.label(), one.name),
            many => format!("{} · {} devices", action.label(), many.len()),
        },
        actor.email.clone(),
        writes.len(),
    );
    let (written, forbidden) = send(
        state,
        actor,
        AuditAction::DeviceAction,
        writes,
        &mut report,
        &progress,
        |w| {
            format!(
                "{} {}",
                action.label(),
                list(w.devices.iter().map(|d| d.as_str()))
            )
        },
    )
    .await;
    // Refused everywhere: the identity may not run the cmdlet (a 403 for some mailboxes only
    // is a management scope, not a missing role).
    if forbidden > 0 && report.calls_done == 0 {
        connectors::add_denied_optional(pool, &connector.id, cmdlet).await?;
    }
    if report.calls_done > 0 {
        read_back(
            state,
            actor,
            guids.iter().cloned().collect(),
            false,
            &mut report,
            &progress,
        )
        .await;
        let after = devices::targets(pool, &connector.id, &guids).await?;
        report.differences = differences(action, &after);
        if action.cmdlet() == "Set-CASMailbox" {
            let lists = read_lists(state, &connector.id, action, &written, &after).await?;
            report.differences.extend(lists);
        }
    }
    Ok(report)
}

/// Reads the lists of the `mailboxes` written back with Get-CASMailbox and says where a
/// device of `after` is not where `action` put it. Skipped when the identity may not run
/// Get-CASMailbox (the device states the sync read back still tell).
async fn read_lists(
    state: &AppState,
    connector_id: &str,
    action: DeviceAction,
    mailboxes: &[String],
    after: &[Target],
) -> Result<Vec<String>, AppError> {
    let pool = state.db.pool();
    if connectors::denied_optional(pool, connector_id)
        .await?
        .iter()
        .any(|c| c == "Get-CASMailbox")
    {
        return Ok(Vec::new());
    }
    let exchange = state.exchange.get();
    let read: Vec<(String, Result<CasMailbox, ExchangeError>)> =
        futures_util::stream::iter(mailboxes.iter().cloned())
            .map(|mailbox| {
                let exchange = exchange.clone();
                async move {
                    let lists = exchange.get_cas_mailbox(&mailbox).await;
                    (mailbox, lists)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let mut said = Vec::new();
    for (mailbox, lists) in read {
        let lists = match lists {
            Ok(lists) => lists,
            Err(e) if e.status() == Some(403) => {
                connectors::add_denied_optional(pool, connector_id, "Get-CASMailbox").await?;
                continue;
            }
            Err(e) => {
                said.push(format!(
                    "The lists of {mailbox} could not be read back: {e}"
                ));
                continue;
            }
        };
        let has = |list: &[String], id: &str| list.iter().any(|x| x.eq_ignore_ascii_case(id));
        for t in after
            .iter()
            .filter(|t| staging::mailbox_of(&t.identity) == Some(mailbox.as_str()))
        {
            let allowed = has(&lists.allowed_device_ids, &t.device_id);
            let blocked = has(&lists.blocked_device_ids, &t.device_id);
            let right = match action {
                DeviceAction::Allow => allowed && !blocked,
                DeviceAction::Block => blocked && !allowed,
                _ => !allowed && !blocked,
            };
            if !right {
                said.push(format!(
                    "{}: Exchange's lists of {mailbox} have it {}.",
                    t.name,
                    match (allowed, blocked) {
                        (true, true) => "on both the allowed and the blocked list",
                        (true, false) => "on the allowed list",
                        (false, true) => "on the blocked list",
                        (false, false) => "on neither list",
                    }
                ));
            }
        }
    }
    Ok(said)
}

/// The Exchange calls of `action` on `targets`.
fn writes(action: DeviceAction, targets: &[Target]) -> Result<Vec<Write>, AppError> {
    let per_device = |call: fn(&Target) -> Invocation| {
        targets
            .iter()
            .map(|t| Write {
                call: call(t),
                target: t.identity.clone(),
                devices: vec![t.name.clone()],
            })
            .collect::<Vec<_>>()
    };
    let writes = match action {
        DeviceAction::Remove => per_device(|t| remove_device_call(&t.guid)),
        DeviceAction::Wipe => per_device(|t| wipe_call(&t.guid, Wipe::Device)),
        DeviceAction::AccountOnlyWipe => per_device(|t| wipe_call(&t.guid, Wipe::AccountOnly)),
        DeviceAction::CancelWipe => per_device(|t| wipe_call(&t.guid, Wipe::Cancel)),
        DeviceAction::Allow | DeviceAction::Block | DeviceAction::ClearIndividual => {
            let mut by_mailbox: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
            for t in targets {
                let mailbox = staging::mailbox_of(&t.identity).ok_or_else(|| {
                    invalid(
                        "devices",
                        format!(
                            "The mailbox of {} is not known; sync and try again.",
                            t.name
                        ),
                    )
                })?;
                by_mailbox.entry(mailbox).or_default().push(t);
            }
            by_mailbox
                .into_iter()
                .filter_map(|(mailbox, devices)| {
                    let ids: Vec<String> = devices.iter().map(|t| t.device_id.clone()).collect();
                    let change = |add: bool| ListUpdate::Change {
                        add: if add { ids.clone() } else { Vec::new() },
                        remove: if add { Vec::new() } else { ids.clone() },
                    };
                    let lists = match action {
                        DeviceAction::Allow => DeviceListsChange {
                            allowed: Some(change(true)),
                            blocked: Some(change(false)),
                        },
                        DeviceAction::Block => DeviceListsChange {
                            allowed: Some(change(false)),
                            blocked: Some(change(true)),
                        },
                        _ => DeviceListsChange {
                            allowed: Some(change(false)),
                            blocked: Some(change(false)),
                        },
                    };
                    Some(Write {
                        call: lists.call(mailbox)?,
                        target: mailbox.to_owned(),
                        devices: devices.iter().map(|t| t.name.clone()).collect(),
                    })
                })
                .collect()
        }
    };
    Ok(writes)
}

/// What Exchange says of the devices after `action`, where it is not what the action asked.
fn differences(action: DeviceAction, after: &[Target]) -> Vec<String> {
    let state_of = |t: &Target| match t.access_state_reason.as_deref() {
        Some(r) if !r.is_empty() => format!("{} ({r})", t.access_state),
        _ => t.access_state.clone(),
    };
    after
        .iter()
        .filter_map(|t| {
            let pending = t
                .sync_status
                .as_deref()
                .is_some_and(|s| s.contains("WipePending"));
            let individual = t.access_state_reason.as_deref() == Some("Individual");
            let differs = match action {
                DeviceAction::Allow => t.removed || t.access_state != "Allowed",
                DeviceAction::Block => t.removed || t.access_state != "Blocked",
                DeviceAction::ClearIndividual => t.removed || individual,
                DeviceAction::Remove => !t.removed,
                DeviceAction::Wipe | DeviceAction::AccountOnlyWipe => !t.removed && !pending,
                DeviceAction::CancelWipe => pending,
            };
            differs.then(|| match (action, t.removed) {
                (DeviceAction::Remove, _) => {
                    format!("{}: Exchange still lists the partnership.", t.name)
                }
                (DeviceAction::Wipe | DeviceAction::AccountOnlyWipe, _) => format!(
                    "{}: Exchange does not show the wipe as pending ({}).",
                    t.name,
                    t.sync_status.as_deref().unwrap_or("no status")
                ),
                (DeviceAction::CancelWipe, _) => {
                    format!("{}: Exchange still shows a pending wipe.", t.name)
                }
                (_, true) => format!("{}: Exchange no longer lists the device.", t.name),
                _ => format!("{}: Exchange reports {}.", t.name, state_of(t)),
            })
        })
        .take(50)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(state: &str, reason: Option<&str>, version: &str) -> Target {
        Target {
            guid: "g".into(),
            identity: r"alex\ExchangeActiveSyncDevices\iPhone§X".into(),
            device_id: "X".into(),
            name: "iPhone".into(),
            client_version: Some(version.into()),
            access_state: state.into(),
            access_state_reason: reason.map(str::to_owned),
            sync_status: Some("DeviceOk".into()),
            remote_wipe: Some(true),
            removed: false,
        }
    }

    fn disabled(options: &[ActionOption], action: DeviceAction) -> Option<String> {
        options
            .iter()
            .find(|o| o.action == action)
            .and_then(|o| o.disabled.clone())
    }

    #[test]
    fn what_a_device_page_offers_follows_the_device_and_the_permissions() {
        let blocked = target("Blocked", Some("Individual"), "14.1");
        let o = options(&blocked, true, &[]);
        assert!(disabled(&o, DeviceAction::Allow).is_none());
        assert!(disabled(&o, DeviceAction::Block).is_some());
        assert!(disabled(&o, DeviceAction::ClearIndividual).is_none());
        assert!(disabled(&o, DeviceAction::AccountOnlyWipe)
            .is_some_and(|w| w.contains("16.1") && w.contains("14.1")));
        assert!(disabled(&o, DeviceAction::CancelWipe).is_some());

        let ruled = target("Quarantined", Some("DeviceRule"), "16.1");
        let o = options(&ruled, true, &["Clear-MobileDevice".into()]);
        assert!(disabled(&o, DeviceAction::ClearIndividual).is_some());
        assert!(disabled(&o, DeviceAction::Wipe).is_some_and(|w| w.contains("Clear-MobileDevice")));
        assert!(disabled(&o, DeviceAction::Remove).is_none());

        let o = options(&ruled, false, &[]);
        assert!(o.iter().all(|o| o.disabled.is_some()), "{o:?}");
    }

    #[test]
    fn list_actions_make_one_call_per_mailbox_with_both_lists() {
        let mut a = target("Blocked", Some("Individual"), "16.1");
        let mut b = a.clone();
        b.device_id = "Y".into();
        let mut c = a.clone();
        c.identity = r"kim\ExchangeActiveSyncDevices\Pixel§Z".into();
        c.device_id = "Z".into();
        a.guid = "1".into();
        let w = writes(DeviceAction::Allow, &[a, b, c]).expect("writes");
        assert_eq!(w.len(), 2);
        let alex = &w[0].call.parameters;
        assert_eq!(alex["Identity"], "alex");
        assert_eq!(
            alex["ActiveSyncAllowedDeviceIDs"]["Add"],
            serde_json::json!(["X", "Y"])
        );
        assert_eq!(
            alex["ActiveSyncBlockedDeviceIDs"]["Remove"],
            serde_json::json!(["X", "Y"])
        );
        assert_eq!(w[1].call.parameters["Identity"], "kim");
    }

    #[test]
    fn a_list_names_ten_and_counts_the_rest() {
        assert_eq!(list(["a"].into_iter()), "a");
        assert_eq!(list(["a", "b", "c"].into_iter()), "a, b and c");
        let many: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(
            list(many.iter().map(String::as_str)),
            "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more"
        );
    }
}
