//! A page's data, awaited in a plain `Suspend` instead of a `Suspense` or `Transition`.
//!
//! The page is sent finished either way (the routes render asynchronously), so the boundary's
//! fallback is never seen on the server, while its work (it renders its children to find what
//! they wait for, and keeps track of them) is paid on every request. The browser hydrates from
//! the data the server sent with the page, so nothing is read twice.
//!
//! The await is in the page, not in the route's view: Leptos 0.8's router holds a route's view
//! future in a `SendWrapper`, which panics when a view that waited for the database is resumed
//! on another worker thread (leptos-rs/leptos#4402).

use std::future::IntoFuture;

use leptos::prelude::*;
use leptos::tachys::reactive_graph::OwnedView;
use serde::{de::DeserializeOwned, Serialize};

/// `resource`'s value, awaited without subscribing what awaits it: the page's part that awaits
/// it is built once, and changes come through [`first_then_latest`].
pub async fn first<T>(resource: Resource<T>) -> T
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    ScopedFuture::new_untracked(resource.into_future()).await
}

/// The value `resource` has when the page is first shown, then each newer value once it is in,
/// as a `Transition` shows it: the page keeps what it shows while the resource reads again.
///
/// The newer values are read in an effect, which runs only in the browser; on the server the
/// page is rendered once, with the first value.
pub async fn first_then_latest<T>(resource: Resource<T>) -> ReadSignal<T>
where
    T: Clone + PartialEq + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    let shown = RwSignal::new(first(resource).await);
    Effect::new(move |_| {
        if let Some(latest) = resource.get() {
            if shown.with_untracked(|s| *s != latest) {
                shown.set(latest);
            }
        }
    });
    shown.read_only()
}

/// The part of a page that shows `resource`: awaited in a plain `Suspend`, built by `part` from
/// the first value, and again from each newer one ([`first_then_latest`]).
///
/// The part is built and rendered under the page's owner (`OwnedView`): on the server a plain
/// `Suspend` renders what its future returned after the future, outside any owner of the page,
/// and what `part` creates there (memos, signals) would belong to whatever owner the thread had
/// then, and be disposed with it while still in use.
pub fn awaited<T, V>(
    resource: Resource<T>,
    part: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    Suspend::new(async move {
        let shown = first_then_latest(resource).await;
        OwnedView::new(move || part(shown.get()))
    })
}
