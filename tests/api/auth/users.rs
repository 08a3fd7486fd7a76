//! The users page's server functions and forms: admins change accounts, readers cannot, and
//! nobody can leave the connector without an admin.

use exchange_connector::model::{Role, UserSummary};
use reqwest::redirect::Policy;

use super::{assert_never_recorded, audit_of, browser, call, form_post, get_html, me, summary};
use crate::helpers::{TestApp, PASSWORD};

async fn users(client: &reqwest::Client, app: &TestApp) -> Vec<UserSummary> {
    let (status, body) = call(client, &app.base_url, "users/list", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn find<'a>(list: &'a [UserSummary], email: &str) -> Option<&'a UserSummary> {
    list.iter().find(|u| u.email == email)
}

#[tokio::test]
async fn an_admin_adds_changes_disables_enables_and_deletes_a_user_and_each_change_is_audited() {
    let app = TestApp::with_sim(1, 10).await;
    let admin = app.http();
    let url = app.base_url.as_str();
    let new = [
        ("email", "fay@contoso.test"),
        ("display_name", "Fay"),
        ("role", "reader"),
        ("password", PASSWORD),
    ];
    assert_eq!(call(admin, url, "users/add", &new).await.0, 200);
    let (status, body) = call(admin, url, "users/add", &new).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("This email address already has an account."),
        "{body}"
    );

    let list = users(admin, &app).await;
    let fay = find(&list, "fay@contoso.test").expect("added").clone();
    assert_eq!((fay.role, fay.is_you), (Role::Reader, false));
    assert_eq!(fay.display_name.as_deref(), Some("Fay"));
    assert!(list.iter().any(|u| u.is_you && u.role == Role::Admin));
    let id = fay.id.as_str();

    assert_eq!(
        call(admin, url, "users/role", &[("id", id), ("role", "admin")])
            .await
            .0,
        200
    );
    assert_eq!(
        call(admin, url, "users/role", &[("id", id), ("role", "reader")])
            .await
            .0,
        200
    );
    assert_eq!(
        call(admin, url, "users/disable", &[("id", id)]).await.0,
        200
    );
    let sign_in = [("email", "fay@contoso.test"), ("password", PASSWORD)];
    let (status, body) = call(&browser(), url, "auth/sign-in", &sign_in).await;
    assert_eq!(status, 400, "a disabled user cannot sign in: {body}");
    assert!(find(&users(admin, &app).await, "fay@contoso.test")
        .expect("listed")
        .disabled_at
        .is_some());
    assert_eq!(call(admin, url, "users/enable", &[("id", id)]).await.0, 200);
    assert_eq!(call(&browser(), url, "auth/sign-in", &sign_in).await.0, 200);
    assert_eq!(call(admin, url, "users/delete", &[("id", id)]).await.0, 200);
    assert!(find(&users(admin, &app).await, "fay@contoso.test").is_none());
    let (status, body) = call(admin, url, "users/delete", &[("id", id)]).await;
    assert_eq!(status, 409);
    assert!(body.contains("This user no longer exists."), "{body}");

    let db = app.db().await;
    let changes: Vec<_> = audit_of(&db, "fay@contoso.test")
        .await
        .into_iter()
        .filter(|e| e.0 == "userChange")
        .collect();
    assert_eq!(
        summary(&changes),
        [
            ("userChange", "success", "added as reader"),
            ("userChange", "success", "role reader → admin"),
            ("userChange", "success", "role admin → reader"),
            ("userChange", "success", "disabled"),
            ("userChange", "success", "enabled"),
            ("userChange", "success", "deleted (reader)"),
        ]
    );
    let me = me(admin, url).await.expect("admin");
    assert!(changes
        .iter()
        .all(|e| e.1.as_deref() == Some(me.email.as_str())));
    assert_never_recorded(&db, PASSWORD).await;
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_for_good_even_once_it_is_enabled_again() {
    let app = TestApp::with_sim(1, 10).await;
    let admin = app.http();
    let url = app.base_url.as_str();
    let fay = app.signed_in(Role::Reader).await;
    let email = me(&fay, url).await.expect("signed in").email;
    let id = find(&users(admin, &app).await, &email)
        .expect("listed")
        .id
        .clone();
    assert_eq!(
        call(admin, url, "users/disable", &[("id", id.as_str())])
            .await
            .0,
        200
    );
    assert_eq!(
        call(admin, url, "users/enable", &[("id", id.as_str())])
            .await
            .0,
        200
    );
    // A cookie taken before the account was disabled opens nothing any more.
    assert!(me(&fay, url).await.is_none(), "the old session ended");
    let (status, _) = call(&fay, url, "connector/overview", &[]).await;
    assert_eq!(status, 401);
    // Signing in again works.
    let again = browser();
    let sign_in = [("email", email.as_str()), ("password", PASSWORD)];
    assert_eq!(call(&again, url, "auth/sign-in", &sign_in).await.0, 200);
    assert_eq!(me(&again, url).await.map(|u| u.email), Some(email));
}

