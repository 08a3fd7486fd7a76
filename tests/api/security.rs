//! The security perimeter, enumerated rather than sampled: every registered server function,
//! every page and every download refuses whoever may not use it; cross-site posts are refused
//! even for an admin; responses carry the security headers, and a page's CSP nonce is on every
//! inline script; the session cookie has the attributes it promises.

use std::collections::BTreeSet;

use exchange_connector::app::live::EVENTS_PATH;
use exchange_connector::app::query::HISTORY_CSV_PATH;
use exchange_connector::app::{paths, App};
use exchange_connector::model::Role;
use exchange_connector::server::config::SecuritySettings;
use exchange_connector::server::control::SyncControl;
use leptos::server_fn::axum::server_fn_paths;
use reqwest::redirect::Policy;
use sqlx::SqlitePool;

use crate::helpers::{build, test_config, unreachable_settings, TestApp, PASSWORD};

/// The server functions anyone may call: who am I, sign in, sign out, whether a first admin is
/// needed and creating it. Any other function must answer 401 to an anonymous caller.
const PUBLIC: &[&str] = &[
    "/api/auth/first-admin",
    "/api/auth/first-admin-needed",
    "/api/auth/me",
    "/api/auth/sign-in",
    "/api/auth/sign-out",
    "/api/auth/single-sign-on",
];

/// The server functions a reader may call, because they change nothing. Any other function
/// must answer 403 to a reader.
const READ_ONLY: &[&str] = &[
    "/api/account/summary",
    "/api/connector/live",
    "/api/connector/overview",
    "/api/connector/set-up-info",
    "/api/devices/device",
    "/api/devices/page",
    "/api/devices/readiness",
    "/api/devices/summary",
    "/api/exchange-access",
    "/api/sync-history/page",
    "/api/sync-history/run",
    "/api/tokens/own",
];

/// The server functions a reader may call because they change only the caller's own account,
/// with the field their sample arguments are refused at (not the role): a wrong password, an
/// admin token asked by a reader, a token that does not exist.
const OWN_ACCOUNT: &[(&str, &str)] = &[
    ("/api/account/password", "current_password"),
    ("/api/tokens/create", "role"),
    ("/api/tokens/revoke", "id"),
];

/// Arguments for the functions that need some before they reach their role check.
const ARGS: &[(&str, &str)] = &[
    (
        "/api/account/password",
        "current_password=not+mine&password=a+long+enough+password&confirm_password=a+long+enough+password",
    ),
    ("/api/connector/remove", "confirmation=remove"),
    ("/api/devices/device", "id=no-such-device"),
    ("/api/devices/act", "devices=no-such-device&action=block"),
    ("/api/exchange-access/apply", "change=deleteRule&rule=no-such-rule"),
    ("/api/exchange-access/preview", "change=deleteRule&rule=no-such-rule"),
    ("/api/exchange-access/policy", "change=delete&policy=no-such-policy"),
    ("/api/connector/sync", "kind=deltaSync"),
    ("/api/sync-history/run", "id=no-such-run"),
    (
        "/api/users/add",
        "email=new%40contoso.test&role=reader&password=a+long+enough+password",
    ),
    ("/api/users/delete", "id=no-such-user"),
    ("/api/users/disable", "id=no-such-user"),
    ("/api/users/enable", "id=no-such-user"),
    (
        "/api/users/password",
        "id=no-such-user&password=a+long+enough+password",
    ),
    ("/api/users/role", "id=no-such-user&role=admin"),
    ("/api/tokens/create", "name=sample&role=admin"),
    (
        "/api/auth/first-admin",
        "token=not-the-link&email=first%40contoso.test&password=a+long+enough+password",
    ),
    ("/api/auth/sign-in", "email=nobody%40contoso.test&password=not+it"),
    ("/api/tokens/revoke", "id=no-such-token"),
    ("/api/notifications/delete", "id=no-such-webhook"),
    (
        "/api/notifications/events",
        "id=no-such-webhook&events%5B0%5D=syncFailed",
    ),
    ("/api/notifications/test", "id=no-such-webhook"),
    ("/api/notifications/resend", "id=no-such-delivery"),
];

