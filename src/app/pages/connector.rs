//! "Conditional access – Exchange service connector": set-up, connection status, server
//! information, last successful sync and devices found.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{get_connector_overview, SetUpConnector};
use crate::app::components::icons::{SpinnerIcon, XCircleIcon};
use crate::app::components::status::StatusBadge;
use crate::app::components::time::{use_ticking_now, LocalTime};
use crate::app::format::{access_state_label, device_count_label, relative_age};
use crate::app::layout::Frame;
use crate::error::ApiError;
use crate::model::{ConnectionStatus, ConnectorInfo, ConnectorOverview, REQUIRED_CMDLETS};

#[component]
pub fn ConnectorPage() -> impl IntoView {
    let set_up = ServerAction::<SetUpConnector>::new();
    // Read again whenever a set-up finishes, whatever its outcome.
    let overview = Resource::new(move || set_up.version().get(), |_| get_connector_overview());

    view! {
        <Title text="Exchange service connector"/>
        <Frame title="Exchange service connector">
            <div class="mt-2 flex flex-wrap items-end justify-between gap-2">
                <div>
                    <p class="text-sm text-slate-500">"Conditional access"</p>
                    <h1 class="text-2xl font-semibold">"Exchange service connector"</h1>
                </div>
            </div>
            <SetUpError set_up/>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the connector…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(data) => view! { <Overview data set_up/> }.into_any(),
                        Err(e) => view! { <Alert title="The connector could not be loaded" message=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// The outcome of the last set-up attempt in this page, when it failed.
#[component]
fn SetUpError(set_up: ServerAction<SetUpConnector>) -> impl IntoView {
    move || {
        let failure: Option<ApiError> = set_up.value().get().and_then(Result::err);
        failure.map(|e| view! { <Alert title="Set-up failed" message=e.to_string()/> })
    }
}

#[component]
fn Alert(title: &'static str, message: String) -> impl IntoView {
    view! {
        <div role="alert" class="mt-4 flex gap-3 rounded-md border border-red-200 bg-red-50 p-4 text-red-900">
            <XCircleIcon class="mt-0.5 h-5 w-5 shrink-0 text-red-600"/>
            <div>
                <p class="font-semibold">{title}</p>
                <p class="mt-1 text-sm">{message}</p>
            </div>
        </div>
    }
}

#[component]
fn Overview(data: ConnectorOverview, set_up: ServerAction<SetUpConnector>) -> impl IntoView {
    let now = use_ticking_now(data.now);
    match data.connector {
        None => view! { <Requirements endpoint=data.endpoint simulated=data.simulated set_up/> }
            .into_any(),
        Some(connector) => view! { <ConnectorDetails connector now set_up/> }.into_any(),
    }
}

/// Before set-up: what the connector needs, and the button.
#[component]
fn Requirements(
    endpoint: String,
    simulated: bool,
    set_up: ServerAction<SetUpConnector>,
) -> impl IntoView {
    view! {
        <section aria-labelledby="setup-heading" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <div class="flex flex-wrap items-center gap-3">
                <h2 id="setup-heading" class="text-lg font-semibold">"Exchange Service to Service Connector"</h2>
                <StatusBadge status=ConnectionStatus::None/>
            </div>
            <p class="mt-2 max-w-3xl text-sm text-slate-600">
                "The connector links this server to Exchange Online so that it can read your "
                "Exchange ActiveSync devices and their access states, and keep them in sync."
            </p>
            <h3 class="mt-6 font-semibold">"Requirements"</h3>
            <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-slate-700">
                <li>"Exchange Online is running in your Microsoft 365 organization."</li>
                <li>
                    "The account the connector uses is allowed to run these "
                    {REQUIRED_CMDLETS.len()}
                    " cmdlets:"
                </li>
            </ul>
            <ul aria-label="Required cmdlets" class="mt-3 grid gap-1.5 sm:grid-cols-2 lg:grid-cols-3">
                {REQUIRED_CMDLETS
                    .iter()
                    .map(|c| view! { <li class="rounded bg-slate-100 px-2 py-1 font-mono text-xs text-slate-800">{*c}</li> })
                    .collect_view()}
            </ul>
            <p class="mt-4 text-sm text-slate-600">
                "Exchange endpoint: " <span class="font-mono break-all">{endpoint}</span>
                {simulated.then(|| view! {
                    <span class="ml-1 rounded bg-sky-50 px-1.5 py-0.5 text-xs font-medium text-sky-800">
                        "demo tenant (built-in simulator)"
                    </span>
                })}
            </p>
            <SetUpButton set_up label="Set Up Service to Service Connector"/>
        </section>
    }
}

/// The set-up form: works as a plain form post without JavaScript, and in place once hydrated.
#[component]
fn SetUpButton(set_up: ServerAction<SetUpConnector>, label: &'static str) -> impl IntoView {
    let pending = set_up.pending();
    view! {
        <ActionForm action=set_up attr:class="mt-6">
            <button
                type="submit"
                disabled=move || pending.get()
                class="inline-flex items-center gap-2 rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2 disabled:cursor-wait disabled:opacity-70"
            >
                {move || pending.get().then(|| view! { <SpinnerIcon class="h-4 w-4"/> })}
                {label}
            </button>
            <p class="mt-2 text-sm text-slate-600" aria-live="polite">
                {move || pending.get().then_some("Connecting to Exchange Online and reading devices…")}
            </p>
        </ActionForm>
    }
}

/// After set-up: status, last sync, devices, server information.
#[component]
fn ConnectorDetails(
    connector: ConnectorInfo,
    now: ReadSignal<chrono::DateTime<chrono::Utc>>,
    set_up: ServerAction<SetUpConnector>,
) -> impl IntoView {
    let pending = set_up.pending();
    let stored = connector.status;
    let status = Signal::derive(move || {
        if pending.get() {
            ConnectionStatus::ConnectionPending
        } else {
            stored
        }
    });
    let last_sync = connector.last_sync_at;
    let reason = connector.status_reason.clone();
    let retry = connector.status != ConnectionStatus::Connected;
    let organization = connector
        .organization
        .clone()
        .unwrap_or_else(|| "Not known yet".into());

    view! {
        <div class="mt-6 grid gap-4 md:grid-cols-3">
            <section aria-labelledby="status-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="status-heading" class="text-sm font-medium text-slate-500">"Connection status"</h2>
                <div class="mt-3"><StatusBadge status/></div>
                {reason.map(|r| view! { <p class="mt-3 text-sm text-red-800" data-testid="status-reason">{r}</p> })}
            </section>
            <section aria-labelledby="sync-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="sync-heading" class="text-sm font-medium text-slate-500">"Last successful sync"</h2>
                <div class="mt-3" data-testid="last-sync">
                    {match last_sync {
                        Some(at) => view! {
                            <p class="text-lg font-semibold"><LocalTime at/></p>
                            <p class="text-sm text-slate-600">{move || relative_age(at, now.get())}</p>
                        }.into_any(),
                        None => view! { <p class="text-lg font-semibold">"Never"</p> }.into_any(),
                    }}
                </div>
            </section>
            <section aria-labelledby="devices-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="devices-heading" class="text-sm font-medium text-slate-500">"Devices found"</h2>
                <p class="mt-3 text-3xl font-semibold" data-testid="device-count">{connector.device_count}</p>
                <p class="text-sm text-slate-600">
                    {device_count_label(connector.device_count)} " with Exchange ActiveSync partnerships"
                </p>
                <ul aria-label="Devices by access state" class="mt-3 flex flex-wrap gap-1.5">
                    {connector
                        .device_states
                        .into_iter()
                        .map(|s| view! {
                            <li class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700">
                                {access_state_label(&s.state).to_owned()} " " <span class="font-semibold">{s.count}</span>
                            </li>
                        })
                        .collect_view()}
                </ul>
            </section>
        </div>
        {retry.then(|| view! {
            <section class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <p class="text-sm text-slate-700">
                    "The connector is not connected. Fix the cause above, then try again."
                </p>
                <SetUpButton set_up label="Try again"/>
            </section>
        })}
        <section aria-labelledby="server-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="server-heading" class="font-semibold">"Exchange Connector Server information"</h2>
            <dl class="mt-3 grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                <dt class="text-slate-500">"Exchange endpoint"</dt>
                <dd class="font-mono break-all">{connector.endpoint}</dd>
                <dt class="text-slate-500">"Exchange organization"</dt>
                <dd>{organization}</dd>
                <dt class="text-slate-500">"Tenant"</dt>
                <dd class="font-mono break-all">{connector.tenant_id}</dd>
                <dt class="text-slate-500">"Account used"</dt>
                <dd class="break-all">{connector.account}</dd>
                <dt class="text-slate-500">"Connector type"</dt>
                <dd class="font-mono">{connector.connector_type}</dd>
                <dt class="text-slate-500">"Set up at"</dt>
                <dd><LocalTime at=connector.set_up_at/></dd>
            </dl>
        </section>
    }
}
