//! Permission pre-flight (spec §6): which of the required cmdlets the connector's identity may
//! run. First `EXOModuleFile` (the list of cmdlets exported to the caller); when the service does
//! not answer it, each Get cmdlet is probed (a 403 means denied). Set/New/Remove cmdlets are
//! never probed, so they stay `Unknown` in that case.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use super::error::ExchangeError;
use super::{Call, ExchangeClient};
use crate::model::REQUIRED_CMDLETS;

/// The pseudo-cmdlet name of the pre-flight request (for counters and messages).
pub(crate) const MODULE_FILE: &str = "EXOModuleFile";
/// The optional cmdlets of device actions (spec §9): a connector works without them, and the
/// actions that need them say so.
pub(crate) const OPTIONAL_CMDLETS: &[&str] = &[
    "Get-CASMailbox",
    "Set-CASMailbox",
    "Clear-MobileDevice",
    "Remove-MobileDevice",
];

/// Whether the identity may run one cmdlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    Allowed,
    Denied,
    /// Could not be told (a write cmdlet when only probing was possible).
    Unknown,
}

/// Where the answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PermissionSource {
    ModuleFile,
    Probe,
}

/// The pre-flight result: every required cmdlet, then the optional ones, in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PermissionReport {
    pub source: PermissionSource,
    pub cmdlets: Vec<(&'static str, Permission)>,
}

impl PermissionReport {
    /// Required cmdlets the identity may not run.
    pub fn denied(&self) -> Vec<&'static str> {
        self.cmdlets
            .iter()
            .filter(|(name, p)| *p == Permission::Denied && !OPTIONAL_CMDLETS.contains(name))
            .map(|(name, _)| *name)
            .collect()
    }

    /// Optional cmdlets the identity may not run.
    pub fn denied_optional(&self) -> Vec<&'static str> {
        self.cmdlets
            .iter()
            .filter(|(name, p)| *p == Permission::Denied && OPTIONAL_CMDLETS.contains(name))
            .map(|(name, _)| *name)
            .collect()
    }

    /// The permission of `cmdlet`.
    pub fn get(&self, cmdlet: &str) -> Option<Permission> {
        self.cmdlets
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(cmdlet))
            .map(|(_, p)| *p)
    }

    /// A report as `EXOModuleFile` listing `exported` would give (for tests elsewhere).
    #[cfg(test)]
    pub(crate) fn from_module_file_for_tests(exported: &str) -> Self {
        Self::from_exported(exported)
    }

    fn from_exported(exported: &str) -> Self {
        let allowed: Vec<&str> = exported.split(',').map(str::trim).collect();
        let cmdlets = all_cmdlets()
            .map(|name| {
                let ok = allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
                (
                    name,
                    if ok {
                        Permission::Allowed
                    } else {
                        Permission::Denied
                    },
                )
            })
            .collect();
        Self {
            source: PermissionSource::ModuleFile,
            cmdlets,
        }
    }
}

fn all_cmdlets() -> impl Iterator<Item = &'static str> {
    REQUIRED_CMDLETS.iter().chain(OPTIONAL_CMDLETS).copied()
}

#[derive(Deserialize)]
struct ModuleFile {
    #[serde(default)]
    value: Vec<ModuleFileEntry>,
}

#[derive(Deserialize)]
struct ModuleFileEntry {
    #[serde(rename = "exportedCmdlets", default)]
    exported_cmdlets: Option<String>,
}

/// `{base with /adminapi/v1.0}/{tenant}/EXOModuleFile?Version=3.9.0`.
fn module_file_url(admin_api_url: &Url, tenant: &str) -> Option<Url> {
    let mut url = admin_api_url.clone();
    {
        let mut segments = url.path_segments_mut().ok()?;
        segments.pop_if_empty();
        segments.pop();
        segments.push("v1.0");
        segments.push(tenant);
        segments.push(MODULE_FILE);
    }
    url.set_query(Some("Version=3.9.0"));
    Some(url)
}

/// Probe parameters of each Get cmdlet: as little output as possible. Statistics needs a
/// mailbox; a name that does not exist answers 404 when the cmdlet is allowed.
fn probe_parameters(cmdlet: &str) -> Map<String, Value> {
    let mut params = Map::new();
    match cmdlet {
        "Get-MobileDevice" => {
            params.insert("ResultSize".into(), json!(1));
        }
        "Get-MobileDeviceStatistics" => {
            params.insert(
                "Mailbox".into(),
                json!("exchange-connector-permission-probe"),
            );
        }
        _ => {}
    }
    params
}

