//! The middleware that applies [`super::Decision`]s: on InvokeCommand ([`fault_layer`]) and on
//! the token endpoint ([`token_fault_layer`], rules aimed at `@token` only).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::io::{AsyncRead, ReadBuf};
use uuid::Uuid;

use super::{Budget, Decision, FaultKind, Target};
use crate::sim::identity::{self, TokenProblem};
use crate::sim::wire::{self, ExoError, JSON_CONTENT_TYPE};
use crate::sim::SimState;

/// Largest request body read (axum's default limit for `Bytes`).
pub(crate) const MAX_BODY: usize = 2 * 1024 * 1024;

/// Response extension naming the fault that produced (or delayed) the response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InjectedFault(pub(crate) &'static str);

/// `CmdletInput.CmdletName` of an InvokeCommand body.
pub(crate) fn cmdlet_name(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    json.get("CmdletInput")?
        .get("CmdletName")?
        .as_str()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The name fault rules use for the `EXOModuleFile` pre-flight.
pub(crate) const MODULE_FILE: &str = "EXOModuleFile";

/// Middleware on `POST /adminapi/{version}/{tenant}/InvokeCommand` and
/// `GET /adminapi/{version}/{tenant}/EXOModuleFile`.
pub(crate) async fn fault_layer(
    State(state): State<SimState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "exo-sim: request body over 2 MiB",
        )
            .into_response();
    };
    // The pre-flight GET has no body: rules name it `EXOModuleFile`.
    let cmdlet = if parts.uri.path().ends_with("/EXOModuleFile") {
        Some(MODULE_FILE.to_owned())
    } else {
        cmdlet_name(&bytes)
    };
    let decision = state.faults().decide(
        Target::Invoke(cmdlet.as_deref()),
        tokio::time::Instant::now(),
    );
    let request = Request::from_parts(parts, Body::from(bytes));
    apply(&state, decision, cmdlet.as_deref(), request, next).await
}

/// Middleware on `POST /{tenant}/oauth2/v2.0/token`: only rules for `@token` apply.
pub(crate) async fn token_fault_layer(
    State(state): State<SimState>,
    request: Request,
    next: Next,
) -> Response {
    let decision = state
        .faults()
        .decide(Target::Token, tokio::time::Instant::now());
    apply(&state, decision, None, request, next).await
}

async fn apply(
    state: &SimState,
    decision: Decision,
    cmdlet: Option<&str>,
    request: Request,
    next: Next,
) -> Response {
    if decision.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.delay_ms)).await;
    }
    let mut label = (decision.delay_ms > 0).then_some("slow");
    let mut response = if decision.over_budget {
        label = Some(super::RATE_LIMITED);
        let wait = decision.budget.map_or(1.0, |b| b.reset_secs);
        throttled(
            common_headers(state, request.headers()),
            round_up_tenth(wait),
        )
    } else if let Some(kind) = decision.fault {
        label = Some(kind.label());
        let headers = common_headers(state, request.headers());
        answer(state, kind, cmdlet, headers, request, next).await
    } else {
        next.run(request).await
    };
    if let Some(budget) = decision.budget {
        budget_headers(response.headers_mut(), budget);
    }
    if let Some(label) = label {
        response.extensions_mut().insert(InjectedFault(label));
    }
    response
}

/// Headers every InvokeCommand answer carries (as the real handler writes them).
fn common_headers(state: &SimState, request: &HeaderMap) -> HeaderMap {
    let mut h = HeaderMap::new();
    wire::insert(&mut h, "request-id", &Uuid::new_v4().to_string());
    wire::insert(&mut h, "x-calculatedbetarget", &state.be_target());
    if let Some(id) = request
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
    {
        wire::insert(&mut h, "client-request-id", id);
    }
    h
}

