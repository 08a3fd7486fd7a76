//! Sync pieces: the health badge, a run's status badge and the progress bar of a running sync.

use leptos::prelude::*;

use super::icons::{
    CheckCircleIcon, ClockIcon, MinusCircleIcon, SpinnerIcon, WarningIcon, XCircleIcon,
};
use super::status::tone_classes;
use crate::app::format::{
    health_label, health_tone, phase_text, progress_percent, sync_kind_label, sync_status_label,
    sync_status_tone,
};
use crate::model::{Health, SyncProgress, SyncStatus};

const BADGE: &str =
    "inline-flex items-center gap-1.5 rounded-full px-3 py-1 text-sm font-semibold ring-1 ring-inset";

/// Healthy / Warning / Unhealthy: a word, an icon and a colour.
#[component]
pub fn HealthBadge(#[prop(into)] health: Signal<Health>) -> impl IntoView {
    let icon = move || match health.get() {
        Health::Healthy => view! { <CheckCircleIcon/> }.into_any(),
        Health::Warning => view! { <WarningIcon/> }.into_any(),
        Health::Unhealthy => view! { <XCircleIcon/> }.into_any(),
    };
    view! {
        <span
            class=move || format!("{BADGE} {}", tone_classes(health_tone(health.get())))
            data-testid="health"
            data-health=move || health.get().as_str()
        >
            {icon}
            <span>{move || health_label(health.get())}</span>
        </span>
    }
}

/// In place of the health while set-up's first sync runs (a set-up going well, not a failure).
#[component]
pub fn FirstSyncBadge() -> impl IntoView {
    view! {
        <span class=format!("{BADGE} bg-sky-50 text-sky-800 ring-sky-600/20") data-testid="first-sync">
            <SpinnerIcon class="h-4 w-4"/>
            <span>"First sync running"</span>
        </span>
    }
}

/// A sync run's status: a word, an icon and a colour.
#[component]
pub fn RunStatusBadge(status: SyncStatus) -> impl IntoView {
    let icon = match status {
        SyncStatus::Running => view! { <ClockIcon class="h-4 w-4"/> }.into_any(),
        SyncStatus::Succeeded => view! { <CheckCircleIcon class="h-4 w-4"/> }.into_any(),
        SyncStatus::Partial => view! { <WarningIcon class="h-4 w-4"/> }.into_any(),
        SyncStatus::Failed => view! { <XCircleIcon class="h-4 w-4"/> }.into_any(),
        SyncStatus::Interrupted => view! { <MinusCircleIcon class="h-4 w-4"/> }.into_any(),
    };
    view! {
        <span
            class=format!(
                "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}",
                tone_classes(sync_status_tone(status)),
            )
            data-testid="run-status"
            data-status=status.as_str()
        >
            {icon}
            <span>{sync_status_label(status)}</span>
        </span>
    }
}

/// The progress bar of the running sync: how far, and the phase in words.
#[component]
pub fn SyncProgressBar(#[prop(into)] progress: Signal<Option<SyncProgress>>) -> impl IntoView {
    let percent = move || progress.with(|p| p.as_ref().map(progress_percent).unwrap_or(0));
    let text = move || progress.with(|p| p.as_ref().map(phase_text).unwrap_or_default());
    let title = move || {
        progress.with(|p| {
            p.as_ref()
                .map(|p| format!("{} running", sync_kind_label(p.kind)))
                .unwrap_or_default()
        })
    };
    view! {
        <Show when=move || progress.with(Option::is_some)>
            <section
                aria-labelledby="progress-heading"
                class="mt-4 rounded-lg border border-sky-200 bg-sky-50 p-5 shadow-sm"
                data-testid="sync-progress"
            >
                <h2 id="progress-heading" class="flex items-center gap-2 text-sm font-semibold text-sky-900">
                    <SpinnerIcon class="h-4 w-4"/>
                    {title}
                </h2>
                <div
                    role="progressbar"
                    aria-labelledby="progress-heading"
                    aria-valuemin="0"
                    aria-valuemax="100"
                    aria-valuenow=move || percent().to_string()
                    aria-valuetext=text
                    class="mt-3 h-2.5 w-full overflow-hidden rounded-full bg-sky-100"
                >
                    <div
                        class="h-full rounded-full bg-sky-600 transition-[width] duration-200"
                        style=move || format!("width: {}%", percent())
                    ></div>
                </div>
                <p class="mt-2 text-sm text-sky-900" data-testid="sync-phase" aria-live="polite">{text}</p>
            </section>
        </Show>
    }
}
