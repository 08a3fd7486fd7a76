//! `Get-`, `New-`, `Set-` and `Remove-MobileDeviceMailboxPolicy`. Exactly one policy is the
//! default: making one the default clears the flag on the others, the default cannot be removed
//! nor lose its flag directly (make another policy the default instead). Mailboxes assigned to a
//! removed policy follow the default one.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::errors::{self, already_exists, confirm, invalid_operation, invalid_value, what_if};
use super::policy_settings::{self, policy_params};
use super::{positional, Cmdlet, Request, Row, Run};
use crate::sim::rng::SplitMix64;
use crate::sim::tenant::{unlimited_timespan, MailboxPolicy, Tenant};
use crate::sim::wire::{date_entry, guid_entry, list_entry, ExoError};

/// Longest policy name.
const MAX_NAME: usize = 64;

pub(crate) const GET: Cmdlet = Cmdlet {
    name: "Get-MobileDeviceMailboxPolicy",
    params: &["Identity"],
    run: Run::Read(get),
};

pub(crate) const NEW: Cmdlet = Cmdlet {
    name: "New-MobileDeviceMailboxPolicy",
    params: policy_params!("Name"),
    run: Run::Write(new),
};

pub(crate) const SET: Cmdlet = Cmdlet {
    name: "Set-MobileDeviceMailboxPolicy",
    params: policy_params!("Identity", "Name"),
    run: Run::Write(set),
};

pub(crate) const REMOVE: Cmdlet = Cmdlet {
    name: "Remove-MobileDeviceMailboxPolicy",
    params: &["Identity", "Confirm", "WhatIf"],
    run: Run::Write(remove),
};

/// Index of the policy named by `identity` (name or GUID, any case).
fn find(tenant: &Tenant, identity: &str) -> Result<usize, ExoError> {
    let id = identity.trim();
    tenant
        .policies
        .iter()
        .position(|p| {
            p.name.eq_ignore_ascii_case(id) || p.guid.to_string().eq_ignore_ascii_case(id)
        })
        .ok_or_else(|| ExoError::not_found(identity, &tenant.org.domain_controller))
}

fn check_name(tenant: &Tenant, name: &str, except: Option<usize>) -> Result<String, ExoError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(invalid_value(
            "Name",
            &format!("The name must be 1 to {MAX_NAME} characters long."),
        ));
    }
    let taken = tenant
        .policies
        .iter()
        .enumerate()
        .any(|(i, p)| Some(i) != except && p.name.eq_ignore_ascii_case(name));
    if taken {
        return Err(already_exists(&dn(tenant, name)));
    }
    Ok(name.to_owned())
}

fn dn(tenant: &Tenant, name: &str) -> String {
    format!(
        "CN={name},CN=Mobile Mailbox Policies,{}",
        tenant.org.dn_suffix()
    )
}

fn make_default(tenant: &mut Tenant, index: usize) {
    for (i, p) in tenant.policies.iter_mut().enumerate() {
        p.is_default = i == index;
    }
}

fn get(tenant: &Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let chosen: Vec<&MailboxPolicy> = match req.params.string("Identity")? {
        Some(id) => vec![&tenant.policies[find(tenant, id)?]],
        None => tenant.policies.iter().collect(),
    };
    positional(req, chosen, |key, p| {
        Row::new(key, &PolicyView { tenant, policy: p })
    })
}

fn new(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let name = p
        .string("Name")?
        .ok_or_else(|| errors::missing_mandatory("Name"))?;
    let name = check_name(tenant, name, None)?;
    let key = tenant.next_key();
    let guid = SplitMix64::derive(tenant.seed, &format!("policy|{key}|{name}")).guid();
    let mut policy = MailboxPolicy::with_defaults(key, guid, name, req.now);
    policy_settings::apply(&mut policy, p)?;
    let is_default = p.boolean("IsDefault")?.unwrap_or(false);
    if what_if(p)? {
        return Ok(Vec::new());
    }
    tenant.policies.push(policy);
    let index = tenant.policies.len() - 1;
    if is_default {
        make_default(tenant, index);
    }
    Row::new(
        1,
        &PolicyView {
            tenant,
            policy: &tenant.policies[index],
        },
    )
    .map(|r| vec![r])
}

fn set(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let index = find(tenant, errors::identity(p)?)?;
    let mut policy = tenant.policies[index].clone();
    if let Some(name) = p.string("Name")? {
        policy.name = check_name(tenant, name, Some(index))?;
    }
    policy_settings::apply(&mut policy, p)?;
    let is_default = p.boolean("IsDefault")?;
    if is_default == Some(false) && policy.is_default {
        return Err(invalid_operation(&format!(
            "The policy '{}' is the default mobile device mailbox policy. Make another policy the default (IsDefault $true) instead.",
            policy.name
        )));
    }
    if what_if(p)? {
        return Ok(Vec::new());
    }
    policy.when_changed = req.now;
    tenant.policies[index] = policy;
    if is_default == Some(true) {
        make_default(tenant, index);
    }
    Ok(Vec::new())
}

