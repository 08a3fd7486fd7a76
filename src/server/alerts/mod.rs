//! Alert webhooks: admins add destinations (generic JSON signed with HMAC-SHA256, a Microsoft
//! Teams or a Slack incoming webhook) and choose the events each hears; the watcher
//! (`watch`) raises an event once per transition of what it watches; each event becomes one
//! queued delivery per destination, sent and retried with backoff for up to 24 hours by the
//! delivery worker (`deliver`). Nothing here runs inside a sync: a slow or broken receiver
//! never holds one up.
//!
//! A destination's address is sealed at rest (Teams' and Slack's addresses are secrets) and
//! only a hint of it is ever shown again; so is the signing key of a JSON destination, shown
//! once when it is added.

pub(crate) mod deliver;
pub(crate) mod watch;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use crate::model::{
    AlertEvent, AuditAction, AuditResult, CreatedWebhook, Delivery, DeliveryStatus,
    NotificationsPage, Webhook, WebhookKind, WEBHOOK_MAX, WEBHOOK_MAX_NAME, WEBHOOK_MAX_URL,
};

use super::audit::{self, Event};
use super::auth::Principal;
use super::db::webhooks::{self, DeliveryRow, WebhookRow};
use super::error::AppError;
use super::state::AppState;

/// Deliveries the page lists.
const LISTED_DELIVERIES: i64 = 50;
/// Signing keys start with this, so that people and secret scanners recognise one.
const KEY_PREFIX: &str = "whsec_";

/// How often the watcher looks, and how deliveries are retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    /// `ALERT_CHECK_SECS`: the watcher looks this often (1 to 3600, default 60), and after
    /// every sync.
    pub check_every: Duration,
    /// The first retry's wait; each next one doubles, up to `retry_max`.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_max: Duration,
    /// A delivery not made within this long after its event is given up (24 hours).
    pub give_up_after: Duration,
    /// One attempt's time limit.
    pub timeout: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            check_every: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The contexts a destination's secrets are sealed in (a sealed value opens only in its own).
fn url_context(id: &str) -> String {
    format!("webhook:{id}:url")
}

fn key_context(id: &str) -> String {
    format!("webhook:{id}:key")
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The address as kept: http or https, with a host, at most [`WEBHOOK_MAX_URL`] characters.
fn clean_url(raw: &str) -> Result<url::Url, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid(
            "url",
            "paste the address the receiver gave you (https://…)",
        ));
    }
    if raw.chars().count() > WEBHOOK_MAX_URL {
        return Err(invalid(
            "url",
            format!("at most {WEBHOOK_MAX_URL} characters"),
        ));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| invalid("url", "not a web address; it starts with https://"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid(
            "url",
            format!("must start with https:// (not {}:)", url.scheme()),
        ));
    }
    let refused_ip = match url.host() {
        None | Some(url::Host::Domain("")) => {
            return Err(invalid("url", "the address has no host"))
        }
        Some(url::Host::Ipv4(ip)) => !receiver_ip_allowed(ip.into()),
        Some(url::Host::Ipv6(ip)) => !receiver_ip_allowed(ip.into()),
        // A name is checked when it is resolved, at every attempt (`deliver::ReceiverResolver`).
        Some(url::Host::Domain(_)) => false,
    };
    if refused_ip {
        // 169.254.169.254 is where cloud machines keep their credentials.
        return Err(invalid(
            "url",
            "link-local, broadcast and multicast addresses (such as a cloud's metadata \
             service) are refused",
        ));
    }
    Ok(url)
}

/// Whether a receiver may be reached at `ip`: not link-local (a cloud's metadata service at
/// 169.254.169.254 keeps the machine's credentials there), unspecified, broadcast or multicast.
pub(crate) fn receiver_ip_allowed(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(ip) => {
            !(ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast())
        }
        std::net::IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => receiver_ip_allowed(v4.into()),
            None => !(ip.is_unspecified() || ip.is_multicast() || ip.is_unicast_link_local()),
        },
    }
}

/// What the page shows of an address: its scheme, host and port, and the last 4 characters
/// of the rest (which, for Teams and Slack, is the secret).
pub(crate) fn url_hint(url: &url::Url) -> String {
    let origin = url.origin().ascii_serialization();
    let rest = &url.as_str()[origin.len().min(url.as_str().len())..];
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return format!("{origin}/");
    }
    let tail: String = rest
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{origin}/…{tail}")
}

fn clean_name(name: &str) -> Result<String, AppError> {
    super::names::clean(
        name,
        WEBHOOK_MAX_NAME,
        "give the destination a name, such as the channel it posts to",
    )
}

