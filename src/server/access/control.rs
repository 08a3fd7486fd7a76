//! The organization's access settings and device access rules (spec §9): what the page shows,
//! the preview of a change (from the stored devices, by Exchange's order of evaluation), and
//! the change itself, with grandfathering when the default tightens, read back from Exchange.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, Utc};

use crate::model::{
    AccessChangeForm, AccessChangeKind, AccessPreview, AccessRule, AccessSettings, ActionReport,
    AuditAction, ConnectionStatus, ExchangeAccess, KeptCount, PreviewDevice, StateCount,
    ValueSuggestion, ACCESS_LEVELS, CHARACTERISTICS, MAX_MAIL_INSERT, MAX_QUERY_STRING,
    MAX_RECIPIENTS, PREVIEW_LISTED,
};

use super::super::db::{connectors, devices, exchange_config, staging};
use super::super::devices::catalog::{Catalog, NO_TIME};
use super::super::error::AppError;
use super::super::exchange::cmdlets::{
    remove_rule_call, set_rule_call, DeviceListsChange, ListUpdate, NewDeviceAccessRule,
    OrganizationSettingsChange,
};
use super::super::exchange::wire::{AccessLevel, Characteristic};
use super::super::setup::Actor;
use super::super::state::AppState;
use super::preview::{self, Evaluation, Rule, Subject};
use super::{invalid, list, read_back, send, Write};

/// Values offered per characteristic.
const SUGGESTIONS: i64 = 50;

/// The longest grandfathering window, in days.
const MAX_GRANDFATHER_DAYS: u32 = 365;

/// A checked change.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Change {
    Settings {
        default_access_level: String,
        recipients: Vec<String>,
        user_mail_insert: String,
        ota_notification_mail_insert: String,
        grandfather_days: Option<u32>,
    },
    NewRule(Rule),
    RuleLevel {
        rule: Rule,
        access_level: String,
    },
    DeleteRule(Rule),
}

/// What the last sync stored of the current connector.
struct Stored {
    connector: crate::model::ConnectorInfo,
    settings: Option<exchange_config::StoredSettings>,
    rules: Vec<Rule>,
}

async fn stored(state: &AppState) -> Result<Option<Stored>, AppError> {
    let pool = state.db.pool();
    let Some(connector) = connectors::current(pool).await? else {
        return Ok(None);
    };
    let settings = exchange_config::settings(pool, &connector.id).await?;
    let rules = exchange_config::rules(pool, &connector.id)
        .await?
        .into_iter()
        .map(
            |(identity, name, characteristic, query_string, access_level)| Rule {
                identity,
                name,
                characteristic,
                query_string,
                access_level,
            },
        )
        .collect();
    Ok(Some(Stored {
        connector,
        settings,
        rules,
    }))
}

/// The present devices of `catalog` as the preview sees them, with their GUIDs and mailboxes
/// (interned ids: equal ids, same mailbox).
struct Subjects<'a> {
    subjects: Vec<Subject<'a>>,
    guids: Vec<&'a str>,
    mailboxes: Vec<u32>,
}

fn subjects(catalog: &Catalog) -> Subjects<'_> {
    let mut out = Subjects {
        subjects: Vec::new(),
        guids: Vec::new(),
        mailboxes: Vec::new(),
    };
    for e in catalog.present() {
        out.subjects.push(Subject {
            state: catalog.text(e.state),
            reason: catalog.text(e.reason),
            device_type: catalog.text(e.device_type),
            model: catalog.text(e.model),
            os: catalog.text(e.os),
            agent: catalog.text(e.agent),
            last_sync: if e.last_sync == NO_TIME {
                i64::MIN
            } else {
                e.last_sync
            },
        });
        out.guids.push(catalog.text(e.guid));
        out.mailboxes.push(e.user);
    }
    out
}