/// Every registered server function, with its method, in path order.
fn server_functions() -> Vec<(&'static str, String)> {
    let mut all: Vec<_> = server_fn_paths()
        .map(|(path, method)| (path, method.as_str().to_owned()))
        .collect();
    all.sort();
    assert!(all.len() >= 8, "the registry looks empty: {all:?}");
    all
}

/// Calls the server function at `path` the way the hydrated page does, with its sample
/// arguments. Returns the status and the body.
async fn call(client: &reqwest::Client, app: &TestApp, path: &str, method: &str) -> (u16, String) {
    let args = ARGS.iter().find(|(p, _)| *p == path).map_or("", |(_, a)| a);
    let url = format!("{}{path}", app.base_url);
    let request = match method {
        "GET" => client.get(format!("{url}?{args}")),
        _ => client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(args),
    };
    let r = request
        .header("accept", "application/json")
        .send()
        .await
        .expect("the server answers");
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    assert!(
        !(status == 400 && body.contains("\"field\":\"request\"")),
        "{path} could not read its arguments; give it sample ones in ARGS: {body}"
    );
    (status, body)
}

/// A client that keeps no cookies and follows no redirects.
fn anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn every_server_function_but_the_public_ones_answers_401_to_anonymous_callers() {
    let app = TestApp::with_sim(3, 10).await;
    let client = anonymous();
    let mut answered = BTreeSet::new();
    for (path, method) in server_functions() {
        let (status, body) = call(&client, &app, path, &method).await;
        if status != 401 {
            assert!(
                PUBLIC.contains(&path),
                "{path} answered {status} to an anonymous caller: a server function must start \
                 with authorize() unless it is public on purpose: {body}"
            );
            answered.insert(path);
        }
    }
    let public: BTreeSet<_> = PUBLIC.iter().copied().collect();
    assert_eq!(
        answered, public,
        "the public server functions are exactly these"
    );
}

#[tokio::test]
async fn a_reader_may_read_but_every_other_server_function_answers_403() {
    let app = TestApp::with_sim(3, 10).await;
    let reader = app.signed_in(Role::Reader).await;
    let registered: Vec<_> = server_functions();
    let mut admin_only = BTreeSet::new();
    for (path, method) in &registered {
        if PUBLIC.contains(path) {
            continue;
        }
        let (status, body) = call(&reader, &app, path, method).await;
        if READ_ONLY.contains(path) {
            assert_eq!(status, 200, "a reader may call {path}: {body}");
        } else if let Some((_, field)) = OWN_ACCOUNT.iter().find(|(p, _)| p == path) {
            assert_eq!(
                status, 400,
                "a reader reaches {path} (refused at {field}): {body}"
            );
            assert!(body.contains(&format!("\"field\":\"{field}\"")), "{body}");
        } else {
            assert_eq!(
                status, 403,
                "{path} must be for admins only (or listed in READ_ONLY if it changes \
                 nothing): {body}"
            );
            admin_only.insert(*path);
        }
    }
    for read in READ_ONLY
        .iter()
        .chain(OWN_ACCOUNT.iter().map(|(path, _)| path))
    {
        assert!(
            registered.iter().any(|(p, _)| p == read),
            "{read} is no longer registered: drop it from READ_ONLY"
        );
    }
    for admin in ["/api/connector/set-up", "/api/connector/sync"] {
        assert!(admin_only.contains(admin), "{admin} in {admin_only:?}");
    }
    // Each refusal is in the audit log, with who asked and for what.
    let r = reader
        .get(format!("{}{}", app.base_url, paths::AUDIT_LOG))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 403);
    let denied: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT target, actor, result FROM audit_log WHERE action = 'accessDenied' ORDER BY id",
    )
    .fetch_all(&app.db().await)
    .await
    .expect("audit log");
    let targets: BTreeSet<&str> = denied.iter().map(|(t, _, _)| t.as_str()).collect();
    let mut expected: BTreeSet<&str> = admin_only.iter().copied().collect();
    expected.insert(paths::AUDIT_LOG);
    assert_eq!(targets, expected);
    assert!(
        denied.iter().all(|(_, actor, result)| result == "denied"
            && actor.as_deref().is_some_and(|a| a.starts_with("reader-"))),
        "{denied:?}"
    );
}

