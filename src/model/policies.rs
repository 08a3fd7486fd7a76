//! Mobile device mailbox policies: the settings the forms offer, their valid ranges (spec §7),
//! and the check of a typed value, which words a value out of range as Exchange does (the
//! server checks before anything is sent; Exchange would refuse the same value with the same
//! words).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest policy name Exchange takes.
pub const MAX_POLICY_NAME: usize = 64;

/// What an empty field means for a number or a time span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenEmpty {
    /// Exchange's `Unlimited`.
    Unlimited,
    /// Exchange's `$null` (not set).
    Null,
    /// A value is needed.
    Refused,
}

/// The kind of value a setting takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKind {
    /// `$true` / `$false`.
    Flag,
    /// A whole number from `min` to `max`.
    Whole {
        min: u32,
        max: u32,
        empty: WhenEmpty,
    },
    /// A time span (`d.hh:mm:ss` or `hh:mm:ss`) from `min` to `max` seconds, or Unlimited;
    /// `range` words the bounds as Exchange does.
    Span {
        min: u64,
        max: u64,
        range: &'static str,
    },
    /// One of Exchange's names.
    Choice(&'static [&'static str]),
}

/// Where a setting is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingGroup {
    Password,
    Device,
    Sync,
}

impl SettingGroup {
    pub const ALL: [Self; 3] = [Self::Password, Self::Device, Self::Sync];

    pub fn title(self) -> &'static str {
        match self {
            Self::Password => "Password",
            Self::Device => "Device",
            Self::Sync => "Mail on the device",
        }
    }
}

/// One setting of a mailbox policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicySetting {
    /// Exchange's parameter name (also the form's key).
    pub key: &'static str,
    pub label: &'static str,
    pub group: SettingGroup,
    pub kind: SettingKind,
    /// The value `New-MobileDeviceMailboxPolicy` gives it when not set, as the form shows it.
    pub new_default: &'static str,
}

const DAY: u64 = 86_400;

/// Every setting the forms offer, in the order they show them.
pub const POLICY_SETTINGS: [PolicySetting; 20] = {
    use SettingGroup::*;
    use SettingKind::*;
    const fn flag(
        key: &'static str,
        label: &'static str,
        group: SettingGroup,
        on: bool,
    ) -> PolicySetting {
        PolicySetting {
            key,
            label,
            group,
            kind: Flag,
            new_default: if on { "true" } else { "false" },
        }
    }
    [
        flag("PasswordEnabled", "Require a password", Password, false),
        flag(
            "AlphanumericPasswordRequired",
            "Require letters and digits",
            Password,
            false,
        ),
        flag(
            "AllowSimplePassword",
            "Allow simple passwords (1111, 1234)",
            Password,
            true,
        ),
        PolicySetting {
            key: "MinPasswordLength",
            label: "Minimum password length",
            group: Password,
            kind: Whole {
                min: 1,
                max: 16,
                empty: WhenEmpty::Null,
            },
            new_default: "",
        },
        PolicySetting {
            key: "MinPasswordComplexCharacters",
            label: "Character sets required (complex characters)",
            group: Password,
            kind: Whole {
                min: 1,
                max: 4,
                empty: WhenEmpty::Refused,
            },
            new_default: "1",
        },
        PolicySetting {
            key: "MaxPasswordFailedAttempts",
            label: "Failed attempts before the device is wiped",
            group: Password,
            kind: Whole {
                min: 4,
                max: 16,
                empty: WhenEmpty::Unlimited,
            },
            new_default: "Unlimited",
        },
        PolicySetting {
            key: "PasswordExpiration",
            label: "Password expires after",
            group: Password,
            kind: Span {
                min: DAY,
                max: 730 * DAY,
                range: "from 1.00:00:00 to 730.00:00:00",
            },
            new_default: "Unlimited",
        },
        PolicySetting {
            key: "PasswordHistory",
            label: "Previous passwords that cannot be reused",
            group: Password,
            kind: Whole {
                min: 0,
                max: 50,
                empty: WhenEmpty::Refused,
            },
            new_default: "0",
        },
        PolicySetting {
            key: "MaxInactivityTimeLock",
            label: "Lock after inactivity",
            group: Password,
            kind: Span {
                min: 60,
                max: 3_600,
                range: "from 00:01:00 to 01:00:00",
            },
            new_default: "Unlimited",
        },
        flag(
            "RequireDeviceEncryption",
            "Require encryption on the device",
            Device,
            false,
        ),
        flag(
            "DeviceEncryptionEnabled",
            "Device encryption enabled",
            Device,
            false,
        ),
        flag(
            "AllowNonProvisionableDevices",
            "Allow devices that cannot apply the whole policy",
            Device,
            true,
        ),
        PolicySetting {
            key: "DevicePolicyRefreshInterval",
            label: "Devices read the policy again every",
            group: Device,
            kind: Span {
                min: 60,
                max: 365 * DAY,
                range: "from 00:01:00 to 365.00:00:00",
            },
            new_default: "Unlimited",
        },
        flag("AllowCamera", "Allow the camera", Device, true),
        PolicySetting {
            key: "AllowBluetooth",
            label: "Bluetooth",
            group: Device,
            kind: Choice(&["Allow", "Disable", "HandsfreeOnly"]),
            new_default: "Allow",
        },
        flag("AllowWiFi", "Allow Wi-Fi", Device, true),
        flag("AllowTextMessaging", "Allow text messaging", Device, true),
        flag("AllowStorageCard", "Allow storage cards", Device, true),
        flag(
            "AttachmentsEnabled",
            "Allow attachments to be downloaded",
            Sync,
            true,
        ),
        PolicySetting {
            key: "MaxEmailAgeFilter",
            label: "Past mail kept on the device",
            group: Sync,
            kind: Choice(&[
                "All",
                "OneDay",
                "ThreeDays",
                "OneWeek",
                "TwoWeeks",
                "OneMonth",
            ]),
            new_default: "All",
        },
    ]
};

