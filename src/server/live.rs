//! Server-sent events of the connector's live status: a `LiveStatus` JSON message at once, then
//! one after every change the sync hub announces, coalesced so that a run's many progress steps
//! make at most one message per [`COALESCE`]. The stream ends when the server stops.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::connector;
use super::state::AppState;

/// The shortest time between two messages of one stream: changes within it are sent together.
pub(crate) const COALESCE: Duration = Duration::from_millis(150);
/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /api/connector/events`: the live status stream the connector page subscribes to.
pub(crate) async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let feed = Feed {
        changes: state.hub.subscribe(),
        cancel: state.background.cancel.clone(),
        state,
        last_sent: None,
    };
    let messages = stream::unfold(feed, |mut feed| async move {
        if feed.last_sent.is_some() && !feed.wait().await {
            return None;
        }
        let event = feed.read().await;
        Some((Ok(event), feed))
    });
    Sse::new(messages).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

struct Feed {
    state: AppState,
    changes: watch::Receiver<u64>,
    cancel: CancellationToken,
    last_sent: Option<Instant>,
}

impl Feed {
    /// Waits for the next change, then lets further changes gather until [`COALESCE`] after
    /// the last message. `false` when the server stops (or the hub is gone).
    async fn wait(&mut self) -> bool {
        tokio::select! {
            () = self.cancel.cancelled() => return false,
            changed = self.changes.changed() => {
                if changed.is_err() {
                    return false;
                }
            }
        }
        let due = self.last_sent.map_or_else(Instant::now, |t| t + COALESCE);
        tokio::select! {
            () = self.cancel.cancelled() => false,
            () = tokio::time::sleep_until(due) => true,
        }
    }

    /// The live status now, as a message. Changes from here on make the next message.
    async fn read(&mut self) -> Event {
        self.changes.mark_unchanged();
        self.last_sent = Some(Instant::now());
        match connector::live_status(&self.state).await {
            Ok(status) => match Event::default().json_data(&status) {
                Ok(event) => event,
                Err(e) => {
                    tracing::error!(error = %e, "cannot encode the live status");
                    Event::default().comment("live status unavailable")
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the live status");
                Event::default().comment("live status unavailable")
            }
        }
    }
}