fn budget_headers(h: &mut HeaderMap, b: Budget) {
    wire::insert(h, "rate-limit-limit", &b.limit.to_string());
    wire::insert(h, "rate-limit-remaining", &b.remaining.to_string());
    wire::insert(
        h,
        "rate-limit-reset",
        &(b.reset_secs.ceil() as u64).to_string(),
    );
}

fn round_up_tenth(secs: f64) -> f64 {
    ((secs * 10.0).ceil() / 10.0).max(0.1)
}

fn throttled(mut headers: HeaderMap, retry_after: f64) -> Response {
    wire::insert(&mut headers, "retry-after", &retry_after.to_string());
    if !headers.contains_key("rate-limit-remaining") {
        wire::insert(&mut headers, "rate-limit-remaining", "0");
        wire::insert(
            &mut headers,
            "rate-limit-reset",
            &(retry_after.ceil() as u64).to_string(),
        );
    }
    ExoError::plain(
        StatusCode::TOO_MANY_REQUESTS,
        "Microsoft.Exchange.Admin.OData.Core.TooManyRequestsException",
        format!("The request was throttled: too many requests for this tenant. Retry after {retry_after} seconds."),
    )
    .into_response_with(headers)
}

async fn answer(
    state: &SimState,
    kind: FaultKind,
    cmdlet: Option<&str>,
    mut headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let name = cmdlet.unwrap_or("(unknown)");
    match kind {
        FaultKind::Throttle { retry_after_secs } => throttled(headers, retry_after_secs),
        FaultKind::Unavailable { retry_after_secs } => {
            if let Some(s) = retry_after_secs {
                wire::insert(&mut headers, "retry-after", &s.to_string());
            }
            ExoError::plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "System.Web.HttpException",
                "The service is temporarily unavailable. Try again later.",
            )
            .into_response_with(headers)
        }
        FaultKind::GatewayTimeout => ExoError::plain(
            StatusCode::GATEWAY_TIMEOUT,
            "System.TimeoutException",
            "The request timed out before the mailbox server answered.",
        )
        .into_response_with(headers),
        FaultKind::ExpiredToken => {
            if let Some(token) = identity::bearer_token(request.headers()) {
                state.tokens().expire(token, state.now());
            }
            let authority = state.base_url(request.headers());
            identity::unauthorized(TokenProblem::Expired, &authority, headers)
        }
        FaultKind::Forbidden => ExoError::cmdlet(
            StatusCode::FORBIDDEN,
            "Ex2F7C13",
            "Microsoft.Exchange.Configuration.Tasks.CmdletAccessDeniedException",
            &format!("The cmdlet '{name}' is not available to the caller: no management role assigned to it includes this cmdlet."),
        )
        .into_response_with(headers),
        FaultKind::ConnectionReset => connection_reset(),
        FaultKind::Transient { exception, status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ExoError::cmdlet(
                status,
                "Ex9A1E42",
                transient_class(&exception),
                &format!("A transient error occurred on the server ({exception}). Try the request again."),
            )
            .into_response_with(headers)
        }
        FaultKind::MalformedJson => {
            let body = inner_body(next.run(request).await).await;
            let cut = truncated(&body);
            wire::insert(&mut headers, "content-type", JSON_CONTENT_TYPE);
            (StatusCode::OK, headers, cut).into_response()
        }
        FaultKind::PartialFailure => {
            let body = inner_body(next.run(request).await).await;
            wire::insert(&mut headers, "content-type", JSON_CONTENT_TYPE);
            (StatusCode::OK, headers, with_errors(&body, name)).into_response()
        }
        empty @ (FaultKind::NoValue | FaultKind::EmptyValue) => {
            let value = if empty == FaultKind::EmptyValue {
                ",\"value\":[]"
            } else {
                ""
            };
            wire::insert(&mut headers, "content-type", JSON_CONTENT_TYPE);
            let body = format!(
                "{{\"@odata.context\":\"$metadata#Collection(Exchange.GenericHashTable)\"{value}}}"
            );
            (StatusCode::OK, headers, body).into_response()
        }
        // Slow never answers by itself (the decision only delays).
        FaultKind::Slow { .. } => next.run(request).await,
    }
}

