//! The settings `New-` and `Set-MobileDeviceMailboxPolicy` take, with the ranges of spec §7.
//! Values bind like PowerShell: numbers as JSON numbers or text, `Unlimited` where allowed,
//! time spans as `d.hh:mm:ss` / `hh:mm:ss`.

use serde_json::Value;

use super::errors::{bad_enum, invalid_value};
use crate::sim::params::Params;
use crate::sim::tenant::{parse_timespan, Bluetooth, EmailAge, MailboxPolicy};
use crate::sim::wire::ExoError;

/// The parameters of `New-MobileDeviceMailboxPolicy` / `Set-...` (the settings plus `$extra`).
macro_rules! policy_params {
    ($($extra:literal),*) => {
        &[
            $($extra,)*
            "IsDefault",
            "PasswordEnabled",
            "AlphanumericPasswordRequired",
            "AllowSimplePassword",
            "MinPasswordLength",
            "MaxPasswordFailedAttempts",
            "PasswordExpiration",
            "PasswordHistory",
            "MaxInactivityTimeLock",
            "MinPasswordComplexCharacters",
            "RequireDeviceEncryption",
            "DeviceEncryptionEnabled",
            "AllowNonProvisionableDevices",
            "DevicePolicyRefreshInterval",
            "AttachmentsEnabled",
            "AllowCamera",
            "AllowBluetooth",
            "AllowWiFi",
            "AllowTextMessaging",
            "AllowStorageCard",
            "AllowBrowser",
            "AllowInternetSharing",
            "MaxEmailAgeFilter",
            "Confirm",
            "WhatIf",
        ]
    };
}
pub(crate) use policy_params;

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_unlimited(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("unlimited"))
}

/// A whole number in `min..=max`.
fn int(name: &str, v: &Value, min: i64, max: i64, extra: &str) -> Result<i64, ExoError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| (min..=max).contains(n)).ok_or_else(|| {
        invalid_value(
            name,
            &format!(
                "The value \"{}\" must be a whole number from {min} to {max}{extra}.",
                shown(v)
            ),
        )
    })
}

/// A time span in `min..=max` seconds.
fn span(name: &str, v: &Value, min: u32, max: u32, range: &str) -> Result<u32, ExoError> {
    v.as_str()
        .and_then(parse_timespan)
        .filter(|s| (min..=max).contains(s))
        .ok_or_else(|| {
            invalid_value(
                name,
                &format!(
                    "The value \"{}\" must be Unlimited or a time span (d.hh:mm:ss) {range}.",
                    shown(v)
                ),
            )
        })
}

fn bool_of(params: &Params, name: &str) -> Result<bool, ExoError> {
    params
        .boolean(name)?
        .ok_or_else(|| invalid_value(name, "The argument is null. Provide $true or $false."))
}

