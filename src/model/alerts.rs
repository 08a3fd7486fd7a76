//! Alert webhooks as the Notifications page shows them: destinations, the events they hear,
//! and the deliveries with their outcome.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Destinations an organization may have.
pub const WEBHOOK_MAX: usize = 20;
/// Characters in a destination's name.
pub const WEBHOOK_MAX_NAME: usize = 80;
/// Characters in a destination's address.
pub const WEBHOOK_MAX_URL: usize = 2048;

/// Something the connector tells its destinations about. Each fires once per transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AlertEvent {
    /// Health turned warning (no successful sync for longer than the warning threshold).
    ConnectorWarning,
    /// Health turned unhealthy.
    ConnectorUnhealthy,
    /// Health turned healthy again after warning or unhealthy.
    ConnectorHealthy,
    /// A sync run failed.
    SyncFailed,
    /// Exchange refused a cmdlet the connector needs (a permission or role is missing).
    PermissionMissing,
    /// The delegated sign-in's refresh token is about to expire.
    TokenExpiring,
    /// More devices below EAS 16.1 than at the last check.
    LegacyDevicesAppeared,
    /// Sent from the page to try a destination.
    Test,
}

impl AlertEvent {
    /// The events a destination can choose (the test is always allowed).
    pub const CHOOSABLE: [AlertEvent; 7] = [
        AlertEvent::ConnectorWarning,
        AlertEvent::ConnectorUnhealthy,
        AlertEvent::ConnectorHealthy,
        AlertEvent::SyncFailed,
        AlertEvent::PermissionMissing,
        AlertEvent::TokenExpiring,
        AlertEvent::LegacyDevicesAppeared,
    ];

    /// The stored and sent name (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::ConnectorWarning => "connectorWarning",
            AlertEvent::ConnectorUnhealthy => "connectorUnhealthy",
            AlertEvent::ConnectorHealthy => "connectorHealthy",
            AlertEvent::SyncFailed => "syncFailed",
            AlertEvent::PermissionMissing => "permissionMissing",
            AlertEvent::TokenExpiring => "tokenExpiring",
            AlertEvent::LegacyDevicesAppeared => "legacyDevicesAppeared",
            AlertEvent::Test => "test",
        }
    }

    /// The event named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::CHOOSABLE
            .into_iter()
            .chain([AlertEvent::Test])
            .find(|e| e.as_str() == name)
    }

    /// The event in words, as the page lists it.
    pub fn label(self) -> &'static str {
        match self {
            AlertEvent::ConnectorWarning => "Connector turned warning",
            AlertEvent::ConnectorUnhealthy => "Connector turned unhealthy",
            AlertEvent::ConnectorHealthy => "Connector healthy again",
            AlertEvent::SyncFailed => "A sync failed",
            AlertEvent::PermissionMissing => "A permission is missing",
            AlertEvent::TokenExpiring => "Delegated sign-in about to expire",
            AlertEvent::LegacyDevicesAppeared => "New devices below EAS 16.1",
            AlertEvent::Test => "Test",
        }
    }
}

/// The format a destination receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WebhookKind {
    /// The event as JSON, signed with HMAC-SHA256 (`X-Connector-Signature`).
    Json,
    /// A Microsoft Teams incoming webhook (Workflows): an Adaptive Card.
    Teams,
    /// A Slack incoming webhook: text and blocks.
    Slack,
}

impl WebhookKind {
    pub const ALL: [WebhookKind; 3] = [WebhookKind::Json, WebhookKind::Teams, WebhookKind::Slack];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Json => "json",
            WebhookKind::Teams => "teams",
            WebhookKind::Slack => "slack",
        }
    }

    /// The kind stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The kind in words.
    pub fn label(self) -> &'static str {
        match self {
            WebhookKind::Json => "JSON (signed)",
            WebhookKind::Teams => "Microsoft Teams",
            WebhookKind::Slack => "Slack",
        }
    }
}

/// A destination, its address shortened (the whole address is never shown again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub kind: WebhookKind,
    /// Scheme, host and the address's last characters (`https://hooks.slack.com/…Xy7Q`).
    pub url_hint: String,
    pub events: Vec<AlertEvent>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// How a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or its next retry.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Retried for 24 hours without success.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One event sent (or being sent) to one destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub webhook_name: String,
    pub event: AlertEvent,
    /// The event in words, as sent.
    pub summary: String,
    pub created_at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status at the last attempt.
    pub last_status: Option<u16>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
}

/// A destination just added; a JSON destination's signing key is in it, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub signing_key: Option<String>,
}

/// How a Notifications form posted without JavaScript ended (kept in the session for the one
/// page that follows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookFlash {
    Created(CreatedWebhook),
    Deleted,
    Updated(Webhook),
    Tested(Delivery),
    Resent(Delivery),
    Refused { field: String, message: String },
}

/// What the Notifications page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsPage {
    pub webhooks: Vec<Webhook>,
    /// The latest deliveries, newest first.
    pub deliveries: Vec<Delivery>,
    pub flash: Option<WebhookFlash>,
    /// Server time, for relative times.
    pub now: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for e in AlertEvent::CHOOSABLE.into_iter().chain([AlertEvent::Test]) {
            assert_eq!(AlertEvent::parse(e.as_str()), Some(e));
            let json = serde_json::to_string(&e).expect("json");
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
        for k in WebhookKind::ALL {
            assert_eq!(WebhookKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AlertEvent::parse("nope"), None);
        assert_eq!(WebhookKind::parse("JSON"), None);
    }
}
