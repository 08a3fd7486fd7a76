//! The live status stream in the browser: an `EventSource` on `/api/connector/events` whose
//! `LiveStatus` messages land in a signal. Nothing happens on the server, where the page is
//! rendered from a server function instead.

use leptos::prelude::*;

use crate::model::LiveStatus;

/// Where the server streams the connector's live status (server-sent events).
pub const EVENTS_PATH: &str = "/api/connector/events";

/// The newest `LiveStatus` the stream sent, `None` until the first message. The stream is
/// opened when hydrated, reopened after the browser gives up on it (e.g. a server restart that
/// took long), and closed when the calling component goes away.
pub fn use_live_status() -> ReadSignal<Option<LiveStatus>> {
    let (live, set_live) = signal(None::<LiveStatus>);
    #[cfg(feature = "hydrate")]
    browser::subscribe(set_live);
    #[cfg(not(feature = "hydrate"))]
    let _ = set_live;
    live
}

/// The live status of the page (given by [`use_ledger_version`] to the page's parts).
#[derive(Clone, Copy)]
pub struct PageLive(pub ReadSignal<Option<LiveStatus>>);

/// A number that goes up whenever the stream tells of a sync run starting or ending (or of a
/// new last sync), for pages that show the ledger. It also goes up once at the stream's first
/// message: a run that started or ended between the server's rendering of the page and the
/// stream's opening would otherwise show only at the next change (one more read of the page,
/// once per visit, is the price).
pub fn use_ledger_version() -> ReadSignal<u32> {
    let live = use_live_status();
    // The page's parts that show changes under way read the same stream.
    provide_context(PageLive(live));
    let key = Memo::new(move |_| {
        live.with(|l| {
            l.as_ref().map(|l| {
                let connector = l.overview.connector.as_ref();
                (
                    l.progress.as_ref().map(|p| p.run_id.clone()),
                    connector.and_then(|c| c.last_sync_at),
                    connector.map(|c| c.syncing),
                )
            })
        })
    });
    let (version, set_version) = signal(0u32);
    Effect::new(move |before: Option<Option<_>>| {
        let now = key.get();
        let changed = match (&before, &now) {
            (Some(Some(before)), Some(now)) => before != now,
            // The first message: whatever happened since the page was rendered.
            (Some(None), Some(_)) => true,
            _ => false,
        };
        if changed {
            set_version.update(|v| *v += 1);
        }
        now
    });
    version
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    use super::EVENTS_PATH;
    use crate::model::LiveStatus;

    /// How long to wait before reopening a stream the browser closed for good.
    const REOPEN_AFTER: Duration = Duration::from_secs(2);

    struct Subscription {
        source: Option<EventSource>,
        on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
        on_error: Option<Closure<dyn FnMut(web_sys::Event)>>,
        stopped: bool,
    }

    impl Subscription {
        fn close(&mut self) {
            if let Some(source) = self.source.take() {
                source.set_onmessage(None);
                source.set_onerror(None);
                source.close();
            }
            self.on_message = None;
            self.on_error = None;
        }
    }

    pub(super) fn subscribe(set_live: WriteSignal<Option<LiveStatus>>) {
        let sub = Rc::new(RefCell::new(Subscription {
            source: None,
            on_message: None,
            on_error: None,
            stopped: false,
        }));
        open(sub.clone(), set_live);
        let sub = StoredValue::new_local(sub);
        on_cleanup(move || {
            if let Some(sub) = sub.try_get_value() {
                let mut sub = sub.borrow_mut();
                sub.stopped = true;
                sub.close();
            }
        });
    }

    fn open(sub: Rc<RefCell<Subscription>>, set_live: WriteSignal<Option<LiveStatus>>) {
        if sub.borrow().stopped {
            return;
        }
        let source = match EventSource::new(EVENTS_PATH) {
            Ok(s) => s,
            Err(e) => {
                leptos::logging::warn!("cannot open the live status stream: {e:?}");
                return;
            }
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            match serde_json::from_str::<LiveStatus>(&text) {
                Ok(status) => set_live.set(Some(status)),
                Err(e) => leptos::logging::warn!("unreadable live status: {e}"),
            }
        });
        // The browser reconnects by itself while the stream is CONNECTING; only a CLOSED
        // stream (an answer that was not an event stream) needs opening again.
        let weak = Rc::downgrade(&sub);
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
            let Some(sub) = weak.upgrade() else { return };
            let closed = sub
                .borrow()
                .source
                .as_ref()
                .is_some_and(|s| s.ready_state() == EventSource::CLOSED);
            if closed {
                // Not from inside this closure: closing drops it. Later, from a timer.
                let sub = sub.clone();
                set_timeout(
                    move || {
                        sub.borrow_mut().close();
                        open(sub, set_live);
                    },
                    REOPEN_AFTER,
                );
            }
        });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut s = sub.borrow_mut();
        s.source = Some(source);
        s.on_message = Some(on_message);
        s.on_error = Some(on_error);
    }
}
