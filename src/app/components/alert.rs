//! The red alert box of a failure the page could not get past.

use leptos::prelude::*;

use super::icons::XCircleIcon;

/// `role="alert"` box with a title and the plain-language message.
#[component]
pub fn Alert(#[prop(into)] title: String, #[prop(into)] message: String) -> impl IntoView {
    view! {
        <div role="alert" class="mt-4 flex gap-3 rounded-md border border-red-200 bg-red-50 p-4 text-red-900">
            <XCircleIcon class="mt-0.5 h-5 w-5 shrink-0 text-red-600"/>
            <div>
                <p class="font-semibold">{title}</p>
                <p class="mt-1 text-sm">{message}</p>
            </div>
        </div>
    }
}
