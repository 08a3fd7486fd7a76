//! The REST API v1 with API tokens, as a script uses it: the real app, a real SQLite file and
//! the simulator on loopback. Tokens are created the way the account page creates them.

use exchange_connector::model::{CreatedApiToken, Role};
use serde_json::Value;

use crate::helpers::{call_with, header, TestApp};

/// A token created by `client` (signed in) with `role`.
async fn token(app: &TestApp, client: &reqwest::Client, name: &str, role: Role) -> String {
    let created: Option<CreatedApiToken> = call_with(
        app,
        client,
        "tokens/create",
        &[("name", name), ("role", role.as_str())],
    )
    .await
    .expect("token created");
    created
        .expect("the token, for a call with JavaScript")
        .secret
}

/// `GET path` (under `/api/v1`, or a whole URL) with `token`: status, content type, JSON body.
async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (u16, String, Value) {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}/api/v1{path}", app.base_url)
    };
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request.send().await.expect("the API answers")).await
}

async fn answer(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type");
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {status} {text}"));
    (status, content_type, body)
}

async fn start_sync(app: &TestApp, token: &str, id: &str, body: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/connectors/{id}/sync", app.base_url))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the API answers")
}

/// An RFC 9457 problem with `status`; its body.
fn problem(answer: (u16, String, Value), status: u16) -> Value {
    let (got, content_type, body) = answer;
    assert_eq!(got, status, "{body}");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["status"], status, "{body}");
    for key in ["type", "title", "detail"] {
        assert!(
            body[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key}: {body}"
        );
    }
    body
}