/// Every page the app serves, with a sample value for each path parameter.
fn pages() -> BTreeSet<String> {
    let concrete = |path: &str| {
        path.split('/')
            .map(|segment| match segment.chars().next() {
                Some(':' | '{' | '*') => "sample",
                _ => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut pages: BTreeSet<String> = leptos_axum::generate_route_list(App)
        .iter()
        .map(|route| concrete(route.path()))
        .filter(|path| !paths::PUBLIC_PAGES.contains(&path.as_str()))
        .collect();
    pages.extend(paths::ADMIN_PAGES.iter().map(|p| (*p).to_owned()));
    assert!(pages.len() >= 4, "{pages:?}");
    pages
}

#[tokio::test]
async fn anonymous_visitors_of_every_page_are_sent_to_sign_in_and_back() {
    let app = TestApp::with_sim(3, 10).await;
    let client = anonymous();
    for page in pages() {
        let target = format!("{page}?tab=1");
        let r = client
            .get(format!("{}{target}", app.base_url))
            .send()
            .await
            .expect("page");
        assert!(
            matches!(r.status().as_u16(), 302 | 303),
            "{page}: {}",
            r.status()
        );
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        assert_eq!(
            location,
            format!("{}?next={next}", paths::SIGN_IN),
            "{page}"
        );
    }
}

#[tokio::test]
async fn the_live_stream_and_the_downloads_answer_401_to_anonymous_callers() {
    let app = TestApp::with_sim(3, 10).await;
    let client = anonymous();
    for path in [
        EVENTS_PATH,
        HISTORY_CSV_PATH,
        paths::AUDIT_LOG_CSV,
        paths::DEVICES_CSV,
    ] {
        let r = client
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 401, "{path}");
    }
    let reader = app.signed_in(Role::Reader).await;
    let r = reader
        .get(format!("{}{}", app.base_url, paths::AUDIT_LOG_CSV))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 403, "the audit log is for admins");
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_for_a_signed_in_admin() {
    let app = TestApp::with_sim(3, 10).await;
    let set_up = format!("{}/api/connector/set-up", app.base_url);
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("referer", "https://evil.example/page"),
    ] {
        let r = app
            .http()
            .post(&set_up)
            .header("accept", "application/json")
            .header(name, value)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 403, "{name}: {value}");
        assert_eq!(r.text().await.expect("body"), "Cross-site request refused.");
    }
    assert!(
        app.overview().await.connector.is_none(),
        "a refused set-up did nothing"
    );

    // The same post from this site's own page goes through.
    let r = app
        .http()
        .post(format!("{}/api/connector/overview", app.base_url))
        .header("accept", "application/json")
        .header("origin", &app.base_url)
        .header("referer", format!("{}/", app.base_url))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 200);

    // Signing in from another site is refused too (no login CSRF).
    let r = anonymous()
        .post(format!("{}/api/auth/sign-in", app.base_url))
        .header("origin", "https://evil.example")
        .form(&[("email", "a@contoso.test"), ("password", PASSWORD)])
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 403);
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The nonce of a page's CSP, after checking the rest of the policy.
fn page_nonce(policy: &str) -> String {
    let nonce = policy
        .split_once("'nonce-")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(nonce, _)| nonce.to_owned())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(nonce.len() >= 22, "{nonce}");
    assert_eq!(
        policy,
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        )
    );
    nonce
}

