//! Pieces of the device pages: the access-state badge and the summary chart (an SVG donut
//! drawn on the server whose arcs and legend entries link into the filtered list).

use leptos::prelude::*;

use crate::app::devices::{
    bucket_badge, bucket_label, bucket_stroke, bucket_swatch, donut, donut_circumference,
    reason_label, DONUT_RADIUS,
};
use crate::app::format::group_thousands;
use crate::model::StateBucket;

/// An access state as a badge (word and colour), with its reason below when given.
#[component]
pub fn StateBadge(state: String, reason: Option<String>) -> impl IntoView {
    let bucket = StateBucket::of(&state);
    let word = match bucket {
        StateBucket::Other => state.clone(),
        b => bucket_label(b).to_owned(),
    };
    view! {
        <span
            class=format!("inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}", bucket_badge(bucket))
            data-state=state
        >
            {word}
        </span>
        {reason.map(|r| view! { <span class="mt-0.5 block text-xs text-slate-600">{reason_label(&r)}</span> })}
    }
}

/// The donut of present devices by state, its legend and the total; each count comes with its
/// link (the filtered list), `active` marks the state filtered on.
#[component]
pub fn StateChart(
    counts: Vec<(StateBucket, u64, String)>,
    total: u64,
    active: Option<StateBucket>,
    all_href: String,
) -> impl IntoView {
    let c = donut_circumference();
    let href = |b: StateBucket| {
        counts
            .iter()
            .find(|(x, _, _)| *x == b)
            .map(|(_, _, h)| h.clone())
            .unwrap_or_default()
    };
    let arcs = donut(&counts.iter().map(|(b, n, _)| (*b, *n)).collect::<Vec<_>>());
    let summary = counts
        .iter()
        .map(|(b, n, _)| format!("{} {}", bucket_label(*b), group_thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ");
    let segments = arcs
        .iter()
        .map(|a| {
            let label = format!(
                "{}: {} devices",
                bucket_label(a.bucket),
                group_thousands(a.count)
            );
            let title = label.clone();
            // In a `g`: built on its own, the macro would make `a` an HTML link, which a
            // browser does not draw inside an SVG (the arcs went missing after a navigation).
            view! {
                <g>
                    <a href=href(a.bucket) aria-label=label>
                        <circle
                            cx="80" cy="80" r=DONUT_RADIUS
                            fill="none"
                            stroke-width="22"
                            class=format!("{} hover:opacity-80", bucket_stroke(a.bucket))
                            stroke-dasharray=format!("{} {}", a.length, c - a.length)
                            stroke-dashoffset=format!("{}", -a.start)
                            transform="rotate(-90 80 80)"
                            data-state=a.bucket.as_str()
                        >
                            <title>{title}</title>
                        </circle>
                    </a>
                </g>
            }
        })
        .collect_view();
    let legend = counts
        .iter()
        .map(|(b, n, _)| {
            let current = active == Some(*b);
            view! {
                <li>
                    <a
                        href=href(*b)
                        class=if current { "flex items-center gap-2 rounded px-2 py-1 text-sm font-semibold ring-1 ring-sky-600" } else { "flex items-center gap-2 rounded px-2 py-1 text-sm hover:bg-slate-100" }
                        aria-current=current.then_some("true")
                        data-testid="state-legend"
                        data-state=b.as_str()
                    >
                        <span class=format!("inline-block h-3 w-3 rounded-sm {}", bucket_swatch(*b)) aria-hidden="true"></span>
                        <span class="w-32">{bucket_label(*b)}</span>
                        <span class="tabular-nums font-semibold" data-testid="state-count">{group_thousands(*n)}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="summary-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="summary-heading" class="font-semibold">"Devices by access state"</h2>
            <div class="mt-3 flex flex-wrap items-center gap-8">
                <svg viewBox="0 0 160 160" class="h-40 w-40" data-testid="state-chart" aria-labelledby="state-chart-title">
                    <title id="state-chart-title">{format!("Present devices by access state: {summary}")}</title>
                    <circle cx="80" cy="80" r=DONUT_RADIUS fill="none" stroke-width="22" class="stroke-slate-100"/>
                    {segments}
                    <text x="80" y="78" text-anchor="middle" class="fill-slate-900 text-[22px] font-semibold" data-testid="device-total">{group_thousands(total)}</text>
                    <text x="80" y="98" text-anchor="middle" class="fill-slate-600 text-[11px]">"devices"</text>
                </svg>
                <div>
                    <ul class="space-y-0.5" aria-label="Filter by access state">{legend}</ul>
                    <a href=all_href class="mt-2 inline-block px-2 text-sm text-sky-700 underline hover:text-sky-900">
                        {format!("All {} devices", group_thousands(total))}
                    </a>
                </div>
            </div>
        </section>
    }
}
