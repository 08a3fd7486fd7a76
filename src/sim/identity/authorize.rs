//! `GET /{tenant}/oauth2/v2.0/authorize` and its consent form, `POST /{tenant}/oauth2/v2.0/consent`.
//!
//! The simulated admin is always signed in (no password page). Errors go back to the app as
//! `redirect_uri?error=...&error_description=...&state=...` once the app and its redirect URI are
//! trusted; before that they are shown on a plain page. Trusted redirect URIs: any
//! `http://127.0.0.1:*`, `http://localhost:*` or `http://[::1]:*` URL (like a development app
//! registration) plus the configured `redirect_uris`, compared exactly.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use url::{Host, Url};
use uuid::Uuid;

use super::grants::AuthRequest;
use super::html::{self, escape};
use super::scopes::delegated_scopes;
use super::{admin_upn, is_our_tenant, AadError};
use crate::sim::SimState;

/// The app name the consent page shows for the demo app registration.
pub(crate) const DEMO_APP_NAME: &str = "Exchange connector";

/// The first value of each parameter of a query string or form body.
pub(super) fn params(raw: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// `uri` if the app registration trusts it as a redirect URI.
pub(super) fn trusted_redirect(state: &SimState, uri: &str) -> Option<Url> {
    let url = Url::parse(uri).ok()?;
    if url.fragment().is_some() {
        return None;
    }
    if state.config().redirect_uris.iter().any(|r| r == uri) {
        return Some(url);
    }
    let loopback = match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    (url.scheme() == "http" && loopback).then_some(url)
}

fn redirect(mut url: Url, pairs: &[(&str, &str)]) -> Response {
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Sends `e` back to the app, as Entra does once the redirect URI is trusted.
fn redirect_error(url: Url, e: &AadError, state: Option<&str>) -> Response {
    let id = Uuid::new_v4().to_string();
    let description = e.full_description(&id, &id, Utc::now());
    let mut pairs = vec![
        ("error", e.error),
        ("error_description", description.as_str()),
    ];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect(url, &pairs)
}

/// Issues the code for a consented request and sends the browser back to the app.
fn redirect_with_code(state: &SimState, request: AuthRequest) -> Response {
    let Some(url) = Url::parse(&request.redirect_uri).ok() else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            50011,
            "The redirect URI is not valid.",
        );
    };
    let app_state = request.state.clone();
    let code = state.tokens().grants.issue_code(request, state.now());
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = app_state.as_deref() {
        pairs.push(("state", s));
    }
    redirect(url, &pairs)
}

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub(crate) async fn authorize(
    State(state): State<SimState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let q = params(query.unwrap_or_default().as_bytes());
    let field = |name: &str| q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let bad = StatusCode::BAD_REQUEST;
    if !is_our_tenant(&state, &tenant) {
        let e = AadError::unknown_tenant(&tenant);
        return html::error_page(bad, e.code, &e.description);
    }
    let Some(client_id) = field("client_id") else {
        return html::error_page(
            bad,
            900144,
            "The request must contain the parameter 'client_id'.",
        );
    };
    if !client_id.eq_ignore_ascii_case(&state.config().client_id) {
        let e = AadError::unknown_client(client_id, &tenant);
        return html::error_page(bad, e.code, &e.description);
    }
    let Some(redirect_uri) = field("redirect_uri") else {
        return html::error_page(
            bad,
            900144,
            "The request must contain the parameter 'redirect_uri'.",
        );
    };
    let Some(url) = trusted_redirect(&state, redirect_uri) else {
        return html::error_page(bad, 50011, &format!(
            "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the \
             application '{client_id}'. exo-sim accepts http://127.0.0.1:<port>, http://localhost:<port> and the URIs in \
             EXO_SIM_REDIRECT_URIS."
        ));
    };
    let app_state = q.get("state").map(String::as_str);
    match check_request(&state, &q, client_id, redirect_uri) {
        Err(e) => redirect_error(url, &e, app_state),
        Ok(request) if state.config().auto_consent => redirect_with_code(&state, request),
        Ok(_) if field("prompt") == Some("none") => {
            let e = AadError::new(bad, "consent_required", 65001, format!(
                "The user or administrator has not consented to use the application with ID '{client_id}'. Send an \
                 interactive authorization request for this user and resource (exo-sim: or set EXO_SIM_AUTO_CONSENT=1)."
            ));
            redirect_error(url, &e, app_state)
        }
        Ok(request) => {
            let hint = field("login_hint")
                .filter(|h| !h.eq_ignore_ascii_case(&request.user))
                .map(str::to_owned);
            let transaction = state.tokens().grants.begin(request.clone(), state.now());
            let page = consent_page(&state, &tenant, &request, &transaction, hint.as_deref());
            html::respond(StatusCode::OK, page)
        }
    }
}

