//! "Audit log" (admins only): who did what, from where, and how it ended; newest first,
//! filtered and paged through the query string (a GET form and plain links, so it works without
//! JavaScript), with a CSV download of the filtered log.

use crate::app::query::escape;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::get_audit_log;
use crate::app::components::alert::Alert;
use crate::app::components::icons::{CheckCircleIcon, MinusCircleIcon, XCircleIcon};
use crate::app::components::status::tone_classes;
use crate::app::components::time::LocalTime;
use crate::app::format::Tone;
use crate::app::layout::{Frame, PageHeading};
use crate::app::paths::{AUDIT_LOG, AUDIT_LOG_CSV};
use crate::model::{AuditAction, AuditEntry, AuditFilter, AuditPage, AuditResult};

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| AuditQuery::from_params(|k| p.get(k))));
    let page = Resource::new(
        move || query.get(),
        |q| get_audit_log(q.filter, q.cursor, q.limit),
    );
    view! {
        <Title text="Audit log"/>
        <Frame title="Audit log">
            <PageHeading
                title="Audit log"
                description="Every sign-in and every change: who did it, from which address, to what, and how it ended. Entries are never changed or deleted."
            />
            <Filters query/>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(data) => view! { <Entries data query=query.get_untracked()/> }.into_any(),
                        Err(e) => view! {
                            <Alert title="The audit log could not be loaded" message=e.to_string()/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// Action, result, actor and dates: a GET form, so the filters are in the address.
#[component]
fn Filters(query: Memo<AuditQuery>) -> impl IntoView {
    // What the address asks for, as the form sends it back.
    let param = move |name: &'static str| {
        Signal::derive(move || {
            query.with(|q| {
                let params = q.filter.params().into_iter();
                params.filter(|(k, _)| *k == name).map(|(_, v)| v).collect()
            })
        })
    };
    let actions = AuditAction::ALL.map(|a| (a.as_str(), action_label(a)));
    let results = RESULTS.map(|r| (r.as_str(), result_look(r).0));
    view! {
        <Form method="GET" action=AUDIT_LOG attr:class="mt-4 flex flex-wrap items-end gap-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" attr:aria-label="Filter audit entries">
            <FilterSelect name="action" label="Action" all="All actions" options=actions.to_vec()
                chosen=param("action")/>
            <FilterSelect name="result" label="Result" all="All results" options=results.to_vec()
                chosen=param("result")/>
            <FilterInput name="actor" label="Actor contains" kind="search" value=param("actor")/>
            <FilterInput name="from" label="From (UTC)" kind="date" value=param("from")/>
            <FilterInput name="to" label="To (UTC)" kind="date" value=param("to")/>
            {move || query.with(|q| q.limit).map(|l| view! { <input type="hidden" name="limit" value=l.to_string()/> })}
            <button
                type="submit"
                class="rounded-md bg-sky-700 px-4 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600 focus-visible:ring-offset-2"
            >
                "Apply filters"
            </button>
            {move || query.with(|q| q.filter.is_filtered()).then(|| view! {
                <a href=AUDIT_LOG class="py-1.5 text-sm text-sky-700 underline hover:text-sky-900">"Clear filters"</a>
            })}
        </Form>
    }
}

const FIELD: &str = "mt-1 block w-44 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";
const LABEL: &str = "block text-sm font-medium text-slate-700";

/// A labelled choice of one filter: "All …" (no filter) or one of `options` (value, words).
#[component]
fn FilterSelect(
    name: &'static str,
    label: &'static str,
    all: &'static str,
    options: Vec<(&'static str, &'static str)>,
    chosen: Signal<String>,
) -> impl IntoView {
    let id = format!("filter-{name}");
    view! {
        <div>
            <label for=id.clone() class=LABEL>{label}</label>
            <select id=id name=name class=FIELD>
                <option value="">{all}</option>
                {options
                    .into_iter()
                    .map(|(value, words)| view! {
                        <option value=value selected=move || chosen.with(|c| c == value)>{words}</option>
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// A labelled text or date field of one filter.
#[component]
fn FilterInput(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: Signal<String>,
) -> impl IntoView {
    let id = format!("filter-{name}");
    view! {
        <div>
            <label for=id.clone() class=LABEL>{label}</label>
            <input id=id name=name type=kind class=FIELD value=value/>
        </div>
    }
}

/// The download link, the entries and the paging links.
#[component]
fn Entries(data: AuditPage, query: AuditQuery) -> impl IntoView {
    let AuditPage {
        entries,
        next_cursor,
    } = data;
    let older = next_cursor.map(|c| query.older_href(&c));
    let newest = query.cursor.is_some().then(|| query.newest_href());
    let empty_text = if query.filter.is_filtered() {
        "No entries match these filters."
    } else {
        "No entries yet."
    };
    let link = "text-sky-700 underline hover:text-sky-900";
    view! {
        <section aria-labelledby="entries-heading" class="mt-4 rounded-lg border border-slate-200 bg-white shadow-sm">
            <div class="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-5 py-3">
                <h2 id="entries-heading" class="font-semibold">"Entries"</h2>
                <a
                    href=query.csv_href()
                    download="audit-log.csv"
                    class="rounded-md px-3 py-1.5 text-sm font-semibold text-sky-800 ring-1 ring-inset ring-sky-700 hover:bg-sky-50"
                >
                    "Download CSV"
                </a>
            </div>
            {if entries.is_empty() {
                view! { <p class="px-5 py-8 text-center text-sm text-slate-600" data-testid="audit-empty">{empty_text}</p> }.into_any()
            } else {
                view! { <EntriesTable entries/> }.into_any()
            }}
            <nav aria-label="Pages of audit entries" class="flex justify-between gap-2 border-t border-slate-200 px-5 py-3 text-sm">
                <span>{newest.map(|href| view! { <a href=href class=link>"Newest entries"</a> })}</span>
                <span>{older.map(|href| view! { <a href=href class=link>"Older entries"</a> })}</span>
            </nav>
        </section>
    }
}

#[component]
fn EntriesTable(entries: Vec<AuditEntry>) -> impl IntoView {
    // Six columns that fit a 1280-pixel window beside the navigation: the address under the
    // actor, the Exchange write (cmdlet and parameters) above the detail.
    let th = "px-2.5 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500";
    let td = "px-2.5 py-2 align-top";
    view! {
        <div class="overflow-x-auto">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <caption class="sr-only">"Audit entries, newest first"</caption>
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=th>"Time"</th>
                        <th scope="col" class=th>"Actor and address"</th>
                        <th scope="col" class=th>"Action"</th>
                        <th scope="col" class=th>"Target"</th>
                        <th scope="col" class=th>"Result"</th>
                        <th scope="col" class=th>"Exchange change and detail"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {entries
                        .into_iter()
                        .map(|e| {
                            let parameters = e.parameters.as_deref().map(parameters_text);
                            view! {
                                <tr class="hover:bg-slate-50" data-testid="audit-row" data-entry-id=e.id.to_string()>
                                    <td class=format!("{td} whitespace-nowrap")><LocalTime at=e.at compact=true/></td>
                                    <td class=format!("{td} min-w-[10rem] max-w-[16rem] [overflow-wrap:anywhere]")>
                                        {e.actor}
                                        <span class="block text-xs tabular-nums text-slate-500" data-testid="audit-address">{e.source_address}</span>
                                    </td>
                                    <td class=format!("{td} whitespace-nowrap") data-action=e.action.as_str()>{action_label(e.action)}</td>
                                    <td class=format!("{td} min-w-[8rem] max-w-[14rem] [overflow-wrap:anywhere]")>{e.target}</td>
                                    <td class=format!("{td} whitespace-nowrap")><ResultBadge result=e.result/></td>
                                    <td class=format!("{td} min-w-[14rem] max-w-md [overflow-wrap:anywhere]")>
                                        {e.cmdlet.map(|c| view! { <code class="block font-mono text-xs font-semibold">{c}</code> })}
                                        {parameters.map(|p| view! { <code class="mb-1 block break-all font-mono text-xs text-slate-600">{p}</code> })}
                                        {e.detail}
                                        {e.request_id.map(|id| view! { <span class="mt-1 block font-mono text-xs text-slate-500">"Request id " {id}</span> })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// How an action ended: a word, an icon and a colour.
#[component]
fn ResultBadge(result: AuditResult) -> impl IntoView {
    let (words, tone) = result_look(result);
    let icon = match result {
        AuditResult::Success => view! { <CheckCircleIcon class="h-4 w-4"/> }.into_any(),
        AuditResult::Failure => view! { <XCircleIcon class="h-4 w-4"/> }.into_any(),
        AuditResult::Denied => view! { <MinusCircleIcon class="h-4 w-4"/> }.into_any(),
    };
    view! {
        <span
            class=format!(
                "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}",
                tone_classes(tone),
            )
            data-testid="audit-result"
            data-result=result.as_str()
        >
            {icon}
            <span>{words}</span>
        </span>
    }
}

/// What the audit log page's query string asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub filter: AuditFilter,
    /// `next_cursor` of the page before; `None` for the newest entries.
    pub cursor: Option<String>,
    /// Entries per page when not the default.
    pub limit: Option<u32>,
}

impl AuditQuery {
    /// Reads the filter (see [`AuditFilter::from_params`]), `cursor` and `limit`.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let value = |key: &str| get(key).filter(|v| !v.is_empty());
        Self {
            filter: AuditFilter::from_params(&get),
            cursor: value("cursor"),
            limit: value("limit").and_then(|v| v.parse().ok()),
        }
    }

    /// The entries after `cursor`, with the same filters.
    pub fn older_href(&self, cursor: &str) -> String {
        self.href(AUDIT_LOG, true, Some(cursor))
    }

    /// The newest entries with the same filters.
    pub fn newest_href(&self) -> String {
        self.href(AUDIT_LOG, true, None)
    }

    /// The CSV download of the filtered log (all pages).
    pub fn csv_href(&self) -> String {
        self.href(AUDIT_LOG_CSV, false, None)
    }

    fn href(&self, path: &str, with_limit: bool, cursor: Option<&str>) -> String {
        let mut pairs = self.filter.params();
        if let Some(limit) = self.limit.filter(|_| with_limit) {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor.to_owned()));
        }
        let mut href = path.to_owned();
        for (i, (key, value)) in pairs.iter().enumerate() {
            href.push(if i == 0 { '?' } else { '&' });
            href.push_str(key);
            href.push('=');
            href.push_str(&escape(value));
        }
        href
    }
}

const RESULTS: [AuditResult; 3] = [
    AuditResult::Success,
    AuditResult::Failure,
    AuditResult::Denied,
];

/// An action in words (the filter's options and the table).
pub fn action_label(action: AuditAction) -> &'static str {
    match action {
        AuditAction::SignIn => "Sign-in",
        AuditAction::SignInFailed => "Failed sign-in",
        AuditAction::SignOut => "Sign-out",
        AuditAction::SetUp => "Connector set-up",
        AuditAction::Removal => "Connector removal",
        AuditAction::SyncStart => "Sync start",
        AuditAction::SettingsChange => "Settings change",
        AuditAction::UserChange => "User change",
        AuditAction::AccessDenied => "Access denied",
        AuditAction::DeviceAction => "Device action",
        AuditAction::ExchangeChange => "Exchange change",
    }
}

/// A result in words, and its colour.
pub fn result_look(result: AuditResult) -> (&'static str, Tone) {
    match result {
        AuditResult::Success => ("Success", Tone::Success),
        AuditResult::Failure => ("Failure", Tone::Danger),
        AuditResult::Denied => ("Denied", Tone::Pending),
    }
}

/// A cmdlet's parameters on one line: a JSON object as `Name=value, …` (text unquoted);
/// anything else as stored.
pub fn parameters_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(name, value)| match value {
                serde_json::Value::String(s) => format!("{name}={s}"),
                other => format!("{name}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => json.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_and_download_links_keep_the_filters() {
        let params = [
            ("action", "syncStart"),
            ("actor", "a b&c"),
            ("limit", "2"),
            ("cursor", "old"),
        ];
        let q = AuditQuery::from_params(|key| {
            params
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        });
        assert_eq!(q.filter.action, Some(AuditAction::SyncStart));
        assert_eq!(q.cursor.as_deref(), Some("old"));
        assert_eq!(
            q.older_href("2026-11-24T10:00:00+00:00|7"),
            format!(
                "{AUDIT_LOG}?action=syncStart&actor=a%20b%26c&limit=2&cursor=2026-11-24T10%3A00%3A00%2B00%3A00%7C7"
            )
        );
        assert_eq!(
            q.newest_href(),
            format!("{AUDIT_LOG}?action=syncStart&actor=a%20b%26c&limit=2")
        );
        assert_eq!(
            q.csv_href(),
            format!("{AUDIT_LOG_CSV}?action=syncStart&actor=a%20b%26c")
        );
        assert_eq!(AuditQuery::default().csv_href(), AUDIT_LOG_CSV);
    }

    #[test]
    fn every_action_and_result_has_its_own_words() {
        let actions: std::collections::BTreeSet<_> =
            AuditAction::ALL.into_iter().map(action_label).collect();
        assert_eq!(actions.len(), AuditAction::ALL.len());
        assert_eq!(result_look(AuditResult::Failure), ("Failure", Tone::Danger));
    }

    #[test]
    fn parameters_read_as_name_value_pairs_and_other_text_as_stored() {
        assert_eq!(
            parameters_text(r#"{"Enabled":true,"Identity":"rule 1"}"#),
            "Enabled=true, Identity=rule 1"
        );
        assert_eq!(parameters_text("[1,2]"), "[1,2]");
        assert_eq!(parameters_text("not json"), "not json");
    }
}