#[tokio::test]
async fn tokens_read_every_resource_as_the_pages_show_it_and_an_admin_token_starts_a_sync() {
    let app = TestApp::with_sim(120, 25).await;
    let overview = app.set_up().await.expect("set up");
    let c = overview.connector.expect("connector");
    let admin = token(&app, app.http(), "ops script", Role::Admin).await;
    let reader_client = app.signed_in(Role::Reader).await;
    let reader = token(&app, &reader_client, "dashboard", Role::Reader).await;

    // The connector, with Graph's names.
    let (status, _, list) = get(&app, Some(&reader), "/connectors").await;
    assert_eq!(status, 200, "{list}");
    let one = &list["value"][0];
    assert_eq!(list["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["id"], c.id.as_str());
    assert_eq!(one["status"], "connected");
    assert_eq!(one["exchangeConnectorType"], "serviceToService");
    assert_eq!(one["primarySmtpAddress"], c.account.as_str());
    assert_eq!(one["deviceCount"], c.device_count);
    assert_eq!(one["health"], "healthy");
    assert!(one["lastSyncDateTime"].as_str().is_some(), "{one}");
    assert!(
        one["serverName"].as_str().is_some_and(|s| s == "127.0.0.1"),
        "{one}"
    );
    let (status, _, single) = get(&app, Some(&reader), &format!("/connectors/{}", c.id)).await;
    assert_eq!(status, 200);
    assert_eq!(&single, one);
    problem(get(&app, Some(&reader), "/connectors/nope").await, 404);
    problem(
        get(&app, Some(&reader), "/connectors/nope/devices").await,
        404,
    );

    // Devices: the first page, the next one by its link, the filter, one device with its why.
    let base = format!("/connectors/{}", c.id);
    let (status, _, page) = get(&app, Some(&reader), &format!("{base}/devices?limit=25")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], c.device_count);
    let rows = page["value"].as_array().expect("rows").clone();
    assert_eq!(rows.len(), 25);
    let next = page["nextLink"].as_str().expect("a next page").to_owned();
    let (_, _, second) = get(&app, Some(&reader), &next).await;
    let second_rows = second["value"]
        .as_array()
        .unwrap_or_else(|| panic!("{next}: {second}"));
    assert_eq!(second_rows.len(), 25);
    assert!(
        second_rows.iter().all(|r| !rows.contains(r)),
        "pages overlap"
    );
    assert!(second["prevLink"].as_str().is_some());
    let (_, _, summary) = get(&app, Some(&reader), &format!("{base}/accessStateSummary")).await;
    assert_eq!(summary["total"], c.device_count);
    let blocked = summary["counts"]
        .as_array()
        .and_then(|counts| counts.iter().find(|pair| pair[0] == "Blocked"))
        .map(|pair| pair[1].clone())
        .expect("blocked count");
    let (_, _, filtered) = get(
        &app,
        Some(&reader),
        &format!("{base}/devices?state=Blocked&limit=200"),
    )
    .await;
    assert_eq!(filtered["total"], blocked, "{filtered}");
    assert!(filtered["value"]
        .as_array()
        .expect("rows")
        .iter()
        .all(|r| r["accessState"] == "Blocked"));
    let guid = rows[0]["guid"].as_str().expect("guid");
    let (status, _, device) = get(&app, Some(&reader), &format!("{base}/devices/{guid}")).await;
    assert_eq!(status, 200, "{device}");
    assert_eq!(device["row"]["guid"], guid, "{device}");
    problem(
        get(&app, Some(&reader), &format!("{base}/devices/unknown")).await,
        404,
    );
    let (status, _, readiness) = get(&app, Some(&reader), &format!("{base}/readiness")).await;
    assert_eq!(status, 200, "{readiness}");

    // A sync: readers may not, admins may, a second one while it runs is a conflict.
    let refused = start_sync(&app, &reader, &c.id, r#"{"syncType":"deltaSync"}"#).await;
    problem(answer(refused).await, 403);
    app.slow_device_pages(300);
    let started = start_sync(&app, &admin, &c.id, r#"{"syncType":"deltaSync"}"#).await;
    let location = header(&started, "location");
    let (status, _, body) = answer(started).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["url"], location.as_str());
    let busy = start_sync(&app, &admin, &c.id, r#"{"syncType":"fullSync"}"#).await;
    problem(answer(busy).await, 409);
    app.settled().await;
    let (status, _, run) = get(&app, Some(&reader), &location).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["kind"], "deltaSync");
    assert_eq!(run["status"], "succeeded", "{run}");
    assert!(run["triggeredBy"]
        .as_str()
        .is_some_and(|by| by.contains("ops script")));

    // Sync runs: newest first, paged by nextLink, filtered.
    let (_, _, runs) = get(&app, Some(&reader), &format!("{base}/syncRuns?limit=1")).await;
    assert_eq!(runs["value"][0]["id"], run["id"]);
    let next = runs["nextLink"].as_str().expect("next").to_owned();
    let (_, _, older) = get(&app, Some(&reader), &next).await;
    assert_eq!(older["value"][0]["kind"], "fullSync");
    assert!(older["nextLink"].is_null());
    let (_, _, full) = get(
        &app,
        Some(&reader),
        &format!("{base}/syncRuns?kind=fullSync"),
    )
    .await;
    assert_eq!(full["value"].as_array().map(Vec::len), Some(1));

    // The audit log: admins only, and it names the token that started the sync.
    problem(get(&app, Some(&reader), "/auditLog").await, 403);
    let (status, _, log) = get(
        &app,
        Some(&admin),
        "/auditLog?action=syncStart&result=success",
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let entry = &log["value"][0];
    assert!(
        entry["actor"]
            .as_str()
            .is_some_and(|a| a.contains("API token \"ops script\"")),
        "{entry}"
    );
    assert_eq!(
        entry["detail"],
        format!("run {}", run["id"].as_str().unwrap_or(""))
    );
    let (_, _, denied) = get(
        &app,
        Some(&admin),
        "/auditLog?action=syncStart&result=denied",
    )
    .await;
    assert_eq!(
        denied["value"].as_array().map(Vec::len),
        Some(1),
        "{denied}"
    );
}

#[tokio::test]
async fn bad_requests_get_the_right_4xx_as_problem_json_and_never_a_500() {
    let app = TestApp::with_sim(30, 10).await;
    let c = app.set_up().await.expect("set up").connector.expect("c");
    let admin = token(&app, app.http(), "checks", Role::Admin).await;
    let base = format!("/connectors/{}", c.id);

    let none = problem(get(&app, None, "/connectors").await, 401);
    assert!(none["detail"]
        .as_str()
        .is_some_and(|d| d.contains("Bearer")));
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/connectors", app.base_url))
        .header("authorization", format!("Basic {admin}"))
        .send()
        .await
        .expect("answer");
    assert!(header(&response, "www-authenticate").starts_with("Bearer"));
    problem(answer(response).await, 401);
    // A cookie of a signed-in admin is no way in.
    let (status, _, _) = answer(
        app.http()
            .get(format!("{}/api/v1/connectors", app.base_url))
            .send()
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(status, 401);

    let typo = problem(
        get(&app, Some(&admin), &format!("{base}/devices?stat=Blocked")).await,
        400,
    );
    assert_eq!(typo["field"], "stat");
    for (query, field) in [
        ("devices?state=Sideways", "state"),
        ("devices?limit=7", "limit"),
        ("devices?after=garbage", "after"),
        ("devices?sort=nothing", "sort"),
        ("syncRuns?cursor=garbage", "cursor"),
        ("syncRuns?limit=0", "limit"),
        ("syncRuns?status=sleeping", "status"),
        ("syncRuns?kind=fullSync&kind=deltaSync", "kind"),
    ] {
        let body = problem(
            get(&app, Some(&admin), &format!("{base}/{query}")).await,
            400,
        );
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    for query in ["from=yesterday", "action=nothing", "limit=100000"] {
        problem(
            get(&app, Some(&admin), &format!("/auditLog?{query}")).await,
            400,
        );
    }
    problem(get(&app, Some(&admin), "/nothing/here").await, 404);
    problem(
        get(&app, Some(&admin), &format!("{base}/syncRuns/0")).await,
        404,
    );
    let wrong_method = reqwest::Client::new()
        .delete(format!("{}/api/v1{base}", app.base_url))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("answer");
    problem(answer(wrong_method).await, 405);

    // Bodies: a wrong content type, JSON that does not parse or fit, too much of it.
    let plain = reqwest::Client::new()
        .post(format!("{}/api/v1{base}/sync", app.base_url))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body(r#"{"syncType":"fullSync"}"#)
        .send()
        .await
        .expect("answer");
    problem(answer(plain).await, 415);
    for body in [
        "{",
        r#"{"syncType":"everything"}"#,
        r#"{"syncType":"fullSync","extra":1}"#,
        "[]",
    ] {
        problem(
            answer(start_sync(&app, &admin, &c.id, body).await).await,
            400,
        );
    }
    let huge = format!(r#"{{"syncType":"fullSync","x":"{}"}}"#, "a".repeat(100_000));
    problem(
        answer(start_sync(&app, &admin, &c.id, &huge).await).await,
        413,
    );
    // None of it started a sync.
    let (_, _, runs) = get(&app, Some(&admin), &format!("{base}/syncRuns")).await;
    assert_eq!(runs["value"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_token_works_until_it_is_revoked_expires_or_its_owner_is_disabled_or_demoted() {
    let app = TestApp::with_sim(30, 10).await;
    let c = app.set_up().await.expect("set up").connector.expect("c");
    let owner = app.signed_in(Role::Admin).await;
    let secret = token(&app, &owner, "lifecycle", Role::Admin).await;
    let sync_body = r#"{"syncType":"deltaSync"}"#;

    // Readers may not create admin tokens; bad names and lifetimes are refused by field.
    let reader = app.signed_in(Role::Reader).await;
    let refused = call_with::<Option<CreatedApiToken>>(
        &app,
        &reader,
        "tokens/create",
        &[("name", "x"), ("role", "admin")],
    )
    .await
    .expect_err("above the reader's role");
    assert!(
        matches!(refused, exchange_connector::error::ApiError::Invalid { ref field, .. } if field == "role")
    );
    for (name, days, expected) in [
        ("", "90", "name"),
        ("ok", "0", "expires_in_days"),
        ("ok", "366", "expires_in_days"),
    ] {
        let e = call_with::<Option<CreatedApiToken>>(
            &app,
            &reader,
            "tokens/create",
            &[
                ("name", name),
                ("role", "reader"),
                ("expires_in_days", days),
            ],
        )
        .await
        .expect_err("refused");
        assert!(
            matches!(e, exchange_connector::error::ApiError::Invalid { ref field, .. } if field == expected),
            "{e:?}"
        );
    }

    // Listed without the token, never used yet; only its hash is stored.
    let list: Value = call_with(&app, &owner, "tokens/own", &[])
        .await
        .expect("list");
    let listed = &list["list"]["tokens"][0];
    assert_eq!(listed["name"], "lifecycle");
    assert!(listed["last_used_at"].is_null());
    assert!(!list.to_string().contains(&secret[4..]));
    let pool = app.db().await;
    let stored: Vec<(String, String)> = sqlx::query_as("SELECT token_hash, prefix FROM api_tokens")
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert!(stored
        .iter()
        .all(|(hash, prefix)| !hash.contains(&secret[4..])
            && secret.starts_with(prefix.as_str())
            && prefix.len() < 12));

    // Used: the last use is recorded.
    assert_eq!(get(&app, Some(&secret), "/connectors").await.0, 200);
    let list: Value = call_with(&app, &owner, "tokens/own", &[])
        .await
        .expect("list");
    assert!(
        list["list"]["tokens"][0]["last_used_at"].is_string(),
        "{list}"
    );

    // Demoted to reader: the admin token reads only, at once.
    let users: Value = call_with(&app, app.http(), "users/list", &[])
        .await
        .expect("users");
    let owner_email = list["list"]["tokens"][0]["owner_email"]
        .as_str()
        .expect("owner")
        .to_owned();
    let owner_id = users
        .as_array()
        .and_then(|u| u.iter().find(|u| u["email"] == owner_email.as_str()))
        .and_then(|u| u["id"].as_str())
        .expect("owner id")
        .to_owned();
    call_with::<()>(
        &app,
        app.http(),
        "users/role",
        &[("id", &owner_id), ("role", "reader")],
    )
    .await
    .expect("demoted");
    problem(
        answer(start_sync(&app, &secret, &c.id, sync_body).await).await,
        403,
    );
    assert_eq!(get(&app, Some(&secret), "/connectors").await.0, 200);

    // Disabled: refused at once; enabled again: works again.
    call_with::<()>(&app, app.http(), "users/disable", &[("id", &owner_id)])
        .await
        .expect("disabled");
    problem(get(&app, Some(&secret), "/connectors").await, 401);
    call_with::<()>(&app, app.http(), "users/enable", &[("id", &owner_id)])
        .await
        .expect("enabled");
    assert_eq!(get(&app, Some(&secret), "/connectors").await.0, 200);

    // Expired: refused.
    sqlx::query("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z'")
        .execute(&pool)
        .await
        .expect("expired");
    problem(get(&app, Some(&secret), "/connectors").await, 401);
    sqlx::query("UPDATE api_tokens SET expires_at = '2999-01-01T00:00:00Z'")
        .execute(&pool)
        .await
        .expect("live again");
    assert_eq!(get(&app, Some(&secret), "/connectors").await.0, 200);

    // Revoked by an admin (everyone's tokens are theirs to see): refused at once, audited.
    let all: Value = call_with(&app, app.http(), "tokens/all", &[])
        .await
        .expect("all");
    let id = all["list"]["tokens"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    call_with::<()>(&app, &reader, "tokens/revoke", &[("id", &id)])
        .await
        .expect_err("a reader may not revoke someone else's token");
    call_with::<()>(&app, app.http(), "tokens/revoke", &[("id", &id)])
        .await
        .expect("revoked");
    let refused = problem(get(&app, Some(&secret), "/connectors").await, 401);
    assert!(!refused["detail"]
        .as_str()
        .unwrap_or("")
        .contains(&secret[4..]));
    let admin = token(&app, app.http(), "auditor", Role::Admin).await;
    let (_, _, log) = get(&app, Some(&admin), "/auditLog?action=userChange").await;
    let details: Vec<&str> = log["value"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("revoked the API token \"lifecycle\"")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("created the API token \"lifecycle\"")),
        "{details:?}"
    );

    // Guessing is throttled per address like sign-ins: past five failures even a good token
    // waits.
    // (The refusals above counted too.)
    let mut refused = 0;
    while refused < 5 {
        let (status, _, _) = get(&app, Some("exc_guess"), "/connectors").await;
        if status == 429 {
            break;
        }
        assert_eq!(status, 401);
        refused += 1;
    }
    let throttled = problem(get(&app, Some(&admin), "/connectors").await, 429);
    assert!(
        throttled["detail"]
            .as_str()
            .is_some_and(|d| d.contains("API token")),
        "{throttled}"
    );
}

/// Every `$ref` in `value` (`#/components/schemas/<name>`).
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_owned()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_reference_page_serves_it_locally() {
    let app = TestApp::with_sim(10, 5).await;
    let (status, _, doc) = get(&app, None, "/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{doc}"
    );
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );

    // Every route of the API, as a script would call it.
    let expected = [
        ("get", "/connectors"),
        ("get", "/connectors/{id}"),
        ("post", "/connectors/{id}/sync"),
        ("get", "/connectors/{id}/syncRuns"),
        ("get", "/connectors/{id}/syncRuns/{runId}"),
        ("get", "/connectors/{id}/devices"),
        ("get", "/connectors/{id}/devices/{deviceId}"),
        ("get", "/connectors/{id}/accessStateSummary"),
        ("get", "/connectors/{id}/readiness"),
        ("get", "/auditLog"),
        ("post", "/connectors/{id}/devices/actions"),
        ("get", "/connectors/{id}/exchangeAccess"),
        ("post", "/connectors/{id}/exchangeAccess/preview"),
        ("post", "/connectors/{id}/exchangeAccess/changes"),
        ("post", "/connectors/{id}/mailboxPolicies/changes"),
    ];
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            documented.push((method.clone(), path.clone()));
            // Every path parameter is declared; every operation says what 401 means.
            for name in path.split('{').skip(1).filter_map(|p| p.split('}').next()) {
                assert!(
                    operation["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name
                            && p["in"] == "path"
                            && p["required"] == true)),
                    "{method} {path}: {name} undeclared"
                );
            }
            assert!(operation["responses"]["401"].is_object(), "{method} {path}");
            assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()));
            // Each is routed and guarded: without a token, a 401 (not a 404 or 405).
            let concrete = path
                .replace("{id}", "x")
                .replace("{runId}", "y")
                .replace("{deviceId}", "z");
            let url = format!("{}/api/v1{concrete}", app.base_url);
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("m");
            let response = reqwest::Client::new()
                .request(method.clone(), url)
                .send()
                .await
                .expect("answer");
            assert_eq!(response.status(), 401, "{method} {path}");
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every schema referred to is defined.
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("a schema ref");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} undefined"
        );
    }
    // Field names as the API sends them.
    let run = &doc["components"]["schemas"]["SyncRun"]["properties"];
    assert!(
        run["devicesSeen"].is_object() && run["devices_seen"].is_null(),
        "{run}"
    );

    // The reference page: its own scripts only, Swagger UI from this server, brotli and cached.
    let page = reqwest::get(format!("{}/api/docs", app.base_url))
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let policy = header(&page, "content-security-policy");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    let html = page.text().await.expect("html");
    assert!(!html.contains("https://"), "nothing from elsewhere: {html}");
    assert!(html.contains("id=\"problem-invalid\""));
    let init = reqwest::get(format!("{}/api/docs/init.js", app.base_url))
        .await
        .expect("init")
        .text()
        .await
        .expect("js");
    assert!(init.contains("/api/v1/openapi.json") && init.contains("validatorUrl: null"));
    let bundle = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the bundle's address")
        .to_owned();
    // (reqwest is built without decompression here: the bytes arrive as sent.)
    let raw = reqwest::Client::new();
    let br = raw
        .get(format!("{}{bundle}", app.base_url))
        .header("accept-encoding", "br")
        .send()
        .await
        .expect("bundle");
    assert_eq!(br.status(), 200);
    assert_eq!(header(&br, "content-encoding"), "br");
    assert!(header(&br, "cache-control").contains("immutable"));
    let plain = raw
        .get(format!("{}{bundle}", app.base_url))
        .header("accept-encoding", "identity")
        .send()
        .await
        .expect("bundle");
    assert_eq!(header(&plain, "content-encoding"), "");
    assert!(plain.bytes().await.expect("body").starts_with(b"/*"));
    let old = raw
        .get(format!(
            "{}/api/docs/1.0.0/swagger-ui-bundle.js",
            app.base_url
        ))
        .send()
        .await
        .expect("old");
    assert_eq!(old.status(), 404);
}

async fn post_json(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, String, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1{path}", app.base_url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    answer(response).await
}

#[tokio::test]
async fn admin_tokens_change_exchange_as_the_pages_do_audited_with_the_tokens_name_and_read_back() {
    let app = TestApp::with_sim(40, 10).await;
    let c = app.set_up().await.expect("set up").connector.expect("c");
    let admin = token(&app, app.http(), "change bot", Role::Admin).await;
    let reader_client = app.signed_in(Role::Reader).await;
    let reader = token(&app, &reader_client, "reader bot", Role::Reader).await;
    let base = format!("/connectors/{}", c.id);

    // Readers may look, never change.
    let (status, _, access) = get(&app, Some(&reader), &format!("{base}/exchangeAccess")).await;
    assert_eq!(status, 200, "{access}");
    assert!(access["settings"].is_object(), "{access}");
    assert_eq!(access["canChange"], false);
    for (path, body) in [
        (
            "devices/actions",
            serde_json::json!({"action": "block", "devices": ["x"]}),
        ),
        (
            "exchangeAccess/preview",
            serde_json::json!({"change": "settings"}),
        ),
        (
            "exchangeAccess/changes",
            serde_json::json!({"change": "settings"}),
        ),
        (
            "mailboxPolicies/changes",
            serde_json::json!({"change": "delete", "policy": "x"}),
        ),
    ] {
        problem(
            post_json(&app, &reader, &format!("{base}/{path}"), body).await,
            403,
        );
    }

    // Block an allowed device: done, read back, and the device says so.
    let (_, _, allowed) = get(
        &app,
        Some(&admin),
        &format!("{base}/devices?state=Allowed&limit=25"),
    )
    .await;
    let guid = allowed["value"][0]["guid"]
        .as_str()
        .expect("an allowed device")
        .to_owned();
    let (status, _, report) = post_json(
        &app,
        &admin,
        &format!("{base}/devices/actions"),
        serde_json::json!({"action": "block", "devices": [guid]}),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["callsFailed"], 0, "{report}");
    assert!(
        report["callsDone"].as_u64().is_some_and(|n| n >= 1),
        "{report}"
    );
    assert!(report["readBackRun"].is_string(), "{report}");
    let (_, _, device) = get(&app, Some(&admin), &format!("{base}/devices/{guid}")).await;
    assert_eq!(device["row"]["accessState"], "Blocked", "{device}");

    // Bad input is named, and nothing is sent.
    let removal = post_json(
        &app,
        &admin,
        &format!("{base}/devices/actions"),
        serde_json::json!({"action": "remove", "devices": [guid]}),
    )
    .await;
    assert_eq!(problem(removal, 400)["field"], "confirmation");
    let unknown = post_json(
        &app,
        &admin,
        &format!("{base}/devices/actions"),
        serde_json::json!({"action": "explode", "devices": [guid]}),
    )
    .await;
    assert_eq!(problem(unknown, 400)["field"], "action");

    // A stricter default: previewed first, then made; Exchange agrees.
    let change = serde_json::json!({"change": "settings", "defaultAccessLevel": "Quarantine"});
    let (status, _, preview) = post_json(
        &app,
        &admin,
        &format!("{base}/exchangeAccess/preview"),
        change.clone(),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert!(
        preview["changing"].as_u64().is_some_and(|n| n > 0),
        "{preview}"
    );
    let (status, _, applied) = post_json(
        &app,
        &admin,
        &format!("{base}/exchangeAccess/changes"),
        change,
    )
    .await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["callsFailed"], 0, "{applied}");
    let (_, _, access) = get(&app, Some(&admin), &format!("{base}/exchangeAccess")).await;
    assert_eq!(
        access["settings"]["defaultAccessLevel"], "Quarantine",
        "{access}"
    );
    let wrong = post_json(
        &app,
        &admin,
        &format!("{base}/exchangeAccess/preview"),
        serde_json::json!({"change": "settings", "defaultAccessLevel": "Sometimes"}),
    )
    .await;
    assert_eq!(problem(wrong, 400)["field"], "default_access_level");

    // A mailbox policy: created with a setting, then deleted; each read back.
    let (status, _, created) = post_json(
        &app,
        &admin,
        &format!("{base}/mailboxPolicies/changes"),
        serde_json::json!({"change": "save", "name": "REST contractors",
            "settings": {"MinPasswordLength": "8"}}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["callsFailed"], 0, "{created}");
    let (_, _, access) = get(&app, Some(&admin), &format!("{base}/exchangeAccess")).await;
    let policy = access["policies"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "REST contractors"))
        .unwrap_or_else(|| panic!("the new policy in {access}"))
        .clone();
    let identity = policy["identity"].as_str().unwrap_or("REST contractors");
    let (status, _, deleted) = post_json(
        &app,
        &admin,
        &format!("{base}/mailboxPolicies/changes"),
        serde_json::json!({"change": "delete", "policy": identity}),
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    let (_, _, access) = get(&app, Some(&admin), &format!("{base}/exchangeAccess")).await;
    assert!(!access.to_string().contains("REST contractors"), "{access}");

    // Every change is in the audit log under the token's name.
    let (_, _, log) = get(&app, Some(&admin), "/auditLog?actor=change%20bot").await;
    let actions: Vec<&str> = log["value"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"deviceAction"), "{actions:?}");
    assert!(actions.contains(&"exchangeChange"), "{actions:?}");
}
