//! One mobile device partnership and its sync statistics. Sync times are not stored: they follow
//! from the device's sync schedule and the clock reading, so they move as the clock moves without
//! any per-device work.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::enums::{AccessReason, AccessState, ClientType, PolicyStatus, WipeStatus};

/// A remote wipe that was requested for a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wipe {
    pub(crate) status: WipeStatus,
    pub(crate) requested: DateTime<Utc>,
    pub(crate) sent: Option<DateTime<Utc>>,
    pub(crate) acknowledged: Option<DateTime<Utc>>,
    /// Who asked for it: the admin's UPN (delegated callers), else the application (client) id.
    pub(crate) requestor: String,
}

/// How a device syncs: a fixed period since its first sync, until it goes dormant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyncProfile {
    /// Seconds between two syncs (at least 60).
    pub(crate) period_secs: u32,
    /// `LastPingHeartbeat` in seconds.
    pub(crate) heartbeat_secs: u16,
    pub(crate) folders: u16,
    pub(crate) policy_status: PolicyStatus,
    /// The device stopped syncing at this time (lost, replaced, switched off).
    pub(crate) dormant_since: Option<DateTime<Utc>>,
}

/// One mobile device partnership. Catalog values are `&'static str`/`Arc<str>` to keep 100k
/// devices small.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    /// Creation sequence: the stable order of `Get-MobileDevice` and the paging key.
    pub(crate) seq: u64,
    pub(crate) mailbox: usize,
    pub(crate) guid: Uuid,
    pub(crate) device_id: Box<str>,
    /// Index of the catalog profile and OS build it was made from (for OS upgrades).
    pub(crate) profile: u8,
    pub(crate) build: u8,
    pub(crate) device_type: &'static str,
    pub(crate) model: &'static str,
    pub(crate) friendly_name: &'static str,
    pub(crate) device_os: &'static str,
    pub(crate) os_language: &'static str,
    pub(crate) user_agent: Arc<str>,
    pub(crate) imei: Option<Box<str>>,
    pub(crate) operator: Option<&'static str>,
    pub(crate) phone: Option<Box<str>>,
    pub(crate) client_type: ClientType,
    pub(crate) client_version: &'static str,
    pub(crate) access_state: AccessState,
    pub(crate) access_reason: AccessReason,
    pub(crate) access_rule: Option<Arc<str>>,
    /// When the access state last changed.
    pub(crate) access_since: DateTime<Utc>,
    pub(crate) is_managed: bool,
    pub(crate) is_compliant: bool,
    pub(crate) is_disabled: bool,
    pub(crate) first_sync: DateTime<Utc>,
    pub(crate) when_created: DateTime<Utc>,
    pub(crate) when_changed: DateTime<Utc>,
    pub(crate) sync: SyncProfile,
    pub(crate) wipe: Option<Box<Wipe>>,
}

impl Device {
    /// The directory `Name`: `<DeviceType>§<DeviceId>`.
    pub(crate) fn name(&self) -> String {
        format!("{}\u{a7}{}", self.device_type, self.device_id)
    }

    /// Whether the personal lists, the rules and the default access level leave this device
    /// alone: mailbox policy refusals (`Policy`), Intune (`ExternallyManaged`), and devices still
    /// in discovery (their model is not known yet). `Individual` devices are not exempt: their
    /// state follows from their mailbox's lists, which come first.
    pub(crate) fn exempt_from_rules(&self) -> bool {
        matches!(
            self.access_reason,
            AccessReason::Policy | AccessReason::ExternallyManaged
        ) || self.access_state == AccessState::DeviceDiscovery
    }

    /// The last scheduled sync at or before `t` (never before the first sync), with syncing
    /// stopped once the device went dormant.
    fn last_tick(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let until = self.sync.dormant_since.map_or(t, |d| d.min(t));
        let since_first = (until - self.first_sync).num_seconds();
        if since_first <= 0 {
            return self.first_sync;
        }
        let period = i64::from(self.sync.period_secs.max(60));
        self.first_sync + Duration::seconds(since_first - since_first % period)
    }

    /// `LastSyncAttemptTime` at clock reading `now`.
    pub(crate) fn last_attempt(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.last_tick(now)
    }

    /// `LastSuccessSync` at `now`: blocked and quarantined devices keep trying but stopped
    /// succeeding when their state changed; devices in discovery have not succeeded yet.
    pub(crate) fn last_success(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.access_state {
            AccessState::Allowed => Some(self.last_tick(now)),
            AccessState::DeviceDiscovery => None,
            AccessState::Blocked | AccessState::Quarantined => {
                Some(self.last_tick(now.min(self.access_since)))
            }
        }
    }

    /// `Status` of the statistics.
    pub(crate) fn status(&self) -> &'static str {
        match (&self.wipe, self.access_state) {
            (Some(w), _) => w.status.as_str(),
            (None, AccessState::Blocked) => "DeviceBlocked",
            (None, _) => "DeviceOk",
        }
    }

    /// `IsRemoteWipeSupported`: EAS and Outlook mobile can be wiped, REST and OWA clients not.
    pub(crate) fn remote_wipe_supported(&self) -> bool {
        matches!(self.client_type, ClientType::Eas | ClientType::Outlook)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn sample(first: DateTime<Utc>) -> Device {
        Device {
            seq: 1,
            mailbox: 0,
            guid: Uuid::nil(),
            device_id: "ABC".into(),
            profile: 0,
            build: 0,
            device_type: "iPhone",
            model: "iPhone17C1",
            friendly_name: "iPhone 16 Pro",
            device_os: "iOS 18.3.1 22D72",
            os_language: "en-US",
            user_agent: Arc::from("Apple-iPhone17C1/2203.72"),
            imei: None,
            operator: None,
            phone: None,
            client_type: ClientType::Eas,
            client_version: "16.1",
            access_state: AccessState::Allowed,
            access_reason: AccessReason::Global,
            access_rule: None,
            access_since: first,
            is_managed: false,
            is_compliant: false,
            is_disabled: false,
            first_sync: first,
            when_created: first,
            when_changed: first,
            sync: SyncProfile {
                period_secs: 600,
                heartbeat_secs: 900,
                folders: 12,
                policy_status: PolicyStatus::AppliedInFull,
                dormant_since: None,
            },
            wipe: None,
        }
    }

    #[test]
    fn sync_times_follow_the_clock_and_stop_when_blocked_or_dormant() {
        let t0 = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let mut d = sample(t0);
        let now = t0 + Duration::seconds(1_234);
        assert_eq!(d.last_success(now), Some(t0 + Duration::seconds(1_200)));
        assert_eq!(
            d.last_success(now + Duration::hours(1)),
            Some(t0 + Duration::seconds(4_800))
        );
        d.access_state = AccessState::Blocked;
        d.access_since = t0 + Duration::seconds(700);
        assert_eq!(d.last_success(now), Some(t0 + Duration::seconds(600)));
        assert_eq!(d.last_attempt(now), t0 + Duration::seconds(1_200));
        assert_eq!(d.status(), "DeviceBlocked");
        d.sync.dormant_since = Some(t0 + Duration::seconds(900));
        assert_eq!(d.last_attempt(now), t0 + Duration::seconds(600));
        assert_eq!(d.last_success(t0 - Duration::hours(1)), Some(t0));
    }
}
