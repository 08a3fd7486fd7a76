//! "Devices" (Monitor Exchange conditional access): the access-state chart that drills down
//! into the table below, search and filters in a GET form, sortable columns, keyset pages and
//! the CSV of the current view. Every filter, the sort and the page are in the address, so a
//! view can be bookmarked and the page works without JavaScript; with it, the table updates in
//! place and refreshes when a sync ends.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::{get_device_summary, get_devices, RunDeviceAction};
use crate::app::components::actions::ChangeOutcome;
use crate::app::components::alert::Alert;
use crate::app::components::devices::{StateBadge, StateChart};
use crate::app::components::time::LocalTime;
use crate::app::devices::{
    aria_sort, client_label, csv_href, list_href, preview_href, query_string, reason_label,
    sort_href, state_href, COLUMNS,
};
use crate::app::format::group_thousands;
use crate::app::layout::{Frame, PageHeading, CONNECTOR_PATH};
use crate::app::live::use_ledger_version;
use crate::app::paths::{self, DEVICES};
use crate::model::{
    version_key, AccessChangeForm, ChangeScope, DeviceAction, DevicePage, DeviceQuery, DeviceRow,
    DeviceSummary, OsFamily, Removed, Staleness, StateBucket, DEVICE_PAGE_SIZES, EAS_MINIMUM_KEY,
    MAX_BULK_DEVICES,
};

