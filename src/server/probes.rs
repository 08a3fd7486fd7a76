//! Probes for load balancers and Kubernetes: `/healthz` (the process answers) and `/readyz`
//! (it can serve: the database answers and carries every migration of this build, and every
//! background worker runs). Both are unauthenticated and cheap: `/readyz` is one indexed
//! query, bounded by a short timeout, and names what is wrong, never a secret.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::state::AppState;

/// Longer than this, the database counts as not answering (a probe must not hang).
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 as long as the process answers.
pub(crate) async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

/// What `/readyz` answers.
#[derive(Debug, Serialize)]
struct Readiness {
    /// `ready` or `not ready`.
    status: &'static str,
    /// One line per check: `ok`, or what is wrong.
    checks: Checks,
}

#[derive(Debug, Serialize)]
struct Checks {
    database: String,
    workers: String,
}

/// `GET /readyz`: 200 when the server can serve, 503 (with the failing check) when not, and
/// while it stops (a load balancer then sends new requests elsewhere).
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let database = match tokio::time::timeout(DB_TIMEOUT, state.db.check_migrated()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(problem)) => problem,
        Err(_) => format!(
            "the database did not answer within {} s",
            DB_TIMEOUT.as_secs()
        ),
    };
    let workers = if state.background.cancel.is_cancelled() {
        "stopping".to_owned()
    } else {
        match state.background.workers.stopped().as_slice() {
            [] => "ok".to_owned(),
            names => format!("stopped: {}", names.join(", ")),
        }
    };
    let ready = database == "ok" && workers == "ok";
    let body = Readiness {
        status: if ready { "ready" } else { "not ready" },
        checks: Checks { database, workers },
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
