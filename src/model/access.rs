//! Changes made in Exchange from the connector: device actions (spec §9).

use serde::{Deserialize, Serialize};

/// The most devices one bulk action takes.
pub const MAX_BULK_DEVICES: usize = 500;

/// What an admin can do to a device in Exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeviceAction {
    /// On the mailbox's allowed list, off its blocked list (one Set-CASMailbox call).
    Allow,
    /// On the mailbox's blocked list, off its allowed list (one Set-CASMailbox call).
    Block,
    /// Off both lists: the rules and the default decide again.
    ClearIndividual,
    /// Remove-MobileDevice: the partnership goes; nothing is wiped.
    Remove,
    /// Clear-MobileDevice: the whole device (Outlook mobile: the app) erases itself.
    Wipe,
    /// Clear-MobileDevice -AccountOnly: only this mailbox's data (EAS 16.1 or later).
    AccountOnlyWipe,
    /// Clear-MobileDevice -Cancel: withdraws a pending wipe.
    CancelWipe,
}

impl DeviceAction {
    pub const ALL: [DeviceAction; 7] = [
        DeviceAction::Allow,
        DeviceAction::Block,
        DeviceAction::ClearIndividual,
        DeviceAction::Remove,
        DeviceAction::Wipe,
        DeviceAction::AccountOnlyWipe,
        DeviceAction::CancelWipe,
    ];

    /// The name in forms and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceAction::Allow => "allow",
            DeviceAction::Block => "block",
            DeviceAction::ClearIndividual => "clearIndividual",
            DeviceAction::Remove => "remove",
            DeviceAction::Wipe => "wipe",
            DeviceAction::AccountOnlyWipe => "accountOnlyWipe",
            DeviceAction::CancelWipe => "cancelWipe",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name.trim())
    }

    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            DeviceAction::Allow => "Allow",
            DeviceAction::Block => "Block",
            DeviceAction::ClearIndividual => "Clear individual setting",
            DeviceAction::Remove => "Remove partnership",
            DeviceAction::Wipe => "Wipe device",
            DeviceAction::AccountOnlyWipe => "Account-only wipe",
            DeviceAction::CancelWipe => "Cancel wipe",
        }
    }

    /// The cmdlet that carries it out.
    pub fn cmdlet(self) -> &'static str {
        match self {
            DeviceAction::Allow | DeviceAction::Block | DeviceAction::ClearIndividual => {
                "Set-CASMailbox"
            }
            DeviceAction::Remove => "Remove-MobileDevice",
            DeviceAction::Wipe | DeviceAction::AccountOnlyWipe | DeviceAction::CancelWipe => {
                "Clear-MobileDevice"
            }
        }
    }

    /// The word an admin types to confirm a destructive action; `None` when none is asked.
    pub fn confirmation_word(self) -> Option<&'static str> {
        match self {
            DeviceAction::Remove => Some("REMOVE"),
            DeviceAction::Wipe | DeviceAction::AccountOnlyWipe => Some("WIPE"),
            _ => None,
        }
    }

    /// What happens, in words an admin reads before they confirm.
    pub fn explanation(self) -> &'static str {
        match self {
            DeviceAction::Allow => {
                "Adds the device to its mailbox's allowed list and takes it off the blocked list, \
                 in one change: device access rules and the default no longer decide for it."
            }
            DeviceAction::Block => {
                "Adds the device to its mailbox's blocked list and takes it off the allowed list: \
                 it cannot sync mail until it is allowed or cleared again."
            }
            DeviceAction::ClearIndividual => {
                "Takes the device off both of its mailbox's lists: the device access rules and \
                 the organization's default decide again."
            }
            DeviceAction::Remove => {
                "Deletes the partnership in Exchange. Nothing is wiped: a device that is still \
                 set up comes back as a new partnership at its next sync, subject to the access \
                 rules."
            }
            DeviceAction::Wipe => {
                "Asks the device to erase itself the next time it connects. Outlook for iOS and \
                 Android wipes at app level: the app and all of its accounts, not the phone. \
                 Exchange Online usually keeps showing the wipe as pending, even after it \
                 happened."
            }
            DeviceAction::AccountOnlyWipe => {
                "Asks the device to remove only this mailbox's data the next time it connects \
                 (Exchange ActiveSync 16.1 or later). Exchange Online usually keeps showing the \
                 wipe as pending."
            }
            DeviceAction::CancelWipe => {
                "Withdraws the pending wipe request, if the device has not acted on it yet."
            }
        }
    }
}

/// An action as the device page offers it: available, or shown disabled with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOption {
    pub action: DeviceAction,
    /// Why it cannot be used now; `None` when it can.
    pub disabled: Option<String>,
}

/// How a device action ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::ToSchema),
    schema(rename_all = "camelCase")
)]
pub struct ActionReport {
    /// Devices the action was asked for.
    pub devices: u32,
    /// Exchange calls that succeeded and failed.
    pub calls_done: u32,
    pub calls_failed: u32,
    /// Each failure in plain words (the device or mailbox, then Exchange's message).
    pub failures: Vec<String>,
    /// The sync that read the result back from Exchange, if it ran.
    pub read_back_run: Option<String>,
    /// What Exchange now says, when it differs from what the action should have done
    /// ("Exchange reports the device as Blocked (Policy)").
    pub differences: Vec<String>,
    /// Anything else worth saying (the read-back waited for a running sync, failed, …).
    pub notes: Vec<String>,
}
