//! The delivery worker: sends due deliveries in their destination's format (a JSON
//! destination's signed with HMAC-SHA256), records each attempt's outcome, and retries with
//! exponential backoff until 24 hours after the event. At least once: an attempt cut short by
//! a stop is made again after the restart (the event's `id` tells receivers it is the same).

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use serde_json::{json, Value};

use crate::model::{AlertEvent, WebhookKind};

use super::super::db::webhooks::{self, Attempted, DeliveryRow, WebhookRow};
use super::super::error::AppError;
use super::super::state::AppState;
use super::{key_context, url_context, AlertSettings};

/// Deliveries taken per round, and sent at once.
const BATCH: i64 = 16;
const IN_FLIGHT: usize = 4;
/// How long a delivery taken for an attempt is kept from other attempts (longer than one).
pub(crate) const LEASE: chrono::Duration = chrono::Duration::seconds(120);
/// The longest the worker sleeps without looking (a delivery queued by another process).
const IDLE: Duration = Duration::from_secs(300);

/// Delivered and failed deliveries are kept this long, then deleted (looked at hourly).
const KEEP_FINISHED: chrono::Duration = chrono::Duration::days(30);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The headers a JSON destination receives.
pub const EVENT_HEADER: &str = "x-connector-event";
pub const DELIVERY_HEADER: &str = "x-connector-delivery";
pub const TIMESTAMP_HEADER: &str = "x-connector-timestamp";
pub const SIGNATURE_HEADER: &str = "x-connector-signature";

/// What the worker shares with the pages: its settings, its HTTP client and its wake-up.
pub(crate) struct AlertRuntime {
    pub(crate) settings: AlertSettings,
    pub(crate) wake: tokio::sync::Notify,
    http: reqwest::Client,
}

impl AlertRuntime {
    pub(crate) fn new(settings: AlertSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "exchange-connector/",
                env!("CARGO_PKG_VERSION"),
                " (alerts)"
            ))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            // A receiver answers; it does not send the event elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            // A name that resolves to a refused address is not reached either.
            .dns_resolver(ReceiverResolver)
            .build()?;
        Ok(Self {
            settings,
            wake: tokio::sync::Notify::new(),
            http,
        })
    }
}

/// Resolves receivers' names at each attempt and keeps only the addresses a receiver may have
/// ([`super::receiver_ip_allowed`]): an address is checked when it is added, but a name can
/// resolve (or be changed to resolve) to a cloud's metadata service at any time.
struct ReceiverResolver;

impl reqwest::dns::Resolve for ReceiverResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let allowed: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| super::receiver_ip_allowed(a.ip()))
                .collect();
            if allowed.is_empty() {
                // Without the name: a stored error never carries the receiver's address.
                return Err("the receiver's name resolves only to refused addresses \
                            (link-local, broadcast or multicast)"
                    .into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Starts the delivery worker; it runs until the server stops.
pub(crate) fn spawn(state: &AppState) {
    let state = state.clone();
    let cancel = state.background.cancel.clone();
    let background = state.background.clone();
    background.spawn_worker("alert delivery", async move {
        let mut pruned = None::<tokio::time::Instant>;
        loop {
            if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned = Some(tokio::time::Instant::now());
                let before = Utc::now() - KEEP_FINISHED;
                if let Err(e) = webhooks::prune(state.db.pool(), before).await {
                    tracing::warn!(error = %e, "cannot delete old alert deliveries");
                }
            }
            let sent = match round(&state).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot send the queued alerts");
                    0
                }
            };
            if sent as i64 >= BATCH {
                continue;
            }
            let wait = match webhooks::next_due(state.db.pool()).await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(IDLE),
                Ok(None) => IDLE,
                Err(_) => Duration::from_secs(5),
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = state.alerts.wake.notified() => {}
                () = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {}
            }
        }
    });
}

/// Sends the deliveries due now; how many were taken.
async fn round(state: &AppState) -> Result<usize, AppError> {
    let pool = state.db.pool();
    let due = webhooks::due(pool, Utc::now(), BATCH).await?;
    let taken = due.len();
    futures_util::stream::iter(due)
        .for_each_concurrent(IN_FLIGHT, |d| async move {
            if let Err(e) = attempt(state, d).await {
                tracing::warn!(error = %e, "an alert delivery could not be recorded");
            }
        })
        .await;
    Ok(taken)
}

