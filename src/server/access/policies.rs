//! Mobile device mailbox policies (spec §7, §9): the list the page shows, and creating,
//! changing, making default and deleting one. Every value is checked against Exchange's range
//! before anything is sent (a refused value is named with Exchange's own words); only the
//! settings that differ from what Exchange has are sent; the policies are read back and
//! compared with what was asked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use crate::model::{
    policy_setting, ActionReport, AuditAction, ConnectionStatus, MailboxPolicyInfo,
    PolicyChangeKind, PolicyForm, PolicySetting, SettingValue, MAX_POLICY_NAME, NEW_POLICY,
    POLICY_SETTINGS,
};

use super::super::db::{connectors, devices, exchange_config, exchange_config::StoredPolicy};
use super::super::error::AppError;
use super::super::exchange::cmdlets::{
    remove_policy_call, set_policy_call, MailboxPolicySettings, NewMailboxPolicy,
};
use super::super::exchange::wire::{BluetoothMode, Limit, MaxEmailAgeFilter, TimeSpan};
use super::super::setup::Actor;
use super::super::state::AppState;
use super::{invalid, read_back, send, Write};

/// The longest text a setting's field takes (the longest valid one is far shorter).
const MAX_VALUE: usize = 40;

/// A stored setting as the form shows it (see [`SettingValue::text`]); `None` when Exchange
/// did not send it.
fn stored_text(setting: &PolicySetting, raw: Option<&serde_json::Value>) -> Option<String> {
    use serde_json::Value;
    let text = match raw? {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    // Printed as the form prints it (`00:15:00`, `Unlimited`), whatever spelling came in.
    Some(setting.check(&text).map(|v| v.text()).unwrap_or(text))
}

/// The policies of the current connector with the devices that report each applied.
pub(crate) async fn list(
    state: &AppState,
    connector_id: &str,
) -> Result<Vec<MailboxPolicyInfo>, AppError> {
    let pool = state.db.pool();
    let counts: HashMap<String, i64> = devices::policy_counts(pool, connector_id)
        .await?
        .into_iter()
        .map(|(name, n)| (name.to_lowercase(), n))
        .collect();
    Ok(exchange_config::policies(pool, connector_id)
        .await?
        .into_iter()
        .map(|p| MailboxPolicyInfo {
            settings: POLICY_SETTINGS
                .iter()
                .filter_map(|s| Some((s.key.to_owned(), stored_text(s, p.settings.get(s.key))?)))
                .collect(),
            devices: counts
                .get(&p.name.to_lowercase())
                .copied()
                .unwrap_or(0)
                .max(0) as u64,
            identity: p.identity,
            name: p.name,
            is_default: p.is_default,
            when_changed: p.when_changed,
        })
        .collect())
}

/// A checked policy change.
#[derive(Debug)]
enum Change {
    Create {
        name: String,
        make_default: bool,
        values: Vec<(&'static PolicySetting, SettingValue)>,
    },
    Update {
        policy: StoredPolicy,
        /// The setting, its value now, the value asked.
        values: Vec<(&'static PolicySetting, String, SettingValue)>,
    },
    MakeDefault(StoredPolicy),
    Delete(StoredPolicy),
}

fn find(policies: &[StoredPolicy], identity: &str) -> Result<StoredPolicy, AppError> {
    let id = identity.trim();
    policies
        .iter()
        .find(|p| p.identity == id || p.name.eq_ignore_ascii_case(id))
        .cloned()
        .ok_or_else(|| {
            invalid(
                "policy",
                "The connector knows no such policy; it may have been removed in Exchange. Run a \
                 full sync and try again.",
            )
        })
}

/// Each setting of `settings` checked (in the page's order), with its value now (`before`).
fn checked(
    settings: &BTreeMap<String, String>,
    before: impl Fn(&PolicySetting) -> String,
) -> Result<Vec<(&'static PolicySetting, String, SettingValue)>, AppError> {
    if let Some(unknown) = settings.keys().find(|k| policy_setting(k).is_none()) {
        return Err(invalid(
            "settings",
            format!(
                "{:?} is not a setting of a mobile device mailbox policy.",
                unknown.chars().take(40).collect::<String>()
            ),
        ));
    }
    let mut out = Vec::new();
    for s in &POLICY_SETTINGS {
        let Some(text) = settings
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(s.key))
            .map(|(_, v)| v)
        else {
            continue;
        };
        if text.chars().count() > MAX_VALUE || text.chars().any(char::is_control) {
            return Err(invalid(s.key, "The value is not one this setting takes."));
        }
        let value = s.check(text).map_err(|m| invalid(s.key, m))?;
        let now = before(s);
        if value.text() != now {
            out.push((s, now, value));
        }
    }
    Ok(out)
}

fn check(
    kind: &str,
    identity: &str,
    name: &str,
    make_default: bool,
    settings: &BTreeMap<String, String>,
    policies: &[StoredPolicy],
) -> Result<Change, AppError> {
    let kind =
        PolicyChangeKind::parse(kind).ok_or_else(|| invalid("change", "Unknown policy change."))?;
    let identity = identity.trim();
    Ok(match kind {
        PolicyChangeKind::Save if identity.is_empty() || identity == NEW_POLICY => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > MAX_POLICY_NAME {
                return Err(invalid(
                    "name",
                    format!("The name must be 1 to {MAX_POLICY_NAME} characters long."),
                ));
            }
            if name.chars().any(char::is_control) {
                return Err(invalid("name", "The name has control characters."));
            }
            if policies.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
                return Err(invalid(
                    "name",
                    format!("A mailbox policy named \u{201c}{name}\u{201d} exists already."),
                ));
            }
            let values = checked(settings, |s| s.new_default.to_owned())?
                .into_iter()
                .map(|(s, _, v)| (s, v))
                .collect();
            Change::Create {
                name: name.to_owned(),
                make_default,
                values,
            }
        }
        PolicyChangeKind::Save => {
            let policy = find(policies, identity)?;
            let values = checked(settings, |s| {
                stored_text(s, policy.settings.get(s.key)).unwrap_or_default()
            })?;
            if values.is_empty() {
                return Err(invalid(
                    "change",
                    "This changes nothing: the values are the ones Exchange has.",
                ));
            }
            Change::Update { policy, values }
        }
        PolicyChangeKind::MakeDefault => {
            let policy = find(policies, identity)?;
            if policy.is_default {
                return Err(invalid(
                    "policy",
                    format!("{} is the default policy already.", policy.name),
                ));
            }
            Change::MakeDefault(policy)
        }
        PolicyChangeKind::Delete => {
            let policy = find(policies, identity)?;
            if policy.is_default {
                return Err(invalid(
                    "policy",
                    format!(
                        "{} is the default policy, which Exchange cannot remove: make another \
                         policy the default first.",
                        policy.name
                    ),
                ));
            }
            Change::Delete(policy)
        }
    })
}

