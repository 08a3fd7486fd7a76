//! Plain server-rendered HTML for the sign-in pages: no script, one small inline style sheet,
//! every dynamic value escaped.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f3f4f6;color:#111827;line-height:1.5}\
main{max-width:32rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d1d5db;border-radius:.5rem}\
h1{font-size:1.4rem;margin:0 0 1rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
ul{padding-left:1.25rem}code{font-size:.9em;overflow-wrap:anywhere}.note{color:#4b5563;font-size:.9rem}\
.actions{display:flex;gap:.75rem;margin-top:1.5rem}\
button{font:inherit;padding:.5rem 1.25rem;border-radius:.375rem;border:1px solid #1f2937;cursor:pointer}\
button.primary{background:#1d4ed8;border-color:#1d4ed8;color:#fff}button.secondary{background:#fff;color:#111827}\
button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}\
.error{border-left:4px solid #b91c1c;padding-left:1rem}";

/// A complete page: `title` (plain text) and `body` (HTML, already escaped).
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{} - exo-sim sign-in</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        escape(title)
    )
}

/// Serves `html` with headers that keep the page out of caches and frames.
pub(crate) fn respond(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", "no-store"),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            (
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ],
        html,
    )
        .into_response()
}

/// The page shown when the request cannot be sent back to the app (unknown app, tenant or
/// redirect URI): the error stays here.
pub(crate) fn error_page(status: StatusCode, code: u32, message: &str) -> Response {
    let body = format!(
        "<h1>Sign-in failed</h1><div class=\"error\" role=\"alert\"><p><strong>AADSTS{code}</strong>: {}</p></div>\
         <p class=\"note\">exo-sim, the Exchange Online simulator, could not send this error back to the \
         application because the request does not name a trusted application and redirect URI.</p>",
        escape(message)
    );
    respond(status, page("Sign-in failed", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let html = page("<t>", "<p>ok</p>");
        assert!(html.contains("<title>&lt;t&gt; - exo-sim sign-in</title>"));
        assert!(html.contains("<main><p>ok</p></main>"));
    }
}
