//! "Exchange access": the organization's default access level, notification settings and device
//! access rules as the last sync read them. Admins change them in two steps: a form (a GET, so
//! the preview has an address and works without JavaScript) shows what the change would do to
//! the stored devices, then Apply makes it in Exchange and reads Exchange's answer back.

mod policies;

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{
    get_exchange_access, preview_access_change, ApplyAccessChange, ChangeMailboxPolicy,
    ACTION_ERROR_PARAM, APPLIED_PARAM, FIELD_PARAM,
};
use crate::app::components::actions::ChangeOutcome;
use crate::app::components::alert::Alert;
use crate::app::components::devices::StateBadge;
use crate::app::components::time::LocalTime;
use crate::app::devices::change_devices_href;
use crate::app::layout::Frame;
use crate::app::live::use_ledger_version;
use crate::app::paths::{self, EXCHANGE_ACCESS};
use crate::error::ApiError;
use crate::model::{
    AccessChangeForm, AccessPreview, AccessRule, AccessSettings, ExchangeAccess, ACCESS_LEVELS,
    CHARACTERISTICS, DEFAULT_GRANDFATHER_DAYS, MAX_MAIL_INSERT, MAX_QUERY_STRING, NEW_POLICY,
    POLICY_PARAM,
};
use policies::{typed_policy, Policies};

const CARD: &str = "mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm";
const LABEL: &str = "block text-sm font-medium text-slate-700";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";
const BUTTON: &str = "inline-flex items-center rounded-md bg-sky-700 px-3 py-1.5 text-sm font-semibold text-white hover:bg-sky-800";
const QUIET_BUTTON: &str = "inline-flex items-center rounded-md bg-white px-3 py-1.5 text-sm font-semibold text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50";

#[component]
pub fn ExchangeAccessPage() -> impl IntoView {
    let params = use_query_map();
    let ledger = use_ledger_version();
    let apply = ServerAction::<ApplyAccessChange>::new();
    let policy_action = ServerAction::<ChangeMailboxPolicy>::new();
    // The page is read again after a policy change Exchange answered; a change refused before
    // sending leaves the form as typed, with the error at its field.
    let policy_answered = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(policy_action.value().get(), Some(Ok(_))) {
            policy_answered.update(|n| *n += 1);
        }
    });
    let page = Resource::new(
        move || (ledger.get(), apply.version().get(), policy_answered.get()),
        |_| get_exchange_access(),
    );
    let form = Memo::new(move |_| params.with(|p| AccessChangeForm::from_params(|k| p.get(k))));
    let preview = Resource::new(
        move || form.get(),
        |f| async move {
            let Some(f) = f else {
                return Ok(None);
            };
            preview_access_change(
                f.change,
                f.default_access_level,
                f.admin_mail_recipients,
                f.user_mail_insert,
                f.ota_notification_mail_insert,
                f.grandfather_days,
                f.characteristic,
                f.query_string,
                f.access_level,
                f.rule,
            )
            .await
            .map(Some)
        },
    );
    // Applied in place: the preview's address goes, Exchange's answer stays.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if apply.version().get() > 0 && matches!(apply.value().get(), Some(Ok(_))) {
            navigate(EXCHANGE_ACCESS, Default::default());
        }
    });
    // A policy created or deleted: its form closes (the list shows Exchange's answer).
    let closing = StoredValue::new(false);
    Effect::new(move |_| {
        if let Some(input) = policy_action.input().get() {
            let new = input.policy.trim().is_empty() || input.policy == NEW_POLICY;
            closing.set_value(input.change == "delete" || (input.change == "save" && new));
        }
    });
    let navigate_back = use_navigate();
    Effect::new(move |_| {
        if policy_action.version().get() > 0
            && matches!(policy_action.value().get(), Some(Ok(_)))
            && closing.get_value()
        {
            closing.set_value(false);
            navigate_back(&format!("{EXCHANGE_ACCESS}#policies"), Default::default());
        }
    });
    let notice = move || {
        params.with(|p| match p.get(APPLIED_PARAM).as_deref() {
            Some("done") => Some(Ok(())),
            Some("failed") => Some(Err(p.get(ACTION_ERROR_PARAM).unwrap_or_default())),
            _ => None,
        })
    };
    view! {
        <Title text="Exchange access"/>
        <Frame title="Exchange access">
            <h1 class="text-2xl font-semibold">"Exchange access"</h1>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                "How Exchange Online decides which mobile devices may sync mail: personal allow and block lists first, then device access rules (user agent, OS, model, type, in that order), then the default access level. Every change is previewed against the devices the connector has stored, made in Exchange, recorded in the audit log and read back."
            </p>
            <ChangeOutcome
                pending=Signal::derive(move || apply.pending().get())
                value=Signal::derive(move || apply.value().get())
                notice=Signal::derive(notice)
            />
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(Some(p)) => view! { <PreviewPanel p apply/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <Alert title="This change cannot be previewed" message=field_message(&e)/> }.into_any(),
                    }
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading Exchange's settings…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(a) => {
                            let (open, failed, typed) = params.with(|p| {
                                let failed = (p.get(APPLIED_PARAM).as_deref() == Some("failed"))
                                    .then(|| p.get(FIELD_PARAM).filter(|f| !f.is_empty()))
                                    .flatten()
                                    .map(|f| (f, p.get(ACTION_ERROR_PARAM).unwrap_or_default()));
                                // A refused plain post brings back the values typed.
                                let typed = if failed.is_some() { typed_policy(|k| p.get(k)) } else { Default::default() };
                                (p.get(POLICY_PARAM), failed, typed)
                            });
                            view! { <Overview a form=form.get_untracked() policy_action open failed typed/> }.into_any()
                        }
                        Err(e) => view! { <Alert title="The settings could not be loaded" message=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
            // Exchange's answer to the last policy change, under the policies (the last
            // section), outside the part that refreshes.
            <div data-testid="policy-outcome">
                <ChangeOutcome
                    pending=Signal::derive(move || policy_action.pending().get())
                    value=Signal::derive(move || policy_action.value().get())
                    notice=Signal::derive(|| None)
                />
            </div>
        </Frame>
    }
}