#[tokio::test]
async fn a_reader_is_refused_every_users_function_and_the_users_page() {
    let app = TestApp::with_sim(1, 10).await;
    let reader = app.signed_in(Role::Reader).await;
    let list = users(app.http(), &app).await;
    let someone = list[0].id.as_str();
    let calls: [(&str, Vec<(&str, &str)>); 6] = [
        ("users/list", vec![]),
        (
            "users/add",
            vec![
                ("email", "gil@contoso.test"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        ),
        ("users/role", vec![("id", someone), ("role", "reader")]),
        ("users/disable", vec![("id", someone)]),
        ("users/enable", vec![("id", someone)]),
        ("users/delete", vec![("id", someone)]),
    ];
    for (endpoint, form) in &calls {
        let (status, body) = call(&reader, &app.base_url, endpoint, form).await;
        assert_eq!(status, 403, "{endpoint}: {body}");
    }
    let (status, _) = get_html(&reader, &app.base_url, "/admin/users").await;
    assert_eq!(status, 403);
    assert!(find(&users(app.http(), &app).await, "gil@contoso.test").is_none());
}

#[tokio::test]
async fn the_only_admin_cannot_demote_disable_or_delete_themselves() {
    let app = TestApp::with_sim(1, 10).await;
    let admin = app.http();
    let url = app.base_url.as_str();
    let list = users(admin, &app).await;
    let mine = list.iter().find(|u| u.is_you).expect("me").clone();
    let id = mine.id.as_str();
    let refusals = [
        (
            "users/role",
            vec![("id", id), ("role", "reader")],
            "You cannot remove your own admin role.",
        ),
        (
            "users/disable",
            vec![("id", id)],
            "You cannot disable your own account.",
        ),
        (
            "users/delete",
            vec![("id", id)],
            "You cannot delete your own account.",
        ),
    ];
    for (endpoint, form, message) in &refusals {
        let (status, body) = call(admin, url, endpoint, form).await;
        assert_eq!(status, 409, "{endpoint}: {body}");
        assert!(body.contains(message), "{endpoint}: {body}");
    }
    assert_eq!(users(admin, &app).await, list, "nothing changed");

    let db = app.db().await;
    let denied: Vec<_> = audit_of(&db, &mine.email)
        .await
        .into_iter()
        .filter(|e| e.3 == "denied")
        .collect();
    assert_eq!(denied.len(), 3, "{denied:?}");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::with_sim(1, 10).await;
    let first = app.signed_in(Role::Admin).await;
    let second = app.signed_in(Role::Admin).await;
    let url = app.base_url.as_str();
    let (a, b) = (
        me(&first, url).await.expect("a"),
        me(&second, url).await.expect("b"),
    );
    let list = users(&first, &app).await;
    let id = |email: &str| find(&list, email).expect("listed").id.clone();
    // Only these two stay admins.
    let helper = list
        .iter()
        .find(|u| u.role == Role::Admin && u.email != a.email && u.email != b.email);
    let helper = helper.expect("the helper's admin").id.clone();
    assert_eq!(
        call(
            &first,
            url,
            "users/role",
            &[("id", &helper), ("role", "reader")]
        )
        .await
        .0,
        200
    );

    let (a_id, b_id) = (id(&a.email), id(&b.email));
    let demote_b = [("id", b_id.as_str()), ("role", "reader")];
    let demote_a = [("id", a_id.as_str()), ("role", "reader")];
    let (x, y) = tokio::join!(
        call(&first, url, "users/role", &demote_b),
        call(&second, url, "users/role", &demote_a),
    );
    let succeeded = [x.0, y.0].iter().filter(|s| **s == 200).count();
    assert_eq!(succeeded, 1, "{x:?} {y:?}");
    let admins: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL",
    )
    .fetch_one(&app.db().await)
    .await
    .expect("count");
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn without_javascript_a_users_form_comes_back_to_the_page_with_a_notice() {
    let app = TestApp::with_sim(1, 10).await;
    let admin = app
        .signed_in_with(
            Role::Admin,
            reqwest::Client::builder().redirect(Policy::none()),
        )
        .await;
    let url = app.base_url.as_str();
    let new = [
        ("email", "hal@contoso.test"),
        ("display_name", ""),
        ("role", "admin"),
        ("password", PASSWORD),
    ];
    let (status, location) = form_post(&admin, url, "users/add", &new).await;
    assert_eq!(
        (status, location.as_str()),
        (302, "/admin/users?notice=user-added")
    );
    let (status, html) = get_html(&admin, url, &location).await;
    assert_eq!(status, 200);
    assert!(html.contains("The user was added."));
    assert!(html.contains("hal@contoso.test"));
    assert!(
        html.contains(r#"action="/api/users/role""#),
        "row forms are real forms"
    );
    assert!(
        html.contains(r#"href="/admin/users""#),
        "an admin has the admin links"
    );
    assert!(html.contains(r#"href="/admin/audit-log""#));

    let (status, location) = form_post(&admin, url, "users/add", &new).await;
    assert_eq!(
        (status, location.as_str()),
        (302, "/admin/users?notice=email-taken")
    );
    let (_, html) = get_html(&admin, url, &location).await;
    assert!(html.contains("This email address already has an account."));

    let mine = users(&admin, &app)
        .await
        .into_iter()
        .find(|u| u.is_you)
        .expect("me");
    let (_, location) = form_post(&admin, url, "users/delete", &[("id", &mine.id)]).await;
    assert_eq!(location, "/admin/users?notice=own-delete");
    let (_, html) = get_html(&admin, url, &location).await;
    assert!(html.contains("You cannot delete your own account."));
}

#[tokio::test]
async fn an_admin_sets_a_forgotten_password_and_the_old_sessions_end() {
    let app = TestApp::with_sim(1, 10).await;
    let admin = app.http();
    let url = app.base_url.as_str();
    let email = "gus@contoso.test";
    app.control
        .create_user(email, PASSWORD, Role::Reader)
        .await
        .expect("user");
    let gus = browser();
    let sign_in = |client: &reqwest::Client, password: &'static str| {
        let client = client.clone();
        async move {
            call(
                &client,
                url,
                "auth/sign-in",
                &[("email", email), ("password", password)],
            )
            .await
            .0
        }
    };
    assert_eq!(sign_in(&gus, PASSWORD).await, 200);
    let list = users(admin, &app).await;
    let id = find(&list, email).expect("listed").id.clone();
    let me_id = list.iter().find(|u| u.is_you).expect("you").id.clone();

    let (status, body) = call(
        admin,
        url,
        "users/password",
        &[("id", &id), ("password", "short")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"password\""), "{body}");
    let (status, body) = call(
        admin,
        url,
        "users/password",
        &[("id", &me_id), ("password", "an admin's own new password")],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("your account page"), "{body}");
    assert!(me(&gus, url).await.is_some(), "nothing changed yet");

    let new = "gus's brand new password";
    let (status, body) = call(
        admin,
        url,
        "users/password",
        &[("id", &id), ("password", new)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me(&gus, url).await, None, "Gus's session ended");
    assert_eq!(sign_in(&browser(), PASSWORD).await, 400);
    assert_eq!(sign_in(&browser(), new).await, 200);
    let entries = audit_of(&app.db().await, email).await;
    assert!(
        summary(&entries).contains(&(
            "userChange",
            "success",
            "new password set by an admin; their sessions were signed out"
        )),
        "{entries:?}"
    );
    assert_never_recorded(&app.db().await, new).await;
}
