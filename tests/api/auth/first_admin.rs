//! The one-time first-admin link: the sign-in page explains it, it creates one admin, once.

use exchange_connector::model::Role;
use sqlx::SqlitePool;

use super::{assert_never_recorded, audit_of, browser, call, get_html, me, summary};
use crate::helpers::{build, test_config, unreachable_settings, PASSWORD};

/// An app with no account at all, and its one-time first-admin link (path and query).
async fn without_admin() -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = test_config(&dir.path().join("connector.db"), unreachable_settings());
    let app = build(config).await;
    let base_url = format!("http://{}", app.addr());
    let link = app.first_admin_link().expect("no admin: a link");
    let link = link
        .strip_prefix(&base_url)
        .expect("on this site")
        .to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    (base_url, link, dir)
}

#[tokio::test]
async fn the_first_admin_link_creates_one_admin_once_and_refuses_a_wrong_token() {
    let (base_url, link, dir) = without_admin().await;
    let token = link.split_once("token=").expect("a token").1.to_owned();
    let client = browser();

    let (status, html) = get_html(&client, &base_url, "/sign-in").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("No admin account yet"),
        "the way in is explained"
    );
    assert!(html.contains("exchange-connector admin create --email"));
    assert!(
        !html.contains(&token),
        "the token is only in the server log"
    );
    let (status, html) = get_html(&client, &base_url, &link).await;
    assert_eq!(status, 200);
    assert!(html.contains("Create the first admin"));
    assert!(html.contains(r#"action="/api/auth/first-admin""#));

    let admin = |token: &str, password: &'static str| {
        [
            ("token", token.to_owned()),
            ("email", "root@contoso.test".to_owned()),
            ("display_name", "Root".to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let post = |form: [(&'static str, String); 4]| {
        let client = client.clone();
        let base_url = base_url.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(&client, &base_url, "auth/first-admin", &form).await
        }
    };

    let (status, body) = post(admin("not-the-token", PASSWORD)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("This link was already used or is not valid."));
    // A refused field leaves the link working.
    let (status, body) = post(admin(&token, "short")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains(r#""field":"password""#), "{body}");

    let (status, body) = post(admin(&token, PASSWORD)).await;
    assert_eq!(status, 200, "{body}");
    let user = me(&client, &base_url)
        .await
        .expect("signed in as the new admin");
    assert_eq!(
        (user.email.as_str(), user.role),
        ("root@contoso.test", Role::Admin)
    );

    let second = browser();
    let (status, body) = call(
        &second,
        &base_url,
        "auth/first-admin",
        &[
            ("token", token.as_str()),
            ("email", "again@contoso.test"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 409, "the link works once: {body}");
    let (status, needed) = call(&second, &base_url, "auth/first-admin-needed", &[]).await;
    assert_eq!((status, needed.as_str()), (200, "false"));
    let (_, html) = get_html(&second, &base_url, &link).await;
    assert!(html.contains("This link was already used or is not valid."));
    assert!(
        !html.contains(r#"action="/api/auth/first-admin""#),
        "no form"
    );

    let db = SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("connector.db").display()
    ))
    .await
    .expect("db");
    let entries = audit_of(&db, "root@contoso.test").await;
    assert_eq!(
        summary(&entries),
        [
            (
                "userChange",
                "success",
                "first admin, created with the one-time link"
            ),
            ("signIn", "success", ""),
        ]
    );
    let refusals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'userChange' AND result = 'denied' \
         AND actor IS NULL",
    )
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(refusals, 2, "the wrong token and the second use");
    assert_never_recorded(&db, PASSWORD).await;
}