/// Why changes cannot be made now, if they cannot.
fn unavailable(stored: Option<&Stored>) -> Option<String> {
    match stored {
        None => Some("Set up the connector first: changes are made through it.".into()),
        Some(s) if s.connector.status != ConnectionStatus::Connected => {
            Some("The connector is not connected to Exchange: changes wait until it is.".into())
        }
        Some(s) if s.settings.is_none() => {
            Some("No sync has read Exchange's settings yet: run a full sync first.".into())
        }
        Some(_) => None,
    }
}

/// The page: the settings and rules as the last sync read them, each rule with the stored
/// devices it matches and decides, and the values the sync has seen.
pub(crate) async fn overview(
    state: &AppState,
    can_change: bool,
) -> Result<ExchangeAccess, AppError> {
    let stored = stored(state).await?;
    let mut page = ExchangeAccess {
        can_change,
        unavailable: unavailable(stored.as_ref()),
        ..ExchangeAccess::default()
    };
    let Some(stored) = stored else {
        return Ok(page);
    };
    page.synced = stored.settings.is_some();
    if let Some(s) = stored.settings.clone() {
        page.settings = AccessSettings {
            default_access_level: s.default_access_level,
            admin_mail_recipients: s.admin_mail_recipients,
            user_mail_insert: s.user_mail_insert,
            ota_notification_mail_insert: s.ota_notification_mail_insert,
            read_at: s.read_at,
        };
    }
    let catalog = super::super::devices::catalog(state).await?;
    let subjects = catalog
        .as_deref()
        .map(|c| subjects(c).subjects)
        .unwrap_or_default();
    page.rules = stored
        .rules
        .iter()
        .map(|r| {
            let (matches, decides) = preview::rule_counts(&subjects, &stored.rules, r);
            AccessRule {
                identity: r.identity.clone(),
                name: r.name.clone(),
                characteristic: r.characteristic.clone(),
                query_string: r.query_string.clone(),
                access_level: r.access_level.clone(),
                matches,
                decides,
            }
        })
        .collect();
    page.policies = super::policies::list(state, &stored.connector.id).await?;
    let pool = state.db.pool();
    for c in CHARACTERISTICS {
        for (value, n) in devices::value_counts(pool, &stored.connector.id, c, SUGGESTIONS).await? {
            page.suggestions.push(ValueSuggestion {
                characteristic: c.to_owned(),
                value,
                devices: n.max(0) as u64,
            });
        }
    }
    Ok(page)
}

/// The access level `value` as Exchange spells it.
fn level(field: &str, value: &str) -> Result<String, AppError> {
    ACCESS_LEVELS
        .iter()
        .find(|l| l.eq_ignore_ascii_case(value.trim()))
        .map(|l| (*l).to_owned())
        .ok_or_else(|| {
            invalid(
                field,
                format!(
                    "Choose Allow, Block or Quarantine{}.",
                    if value.trim().is_empty() {
                        String::new()
                    } else {
                        format!(" (not {:?})", cut(value, 40))
                    }
                ),
            )
        })
}

