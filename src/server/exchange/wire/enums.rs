//! The enumerations of spec §7. Every one has an `Other` variant: a value a newer Exchange
//! introduces is kept as sent, never a parse error. Known values are matched without regard to
//! case and always written back in Exchange's spelling.

use std::fmt;

/// The wire spelling of a variant: its own name unless given.
macro_rules! wire_name {
    ($variant:ident) => {
        stringify!($variant)
    };
    ($variant:ident, $wire:literal) => {
        $wire
    };
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident $(= $wire:literal)?),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum $name {
            $(
                #[doc = concat!("`", wire_name!($variant $(, $wire)?), "`")]
                $variant,
            )+
            /// A value this version does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// Exchange's spelling.
            pub(crate) fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => wire_name!($variant $(, $wire)?),)+
                    Self::Other(raw) => raw,
                }
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                let raw = raw.trim();
                $(
                    if raw.eq_ignore_ascii_case(wire_name!($variant $(, $wire)?)) {
                        return Self::$variant;
                    }
                )+
                Self::Other(raw.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// `DeviceAccessState`: whether Exchange lets a device sync.
    DeviceAccessState { Unknown, Allowed, Blocked, Quarantined, DeviceDiscovery }
}

wire_enum! {
    /// `DeviceAccessStateReason`: what decided the access state.
    DeviceAccessStateReason {
        Unknown, Global, Individual, DeviceRule, Upgrade, Policy, UserAgentsChanges,
        RecentCommands, Watsons, OutOfBudgets, SyncCommands, EnableNotificationEmail,
        CommandFrequency, MobileDeviceUpdateFrequency, ActiveSyncVersionChanges,
        ExternallyManaged, ExternalCompliance, ExternalEnrollment, UnfamiliarLocation,
        DeviceNotKnownWithManagedApp, OutlookMobileUpsellInterrupt, AadRequireMfa,
        AadBlockDueToAccessPolicy, AadBlockDueToCompromisedPassword,
        AadInteractionRequiredDueToCompromisedPassword,
        OutlookDesktopBlockDueToConsumerMigration,
    }
}

wire_enum! {
    /// `ClientType`: the protocol the device uses.
    ClientType { Eas = "EAS", Mowa = "MOWA", Outlook, Rest = "REST" }
}

wire_enum! {
    /// `Status` of `Get-MobileDeviceStatistics`.
    DeviceStatus {
        DeviceOk, DeviceBlocked, DeviceWipePending, DeviceWipeSucceeded,
        AccountOnlyDeviceWipePending, AccountOnlyDeviceWipeSucceeded,
    }
}

wire_enum! {
    /// `DevicePolicyApplicationStatus`: how much of the mailbox policy the device applied.
    DevicePolicyApplicationStatus {
        Unknown, NotApplied, AppliedInFull, PartiallyApplied, ExternallyManaged,
    }
}

wire_enum! {
    /// `AccessLevel` of a device access rule, and the organization's `DefaultAccessLevel`.
    AccessLevel { Allow, Block, Quarantine }
}

wire_enum! {
    /// `Characteristic`: what a device access rule's `QueryString` is compared with.
    Characteristic {
        DeviceType, DeviceModel, DeviceOs = "DeviceOS", UserAgent, XmsWlHeader = "XMSWLHeader",
    }
}

wire_enum! {
    /// `MaxEmailAgeFilter` of a mailbox policy: how much past mail a device keeps.
    MaxEmailAgeFilter { All, OneDay, ThreeDays, OneWeek, TwoWeeks, OneMonth }
}

wire_enum! {
    /// `AllowBluetooth` of a mailbox policy. Exchange sends one of these names; a boolean (as
    /// some payloads carry) reads as `Allow` / `Disable`.
    BluetoothMode { Allow, Disable, HandsfreeOnly }
}

impl BluetoothMode {
    /// Reads the names, and the booleans some payloads use instead.
    pub(crate) fn from_wire(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Self::Allow,
            "false" => Self::Disable,
            _ => Self::from(raw),
        }
    }
}
