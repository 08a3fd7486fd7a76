//! Signing in and out, the one-time first admin, and the users page's server functions, over
//! real HTTP against the real app, with and without JavaScript (form posts that redirect).
//! Each leaves the audit entries it promises, and no password is ever stored in them.

mod account;
mod first_admin;
mod sso;
mod users;

use exchange_connector::model::{Role, SessionUser};
use reqwest::redirect::Policy;
use sqlx::SqlitePool;

use crate::helpers::{TestApp, PASSWORD};

const THROTTLED: &str = "Too many failed sign-ins. Wait 15 minutes and try again.";
const SIGN_IN_FAILED: &str = "The email address or password is not right.";

/// A browser without JavaScript's reach: keeps cookies, follows no redirects.
pub(super) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// Calls the server function `endpoint` as the hydrated page does (JSON back).
pub(super) async fn call(
    client: &reqwest::Client,
    base_url: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    crate::helpers::call_fn(client, base_url, endpoint, form).await
}

/// Posts `form` to `endpoint` as a plain HTML form does; the status and `Location`.
pub(super) async fn form_post(
    client: &reqwest::Client,
    base_url: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let accept = "text/html,application/xhtml+xml";
    let r = crate::helpers::post_form(client, base_url, endpoint, form, accept).await;
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (r.status().as_u16(), location)
}

pub(super) async fn get_html(
    client: &reqwest::Client,
    base_url: &str,
    path: &str,
) -> (u16, String) {
    let r = client
        .get(format!("{base_url}{path}"))
        .send()
        .await
        .expect("page");
    (r.status().as_u16(), r.text().await.expect("html"))
}

