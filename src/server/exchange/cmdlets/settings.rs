//! `Get-` and `Set-ActiveSyncOrganizationSettings`.

use serde_json::{json, Value};

use super::{ExchangeClient, ExchangeError, Invocation, ParamValue, Params};
use crate::server::exchange::wire::{AccessLevel, OrganizationSettings};

const GET: &str = "Get-ActiveSyncOrganizationSettings";
const SET: &str = "Set-ActiveSyncOrganizationSettings";

/// A change to a multi-valued property.
#[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListUpdate {
    /// The whole new list (empty clears it).
    Replace(Vec<String>),
    /// Adds and removes single entries, leaving the others: sent as a
    /// `#Exchange.GenericHashTable` with `Add` / `Remove` (each only when not empty).
    Change {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

impl ListUpdate {
    /// A `Change` that adds and removes nothing.
    pub(super) fn is_noop(&self) -> bool {
        matches!(self, Self::Change { add, remove } if add.is_empty() && remove.is_empty())
    }
}

impl ParamValue for ListUpdate {
    fn to_param(&self) -> Value {
        match self {
            Self::Replace(items) => json!(items),
            Self::Change { add, remove } => {
                let mut table = serde_json::Map::new();
                table.insert("@odata.type".into(), json!("#Exchange.GenericHashTable"));
                if !add.is_empty() {
                    table.insert("Add".into(), json!(add));
                }
                if !remove.is_empty() {
                    table.insert("Remove".into(), json!(remove));
                }
                Value::Object(table)
            }
        }
    }
}

/// What `Set-ActiveSyncOrganizationSettings` should change; `None` leaves a setting as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct OrganizationSettingsChange {
    /// Changing it away from `Allow` immediately affects every device no rule or personal list
    /// covers.
    pub default_access_level: Option<AccessLevel>,
    pub admin_mail_recipients: Option<ListUpdate>,
    /// At most 256 characters (Exchange refuses longer text).
    pub user_mail_insert: Option<String>,
    /// At most 256 characters (Exchange refuses longer text).
    pub ota_notification_mail_insert: Option<String>,
    pub allow_access_for_unsupported_platform: Option<bool>,
    pub allow_rms_support_for_unenlightened_apps: Option<bool>,
    pub is_intune_managed: Option<bool>,
    pub tenant_admin_preference: Option<String>,
}

impl OrganizationSettingsChange {
    /// The encoded call; `None` when nothing would change.
    pub(crate) fn call(&self) -> Option<Invocation> {
        let params = Params::new()
            .maybe("DefaultAccessLevel", self.default_access_level.as_ref())
            .maybe(
                "AdminMailRecipients",
                self.admin_mail_recipients.as_ref().filter(|l| !l.is_noop()),
            )
            .maybe("UserMailInsert", self.user_mail_insert.as_ref())
            .maybe(
                "OtaNotificationMailInsert",
                self.ota_notification_mail_insert.as_ref(),
            )
            .maybe(
                "AllowAccessForUnSupportedPlatform",
                self.allow_access_for_unsupported_platform.as_ref(),
            )
            .maybe(
                "AllowRMSSupportForUnenlightenedApps",
                self.allow_rms_support_for_unenlightened_apps.as_ref(),
            )
            .maybe("IsIntuneManaged", self.is_intune_managed.as_ref())
            .maybe(
                "TenantAdminPreference",
                self.tenant_admin_preference.as_ref(),
            );
        (!params.0.is_empty()).then(|| params.call(SET))
    }
}

pub(super) fn get_call() -> Invocation {
    Params::new().call(GET)
}

#[allow(dead_code)] // used by the sync engine (issue 4) and set-up (issue 5)
impl ExchangeClient {
    /// `Get-ActiveSyncOrganizationSettings`: the organization's one settings object. An answer
    /// without it is a `Protocol` error.
    pub(crate) async fn get_organization_settings(
        &self,
    ) -> Result<OrganizationSettings, ExchangeError> {
        let settings: Vec<OrganizationSettings> = self.collect(get_call()).await?;
        settings
            .into_iter()
            .next()
            .ok_or_else(|| ExchangeError::Protocol {
                cmdlet: GET.into(),
                detail: "the answer holds no settings object".into(),
            })
    }

    /// `Set-ActiveSyncOrganizationSettings` with the settings that `changes` sets. A change that
    /// sets nothing makes no request.
    pub(crate) async fn set_organization_settings(
        &self,
        changes: &OrganizationSettingsChange,
    ) -> Result<(), ExchangeError> {
        match changes.call() {
            Some(call) => self.run(call).await,
            None => Ok(()),
        }
    }
}
