//! Cross-site request refusal: a state-changing request (POST, PUT, PATCH, DELETE) is served
//! only when the browser says it comes from this site. Browsers send `Origin` on every
//! cross-site POST (and on same-origin ones), so a page elsewhere cannot make a signed-in
//! admin's browser start a sync or change users; the `SameSite=Lax` session cookie is a second
//! line. Requests that name no origin at all (no `Origin`, no `Referer`) come from programs
//! such as curl, which carry no ambient cookie, and pass.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN, REFERER};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

use super::super::config::SecuritySettings;

/// The answer to a refused request.
pub(crate) const REFUSED: &str = "Cross-site request refused.";

/// Refuses a state-changing request whose `Origin` (or, without one, whose `Referer`) is not
/// this site's origin, with 403 and [`REFUSED`]. Every other request passes untouched.
pub(crate) async fn refuse_cross_site(
    State(security): State<Arc<SecuritySettings>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let site = site_origin(security.public_url.as_ref(), host);
    if allows(request.method(), &claimed(headers), site.as_deref()) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        origin = ?headers.get(ORIGIN),
        referer = ?headers.get(REFERER),
        site = ?site,
        "cross-site request refused"
    );
    (StatusCode::FORBIDDEN, REFUSED).into_response()
}

/// Where the browser says a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claimed {
    /// Neither `Origin` nor `Referer`: not a browser acting for a page.
    Nothing,
    /// The origin from `Origin` (or from `Referer` without it); `None` when it is `null`,
    /// opaque or unreadable.
    Origin(Option<String>),
}

/// The origin a request claims: `Origin` first, then the origin of `Referer`.
pub(crate) fn claimed(headers: &HeaderMap) -> Claimed {
    let read = |name| {
        headers
            .get(name)
            .map(|v| v.to_str().ok().and_then(origin_of))
    };
    match read(ORIGIN).or_else(|| read(REFERER)) {
        Some(origin) => Claimed::Origin(origin),
        None => Claimed::Nothing,
    }
}

/// This site's origin: `PUBLIC_URL`'s when it is configured, else `http://` and the request's
/// `Host`. `None` when neither is known.
pub(crate) fn site_origin(public_url: Option<&Url>, host: Option<&str>) -> Option<String> {
    match public_url {
        Some(url) => Some(url.origin().ascii_serialization()),
        None => origin_of(&format!("http://{}", host?.trim())),
    }
}

/// Whether a request with `method`, claiming `claimed`, may reach the app served at `site`.
pub(crate) fn allows(method: &Method, claimed: &Claimed, site: Option<&str>) -> bool {
    let changes_state = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    match claimed {
        _ if !changes_state => true,
        Claimed::Nothing => true,
        Claimed::Origin(origin) => origin.is_some() && origin.as_deref() == site,
    }
}

/// The serialized origin of `raw` (scheme, lower-case host, port unless the default one);
/// `None` for `null`, opaque origins and anything unreadable.
fn origin_of(raw: &str) -> Option<String> {
    let origin = Url::parse(raw.trim()).ok()?.origin();
    origin
        .is_tuple()
        .then(|| origin.ascii_serialization())
        .filter(|o| o.starts_with("http://") || o.starts_with("https://"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SITE: &str = "http://127.0.0.1:3000";

    fn headers(origin: Option<&str>, referer: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(o) = origin {
            map.insert(ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        if let Some(r) = referer {
            map.insert(REFERER, HeaderValue::from_str(r).expect("referer"));
        }
        map
    }

    fn post(origin: Option<&str>, referer: Option<&str>, site: Option<&str>) -> bool {
        allows(&Method::POST, &claimed(&headers(origin, referer)), site)
    }

    #[test]
    fn a_post_from_this_site_passes() {
        let site = site_origin(None, Some("127.0.0.1:3000"));
        assert_eq!(site.as_deref(), Some(SITE));
        assert!(post(Some(SITE), None, site.as_deref()));
        assert!(post(Some(SITE), Some("https://evil.example/x"), Some(SITE)));
    }

    #[test]
    fn a_post_from_another_origin_is_refused_whatever_the_method() {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let claim = claimed(&headers(Some("https://evil.example"), None));
            assert!(!allows(&method, &claim, Some(SITE)), "{method}");
        }
        // Another port or scheme of the same host is another origin.
        assert!(!post(Some("http://127.0.0.1:3001"), None, Some(SITE)));
        assert!(!post(Some("https://127.0.0.1:3000"), None, Some(SITE)));
    }

    #[test]
    fn a_null_or_unreadable_origin_is_refused() {
        assert!(!post(Some("null"), None, Some(SITE)));
        assert!(!post(Some("not a url"), None, Some(SITE)));
        assert!(!post(Some("file:///etc/passwd"), None, Some(SITE)));
        // A `null` origin is not rescued by a same-site Referer.
        assert!(!post(
            Some("null"),
            Some("http://127.0.0.1:3000/"),
            Some(SITE)
        ));
    }

    #[test]
    fn a_request_naming_no_origin_at_all_passes() {
        assert_eq!(claimed(&HeaderMap::new()), Claimed::Nothing);
        assert!(post(None, None, Some(SITE)));
        assert!(post(None, None, None));
    }

    #[test]
    fn without_origin_the_referer_decides() {
        let page = "http://127.0.0.1:3000/conditional-access/exchange-connector?sync=busy";
        assert!(post(None, Some(page), Some(SITE)));
        assert!(!post(None, Some("https://evil.example/page"), Some(SITE)));
    }

    #[test]
    fn reads_never_need_an_origin() {
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            let claim = claimed(&headers(Some("https://evil.example"), None));
            assert!(allows(&method, &claim, Some(SITE)), "{method}");
        }
    }

    #[test]
    fn the_public_url_is_the_origin_when_configured_not_the_host() {
        let public = Url::parse("https://Connector.Example.com:443/base/").expect("url");
        let site = site_origin(Some(&public), Some("127.0.0.1:3000"));
        assert_eq!(site.as_deref(), Some("https://connector.example.com"));
        assert!(post(
            Some("https://connector.example.com"),
            None,
            site.as_deref()
        ));
        // Behind a TLS proxy the browser's page is the https address, not the inner host.
        assert!(!post(Some(SITE), None, site.as_deref()));
        assert!(!post(
            Some("http://connector.example.com"),
            None,
            site.as_deref()
        ));
    }

    #[test]
    fn without_a_public_url_or_host_an_origin_cannot_match() {
        assert_eq!(site_origin(None, None), None);
        assert!(!post(Some(SITE), None, None));
        // Host names compare without case and without the default port.
        let site = site_origin(None, Some("Connector.LAN:80"));
        assert_eq!(site.as_deref(), Some("http://connector.lan"));
        assert!(post(Some("http://connector.lan"), None, site.as_deref()));
    }
}
