//! The sync engine's, schedule's and health's settings (`SYNC_*`, `HEALTH_*`).

use std::time::Duration;

use super::{bad, number, ConfigError};

/// Sync engine, schedule and health settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSettings {
    /// `SYNC_CONCURRENCY`: most `Get-MobileDeviceStatistics` calls in flight (1 to 64); halved
    /// while Exchange throttles, grown back slowly.
    pub concurrency: usize,
    /// `SYNC_QUICK_INTERVAL_MINS`: minutes between scheduled quick syncs (1 to 1440).
    pub quick_interval: Duration,
    /// `SYNC_FULL_AT`: time of day (UTC, `HH:MM`) of the daily full sync.
    pub full_at: chrono::NaiveTime,
    /// `SYNC_JITTER_SECS`: each scheduled run starts up to this much later (0 to 3600), so
    /// that many connectors do not hit Exchange at the same second.
    pub jitter: Duration,
    /// `SYNC_SCHEDULE`: `on` (default) or `off` (only set-up and manual syncs).
    pub schedule: bool,
    /// `HEALTH_WARNING_HOURS` / `HEALTH_UNHEALTHY_HOURS`.
    pub health: crate::model::HealthThresholds,
    /// `SYNC_MAX_REMOVAL_PERCENT`: a run that would mark more than this share of the stored
    /// devices removed (and at least [`HELD_REMOVAL_MIN`] of them) keeps them and ends
    /// partial, until a full sync sees the same (1 to 100, default 50; 100 never holds).
    pub max_removal_percent: u8,
    /// `ALERT_CHECK_SECS` and the alert deliveries' retries.
    pub alerts: crate::server::alerts::AlertSettings,
}

/// The fewest devices a removal must involve to be held by `SYNC_MAX_REMOVAL_PERCENT`.
pub const HELD_REMOVAL_MIN: usize = 10;

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            quick_interval: Duration::from_secs(15 * 60),
            full_at: chrono::NaiveTime::from_hms_opt(2, 0, 0).unwrap_or_default(),
            jitter: Duration::from_secs(60),
            schedule: true,
            health: crate::model::HealthThresholds::default(),
            max_removal_percent: 50,
            alerts: crate::server::alerts::AlertSettings::default(),
        }
    }
}

impl SyncSettings {
    pub(super) fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut s = Self::default();
        if let Some(raw) = get("SYNC_CONCURRENCY") {
            s.concurrency = number("SYNC_CONCURRENCY", &raw, 1, 64, "")?;
        }
        if let Some(raw) = get("SYNC_QUICK_INTERVAL_MINS") {
            let mins: u64 = number("SYNC_QUICK_INTERVAL_MINS", &raw, 1, 1440, " of minutes")?;
            s.quick_interval = Duration::from_secs(mins * 60);
        }
        if let Some(raw) = get("SYNC_FULL_AT") {
            s.full_at = chrono::NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| {
                bad(
                    "SYNC_FULL_AT",
                    format!("must be a time of day in UTC as HH:MM (e.g. 02:00), got {raw:?}"),
                )
            })?;
        }
        if let Some(raw) = get("SYNC_JITTER_SECS") {
            s.jitter =
                Duration::from_secs(number("SYNC_JITTER_SECS", &raw, 0, 3600, " of seconds")?);
        }
        if let Some(raw) = get("ALERT_CHECK_SECS") {
            s.alerts.check_every =
                Duration::from_secs(number("ALERT_CHECK_SECS", &raw, 1, 3600, " of seconds")?);
        }
        if let Some(raw) = get("SYNC_MAX_REMOVAL_PERCENT") {
            s.max_removal_percent = number("SYNC_MAX_REMOVAL_PERCENT", &raw, 1, 100, " percent")?;
        }
        if let Some(raw) = get("SYNC_SCHEDULE") {
            s.schedule = match raw.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                _ => {
                    return Err(bad(
                        "SYNC_SCHEDULE",
                        format!("must be on or off, got {raw:?}"),
                    ))
                }
            };
        }
        let warning: i64 = match get("HEALTH_WARNING_HOURS") {
            Some(raw) => number("HEALTH_WARNING_HOURS", &raw, 1, 8760, " of hours")?,
            None => 24,
        };
        let unhealthy: i64 = match get("HEALTH_UNHEALTHY_HOURS") {
            Some(raw) => number("HEALTH_UNHEALTHY_HOURS", &raw, 1, 8760, " of hours")?,
            None => 72,
        };
        if unhealthy <= warning {
            return Err(bad(
                "HEALTH_UNHEALTHY_HOURS",
                format!("must be more than HEALTH_WARNING_HOURS ({warning}), got {unhealthy}"),
            ));
        }
        s.health = crate::model::HealthThresholds {
            warning_secs: warning * 3600,
            unhealthy_secs: unhealthy * 3600,
        };
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;

    #[test]
    fn sync_settings_default_to_every_15_minutes_and_a_full_sync_at_two() {
        let s = config(&[]).unwrap().sync;
        assert_eq!(s.concurrency, 8);
        assert_eq!(s.quick_interval, Duration::from_secs(900));
        assert_eq!(s.full_at.to_string(), "02:00:00");
        assert_eq!(s.health.warning_secs, 86_400);
        assert_eq!(s.health.unhealthy_secs, 3 * 86_400);
        let s = config(&[
            ("SYNC_CONCURRENCY", "3"),
            ("SYNC_FULL_AT", "23:30"),
            ("HEALTH_WARNING_HOURS", "2"),
            ("HEALTH_UNHEALTHY_HOURS", "5"),
            ("SYNC_SCHEDULE", "off"),
        ])
        .unwrap()
        .sync;
        assert_eq!(s.concurrency, 3);
        assert_eq!(s.full_at.to_string(), "23:30:00");
        assert_eq!(s.health.unhealthy_secs, 5 * 3600);
        assert!(!s.schedule);
    }

    #[test]
    fn bad_sync_settings_name_the_setting() {
        for (key, value) in [
            ("SYNC_CONCURRENCY", "0"),
            ("SYNC_QUICK_INTERVAL_MINS", "soon"),
            ("SYNC_FULL_AT", "25:00"),
            ("SYNC_JITTER_SECS", "-1"),
            ("SYNC_SCHEDULE", "sometimes"),
        ] {
            assert_eq!(config(&[(key, value)]).unwrap_err().setting, key);
        }
        let err = config(&[("HEALTH_WARNING_HOURS", "80")]).unwrap_err();
        assert_eq!(err.setting, "HEALTH_UNHEALTHY_HOURS");
    }
}