/// At most `n` characters of `s`, for messages.
fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Whether `address` reads as one mail address (what Exchange would take as an SMTP address).
fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A mail insert: at most 256 characters, no control characters but line breaks.
fn mail_insert(field: &str, label: &str, value: &str) -> Result<String, AppError> {
    let n = value.chars().count();
    if n > MAX_MAIL_INSERT {
        return Err(invalid(
            field,
            format!("{label} is {n} characters long; Exchange takes at most {MAX_MAIL_INSERT}."),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(field, format!("{label} has control characters.")));
    }
    Ok(value.trim().to_owned())
}

/// The rule `identity` among `rules`.
fn find_rule(rules: &[Rule], identity: &str) -> Result<Rule, AppError> {
    rules
        .iter()
        .find(|r| r.identity == identity.trim() || r.name == identity.trim())
        .cloned()
        .ok_or_else(|| {
            invalid(
                "rule",
                "The connector knows no such rule; it may have been removed in Exchange. \
                 Run a full sync and try again.",
            )
        })
}

/// Checks `form` against what is stored: each wrong field is named with why.
fn check(form: &AccessChangeForm, stored: &Stored) -> Result<Change, AppError> {
    let kind = AccessChangeKind::parse(&form.change)
        .ok_or_else(|| invalid("change", "Unknown change."))?;
    Ok(match kind {
        AccessChangeKind::Settings => {
            let default_access_level = level("default_access_level", &form.default_access_level)?;
            let mut recipients: Vec<String> = Vec::new();
            for address in form
                .admin_mail_recipients
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|a| !a.is_empty())
            {
                if !is_address(address) {
                    return Err(invalid(
                        "admin_mail_recipients",
                        format!("{:?} is not a mail address.", cut(address, 80)),
                    ));
                }
                if !recipients.iter().any(|r| r.eq_ignore_ascii_case(address)) {
                    recipients.push(address.to_owned());
                }
            }
            if recipients.len() > MAX_RECIPIENTS {
                return Err(invalid(
                    "admin_mail_recipients",
                    format!(
                        "At most {MAX_RECIPIENTS} recipients; {} were given.",
                        recipients.len()
                    ),
                ));
            }
            let user_mail_insert = mail_insert(
                "user_mail_insert",
                "The user mail text",
                &form.user_mail_insert,
            )?;
            let ota_notification_mail_insert = mail_insert(
                "ota_notification_mail_insert",
                "The notification mail text",
                &form.ota_notification_mail_insert,
            )?;
            let days = form.grandfather_days.trim();
            let grandfather_days = if days.is_empty() {
                None
            } else {
                match days.parse::<u32>() {
                    Ok(d) if (1..=MAX_GRANDFATHER_DAYS).contains(&d) => Some(d),
                    _ => {
                        return Err(invalid(
                            "grandfather_days",
                            format!(
                                "Enter a number of days from 1 to {MAX_GRANDFATHER_DAYS}, or \
                                 leave it empty to keep no device."
                            ),
                        ))
                    }
                }
            };
            Change::Settings {
                default_access_level,
                recipients,
                user_mail_insert,
                ota_notification_mail_insert,
                grandfather_days,
            }
        }
        AccessChangeKind::NewRule => {
            let characteristic = CHARACTERISTICS
                .iter()
                .find(|c| c.eq_ignore_ascii_case(form.characteristic.trim()))
                .ok_or_else(|| {
                    invalid(
                        "characteristic",
                        "Choose what the rule looks at: UserAgent, DeviceOS, DeviceModel, \
                         DeviceType or XMSWLHeader.",
                    )
                })?;
            let value = form.query_string.trim();
            if value.is_empty() {
                return Err(invalid("query_string", "Enter the value the rule matches."));
            }
            if value.chars().count() > MAX_QUERY_STRING {
                return Err(invalid(
                    "query_string",
                    format!("At most {MAX_QUERY_STRING} characters."),
                ));
            }
            if value.chars().any(char::is_control) {
                return Err(invalid("query_string", "The value has control characters."));
            }
            if value.contains('*') {
                return Err(invalid(
                    "query_string",
                    "Exchange compares the exact text: wildcards such as * match nothing.",
                ));
            }
            let access_level = level("access_level", &form.access_level)?;
            if let Some(existing) = stored.rules.iter().find(|r| {
                r.characteristic.eq_ignore_ascii_case(characteristic)
                    && r.query_string.trim().eq_ignore_ascii_case(value)
            }) {
                return Err(invalid(
                    "query_string",
                    format!(
                        "The rule {} already covers this value: change its access level instead.",
                        existing.name
                    ),
                ));
            }
            let name = format!("{value} ({characteristic})");
            Change::NewRule(Rule {
                identity: name.clone(),
                name,
                characteristic: (*characteristic).to_owned(),
                query_string: value.to_owned(),
                access_level,
            })
        }
        AccessChangeKind::RuleLevel => Change::RuleLevel {
            rule: find_rule(&stored.rules, &form.rule)?,
            access_level: level("access_level", &form.access_level)?,
        },
        AccessChangeKind::DeleteRule => Change::DeleteRule(find_rule(&stored.rules, &form.rule)?),
    })
}

