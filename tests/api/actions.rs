//! Device actions over HTTP against the simulator: each change is made in Exchange (the
//! simulator's tenant says so), read back by a quick sync, audited with its cmdlet,
//! parameters and request id; bad input sends nothing; readers and denied cmdlets are refused.

use exchange_connector::error::ApiError;
use exchange_connector::model::{ActionReport, DeviceAction, DeviceDetails, Role};
use exchange_connector::sim::{FaultKind, FaultRule};
use sqlx::{Row, SqlitePool};

use std::time::Duration;

use crate::helpers::{call_fn, settings_for, start_sim, Events, TestApp};
use crate::tenant::read_tenant;

/// A present device of `db` matching `condition` (SQL on `devices`): its GUID.
async fn pick(db: &SqlitePool, condition: &str) -> String {
    sqlx::query_scalar(&format!(
        "SELECT guid FROM devices WHERE removed_at IS NULL AND {condition} ORDER BY guid LIMIT 1"
    ))
    .fetch_one(db)
    .await
    .unwrap_or_else(|e| panic!("a device where {condition}: {e}"))
}

/// State, reason, removed and statistics status of `guid` as stored.
async fn stored(db: &SqlitePool, guid: &str) -> (String, Option<String>, bool, Option<String>) {
    let r = sqlx::query(
        "SELECT access_state, access_state_reason, removed_at IS NOT NULL AS removed, \
                sync_status FROM devices WHERE guid = ?1",
    )
    .bind(guid)
    .fetch_one(db)
    .await
    .expect("device");
    (
        r.get("access_state"),
        r.get("access_state_reason"),
        r.get("removed"),
        r.get("sync_status"),
    )
}

/// The first `n` present devices by GUID, and their mailboxes (each once).
async fn first_devices(db: &SqlitePool, n: u32) -> (Vec<String>, Vec<String>) {
    let rows = sqlx::query(
        "SELECT guid, substr(identity, 1, instr(identity, '\\') - 1) AS mailbox FROM devices \
          WHERE removed_at IS NULL ORDER BY guid LIMIT ?1",
    )
    .bind(n)
    .fetch_all(db)
    .await
    .expect("devices");
    let guids = rows.iter().map(|r| r.get("guid")).collect();
    let mut mailboxes: Vec<String> = rows.iter().map(|r| r.get("mailbox")).collect();
    mailboxes.sort();
    mailboxes.dedup();
    (guids, mailboxes)
}

