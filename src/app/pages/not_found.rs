use leptos::prelude::*;
use leptos_meta::Title;

use crate::app::layout::Frame;

/// Any unknown path; answers 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <Frame title="Page not found">
            <h1 class="mt-4 text-2xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">
                "There is no page at this address. "
                <a class="text-sky-700 underline" href="/">"Go to the Exchange service connector"</a>
            </p>
        </Frame>
    }
}
