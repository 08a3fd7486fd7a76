//! Device access rules (allow/block/quarantine), the personal allow/block lists of mailboxes,
//! and how a device's access state follows from them (spec §9, "How Exchange decides a device's
//! access state").
//!
//! Devices that [`Device::exempt_from_rules`] keep their state: mailbox-policy refusals
//! (`Policy`), Intune (`ExternallyManaged`) and devices still in `DeviceDiscovery` are decided
//! outside the steps below. For every other device the first step that applies wins:
//! 1. The device's `DeviceId` is on its mailbox's `ActiveSyncBlockedDeviceIDs`: Blocked,
//!    reason `Individual` (also when it is on the allowed list as well).
//! 2. The `DeviceId` is on the mailbox's `ActiveSyncAllowedDeviceIDs`: Allowed, `Individual`.
//!    Device ids compare case-insensitively.
//! 3. The rules, one characteristic at a time in the order of [`CHARACTERISTIC_ORDER`]:
//!    `UserAgent`, `DeviceOS`, `DeviceModel`, `DeviceType`. The first characteristic with a
//!    matching rule decides (Allow → Allowed, Block → Blocked, Quarantine → Quarantined), reason
//!    `DeviceRule`, `DeviceAccessControlRule` = the rule's name. There is no "block beats allow":
//!    an Allow rule on the user agent wins over a Block rule on the model. Two matching rules of
//!    the same characteristic (only possible when their query strings differ in letter case):
//!    the oldest (lowest key) decides.
//! 4. Otherwise the organization's `DefaultAccessLevel`, reason `Global`.
//!
//! A rule matches when the device's property named by `Characteristic` equals `QueryString`
//! exactly, ignoring case (no wildcards). `XMSWLHeader` rules match no simulated device (none
//! sends that header).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::device::Device;
use super::enums::{AccessLevel, AccessReason, AccessState, Characteristic};
use super::Mailbox;

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

/// The access a device gets from the lists, the rules and the default level (steps 1 to 4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) state: AccessState,
    pub(crate) reason: AccessReason,
    pub(crate) rule: Option<Arc<str>>,
}

/// The order in which Exchange looks at a device's characteristics (spec §9 step 3).
/// `XMSWLHeader` is absent: no simulated device sends that header.
pub(crate) const CHARACTERISTIC_ORDER: [Characteristic; 4] = [
    Characteristic::UserAgent,
    Characteristic::DeviceOs,
    Characteristic::DeviceModel,
    Characteristic::DeviceType,
];

/// The rule that decides `device`, if any: the oldest matching rule of the first characteristic
/// (in [`CHARACTERISTIC_ORDER`]) that has a matching rule at all.
pub(crate) fn deciding_rule<'a>(rules: &'a [Rule], device: &Device) -> Option<&'a Rule> {
    CHARACTERISTIC_ORDER.iter().find_map(|c| {
        rules
            .iter()
            .filter(|r| r.characteristic == *c && r.matches(device))
            .min_by_key(|r| r.key)
    })
}

