//! A small admin-API client for the cmdlet tests: one simulator, one app-only token, calls by
//! cmdlet name with every page fetched.

use chrono::TimeZone;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

/// A fixed clock reading, so tests can compare times.
pub(super) fn fixed_now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 9, 30, 0)
        .single()
        .unwrap_or_default()
}

/// A small tenant whose clock stands still at [`fixed_now`] and that has no churn.
pub(super) fn frozen(mailboxes: usize, devices: usize) -> SimConfig {
    SimConfig {
        mailboxes,
        devices,
        now: Some(fixed_now()),
        clock: ClockMode::Frozen,
        churn: Some(ChurnRates::OFF),
        ..SimConfig::default()
    }
}

/// A running simulator plus a token of its demo app.
pub(super) struct Exo {
    pub(super) sim: RunningSimulator,
    pub(super) token: String,
}

impl Exo {
    pub(super) async fn start(config: SimConfig) -> Self {
        let sim = start_sim(config).await;
        let token = access_token(&sim).await;
        Self { sim, token }
    }

    pub(super) fn state(&self) -> &SimState {
        self.sim.state()
    }

    /// Advances the simulated clock and gets a fresh token (the old one may have expired).
    pub(super) async fn advance(&mut self, by: std::time::Duration) -> ChurnReport {
        let report = self.state().advance(by);
        self.token = access_token(&self.sim).await;
        report
    }

    /// One call (first page only) with the demo token.
    pub(super) async fn call(&self, cmdlet: &str, params: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.call_with(&self.token, cmdlet, params).await;
        (status, serde_json::from_str(&body).unwrap_or_default())
    }

    /// One call with any token; the body as text (403 answers are not JSON).
    pub(super) async fn call_with(
        &self,
        token: &str,
        cmdlet: &str,
        params: Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": params}});
        let resp = client()
            .post(invoke_url(&self.sim))
            .bearer_auth(token)
            .header("X-ResponseFormat", "json")
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{cmdlet}: {e}"));
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.text().await.unwrap_or_default())
    }

    /// Every row of a successful call, following `@odata.nextLink` (pages of `page` rows).
    pub(super) async fn rows(&self, cmdlet: &str, params: Value, page: usize) -> Vec<Value> {
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": params}});
        let mut url = invoke_url(&self.sim);
        let mut out = Vec::new();
        loop {
            let (status, _, v) = invoke(&url, Some(&self.token), &body, Some(page)).await;
            assert_eq!(status, StatusCode::OK, "{cmdlet}: {v}");
            out.extend(v["value"].as_array().cloned().unwrap_or_default());
            match v["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_owned(),
                None => return out,
            }
        }
    }

    /// A call that must succeed with no output (Set-, Remove-).
    pub(super) async fn done(&self, cmdlet: &str, params: Value) {
        let (status, v) = self.call(cmdlet, params).await;
        assert_eq!(status, StatusCode::OK, "{cmdlet}: {v}");
        assert_eq!(v["value"], json!([]), "{cmdlet}");
    }

    /// Every device, in creation order.
    pub(super) async fn devices(&self) -> Vec<Value> {
        self.rows("Get-MobileDevice", json!({"ResultSize": "Unlimited"}), 1000)
            .await
    }
}

/// `error.details[0].message` of a spec §4 error body.
pub(super) fn message(err: &Value) -> String {
    err["error"]["details"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The text of a property.
pub(super) fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}
