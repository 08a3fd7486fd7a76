//! The portal frame: header (with the signed-in user and "Sign out"), left navigation (admin
//! pages for admins only), breadcrumb. Pages render inside it; the sign-in and first-admin
//! pages use the plain [`PublicFrame`].

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

use crate::api::{get_current_user, SignOut};
use crate::app::paths;
use crate::model::{Role, SessionUser};

/// One link of the left navigation.
struct NavItem {
    label: &'static str,
    href: &'static str,
    /// Other paths that show the same page.
    aliases: &'static [&'static str],
}

/// The connector page.
pub const CONNECTOR_PATH: &str = "/conditional-access/exchange-connector";
/// The sync history page; a run's details are under it (`{HISTORY_PATH}/{id}`).
pub const HISTORY_PATH: &str = "/conditional-access/exchange-connector/sync-history";

const CONDITIONAL_ACCESS: &[NavItem] = &[
    NavItem {
        label: "Exchange service connector",
        href: CONNECTOR_PATH,
        aliases: &["/"],
    },
    NavItem {
        label: "Sync history",
        href: HISTORY_PATH,
        aliases: &[],
    },
    NavItem {
        label: "Devices",
        href: paths::DEVICES,
        aliases: &[],
    },
    NavItem {
        label: "Readiness",
        href: paths::READINESS,
        aliases: &[],
    },
    NavItem {
        label: "Exchange access",
        href: paths::EXCHANGE_ACCESS,
        aliases: &[],
    },
];

const ADMINISTRATION: &[NavItem] = &[
    NavItem {
        label: "Users",
        href: paths::USERS,
        aliases: &[],
    },
    NavItem {
        label: "Notifications",
        href: paths::NOTIFICATIONS,
        aliases: &[],
    },
    NavItem {
        label: "Audit log",
        href: paths::AUDIT_LOG,
        aliases: &[],
    },
];

/// A role's name as the header and the users page show it.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Admin",
        Role::Reader => "Reader",
    }
}

/// The section of the breadcrumb a page is in (your own account is in none).
fn section(path: &str) -> Option<&'static str> {
    if path.starts_with("/admin/") {
        Some("Administration")
    } else if path == crate::app::paths::ACCOUNT {
        None
    } else {
        Some("Conditional access")
    }
}

/// Whether the navigation item `href` (with `aliases`) is the page at `path`; pages under an
/// item (a run under the history) count as it, except under the connector's own address.
fn is_active(path: &str, href: &str, aliases: &[&str]) -> bool {
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() { "/" } else { path };
    path == href
        || aliases.contains(&path)
        || (href != CONNECTOR_PATH
            && path
                .strip_prefix(href)
                .is_some_and(|rest| rest.starts_with('/')))
}

/// Who is signed in, as the frame shows them: one per app, provided by [`CurrentUser::provide`].
///
/// The server renders it at once from what the page guard read for the request (no resource,
/// no `Suspense`: a page's frame costs no database read and no task), and sends it with the page
/// for hydration. A page opened later in the browser asks the server again, because the person
/// may have signed in just before (the sign-in page navigates in place) or changed since.
#[derive(Clone, Copy)]
pub struct CurrentUser {
    user: RwSignal<Option<SessionUser>>,
    /// Whether the next frame is the server-rendered one being hydrated (its user came with the
    /// page), not one opened in the browser. Consumed by the first frame.
    served: StoredValue<bool>,
}

impl CurrentUser {
    /// Provides the app's [`CurrentUser`]: on the server, the request's signed-in person; in
    /// the browser, the one the server sent with the page.
    pub fn provide() {
        let first = SharedValue::new(|| {
            #[cfg(feature = "ssr")]
            {
                crate::api::page_user()
            }
            #[cfg(not(feature = "ssr"))]
            {
                None
            }
        })
        .into_inner();
        // A page without a frame (sign-in) hands over nobody: the next frame asks.
        let served = StoredValue::new(first.is_some());
        provide_context(CurrentUser {
            user: RwSignal::new(first),
            served,
        });
    }