impl ExchangeClient {
    /// Which required (and optional) cmdlets the identity may run. Fails only when Exchange
    /// cannot be asked at all (unreachable, credentials refused).
    pub(crate) async fn check_permissions(&self) -> Result<PermissionReport, ExchangeError> {
        match self.module_file().await {
            Ok(Some(report)) => return Ok(report),
            Ok(None) => {}
            Err(
                e @ (ExchangeError::Unreachable { .. }
                | ExchangeError::Credentials { .. }
                | ExchangeError::NotSignedIn),
            ) => return Err(e),
            Err(e) => {
                tracing::info!(error = %e, "EXOModuleFile unavailable; probing the Get cmdlets")
            }
        }
        self.probe().await
    }

    async fn module_file(&self) -> Result<Option<PermissionReport>, ExchangeError> {
        let Some(url) = module_file_url(&self.inner.admin_api_url, &self.inner.tenant_id) else {
            return Ok(None);
        };
        let mut call = Call::new(MODULE_FILE);
        let (parsed, _) = self
            .send(
                &mut call,
                Method::GET,
                &url,
                None,
                &[("commandname", "*")],
                |bytes| serde_json::from_slice::<ModuleFile>(bytes).map_err(|e| e.to_string()),
            )
            .await?;
        Ok(parsed
            .value
            .into_iter()
            .find_map(|e| e.exported_cmdlets)
            .map(|list| PermissionReport::from_exported(&list)))
    }

    async fn probe(&self) -> Result<PermissionReport, ExchangeError> {
        let mut cmdlets = Vec::new();
        for name in all_cmdlets() {
            let permission = if name.starts_with("Get-") {
                let mut pages = self.invoke::<serde::de::IgnoredAny>(name, probe_parameters(name));
                match pages.next_page().await {
                    Ok(_) => Permission::Allowed,
                    Err(ExchangeError::Api(f)) if f.status == 403 => Permission::Denied,
                    // The cmdlet ran and found nothing, or refused the probe's parameters.
                    Err(ExchangeError::Api(f)) if matches!(f.status, 400 | 404) => {
                        Permission::Allowed
                    }
                    Err(
                        e @ (ExchangeError::Unreachable { .. }
                        | ExchangeError::Credentials { .. }
                        | ExchangeError::NotSignedIn),
                    ) => return Err(e),
                    Err(_) => Permission::Unknown,
                }
            } else {
                Permission::Unknown
            };
            cmdlets.push((name, permission));
        }
        Ok(PermissionReport {
            source: PermissionSource::Probe,
            cmdlets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_file_lives_under_v1_0_whatever_the_configured_version() {
        let beta: Url = "https://outlook.office365.com/adminapi/beta"
            .parse()
            .unwrap();
        assert_eq!(
            module_file_url(&beta, "t1").unwrap().as_str(),
            "https://outlook.office365.com/adminapi/v1.0/t1/EXOModuleFile?Version=3.9.0"
        );
        let slash: Url = "http://127.0.0.1:4000/adminapi/beta/".parse().unwrap();
        assert_eq!(
            module_file_url(&slash, "t1").unwrap().as_str(),
            "http://127.0.0.1:4000/adminapi/v1.0/t1/EXOModuleFile?Version=3.9.0"
        );
    }

    #[test]
    fn exported_cmdlets_decide_each_required_one_in_any_case() {
        let r = PermissionReport::from_exported(
            "get-mobiledevice, Get-MobileDeviceStatistics,Get-Mailbox,Remove-MobileDevice",
        );
        assert_eq!(
            r.cmdlets.len(),
            REQUIRED_CMDLETS.len() + OPTIONAL_CMDLETS.len()
        );
        assert_eq!(r.get("Get-MobileDevice"), Some(Permission::Allowed));
        assert_eq!(r.get("Remove-MobileDevice"), Some(Permission::Allowed));
        assert_eq!(
            r.get("Set-ActiveSyncOrganizationSettings"),
            Some(Permission::Denied)
        );
        assert_eq!(r.denied().len(), REQUIRED_CMDLETS.len() - 2);
        assert!(!r.denied().contains(&"Remove-MobileDevice"));
        assert_eq!(
            r.denied_optional(),
            ["Get-CASMailbox", "Set-CASMailbox", "Clear-MobileDevice"]
        );
    }
}