/// The setting `key` (Exchange's spelling, any case).
pub fn policy_setting(key: &str) -> Option<&'static PolicySetting> {
    POLICY_SETTINGS
        .iter()
        .find(|s| s.key.eq_ignore_ascii_case(key.trim()))
}

/// A setting's value, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingValue {
    Flag(bool),
    Whole(u32),
    /// Seconds.
    Span(u64),
    Choice(&'static str),
    Unlimited,
    Null,
}

impl SettingValue {
    /// The value as the forms show it and as Exchange prints it (`Unlimited`, `1.00:00:00`,
    /// `true`); empty for `Null`.
    pub fn text(&self) -> String {
        match self {
            Self::Flag(b) => b.to_string(),
            Self::Whole(n) => n.to_string(),
            Self::Span(secs) => span_text(*secs),
            Self::Choice(c) => (*c).to_owned(),
            Self::Unlimited => "Unlimited".to_owned(),
            Self::Null => String::new(),
        }
    }
}

/// A .NET `TimeSpan` as Exchange prints it: `hh:mm:ss`, with `d.` in front from one day up.
pub fn span_text(secs: u64) -> String {
    let (days, rest) = (secs / DAY, secs % DAY);
    let hms = format!(
        "{:02}:{:02}:{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days}.{hms}")
    } else {
        hms
    }
}

/// Reads `d.hh:mm:ss`, `hh:mm:ss` or `hh:mm` (as PowerShell binds a `TimeSpan`).
pub fn parse_span(text: &str) -> Option<u64> {
    let t = text.trim();
    let (days, hms) = match t.split_once('.') {
        Some((d, rest)) if rest.contains(':') => (digits(d)?, rest),
        _ => (0, t),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (digits(h)?, digits(m)?, 0),
        [h, m, s] => (digits(h)?, digits(m)?, digits(s)?),
        _ => return None,
    };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    days.checked_mul(DAY)?.checked_add(h * 3_600 + m * 60 + s)
}

fn digits(s: &str) -> Option<u64> {
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl PolicySetting {
    /// Checks `text` as typed in the form. An error is the sentence Exchange gives for the
    /// same value (the form shows it at the field).
    pub fn check(&self, text: &str) -> Result<SettingValue, String> {
        let t = text.trim();
        let unlimited = t.eq_ignore_ascii_case("unlimited");
        match self.kind {
            SettingKind::Flag => match t.trim_start_matches('$').to_ascii_lowercase().as_str() {
                "true" => Ok(SettingValue::Flag(true)),
                "false" => Ok(SettingValue::Flag(false)),
                _ => Err(format!(
                    "Cannot convert the \"{t}\" value of type \"System.String\" to type \
                     \"System.Boolean\"."
                )),
            },
            SettingKind::Whole { min, max, empty } => {
                match (empty, t.is_empty(), unlimited) {
                    (WhenEmpty::Null, true, _) => return Ok(SettingValue::Null),
                    (WhenEmpty::Unlimited, true, _) | (WhenEmpty::Unlimited, _, true) => {
                        return Ok(SettingValue::Unlimited)
                    }
                    _ => {}
                }
                let extra = match empty {
                    WhenEmpty::Null => ", or $null",
                    WhenEmpty::Unlimited => ", or Unlimited",
                    WhenEmpty::Refused => "",
                };
                t.parse::<u32>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .map(SettingValue::Whole)
                    .ok_or_else(|| {
                        format!(
                            "The value \"{t}\" must be a whole number from {min} to {max}{extra}."
                        )
                    })
            }
            SettingKind::Span { min, max, range } => {
                if t.is_empty() || unlimited {
                    return Ok(SettingValue::Unlimited);
                }
                parse_span(t)
                    .filter(|s| (min..=max).contains(s))
                    .map(SettingValue::Span)
                    .ok_or_else(|| {
                        format!(
                            "The value \"{t}\" must be Unlimited or a time span (d.hh:mm:ss) {range}."
                        )
                    })
            }
            SettingKind::Choice(names) => names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(t))
                .map(|n| SettingValue::Choice(n))
                .ok_or_else(|| {
                    format!(
                        "Unable to match the identifier name {t} to a valid enumerator name. \
                         Specify one of the following enumerator names and try again: {}",
                        names.join(", ")
                    )
                }),
        }
    }

    /// What the form says about the values it takes.
    pub fn hint(&self) -> String {
        match self.kind {
            SettingKind::Flag => String::new(),
            SettingKind::Whole { min, max, empty } => match empty {
                WhenEmpty::Null => format!("{min} to {max}; empty: not set"),
                WhenEmpty::Unlimited => format!("{min} to {max}, or Unlimited"),
                WhenEmpty::Refused => format!("{min} to {max}"),
            },
            SettingKind::Span { range, .. } => format!("Unlimited, or d.hh:mm:ss {range}"),
            SettingKind::Choice(names) => names.join(", "),
        }
    }
}