    /// The signed-in person for a frame being made; a frame opened in the browser (not the one
    /// being hydrated) asks the server again and shows the answer when it comes.
    fn in_frame() -> RwSignal<Option<SessionUser>> {
        let Some(CurrentUser { user, served }) = use_context::<CurrentUser>() else {
            return RwSignal::new(None);
        };
        let first = served.try_update_value(std::mem::take).unwrap_or(false);
        if cfg!(feature = "hydrate") && !first {
            leptos::task::spawn_local(async move {
                if let Ok(now) = get_current_user().await {
                    user.set(now);
                }
            });
        }
        user
    }
}

/// Header + navigation + breadcrumb around `children`.
#[component]
pub fn Frame(
    /// The page's name, last in the breadcrumb.
    title: &'static str,
    /// Pages between the section ("Conditional access") and this one in the breadcrumb
    /// (label, link).
    #[prop(optional)]
    parents: &'static [(&'static str, &'static str)],
    children: Children,
) -> impl IntoView {
    let location = use_location();
    let path = Memo::new(move |_| location.pathname.get());
    // Who is signed in: the header shows them, and the admin links only to admins.
    let user = CurrentUser::in_frame();
    let admin = move || user.with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin));
    view! {
        <div class="min-h-screen bg-slate-50 text-slate-900">
            <SkipLink/>
            <Header>
                {move || user.get().map(|user| view! { <UserMenu user/> })}
            </Header>
            <div class="flex flex-col md:flex-row">
                <nav aria-label="Main" class="border-b border-slate-200 bg-white md:min-h-[calc(100vh-3rem)] md:w-64 md:shrink-0 md:border-b-0 md:border-r">
                    <NavSection heading="Conditional access" items=CONDITIONAL_ACCESS path/>
                    {move || admin().then(|| view! { <NavSection heading="Administration" items=ADMINISTRATION path/> })}
                </nav>
                <div class="min-w-0 flex-1">
                    <nav aria-label="Breadcrumb" class="px-4 pt-4 text-sm text-slate-600 md:px-8">
                        <ol class="flex flex-wrap items-center gap-1">
                            <li><a href="/" class="hover:underline">"Home"</a></li>
                            <li aria-hidden="true">">"</li>
                            {move || section(&path.get()).map(|s| view! {
                                <li>{s}</li>
                                <li aria-hidden="true">">"</li>
                            })}
                            {parents
                                .iter()
                                .map(|(label, href)| view! {
                                    <li><a href=*href class="hover:underline">{*label}</a></li>
                                    <li aria-hidden="true">">"</li>
                                })
                                .collect_view()}
                            <li aria-current="page" class="font-medium text-slate-900">{title}</li>
                        </ol>
                    </nav>
                    <main id="main" class="px-4 pb-12 pt-2 md:px-8">{children()}</main>
                </div>
            </div>
        </div>
    }
}

/// A page's heading: an optional line above it (`eyebrow`), the title, and an optional
/// description below.
#[component]
pub fn PageHeading(
    title: &'static str,
    #[prop(optional)] eyebrow: &'static str,
    #[prop(optional)] description: &'static str,
) -> impl IntoView {
    view! {
        <div class="mt-2">
            {(!eyebrow.is_empty()).then(|| view! { <p class="text-sm text-slate-500">{eyebrow}</p> })}
            <h1 class="text-2xl font-semibold">{title}</h1>
            {(!description.is_empty()).then(|| view! {
                <p class="mt-1 max-w-3xl text-sm text-slate-600">{description}</p>
            })}
        </div>
    }
}

/// The frame of the pages seen before signing in: the header and a centred card.
#[component]
pub fn PublicFrame(children: Children) -> impl IntoView {
    view! {
        <div class="min-h-screen bg-slate-50 text-slate-900">
            <SkipLink/>
            <Header/>
            <main id="main" class="flex justify-center px-4 py-12">
                <div class="w-full max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm sm:p-8">
                    {children()}
                </div>
            </main>
        </div>
    }
}

#[component]
fn SkipLink() -> impl IntoView {
    view! {
        <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
            "Skip to content"
        </a>
    }
}