async fn act(
    app: &TestApp,
    client: &reqwest::Client,
    devices: &str,
    action: DeviceAction,
    confirmation: &str,
) -> Result<ActionReport, ApiError> {
    let (status, body) = call_fn(
        client,
        &app.base_url,
        "devices/act",
        &[
            ("devices", devices),
            ("action", action.as_str()),
            ("confirmation", confirmation),
        ],
    )
    .await;
    if status == 200 {
        return Ok(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")));
    }
    let error: ApiError = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(status, error.status_code(), "{error:?}");
    Err(error)
}

async fn details(app: &TestApp, client: &reqwest::Client, guid: &str) -> DeviceDetails {
    let (status, body) = call_fn(client, &app.base_url, "devices/device", &[("id", guid)]).await;
    assert_eq!(status, 200, "{body}");
    let d: Option<DeviceDetails> = serde_json::from_str(&body).expect("details");
    d.expect("the device")
}

fn clean(report: &ActionReport) {
    assert_eq!(report.calls_failed, 0, "{report:?}");
    assert!(report.differences.is_empty(), "{report:?}");
    assert!(report.read_back_run.is_some(), "{report:?}");
}

#[tokio::test]
async fn block_then_allow_then_clear_moves_the_device_in_exchange_and_on_the_page() {
    let app = TestApp::with_sim(80, 100).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let guid = pick(
        &db,
        "access_state = 'Allowed' AND access_state_reason IN ('Global', 'DeviceRule')",
    )
    .await;
    let before = sim.state().received("Set-CASMailbox");

    let blocked = act(&app, app.http(), &guid, DeviceAction::Block, "").await;
    clean(&blocked.expect("block"));
    let (state, reason, _, _) = stored(&db, &guid).await;
    assert_eq!(
        (state.as_str(), reason.as_deref()),
        ("Blocked", Some("Individual"))
    );
    assert_eq!(
        read_tenant(sim).await.devices[&guid].access_state,
        "Blocked",
        "Exchange has it blocked"
    );

    // Allow after Block: one call that adds to the allowed list AND removes from the blocked
    // one (adding alone would leave it blocked).
    let allowed = act(&app, app.http(), &guid, DeviceAction::Allow, "").await;
    clean(&allowed.expect("allow"));
    let (state, reason, _, _) = stored(&db, &guid).await;
    assert_eq!(
        (state.as_str(), reason.as_deref()),
        ("Allowed", Some("Individual"))
    );
    assert_eq!(sim.state().received("Set-CASMailbox"), before + 2);
    let page = details(&app, app.http(), &guid).await;
    let options = page.actions.expect("an admin sees the actions");
    let allow = options.iter().find(|o| o.action == DeviceAction::Allow);
    assert!(allow.is_some_and(|o| o.disabled.is_some()), "{options:?}");

    let cleared = act(&app, app.http(), &guid, DeviceAction::ClearIndividual, "").await;
    clean(&cleared.expect("clear"));
    let (_, reason, _, _) = stored(&db, &guid).await;
    assert_ne!(
        reason.as_deref(),
        Some("Individual"),
        "the rules decide again"
    );

    // Every call is in the audit log with its cmdlet, parameters and Exchange's request id.
    let rows = sqlx::query(
        "SELECT cmdlet, parameters, result, request_id, actor FROM audit_log \
          WHERE action = 'deviceAction' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .expect("audit");
    assert_eq!(rows.len(), 3);
    let device_id: String = sqlx::query_scalar("SELECT device_id FROM devices WHERE guid = ?1")
        .bind(&guid)
        .fetch_one(&db)
        .await
        .expect("device id");
    for r in &rows {
        assert_eq!(r.get::<String, _>("cmdlet"), "Set-CASMailbox");
        assert_eq!(r.get::<String, _>("result"), "success");
        assert!(r.get::<String, _>("parameters").contains(&device_id));
        assert!(r.get::<Option<String>, _>("request_id").is_some());
        assert!(r.get::<Option<String>, _>("actor").is_some());
    }
    assert!(rows[1]
        .get::<String, _>("parameters")
        .contains("ActiveSyncBlockedDeviceIDs"));
}

#[tokio::test]
async fn remove_and_wipe_need_the_typed_word_and_show_exchanges_answer() {
    let app = TestApp::with_sim(80, 100).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let guid = pick(
        &db,
        "access_state = 'Allowed' AND is_remote_wipe_supported = 1",
    )
    .await;

    for word in ["", "remove", "WIPE"] {
        let refused = act(&app, app.http(), &guid, DeviceAction::Remove, word).await;
        assert!(
            matches!(&refused, Err(ApiError::Invalid { field, .. }) if field == "confirmation"),
            "{refused:?}"
        );
    }
    assert_eq!(
        sim.state().received("Remove-MobileDevice"),
        0,
        "nothing sent"
    );

    let wiped = act(&app, app.http(), &guid, DeviceAction::Wipe, "WIPE").await;
    clean(&wiped.expect("wipe"));
    let (_, _, removed, status) = stored(&db, &guid).await;
    assert!(!removed);
    assert_eq!(status.as_deref(), Some("DeviceWipePending"));
    let page = details(&app, app.http(), &guid).await;
    assert!(page.device_wipe_request_time.is_some());
    let cancelled = act(&app, app.http(), &guid, DeviceAction::CancelWipe, "").await;
    clean(&cancelled.expect("cancel"));
    let (_, _, _, status) = stored(&db, &guid).await;
    assert_ne!(status.as_deref(), Some("DeviceWipePending"));

    let removed = act(&app, app.http(), &guid, DeviceAction::Remove, "REMOVE").await;
    clean(&removed.expect("remove"));
    assert!(
        stored(&db, &guid).await.2,
        "read back: the partnership is gone"
    );
    assert!(!read_tenant(sim).await.devices.contains_key(&guid));
    // Gone: nothing more can be done to it, and nothing is sent.
    let again = act(&app, app.http(), &guid, DeviceAction::Block, "").await;
    assert!(
        matches!(&again, Err(ApiError::Invalid { field, .. }) if field == "devices"),
        "{again:?}"
    );
}

#[tokio::test]
async fn an_account_only_wipe_is_refused_below_eas_16_1_before_anything_is_sent() {
    let app = TestApp::with_sim(120, 200).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let wipeable = "is_remote_wipe_supported = 1 AND client_version_key";
    let old = pick(&db, &format!("{wipeable} < 16001")).await;
    let new = pick(&db, &format!("{wipeable} >= 16001")).await;

    let refused = act(
        &app,
        app.http(),
        &old,
        DeviceAction::AccountOnlyWipe,
        "WIPE",
    )
    .await;
    match refused {
        Err(ApiError::Invalid { field, message }) => {
            assert_eq!(field, "action");
            assert!(message.contains("16.1"), "{message}");
        }
        other => panic!("refused, got {other:?}"),
    }
    // A selection with one old device sends nothing for the others either.
    let both = format!("{new},{old}");
    assert!(act(
        &app,
        app.http(),
        &both,
        DeviceAction::AccountOnlyWipe,
        "WIPE"
    )
    .await
    .is_err());
    assert_eq!(sim.state().received("Clear-MobileDevice"), 0);

    let wiped = act(
        &app,
        app.http(),
        &new,
        DeviceAction::AccountOnlyWipe,
        "WIPE",
    )
    .await;
    clean(&wiped.expect("account-only wipe"));
    assert_eq!(
        stored(&db, &new).await.3.as_deref(),
        Some("AccountOnlyDeviceWipePending")
    );
}

#[tokio::test]
async fn a_bulk_action_makes_one_call_per_mailbox_and_reports_exchanges_refusals() {
    let app = TestApp::with_sim(120, 200).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let (guids, mailboxes) = first_devices(&db, 40).await;
    assert!(mailboxes.len() > 5 && mailboxes.len() < guids.len());

    // One answer cannot be read (a write is never repeated: it may have happened): the
    // other calls still go, and the report says which failed.
    sim.state()
        .faults()
        .push(FaultRule::times(FaultKind::MalformedJson, 1).for_cmdlet("Set-CASMailbox"));
    let before = sim.state().received("Set-CASMailbox");
    let report = act(&app, app.http(), &guids.join(" "), DeviceAction::Block, "")
        .await
        .expect("block");
    let calls = sim.state().received("Set-CASMailbox") - before;
    assert_eq!(report.devices, 40);
    assert_eq!(
        report.calls_done + report.calls_failed,
        mailboxes.len() as u32,
        "one call per mailbox: {report:?}"
    );
    assert_eq!(report.calls_failed, 1, "{report:?}");
    assert_eq!(report.failures.len(), 1);
    assert_eq!(calls, mailboxes.len() as u64, "no write repeated");
    let blocked: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM devices WHERE access_state = 'Blocked' \
            AND access_state_reason = 'Individual' AND guid IN ({})",
        guids
            .iter()
            .map(|g| format!("'{g}'"))
            .collect::<Vec<_>>()
            .join(",")
    ))
    .fetch_one(&db)
    .await
    .expect("count");
    // The unreadable answer's write went through in the simulator: Exchange's state, read
    // back, is what counts (devices a mailbox policy or Intune decides stay as they are).
    assert!(blocked >= 35, "{blocked}");
    let tenant = read_tenant(sim).await;
    for guid in &guids {
        let (state, _, _, _) = stored(&db, guid).await;
        assert_eq!(
            state, tenant.devices[guid].access_state,
            "{guid}: as Exchange says"
        );
    }
    let failures: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'deviceAction' AND result = 'failure'",
    )
    .fetch_one(&db)
    .await
    .expect("audit");
    assert_eq!(failures, 1);
}