/// The opening tags of the inline scripts (those without `src`) in `html`.
fn inline_scripts(html: &str) -> Vec<&str> {
    html.match_indices("<script")
        .filter_map(|(at, _)| html[at..].split_once('>').map(|(tag, _)| tag))
        .filter(|tag| !tag.contains(" src="))
        .collect()
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_their_nonce_is_on_every_inline_script() {
    let app = TestApp::with_sim(3, 10).await;
    let mut nonces = BTreeSet::new();
    for (path, status) in [
        ("/", 200),
        ("/conditional-access/exchange-connector/sync-history", 200),
        ("/no-such-page", 404),
    ] {
        let r = app
            .http()
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .expect("page");
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(header(&r, "x-frame-options"), Some("DENY"));
        assert_eq!(header(&r, "referrer-policy"), Some("same-origin"));
        assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
        assert_eq!(
            header(&r, "strict-transport-security"),
            None,
            "not over http"
        );
        let nonce = page_nonce(header(&r, "content-security-policy").expect("csp"));
        let html = r.text().await.expect("html");
        let scripts = inline_scripts(&html);
        assert!(!scripts.is_empty(), "{path} has no hydration script");
        for tag in scripts {
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: {tag}");
        }
        assert!(nonces.insert(nonce), "a nonce is used once");
    }

    // What is not a page may run nothing.
    let r = app
        .http()
        .post(format!("{}/api/connector/overview", app.base_url))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        header(&r, "content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
    assert_eq!(header(&r, "x-frame-options"), Some("DENY"));
}

/// The `ec_session` cookie the app at `base_url` sets when a new reader `email` signs in.
async fn session_cookie(base_url: &str, control: &SyncControl, email: &str) -> String {
    control
        .create_user(email, PASSWORD, Role::Reader)
        .await
        .expect("user");
    let r = anonymous()
        .post(format!("{base_url}/api/auth/sign-in"))
        .header("accept", "application/json")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign-in");
    assert_eq!(r.status(), 200);
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ec_session="))
        .expect("a session cookie")
        .to_owned()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax_and_not_secure_over_http() {
    let app = TestApp::with_sim(3, 10).await;
    let cookie = session_cookie(&app.base_url, &app.control, "plain@contoso.test").await;
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn with_an_https_public_url_the_cookie_is_secure_hsts_is_sent_and_it_is_the_origin() {
    let public = "https://connector.example.test";
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(&dir.path().join("connector.db"), unreachable_settings());
    config.security = SecuritySettings {
        public_url: Some(public.parse().expect("url")),
        ..SecuritySettings::default()
    };
    let app = build(config).await;
    let base_url = format!("http://{}", app.addr());
    let control = app.control();
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    let cookie = session_cookie(&base_url, &control, "secure@contoso.test").await;
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let r = anonymous()
        .get(format!("{base_url}/"))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        header(&r, "strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );

    // The public address is this site's origin, not the address the server listens on.
    let sign_out = format!("{base_url}/api/auth/sign-out");
    for (origin, status) in [(base_url.as_str(), 403), (public, 200)] {
        let r = anonymous()
            .post(&sign_out)
            .header("accept", "application/json")
            .header("origin", origin)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), status, "{origin}");
    }
}

#[tokio::test]
async fn an_idle_session_ends_and_activity_pushes_its_end_back_without_a_write_per_request() {
    // SESSION_IDLE_MINUTES=5 (its least value): the cookie and the stored session both end five
    // minutes after the last request. Waiting five minutes is not a test: the stored expiry is
    // moved into the past instead, which is what the clock would do.
    let app = TestApp::spawn_configured(unreachable_settings(), None, |config| {
        config.security.session_idle = std::time::Duration::from_secs(5 * 60);
        config.security.session_refresh = std::time::Duration::from_secs(2);
    })
    .await;
    let cookie = session_cookie(&app.base_url, &app.control, "idle@contoso.test").await;
    assert!(cookie.contains("Max-Age=300"), "{cookie}");
    let client = app.signed_in(Role::Reader).await;
    let db = app.db().await;
    let expiry = |db: SqlitePool| async move {
        let (text, secs): (String, i64) = sqlx::query_as(
            "SELECT MAX(expiry_date), CAST(strftime('%s', MAX(expiry_date)) AS INTEGER) FROM sessions",
        )
        .fetch_one(&db)
        .await
        .expect("sessions");
        assert!(text.ends_with('Z'), "{text}");
        secs
    };
    let now = chrono::Utc::now().timestamp();
    let first = expiry(db.clone()).await;
    assert!((now + 290..=now + 310).contains(&first), "{first} vs {now}");

    // Requests within `session_refresh` (two seconds here, a minute by default) of the stored
    // end's last write leave it alone: no database write per request …
    let written = || {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT MAX(expiry_date) FROM sessions")
                .fetch_one(&db)
                .await
                .expect("sessions")
        }
    };
    let before = written().await;
    for _ in 0..5 {
        let (status, body) = call(&client, &app, "/api/connector/overview", "POST").await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        written().await,
        before,
        "not written again within the refresh time"
    );
    // … a request once it is older pushes the end back.
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let (status, body) = call(&client, &app, "/api/connector/overview", "POST").await;
    assert_eq!(status, 200, "{body}");
    let moved = expiry(db.clone()).await;
    assert!(moved >= first + 2, "the end moved back: {moved} vs {first}");

    // Past its end: the same cookie is nobody.
    sqlx::query(
        "UPDATE sessions SET expiry_date = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 seconds')",
    )
    .execute(&db)
    .await
    .expect("expire");
    let (status, _) = call(&client, &app, "/api/connector/overview", "POST").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active_it_is() {
    // SESSION_LIFETIME_HOURS counts in hours; the lifetime is set to three seconds here so that
    // the clock can pass it while requests keep the session busy.
    let app = TestApp::spawn_configured(unreachable_settings(), None, |config| {
        config.security.session_lifetime = std::time::Duration::from_secs(3);
    })
    .await;
    let client = app.signed_in(Role::Reader).await;
    let started = std::time::Instant::now();
    let mut last_ok = None;
    while started.elapsed() < std::time::Duration::from_secs(6) {
        let (status, body) = call(&client, &app, "/api/connector/overview", "POST").await;
        match status {
            200 => last_ok = Some(started.elapsed()),
            401 => break,
            other => panic!("{other}: {body}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let last_ok = last_ok.expect("signed in at first");
    assert!(
        last_ok < std::time::Duration::from_secs(3),
        "still signed in after {last_ok:?}"
    );
    let (status, _) = call(&client, &app, "/api/connector/overview", "POST").await;
    assert_eq!(status, 401, "the session ended although it was never idle");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_and_shared_memory_files_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(unreachable_settings(), 1000, None).await;
    // Signing in wrote a session: the WAL and shared-memory files exist.
    let _ = app.signed_in(Role::Reader).await;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = app.db_file.clone().into_os_string();
        name.push(suffix);
        let mode = std::fs::metadata(&name)
            .unwrap_or_else(|e| panic!("{name:?}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name:?} has mode {:o}", mode & 0o777);
    }
}

#[tokio::test]
async fn a_server_function_refused_before_it_runs_answers_4xx_never_500() {
    let app = TestApp::with_sim(3, 10).await;
    let post = |path: &'static str, body: Vec<u8>| {
        app.http()
            .post(format!("{}/api/{path}", app.base_url))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // Arguments missing: the caller's error, named.
    let missing = post("tokens/create", Vec::new()).await.expect("answer");
    assert_eq!(missing.status(), 400);
    let body = missing.text().await.expect("body");
    assert!(
        body.contains("\"field\":\"request\"") && body.contains("name"),
        "{body}"
    );
    // A body over the limit (2 MB): too large, and the server goes on.
    let huge = post("users/add", vec![b'a'; 3_000_000])
        .await
        .expect("answer");
    assert_eq!(
        huge.status(),
        413,
        "{}",
        huge.text().await.unwrap_or_default()
    );
    // A failure inside the function keeps the status it set.
    let gone = post("users/delete", b"id=nobody".to_vec())
        .await
        .expect("answer");
    assert_eq!(gone.status(), 409);
    let (status, _) = app.get_html("/").await;
    assert_eq!(status, 200);
}
