//! "Your account": changing your own password. Each refusal names its field and changes
//! nothing; a change ends the account's other sessions, keeps this one, and makes only the new
//! password work. Without JavaScript the form comes back to the page with a notice.

use exchange_connector::model::Role;

use super::{browser, call, form_post, me, summary};
use crate::helpers::{TestApp, PASSWORD};

const NEW: &str = "a brand new long password";

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (reqwest::Client, u16) {
    let client = browser();
    let (status, _) = call(
        &client,
        &app.base_url,
        "auth/sign-in",
        &[("email", email), ("password", password)],
    )
    .await;
    (client, status)
}

fn change<'a>(current: &'a str, new: &'a str, again: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("current_password", current),
        ("password", new),
        ("confirm_password", again),
    ]
}

#[tokio::test]
async fn a_password_change_checks_each_field_then_ends_the_other_sessions_only() {
    let app = TestApp::with_sim(1, 1).await;
    let email = "rita@contoso.test";
    app.control
        .create_user(email, PASSWORD, Role::Reader)
        .await
        .expect("user");
    let (mine, status) = sign_in(&app, email, PASSWORD).await;
    assert_eq!(status, 200);
    let (other, status) = sign_in(&app, email, PASSWORD).await;
    assert_eq!(status, 200);

    for (form, field) in [
        (change("not my password", NEW, NEW), "current_password"),
        (change(PASSWORD, "short", "short"), "password"),
        (change(PASSWORD, PASSWORD, PASSWORD), "password"),
        (
            change(PASSWORD, NEW, "something else entirely"),
            "confirm_password",
        ),
    ] {
        let (status, body) = call(&mine, &app.base_url, "account/password", &form).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains(&format!("\"field\":\"{field}\"")),
            "{field}: {body}"
        );
    }
    // Nothing changed: both sessions still work, the old password still signs in.
    assert!(me(&other, &app.base_url).await.is_some());
    assert_eq!(sign_in(&app, email, PASSWORD).await.1, 200);

    let (status, body) = call(
        &mine,
        &app.base_url,
        "account/password",
        &change(PASSWORD, NEW, NEW),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        me(&mine, &app.base_url).await.map(|u| u.email).as_deref(),
        Some(email)
    );
    assert_eq!(
        me(&other, &app.base_url).await,
        None,
        "the other session ended"
    );
    assert_eq!(
        sign_in(&app, email, PASSWORD).await.1,
        400,
        "the old password"
    );
    assert_eq!(sign_in(&app, email, NEW).await.1, 200, "the new password");

    let entries = super::audit_of(&app.db().await, email).await;
    let kinds = summary(&entries);
    assert!(
        kinds.contains(&("userChange", "denied", "The current password is not right.")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "userChange",
            "success",
            "changed their own password; their other sessions were signed out"
        )),
        "{kinds:?}"
    );
    super::assert_never_recorded(&app.db().await, NEW).await;
}

#[tokio::test]
async fn without_javascript_the_change_comes_back_to_the_account_page_with_a_notice() {
    let app = TestApp::with_sim(1, 1).await;
    let email = "nojs@contoso.test";
    app.control
        .create_user(email, PASSWORD, Role::Admin)
        .await
        .expect("user");
    let (client, _) = sign_in(&app, email, PASSWORD).await;
    let (status, location) = form_post(
        &client,
        &app.base_url,
        "account/password",
        &change("wrong", NEW, NEW),
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (302, "/account?notice=current-password-wrong")
    );
    let (status, location) = form_post(
        &client,
        &app.base_url,
        "account/password",
        &change(PASSWORD, NEW, NEW),
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (302, "/account?notice=password-changed")
    );
    let (status, html) =
        super::get_html(&client, &app.base_url, "/account?notice=password-changed").await;
    assert_eq!(status, 200);
    assert!(html.contains("Your password was changed."), "{html}");
    assert!(html.contains(email), "{html}");
}