/// The form of a checked change (sent back with Apply).
fn form_of(change: &Change) -> AccessChangeForm {
    let mut f = AccessChangeForm::default();
    match change {
        Change::Settings {
            default_access_level,
            recipients,
            user_mail_insert,
            ota_notification_mail_insert,
            grandfather_days,
        } => {
            f.change = AccessChangeKind::Settings.as_str().into();
            f.default_access_level = default_access_level.clone();
            f.admin_mail_recipients = recipients.join(", ");
            f.user_mail_insert = user_mail_insert.clone();
            f.ota_notification_mail_insert = ota_notification_mail_insert.clone();
            f.grandfather_days = grandfather_days.map(|d| d.to_string()).unwrap_or_default();
        }
        Change::NewRule(r) => {
            f.change = AccessChangeKind::NewRule.as_str().into();
            f.characteristic = r.characteristic.clone();
            f.query_string = r.query_string.clone();
            f.access_level = r.access_level.clone();
        }
        Change::RuleLevel { rule, access_level } => {
            f.change = AccessChangeKind::RuleLevel.as_str().into();
            f.rule = rule.identity.clone();
            f.access_level = access_level.clone();
        }
        Change::DeleteRule(r) => {
            f.change = AccessChangeKind::DeleteRule.as_str().into();
            f.rule = r.identity.clone();
        }
    }
    f
}

/// "a → b", or "" when equal.
fn moved(label: &str, before: &str, after: &str) -> Option<String> {
    let show = |s: &str| {
        if s.is_empty() {
            "(none)".to_owned()
        } else {
            format!("\u{201c}{}\u{201d}", cut(s, 80))
        }
    };
    (before.trim() != after.trim()).then(|| format!("{label}: {} → {}", show(before), show(after)))
}

/// What a checked change would do: (preview, GUIDs to grandfather, GUID → expected state).
struct Planned {
    preview: AccessPreview,
    grandfather: Vec<String>,
    expected: HashMap<String, String>,
}

