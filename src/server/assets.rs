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

use std::collections::HashMap;
use std::sync::Arc;

use crate::app::{BuildFiles, PagePreloads};
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
    !stem.is_empty() && hash.len() == 22 && plain_hash(hash)
}

/// Whether `hash` is made only of the URL-safe base64 characters a content hash uses.
fn plain_hash(hash: &str) -> bool {
    !hash.is_empty()
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The files the pages link: the content-hashed names exactly when the build wrote its hash
/// file beside this executable (cargo-leptos' `hash-files`), whatever `LEPTOS_HASH_FILES` says.
/// Read once, at start-up: every page then names the files of the build it was started with.
/// With them, what each group of pages preloads.
pub(crate) fn build_files(options: &LeptosOptions) -> (BuildFiles, PagePreloads) {
    let path = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
    let hashes = path.and_then(|p| std::fs::read_to_string(p).ok());
    if options.hash_files && hashes.is_none() {
        tracing::warn!(
            "LEPTOS_HASH_FILES is on but the build's hash file ({}) is not beside the server: \
             pages name the unhashed files",
            options.hash_file
        );
    }
    (
        files_of(options, hashes.as_deref()),
        page_preloads(options, hashes.as_deref()),
    )
}

/// What each group of pages has the browser preload (a split build, `app::routes`): from the
/// build's manifest, the group's wasm files and the loader script, as one `Link` header per
/// group, made once. Empty without a manifest, or with one that does not read (the browser then
/// fetches each file when the page asks for it).
fn page_preloads(options: &LeptosOptions, hashes: Option<&str>) -> PagePreloads {
    let pkg = options.site_pkg_dir.trim_matches('/');
    let dir = std::path::Path::new(options.site_root.as_ref()).join(pkg);
    let manifest = match hash_of(hashes, "manifest") {
        Some(h) => format!("__wasm_split_manifest.{h}.json"),
        None => "__wasm_split_manifest.json".to_owned(),
    };
    let Ok(text) = std::fs::read_to_string(dir.join(&manifest)) else {
        return PagePreloads::default();
    };
    let groups: HashMap<String, Vec<String>> = match serde_json::from_str(&text) {
        Ok(groups) => groups,
        Err(error) => {
            tracing::warn!("the split build's manifest ({manifest}) does not read: {error}");
            return PagePreloads::default();
        }
    };
    // cargo-leptos' name for the loader while it is not hashed.
    let loader = match hash_of(hashes, "split") {
        Some(h) => format!("__wasm_split.{h}.js"),
        None => "__wasm_split.______________________.js".to_owned(),
    };
    let headers = groups
        .into_iter()
        .filter_map(|(group, files)| {
            let mut links: Vec<String> = files
                .iter()
                .map(|file| {
                    format!(
                        "</{pkg}/{file}.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; \
                         crossorigin=anonymous"
                    )
                })
                .collect();
            links.push(format!(
                "</{pkg}/{loader}>; rel=modulepreload; crossorigin=anonymous"
            ));
            // A name that cannot be a header (never from cargo-leptos) preloads nothing.
            let header = HeaderValue::from_str(&links.join(", ")).ok()?;
            Some((group, header))
        })
        .collect();
    PagePreloads(Arc::new(headers))
}

/// The hash the build's hash file gives `kind` (`kind: <hash>`), when a plain hash.
fn hash_of<'a>(hashes: Option<&'a str>, kind: &str) -> Option<&'a str> {
    hashes?.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        let v = v.trim();
        (k.trim() == kind && plain_hash(v)).then_some(v)
    })
}

