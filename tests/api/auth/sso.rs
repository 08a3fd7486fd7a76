//! Single sign-on with OpenID Connect, the simulator as the provider (its discovery, JWKS,
//! authorize and token endpoints over real HTTP): the round trip signs in the account with the
//! provider's email address and binds it; a tampered `state`, a replayed answer, a bad code,
//! a cancelled consent, an unknown, disabled or differently bound account are refused with the
//! sign-in page's fixed notice, nobody signed in, and an audit entry.

use std::net::SocketAddr;

use exchange_connector::model::Role;
use exchange_connector::server::config::{OidcIssuer, OidcSettings};
use exchange_connector::sim::{self, RunningSimulator, SimConfig};
use sqlx::SqlitePool;

use super::{audit_of, browser, get_html, me, summary};
use crate::helpers::{settings_for, TestApp, PASSWORD};

const SYNC_HISTORY: &str = "/conditional-access/exchange-connector/sync-history";

async fn provider_sim(auto_consent: bool) -> RunningSimulator {
    let config = SimConfig {
        devices: 4,
        mailboxes: 3,
        clock: sim::ClockMode::Frozen,
        auto_consent,
        ..SimConfig::default()
    };
    sim::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("simulator starts")
}

/// An app whose people sign in with `sim` (its issuer URL, demo app and secret), as a real
/// tenant is configured.
async fn app_with_sso(sim: RunningSimulator) -> TestApp {
    let c = sim.config();
    let oidc = OidcSettings {
        issuer: OidcIssuer::Url(
            format!("{}/{}/v2.0", sim.authority_url(), c.tenant_id)
                .parse()
                .expect("issuer"),
        ),
        client_id: Some(c.client_id.clone()),
        client_secret: Some(c.client_secret.clone().into()),
        provider_name: "Microsoft".into(),
    };
    let settings = settings_for(&sim);
    TestApp::spawn_configured(settings, Some(sim), |config| {
        config.security.oidc = Some(oidc);
    })
    .await
}

fn admin_email(app: &TestApp) -> String {
    app.sim.as_ref().expect("sim").config().admin_upn()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect, got {}", r.status()))
        .to_owned()
}

/// Start → the provider's authorize URL (checked) → with auto-consent, the callback URL the
/// provider sends the browser back to.
async fn provider_answer(app: &TestApp, client: &reqwest::Client, next: &str) -> url::Url {
    let authorize = authorize_url(app, client, next).await;
    let r = client.get(&authorize).send().await.expect("authorize");
    assert_eq!(r.status().as_u16(), 302, "the provider sends back");
    let back = url::Url::parse(&location(&r)).expect("callback URL");
    assert_eq!(back.path(), "/auth/sso/callback");
    back
}

async fn authorize_url(app: &TestApp, client: &reqwest::Client, next: &str) -> String {
    let r = client
        .get(format!("{}/auth/sso/start?next={next}", app.base_url))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status().as_u16(), 303, "start redirects to the provider");
    let authorize = location(&r);
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "prompt=select_account",
        "redirect_uri=http%3A%2F%2F127.0.0.1",
    ] {
        assert!(authorize.contains(part), "{part} in {authorize}");
    }
    let scope = url::Url::parse(&authorize)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .expect("scope");
    for s in ["openid", "email", "profile"] {
        assert!(scope.split(' ').any(|x| x == s), "{s} in {scope}");
    }
    authorize
}

/// Follows the callback: where it sends the browser.
async fn follow(client: &reqwest::Client, url: &str) -> String {
    let r = client.get(url).send().await.expect("callback");
    assert_eq!(r.status().as_u16(), 303, "the callback redirects");
    location(&r)
}

async fn subject_of(db: &SqlitePool, email: &str) -> Option<String> {
    sqlx::query_scalar("SELECT oidc_subject FROM users WHERE email = ?1")
        .bind(email)
        .fetch_one(db)
        .await
        .expect("user")
}

