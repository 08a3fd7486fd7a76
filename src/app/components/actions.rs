//! What an admin can do to a device in Exchange, on the device's page: allow, block, clear,
//! remove, wipe. Each form works without JavaScript (the page comes back with a notice); with
//! it, the page shows Exchange's answer as read back by the sync that follows.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{RunDeviceAction, ACTION_ERROR_PARAM, ACTION_NOTICE_PARAM};
use crate::app::components::alert::Alert;
use crate::app::layout::HISTORY_PATH;
use crate::app::live::PageLive;
use crate::error::ApiError;
use crate::model::{ActionOption, ActionReport, DeviceAction};

const BUTTON: &str =
    "inline-flex items-center rounded-md px-3 py-1.5 text-sm font-semibold ring-1 ring-inset";

/// The actions section of one device. The page owns `act`, so that Exchange's answer stays
/// shown when the device is read again after the change.
#[component]
pub fn DeviceActions(
    guid: String,
    options: Vec<ActionOption>,
    act: ServerAction<RunDeviceAction>,
) -> impl IntoView {
    let params = use_query_map();
    // A plain form post came back: how it ended.
    let notice = move || {
        params.with(|p| match p.get(ACTION_NOTICE_PARAM).as_deref() {
            Some("done") => Some(Ok(())),
            Some("failed") => Some(Err(p.get(ACTION_ERROR_PARAM).unwrap_or_default())),
            _ => None,
        })
    };
    let (plain, risky): (Vec<ActionOption>, Vec<ActionOption>) = options
        .into_iter()
        .partition(|o| o.action.confirmation_word().is_none());
    let plain = plain
        .into_iter()
        .map(|o| view! { <PlainAction option=o guid=guid.clone() act/> })
        .collect_view();
    let risky = risky
        .into_iter()
        .map(|o| view! { <ConfirmedAction option=o guid=guid.clone() act/> })
        .collect_view();
    view! {
        <section aria-labelledby="actions-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="device-actions">
            <h2 id="actions-heading" class="font-semibold">"Exchange actions"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Changes are made in Exchange Online, recorded in the audit log, then read back from Exchange: the page shows what Exchange says afterwards."
            </p>
            <div class="mt-3 flex flex-wrap items-start gap-3">{plain}</div>
            <div class="mt-3 space-y-2">{risky}</div>
            <ChangeOutcome
                pending=Signal::derive(move || act.pending().get())
                value=Signal::derive(move || act.value().get())
                notice=Signal::derive(notice)
            />
        </section>
    }
}

/// The hidden fields every action form carries.
fn hidden(guid: &str, action: DeviceAction) -> impl IntoView {
    view! {
        <input type="hidden" name="devices" value=guid.to_owned()/>
        <input type="hidden" name="action" value=action.as_str()/>
    }
}

/// An action without confirmation: one button, or the disabled button and why.
#[component]
fn PlainAction(
    option: ActionOption,
    guid: String,
    act: ServerAction<RunDeviceAction>,
) -> impl IntoView {
    let a = option.action;
    let reason_id = format!("why-not-{}", a.as_str());
    let class = format!("{BUTTON} bg-white text-slate-800 ring-slate-300 hover:bg-slate-50 disabled:cursor-not-allowed disabled:text-slate-500 disabled:ring-slate-200");
    match option.disabled {
        Some(why) => view! {
            <div class="max-w-xs">
                <button type="button" class=class disabled=true aria-describedby=reason_id.clone() data-action=a.as_str()>{a.label()}</button>
                <p id=reason_id class="mt-1 text-xs text-slate-600">{why}</p>
            </div>
        }
        .into_any(),
        None => view! {
            <ActionForm action=act attr:class="max-w-xs">
                {hidden(&guid, a)}
                <button type="submit" class=class title=a.explanation() data-action=a.as_str() disabled=move || act.pending().get()>{a.label()}</button>
            </ActionForm>
        }
        .into_any(),
    }
}

/// A destructive action: what happens, and the word to type before it is sent.
#[component]
fn ConfirmedAction(
    option: ActionOption,
    guid: String,
    act: ServerAction<RunDeviceAction>,
) -> impl IntoView {
    let a = option.action;
    let word = a.confirmation_word().unwrap_or_default();
    let input_id = format!("confirm-{}", a.as_str());
    let label_for = input_id.clone();
    let summary = format!(
        "{BUTTON} cursor-pointer list-none bg-white text-red-800 ring-red-300 hover:bg-red-50"
    );
    match option.disabled {
        Some(why) => view! {
            <div data-action=a.as_str()>
                <span class=format!("{BUTTON} bg-white text-slate-500 ring-slate-200")>{a.label()}</span>
                <span class="ml-2 text-xs text-slate-600">{why}</span>
            </div>
        }
        .into_any(),
        None => view! {
            <details data-action=a.as_str()>
                <summary class=summary>{format!("{}…", a.label())}</summary>
                <div class="mt-2 max-w-xl rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-950">
                    <p>{a.explanation()}</p>
                    <ActionForm action=act attr:class="mt-2 flex flex-wrap items-end gap-2">
                        {hidden(&guid, a)}
                        <label for=label_for class="text-sm">
                            {format!("Type {word} to confirm")}
                            <input id=input_id type="text" name="confirmation" required autocomplete="off" spellcheck="false" class="mt-1 block w-40 rounded-md border border-red-300 bg-white px-2 py-1 font-mono text-sm"/>
                        </label>
                        <button type="submit" class=format!("{BUTTON} bg-red-700 text-white ring-red-700 hover:bg-red-800") disabled=move || act.pending().get()>{a.label()}</button>
                    </ActionForm>
                </div>
            </details>
        }
        .into_any(),
    }
}

