//! Everything that runs only on the server. `Application::build` wires configuration,
//! database, Exchange client and (by default) the embedded simulator; tests build it on port 0.

pub(crate) mod access;
pub mod alerts;
pub(crate) mod assets;
pub(crate) mod audit;
pub(crate) mod auth;
#[doc(hidden)]
pub mod bench;
pub mod cli;
pub(crate) mod client_ip;
pub mod config;
pub(crate) mod connector;
#[doc(hidden)]
pub mod control;
pub(crate) mod csv;
pub(crate) mod db;
pub(crate) mod devices;
pub(crate) mod error;
pub(crate) mod exchange;
pub(crate) mod fn_status;
pub(crate) mod headers;
pub(crate) mod history;
pub(crate) mod keyset;
pub(crate) mod live;
pub(crate) mod metrics;
pub(crate) mod names;
pub(crate) mod probes;
pub(crate) mod rest;
pub(crate) mod routes;
pub(crate) mod run_to_end;
pub(crate) mod setup;
pub mod state;
pub(crate) mod sync;
pub(crate) mod tokens;
pub(crate) mod users;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;
use chrono::Utc;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;

use crate::sim::{self, RunningSimulator};
use config::{Config, ExchangeSettings, ExchangeTarget};
use db::Db;
use exchange::ExchangeClient;
use state::{AppState, Background};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    LeptosConfig(String),
    #[error(transparent)]
    Database(#[from] db::DbOpenError),
    #[error("cannot start the embedded Exchange Online simulator: {0}")]
    Simulator(std::io::Error),
    #[error("cannot load the key of stored secrets: {0}")]
    Key(#[from] auth::crypto::KeyError),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("cannot set up single sign-on (OIDC_*): {0}")]
    SingleSignOn(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The OpenID provider of `settings`; `simulator` stands in for `OIDC_ISSUER_URL=simulator`
/// (its authority, tenant and demo app).
fn oidc_provider(
    settings: &config::OidcSettings,
    simulator: Option<&RunningSimulator>,
) -> Result<auth::oidc::Provider, StartError> {
    let name = &settings.provider_name;
    match (&settings.issuer, simulator) {
        (config::OidcIssuer::Url(issuer), _) => auth::oidc::Provider::new(
            issuer.as_str(),
            settings.client_id.as_deref().unwrap_or_default(),
            settings.client_secret.clone(),
            name,
        ),
        (config::OidcIssuer::Simulator, Some(sim)) => {
            let c = sim.config();
            let issuer = format!("{}/{}/v2.0", sim.authority_url(), c.tenant_id);
            let secret = secrecy::SecretString::from(c.client_secret.clone());
            auth::oidc::Provider::new(&issuer, &c.client_id, Some(secret), name)
        }
        (config::OidcIssuer::Simulator, None) => {
            Err("OIDC_ISSUER_URL=simulator needs the embedded simulator".to_owned())
        }
    }
    .map_err(StartError::SingleSignOn)
}

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    simulator: Option<RunningSimulator>,
}

impl Application {
    /// Opens the database (creating and migrating it), starts the embedded simulator when no
    /// real Exchange is configured, and binds `options.site_addr` (port 0 picks a free port).
    pub async fn build(config: Config, options: LeptosOptions) -> Result<Self, StartError> {
        let db = Db::open(&config.database_url).await?;
        let now = Utc::now();
        let db_error = |e| StartError::Database(db::DbOpenError::Connect(e));
        let setups = db::connectors::fail_interrupted_setups(db.pool(), now)
            .await
            .map_err(db_error)?;
        let runs = db::sync_runs::interrupt_abandoned(db.pool(), now)
            .await
            .map_err(db_error)?;
        let writes = audit::settle_unanswered_writes(db.pool())
            .await
            .map_err(db_error)?;
        if setups + runs + writes > 0 {
            tracing::warn!(
                setups,
                runs,
                writes,
                "work cut off by the last stop was recorded as interrupted"
            );
        }

        let (settings, simulator) = match config.exchange {
            ExchangeTarget::Remote(settings) => (settings, None),
            ExchangeTarget::Simulator(sim_config) => {
                let running = sim::start(sim_config, SocketAddr::from(([127, 0, 0, 1], 0)))
                    .await
                    .map_err(StartError::Simulator)?;
                let mut settings = ExchangeSettings::for_simulator(&running).map_err(|e| {
                    StartError::Simulator(std::io::Error::other(format!("bad simulator URL: {e}")))
                })?;
                settings.auth_mode = config.simulated_auth_mode;
                tracing::info!(
                    url = running.base_url(),
                    devices = running.device_count(),
                    "embedded Exchange Online simulator started (demo tenant)"
                );
                (settings, Some(running))
            }
        };
        let metrics = Arc::new(metrics::Metrics::default());
        let exchange = ExchangeClient::new(&settings, &config.client)?
            .observed_by(Some(metrics.clone() as Arc<dyn exchange::ExchangeObserver>));
        let oidc = match &config.security.oidc {
            Some(o) => Some(Arc::new(oidc_provider(o, simulator.as_ref())?)),
            None => None,
        };
        let key_file = config
            .security
            .secret_key_file
            .clone()
            .unwrap_or_else(|| auth::crypto::default_key_file(&config.database_url));
        let secrets =
            auth::crypto::SecretBox::load(config.security.secret_key.as_ref(), &key_file)?;
        let sessions = auth::session::store(db.pool().clone())
            .await
            .map_err(db_error)?;
        let first_admin = match db::users::count_admins(db.pool()).await.map_err(db_error)? {
            0 => Some(auth::first_admin_token()),
            _ => None,
        };

        let addr = options.site_addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?;
        let mut options = options;
        options.site_addr = addr;
        let alerts_settings = config.sync.alerts.clone();
        let state = AppState::new(state::Shared {
            leptos_options: options,
            db,
            exchange: state::ExchangeHandle::new(exchange, settings),
            simulated: simulator.is_some(),
            setup_lock: Arc::new(tokio::sync::Mutex::new(())),
            config_changes: Arc::default(),
            hub: sync::hub::SyncHub::new(),
            background: Background::default(),
            sync_settings: Arc::new(config.sync),
            anonymous_audit: Arc::default(),
            live: Arc::default(),
            throttle: Arc::new(auth::throttle::Throttle::new(
                config.security.sign_in_max_failures,
                config.security.sign_in_window,
            )),
            security: Arc::new(config.security),
            secrets: Arc::new(secrets),
            sessions,
            first_admin: Arc::new(std::sync::Mutex::new(first_admin)),
            oidc,
            catalogs: Arc::default(),
            changes: Arc::default(),
            metrics,
            alerts: Arc::new(alerts::deliver::AlertRuntime::new(alerts_settings)?),
        });
        // Delegated mode: act as the admin who set the connector up, with the stored token.
        if let Err(e) = setup::consent::restore(&state).await {
            tracing::error!(error = %e, "cannot restore the admin's Microsoft sign-in");
        }
        Ok(Self {
            listener,
            addr,
            state,
            simulator,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// While no admin exists: the one-time link that creates the first one.
    pub fn first_admin_link(&self) -> Option<String> {
        let token = self
            .state
            .first_admin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        Some(format!(
            "{}{}?token={token}",
            self.state.public_base(),
            crate::app::paths::FIRST_ADMIN
        ))
    }

    /// A handle to start and watch syncs without HTTP (tests and benchmarks).
    pub fn control(&self) -> control::SyncControl {
        control::SyncControl::new(self.state.clone())
    }

    /// Starts the sync schedule, then serves until `shutdown` completes. On shutdown every
    /// background task is cancelled (a sync in progress is recorded `interrupted`, its staged
    /// data dropped) and waited for; then the simulator stops.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let background = self.state.background.clone();
        sync::schedule::spawn(&self.state);
        live::spawn_publisher(&self.state);
        alerts::watch::spawn(&self.state);
        alerts::deliver::spawn(&self.state);
        auth::session::spawn_cleanup(self.state.sessions.clone(), &background);
        let router = routes::router(self.state);
        let cancel = background.cancel.clone();
        let stop = async move {
            tokio::select! {
                () = shutdown => {}
                () = cancel.cancelled() => {}
            }
            // Background work stops first, so that requests waiting on it can finish.
            cancel.cancel();
        };
        // The peer address reaches handlers (sign-in throttling, the audit log).
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        // Every answer leaves at once. Without TCP_NODELAY a body written after its headers
        // waits for the client's delayed ACK (about 40 ms on Linux): small files and pages
        // were capped at about 950 requests/s over 32 connections, 25 ms each on one.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
            }
        });
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(stop)
            .await;
        background.cancel.cancel();
        background.tracker.close();
        background.tracker.wait().await;
        if let Some(sim) = self.simulator {
            sim.shutdown().await;
        }
        served
    }
}

/// Reads the configuration, builds the application and serves until Ctrl-C or SIGTERM.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let options = leptos::config::get_configuration(None)
        .map_err(|e| StartError::LeptosConfig(e.to_string()))?
        .leptos_options;
    let app = Application::build(config, options).await?;
    tracing::info!("serving on http://{}", app.addr());
    if let Some(link) = app.first_admin_link() {
        // The one way in on a fresh install (besides `exchange-connector admin create`).
        tracing::warn!(
            "No admin account yet. Open {link} to create the first one (the link works once), \
             or run: exchange-connector admin create --email you@example.com"
        );
    }
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
