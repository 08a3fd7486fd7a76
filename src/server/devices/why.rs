//! "Why this access state": a plain-language explanation of a device's state, built from the
//! reason and rule Exchange reported and the organization settings and rules the last full sync
//! stored, following Exchange's order of evaluation (spec §9): personal block list, personal
//! allow list, device access rules by characteristic (UserAgent, DeviceOS, DeviceModel,
//! DeviceType; the first characteristic with a matching rule decides), then the default level.
//! Mailbox policy, Intune and Entra decisions stand outside that order.

use crate::model::Explanation;

/// Rule characteristics in the order Exchange checks them.
pub(crate) const ORDER: [&str; 4] = ["UserAgent", "DeviceOS", "DeviceModel", "DeviceType"];

/// A device access rule as the last full sync stored it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleInfo {
    pub name: String,
    pub query_string: String,
    pub characteristic: String,
    pub access_level: String,
}

/// What the explanation looks at of a device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    pub state: String,
    pub reason: Option<String>,
    pub rule: Option<String>,
    pub device_type: Option<String>,
    pub device_model: Option<String>,
    pub device_os: Option<String>,
    pub user_agent: Option<String>,
    pub is_managed: Option<bool>,
    pub is_compliant: Option<bool>,
    pub policy: Option<String>,
    pub policy_status: Option<String>,
}

impl Facts {
    /// The device's value for a rule characteristic (`None` for XMSWLHeader: not kept).
    fn value(&self, characteristic: &str) -> Option<&str> {
        match characteristic {
            "UserAgent" => self.user_agent.as_deref(),
            "DeviceOS" => self.device_os.as_deref(),
            "DeviceModel" => self.device_model.as_deref(),
            "DeviceType" => self.device_type.as_deref(),
            _ => None,
        }
    }

    fn matches(&self, rule: &RuleInfo) -> bool {
        self.value(&rule.characteristic)
            .is_some_and(|v| v.eq_ignore_ascii_case(&rule.query_string))
    }
}

/// A state as a sentence starts it.
fn state_word(state: &str) -> String {
    match state {
        "DeviceDiscovery" => "In discovery".into(),
        "" => "Unknown".into(),
        s => s.to_owned(),
    }
}

/// The state an access level gives.
fn level_state(level: &str) -> &str {
    match level {
        "Allow" => "Allowed",
        "Block" => "Blocked",
        "Quarantine" => "Quarantined",
        other => other,
    }
}

/// The rule that Exchange's order says decides `facts` among `rules`, if any.
pub(crate) fn deciding_rule<'a>(facts: &Facts, rules: &'a [RuleInfo]) -> Option<&'a RuleInfo> {
    ORDER.iter().find_map(|c| {
        rules
            .iter()
            .find(|r| r.characteristic.eq_ignore_ascii_case(c) && facts.matches(r))
    })
}