fn transient_class(exception: &str) -> &'static str {
    match exception {
        "StorageTransientException" => "Microsoft.Exchange.Data.Storage.StorageTransientException",
        "ServerInMMException" => "Microsoft.Exchange.Data.Directory.ServerInMMException",
        "SuitabilityDirectoryException" => {
            "Microsoft.Exchange.Data.Directory.SuitabilityDirectoryException"
        }
        "ADServerSettingsChangedException" => {
            "Microsoft.Exchange.Data.Directory.ADServerSettingsChangedException"
        }
        _ => "Microsoft.Exchange.Data.Directory.DCOverloadedException",
    }
}

async fn inner_body(response: Response) -> Bytes {
    to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default()
}

/// The first half of `body` (at least up to its first byte), never valid JSON.
fn truncated(body: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(body);
    let mut cut = (text.len() / 2).max(1).min(text.len());
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let half = &text[..cut];
    if half.is_empty() || serde_json::from_str::<Value>(half).is_ok() {
        return Bytes::from_static(b"{\"@odata.context\":\"exo-sim\",\"value\":[{\"Name\":");
    }
    Bytes::from(half.to_owned())
}

/// The handler's envelope with an `@adminapi.errors` entry (a `stringId|ClassName|Message`
/// text, as in the error body); a non-envelope answer becomes an empty envelope.
fn with_errors(body: &[u8], cmdlet: &str) -> String {
    let entry = format!(
        "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|{cmdlet}: the operation \
         couldn't be performed for one of the objects; the other results are complete."
    );
    let mut envelope = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if map.contains_key("value") => map,
        _ => {
            let mut map = serde_json::Map::new();
            map.insert(
                "@odata.context".into(),
                Value::from("$metadata#Collection(Exchange.GenericHashTable)"),
            );
            map.insert("value".into(), Value::Array(Vec::new()));
            map
        }
    };
    envelope.insert("@adminapi.errors".into(), Value::from(vec![entry]));
    Value::Object(envelope).to_string()
}

/// A reader that fails at once: as a response body it makes hyper abort the connection before
/// a complete response is written.
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "exo-sim: injected connection reset",
        )))
    }
}

fn connection_reset() -> Response {
    Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(Broken)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_bodies_never_parse() {
        for body in [&b"{\"value\":[1,2,3]}"[..], b"{}", b"", b"1234"] {
            let cut = truncated(body);
            assert!(serde_json::from_slice::<Value>(&cut).is_err(), "{cut:?}");
        }
    }

    #[test]
    fn partial_failures_keep_the_values_and_add_an_error() {
        let v: Value = serde_json::from_str(&with_errors(br#"{"value":[{"a":1}]}"#, "Get-X"))
            .unwrap_or_default();
        assert_eq!(v["value"][0]["a"], 1);
        assert!(v["@adminapi.errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("|Get-X: ")));
        let v: Value = serde_json::from_str(&with_errors(b"nope", "Get-X")).unwrap_or_default();
        assert_eq!(v["value"], Value::Array(Vec::new()));
    }

    #[test]
    fn cmdlet_names_come_from_the_body() {
        assert_eq!(
            cmdlet_name(br#"{"CmdletInput":{"CmdletName":" Get-MobileDevice "}}"#).as_deref(),
            Some("Get-MobileDevice")
        );
        assert_eq!(cmdlet_name(b"{}"), None);
        assert_eq!(cmdlet_name(b"not json"), None);
    }

    #[test]
    fn waits_round_up_to_a_tenth_of_a_second() {
        assert_eq!(round_up_tenth(0.01), 0.1);
        assert_eq!(round_up_tenth(2.31), 2.4);
        assert_eq!(round_up_tenth(0.0), 0.1);
    }
}