fn remove(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let index = find(tenant, errors::identity(p)?)?;
    let (guid, name, is_default) = {
        let policy = &tenant.policies[index];
        (policy.guid, policy.name.clone(), policy.is_default)
    };
    if is_default {
        return Err(invalid_operation(&format!(
            "The default mobile device mailbox policy '{name}' can't be removed. Make another policy the default first."
        )));
    }
    confirm(p, "Removing mobile device mailbox policy", &name)?;
    if what_if(p)? {
        return Ok(Vec::new());
    }
    tenant.policies.remove(index);
    for m in tenant.mailboxes_mut() {
        if m.policy == Some(guid) {
            m.policy = None;
        }
    }
    Ok(Vec::new())
}

/// A policy as the flat property bag Exchange returns. `Unlimited`-typed values are strings
/// (`"Unlimited"`, `"8"`, `"00:15:00"`); plain numbers are JSON numbers.
struct PolicyView<'a> {
    tenant: &'a Tenant,
    policy: &'a MailboxPolicy,
}

impl Serialize for PolicyView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (t, p) = (self.tenant, self.policy);
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("Name", &p.name)?;
        m.serialize_entry("IsDefault", &p.is_default)?;
        m.serialize_entry("PasswordEnabled", &p.password_enabled)?;
        m.serialize_entry(
            "AlphanumericPasswordRequired",
            &p.alphanumeric_password_required,
        )?;
        m.serialize_entry("AllowSimplePassword", &p.allow_simple_password)?;
        m.serialize_entry("MinPasswordLength", &p.min_password_length)?;
        m.serialize_entry(
            "MaxPasswordFailedAttempts",
            &p.max_password_failed_attempts
                .map_or("Unlimited".to_owned(), |n| n.to_string()),
        )?;
        m.serialize_entry(
            "PasswordExpiration",
            &unlimited_timespan(p.password_expiration),
        )?;
        m.serialize_entry("PasswordHistory", &p.password_history)?;
        m.serialize_entry(
            "MaxInactivityTimeLock",
            &unlimited_timespan(p.max_inactivity_time_lock),
        )?;
        m.serialize_entry(
            "MinPasswordComplexCharacters",
            &p.min_password_complex_characters,
        )?;
        m.serialize_entry("RequireDeviceEncryption", &p.require_device_encryption)?;
        m.serialize_entry("DeviceEncryptionEnabled", &p.device_encryption_enabled)?;
        m.serialize_entry(
            "AllowNonProvisionableDevices",
            &p.allow_non_provisionable_devices,
        )?;
        m.serialize_entry(
            "DevicePolicyRefreshInterval",
            &unlimited_timespan(p.device_policy_refresh_interval),
        )?;
        m.serialize_entry("AttachmentsEnabled", &p.attachments_enabled)?;
        m.serialize_entry("MaxAttachmentSize", "Unlimited")?;
        m.serialize_entry("AllowCamera", &p.allow_camera)?;
        m.serialize_entry("AllowBluetooth", p.allow_bluetooth.as_str())?;
        m.serialize_entry("AllowWiFi", &p.allow_wifi)?;
        m.serialize_entry("AllowTextMessaging", &p.allow_text_messaging)?;
        m.serialize_entry("AllowStorageCard", &p.allow_storage_card)?;
        m.serialize_entry("AllowBrowser", &p.allow_browser)?;
        m.serialize_entry("AllowInternetSharing", &p.allow_internet_sharing)?;
        m.serialize_entry("MaxEmailAgeFilter", p.max_email_age_filter.as_str())?;
        m.serialize_entry("MaxCalendarAgeFilter", "All")?;
        m.serialize_entry("PasswordRecoveryEnabled", &false)?;
        m.serialize_entry("AdminDisplayName", "")?;
        m.serialize_entry("ExchangeVersion", "0.10 (14.0.100.0)")?;
        m.serialize_entry("DistinguishedName", &dn(t, &p.name))?;
        m.serialize_entry("Identity", &p.name)?;
        m.serialize_entry("Id", &p.name)?;
        m.serialize_entry(
            "ObjectCategory",
            &format!(
                "{}/Configuration/Schema/ms-Exch-Mobile-Mailbox-Policy",
                t.org.forest
            ),
        )?;
        list_entry(
            &mut m,
            "ObjectClass",
            &[
                "top",
                "msExchRecipientTemplate",
                "msExchMobileMailboxPolicy",
            ],
        )?;
        date_entry(&mut m, "WhenChanged", &p.when_changed)?;
        date_entry(&mut m, "WhenCreated", &p.when_created)?;
        date_entry(&mut m, "WhenChangedUTC", &p.when_changed)?;
        date_entry(&mut m, "WhenCreatedUTC", &p.when_created)?;
        guid_entry(&mut m, "ExchangeObjectId", &p.guid)?;
        m.serialize_entry("OrganizationId", &t.org.organization_id())?;
        guid_entry(&mut m, "Guid", &p.guid)?;
        m.serialize_entry("OriginatingServer", &t.org.domain_controller)?;
        m.serialize_entry("IsValid", &true)?;
        m.serialize_entry("ObjectState", "Unchanged")?;
        m.end()
    }
}
