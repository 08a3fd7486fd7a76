//! The permission pre-flight against the simulator's EXOModuleFile and RBAC.

use super::super::{Permission, PermissionSource};
use super::*;
use crate::model::REQUIRED_CMDLETS;
use crate::sim::{FaultKind, FaultRule};

#[tokio::test]
async fn an_account_with_every_role_is_allowed_all_cmdlets_by_the_module_file() {
    let sim = simulator(2, |_| {}).await;
    let report = client(&sim, 1000)
        .check_permissions()
        .await
        .expect("report");
    assert_eq!(report.source, PermissionSource::ModuleFile);
    assert_eq!(
        report.cmdlets.len(),
        REQUIRED_CMDLETS.len() + super::super::OPTIONAL_CMDLETS.len()
    );
    assert!(report.denied().is_empty(), "{report:?}");
    assert!(report.denied_optional().is_empty(), "{report:?}");
    assert_eq!(report.get("Remove-MobileDevice"), Some(Permission::Allowed));
    let module_file = sim
        .state()
        .recent_requests()
        .into_iter()
        .find(|r| r.path.ends_with("/EXOModuleFile"))
        .expect("the pre-flight request");
    assert_eq!(module_file.method, "GET");
    assert!(module_file.path.contains("/adminapi/v1.0/"));
    assert_eq!(module_file.query.as_deref(), Some("Version=3.9.0"));
    assert_eq!(module_file.header("commandname"), Some("*"));
}

#[tokio::test]
async fn a_denied_cmdlet_is_reported_by_name() {
    let sim = simulator(2, |_| {}).await;
    sim.state()
        .set_denied("Set-ActiveSyncOrganizationSettings")
        .expect("rbac spec");
    let report = client(&sim, 1000)
        .check_permissions()
        .await
        .expect("report");
    assert_eq!(report.denied(), ["Set-ActiveSyncOrganizationSettings"]);
}

#[tokio::test]
async fn without_the_module_file_the_get_cmdlets_are_probed() {
    let sim = simulator(2, |_| {}).await;
    sim.state()
        .set_denied("Get-ActiveSyncDeviceClass")
        .expect("rbac spec");
    // The module file is not available: every answer to it is a server error.
    sim.state().faults().push(
        FaultRule::always(FaultKind::Unavailable {
            retry_after_secs: None,
        })
        .for_cmdlet("EXOModuleFile"),
    );
    let mut settings = fast(1000);
    settings.max_retries = 0;
    let c = ExchangeClient::new(&super::settings(&sim), &settings).expect("client");
    let report = c.check_permissions().await.expect("report");
    assert_eq!(report.source, PermissionSource::Probe);
    assert_eq!(report.denied(), ["Get-ActiveSyncDeviceClass"]);
    assert_eq!(report.get("Get-MobileDevice"), Some(Permission::Allowed));
    assert_eq!(
        report.get("Get-MobileDeviceStatistics"),
        Some(Permission::Allowed)
    );
    assert_eq!(
        report.get("Set-ActiveSyncOrganizationSettings"),
        Some(Permission::Unknown)
    );
}
