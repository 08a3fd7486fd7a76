//! The run-time admin endpoints under `/_sim/`:
//!
//! - `GET /_sim/faults`: `{"rules":[{"rule":"429=0.5:3x:Get-MobileDevice","kind":"429",
//!   "cmdlet":"Get-MobileDevice","remaining":3,"fired":0}],"rateLimit":"100/10s"|null,
//!   "seed":42,"injected":{"429":0}}`;
//! - `PUT /_sim/faults`: replaces the rules (and restarts the RNG); `POST` appends them. The body
//!   is either JSON, `{"rules":["429:0.2", {"rule":"503:1x"}], "rateLimit":"100/10s"|null,
//!   "seed":7}` (every key optional; `rateLimit` and `seed` change only when present) or a JSON
//!   array of rules, or plain text rules separated by `;` or new lines;
//! - `DELETE /_sim/faults`: removes every rule and the rate limit;
//! - `GET /_sim/requests?limit=N&cmdlet=Get-MobileDevice&path=InvokeCommand`: the request log
//!   (`{"requests":[...]}`, oldest first; each filter optional); `DELETE` clears it.
//!
//! Every answer is JSON; a rule that does not parse answers 400 with the reason.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{parse_fault_rules, FaultParseError, FaultRule, RateLimit};
use crate::sim::SimState;

fn view(state: &SimState) -> Value {
    let f = state.faults();
    let rules: Vec<Value> = f
        .rules()
        .into_iter()
        .map(|s| {
            json!({
                "rule": s.rule.to_string(),
                "kind": s.rule.kind.label(),
                "cmdlet": s.rule.cmdlet,
                "remaining": s.remaining,
                "fired": s.fired,
            })
        })
        .collect();
    json!({
        "rules": rules,
        "rateLimit": f.rate_limit().map(|r| r.to_string()),
        "seed": f.seed(),
        "injected": f.injected_by_kind(),
    })
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"code": "BadRequest", "message": message}})),
    )
        .into_response()
}

/// What a PUT or POST body asks for.
#[derive(Debug, Default, PartialEq)]
struct Change {
    rules: Vec<FaultRule>,
    /// `Some(None)` removes the limit.
    rate_limit: Option<Option<RateLimit>>,
    seed: Option<u64>,
}

fn rule_list(items: &[Value]) -> Result<Vec<FaultRule>, String> {
    items
        .iter()
        .map(|item| {
            let text = match item {
                Value::String(s) => s.as_str(),
                Value::Object(o) => o.get("rule").and_then(Value::as_str).unwrap_or_default(),
                _ => "",
            };
            text.parse::<FaultRule>().map_err(|e| e.to_string())
        })
        .collect()
}

fn parse_change(body: &[u8]) -> Result<Change, String> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        let rules = parse_fault_rules(trimmed).map_err(|e| e.to_string())?;
        return Ok(Change {
            rules,
            ..Change::default()
        });
    }
    let json: Value =
        serde_json::from_str(trimmed).map_err(|e| format!("the body is not JSON: {e}"))?;
    match json {
        Value::Array(items) => Ok(Change {
            rules: rule_list(&items)?,
            ..Change::default()
        }),
        Value::Object(map) => {
            let rules = match map.get("rules") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => rule_list(items)?,
                Some(Value::String(s)) => parse_fault_rules(s).map_err(|e| e.to_string())?,
                Some(_) => return Err("'rules' must be a list of rules".into()),
            };
            let rate_limit = match map.get("rateLimit") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(Value::String(s)) => Some(Some(
                    s.parse::<RateLimit>()
                        .map_err(|e: FaultParseError| e.to_string())?,
                )),
                Some(_) => {
                    return Err("'rateLimit' must be a string such as \"100/10s\", or null".into())
                }
            };
            let seed = match map.get("seed") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or("'seed' must be a whole number")?),
            };
            Ok(Change {
                rules,
                rate_limit,
                seed,
            })
        }
        _ => Err("the body must be a JSON object, a JSON list or plain-text rules".into()),
    }
}

fn change(state: &SimState, body: &[u8], replace: bool) -> Response {
    let change = match parse_change(body) {
        Ok(c) => c,
        Err(e) => return bad_request(&e),
    };
    let f = state.faults();
    if let Some(seed) = change.seed {
        f.reseed(seed);
    }
    if let Some(limit) = change.rate_limit {
        f.set_rate_limit(limit);
    }
    if replace {
        f.set(change.rules);
    } else {
        for rule in change.rules {
            f.push(rule);
        }
    }
    Json(view(state)).into_response()
}

/// `GET /_sim/faults`.
pub(crate) async fn faults_get(State(state): State<SimState>) -> Response {
    Json(view(&state)).into_response()
}

/// `PUT /_sim/faults`: replace the rules.
pub(crate) async fn faults_put(State(state): State<SimState>, body: Bytes) -> Response {
    change(&state, &body, true)
}

/// `POST /_sim/faults`: append rules.
pub(crate) async fn faults_post(State(state): State<SimState>, body: Bytes) -> Response {
    change(&state, &body, false)
}

/// `DELETE /_sim/faults`: no rules, no rate limit.
pub(crate) async fn faults_delete(State(state): State<SimState>) -> Response {
    state.faults().clear();
    state.faults().set_rate_limit(None);
    Json(view(&state)).into_response()
}

/// `GET /_sim/requests`.
pub(crate) async fn requests_get(
    State(state): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let cmdlet = q.get("cmdlet");
    let path = q.get("path");
    let mut records: Vec<_> = state
        .recent_requests()
        .into_iter()
        .filter(|r| {
            cmdlet.is_none_or(|c| {
                r.cmdlet
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(c))
            })
        })
        .filter(|r| path.is_none_or(|p| r.path.contains(p.as_str())))
        .collect();
    if let Some(limit) = q.get("limit").and_then(|l| l.parse::<usize>().ok()) {
        let skip = records.len().saturating_sub(limit);
        records.drain(..skip);
    }
    Json(json!({ "requests": records })).into_response()
}

/// `DELETE /_sim/requests`.
pub(crate) async fn requests_delete(State(state): State<SimState>) -> StatusCode {
    state.clear_requests();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::faults::FaultKind;

    #[test]
    fn bodies_may_be_text_lists_or_objects() {
        let text = parse_change(b"429:0.2; 503:3x").map(|c| c.rules.len());
        assert_eq!(text, Ok(2));
        let list = parse_change(br#"["429:0.2", {"rule": "reset:1x"}]"#).map(|c| c.rules.len());
        assert_eq!(list, Ok(2));
        let object = parse_change(br#"{"rules":["slow=5ms"],"rateLimit":"10/1s","seed":7}"#);
        let object = object.unwrap_or_default();
        assert_eq!(
            object.rules,
            [FaultRule::always(FaultKind::Slow { delay_ms: 5 })]
        );
        assert_eq!(object.rate_limit.flatten().map(|r| r.limit), Some(10));
        assert_eq!(object.seed, Some(7));
        let removal = parse_change(br#"{"rateLimit":null}"#).unwrap_or_default();
        assert_eq!(removal.rate_limit, Some(None));
    }

    #[test]
    fn bad_bodies_say_why() {
        for body in [
            &b"418:1x"[..],
            b"[\"429:9\"]",
            b"{\"rules\":3}",
            b"{\"rateLimit\":\"x\"}",
            b"{\"seed\":-1}",
            b"{",
        ] {
            assert!(
                parse_change(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
