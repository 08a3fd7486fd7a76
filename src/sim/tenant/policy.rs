//! Mobile device mailbox policies: the stored settings and how Exchange prints them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::enums::{Bluetooth, EmailAge};

/// Name of the built-in policy every tenant starts with.
pub(crate) const DEFAULT_POLICY_NAME: &str = "Default";

/// One `MobileDeviceMailboxPolicy`. `None` in an "Unlimited" setting means Unlimited.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MailboxPolicy {
    /// Paging key: creation order, never reused.
    pub(crate) key: u64,
    pub(crate) guid: Uuid,
    pub(crate) name: String,
    pub(crate) is_default: bool,
    pub(crate) password_enabled: bool,
    pub(crate) alphanumeric_password_required: bool,
    pub(crate) allow_simple_password: bool,
    /// 1..=16, or `None` (null).
    pub(crate) min_password_length: Option<u8>,
    /// 4..=16, or `None` (Unlimited).
    pub(crate) max_password_failed_attempts: Option<u8>,
    /// Seconds (1..=730 days), or `None` (Unlimited).
    pub(crate) password_expiration: Option<u32>,
    /// 0..=50.
    pub(crate) password_history: u8,
    /// Seconds (60..=3600), or `None` (Unlimited).
    pub(crate) max_inactivity_time_lock: Option<u32>,
    /// 1..=4.
    pub(crate) min_password_complex_characters: u8,
    pub(crate) require_device_encryption: bool,
    pub(crate) device_encryption_enabled: bool,
    pub(crate) allow_non_provisionable_devices: bool,
    /// Seconds, or `None` (Unlimited).
    pub(crate) device_policy_refresh_interval: Option<u32>,
    pub(crate) attachments_enabled: bool,
    pub(crate) allow_camera: bool,
    pub(crate) allow_bluetooth: Bluetooth,
    pub(crate) allow_wifi: bool,
    pub(crate) allow_text_messaging: bool,
    pub(crate) allow_storage_card: bool,
    pub(crate) allow_browser: bool,
    pub(crate) allow_internet_sharing: bool,
    pub(crate) max_email_age_filter: EmailAge,
    pub(crate) when_created: DateTime<Utc>,
    pub(crate) when_changed: DateTime<Utc>,
}

impl MailboxPolicy {
    /// A policy with Exchange Online's default settings (what `New-MobileDeviceMailboxPolicy`
    /// creates when only a name is given).
    pub(crate) fn with_defaults(key: u64, guid: Uuid, name: String, when: DateTime<Utc>) -> Self {
        Self {
            key,
            guid,
            name,
            is_default: false,
            password_enabled: false,
            alphanumeric_password_required: false,
            allow_simple_password: true,
            min_password_length: None,
            max_password_failed_attempts: None,
            password_expiration: None,
            password_history: 0,
            max_inactivity_time_lock: None,
            min_password_complex_characters: 1,
            require_device_encryption: false,
            device_encryption_enabled: false,
            allow_non_provisionable_devices: true,
            device_policy_refresh_interval: None,
            attachments_enabled: true,
            allow_camera: true,
            allow_bluetooth: Bluetooth::Allow,
            allow_wifi: true,
            allow_text_messaging: true,
            allow_storage_card: true,
            allow_browser: true,
            allow_internet_sharing: true,
            max_email_age_filter: EmailAge::All,
            when_created: when,
            when_changed: when,
        }
    }
}

/// A .NET `TimeSpan` as Exchange prints it: `hh:mm:ss`, or `d.hh:mm:ss` from one day up.
pub(crate) fn timespan(secs: u32) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let hms = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days}.{hms}")
    } else {
        hms
    }
}

/// An `Unlimited<TimeSpan>` as printed: `Unlimited` or [`timespan`].
pub(crate) fn unlimited_timespan(secs: Option<u32>) -> String {
    secs.map_or_else(|| "Unlimited".to_owned(), timespan)
}

/// Parses `d.hh:mm:ss`, `hh:mm:ss` or `hh:mm` (seconds; `None` if malformed).
pub(crate) fn parse_timespan(text: &str) -> Option<u32> {
    let t = text.trim();
    let (days, hms) = match t.split_once('.') {
        Some((d, rest)) if rest.contains(':') => (d.parse::<u32>().ok()?, rest),
        _ => (0, t),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let num = |s: &str| s.parse::<u32>().ok();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (num(h)?, num(m)?, 0),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return None,
    };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    days.checked_mul(86_400)?.checked_add(h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_print_and_parse_like_dotnet() {
        assert_eq!(timespan(900), "00:15:00");
        assert_eq!(timespan(730 * 86_400), "730.00:00:00");
        assert_eq!(timespan(86_400 + 3_661), "1.01:01:01");
        assert_eq!(unlimited_timespan(None), "Unlimited");
        assert_eq!(parse_timespan("730.00:00:00"), Some(730 * 86_400));
        assert_eq!(parse_timespan("00:01:00"), Some(60));
        assert_eq!(parse_timespan("01:00"), Some(3600));
        for bad in ["", "1:60:00", "x", "1.2.3", "25:00:00"] {
            assert_eq!(parse_timespan(bad), None, "{bad}");
        }
    }
}
