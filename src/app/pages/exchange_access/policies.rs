//! Mobile device mailbox policies on the Exchange access page: the list, and one policy's
//! settings (a form for admins: create, change, make default, delete). Each value is checked by
//! the server against Exchange's range; a refused one is shown at its field in Exchange's words.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::ChangeMailboxPolicy;
use crate::app::paths::EXCHANGE_ACCESS;
use crate::error::ApiError;
use crate::model::{
    MailboxPolicyInfo, PolicySetting, SettingGroup, SettingKind, MAX_POLICY_NAME, NEW_POLICY,
    POLICY_PARAM, POLICY_SETTINGS,
};

use super::{BUTTON, CARD, INPUT, LABEL, QUIET_BUTTON};

/// The address that opens `identity`'s settings.
fn open_href(identity: &str) -> String {
    format!(
        "{EXCHANGE_ACCESS}?{POLICY_PARAM}={}#policy-form",
        crate::app::query::escape(identity)
    )
}

/// The values a refused plain post typed (its `settings[Key]` and `name`), by setting key and
/// `name`.
pub fn typed_policy(get: impl Fn(&str) -> Option<String>) -> BTreeMap<String, String> {
    POLICY_SETTINGS
        .iter()
        .filter_map(|s| get(&format!("settings[{}]", s.key)).map(|v| (s.key.to_owned(), v)))
        .chain(get("name").map(|n| ("name".to_owned(), n)))
        .collect()
}

/// A setting's value as the list shows it.
fn shown(p: &MailboxPolicyInfo, key: &str) -> String {
    match p.settings.get(key).map(String::as_str) {
        None => "—".into(),
        Some("") => "Not set".into(),
        Some("true") => "Yes".into(),
        Some("false") => "No".into(),
        Some(v) => v.to_owned(),
    }
}