#[tokio::test]
async fn single_sign_on_signs_in_the_account_with_the_providers_address_and_binds_it() {
    let app = app_with_sso(provider_sim(true).await).await;
    let email = admin_email(&app);
    app.control
        .create_user(&email, PASSWORD, Role::Reader)
        .await
        .expect("account");
    let db = app.db().await;
    assert_eq!(subject_of(&db, &email).await, None, "not bound before");

    // The sign-in page offers it (server-rendered: no JavaScript needed).
    let client = browser();
    let (status, html) = get_html(&client, &app.base_url, "/sign-in").await;
    assert_eq!(status, 200);
    assert!(html.contains("Sign in with Microsoft"), "{html}");
    assert!(html.contains("href=\"/auth/sso/start"), "{html}");

    let back = provider_answer(&app, &client, SYNC_HISTORY).await;
    assert_eq!(follow(&client, back.as_str()).await, SYNC_HISTORY);
    let who = me(&client, &app.base_url).await.expect("signed in");
    assert_eq!(who.email, email);
    assert_eq!(who.role, Role::Reader);
    let subject = subject_of(&db, &email)
        .await
        .expect("bound at first sign-in");

    // The same answer again: refused (it was taken out of the session), still one subject.
    let again = follow(&client, back.as_str()).await;
    assert_eq!(again, "/sign-in?notice=sso-failed");

    // A second browser signs in again through the provider: the binding decides, unchanged.
    let other = browser();
    let back = provider_answer(&app, &other, "/").await;
    assert_eq!(follow(&other, back.as_str()).await, "/");
    assert_eq!(me(&other, &app.base_url).await.expect("in").email, email);
    assert_eq!(subject_of(&db, &email).await, Some(subject));

    let entries = audit_of(&db, &email).await;
    let kinds = summary(&entries);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ("signIn", "success", "single sign-on with Microsoft"))
            .count(),
        2,
        "{kinds:?}"
    );
    // The replay is recorded without an actor: the answer proved nobody.
    let replays: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'signInFailed' AND result = 'denied' \
         AND actor IS NULL AND detail LIKE '%used already%'",
    )
    .fetch_one(&db)
    .await
    .expect("audit");
    assert_eq!(replays, 1);
}

#[tokio::test]
async fn a_tampered_state_or_a_bad_code_signs_nobody_in() {
    let app = app_with_sso(provider_sim(true).await).await;
    let email = admin_email(&app);
    app.control
        .create_user(&email, PASSWORD, Role::Admin)
        .await
        .expect("account");

    let client = browser();
    let mut back = provider_answer(&app, &client, "/").await;
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    back.query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", "forged-state");
    assert_eq!(
        follow(&client, back.as_str()).await,
        "/sign-in?notice=sso-failed"
    );
    assert_eq!(me(&client, &app.base_url).await, None);

    // A right state with a code the provider never issued: the token endpoint refuses it.
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(
        follow(&client, with_forged_code(&back).as_str()).await,
        "/sign-in?notice=sso-failed"
    );
    assert_eq!(me(&client, &app.base_url).await, None);

    // An answer for another browser's sign-in: this session started none.
    let other = browser();
    assert_eq!(
        follow(&other, back.as_str()).await,
        "/sign-in?notice=sso-failed"
    );
    assert_eq!(me(&other, &app.base_url).await, None);

    let entries = audit_of(&app.db().await, &email).await;
    assert!(
        summary(&entries).iter().all(|(a, _, _)| *a != "signIn"),
        "nobody signed in: {entries:?}"
    );
}

/// The callback `back` with its code replaced by one the provider never issued.
fn with_forged_code(back: &url::Url) -> url::Url {
    let state = back
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let mut forged = back.clone();
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", "not-a-code-of-the-provider")
        .append_pair("state", &state);
    forged
}

#[tokio::test]
async fn failed_sign_ins_make_the_connector_read_discovery_again_at_most_once_a_minute() {
    let app = app_with_sso(provider_sim(true).await).await;
    let sim = app.sim.as_ref().expect("sim");
    let client = browser();
    let back = provider_answer(&app, &client, "/").await;
    let read = sim.state().discoveries();
    assert!(read >= 1, "discovery is read to start a sign-in");
    assert_eq!(
        follow(&client, with_forged_code(&back).as_str()).await,
        "/sign-in?notice=sso-failed"
    );
    // Anybody can send bad codes; each one would otherwise make the connector fetch the
    // provider's discovery and keys again.
    for _ in 0..12 {
        let back = provider_answer(&app, &client, "/").await;
        assert_eq!(
            follow(&client, with_forged_code(&back).as_str()).await,
            "/sign-in?notice=sso-failed"
        );
    }
    assert_eq!(
        sim.state().discoveries(),
        read,
        "discovery is not read again within the minute"
    );
    assert_eq!(me(&client, &app.base_url).await, None);
}

