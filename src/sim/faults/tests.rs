//! Unit tests of the fault decisions, counters and budget.

use super::*;
use std::time::Duration;

fn fired(faults: &Faults, n: usize, cmdlet: &str) -> Vec<bool> {
    let now = Instant::now();
    (0..n)
        .map(|_| {
            faults
                .decide(Target::Invoke(Some(cmdlet)), now)
                .fault
                .is_some()
        })
        .collect()
}

#[test]
fn a_rate_of_a_fifth_fires_near_200_times_in_1000_and_repeats_for_a_seed() {
    let rule = FaultRule::rate(FaultKind::GatewayTimeout, 0.2);
    let a = Faults::new(7, vec![rule.clone()], None);
    let b = Faults::new(7, vec![rule.clone()], None);
    let c = Faults::new(8, vec![rule], None);
    let (fa, fb, fc) = (
        fired(&a, 1000, "x"),
        fired(&b, 1000, "x"),
        fired(&c, 1000, "x"),
    );
    let hits = fa.iter().filter(|f| **f).count();
    assert!((150..=250).contains(&hits), "{hits}");
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
    assert_eq!(a.injected("504"), hits as u64);
    assert_eq!(a.received("X"), 1000);
    // Replacing the rules restarts the sequence.
    a.set(vec![FaultRule::rate(FaultKind::GatewayTimeout, 0.2)]);
    assert_eq!(fired(&a, 1000, "x"), fb);
}

#[test]
fn a_count_rule_fires_exactly_n_times_for_its_cmdlet_only() {
    let f = Faults::new(
        1,
        vec![FaultRule::times(FaultKind::Forbidden, 3).for_cmdlet("get-mobiledevice")],
        None,
    );
    assert_eq!(fired(&f, 5, "Get-ActiveSyncDeviceClass"), [false; 5]);
    assert_eq!(
        fired(&f, 5, "Get-MobileDevice"),
        [true, true, true, false, false]
    );
    assert_eq!(f.rules()[0].remaining, Some(0));
    assert_eq!(f.rules()[0].fired, 3);
    assert_eq!(f.injected("403"), 3);
    assert_eq!(f.received("get-mobiledevice"), 5);
}

#[test]
fn slow_rules_delay_and_let_the_next_rule_answer() {
    let f = Faults::new(
        1,
        vec![
            FaultRule::always(FaultKind::Slow { delay_ms: 30 }),
            FaultRule::times(FaultKind::GatewayTimeout, 1),
            FaultRule::always(FaultKind::Forbidden),
        ],
        None,
    );
    let d = f.decide(Target::Invoke(Some("Get-MobileDevice")), Instant::now());
    assert_eq!((d.delay_ms, d.fault), (30, Some(FaultKind::GatewayTimeout)));
    let d = f.decide(Target::Invoke(None), Instant::now());
    assert_eq!(d.fault, Some(FaultKind::Forbidden));
    assert_eq!(f.received(""), 1);
}

#[test]
fn token_rules_apply_to_the_token_endpoint_only() {
    let f = Faults::new(
        1,
        vec![FaultRule::always(FaultKind::GatewayTimeout).for_cmdlet("@token")],
        None,
    );
    assert!(f
        .decide(Target::Invoke(Some("Get-MobileDevice")), Instant::now())
        .fault
        .is_none());
    assert!(f.decide(Target::Token, Instant::now()).fault.is_some());
    f.clear();
    assert!(f.decide(Target::Token, Instant::now()).fault.is_none());
    assert_eq!(f.received_total(), 1);
}

#[test]
fn the_budget_counts_down_refuses_and_restarts_with_the_window() {
    let limit = RateLimit {
        limit: 2,
        window: Duration::from_secs(10),
    };
    let f = Faults::new(
        1,
        vec![FaultRule::always(FaultKind::Forbidden)],
        Some(limit),
    );
    let t0 = Instant::now();
    let first = f.decide(Target::Invoke(Some("a")), t0);
    assert_eq!(first.budget.map(|b| (b.limit, b.remaining)), Some((2, 1)));
    assert!(!first.over_budget && first.fault.is_some());
    let second = f.decide(Target::Invoke(Some("a")), t0 + Duration::from_secs(1));
    assert_eq!(second.budget.map(|b| b.remaining), Some(0));
    let third = f.decide(Target::Invoke(Some("a")), t0 + Duration::from_secs(4));
    assert!(third.over_budget && third.fault.is_none());
    assert_eq!(third.budget.map(|b| b.reset_secs), Some(6.0));
    let later = f.decide(Target::Invoke(Some("a")), t0 + Duration::from_secs(10));
    assert_eq!(later.budget.map(|b| b.remaining), Some(1));
    assert_eq!((f.injected(RATE_LIMITED), f.injected("403")), (1, 3));
    f.reset_counters();
    assert_eq!((f.received_total(), f.injected("403")), (0, 0));
}