pub(super) async fn me(client: &reqwest::Client, base_url: &str) -> Option<SessionUser> {
    let (status, body) = call(client, base_url, "auth/me", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

/// One audit entry: action, actor, target, result, detail, source address.
pub(super) type Entry = (
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// The audit entries by or about `email`, oldest first.
pub(super) async fn audit_of(db: &SqlitePool, email: &str) -> Vec<Entry> {
    sqlx::query_as(
        "SELECT action, actor, target, result, detail, source_address FROM audit_log \
         WHERE actor = ?1 OR target = ?1 ORDER BY id",
    )
    .bind(email)
    .fetch_all(db)
    .await
    .expect("audit log")
}

/// The audit entries as (action, result, detail), for comparing.
pub(super) fn summary(entries: &[Entry]) -> Vec<(&str, &str, &str)> {
    entries
        .iter()
        .map(|(action, _, _, result, detail, _)| {
            (
                action.as_str(),
                result.as_str(),
                detail.as_deref().unwrap_or(""),
            )
        })
        .collect()
}

/// No column of any audit entry holds `secret`.
pub(super) async fn assert_never_recorded(db: &SqlitePool, secret: &str) {
    let hits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE instr(coalesce(actor, '') || coalesce(target, '') \
         || coalesce(detail, '') || coalesce(parameters, ''), ?1) > 0",
    )
    .bind(secret)
    .fetch_one(db)
    .await
    .expect("audit log");
    assert_eq!(hits, 0, "the audit log holds a password");
}

#[tokio::test]
async fn signing_in_with_the_right_password_starts_a_session_that_auth_me_reports() {
    let app = TestApp::with_sim(1, 10).await;
    app.control
        .create_user("ann@contoso.test", PASSWORD, Role::Reader)
        .await
        .expect("user");
    let client = browser();
    assert_eq!(me(&client, &app.base_url).await, None);

    let form = [("email", " Ann@Contoso.test "), ("password", PASSWORD)];
    let (status, body) = call(&client, &app.base_url, "auth/sign-in", &form).await;
    assert_eq!(status, 200, "{body}");
    let user: SessionUser = serde_json::from_str(&body).expect("json");
    assert_eq!(user.email, "ann@contoso.test");
    assert_eq!(user.role, Role::Reader);
    assert_eq!(me(&client, &app.base_url).await, Some(user));

    let db = app.db().await;
    let entries = audit_of(&db, "ann@contoso.test").await;
    assert_eq!(summary(&entries), [("signIn", "success", "")]);
    assert_eq!(entries[0].5.as_deref(), Some("127.0.0.1"), "the address");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer_and_are_audited() {
    let app = TestApp::with_sim(1, 10).await;
    app.control
        .create_user("bob@contoso.test", PASSWORD, Role::Admin)
        .await
        .expect("user");
    let client = browser();
    let wrong = "not the password at all";
    let known = [("email", "bob@contoso.test"), ("password", wrong)];
    let unknown = [("email", "nobody@contoso.test"), ("password", wrong)];
    let a = call(&client, &app.base_url, "auth/sign-in", &known).await;
    let b = call(&client, &app.base_url, "auth/sign-in", &unknown).await;
    assert_eq!(a, b, "nothing tells which accounts exist");
    assert_eq!(a.0, 400);
    assert!(a.1.contains(SIGN_IN_FAILED), "{}", a.1);
    assert_eq!(me(&client, &app.base_url).await, None);

    let db = app.db().await;
    for email in ["bob@contoso.test", "nobody@contoso.test"] {
        let entries = audit_of(&db, email).await;
        assert_eq!(
            summary(&entries),
            [("signInFailed", "failure", "wrong email address or password")],
            "{email}"
        );
    }
    assert_never_recorded(&db, wrong).await;
    assert_never_recorded(&db, PASSWORD).await;
}

#[tokio::test]
async fn the_sixth_failed_sign_in_of_an_account_is_throttled_even_with_the_right_password() {
    let app = TestApp::with_sim(1, 10).await;
    app.control
        .create_user("cy@contoso.test", PASSWORD, Role::Reader)
        .await
        .expect("user");
    let client = browser();
    for attempt in 1..=5 {
        let form = [
            ("email", "cy@contoso.test"),
            ("password", "guess guess guess"),
        ];
        let (status, body) = call(&client, &app.base_url, "auth/sign-in", &form).await;
        assert_eq!(status, 400, "attempt {attempt}: {body}");
    }
    let right = [("email", "cy@contoso.test"), ("password", PASSWORD)];
    let (status, body) = call(&client, &app.base_url, "auth/sign-in", &right).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains(THROTTLED), "{body}");
    assert_eq!(me(&client, &app.base_url).await, None);

    // Without JavaScript the refusal comes back as a fixed notice the page puts in words.
    let (status, location) = form_post(&client, &app.base_url, "auth/sign-in", &right).await;
    assert_eq!(status, 302);
    assert_eq!(location, "/sign-in?notice=throttled&wait=15");
    let (status, html) = get_html(&client, &app.base_url, &location).await;
    assert_eq!(status, 200);
    assert!(html.contains(THROTTLED), "the page says why");

    let db = app.db().await;
    let results: Vec<_> = audit_of(&db, "cy@contoso.test")
        .await
        .into_iter()
        .map(|e| e.3)
        .collect();
    assert_eq!(
        results,
        ["failure", "failure", "failure", "failure", "failure", "denied", "denied"]
    );
}

#[tokio::test]
async fn fifty_parallel_guesses_for_one_account_check_only_as_many_passwords_as_allowed() {
    let app = TestApp::with_sim(1, 10).await;
    app.control
        .create_user("dee@contoso.test", PASSWORD, Role::Reader)
        .await
        .expect("user");
    let guesses = (0..50).map(|i| {
        let base_url = app.base_url.clone();
        tokio::spawn(async move {
            let password = format!("guess number {i}");
            let form = [
                ("email", "dee@contoso.test"),
                ("password", password.as_str()),
            ];
            call(&browser(), &base_url, "auth/sign-in", &form).await.0
        })
    });
    let mut statuses = Vec::new();
    for g in guesses.collect::<Vec<_>>() {
        statuses.push(g.await.expect("guess"));
    }
    let checked = statuses.iter().filter(|s| **s == 400).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    // Five were checked (and wrong); the others were refused before any hashing.
    assert_eq!((checked, refused), (5, 45), "{statuses:?}");
    let db = app.db().await;
    let wrong = audit_of(&db, "dee@contoso.test")
        .await
        .into_iter()
        .filter(|e| e.3 == "failure")
        .count();
    assert_eq!(wrong, 5, "passwords evaluated");
}

/// The `ec_session` cookie a response sets, as `name=value`.
fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ec_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

#[tokio::test]
async fn signing_in_again_gives_a_new_session_id_and_the_old_one_stops_working() {
    let app = TestApp::with_sim(1, 10).await;
    app.control
        .create_user("dee@contoso.test", PASSWORD, Role::Reader)
        .await
        .expect("user");
    // Cookies by hand, to see them change.
    let client = reqwest::Client::new();
    let sign_in = |cookie: Option<String>| {
        let mut request = client
            .post(format!("{}/api/auth/sign-in", app.base_url))
            .header("accept", "application/json")
            .form(&[("email", "dee@contoso.test"), ("password", PASSWORD)]);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let first = sign_in(None).await.expect("sign-in");
    assert_eq!(first.status(), 200);
    let old = session_cookie(&first).expect("a session cookie");
    let second = sign_in(Some(old.clone())).await.expect("sign-in");
    assert_eq!(second.status(), 200);
    let new = session_cookie(&second).expect("a new session cookie");
    assert_ne!(old, new, "signing in cycles the session id");

    let who = |cookie: String| {
        client
            .post(format!("{}/api/auth/me", app.base_url))
            .header("accept", "application/json")
            .header("cookie", cookie)
            .send()
    };
    let with_old = who(old).await.expect("me").text().await.expect("body");
    assert_eq!(with_old, "null");
    let with_new = who(new).await.expect("me").text().await.expect("body");
    assert!(with_new.contains("dee@contoso.test"), "{with_new}");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_protected_functions_answer_401() {
    let app = TestApp::with_sim(1, 10).await;
    let client = app
        .signed_in_with(
            Role::Reader,
            reqwest::Client::builder().redirect(Policy::none()),
        )
        .await;
    let user = me(&client, &app.base_url).await.expect("signed in");
    let (status, _) = call(&client, &app.base_url, "connector/overview", &[]).await;
    assert_eq!(status, 200);

    let (status, body) = call(&client, &app.base_url, "auth/sign-out", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me(&client, &app.base_url).await, None);
    let (status, _) = call(&client, &app.base_url, "connector/overview", &[]).await;
    assert_eq!(status, 401);

    // The header's button, without JavaScript: back to the sign-in page, which says so.
    let again = app
        .signed_in_with(
            Role::Reader,
            reqwest::Client::builder().redirect(Policy::none()),
        )
        .await;
    let (status, location) = form_post(&again, &app.base_url, "auth/sign-out", &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (302, "/sign-in?notice=signed-out")
    );
    assert_eq!(me(&again, &app.base_url).await, None);
    let (_, html) = get_html(&again, &app.base_url, &location).await;
    assert!(html.contains("You are signed out."));

    let db = app.db().await;
    let entries = audit_of(&db, &user.email).await;
    assert_eq!(
        summary(&entries),
        [("signIn", "success", ""), ("signOut", "success", "")]
    );
}

#[tokio::test]
async fn without_javascript_a_visitor_signs_in_and_comes_back_to_the_page_they_wanted() {
    let app = TestApp::with_sim(1, 10).await;
    app.control
        .create_user("eve@contoso.test", PASSWORD, Role::Reader)
        .await
        .expect("user");
    let client = browser();
    let wanted = "/conditional-access/exchange-connector/sync-history?status=failed";
    let r = client
        .get(format!("{}{wanted}", app.base_url))
        .send()
        .await
        .expect("page");
    assert!(matches!(r.status().as_u16(), 302 | 303), "{}", r.status());
    let to_sign_in = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned();
    assert!(to_sign_in.starts_with("/sign-in?next=%2F"), "{to_sign_in}");

    let (status, html) = get_html(&client, &app.base_url, &to_sign_in).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"action="/api/auth/sign-in""#),
        "a real form"
    );
    assert!(html.contains(r#"method="post""#), "a real form");
    assert!(
        html.contains(r#"name="next""#) && html.contains("sync-history?status=failed"),
        "the page remembers where to go"
    );
    assert!(!html.contains("No admin account yet"), "an admin exists");

    let wrong = [
        ("email", "eve@contoso.test"),
        ("password", "wrong wrong wrong"),
        ("next", wanted),
    ];
    let (status, location) = form_post(&client, &app.base_url, "auth/sign-in", &wrong).await;
    assert_eq!(status, 302);
    assert_eq!(
        location,
        "/sign-in?notice=sign-in-failed&next=%2Fconditional-access%2Fexchange-connector%2Fsync-history%3Fstatus%3Dfailed"
    );
    let (_, html) = get_html(&client, &app.base_url, &location).await;
    assert!(html.contains(SIGN_IN_FAILED));

    let right = [
        ("email", "eve@contoso.test"),
        ("password", PASSWORD),
        ("next", wanted),
    ];
    let (status, location) = form_post(&client, &app.base_url, "auth/sign-in", &right).await;
    assert_eq!((status, location.as_str()), (302, wanted));
    let (status, html) = get_html(&client, &app.base_url, wanted).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("eve@contoso.test"),
        "the header shows who is signed in"
    );
    assert!(html.contains("Sign out"));
    assert!(
        !html.contains(r#"href="/admin/users""#),
        "a reader has no admin links"
    );

    // A made-up notice or another site as `next` puts nothing on the page and goes nowhere.
    let (_, html) = get_html(&client, &app.base_url, "/sign-in?notice=call-555-1234").await;
    assert!(!html.contains("555"));
    let evil = [
        ("email", "eve@contoso.test"),
        ("password", PASSWORD),
        ("next", "//evil.example/"),
    ];
    let (_, location) = form_post(&client, &app.base_url, "auth/sign-in", &evil).await;
    assert_eq!(location, "/conditional-access/exchange-connector");
}

/// Addresses browsers read as another site, or that cannot go in a `Location` header: a sign-in
/// sends the person to the connector page instead, and the request never fails.
pub(super) const FOREIGN_NEXTS: [&str; 6] = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\\evil.example",
    "//evil.example",
    "/\u{1}x",
    "/x\r\nSet-Cookie: a=b",
];

#[tokio::test]
async fn a_form_sign_in_never_follows_next_to_another_site_or_fails_on_control_characters() {
    let app = TestApp::with_sim(1, 10).await;
    for (i, next) in FOREIGN_NEXTS.into_iter().enumerate() {
        // An account each: the wrong passwords stay below the lock-out.
        let email = format!("nia{i}@contoso.test");
        app.control
            .create_user(&email, PASSWORD, Role::Reader)
            .await
            .expect("user");
        let client = browser();
        // A failed sign-in's notice keeps `next` for the second try, but no foreign one (a few
        // of them: every failure counts against this address).
        if i < 3 {
            let wrong = [
                ("email", email.as_str()),
                ("password", "wrong wrong wrong"),
                ("next", next),
            ];
            let (status, location) =
                form_post(&client, &app.base_url, "auth/sign-in", &wrong).await;
            assert_eq!(
                (status, location.as_str()),
                (302, "/sign-in?notice=sign-in-failed"),
                "{next:?}"
            );
        }
        let right = [
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("next", next),
        ];
        let (status, location) = form_post(&client, &app.base_url, "auth/sign-in", &right).await;
        assert_eq!(
            (status, location.as_str()),
            (302, "/conditional-access/exchange-connector"),
            "{next:?}"
        );
        assert!(me(&client, &app.base_url).await.is_some(), "{next:?}");
    }
}

/// Posts a sign-in through a proxy that says the client is `forwarded_for`.
async fn sign_in_via_proxy(base_url: &str, forwarded_for: &str, password: &str) -> u16 {
    browser()
        .post(format!("{base_url}/api/auth/sign-in"))
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", "pat@contoso.test"), ("password", password)])
        .send()
        .await
        .expect("the server answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_and_audited_under_its_own_address() {
    let sim = crate::helpers::start_sim(1, 1).await;
    let settings = crate::helpers::settings_for(&sim);
    let app = TestApp::spawn_configured(settings, Some(sim), |config| {
        config.security.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
    })
    .await;
    app.control
        .create_user("pat@contoso.test", PASSWORD, Role::Reader)
        .await
        .expect("user");
    // Someone guesses from one address until locked out…
    for _ in 0..5 {
        let status = sign_in_via_proxy(&app.base_url, "203.0.113.66", "guess guess guess").await;
        assert_eq!(status, 400);
    }
    assert_eq!(
        sign_in_via_proxy(&app.base_url, "203.0.113.66", PASSWORD).await,
        429,
        "the guesser is locked out"
    );
    // …and the right person, from another address behind the same proxy, still signs in.
    assert_eq!(
        sign_in_via_proxy(&app.base_url, "198.51.100.20, 127.0.0.1", PASSWORD).await,
        200
    );
    let db = app.db().await;
    let addresses: Vec<(String, Option<String>)> = audit_of(&db, "pat@contoso.test")
        .await
        .into_iter()
        .map(|e| (e.3, e.5))
        .collect();
    let failure = ("failure".to_owned(), Some("203.0.113.66".to_owned()));
    let denied = ("denied".to_owned(), Some("203.0.113.66".to_owned()));
    let success = ("success".to_owned(), Some("198.51.100.20".to_owned()));
    let mut expected = vec![failure; 5];
    expected.extend([denied, success]);
    assert_eq!(addresses, expected);
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_is_ignored() {
    let app = TestApp::with_sim(1, 10).await;
    app.control
        .create_user("pat@contoso.test", PASSWORD, Role::Reader)
        .await
        .expect("user");
    // A client cannot escape its lock-out by naming another address.
    for i in 0..5 {
        let status = sign_in_via_proxy(
            &app.base_url,
            &format!("203.0.113.{i}"),
            "guess guess guess",
        )
        .await;
        assert_eq!(status, 400);
    }
    assert_eq!(
        sign_in_via_proxy(&app.base_url, "203.0.113.99", PASSWORD).await,
        429
    );
    let db = app.db().await;
    for entry in audit_of(&db, "pat@contoso.test").await {
        assert_eq!(entry.5.as_deref(), Some("127.0.0.1"));
    }
}

#[tokio::test]
async fn anonymous_requests_add_a_bounded_number_of_audit_entries_and_none_without_single_sign_on()
{
    let app = TestApp::with_sim(1, 10).await;
    let db = app.db().await;
    let anonymous_entries = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('signInFailed', 'userChange') \
             AND result <> 'success'",
        )
        .fetch_one(&db)
        .await
        .expect("count")
    };
    // Single sign-on is off: its callback records nothing, whatever it is sent.
    let long_error = "x".repeat(50_000);
    for _ in 0..20 {
        let r = browser()
            .get(format!(
                "{}/auth/sso/callback?state=s&error={long_error}",
                app.base_url
            ))
            .send()
            .await
            .expect("callback");
        assert_eq!(r.status(), 303, "back to the sign-in page");
    }
    assert_eq!(anonymous_entries().await, 0);

    // Wrong passwords for many accounts and first-admin links after an admin exists, from one
    // address: every one is refused, far fewer are recorded.
    for i in 0..60 {
        let email = format!("nobody-{i}@contoso.test");
        let form = [("email", email.as_str()), ("password", "wrong password")];
        let (status, _) = call(&browser(), &app.base_url, "auth/sign-in", &form).await;
        assert!(status == 400 || status == 429, "{status}");
        let link = [
            ("token", "not-a-token"),
            ("email", email.as_str()),
            ("password", PASSWORD),
        ];
        let (status, _) = call(&browser(), &app.base_url, "auth/first-admin", &link).await;
        assert_eq!(status, 409);
    }
    let recorded = anonymous_entries().await;
    // At most 40 checked attempts and 5 refusals beyond the throttle per address and window.
    assert!(
        (40..=45).contains(&recorded),
        "120 anonymous refusals from one address, {recorded} recorded"
    );
    // The first ones are there: a real attack still shows in the log.
    let first: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'signInFailed' ORDER BY id LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .expect("first failure recorded");
    assert_eq!(first, "nobody-0@contoso.test");
}
