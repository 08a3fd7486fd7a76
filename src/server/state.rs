//! `AppState`: what every handler and server function shares, reached from server functions
//! through Leptos context.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::auth::crypto::SecretBox;
use super::auth::throttle::Throttle;
use super::config::{ExchangeSettings, SecuritySettings, SyncSettings};
use super::db::Db;
use super::exchange::ExchangeClient;
use super::sync::hub::SyncHub;

/// Shared server state. Cheap to clone: one reference count (every request clones it into
/// each server function's context and each middleware).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub(crate) fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    pub(crate) leptos_options: LeptosOptions,
    pub(crate) db: Db,
    /// The Exchange client in use (replaced when an admin signs in for a delegated set-up, or
    /// the connector is removed).
    pub(crate) exchange: ExchangeHandle,
    /// True when the embedded simulator is the Exchange (the demo tenant).
    pub(crate) simulated: bool,
    /// Held while a set-up runs, so that a second one is refused rather than run twice.
    pub(crate) setup_lock: Arc<tokio::sync::Mutex<()>>,
    /// Held while a change of Exchange's configuration (settings, rules, policies) is made.
    pub(crate) config_changes: Arc<tokio::sync::Mutex<()>>,
    /// One sync at a time, its progress, and the change counter of live views.
    pub(crate) hub: SyncHub,
    /// Background work (sync runs, the scheduler) and its stop signal.
    pub(crate) background: Background,
    /// Concurrency, schedule and health thresholds.
    pub(crate) sync_settings: Arc<SyncSettings>,
    /// Public URL, session and sign-in settings.
    pub(crate) security: Arc<SecuritySettings>,
    /// Failed sign-ins per account and per address.
    pub(crate) throttle: Arc<Throttle>,
    /// The live status for every open stream (computed once per change).
    pub(crate) live: Arc<super::live::LiveFeed>,
    /// How many audit entries anonymous requests may still add.
    pub(crate) anonymous_audit: Arc<super::audit::budget::AnonymousBudget>,
    /// Seals and opens stored secrets (refresh tokens).
    pub(crate) secrets: Arc<SecretBox>,
    /// The session store (the table `sessions`).
    pub(crate) sessions: tower_sessions_sqlx_store::SqliteStore,
    /// While no admin exists: the token of the one-time link that creates the first one.
    pub(crate) first_admin: Arc<std::sync::Mutex<Option<String>>>,
    /// Single sign-on's OpenID provider, when `OIDC_ISSUER_URL` is set.
    pub(crate) oidc: Option<Arc<super::auth::oidc::Provider>>,
    /// The device list in memory (`devices::catalog`).
    pub(crate) catalogs: Arc<super::devices::catalog::Catalogs>,
    /// The Exchange changes under way (`access::progress`).
    pub(crate) changes: Arc<super::access::progress::ChangeBoard>,
    /// Counters and histograms for `/metrics`.
    pub(crate) metrics: Arc<super::metrics::Metrics>,
    /// Alert webhooks' settings, HTTP client and the delivery worker's wake-up.
    pub(crate) alerts: Arc<super::alerts::deliver::AlertRuntime>,
}

impl AppState {
    /// The address admins open, without a trailing slash: `PUBLIC_URL`, else the address the
    /// server listens on (OAuth redirect URIs and the first-admin link start with it).
    pub(crate) fn public_base(&self) -> String {
        match &self.security.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.leptos_options.site_addr),
        }
    }
}

/// The current Exchange client and the settings to build another.
#[derive(Clone)]
pub(crate) struct ExchangeHandle {
    current: Arc<std::sync::RwLock<ExchangeClient>>,
    pub(crate) settings: Arc<ExchangeSettings>,
}

impl ExchangeHandle {
    pub(crate) fn new(client: ExchangeClient, settings: ExchangeSettings) -> Self {
        Self {
            current: Arc::new(std::sync::RwLock::new(client)),
            settings: Arc::new(settings),
        }
    }

    /// The client to use now (a run keeps the one it started with).
    pub(crate) fn get(&self) -> ExchangeClient {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Uses `client` from now on.
    pub(crate) fn replace(&self, client: ExchangeClient) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = client;
    }
}

/// The stop signal every background task watches, and the tracker shutdown waits on.
#[derive(Clone, Default)]
pub(crate) struct Background {
    /// Cancelled on SIGTERM / Ctrl-C (and when the application is stopped).
    pub(crate) cancel: CancellationToken,
    /// Every background task; shutdown closes it and waits until it is empty.
    pub(crate) tracker: TaskTracker,
    /// The long-running tasks among them, for `/readyz`.
    pub(crate) workers: Arc<Workers>,
}

impl Background {
    /// Runs `work` as the long-running worker `name`: tracked like any background task, and
    /// reported stopped by `/readyz` once it ends (or panics) while the server still runs.
    pub(crate) fn spawn_worker<F>(&self, name: &'static str, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let alive = self.workers.started(name);
        self.tracker.spawn(async move {
            let _alive = alive;
            work.await;
        });
    }
}

/// The long-running background workers (the sync scheduler, the live status publisher, the
/// session cleanup) and whether each still runs.
#[derive(Default)]
pub(crate) struct Workers {
    list: std::sync::Mutex<Vec<(&'static str, Arc<AtomicBool>)>>,
}

impl Workers {
    fn started(&self, name: &'static str) -> Alive {
        let flag = Arc::new(AtomicBool::new(true));
        self.list
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((name, flag.clone()));
        Alive(flag)
    }

    /// The names of the workers that ended.
    pub(crate) fn stopped(&self) -> Vec<&'static str> {
        self.list
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, alive)| !alive.load(Ordering::Acquire))
            .map(|(name, _)| *name)
            .collect()
    }
}

/// Held by a running worker; dropped (marking it stopped) when its task ends or unwinds.
struct Alive(Arc<AtomicBool>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