/// The parameters after the redirect URI, as a request awaiting consent.
fn check_request(
    state: &SimState,
    q: &HashMap<String, String>,
    client_id: &str,
    redirect_uri: &str,
) -> Result<AuthRequest, AadError> {
    let field = |name: &str| q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    match field("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(AadError::new(StatusCode::BAD_REQUEST, "unsupported_response_type", 700054, format!(
                "response_type '{other}' is not enabled for the application. exo-sim supports the authorization code flow only (response_type=code)."
            )))
        }
        None => return Err(AadError::missing("response_type")),
    }
    if let Some(mode) = field("response_mode").filter(|m| *m != "query") {
        return Err(AadError::request(
            900144,
            format!("response_mode '{mode}' is not supported: exo-sim answers with response_mode=query only."),
        ));
    }
    let scopes = delegated_scopes(field("scope").ok_or_else(|| AadError::missing("scope"))?)?;
    let challenge = field("code_challenge").ok_or_else(|| {
        AadError::request(
            9002325,
            "Proof Key for Code Exchange is required: send code_challenge and code_challenge_method=S256.",
        )
    })?;
    match field("code_challenge_method") {
        Some("S256") => {}
        other => {
            return Err(AadError::request(9002325, format!(
                "code_challenge_method must be S256 (got {}); exo-sim does not accept the 'plain' method.",
                other.map_or_else(|| "none, which means plain".to_owned(), |m| format!("'{m}'"))
            )))
        }
    }
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(AadError::request(
            9002325,
            "code_challenge must be BASE64URL(SHA256(code_verifier)) without padding: 43 characters.",
        ));
    }
    Ok(AuthRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: q.get("state").cloned(),
        nonce: field("nonce").map(str::to_owned),
        code_challenge: challenge.to_owned(),
        user: admin_upn(state),
    })
}

fn scope_label(scope: &str) -> String {
    match scope {
        "openid" => "Sign you in".to_owned(),
        "profile" => "View your basic profile (name and user name)".to_owned(),
        "email" => "View your email address".to_owned(),
        "offline_access" => {
            "Stay signed in: keep access to what you allowed (refresh tokens)".to_owned()
        }
        other => format!(
            "Manage Exchange Online as you (Exchange.Manage): <code>{}</code>",
            escape(other)
        ),
    }
}

fn consent_page(
    state: &SimState,
    tenant: &str,
    request: &AuthRequest,
    transaction: &str,
    hint: Option<&str>,
) -> String {
    let config = state.config();
    let scopes: String = request
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", scope_label(s)))
        .collect();
    let back_to = Url::parse(&request.redirect_uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let hint_note = hint.map_or_else(String::new, |h| {
        format!(
            "<p class=\"note\">The app suggested signing in as <strong>{}</strong>; exo-sim has one simulated admin, so you \
             continue as <strong>{}</strong>.</p>",
            escape(h),
            escape(&request.user)
        )
    });
    let body = format!(
        "<h1 id=\"title\">Permissions requested</h1>\
         <p><strong>{app}</strong> wants to sign you in and act on your behalf in <strong>{domain}</strong>.</p>\
         <dl><dt>Application</dt><dd>{app} (<code>{client}</code>)</dd>\
         <dt>Tenant</dt><dd>{domain} (<code>{tenant_id}</code>)</dd>\
         <dt>Signed in as</dt><dd data-testid=\"signed-in-user\">{user}</dd>\
         <dt>Returns to</dt><dd><code>{back_to}</code></dd></dl>\
         {hint_note}\
         <h2>This app would like to:</h2><ul>{scopes}</ul>\
         <form method=\"post\" action=\"/{tenant_path}/oauth2/v2.0/consent\" aria-labelledby=\"title\">\
         <input type=\"hidden\" name=\"transaction\" value=\"{transaction}\">\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"decision\" value=\"accept\" class=\"primary\">Accept</button>\
         <button type=\"submit\" name=\"decision\" value=\"cancel\" class=\"secondary\">Cancel</button>\
         </div></form>\
         <p class=\"note\">This is exo-sim, the Exchange Online simulator: no password is asked and nothing leaves this \
         machine.</p>",
        app = escape(DEMO_APP_NAME),
        client = escape(&request.client_id),
        domain = escape(&config.tenant_domain),
        tenant_id = escape(&config.tenant_id),
        user = escape(&request.user),
        back_to = escape(&back_to),
        transaction = escape(transaction),
        tenant_path = escape(&url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect::<String>()),
    );
    html::page("Permissions requested", &body)
}

/// `POST /{tenant}/oauth2/v2.0/consent` (the consent form): Accept sends a code back, Cancel
/// sends `access_denied`.
pub(crate) async fn consent(
    State(state): State<SimState>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form = params(&body);
    let expired = || {
        html::error_page(
            StatusCode::BAD_REQUEST,
            50058,
            "This sign-in request has expired or was already answered. Start the sign-in again from the application.",
        )
    };
    if !is_our_tenant(&state, &tenant) {
        let e = AadError::unknown_tenant(&tenant);
        return html::error_page(StatusCode::BAD_REQUEST, e.code, &e.description);
    }
    let Some(transaction) = form.get("transaction") else {
        return expired();
    };
    let Some(request) = state.tokens().grants.take_pending(transaction, state.now()) else {
        return expired();
    };
    match form.get("decision").map(String::as_str) {
        Some("accept") => redirect_with_code(&state, request),
        _ => {
            let Some(url) = Url::parse(&request.redirect_uri).ok() else {
                return expired();
            };
            let e = AadError::new(
                StatusCode::BAD_REQUEST,
                "access_denied",
                65004,
                "User declined to consent to access the app.",
            );
            redirect_error(url, &e, request.state.as_deref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_existing_query() {
        let url = Url::parse("http://127.0.0.1:9/cb?x=1").unwrap_or_else(|e| panic!("{e}"));
        let r = redirect(url, &[("code", "a b"), ("state", "s&t")]);
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(
            r.headers()[header::LOCATION],
            "http://127.0.0.1:9/cb?x=1&code=a+b&state=s%26t"
        );
    }
}