/// A mailbox policy as the last sync read it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxPolicyInfo {
    pub identity: String,
    pub name: String,
    pub is_default: bool,
    /// Setting key → value as the forms show it (see [`SettingValue::text`]); a setting
    /// Exchange did not send is absent.
    pub settings: BTreeMap<String, String>,
    /// Stored devices that report this policy applied.
    pub devices: u64,
    pub when_changed: Option<DateTime<Utc>>,
}

/// The kinds of policy change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyChangeKind {
    /// Create (no identity) or change the settings of a policy.
    Save,
    MakeDefault,
    Delete,
}

impl PolicyChangeKind {
    pub const ALL: [Self; 3] = [Self::Save, Self::MakeDefault, Self::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Save => "save",
            Self::MakeDefault => "makeDefault",
            Self::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// A policy change as the form sends it (the server checks every field).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyForm {
    /// `save`, `makeDefault` or `delete`.
    pub change: String,
    /// The policy's identity; empty or [`NEW_POLICY`] to create one.
    pub policy: String,
    /// A new policy's name.
    pub name: String,
    /// A new policy becomes the default.
    pub make_default: bool,
    /// Exchange's parameter name → the value typed.
    pub settings: BTreeMap<String, String>,
}

/// The query parameter that opens a policy's form on the Exchange access page: a policy's
/// identity, or [`NEW_POLICY`].
pub const POLICY_PARAM: &str = "policy";
/// [`POLICY_PARAM`]'s value for a new policy.
pub const NEW_POLICY: &str = "new";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_takes_its_new_default_and_prints_it_back() {
        for s in POLICY_SETTINGS {
            let v = s
                .check(s.new_default)
                .unwrap_or_else(|e| panic!("{}: {e}", s.key));
            assert_eq!(v.text(), s.new_default, "{}", s.key);
            assert_eq!(policy_setting(&s.key.to_lowercase()), Some(&s));
        }
    }

    #[test]
    fn values_at_the_edges_pass_and_one_beyond_is_refused_in_exchanges_words() {
        let check = |k: &str, v: &str| policy_setting(k).map(|s| s.check(v));
        assert_eq!(
            check("MinPasswordLength", "16"),
            Some(Ok(SettingValue::Whole(16)))
        );
        assert_eq!(check("MinPasswordLength", ""), Some(Ok(SettingValue::Null)));
        assert_eq!(
            check("MinPasswordLength", "17"),
            Some(Err(
                "The value \"17\" must be a whole number from 1 to 16, or $null.".into()
            ))
        );
        assert_eq!(
            check("MaxPasswordFailedAttempts", "unlimited"),
            Some(Ok(SettingValue::Unlimited))
        );
        assert!(matches!(
            check("MaxPasswordFailedAttempts", "3"),
            Some(Err(_))
        ));
        assert_eq!(
            check("PasswordHistory", "0"),
            Some(Ok(SettingValue::Whole(0)))
        );
        assert!(matches!(check("PasswordHistory", ""), Some(Err(_))));
        assert_eq!(
            check("PasswordExpiration", "730.00:00:00"),
            Some(Ok(SettingValue::Span(730 * DAY)))
        );
        assert_eq!(
            check("PasswordExpiration", "731.00:00:00"),
            Some(Err("The value \"731.00:00:00\" must be Unlimited or a time span (d.hh:mm:ss) from 1.00:00:00 to 730.00:00:00.".into()))
        );
        assert_eq!(
            check("MaxInactivityTimeLock", "00:15"),
            Some(Ok(SettingValue::Span(900)))
        );
        assert!(matches!(
            check("MaxInactivityTimeLock", "01:00:01"),
            Some(Err(_))
        ));
        assert!(matches!(
            check("MaxInactivityTimeLock", "-00:05:00"),
            Some(Err(_))
        ));
        assert_eq!(
            check("AllowBluetooth", "handsfreeonly"),
            Some(Ok(SettingValue::Choice("HandsfreeOnly")))
        );
        assert!(matches!(
            check("MaxEmailAgeFilter", "OneYear"),
            Some(Err(_))
        ));
        assert!(matches!(check("AllowCamera", "maybe"), Some(Err(_))));
    }

    #[test]
    fn spans_print_like_dotnet() {
        assert_eq!(span_text(900), "00:15:00");
        assert_eq!(span_text(DAY + 3_661), "1.01:01:01");
        assert_eq!(parse_span("1.01:01:01"), Some(DAY + 3_661));
        assert_eq!(parse_span("24:00:00"), None);
    }
}
