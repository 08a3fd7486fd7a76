//! Digests of what a sync stores, so that a full sync can tell an unchanged device or
//! statistics row from a changed one without writing it. FNV-1a (64 bit) over every field,
//! each with a length or presence mark so that no two different rows read the same. Stable
//! across builds and machines (the digests are stored); a change of this function only costs
//! one full rewrite.

use chrono::{DateTime, Utc};

use crate::model::Device;

use super::super::db::staging::DeviceStatistics;

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn text(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }

    fn opt_text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.bytes(&[1]);
                self.text(s);
            }
            None => self.bytes(&[0]),
        }
    }

    fn opt_int(&mut self, n: Option<i64>) {
        match n {
            Some(n) => {
                self.bytes(&[1]);
                self.bytes(&n.to_le_bytes());
            }
            None => self.bytes(&[0]),
        }
    }

    fn opt_time(&mut self, t: Option<DateTime<Utc>>) {
        self.opt_int(t.map(|t| t.timestamp_micros()));
    }

    /// As stored: SQLite integers are signed.
    fn finish(self) -> i64 {
        i64::from_le_bytes(self.0.to_le_bytes())
    }
}

/// A 64-bit key for `text` (to tell GUIDs apart without keeping them).
pub(crate) fn key(text: &str) -> u64 {
    let mut h = Fnv::new();
    h.bytes(text.as_bytes());
    h.0
}

/// The digest of a device's listing (`Get-MobileDevice`).
pub(crate) fn device(d: &Device) -> i64 {
    let mut h = Fnv::new();
    h.text(&d.guid);
    h.text(&d.identity);
    h.text(&d.device_id);
    for field in [
        &d.friendly_name,
        &d.device_type,
        &d.device_model,
        &d.device_os,
        &d.device_user_agent,
        &d.user_display_name,
    ] {
        h.opt_text(field.as_deref());
    }
    h.text(&d.access_state);
    h.opt_text(d.access_state_reason.as_deref());
    h.opt_text(d.client_type.as_deref());
    h.opt_text(d.client_version.as_deref());
    h.opt_time(d.first_sync_time);
    h.opt_time(d.when_changed_utc);
    h.opt_text(d.access_control_rule.as_deref());
    h.opt_int(d.is_managed.map(i64::from));
    h.opt_int(d.is_compliant.map(i64::from));
    h.finish()
}

/// The digest of a device's statistics (`Get-MobileDeviceStatistics`).
pub(crate) fn statistics(s: &DeviceStatistics) -> i64 {
    let mut h = Fnv::new();
    h.text(&s.guid);
    for t in [
        s.last_success_sync,
        s.last_sync_attempt_time,
        s.last_policy_update_time,
    ] {
        h.opt_time(t);
    }
    h.opt_int(s.last_ping_heartbeat);
    h.opt_int(s.number_of_folders_synced);
    for field in [
        &s.device_policy_applied,
        &s.device_policy_application_status,
        &s.status,
        &s.status_note,
    ] {
        h.opt_text(field.as_deref());
    }
    h.opt_int(s.is_remote_wipe_supported.map(i64::from));
    for t in [
        s.device_wipe_request_time,
        s.device_wipe_sent_time,
        s.device_wipe_ack_time,
    ] {
        h.opt_time(t);
    }
    h.opt_text(s.last_device_wipe_requestor.as_deref());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Device {
        Device {
            guid: "g-1".into(),
            identity: "adele\\ExchangeActiveSyncDevices\\iPhone".into(),
            device_id: "ABC".into(),
            friendly_name: Some("Adele's iPhone".into()),
            device_type: Some("iPhone".into()),
            device_model: None,
            device_os: Some("iOS 17.1".into()),
            device_user_agent: None,
            user_display_name: Some("Adele".into()),
            access_state: "Allowed".into(),
            access_state_reason: Some("Global".into()),
            access_control_rule: None,
            client_type: Some("EAS".into()),
            client_version: Some("16.1".into()),
            is_managed: None,
            is_compliant: None,
            first_sync_time: None,
            when_changed_utc: None,
        }
    }

    #[test]
    fn equal_devices_have_equal_digests_and_any_field_change_shows() {
        let a = sample();
        assert_eq!(device(&a), device(&a.clone()));
        let mut b = a.clone();
        b.access_state = "Blocked".into();
        assert_ne!(device(&a), device(&b));
        let mut c = a.clone();
        c.device_model = Some(String::new());
        assert_ne!(device(&a), device(&c), "empty text is not the same as none");
        let mut d = a.clone();
        d.when_changed_utc = Some(DateTime::<Utc>::UNIX_EPOCH);
        assert_ne!(device(&a), device(&d));
        let mut e = a.clone();
        e.access_control_rule = Some("iPhone (DeviceType)".into());
        assert_ne!(device(&a), device(&e), "the rule Exchange names is kept");
    }

    #[test]
    fn moving_text_between_neighbouring_fields_changes_the_digest() {
        let mut a = sample();
        a.friendly_name = Some("ab".into());
        a.device_type = Some("c".into());
        let mut b = sample();
        b.friendly_name = Some("a".into());
        b.device_type = Some("bc".into());
        assert_ne!(device(&a), device(&b));
    }

    #[test]
    fn the_digest_is_stable_across_builds() {
        // Stored digests must keep their meaning: this value may only change on purpose.
        let s = DeviceStatistics {
            guid: "g-1".into(),
            ..DeviceStatistics::default()
        };
        assert_eq!(statistics(&s), statistics(&s.clone()));
        assert_eq!(statistics(&s), 2_186_823_211_912_494_281);
    }

    #[test]
    fn the_hash_is_fnv_1a() {
        // The published FNV-1a 64-bit value of "a".
        let mut h = Fnv::new();
        h.bytes(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }
}
