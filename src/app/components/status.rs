//! The connection status badge: a word, an icon and a colour, never colour alone.

use leptos::prelude::*;

use super::icons::{CheckCircleIcon, ClockIcon, MinusCircleIcon, XCircleIcon};
use crate::app::format::{status_tone, Tone};
use crate::model::ConnectionStatus;

#[component]
pub fn StatusBadge(#[prop(into)] status: Signal<ConnectionStatus>) -> impl IntoView {
    let classes = move || {
        format!(
            "inline-flex items-center gap-1.5 rounded-full px-3 py-1 text-sm font-semibold ring-1 ring-inset {}",
            tone_classes(status_tone(status.get()))
        )
    };
    let icon = move || match status.get() {
        ConnectionStatus::Connected => view! { <CheckCircleIcon/> }.into_any(),
        ConnectionStatus::ConnectionPending => view! { <ClockIcon/> }.into_any(),
        ConnectionStatus::Disconnected => view! { <XCircleIcon/> }.into_any(),
        ConnectionStatus::None => view! { <MinusCircleIcon/> }.into_any(),
    };
    view! {
        <span
            class=classes
            data-testid="connection-status"
            data-status=move || status.get().as_str()
        >
            {icon}
            <span>{move || status.get().label()}</span>
        </span>
    }
}

/// Background, text and ring colours of a tone (always shown with a word and an icon).
pub fn tone_classes(tone: Tone) -> &'static str {
    match tone {
        Tone::Success => "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
        Tone::Pending => "bg-amber-50 text-amber-800 ring-amber-600/30",
        Tone::Danger => "bg-red-50 text-red-800 ring-red-600/30",
        Tone::Neutral => "bg-slate-100 text-slate-700 ring-slate-500/30",
    }
}