#[tokio::test]
async fn no_account_a_disabled_one_or_one_bound_elsewhere_is_refused_with_a_notice() {
    let app = app_with_sso(provider_sim(true).await).await;
    let email = admin_email(&app);
    let db = app.db().await;

    // Nobody has the provider's address: signing in creates no account.
    let client = browser();
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(
        follow(&client, back.as_str()).await,
        "/sign-in?notice=sso-no-account"
    );
    assert_eq!(me(&client, &app.base_url).await, None);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = ?1")
        .bind(&email)
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(count, 0);

    // Bound to another identity of the provider: refused, the binding unchanged.
    app.control
        .create_user(&email, PASSWORD, Role::Reader)
        .await
        .expect("account");
    sqlx::query(
        "UPDATE users SET oidc_issuer = 'x', oidc_subject = 'someone-else' WHERE email = ?1",
    )
    .bind(&email)
    .execute(&db)
    .await
    .expect("bind elsewhere");
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(
        follow(&client, back.as_str()).await,
        "/sign-in?notice=sso-no-account"
    );
    assert_eq!(
        subject_of(&db, &email).await.as_deref(),
        Some("someone-else")
    );

    // Unbound but disabled: refused too.
    sqlx::query(
        "UPDATE users SET oidc_issuer = NULL, oidc_subject = NULL, disabled_at = '2026-01-01T00:00:00Z' \
         WHERE email = ?1",
    )
    .bind(&email)
    .execute(&db)
    .await
    .expect("disable");
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(
        follow(&client, back.as_str()).await,
        "/sign-in?notice=sso-no-account"
    );
    assert_eq!(me(&client, &app.base_url).await, None);

    let kinds: Vec<_> = summary(&audit_of(&db, &email).await)
        .into_iter()
        .filter(|(a, _, _)| *a == "signInFailed")
        .map(|(_, r, d)| (r.to_owned(), d.to_owned()))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds.iter().all(|(r, _)| r == "denied"), "{kinds:?}");
    assert!(
        kinds[0].1.contains("no account has the address"),
        "{kinds:?}"
    );
    assert!(
        kinds[1].1.contains("bound to another identity"),
        "{kinds:?}"
    );
    assert!(kinds[2].1.contains("is disabled"), "{kinds:?}");
}

