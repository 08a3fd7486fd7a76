//! `make bench`, web part: the release server (the binary and the site `cargo leptos build
//! --release --precompress` wrote) with the demo tenant, set up, then measured from outside as a
//! browser and a load generator see it:
//!
//! - first load per page: the page and every asset it names, in the encoding a browser asks for
//!   (`gzip, deflate, br, zstd`), in bytes on the wire, with each asset's encoding and caching;
//! - requests/s and p99 (Debian's `wrk`, 2 threads, 32 connections) for the sign-in page, the
//!   connector page and the sync history signed in, `/healthz`, the wasm and the CSS, next to a
//!   bare axum handler in this process serving the connector page's bytes, and one answering
//!   `ok`, measured in the same run;
//!
//! and prints each figure next to its target. `WEB_SECONDS` (10) sets each wrk run's length.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[path = "support/server.rs"]
mod server;
use server::{
    connector, create_admin, free_port, main_of, post, setting, sign_in, wait_for, wait_idle,
    Error, Process,
};

const CONNECTOR: &str = "/conditional-access/exchange-connector";
const HISTORY: &str = "/conditional-access/exchange-connector/sync-history";
const SIGN_IN: &str = "/sign-in";
/// What Chromium sends.
const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";
/// First load of a page, compressed, everything included.
const FIRST_LOAD_TARGET: u64 = 250 * 1024;
const CONNECTOR_RPS_TARGET: f64 = 10_000.0;
const CONNECTOR_SHARE_TARGET: f64 = 0.08;
const CONNECTOR_P99_TARGET_MS: f64 = 20.0;

#[tokio::main]
async fn main() {
    main_of("web bench", run()).await;
}