/// Applies every setting given in `params` to `p`, validating each; on error `p` may be half
/// changed, so callers apply to a copy.
pub(crate) fn apply(p: &mut MailboxPolicy, params: &Params) -> Result<(), ExoError> {
    for (name, v) in params.iter() {
        match name {
            "PasswordEnabled" => p.password_enabled = bool_of(params, name)?,
            "AlphanumericPasswordRequired" => {
                p.alphanumeric_password_required = bool_of(params, name)?
            }
            "AllowSimplePassword" => p.allow_simple_password = bool_of(params, name)?,
            "RequireDeviceEncryption" => p.require_device_encryption = bool_of(params, name)?,
            "DeviceEncryptionEnabled" => p.device_encryption_enabled = bool_of(params, name)?,
            "AllowNonProvisionableDevices" => {
                p.allow_non_provisionable_devices = bool_of(params, name)?
            }
            "AttachmentsEnabled" => p.attachments_enabled = bool_of(params, name)?,
            "AllowCamera" => p.allow_camera = bool_of(params, name)?,
            "AllowWiFi" => p.allow_wifi = bool_of(params, name)?,
            "AllowTextMessaging" => p.allow_text_messaging = bool_of(params, name)?,
            "AllowStorageCard" => p.allow_storage_card = bool_of(params, name)?,
            "AllowBrowser" => p.allow_browser = bool_of(params, name)?,
            "AllowInternetSharing" => p.allow_internet_sharing = bool_of(params, name)?,
            "MinPasswordLength" => {
                p.min_password_length = match v {
                    Value::Null => None,
                    v => Some(int(name, v, 1, 16, ", or $null")? as u8),
                }
            }
            "MaxPasswordFailedAttempts" => {
                p.max_password_failed_attempts = if is_unlimited(v) {
                    None
                } else {
                    Some(int(name, v, 4, 16, ", or Unlimited")? as u8)
                }
            }
            "PasswordHistory" => p.password_history = int(name, v, 0, 50, "")? as u8,
            "MinPasswordComplexCharacters" => {
                p.min_password_complex_characters = int(name, v, 1, 4, "")? as u8
            }
            "PasswordExpiration" => {
                p.password_expiration = if is_unlimited(v) {
                    None
                } else {
                    Some(span(
                        name,
                        v,
                        86_400,
                        730 * 86_400,
                        "from 1.00:00:00 to 730.00:00:00",
                    )?)
                }
            }
            "MaxInactivityTimeLock" => {
                p.max_inactivity_time_lock = if is_unlimited(v) {
                    None
                } else {
                    Some(span(name, v, 60, 3_600, "from 00:01:00 to 01:00:00")?)
                }
            }
            "DevicePolicyRefreshInterval" => {
                p.device_policy_refresh_interval = if is_unlimited(v) {
                    None
                } else {
                    Some(span(
                        name,
                        v,
                        60,
                        365 * 86_400,
                        "from 00:01:00 to 365.00:00:00",
                    )?)
                }
            }
            "AllowBluetooth" => {
                let text = v.as_str().unwrap_or_default();
                p.allow_bluetooth = Bluetooth::parse(text).ok_or_else(|| {
                    bad_enum(
                        name,
                        &shown(v),
                        "Microsoft.Exchange.Data.Directory.SystemConfiguration.BluetoothType",
                        &Bluetooth::names(),
                    )
                })?;
            }
            "MaxEmailAgeFilter" => {
                let text = v.as_str().unwrap_or_default();
                p.max_email_age_filter = EmailAge::parse(text).ok_or_else(|| {
                    bad_enum(name, &shown(v), "Microsoft.Exchange.Data.Directory.SystemConfiguration.EmailAgeFilterOptions", &EmailAge::names())
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DECLARED: &[&str] = policy_params!("Name");

    fn applied(raw: Value) -> Result<MailboxPolicy, ExoError> {
        let params = Params::bind(DECLARED, Some(&raw))?;
        let mut p = MailboxPolicy::with_defaults(
            1,
            uuid::Uuid::nil(),
            "p".into(),
            chrono::DateTime::default(),
        );
        apply(&mut p, &params).map(|()| p)
    }

    #[test]
    fn settings_in_range_are_applied() {
        let p = applied(
            json!({"MinPasswordLength": 16, "MaxPasswordFailedAttempts": "4",
            "PasswordExpiration": "730.00:00:00", "PasswordHistory": 50, "MaxInactivityTimeLock": "00:01:00",
            "MinPasswordComplexCharacters": 4, "MaxEmailAgeFilter": "twoweeks", "AllowBluetooth": "HandsfreeOnly",
            "PasswordEnabled": true}),
        );
        let p = p.unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(p.min_password_length, Some(16));
        assert_eq!(p.max_password_failed_attempts, Some(4));
        assert_eq!(p.password_expiration, Some(730 * 86_400));
        assert_eq!(p.max_inactivity_time_lock, Some(60));
        assert_eq!(p.max_email_age_filter, EmailAge::TwoWeeks);
        let back =
            applied(json!({"MinPasswordLength": null, "MaxPasswordFailedAttempts": "Unlimited"}));
        let back = back.unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(
            (back.min_password_length, back.max_password_failed_attempts),
            (None, None)
        );
    }

    #[test]
    fn settings_out_of_range_are_data_validation_errors() {
        for (name, bad) in [
            ("MinPasswordLength", json!(0)),
            ("MinPasswordLength", json!(17)),
            ("MaxPasswordFailedAttempts", json!(3)),
            ("MaxPasswordFailedAttempts", json!("lots")),
            ("PasswordExpiration", json!("731.00:00:00")),
            ("PasswordExpiration", json!("00:30:00")),
            ("PasswordHistory", json!(51)),
            ("MaxInactivityTimeLock", json!("01:00:01")),
            ("MaxInactivityTimeLock", json!("00:00:30")),
            ("MinPasswordComplexCharacters", json!(5)),
            ("MaxEmailAgeFilter", json!("OneYear")),
            ("AllowCamera", json!("maybe")),
        ] {
            let err = applied(json!({ name: bad }))
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(err.contains(name), "{name}={bad}: {err}");
            assert_eq!(err.split('|').count(), 3, "{err}");
        }
    }
}