/// Makes the attempt of the delivery `id`, queued already taken (the page's test), now.
pub(crate) async fn attempt_taken(state: &AppState, id: &str) -> Result<(), AppError> {
    let Some(row) = webhooks::recent_by_id(state.db.pool(), id).await? else {
        return Ok(());
    };
    send_and_record(state, row).await
}

/// One attempt of `d`: taken (unless another attempt has it), sent, its outcome recorded.
async fn attempt(state: &AppState, d: DeliveryRow) -> Result<(), AppError> {
    let now = Utc::now();
    if !webhooks::claim(state.db.pool(), &d.id, now, now + LEASE).await? {
        return Ok(());
    }
    send_and_record(state, d).await
}

async fn send_and_record(state: &AppState, d: DeliveryRow) -> Result<(), AppError> {
    let pool = state.db.pool();
    let (kind, outcome) = send(state, &d).await;
    let at = Utc::now();
    let settings = &state.alerts.settings;
    let (status, next, http_status, error) = match outcome {
        Ok(code) if (200..300).contains(&code) => ("delivered", None, Some(code), None),
        Ok(code) => {
            let next = retry_at(settings, d.created_at, d.attempts + 1, at);
            (
                if next.is_some() { "pending" } else { "failed" },
                next,
                Some(code),
                Some(format!("the receiver answered HTTP {code}")),
            )
        }
        Err(Failure::Retry(why)) => {
            let next = retry_at(settings, d.created_at, d.attempts + 1, at);
            (
                if next.is_some() { "pending" } else { "failed" },
                next,
                None,
                Some(why),
            )
        }
        Err(Failure::Permanent(why)) => ("failed", None, None, Some(why)),
    };
    match status {
        "delivered" => tracing::info!(event = %d.event, delivery = %d.id, "alert delivered"),
        _ => tracing::warn!(
            event = %d.event,
            delivery = %d.id,
            attempts = d.attempts + 1,
            outcome = status,
            error = error.as_deref().unwrap_or_default(),
            "an alert was not delivered"
        ),
    }
    let result = match status {
        "pending" => "retry",
        other => other,
    };
    state.metrics.alert_attempt(kind.as_str(), result);
    webhooks::attempted(
        pool,
        &Attempted {
            id: &d.id,
            status,
            at,
            next,
            http_status,
            error: error.as_deref(),
        },
    )
    .await?;
    if next.is_some() {
        // The worker may be asleep until later than this retry (an attempt made by the page).
        state.alerts.wake.notify_one();
    }
    Ok(())
}

/// When to try again after `attempts` attempts: `retry_base` doubled each time up to
/// `retry_max`; `None` once that is past `give_up_after` from the event.
fn retry_at(
    s: &AlertSettings,
    created: DateTime<Utc>,
    attempts: i64,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(20);
    let wait = s
        .retry_base
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(s.retry_max);
    let next = now + chrono::Duration::from_std(wait).ok()?;
    let limit = created + chrono::Duration::from_std(s.give_up_after).ok()?;
    (next <= limit).then_some(next)
}

enum Failure {
    /// Worth another attempt (the receiver could not be reached, or timed out).
    Retry(String),
    /// No attempt can succeed (the stored address does not open with this key).
    Permanent(String),
}

/// Sends `d` in its destination's format: the destination's kind, and the receiver's status.
async fn send(state: &AppState, d: &DeliveryRow) -> (WebhookKind, Result<u16, Failure>) {
    match webhooks::get(state.db.pool(), &d.webhook_id).await {
        Ok(Some(w)) => {
            let kind = WebhookKind::parse(&w.kind).unwrap_or(WebhookKind::Json);
            (kind, send_to(state, d, &w, kind).await)
        }
        Ok(None) => (
            WebhookKind::Json,
            Err(Failure::Permanent("the destination was deleted".into())),
        ),
        Err(e) => (
            WebhookKind::Json,
            Err(Failure::Retry(format!("database: {e}"))),
        ),
    }
}

