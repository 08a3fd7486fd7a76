//! Times: stored in UTC, rendered in UTC by the server, switched to the admin's local time once
//! the page is hydrated; and a clock that keeps "5 minutes ago" current.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::app::format::format_utc;

/// A `<time>` element: UTC in the server-rendered page, local time after hydration. `compact`
/// (for tables) leaves the UTC offset out of the text; the tooltip keeps the UTC time.
#[component]
pub fn LocalTime(at: DateTime<Utc>, #[prop(optional)] compact: bool) -> impl IntoView {
    let text = RwSignal::new(format_utc(at));
    // Effects run only in the browser, after hydration, so the first paint matches the server.
    Effect::new(move |_| text.set(format_local(at, compact)));
    view! { <time datetime=at.to_rfc3339() title=format_utc(at)>{text}</time> }
}

#[cfg(feature = "hydrate")]
fn format_local(at: DateTime<Utc>, compact: bool) -> String {
    let format = if compact {
        "%Y-%m-%d %H:%M"
    } else {
        "%Y-%m-%d %H:%M (UTC%:z)"
    };
    at.with_timezone(&chrono::Local).format(format).to_string()
}

#[cfg(not(feature = "hydrate"))]
fn format_local(at: DateTime<Utc>, _compact: bool) -> String {
    format_utc(at)
}

/// A clock that starts at the server's `now` (so hydration matches) and, in the browser,
/// advances every 30 seconds.
pub fn use_ticking_now(server_now: DateTime<Utc>) -> ReadSignal<DateTime<Utc>> {
    let (now, _set_now) = signal(server_now);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || _set_now.set(Utc::now()),
            std::time::Duration::from_secs(30),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
    now
}
