//! The built front end as browsers and proxies get it: every asset under `/pkg` is sent as the
//! file the build compressed (never compressed again per request), a content-hashed name is
//! cached for a year, anything else and every page is checked again before use.

use std::net::SocketAddr;
use std::path::Path;

use exchange_connector::server::Application;
use leptos::config::LeptosOptions;

use crate::helpers::{test_config, unreachable_settings};

/// Names as cargo-leptos' `hash-files` writes them (the hash: 22 URL-safe base64 characters).
const HASHED: &[(&str, &str)] = &[
    (
        "exchange-connector.Xq1P7dfpKx-nRBvT6iGh_w.wasm",
        "application/wasm",
    ),
    (
        "exchange-connector.b0c1P7dfpKxnRBvT6iGh_w.js",
        "text/javascript",
    ),
    ("exchange-connector.cS3P7dfpKx-nRBvT6iGh-w.css", "text/css"),
];

/// A site whose `pkg` holds each asset of `names` with a brotli and a gzip file beside it
/// (distinct bytes, so that a body tells which file was sent).
fn site(root: &Path, names: &[&str]) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    for name in names {
        std::fs::write(pkg.join(name), plain(name)).expect("asset");
        std::fs::write(pkg.join(format!("{name}.br")), format!("br:{name}")).expect("br");
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gz:{name}")).expect("gz");
    }
}

/// The uncompressed content of asset `name`: long and repetitive, so that a server compressing
/// on the fly would.
fn plain(name: &str) -> String {
    format!("plain:{name};").repeat(2_000)
}

async fn serve(site_root: &Path) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = test_config(&dir.path().join("connector.db"), unreachable_settings());
    let options = LeptosOptions::builder()
        .output_name("exchange-connector")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
        .build();
    let app = Application::build(config, options)
        .await
        .expect("application builds");
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    (base, dir)
}

/// A client that decodes nothing: the body is what the server sent.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

async fn get(
    client: &reqwest::Client,
    url: &str,
    accept_encoding: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let response = client
        .get(url)
        .header("accept-encoding", accept_encoding)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_hashed_asset_is_sent_as_the_build_compressed_it_and_cached_for_a_year() {
    let root = tempfile::tempdir().expect("site");
    let names: Vec<&str> = HASHED.iter().map(|(name, _)| *name).collect();
    site(root.path(), &names);
    let (base, _dir) = serve(root.path()).await;
    let client = raw_client();

    for (name, content_type) in HASHED {
        let url = format!("{base}/pkg/{name}");
        // What browsers send: brotli preferred.
        for (accept, encoding, body) in [
            ("gzip, deflate, br, zstd", Some("br"), format!("br:{name}")),
            ("br", Some("br"), format!("br:{name}")),
            ("gzip", Some("gzip"), format!("gz:{name}")),
            ("identity", None, plain(name)),
        ] {
            let (status, headers, got) = get(&client, &url, accept).await;
            assert_eq!(status, 200, "{name} with {accept}");
            assert_eq!(
                header(&headers, "content-encoding"),
                encoding,
                "{name} with {accept}"
            );
            assert!(got == body, "{name} with {accept}: another body was sent");
            assert_eq!(
                header(&headers, "cache-control"),
                Some("public, max-age=31536000, immutable"),
                "{name}"
            );
            assert_eq!(header(&headers, "vary"), Some("accept-encoding"), "{name}");
            assert!(
                header(&headers, "content-type").is_some_and(|t| t.starts_with(content_type)),
                "{name}: {:?}",
                header(&headers, "content-type")
            );
        }
    }
}

#[tokio::test]
async fn unhashed_assets_and_pages_are_checked_again_and_a_missing_asset_is_not_cached() {
    let root = tempfile::tempdir().expect("site");
    // A debug build: no content hash in the names, nothing precompressed.
    std::fs::create_dir_all(root.path().join("pkg")).expect("pkg");
    std::fs::write(
        root.path().join("pkg/exchange-connector.wasm"),
        plain("wasm"),
    )
    .expect("wasm");
    let (base, _dir) = serve(root.path()).await;
    let client = raw_client();

    // Compressed on the fly (no file to send), and revalidated: the next build reuses the name.
    let (status, headers, _) = get(
        &client,
        &format!("{base}/pkg/exchange-connector.wasm"),
        "br",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));

    let (status, headers, _) = get(
        &client,
        &format!("{base}/pkg/exchange-connector.Xq1P7dfpKx-nRBvT6iGh_w.wasm"),
        "br",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "cache-control"), None);

    // No listing of the folder.
    let (status, _, _) = get(&client, &format!("{base}/pkg/"), "identity").await;
    assert_eq!(status, 404);

    // A page: never stored as it is, it names this build's assets.
    let (status, headers, html) = get(&client, &format!("{base}/sign-in"), "identity").await;
    assert_eq!(status, 200);
    assert!(html.contains("/pkg/exchange-connector.css"), "{html}");
    let cache = header(&headers, "cache-control").unwrap_or_default();
    assert!(cache.contains("no-cache"), "{cache}");
}