/// How the last change went: working, Exchange's answer (`value`, from the page's action), or
/// the notice a plain form post came back with (`notice`: done, or failed with the reason).
#[component]
pub fn ChangeOutcome(
    pending: Signal<bool>,
    value: Signal<Option<Result<ActionReport, ApiError>>>,
    notice: Signal<Option<Result<(), String>>>,
) -> impl IntoView {
    view! {
        <div aria-live="polite">
            {move || pending.get().then(|| view! {
                <p class="mt-3 text-sm text-slate-700" data-testid="action-pending">
                    "Working: Exchange is making the change, then the connector reads it back…"
                </p>
                <ChangesUnderWay/>
            })}
            {move || match value.get() {
                Some(Ok(report)) => view! { <Report report/> }.into_any(),
                Some(Err(e)) => view! { <Alert title="Nothing was changed" message=e.to_string()/> }.into_any(),
                None => match notice.get() {
                    Some(Ok(())) => view! {
                        <p class="mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900" data-testid="action-report">
                            "Exchange made the change; the page shows what it says now."
                        </p>
                    }.into_any(),
                    Some(Err(reason)) => view! { <Alert title="Nothing was changed" message=reason/> }.into_any(),
                    None => ().into_any(),
                },
            }}
        </div>
    }
}

/// The Exchange changes under way on the server (the page's live status): each with its calls
/// answered so far, then its read-back.
#[component]
fn ChangesUnderWay() -> impl IntoView {
    let live = use_context::<PageLive>();
    let changes = move || {
        live.and_then(|PageLive(l)| l.with(|l| l.as_ref().map(|l| l.changes.clone())))
            .unwrap_or_default()
    };
    move || {
        changes()
            .into_iter()
            .map(|c| {
                let answered = c.calls_done + c.calls_failed;
                let state = if c.reading_back {
                    "every call answered; reading the change back from Exchange".to_owned()
                } else {
                    format!("{answered} of {} Exchange calls answered", c.calls_total)
                };
                let failed = (c.calls_failed > 0).then(|| format!(", {} refused", c.calls_failed));
                let by = c.by.map(|b| format!(" (by {b})")).unwrap_or_default();
                view! {
                    <div class="mt-2 text-sm" data-testid="change-progress" data-done=c.calls_done.to_string()
                        data-failed=c.calls_failed.to_string() data-total=c.calls_total.to_string()>
                        <p>
                            <span class="font-medium">{c.what}</span>{by}": "{state}{failed}
                        </p>
                        <progress class="mt-1 h-2 w-64 max-w-full" max=c.calls_total.to_string() value=answered.to_string()
                            aria-label="Exchange calls answered"></progress>
                    </div>
                }
            })
            .collect_view()
    }
}

/// Exchange's answer to an action or a change.
#[component]
pub fn Report(report: ActionReport) -> impl IntoView {
    let calls = |n: u32| {
        if n == 1 {
            "1 call".to_owned()
        } else {
            format!("{n} calls")
        }
    };
    let ok = report.calls_failed == 0 && report.differences.is_empty();
    let class = if ok {
        "mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-950"
    } else {
        "mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950"
    };
    view! {
        <div class=class data-testid="action-report" data-ok=ok.to_string()>
            <p class="font-semibold">
                {match (report.calls_done, report.calls_failed) {
                    (done, 0) => format!("Exchange made the change ({}).", calls(done)),
                    (0, failed) => format!("Exchange refused the change ({}).", calls(failed)),
                    (done, failed) => format!("Exchange made {} and refused {}.", calls(done), calls(failed)),
                }}
            </p>
            {report.read_back_run.map(|id| view! {
                <p class="mt-1">
                    "Read back from Exchange by "
                    <a class="underline" href=format!("{HISTORY_PATH}/{id}")>"a quick sync"</a>
                    "."
                </p>
            })}
            {(!report.differences.is_empty()).then(|| view! {
                <p class="mt-2 font-semibold">"Exchange's answer differs from what was asked:"</p>
                <ul class="mt-1 list-disc pl-5" data-testid="action-differences">
                    {report.differences.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                </ul>
            })}
            {(!report.failures.is_empty()).then(|| view! {
                <ul class="mt-2 list-disc pl-5 text-red-900" data-testid="action-failures">
                    {report.failures.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
                </ul>
            })}
            {report.notes.into_iter().map(|n| view! { <p class="mt-1">{n}</p> }).collect_view()}
        </div>
    }
}
