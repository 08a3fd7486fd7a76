//! The Exchange access page's changes over HTTP against the simulator: a preview computed from
//! the stored devices, then the change made in Exchange, read back and compared with the preview;
//! grandfathering; rules created, changed and deleted; bad input named by field with nothing
//! sent; readers refused.

use chrono::{DateTime, Duration, Utc};
use exchange_connector::error::ApiError;
use exchange_connector::model::{
    AccessChangeForm, AccessPreview, ActionReport, ChangeScope, DevicePage, ExchangeAccess, Role,
};
use exchange_connector::sim::{FaultKind, FaultRule};
use sqlx::{Row, SqlitePool};

use crate::helpers::{call_fn, call_with as call, settings_for, TestApp};

async fn preview(app: &TestApp, fields: &[(&str, &str)]) -> Result<AccessPreview, ApiError> {
    call(app, app.http(), "exchange-access/preview", fields).await
}

async fn apply(app: &TestApp, fields: &[(&str, &str)]) -> Result<ActionReport, ApiError> {
    call(app, app.http(), "exchange-access/apply", fields).await
}

fn clean(report: &ActionReport) {
    assert_eq!(report.calls_failed, 0, "{report:?}");
    assert!(report.differences.is_empty(), "{report:?}");
    assert!(report.read_back_run.is_some(), "{report:?}");
}