fn span(secs: u64) -> TimeSpan {
    TimeSpan(Duration::from_secs(secs))
}

/// The settings to send for checked `values`.
fn settings_of<'a>(
    values: impl Iterator<Item = (&'a PolicySetting, &'a SettingValue)>,
) -> MailboxPolicySettings {
    let mut out = MailboxPolicySettings::default();
    for (s, v) in values {
        let flag = match v {
            SettingValue::Flag(b) => Some(*b),
            _ => None,
        };
        let whole = match v {
            SettingValue::Whole(n) => Some(*n),
            _ => None,
        };
        let limit_whole = match v {
            SettingValue::Whole(n) => Some(Limit::Value(*n)),
            SettingValue::Unlimited => Some(Limit::Unlimited),
            _ => None,
        };
        let limit_span = match v {
            SettingValue::Span(secs) => Some(Limit::Value(span(*secs))),
            SettingValue::Unlimited => Some(Limit::Unlimited),
            _ => None,
        };
        let choice = match v {
            SettingValue::Choice(c) => Some(*c),
            _ => None,
        };
        match s.key {
            "PasswordEnabled" => out.password_enabled = flag,
            "AlphanumericPasswordRequired" => out.alphanumeric_password_required = flag,
            "AllowSimplePassword" => out.allow_simple_password = flag,
            "MinPasswordLength" => out.min_password_length = Some(whole),
            "MinPasswordComplexCharacters" => out.min_password_complex_characters = whole,
            "MaxPasswordFailedAttempts" => out.max_password_failed_attempts = limit_whole,
            "PasswordExpiration" => out.password_expiration = limit_span,
            "PasswordHistory" => out.password_history = whole,
            "MaxInactivityTimeLock" => out.max_inactivity_time_lock = limit_span,
            "RequireDeviceEncryption" => out.require_device_encryption = flag,
            "DeviceEncryptionEnabled" => out.device_encryption_enabled = flag,
            "AllowNonProvisionableDevices" => out.allow_non_provisionable_devices = flag,
            "DevicePolicyRefreshInterval" => out.device_policy_refresh_interval = limit_span,
            "AllowCamera" => out.allow_camera = flag,
            "AllowBluetooth" => out.allow_bluetooth = choice.map(BluetoothMode::from),
            "AllowWiFi" => out.allow_wifi = flag,
            "AllowTextMessaging" => out.allow_text_messaging = flag,
            "AllowStorageCard" => out.allow_storage_card = flag,
            "AttachmentsEnabled" => out.attachments_enabled = flag,
            "MaxEmailAgeFilter" => out.max_email_age_filter = choice.map(MaxEmailAgeFilter::from),
            _ => {}
        }
    }
    out
}

