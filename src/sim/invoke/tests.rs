//! Paging and envelope of InvokeCommand, without HTTP.

use super::*;
use crate::sim::SimConfig;
use serde_json::json;

fn state(devices: usize) -> SimState {
    SimState::new(SimConfig {
        mailboxes: 40,
        devices,
        ..SimConfig::default()
    })
}

fn all_pages(state: &SimState, raw: Value, page: usize) -> (Vec<String>, usize, Vec<String>) {
    let cmdlet = cmdlets::find("Get-MobileDevice").unwrap_or(&cmdlets::ALL[0]);
    let params = Params::bind(cmdlet.params, Some(&raw)).unwrap_or_default();
    let fp = paging::fingerprint(cmdlet.name, &params);
    let window = Window::new(cmdlet, params.result_size().ok().flatten(), page);
    let (mut rows, mut pages, mut warnings, mut token) = (Vec::new(), 0, Vec::new(), None);
    loop {
        let p = match run_page(state, cmdlet, &params, fp, window, token.as_ref(), "test") {
            Ok(p) => p,
            Err(e) => panic!("{}", e.message),
        };
        pages += 1;
        rows.extend(p.rows);
        warnings.extend(p.warnings);
        // Round trip through the wire form, as a client would.
        match p.next {
            Some(t) => token = SkipToken::decode(&t.encode()),
            None => return (rows, pages, warnings),
        }
    }
}

#[test]
fn unlimited_pages_through_every_device_once() {
    let s = state(53);
    let (rows, pages, warnings) = all_pages(&s, json!({"ResultSize": "Unlimited"}), 7);
    assert_eq!(rows.len(), 53);
    assert_eq!(pages, 8);
    assert!(warnings.is_empty());
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(r).ok())
        .filter_map(|v| v["Guid"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 53);
}

#[test]
fn numeric_result_size_caps_over_pages_and_warns() {
    let s = state(53);
    let (rows, pages, warnings) = all_pages(&s, json!({"ResultSize": 20}), 7);
    assert_eq!((rows.len(), pages), (20, 3));
    assert_eq!(warnings, [MORE_RESULTS_WARNING]);
    let (rows, _, warnings) = all_pages(&s, json!({"ResultSize": 53}), 7);
    assert_eq!(rows.len(), 53);
    assert!(warnings.is_empty());
}

#[test]
fn without_result_size_only_the_first_page_comes_back() {
    let s = state(53);
    let (rows, pages, warnings) = all_pages(&s, json!({}), 7);
    assert_eq!((rows.len(), pages), (7, 1));
    assert_eq!(warnings, [MORE_RESULTS_WARNING]);
    let (rows, _, warnings) = all_pages(&s, json!({}), 1000);
    assert_eq!(rows.len(), 53);
    assert!(warnings.is_empty());
}

#[test]
fn envelope_is_valid_json_with_the_spec_keys() {
    let page = Page {
        rows: vec!["{\"a\":1}".into(), "{\"a\":2}".into()],
        warnings: vec!["w".into()],
        next: None,
    };
    let text = envelope("ctx", &page, Some("http://x/InvokeCommand?$skiptoken=ab"));
    let v: Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(v["@odata.context"], "ctx");
    assert_eq!(v["value"][1]["a"], 2);
    assert_eq!(v["@adminapi.warnings"][0], "w");
    assert_eq!(v["@odata.nextLink"], "http://x/InvokeCommand?$skiptoken=ab");
    let empty = envelope("ctx", &Page::default(), None);
    assert_eq!(empty, "{\"@odata.context\":\"ctx\",\"value\":[]}");
}

#[test]
fn skiptoken_is_read_from_the_query() {
    assert_eq!(
        skiptoken(Some("%24skiptoken=abc&x=1")).as_deref(),
        Some("abc")
    );
    assert_eq!(skiptoken(Some("$skiptoken=abc")).as_deref(), Some("abc"));
    assert_eq!(skiptoken(Some("x=1")), None);
    assert_eq!(skiptoken(None), None);
}
