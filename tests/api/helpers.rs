use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use exchange_connector::error::ApiError;
use exchange_connector::model::{ConnectorOverview, LiveStatus, Role};
use exchange_connector::server::config::{
    ClientSettings, Config, ExchangeSettings, ExchangeTarget, SyncSettings,
};
use exchange_connector::server::control::SyncControl;
use exchange_connector::server::Application;
use exchange_connector::sim::{self, FaultKind, FaultRule, RunningSimulator, SimConfig};
use leptos::config::LeptosOptions;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;

/// The password of every test account.
pub const PASSWORD: &str = "correct horse battery staple";

static USERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A running application with its own database file and (usually) its own simulator.
pub struct TestApp {
    pub base_url: String,
    pub db_file: PathBuf,
    pub sim: Option<RunningSimulator>,
    /// Starts and watches syncs in the running app.
    pub control: SyncControl,
    /// The serving task: ends after a shutdown (`control.shutdown()`).
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

/// A simulator with `devices` devices over `mailboxes` mailboxes, on a free loopback port.
pub async fn start_sim(devices: usize, mailboxes: usize) -> RunningSimulator {
    // A frozen clock: no device appears or leaves while a test counts them.
    let config = SimConfig {
        devices,
        mailboxes,
        clock: sim::ClockMode::Frozen,
        ..SimConfig::default()
    };
    sim::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("simulator starts")
}

/// Exchange settings that point at `sim` with its own demo credentials.
pub fn settings_for(sim: &RunningSimulator) -> ExchangeSettings {
    ExchangeSettings::for_simulator(sim).expect("simulator URLs")
}

impl TestApp {
    /// The app against its own simulator (`devices` devices), reading pages of `page_size`.
    pub async fn with_sim(devices: usize, page_size: u32) -> Self {
        let sim = start_sim(devices, devices / 2 + 1).await;
        let settings = settings_for(&sim);
        Self::spawn(settings, page_size, Some(sim)).await
    }

    /// The app against `settings`, with a new database file.
    pub async fn spawn(
        settings: ExchangeSettings,
        page_size: u32,
        sim: Option<RunningSimulator>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // A directory that does not exist yet: the app must create it.
        let db_file = dir.path().join("nested").join("connector.db");
        Self::spawn_at(db_file, Some(dir), settings, page_size, sim).await
    }

    /// As [`TestApp::spawn`] (1,000-device pages), with `configure` changing the configuration
    /// first.
    pub async fn spawn_configured(
        settings: ExchangeSettings,
        sim: Option<RunningSimulator>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_file = dir.path().join("connector.db");
        let mut config = test_config(&db_file, settings);
        configure(&mut config);
        Self::serve(db_file, Some(dir), config, sim).await
    }

    /// A second app on the same database file as `other` (a restart with new settings).
    pub async fn reopen(other: &TestApp, settings: ExchangeSettings) -> Self {
        Self::spawn_at(other.db_file.clone(), None, settings, 1000, None).await
    }

    async fn spawn_at(
        db_file: PathBuf,
        dir: Option<tempfile::TempDir>,
        settings: ExchangeSettings,
        page_size: u32,
        sim: Option<RunningSimulator>,
    ) -> Self {
        let mut config = test_config(&db_file, settings);
        config.client.page_size = page_size;
        Self::serve(db_file, dir, config, sim).await
    }

    async fn serve(
        db_file: PathBuf,
        dir: Option<tempfile::TempDir>,
        config: Config,
        sim: Option<RunningSimulator>,
    ) -> Self {
        let app = build(config).await;
        let base_url = format!("http://{}", app.addr());
        let control = app.control();
        let server = tokio::spawn(app.run_until_stopped(std::future::pending()));
        let mut app = Self {
            base_url,
            db_file,
            sim,
            control,
            server,
            http: reqwest::Client::new(),
            _dir: dir,
        };
        // Every test acts as a signed-in admin unless it asks for someone else.
        app.http = app.signed_in(Role::Admin).await;
        app
    }