/// "Minimum password length: 4 → 6".
fn moved(s: &PolicySetting, before: &str, after: &SettingValue) -> String {
    let show = |t: &str| {
        if t.is_empty() {
            "not set".to_owned()
        } else {
            t.to_owned()
        }
    };
    format!("{}: {} → {}", s.label, show(before), show(&after.text()))
}

/// Makes the policy change `form` describes in Exchange for `actor` (see [`PolicyForm`]): one
/// call, audited, then the policies are read back and compared with what was asked.
pub(crate) async fn apply(
    state: &AppState,
    actor: &Actor,
    form: &PolicyForm,
) -> Result<ActionReport, AppError> {
    let pool = state.db.pool();
    let Some(connector) = connectors::current(pool).await? else {
        return Err(AppError::Conflict(
            "Set up the connector first: changes are made through it.".into(),
        ));
    };
    if connector.status != ConnectionStatus::Connected {
        return Err(AppError::Conflict(
            "The connector is not connected to Exchange: changes wait until it is.".into(),
        ));
    }
    let policies = exchange_config::policies(pool, &connector.id).await?;
    let change = check(
        &form.change,
        &form.policy,
        &form.name,
        form.make_default,
        &form.settings,
        &policies,
    )?;
    let (target, call, what) = match &change {
        Change::Create {
            name,
            make_default,
            values,
        } => {
            let mut settings = settings_of(values.iter().map(|(s, v)| (*s, v)));
            settings.is_default = make_default.then_some(true);
            let mut what: Vec<String> = values
                .iter()
                .map(|(s, v)| moved(s, s.new_default, v))
                .collect();
            if *make_default {
                what.push("made the default policy".into());
            }
            let call = NewMailboxPolicy {
                name: name.clone(),
                settings,
            }
            .call();
            (
                name.clone(),
                call,
                format!(
                    "Mailbox policy {name} created{}{}",
                    if what.is_empty() { "" } else { ": " },
                    what.join("; ")
                ),
            )
        }
        Change::Update { policy, values } => {
            let settings = settings_of(values.iter().map(|(s, _, v)| (*s, v)));
            let call = set_policy_call(&policy.identity, &settings)
                .ok_or_else(|| invalid("change", "This changes nothing."))?;
            let what: Vec<String> = values.iter().map(|(s, b, v)| moved(s, b, v)).collect();
            (
                policy.name.clone(),
                call,
                format!("Mailbox policy {}: {}", policy.name, what.join("; ")),
            )
        }
        Change::MakeDefault(policy) => {
            let settings = MailboxPolicySettings {
                is_default: Some(true),
                ..MailboxPolicySettings::default()
            };
            let call = set_policy_call(&policy.identity, &settings)
                .ok_or_else(|| invalid("change", "This changes nothing."))?;
            (
                policy.name.clone(),
                call,
                format!("Mailbox policy {} made the default", policy.name),
            )
        }
        Change::Delete(policy) => (
            policy.name.clone(),
            remove_policy_call(&policy.identity),
            format!(
                "Mailbox policy {} deleted (its mailboxes get the default policy)",
                policy.name
            ),
        ),
    };
    let mut report = ActionReport::default();
    let detail = what.clone();
    let progress = state
        .changes
        .start(&state.hub, what.clone(), actor.email.clone(), 1);
    send(
        state,
        actor,
        AuditAction::ExchangeChange,
        vec![Write {
            call,
            target,
            devices: Vec::new(),
        }],
        &mut report,
        &progress,
        |_| detail.clone(),
    )
    .await;
    if report.calls_done == 0 {
        return Ok(report);
    }
    report.notes.push(format!("{what}."));
    read_back(state, actor, HashSet::new(), true, &mut report, &progress).await;
    let now = exchange_config::policies(pool, &connector.id).await?;
    report.differences = compare(&change, &now);
    Ok(report)
}