async fn send_to(
    state: &AppState,
    d: &DeliveryRow,
    w: &WebhookRow,
    kind: WebhookKind,
) -> Result<u16, Failure> {
    let unusable = |_| {
        Failure::Permanent(
            "the stored address does not decrypt (was SECRET_KEY or the key file changed?)".into(),
        )
    };
    let url = state
        .secrets
        .open(&url_context(&w.id), &w.url())
        .map_err(unusable)?;
    let payload: Value = serde_json::from_str(&d.payload)
        .map_err(|_| Failure::Permanent("the queued event is not JSON".into()))?;
    let body = match kind {
        WebhookKind::Json => d.payload.clone(),
        WebhookKind::Teams => teams_card(&payload).to_string(),
        WebhookKind::Slack => slack_message(&payload).to_string(),
    };
    use secrecy::ExposeSecret as _;
    let mut request = state
        .alerts
        .http
        .post(url.expose_secret())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, &d.event)
        .header(DELIVERY_HEADER, &d.id);
    if let Some(sealed) = w.key() {
        let key = state
            .secrets
            .open(&key_context(&w.id), &sealed)
            .map_err(unusable)?;
        let timestamp = Utc::now().timestamp().to_string();
        request = request.header(TIMESTAMP_HEADER, &timestamp).header(
            SIGNATURE_HEADER,
            signature(key.expose_secret().as_bytes(), &timestamp, body.as_bytes()),
        );
    }
    match request.body(body).send().await {
        Ok(response) => Ok(response.status().as_u16()),
        // Never the address in what is kept or logged: it holds the secret.
        Err(e) => Err(Failure::Retry(describe(&e.without_url()))),
    }
}

/// A failed request in words (without its address).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the receiver did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the receiver".into()
    } else if e.is_redirect() {
        "the receiver redirected (not followed)".into()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        text.chars().take(300).collect()
    }
}

/// `sha256=` and the hex HMAC-SHA256, keyed by the signing key, of `timestamp`, a dot and
/// the body: what a receiver recomputes to know the event is ours and fresh.
pub fn signature(key: &[u8], timestamp: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(timestamp.as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn text(payload: &Value, key: &str) -> String {
    payload[key].as_str().unwrap_or_default().to_owned()
}

/// The facts a chat message lists: the organization, health and last successful sync.
fn facts(payload: &Value) -> Vec<(String, String)> {
    let c = &payload["connector"];
    let mut facts = Vec::new();
    if let Some(org) = c["organization"].as_str().or(c["tenantId"].as_str()) {
        facts.push(("Organization".to_owned(), org.to_owned()));
    }
    if let Some(health) = c["health"].as_str() {
        facts.push(("Health".to_owned(), health.to_owned()));
    }
    facts.push((
        "Last successful sync".to_owned(),
        c["lastSyncDateTime"].as_str().unwrap_or("never").to_owned(),
    ));
    facts
}

/// Whether the event is bad news (red in chat), good news or neither.
fn tone(event: &str) -> &'static str {
    match AlertEvent::parse(event) {
        Some(
            AlertEvent::ConnectorUnhealthy | AlertEvent::SyncFailed | AlertEvent::PermissionMissing,
        ) => "attention",
        Some(
            AlertEvent::ConnectorWarning
            | AlertEvent::TokenExpiring
            | AlertEvent::LegacyDevicesAppeared,
        ) => "warning",
        Some(AlertEvent::ConnectorHealthy) => "good",
        _ => "default",
    }
}

/// A Microsoft Teams message: an Adaptive Card (what Teams' Workflows webhooks and the older
/// incoming webhooks both accept).
fn teams_card(payload: &Value) -> Value {
    let facts: Vec<Value> = facts(payload)
        .into_iter()
        .map(|(title, value)| json!({ "title": title, "value": value }))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "text": format!("Exchange connector: {}", text(payload, "title")),
                        "weight": "Bolder",
                        "size": "Medium",
                        "color": tone(&text(payload, "event")),
                        "wrap": true
                    },
                    { "type": "TextBlock", "text": text(payload, "summary"), "wrap": true },
                    { "type": "FactSet", "facts": facts }
                ],
                "actions": [{
                    "type": "Action.OpenUrl",
                    "title": "Open the connector",
                    "url": text(payload, "link")
                }]
            }
        }]
    })
}