#[component]
pub fn DevicesPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| DeviceQuery::from_params(|k| p.get(k))));
    let ledger = use_ledger_version();
    // The bulk action and the devices chosen for it outlive the table's refreshes, so
    // Exchange's answer stays on the page while the list shows the devices read back.
    let bulk = Bulk {
        act: ServerAction::<RunDeviceAction>::new(),
        chosen: RwSignal::new(Default::default()),
    };
    // The choice goes once the action ran (the rows show what Exchange says now), and with
    // another view of the list (only the boxes on the page are sent).
    Effect::new(move |_| {
        if matches!(bulk.act.value().get(), Some(Ok(_))) {
            bulk.chosen.set(Default::default());
        }
    });
    Effect::new(move |_| {
        query.track();
        bulk.chosen.set(Default::default());
    });
    // The bar that starts a bulk action is far down the list: its progress and Exchange's
    // answer show above the list, so the page goes there when the action starts.
    let outcome = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if bulk.act.pending().get() {
            if let Some(el) = outcome.get_untracked() {
                el.scroll_into_view();
            }
        }
    });
    let page = Resource::new(
        move || (query.get(), ledger.get(), bulk.act.version().get()),
        |(q, _, _)| get_devices(query_string(&q)),
    );
    let summary = Resource::new(move || ledger.get(), |_| get_device_summary());

    view! {
        <Title text="Devices"/>
        <Frame title="Devices">
            <PageHeading
                title="Devices"
                eyebrow="Monitor Exchange conditional access"
                description="Every Exchange ActiveSync partnership the connector found, with its access state and why. Pick a state in the chart, search, filter and sort; the address keeps the view."
            />
            // Exchange's answer to the last bulk action, outside the list that refreshes.
            <div node_ref=outcome class="scroll-mt-4">
                <ChangeOutcome
                    pending=Signal::derive(move || bulk.act.pending().get())
                    value=Signal::derive(move || bulk.act.value().get())
                    notice=Signal::derive(|| None)
                />
            </div>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the devices…"</p> }>
                {move || Suspend::new(async move {
                    let q = query.get_untracked();
                    match (summary.await, page.await) {
                        (Ok(s), Ok(p)) => view! { <Devices summary=s page=p query=q bulk/> }.into_any(),
                        (Err(e), _) | (_, Err(e)) => view! {
                            <Alert title="The devices could not be loaded" message=e.to_string()/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// The device list's bulk action and the GUIDs chosen for it.
#[derive(Clone, Copy)]
struct Bulk {
    act: ServerAction<RunDeviceAction>,
    chosen: RwSignal<std::collections::BTreeSet<String>>,
}

#[component]
fn Devices(
    summary: DeviceSummary,
    page: DevicePage,
    query: DeviceQuery,
    bulk: Bulk,
) -> impl IntoView {
    let counts = summary
        .counts
        .iter()
        .map(|(b, n)| (*b, *n, state_href(&query, Some(*b))))
        .collect::<Vec<_>>();
    let all_href = state_href(&query, None);
    let scope = page.change.clone().map(|c| {
        let back = query.filter.change.as_ref().map(preview_href);
        view! { <ChangeScopeNote scope=c back/> }
    });
    view! {
        {scope}
        <StateChart counts total=summary.total active=query.filter.state all_href/>
        <Filters summary=summary.clone() query=query.clone()/>
        <Results page query bulk/>
    }
}

/// The list is limited to the devices a previewed change would move: which change, and the
/// way back to its preview.
#[component]
fn ChangeScopeNote(scope: ChangeScope, back: Option<String>) -> impl IntoView {
    view! {
        <section aria-labelledby="change-scope-heading" class="mb-4 rounded-lg border-2 border-sky-300 bg-sky-50 px-5 py-3 text-sm" data-testid="change-scope">
            <h2 id="change-scope-heading" class="font-semibold">"Only the devices a previewed change would move"</h2>
            {match scope.problem {
                Some(why) => view! {
                    <p class="mt-1 text-red-800" data-testid="change-scope-problem">{format!("This change cannot be previewed now: {why}")}</p>
                }.into_any(),
                None => view! {
                    <ul class="mt-1 list-disc pl-5">
                        {scope.summary.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            <p class="mt-2 flex flex-wrap gap-4">
                {back.map(|href| view! { <a href=href class="text-sky-800 underline hover:text-sky-900">"Back to the preview"</a> })}
                <a href=DEVICES class="text-sky-800 underline hover:text-sky-900">"All devices"</a>
            </p>
        </section>
    }
}

/// Search and filters: a GET form, so the view is in the address.
#[component]
fn Filters(summary: DeviceSummary, query: DeviceQuery) -> impl IntoView {
    let select = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";
    let label = "block text-sm font-medium text-slate-700";
    let f = query.filter.clone();
    let option = |value: String, text: String, selected: bool| {
        view! { <option value=value selected=selected>{text}</option> }
    };
    let stale_value = f.stale.map(Staleness::param).unwrap_or_default();
    view! {
        <Form method="GET" action=DEVICES attr:class="mt-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" attr:aria-label="Search and filter devices">
            <div class="flex flex-wrap items-end gap-3">
                <div class="min-w-[16rem] flex-1">
                    <label for="device-search" class=label>"Search"</label>
                    <input
                        id="device-search" name="q" type="search" maxlength="100"
                        value=f.q.clone().unwrap_or_default()
                        placeholder="Device id, user, name, model, OS or user agent"
                        class="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600"
                    />
                </div>
                <div class="w-40">
                    <label for="filter-state" class=label>"Access state"</label>
                    <select id="filter-state" name="state" class=select>
                        <option value="">"All states"</option>
                        {StateBucket::ALL.into_iter().map(|b| option(b.as_str().into(), crate::app::devices::bucket_label(b).into(), f.state == Some(b))).collect_view()}
                    </select>
                </div>
                <div class="w-44">
                    <label for="filter-reason" class=label>"Reason"</label>
                    <select id="filter-reason" name="reason" class=select>
                        <option value="">"All reasons"</option>
                        {summary.reasons.iter().map(|r| option(r.clone(), reason_label(r), f.reason.as_deref() == Some(r.as_str()))).collect_view()}
                    </select>
                </div>
                <div class="w-44">
                    <label for="filter-client" class=label>"Client"</label>
                    <select id="filter-client" name="client" class=select>
                        <option value="">"All clients"</option>
                        {summary.clients.iter().map(|c| option(c.clone(), client_label(c).into(), f.client.as_deref() == Some(c.as_str()))).collect_view()}
                    </select>
                </div>
                <div class="w-36">
                    <label for="filter-type" class=label>"Device type"</label>
                    <select id="filter-type" name="type" class=select>
                        <option value="">"All types"</option>
                        {summary.device_types.iter().map(|t| option(t.clone(), t.clone(), f.device_type.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(t)))).collect_view()}
                    </select>
                </div>
                <div class="w-32">
                    <label for="filter-os" class=label>"OS"</label>
                    <select id="filter-os" name="os" class=select>
                        <option value="">"All"</option>
                        {OsFamily::ALL.into_iter().map(|o| option(o.as_str().into(), o.as_str().into(), f.os == Some(o))).collect_view()}
                    </select>
                </div>
                <div class="w-48">
                    <label for="filter-stale" class=label>"Last successful sync"</label>
                    <select id="filter-stale" name="stale" class=select>
                        <option value="">"Any time"</option>
                        {[("30", "More than 30 days ago"), ("90", "More than 90 days ago"), ("180", "More than 180 days ago"), ("never", "Never")]
                            .into_iter()
                            .map(|(v, t)| option(v.into(), t.into(), stale_value == v))
                            .collect_view()}
                    </select>
                </div>
                <div class="w-24">
                    <label for="filter-limit" class=label>"Per page"</label>
                    <select id="filter-limit" name="limit" class=select>
                        {DEVICE_PAGE_SIZES.into_iter().map(|n| option(n.to_string(), n.to_string(), query.limit == n)).collect_view()}
                    </select>
                </div>
            </div>
            <div class="mt-3 flex flex-wrap items-center gap-5">
                <label class="flex items-center gap-2 text-sm text-slate-700">
                    <input type="checkbox" name="eas" value="legacy" checked=f.legacy_eas class="h-4 w-4 rounded border-slate-400"/>
                    "EAS below 16.1"
                </label>
                <label class="flex items-center gap-2 text-sm text-slate-700">
                    <input type="checkbox" name="removed" value="only" checked=f.removed == Removed::Only class="h-4 w-4 rounded border-slate-400"/>
                    "Removed from Exchange"
                </label>
                // Kept from the view: filters the form has no field for, and the sort.
                {f.agent.clone().map(|a| view! { <input type="hidden" name="agent" value=a/> })}
                {f.version.clone().map(|v| view! { <input type="hidden" name="version" value=v/> })}
                {f.change.iter().flat_map(AccessChangeForm::params).map(|(k, v)| view! {
                    <input type="hidden" name=k value=v/>
                }).collect_view()}
                {(query.sort != Default::default() || query.dir != query.sort.natural_dir()).then(|| view! {
                    <input type="hidden" name="sort" value=query.sort.as_str()/>
                    <input type="hidden" name="dir" value=query.dir.as_str()/>
                })}
                <button
                    type="submit"
                    class="rounded-md bg-sky-700 px-4 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2"
                >
                    "Apply"
                </button>
                {query.filter.is_filtered().then(|| view! {
                    <a href=DEVICES class="text-sm text-sky-700 underline hover:text-sky-900">"Clear filters"</a>
                })}
                {f.agent.clone().map(|a| view! { <span class="text-sm text-slate-600">"User agent: " <code class="rounded bg-slate-100 px-1">{a}</code></span> })}
                {f.version.clone().map(|v| view! { <span class="text-sm text-slate-600">"Client version: " <code class="rounded bg-slate-100 px-1">{v}</code></span> })}
            </div>
        </Form>
    }
}

/// The count, the export link, the table and the page links.
#[component]
fn Results(page: DevicePage, query: DeviceQuery, bulk: Bulk) -> impl IntoView {
    let DevicePage {
        rows,
        total,
        next_cursor,
        prev_cursor,
        synced,
        can_act,
        change: _,
    } = page;
    let next = next_cursor.map(|c| {
        list_href(&DeviceQuery {
            after: Some(c),
            before: None,
            ..query.clone()
        })
    });
    let prev = prev_cursor.map(|c| {
        list_href(&DeviceQuery {
            after: None,
            before: Some(c),
            ..query.clone()
        })
    });
    let first =
        (query.after.is_some() || query.before.is_some()).then(|| list_href(&query.first_page()));
    let empty = if !synced {
        view! {
            <p class="px-5 py-8 text-center text-sm text-slate-600" data-testid="devices-empty">
                "No devices yet: they appear after the connector's first sync. "
                <a href=CONNECTOR_PATH class="text-sky-700 underline">"Go to the Exchange service connector"</a>
            </p>
        }
        .into_any()
    } else {
        view! { <p class="px-5 py-8 text-center text-sm text-slate-600" data-testid="devices-empty">"No devices match this view."</p> }.into_any()
    };
    let noun = if total == 1 { "device" } else { "devices" };
    view! {
        <section aria-labelledby="devices-heading" class="mt-4 rounded-lg border border-slate-200 bg-white shadow-sm">
            <div class="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-5 py-3">
                <h2 id="devices-heading" class="font-semibold" data-testid="devices-count" data-count=total.to_string()>
                    {format!("{} {noun}", group_thousands(total))}
                </h2>
                <a
                    href=csv_href(&query)
                    download="devices.csv"
                    class="rounded-md px-3 py-1.5 text-sm font-semibold text-sky-800 ring-1 ring-inset ring-sky-700 hover:bg-sky-50"
                >
                    "Export CSV"
                </a>
            </div>
            {if rows.is_empty() {
                empty
            } else if can_act {
                view! { <Selectable rows query=query.clone() bulk/> }.into_any()
            } else {
                view! { <DeviceTable rows query=query.clone() selection=None/> }.into_any()
            }}
            <nav aria-label="Pages of devices" class="flex justify-between gap-2 border-t border-slate-200 px-5 py-3 text-sm">
                <span class="flex gap-4">
                    {first.map(|href| view! { <a href=href class="text-sky-700 underline hover:text-sky-900">"First page"</a> })}
                    {prev.map(|href| view! { <a href=href rel="prev" class="text-sky-700 underline hover:text-sky-900">"Previous page"</a> })}
                </span>
                <span>{next.map(|href| view! { <a href=href rel="next" class="text-sky-700 underline hover:text-sky-900">"Next page"</a> })}</span>
            </nav>
        </section>
    }
}

/// The table with a check box per row and the action for the devices checked (admins). A plain
/// form: without JavaScript the boxes post as they are; with it, the page stays, says how many
/// are chosen, and shows Exchange's answer.
#[component]
fn Selectable(rows: Vec<DeviceRow>, query: DeviceQuery, bulk: Bulk) -> impl IntoView {
    let Bulk { act, chosen } = bulk;
    let all: Vec<String> = rows.iter().map(|d| d.guid.clone()).collect();
    let count = move || chosen.with(|c| c.len());
    let action = RwSignal::new(DeviceAction::Block.as_str().to_owned());
    let word = move || DeviceAction::parse(&action.get()).and_then(DeviceAction::confirmation_word);
    let explanation = move || DeviceAction::parse(&action.get()).map(DeviceAction::explanation);
    view! {
        <ActionForm action=act attr:aria-label="Exchange action for the chosen devices">
            <div class="flex flex-wrap items-end gap-3 border-b border-slate-200 bg-slate-50 px-5 py-3" data-testid="bulk-actions">
                <p class="text-sm font-medium" aria-live="polite" data-testid="bulk-count" data-count=move || count().to_string()>
                    {move || match count() {
                        0 => "Choose devices with the boxes to act on them in Exchange.".to_owned(),
                        1 => "1 device chosen".to_owned(),
                        n => format!("{n} devices chosen"),
                    }}
                </p>
                <div>
                    <label for="bulk-action" class="block text-xs font-medium text-slate-700">"Action"</label>
                    <select id="bulk-action" name="action" class="mt-0.5 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
                        on:change=move |ev| action.set(event_target_value(&ev))>
                        {DeviceAction::ALL.into_iter().map(|a| view! {
                            <option value=a.as_str() selected=a == DeviceAction::Block>{a.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="bulk-confirmation" class="block text-xs font-medium text-slate-700">"Confirmation (remove, wipe)"</label>
                    <input id="bulk-confirmation" name="confirmation" type="text" autocomplete="off" spellcheck="false"
                        placeholder=move || word().unwrap_or("not needed")
                        aria-describedby="bulk-explanation"
                        class="mt-0.5 w-40 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"/>
                </div>
                <button type="submit" class="inline-flex items-center rounded-md bg-sky-700 px-3 py-1.5 text-sm font-semibold text-white hover:bg-sky-800 disabled:opacity-50"
                    disabled=move || act.pending().get()>
                    "Run on the chosen devices"
                </button>
                <p id="bulk-explanation" class="w-full text-xs text-slate-600">
                    {move || explanation().unwrap_or_default()}
                    {move || word().map(|w| format!(" Type {w} to confirm."))}
                    {format!(" At most {MAX_BULK_DEVICES} devices at a time; list actions make one Set-CASMailbox call per mailbox.")}
                </p>
            </div>
            <DeviceTable rows query selection=Some((chosen, all))/>
        </ActionForm>
    }
}

/// The chosen GUIDs and the GUIDs of the page's rows.
type Selection = (RwSignal<std::collections::BTreeSet<String>>, Vec<String>);

#[component]
fn DeviceTable(
    rows: Vec<DeviceRow>,
    query: DeviceQuery,
    selection: Option<Selection>,
) -> impl IntoView {
    // Narrow cells: all eight columns fit a 1280-pixel window beside the navigation.
    let th = "px-2 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500";
    let headings = COLUMNS
        .into_iter()
        .map(|(label, sort)| {
            let arrow = match aria_sort(&query, sort) {
                "ascending" => " ▲",
                "descending" => " ▼",
                _ => "",
            };
            view! {
                <th scope="col" class=th aria-sort=aria_sort(&query, sort)>
                    <a href=sort_href(&query, sort) class="hover:text-slate-900 hover:underline" data-sort=sort.as_str()>
                        {label}<span aria-hidden="true">{arrow}</span>
                    </a>
                </th>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <caption class="sr-only">"Devices; the column headings sort the list"</caption>
                <thead class="bg-slate-50"><tr>
                    {selection.clone().map(|(chosen, all)| {
                        let every = all.clone();
                        view! {
                            <th scope="col" class="w-8 px-2 py-2">
                                <input type="checkbox" aria-label="Choose every device on this page" class="h-4 w-4 rounded border-slate-400"
                                    prop:checked=move || !every.is_empty() && chosen.with(|c| every.iter().all(|g| c.contains(g)))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| for g in &all {
                                            if on { c.insert(g.clone()); } else { c.remove(g); }
                                        });
                                    }/>
                            </th>
                        }
                    })}
                    {headings}
                </tr></thead>
                <tbody class="divide-y divide-slate-100">
                    {rows.into_iter().enumerate().map(|(i, d)| {
                        let pick = selection.as_ref().map(|(chosen, _)| (*chosen, i));
                        view! { <Row d pick/> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(
    d: DeviceRow,
    pick: Option<(RwSignal<std::collections::BTreeSet<String>>, usize)>,
) -> impl IntoView {
    let cell = "px-2 py-2 align-top";
    let label = format!(
        "Choose {}",
        d.friendly_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| d.device_id.clone())
    );
    let check = pick.map(|(chosen, i)| {
        let (g1, g2, g3) = (d.guid.clone(), d.guid.clone(), d.guid.clone());
        view! {
            <td class="w-8 px-2 py-2 align-top">
                <input type="checkbox" name=format!("selected[{i}]") value=g1 aria-label=label.clone()
                    class="h-4 w-4 rounded border-slate-400" data-testid="device-choose"
                    prop:checked=move || chosen.with(|c| c.contains(&g2))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        chosen.update(|c| { if on { c.insert(g3.clone()); } else { c.remove(&g3); } });
                    }/>
            </td>
        }
    });
    let name = d
        .friendly_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| d.device_id.clone());
    let legacy = d.client_type.as_deref() == Some("EAS")
        && version_key(d.client_version.as_deref()).is_some_and(|k| k < EAS_MINIMUM_KEY);
    let client = format!(
        "{} {}",
        d.client_type.as_deref().unwrap_or(""),
        d.client_version.as_deref().unwrap_or("")
    );
    view! {
        <tr class="hover:bg-slate-50" data-testid="device-row" data-guid=d.guid.clone() data-state=d.access_state.clone()>
            {check}
            <td class=cell>
                <span class="block max-w-[9rem] truncate" title=d.user.clone().unwrap_or_default()>{d.user.clone().unwrap_or_else(|| "—".into())}</span>
                {d.user_name.clone().map(|n| view! { <span class="block max-w-[9rem] truncate text-xs text-slate-600">{n}</span> })}
            </td>
            <td class=cell>
                <a href=paths::device(&d.guid) class="block max-w-[9rem] truncate font-medium text-sky-700 underline hover:text-sky-900" title=d.device_id.clone()>{name}</a>
                <span class="block max-w-[9rem] truncate font-mono text-xs text-slate-600" data-testid="device-id">{d.device_id.clone()}</span>
                {d.removed_at.map(|_| view! { <span class="mt-0.5 inline-flex rounded bg-slate-200 px-1.5 text-xs font-semibold text-slate-700">"Removed"</span> })}
            </td>
            <td class=cell>
                <span class="block max-w-[8rem] truncate" title=d.device_type.clone().unwrap_or_default()>{d.device_type.clone().unwrap_or_default()}</span>
                <span class="block max-w-[8rem] truncate text-xs text-slate-600" title=d.device_model.clone().unwrap_or_default()>{d.device_model.clone().unwrap_or_default()}</span>
            </td>
            <td class=format!("{cell} max-w-[7rem]")>{d.device_os.clone().unwrap_or_default()}</td>
            <td class=cell>
                <span class="whitespace-nowrap">{client}</span>
                {legacy.then(|| view! { <span class="mt-0.5 block w-fit whitespace-nowrap rounded bg-amber-100 px-1 text-xs font-semibold text-amber-900" title="Exchange Online refuses EAS clients below 16.1 since 1 March 2026">"below 16.1"</span> })}
            </td>
            <td class=cell><StateBadge state=d.access_state.clone() reason=d.access_state_reason.clone()/></td>
            <td class=format!("{cell} w-24") data-testid="last-sync">
                {match d.last_success_sync {
                    Some(at) => view! { <LocalTime at compact=true/> }.into_any(),
                    None => view! { <span class="text-slate-600">"Never"</span> }.into_any(),
                }}
            </td>
            <td class=format!("{cell} w-24")>
                {d.first_sync_time.map(|at| view! { <LocalTime at compact=true/> })}
            </td>
        </tr>
    }
}