/// Where the policies read back differ from what `change` asked.
fn compare(change: &Change, now: &[StoredPolicy]) -> Vec<String> {
    let named = |name: &str| now.iter().find(|p| p.name.eq_ignore_ascii_case(name));
    let settings_off =
        |p: &StoredPolicy, values: &mut dyn Iterator<Item = (&PolicySetting, &SettingValue)>| {
            values
                .filter_map(|(s, v)| {
                    let said = stored_text(s, p.settings.get(s.key)).unwrap_or_default();
                    (said != v.text()).then(|| {
                        format!(
                            "Exchange reports {} of {} as {}, not {}.",
                            s.label,
                            p.name,
                            if said.is_empty() { "not set" } else { &said },
                            v.text()
                        )
                    })
                })
                .collect::<Vec<_>>()
        };
    match change {
        Change::Create {
            name,
            make_default,
            values,
        } => match named(name) {
            None => vec![format!("Exchange does not list the policy {name}.")],
            Some(p) => {
                let mut off = settings_off(p, &mut values.iter().map(|(s, v)| (*s, v)));
                if *make_default && !p.is_default {
                    off.push(format!("Exchange does not report {name} as the default."));
                }
                off
            }
        },
        Change::Update { policy, values } => match named(&policy.name) {
            None => vec![format!(
                "Exchange no longer lists the policy {}.",
                policy.name
            )],
            Some(p) => settings_off(p, &mut values.iter().map(|(s, _, v)| (*s, v))),
        },
        Change::MakeDefault(policy) => match named(&policy.name) {
            Some(p) if p.is_default => Vec::new(),
            Some(_) => vec![format!(
                "Exchange does not report {} as the default.",
                policy.name
            )],
            None => vec![format!(
                "Exchange no longer lists the policy {}.",
                policy.name
            )],
        },
        Change::Delete(policy) => match named(&policy.name) {
            Some(_) => vec![format!("Exchange still lists the policy {}.", policy.name)],
            None => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(name: &str, default: bool, settings: serde_json::Value) -> StoredPolicy {
        StoredPolicy {
            identity: name.into(),
            name: name.into(),
            is_default: default,
            settings: settings.as_object().cloned().unwrap_or_default(),
            when_changed: None,
        }
    }

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_settings_that_differ_from_exchange_are_sent() {
        let policies = [stored(
            "Default",
            true,
            json!({"MinPasswordLength": 4, "MaxInactivityTimeLock": "00:15:00", "AllowCamera": true}),
        )];
        let change = check(
            "save",
            "Default",
            "",
            false,
            &form(&[
                ("MinPasswordLength", "6"),
                ("MaxInactivityTimeLock", "0:15"),
                ("AllowCamera", "true"),
            ]),
            &policies,
        );
        let Ok(Change::Update { values, .. }) = change else {
            panic!("{change:?}")
        };
        assert_eq!(values.len(), 1);
        assert_eq!(
            moved(values[0].0, &values[0].1, &values[0].2),
            "Minimum password length: 4 → 6"
        );
        let call = set_policy_call(
            "Default",
            &settings_of(values.iter().map(|(s, _, v)| (*s, v))),
        );
        let params = call.map(|c| c.parameters).unwrap_or_default();
        assert_eq!(params.get("MinPasswordLength"), Some(&json!(6)));
        assert_eq!(params.len(), 2, "{params:?}");
    }

    #[test]
    fn bad_input_is_named_and_nothing_is_built() {
        let policies = [
            stored("Default", true, json!({})),
            stored("Sales", false, json!({})),
        ];
        let field = |r: Result<Change, AppError>| match r {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let long = "n".repeat(65);
        // (change, policy, name, settings, the field named)
        type Case<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: [Case; 10] = [
            ("save", "new", " ", &[], "name"),
            ("save", "new", "sales", &[], "name"),
            ("save", "new", &long, &[], "name"),
            (
                "save",
                "new",
                "X",
                &[("PasswordHistory", "51")],
                "PasswordHistory",
            ),
            ("save", "new", "X", &[("Nope", "1")], "settings"),
            ("delete", "Default", "", &[], "policy"),
            ("makeDefault", "Default", "", &[], "policy"),
            ("delete", "Gone", "", &[], "policy"),
            ("rename", "Sales", "", &[], "change"),
            ("save", "Sales", "", &[], "change"),
        ];
        for (kind, identity, name, settings, expected) in cases {
            let got = field(check(
                kind,
                identity,
                name,
                false,
                &form(settings),
                &policies,
            ));
            assert_eq!(got, expected, "{kind} {identity} {name:?} {settings:?}");
        }
        // Clearing the minimum length sends $null.
        let Ok(Change::Update { values, .. }) = check(
            "save",
            "Default",
            "",
            false,
            &form(&[("MinPasswordLength", "")]),
            &[stored("Default", true, json!({"MinPasswordLength": 8}))],
        ) else {
            panic!()
        };
        let call = set_policy_call(
            "Default",
            &settings_of(values.iter().map(|(s, _, v)| (*s, v))),
        );
        assert_eq!(
            call.map(|c| c.parameters.get("MinPasswordLength").cloned()),
            Some(Some(serde_json::Value::Null))
        );
    }
}
