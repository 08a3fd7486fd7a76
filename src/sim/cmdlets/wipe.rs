//! `Clear-MobileDevice`: asks a device to wipe itself at its next connection (spec §9, "Device
//! actions"), or (`Cancel`) withdraws that request. The request shows in
//! `Get-MobileDeviceStatistics`: `Status` `DeviceWipePending` (`AccountOnlyDeviceWipePending`
//! with `AccountOnly`), `DeviceWipeRequestTime` and `LastDeviceWipeRequestor`. As in Exchange
//! Online, the simulated wipe stays pending: no device ever reports it done.

use super::errors::{self, confirm, invalid_operation, what_if};
use super::{Cmdlet, Request, Row, Run};
use crate::sim::tenant::{Tenant, Wipe, WipeStatus};
use crate::sim::wire::ExoError;

pub(crate) const CLEAR: Cmdlet = Cmdlet {
    name: "Clear-MobileDevice",
    params: &["Identity", "AccountOnly", "Cancel", "Confirm", "WhatIf"],
    run: Run::Write(clear),
};

/// The oldest Exchange ActiveSync version that can wipe one account only.
const ACCOUNT_ONLY_MIN: (u32, u32) = (16, 1);

/// `major.minor` of a `ClientVersion` such as `16.1` (`None` when it is not a version).
fn version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// Requests (or with `Cancel` withdraws) a wipe of one device; refused without
/// `"Confirm": false` (see [`confirm`]). No output.
fn clear(tenant: &mut Tenant, req: &Request<'_>) -> Result<Vec<Row>, ExoError> {
    let p = req.params;
    let identity = errors::identity(p)?;
    let account_only = p.switch("AccountOnly")?;
    let cancel = p.switch("Cancel")?;
    if account_only && cancel {
        return Err(ExoError::parameter(
            "Parameter set cannot be resolved using the specified named parameters.",
        ));
    }
    let device = tenant
        .find_device(identity)
        .ok_or_else(|| ExoError::not_found(identity, &tenant.org.domain_controller))?;
    let guid = device.guid;
    let shown = tenant.device_identity(device);
    let pending = device.wipe.as_deref().is_some_and(|w| {
        matches!(
            w.status,
            WipeStatus::Pending | WipeStatus::AccountOnlyPending
        )
    });
    if cancel {
        confirm(p, "Canceling the wipe of mobile device", &shown)?;
        if !pending {
            return Err(invalid_operation(&format!(
                "There is no pending wipe request to cancel for mobile device '{shown}'."
            )));
        }
    } else {
        if !device.remote_wipe_supported() {
            return Err(invalid_operation(&format!(
                "The mobile device '{shown}' doesn't support remote wipe (ClientType {}).",
                device.client_type.as_str()
            )));
        }
        if account_only && version(device.client_version).is_none_or(|v| v < ACCOUNT_ONLY_MIN) {
            return Err(invalid_operation(&format!(
                "An account-only remote wipe requires Exchange ActiveSync 16.1 or later. The mobile device \
                 '{shown}' uses Exchange ActiveSync {}.",
                device.client_version
            )));
        }
        confirm(p, "Wiping mobile device", &shown)?;
    }
    if what_if(p)? {
        return Ok(Vec::new());
    }
    let Some(d) = tenant.device_mut(&guid) else {
        return Err(ExoError::not_found(identity, &tenant.org.domain_controller));
    };
    d.wipe = if cancel {
        None
    } else {
        Some(Box::new(Wipe {
            status: if account_only {
                WipeStatus::AccountOnlyPending
            } else {
                WipeStatus::Pending
            },
            requested: req.now,
            sent: None,
            acknowledged: None,
            requestor: req.caller.to_owned(),
        }))
    };
    d.when_changed = d.when_changed.max(req.now);
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_versions_compare_as_numbers() {
        assert_eq!(version("16.1"), Some((16, 1)));
        assert_eq!(version(" 14.1 "), Some((14, 1)));
        assert_eq!(version("16"), Some((16, 0)));
        assert_eq!(version("n/a"), None);
        assert!(version("16.0") < Some(ACCOUNT_ONLY_MIN));
        assert!(version("16.10") > Some(ACCOUNT_ONLY_MIN));
    }
}