#[tokio::test]
async fn bad_input_names_the_field_and_sends_nothing() {
    let app = TestApp::with_sim(20, 100).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let guid = pick(&db, "1 = 1").await;
    let too_many: Vec<String> = (0..501).map(|i| format!("{i:08x}")).collect();
    let cases: [(&str, &str, &str); 5] = [
        ("", "block", "devices"),
        ("00000000-0000-0000-0000-000000000000", "block", "devices"),
        (&guid, "explode", "action"),
        (&too_many.join(","), "block", "devices"),
        (&guid, "wipe", "confirmation"),
    ];
    for (devices, action, field) in cases {
        let (status, body) = call_fn(
            app.http(),
            &app.base_url,
            "devices/act",
            &[("devices", devices), ("action", action)],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        let error: ApiError = serde_json::from_str(&body).expect("error");
        assert!(
            matches!(&error, ApiError::Invalid { field: f, .. } if f == field),
            "{action}: {error:?}"
        );
    }
    let writes: u64 = [
        "Set-CASMailbox",
        "Clear-MobileDevice",
        "Remove-MobileDevice",
    ]
    .iter()
    .map(|c| sim.state().received(c))
    .sum();
    assert_eq!(writes, 0);
}

#[tokio::test]
async fn readers_see_no_actions_and_are_refused() {
    let app = TestApp::with_sim(20, 100).await;
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let guid = pick(&db, "1 = 1").await;
    let reader = app.signed_in(Role::Reader).await;
    assert!(details(&app, &reader, &guid).await.actions.is_none());
    let refused = act(&app, &reader, &guid, DeviceAction::Block, "").await;
    assert!(
        matches!(refused, Err(ApiError::Forbidden { .. })),
        "{refused:?}"
    );
    assert!(details(&app, app.http(), &guid).await.actions.is_some());
}

#[tokio::test]
async fn a_denied_optional_cmdlet_disables_its_actions_and_the_checklist_says_optional() {
    let sim = start_sim(20, 11).await;
    sim.state().set_denied("Clear-MobileDevice").expect("rbac");
    let settings = settings_for(&sim);
    let app = TestApp::spawn(settings, 1000, Some(sim)).await;
    app.set_up()
        .await
        .expect("set-up works without an optional cmdlet");
    let db = app.db().await;
    let guid = pick(&db, "1 = 1").await;
    let options = details(&app, app.http(), &guid)
        .await
        .actions
        .expect("actions");
    for o in &options {
        let needs = o.action.cmdlet() == "Clear-MobileDevice";
        let denied = o
            .disabled
            .as_deref()
            .is_some_and(|d| d.contains("Clear-MobileDevice"));
        assert_eq!(needs, denied, "{o:?}");
    }
    let refused = act(&app, app.http(), &guid, DeviceAction::Wipe, "WIPE").await;
    match refused {
        Err(ApiError::Conflict { message }) => assert!(message.contains("Clear-MobileDevice")),
        other => panic!("refused, got {other:?}"),
    }
    let info: exchange_connector::model::SetUpInfo =
        app.call("connector/set-up-info").await.expect("info");
    let checks = info.checks;
    let clear = checks
        .iter()
        .find(|c| c.cmdlet == "Clear-MobileDevice")
        .expect("listed");
    assert!(clear.optional && clear.allowed == Some(false), "{clear:?}");
    assert!(checks
        .iter()
        .filter(|c| !c.optional)
        .all(|c| c.allowed == Some(true)));
}

#[tokio::test]
async fn a_bulk_action_shows_its_calls_on_the_live_stream_as_exchange_answers_them() {
    let app = TestApp::with_sim(120, 200).await;
    let sim = app.sim.as_ref().expect("sim");
    app.set_up().await.expect("set-up");
    let db = app.db().await;
    let (guids, mailboxes) = first_devices(&db, 30).await;
    // Exchange answers each call in 150 ms: the calls come in over about a second.
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 150 }).for_cmdlet("Set-CASMailbox"));
    // The read-back (a quick sync) outlasts the stream's coalescing window (150 ms), so that the
    // watcher sees it however fast the machine and the loopback answer.
    sim.state()
        .faults()
        .push(FaultRule::always(FaultKind::Slow { delay_ms: 400 }).for_cmdlet("Get-MobileDevice"));
    // Another admin watches the live stream while the action runs.
    let watcher = app.signed_in(Role::Reader).await;
    let mut events = Events::open_with(&app, &watcher).await;
    let running = {
        let (base, client, guids) = (app.base_url.clone(), app.http().clone(), guids.join(" "));
        tokio::spawn(async move {
            call_fn(
                &client,
                &base,
                "devices/act",
                &[
                    ("devices", &guids),
                    ("action", "block"),
                    ("confirmation", ""),
                ],
            )
            .await
        })
    };
    let total = mailboxes.len() as u32;
    // The answered calls as the stream tells them, up to the read-back.
    let mut answered = Vec::new();
    let change = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let status = events.next().await.expect("the stream goes on");
            if let Some(c) = status.changes.first() {
                answered.push(c.calls_done + c.calls_failed);
                if c.reading_back {
                    return c.clone();
                }
            }
        }
    })
    .await
    .expect("the read-back is announced");
    assert!(
        answered.windows(2).all(|w| w[0] <= w[1]),
        "never backwards: {answered:?}"
    );
    assert!(
        answered.iter().any(|n| *n > 0 && *n < total),
        "calls shown as they are answered: {answered:?} of {total}"
    );
    assert_eq!(change.what, "Block · 30 devices");
    assert_eq!(change.calls_total, total);
    assert_eq!(change.calls_done + change.calls_failed, total);
    assert!(
        change
            .by
            .as_deref()
            .is_some_and(|b| b.starts_with("admin-")),
        "{change:?}"
    );
    let (status, body) = running.await.expect("the action");
    assert_eq!(status, 200, "{body}");
    // Once it ended, the stream says so.
    events
        .until(Duration::from_secs(20), |s| s.changes.is_empty())
        .await;
}
