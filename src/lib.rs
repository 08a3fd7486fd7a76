//! exchange-connector: the Intune "Exchange service connector" page for Exchange Online,
//! self-hosted. `app` is the UI, `api` the server functions, `server` everything that only runs
//! on the server, `sim` the Exchange Online simulator (the other side of the wire).

// The connector page's view type is deep; the release wasm build needs more than the default
// 128 query levels to lay it out.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod error;
pub mod model;

#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod sim;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // In a split build each group of pages is its own file (`app::routes`): hydration waits
    // for the shown page's group, then takes over the server's HTML.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("the page has a body");
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        // A marker for end-to-end tests and support: the page is interactive from here on.
        if let Some(body) = leptos::prelude::document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