#[tokio::test]
async fn cancelling_at_the_provider_says_so_and_signs_nobody_in() {
    let app = app_with_sso(provider_sim(false).await).await;
    let client = browser();
    let authorize = authorize_url(&app, &client, "/").await;
    // The simulator's consent page, answered "Cancel".
    let r = client.get(&authorize).send().await.expect("consent page");
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.expect("html");
    let transaction = page
        .split("name=\"transaction\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("transaction")
        .to_owned();
    let consent = url::Url::parse(&authorize)
        .expect("url")
        .join("consent")
        .expect("consent URL");
    let r = client
        .post(consent)
        .form(&[
            ("transaction", transaction.as_str()),
            ("decision", "cancel"),
        ])
        .send()
        .await
        .expect("cancel");
    let back = location(&r);
    assert!(back.contains("error=access_denied"), "{back}");
    assert_eq!(
        follow(&client, &back).await,
        "/sign-in?notice=sso-cancelled"
    );
    assert_eq!(me(&client, &app.base_url).await, None);
}

#[tokio::test]
async fn an_unreachable_provider_sends_back_to_the_password_form() {
    let app = TestApp::spawn_configured(crate::helpers::unreachable_settings(), None, |config| {
        config.security.oidc = Some(OidcSettings {
            issuer: OidcIssuer::Url("http://127.0.0.1:9/tenant/v2.0".parse().expect("url")),
            client_id: Some("app".into()),
            client_secret: None,
            provider_name: "Contoso ID".into(),
        });
    })
    .await;
    let client = browser();
    let (_, html) = get_html(&client, &app.base_url, "/sign-in").await;
    assert!(html.contains("Sign in with Contoso ID"), "{html}");
    let r = client
        .get(format!("{}/auth/sso/start?next=/x", app.base_url))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/sign-in?notice=sso-unavailable&next=%2Fx");
}

#[tokio::test]
async fn without_oidc_settings_there_is_no_single_sign_on() {
    let app = TestApp::with_sim(1, 1).await;
    let client = browser();
    let (_, html) = get_html(&client, &app.base_url, "/sign-in").await;
    assert!(!html.contains("Sign in with"), "{html}");
    let r = client
        .get(format!("{}/auth/sso/start", app.base_url))
        .send()
        .await
        .expect("start");
    assert_eq!(location(&r), "/sign-in?notice=sso-unavailable");
}

#[tokio::test]
async fn an_account_without_a_password_signs_in_only_through_the_provider() {
    let app = app_with_sso(provider_sim(true).await).await;
    let email = admin_email(&app);
    let (status, body) = crate::helpers::call_fn(
        app.http(),
        &app.base_url,
        "users/add",
        &[("email", &email), ("role", "admin"), ("password", "")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = ?1")
            .bind(&email)
            .fetch_one(&app.db().await)
            .await
            .expect("user");
    assert_eq!(hash, None);

    // An empty (or any) password does not sign in as it.
    let client = browser();
    for password in ["", PASSWORD] {
        let (status, _) = super::call(
            &client,
            &app.base_url,
            "auth/sign-in",
            &[("email", &email), ("password", password)],
        )
        .await;
        assert_eq!(status, 400, "password {password:?}");
    }
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(follow(&client, back.as_str()).await, "/");
    let who = me(&client, &app.base_url).await.expect("signed in");
    assert_eq!((who.email, who.role), (email, Role::Admin));

    // There is no password to change.
    let form = [
        ("current_password", ""),
        ("password", "a long enough password"),
        ("confirm_password", "a long enough password"),
    ];
    let (status, body) = super::call(&client, &app.base_url, "account/password", &form).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("no password here"), "{body}");
}

#[tokio::test]
async fn without_single_sign_on_a_new_account_needs_a_password() {
    let app = TestApp::with_sim(1, 1).await;
    let (status, body) = crate::helpers::call_fn(
        app.http(),
        &app.base_url,
        "users/add",
        &[
            ("email", "ann@contoso.test"),
            ("role", "reader"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("password"), "{body}");
}

#[tokio::test]
async fn after_single_sign_on_a_foreign_or_broken_next_leads_to_the_connector_page() {
    let app = app_with_sso(provider_sim(true).await).await;
    let email = admin_email(&app);
    app.control
        .create_user(&email, PASSWORD, Role::Reader)
        .await
        .expect("account");
    for next in super::FOREIGN_NEXTS {
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let client = browser();
        let back = provider_answer(&app, &client, &encoded).await;
        assert_eq!(
            follow(&client, back.as_str()).await,
            "/conditional-access/exchange-connector",
            "{next:?}"
        );
        assert_eq!(me(&client, &app.base_url).await.expect("in").email, email);
    }
}

#[tokio::test]
async fn starting_single_sign_on_stores_nothing_and_its_cookie_works_once_in_its_own_browser() {
    let app = app_with_sso(provider_sim(true).await).await;
    let email = admin_email(&app);
    app.control
        .create_user(&email, PASSWORD, Role::Admin)
        .await
        .expect("account");
    let db = app.db().await;
    let sessions = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions")
            .fetch_one(&db)
            .await
            .expect("count")
    };
    let before = sessions().await;
    // Fifty visitors start a sign-in and go no further: not one session row.
    for _ in 0..50 {
        let r = browser()
            .get(format!("{}/auth/sso/start?next=/", app.base_url))
            .send()
            .await
            .expect("start");
        assert_eq!(r.status().as_u16(), 303);
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("the sign-in in progress is in a cookie")
            .to_owned();
        assert!(cookie.starts_with("ec_sso="), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/auth/sso/callback"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
    }
    assert_eq!(sessions().await, before);

    // The round trip signs in; the same answer a second time (the browser kept the callback
    // URL, not the cleared cookie) signs nobody in.
    let client = browser();
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(follow(&client, back.as_str()).await, "/");
    assert_eq!(
        me(&client, &app.base_url).await.map(|u| u.email),
        Some(email)
    );
    let again = browser();
    assert_eq!(
        follow(&again, back.as_str()).await,
        "/sign-in?notice=sso-failed"
    );
    assert_eq!(me(&again, &app.base_url).await, None);
}

#[tokio::test]
async fn an_account_bound_by_the_app_specific_subject_moves_to_the_entra_object_id() {
    use base64::Engine;
    let app = app_with_sso(provider_sim(true).await).await;
    let email = admin_email(&app);
    app.control
        .create_user(&email, PASSWORD, Role::Admin)
        .await
        .expect("account");
    let db = app.db().await;
    // The first sign-in binds the object id (the id_token carries oid and tid).
    let client = browser();
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(follow(&client, back.as_str()).await, "/");
    let object = subject_of(&db, &email).await.expect("bound");
    let oid = object.rsplit('/').next().expect("oid").to_owned();
    assert!(object.starts_with("oid:"), "{object}");

    // As an earlier release bound it: by `sub` (the simulator's `sub` is, as Entra's, one
    // per person and app). The next sign-in finds it by `sub` and moves it to the object id.
    let client_id = app
        .sim
        .as_ref()
        .expect("sim")
        .config()
        .client_id
        .to_ascii_lowercase();
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{client_id}\n{oid}").as_bytes(),
    );
    let sub = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    sqlx::query("UPDATE users SET oidc_subject = ?1 WHERE email = ?2")
        .bind(&sub)
        .bind(&email)
        .execute(&db)
        .await
        .expect("legacy binding");
    let client = browser();
    let back = provider_answer(&app, &client, "/").await;
    assert_eq!(follow(&client, back.as_str()).await, "/");
    assert_eq!(
        me(&client, &app.base_url).await.map(|u| u.email),
        Some(email.clone())
    );
    assert_eq!(subject_of(&db, &email).await, Some(object));
}