async fn run() -> Result<(), Error> {
    let seconds = setting("WEB_SECONDS", 10);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pkg = root.join("target/site/pkg");
    let precompressed = std::fs::read_dir(&pkg)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".wasm.br"))
        })
        .unwrap_or(false);
    if !precompressed {
        return Err(format!(
            "{} holds no release build: run `cargo leptos build --release --precompress` \
             (make bench does)",
            pkg.display()
        )
        .into());
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err("wrk is missing: apt-get install -y wrk (make bench does)".into());
    }

    println!("\n== web: the release server, demo tenant, loopback ==");
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}", dir.path().join("web.db").display());
    create_admin(&database_url)?;
    let port = free_port()?;
    let _server = Process(
        connector(port, &database_url)
            .env("SECRET_KEY_FILE", dir.path().join("web.key"))
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/healthz"), Duration::from_secs(60)).await?;
    hydrates(&format!("{base}{SIGN_IN}"))?;
    let admin = sign_in(&base).await?;
    let (status, body) = post(&admin, &base, "connector/set-up", "").await?;
    if status != 200 {
        return Err(format!("set-up: {status} {body}").into());
    }
    wait_idle(&admin, &base).await?;
    let cookie = session_cookie(&base).await?;

    println!("\n-- first load (as a browser asks: {BROWSER_ENCODINGS}) --");
    let mut loads = Vec::new();
    for (name, path, cookie) in [
        ("sign-in page", SIGN_IN, None),
        ("connector page", CONNECTOR, Some(cookie.as_str())),
    ] {
        let total = first_load(&base, path, cookie).await?;
        println!("  {name}: {} in total", kb(total));
        loads.push((name, total));
    }

    // The bare baselines: the connector page's very bytes, and `ok`, from plain axum handlers.
    let page = raw_get(&base, CONNECTOR, Some(&cookie), "identity").await?;
    if page.status != 200 {
        return Err(format!("connector page: {}", page.status).into());
    }
    let bare = bare_server(page.body).await?;

    println!("\n-- requests/s (wrk -t2 -c32 -d{seconds}s, no compression asked) --");
    let wasm = asset(&base, ".wasm").await?;
    let css = asset(&base, ".css").await?;
    let runs: Vec<(&str, String, Vec<String>)> = vec![
        (
            "bare axum: the connector page's bytes",
            format!("{bare}/page"),
            vec![],
        ),
        (
            "connector page, signed in",
            format!("{base}{CONNECTOR}"),
            cookie_header(&cookie),
        ),
        (
            "sync history, signed in",
            format!("{base}{HISTORY}"),
            cookie_header(&cookie),
        ),
        ("sign-in page", format!("{base}{SIGN_IN}"), vec![]),
        ("bare axum: ok", format!("{bare}/ok"), vec![]),
        ("/healthz", format!("{base}/healthz"), vec![]),
        ("wasm, brotli", format!("{base}{wasm}"), br_header()),
        ("css, brotli", format!("{base}{css}"), br_header()),
    ];
    let mut results = Vec::new();
    for (name, url, headers) in &runs {
        let result = wrk(url, headers, seconds)?;
        println!(
            "  {name:<40} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {}",
            result.rps,
            result.p50_ms,
            result.p99_ms,
            if result.bad == 0 {
                String::new()
            } else {
                format!("{} answers not 2xx/3xx", result.bad)
            }
        );
        results.push(result);
    }
    let [bare_page, connector, _history, _sign_in, bare_ok, healthz, wasm, _css] =
        results.as_slice()
    else {
        return Err("wrk runs missing".into());
    };

    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("\nsummary, web:");
    for (name, total) in &loads {
        println!(
            "  first load of the {name} ≤ {}: {}: {}",
            kb(FIRST_LOAD_TARGET),
            kb(*total),
            met(*total <= FIRST_LOAD_TARGET)
        );
    }
    let share = connector.rps / bare_page.rps;
    println!(
        "  connector page ≥ {CONNECTOR_RPS_TARGET:.0} req/s: {:.0}: {}",
        connector.rps,
        met(connector.rps >= CONNECTOR_RPS_TARGET)
    );
    println!(
        "  connector page ≥ {:.0} % of bare axum ({:.0} req/s): {:.1} %: {}",
        CONNECTOR_SHARE_TARGET * 100.0,
        bare_page.rps,
        share * 100.0,
        met(share >= CONNECTOR_SHARE_TARGET)
    );
    println!(
        "  connector page p99 ≤ {CONNECTOR_P99_TARGET_MS} ms at 32 connections: {:.2} ms: {}",
        connector.p99_ms,
        met(connector.p99_ms <= CONNECTOR_P99_TARGET_MS && connector.bad == 0)
    );
    println!(
        "  /healthz within 2× of bare ({:.0} req/s): {:.0} req/s: {}",
        bare_ok.rps,
        healthz.rps,
        met(healthz.rps * 2.0 >= bare_ok.rps)
    );
    println!(
        "  wasm served precompressed: {:.0} req/s (before: about 63/s compressed per request)",
        wasm.rps
    );
    Ok(())
}

struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

/// `path` as sent (this crate's reqwest decodes nothing: the body is the bytes on the wire).
/// Checks that the release page at `url` hydrates in headless Chromium (the Playwright suite
/// runs the debug build; a release build whose server and browser halves disagree renders
/// fine and never becomes interactive).
fn hydrates(url: &str) -> Result<(), Error> {
    let out = Command::new("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ])
        .output()
        .map_err(|e| format!("headless chromium (make test installs it): {e}"))?;
    let dom = String::from_utf8_lossy(&out.stdout);
    if !dom.contains("data-hydrated=\"true\"") {
        return Err(format!("{url} does not hydrate in the release build").into());
    }
    println!("  the release page hydrates in headless Chromium");
    Ok(())
}

async fn raw_get(
    base: &str,
    path: &str,
    cookie: Option<&str>,
    encodings: &str,
) -> Result<Fetched, Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut request = client
        .get(format!("{base}{path}"))
        .header("accept-encoding", encodings);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await?;
    Ok(Fetched {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await?.to_vec(),
    })
}

