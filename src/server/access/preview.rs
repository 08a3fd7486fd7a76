//! What a change to the default access level or the device access rules would do to the stored
//! devices, by Exchange's order of evaluation (spec §9): personal lists first, then the rules by
//! characteristic (UserAgent, DeviceOS, DeviceModel, DeviceType; the first characteristic with a
//! matching rule decides), then the default. Devices in discovery, refused by their mailbox
//! policy or decided outside Exchange (Intune, Entra) are left as they are.

use std::collections::BTreeMap;

use crate::model::level_state;

use super::super::devices::why::ORDER;

/// A device as the preview sees it (text compared without regard to case).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Subject<'a> {
    pub state: &'a str,
    pub reason: &'a str,
    pub device_type: &'a str,
    pub model: &'a str,
    pub os: &'a str,
    pub agent: &'a str,
    /// Last successful sync, microseconds since the epoch (`i64::MIN` when never).
    pub last_sync: i64,
}

impl Subject<'_> {
    fn value(&self, characteristic: &str) -> Option<&str> {
        match characteristic {
            "UserAgent" => Some(self.agent),
            "DeviceOS" => Some(self.os),
            "DeviceModel" => Some(self.model),
            "DeviceType" => Some(self.device_type),
            _ => None,
        }
        .filter(|v| !v.is_empty())
    }

    pub(crate) fn matches(&self, rule: &Rule) -> bool {
        self.value(&rule.characteristic)
            .is_some_and(|v| v.eq_ignore_ascii_case(rule.query_string.trim()))
    }
}

/// A device access rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub identity: String,
    pub name: String,
    pub characteristic: String,
    pub query_string: String,
    pub access_level: String,
}

/// Why a device stays out of the rules and the default, if it does.
pub(crate) fn exempt(s: &Subject) -> Option<&'static str> {
    if s.state == "DeviceDiscovery" {
        return Some("In discovery: Exchange has not decided them yet");
    }
    match s.reason {
        "Individual" => Some("On their mailbox's allowed or blocked list"),
        "Policy" => Some("Blocked by their mailbox policy"),
        "ExternallyManaged" | "ExternalCompliance" | "ExternalEnrollment" => {
            Some("Decided outside Exchange (Intune)")
        }
        r if r.starts_with("Aad") => Some("Decided outside Exchange (Entra ID)"),
        _ => None,
    }
}

/// The rule Exchange's order picks for `s` among `rules`.
pub(crate) fn deciding<'r>(s: &Subject, rules: &'r [Rule]) -> Option<&'r Rule> {
    ORDER.iter().find_map(|c| {
        rules
            .iter()
            .find(|r| r.characteristic.eq_ignore_ascii_case(c) && s.matches(r))
    })
}

/// The state the rules and the default give `s`.
fn decided<'a>(s: &Subject, rules: &'a [Rule], default: &'a str) -> (&'a str, Option<&'a Rule>) {
    match deciding(s, rules) {
        Some(r) => (level_state(&r.access_level), Some(r)),
        None => (level_state(default), None),
    }
}

/// The configuration before and after a change.
pub(crate) struct Evaluation<'a> {
    pub rules: &'a [Rule],
    pub default: &'a str,
    /// Devices allowed now that synced since (microseconds) are put on their allowed lists
    /// instead of changing (grandfathering), when set.
    pub grandfather_since: Option<i64>,
    /// The rule the change is about (its identity), so that devices another rule decides
    /// are told apart.
    pub changed_rule: Option<&'a str>,
}

/// What the change does to the devices.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Index into the subjects, and the state it would get.
    pub changing: Vec<(usize, String)>,
    /// Indices of the devices grandfathering keeps allowed.
    pub grandfathered: Vec<usize>,
    /// Devices left as they are, by why.
    pub kept: BTreeMap<&'static str, u64>,
}

/// Runs Exchange's evaluation over `subjects` with the configuration `after`.
pub(crate) fn evaluate(subjects: &[Subject], after: &Evaluation) -> Outcome {
    let mut out = Outcome::default();
    for (i, s) in subjects.iter().enumerate() {
        if let Some(why) = exempt(s) {
            *out.kept.entry(why).or_default() += 1;
            continue;
        }
        let (state, rule) = decided(s, after.rules, after.default);
        if state.eq_ignore_ascii_case(s.state) {
            let why = match (rule, after.changed_rule) {
                (Some(r), Some(changed)) if r.identity != changed => {
                    "Decided by another rule that Exchange checks first"
                }
                (Some(_), None) => "Decided by a device access rule, not the default",
                _ => "Would get the state they already have",
            };
            *out.kept.entry(why).or_default() += 1;
            continue;
        }
        let recent = after
            .grandfather_since
            .is_some_and(|since| s.last_sync != i64::MIN && s.last_sync >= since);
        if recent && s.state == "Allowed" {
            out.grandfathered.push(i);
        } else {
            out.changing.push((i, state.to_owned()));
        }
    }
    out
}

