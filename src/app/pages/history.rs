//! "Sync history": every sync run, newest first, filtered and paged through the query string
//! (plain links and a GET form, so it works without JavaScript), a chart of the last 30 days
//! and the CSV export. Refreshes itself when a run starts or ends.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::get_sync_history;
use crate::app::components::alert::Alert;
use crate::app::components::chart::HistoryChart;
use crate::app::components::sync::RunStatusBadge;
use crate::app::components::time::LocalTime;
use crate::app::format::{
    format_duration_ms, group_thousands, sync_kind_label, sync_status_label, sync_trigger_label,
    SYNC_KINDS, SYNC_TRIGGERS,
};
use crate::app::layout::{Frame, PageHeading, CONNECTOR_PATH, HISTORY_PATH};
use crate::app::live::use_ledger_version;
use crate::app::page_data::awaited;
use crate::app::query::HistoryQuery;
use crate::model::{HistoryPage, SyncRun, SyncStatus};

/// The page. Its runs are awaited in a plain `Suspend`, not in a `Transition` (`page_data`); a
/// new filter, page or run reads them again, and the page keeps the runs it shows until then.
#[component]
pub fn SyncHistoryPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| HistoryQuery::from_params(|k| p.get(k))));
    let ledger = use_ledger_version();
    let page = Resource::new(
        move || (query.get(), ledger.get()),
        |(q, _)| get_sync_history(q.filter, q.cursor, q.limit),
    );

    view! {
        <Title text="Sync history"/>
        <Frame title="Sync history" parents=&[("Exchange service connector", CONNECTOR_PATH)]>
            <PageHeading
                title="Sync history"
                eyebrow="Exchange service connector"
                description="Every sync run of the connector: what started it, how long it took, what it found and why it failed."
            />
            <Filters query/>
            {awaited(page, move |page| match page {
                Ok(data) => view! { <History data query=query.get_untracked()/> }.into_any(),
                Err(e) => view! {
                    <Alert title="The sync history could not be loaded" message=e.to_string()/>
                }.into_any(),
            })}
        </Frame>
    }
}

