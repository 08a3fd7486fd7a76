//! The portal frame: header, left navigation, breadcrumb. Pages render inside it.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

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
];

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

/// Header + navigation + breadcrumb around `children`.
#[component]
pub fn Frame(
    /// The page's name, last in the breadcrumb.
    title: &'static str,
    /// Pages between "Conditional access" and this one in the breadcrumb (label, link).
    #[prop(optional)]
    parents: &'static [(&'static str, &'static str)],
    children: Children,
) -> impl IntoView {
    let location = use_location();
    let path = move || location.pathname.get();
    view! {
        <div class="min-h-screen bg-slate-50 text-slate-900">
            <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
                "Skip to content"
            </a>
            <header class="flex h-12 items-center gap-3 bg-[#1b1a19] px-4 text-white">
                <svg class="h-6 w-6 text-sky-400" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">
                    <path d="M3 5.5 12 2l9 3.5v6.2c0 5.1-3.8 9.3-9 10.3-5.2-1-9-5.2-9-10.3V5.5Zm9 2.2-4.5 2v2.6h9V9.7L12 7.7Zm-4.5 6.1v1.4c.9 2 2.5 3.4 4.5 4 2-.6 3.6-2 4.5-4v-1.4h-9Z"/>
                </svg>
                <span class="text-sm font-semibold tracking-wide">"Exchange Connector"</span>
                <span class="hidden text-sm text-slate-400 sm:inline">"| Endpoint access for Exchange Online"</span>
            </header>
            <div class="flex flex-col md:flex-row">
                <nav aria-label="Main" class="border-b border-slate-200 bg-white md:min-h-[calc(100vh-3rem)] md:w-64 md:shrink-0 md:border-b-0 md:border-r">
                    <p class="px-4 pt-4 text-xs font-semibold uppercase tracking-wider text-slate-500">"Conditional access"</p>
                    <ul class="p-2">
                        {CONDITIONAL_ACCESS
                            .iter()
                            .map(|item| {
                                let active = move || is_active(&path(), item.href, item.aliases);
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
                </nav>
                <div class="min-w-0 flex-1">
                    <nav aria-label="Breadcrumb" class="px-4 pt-4 text-sm text-slate-600 md:px-8">
                        <ol class="flex flex-wrap items-center gap-1">
                            <li><a href="/" class="hover:underline">"Home"</a></li>
                            <li aria-hidden="true">">"</li>
                            <li>"Conditional access"</li>
                            <li aria-hidden="true">">"</li>
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
}
