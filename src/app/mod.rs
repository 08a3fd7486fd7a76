//! The UI: the HTML shell, the router and the pages. Talks to the server only through `api`.

pub mod chart;
pub mod components;
pub mod devices;
pub mod format;
pub mod layout;
pub mod live;
pub mod pages;
pub mod paths;
pub mod query;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use pages::account::AccountPage;
use pages::audit_log::AuditLogPage;
use pages::connector::ConnectorPage;
use pages::device::DevicePage;
use pages::devices::DevicesPage;
use pages::exchange_access::ExchangeAccessPage;
use pages::first_admin::FirstAdminPage;
use pages::history::SyncHistoryPage;
use pages::not_found::NotFound;
use pages::notifications::NotificationsPage;
use pages::readiness::ReadinessPage;
use pages::sign_in::SignInPage;
use pages::sync_run::SyncRunPage;
use pages::users::UsersPage;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="description" content="Exchange service connector for Exchange Online"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                // The build's stylesheet, by its content-hashed name when the build hashes.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The application: routes to the pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} – Exchange Connector")/>
        <Router>
            <Routes fallback=NotFound>
                // Async: the server sends the finished page, so it reads right without JavaScript.
                <Route path=path!("/") view=ConnectorPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/conditional-access/exchange-connector")
                    view=ConnectorPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/exchange-connector/sync-history")
                    view=SyncHistoryPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/conditional-access/exchange-connector/sync-history/:id")
                    view=SyncRunPage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/conditional-access/devices") view=DevicesPage ssr=SsrMode::Async/>
                <Route path=path!("/conditional-access/devices/:id") view=DevicePage ssr=SsrMode::Async/>
                <Route path=path!("/conditional-access/readiness") view=ReadinessPage ssr=SsrMode::Async/>
                <Route path=path!("/conditional-access/exchange-access") view=ExchangeAccessPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit-log") view=AuditLogPage ssr=SsrMode::Async/>
                <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/first-admin") view=FirstAdminPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/notifications") view=NotificationsPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