fn plan(change: &Change, stored: &Stored, catalog: Option<&Catalog>) -> Planned {
    let default_now = stored
        .settings
        .as_ref()
        .and_then(|s| s.default_access_level.clone())
        .unwrap_or_else(|| "Allow".into());
    let mut rules = stored.rules.clone();
    let mut default = default_now.clone();
    let mut grandfather_since = None;
    let mut changed_rule = None;
    let mut summary = Vec::new();
    let mut no_change = false;
    match change {
        Change::Settings {
            default_access_level,
            recipients,
            user_mail_insert,
            ota_notification_mail_insert,
            grandfather_days,
        } => {
            let before = stored.settings.clone().unwrap_or_default();
            let (before_recipients, user, ota) = (
                before.admin_mail_recipients,
                before.user_mail_insert,
                before.ota_notification_mail_insert,
            );
            summary.extend(moved(
                "Default access level",
                &default_now,
                default_access_level,
            ));
            summary.extend(moved(
                "Admin mail recipients",
                &before_recipients.join(", "),
                &recipients.join(", "),
            ));
            summary.extend(moved(
                "Text added to the user's quarantine mail",
                user.as_deref().unwrap_or(""),
                user_mail_insert,
            ));
            summary.extend(moved(
                "Text added to the notification mail",
                ota.as_deref().unwrap_or(""),
                ota_notification_mail_insert,
            ));
            no_change = summary.is_empty();
            default = default_access_level.clone();
            if default_now == "Allow" && default != "Allow" {
                grandfather_since = grandfather_days
                    .map(|d| (Utc::now() - Duration::days(i64::from(d))).timestamp_micros());
            }
        }
        Change::NewRule(r) => {
            summary.push(format!(
                "New rule {}: devices whose {} is {:?} get {}",
                r.name, r.characteristic, r.query_string, r.access_level
            ));
            changed_rule = Some(r.identity.as_str());
            rules.push(r.clone());
        }
        Change::RuleLevel { rule, access_level } => {
            no_change = rule.access_level == *access_level;
            summary.extend(moved(
                &format!("Rule {}", rule.name),
                &rule.access_level,
                access_level,
            ));
            changed_rule = Some(rule.identity.as_str());
            if let Some(r) = rules.iter_mut().find(|r| r.identity == rule.identity) {
                r.access_level = access_level.clone();
            }
        }
        Change::DeleteRule(rule) => {
            summary.push(format!(
                "Delete rule {} ({} {:?} → {})",
                rule.name, rule.characteristic, rule.query_string, rule.access_level
            ));
            changed_rule = Some(rule.identity.as_str());
            rules.retain(|r| r.identity != rule.identity);
        }
    }
    let mut preview = AccessPreview {
        summary,
        no_change,
        form: form_of(change),
        ..AccessPreview::default()
    };
    let mut planned = Planned {
        preview: AccessPreview::default(),
        grandfather: Vec::new(),
        expected: HashMap::new(),
    };
    if let Some(catalog) = catalog {
        let Subjects {
            subjects,
            guids,
            mailboxes,
        } = subjects(catalog);
        let out = preview::evaluate(
            &subjects,
            &Evaluation {
                rules: &rules,
                default: &default,
                grandfather_since,
                changed_rule,
            },
        );
        preview.changing = out.changing.len() as u64;
        let mut by_state: BTreeMap<&str, u64> = BTreeMap::new();
        for (_, to) in &out.changing {
            *by_state.entry(to.as_str()).or_default() += 1;
        }
        preview.by_new_state = by_state
            .into_iter()
            .map(|(state, count)| StateCount {
                state: state.to_owned(),
                count,
            })
            .collect();
        let mut kept: Vec<KeptCount> = out
            .kept
            .iter()
            .map(|(why, n)| KeptCount {
                why: (*why).to_owned(),
                devices: *n,
            })
            .collect();
        kept.sort_by_key(|k| std::cmp::Reverse(k.devices));
        preview.kept = kept;
        preview.grandfathered = out.grandfathered.len() as u64;
        preview.grandfathered_mailboxes = out
            .grandfathered
            .iter()
            .map(|i| mailboxes[*i])
            .collect::<HashSet<_>>()
            .len() as u64;
        planned.grandfather = out
            .grandfathered
            .iter()
            .map(|i| guids[*i].to_owned())
            .collect();
        for (i, to) in &out.changing {
            planned.expected.insert(guids[*i].to_owned(), to.clone());
        }
        for g in &planned.grandfather {
            planned.expected.insert(g.clone(), "Allowed".into());
        }
        preview.devices = out
            .changing
            .iter()
            .map(|(i, to)| (*i, to.as_str(), false))
            .chain(out.grandfathered.iter().map(|i| (*i, "Allowed", true)))
            .take(PREVIEW_LISTED)
            .map(|(i, to, grandfathered)| PreviewDevice {
                guid: guids[i].to_owned(),
                name: String::new(),
                user: None,
                from: subjects[i].state.to_owned(),
                to: to.to_owned(),
                grandfathered,
            })
            .collect();
    }
    planned.preview = preview;
    planned
}

/// Names the listed devices of `preview` (and their mailboxes) from the store.
async fn name_devices(
    state: &AppState,
    connector_id: &str,
    preview: &mut AccessPreview,
) -> Result<(), AppError> {
    let listed: Vec<String> = preview.devices.iter().map(|d| d.guid.clone()).collect();
    let found = devices::targets(state.db.pool(), connector_id, &listed).await?;
    for d in &mut preview.devices {
        if let Some(t) = found.iter().find(|t| t.guid == d.guid) {
            d.name = t.name.clone();
            d.user = staging::mailbox_of(&t.identity).map(str::to_owned);
        }
    }
    Ok(())
}

