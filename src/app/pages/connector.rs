//! "Conditional access – Exchange service connector": set-up, connection status and health,
//! Quick/Full sync with live progress, server information, last successful sync and devices.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{
    get_live_status, get_set_up_info, RemoveConnector, SetUpConnector, StartSync, SYNC_NOTICE_PARAM,
};
use crate::app::components::alert::Alert;
use crate::app::components::icons::{SpinnerIcon, XCircleIcon};
use crate::app::components::setup::{Checklist, ConsentLink, IdentityNote, RemoveConnectorForm};
use crate::app::components::status::StatusBadge;
use crate::app::components::sync::{FirstSyncBadge, HealthBadge, SyncProgressBar};
use crate::app::components::time::{use_ticking_now, LocalTime};
use crate::app::format::{access_state_label, device_count_label, health_cause_text, relative_age};
use crate::app::layout::{Frame, HISTORY_PATH};
use crate::app::live::use_live_status;
use crate::app::page_data::awaited;
use crate::error::ApiError;
use crate::model::{
    ConnectionStatus, ConnectorInfo, Health, IdentityMode, LiveStatus, SetUpInfo, SyncKind,
    REQUIRED_CMDLETS,
};

/// What a refused sync trigger shows.
const SYNC_BUSY: &str = "A sync is already running.";

/// The page. Its data is awaited in a plain `Suspend`, not in a `Transition` (`page_data`); a
/// set-up, a removal or a sync trigger reads it again, whatever its outcome, and the page changes
/// once both parts are in. The live stream carries everything in between.
#[component]
pub fn ConnectorPage() -> impl IntoView {
    let set_up = ServerAction::<SetUpConnector>::new();
    let sync = ServerAction::<StartSync>::new();
    let remove = ServerAction::<RemoveConnector>::new();
    let data = Resource::new(
        move || {
            (
                set_up.version().get(),
                sync.version().get(),
                remove.version().get(),
            )
        },
        |_| async { Ok::<_, ApiError>((get_live_status().await?, get_set_up_info().await?)) },
    );
    let live = use_live_status();
    let actions = Actions {
        set_up,
        sync,
        remove,
    };

    view! {
        <Title text="Exchange service connector"/>
        <Frame title="Exchange service connector">
            <div class="mt-2 flex flex-wrap items-end justify-between gap-2">
                <div>
                    <p class="text-sm text-slate-500">"Conditional access"</p>
                    <h1 class="text-2xl font-semibold">"Exchange service connector"</h1>
                </div>
            </div>
            {awaited(data, move |data| match data {
                Ok((initial, info)) => view! {
                    <SetUpAttempt info=info.clone() set_up/>
                    <Overview initial info live actions/>
                }.into_any(),
                Err(e) => view! { <Alert title="The connector could not be loaded" message=e.to_string()/> }.into_any(),
            })}
        </Frame>
    }
}

/// The page's server actions.
#[derive(Clone, Copy)]
struct Actions {
    set_up: ServerAction<SetUpConnector>,
    sync: ServerAction<StartSync>,
    remove: ServerAction<RemoveConnector>,
}

/// The outcome of the last set-up attempt, when it failed (from this page's button, or kept
/// in the session across the Microsoft sign-in), and its permission checklist.
#[component]
fn SetUpAttempt(info: SetUpInfo, set_up: ServerAction<SetUpConnector>) -> impl IntoView {
    let kept = info.error.clone();
    let error = move || {
        let from_action: Option<ApiError> = set_up.value().get().and_then(Result::err);
        match from_action {
            Some(e) => Some(e.to_string()),
            None if set_up.version().get() == 0 => kept.clone(),
            None => None,
        }
    };
    let checks = info.checks;
    view! {
        {move || error().map(|e| view! { <Alert title="Set-up failed" message=e/> })}
        {(!checks.is_empty()).then(|| view! { <Checklist checks=checks.clone()/> })}
    }
}

