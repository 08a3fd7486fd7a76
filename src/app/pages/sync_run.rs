//! One sync run's details: everything the ledger keeps about it, including the API calls per
//! cmdlet, retries, throttling, warnings and, for a failure, the error and its request-id.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::get_sync_run;
use crate::app::components::alert::Alert;
use crate::app::components::icons::XCircleIcon;
use crate::app::components::sync::RunStatusBadge;
use crate::app::components::time::LocalTime;
use crate::app::format::{
    format_duration_ms, group_thousands, sync_kind_label, sync_trigger_label,
};
use crate::app::layout::{Frame, CONNECTOR_PATH, HISTORY_PATH};
use crate::app::live::use_ledger_version;
use crate::model::SyncRun;

#[component]
pub fn SyncRunPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let ledger = use_ledger_version();
    let run = Resource::new(move || (id.get(), ledger.get()), |(id, _)| get_sync_run(id));
    view! {
        <Title text="Sync run"/>
        <Frame
            title="Sync run"
            parents=&[("Exchange service connector", CONNECTOR_PATH), ("Sync history", HISTORY_PATH)]
        >
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the run…"</p> }>
                {move || Suspend::new(async move {
                    match run.await {
                        Ok(Some(run)) => view! { <RunDetails run/> }.into_any(),
                        Ok(None) => view! { <NoSuchRun/> }.into_any(),
                        Err(e) => view! { <Alert title="The run could not be loaded" message=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

#[component]
fn NoSuchRun() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1 class="mt-4 text-2xl font-semibold">"No such sync run"</h1>
        <p class="mt-2 text-slate-600">
            "The ledger has no run with this id. "
            <a class="text-sky-700 underline" href=HISTORY_PATH>"Back to the sync history"</a>
        </p>
    }
}

#[component]
fn RunDetails(run: SyncRun) -> impl IntoView {
    let duration = run
        .duration_ms
        .map(format_duration_ms)
        .unwrap_or_else(|| "Not finished".into());
    let trigger = match &run.triggered_by {
        Some(by) => format!("{} by {by}", sync_trigger_label(run.trigger)),
        None => sync_trigger_label(run.trigger).to_owned(),
    };
    let failure = run.error_message.clone().map(|message| {
        let title = match &run.error_code {
            Some(code) => format!("Error {code}"),
            None => "Error".to_owned(),
        };
        (title, message, run.error_request_id.clone())
    });
    let count = group_thousands;
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold">{sync_kind_label(run.kind)} " run"</h1>
            <RunStatusBadge status=run.status/>
        </div>
        {failure.map(|(title, message, request_id)| view! {
            <div role="alert" class="mt-4 flex gap-3 rounded-md border border-red-200 bg-red-50 p-4 text-red-900">
                <XCircleIcon class="mt-0.5 h-5 w-5 shrink-0 text-red-600"/>
                <div>
                    <p class="font-semibold" data-testid="run-error-code">{title}</p>
                    <p class="mt-1 text-sm" data-testid="run-error">{message}</p>
                    {request_id.map(|r| view! {
                        <p class="mt-1 text-xs">"Request ID: " <span class="font-mono" data-testid="run-request-id">{r}</span></p>
                    })}
                </div>
            </div>
        })}
        <div class="mt-4 grid gap-4 lg:grid-cols-2">
            <section aria-labelledby="run-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="run-heading" class="font-semibold">"Run"</h2>
                <dl class="mt-3 grid grid-cols-[10rem_1fr] gap-x-4 gap-y-2 text-sm">
                    <dt class="text-slate-500">"Run ID"</dt>
                    <dd class="font-mono break-all">{run.id.clone()}</dd>
                    <dt class="text-slate-500">"Kind"</dt>
                    <dd>{sync_kind_label(run.kind)}</dd>
                    <dt class="text-slate-500">"Trigger"</dt>
                    <dd>{trigger}</dd>
                    <dt class="text-slate-500">"Started"</dt>
                    <dd><LocalTime at=run.started_at/></dd>
                    <dt class="text-slate-500">"Finished"</dt>
                    <dd>{match run.finished_at {
                        Some(at) => view! { <LocalTime at/> }.into_any(),
                        None => view! { "Not finished" }.into_any(),
                    }}</dd>
                    <dt class="text-slate-500">"Duration"</dt>
                    <dd>{duration}</dd>
                </dl>
            </section>
            <section aria-labelledby="numbers-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="numbers-heading" class="font-semibold">"Devices and requests"</h2>
                <dl class="mt-3 grid grid-cols-[10rem_1fr] gap-x-4 gap-y-2 text-sm">
                    <dt class="text-slate-500">"Devices seen"</dt>
                    <dd class="tabular-nums">{count(run.devices_seen)}</dd>
                    <dt class="text-slate-500">"Added"</dt>
                    <dd class="tabular-nums">{count(run.devices_added)}</dd>
                    <dt class="text-slate-500">"Changed"</dt>
                    <dd class="tabular-nums">{count(run.devices_changed)}</dd>
                    <dt class="text-slate-500">"Removed"</dt>
                    <dd class="tabular-nums">{count(run.devices_removed)}</dd>
                    <dt class="text-slate-500">"Mailboxes queried"</dt>
                    <dd class="tabular-nums">{count(run.mailboxes_queried)}</dd>
                    <dt class="text-slate-500">"API calls"</dt>
                    <dd class="tabular-nums">{count(run.api_calls)}</dd>
                    <dt class="text-slate-500">"Retries"</dt>
                    <dd class="tabular-nums">{count(run.retries)}</dd>
                    <dt class="text-slate-500">"Waiting on throttling"</dt>
                    <dd>{format_duration_ms(run.throttle_wait_ms)}</dd>
                </dl>
            </section>
        </div>
        <section aria-labelledby="cmdlets-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="cmdlets-heading" class="font-semibold">"API calls by cmdlet"</h2>
            {if run.api_calls_by_cmdlet.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"No API calls were recorded."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-2 text-sm">
                        <thead>
                            <tr>
                                <th scope="col" class="py-1 pr-6 text-left font-medium text-slate-500">"Cmdlet"</th>
                                <th scope="col" class="py-1 text-right font-medium text-slate-500">"Calls"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {run.api_calls_by_cmdlet.iter().map(|c| view! {
                                <tr>
                                    <td class="py-1 pr-6 font-mono text-xs">{c.cmdlet.clone()}</td>
                                    <td class="py-1 text-right tabular-nums">{group_thousands(c.calls)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="warnings-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="warnings-heading" class="font-semibold">"Warnings"</h2>
            {if run.warnings.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-amber-900">
                        {run.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <p class="mt-4 text-sm"><a href=HISTORY_PATH class="text-sky-700 underline hover:text-sky-900">"Back to the sync history"</a></p>
    }
}