/// Status, kind and trigger: a GET form, so the filters are in the address.
#[component]
fn Filters(query: Memo<HistoryQuery>) -> impl IntoView {
    let select = "mt-1 block w-44 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";
    let label = "block text-sm font-medium text-slate-700";
    view! {
        <Form method="GET" action=HISTORY_PATH attr:class="mt-4 flex flex-wrap items-end gap-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" attr:aria-label="Filter sync runs">
            <div>
                <label for="filter-status" class=label>"Status"</label>
                <select id="filter-status" name="status" class=select>
                    <option value="">"All statuses"</option>
                    {SyncStatus::ALL
                        .into_iter()
                        .map(|s| view! {
                            <option value=s.as_str() selected=move || query.with(|q| q.filter.status == Some(s))>
                                {sync_status_label(s)}
                            </option>
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="filter-kind" class=label>"Kind"</label>
                <select id="filter-kind" name="kind" class=select>
                    <option value="">"All kinds"</option>
                    {SYNC_KINDS
                        .into_iter()
                        .map(|k| view! {
                            <option value=k.as_str() selected=move || query.with(|q| q.filter.kind == Some(k))>
                                {sync_kind_label(k)}
                            </option>
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="filter-trigger" class=label>"Trigger"</label>
                <select id="filter-trigger" name="trigger" class=select>
                    <option value="">"All triggers"</option>
                    {SYNC_TRIGGERS
                        .into_iter()
                        .map(|t| view! {
                            <option value=t.as_str() selected=move || query.with(|q| q.filter.trigger == Some(t))>
                                {sync_trigger_label(t)}
                            </option>
                        })
                        .collect_view()}
                </select>
            </div>
            {move || query.with(|q| q.limit).map(|l| view! { <input type="hidden" name="limit" value=l.to_string()/> })}
            <button
                type="submit"
                class="rounded-md bg-sky-700 px-4 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2"
            >
                "Apply filters"
            </button>
            {move || query.with(HistoryQuery::is_filtered).then(|| view! {
                <a href=HISTORY_PATH class="py-1.5 text-sm text-sky-700 underline hover:text-sky-900">"Clear filters"</a>
            })}
        </Form>
    }
}

/// The chart, the export link, the runs and the paging links.
#[component]
fn History(data: HistoryPage, query: HistoryQuery) -> impl IntoView {
    let HistoryPage {
        runs,
        next_cursor,
        chart,
        now,
    } = data;
    let older = next_cursor.map(|c| query.older_href(&c));
    let newest = query.cursor.is_some().then(|| query.newest_href());
    let empty_text = if query.is_filtered() {
        "No sync runs match these filters."
    } else {
        "No sync runs yet. The first one runs when the connector is set up."
    };
    view! {
        <HistoryChart points=chart now/>
        <section aria-labelledby="runs-heading" class="mt-4 rounded-lg border border-slate-200 bg-white shadow-sm">
            <div class="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-5 py-3">
                <h2 id="runs-heading" class="font-semibold">"Runs"</h2>
                <a
                    href=query.csv_href()
                    download="sync-history.csv"
                    class="rounded-md px-3 py-1.5 text-sm font-semibold text-sky-800 ring-1 ring-inset ring-sky-700 hover:bg-sky-50"
                >
                    "Export CSV"
                </a>
            </div>
            {if runs.is_empty() {
                view! { <p class="px-5 py-8 text-center text-sm text-slate-600" data-testid="history-empty">{empty_text}</p> }.into_any()
            } else {
                view! { <RunsTable runs/> }.into_any()
            }}
            <nav aria-label="Pages of sync runs" class="flex justify-between gap-2 border-t border-slate-200 px-5 py-3 text-sm">
                <span>{newest.map(|href| view! { <a href=href class="text-sky-700 underline hover:text-sky-900">"Newest runs"</a> })}</span>
                <span>{older.map(|href| view! { <a href=href class="text-sky-700 underline hover:text-sky-900">"Older runs"</a> })}</span>
            </nav>
        </section>
    }
}

#[component]
fn RunsTable(runs: Vec<SyncRun>) -> impl IntoView {
    // Narrow cells: all ten columns fit a 1280-pixel window beside the navigation.
    let th = "px-2.5 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500";
    let num = "px-2.5 py-2 text-right tabular-nums";
    view! {
        <div class="overflow-x-auto">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <caption class="sr-only">"Sync runs, newest first"</caption>
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=th>"Started"</th>
                        <th scope="col" class=th>"Kind"</th>
                        <th scope="col" class=th>"Trigger"</th>
                        <th scope="col" class=th>"Status"</th>
                        <th scope="col" class=format!("{th} text-right")>"Duration"</th>
                        <th scope="col" class=format!("{th} text-right")>"Seen"</th>
                        <th scope="col" class=format!("{th} text-right")>"Added"</th>
                        <th scope="col" class=format!("{th} text-right")>"Changed"</th>
                        <th scope="col" class=format!("{th} text-right")>"Removed"</th>
                        <th scope="col" class=format!("{th} text-right")>"API calls"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {runs
                        .into_iter()
                        .map(|run| {
                            let href = format!("{HISTORY_PATH}/{}", run.id);
                            let duration = match run.duration_ms {
                                Some(ms) => format_duration_ms(ms),
                                None if run.status == SyncStatus::Running => "Running…".into(),
                                None => "—".into(),
                            };
                            view! {
                                <tr class="hover:bg-slate-50" data-testid="history-row" data-run-id=run.id.clone()>
                                    <td class="whitespace-nowrap px-2.5 py-2">
                                        <a href=href class="text-sky-700 underline hover:text-sky-900">
                                            <LocalTime at=run.started_at compact=true/>
                                            <span class="sr-only">" – details"</span>
                                        </a>
                                    </td>
                                    <td class="whitespace-nowrap px-2.5 py-2" data-kind=run.kind.as_str()>{sync_kind_label(run.kind)}</td>
                                    <td class="whitespace-nowrap px-2.5 py-2" data-trigger=run.trigger.as_str()>{sync_trigger_label(run.trigger)}</td>
                                    <td class="whitespace-nowrap px-2.5 py-2"><RunStatusBadge status=run.status/></td>
                                    <td class=num>{duration}</td>
                                    <td class=num>{group_thousands(run.devices_seen)}</td>
                                    <td class=num>{group_thousands(run.devices_added)}</td>
                                    <td class=num>{group_thousands(run.devices_changed)}</td>
                                    <td class=num>{group_thousands(run.devices_removed)}</td>
                                    <td class=num>{group_thousands(run.api_calls)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
