//! Security headers on every response: no framing, no MIME sniffing, a same-origin referrer
//! (the no-JavaScript sync buttons go back to their page by it), HSTS over HTTPS, and a
//! Content-Security-Policy. Pages get a policy whose only inline scripts are the ones that carry
//! this response's nonce (Leptos' hydration and resource scripts); everything else gets a policy
//! that allows nothing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use leptos::config::LeptosOptions;

use super::config::SecuritySettings;

/// The policy of every response that is not a page (JSON, CSV, assets, redirects, errors).
pub(crate) const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Cache-Control of every page.
pub(crate) const PAGE_CACHE: &str = "no-cache, private";

/// HSTS for a year, sent only when `PUBLIC_URL` is `https`.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// What the header layer needs to know, fixed at start-up.
#[derive(Clone, Debug)]
pub(crate) struct HeaderSettings {
    /// Send `Strict-Transport-Security` (served over HTTPS).
    hsts: bool,
    /// The port of cargo-leptos' live-reload websocket, in a debug build run by
    /// `cargo leptos watch` (`LEPTOS_WATCH` set); `None` otherwise.
    reload_port: Option<u32>,
}

impl HeaderSettings {
    /// Settings for the configured server.
    pub(crate) fn new(security: &SecuritySettings, options: &LeptosOptions) -> Self {
        let watching = cfg!(debug_assertions) && std::env::var_os("LEPTOS_WATCH").is_some();
        Self {
            hsts: security.https(),
            reload_port: watching
                .then(|| options.reload_external_port.unwrap_or(options.reload_port)),
        }
    }
}

/// This request's CSP nonce, in the request's extensions for the page renderer.
#[derive(Clone, Debug)]
pub(crate) struct CspNonce(Arc<str>);

/// Gives the request a fresh nonce, then sets the security headers on its response; a page
/// (`text/html`) gets the page policy with that nonce. A policy a handler set itself is kept.
pub(crate) async fn security_headers(
    State(settings): State<HeaderSettings>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = CspNonce(super::exchange::delegated::random_token(16).into());
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let policy = if is_page {
        page_policy(&nonce.0, settings.reload_port)
    } else {
        OTHER_POLICY.to_owned()
    };
    set(response.headers_mut(), &settings, &policy);
    if is_page {
        // A page is checked again on every use: it names this build's assets, and it may show
        // what only this person may see.
        response
            .headers_mut()
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(PAGE_CACHE));
    }
    response
}

fn set(headers: &mut HeaderMap, settings: &HeaderSettings, policy: &str) {
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if settings.hsts {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if let Ok(value) = HeaderValue::from_str(policy) {
        headers.entry(CONTENT_SECURITY_POLICY).or_insert(value);
    }
}

/// The policy of a page whose inline scripts carry `nonce`. WebAssembly needs
/// `'wasm-unsafe-eval'`; Leptos writes `style` attributes, hence inline styles. Forms post only
/// to this site. With `reload_port` (development), the live-reload websocket may connect.
pub(crate) fn page_policy(nonce: &str, reload_port: Option<u32>) -> String {
    let reload = reload_port
        .map(|port| format!(" ws://*:{port} wss://*:{port}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'{reload}; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// Makes Leptos render this request's nonce (from [`security_headers`]) on its inline scripts.
/// Called in the context of every page, server function and fallback render; outside a request
/// that went through the layer it leaves Leptos' own nonce in place.
pub(crate) fn provide_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;

    fn settings(hsts: bool) -> HeaderSettings {
        HeaderSettings {
            hsts,
            reload_port: None,
        }
    }

    /// `GET path` from a real server on loopback with the layer and two routes.
    async fn serve(settings: HeaderSettings, path: &str) -> reqwest::Response {
        let app = Router::new()
            .route(
                "/page",
                get(|| async { axum::response::Html("<p>page</p>") }),
            )
            .route("/data", get(|| async { "plain" }))
            .layer(axum::middleware::from_fn_with_state(
                settings,
                security_headers,
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        // reqwest is built without a TLS provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::get(format!("http://{addr}{path}"))
            .await
            .expect("response")
    }

    fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn the_page_policy_allows_only_scripts_with_the_nonce_and_this_site() {
        let policy = page_policy("abc_-123", None);
        assert_eq!(
            policy,
            "default-src 'self'; script-src 'self' 'nonce-abc_-123' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        );
        assert!(!policy.contains(" 'unsafe-eval'"));
        assert!(
            page_policy("n", Some(3001)).contains("connect-src 'self' ws://*:3001 wss://*:3001;")
        );
    }

    #[tokio::test]
    async fn a_page_gets_the_page_policy_with_a_fresh_nonce_and_the_fixed_headers() {
        let first = serve(settings(false), "/page").await;
        let second = serve(settings(false), "/page").await;
        let policy = header(&first, "content-security-policy").expect("csp");
        assert!(policy.starts_with("default-src 'self'; script-src 'self' 'nonce-"));
        assert_ne!(Some(policy), header(&second, "content-security-policy"));
        assert_eq!(header(&first, "x-frame-options"), Some("DENY"));
        assert_eq!(header(&first, "referrer-policy"), Some("same-origin"));
        assert_eq!(header(&first, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&first, "strict-transport-security"), None);
    }

    #[tokio::test]
    async fn other_responses_get_the_policy_that_allows_nothing() {
        let data = serve(settings(false), "/data").await;
        assert_eq!(header(&data, "content-security-policy"), Some(OTHER_POLICY));
        let missing = serve(settings(false), "/nowhere").await;
        assert_eq!(missing.status(), 404);
        assert_eq!(
            header(&missing, "content-security-policy"),
            Some(OTHER_POLICY)
        );
        assert_eq!(header(&missing, "x-frame-options"), Some("DENY"));
    }

    #[tokio::test]
    async fn hsts_is_sent_only_over_https() {
        let https = serve(settings(true), "/data").await;
        assert_eq!(header(&https, "strict-transport-security"), Some(HSTS));
        let public = url::Url::parse("https://connector.example.com").expect("url");
        let security = SecuritySettings {
            public_url: Some(public),
            ..SecuritySettings::default()
        };
        let options = LeptosOptions::builder().output_name("test").build();
        assert!(HeaderSettings::new(&security, &options).hsts);
        assert!(!HeaderSettings::new(&SecuritySettings::default(), &options).hsts);
    }
}
