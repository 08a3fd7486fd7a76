//! The audit log: what a sync start records, the page's server function (paging, filters), the
//! CSV download, who may read it, and the database keeping it append-only.

use chrono::{DateTime, Utc};
use exchange_connector::model::{AuditAction, AuditPage, AuditResult, Role, SessionUser, SyncKind};
use sqlx::SqlitePool;

use crate::helpers::TestApp;

const PAGE_FN: &str = "audit-log/page";
const CSV_PATH: &str = "/admin/audit-log.csv";

/// Posts `form` to the audit log's server function as the hydrated page does: status, body.
async fn post_page(
    app: &TestApp,
    client: &reqwest::Client,
    form: &[(&str, &str)],
) -> (u16, String) {
    crate::helpers::call_fn(client, &app.base_url, PAGE_FN, form).await
}

/// One page of the audit log as the signed-in admin sees it.
async fn page(app: &TestApp, form: &[(&str, &str)]) -> AuditPage {
    let (status, body) = post_page(app, app.http(), form).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad page {e}: {body}"))
}

async fn get_csv(client: &reqwest::Client, app: &TestApp, query: &str) -> (u16, String) {
    let r = client
        .get(format!("{}{CSV_PATH}{query}", app.base_url))
        .send()
        .await
        .expect("the download answers");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// Appends an entry straight into the table (inserting is what the log allows).
async fn insert(db: &SqlitePool, at: &str, actor: &str, action: AuditAction, result: AuditResult) {
    let at: DateTime<Utc> = at.parse().expect("an RFC 3339 time");
    sqlx::query(
        "INSERT INTO audit_log (at, actor, source_address, action, target, result, detail) \
         VALUES (?1, ?2, '10.1.2.3', ?3, 'connector', ?4, ?5)",
    )
    .bind(at)
    .bind(actor)
    .bind(action.as_str())
    .bind(result.as_str())
    .bind(format!("{actor} at {at}"))
    .execute(db)
    .await
    .expect("insert");
}

/// Five entries by Fabrikam people on three days of January 2026 (two at the same instant).
async fn seed(db: &SqlitePool) {
    use AuditAction::{SettingsChange, SignIn, SignInFailed};
    use AuditResult::{Denied, Failure, Success};
    insert(
        db,
        "2026-01-01T09:00:00Z",
        "pat@Fabrikam.test",
        SignIn,
        Success,
    )
    .await;
    insert(
        db,
        "2026-01-02T09:00:00Z",
        "=cmd|' /C calc'!A0@fabrikam.test",
        SignInFailed,
        Denied,
    )
    .await;
    insert(
        db,
        "2026-01-02T12:00:00Z",
        "sam@fabrikam.test",
        SettingsChange,
        Failure,
    )
    .await;
    insert(
        db,
        "2026-01-02T12:00:00Z",
        "pat@fabrikam.test",
        SettingsChange,
        Success,
    )
    .await;
    insert(
        db,
        "2026-01-03T23:59:59.999Z",
        "PAT@FABRIKAM.TEST",
        SignIn,
        Success,
    )
    .await;
}

#[tokio::test]
async fn starting_a_sync_records_the_admin_and_address_and_a_start_during_the_run_is_denied() {
    let app = TestApp::with_sim(30, 10).await;
    app.set_up().await.expect("set-up");
    // Slow device pages: a run lasts long enough to start another during it.
    app.slow_device_pages(300);
    let me: Option<SessionUser> = app.call("auth/me").await.expect("me");
    let me = me.expect("signed in").email;
    let start = || {
        app.http()
            .post(format!("{}/api/connector/sync", app.base_url))
            .header("accept", "application/json")
            .form(&[("kind", "fullSync")])
            .send()
    };

    let started = start().await.expect("answer");
    assert_eq!(started.status(), 200);
    let run_id: String = started.json().await.expect("the run id");
    let syncs = [("filter[action]", "syncStart")];
    let first = page(&app, &syncs).await.entries;
    assert_eq!(first.len(), 1, "one entry per start: {first:?}");
    let entry = &first[0];
    assert_eq!(entry.action, AuditAction::SyncStart);
    assert_eq!(entry.actor.as_deref(), Some(me.as_str()));
    assert_eq!(entry.source_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(entry.target.as_deref(), Some(SyncKind::FullSync.as_str()));
    assert_eq!(entry.result, AuditResult::Success);
    assert_eq!(
        entry.detail.as_deref(),
        Some(format!("run {run_id}").as_str())
    );

    let refused = start().await.expect("answer");
    assert_eq!(refused.status(), 409, "a sync is running");
    let both = page(&app, &syncs).await.entries;
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(both[0].result, AuditResult::Denied, "newest first");
    assert_eq!(both[0].actor.as_deref(), Some(me.as_str()));
    assert_eq!(
        both[0].detail.as_deref(),
        Some("A sync is already running.")
    );
    assert_eq!(both[1], *entry);
    app.control.wait_idle().await;
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_and_filters_by_action_result_actor_and_days() {
    let app = TestApp::with_sim(5, 10).await;
    seed(&app.db().await).await;
    let fabrikam = ("filter[actor]", "FABRIKAM");

    let first = page(&app, &[fabrikam, ("limit", "2")]).await;
    assert_eq!(first.entries.len(), 2);
    let cursor = first.next_cursor.clone().expect("more entries");
    let second = page(&app, &[fabrikam, ("limit", "2"), ("cursor", &cursor)]).await;
    assert_eq!(second.entries.len(), 2);
    let cursor = second.next_cursor.clone().expect("one more");
    let third = page(&app, &[fabrikam, ("limit", "2"), ("cursor", &cursor)]).await;
    assert_eq!(third.entries.len(), 1);
    assert!(third.next_cursor.is_none());
    let all: Vec<_> = first
        .entries
        .iter()
        .chain(&second.entries)
        .chain(&third.entries)
        .collect();
    assert!(
        all.windows(2)
            .all(|w| (w[0].at, w[0].id) > (w[1].at, w[1].id)),
        "newest first, the later entry first at the same instant: {all:?}"
    );
    assert_eq!(all[0].actor.as_deref(), Some("PAT@FABRIKAM.TEST"));
    // The two entries of 12:00 fall on different pages: the cursor splits them by id.
    assert_eq!(all[1].at, all[2].at);
    assert_eq!(all[1].actor.as_deref(), Some("pat@fabrikam.test"));

    let actors =
        |p: AuditPage| -> Vec<String> { p.entries.into_iter().filter_map(|e| e.actor).collect() };
    let settings = page(&app, &[fabrikam, ("filter[action]", "settingsChange")]).await;
    assert_eq!(actors(settings), ["pat@fabrikam.test", "sam@fabrikam.test"]);
    let failed = page(&app, &[fabrikam, ("filter[result]", "failure")]).await;
    assert_eq!(actors(failed), ["sam@fabrikam.test"]);
    let pat = page(&app, &[("filter[actor]", "pat@fabrikam")]).await;
    assert_eq!(pat.entries.len(), 3, "any case: {pat:?}");
    let sign_ins = page(
        &app,
        &[("filter[actor]", "pat@"), ("filter[action]", "signIn")],
    )
    .await;
    assert_eq!(sign_ins.entries.len(), 2);
    let days = page(
        &app,
        &[
            fabrikam,
            ("filter[from]", "2026-01-02"),
            ("filter[to]", "2026-01-03"),
        ],
    )
    .await;
    assert_eq!(days.entries.len(), 4, "both days whole, in UTC: {days:?}");
    let one_day = page(&app, &[fabrikam, ("filter[to]", "2026-01-01")]).await;
    assert_eq!(actors(one_day), ["pat@Fabrikam.test"]);
    let wildcard = page(&app, &[("filter[actor]", "%")]).await;
    assert!(wildcard.entries.is_empty(), "a % is a %, not a wildcard");
}

#[tokio::test]
async fn the_csv_download_has_a_header_row_and_the_filtered_entries_with_formulas_disarmed() {
    let app = TestApp::with_sim(5, 10).await;
    seed(&app.db().await).await;

    let (status, csv) = get_csv(
        app.http(),
        &app,
        "?actor=fabrikam&action=signInFailed&result=",
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "time,actor,source_address,action,target,cmdlet,parameters,result,detail,request_id"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with("2026-01-02T09:00:00.000Z,'=cmd|' /C calc'!A0@fabrikam.test,10.1.2.3,signInFailed,connector,,,denied,"),
        "{}",
        lines[1]
    );

    let (_, days) = get_csv(
        app.http(),
        &app,
        "?actor=fabrikam&from=2026-01-02&to=2026-01-02",
    )
    .await;
    assert_eq!(
        days.split("\r\n").filter(|l| !l.is_empty()).count(),
        4,
        "{days}"
    );
    let (_, unknown) = get_csv(app.http(), &app, "?actor=fabrikam&action=exploded").await;
    assert_eq!(
        unknown.lines().count(),
        6,
        "an unknown value is no filter: {unknown}"
    );
}

#[tokio::test]
async fn readers_get_403_and_anonymous_people_401_from_the_audit_log() {
    let app = TestApp::with_sim(5, 10).await;
    let reader = app.signed_in(Role::Reader).await;
    let anonymous = reqwest::Client::new();

    assert_eq!(post_page(&app, &reader, &[]).await.0, 403);
    assert_eq!(post_page(&app, &anonymous, &[]).await.0, 401);
    assert_eq!(get_csv(&reader, &app, "").await.0, 403);
    assert_eq!(get_csv(&anonymous, &app, "").await.0, 401);
    assert_eq!(post_page(&app, app.http(), &[]).await.0, 200);
    assert_eq!(get_csv(app.http(), &app, "").await.0, 200);
}

#[tokio::test]
async fn the_audit_log_page_shows_the_filtered_entries_without_javascript() {
    let app = TestApp::with_sim(5, 10).await;
    seed(&app.db().await).await;
    let (status, html) = app
        .get_html("/admin/audit-log?actor=sam%40fabrikam&result=failure")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("data-testid=\"audit-row\"").count(),
        1,
        "{html}"
    );
    assert!(html.contains("data-action=\"settingsChange\""), "{html}");
    assert!(html.contains("/admin/audit-log.csv?result=failure&amp;actor=sam%40fabrikam"));
    let (_, none) = app.get_html("/admin/audit-log?actor=nobody-at-all").await;
    assert!(none.contains("No entries match these filters."));
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_audit_entries() {
    let app = TestApp::with_sim(5, 10).await;
    let db = app.db().await;
    insert(
        &db,
        "2026-01-01T00:00:00Z",
        "x@fabrikam.test",
        AuditAction::SignIn,
        AuditResult::Success,
    )
    .await;

    let update = sqlx::query("UPDATE audit_log SET detail = 'rewritten'")
        .execute(&db)
        .await;
    let delete = sqlx::query("DELETE FROM audit_log").execute(&db).await;
    for refused in [update, delete] {
        let error = refused.expect_err("the log is append-only");
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    let rewritten: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE detail = 'rewritten'")
            .fetch_one(&db)
            .await
            .expect("count");
    assert_eq!(rewritten, 0);
}

#[tokio::test]
async fn the_csv_download_streams_thousands_of_entries_in_order_without_gaps_or_repeats() {
    let app = TestApp::with_sim(1, 10).await;
    let db = app.db().await;
    // 2,400 entries, several sharing each instant: the export reads them 500 at a time, and a
    // batch that ends inside a group of equal times must neither skip nor repeat one.
    let mut q = String::from(
        "INSERT INTO audit_log (at, actor, source_address, action, target, result, detail) VALUES ",
    );
    for i in 0..2_400 {
        if i > 0 {
            q.push(',');
        }
        let second = i / 3;
        q.push_str(&format!(
            "('2026-01-01T{:02}:{:02}:{:02}.000Z', 'bulk-{i}@fabrikam.test', '10.0.0.1', \
             'signIn', NULL, 'success', NULL)",
            second / 3600,
            (second / 60) % 60,
            second % 60
        ));
    }
    sqlx::query(&q).execute(&db).await.expect("insert");

    let r = app
        .http()
        .get(format!("{}{CSV_PATH}?actor=bulk-", app.base_url))
        .send()
        .await
        .expect("the download answers");
    assert_eq!(r.status(), 200);
    // Streamed, not built whole first: no length is known in advance.
    assert!(
        r.headers().get("content-length").is_none(),
        "{:?}",
        r.headers()
    );
    let body = r.text().await.expect("body");
    let actors: Vec<&str> = body
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).expect("actor"))
        .collect();
    assert_eq!(actors.len(), 2_400);
    let unique: std::collections::BTreeSet<&str> = actors.iter().copied().collect();
    assert_eq!(unique.len(), 2_400, "no entry repeated");
    // Newest first.
    assert_eq!(actors[0], "bulk-2399@fabrikam.test");
    assert_eq!(actors[2_399], "bulk-0@fabrikam.test");
}