/// "Rules on UserAgent and DeviceOS did not match": what was checked before `until` (all four
/// when `None`), naming the characteristics that have rules.
fn not_matched(facts: &Facts, rules: &[RuleInfo], until: Option<&str>) -> Option<String> {
    let before: Vec<&str> = ORDER
        .iter()
        .take_while(|c| until.is_none_or(|u| !u.eq_ignore_ascii_case(c)))
        .copied()
        .filter(|c| {
            rules
                .iter()
                .any(|r| r.characteristic.eq_ignore_ascii_case(c) && !facts.matches(r))
        })
        .collect();
    let list = match before.as_slice() {
        [] => return None,
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    Some(format!(
        "Rules on {list} did not match (checked first, in Exchange's order)."
    ))
}

const ORDER_NOTE: &str = "Exchange checks a device's personal block and allow lists first, then \
    device access rules by characteristic (UserAgent, DeviceOS, DeviceModel, DeviceType; the first \
    characteristic with a matching rule decides), then the organization's default access level.";

/// Explains `facts` with the stored organization `default_level` (`Allow`, `Block`,
/// `Quarantine`; `None` when no full sync has read it) and `rules`. Never fails: a reason it
/// does not know is shown as Exchange sent it.
pub(crate) fn explain(
    facts: &Facts,
    default_level: Option<&str>,
    rules: &[RuleInfo],
) -> Explanation {
    let state = state_word(&facts.state);
    let reason = facts.reason.as_deref().unwrap_or("");
    let mut details = Vec::new();
    let summary = match (facts.state.as_str(), reason) {
        ("DeviceDiscovery", _) => {
            details.push(
                "A new partnership can stay in discovery for up to about 14 minutes while \
                 Exchange learns its model; the next sync shows the state it settles in."
                    .to_owned(),
            );
            "In discovery: Exchange has not decided this device's access yet.".to_owned()
        }
        (_, "DeviceRule") => rule_summary(facts, rules, &state, &mut details),
        (_, "Global") => {
            let level = default_level.unwrap_or("not read yet");
            details.extend(not_matched(facts, rules, None));
            if rules.is_empty() {
                details.push("The organization has no device access rules.".into());
            }
            if let Some(rule) = deciding_rule(facts, rules) {
                details.push(format!(
                    "The rule {} now matches this device; Exchange applies it at the device's next \
                     connection, and the next sync shows the result.",
                    rule.name
                ));
            } else if let Some(l) = default_level {
                if level_state(l) != facts.state {
                    details.push(format!(
                        "The default access level is now {l}; Exchange applies it at the device's \
                         next connection."
                    ));
                }
            }
            details.push(ORDER_NOTE.into());
            format!(
                "{state} by the organization's default access level ({level}): no device access \
                 rule matches this device."
            )
        }
        ("Allowed", "Individual") => {
            details.push(ORDER_NOTE.into());
            "Allowed because its device id is on the mailbox's allowed list \
             (ActiveSyncAllowedDeviceIDs)."
                .into()
        }
        (_, "Individual") => {
            details.push(ORDER_NOTE.into());
            format!(
                "{state} because its device id is on the mailbox's blocked list \
                 (ActiveSyncBlockedDeviceIDs)."
            )
        }
        (_, "Policy") => {
            if let Some(p) = &facts.policy {
                details.push(format!("Mailbox policy applied to the device: {p}."));
            }
            if let Some(s) = &facts.policy_status {
                details.push(format!("Policy application status: {s}."));
            }
            details.push(
                "Devices that fail the mailbox policy are blocked whatever the rules and the \
                 default level say."
                    .into(),
            );
            format!("{state} because it does not comply with the mailbox policy.")
        }
        (_, "ExternallyManaged" | "ExternalCompliance" | "ExternalEnrollment") => {
            let managed = match facts.is_managed {
                Some(true) => "managed",
                Some(false) => "not managed",
                None => "of unknown management",
            };
            let compliant = match facts.is_compliant {
                Some(true) => "compliant",
                Some(false) => "not compliant",
                None => "of unknown compliance",
            };
            details.push(format!(
                "Intune reports the device as {managed} and {compliant}."
            ));
            details.push(
                "Device access rules and the default level do not move devices decided by \
                 external management."
                    .into(),
            );
            format!("{state} by Intune (external management, reason {reason}).")
        }
        (_, r) if r.starts_with("Aad") => {
            details.push("Rules and the default access level do not apply to it.".into());
            format!("{state} by Microsoft Entra Conditional Access (reason {r}).")
        }
        (_, "Upgrade") => format!(
            "{state} because it already synced before Exchange was upgraded (reason Upgrade)."
        ),
        (
            _,
            "UserAgentsChanges"
            | "RecentCommands"
            | "Watsons"
            | "OutOfBudgets"
            | "SyncCommands"
            | "CommandFrequency"
            | "MobileDeviceUpdateFrequency"
            | "ActiveSyncVersionChanges",
        ) => {
            details.push(
                "Exchange's ActiveSync auto-blocking stops devices that behave abnormally; the \
                 block ends by itself after its duration."
                    .into(),
            );
            format!("{state} by Exchange's ActiveSync auto-blocking (reason {reason}).")
        }
        (_, "") => format!("{state}; Exchange gave no reason for this state."),
        (_, r) => format!("{state} (reason \u{201c}{r}\u{201d}, as Exchange reported it)."),
    };
    Explanation { summary, details }
}

/// The summary of a `DeviceRule` state, and what else was checked.
fn rule_summary(
    facts: &Facts,
    rules: &[RuleInfo],
    state: &str,
    details: &mut Vec<String>,
) -> String {
    let named = facts.rule.as_deref().filter(|r| !r.is_empty());
    let stored = named.and_then(|n| rules.iter().find(|r| r.name.eq_ignore_ascii_case(n)));
    let Some(name) = named
        .map(str::to_owned)
        .or_else(|| deciding_rule(facts, rules).map(|r| r.name.clone()))
    else {
        details.push(ORDER_NOTE.into());
        return format!("{state} by a device access rule (Exchange did not name it).");
    };
    // "SM-S918B (DeviceModel)": the characteristic is in the name when the rule is not stored.
    let characteristic = stored.map(|r| r.characteristic.clone()).or_else(|| {
        let inner = name.rsplit_once('(')?.1.strip_suffix(')')?;
        ORDER
            .iter()
            .find(|c| c.eq_ignore_ascii_case(inner))
            .map(|c| (*c).to_owned())
    });
    match stored {
        Some(r) => {
            details.push(format!(
                "The rule gives {} to devices whose {} is \u{201c}{}\u{201d}.",
                level_state(&r.access_level),
                r.characteristic,
                r.query_string
            ));
            if level_state(&r.access_level) != facts.state {
                details.push(format!(
                    "The rule's access level is now {}; Exchange applies it at the device's next \
                     connection.",
                    r.access_level
                ));
            }
        }
        None if named.is_some() => details.push(
            "This rule is not among the rules the last full sync read (it was removed or \
             renamed since)."
                .into(),
        ),
        None => {}
    }
    details.extend(not_matched(facts, rules, characteristic.as_deref()));
    if let Some(other) = deciding_rule(facts, rules).filter(|d| !d.name.eq_ignore_ascii_case(&name))
    {
        details.push(format!(
            "By the stored rules, {} now decides this device; the next sync shows whether \
             Exchange agrees.",
            other.name
        ));
    }
    details.push(ORDER_NOTE.into());
    let named_with = characteristic.as_deref().is_some_and(|c| {
        name.to_ascii_lowercase()
            .ends_with(&format!("({})", c.to_ascii_lowercase()))
    });
    match characteristic {
        Some(c) if !named_with => format!("{state} by the device access rule {name} (on {c})."),
        _ => format!("{state} by the device access rule {name}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(query: &str, characteristic: &str, level: &str) -> RuleInfo {
        RuleInfo {
            name: format!("{query} ({characteristic})"),
            query_string: query.into(),
            characteristic: characteristic.into(),
            access_level: level.into(),
        }
    }

    fn galaxy() -> Facts {
        Facts {
            state: "Blocked".into(),
            reason: Some("DeviceRule".into()),
            rule: Some("SM-S918B (DeviceModel)".into()),
            device_type: Some("SAMSUNGSMS918B".into()),
            device_model: Some("SM-S918B".into()),
            device_os: Some("Android 14.0.0".into()),
            user_agent: Some("Android-SAMSUNG-SM-S918B/101.140101".into()),
            ..Facts::default()
        }
    }

    #[test]
    fn a_rule_state_names_the_rule_and_the_characteristics_checked_before_it() {
        let rules = [
            rule("SM-S918B", "DeviceModel", "Block"),
            rule("Outlook-iOS/2.0", "UserAgent", "Allow"),
            rule("iOS 12.5.7", "DeviceOS", "Quarantine"),
            rule("iPhone", "DeviceType", "Allow"),
        ];
        let why = explain(&galaxy(), Some("Allow"), &rules);
        assert_eq!(
            why.summary,
            "Blocked by the device access rule SM-S918B (DeviceModel)."
        );
        assert!(
            why.details
                .iter()
                .any(|d| d == "Rules on UserAgent and DeviceOS did not match (checked first, in Exchange's order)."),
            "{why:?}"
        );
        assert!(why
            .details
            .iter()
            .any(|d| d.contains("whose DeviceModel is \u{201c}SM-S918B\u{201d}")));
    }

    #[test]
    fn each_characteristic_decides_in_exchange_order() {
        let d = galaxy();
        for (i, c) in ORDER.iter().enumerate() {
            let value = d.value(c).unwrap_or_default().to_owned();
            // A matching rule on this characteristic, and Allow rules on every later one.
            let mut rules = vec![rule(&value, c, "Quarantine")];
            for later in &ORDER[i + 1..] {
                rules.push(rule(d.value(later).unwrap_or_default(), later, "Allow"));
            }
            let decided = deciding_rule(&d, &rules).map(|r| r.characteristic.clone());
            assert_eq!(decided.as_deref(), Some(*c), "{rules:?}");
            let mut facts = d.clone();
            facts.state = "Quarantined".into();
            facts.rule = Some(format!("{value} ({c})"));
            let why = explain(&facts, Some("Allow"), &rules);
            assert!(
                why.summary
                    .starts_with("Quarantined by the device access rule"),
                "{why:?}"
            );
            // Nothing before it had a rule, so nothing "did not match".
            assert!(
                !why.details.iter().any(|t| t.contains("did not match")),
                "{why:?}"
            );
        }
        let header = rule("x", "XMSWLHeader", "Block");
        assert_eq!(deciding_rule(&d, &[header]), None, "the header is not kept");
    }

    #[test]
    fn the_default_level_the_lists_the_policy_and_intune_each_read_plainly() {
        let mut d = galaxy();
        d.state = "Quarantined".into();
        d.reason = Some("Global".into());
        d.rule = None;
        let why = explain(
            &d,
            Some("Quarantine"),
            &[rule("iPhone", "DeviceType", "Allow")],
        );
        assert_eq!(
            why.summary,
            "Quarantined by the organization's default access level (Quarantine): no device \
             access rule matches this device."
        );
        assert!(why
            .details
            .iter()
            .any(|t| t.starts_with("Rules on DeviceType did not match")));

        d.state = "Allowed".into();
        d.reason = Some("Individual".into());
        assert_eq!(
            explain(&d, None, &[]).summary,
            "Allowed because its device id is on the mailbox's allowed list (ActiveSyncAllowedDeviceIDs)."
        );
        d.state = "Blocked".into();
        assert!(explain(&d, None, &[]).summary.contains("blocked list"));
        d.reason = Some("Policy".into());
        d.policy_status = Some("NotApplied".into());
        let why = explain(&d, None, &[]);
        assert_eq!(
            why.summary,
            "Blocked because it does not comply with the mailbox policy."
        );
        assert!(why.details.iter().any(|t| t.contains("NotApplied")));
        d.reason = Some("ExternallyManaged".into());
        d.is_managed = Some(true);
        d.is_compliant = Some(false);
        let why = explain(&d, None, &[]);
        assert!(why.summary.starts_with("Blocked by Intune"), "{why:?}");
        assert!(why
            .details
            .iter()
            .any(|t| t.contains("managed and not compliant")));
        d.state = "DeviceDiscovery".into();
        assert!(explain(&d, None, &[]).summary.starts_with("In discovery"));
    }

    #[test]
    fn unknown_reasons_are_shown_as_they_came_never_as_an_error() {
        let d = Facts {
            state: "Blocked".into(),
            reason: Some("SomethingNewFrom2027".into()),
            ..Facts::default()
        };
        assert_eq!(
            explain(&d, None, &[]).summary,
            "Blocked (reason \u{201c}SomethingNewFrom2027\u{201d}, as Exchange reported it)."
        );
        let none = Facts {
            state: "Unknown".into(),
            ..Facts::default()
        };
        assert_eq!(
            explain(&none, None, &[]).summary,
            "Unknown; Exchange gave no reason for this state."
        );
    }

    #[test]
    fn a_rule_gone_since_the_last_sync_is_said_so() {
        let why = explain(&galaxy(), Some("Allow"), &[]);
        assert_eq!(
            why.summary,
            "Blocked by the device access rule SM-S918B (DeviceModel)."
        );
        assert!(why
            .details
            .iter()
            .any(|t| t.contains("not among the rules")));
    }
}