/// The dark bar: the product's name, then `children` on the right.
#[component]
fn Header(#[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <header class="flex h-12 items-center gap-3 bg-[#1b1a19] px-4 text-white">
            <svg class="h-6 w-6 text-sky-400" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">
                <path d="M3 5.5 12 2l9 3.5v6.2c0 5.1-3.8 9.3-9 10.3-5.2-1-9-5.2-9-10.3V5.5Zm9 2.2-4.5 2v2.6h9V9.7L12 7.7Zm-4.5 6.1v1.4c.9 2 2.5 3.4 4.5 4 2-.6 3.6-2 4.5-4v-1.4h-9Z"/>
            </svg>
            <span class="text-sm font-semibold tracking-wide">"Exchange Connector"</span>
            <span class="hidden text-sm text-slate-400 sm:inline">"| Endpoint access for Exchange Online"</span>
            <div class="ml-auto">{children.map(|c| c())}</div>
        </header>
    }
}

/// The signed-in user, their role, and "Sign out": a plain form post, so it works without
/// JavaScript (the server redirects to the sign-in page).
#[component]
fn UserMenu(user: SessionUser) -> impl IntoView {
    let title = user
        .display_name
        .clone()
        .unwrap_or_else(|| user.email.clone());
    let badge = match user.role {
        Role::Admin => "bg-sky-500/20 text-sky-200 ring-sky-400/40",
        Role::Reader => "bg-slate-500/20 text-slate-200 ring-slate-400/40",
    };
    view! {
        <div class="flex items-center gap-3 text-sm" data-testid="current-user">
            <a
                href=crate::app::paths::ACCOUNT
                class="hidden max-w-[16rem] truncate rounded hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-400 sm:inline"
                title=format!("{title}: your account")
            >
                {user.email}
            </a>
            <span
                class=format!("rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {badge}")
                data-role=user.role.as_str()
            >
                {role_label(user.role)}
            </span>
            <form method="post" action=SignOut::PATH>
                <button
                    type="submit"
                    class="rounded px-2 py-1 text-sm font-medium text-white ring-1 ring-inset ring-white/30 hover:bg-white/10 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-400"
                >
                    "Sign out"
                </button>
            </form>
        </div>
    }
}

/// A heading and its links; the link of the page at `path` is marked.
#[component]
fn NavSection(
    heading: &'static str,
    items: &'static [NavItem],
    path: Memo<String>,
) -> impl IntoView {
    view! {
        <p class="px-4 pt-4 text-xs font-semibold uppercase tracking-wider text-slate-500">{heading}</p>
        <ul class="p-2">
            {items
                .iter()
                .map(|item| {
                    let active = move || path.with(|p| is_active(p, item.href, item.aliases));
                    view! {
                        <li>
                            <a
                                href=item.href
                                aria-current=move || active().then_some("page")
                                class=move || {
                                    if active() {
                                        "block rounded border-l-4 border-sky-600 bg-sky-50 px-3 py-2 text-sm font-semibold text-sky-900"
                                    } else {
                                        "block rounded border-l-4 border-transparent px-3 py-2 text-sm text-slate-700 hover:bg-slate-100"
                                    }
                                }
                            >
                                {item.label}
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_navigation_marks_the_page_and_the_pages_under_it() {
        assert!(is_active("/", CONNECTOR_PATH, &["/"]));
        assert!(is_active(CONNECTOR_PATH, CONNECTOR_PATH, &["/"]));
        assert!(!is_active(HISTORY_PATH, CONNECTOR_PATH, &["/"]));
        assert!(is_active(HISTORY_PATH, HISTORY_PATH, &[]));
        assert!(is_active(&format!("{HISTORY_PATH}/abc"), HISTORY_PATH, &[]));
        assert!(is_active(&format!("{HISTORY_PATH}/"), HISTORY_PATH, &[]));
        assert!(!is_active(&format!("{HISTORY_PATH}x"), HISTORY_PATH, &[]));
    }

    #[test]
    fn admin_pages_sit_under_administration_in_the_breadcrumb() {
        assert_eq!(section(paths::USERS), Some("Administration"));
        assert_eq!(section(paths::AUDIT_LOG), Some("Administration"));
        assert_eq!(section(HISTORY_PATH), Some("Conditional access"));
        assert_eq!(section("/"), Some("Conditional access"));
        assert_eq!(section(paths::ACCOUNT), None);
        assert_eq!(role_label(Role::Admin), "Admin");
        assert_eq!(role_label(Role::Reader), "Reader");
    }
}