/// Present devices as stored: (guid, state, reason, model, last successful sync).
async fn devices(db: &SqlitePool) -> Vec<(String, String, String, String, Option<DateTime<Utc>>)> {
    sqlx::query(
        "SELECT guid, access_state, COALESCE(access_state_reason, ''), \
                COALESCE(device_model, ''), last_success_sync \
           FROM devices WHERE removed_at IS NULL ORDER BY guid",
    )
    .fetch_all(db)
    .await
    .expect("devices")
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

fn settings(level: &str, days: &str) -> Vec<(&'static str, String)> {
    vec![
        ("change", "settings".into()),
        ("default_access_level", level.into()),
        ("admin_mail_recipients", "mobile-admins@contoso.com".into()),
        ("user_mail_insert", "Call the help desk on 1234.".into()),
        ("ota_notification_mail_insert", String::new()),
        ("grandfather_days", days.into()),
    ]
}

fn encoded(pairs: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The device list a preview links to (200 a page; these tenants are smaller): its GUIDs, in
/// order, and what it says about the change.
async fn change_devices(
    app: &TestApp,
    form: &AccessChangeForm,
) -> (Vec<String>, Option<ChangeScope>) {
    let mut pairs = form.params();
    pairs.push(("limit", "200".into()));
    let (status, body) = call_fn(
        app.http(),
        &app.base_url,
        "devices/page",
        &[("query", &encoded(&pairs))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page: DevicePage = serde_json::from_str(&body).expect("a device page");
    assert!(page.next_cursor.is_none(), "one page");
    assert_eq!(page.total as usize, page.rows.len());
    let mut guids: Vec<String> = page.rows.into_iter().map(|r| r.guid).collect();
    guids.sort_unstable();
    (guids, page.change)
}

fn borrow<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn a_stricter_default_is_previewed_counted_grandfathered_and_exchange_agrees() {
    let app = TestApp::with_sim(80, 100).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let before = devices(&db).await;
    let since = Utc::now() - Duration::days(30);
    // What Exchange's order says: only devices the default decides move; of those, the allowed
    // ones that synced in the last 30 days are grandfathered.
    let moving: Vec<_> = before
        .iter()
        .filter(|d| d.2 == "Global" && d.1 != "DeviceDiscovery" && d.1 != "Blocked")
        .collect();
    let kept_allowed: Vec<_> = moving
        .iter()
        .filter(|d| d.1 == "Allowed" && d.4.is_some_and(|t| t >= since))
        .collect();
    assert!(
        !kept_allowed.is_empty(),
        "the demo tenant has recently synced devices"
    );
    assert!(
        moving.len() > kept_allowed.len(),
        "and some the default would move"
    );

    let form = settings("Block", "30");
    let p = preview(&app, &borrow(&form)).await.expect("preview");
    assert_eq!(
        p.changing as usize,
        moving.len() - kept_allowed.len(),
        "{p:?}"
    );
    assert_eq!(p.grandfathered as usize, kept_allowed.len(), "{p:?}");
    assert_eq!(
        p.by_new_state.iter().map(|s| s.count).sum::<u64>(),
        p.changing
    );
    assert!(p.by_new_state.iter().all(|s| s.state == "Blocked"), "{p:?}");
    assert!(
        p.summary
            .iter()
            .any(|s| s.contains("Default access level") && s.contains("Block")),
        "{p:?}"
    );
    assert!(
        p.kept.iter().any(|k| k.why.contains("rule")),
        "devices rules decide stay: {p:?}"
    );
    let kept: u64 = p.kept.iter().map(|k| k.devices).sum();
    assert_eq!(
        kept + p.changing + p.grandfathered,
        before.len() as u64,
        "every device is counted once"
    );
    assert_eq!(
        sim.state().received("Set-ActiveSyncOrganizationSettings"),
        0,
        "a preview sends nothing"
    );

    // The preview's device list holds exactly the devices it counts, the CSV too.
    let mut want: Vec<&str> = moving.iter().map(|d| d.0.as_str()).collect();
    want.sort_unstable();
    let (listed, scope) = change_devices(&app, &p.form).await;
    assert_eq!(listed, want);
    let scope = scope.expect("the list says which change");
    assert_eq!(scope.summary, p.summary);
    assert_eq!(scope.problem, None);
    let csv = app
        .http()
        .get(format!(
            "{}/conditional-access/devices.csv?{}",
            app.base_url,
            encoded(&p.form.params())
        ))
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("csv body");
    assert_eq!(text.lines().count(), want.len() + 1, "{text}");
    assert!(want.iter().all(|g| text.contains(g)));

    let report = apply(&app, &borrow(&form)).await.expect("apply");
    clean(&report);
    let after = devices(&db).await;
    let state_of = |guid: &str| {
        after
            .iter()
            .find(|d| d.0 == guid)
            .map(|d| (d.1.clone(), d.2.clone()))
    };
    for d in &kept_allowed {
        assert_eq!(
            state_of(&d.0),
            Some(("Allowed".into(), "Individual".into())),
            "grandfathered"
        );
    }
    for d in moving
        .iter()
        .filter(|d| !kept_allowed.iter().any(|k| k.0 == d.0))
    {
        assert_eq!(state_of(&d.0), Some(("Blocked".into(), "Global".into())));
    }
    let level: String = sqlx::query_scalar("SELECT default_access_level FROM exchange_settings")
        .fetch_one(&db)
        .await
        .expect("settings");
    assert_eq!(level, "Block", "the settings were read back");
    let recipients: String =
        sqlx::query_scalar("SELECT admin_mail_recipients FROM exchange_settings")
            .fetch_one(&db)
            .await
            .expect("settings");
    assert!(recipients.contains("mobile-admins@contoso.com"));

    // Audited: one Set-CASMailbox per grandfathered mailbox, then the settings, with request ids.
    let rows = sqlx::query(
        "SELECT cmdlet, request_id, result FROM audit_log WHERE action = 'exchangeChange' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .expect("audit");
    let last: String = rows.last().expect("rows").get("cmdlet");
    assert_eq!(last, "Set-ActiveSyncOrganizationSettings");
    assert_eq!(rows.len() as u64, p.grandfathered_mailboxes + 1);
    assert!(rows
        .iter()
        .all(|r| r.get::<Option<String>, _>("request_id").is_some()));
    assert!(rows
        .iter()
        .all(|r| r.get::<String, _>("result") == "success"));

    // The same form again changes nothing and sends nothing.
    let sent = sim.state().received("Set-ActiveSyncOrganizationSettings");
    let again = preview(&app, &borrow(&form)).await.expect("preview");
    assert!(again.no_change, "{again:?}");
    let refused = apply(&app, &borrow(&form))
        .await
        .expect_err("nothing to apply");
    assert!(
        matches!(refused, ApiError::Invalid { ref field, .. } if field == "change"),
        "{refused:?}"
    );
    assert_eq!(
        sim.state().received("Set-ActiveSyncOrganizationSettings"),
        sent
    );
}

#[tokio::test]
async fn a_rule_is_created_from_a_seen_value_changed_and_deleted_each_previewed_and_read_back() {
    let app = TestApp::with_sim(80, 100).await;
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let page: ExchangeAccess = call(&app, app.http(), "exchange-access", &[])
        .await
        .expect("page");
    assert!(page.can_change && page.unavailable.is_none(), "{page:?}");
    // A model the sync saw, offered with its count, that no rule covers yet.
    let before = devices(&db).await;
    let seen = page
        .suggestions
        .iter()
        .filter(|s| s.characteristic == "DeviceModel")
        .find(|s| {
            before
                .iter()
                .any(|d| d.3 == s.value && d.2 == "Global" && d.1 == "Allowed")
                && !page
                    .rules
                    .iter()
                    .any(|r| r.query_string.eq_ignore_ascii_case(&s.value))
        })
        .expect("a seen model decided by the default")
        .clone();
    assert_eq!(
        seen.devices as usize,
        before.iter().filter(|d| d.3 == seen.value).count(),
        "the count offered is the stored devices'"
    );
    let moving = before
        .iter()
        .filter(|d| d.3 == seen.value && d.2 == "Global" && d.1 == "Allowed")
        .count();
    let new = [
        ("change", "newRule"),
        ("characteristic", "DeviceModel"),
        ("query_string", seen.value.as_str()),
        ("access_level", "Quarantine"),
    ];
    let p = preview(&app, &new).await.expect("preview");
    assert_eq!(p.changing as usize, moving, "{p:?}");
    clean(&apply(&app, &new).await.expect("apply"));
    let name = format!("{} (DeviceModel)", seen.value);
    let page: ExchangeAccess = call(&app, app.http(), "exchange-access", &[])
        .await
        .expect("page");
    let rule = page
        .rules
        .iter()
        .find(|r| r.name == name)
        .expect("the new rule, read back");
    assert_eq!(rule.access_level, "Quarantine");
    assert_eq!(rule.decides as usize, moving, "{rule:?}");
    let quarantined: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM devices WHERE removed_at IS NULL AND device_model = ?1 \
            AND access_state = 'Quarantined' AND access_state_reason = 'DeviceRule'",
    )
    .bind(&seen.value)
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(quarantined as usize, moving);

    // A second rule for the same value is refused before anything is sent.
    let twice = preview(&app, &new).await.expect_err("duplicate");
    assert!(
        matches!(twice, ApiError::Invalid { ref field, .. } if field == "query_string"),
        "{twice:?}"
    );

    let level = [
        ("change", "ruleLevel"),
        ("rule", rule.identity.as_str()),
        ("access_level", "Block"),
    ];
    let p = preview(&app, &level).await.expect("preview");
    assert_eq!(p.changing as usize, moving);
    assert!(p.by_new_state.iter().all(|s| s.state == "Blocked"));
    clean(&apply(&app, &level).await.expect("apply"));
    let blocked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM devices WHERE removed_at IS NULL AND device_model = ?1 \
            AND access_state = 'Blocked' AND access_state_reason = 'DeviceRule'",
    )
    .bind(&seen.value)
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(blocked as usize, moving);

    let delete = [("change", "deleteRule"), ("rule", rule.identity.as_str())];
    let p = preview(&app, &delete).await.expect("preview");
    assert_eq!(p.changing as usize, moving, "back to the default (Allow)");
    assert_eq!(change_devices(&app, &p.form).await.0.len(), moving);
    clean(&apply(&app, &delete).await.expect("apply"));
    // A preview's device list kept from before: the rule is gone, so it lists nothing and
    // says why.
    let (listed, scope) = change_devices(&app, &p.form).await;
    assert!(listed.is_empty(), "{listed:?}");
    let problem = scope.and_then(|s| s.problem).expect("says why");
    assert!(problem.contains("no such rule"), "{problem}");
    let page: ExchangeAccess = call(&app, app.http(), "exchange-access", &[])
        .await
        .expect("page");
    assert!(
        !page.rules.iter().any(|r| r.name == name),
        "deleted in Exchange"
    );
    let after = devices(&db).await;
    assert_eq!(
        after
            .iter()
            .filter(|d| d.3 == seen.value && d.1 == "Allowed" && d.2 == "Global")
            .count(),
        moving
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT cmdlet FROM audit_log WHERE action = 'exchangeChange' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .expect("audit");
    assert_eq!(
        audited,
        [
            "New-ActiveSyncDeviceAccessRule",
            "Set-ActiveSyncDeviceAccessRule",
            "Remove-ActiveSyncDeviceAccessRule"
        ]
    );
}

#[tokio::test]
async fn bad_input_names_the_field_and_sends_nothing_and_readers_are_refused() {
    let app = TestApp::with_sim(20, 40).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let long = "x".repeat(257);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("change", "everything")], "change"),
        (
            vec![("change", "settings"), ("default_access_level", "Deny")],
            "default_access_level",
        ),
        (
            vec![
                ("change", "settings"),
                ("default_access_level", "Allow"),
                ("admin_mail_recipients", "ok@contoso.com, not-an-address"),
            ],
            "admin_mail_recipients",
        ),
        (
            vec![
                ("change", "settings"),
                ("default_access_level", "Allow"),
                ("user_mail_insert", &long),
            ],
            "user_mail_insert",
        ),
        (
            vec![
                ("change", "settings"),
                ("default_access_level", "Allow"),
                ("ota_notification_mail_insert", &long),
            ],
            "ota_notification_mail_insert",
        ),
        (
            vec![
                ("change", "settings"),
                ("default_access_level", "Block"),
                ("grandfather_days", "-3"),
            ],
            "grandfather_days",
        ),
        (
            vec![
                ("change", "newRule"),
                ("characteristic", "Colour"),
                ("query_string", "x"),
                ("access_level", "Block"),
            ],
            "characteristic",
        ),
        (
            vec![
                ("change", "newRule"),
                ("characteristic", "DeviceModel"),
                ("query_string", " "),
                ("access_level", "Block"),
            ],
            "query_string",
        ),
        (
            vec![
                ("change", "newRule"),
                ("characteristic", "DeviceModel"),
                ("query_string", "iPhone*"),
                ("access_level", "Block"),
            ],
            "query_string",
        ),
        (
            vec![
                ("change", "newRule"),
                ("characteristic", "DeviceModel"),
                ("query_string", "iPhone"),
                ("access_level", "Sometimes"),
            ],
            "access_level",
        ),
        (
            vec![("change", "deleteRule"), ("rule", "no such rule")],
            "rule",
        ),
    ];
    for (fields, expected) in cases {
        for function in ["exchange-access/preview", "exchange-access/apply"] {
            let e = call::<serde_json::Value>(&app, app.http(), function, &fields)
                .await
                .expect_err("refused");
            match &e {
                ApiError::Invalid { field, message } => {
                    assert_eq!(field, expected, "{function} {fields:?}: {message}");
                    assert!(!message.is_empty());
                }
                other => panic!("{function} {fields:?}: {other:?}"),
            }
        }
    }
    for cmdlet in [
        "Set-ActiveSyncOrganizationSettings",
        "New-ActiveSyncDeviceAccessRule",
        "Remove-ActiveSyncDeviceAccessRule",
        "Set-CASMailbox",
    ] {
        assert_eq!(sim.state().received(cmdlet), 0, "{cmdlet} was sent");
    }

    let reader = app.signed_in(Role::Reader).await;
    let page: ExchangeAccess = call(&app, &reader, "exchange-access", &[])
        .await
        .expect("readers see the page");
    assert!(!page.can_change);
    assert!(page.synced);
    for function in ["exchange-access/preview", "exchange-access/apply"] {
        let e = call::<serde_json::Value>(
            &app,
            &reader,
            function,
            &[("change", "deleteRule"), ("rule", "x")],
        )
        .await
        .expect_err("refused");
        assert_eq!(e.status_code(), 403, "{function}: {e:?}");
    }
}

/// A small deterministic generator (xorshift), so a failure repeats.
struct Draw(u64);

impl Draw {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[tokio::test]
async fn random_rule_and_default_changes_move_exactly_the_devices_their_preview_names() {
    let app = TestApp::with_sim(120, 150).await;
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let mut draw = Draw(0x5eed_cafe_f00d);
    let (mut applied, mut moved_in_all) = (0, 0);
    for round in 0..10 {
        let page: ExchangeAccess = call(&app, app.http(), "exchange-access", &[])
            .await
            .expect("page");
        let level = ["Allow", "Block", "Quarantine"][draw.next(3)];
        let before = devices(&db).await;
        // A rule on a value the sync saw, a level change, a deletion or a new default.
        let fields: Vec<(&'static str, String)> = match draw.next(4) {
            0 | 1 => {
                let seen: Vec<_> = page
                    .suggestions
                    .iter()
                    .filter(|s| {
                        !page.rules.iter().any(|r| {
                            r.characteristic == s.characteristic
                                && r.query_string.eq_ignore_ascii_case(&s.value)
                        })
                    })
                    .collect();
                let s = seen[draw.next(seen.len())];
                vec![
                    ("change", "newRule".into()),
                    ("characteristic", s.characteristic.clone()),
                    ("query_string", s.value.clone()),
                    ("access_level", level.into()),
                ]
            }
            2 if !page.rules.is_empty() => {
                let r = &page.rules[draw.next(page.rules.len())];
                if draw.next(2) == 0 {
                    vec![
                        ("change", "deleteRule".into()),
                        ("rule", r.identity.clone()),
                    ]
                } else {
                    vec![
                        ("change", "ruleLevel".into()),
                        ("rule", r.identity.clone()),
                        ("access_level", level.into()),
                    ]
                }
            }
            _ => {
                let mut f = settings(level, if draw.next(2) == 0 { "" } else { "30" });
                // Keep the recipients and texts Exchange has: only the default moves.
                f[2].1 = page.settings.admin_mail_recipients.join(", ");
                f[3].1 = page.settings.user_mail_insert.clone().unwrap_or_default();
                f[4].1 = page
                    .settings
                    .ota_notification_mail_insert
                    .clone()
                    .unwrap_or_default();
                f
            }
        };
        let fields = borrow(&fields);
        let p = preview(&app, &fields).await.expect("preview");
        if p.no_change {
            continue;
        }
        let report = apply(&app, &fields).await.expect("apply");
        assert!(
            report.differences.is_empty() && report.calls_failed == 0,
            "round {round} {fields:?}: {report:?}"
        );
        // Nothing else moved either.
        let after = devices(&db).await;
        let moved = before
            .iter()
            .filter(|b| after.iter().any(|a| a.0 == b.0 && a.1 != b.1))
            .count() as u64;
        // (Grandfathered devices stay Allowed: only their reason moves to Individual.)
        assert_eq!(moved, p.changing, "round {round} {fields:?}: {p:?}");
        applied += 1;
        moved_in_all += moved;
    }
    assert!(applied >= 6, "only {applied} rounds changed anything");
    assert!(moved_in_all > 0, "no round moved a device");
}

#[tokio::test]
async fn a_change_whose_browser_goes_away_is_still_made_audited_and_read_back() {
    let app = TestApp::with_sim(40, 40).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    sim.state().faults().push(
        FaultRule::always(FaultKind::Slow { delay_ms: 800 })
            .for_cmdlet("Set-ActiveSyncOrganizationSettings"),
    );
    let form = settings("Quarantine", "");
    // This browser gives up while Exchange is still answering.
    let gone = app
        .http()
        .post(format!("{}/api/exchange-access/apply", app.base_url))
        .header("accept", "application/json")
        .form(&borrow(&form))
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(
        gone.is_err_and(|e| e.is_timeout()),
        "the browser went away first"
    );
    let db = app.db().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE cmdlet = 'Set-ActiveSyncOrganizationSettings' \
                AND result = 'success' AND request_id IS NOT NULL",
        )
        .fetch_one(&db)
        .await
        .expect("audit");
        let level: Option<String> =
            sqlx::query_scalar("SELECT default_access_level FROM exchange_settings")
                .fetch_one(&db)
                .await
                .expect("settings");
        if audited == 1 && level.as_deref() == Some("Quarantine") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "audited {audited}, level {level:?}: the change stopped with the request"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Whether an apply ended with Exchange making every call.
fn made(answer: &Result<ActionReport, ApiError>) -> bool {
    answer
        .as_ref()
        .is_ok_and(|r| r.calls_failed == 0 && r.calls_done > 0)
}

/// The device access rules as Exchange lists them and as the connector stored them:
/// (name, level), by name.
async fn rules_both_sides(
    app: &TestApp,
    db: &SqlitePool,
) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let answer =
        crate::helpers::invoke(app, "Get-ActiveSyncDeviceAccessRule", serde_json::json!({})).await;
    let mut exchange: Vec<(String, String)> = answer["value"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|r| {
            (
                r["Name"].as_str().unwrap_or_default().to_owned(),
                r["AccessLevel"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    exchange.sort();
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT COALESCE(name, ''), COALESCE(access_level, '') FROM device_access_rules ORDER BY name")
            .fetch_all(db)
            .await
            .expect("stored rules");
    (exchange, stored)
}

#[tokio::test]
async fn two_admins_changing_one_rule_at_once_both_end_with_exchanges_last_answer() {
    let app = TestApp::with_sim(80, 100).await;
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let (a, b) = (
        app.signed_in(Role::Admin).await,
        app.signed_in(Role::Admin).await,
    );
    let page: ExchangeAccess = call(&app, &a, "exchange-access", &[]).await.expect("page");
    let seen = page
        .suggestions
        .iter()
        .find(|s| {
            s.characteristic == "DeviceModel"
                && !page
                    .rules
                    .iter()
                    .any(|r| r.query_string.eq_ignore_ascii_case(&s.value))
        })
        .expect("a model no rule covers")
        .clone();
    let name = format!("{} (DeviceModel)", seen.value);
    let new = |level: &'static str| {
        [
            ("change", "newRule"),
            ("characteristic", "DeviceModel"),
            ("query_string", seen.value.as_str()),
            ("access_level", level),
        ]
    };

    // Both create the same rule at once: one is made, the other refused (by the connector's
    // check or by Exchange), and one rule exists on both sides.
    let (new_a, new_b) = (new("Block"), new("Quarantine"));
    let (ra, rb) = tokio::join!(
        call::<ActionReport>(&app, &a, "exchange-access/apply", &new_a),
        call::<ActionReport>(&app, &b, "exchange-access/apply", &new_b),
    );
    assert!(made(&ra) != made(&rb), "exactly one is made: {ra:?} {rb:?}");
    let sent = app
        .sim
        .as_ref()
        .expect("sim")
        .state()
        .received("New-ActiveSyncDeviceAccessRule");
    assert_eq!(sent, 1, "the second is refused before anything is sent");
    let (exchange, stored) = rules_both_sides(&app, &db).await;
    assert_eq!(
        exchange.iter().filter(|r| r.0 == name).count(),
        1,
        "{exchange:?}"
    );
    assert_eq!(stored, exchange, "the connector stores what Exchange has");

    // Both change its level at once, to two different levels.
    let rule: ExchangeAccess = call(&app, &b, "exchange-access", &[]).await.expect("page");
    let rule = rule
        .rules
        .into_iter()
        .find(|r| r.name == name)
        .expect("the rule");
    let (one, two) = match rule.access_level.as_str() {
        "Allow" => ("Block", "Quarantine"),
        "Block" => ("Allow", "Quarantine"),
        _ => ("Allow", "Block"),
    };
    let level = |l: &'static str| {
        [
            ("change", "ruleLevel"),
            ("rule", rule.identity.as_str()),
            ("access_level", l),
        ]
    };
    let (la, lb) = (level(one), level(two));
    let (ra, rb) = tokio::join!(
        call::<ActionReport>(&app, &a, "exchange-access/apply", &la),
        call::<ActionReport>(&app, &b, "exchange-access/apply", &lb),
    );
    assert!(made(&ra) || made(&rb), "{ra:?} {rb:?}");
    // Exchange's last answer is what both see at their next read, and what is stored.
    let (exchange, stored) = rules_both_sides(&app, &db).await;
    assert_eq!(stored, exchange, "the connector stores what Exchange has");
    let last = exchange
        .iter()
        .find(|r| r.0 == name)
        .expect("the rule in Exchange")
        .1
        .clone();
    assert!([one, two].contains(&last.as_str()), "{last}");
    for who in [&a, &b] {
        let seen: ExchangeAccess = call(&app, who, "exchange-access", &[]).await.expect("page");
        let shown = seen
            .rules
            .iter()
            .find(|r| r.name == name)
            .expect("the rule");
        assert_eq!(shown.access_level, last);
    }
    // The devices of that model are stored in the state Exchange gives them.
    let tenant = crate::tenant::read_tenant(app.sim.as_ref().expect("sim")).await;
    let stored_states: Vec<(String, String)> = sqlx::query_as(
        "SELECT guid, access_state FROM devices WHERE removed_at IS NULL AND device_model = ?1 \
          ORDER BY guid",
    )
    .bind(&seen.value)
    .fetch_all(&db)
    .await
    .expect("stored devices");
    assert!(!stored_states.is_empty());
    for (guid, state) in &stored_states {
        assert_eq!(state, &tenant.devices[guid].access_state, "{guid}");
    }
    // Every call that reached Exchange is audited once, whoever made it.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'exchangeChange' AND cmdlet = 'Set-ActiveSyncDeviceAccessRule'",
    )
    .fetch_one(&db)
    .await
    .expect("audit");
    assert_eq!(
        audited as u64,
        app.sim
            .as_ref()
            .expect("sim")
            .state()
            .received("Set-ActiveSyncDeviceAccessRule")
    );
}

#[tokio::test]
async fn a_write_cut_off_by_a_server_stop_is_audited_at_the_next_start_as_of_unknown_outcome() {
    let app = TestApp::with_sim(40, 40).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let journaled = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM exchange_write_journal")
            .fetch_one(&db)
            .await
            .expect("journal")
    };
    let audited = |detail: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_as::<_, (String, String, Option<String>)>(
                "SELECT cmdlet, result, detail FROM audit_log \
                  WHERE cmdlet = 'Set-ActiveSyncOrganizationSettings' AND detail LIKE ?1 ORDER BY id",
            )
            .bind(format!("{detail}%"))
            .fetch_all(&db)
            .await
            .expect("audit")
        }
    };
    // A change that goes through leaves nothing in the journal.
    clean(
        &apply(&app, &borrow(&settings("Quarantine", "")))
            .await
            .expect("apply"),
    );
    assert_eq!(journaled().await, 0);

    // Exchange takes its time; the write is journaled before it is sent …
    sim.state().faults().push(
        FaultRule::always(FaultKind::Slow { delay_ms: 4000 })
            .for_cmdlet("Set-ActiveSyncOrganizationSettings"),
    );
    let form = settings("Allow", "");
    let in_flight = {
        let client = app.http().clone();
        let url = format!("{}/api/exchange-access/apply", app.base_url);
        let form = form.clone();
        tokio::spawn(async move {
            let _ = client
                .post(url)
                .header("accept", "application/json")
                .form(&form)
                .send()
                .await;
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while journaled().await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "journaled before it is sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        audited("").await.len() == 1,
        "not yet audited: only the first change is"
    );

    // … and the server "stops" here: a new start on the same database audits the write whose
    // answer never came, as a failure of unknown outcome, and closes the journal.
    let again = TestApp::reopen(&app, settings_for(sim)).await;
    assert_eq!(journaled().await, 0);
    let unknown = audited("The server stopped while this call was with Exchange").await;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].1, "failure");
    assert!(
        unknown[0]
            .2
            .as_deref()
            .unwrap_or_default()
            .contains("sent at"),
        "{unknown:?}"
    );
    drop(again);
    in_flight.abort();
}