/// The names of `options`' files given the build's hash file (`js: <hash>` lines), if any.
fn files_of(options: &LeptosOptions, hashes: Option<&str>) -> BuildFiles {
    let pkg = options.site_pkg_dir.trim_matches('/');
    let out = &options.output_name;
    let name = |kind: &str, unhashed: &str| match hash_of(hashes, kind) {
        Some(h) => format!("/{pkg}/{out}.{h}.{kind}"),
        None => format!("/{pkg}/{out}{unhashed}.{kind}"),
    };
    // wasm-bindgen's own name, unless cargo-leptos named the output.
    let bg = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        ""
    } else {
        "_bg"
    };
    BuildFiles {
        css: name("css", ""),
        js: name("js", ""),
        wasm: name("wasm", bg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_name_the_hashed_files_the_hash_file_gives() {
        let options = LeptosOptions::builder()
            .output_name("x")
            .site_pkg_dir("pkg")
            .build();
        let hashed = files_of(&options, Some("js: J-1_\nwasm: W2\ncss: C3\n"));
        assert_eq!(hashed.js, "/pkg/x.J-1_.js");
        assert_eq!(hashed.wasm, "/pkg/x.W2.wasm");
        assert_eq!(hashed.css, "/pkg/x.C3.css");
        // No hash file (cargo leptos test before the front end is built), a kind it does not
        // name, or a value that is not a plain hash: the unhashed name.
        let bg = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            ""
        } else {
            "_bg"
        };
        let plain = files_of(&options, None);
        assert_eq!(plain.js, "/pkg/x.js");
        assert_eq!(plain.wasm, format!("/pkg/x{bg}.wasm"));
        assert_eq!(plain.css, "/pkg/x.css");
        let odd = files_of(&options, Some("js: a\"b\ncss:\n"));
        assert_eq!(odd.js, "/pkg/x.js");
        assert_eq!(odd.css, "/pkg/x.css");
        assert_eq!(odd.wasm, format!("/pkg/x{bg}.wasm"));
    }

    #[test]
    fn pages_preload_what_the_split_build_manifest_lists() {
        let site = tempfile::tempdir().expect("dir");
        let pkg = site.path().join("pkg");
        std::fs::create_dir(&pkg).expect("pkg");
        let options = LeptosOptions::builder()
            .output_name("x")
            .site_root(site.path().to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .build();
        let header = |hashes: Option<&str>, group: &str| {
            let preloads = page_preloads(&options, hashes);
            preloads
                .0
                .get(group)
                .map(|h| h.to_str().expect("text").to_owned())
        };
        // No split build: nothing to preload.
        assert!(page_preloads(&options, None).0.is_empty());

        // A hashed build names its manifest and loader by their hashes.
        let hashes = "js: J\nwasm: W\ncss: C\nmanifest: M-1_\nsplit: S2\n";
        std::fs::write(
            pkg.join("__wasm_split_manifest.M-1_.json"),
            r#"{"sign_in_pages": ["split_sign_in_pages.A", "chunk_2.B"]}"#,
        )
        .expect("manifest");
        assert_eq!(
            header(Some(hashes), "sign_in_pages").expect("a header"),
            "</pkg/split_sign_in_pages.A.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; \
             crossorigin=anonymous, </pkg/chunk_2.B.wasm>; rel=preload; as=fetch; \
             type=\"application/wasm\"; crossorigin=anonymous, </pkg/__wasm_split.S2.js>; \
             rel=modulepreload; crossorigin=anonymous"
        );
        assert!(header(Some(hashes), "admin_pages").is_none());

        // An unhashed build: the plain names.
        std::fs::write(pkg.join("__wasm_split_manifest.json"), r#"{"a": []}"#).expect("manifest");
        assert_eq!(
            header(None, "a").expect("a header"),
            "</pkg/__wasm_split.______________________.js>; rel=modulepreload; crossorigin=anonymous"
        );

        // A manifest that does not read, or a file name that cannot be a header: no preloads
        // rather than a failed start.
        std::fs::write(pkg.join("__wasm_split_manifest.json"), "{\"a\": 1").expect("manifest");
        assert!(page_preloads(&options, None).0.is_empty());
        std::fs::write(pkg.join("__wasm_split_manifest.json"), r#"{"a": ["b\nc"]}"#)
            .expect("manifest");
        assert!(header(None, "a").is_none());
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
