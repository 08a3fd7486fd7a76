//! The wire enumerations of spec §7 the simulator stores. Each one prints its exact wire spelling
//! and parses it back case-insensitively, as PowerShell binds enum parameters.

/// Declares a fieldless enum with its wire names, `as_str`, `parse` and `NAMES`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            #[allow(dead_code)]
            pub(crate) const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The exact wire spelling.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value whose wire name is `text` (any case, surrounding spaces ignored).
            #[allow(dead_code)]
            pub(crate) fn parse(text: &str) -> Option<Self> {
                let t = text.trim();
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(t))
            }

            /// The wire names joined with ", " (for "specify one of ..." messages).
            #[allow(dead_code)]
            pub(crate) fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

wire_enum! {
    /// `ClientType` of a mobile device.
    ClientType {
        Eas => "EAS",
        Mowa => "MOWA",
        Outlook => "Outlook",
        Rest => "REST",
    }
}

wire_enum! {
    /// `DeviceAccessState`.
    AccessState {
        Allowed => "Allowed",
        Blocked => "Blocked",
        Quarantined => "Quarantined",
        DeviceDiscovery => "DeviceDiscovery",
    }
}

wire_enum! {
    /// `DeviceAccessStateReason` (the subset the simulator produces; the wire enum is larger).
    AccessReason {
        Global => "Global",
        Individual => "Individual",
        DeviceRule => "DeviceRule",
        Policy => "Policy",
        Upgrade => "Upgrade",
        ExternallyManaged => "ExternallyManaged",
    }
}

wire_enum! {
    /// `AccessLevel` of a rule and `DefaultAccessLevel` of the organization.
    AccessLevel {
        Allow => "Allow",
        Block => "Block",
        Quarantine => "Quarantine",
    }
}

impl AccessLevel {
    /// The device state this level gives.
    pub(crate) fn state(self) -> AccessState {
        match self {
            Self::Allow => AccessState::Allowed,
            Self::Block => AccessState::Blocked,
            Self::Quarantine => AccessState::Quarantined,
        }
    }
}

wire_enum! {
    /// `Characteristic` of a device access rule: which device property `QueryString` is compared with.
    Characteristic {
        DeviceType => "DeviceType",
        DeviceModel => "DeviceModel",
        DeviceOs => "DeviceOS",
        UserAgent => "UserAgent",
        XmsWlHeader => "XMSWLHeader",
    }
}

wire_enum! {
    /// `DevicePolicyApplicationStatus` (statistics).
    PolicyStatus {
        Unknown => "Unknown",
        NotApplied => "NotApplied",
        AppliedInFull => "AppliedInFull",
        PartiallyApplied => "PartiallyApplied",
        ExternallyManaged => "ExternallyManaged",
    }
}

wire_enum! {
    /// `Status` of a device in `Get-MobileDeviceStatistics`, when a wipe was requested.
    WipeStatus {
        Pending => "DeviceWipePending",
        Succeeded => "DeviceWipeSucceeded",
        AccountOnlyPending => "AccountOnlyDeviceWipePending",
        AccountOnlySucceeded => "AccountOnlyDeviceWipeSucceeded",
    }
}

wire_enum! {
    /// `MaxEmailAgeFilter` of a mobile device mailbox policy.
    EmailAge {
        All => "All",
        OneDay => "OneDay",
        ThreeDays => "ThreeDays",
        OneWeek => "OneWeek",
        TwoWeeks => "TwoWeeks",
        OneMonth => "OneMonth",
    }
}

wire_enum! {
    /// `AllowBluetooth` of a mobile device mailbox policy.
    Bluetooth {
        Disable => "Disable",
        HandsfreeOnly => "HandsfreeOnly",
        Allow => "Allow",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_their_wire_names_in_any_case() {
        assert_eq!(
            AccessLevel::parse(" quarantine "),
            Some(AccessLevel::Quarantine)
        );
        assert_eq!(
            Characteristic::parse("deviceos"),
            Some(Characteristic::DeviceOs)
        );
        assert_eq!(
            Characteristic::parse("XMSWLHeader").map(|c| c.as_str()),
            Some("XMSWLHeader")
        );
        assert_eq!(EmailAge::parse("Forever"), None);
        assert_eq!(AccessLevel::names(), "Allow, Block, Quarantine");
    }
}
