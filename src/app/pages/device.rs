//! One device: why it has its access state, what Get-MobileDevice and
//! Get-MobileDeviceStatistics said of it, and its history as syncs observed it.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{get_device, RunDeviceAction};
use crate::app::components::actions::DeviceActions;
use crate::app::components::alert::Alert;
use crate::app::components::devices::StateBadge;
use crate::app::components::time::LocalTime;
use crate::app::devices::{client_label, reason_label};
use crate::app::layout::Frame;
use crate::app::live::use_ledger_version;
use crate::app::paths::DEVICES;
use crate::model::{DeviceDetails, DeviceEvent, DeviceEventKind};

#[component]
pub fn DevicePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let ledger = use_ledger_version();
    // Owned here, not by the actions section, so that Exchange's answer stays on the page
    // when the device is read again after it.
    let act = ServerAction::<RunDeviceAction>::new();
    let device = Resource::new(
        move || (id.get(), ledger.get(), act.version().get()),
        |(id, _, _)| get_device(id),
    );
    view! {
        <Title text="Device"/>
        <Frame title="Device" parents=&[("Devices", DEVICES)]>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the device…"</p> }>
                {move || Suspend::new(async move {
                    match device.await {
                        Ok(Some(d)) => view! { <Details d act/> }.into_any(),
                        Ok(None) => {
                            // The server renders this branch: the page answers 404.
                            #[cfg(feature = "ssr")]
                            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                                response.set_status(axum::http::StatusCode::NOT_FOUND);
                            }
                            view! {
                            <h1 class="mt-2 text-2xl font-semibold">"Device not found"</h1>
                            <p class="mt-2 text-sm text-slate-600" data-testid="device-missing">
                                "The connector has no device with this id. "
                                <a href=DEVICES class="text-sky-700 underline">"Back to the devices"</a>
                            </p>
                            }.into_any()
                        }
                        Err(e) => view! { <Alert title="The device could not be loaded" message=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// A label and its value, or "—".
fn field(label: &'static str, value: Option<String>) -> impl IntoView {
    view! {
        <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
            <dt class="text-sm text-slate-600 sm:col-span-2">{label}</dt>
            <dd class="break-words text-sm sm:col-span-3">{value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".into())}</dd>
        </div>
    }
}

fn time_field(label: &'static str, at: Option<DateTime<Utc>>) -> impl IntoView {
    view! {
        <div class="py-1.5 sm:grid sm:grid-cols-5 sm:gap-3">
            <dt class="text-sm text-slate-600 sm:col-span-2">{label}</dt>
            <dd class="text-sm sm:col-span-3">{match at {
                Some(at) => view! { <LocalTime at/> }.into_any(),
                None => view! { "—" }.into_any(),
            }}</dd>
        </div>
    }
}

fn yes_no(v: Option<bool>) -> Option<String> {
    v.map(|b| if b { "Yes".into() } else { "No".into() })
}

#[component]
fn Details(d: DeviceDetails, act: ServerAction<RunDeviceAction>) -> impl IntoView {
    let r = d.row.clone();
    let title = r
        .friendly_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| r.device_id.clone());
    let card = "rounded-lg border border-slate-200 bg-white p-5 shadow-sm";
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold" data-testid="device-title">{title}</h1>
            <StateBadge state=r.access_state.clone() reason=None/>
            {r.removed_at.map(|at| view! {
                <span class="rounded bg-slate-200 px-2 py-0.5 text-xs font-semibold text-slate-800" data-testid="device-removed">
                    "Removed from Exchange " <LocalTime at compact=true/>
                </span>
            })}
        </div>
        <p class="mt-1 text-sm text-slate-600">
            {r.user.clone().unwrap_or_default()}
            {r.user_name.clone().map(|n| format!(" ({n})"))}
            " · " <span class="font-mono">{r.device_id.clone()}</span>
        </p>
        <section aria-labelledby="why-heading" class="mt-4 rounded-lg border border-sky-200 bg-sky-50 p-5" data-testid="why">
            <h2 id="why-heading" class="font-semibold text-sky-950">"Why this access state"</h2>
            <p class="mt-2 text-sky-950" data-testid="why-summary">{d.why.summary.clone()}</p>
            <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-slate-700">
                {d.why.details.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view()}
            </ul>
        </section>
        {d.actions.clone().map(|options| view! { <DeviceActions guid=r.guid.clone() options act/> })}
        <div class="mt-4 grid gap-4 lg:grid-cols-2">
            <section aria-labelledby="device-heading" class=card>
                <h2 id="device-heading" class="font-semibold">"Device (Get-MobileDevice)"</h2>
                <dl class="mt-2 divide-y divide-slate-100">
                    {field("Friendly name", r.friendly_name.clone())}
                    {field("Device id", Some(r.device_id.clone()))}
                    {field("Device type", r.device_type.clone())}
                    {field("Model", r.device_model.clone())}
                    {field("Operating system", r.device_os.clone())}
                    {field("User agent", d.device_user_agent.clone())}
                    {field("Client", r.client_type.as_deref().map(|c| format!("{} ({c})", client_label(c))))}
                    {field("Client version", r.client_version.clone())}
                    {field("Access state", Some(r.access_state.clone()))}
                    {field("Access state reason", r.access_state_reason.as_deref().map(|x| format!("{} ({x})", reason_label(x))))}
                    {field("Access rule", d.access_control_rule.clone())}
                    {field("Managed by Intune", yes_no(d.is_managed))}
                    {field("Compliant", yes_no(d.is_compliant))}
                    {time_field("First sync", r.first_sync_time)}
                    {time_field("Changed in Exchange", d.when_changed_utc)}
                </dl>
            </section>
            <section aria-labelledby="mailbox-heading" class=card>
                <h2 id="mailbox-heading" class="font-semibold">"Mailbox and sync (Get-MobileDeviceStatistics)"</h2>
                <dl class="mt-2 divide-y divide-slate-100">
                    {field("Mailbox", d.mailbox.clone())}
                    {field("User display name", d.user_display_name.clone())}
                    {field("Identity", Some(d.identity.clone()))}
                    {time_field("Last successful sync", r.last_success_sync)}
                    {time_field("Last sync attempt", d.last_sync_attempt_time)}
                    {time_field("Last policy update", d.last_policy_update_time)}
                    {field("Mailbox policy applied", d.device_policy_applied.clone())}
                    {field("Policy status", d.device_policy_application_status.clone())}
                    {field("Heartbeat interval", d.last_ping_heartbeat.map(|s| format!("{s} s")))}
                    {field("Folders synced", d.number_of_folders_synced.map(|n| n.to_string()))}
                    {field("Status", d.sync_status.clone())}
                    {field("Status note", d.status_note.clone())}
                    {field("Remote wipe supported", yes_no(d.is_remote_wipe_supported))}
                    {time_field("Wipe requested", d.device_wipe_request_time)}
                    {time_field("Wipe sent", d.device_wipe_sent_time)}
                    {time_field("Wipe acknowledged", d.device_wipe_ack_time)}
                    {field("Wipe requested by", d.last_device_wipe_requestor.clone())}
                    {time_field("Statistics read", d.statistics_read_at)}
                </dl>
            </section>
        </div>
        <section aria-labelledby="history-heading" class=format!("mt-4 {card}")>
            <h2 id="history-heading" class="font-semibold">"History"</h2>
            <p class="text-sm text-slate-600">
                "What the connector's syncs observed, newest first. Last seen in Exchange: "
                <LocalTime at=d.last_seen_at/>
            </p>
            <ol class="mt-3 space-y-2" data-testid="device-events">
                {d.events.iter().map(|e| view! { <Event e=e.clone()/> }).collect_view()}
            </ol>
        </section>
    }
}

/// One event as a sentence.
pub fn event_text(e: &DeviceEvent) -> String {
    let old = e
        .old_value
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "none".into());
    let new = e
        .new_value
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "none".into());
    match e.kind {
        DeviceEventKind::FirstSeen => format!("First seen, {new}"),
        DeviceEventKind::StateChanged => {
            let why = match (e.reason.as_deref(), e.rule.as_deref()) {
                (_, Some(rule)) if !rule.is_empty() => format!(" by the rule {rule}"),
                (Some(r), _) if !r.is_empty() => format!(" ({})", reason_label(r)),
                _ => String::new(),
            };
            format!("Access state changed from {old} to {new}{why}")
        }
        DeviceEventKind::ClientChanged => format!("Client changed from {old} to {new}"),
        DeviceEventKind::OwnerChanged => format!("Owner changed from {old} to {new}"),
        DeviceEventKind::Removed => "Removed from Exchange (the partnership was deleted)".into(),
        DeviceEventKind::Returned => "Listed by Exchange again after its removal".into(),
    }
}

#[component]
fn Event(e: DeviceEvent) -> impl IntoView {
    view! {
        <li class="flex gap-3 text-sm" data-testid="device-event" data-kind=e.kind.as_str()>
            <span class="w-40 shrink-0 text-slate-600"><LocalTime at=e.at compact=true/></span>
            <span>{event_text(&e)}</span>
        </li>
    }
}
