//! `/api/docs`: the API's reference, a Swagger UI reading `/api/v1/openapi.json`. The UI is
//! vendored (`vendor/swagger-ui`, swagger-ui-dist, Apache-2.0) and served from the binary,
//! brotli-compressed once at vendoring time: nothing is fetched from elsewhere, at build or
//! run time (its validator is off: it would call swagger.io).

use axum::extract::Path;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::super::state::AppState;
use super::BASE;

/// The vendored Swagger UI's version: in its files' addresses, so they can be cached for good.
const VERSION: &str = "5.36.0";
const BUNDLE: &[u8] = include_bytes!("../../../vendor/swagger-ui/swagger-ui-bundle.js");
const BUNDLE_BR: &[u8] = include_bytes!("../../../vendor/swagger-ui/swagger-ui-bundle.js.br");
const CSS: &[u8] = include_bytes!("../../../vendor/swagger-ui/swagger-ui.css");
const CSS_BR: &[u8] = include_bytes!("../../../vendor/swagger-ui/swagger-ui.css.br");

/// Where the reference is.
pub(crate) const DOCS_PATH: &str = "/api/docs";

/// The reference's policy: its own scripts and styles only (Swagger UI sets inline styles),
/// requests to this site only.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

/// The reference's routes (public, like the description it shows).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(DOCS_PATH, get(page))
        .route("/api/docs/init.js", get(init))
        .route("/api/docs/{version}/{file}", get(asset))
}

/// The problem types the API answers with, each with its anchor (problem+json `type`s point
/// here).
const PROBLEMS: &[(&str, &str)] = &[
    (
        "invalid",
        "400: a parameter or the body is not right; `field` names it.",
    ),
    (
        "unauthorized",
        "401: no token, or one that is mistyped, expired or revoked, or whose owner is disabled.",
    ),
    (
        "forbidden",
        "403: the token's role does not allow this (an admin token is needed).",
    ),
    (
        "not-found",
        "404: no such resource, connector, run or device.",
    ),
    (
        "method-not-allowed",
        "405: the resource does not take this method.",
    ),
    ("conflict", "409: a sync is already running."),
    ("too-large", "413: the body is over 64 KB."),
    (
        "unsupported-media-type",
        "415: the body is not JSON (Content-Type: application/json).",
    ),
    (
        "too-many-requests",
        "429: too many failed token attempts from this address; wait and retry.",
    ),
    (
        "internal",
        "500: the server failed; its log has the details.",
    ),
    (
        "exchange",
        "502: Exchange Online refused or failed; `code` and `requestId` say more.",
    ),
    ("unavailable", "503: try again shortly."),
];

async fn page() -> Response {
    let problems: String = PROBLEMS
        .iter()
        .map(|(kind, text)| format!("<li id=\"problem-{kind}\"><code>{kind}</code> {text}</li>"))
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Exchange Connector API</title>\
         <link rel=\"stylesheet\" href=\"/api/docs/{VERSION}/swagger-ui.css\"></head><body>\
         <main><div id=\"swagger-ui\"></div>\
         <section class=\"wrapper\" aria-labelledby=\"problems\" style=\"padding:0 20px 40px\">\
         <h2 id=\"problems\" style=\"font-family:sans-serif\">Problem types</h2>\
         <p style=\"font-family:sans-serif\">Every error is <code>application/problem+json</code> \
         (RFC 9457) with <code>type</code>, <code>title</code>, <code>status</code> and \
         <code>detail</code>:</p><ul style=\"font-family:sans-serif\">{problems}</ul></section></main>\
         <script src=\"/api/docs/{VERSION}/swagger-ui-bundle.js\"></script>\
         <script src=\"/api/docs/init.js\"></script></body></html>"
    );
    let mut response = Html(html).into_response();
    response
        .headers_mut()
        .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    response
}

async fn init() -> Response {
    let script = format!(
        "window.ui = SwaggerUIBundle({{ url: \"{BASE}/openapi.json\", dom_id: \"#swagger-ui\", \
         deepLinking: true, validatorUrl: null, persistAuthorization: false }});\n"
    );
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        script,
    )
        .into_response()
}

/// A vendored file of this version: brotli when the browser takes it, else as it is; cached
/// for good (a new version has a new address).
async fn asset(Path((version, file)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let (raw, br, kind) = match (version == VERSION, file.as_str()) {
        (true, "swagger-ui-bundle.js") => (BUNDLE, BUNDLE_BR, "text/javascript; charset=utf-8"),
        (true, "swagger-ui.css") => (CSS, CSS_BR, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let takes_br = headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.trim().split(';');
            parts.next() == Some("br") && !parts.any(|p| p.trim().replace(' ', "") == "q=0")
        });
    let mut response = if takes_br {
        let mut r = br.into_response();
        r.headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
        r
    } else {
        raw.into_response()
    };
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    response
}
