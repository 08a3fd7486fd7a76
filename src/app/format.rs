//! Plain functions that decide what the page shows. No view code here, so they are unit tested.

use chrono::{DateTime, Utc};

use crate::model::{
    ConnectionStatus, Health, HealthCause, SyncKind, SyncPhase, SyncProgress, SyncStatus,
    SyncTrigger,
};

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

/// The tone of a health value.
pub fn health_tone(health: Health) -> Tone {
    match health {
        Health::Healthy => Tone::Success,
        Health::Warning => Tone::Pending,
        Health::Unhealthy => Tone::Danger,
    }
}

/// The word shown for a health value.
pub fn health_label(health: Health) -> &'static str {
    match health {
        Health::Healthy => "Healthy",
        Health::Warning => "Warning",
        Health::Unhealthy => "Unhealthy",
    }
}

/// The named cause of the last failure in plain words.
pub fn health_cause_text(cause: &HealthCause) -> String {
    match cause {
        HealthCause::TokenExpired => "The sign-in token expired or the consent was revoked".into(),
        HealthCause::MissingPermission { cmdlet } => {
            format!("The account may not run {cmdlet}")
        }
        HealthCause::Throttled => "Exchange Online throttled the last sync until it gave up".into(),
        HealthCause::Unreachable => "Exchange Online could not be reached".into(),
        HealthCause::PartialSync => "The last sync only partly succeeded".into(),
    }
}

/// The tone of a sync run's status.
pub fn sync_status_tone(status: SyncStatus) -> Tone {
    match status {
        SyncStatus::Succeeded => Tone::Success,
        SyncStatus::Running | SyncStatus::Partial => Tone::Pending,
        SyncStatus::Failed => Tone::Danger,
        SyncStatus::Interrupted => Tone::Neutral,
    }
}

/// The word shown for a sync run's status.
pub fn sync_status_label(status: SyncStatus) -> &'static str {
    match status {
        SyncStatus::Running => "Running",
        SyncStatus::Succeeded => "Succeeded",
        SyncStatus::Partial => "Partial",
        SyncStatus::Failed => "Failed",
        SyncStatus::Interrupted => "Interrupted",
    }
}

/// Every sync kind, in the order filters list them.
pub const SYNC_KINDS: [SyncKind; 2] = [SyncKind::FullSync, SyncKind::DeltaSync];

/// Every trigger, in the order filters list them.
pub const SYNC_TRIGGERS: [SyncTrigger; 3] = [
    SyncTrigger::Setup,
    SyncTrigger::Scheduled,
    SyncTrigger::Manual,
];

/// "Full sync" / "Quick sync" (Intune's words for `fullSync` / `deltaSync`).
pub fn sync_kind_label(kind: SyncKind) -> &'static str {
    match kind {
        SyncKind::FullSync => "Full sync",
        SyncKind::DeltaSync => "Quick sync",
    }
}

/// The word shown for what started a run.
pub fn sync_trigger_label(trigger: SyncTrigger) -> &'static str {
    match trigger {
        SyncTrigger::Setup => "Set-up",
        SyncTrigger::Scheduled => "Scheduled",
        SyncTrigger::Manual => "Manual",
    }
}

/// A query-string value back to the enum whose storage name it is (`succeeded`, `fullSync`,
/// `manual`); empty or unknown values are no filter.
pub fn parse_param<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    if value.is_empty() {
        return None;
    }
    serde_json::from_value(serde_json::Value::String(value.to_owned())).ok()
}

/// "2,400": digits grouped by thousands.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "350 ms", "4 s", "1 min 4 s", "2 min", "1 h 5 min".
pub fn format_duration_ms(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let secs = (ms + 500) / 1000;
    if secs < 60 {
        return format!("{secs} s");
    }
    let (minutes, s) = (secs / 60, secs % 60);
    if minutes < 60 {
        return if s == 0 {
            format!("{minutes} min")
        } else {
            format!("{minutes} min {s} s")
        };
    }
    let (hours, m) = (minutes / 60, minutes % 60);
    if m == 0 {
        format!("{hours} h")
    } else {
        format!("{hours} h {m} min")
    }
}

/// What a running sync is doing, in words: "Reading devices — page 3, 2,400 devices".
pub fn phase_text(progress: &SyncProgress) -> String {
    match progress.phase {
        SyncPhase::Settings => "Reading organization settings, policies and rules".into(),
        SyncPhase::Devices => format!(
            "Reading devices — page {}, {}",
            group_thousands(progress.pages),
            device_count_label_grouped(progress.devices)
        ),
        SyncPhase::Statistics => format!(
            "Reading statistics — {} of {} mailboxes",
            group_thousands(progress.mailboxes_done),
            group_thousands(progress.mailboxes_total)
        ),
        SyncPhase::Saving => format!("Saving {}", device_count_label_grouped(progress.devices)),
    }
}

fn device_count_label_grouped(n: u64) -> String {
    if n == 1 {
        "1 device".into()
    } else {
        format!("{} devices", group_thousands(n))
    }
}

