//! Mobile device mailbox policies over HTTP against the simulator: created, changed, made
//! default and deleted, each sent as one audited call with only what changed, then read back;
//! values out of range refused at their field in the words Exchange itself gives, with nothing
//! sent; readers refused.

use exchange_connector::error::ApiError;
use exchange_connector::model::{ActionReport, ExchangeAccess, MailboxPolicyInfo, Role};
use serde_json::{json, Value};

use crate::helpers::{call_with as call, invoke, TestApp};

async fn change(app: &TestApp, fields: &[(&str, &str)]) -> Result<ActionReport, ApiError> {
    call(app, app.http(), "exchange-access/policy", fields).await
}

async fn policies(app: &TestApp) -> Vec<MailboxPolicyInfo> {
    let page: ExchangeAccess = call(app, app.http(), "exchange-access", &[])
        .await
        .expect("page");
    page.policies
}

async fn policy(app: &TestApp, name: &str) -> Option<MailboxPolicyInfo> {
    policies(app).await.into_iter().find(|p| p.name == name)
}

fn clean(report: &ActionReport) {
    assert_eq!(
        (report.calls_done, report.calls_failed),
        (1, 0),
        "{report:?}"
    );
    assert!(report.differences.is_empty(), "{report:?}");
    assert!(report.read_back_run.is_some(), "{report:?}");
}

/// The parameters of the last audited Exchange change.
async fn last_change(app: &TestApp) -> (String, Value, Option<String>) {
    let db = app.db().await;
    let (cmdlet, parameters, request_id): (String, String, Option<String>) = sqlx::query_as(
        "SELECT cmdlet, parameters, request_id FROM audit_log \
          WHERE action = 'exchangeChange' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .expect("audit row");
    (
        cmdlet,
        serde_json::from_str(&parameters).expect("json"),
        request_id,
    )
}

/// The tenant's default policy, as the page lists it.
async fn default_policy(app: &TestApp) -> MailboxPolicyInfo {
    policies(app)
        .await
        .into_iter()
        .find(|p| p.is_default)
        .expect("the tenant has a default policy")
}

#[tokio::test]
async fn a_policy_is_created_changed_made_default_and_deleted_each_audited_and_read_back() {
    let app = TestApp::with_sim(20, 40).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let first_default = default_policy(&app).await;

    let report = change(
        &app,
        &[
            ("change", "save"),
            ("policy", "new"),
            ("name", "Field staff"),
            ("settings[PasswordEnabled]", "true"),
            ("settings[MinPasswordLength]", "6"),
            ("settings[MaxInactivityTimeLock]", "0:10"),
            ("settings[AllowCamera]", "true"),
        ],
    )
    .await
    .expect("created");
    clean(&report);
    let p = policy(&app, "Field staff")
        .await
        .expect("listed after read-back");
    assert_eq!(p.settings["PasswordEnabled"], "true");
    assert_eq!(p.settings["MinPasswordLength"], "6");
    assert_eq!(p.settings["MaxInactivityTimeLock"], "00:10:00");
    assert!(!p.is_default);
    let (cmdlet, params, request_id) = last_change(&app).await;
    assert_eq!(cmdlet, "New-MobileDeviceMailboxPolicy");
    // AllowCamera is already Exchange's default for a new policy: not sent.
    assert_eq!(
        params,
        json!({"Name": "Field staff", "PasswordEnabled": true, "MinPasswordLength": 6,
               "MaxInactivityTimeLock": "00:10:00"})
    );
    assert!(request_id.is_some());

    // Only what differs from Exchange is sent; Unlimited and "not set" are values too.
    let report = change(
        &app,
        &[
            ("change", "save"),
            ("policy", &p.identity),
            ("settings[PasswordEnabled]", "true"),
            ("settings[MinPasswordLength]", ""),
            ("settings[MaxPasswordFailedAttempts]", "8"),
            ("settings[PasswordExpiration]", "90.00:00:00"),
            ("settings[MaxEmailAgeFilter]", "twoweeks"),
        ],
    )
    .await
    .expect("changed");
    clean(&report);
    let (cmdlet, params, _) = last_change(&app).await;
    assert_eq!(cmdlet, "Set-MobileDeviceMailboxPolicy");
    assert_eq!(
        params,
        json!({"Identity": p.identity, "MinPasswordLength": null, "MaxPasswordFailedAttempts": 8,
               "PasswordExpiration": "90.00:00:00", "MaxEmailAgeFilter": "TwoWeeks"})
    );
    let p = policy(&app, "Field staff").await.expect("listed");
    assert_eq!(p.settings["MinPasswordLength"], "");
    assert_eq!(p.settings["MaxPasswordFailedAttempts"], "8");
    assert_eq!(p.settings["PasswordExpiration"], "90.00:00:00");
    assert_eq!(p.settings["MaxEmailAgeFilter"], "TwoWeeks");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("Minimum password length: 6 → not set")),
        "{report:?}"
    );

    // The same values again change nothing and send nothing.
    let sets = sim.state().received("Set-MobileDeviceMailboxPolicy");
    let e = change(
        &app,
        &[
            ("change", "save"),
            ("policy", &p.identity),
            ("settings[MaxPasswordFailedAttempts]", "8"),
        ],
    )
    .await
    .expect_err("nothing to change");
    assert!(
        matches!(&e, ApiError::Invalid { field, .. } if field == "change"),
        "{e:?}"
    );
    assert_eq!(sim.state().received("Set-MobileDeviceMailboxPolicy"), sets);

    // Made the default: the old default is not one any more; a default cannot be deleted.
    clean(
        &change(&app, &[("change", "makeDefault"), ("policy", &p.identity)])
            .await
            .expect("default"),
    );
    assert!(policy(&app, "Field staff")
        .await
        .is_some_and(|p| p.is_default));
    assert!(policy(&app, &first_default.name)
        .await
        .is_some_and(|p| !p.is_default));
    let e = change(&app, &[("change", "delete"), ("policy", &p.identity)])
        .await
        .expect_err("the default stays");
    assert!(
        matches!(&e, ApiError::Invalid { field, .. } if field == "policy"),
        "{e:?}"
    );
    assert_eq!(sim.state().received("Remove-MobileDeviceMailboxPolicy"), 0);

    clean(
        &change(
            &app,
            &[
                ("change", "makeDefault"),
                ("policy", &first_default.identity),
            ],
        )
        .await
        .expect("default back"),
    );
    clean(
        &change(&app, &[("change", "delete"), ("policy", &p.identity)])
            .await
            .expect("deleted"),
    );
    assert!(policy(&app, "Field staff").await.is_none());
    let (cmdlet, params, _) = last_change(&app).await;
    assert_eq!(cmdlet, "Remove-MobileDeviceMailboxPolicy");
    assert_eq!(params["Confirm"], json!(false));
    let db = app.db().await;
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'exchangeChange' AND result = 'success' \
            AND cmdlet LIKE '%MobileDeviceMailboxPolicy' AND request_id IS NOT NULL",
    )
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(audited, 5);
}