/// An error, naming the form field it is about in words.
fn field_message(e: &ApiError) -> String {
    match e {
        ApiError::Invalid { field, message } => {
            let label = match field.as_str() {
                "default_access_level" => "Default access level",
                "admin_mail_recipients" => "Admin mail recipients",
                "user_mail_insert" => "Text added to the user's quarantine mail",
                "ota_notification_mail_insert" => "Text added to the notification mail",
                "grandfather_days" => "Keep allowed (days)",
                "characteristic" => "Characteristic",
                "query_string" => "Value",
                "access_level" => "Access level",
                "rule" => "Rule",
                _ => return message.clone(),
            };
            format!("{label}: {message}")
        }
        other => other.to_string(),
    }
}

/// What a change would do, and Apply / Cancel.
#[component]
fn PreviewPanel(p: AccessPreview, apply: ServerAction<ApplyAccessChange>) -> impl IntoView {
    let hidden = p
        .form
        .pairs()
        .into_iter()
        .map(|(k, v)| view! { <input type="hidden" name=k value=v.to_owned()/> })
        .collect_view();
    let listed = p.devices.len() as u64;
    let total_listed = p.changing + p.grandfathered;
    view! {
        <section aria-labelledby="preview-heading" class="mt-4 rounded-lg border-2 border-sky-300 bg-sky-50 p-5" data-testid="access-preview">
            <h2 id="preview-heading" class="text-lg font-semibold">"Preview: what this change does"</h2>
            <ul class="mt-2 list-disc pl-5 text-sm" data-testid="preview-summary">
                {p.summary.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}
            </ul>
            {if p.no_change {
                view! { <p class="mt-3 text-sm" data-testid="preview-no-change">"This changes nothing: these are the values Exchange has."</p> }.into_any()
            } else {
                view! {
                    <p class="mt-3 text-base font-semibold" data-testid="preview-changing" data-count=p.changing.to_string()>
                        {match p.changing {
                            0 => "No device would change state.".to_owned(),
                            1 => "1 device would change state".to_owned(),
                            n => format!("{n} devices would change state"),
                        }}
                    </p>
                    <ul class="mt-1 flex flex-wrap gap-2 text-sm" aria-label="Devices that would change, by new state">
                        {p.by_new_state.iter().map(|s| view! {
                            <li class="flex items-center gap-1" data-testid="preview-state" data-state=s.state.clone() data-count=s.count.to_string()>
                                <StateBadge state=s.state.clone() reason=None/>
                                <span>{s.count}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                    {(p.grandfathered > 0).then(|| view! {
                        <p class="mt-2 text-sm" data-testid="preview-grandfathered" data-count=p.grandfathered.to_string()>
                            {format!(
                                "Grandfathering first adds {} device{} that synced recently to the allowed lists of {} mailbox{}: they stay Allowed.",
                                p.grandfathered, if p.grandfathered == 1 { "" } else { "s" },
                                p.grandfathered_mailboxes, if p.grandfathered_mailboxes == 1 { "" } else { "es" },
                            )}
                        </p>
                    })}
                    {(!p.kept.is_empty()).then(|| view! {
                        <h3 class="mt-3 text-sm font-semibold">"Left as they are"</h3>
                        <ul class="mt-1 list-disc pl-5 text-sm" data-testid="preview-kept">
                            {p.kept.iter().map(|k| view! { <li>{format!("{}: {}", k.why, k.devices)}</li> }).collect_view()}
                        </ul>
                    })}
                    {(!p.devices.is_empty()).then(|| view! {
                        <details class="mt-3">
                            <summary class="cursor-pointer text-sm font-semibold text-sky-800">
                                {if listed < total_listed {
                                    format!("The first {listed} of the {total_listed} devices")
                                } else {
                                    format!("The {listed} devices")
                                }}
                            </summary>
                            <table class="mt-2 min-w-full text-left text-sm">
                                <thead><tr>
                                    <th scope="col" class="py-1 pr-4">"Device"</th>
                                    <th scope="col" class="py-1 pr-4">"Mailbox"</th>
                                    <th scope="col" class="py-1 pr-4">"Now"</th>
                                    <th scope="col" class="py-1">"After"</th>
                                </tr></thead>
                                <tbody>
                                    {p.devices.iter().map(|d| view! {
                                        <tr data-testid="preview-device">
                                            <td class="py-1 pr-4"><a class="text-sky-800 underline" href=paths::device(&d.guid)>{d.name.clone()}</a></td>
                                            <td class="py-1 pr-4">{d.user.clone().unwrap_or_default()}</td>
                                            <td class="py-1 pr-4">{d.from.clone()}</td>
                                            <td class="py-1">{if d.grandfathered { format!("{} (allowed list)", d.to) } else { d.to.clone() }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </details>
                    })}
                }.into_any()
            }}
            {(total_listed > 0).then(|| view! {
                <p class="mt-3 text-sm">
                    <a href=change_devices_href(&p.form) class="font-semibold text-sky-800 underline hover:text-sky-900" data-testid="preview-devices-link">
                        {format!("Open the {total_listed} device{} in the device list", if total_listed == 1 { "" } else { "s" })}
                    </a>
                    " (filter, sort, export them as CSV)"
                </p>
            })}
            <div class="mt-4 flex flex-wrap items-center gap-3">
                {(!p.no_change).then(|| view! {
                    <ActionForm action=apply>
                        {hidden}
                        <button type="submit" class=BUTTON disabled=move || apply.pending().get()>"Apply in Exchange"</button>
                    </ActionForm>
                })}
                <a href=EXCHANGE_ACCESS class=QUIET_BUTTON>"Cancel"</a>
            </div>
        </section>
    }
}

/// The settings and the rules.
#[component]
fn Overview(
    a: ExchangeAccess,
    form: Option<AccessChangeForm>,
    policy_action: ServerAction<ChangeMailboxPolicy>,
    open: Option<String>,
    failed: Option<(String, String)>,
    typed: BTreeMap<String, String>,
) -> impl IntoView {
    let editable = a.can_change && a.unavailable.is_none();
    let policies = a.policies.clone();
    view! {
        {(a.can_change).then(|| a.unavailable.clone().map(|why| view! {
            <p class="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950" data-testid="access-unavailable">{why}</p>
        }))}
        {(!a.synced).then(|| view! {
            <p class="mt-4 text-sm text-slate-600" data-testid="access-not-synced">"No sync has read Exchange's settings and rules yet."</p>
        })}
        <Settings s=a.settings.clone() editable form=form.filter(|f| f.change == "settings")/>
        <Rules a editable/>
        <Policies policies editable open action=policy_action failed typed/>
    }
}

fn value_or_dash(v: Option<String>) -> String {
    v.filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "—".into())
}

#[component]
fn Settings(s: AccessSettings, editable: bool, form: Option<AccessChangeForm>) -> impl IntoView {
    let current = s
        .default_access_level
        .clone()
        .unwrap_or_else(|| "Allow".into());
    let level = form
        .as_ref()
        .map(|f| f.default_access_level.clone())
        .unwrap_or_else(|| current.clone());
    let recipients = form
        .as_ref()
        .map(|f| f.admin_mail_recipients.clone())
        .unwrap_or_else(|| s.admin_mail_recipients.join(", "));
    let user = form
        .as_ref()
        .map(|f| f.user_mail_insert.clone())
        .unwrap_or_else(|| s.user_mail_insert.clone().unwrap_or_default());
    let ota = form
        .as_ref()
        .map(|f| f.ota_notification_mail_insert.clone())
        .unwrap_or_else(|| s.ota_notification_mail_insert.clone().unwrap_or_default());
    let days = form
        .as_ref()
        .map(|f| f.grandfather_days.clone())
        .unwrap_or_else(|| DEFAULT_GRANDFATHER_DAYS.to_string());
    let max = MAX_MAIL_INSERT.to_string();
    view! {
        <section aria-labelledby="settings-heading" class=CARD data-testid="access-settings">
            <h2 id="settings-heading" class="font-semibold">"Organization settings (Get-ActiveSyncOrganizationSettings)"</h2>
            <dl class="mt-2 divide-y divide-slate-100 text-sm">
                <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
                    <dt class="text-slate-600 sm:col-span-2">"Default access level"</dt>
                    <dd class="sm:col-span-3" data-testid="default-access-level">{s.default_access_level.clone().unwrap_or_else(|| "—".into())}</dd>
                </div>
                <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
                    <dt class="text-slate-600 sm:col-span-2">"Admin mail recipients"</dt>
                    <dd class="break-words sm:col-span-3">{value_or_dash(Some(s.admin_mail_recipients.join(", ")))}</dd>
                </div>
                <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
                    <dt class="text-slate-600 sm:col-span-2">"Text added to the user's quarantine mail"</dt>
                    <dd class="break-words sm:col-span-3">{value_or_dash(s.user_mail_insert.clone())}</dd>
                </div>
                <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
                    <dt class="text-slate-600 sm:col-span-2">"Text added to the notification mail"</dt>
                    <dd class="break-words sm:col-span-3">{value_or_dash(s.ota_notification_mail_insert.clone())}</dd>
                </div>
                <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
                    <dt class="text-slate-600 sm:col-span-2">"Read from Exchange"</dt>
                    <dd class="sm:col-span-3">{match s.read_at {
                        Some(at) => view! { <LocalTime at/> }.into_any(),
                        None => view! { "—" }.into_any(),
                    }}</dd>
                </div>
            </dl>
            {editable.then(|| view! {
                <details class="mt-3" open=form.is_some()>
                    <summary class="cursor-pointer text-sm font-semibold text-sky-800">"Change the settings"</summary>
                    <Form method="GET" action=EXCHANGE_ACCESS attr:class="mt-3 grid max-w-3xl gap-3" attr:aria-label="Change the organization settings">
                        <input type="hidden" name="change" value="settings"/>
                        <div class="w-56">
                            <label for="default-level" class=LABEL>"Default access level"</label>
                            <select id="default-level" name="default_access_level" class=INPUT>
                                {ACCESS_LEVELS.into_iter().map(|l| view! { <option value=l selected=l == level>{l}</option> }).collect_view()}
                            </select>
                        </div>
                        <p class="text-xs text-slate-600">
                            "The default decides every device that no personal list and no rule covers, new and existing ones alike: moving it away from Allow can cut off many devices at once. The preview counts them."
                        </p>
                        <div class="w-40">
                            <label for="grandfather-days" class=LABEL>"Keep allowed (days)"</label>
                            <input id="grandfather-days" name="grandfather_days" type="number" min="1" max="365" inputmode="numeric" value=days aria-describedby="grandfather-help" class=INPUT/>
                        </div>
                        <p id="grandfather-help" class="text-xs text-slate-600">
                            "Grandfathering: when the default moves away from Allow, devices allowed today that synced in this many days are first added to their mailbox's allowed list, so only new devices are affected. Leave empty to keep none."
                        </p>
                        <div>
                            <label for="admin-recipients" class=LABEL>"Admin mail recipients"</label>
                            <textarea id="admin-recipients" name="admin_mail_recipients" rows="2" aria-describedby="recipients-help" class=INPUT>{recipients}</textarea>
                            <p id="recipients-help" class="mt-1 text-xs text-slate-600">"Addresses told about quarantined devices, separated by commas or new lines."</p>
                        </div>
                        <div>
                            <label for="user-insert" class=LABEL>"Text added to the user's quarantine mail"</label>
                            <textarea id="user-insert" name="user_mail_insert" rows="2" maxlength=max.clone() class=INPUT>{user}</textarea>
                        </div>
                        <div>
                            <label for="ota-insert" class=LABEL>"Text added to the notification mail"</label>
                            <textarea id="ota-insert" name="ota_notification_mail_insert" rows="2" maxlength=max class=INPUT>{ota}</textarea>
                        </div>
                        <div><button type="submit" class=BUTTON>"Preview change"</button></div>
                    </Form>
                </details>
            })}
        </section>
    }
}

#[component]
fn Rules(a: ExchangeAccess, editable: bool) -> impl IntoView {
    let rules = a.rules.clone();
    let empty = rules.is_empty();
    let suggestions = a.suggestions.clone();
    view! {
        <section aria-labelledby="rules-heading" class=CARD data-testid="access-rules">
            <h2 id="rules-heading" class="font-semibold">"Device access rules (Get-ActiveSyncDeviceAccessRule)"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "A rule matches a device whose characteristic equals its value exactly (any case, no wildcards). Exchange checks user agent rules first, then OS, model and type: the first characteristic with a matching rule decides."
            </p>
            {if empty {
                view! { <p class="mt-3 text-sm" data-testid="rules-empty">"The organization has no device access rules."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-3 overflow-x-auto">
                        <table class="min-w-full text-left text-sm">
                            <thead class="border-b border-slate-200 text-slate-600"><tr>
                                <th scope="col" class="py-2 pr-4 font-medium">"Rule"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Characteristic"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Value"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Access level"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Devices matched / decided"</th>
                                {editable.then(|| view! { <th scope="col" class="py-2 font-medium">"Change"</th> })}
                            </tr></thead>
                            <tbody class="divide-y divide-slate-100">
                                {rules.into_iter().map(|r| view! { <RuleRow r editable/> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            {editable.then(|| view! { <NewRule suggestions=suggestions.clone()/> })}
            {(!suggestions.is_empty()).then(|| view! { <Seen suggestions/> })}
        </section>
    }
}

#[component]
fn RuleRow(r: AccessRule, editable: bool) -> impl IntoView {
    let select_id = format!(
        "level-{}",
        r.identity
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let label = format!("New access level for {}", r.name);
    let (id1, id2) = (r.identity.clone(), r.identity.clone());
    let current = r.access_level.clone();
    view! {
        <tr data-testid="rule-row" data-rule=r.identity.clone()>
            <td class="py-2 pr-4">{r.name.clone()}</td>
            <td class="py-2 pr-4">{r.characteristic.clone()}</td>
            <td class="py-2 pr-4 font-mono text-xs">{r.query_string.clone()}</td>
            <td class="py-2 pr-4">{r.access_level.clone()}</td>
            <td class="py-2 pr-4 tabular-nums" data-testid="rule-matches" data-matches=r.matches.to_string() data-decides=r.decides.to_string()>
                {format!("{} / {}", r.matches, r.decides)}
            </td>
            {editable.then(|| view! {
                <td class="py-2">
                    <div class="flex flex-wrap items-center gap-2">
                        <Form method="GET" action=EXCHANGE_ACCESS attr:class="flex items-center gap-2">
                            <input type="hidden" name="change" value="ruleLevel"/>
                            <input type="hidden" name="rule" value=id1/>
                            <label for=select_id.clone() class="sr-only">{label}</label>
                            <select id=select_id name="access_level" class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">
                                {ACCESS_LEVELS.into_iter().map(|l| view! { <option value=l selected=l == current>{l}</option> }).collect_view()}
                            </select>
                            <button type="submit" class=QUIET_BUTTON>"Preview level"</button>
                        </Form>
                        <Form method="GET" action=EXCHANGE_ACCESS>
                            <input type="hidden" name="change" value="deleteRule"/>
                            <input type="hidden" name="rule" value=id2/>
                            <button type="submit" class="inline-flex items-center rounded-md bg-white px-3 py-1.5 text-sm font-semibold text-red-800 ring-1 ring-inset ring-red-300 hover:bg-red-50">"Preview delete"</button>
                        </Form>
                    </div>
                </td>
            })}
        </tr>
    }
}

#[component]
fn NewRule(suggestions: Vec<crate::model::ValueSuggestion>) -> impl IntoView {
    view! {
        <Form method="GET" action=EXCHANGE_ACCESS attr:class="mt-4 flex flex-wrap items-end gap-3 border-t border-slate-100 pt-4" attr:aria-label="New device access rule">
            <input type="hidden" name="change" value="newRule"/>
            <div class="w-44">
                <label for="rule-characteristic" class=LABEL>"Characteristic"</label>
                <select id="rule-characteristic" name="characteristic" class=INPUT>
                    {CHARACTERISTICS.into_iter().map(|c| view! { <option value=c selected=c == "DeviceModel">{c}</option> }).collect_view()}
                </select>
            </div>
            <div class="min-w-[16rem] flex-1">
                <label for="rule-value" class=LABEL>"Value"</label>
                <input id="rule-value" name="query_string" type="text" required maxlength=MAX_QUERY_STRING.to_string() list="rule-values" autocomplete="off" class=INPUT/>
                <datalist id="rule-values">
                    {suggestions.into_iter().map(|s| view! {
                        <option value=s.value.clone()>{format!("{} · {} device{}", s.characteristic, s.devices, if s.devices == 1 { "" } else { "s" })}</option>
                    }).collect_view()}
                </datalist>
            </div>
            <div class="w-40">
                <label for="rule-level" class=LABEL>"Access level"</label>
                <select id="rule-level" name="access_level" class=INPUT>
                    {ACCESS_LEVELS.into_iter().map(|l| view! { <option value=l selected=l == "Block">{l}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class=BUTTON>"Preview new rule"</button>
        </Form>
    }
}

/// The values the sync has seen, most devices first, per characteristic.
#[component]
fn Seen(suggestions: Vec<crate::model::ValueSuggestion>) -> impl IntoView {
    view! {
        <details class="mt-4">
            <summary class="cursor-pointer text-sm font-semibold text-sky-800">"Values the last sync saw"</summary>
            <div class="mt-2 grid gap-4 md:grid-cols-2">
                {CHARACTERISTICS.into_iter().filter(|c| suggestions.iter().any(|s| s.characteristic == *c)).map(|c| view! {
                    <div>
                        <h3 class="text-sm font-semibold">{c}</h3>
                        <ul class="mt-1 text-sm" data-testid="seen-values" data-characteristic=c>
                            {suggestions.iter().filter(|s| s.characteristic == c).take(10).map(|s| view! {
                                <li class="flex justify-between gap-3"><span class="break-all font-mono text-xs">{s.value.clone()}</span><span class="tabular-nums">{s.devices}</span></li>
                            }).collect_view()}
                        </ul>
                    </div>
                }).collect_view()}
            </div>
        </details>
    }
}