    /// A new account with `role`, and an HTTP client signed in with it (cookies kept).
    pub async fn signed_in(&self, role: Role) -> reqwest::Client {
        self.signed_in_with(role, reqwest::Client::builder()).await
    }

    /// As [`TestApp::signed_in`], with the client built from `builder`.
    pub async fn signed_in_with(
        &self,
        role: Role,
        builder: reqwest::ClientBuilder,
    ) -> reqwest::Client {
        let n = USERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let email = format!("{}-{n}@contoso.test", role.as_str());
        // A reopened database may already hold the account: then it signs in as it is.
        let _ = self.control.create_user(&email, PASSWORD, role).await;
        let client = builder.cookie_store(true).build().expect("client");
        let r = client
            .post(format!("{}/api/auth/sign-in", self.base_url))
            .header("accept", "application/json")
            .form(&[("email", email.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .expect("sign-in answers");
        assert_eq!(
            r.status(),
            200,
            "sign-in: {}",
            r.text().await.unwrap_or_default()
        );
        client
    }

    /// Makes every `Get-MobileDevice` page of the simulator take `ms` milliseconds.
    pub fn slow_device_pages(&self, ms: u64) {
        self.sim.as_ref().expect("sim").state().faults().push(
            FaultRule::always(FaultKind::Slow { delay_ms: ms }).for_cmdlet("Get-MobileDevice"),
        );
    }

    /// The signed-in admin's client (for requests the helpers do not cover).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Calls a server function the way the hydrated page does; returns its JSON result.
    /// Errors must come with the status their kind promises.
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
    ) -> Result<T, ApiError> {
        let response = self
            .http
            .post(format!("{}/api/{endpoint}", self.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body("")
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        if status == 200 {
            return Ok(
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad JSON {e}: {body}"))
            );
        }
        let error: ApiError =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad error {e}: {body}"));
        assert_eq!(status, error.status_code(), "status of {error:?}");
        Err(error)
    }

    /// Sets up as the page's button does, then waits for the first sync (background work) to
    /// end, as the page does on the live stream; the overview then.
    pub async fn set_up(&self) -> Result<ConnectorOverview, ApiError> {
        let started: ConnectorOverview = self.call("connector/set-up").await?;
        assert!(
            started.connector.is_some_and(|c| c.syncing
                || c.status != exchange_connector::model::ConnectionStatus::ConnectionPending),
            "set-up answers with its first sync running or over"
        );
        Ok(self.settled().await)
    }

    /// The overview once no sync runs (at most a minute from now).
    pub async fn settled(&self) -> ConnectorOverview {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let overview = self.overview().await;
            if overview.connector.as_ref().is_none_or(|c| !c.syncing) {
                return overview;
            }
            assert!(std::time::Instant::now() < deadline, "the sync never ended");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub async fn overview(&self) -> ConnectorOverview {
        self.call("connector/overview").await.expect("overview")
    }

    pub async fn get_html(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("page");
        (r.status().as_u16(), r.text().await.expect("html"))
    }

    /// A separate connection to the app's database file, to check what was stored.
    pub async fn db(&self) -> SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", self.db_file.display()))
            .await
            .expect("database file exists")
    }
}

/// Posts `form` to the server function `endpoint` with `accept` (JSON for the hydrated page,
/// HTML for a plain form).
pub async fn post_form(
    client: &reqwest::Client,
    base_url: &str,
    endpoint: &str,
    form: &[(&str, &str)],
    accept: &str,
) -> reqwest::Response {
    client
        .post(format!("{base_url}/api/{endpoint}"))
        .header("accept", accept)
        .form(form)
        .send()
        .await
        .expect("the server answers")
}

/// Calls the server function `endpoint` as the hydrated page does: the status and the body.
pub async fn call_fn(
    client: &reqwest::Client,
    base_url: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let r = post_form(client, base_url, endpoint, form, "application/json").await;
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// The configuration of a test app: Exchange at `settings`, the database `db_file`, fast
/// back-off (fault tests retry often; a 429 still waits its Retry-After), no scheduled runs (a
/// test starts every run it counts).
pub fn test_config(db_file: &std::path::Path, settings: ExchangeSettings) -> Config {
    Config {
        database_url: format!("sqlite://{}", db_file.display()),
        exchange: ExchangeTarget::Remote(settings),
        client: ClientSettings {
            retry_base: std::time::Duration::from_millis(5),
            ..ClientSettings::default()
        },
        sync: SyncSettings {
            schedule: false,
            ..SyncSettings::default()
        },
        security: Default::default(),
        simulated_auth_mode: Default::default(),
    }
}

/// Builds the application of `config` on a free loopback port (not serving yet).
pub async fn build(config: Config) -> Application {
    let options = LeptosOptions::builder()
        .output_name("exchange-connector")
        .site_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
        .build();
    Application::build(config, options)
        .await
        .expect("application builds")
}

/// Settings pointing at a loopback port where nothing listens.
pub fn unreachable_settings() -> ExchangeSettings {
    ExchangeSettings::with_secret(
        "http://127.0.0.1:9/adminapi/beta".parse().expect("url"),
        "http://127.0.0.1:9".parse().expect("url"),
        "contoso.onmicrosoft.com",
        "00000000-0000-0000-0000-000000000001",
        "unused",
    )
}

/// Calls `function` with `fields`; the answer or the error it gave.
pub async fn call_with<T: serde::de::DeserializeOwned>(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    fields: &[(&str, &str)],
) -> Result<T, ApiError> {
    let (status, body) = call_fn(client, &app.base_url, function, fields).await;
    if status == 200 {
        return Ok(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")));
    }
    let error: ApiError = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(status, error.status_code(), "{error:?}");
    Err(error)
}

/// Runs a cmdlet on the simulator as an admin would.
pub async fn invoke(app: &TestApp, cmdlet: &str, params: serde_json::Value) -> serde_json::Value {
    let sim = app.sim.as_ref().expect("sim");
    let url = format!(
        "{}/{}/InvokeCommand",
        sim.admin_api_url(),
        sim.config().tenant_id
    );
    reqwest::Client::new()
        .post(url)
        .bearer_auth(sim.state().issue_app_token())
        .header("x-responseformat", "json")
        .json(&serde_json::json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": params}}))
        .send()
        .await
        .expect("invoke")
        .json()
        .await
        .expect("json")
}

/// The live status stream, read by tests.
pub const EVENTS_PATH: &str = "/api/connector/events";

/// An event stream being read: whole messages out of the chunks.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    pub async fn open(app: &TestApp) -> Self {
        Self::open_with(app, app.http()).await
    }

    pub async fn open_with(app: &TestApp, client: &reqwest::Client) -> Self {
        let response = client
            .get(format!("{}{EVENTS_PATH}", app.base_url))
            .send()
            .await
            .expect("the stream answers");
        assert_eq!(response.status(), 200);
        let content_type = header(&response, "content-type");
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next `LiveStatus` message (keep-alive comments skipped); `None` when the stream ended.
    pub async fn next(&mut self) -> Option<LiveStatus> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let message: String = self.buffer.drain(..end + 2).collect();
                let data: String = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if data.is_empty() {
                    continue;
                }
                return Some(serde_json::from_str(&data).expect("a LiveStatus message"));
            }
            let chunk = self.response.chunk().await.expect("stream readable")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The first message within `within` for which `wanted` holds.
    pub async fn until(
        &mut self,
        within: Duration,
        wanted: impl Fn(&LiveStatus) -> bool,
    ) -> LiveStatus {
        tokio::time::timeout(within, async {
            loop {
                match self.next().await {
                    Some(status) if wanted(&status) => return status,
                    Some(_) => {}
                    None => panic!("the stream ended before the awaited message"),
                }
            }
        })
        .await
        .expect("the awaited message arrives in time")
    }
}

/// The value of header `name` of `response` (empty when missing or not text).
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