/// The page's data: what the server read first, replaced by anything newer from the stream.
#[component]
fn Overview(
    initial: LiveStatus,
    info: SetUpInfo,
    live: ReadSignal<Option<LiveStatus>>,
    actions: Actions,
) -> impl IntoView {
    let server_now = initial.overview.now;
    let current = Memo::new(move |_| match live.get() {
        Some(l) if l.overview.now >= initial.overview.now => l,
        _ => initial.clone(),
    });
    let ticking = use_ticking_now(server_now);
    let now = Signal::derive(move || ticking.get().max(current.with(|c| c.overview.now)));
    let has_connector = Memo::new(move |_| current.with(|c| c.overview.connector.is_some()));
    move || {
        let info = info.clone();
        if has_connector.get() {
            view! { <ConnectorDetails current now info actions/> }.into_any()
        } else {
            let (endpoint, simulated) =
                current.with_untracked(|c| (c.overview.endpoint.clone(), c.overview.simulated));
            view! { <Requirements endpoint simulated info set_up=actions.set_up/> }.into_any()
        }
    }
}

/// Before set-up: what the connector needs, and the button.
#[component]
fn Requirements(
    endpoint: String,
    simulated: bool,
    info: SetUpInfo,
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
            <IdentityNote info=info.clone()/>
            <SetUpControl info set_up label="Set Up Service to Service Connector"/>
        </section>
    }
}

/// What sets the connector up: the button (application identity), the Microsoft sign-in
/// link (delegated), or, for a reader, who can.
#[component]
fn SetUpControl(
    info: SetUpInfo,
    set_up: ServerAction<SetUpConnector>,
    label: &'static str,
) -> impl IntoView {
    match (info.can_manage, info.mode) {
        (false, _) => view! {
            <p class="mt-6 text-sm text-slate-600" data-testid="reader-note">
                "You are signed in as a reader: an admin can set up the connector."
            </p>
        }
        .into_any(),
        (true, IdentityMode::App) => view! { <SetUpButton set_up label/> }.into_any(),
        (true, IdentityMode::Delegated) => view! { <ConsentLink label/> }.into_any(),
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
                {move || pending.get().then_some("Connecting to Exchange Online and checking permissions…")}
            </p>
        </ActionForm>
    }
}

