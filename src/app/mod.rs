//! The UI: the HTML shell, the router and the pages. Talks to the server only through `api`.

pub mod chart;
pub mod components;
pub mod devices;
pub mod format;
pub mod layout;
pub mod live;
pub mod page_data;
pub mod pages;
pub mod paths;
pub mod query;
mod routes;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
};

use pages::not_found::NotFound;
#[cfg(feature = "ssr")]
pub use routes::PagePreloads;
use routes::{
    AccountRoute, AuditLogRoute, ConnectorRoute, DeviceRoute, DevicesRoute, ExchangeAccessRoute,
    FirstAdminRoute, NotificationsRoute, ReadinessRoute, SignInRoute, SyncHistoryRoute,
    SyncRunRoute, UsersRoute,
};

/// The front end's built files under the site's package directory, as the pages link them
/// (`/pkg/exchange-connector.<hash>.wasm` in a build that hashes its files). The server finds
/// them once, at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildFiles {
    pub css: String,
    pub js: String,
    pub wasm: String,
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions, files: BuildFiles) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="description" content="Exchange service connector for Exchange Online"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options/>
                <link id="leptos" rel="stylesheet" href=files.css.clone()/>
                <Hydration files/>
                <MetaTags/>
            </head>
            <body class="antialiased">
                <App/>
            </body>
        </html>
    }
}

/// Fetches the JS and the wasm early and hydrates the page when both are in, with the page's
/// CSP nonce (what Leptos' `HydrationScripts` renders, without reading the build's hash file
/// again on every page).
#[component]
fn Hydration(files: BuildFiles) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    // JSON strings are JavaScript strings.
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let script = format!(
        "import({js}).then(m => m.default({{module_or_path: {wasm}}}).then(() => m.hydrate()));",
        js = quoted(&files.js),
        wasm = quoted(&files.wasm),
    );
    view! {
        <link rel="modulepreload" href=files.js crossorigin="anonymous"/>
        <link
            rel="preload"
            href=files.wasm
            r#as="fetch"
            r#type="application/wasm"
            crossorigin="anonymous"
        />
        <script type="module" nonce=nonce>
            {script}
        </script>
    }
}

/// The application: routes to the pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    layout::CurrentUser::provide();
    view! {
        <Title formatter=|page: String| format!("{page} – Exchange Connector")/>
        <Router>
            <Routes fallback=NotFound>
                // Async: the server sends the finished page, so it reads right without JavaScript.
                <Route path=path!("/") view={Lazy::<ConnectorRoute>::new()} ssr=SsrMode::Async/>
                <Route
                    path=path!("/conditional-access/exchange-connector")
                    view={Lazy::<ConnectorRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/exchange-connector/sync-history")
                    view={Lazy::<SyncHistoryRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/exchange-connector/sync-history/:id")
                    view={Lazy::<SyncRunRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/devices")
                    view={Lazy::<DevicesRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/devices/:id")
                    view={Lazy::<DeviceRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/readiness")
                    view={Lazy::<ReadinessRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/exchange-access")
                    view={Lazy::<ExchangeAccessRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route path=path!("/admin/audit-log") view={Lazy::<AuditLogRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/sign-in") view={Lazy::<SignInRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/first-admin") view={Lazy::<FirstAdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async/>
                <Route
                    path=path!("/admin/notifications")
                    view={Lazy::<NotificationsRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
