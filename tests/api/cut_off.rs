//! Browsers that go away in the middle of a page (a closed tab, a click elsewhere, a load
//! balancer's timeout): the real binary gets thousands of signed-in page requests, each cut off
//! at another point of its render, and its log stays clean.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::binary::{create_admin, post, sign_in, sign_in_with, spawn_server_with};
use crate::helpers::start_sim;

/// Pages with data loaded on the server (`Suspense`), and the frame alone (a 404).
const PAGES: &[&str] = &[
    "/",
    "/conditional-access/exchange-connector/sync-history",
    "/conditional-access/devices",
    "/conditional-access/readiness",
    "/conditional-access/exchange-access",
    "/admin/audit-log",
    "/admin/users",
    "/no-such-page",
];

/// Requests per thread, and threads at once.
const PER_THREAD: usize = 250;
const THREADS: usize = 24;

/// The session cookie (`name=value`) of a new admin sign-in.
async fn session_cookie(base: &str) -> String {
    let r = sign_in_with(&reqwest::Client::new(), base).await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ec_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let _ = r.text().await;
    cookie
}

/// One page request on its own connection, closed after `cut`: 0 right after the request is
/// sent, an odd number after that many hundred microseconds, an even one after that many
/// hundred bytes of the answer.
fn cut_off(address: &str, page: &str, cookie: &str, cut: usize) {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return;
    };
    let request = format!("GET {page} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return;
    }
    if cut > 0 && cut % 2 == 1 {
        std::thread::sleep(Duration::from_micros(100 * cut as u64));
    } else if cut > 0 {
        let mut buf = vec![0; 100 * cut];
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = stream.read(&mut buf);
    }
    // Dropped: the connection closes with the answer unread.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cut_off_at_any_point_of_their_render_leave_no_panic_and_no_error_in_the_log() {
    let sim = start_sim(300, 60).await;
    let dir = tempfile::tempdir().expect("dir");
    let db_file = dir.path().join("connector.db");
    let log = dir.path().join("server.log");
    create_admin(&db_file);
    let (mut server, base) = spawn_server_with(&sim, &db_file, &[], Some(&log)).await;
    let client = sign_in(&base).await;
    let (status, body) = post(&client, &base, "connector/set-up", "").await;
    assert_eq!(status, 200, "{body}");
    let cookie = session_cookie(&base).await;
    let address = base.trim_start_matches("http://").to_owned();

    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (address, cookie) = (address.clone(), cookie.clone());
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let n = t * PER_THREAD + i;
                    cut_off(&address, PAGES[n % PAGES.len()], &cookie, n % 13);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a client thread");
    }

    // Still serving, to the same session.
    let page = client.get(&base).send().await.expect("the page answers");
    assert_eq!(page.status(), 200);
    let _ = page.text().await;
    server.kill().expect("stop the server");
    let _ = server.wait();
    let log = std::fs::read_to_string(&log).expect("the server's log");
    assert!(!log.contains("panicked"), "a cut-off page panicked:\n{log}");
    assert!(
        !log.contains("ERROR"),
        "a cut-off page logged an error:\n{log}"
    );
}
