//! The moving clock: churn reports that match what clients see, determinism, the admin endpoint,
//! and tokens expiring by the simulated clock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::exo::{frozen, text, Exo};
use super::*;

fn churning(mailboxes: usize, devices: usize) -> SimConfig {
    SimConfig {
        churn: Some(ChurnRates {
            added_per_hour: 12.0,
            changed_per_hour: 30.0,
            removed_per_hour: 8.0,
        }),
        ..frozen(mailboxes, devices)
    }
}

fn when_changed(devices: &[Value]) -> BTreeMap<String, String> {
    devices
        .iter()
        .map(|d| {
            (
                text(d, "Guid").to_owned(),
                text(d, "WhenChangedUTC").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn advancing_the_clock_reports_exactly_what_get_mobile_device_shows_changed() {
    let mut exo = Exo::start(churning(50, 120)).await;
    let before = when_changed(&exo.devices().await);
    let report = exo.advance(Duration::from_secs(3 * 3600)).await;
    let after_rows = exo.devices().await;
    let after = when_changed(&after_rows);

    let ids = |v: &[uuid::Uuid]| v.iter().map(|g| g.to_string()).collect::<BTreeSet<_>>();
    let added: BTreeSet<String> = after
        .keys()
        .filter(|g| !before.contains_key(*g))
        .cloned()
        .collect();
    let removed: BTreeSet<String> = before
        .keys()
        .filter(|g| !after.contains_key(*g))
        .cloned()
        .collect();
    let changed: BTreeSet<String> = after
        .iter()
        .filter(|(g, w)| before.get(*g).is_some_and(|b| b != *w))
        .map(|(g, _)| g.clone())
        .collect();
    assert_eq!(ids(&report.added), added);
    assert_eq!(ids(&report.removed), removed);
    assert_eq!(ids(&report.changed), changed);
    assert!(
        !added.is_empty() && !removed.is_empty() && !changed.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.to - report.from, chrono::Duration::hours(3));

    // The mailboxes are those owning an added, changed or removed device.
    let upn_of_alias = |alias: &str| format!("{alias}@{}", exo.sim.config().tenant_domain);
    let owners: BTreeSet<String> = after_rows
        .iter()
        .filter(|d| added.contains(text(d, "Guid")) || changed.contains(text(d, "Guid")))
        .map(|d| upn_of_alias(text(d, "Identity").split('\\').next().unwrap_or_default()))
        .collect();
    let reported: BTreeSet<String> = report.mailboxes.iter().cloned().collect();
    assert!(owners.is_subset(&reported), "{owners:?} vs {reported:?}");
    assert!(reported.len() <= owners.len() + removed.len());

    // Changes carry times inside the span; new devices are listed after the old ones.
    let from = crate::sim::wire::exo_date(&report.from);
    assert!(changed.iter().all(|g| after[g] >= from));
    let tail: BTreeSet<&str> = after_rows[after_rows.len() - added.len()..]
        .iter()
        .map(|d| text(d, "Guid"))
        .collect();
    assert_eq!(tail, added.iter().map(String::as_str).collect());

    let quiet = exo.advance(Duration::from_secs(30)).await;
    assert!(quiet.is_empty(), "no whole minute passed");
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn churn_is_the_same_whether_the_clock_moves_in_one_step_or_many() {
    let mut one = Exo::start(churning(40, 80)).await;
    let mut many = Exo::start(churning(40, 80)).await;
    let big = one.advance(Duration::from_secs(2 * 3600)).await;
    // Net effect of the small steps: a device added in one step and removed in a later one
    // never existed as far as the big step can tell.
    let (mut added, mut removed) = (BTreeSet::new(), BTreeSet::new());
    for _ in 0..8 {
        let step = many.advance(Duration::from_secs(15 * 60)).await;
        added.extend(step.added);
        for g in step.removed {
            if !added.remove(&g) {
                removed.insert(g);
            }
        }
    }
    assert_eq!(big.added.iter().copied().collect::<BTreeSet<_>>(), added);
    assert_eq!(
        big.removed.iter().copied().collect::<BTreeSet<_>>(),
        removed
    );
    assert!(!big.is_empty());
    assert_eq!(one.devices().await, many.devices().await);
    one.sim.shutdown().await;
    many.sim.shutdown().await;
}

#[tokio::test]
async fn the_admin_clock_endpoint_advances_and_answers_the_report() {
    let exo = Exo::start(churning(30, 60)).await;
    let url = format!("{}/_sim/clock", exo.sim.base_url());
    let got: Value = client()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(got["mode"], "frozen");
    assert_eq!(got["now"], "2025-06-02T09:30:00.0000000+00:00");
    let resp = client()
        .post(&url)
        .json(&json!({"advanceSeconds": 3600}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap_or_default();
    assert_eq!(body["now"], "2025-06-02T10:30:00.0000000+00:00");
    let reported = body["report"]["added"].as_array().map_or(0, Vec::len)
        + body["report"]["changed"].as_array().map_or(0, Vec::len)
        + body["report"]["removed"].as_array().map_or(0, Vec::len);
    assert!(reported > 0, "{body}");
    assert_eq!(
        exo.state().now(),
        super::exo::fixed_now() + chrono::Duration::hours(1)
    );

    let bad = client()
        .post(&url)
        .json(&json!({"advanceSeconds": -5}))
        .send()
        .await;
    assert_eq!(bad.map(|r| r.status()).ok(), Some(StatusCode::BAD_REQUEST));
    let resp = client()
        .post(&url)
        .json(&json!({"mode": "wall"}))
        .send()
        .await;
    assert_eq!(resp.map(|r| r.status()).ok(), Some(StatusCode::OK));
    assert_eq!(exo.state().clock_mode(), ClockMode::Wall);
    exo.sim.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_by_the_simulated_clock() {
    let exo = Exo::start(frozen(3, 3)).await;
    let (status, _) = exo.call("Get-MobileDevice", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // Not Exo::advance: that would fetch a new token.
    let _ = exo.state().advance(Duration::from_secs(3600));
    let (status, _) = exo.call("Get-MobileDevice", json!({})).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a 3599 s token is stale an hour later"
    );
    exo.sim.shutdown().await;
}

#[test]
fn churn_and_clock_settings_come_from_the_environment() {
    let env = |name: &str| match name {
        "EXO_SIM_CLOCK" => Some("frozen".to_owned()),
        "EXO_SIM_CHURN" => Some("add=3,remove=1".to_owned()),
        "EXO_SIM_DENY" => Some("app:abc=Remove-MobileDevice".to_owned()),
        _ => None,
    };
    let c = SimConfig::from_lookup(env).unwrap_or_default();
    assert_eq!(c.clock, ClockMode::Frozen);
    assert_eq!(
        c.churn,
        Some(ChurnRates {
            added_per_hour: 3.0,
            changed_per_hour: 0.0,
            removed_per_hour: 1.0
        })
    );
    assert!(!c.deny.allows("ABC", None, "remove-mobiledevice"));
    for (var, value) in [
        ("EXO_SIM_CLOCK", "sundial"),
        ("EXO_SIM_CHURN", "grow=1"),
        ("EXO_SIM_DENY", "group:x=Get-Mailbox"),
    ] {
        let err = SimConfig::from_lookup(|n| (n == var).then(|| value.to_owned())).err();
        assert_eq!(err.map(|e| e.setting), Some(var));
    }
}
