//! Changes made in Exchange from the connector (spec §9): device actions, and the
//! organization's access settings and device access rules, each previewed first. Every change
//! is checked before anything is sent, audited call by call with Exchange's request id, and read
//! back from Exchange (a quick sync) so that the pages show Exchange's answer, not the
//! connector's hope.

mod control;
mod devices;
mod policies;
mod preview;
pub(crate) mod progress;

use std::time::Duration;

use futures_util::StreamExt;

use crate::model::{ActionReport, AuditAction, AuditResult};

use super::audit::{self, Event};
use super::error::AppError;
use super::exchange::cmdlets::Invocation;
use super::setup::Actor;
use super::state::AppState;
use super::sync;
use progress::Tracker;

pub(crate) use control::{affected, overview, preview};
pub(crate) use devices::device_options;

/// Carries out a device action (see [`devices::act`]) to its end even when the request that
/// asked for it goes away (a browser closed mid-change): what Exchange did is still audited
/// and read back.
pub(crate) async fn act(
    state: &AppState,
    actor: &Actor,
    guids: &[String],
    action: crate::model::DeviceAction,
    confirmation: &str,
) -> Result<ActionReport, AppError> {
    let (state, actor) = (state.clone(), actor.clone());
    let (guids, confirmation) = (guids.to_vec(), confirmation.to_owned());
    to_the_end(async move { devices::act(&state, &actor, &guids, action, &confirmation).await })
        .await
}

/// Makes a change of the settings or rules (see [`control::apply`]) to its end even when the
/// request that asked for it goes away. Changes of Exchange's configuration (settings, rules,
/// policies) run one at a time: each is checked against what the one before it read back, so
/// the same change asked twice at once is refused before it is sent, not by Exchange.
pub(crate) async fn apply(
    state: &AppState,
    actor: &Actor,
    form: &crate::model::AccessChangeForm,
) -> Result<ActionReport, AppError> {
    let (state, actor, form) = (state.clone(), actor.clone(), form.clone());
    to_the_end(async move {
        let _one_at_a_time = state.config_changes.lock().await;
        control::apply(&state, &actor, &form).await
    })
    .await
}

/// Makes a mailbox policy change (see [`policies::apply`]) to its end even when the request
/// that asked for it goes away.
pub(crate) async fn apply_policy(
    state: &AppState,
    actor: &Actor,
    form: crate::model::PolicyForm,
) -> Result<ActionReport, AppError> {
    let (state, actor) = (state.clone(), actor.clone());
    to_the_end(async move {
        let _one_at_a_time = state.config_changes.lock().await;
        policies::apply(&state, &actor, &form).await
    })
    .await
}

/// Runs `work` on its own task: dropping the caller (the request) does not stop it between an
/// Exchange call and its audit entry.
async fn to_the_end<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    match tokio::spawn(work).await {
        Ok(done) => done,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(AppError::Conflict(
            "The server is stopping; the change may not have been read back.".into(),
        )),
    }
}

/// Exchange calls of one bulk change in flight at once.
const CONCURRENCY: usize = 4;

/// How long the read-back waits for a sync that is already running.
const READ_BACK_WAIT: Duration = Duration::from_secs(120);

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// One Exchange call of a change: what it is sent for (for the audit log and failures).
struct Write {
    call: Invocation,
    /// The mailbox, device, rule or settings object the call acts on.
    target: String,
    /// The devices it concerns, by name (none for settings and rules).
    devices: Vec<String>,
}