/// The preview of `form`: checked like Apply checks it, computed from the stored devices.
pub(crate) async fn preview(
    state: &AppState,
    form: &AccessChangeForm,
) -> Result<AccessPreview, AppError> {
    let stored = stored(state).await?;
    if let Some(why) = unavailable(stored.as_ref()) {
        return Err(AppError::Conflict(why));
    }
    let stored = stored.expect("checked by unavailable");
    let change = check(form, &stored)?;
    let catalog = super::super::devices::catalog(state).await?;
    let mut planned = plan(&change, &stored, catalog.as_deref());
    name_devices(state, &stored.connector.id, &mut planned.preview).await?;
    Ok(planned.preview)
}

/// The devices of `catalog` (their GUIDs' ids) that `form` would move or grandfather, as its
/// preview counts them, and the change in words: the device list of a preview.
pub(crate) async fn affected(
    state: &AppState,
    form: &AccessChangeForm,
    catalog: &Catalog,
) -> Result<(Vec<String>, HashSet<u32>), AppError> {
    let stored = stored(state).await?;
    if let Some(why) = unavailable(stored.as_ref()) {
        return Err(AppError::Conflict(why));
    }
    let stored = stored.expect("checked by unavailable");
    let change = check(form, &stored)?;
    let planned = plan(&change, &stored, Some(catalog));
    let only = planned
        .expected
        .keys()
        .filter_map(|g| catalog.id_of(g))
        .collect();
    Ok((planned.preview.summary, only))
}

