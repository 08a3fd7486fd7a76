//! The sync history chart: inline SVG drawn on the server from [`crate::app::chart::layout`],
//! with a title, labelled axes and a text summary, so it reads without JavaScript.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::app::chart::{
    layout, DEVICES_TOP, DURATION_TOP, HEIGHT, LEFT, PANEL_HEIGHT, RIGHT, WIDTH,
};
use crate::model::ChartPoint;

#[component]
pub fn HistoryChart(points: Vec<ChartPoint>, now: DateTime<Utc>) -> impl IntoView {
    let chart = layout(&points, now);
    let summary = chart.summary.clone();
    let right = WIDTH - RIGHT;
    let axis = |top: f64| {
        let bottom = top + PANEL_HEIGHT;
        view! {
            <line x1=LEFT y1=top x2=LEFT y2=bottom class="stroke-slate-400" stroke-width="1"/>
            <line x1=LEFT y1=bottom x2=right y2=bottom class="stroke-slate-400" stroke-width="1"/>
        }
    };
    let grid = |ticks: &[crate::app::chart::Tick]| {
        ticks
            .iter()
            .map(|t| {
                let label = t.label.clone();
                view! {
                    <line x1=LEFT y1=t.y x2=right y2=t.y class="stroke-slate-200" stroke-width="1"/>
                    <text x=LEFT - 6.0 y=t.y + 4.0 text-anchor="end" class="fill-slate-500 text-[11px]">{label}</text>
                }
            })
            .collect_view()
    };
    let dates = |top: f64| {
        chart
            .date_ticks
            .iter()
            .map(|d| {
                let label = d.label.clone();
                view! {
                    <text x=d.x y=top + PANEL_HEIGHT + 16.0 text-anchor="middle" class="fill-slate-500 text-[11px]">{label}</text>
                }
            })
            .collect_view()
    };
    let bars = chart
        .points
        .iter()
        .map(|p| {
            let height = (DURATION_TOP + PANEL_HEIGHT - p.duration_y).max(1.0);
            let class = if p.failed { "fill-red-500" } else { "fill-sky-600" };
            view! {
                <rect x=p.x - 2.0 y=DURATION_TOP + PANEL_HEIGHT - height width="4" height=height class=class>
                    <title>{p.title.clone()}</title>
                </rect>
            }
        })
        .collect_view();
    let dots = chart
        .points
        .iter()
        .map(|p| {
            view! {
                <circle cx=p.x cy=p.devices_y r="3" class="fill-emerald-600">
                    <title>{p.title.clone()}</title>
                </circle>
            }
        })
        .collect_view();

    view! {
        <figure class="mt-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="chart-caption">
            <figcaption id="chart-caption" class="font-semibold">"Last 30 days"</figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-labelledby="chart-title chart-desc"
                class="mt-3 h-auto w-full max-w-4xl"
                data-testid="history-chart"
            >
                <title id="chart-title">"Sync duration and devices seen over the last 30 days"</title>
                <desc id="chart-desc">{summary.clone()}</desc>
                <text x=LEFT y=DURATION_TOP - 8.0 class="fill-slate-700 text-[12px] font-semibold">"Duration"</text>
                {grid(&chart.duration_ticks)}
                {axis(DURATION_TOP)}
                {bars}
                {dates(DURATION_TOP)}
                <text x=LEFT y=DEVICES_TOP - 8.0 class="fill-slate-700 text-[12px] font-semibold">"Devices seen"</text>
                {grid(&chart.device_ticks)}
                {axis(DEVICES_TOP)}
                <polyline points=chart.devices_line.clone() fill="none" class="stroke-emerald-600" stroke-width="1.5"/>
                {dots}
                {dates(DEVICES_TOP)}
            </svg>
            <p class="mt-2 text-sm text-slate-600" data-testid="chart-summary">{summary}</p>
            <p class="mt-1 text-xs text-slate-500">
                <span class="mr-1 inline-block h-2 w-2 rounded-sm bg-sky-600" aria-hidden="true"></span>"finished run "
                <span class="ml-3 mr-1 inline-block h-2 w-2 rounded-sm bg-red-500" aria-hidden="true"></span>"failed or interrupted run "
                <span class="ml-3 mr-1 inline-block h-2 w-2 rounded-full bg-emerald-600" aria-hidden="true"></span>"devices seen"
            </p>
        </figure>
    }
}