/// How far a running sync is, 0–100, for the progress bar. The number of device pages is not
/// known in advance, so the device phase approaches its share without reaching it; each phase
/// starts where the one before ended, so the bar never moves back.
pub fn progress_percent(progress: &SyncProgress) -> u8 {
    let percent = match progress.phase {
        SyncPhase::Settings => 2.0,
        SyncPhase::Devices => {
            let pages = progress.pages as f64;
            5.0 + 40.0 * pages / (pages + 4.0)
        }
        SyncPhase::Statistics => {
            let total = progress.mailboxes_total.max(1) as f64;
            let done = (progress.mailboxes_done as f64).min(total);
            45.0 + 50.0 * done / total
        }
        SyncPhase::Saving => 97.0,
    };
    percent.round().clamp(0.0, 100.0) as u8
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
    fn progress(phase: SyncPhase, pages: u64, devices: u64, done: u64, total: u64) -> SyncProgress {
        SyncProgress {
            run_id: "r".into(),
            kind: SyncKind::FullSync,
            phase,
            started_at: at(10, 0, 0),
            pages,
            devices,
            mailboxes_done: done,
            mailboxes_total: total,
        }
    }

    #[test]
    fn phases_read_as_plain_sentences() {
        assert_eq!(
            phase_text(&progress(SyncPhase::Devices, 3, 2400, 0, 0)),
            "Reading devices — page 3, 2,400 devices"
        );
        assert_eq!(
            phase_text(&progress(SyncPhase::Statistics, 3, 2400, 120, 480)),
            "Reading statistics — 120 of 480 mailboxes"
        );
        assert!(phase_text(&progress(SyncPhase::Settings, 0, 0, 0, 0))
            .starts_with("Reading organization"));
        assert_eq!(
            phase_text(&progress(SyncPhase::Saving, 5, 1, 0, 0)),
            "Saving 1 device"
        );
    }

    #[test]
    fn the_progress_bar_only_moves_forward() {
        let steps = [
            progress(SyncPhase::Settings, 0, 0, 0, 0),
            progress(SyncPhase::Devices, 1, 50, 0, 0),
            progress(SyncPhase::Devices, 3, 137, 0, 0),
            progress(SyncPhase::Devices, 10_000, 1_000_000, 0, 0),
            progress(SyncPhase::Statistics, 3, 137, 0, 90),
            progress(SyncPhase::Statistics, 3, 137, 45, 90),
            progress(SyncPhase::Statistics, 3, 137, 90, 90),
            progress(SyncPhase::Saving, 3, 137, 90, 90),
        ];
        let values: Vec<u8> = steps.iter().map(progress_percent).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
        assert!(values[2] > values[1]);
        assert_eq!(values[5], 70);
        assert!(*values.last().unwrap_or(&0) < 100);
        // No mailboxes to read: no division by zero.
        assert_eq!(
            progress_percent(&progress(SyncPhase::Statistics, 1, 0, 0, 0)),
            45
        );
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(format_duration_ms(350), "350 ms");
        assert_eq!(format_duration_ms(4_200), "4 s");
        assert_eq!(format_duration_ms(59_400), "59 s");
        assert_eq!(format_duration_ms(64_000), "1 min 4 s");
        assert_eq!(format_duration_ms(120_000), "2 min");
        assert_eq!(format_duration_ms(3_900_000), "1 h 5 min");
        assert_eq!(format_duration_ms(7_200_000), "2 h");
    }

    #[test]
    fn big_numbers_are_grouped_by_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(2400), "2,400");
        assert_eq!(group_thousands(100_000), "100,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn health_has_a_word_a_tone_and_a_named_cause() {
        assert_eq!(health_label(Health::Warning), "Warning");
        assert_eq!(health_tone(Health::Unhealthy), Tone::Danger);
        assert_eq!(health_tone(Health::Healthy), Tone::Success);
        let cause = HealthCause::MissingPermission {
            cmdlet: "Set-ActiveSyncOrganizationSettings".into(),
        };
        assert_eq!(
            health_cause_text(&cause),
            "The account may not run Set-ActiveSyncOrganizationSettings"
        );
        assert!(health_cause_text(&HealthCause::Unreachable).contains("could not be reached"));
    }

    #[test]
    fn every_run_status_has_its_own_word() {
        let words: std::collections::HashSet<_> = SyncStatus::ALL
            .iter()
            .map(|s| sync_status_label(*s))
            .collect();
        assert_eq!(words.len(), SyncStatus::ALL.len());
        assert_eq!(sync_status_tone(SyncStatus::Failed), Tone::Danger);
        assert_eq!(sync_kind_label(SyncKind::DeltaSync), "Quick sync");
    }

    #[test]
    fn query_values_parse_by_storage_name_and_ignore_the_rest() {
        assert_eq!(
            parse_param::<SyncStatus>("partial"),
            Some(SyncStatus::Partial)
        );
        assert_eq!(
            parse_param::<SyncKind>("deltaSync"),
            Some(SyncKind::DeltaSync)
        );
        assert_eq!(
            parse_param::<SyncTrigger>("manual"),
            Some(SyncTrigger::Manual)
        );
        assert_eq!(parse_param::<SyncTrigger>(""), None);
        assert_eq!(parse_param::<SyncKind>("bogus"), None);
        for k in SYNC_KINDS {
            assert_eq!(parse_param::<SyncKind>(k.as_str()), Some(k));
        }
        for t in SYNC_TRIGGERS {
            assert_eq!(parse_param::<SyncTrigger>(t.as_str()), Some(t));
        }
    }
}