/// The policies section. `open` is the policy whose settings are shown (an identity, or
/// [`NEW_POLICY`]); `failed_field` the field a plain form post's error was about.
#[component]
pub fn Policies(
    policies: Vec<MailboxPolicyInfo>,
    editable: bool,
    open: Option<String>,
    action: ServerAction<ChangeMailboxPolicy>,
    failed: Option<(String, String)>,
    typed: BTreeMap<String, String>,
) -> impl IntoView {
    let chosen = open.as_deref().and_then(|id| {
        policies
            .iter()
            .find(|p| p.identity == id || p.name.eq_ignore_ascii_case(id))
            .cloned()
    });
    let creating = editable && open.as_deref() == Some(NEW_POLICY);
    let default_name = policies
        .iter()
        .find(|p| p.is_default)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "Default".into());
    let rows = policies.clone();
    view! {
        <section id="policies" aria-labelledby="policies-heading" class=CARD data-testid="access-policies">
            <h2 id="policies-heading" class="font-semibold">"Mobile device mailbox policies (Get-MobileDeviceMailboxPolicy)"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "A policy sets the password, encryption and device rules a mailbox's devices must apply. Mailboxes without a policy of their own get the default one. Devices apply a change at their next policy refresh; a device that cannot comply may be blocked (reason: Policy)."
            </p>
            {if rows.is_empty() {
                view! { <p class="mt-3 text-sm" data-testid="policies-empty">"No sync has read the mailbox policies yet."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-3 overflow-x-auto">
                        <table class="min-w-full text-left text-sm">
                            <thead class="border-b border-slate-200 text-slate-600"><tr>
                                <th scope="col" class="py-2 pr-4 font-medium">"Policy"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Password"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Minimum length"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Failed attempts"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Lock after"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Encryption"</th>
                                <th scope="col" class="py-2 pr-4 font-medium">"Devices"</th>
                                <th scope="col" class="py-2 font-medium"><span class="sr-only">"Settings"</span></th>
                            </tr></thead>
                            <tbody class="divide-y divide-slate-100">
                                {rows.into_iter().map(|p| view! {
                                    <tr data-testid="policy-row" data-policy=p.name.clone()>
                                        <td class="py-2 pr-4">
                                            {p.name.clone()}
                                            {p.is_default.then(|| view! { <span class="ml-2 rounded bg-sky-100 px-1.5 py-0.5 text-xs font-semibold text-sky-900" data-testid="policy-default">"Default"</span> })}
                                        </td>
                                        <td class="py-2 pr-4">{if shown(&p, "PasswordEnabled") == "Yes" { "Required" } else { "Not required" }}</td>
                                        <td class="py-2 pr-4" data-testid="policy-min-length">{shown(&p, "MinPasswordLength")}</td>
                                        <td class="py-2 pr-4">{shown(&p, "MaxPasswordFailedAttempts")}</td>
                                        <td class="py-2 pr-4" data-testid="policy-lock">{shown(&p, "MaxInactivityTimeLock")}</td>
                                        <td class="py-2 pr-4">{if shown(&p, "RequireDeviceEncryption") == "Yes" { "Required" } else { "Not required" }}</td>
                                        <td class="py-2 pr-4 tabular-nums">{p.devices}</td>
                                        <td class="py-2">
                                            <a class="text-sky-800 underline" href=open_href(&p.identity)>
                                                {if editable { "Edit" } else { "Settings" }}
                                                <span class="sr-only">{format!(" of {}", p.name)}</span>
                                            </a>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            {(editable && !creating).then(|| view! {
                <p class="mt-3"><a class=QUIET_BUTTON href=open_href(NEW_POLICY)>"New policy"</a></p>
            })}
            {match (chosen, creating) {
                (Some(p), _) => view! { <PolicyEditor policy=Some(p) editable action failed=failed.clone() typed=typed.clone() default_name/> }.into_any(),
                (None, true) => view! { <PolicyEditor policy=None editable action failed=failed.clone() typed=typed.clone() default_name/> }.into_any(),
                (None, false) => open.map(|_| view! {
                    <p class="mt-3 text-sm" role="status">"The connector knows no such policy: it may have been removed in Exchange."</p>
                }).into_any(),
            }}
        </section>
    }
}

/// The error of the last post, when it was about `key`: the action's (with JavaScript) or the
/// plain post's (`failed`: its field and reason).
fn field_error(
    action: ServerAction<ChangeMailboxPolicy>,
    failed: Option<(String, String)>,
    key: &'static str,
) -> impl Fn() -> Option<String> + Clone + Send + Sync + 'static {
    let plain = failed.filter(|(f, _)| f == key).map(|(_, reason)| reason);
    move || match action.value().get() {
        Some(Err(ApiError::Invalid { field, message })) if field == key => Some(message),
        Some(_) => None,
        None => plain.clone(),
    }
}

/// One policy's settings: a form for admins (`policy` `None`: a new one), a list for readers.
#[component]
fn PolicyEditor(
    policy: Option<MailboxPolicyInfo>,
    editable: bool,
    action: ServerAction<ChangeMailboxPolicy>,
    failed: Option<(String, String)>,
    typed: BTreeMap<String, String>,
    default_name: String,
) -> impl IntoView {
    let identity = policy
        .as_ref()
        .map(|p| p.identity.clone())
        .unwrap_or_else(|| NEW_POLICY.into());
    let title = policy
        .as_ref()
        .map(|p| format!("Policy {}", p.name))
        .unwrap_or_else(|| "New mobile device mailbox policy".into());
    let typed_name = typed.get("name").cloned().unwrap_or_default();
    let value_of = {
        let policy = policy.clone();
        move |s: &PolicySetting| match (typed.get(s.key), &policy) {
            (Some(v), _) => v.clone(),
            (None, Some(p)) => p.settings.get(s.key).cloned().unwrap_or_default(),
            (None, None) => s.new_default.to_owned(),
        }
    };
    if !editable {
        return view! {
            <div id="policy-form" class="mt-4 border-t border-slate-100 pt-4" data-testid="policy-settings">
                <h3 class="font-semibold">{title}</h3>
                <dl class="mt-2 divide-y divide-slate-100 text-sm">
                    {POLICY_SETTINGS.iter().map(|s| {
                        let v = value_of(s);
                        view! {
                            <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
                                <dt class="text-slate-600 sm:col-span-3">{s.label}</dt>
                                <dd class="sm:col-span-2">{match v.as_str() { "" => "Not set".to_owned(), "true" => "Yes".into(), "false" => "No".into(), other => other.to_owned() }}</dd>
                            </div>
                        }
                    }).collect_view()}
                </dl>
            </div>
        }
        .into_any();
    }
    let existing = policy.clone();
    let fallback = default_name.clone();
    let name_error = field_error(action, failed.clone(), "name");
    let name_invalid = name_error.clone();
    view! {
        <div id="policy-form" class="mt-4 border-t border-slate-100 pt-4" data-testid="policy-form">
            <h3 class="font-semibold">{title.clone()}</h3>
            {existing.as_ref().map(|p| view! {
                <p class="mt-1 text-sm text-slate-600" data-testid="policy-devices">
                    {match p.devices {
                        0 => "No stored device reports this policy applied.".to_owned(),
                        1 => "1 stored device reports this policy applied; it applies a change at its next policy refresh.".to_owned(),
                        n => format!("{n} stored devices report this policy applied; they apply a change at their next policy refresh."),
                    }}
                </p>
            })}
            <ActionForm action=action attr:class="mt-3 grid gap-4" attr:aria-label=title.clone()>
                <input type="hidden" name="change" value="save"/>
                <input type="hidden" name="policy" value=identity.clone()/>
                {policy.is_none().then(|| view! {
                    <div class="grid gap-3 sm:grid-cols-2">
                        <div>
                            <label for="policy-name" class=LABEL>"Name"</label>
                            <input id="policy-name" name="name" type="text" value=typed_name.clone() required maxlength=MAX_POLICY_NAME.to_string() autocomplete="off" class=INPUT
                                aria-invalid=move || name_invalid().is_some().to_string() aria-describedby="policy-name-error"/>
                            <p id="policy-name-error" class="mt-1 text-xs text-red-800" data-testid="field-error">{name_error}</p>
                        </div>
                        <label class="flex items-center gap-2 self-end text-sm">
                            <input type="checkbox" name="make_default" value="on"/>
                            {format!("Make it the default policy (instead of {})", default_name.clone())}
                        </label>
                    </div>
                })}
                {SettingGroup::ALL.into_iter().map(|g| view! {
                    <fieldset class="rounded-md border border-slate-200 p-3">
                        <legend class="px-1 text-sm font-semibold">{g.title()}</legend>
                        <div class="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
                            {POLICY_SETTINGS.iter().filter(|s| s.group == g).map(|s| {
                                let value = value_of(s);
                                view! { <SettingField setting=*s value action failed=failed.clone()/> }
                            }).collect_view()}
                        </div>
                    </fieldset>
                }).collect_view()}
                <div class="flex flex-wrap items-center gap-3">
                    <button type="submit" class=BUTTON disabled=move || action.pending().get()>
                        {if policy.is_some() { "Save in Exchange" } else { "Create in Exchange" }}
                    </button>
                    <a href=format!("{EXCHANGE_ACCESS}#policies") class=QUIET_BUTTON>"Cancel"</a>
                </div>
            </ActionForm>
            {existing.filter(|p| !p.is_default).map(|p| {
                let (id1, id2) = (p.identity.clone(), p.identity.clone());
                view! {
                    <div class="mt-4 flex flex-wrap items-start gap-4 border-t border-slate-100 pt-4">
                        <ActionForm action=action>
                            <input type="hidden" name="change" value="makeDefault"/>
                            <input type="hidden" name="policy" value=id1/>
                            <button type="submit" class=QUIET_BUTTON disabled=move || action.pending().get()>"Make this the default policy"</button>
                        </ActionForm>
                        <ActionForm action=action attr:class="max-w-md">
                            <input type="hidden" name="change" value="delete"/>
                            <input type="hidden" name="policy" value=id2/>
                            <button type="submit" class="inline-flex items-center rounded-md bg-white px-3 py-1.5 text-sm font-semibold text-red-800 ring-1 ring-inset ring-red-300 hover:bg-red-50" disabled=move || action.pending().get()>"Delete this policy"</button>
                            <p class="mt-1 text-xs text-slate-600">{format!("Mailboxes assigned {} get the default policy ({fallback}) instead.", p.name)}</p>
                        </ActionForm>
                    </div>
                }
            })}
        </div>
    }
    .into_any()
}

/// One setting's input, its valid values and its error.
#[component]
fn SettingField(
    setting: PolicySetting,
    value: String,
    action: ServerAction<ChangeMailboxPolicy>,
    failed: Option<(String, String)>,
) -> impl IntoView {
    let id = format!("setting-{}", setting.key);
    let name = format!("settings[{}]", setting.key);
    let hint_id = format!("{id}-hint");
    let error = field_error(action, failed, setting.key);
    let invalid = error.clone();
    let input = match setting.kind {
        SettingKind::Flag => view! {
            <select id=id.clone() name=name class=INPUT aria-describedby=hint_id.clone()>
                <option value="true" selected=value == "true">"Yes"</option>
                <option value="false" selected=value == "false">"No"</option>
            </select>
        }
        .into_any(),
        SettingKind::Choice(names) => view! {
            <select id=id.clone() name=name class=INPUT aria-describedby=hint_id.clone()>
                {names.iter().map(|n| view! { <option value=*n selected=value == *n>{*n}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        SettingKind::Whole { .. } | SettingKind::Span { .. } => view! {
            <input id=id.clone() name=name type="text" value=value autocomplete="off" spellcheck="false" class=INPUT
                aria-describedby=hint_id.clone() aria-invalid=move || invalid().is_some().to_string()/>
        }
        .into_any(),
    };
    let hint = setting.hint();
    view! {
        <div data-testid="policy-setting" data-setting=setting.key>
            <label for=id class=LABEL>{setting.label}</label>
            {input}
            <p id=hint_id class="mt-1 text-xs text-slate-600">
                {hint}
                {move || error().map(|e| view! { <span class="block font-medium text-red-800" data-testid="field-error">{e}</span> })}
            </p>
        </div>
    }
}
