//! A request runs to its end even when its client goes away.
//!
//! Leptos renders a page under a reactive owner that is torn down when the response future is
//! dropped, which hyper does as soon as the browser closes the connection. A `Suspense` whose
//! data arrived at that moment still walks its children from its own task, over signals being
//! disposed on another thread: a panic in that task, and server functions without their
//! request ("no session"). Leptos 0.8 has no fix for this (leptos-rs/leptos#3595, #4698).
//! Running the rest of the request in a task of its own lets every render finish and tear down
//! in order; an abandoned request costs the rest of its render, no more than one that finishes.
//! It also keeps a server function's work (a write to Exchange and its audit entry) from being
//! cut at an arbitrary await point.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

/// Runs `next` in its own task and waits for it; a panic in it is raised again here (the
/// catch-panic layer answers it as before).
pub(crate) async fn run_to_end(request: Request, next: Next) -> Response {
    let task = tokio::spawn(next.run(request).in_current_span());
    match task.await {
        Ok(response) => response,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels a task.
        Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
