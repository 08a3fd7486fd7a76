//! Device access rules (allow/block/quarantine) and how a device's access state follows from
//! them.
//!
//! Precedence, first match wins:
//! 1. Devices that [`Device::exempt_from_rules`]: personal allow/block lists (`Individual`),
//!    mailbox-policy refusals (`Policy`), Intune (`ExternallyManaged`) and devices still in
//!    `DeviceDiscovery` keep their state.
//! 2. Otherwise the most restrictive matching rule (Block > Quarantine > Allow) decides, reason
//!    `DeviceRule`, `DeviceAccessControlRule` = the rule's name; among equally restrictive rules
//!    the oldest one is named.
//! 3. Otherwise the organization's `DefaultAccessLevel`, reason `Global`.
//!
//! A rule matches when the device's property named by `Characteristic` equals `QueryString`
//! exactly, ignoring case (no wildcards). `XMSWLHeader` rules match no simulated device (none
//! sends that header).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::device::Device;
use super::enums::{AccessLevel, AccessReason, AccessState, Characteristic};

/// One `ActiveSyncDeviceAccessRule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Paging key: creation order, never reused.
    pub(crate) key: u64,
    pub(crate) guid: Uuid,
    /// `QueryString (Characteristic)`; also its `Identity`.
    pub(crate) name: Arc<str>,
    pub(crate) query_string: String,
    pub(crate) characteristic: Characteristic,
    pub(crate) access_level: AccessLevel,
    pub(crate) when_created: DateTime<Utc>,
    pub(crate) when_changed: DateTime<Utc>,
}

impl Rule {
    /// The name Exchange gives a new rule.
    pub(crate) fn name_for(query_string: &str, characteristic: Characteristic) -> String {
        format!("{query_string} ({})", characteristic.as_str())
    }

    /// Whether this rule's characteristic and query string describe `device`.
    pub(crate) fn matches(&self, device: &Device) -> bool {
        let value: &str = match self.characteristic {
            Characteristic::DeviceType => device.device_type,
            Characteristic::DeviceModel => device.model,
            Characteristic::DeviceOs => device.device_os,
            Characteristic::UserAgent => &device.user_agent,
            Characteristic::XmsWlHeader => return false,
        };
        value.eq_ignore_ascii_case(&self.query_string)
    }
}

/// The access a device gets from the rules and the default level (precedence 2 and 3 above).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) state: AccessState,
    pub(crate) reason: AccessReason,
    pub(crate) rule: Option<Arc<str>>,
}

/// What `rules` (in creation order) and `default` decide for `device`, ignoring exemptions.
pub(crate) fn decide(rules: &[Rule], default: AccessLevel, device: &Device) -> Decision {
    let mut best: Option<&Rule> = None;
    for rule in rules.iter().filter(|r| r.matches(device)) {
        if best.is_none_or(|b| rule.access_level.severity() > b.access_level.severity()) {
            best = Some(rule);
        }
    }
    match best {
        Some(rule) => Decision {
            state: rule.access_level.state(),
            reason: AccessReason::DeviceRule,
            rule: Some(rule.name.clone()),
        },
        None => Decision {
            state: default.state(),
            reason: AccessReason::Global,
            rule: None,
        },
    }
}

/// Applies `decision` to `device` at `now`; returns whether anything changed (and then bumps
/// `WhenChanged`, and the access-state time when the state itself changed).
pub(crate) fn apply(device: &mut Device, decision: Decision, now: DateTime<Utc>) -> bool {
    if device.access_state == decision.state
        && device.access_reason == decision.reason
        && device.access_rule == decision.rule
    {
        return false;
    }
    if device.access_state != decision.state {
        device.access_since = now;
    }
    device.access_state = decision.state;
    device.access_reason = decision.reason;
    device.access_rule = decision.rule;
    device.when_changed = device.when_changed.max(now);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tenant::device::tests::sample;

    fn rule(key: u64, q: &str, c: Characteristic, level: AccessLevel) -> Rule {
        Rule {
            key,
            guid: Uuid::nil(),
            name: Arc::from(Rule::name_for(q, c)),
            query_string: q.to_owned(),
            characteristic: c,
            access_level: level,
            when_created: DateTime::default(),
            when_changed: DateTime::default(),
        }
    }

    #[test]
    fn the_most_restrictive_matching_rule_wins_and_the_default_covers_the_rest() {
        let d = sample(DateTime::default());
        let rules = [
            rule(1, "iphone", Characteristic::DeviceType, AccessLevel::Allow),
            rule(
                2,
                "iPhone17C1",
                Characteristic::DeviceModel,
                AccessLevel::Quarantine,
            ),
            rule(3, "Android", Characteristic::DeviceType, AccessLevel::Block),
            rule(
                4,
                "iPhone17C1",
                Characteristic::XmsWlHeader,
                AccessLevel::Block,
            ),
        ];
        let got = decide(&rules, AccessLevel::Allow, &d);
        assert_eq!(got.state, AccessState::Quarantined);
        assert_eq!(got.reason, AccessReason::DeviceRule);
        assert_eq!(got.rule.as_deref(), Some("iPhone17C1 (DeviceModel)"));
        let got = decide(&rules[..1], AccessLevel::Block, &d);
        assert_eq!(
            (got.state, got.rule.as_deref()),
            (AccessState::Allowed, Some("iphone (DeviceType)"))
        );
        let got = decide(&rules[2..], AccessLevel::Quarantine, &d);
        assert_eq!(
            (got.state, got.reason, got.rule),
            (AccessState::Quarantined, AccessReason::Global, None)
        );
    }

    #[test]
    fn applying_the_same_decision_changes_nothing() {
        let mut d = sample(DateTime::default());
        let later = DateTime::default() + chrono::Duration::hours(1);
        let same = decide(&[], AccessLevel::Allow, &d);
        assert!(!apply(&mut d, same, later));
        assert_eq!(d.when_changed, DateTime::<Utc>::default());
        let block = decide(&[], AccessLevel::Block, &d);
        assert!(apply(&mut d, block, later));
        assert_eq!((d.when_changed, d.access_since), (later, later));
    }
}