/// Sends `writes` (up to [`CONCURRENCY`] at once: each is a different object), records each
/// in the audit log as `action` with the words `detail` gives it, and counts them in `report`.
/// Each write is journaled before it is sent and audited as soon as Exchange answers (the
/// answer and the journal's closing in one transaction), so a server stopped mid-change leaves
/// every write it sent in the audit log (see [`audit::settle_unanswered_writes`]); a write that
/// cannot be journaled is not sent. Nothing is sent twice: a call that failed is reported, not
/// repeated. Returns the targets written and how many calls Exchange refused with 403.
async fn send(
    state: &AppState,
    actor: &Actor,
    action: AuditAction,
    writes: Vec<Write>,
    report: &mut ActionReport,
    progress: &Tracker,
    detail: impl Fn(&Write) -> String,
) -> (Vec<String>, u32) {
    let pool = state.db.pool();
    let exchange = state.exchange.get();
    let event_of = |w: &Write| {
        let parameters = serde_json::Value::Object(w.call.parameters.clone());
        Event::new(action, actor.email.as_deref(), AuditResult::Success)
            .address(actor.address.as_deref())
            .target(w.target.clone())
            .exchange_write(w.call.cmdlet, parameters)
    };
    let mut answers = futures_util::stream::iter(writes)
        .map(|w| {
            let exchange = exchange.clone();
            let event = event_of(&w);
            async move {
                let Some(journal) = audit::journal_write(pool, &event).await else {
                    return (w, event, None);
                };
                let result = exchange.write(w.call.clone()).await;
                (w, event, Some((journal, result)))
            }
        })
        .buffer_unordered(CONCURRENCY);
    let mut written = Vec::new();
    let mut forbidden = 0;
    while let Some((w, event, sent)) = answers.next().await {
        let detail = detail(&w);
        let ok = matches!(sent, Some((_, Ok(_))));
        progress.update(|p| {
            if ok {
                p.calls_done += 1;
            } else {
                p.calls_failed += 1;
            }
        });
        match sent {
            None => {
                report.calls_failed += 1;
                report.failures.push(format!(
                    "{}: not sent, because the audit log cannot be written",
                    w.target
                ));
            }
            Some((journal, Ok(request_id))) => {
                report.calls_done += 1;
                written.push(w.target.clone());
                let event = event.request_id(request_id.as_deref()).detail(detail);
                audit::record_answer(pool, journal, event).await;
            }
            Some((journal, Err(e))) => {
                report.calls_failed += 1;
                forbidden += u32::from(e.status() == Some(403));
                report.failures.push(format!("{}: {e}", w.target));
                let mut event = event
                    .request_id(e.request_id())
                    .detail(format!("{detail}: {e}"));
                event.result = AuditResult::Failure;
                audit::record_answer(pool, journal, event).await;
            }
        }
    }
    (written, forbidden)
}

/// Reads the change back from Exchange: a quick sync (with the configuration when `config`),
/// after the one that is running if any.
async fn read_back(
    state: &AppState,
    actor: &Actor,
    touched: std::collections::HashSet<String>,
    config: bool,
    report: &mut ActionReport,
    progress: &Tracker,
) {
    progress.update(|p| p.reading_back = true);
    let deadline = tokio::time::Instant::now() + READ_BACK_WAIT;
    let mut changes = state.hub.subscribe();
    loop {
        let by = actor.email.clone();
        match sync::read_back(state, touched.clone(), config, by).await {
            Ok(run) => {
                report.read_back_run = Some(run.id);
                if let Some(e) = run.record.error {
                    report
                        .notes
                        .push(format!("The read-back sync was partial: {}", e.message));
                }
                return;
            }
            Err(AppError::Conflict(_)) if tokio::time::Instant::now() < deadline => {
                // Another sync holds the slot: wait for it to end, then read.
                let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
            }
            Err(e) => {
                report.notes.push(format!(
                    "Exchange made the change, but reading it back failed ({}); the next sync \
                     shows it.",
                    e.public_message()
                ));
                return;
            }
        }
    }
}

/// "a, b and c" (at most ten named, then how many more).
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    let shown: Vec<&str> = items.iter().take(10).copied().collect();
    let more = items.len().saturating_sub(shown.len());
    let text = match shown.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] if more == 0 => format!("{} and {last}", init.join(", ")),
        all => all.join(", "),
    };
    match more {
        0 => text,
        n => format!("{text} and {n} more"),
    }
}