/// Loads page `path` and every asset it names as a browser would; prints each and returns
/// the bytes on the wire.
async fn first_load(base: &str, path: &str, cookie: Option<&str>) -> Result<u64, Error> {
    let page = raw_get(base, path, cookie, BROWSER_ENCODINGS).await?;
    if page.status != 200 {
        return Err(format!("{path}: {}", page.status).into());
    }
    let html = raw_get(base, path, cookie, "identity").await?.body;
    let html = String::from_utf8_lossy(&html);
    let mut total = page.body.len() as u64;
    println!("    {path}: {}, {}", kb(total), describe(&page.headers));
    let mut assets = assets_named(&html);
    for preloaded in preloads(&page.headers) {
        if !assets.contains(&preloaded) {
            assets.push(preloaded);
        }
    }
    for asset in assets {
        let fetched = raw_get(base, &asset, cookie, BROWSER_ENCODINGS).await?;
        if fetched.status != 200 {
            return Err(format!("{asset}: {}", fetched.status).into());
        }
        total += fetched.body.len() as u64;
        println!(
            "    {asset}: {}, {}",
            kb(fetched.body.len() as u64),
            describe(&fetched.headers)
        );
    }
    Ok(total)
}

fn describe(headers: &reqwest::header::HeaderMap) -> String {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    format!(
        "encoding {}, cache-control {}",
        get("content-encoding"),
        get("cache-control")
    )
}

/// The same-site files the `Link` headers of a response have the browser preload (`</a.wasm>;
/// rel=preload, …`: a split build's page group).
fn preloads(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|link| {
            let url = link.trim().strip_prefix('<')?.split('>').next()?;
            url.starts_with('/').then(|| url.to_owned())
        })
        .collect()
}

/// The same-site files a page names in `href` or `src` (its stylesheet, script, wasm, icon).
fn assets_named(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            let Some(end) = rest.find('"') else { continue };
            let url = &rest[..end];
            let file = url.rsplit('/').next().unwrap_or_default();
            if url.starts_with('/') && file.contains('.') && !found.iter().any(|f| f == url) {
                found.push(url.to_owned());
            }
        }
    }
    found
}

/// The URL path of the built asset ending in `extension`, as the sign-in page names it.
async fn asset(base: &str, extension: &str) -> Result<String, Error> {
    let html = raw_get(base, SIGN_IN, None, "identity").await?.body;
    assets_named(&String::from_utf8_lossy(&html))
        .into_iter()
        .find(|a| a.ends_with(extension))
        .ok_or_else(|| format!("the sign-in page names no {extension}").into())
}

/// A session cookie of [`server::ADMIN`], as a `Cookie` header value.
async fn session_cookie(base: &str) -> Result<String, Error> {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/auth/sign-in"))
        .header("accept", "application/json")
        .form(&[("email", server::ADMIN), ("password", server::PASSWORD)])
        .send()
        .await?;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    if cookie.is_empty() {
        return Err("sign-in set no cookie".into());
    }
    Ok(cookie)
}

fn cookie_header(cookie: &str) -> Vec<String> {
    vec![format!("Cookie: {cookie}")]
}

fn br_header() -> Vec<String> {
    vec!["Accept-Encoding: br".to_owned()]
}

/// Plain axum on loopback: `/page` answers `page` as HTML, `/ok` answers `ok`. Its base URL.
async fn bare_server(page: Vec<u8>) -> Result<String, Error> {
    use axum::routing::get;
    let page = axum::body::Bytes::from(page);
    let app = axum::Router::new()
        .route(
            "/page",
            get(move || {
                let page = page.clone();
                async move { ([("content-type", "text/html; charset=utf-8")], page) }
            }),
        )
        .route("/ok", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Answers that were not 2xx or 3xx (wrk's count).
    bad: u64,
}

fn wrk(url: &str, headers: &[String], seconds: u64) -> Result<Run, Error> {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency"]);
    for header in headers {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("wrk {url}: {text}").into());
    }
    let value = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    };
    let rps = value("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("wrk {url}: no Requests/sec in {text}"))?;
    let p50_ms = value("50%").and_then(latency_ms).unwrap_or(f64::NAN);
    let p99_ms = value("99%").and_then(latency_ms).unwrap_or(f64::NAN);
    let bad = value("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(Run {
        rps,
        p50_ms,
        p99_ms,
        bad,
    })
}

/// wrk's latency (`812.00us`, `1.23ms`, `2.00s`) in milliseconds.
fn latency_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.trim().parse::<f64>().ok().map(|n| n * factor)
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}