/// After set-up: status and health, sync buttons and progress, last sync, devices, server
/// information. Every value follows `current`, so the stream updates it in place.
#[component]
fn ConnectorDetails(
    current: Memo<LiveStatus>,
    now: Signal<chrono::DateTime<chrono::Utc>>,
    info: SetUpInfo,
    actions: Actions,
) -> impl IntoView {
    let Actions {
        set_up,
        sync,
        remove,
    } = actions;
    let can_manage = info.can_manage;
    let setup_info = info;
    let info = Memo::new(move |_| current.with(|c| c.overview.connector.clone()));
    let text = move |f: fn(&ConnectorInfo) -> String| {
        move || info.with(|i| i.as_ref().map(f).unwrap_or_default())
    };
    let pending = set_up.pending();
    let stored =
        Memo::new(move |_| info.with(|i| i.as_ref().map_or(ConnectionStatus::None, |i| i.status)));
    let status = Signal::derive(move || {
        if pending.get() {
            ConnectionStatus::ConnectionPending
        } else {
            stored.get()
        }
    });
    let reason =
        Memo::new(move |_| info.with(|i| i.as_ref().and_then(|i| i.status_reason.clone())));
    let health =
        Memo::new(move |_| info.with(|i| i.as_ref().map_or(Health::Unhealthy, |i| i.health)));
    let cause = Memo::new(move |_| {
        info.with(|i| {
            i.as_ref()
                .and_then(|i| i.health_cause.as_ref().map(health_cause_text))
        })
    });
    let last_sync = Memo::new(move |_| info.with(|i| i.as_ref().and_then(|i| i.last_sync_at)));
    let device_count = Memo::new(move |_| info.with(|i| i.as_ref().map_or(0, |i| i.device_count)));
    let progress = Memo::new(move |_| current.with(|c| c.progress.clone()));
    let syncing = Signal::derive(move || {
        progress.with(Option::is_some) || info.with(|i| i.as_ref().is_some_and(|i| i.syncing))
    });
    // Set-up's first sync: a set-up going well, not a failure, whatever the health says yet.
    let first_sync = Signal::derive(move || {
        status.get() == ConnectionStatus::ConnectionPending && (pending.get() || syncing.get())
    });
    // "Try again" is for a set-up that stopped, not for one whose first sync is running.
    let retry =
        Memo::new(move |_| stored.get() != ConnectionStatus::Connected && !first_sync.get());
    let set_up_at = Memo::new(move |_| info.with(|i| i.as_ref().map(|i| i.set_up_at)));
    let info_for_remove = info;

    view! {
        <div class="mt-6 grid gap-4 md:grid-cols-3">
            <section aria-labelledby="status-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="status-heading" class="text-sm font-medium text-slate-500">"Connection status"</h2>
                <div class="mt-3 flex flex-wrap items-center gap-2">
                    <StatusBadge status/>
                    <Show when=move || !first_sync.get() fallback=FirstSyncBadge>
                        <HealthBadge health/>
                    </Show>
                </div>
                {move || reason.get().map(|r| view! { <p class="mt-3 text-sm text-red-800" data-testid="status-reason">{r}</p> })}
                {move || cause.get().filter(|_| !first_sync.get()).map(|c| view! { <p class="mt-2 text-sm text-slate-700" data-testid="health-cause">{c}</p> })}
                {move || first_sync.get().then(|| view! {
                    <p class="mt-3 text-sm text-slate-700" data-testid="first-sync-note">
                        "Set-up is reading every device of the organization. The connector is connected when this first sync ends."
                    </p>
                })}
            </section>
            <section aria-labelledby="sync-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="sync-heading" class="text-sm font-medium text-slate-500">"Last successful sync"</h2>
                <div class="mt-3" data-testid="last-sync">
                    {move || match last_sync.get() {
                        Some(at) => view! {
                            <p class="text-lg font-semibold"><LocalTime at/></p>
                            <p class="text-sm text-slate-600">{move || relative_age(at, now.get())}</p>
                        }.into_any(),
                        None if first_sync.get() => view! {
                            <p class="text-lg font-semibold">"First sync running"</p>
                            <p class="text-sm text-slate-600">"Its progress is shown below."</p>
                        }.into_any(),
                        None => view! { <p class="text-lg font-semibold">"Never"</p> }.into_any(),
                    }}
                </div>
                <a href=HISTORY_PATH class="mt-3 inline-block text-sm text-sky-700 underline hover:text-sky-900">"View sync history"</a>
            </section>
            <section aria-labelledby="devices-heading" class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h2 id="devices-heading" class="text-sm font-medium text-slate-500">"Devices found"</h2>
                <p class="mt-3 text-3xl font-semibold" data-testid="device-count">{device_count}</p>
                <p class="text-sm text-slate-600">
                    {move || device_count_label(device_count.get())} " with Exchange ActiveSync partnerships"
                </p>
                <ul aria-label="Devices by access state" class="mt-3 flex flex-wrap gap-1.5">
                    {move || info.with(|i| i.as_ref().map(|i| i.device_states.clone()).unwrap_or_default())
                        .into_iter()
                        .map(|s| {
                            let href = crate::app::devices::filter_href(&crate::model::DeviceFilter {
                                state: crate::model::StateBucket::parse(&s.state)
                                    .or(Some(crate::model::StateBucket::Other)),
                                ..Default::default()
                            });
                            view! {
                                <li>
                                    <a href=href class="block rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700 underline-offset-2 hover:bg-slate-200 hover:underline" data-testid="state-link" data-state=s.state.clone()>
                                        {access_state_label(&s.state).to_owned()} " " <span class="font-semibold">{s.count}</span>
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <a href=crate::app::paths::DEVICES class="mt-3 inline-block text-sm text-sky-700 underline hover:text-sky-900">"View devices"</a>
            </section>
        </div>
        {can_manage.then(|| view! { <SyncButtons sync syncing/> })}
        <SyncProgressBar progress/>
        {move || (retry.get() && can_manage).then(|| {
            let info = setup_info.clone();
            view! {
                <section class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                    <p class="text-sm text-slate-700">
                        "The connector is not connected. Fix the cause above, then try again."
                    </p>
                    <SetUpControl info set_up label="Try again"/>
                </section>
            }
        })}
        <section aria-labelledby="server-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="server-heading" class="font-semibold">"Exchange Connector Server information"</h2>
            <dl class="mt-3 grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                <dt class="text-slate-500">"Exchange endpoint"</dt>
                <dd class="font-mono break-all">{text(|i| i.endpoint.clone())}</dd>
                <dt class="text-slate-500">"Exchange organization"</dt>
                <dd>{text(|i| i.organization.clone().unwrap_or_else(|| "Not known yet".into()))}</dd>
                <dt class="text-slate-500">"Tenant"</dt>
                <dd class="font-mono break-all">{text(|i| i.tenant_id.clone())}</dd>
                <dt class="text-slate-500">"Account used"</dt>
                <dd class="break-all">{text(|i| i.account.clone())}</dd>
                <dt class="text-slate-500">"Connector type"</dt>
                <dd class="font-mono">{text(|i| i.connector_type.clone())}</dd>
                <dt class="text-slate-500">"Identity"</dt>
                <dd>{text(|i| match i.mode {
                    IdentityMode::App => "Application (app-only)".to_owned(),
                    IdentityMode::Delegated => "Delegated (the admin who set it up)".to_owned(),
                })}</dd>
                <dt class="text-slate-500">"Set up at"</dt>
                <dd>{move || set_up_at.get().map(|at| view! { <LocalTime at/> })}</dd>
                <dt class="text-slate-500">"Set up by"</dt>
                <dd data-testid="set-up-by">{text(|i| i.set_up_by.clone().unwrap_or_else(|| "Not recorded".into()))}</dd>
            </dl>
        </section>
        {move || can_manage.then(|| {
            let name = info_name(&info_for_remove.get());
            view! { <RemoveConnectorForm remove name/> }
        })}
    }
}

/// The name an admin types to remove the connector: its organization, or its tenant.
fn info_name(info: &Option<ConnectorInfo>) -> String {
    info.as_ref()
        .map(|i| {
            i.organization
                .clone()
                .unwrap_or_else(|| i.tenant_id.clone())
        })
        .unwrap_or_default()
}

/// Quick sync and Full sync: one form, the pressed button names the kind. Works as a plain
/// form post without JavaScript (the server redirects back, with `?sync=busy` when refused).
#[component]
fn SyncButtons(
    sync: ServerAction<StartSync>,
    #[prop(into)] syncing: Signal<bool>,
) -> impl IntoView {
    let pending = sync.pending();
    let busy = move || syncing.get() || pending.get();
    let query = use_query_map();
    let refused = move || {
        let from_action = sync.value().get().and_then(Result::err).map(|e| match e {
            ApiError::Conflict { message } => message,
            other => other.to_string(),
        });
        // A plain form post came back refused (no JavaScript). Only after the action has
        // not run in this page, so an old query does not outlive a new click.
        let from_query = || match query.with(|q| q.get(SYNC_NOTICE_PARAM)).as_deref() {
            Some("busy") => Some(SYNC_BUSY.to_owned()),
            Some("failed") => {
                Some("The sync could not be started. The server log has the details.".to_owned())
            }
            _ => None,
        };
        if sync.version().get() > 0 {
            from_action
        } else {
            from_query()
        }
    };
    let button = "inline-flex items-center gap-2 rounded-md px-4 py-2 text-sm font-semibold shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:opacity-60";
    let spinner = move |kind: SyncKind| {
        move || {
            let mine = sync
                .input()
                .with(|i| i.as_ref().is_some_and(|i| i.kind == kind));
            (pending.get() && mine).then(|| view! { <SpinnerIcon class="h-4 w-4"/> })
        }
    };
    view! {
        <section aria-labelledby="sync-now-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="sync-now-heading" class="font-semibold">"Sync now"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Quick sync reads the devices that changed; full sync reads everything again. "
                "Both also run on a schedule."
            </p>
            <ActionForm action=sync attr:class="mt-3 flex flex-wrap gap-2">
                <button
                    type="submit"
                    name="kind"
                    value=SyncKind::DeltaSync.as_str()
                    disabled=busy
                    class=format!("{button} bg-white text-sky-800 ring-1 ring-inset ring-sky-700 hover:bg-sky-50")
                >
                    {spinner(SyncKind::DeltaSync)}
                    "Quick sync"
                </button>
                <button
                    type="submit"
                    name="kind"
                    value=SyncKind::FullSync.as_str()
                    disabled=busy
                    class=format!("{button} bg-sky-700 text-white hover:bg-sky-800")
                >
                    {spinner(SyncKind::FullSync)}
                    "Full sync"
                </button>
            </ActionForm>
            {move || refused().map(|m| view! {
                <p role="alert" class="mt-3 flex items-center gap-2 text-sm text-red-800" data-testid="sync-refused">
                    <XCircleIcon class="h-4 w-4 shrink-0 text-red-600"/>
                    {m}
                </p>
            })}
            <p class="sr-only" aria-live="polite">{move || syncing.get().then_some("A sync is running.")}</p>
        </section>
    }
}
