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

const CONDITIONAL_ACCESS: &[NavItem] = &[NavItem {
    label: "Exchange service connector",
    href: "/conditional-access/exchange-connector",
    aliases: &["/"],
}];

/// Header + navigation + breadcrumb around `children`.
#[component]
pub fn Frame(
    /// The page's name, last in the breadcrumb.
    title: &'static str,
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
                                let active = move || {
                                    let p = path();
                                    p == item.href || item.aliases.contains(&p.as_str())
                                };
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
                            <li aria-current="page" class="font-medium text-slate-900">{title}</li>
                        </ol>
                    </nav>
                    <main id="main" class="px-4 pb-12 pt-2 md:px-8">{children()}</main>
                </div>
            </div>
        </div>
    }
}