/// The chosen events, each known and choosable, in the page's order.
fn clean_events(names: &[String]) -> Result<Vec<AlertEvent>, AppError> {
    let mut chosen = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match AlertEvent::parse(name).filter(|e| *e != AlertEvent::Test) {
            Some(e) => chosen.push(e),
            None => {
                let shown: String = name.chars().take(40).collect();
                return Err(invalid("events", format!("{shown:?} is not an event")));
            }
        }
    }
    let events: Vec<AlertEvent> = AlertEvent::CHOOSABLE
        .into_iter()
        .filter(|e| chosen.contains(e))
        .collect();
    if events.is_empty() {
        return Err(invalid("events", "choose at least one event to send here"));
    }
    Ok(events)
}

fn event_names(events: &[AlertEvent]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_events(stored: &str) -> Vec<AlertEvent> {
    stored.split(',').filter_map(AlertEvent::parse).collect()
}

fn to_model(row: &WebhookRow) -> Webhook {
    Webhook {
        id: row.id.clone(),
        name: row.name.clone(),
        kind: WebhookKind::parse(&row.kind).unwrap_or(WebhookKind::Json),
        url_hint: row.url_hint.clone(),
        events: parse_events(&row.events),
        created_by: row.created_by.clone(),
        created_at: row.created_at,
    }
}

fn delivery_model(row: DeliveryRow) -> Delivery {
    let summary = serde_json::from_str::<serde_json::Value>(&row.payload)
        .ok()
        .and_then(|p| p["summary"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Delivery {
        event: AlertEvent::parse(&row.event).unwrap_or(AlertEvent::Test),
        status: DeliveryStatus::parse(&row.status).unwrap_or(DeliveryStatus::Pending),
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
        id: row.id,
        webhook_id: row.webhook_id,
        webhook_name: row.webhook_name,
        summary,
        created_at: row.created_at,
        next_attempt_at: row.next_attempt_at,
        last_attempt_at: row.last_attempt_at,
        last_error: row.last_error,
    }
}

fn random_key() -> Result<String, AppError> {
    let mut buf = [0u8; 32];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| AppError::Internal("the system random generator failed".into()))?;
    Ok(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(buf)))
}

/// The events in words, as the audit log lists them.
fn labels(events: &[AlertEvent]) -> String {
    events
        .iter()
        .map(|e| e.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records an admin's change of the destination `name` in the audit log.
async fn audited(state: &AppState, who: &Principal, address: &str, name: &str, detail: String) {
    let event = Event::new(
        AuditAction::SettingsChange,
        Some(&who.email),
        AuditResult::Success,
    )
    .address(Some(address))
    .target(format!("alert destination \"{name}\""))
    .detail(detail);
    audit::record(state.db.pool(), event).await;
}

/// The page's data: every destination and the latest deliveries.
pub(crate) async fn page(state: &AppState) -> Result<NotificationsPage, AppError> {
    let pool = state.db.pool();
    let rows = webhooks::all(pool).await?;
    let deliveries = webhooks::recent(pool, LISTED_DELIVERIES).await?;
    Ok(NotificationsPage {
        webhooks: rows.iter().map(to_model).collect(),
        deliveries: deliveries.into_iter().map(delivery_model).collect(),
        flash: None,
        now: Utc::now(),
    })
}

/// The form of a new destination.
pub(crate) struct NewWebhook<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    pub events: &'a [String],
}

/// Adds a destination (admins). Its address and key are sealed; the key of a JSON destination
/// is in the answer and nowhere else. Audited.
pub(crate) async fn create(
    state: &AppState,
    who: &Principal,
    new: &NewWebhook<'_>,
    address: &str,
) -> Result<CreatedWebhook, AppError> {
    let name = clean_name(new.name)?;
    let kind = WebhookKind::parse(new.kind.trim())
        .ok_or_else(|| invalid("kind", "choose JSON (signed), Microsoft Teams or Slack"))?;
    let url = clean_url(new.url)?;
    let events = clean_events(new.events)?;
    let pool = state.db.pool();
    if usize::try_from(webhooks::count(pool).await?).unwrap_or(usize::MAX) >= WEBHOOK_MAX {
        return Err(invalid(
            "name",
            format!("there are already {WEBHOOK_MAX} destinations: delete one first"),
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let sealed_url = state
        .secrets
        .seal(&url_context(&id), url.as_str().as_bytes())
        .map_err(AppError::Internal)?;
    let key = match kind {
        WebhookKind::Json => Some(random_key()?),
        WebhookKind::Teams | WebhookKind::Slack => None,
    };
    let sealed_key = match &key {
        Some(key) => Some(
            state
                .secrets
                .seal(&key_context(&id), key.as_bytes())
                .map_err(AppError::Internal)?,
        ),
        None => None,
    };
    let row = WebhookRow {
        id: id.clone(),
        name: name.clone(),
        kind: kind.as_str().to_owned(),
        url_nonce: sealed_url.nonce,
        url_ciphertext: sealed_url.ciphertext,
        url_hint: url_hint(&url),
        key_nonce: sealed_key.as_ref().map(|s| s.nonce.clone()),
        key_ciphertext: sealed_key.map(|s| s.ciphertext),
        events: event_names(&events),
        created_by: who.email.clone(),
        created_at: Utc::now(),
    };
    webhooks::insert(pool, &row).await?;
    let detail = format!(
        "added the {} destination \"{name}\" ({}) for: {}",
        kind.label(),
        row.url_hint,
        labels(&events)
    );
    audited(state, who, address, &name, detail).await;
    Ok(CreatedWebhook {
        webhook: to_model(&row),
        signing_key: key,
    })
}

/// Changes the events the destination `id` hears (its address and key stay). Audited.
pub(crate) async fn set_events(
    state: &AppState,
    who: &Principal,
    id: &str,
    events: &[String],
    address: &str,
) -> Result<Webhook, AppError> {
    let events = clean_events(events)?;
    let pool = state.db.pool();
    let Some(row) = webhooks::get(pool, id).await? else {
        return Err(invalid("id", "there is no such destination (deleted?)"));
    };
    let names = event_names(&events);
    if names != row.events {
        webhooks::set_events(pool, id, &names).await?;
        let detail = format!(
            "changed the events of \"{}\" to: {}",
            row.name,
            labels(&events)
        );
        audited(state, who, address, &row.name, detail).await;
    }
    let row = webhooks::get(pool, id)
        .await?
        .ok_or_else(|| invalid("id", "the destination was deleted meanwhile"))?;
    Ok(to_model(&row))
}

/// Deletes the destination `id` and its deliveries (admins). Audited.
pub(crate) async fn delete(
    state: &AppState,
    who: &Principal,
    id: &str,
    address: &str,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let Some(row) = webhooks::get(pool, id).await? else {
        return Err(invalid(
            "id",
            "there is no such destination (already deleted?)",
        ));
    };
    if webhooks::delete(pool, id).await? {
        let detail = format!(
            "deleted the destination \"{}\" ({})",
            row.name, row.url_hint
        );
        audited(state, who, address, &row.name, detail).await;
    }
    Ok(())
}

/// Sends a test event to the destination `id` now and waits for the attempt: the answer is
/// the delivery as it stands (delivered, or pending with its next retry). Admins.
pub(crate) async fn send_test(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<Delivery, AppError> {
    let pool = state.db.pool();
    let Some(row) = webhooks::get(pool, id).await? else {
        return Err(invalid("id", "there is no such destination (deleted?)"));
    };
    let payload = payload(
        state,
        AlertEvent::Test,
        format!(
            "A test from the Exchange connector, sent by {} to \"{}\". Alerts will look like this.",
            who.email, row.name
        ),
        json!({ "sentBy": who.email }),
    )
    .await;
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let mut conn = pool.acquire().await?;
    // Queued as taken by this attempt (the worker leaves it alone until the lease ends).
    webhooks::enqueue(
        &mut conn,
        &webhooks::Queued {
            id: &delivery_id,
            webhook_id: &row.id,
            event: AlertEvent::Test.as_str(),
            payload: &payload.to_string(),
            now,
            due: now + deliver::LEASE,
        },
    )
    .await?;
    drop(conn);
    attempt_now(state, &delivery_id).await
}

/// Sends the failed delivery `id` once more, now, and waits for the attempt (at most its time
/// limit): the delivery as it stands. A failure is not retried again (its 24 hours are over,
/// or the receiver refused it for good); it stays failed with the new answer.
pub(crate) async fn resend(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<Delivery, AppError> {
    let until = Utc::now() + deliver::LEASE;
    if !webhooks::retake(state.db.pool(), id, until).await? {
        return Err(invalid(
            "id",
            "only a failed delivery can be sent again (this one is queued, delivered or gone)",
        ));
    }
    tracing::info!(delivery = %id, by = %who.email, "an alert delivery is sent again");
    attempt_now(state, id).await
}

/// Makes the attempt of the delivery `id`, taken already, and reads it back. In a task of its
/// own: a browser that goes away does not cut the attempt short, and its outcome is recorded
/// all the same.
async fn attempt_now(state: &AppState, delivery_id: &str) -> Result<Delivery, AppError> {
    let attempt = {
        let (state, id) = (state.clone(), delivery_id.to_owned());
        state
            .background
            .tracker
            .clone()
            .spawn(async move { deliver::attempt_taken(&state, &id).await })
    };
    attempt
        .await
        .map_err(|e| AppError::Internal(format!("the attempt stopped: {e}")))??;
    webhooks::recent_by_id(state.db.pool(), delivery_id)
        .await?
        .map(delivery_model)
        .ok_or_else(|| invalid("id", "the destination was deleted meanwhile"))
}

/// The event as every destination's format is made from it: what happened in words, the
/// connector, details, and where to look.
pub(crate) async fn payload(
    state: &AppState,
    event: AlertEvent,
    summary: String,
    details: serde_json::Value,
) -> serde_json::Value {
    let connector = match super::connector::overview(state).await {
        Ok(o) => o.connector.map(|c| {
            json!({
                "id": c.id,
                "organization": c.organization,
                "tenantId": c.tenant_id,
                "health": c.health,
                "lastSyncDateTime": c.last_sync_at,
            })
        }),
        Err(e) => {
            tracing::warn!(error = %e, "an alert goes out without the connector's details");
            None
        }
    };
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "event": event.as_str(),
        "title": event.label(),
        "summary": summary,
        "occurredAt": Utc::now(),
        "connector": connector,
        "details": details,
        "link": format!("{}{}", state.public_base(), crate::app::layout::CONNECTOR_PATH),
    })
}

/// Raises `event` (the watcher found a transition): one delivery per destination that hears
/// it, queued in the same transaction that keeps `key`'s new value, so that a transition is
/// announced once even when the server stops in between.
pub(crate) async fn raise(
    state: &AppState,
    event: AlertEvent,
    payload: &serde_json::Value,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let pool = state.db.pool();
    let listeners: Vec<WebhookRow> = webhooks::all(pool)
        .await?
        .into_iter()
        .filter(|w| parse_events(&w.events).contains(&event))
        .collect();
    let body = payload.to_string();
    let mut tx = pool.begin_with(super::db::BEGIN_WRITE).await?;
    for w in &listeners {
        let id = uuid::Uuid::new_v4().to_string();
        let queued = webhooks::Queued {
            id: &id,
            webhook_id: &w.id,
            event: event.as_str(),
            payload: &body,
            now,
            due: now,
        };
        webhooks::enqueue(&mut tx, &queued).await?;
    }
    webhooks::set_state(&mut tx, key, value, now).await?;
    tx.commit().await?;
    if !listeners.is_empty() {
        tracing::info!(
            event = event.as_str(),
            destinations = listeners.len(),
            "alert queued"
        );
        state.alerts.wake.notify_one();
    }
    Ok(listeners.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_keep_the_host_and_four_characters_of_the_secret() {
        let slack = url::Url::parse("https://hooks.slack.com/services/T000/B000/XXXXabcd1234")
            .expect("url");
        assert_eq!(url_hint(&slack), "https://hooks.slack.com/…1234");
        let bare = url::Url::parse("http://127.0.0.1:8080/").expect("url");
        assert_eq!(url_hint(&bare), "http://127.0.0.1:8080/");
        let query = url::Url::parse("https://x.example/hook?sig=abcdefgh").expect("url");
        assert_eq!(url_hint(&query), "https://x.example/…efgh");
    }

    #[test]
    fn addresses_names_and_events_are_checked_with_the_field_named() {
        let field = |e: AppError| match e {
            AppError::Invalid { field, .. } => field,
            other => panic!("{other}"),
        };
        assert_eq!(field(clean_url("").unwrap_err()), "url");
        assert_eq!(field(clean_url("ftp://x.example/").unwrap_err()), "url");
        assert_eq!(field(clean_url("not a url").unwrap_err()), "url");
        assert_eq!(
            field(clean_url(&format!("https://x.example/{}", "a".repeat(3000))).unwrap_err()),
            "url"
        );
        assert!(clean_url(" https://x.example/hook ").is_ok());
        assert!(clean_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(clean_url("http://10.0.0.5/hook").is_ok());
        for metadata in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert_eq!(field(clean_url(metadata).unwrap_err()), "url", "{metadata}");
        }
        assert_eq!(field(clean_name("  ").unwrap_err()), "name");
        assert_eq!(field(clean_name("a\nb").unwrap_err()), "name");
        assert_eq!(field(clean_events(&[]).unwrap_err()), "events");
        assert_eq!(field(clean_events(&["test".into()]).unwrap_err()), "events");
        assert_eq!(field(clean_events(&["nope".into()]).unwrap_err()), "events");
        assert_eq!(
            clean_events(&["syncFailed".into(), "connectorWarning".into()]).expect("ok"),
            vec![AlertEvent::ConnectorWarning, AlertEvent::SyncFailed]
        );
    }

    #[test]
    fn keys_are_long_random_and_recognisable() {
        let a = random_key().expect("key");
        let b = random_key().expect("key");
        assert!(a.starts_with(KEY_PREFIX));
        assert_eq!(a.len(), KEY_PREFIX.len() + 43);
        assert_ne!(a, b);
    }
}
