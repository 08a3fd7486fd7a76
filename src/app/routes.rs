//! The pages as routes whose code the browser loads when a page of their group is first shown.
//!
//! A build with the `split` feature (`cargo leptos build --split --lib-features split`,
//! what `make` runs) cuts the wasm into the app's frame and one file per group of pages, plus the
//! code groups share: a first visit downloads the frame and its page's group, not every page.
//! Pages that are used together are one group, so a page needs a handful of files, not dozens.
//! Without the feature every page is in the one wasm file, as before.
//!
//! A group's file that does not arrive (a network that drops, or a new build that replaced the
//! files while the tab was open) never stops the app: on a click the browser loads the page from
//! the server instead; while the first page hydrates, the page stays as the server sent it,
//! which works without JavaScript.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use super::pages::account::AccountPage;
use super::pages::audit_log::AuditLogPage;
use super::pages::connector::ConnectorPage;
use super::pages::device::DevicePage;
use super::pages::devices::DevicesPage;
use super::pages::exchange_access::ExchangeAccessPage;
use super::pages::first_admin::FirstAdminPage;
use super::pages::history::SyncHistoryPage;
use super::pages::notifications::NotificationsPage;
use super::pages::readiness::ReadinessPage;
use super::pages::sign_in::SignInPage;
use super::pages::sync_run::SyncRunPage;
use super::pages::users::UsersPage;

/// A page's group did not load.
#[derive(Debug)]
pub struct NotLoaded;

#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// The routes of one group of pages: `group` renders them, and is its own file in a split build;
/// `load` fetches that file (the router does before it renders a route, hydration included).
macro_rules! page_group {
    ($group:ident, $load:ident, $pages:ident { $($route:ident => $page:ident),+ $(,)? }) => {
        // Named after their routes, which all end in `Route`.
        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        enum $pages {
            $($route,)+
        }

        #[cfg_attr(
            feature = "split",
            leptos::wasm_split::wasm_split(
                $group,
                wasm_split_path = ::leptos::wasm_split,
                preload($load),
                fallible
            )
        )]
        fn $group(page: $pages) -> Result<AnyView, NotLoaded> {
            Ok(match page {
                $($pages::$route => view! { <$page/> }.into_any(),)+
            })
        }

        $(
            pub(super) struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                async fn preload() {
                    // A file that does not arrive is handled where the page is shown.
                    #[cfg(feature = "split")]
                    let _ = $load().await;
                }

                async fn view(_this: Self) -> AnyView {
                    #[cfg(feature = "ssr")]
                    preload(stringify!($group));
                    shown(loaded!($group($pages::$route))).await
                }
            }
        )+
    };
}

/// A group's view: awaited where it is split off.
#[cfg(feature = "split")]
macro_rules! loaded {
    ($call:expr) => {
        $call.await
    };
}
#[cfg(not(feature = "split"))]
macro_rules! loaded {
    ($call:expr) => {
        $call
    };
}

page_group!(sign_in_pages, load_sign_in_pages, SignInPages {
    SignInRoute => SignInPage,
    FirstAdminRoute => FirstAdminPage,
});
page_group!(connector_pages, load_connector_pages, ConnectorPages {
    ConnectorRoute => ConnectorPage,
});
page_group!(history_pages, load_history_pages, HistoryPages {
    SyncHistoryRoute => SyncHistoryPage,
    SyncRunRoute => SyncRunPage,
});
page_group!(device_pages, load_device_pages, DevicePages {
    DevicesRoute => DevicesPage,
    DeviceRoute => DevicePage,
    ReadinessRoute => ReadinessPage,
});
page_group!(access_pages, load_access_pages, AccessPages {
    ExchangeAccessRoute => ExchangeAccessPage,
});
page_group!(admin_pages, load_admin_pages, AdminPages {
    AuditLogRoute => AuditLogPage,
    UsersRoute => UsersPage,
    NotificationsRoute => NotificationsPage,
    AccountRoute => AccountPage,
});

/// The page, or, when its group did not load, what the browser does instead: while hydrating,
/// nothing (the server's page stays and works without JavaScript); after a click, it loads the
/// page from the server.
async fn shown(loaded: Result<AnyView, NotLoaded>) -> AnyView {
    match loaded {
        Ok(view) => view,
        Err(NotLoaded) => {
            #[cfg(feature = "hydrate")]
            {
                let hydrating = Owner::current_shared_context()
                    .is_some_and(|context| context.during_hydration());
                if !hydrating {
                    let location = leptos_router::hooks::use_location();
                    let mut href = location.pathname.get_untracked();
                    let search = location.search.get_untracked();
                    if !search.is_empty() {
                        href.push('?');
                        href.push_str(&search);
                    }
                    let hash = location.hash.get_untracked();
                    if !hash.is_empty() {
                        href.push_str(if hash.starts_with('#') { "" } else { "#" });
                        href.push_str(&hash);
                    }
                    let _ = window().location().assign(&href);
                }
            }
            std::future::pending().await
        }
    }
}

/// Per group of pages, the `Link` header that has the browser fetch the group's files with the
/// page, not after the main wasm asked for them (a split build; made once, at start-up).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct PagePreloads(
    pub std::sync::Arc<std::collections::HashMap<String, axum::http::HeaderValue>>,
);

/// Sends `group`'s preloads with the page being rendered.
#[cfg(feature = "ssr")]
fn preload(group: &str) {
    let preloads = use_context::<PagePreloads>().unwrap_or_default();
    if let (Some(header), Some(response)) = (
        preloads.0.get(group),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        response.append_header(axum::http::header::LINK, header.clone());
    }
}