/// Makes the change `form` describes in Exchange for `actor`: grandfathering first (one
/// Set-CASMailbox per mailbox adding to its allowed list; the default is not changed when one
/// fails), then the change, each call audited; then reads the settings, rules and moved devices
/// back and says where Exchange's answer differs from the preview.
pub(crate) async fn apply(
    state: &AppState,
    actor: &Actor,
    form: &AccessChangeForm,
) -> Result<ActionReport, AppError> {
    let pool = state.db.pool();
    let stored = stored(state).await?;
    if let Some(why) = unavailable(stored.as_ref()) {
        return Err(AppError::Conflict(why));
    }
    let stored = stored.expect("checked by unavailable");
    let change = check(form, &stored)?;
    let catalog = super::super::devices::catalog(state).await?;
    let planned = plan(&change, &stored, catalog.as_deref());
    if planned.preview.no_change {
        return Err(invalid(
            "change",
            "This changes nothing: the values are the ones Exchange has.",
        ));
    }
    let cid = stored.connector.id.clone();
    let mut report = ActionReport {
        devices: planned.expected.len() as u32,
        ..ActionReport::default()
    };
    let what = planned.preview.summary.join("; ");
    let progress = state
        .changes
        .start(&state.hub, cut(&what, 120), actor.email.clone(), 1);

    if !planned.grandfather.is_empty() {
        if connectors::denied_optional(pool, &cid)
            .await?
            .iter()
            .any(|c| c == "Set-CASMailbox")
        {
            return Err(AppError::Conflict(
                "Grandfathering needs Set-CASMailbox, which the connector's account may not run: \
                 give it the \"Mail Recipients\" role, or leave the days empty to keep no device."
                    .into(),
            ));
        }
        let targets = devices::targets(pool, &cid, &planned.grandfather).await?;
        let mut by_mailbox: BTreeMap<&str, Vec<&devices::Target>> = BTreeMap::new();
        for t in targets.iter().filter(|t| !t.removed) {
            if let Some(m) = staging::mailbox_of(&t.identity) {
                by_mailbox.entry(m).or_default().push(t);
            }
        }
        let writes: Vec<Write> = by_mailbox
            .into_iter()
            .filter_map(|(mailbox, ts)| {
                let lists = DeviceListsChange {
                    allowed: Some(ListUpdate::Change {
                        add: ts.iter().map(|t| t.device_id.clone()).collect(),
                        remove: Vec::new(),
                    }),
                    blocked: None,
                };
                Some(Write {
                    call: lists.call(mailbox)?,
                    target: mailbox.to_owned(),
                    devices: ts.iter().map(|t| t.name.clone()).collect(),
                })
            })
            .collect();
        progress.update(|p| p.calls_total += writes.len() as u32);
        let (_, forbidden) = send(
            state,
            actor,
            AuditAction::ExchangeChange,
            writes,
            &mut report,
            &progress,
            |w| {
                format!(
                    "Grandfathered before: {what}. Added to the allowed list: {}",
                    list(w.devices.iter().map(|d| d.as_str()))
                )
            },
        )
        .await;
        if forbidden > 0 && report.calls_done == 0 {
            connectors::add_denied_optional(pool, &cid, "Set-CASMailbox").await?;
        }
        if report.calls_failed > 0 {
            report.notes.push(format!(
                "The default access level was not changed: {} of the grandfathering calls \
                 failed, so devices meant to keep their access could lose it. The devices \
                 already added stay on their allowed lists.",
                report.calls_failed
            ));
            read_back(
                state,
                actor,
                planned.grandfather.iter().cloned().collect(),
                true,
                &mut report,
                &progress,
            )
            .await;
            return Ok(report);
        }
    }

    let (target, call) = match &change {
        Change::Settings {
            default_access_level,
            recipients,
            user_mail_insert,
            ota_notification_mail_insert,
            ..
        } => {
            let before = stored.settings.clone().unwrap_or_default();
            let mut s = OrganizationSettingsChange::default();
            if before.default_access_level.as_deref() != Some(default_access_level.as_str()) {
                s.default_access_level = Some(AccessLevel::from(default_access_level.as_str()));
            }
            if before.admin_mail_recipients != *recipients {
                s.admin_mail_recipients = Some(ListUpdate::Replace(recipients.clone()));
            }
            if before.user_mail_insert.as_deref().unwrap_or("") != user_mail_insert {
                s.user_mail_insert = Some(user_mail_insert.clone());
            }
            if before.ota_notification_mail_insert.as_deref().unwrap_or("")
                != ota_notification_mail_insert
            {
                s.ota_notification_mail_insert = Some(ota_notification_mail_insert.clone());
            }
            ("Mobile Mailbox Settings".to_owned(), s.call())
        }
        Change::NewRule(r) => (
            r.name.clone(),
            Some(
                NewDeviceAccessRule {
                    access_level: AccessLevel::from(r.access_level.as_str()),
                    characteristic: Characteristic::from(r.characteristic.as_str()),
                    query_string: r.query_string.clone(),
                }
                .call(),
            ),
        ),
        Change::RuleLevel { rule, access_level } => (
            rule.name.clone(),
            Some(set_rule_call(
                &rule.identity,
                &AccessLevel::from(access_level.as_str()),
            )),
        ),
        Change::DeleteRule(rule) => (rule.name.clone(), Some(remove_rule_call(&rule.identity))),
    };
    let Some(call) = call else {
        return Err(invalid(
            "change",
            "This changes nothing: the values are the ones Exchange has.",
        ));
    };
    let before_done = report.calls_done;
    let writes = vec![Write {
        call,
        target,
        devices: Vec::new(),
    }];
    let previewed = planned.preview.changing;
    send(
        state,
        actor,
        AuditAction::ExchangeChange,
        writes,
        &mut report,
        &progress,
        |_| format!("{what} (preview: {previewed} devices would change)"),
    )
    .await;
    if report.calls_done == before_done {
        if !planned.grandfather.is_empty() {
            report.notes.push(
                "The grandfathered devices stay on their allowed lists; remove them with \
                 \"Clear individual setting\" if that is not wanted."
                    .into(),
            );
        }
        return Ok(report);
    }
    // The devices the preview expects to move are read whatever their change time says
    // (Exchange's times have whole seconds: two changes in one second look like one).
    read_back(
        state,
        actor,
        planned.expected.keys().cloned().collect(),
        true,
        &mut report,
        &progress,
    )
    .await;
    report.differences = compare(state, &change, &planned).await?;
    Ok(report)
}

