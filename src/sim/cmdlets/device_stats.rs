//! `Get-MobileDeviceStatistics`: sync statistics of one device (`Identity`) or of every device
//! of one mailbox (`Mailbox`); one of the two is mandatory, and there is no `ResultSize` and no
//! `Filter`. Sync times are read off the simulator clock, so they move as it moves.

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::errors::missing_mandatory;
use super::mobile_device::client_types;
use super::{Cmdlet, Request, Row, Run};
use crate::sim::tenant::{Device, PolicyStatus, Tenant};
use crate::sim::wire::{date_entry, guid_entry, ExoError};

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-MobileDeviceStatistics",
    params: &[
        "Identity",
        "Mailbox",
        "ActiveSync",
        "OWAforDevices",
        "RestApi",
        "UniversalOutlook",
        "GetMailboxLog",
        "NotificationEmailAddresses",
        "ShowRecoveryPassword",
    ],
    run: Run::Read(get),
};

fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let identity = p.string("Identity")?;
    let mailbox = p.string("Mailbox")?;
    let types = client_types(req)?;
    let dc = &tenant.org.domain_controller;
    let candidates: Box<dyn Iterator<Item = &Device>> = match (identity, mailbox) {
        (Some(_), Some(_)) => {
            return Err(ExoError::parameter(
                "Parameter set cannot be resolved using the specified named parameters.",
            ))
        }
        (None, None) => return Err(missing_mandatory("Identity")),
        (Some(id), None) => {
            let device = tenant
                .find_device(id)
                .ok_or_else(|| ExoError::not_found(id, dc))?;
            let after = req.after;
            Box::new(std::iter::once(device).filter(move |d| after.is_none_or(|a| d.seq > a)))
        }
        (None, Some(m)) => {
            let index = tenant
                .find_mailbox(m)
                .ok_or_else(|| ExoError::not_found(m, dc))?;
            Box::new(tenant.mailbox_devices_after(index, req.after))
        }
    };
    candidates
        .filter(|d| types.as_ref().is_none_or(|t| t.contains(&d.client_type)))
        .take(req.limit)
        .map(|d| {
            Row::new(
                d.seq,
                &StatsView {
                    tenant,
                    device: d,
                    now: req.now,
                },
            )
        })
        .collect()
}

fn opt_date<M: SerializeMap>(
    m: &mut M,
    key: &str,
    t: Option<DateTime<Utc>>,
) -> Result<(), M::Error> {
    match t {
        Some(t) => date_entry(m, key, &t),
        None => m.serialize_entry(key, &None::<&str>),
    }
}

/// One device's statistics as the flat property bag Exchange returns.
struct StatsView<'a> {
    tenant: &'a Tenant,
    device: &'a Device,
    now: DateTime<Utc>,
}

impl Serialize for StatsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (t, d, now) = (self.tenant, self.device, self.now);
        let policy = t.mailbox_policy(d.mailbox);
        let attempt = d.last_attempt(now);
        let applied = matches!(
            d.sync.policy_status,
            PolicyStatus::AppliedInFull | PolicyStatus::PartiallyApplied
        );
        let policy_update = policy
            .filter(|_| applied)
            .map(|p| p.when_changed.max(d.first_sync).min(attempt));
        let wipe = d.wipe.as_deref();
        let mut m = serializer.serialize_map(None)?;
        date_entry(&mut m, "FirstSyncTime", &d.first_sync)?;
        opt_date(&mut m, "LastPolicyUpdateTime", policy_update)?;
        date_entry(&mut m, "LastSyncAttemptTime", &attempt)?;
        opt_date(&mut m, "LastSuccessSync", d.last_success(now))?;
        m.serialize_entry("DeviceType", d.device_type)?;
        m.serialize_entry("DeviceID", &*d.device_id)?;
        m.serialize_entry("DeviceUserAgent", &*d.user_agent)?;
        opt_date(&mut m, "DeviceWipeSentTime", wipe.and_then(|w| w.sent))?;
        opt_date(&mut m, "DeviceWipeRequestTime", wipe.map(|w| w.requested))?;
        opt_date(
            &mut m,
            "DeviceWipeAckTime",
            wipe.and_then(|w| w.acknowledged),
        )?;
        m.serialize_entry(
            "LastDeviceWipeRequestor",
            &wipe.map(|w| w.requestor.as_str()),
        )?;
        m.serialize_entry("AccountOnlyDeviceWipeSentTime", &None::<&str>)?;
        m.serialize_entry(
            "LastPingHeartbeat",
            &(d.sync.heartbeat_secs > 0).then_some(d.sync.heartbeat_secs),
        )?;
        m.serialize_entry("RecoveryPassword", "********")?;
        m.serialize_entry("DeviceModel", d.model)?;
        m.serialize_entry("DeviceImei", &d.imei.as_deref())?;
        m.serialize_entry("DeviceFriendlyName", d.friendly_name)?;
        m.serialize_entry("DeviceOS", d.device_os)?;
        m.serialize_entry("DeviceOSLanguage", d.os_language)?;
        m.serialize_entry("DevicePhoneNumber", &d.phone.as_deref())?;
        m.serialize_entry("MailboxLogReport", &None::<&str>)?;
        m.serialize_entry("DeviceEnableOutboundSMS", &false)?;
        m.serialize_entry("DeviceMobileOperator", &d.operator)?;
        m.serialize_entry("Identity", &t.device_identity(d))?;
        guid_entry(&mut m, "Guid", &d.guid)?;
        m.serialize_entry("IsRemoteWipeSupported", &d.remote_wipe_supported())?;
        m.serialize_entry("Status", d.status())?;
        m.serialize_entry("StatusNote", &None::<&str>)?;
        m.serialize_entry("DeviceAccessState", d.access_state.as_str())?;
        m.serialize_entry("DeviceAccessStateReason", d.access_reason.as_str())?;
        m.serialize_entry("DeviceAccessControlRule", &d.access_rule.as_deref())?;
        m.serialize_entry("DevicePolicyApplied", &policy.map(|p| p.name.as_str()))?;
        m.serialize_entry(
            "DevicePolicyApplicationStatus",
            d.sync.policy_status.as_str(),
        )?;
        m.serialize_entry("DeviceActiveSyncVersion", d.client_version)?;
        m.serialize_entry("NumberOfFoldersSynced", &d.sync.folders)?;
        m.serialize_entry("SyncStateUpgradeTime", &None::<&str>)?;
        m.serialize_entry("ClientVersion", d.client_version)?;
        m.serialize_entry("ClientType", d.client_type.as_str())?;
        m.serialize_entry("IsValid", &true)?;
        m.serialize_entry("ObjectState", "Unchanged")?;
        m.end()
    }
}
