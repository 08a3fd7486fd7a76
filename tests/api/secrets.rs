//! No secret leaves the server: a full delegated set-up through the real binary (debug logs
//! on), then every log line, every page and every server-function answer is searched for the
//! client secret, the refresh token (decrypted from the database with the key file), the admin's
//! password and the key itself. Single sign-on (its client secret from the environment) is
//! part of the run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use exchange_connector::sim::{self, SimConfig};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

use crate::binary::{create_admin, post, sign_in, spawn_server_with};
use crate::helpers::PASSWORD;

#[tokio::test]
async fn no_secret_reaches_the_logs_the_pages_or_the_server_function_answers() {
    let sim = sim::start(
        SimConfig {
            devices: 30,
            mailboxes: 16,
            clock: sim::ClockMode::Frozen,
            auto_consent: true,
            ..SimConfig::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("dir");
    let db_file = dir.path().join("connector.db");
    let log = dir.path().join("server.log");
    create_admin(&db_file);
    let c = sim.config();
    let issuer = format!("{}/{}/v2.0", sim.authority_url(), c.tenant_id);
    let (mut server, base) = spawn_server_with(
        &sim,
        &db_file,
        &[
            ("EXO_AUTH_MODE", "delegated"),
            ("RUST_LOG", "debug,hyper=info,h2=info,rustls=info"),
            // Single sign-on with the simulator too, its secret in the environment.
            ("OIDC_ISSUER_URL", &issuer),
            ("OIDC_CLIENT_ID", &c.client_id),
            ("OIDC_CLIENT_SECRET", &c.client_secret),
        ],
        Some(&log),
    )
    .await;
    let client = sign_in(&base).await;
    let mut seen = Vec::<String>::new();

    // Set Up: the consent round trip, followed like a browser, ends on the connector page.
    // Seen twice in CI: the connection closed before an answer, the server's log ending in a
    // panic's backtrace. Should it happen again, say what the server logged: a panic's message
    // and first frames, else the last lines.
    let server_log = || {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let from = lines
            .iter()
            .position(|l| l.contains("panicked at"))
            .map_or(lines.len().saturating_sub(40), |i| i.saturating_sub(5));
        lines[from..]
            .iter()
            .take(40)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    };
    let page = client
        .get(format!("{base}/auth/exchange/start"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("round trip: {e:?}\nthe server's log:\n{}", server_log()));
    assert!(
        page.status() == 200 && page.url().path() == "/conditional-access/exchange-connector",
        "round trip ended on {} with {}\nthe server's log:\n{}",
        page.url(),
        page.status(),
        server_log()
    );
    seen.push(page.text().await.expect("page"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = post(&client, &base, "connector/overview", "").await;
        assert_eq!(status, 200, "{body}");
        let synced = body.contains("\"lastSyncAt\":\"") || body.contains("\"last_sync_at\":\"");
        seen.push(body);
        if synced {
            break;
        }
        assert!(Instant::now() < deadline, "the first sync did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for endpoint in [
        "connector/live",
        "connector/set-up-info",
        "auth/me",
        "sync-history/page",
    ] {
        let (status, body) = post(&client, &base, endpoint, "").await;
        assert_eq!(status, 200, "{endpoint}: {body}");
        seen.push(body);
    }
    // Single sign-on of an account without a password, followed like a browser.
    let admin_upn = c.admin_upn();
    let form = format!(
        "email={}&role=reader&password=",
        admin_upn.replace('@', "%40")
    );
    let (status, body) = post(&client, &base, "users/add", &form).await;
    assert_eq!(status, 200, "{body}");
    let sso = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // Start, the provider's authorize (auto-consent), the callback: each hop by hand, to keep
    // the code the provider sent back.
    let mut url = url::Url::parse(&format!("{base}/auth/sso/start")).expect("url");
    let mut code = None;
    for _ in 0..3 {
        let r = sso.get(url.as_str()).send().await.expect("single sign-on");
        let location = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        url = url.join(&location).expect("a redirect");
        code = code.or_else(|| {
            url.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        });
    }
    let code = code.expect("the provider sent a code");
    let landed = sso.get(url.as_str()).send().await.expect("landing page");
    assert_eq!(
        landed.url().path(),
        "/conditional-access/exchange-connector"
    );
    seen.push(landed.text().await.expect("page"));
    let (status, body) = post(&sso, &base, "auth/me", "").await;
    assert!(status == 200 && body.contains(&admin_upn), "{body}");
    seen.push(body);
    for path in [
        "/conditional-access/exchange-connector",
        "/conditional-access/exchange-connector/sync-history",
        "/conditional-access/exchange-connector/sync-history.csv",
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect(path);
        assert_eq!(r.status(), 200, "{path}");
        seen.push(r.text().await.expect("body"));
    }
    server.kill().expect("stop");
    server.wait().expect("reaped");
    seen.push(std::fs::read_to_string(&log).expect("log"));
    let everything = seen.join("\n");

    // What was searched is the real thing: the admin's account, the sync, the debug log.
    let admin = sim.config().admin_upn();
    assert!(everything.contains(&admin), "the account appears");
    assert!(everything.contains("sync finished"), "the log was captured");
    assert!(everything.contains("DEBUG"), "at debug level");

    let key_text = std::fs::read_to_string(dir.path().join("secret.key")).expect("key file");
    let refresh = stored_refresh_token(&db_file, key_text.trim()).await;
    assert!(refresh.len() >= 16, "a real token was stored");
    for (what, secret) in [
        ("the client secret", sim.config().client_secret.clone()),
        ("the refresh token", refresh),
        ("the admin's password", PASSWORD.to_owned()),
        ("the encryption key", key_text.trim().to_owned()),
        ("the single sign-on's code", code),
    ] {
        assert!(!everything.contains(&secret), "{what} leaked");
    }
}

/// The refresh token as the connector stored it, opened with the key file.
async fn stored_refresh_token(db_file: &std::path::Path, key_b64: &str) -> String {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", db_file.display()))
        .await
        .expect("database");
    let (connector, nonce, mut sealed): (String, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT connector_id, nonce, ciphertext FROM connector_secrets WHERE name = 'refresh_token'",
    )
    .fetch_one(&pool)
    .await
    .expect("a stored refresh token");
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .expect("base64 key");
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).expect("key"));
    let context = format!("connector:{connector}:refresh_token");
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(&nonce).expect("nonce"),
            Aad::from(context.as_bytes()),
            &mut sealed,
        )
        .expect("decrypts with the key file");
    String::from_utf8(plain.to_vec()).expect("text")
}
