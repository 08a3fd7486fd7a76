//! The built front end under `/pkg` (wasm, JS, CSS): served from the files a release build
//! compressed once (`.br`, `.gz` beside each asset, `cargo leptos build --release
//! --precompress`), never compressed again per request, and cached by browsers for a year when
//! the name carries the content hash (`hash-files`): a new build has new names, so new HTML never
//! loads old wasm. Anything else under `/pkg` (a debug build's unhashed names) is revalidated on
//! every use.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;

/// Cache-Control of an asset whose name carries its content hash.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control of everything that must be checked again before each use (pages, unhashed
/// assets).
pub(crate) const REVALIDATE: &str = "no-cache";

/// The `/pkg` routes of `options`' site.
pub(crate) fn pkg_router<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        // No directory listings and no index files: only the assets themselves.
        .append_index_html_on_directories(false);
    let prefix = format!("/{}", options.site_pkg_dir.trim_matches('/'));
    Router::new()
        .nest_service(&prefix, files)
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let immutable = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(carries_hash);
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
        let value = if immutable { IMMUTABLE } else { REVALIDATE };
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
        // The body depends on Accept-Encoding: caches keep one copy per encoding.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether `file` is named `<stem>.<hash>.<extension>` with cargo-leptos' content hash (the
/// URL-safe base64 of an MD5: 22 characters).
pub(crate) fn carries_hash(file: &str) -> bool {
    let mut parts = file.rsplit('.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `options` with content-hashed names exactly when the build wrote its hash file beside this
/// executable (cargo-leptos' `hash-files`), whatever `LEPTOS_HASH_FILES` says: the pages then
/// name the files the build wrote. Leptos reads that file at the first page it renders and
/// panics when it is missing, so a `LEPTOS_HASH_FILES=true` inherited without the file (a
/// binary started outside cargo-leptos, or before the front end was built) must not reach it.
pub(crate) fn detect_hashed_build(options: LeptosOptions) -> LeptosOptions {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf));
    hashed_if_built(options, dir.as_deref())
}

fn hashed_if_built(mut options: LeptosOptions, exe_dir: Option<&std::path::Path>) -> LeptosOptions {
    let built = exe_dir.is_some_and(|dir| dir.join(options.hash_file.as_ref()).is_file());
    if options.hash_files && !built {
        tracing::warn!(
            "LEPTOS_HASH_FILES is on but the build's hash file ({}) is not beside the server: \
             pages name the unhashed files",
            options.hash_file
        );
    }
    options.hash_files = built;
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_follow_the_hash_file_not_the_setting() {
        let dir = tempfile::tempdir().expect("dir");
        let options = |hash_files: bool| {
            let mut o = LeptosOptions::builder().output_name("x").build();
            o.hash_files = hash_files;
            o
        };
        // The setting on, the file missing (cargo leptos test before the front end is built):
        // off, or the first page would panic reading it.
        assert!(!hashed_if_built(options(true), Some(dir.path())).hash_files);
        assert!(!hashed_if_built(options(true), None).hash_files);
        std::fs::write(
            dir.path().join(options(false).hash_file.as_ref()),
            "js: abc\n",
        )
        .expect("hash file");
        assert!(hashed_if_built(options(false), Some(dir.path())).hash_files);
        assert!(hashed_if_built(options(true), Some(dir.path())).hash_files);
    }

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        assert!(carries_hash(
            "exchange-connector.kq1P7dfpKx-nRBvT6iGh_w.wasm"
        ));
        assert!(carries_hash("exchange-connector.kq1P7dfpKx-nRBvT6iGh_w.js"));
        // Unhashed, a hash of the wrong length or with other characters, no stem.
        assert!(!carries_hash("exchange-connector.wasm"));
        assert!(!carries_hash("exchange-connector_bg.wasm"));
        assert!(!carries_hash("exchange-connector.kq1P7dfpKx.wasm"));
        assert!(!carries_hash(
            "exchange-connector.kq1P7dfpKx+nRBvT6iGh/w.wasm"
        ));
        assert!(!carries_hash(".kq1P7dfpKx-nRBvT6iGh_w.wasm"));
        assert!(!carries_hash(""));
    }
}
