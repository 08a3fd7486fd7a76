//! Inline SVG icons (no icon font, nothing fetched). Decorative: the words next to them carry
//! the meaning.

use leptos::prelude::*;

#[component]
pub fn CheckCircleIcon(#[prop(into, default = "h-5 w-5".into())] class: String) -> impl IntoView {
    view! {
        <svg class=class viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
            <path fill-rule="evenodd" d="M10 18a8 8 0 100-16 8 8 0 000 16zm3.857-9.809a.75.75 0 00-1.214-.882l-3.483 4.79-1.88-1.88a.75.75 0 10-1.06 1.061l2.5 2.5a.75.75 0 001.137-.089l4-5.5z" clip-rule="evenodd"/>
        </svg>
    }
}

#[component]
pub fn XCircleIcon(#[prop(into, default = "h-5 w-5".into())] class: String) -> impl IntoView {
    view! {
        <svg class=class viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
            <path fill-rule="evenodd" d="M10 18a8 8 0 100-16 8 8 0 000 16zM8.28 7.22a.75.75 0 00-1.06 1.06L8.94 10l-1.72 1.72a.75.75 0 101.06 1.06L10 11.06l1.72 1.72a.75.75 0 101.06-1.06L11.06 10l1.72-1.72a.75.75 0 00-1.06-1.06L10 8.94 8.28 7.22z" clip-rule="evenodd"/>
        </svg>
    }
}

#[component]
pub fn ClockIcon(#[prop(into, default = "h-5 w-5".into())] class: String) -> impl IntoView {
    view! {
        <svg class=class viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
            <path fill-rule="evenodd" d="M10 18a8 8 0 100-16 8 8 0 000 16zm.75-13a.75.75 0 00-1.5 0v5c0 .414.336.75.75.75h4a.75.75 0 000-1.5h-3.25V5z" clip-rule="evenodd"/>
        </svg>
    }
}

#[component]
pub fn MinusCircleIcon(#[prop(into, default = "h-5 w-5".into())] class: String) -> impl IntoView {
    view! {
        <svg class=class viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
            <path fill-rule="evenodd" d="M10 18a8 8 0 100-16 8 8 0 000 16zM6.75 9.25a.75.75 0 000 1.5h6.5a.75.75 0 000-1.5h-6.5z" clip-rule="evenodd"/>
        </svg>
    }
}

#[component]
pub fn SpinnerIcon(#[prop(into, default = "h-5 w-5".into())] class: String) -> impl IntoView {
    view! {
        <svg class=format!("animate-spin {class}") viewBox="0 0 24 24" fill="none" aria-hidden="true">
            <circle class="opacity-25" cx="12" cy="12" r="10" stroke="currentColor" stroke-width="4"></circle>
            <path class="opacity-75" fill="currentColor" d="M4 12a8 8 0 018-8v4a4 4 0 00-4 4H4z"></path>
        </svg>
    }
}
