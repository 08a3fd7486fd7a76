//! Each fault kind of the simulator against the client's retry rules (spec §5).

use std::time::Duration;

use super::*;
use crate::sim::{FaultKind, FaultRule, RateLimit};

const ORG: &str = "Get-ActiveSyncOrganizationSettings";
const SET_ORG: &str = "Set-ActiveSyncOrganizationSettings";

fn api(e: &ExchangeError) -> &super::super::ApiFailure {
    match e {
        ExchangeError::Api(f) => f,
        other => panic!("expected an API failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_429_is_retried_after_exactly_the_retry_after_time() {
    let sim = simulator(3, |_| {}).await;
    let throttle = FaultKind::Throttle {
        retry_after_secs: 0.15,
    };
    sim.state()
        .faults()
        .push(FaultRule::times(throttle, 2).for_cmdlet(ORG));
    let c = client(&sim, 1000);
    let started = std::time::Instant::now();
    org_settings(&c).await.expect("succeeds after two waits");
    assert_eq!(sim.state().received(ORG), 3);
    let stats = c.stats();
    assert_eq!((stats.throttled, stats.retries), (2, 2));
    assert_eq!(stats.throttle_wait, Duration::from_millis(300));
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_a_clear_error_after_six_calls() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Throttle {
            retry_after_secs: 0.01,
        }));
    let c = client(&sim, 1000);
    let e = org_settings(&c).await.expect_err("gives up");
    assert_eq!(api(&e).status, 429);
    assert_eq!(api(&e).retries, 5);
    assert!(e.to_string().contains("throttling"), "{e}");
    assert!(e.to_string().ends_with("(after 5 retries)"), "{e}");
    assert_eq!(sim.state().received(ORG), 6);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_deadline_fails_at_once() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Throttle {
            retry_after_secs: 60.0,
        }));
    let mut settings = fast(1000);
    settings.call_deadline = Duration::from_secs(2);
    let c = ExchangeClient::new(&super::settings(&sim), &settings).expect("client");
    let started = std::time::Instant::now();
    let e = org_settings(&c).await.expect_err("no point waiting");
    assert_eq!(api(&e).status, 429);
    assert_eq!(api(&e).retry_after, Some(60.0));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(sim.state().received(ORG), 1);
}

#[tokio::test]
async fn a_503_and_a_504_are_retried_with_backoff() {
    let sim = simulator(3, |_| {}).await;
    sim.state().faults().push(
        FaultRule::times(
            FaultKind::Unavailable {
                retry_after_secs: None,
            },
            2,
        )
        .for_cmdlet(ORG),
    );
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::GatewayTimeout, 1).for_cmdlet(ORG));
    let c = client(&sim, 1000);
    org_settings(&c).await.expect("succeeds on the fourth call");
    assert_eq!(sim.state().received(ORG), 4);
    let stats = c.stats();
    assert_eq!(stats.retries, 3);
    // 5 ms × (1 + 2 + 4) with ±20 % jitter.
    assert!(stats.backoff_wait >= Duration::from_millis(28), "{stats:?}");
    assert!(stats.backoff_wait <= Duration::from_millis(42), "{stats:?}");
}

#[tokio::test]
async fn a_503_that_never_ends_gives_up_after_five_retries() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Unavailable {
            retry_after_secs: None,
        }));
    let c = client(&sim, 1000);
    let e = org_settings(&c).await.expect_err("gives up");
    assert_eq!(api(&e).status, 503);
    assert_eq!(e.code(), e.code().trim());
    assert!(e.to_string().contains("server error (503)"), "{e}");
    assert_eq!(sim.state().received(ORG), 6);
}

#[tokio::test]
async fn transient_exceptions_are_retried_and_other_server_errors_are_not() {
    let sim = simulator(3, |_| {}).await;
    sim.state().faults().push(
        FaultRule::times(
            FaultKind::Transient {
                exception: "DCOverloadedException".into(),
                status: 500,
            },
            2,
        )
        .for_cmdlet(ORG),
    );
    let c = client(&sim, 1000);
    org_settings(&c).await.expect("retried through");
    assert_eq!(sim.state().received(ORG), 3);
}

#[tokio::test]
async fn an_expired_token_gets_one_new_token_and_one_retry() {
    let sim = simulator(3, |_| {}).await;
    let c = client(&sim, 1000);
    org_settings(&c).await.expect("first call");
    assert_eq!(c.stats().token_requests, 1);
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::ExpiredToken, 1).for_cmdlet(ORG));
    org_settings(&c).await.expect("a new token, then success");
    assert_eq!(sim.state().received(ORG), 3);
    assert_eq!(c.stats().token_requests, 2);
}

#[tokio::test]
async fn a_token_refused_twice_is_reported_after_one_renewal() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::ExpiredToken));
    let c = client(&sim, 1000);
    let e = org_settings(&c).await.expect_err("refused");
    assert_eq!(api(&e).status, 401);
    assert!(e
        .to_string()
        .contains("did not accept the connector's access token"));
    assert_eq!(sim.state().received(ORG), 2);
    assert_eq!(c.stats().token_requests, 2);
}

