//! "Readiness": the EAS clients that Exchange Online refuses since 1 March 2026 (protocol below
//! 16.1), grouped by user agent, OS and version, and the stale partnerships; every group links
//! into the device list with its filter, and each list has its CSV.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::get_readiness;
use crate::app::components::alert::Alert;
use crate::app::devices::{filter_csv_href, filter_href};
use crate::app::format::group_thousands;
use crate::app::layout::{Frame, PageHeading};
use crate::app::live::use_ledger_version;
use crate::model::{DeviceFilter, Readiness, ReadinessGroup};

#[component]
pub fn ReadinessPage() -> impl IntoView {
    let ledger = use_ledger_version();
    let data = Resource::new(move || ledger.get(), |_| get_readiness());
    view! {
        <Title text="Readiness"/>
        <Frame title="Readiness">
            <PageHeading
                title="Readiness"
                eyebrow="Monitor Exchange conditional access"
                description="Which devices lose mail now that Exchange Online refuses old ActiveSync clients, and which partnerships have stopped syncing."
            />
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(r) => view! { <Report r/> }.into_any(),
                        Err(e) => view! { <Alert title="The readiness report could not be loaded" message=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

#[component]
fn Report(r: Readiness) -> impl IntoView {
    let legacy = DeviceFilter {
        legacy_eas: true,
        ..DeviceFilter::default()
    };
    let card = "mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm";
    view! {
        <section aria-labelledby="eas-heading" class=card data-testid="legacy">
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div>
                    <h2 id="eas-heading" class="font-semibold">"Exchange ActiveSync below 16.1"</h2>
                    <p class="mt-1 max-w-3xl text-sm text-slate-600">
                        "Since 1 March 2026 Exchange Online refuses Exchange ActiveSync clients that speak a protocol older than 16.1: these devices no longer receive mail until their mail app or OS is updated, or they move to Outlook for iOS and Android."
                    </p>
                </div>
                <a href=filter_csv_href(&legacy) download="eas-below-16.1.csv" class="rounded-md px-3 py-1.5 text-sm font-semibold text-sky-800 ring-1 ring-inset ring-sky-700 hover:bg-sky-50">"Export CSV"</a>
            </div>
            <p class="mt-3">
                <a href=filter_href(&legacy) class="text-3xl font-semibold text-sky-800 underline hover:text-sky-950" data-testid="legacy-total">{group_thousands(r.legacy_total)}</a>
                <span class="ml-2 text-sm text-slate-600">
                    {format!("of {} Exchange ActiveSync devices", group_thousands(r.eas_total))}
                </span>
            </p>
            <p class="mt-1 text-sm text-slate-600" data-testid="outlook-total">
                {format!("Not affected: {} devices use Outlook for iOS and Android, which does not depend on the EAS protocol version.", group_thousands(r.outlook_total))}
            </p>
            <div class="mt-4 grid gap-4 lg:grid-cols-3">
                <Groups title="By client (user agent)" groups=r.legacy_by_agent.clone() testid="by-agent"/>
                <Groups title="By operating system" groups=r.legacy_by_os.clone() testid="by-os"/>
                <Groups title="By protocol version" groups=r.legacy_by_version.clone() testid="by-version"/>
            </div>
        </section>
        <section aria-labelledby="stale-heading" class=card data-testid="stale">
            <h2 id="stale-heading" class="font-semibold">"Stale partnerships"</h2>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                "Partnerships whose last successful sync is old, or that never synced: lost or replaced phones, people who left. Outlook for iOS and Android reports no Exchange ActiveSync sync times, so an Outlook device without them is not counted as never synced."
            </p>
            <table class="mt-3 min-w-[32rem] text-sm">
                <caption class="sr-only">"Stale partnerships by age of the last successful sync"</caption>
                <thead>
                    <tr class="border-b border-slate-200 text-left text-xs uppercase tracking-wide text-slate-500">
                        <th scope="col" class="py-2 pr-4">"Last successful sync"</th>
                        <th scope="col" class="py-2 pr-4 text-right">"Devices"</th>
                        <th scope="col" class="py-2"><span class="sr-only">"Export"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {r.stale.iter().chain(std::iter::once(&r.never)).map(|g| view! {
                        <tr data-testid="stale-row">
                            <td class="py-2 pr-4">{g.label.clone()}</td>
                            <td class="py-2 pr-4 text-right tabular-nums">
                                <a href=filter_href(&g.filter) class="font-semibold text-sky-700 underline hover:text-sky-900" data-testid="stale-count">{group_thousands(g.count)}</a>
                            </td>
                            <td class="py-2"><a href=filter_csv_href(&g.filter) download="stale-devices.csv" class="text-sky-700 underline hover:text-sky-900">"CSV"<span class="sr-only">{format!(" of {}", g.label.to_lowercase())}</span></a></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="mt-2 text-sm text-slate-600" data-testid="outlook-no-times">
                {format!("{} Outlook mobile devices report no EAS sync times (not counted as never synced).", group_thousands(r.outlook_without_sync_times))}
            </p>
            <p class="mt-1 text-xs text-slate-500">
                {format!("Out of {} present devices.", group_thousands(r.present_total))}
            </p>
        </section>
    }
}

#[component]
fn Groups(title: &'static str, groups: Vec<ReadinessGroup>, testid: &'static str) -> impl IntoView {
    view! {
        <div>
            <h3 class="text-sm font-semibold text-slate-700">{title}</h3>
            {if groups.is_empty() {
                view! { <p class="mt-1 text-sm text-slate-600">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-1 divide-y divide-slate-100 text-sm" data-testid=testid>
                        {groups.into_iter().map(|g| view! {
                            <li class="flex justify-between gap-3 py-1.5">
                                <span class="min-w-0 break-words">{g.label.clone()}</span>
                                <a href=filter_href(&g.filter) class="shrink-0 font-semibold text-sky-700 underline tabular-nums hover:text-sky-900" data-testid="group-link">
                                    {group_thousands(g.count)}
                                    <span class="sr-only">{format!(" devices: {}", g.label)}</span>
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}
