//! Plain functions that decide what the page shows. No view code here, so they are unit tested.

use chrono::{DateTime, Utc};

use crate::model::ConnectionStatus;

/// Colour family of a status; the page always pairs it with a word and an icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Success,
    Pending,
    Danger,
    Neutral,
}

/// The tone of a connection status.
pub fn status_tone(status: ConnectionStatus) -> Tone {
    match status {
        ConnectionStatus::Connected => Tone::Success,
        ConnectionStatus::ConnectionPending => Tone::Pending,
        ConnectionStatus::Disconnected => Tone::Danger,
        ConnectionStatus::None => Tone::Neutral,
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago". Times in the future (clock skew
/// between server and browser) read as "just now".
pub fn relative_age(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds();
    if seconds < 45 {
        return "just now".into();
    }
    let minutes = (seconds + 30) / 60;
    if minutes < 60 {
        return plural(minutes, "minute");
    }
    let hours = minutes / 60;
    if hours < 24 {
        return plural(hours, "hour");
    }
    let days = hours / 24;
    if days < 60 {
        return plural(days, "day");
    }
    plural(days / 30, "month")
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

/// A UTC time as the server renders it before the browser switches it to local time.
pub fn format_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "1 device", "137 devices".
pub fn device_count_label(n: u64) -> String {
    if n == 1 {
        "1 device".into()
    } else {
        format!("{n} devices")
    }
}

/// The word Intune uses for an Exchange access state; unknown states are shown as sent.
pub fn access_state_label(state: &str) -> &str {
    match state {
        "DeviceDiscovery" => "Discovery",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, s).unwrap()
    }

    #[test]
    fn recent_times_read_as_just_now_even_slightly_in_the_future() {
        assert_eq!(relative_age(at(10, 0, 0), at(10, 0, 44)), "just now");
        assert_eq!(relative_age(at(10, 0, 30), at(10, 0, 0)), "just now");
    }

    #[test]
    fn minutes_hours_and_days_are_rounded_and_pluralised() {
        assert_eq!(relative_age(at(10, 0, 0), at(10, 1, 0)), "1 minute ago");
        assert_eq!(relative_age(at(10, 0, 0), at(10, 5, 10)), "5 minutes ago");
        assert_eq!(relative_age(at(10, 0, 0), at(11, 10, 0)), "1 hour ago");
        assert_eq!(relative_age(at(1, 0, 0), at(23, 59, 0)), "22 hours ago");
        let now = at(12, 0, 0);
        assert_eq!(relative_age(now - Duration::days(1), now), "1 day ago");
        assert_eq!(relative_age(now - Duration::days(3), now), "3 days ago");
        assert_eq!(relative_age(now - Duration::days(90), now), "3 months ago");
    }

    #[test]
    fn every_status_has_a_distinct_word_and_tone() {
        use ConnectionStatus::*;
        let all = [None, ConnectionPending, Connected, Disconnected];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.label(), b.label());
                assert_ne!(status_tone(*a), status_tone(*b));
            }
        }
        assert_eq!(Connected.label(), "Connected");
        assert_eq!(status_tone(Disconnected), Tone::Danger);
    }

    #[test]
    fn device_counts_read_naturally() {
        assert_eq!(device_count_label(0), "0 devices");
        assert_eq!(device_count_label(1), "1 device");
        assert_eq!(device_count_label(137), "137 devices");
    }

    #[test]
    fn access_states_use_intune_words_and_keep_unknown_values() {
        assert_eq!(access_state_label("DeviceDiscovery"), "Discovery");
        assert_eq!(access_state_label("Quarantined"), "Quarantined");
        assert_eq!(access_state_label("SomethingNew"), "SomethingNew");
    }

    #[test]
    fn utc_format_is_unambiguous() {
        assert_eq!(format_utc(at(9, 5, 59)), "2026-11-24 09:05 UTC");
    }
}