#[tokio::test]
async fn a_reset_connection_is_retried_for_a_read_but_not_for_a_write() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::ConnectionReset, 1).for_cmdlet(ORG));
    let c = client(&sim, 1000);
    org_settings(&c).await.expect("the read is retried");
    assert_eq!(sim.state().received(ORG), 2);

    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::ConnectionReset, 1).for_cmdlet(SET_ORG));
    let e = set_org_settings(&c)
        .await
        .expect_err("the write may have run");
    assert!(matches!(e, ExchangeError::Unreachable { .. }), "{e:?}");
    assert_eq!(sim.state().received(SET_ORG), 1);
}

#[tokio::test]
async fn a_slow_answer_past_the_request_timeout_is_retried_and_the_deadline_holds() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::Slow { delay_ms: 1500 }, 1).for_cmdlet(ORG));
    let mut settings = fast(1000);
    settings.request_timeout = Duration::from_secs(1);
    let c = ExchangeClient::new(&super::settings(&sim), &settings).expect("client");
    org_settings(&c).await.expect("the second try is fast");
    assert_eq!(sim.state().received(ORG), 2);

    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 1500 }));
    settings.call_deadline = Duration::from_secs(2);
    let c = ExchangeClient::new(&super::settings(&sim), &settings).expect("client");
    let started = std::time::Instant::now();
    let e = org_settings(&c).await.expect_err("deadline");
    assert!(
        matches!(
            e,
            ExchangeError::Deadline { .. } | ExchangeError::Timeout { .. }
        ),
        "{e:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2600),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn malformed_json_is_retried_for_a_read() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::MalformedJson, 1).for_cmdlet(ORG));
    let c = client(&sim, 1000);
    org_settings(&c).await.expect("the second answer is whole");
    assert_eq!(sim.state().received(ORG), 2);
}

#[tokio::test]
async fn errors_inside_a_200_are_a_partial_failure_not_a_success() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::PartialFailure, 1).for_cmdlet(ORG));
    let c = client(&sim, 1000);
    let e = org_settings(&c).await.expect_err("partial");
    assert!(matches!(e, ExchangeError::Partial { .. }), "{e:?}");
    assert_eq!(e.code(), "PartialFailure");
    assert!(e.request_id().is_some());
    assert_eq!(sim.state().received(ORG), 1);
}

#[tokio::test]
async fn a_403_names_the_cmdlet_and_is_not_retried() {
    let sim = simulator(3, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Forbidden).for_cmdlet(SET_ORG));
    let c = client(&sim, 1000);
    let e = set_org_settings(&c).await.expect_err("forbidden");
    assert_eq!(api(&e).status, 403);
    assert_eq!(e.cmdlet(), Some(SET_ORG));
    assert!(e
        .to_string()
        .starts_with("The account is not allowed to run Set-ActiveSyncOrganizationSettings."));
    assert_eq!(sim.state().received(SET_ORG), 1);
}

#[tokio::test]
async fn a_listing_survives_twenty_percent_of_each_transient_fault() {
    for kind in [
        FaultKind::Throttle {
            retry_after_secs: 0.01,
        },
        FaultKind::Unavailable {
            retry_after_secs: None,
        },
        FaultKind::GatewayTimeout,
        FaultKind::ConnectionReset,
        FaultKind::MalformedJson,
    ] {
        let sim = simulator(250, |_| {}).await;
        sim.state()
            .faults()
            .push(FaultRule::rate(kind.clone(), 0.2).for_cmdlet("Get-MobileDevice"));
        let c = client(&sim, 10);
        let (devices, pages) = all_devices(&c)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!((devices, pages), (250, 25), "{kind:?}");
        let received = sim.state().received("Get-MobileDevice");
        let injected = sim.state().injected(kind.label());
        assert_eq!(
            received,
            25 + injected,
            "{kind:?}: every fault cost one call"
        );
        assert!(injected > 0, "{kind:?}: the rate rule fired");
    }
}

#[tokio::test]
async fn expired_tokens_at_twenty_percent_renew_once_per_request_and_fail_clearly_otherwise() {
    let sim = simulator(250, |_| {}).await;
    sim.state()
        .faults()
        .push(FaultRule::rate(FaultKind::ExpiredToken, 0.2).for_cmdlet("Get-MobileDevice"));
    let c = client(&sim, 10);
    let result = all_devices(&c).await;
    let injected = sim.state().injected("expired");
    let received = sim.state().received("Get-MobileDevice");
    let tokens = c.stats().token_requests;
    match result {
        Ok((devices, pages)) => {
            assert_eq!((devices, pages), (250, 25));
            assert_eq!(received, 25 + injected);
            assert_eq!(tokens, 1 + injected, "one new token per 401");
        }
        // A new token refused again is not retried a second time (spec §5); the refused token
        // is dropped so that the next call starts with a new one.
        Err(e) => {
            assert_eq!(api(&e).status, 401, "{e}");
            assert!(e.to_string().contains("access token"), "{e}");
            assert_eq!(tokens, injected, "one new token per 401 but the last");
        }
    }
}

#[tokio::test]
async fn the_client_slows_down_before_the_rate_limit_instead_of_being_throttled() {
    let sim = simulator(200, |c| {
        c.rate_limit = Some(RateLimit {
            limit: 10,
            window: Duration::from_millis(500),
        });
    })
    .await;
    let c = client(&sim, 10);
    let (devices, _) = all_devices(&c).await.expect("listing");
    assert_eq!(devices, 200);
    let stats = c.stats();
    assert!(stats.pacing_wait > Duration::ZERO, "{stats:?}");
    assert_eq!(stats.throttled, 0, "{stats:?}");
}