/// Where Exchange's answer, as read back, differs from the preview.
async fn compare(
    state: &AppState,
    change: &Change,
    planned: &Planned,
) -> Result<Vec<String>, AppError> {
    let mut said = Vec::new();
    let Some(stored) = stored(state).await? else {
        return Ok(said);
    };
    match change {
        Change::Settings {
            default_access_level,
            ..
        } => {
            let now = stored
                .settings
                .as_ref()
                .and_then(|s| s.default_access_level.clone());
            if now.as_deref() != Some(default_access_level.as_str()) {
                said.push(format!(
                    "Exchange reports the default access level as {}.",
                    now.as_deref().unwrap_or("unknown")
                ));
            }
        }
        Change::NewRule(r) => {
            if !stored.rules.iter().any(|x| {
                x.characteristic.eq_ignore_ascii_case(&r.characteristic)
                    && x.query_string.eq_ignore_ascii_case(&r.query_string)
            }) {
                said.push(format!("Exchange does not list the rule {}.", r.name));
            }
        }
        Change::RuleLevel { rule, access_level } => {
            match stored.rules.iter().find(|x| x.identity == rule.identity) {
                Some(x) if x.access_level != *access_level => said.push(format!(
                    "Exchange reports the rule {} with the access level {}.",
                    rule.name, x.access_level
                )),
                Some(_) => {}
                None => said.push(format!("Exchange no longer lists the rule {}.", rule.name)),
            }
        }
        Change::DeleteRule(rule) => {
            if stored.rules.iter().any(|x| x.identity == rule.identity) {
                said.push(format!("Exchange still lists the rule {}.", rule.name));
            }
        }
    }
    let Some(catalog) = super::super::devices::catalog(state).await? else {
        return Ok(said);
    };
    let now = subjects(&catalog);
    let mut off = Vec::new();
    for (s, guid) in now.subjects.iter().zip(now.guids) {
        if let Some(expected) = planned.expected.get(guid) {
            if !s.state.eq_ignore_ascii_case(expected) {
                off.push((guid.to_owned(), expected.clone(), s.state.to_owned()));
            }
        }
    }
    if !off.is_empty() {
        said.push(format!(
            "{} of the {} devices the preview expected to move are in another state now.",
            off.len(),
            planned.expected.len()
        ));
        let shown: Vec<String> = off.iter().take(20).map(|(g, _, _)| g.clone()).collect();
        let named = devices::targets(state.db.pool(), &catalog.connector_id, &shown).await?;
        for (guid, expected, now) in off.iter().take(20) {
            let name = named
                .iter()
                .find(|t| &t.guid == guid)
                .map_or(guid.as_str(), |t| t.name.as_str());
            said.push(format!("{name}: expected {expected}, Exchange says {now}."));
        }
    }
    Ok(said)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_like_exchange_would() {
        for ok in ["admin@contoso.com", "it.help+eas@mail.contoso.co.uk"] {
            assert!(is_address(ok), "{ok}");
        }
        for bad in [
            "admin",
            "@contoso.com",
            "admin@",
            "admin@contoso",
            "ad min@contoso.com",
            "admin@-contoso.com",
            ".admin@contoso.com",
            "admin@contoso..com",
        ] {
            assert!(!is_address(bad), "{bad}");
        }
    }

    #[test]
    fn a_level_is_one_of_three_in_exchanges_spelling() {
        assert_eq!(level("x", " quarantine ").unwrap(), "Quarantine");
        let e = level("access_level", "Deny").unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { field, message } if field == "access_level" && message.contains("\"Deny\"")),
            "{e:?}"
        );
    }

    #[test]
    fn mail_text_over_256_characters_is_refused_naming_the_field() {
        let long = "é".repeat(257);
        let e = mail_insert("user_mail_insert", "The user mail text", &long).unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { field, message } if field == "user_mail_insert" && message.contains("257"))
        );
        assert!(mail_insert("f", "x", &"é".repeat(256)).is_ok());
        assert!(mail_insert("f", "x", "a\u{0}b").is_err());
    }
}