/// What `rules` and `default` decide for `device`, ignoring exemptions and personal lists (steps
/// 3 and 4 above).
pub(crate) fn decide(rules: &[Rule], default: AccessLevel, device: &Device) -> Decision {
    match deciding_rule(rules, device) {
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

/// What the personal lists of `mailbox` decide for `device` (steps 1 and 2), if they cover it.
pub(crate) fn listed(mailbox: &Mailbox, device: &Device) -> Option<Decision> {
    let state = if mailbox.blocks(&device.device_id) {
        AccessState::Blocked
    } else if mailbox.allows(&device.device_id) {
        AccessState::Allowed
    } else {
        return None;
    };
    Some(Decision {
        state,
        reason: AccessReason::Individual,
        rule: None,
    })
}

/// The whole decision for `device`, ignoring exemptions: the lists of its `mailbox` (when known),
/// then `rules` and `default` (steps 1 to 4 above).
pub(crate) fn evaluate(
    mailbox: Option<&Mailbox>,
    rules: &[Rule],
    default: AccessLevel,
    device: &Device,
) -> Decision {
    mailbox
        .and_then(|m| listed(m, device))
        .unwrap_or_else(|| decide(rules, default, device))
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

    fn decided(rules: &[Rule], default: AccessLevel, d: &Device) -> (AccessState, Option<String>) {
        let got = decide(rules, default, d);
        let want_reason = if got.rule.is_some() {
            AccessReason::DeviceRule
        } else {
            AccessReason::Global
        };
        assert_eq!(got.reason, want_reason, "{got:?}");
        (got.state, got.rule.as_deref().map(str::to_owned))
    }

    #[test]
    fn an_allow_rule_on_the_user_agent_beats_a_block_rule_on_the_model() {
        let d = sample(DateTime::default());
        let rules = [
            rule(
                1,
                "iPhone17C1",
                Characteristic::DeviceModel,
                AccessLevel::Block,
            ),
            rule(
                2,
                "apple-iphone17c1/2203.72",
                Characteristic::UserAgent,
                AccessLevel::Allow,
            ),
        ];
        assert_eq!(
            decided(&rules, AccessLevel::Block, &d),
            (
                AccessState::Allowed,
                Some("apple-iphone17c1/2203.72 (UserAgent)".to_owned())
            )
        );
        assert_eq!(
            decided(&rules[..1], AccessLevel::Allow, &d),
            (
                AccessState::Blocked,
                Some("iPhone17C1 (DeviceModel)".to_owned())
            )
        );
    }

    #[test]
    fn a_block_rule_on_the_os_beats_an_allow_rule_on_the_type_and_quarantine_on_the_model() {
        let d = sample(DateTime::default());
        let rules = [
            rule(1, "iPhone", Characteristic::DeviceType, AccessLevel::Allow),
            rule(
                2,
                "iPhone17C1",
                Characteristic::DeviceModel,
                AccessLevel::Quarantine,
            ),
            rule(
                3,
                "IOS 18.3.1 22D72",
                Characteristic::DeviceOs,
                AccessLevel::Block,
            ),
        ];
        assert_eq!(
            decided(&rules, AccessLevel::Allow, &d),
            (
                AccessState::Blocked,
                Some("IOS 18.3.1 22D72 (DeviceOS)".to_owned())
            )
        );
        // Without the OS rule the model comes before the type, whatever the levels.
        assert_eq!(
            decided(&rules[..2], AccessLevel::Allow, &d),
            (
                AccessState::Quarantined,
                Some("iPhone17C1 (DeviceModel)".to_owned())
            )
        );
        assert_eq!(
            decided(&rules[..1], AccessLevel::Block, &d),
            (AccessState::Allowed, Some("iPhone (DeviceType)".to_owned()))
        );
    }

    #[test]
    fn no_matching_rule_leaves_the_default_and_headers_match_nothing() {
        let d = sample(DateTime::default());
        let rules = [
            rule(1, "Android", Characteristic::DeviceType, AccessLevel::Block),
            rule(
                2,
                "iPhone17C",
                Characteristic::DeviceModel,
                AccessLevel::Block,
            ),
            rule(
                3,
                "iPhone17C1",
                Characteristic::XmsWlHeader,
                AccessLevel::Block,
            ),
        ];
        for default in [
            AccessLevel::Allow,
            AccessLevel::Block,
            AccessLevel::Quarantine,
        ] {
            assert_eq!(
                decided(&rules, default, &d),
                (default.state(), None),
                "no wildcards, no prefixes"
            );
        }
        assert_eq!(
            decided(&[], AccessLevel::Quarantine, &d).0,
            AccessState::Quarantined
        );
    }

    #[test]
    fn among_rules_of_one_characteristic_the_oldest_decides() {
        let d = sample(DateTime::default());
        let rules = [
            rule(7, "IPHONE", Characteristic::DeviceType, AccessLevel::Allow),
            rule(3, "iphone", Characteristic::DeviceType, AccessLevel::Block),
        ];
        assert_eq!(
            decided(&rules, AccessLevel::Allow, &d),
            (AccessState::Blocked, Some("iphone (DeviceType)".to_owned()))
        );
    }

    fn mailbox(allowed: &[&str], blocked: &[&str]) -> Mailbox {
        Mailbox {
            alias: "adele".to_owned(),
            display_name: "Adele Vance".to_owned(),
            upn: "adele@contoso.com".to_owned(),
            guid: Uuid::nil(),
            when_created: DateTime::default(),
            policy: None,
            active_sync_enabled: true,
            allowed_device_ids: allowed.iter().map(|s| (*s).to_owned()).collect(),
            blocked_device_ids: blocked.iter().map(|s| (*s).to_owned()).collect(),
            when_changed: DateTime::default(),
        }
    }

    #[test]
    fn the_blocked_list_beats_the_allowed_list_and_both_beat_rules_and_default() {
        let d = sample(DateTime::default());
        let rules = [rule(
            1,
            "Apple-iPhone17C1/2203.72",
            Characteristic::UserAgent,
            AccessLevel::Quarantine,
        )];
        let individual = |state| Decision {
            state,
            reason: AccessReason::Individual,
            rule: None,
        };
        let both = mailbox(&["abc"], &["ABC"]);
        assert_eq!(
            evaluate(Some(&both), &rules, AccessLevel::Allow, &d),
            individual(AccessState::Blocked),
            "on both lists: blocked; ids compare in any case"
        );
        let allowed = mailbox(&["ABC"], &["OTHER"]);
        assert_eq!(
            evaluate(Some(&allowed), &rules, AccessLevel::Block, &d),
            individual(AccessState::Allowed)
        );
        let neither = mailbox(&["ABCD"], &["AB"]);
        assert_eq!(
            evaluate(Some(&neither), &rules, AccessLevel::Block, &d),
            decide(&rules, AccessLevel::Block, &d),
            "no prefixes: the rules decide"
        );
        assert_eq!(
            evaluate(None, &[], AccessLevel::Block, &d).reason,
            AccessReason::Global
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