/// Slack's mrkdwn escapes.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack message: a plain text (notifications) and blocks (the channel).
fn slack_message(payload: &Value) -> Value {
    let title = slack_escape(&text(payload, "title"));
    let summary = slack_escape(&text(payload, "summary"));
    let facts: Vec<String> = facts(payload)
        .into_iter()
        .map(|(k, v)| format!("*{}:* {}", slack_escape(&k), slack_escape(&v)))
        .collect();
    let link = text(payload, "link");
    json!({
        "text": format!("Exchange connector: {title}. {summary}"),
        "blocks": [
            {
                "type": "section",
                "text": { "type": "mrkdwn", "text": format!("*Exchange connector: {title}*\n{summary}") }
            },
            {
                "type": "context",
                "elements": [{
                    "type": "mrkdwn",
                    "text": format!("{} · <{}|Open the connector>", facts.join(" · "), slack_escape(&link))
                }]
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_only_to_refused_addresses_is_not_reached() {
        use reqwest::dns::Resolve as _;
        let resolve = |host: &str| ReceiverResolver.resolve(host.parse().expect("a name"));
        let loopback: Vec<_> = resolve("localhost").await.expect("localhost").collect();
        assert!(!loopback.is_empty());
        assert!(
            loopback.iter().all(|a| a.ip().is_loopback()),
            "{loopback:?}"
        );
        // The resolver answers an address written as a name without asking DNS: a name that
        // resolves to the metadata service meets the same refusal.
        for refused in ["169.254.169.254", "224.0.0.1", "0.0.0.0"] {
            let Err(e) = resolve(refused).await else {
                panic!("{refused} was resolved");
            };
            let e = e.to_string();
            assert!(e.contains("refused addresses"), "{e}");
            assert!(!e.contains(refused), "the error names the address: {e}");
        }
    }

    fn payload() -> Value {
        json!({
            "id": "e-1",
            "event": "syncFailed",
            "title": "A sync failed",
            "summary": "The quick sync <failed> & stopped",
            "connector": { "organization": "Contoso", "health": "healthy", "lastSyncDateTime": null },
            "link": "https://connector.example/conditional-access/exchange-connector"
        })
    }

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // RFC 4231 test case 2's key and data, split as timestamp "what do ya want " and body
        // "for nothing?" joined by our dot: computed independently with `openssl dgst`.
        let sig = signature(b"Jefe", "1700000000", b"{\"a\":1}");
        assert!(sig.starts_with("sha256="));
        assert_eq!(sig.len(), "sha256=".len() + 64);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"Jefe");
        let hex = sig.trim_start_matches("sha256=");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        assert!(ring::hmac::verify(&key, b"1700000000.{\"a\":1}", &bytes).is_ok());
        assert!(ring::hmac::verify(&key, b"1700000001.{\"a\":1}", &bytes).is_err());
        assert_ne!(sig, signature(b"Jefe", "1700000000", b"{\"a\":2}"));
    }

    #[test]
    fn retries_double_up_to_the_cap_and_stop_after_a_day() {
        let s = AlertSettings::default();
        let created = Utc::now();
        let wait = |attempts: i64| {
            retry_at(&s, created, attempts, created).map(|t| (t - created).num_seconds())
        };
        assert_eq!(wait(1), Some(30));
        assert_eq!(wait(2), Some(60));
        assert_eq!(wait(3), Some(120));
        assert_eq!(wait(9), Some(3600));
        assert_eq!(wait(500), Some(3600));
        let late = created + chrono::Duration::hours(23) + chrono::Duration::minutes(59);
        assert_eq!(retry_at(&s, created, 10, late), None);
    }

    #[test]
    fn chat_formats_carry_the_event_escaped_with_a_link() {
        let teams = teams_card(&payload());
        let card = &teams["attachments"][0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["color"], "attention");
        assert_eq!(card["body"][1]["text"], "The quick sync <failed> & stopped");
        assert_eq!(
            card["actions"][0]["url"],
            "https://connector.example/conditional-access/exchange-connector"
        );
        let slack = slack_message(&payload());
        let text = slack["text"].as_str().expect("text");
        assert!(text.contains("&lt;failed&gt; &amp; stopped"), "{text}");
        let context = slack["blocks"][1]["elements"][0]["text"]
            .as_str()
            .expect("ctx");
        assert!(context.contains("*Organization:* Contoso"), "{context}");
        assert!(
            context.contains("*Last successful sync:* never"),
            "{context}"
        );
        assert!(context.ends_with("|Open the connector>"), "{context}");
    }
}
