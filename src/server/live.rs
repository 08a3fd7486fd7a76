//! Server-sent events of the connector's live status: a `LiveStatus` JSON message at once, then
//! one after every change the sync hub announces. The status is computed once per change for
//! every open stream (one publisher, changes within [`COALESCE`] sent together), not once per
//! stream. A stream ends when the server stops, and when its session no longer signs anyone in
//! (signed out, disabled, expired): checked every [`RECHECK`]. One session holds at most
//! [`MAX_STREAMS_PER_SESSION`] streams.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::watch;
use tokio::time::Instant;
use tower_sessions::session::Id;
use tower_sessions::Session;

use super::auth;
use super::connector;
use super::state::AppState;

/// The shortest time between two messages: changes within it are sent together.
pub(crate) const COALESCE: Duration = Duration::from_millis(150);
/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often an open stream checks that its session still signs someone in.
pub(crate) const RECHECK: Duration = Duration::from_secs(5);
/// Streams one session may hold open at once (a few tabs).
pub(crate) const MAX_STREAMS_PER_SESSION: usize = 8;

/// The latest live status for every open stream, and who holds streams.
#[derive(Debug)]
pub(crate) struct LiveFeed {
    /// The latest status as the JSON of a message (`None` before the first change).
    latest: watch::Sender<Option<Arc<str>>>,
    /// Open streams per session id.
    open: Mutex<HashMap<String, usize>>,
    /// Statuses the publisher computed (each sent to every open stream).
    published: AtomicU64,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self {
            latest: watch::channel(None).0,
            open: Mutex::new(HashMap::new()),
            published: AtomicU64::new(0),
        }
    }
}

impl LiveFeed {
    /// How many statuses were computed for the open streams so far.
    pub(crate) fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Counts a stream of `session`, unless it holds the most already.
    fn open(self: &Arc<Self>, session: String) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(session.clone()).or_insert(0);
        if *n >= MAX_STREAMS_PER_SESSION {
            return None;
        }
        *n += 1;
        Some(Slot {
            feed: self.clone(),
            session,
        })
    }
}

/// One open stream, counted until it is dropped.
struct Slot {
    feed: Arc<LiveFeed>,
    session: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.feed.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.session);
            }
        }
    }
}

/// Computes the live status after each change (changes within [`COALESCE`] together) while
/// anyone listens, for every stream at once; until the server stops.
pub(crate) fn spawn_publisher(state: &AppState) {
    let state = state.clone();
    let cancel = state.background.cancel.clone();
    let background = state.background.clone();
    background.spawn_worker("live status publisher", async move {
        let mut changes = state.hub.subscribe();
        let mut last = Instant::now() - COALESCE;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                changed = changes.changed() => if changed.is_err() { return },
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep_until(last + COALESCE) => {}
            }
            changes.mark_unchanged();
            if state.live.latest.receiver_count() == 0 {
                // Nobody listens: a new stream reads its own first message.
                continue;
            }
            last = Instant::now();
            let message = message(&state).await;
            state.live.published.fetch_add(1, Ordering::Relaxed);
            state.live.latest.send_replace(Some(message));
        }
    });
}

/// The live status now, as a message's JSON (empty when it cannot be read: the stream then
/// sends a comment, which the page ignores).
async fn message(state: &AppState) -> Arc<str> {
    match connector::live_status(state).await {
        Ok(status) => match serde_json::to_string(&status) {
            Ok(json) => json.into(),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode the live status");
                "".into()
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the live status");
            "".into()
        }
    }
}

/// Whether the session `id` still signs someone in, read afresh from the store.
async fn signed_in(state: &AppState, id: Id) -> bool {
    let session = Session::new(Some(id), Arc::new(state.sessions.clone()), None);
    matches!(auth::principal(state, &session).await, Ok(Some(_)))
}

/// `GET /api/connector/events`: the live status stream the connector page subscribes to.
pub(crate) async fn events(State(state): State<AppState>, session: Session) -> Response {
    let Some(id) = session.id() else {
        return (StatusCode::UNAUTHORIZED, "Sign in to continue.").into_response();
    };
    let Some(slot) = state.live.open(id.to_string()) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many live views are open for this session; close some tabs.",
        )
            .into_response();
    };
    let mut latest = state.live.latest.subscribe();
    latest.mark_unchanged();
    let first = message(&state).await;
    let feed = Feed {
        state,
        id,
        latest,
        first: Some(first),
        _slot: slot,
        next_check: Instant::now() + RECHECK,
    };
    let messages = stream::unfold(feed, |mut feed| async move {
        let json = feed.next().await?;
        let event = if json.is_empty() {
            Event::default().comment("live status unavailable")
        } else {
            Event::default().data(&*json)
        };
        Some((Ok::<_, Infallible>(event), feed))
    });
    Sse::new(messages)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

struct Feed {
    state: AppState,
    id: Id,
    latest: watch::Receiver<Option<Arc<str>>>,
    first: Option<Arc<str>>,
    _slot: Slot,
    next_check: Instant,
}

impl Feed {
    /// The next message to send; `None` ends the stream (the server stops, or the session no
    /// longer signs anyone in).
    async fn next(&mut self) -> Option<Arc<str>> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        let cancel = self.state.background.cancel.clone();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return None,
                changed = self.latest.changed() => {
                    changed.ok()?;
                    if let Some(json) = self.latest.borrow_and_update().clone() {
                        return Some(json);
                    }
                }
                () = tokio::time::sleep_until(self.next_check) => {
                    if !signed_in(&self.state, self.id).await {
                        return None;
                    }
                    self.next_check = Instant::now() + RECHECK;
                }
            }
        }
    }
}