/// What Exchange (the simulator) answers to `Set-MobileDeviceMailboxPolicy` with `key` =
/// `value`, sent directly.
async fn exchange_says(app: &TestApp, identity: &str, key: &str, value: Value) -> String {
    let answer = invoke(
        app,
        "Set-MobileDeviceMailboxPolicy",
        json!({"Identity": identity, key: value}),
    )
    .await;
    answer["error"]["details"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{key}={value}: refused, not {answer}"))
        .to_owned()
}

#[tokio::test]
async fn values_out_of_range_are_refused_at_their_field_in_exchanges_words_and_nothing_is_sent() {
    let app = TestApp::with_sim(10, 40).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let default = default_policy(&app).await;
    let cases: [(&str, &str, Value); 12] = [
        ("MinPasswordLength", "0", json!(0)),
        ("MinPasswordLength", "17", json!(17)),
        ("MaxPasswordFailedAttempts", "3", json!(3)),
        ("MaxPasswordFailedAttempts", "17", json!(17)),
        ("PasswordHistory", "51", json!(51)),
        ("MinPasswordComplexCharacters", "5", json!(5)),
        ("PasswordExpiration", "731.00:00:00", json!("731.00:00:00")),
        ("PasswordExpiration", "12:00:00", json!("12:00:00")),
        ("MaxInactivityTimeLock", "01:00:01", json!("01:00:01")),
        ("MaxInactivityTimeLock", "00:00:30", json!("00:00:30")),
        (
            "DevicePolicyRefreshInterval",
            "366.00:00:00",
            json!("366.00:00:00"),
        ),
        ("MaxEmailAgeFilter", "OneYear", json!("OneYear")),
    ];
    for (key, typed, sent) in cases {
        let field = format!("settings[{key}]");
        let e = change(
            &app,
            &[
                ("change", "save"),
                ("policy", &default.identity),
                (&field, typed),
            ],
        )
        .await
        .expect_err("refused");
        let ApiError::Invalid { field, message } = e else {
            panic!("{key}={typed}: {e:?}")
        };
        assert_eq!(field, key);
        let exchange = exchange_says(&app, &default.identity, key, sent).await;
        assert!(
            exchange.contains(&message),
            "{key}={typed}: the connector says {message:?}, Exchange says {exchange:?}"
        );
    }
    // Only the direct calls above reached Exchange.
    assert_eq!(sim.state().received("Set-MobileDeviceMailboxPolicy"), 12);
    for (fields, expected) in [
        (
            vec![("change", "save"), ("policy", "new"), ("name", "")],
            "name",
        ),
        (
            vec![
                ("change", "save"),
                ("policy", "new"),
                ("name", &default.name),
            ],
            "name",
        ),
        (
            vec![
                ("change", "save"),
                ("policy", "new"),
                ("name", "X"),
                ("settings[Colour]", "red"),
            ],
            "settings",
        ),
        (
            vec![("change", "delete"), ("policy", "no such policy")],
            "policy",
        ),
        (vec![("change", "rename"), ("policy", "x")], "change"),
    ] {
        let e = change(&app, &fields).await.expect_err("refused");
        assert!(
            matches!(&e, ApiError::Invalid { field, .. } if field == expected),
            "{fields:?}: {e:?}"
        );
    }
    assert_eq!(sim.state().received("New-MobileDeviceMailboxPolicy"), 0);

    let reader = app.signed_in(Role::Reader).await;
    let page: ExchangeAccess = call(&app, &reader, "exchange-access", &[])
        .await
        .expect("readers see the policies");
    assert!(!page.policies.is_empty());
    let e = call::<Value>(
        &app,
        &reader,
        "exchange-access/policy",
        &[("change", "delete"), ("policy", &default.identity)],
    )
    .await
    .expect_err("readers change nothing");
    assert_eq!(e.status_code(), 403);
}