/// How many stored devices `rule` matches, and how many of them it decides today.
pub(crate) fn rule_counts(subjects: &[Subject], rules: &[Rule], rule: &Rule) -> (u64, u64) {
    let (mut matches, mut decides) = (0, 0);
    for s in subjects.iter().filter(|s| s.matches(rule)) {
        matches += 1;
        if exempt(s).is_none() && deciding(s, rules).is_some_and(|r| r.identity == rule.identity) {
            decides += 1;
        }
    }
    (matches, decides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, c: &str, q: &str, level: &str) -> Rule {
        Rule {
            identity: id.into(),
            name: format!("{q} ({c})"),
            characteristic: c.into(),
            query_string: q.into(),
            access_level: level.into(),
        }
    }

    fn device<'a>(state: &'a str, reason: &'a str, model: &'a str, os: &'a str) -> Subject<'a> {
        Subject {
            state,
            reason,
            device_type: "iphone",
            model,
            os,
            agent: "apple-iphone/1",
            last_sync: 1_000,
        }
    }

    #[test]
    fn a_stricter_default_moves_only_devices_the_default_decides() {
        let rules = [rule("r1", "DeviceModel", "iPhone12C1", "Allow")];
        let subjects = [
            device("Allowed", "Global", "ipad8", "ios 17"),
            device("Allowed", "DeviceRule", "iphone12c1", "ios 17"),
            device("Allowed", "Individual", "ipad8", "ios 17"),
            device("Blocked", "Policy", "ipad8", "ios 17"),
            device("Allowed", "ExternallyManaged", "ipad8", "ios 17"),
            device("DeviceDiscovery", "Global", "ipad8", "ios 17"),
            device("Blocked", "Global", "ipad8", "ios 17"),
        ];
        let out = evaluate(
            &subjects,
            &Evaluation {
                rules: &rules,
                default: "Block",
                grandfather_since: None,
                changed_rule: None,
            },
        );
        assert_eq!(out.changing, vec![(0, "Blocked".to_owned())]);
        assert_eq!(out.kept.values().sum::<u64>(), 6);
        assert_eq!(
            out.kept["Decided by a device access rule, not the default"],
            1
        );
        assert_eq!(out.kept["On their mailbox's allowed or blocked list"], 1);
        assert_eq!(out.kept["Blocked by their mailbox policy"], 1);
        assert_eq!(out.kept["Decided outside Exchange (Intune)"], 1);
        assert_eq!(out.kept["Would get the state they already have"], 1);
    }

    #[test]
    fn grandfathering_keeps_recently_synced_allowed_devices_and_counts_the_rest() {
        let mut old = device("Allowed", "Global", "ipad8", "ios 17");
        old.last_sync = 10;
        let never = Subject {
            last_sync: i64::MIN,
            ..device("Allowed", "Global", "ipad8", "ios 17")
        };
        let recent = Subject {
            last_sync: 500,
            ..device("Allowed", "Global", "ipad8", "ios 17")
        };
        let out = evaluate(
            &[old, never, recent],
            &Evaluation {
                rules: &[],
                default: "Quarantine",
                grandfather_since: Some(100),
                changed_rule: None,
            },
        );
        assert_eq!(out.grandfathered, vec![2]);
        assert_eq!(
            out.changing,
            vec![(0, "Quarantined".to_owned()), (1, "Quarantined".to_owned())]
        );
    }

    #[test]
    fn a_new_rule_on_the_model_loses_to_a_rule_on_the_os_and_matches_any_case() {
        let os = rule("r1", "DeviceOS", "iOS 17", "Allow");
        let new = rule("new", "DeviceModel", "IPAD8", "Block");
        let subjects = [
            device("Allowed", "DeviceRule", "ipad8", "ios 17"),
            device("Allowed", "Global", "ipad8", "ios 16"),
            device("Allowed", "Global", "iphone9", "ios 16"),
        ];
        let rules = [os.clone(), new.clone()];
        let out = evaluate(
            &subjects,
            &Evaluation {
                rules: &rules,
                default: "Allow",
                grandfather_since: None,
                changed_rule: Some("new"),
            },
        );
        assert_eq!(out.changing, vec![(1, "Blocked".to_owned())]);
        assert_eq!(
            out.kept["Decided by another rule that Exchange checks first"],
            1
        );
        assert_eq!(rule_counts(&subjects, &rules, &new), (2, 1));
        assert_eq!(rule_counts(&subjects, &rules, &os), (1, 1));
    }
}
