//! Setting the connector up and removing it. Before anything is saved the permission
//! pre-flight runs and becomes the checklist the page shows (kept in the admin's session); any
//! denied cmdlet stops the set-up with only an audit entry left behind.
//!
//! - App identity (`EXO_AUTH_MODE=app`): the configured application connects; the signed-in
//!   admin is recorded as who set it up.
//! - Delegated (`EXO_AUTH_MODE=delegated`): the admin is sent to the authority's consent page
//!   (authorization code with PKCE and `state`), comes back to the callback, the code is
//!   redeemed, and the admin's address (from the id_token) becomes the connector's account. The
//!   refresh token is stored encrypted and every rotated one replaces it ([`consent`]).

pub(crate) mod consent;
pub(crate) mod http;
mod removal;

pub(crate) use removal::remove;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use tower_sessions::Session;

use crate::model::{
    AuditAction, AuditResult, ConnectionStatus, ConnectorOverview, IdentityMode, PermissionCheck,
    Role, SetUpInfo, SyncKind, SyncTrigger, REQUIRED_CMDLETS,
};

use super::audit::{self, Event};
use super::auth::crypto::SecretBox;
use super::auth::Principal;
use super::config::AuthMode;
use super::connector::overview;
use super::db::{connectors, BEGIN_WRITE};
use super::error::AppError;
use super::exchange::{ExchangeClient, Permission, PermissionReport, OPTIONAL_CMDLETS};
use super::state::AppState;
use super::sync;

/// Who acts, for the ledger and the audit log.
#[derive(Clone, Debug, Default)]
pub(crate) struct Actor {
    pub email: Option<String>,
    pub address: Option<String>,
}

/// The session key of the last set-up attempt (its checklist and why it stopped).
const ATTEMPT: &str = "set_up_attempt";

/// The last set-up attempt of a session.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Attempt {
    pub checks: Vec<PermissionCheck>,
    pub error: Option<String>,
}

/// Remembers `attempt` in `session` (for the page to show after a redirect or a reload).
pub(crate) async fn remember(session: &Session, attempt: &Attempt) {
    // Saved now: the session layer does not save a session whose answer is a 5xx, and a
    // failed set-up answers 502.
    let saved = match session.insert(ATTEMPT, attempt).await {
        Ok(()) => session.save().await,
        Err(e) => Err(e),
    };
    if let Err(e) = saved {
        tracing::warn!(error = %e, "cannot keep the set-up attempt in the session");
    }
}

/// The last set-up attempt of `session`.
pub(crate) async fn last_attempt(session: &Session) -> Attempt {
    session
        .get::<Attempt>(ATTEMPT)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Why a set-up stopped, with the checklist when the pre-flight ran.
#[derive(Debug)]
pub(crate) struct Stopped {
    pub checks: Vec<PermissionCheck>,
    pub error: AppError,
}

impl From<AppError> for Stopped {
    fn from(error: AppError) -> Self {
        Self {
            checks: Vec::new(),
            error,
        }
    }
}

impl From<sqlx::Error> for Stopped {
    fn from(e: sqlx::Error) -> Self {
        AppError::Db(e).into()
    }
}

/// What to grant for `cmdlet`, in words an Exchange admin acts on.
pub(crate) fn hint(cmdlet: &str, account: &str) -> String {
    let role = if (cmdlet.contains("MobileDevice") && !cmdlet.contains("MailboxPolicy"))
        || cmdlet.contains("CASMailbox")
    {
        "Mail Recipients"
    } else {
        "Organization Client Access"
    };
    format!(
        "Give {account} the Exchange management role \"{role}\" (part of the Organization \
         Management role group) or a custom role group that includes {cmdlet}."
    )
}

/// The checklist of the 13 required cmdlets, then the optional ones, from a pre-flight report.
pub(crate) fn checklist(report: &PermissionReport, account: &str) -> Vec<PermissionCheck> {
    REQUIRED_CMDLETS
        .iter()
        .chain(OPTIONAL_CMDLETS)
        .map(|cmdlet| {
            let allowed = match report.get(cmdlet) {
                Some(Permission::Allowed) => Some(true),
                Some(Permission::Denied) => Some(false),
                Some(Permission::Unknown) | None => None,
            };
            PermissionCheck {
                cmdlet: (*cmdlet).to_owned(),
                optional: OPTIONAL_CMDLETS.contains(cmdlet),
                allowed,
                hint: (allowed == Some(false)).then(|| hint(cmdlet, account)),
            }
        })
        .collect()
}

/// "The account … is not allowed to run A and B. …" in plain words.
pub(crate) fn missing_permissions_message(account: &str, denied: &[&str]) -> String {
    let list = match denied {
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    };
    let noun = if denied.len() == 1 {
        "this cmdlet"
    } else {
        "these cmdlets"
    };
    format!(
        "The account ({account}) is not allowed to run {list}. Give it an Exchange role that \
         includes {noun} (for example Organization Management), then try again."
    )
}

/// Sets the connector up with `client` (the configured application, or the admin who just
/// signed in). Refused while a set-up or a sync runs and when it is already connected. The
/// pre-flight runs first: a denied cmdlet stops here and nothing is saved. An Exchange that
/// cannot be reached or refuses the credentials leaves the connector disconnected with the
/// reason. Otherwise the connector is saved (with the refresh token, sealed, when delegated)
/// and its first full sync starts in the background; with `wait`, this waits for its end.
pub(crate) async fn connect(
    state: &AppState,
    actor: &Actor,
    client: ExchangeClient,
    mode: IdentityMode,
    refresh_token: Option<SecretString>,
    wait: bool,
) -> Result<(ConnectorOverview, Vec<PermissionCheck>), Stopped> {
    let Ok(_running) = state.setup_lock.try_lock() else {
        return Err(AppError::Conflict(
            "A set-up is already running. Wait for it to finish.".into(),
        )
        .into());
    };
    let pool = state.db.pool();
    let existing = connectors::current(pool).await?;
    if let Some(c) = existing
        .as_ref()
        .filter(|c| c.status == ConnectionStatus::Connected)
    {
        return Err(AppError::Conflict(format!(
            "The connector is already set up and connected to {}.",
            c.organization.as_deref().unwrap_or(&c.tenant_id)
        ))
        .into());
    }
    let claim = state
        .hub
        .claim()
        .ok_or_else(|| AppError::Conflict(sync::hub::ALREADY_RUNNING.into()))?;
    let id = existing
        .map(|c| c.id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let account = client.account();
    let report = match client.check_permissions().await {
        Ok(report) => report,
        Err(e) => {
            // Unreachable or refused: recorded, so the page says why and offers to retry.
            let mut conn = pool.acquire().await?;
            connectors::begin_setup(&mut conn, &new_connector(state, &id, &account, actor, mode))
                .await?;
            connectors::mark_disconnected(&mut conn, &id, &e.to_string(), Utc::now()).await?;
            state.hub.notify();
            return Err(AppError::Exchange(e).into());
        }
    };
    let checks = checklist(&report, &account);
    let denied = report.denied();
    if !denied.is_empty() {
        return Err(Stopped {
            checks,
            error: AppError::MissingPermissions(missing_permissions_message(&account, &denied)),
        });
    }
    {
        let mut tx = pool.begin_with(BEGIN_WRITE).await?;
        connectors::begin_setup(&mut tx, &new_connector(state, &id, &account, actor, mode)).await?;
        connectors::set_denied_optional(&mut tx, &id, &report.denied_optional()).await?;
        if let Some(token) = &refresh_token {
            store_refresh_token(state, &mut tx, &id, token).await?;
        }
        tx.commit().await?;
    }
    if mode == IdentityMode::Delegated {
        state.exchange.replace(client);
    }
    state.hub.notify();
    tracing::info!(connector_id = id, mode = mode.as_str(), "set-up started");
    let by = actor.email.clone();
    // The first sync is background work either way: it ends succeeded, failed or interrupted
    // whatever becomes of this request. `wait` only waits for it (a form post without
    // JavaScript gets the page as it ends; a browser that goes away stops nothing).
    let (_, done) =
        sync::hub::start_watched(state, claim, SyncKind::FullSync, SyncTrigger::Setup, by).await?;
    if wait {
        match done.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(AppError::from(e).into()),
            Err(_) => return Err(AppError::from(sync::SyncError::Interrupted).into()),
        }
    }
    Ok((overview(state).await?, checks))
}

fn new_connector<'a>(
    state: &'a AppState,
    id: &'a str,
    account: &'a str,
    actor: &'a Actor,
    mode: IdentityMode,
) -> connectors::NewConnector<'a> {
    connectors::NewConnector {
        id,
        endpoint: state.exchange.settings.admin_api_url.as_str(),
        tenant_id: &state.exchange.settings.tenant_id,
        account,
        set_up_by: actor.email.as_deref(),
        mode,
        now: Utc::now(),
    }
}

/// Where the refresh token of `connector_id` is bound (the sealing's associated data).
pub(crate) fn secret_context(connector_id: &str) -> String {
    format!("connector:{connector_id}:{}", connectors::REFRESH_TOKEN)
}

pub(crate) async fn store_refresh_token(
    state: &AppState,
    conn: &mut sqlx::SqliteConnection,
    connector_id: &str,
    token: &SecretString,
) -> Result<(), AppError> {
    seal_refresh_token(&state.secrets, conn, connector_id, token).await
}

/// [`store_refresh_token`] with only the key it needs.
pub(crate) async fn seal_refresh_token(
    secrets: &SecretBox,
    conn: &mut sqlx::SqliteConnection,
    connector_id: &str,
    token: &SecretString,
) -> Result<(), AppError> {
    let sealed = secrets
        .seal(
            &secret_context(connector_id),
            token.expose_secret().as_bytes(),
        )
        .map_err(AppError::Internal)?;
    connectors::put_secret(
        conn,
        connector_id,
        connectors::REFRESH_TOKEN,
        &sealed,
        Utc::now(),
    )
    .await?;
    Ok(())
}

/// Set-up with the configured application identity (the Set Up button): the pre-flight, the
/// connector saved, its first full sync started (waited for with `wait`); the attempt is kept
/// in `session` for the page and recorded in the audit log. In delegated mode the admin must
/// sign in with Microsoft instead.
pub(crate) async fn set_up_with_app(
    state: &AppState,
    session: Option<&Session>,
    actor: &Actor,
    wait: bool,
) -> Result<ConnectorOverview, AppError> {
    let outcome = if state.exchange.settings.auth_mode == AuthMode::Delegated {
        Err(AppError::Conflict(
            "This connector connects as the admin who sets it up (EXO_AUTH_MODE=delegated): use \
             Sign in with Microsoft and set up."
                .into(),
        )
        .into())
    } else {
        connect(
            state,
            actor,
            state.exchange.get(),
            IdentityMode::App,
            None,
            wait,
        )
        .await
    };
    settle(state, session, actor, IdentityMode::App, outcome).await
}

/// The end of the delegated round trip (the callback): see [`consent::finish`].
pub(crate) async fn set_up_with_consent(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    answer: &consent::Callback,
) -> Result<ConnectorOverview, AppError> {
    let outcome = consent::finish(state, session, actor, answer).await;
    settle(
        state,
        Some(session),
        actor,
        IdentityMode::Delegated,
        outcome,
    )
    .await
}

/// Keeps the attempt in the session, records it in the audit log, and returns its result.
async fn settle(
    state: &AppState,
    session: Option<&Session>,
    actor: &Actor,
    mode: IdentityMode,
    outcome: Result<(ConnectorOverview, Vec<PermissionCheck>), Stopped>,
) -> Result<ConnectorOverview, AppError> {
    // Shown on the page and in the audit log: never the internals of a failure inside.
    let shown = outcome.as_ref().err().map(|s| {
        tracing::warn!(error = %s.error, "the set-up stopped");
        s.error.public_message()
    });
    audit_outcome(
        state,
        actor,
        mode,
        &outcome,
        shown.as_deref().unwrap_or_default(),
    )
    .await;
    let (attempt, result) = match outcome {
        Ok((overview, checks)) => (
            Attempt {
                checks,
                error: None,
            },
            Ok(overview),
        ),
        Err(Stopped { checks, error }) => (
            Attempt {
                checks,
                error: shown,
            },
            Err(error),
        ),
    };
    if let Some(session) = session {
        remember(session, &attempt).await;
    }
    result
}

/// What the page's set-up part shows to `who`.
pub(crate) async fn info(state: &AppState, session: &Session, who: &Principal) -> SetUpInfo {
    let attempt = last_attempt(session).await;
    SetUpInfo {
        mode: match state.exchange.settings.auth_mode {
            AuthMode::App => IdentityMode::App,
            AuthMode::Delegated => IdentityMode::Delegated,
        },
        client_id: state.exchange.settings.client_id.clone(),
        checks: attempt.checks,
        error: attempt.error,
        can_manage: who.role.allows(Role::Admin),
    }
}

/// Records a set-up's outcome in the audit log (`shown`: what a failure says to people).
async fn audit_outcome(
    state: &AppState,
    actor: &Actor,
    mode: IdentityMode,
    outcome: &Result<(ConnectorOverview, Vec<PermissionCheck>), Stopped>,
    shown: &str,
) {
    let (result, detail) = match outcome {
        Ok((o, _)) => (
            AuditResult::Success,
            format!(
                "connected as {} ({} identity)",
                o.connector.as_ref().map_or("?", |c| c.account.as_str()),
                mode.as_str()
            ),
        ),
        Err(Stopped {
            error: AppError::MissingPermissions(_) | AppError::Conflict(_),
            ..
        }) => (AuditResult::Denied, shown.to_owned()),
        Err(_) => (AuditResult::Failure, shown.to_owned()),
    };
    let event = Event::new(AuditAction::SetUp, actor.email.as_deref(), result)
        .target(state.exchange.settings.tenant_id.clone())
        .detail(detail)
        .address(actor.address.as_deref());
    audit::record(state.db.pool(), event).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::exchange::PermissionReport;

    #[test]
    fn missing_permissions_are_listed_in_plain_words() {
        let one =
            missing_permissions_message("Application x", &["Set-ActiveSyncOrganizationSettings"]);
        assert_eq!(
            one,
            "The account (Application x) is not allowed to run Set-ActiveSyncOrganizationSettings. \
             Give it an Exchange role that includes this cmdlet (for example Organization \
             Management), then try again."
        );
        let three = missing_permissions_message("a", &["A", "B", "C"]);
        assert!(three.contains("run A, B and C."), "{three}");
        assert!(three.contains("these cmdlets"));
    }

    #[test]
    fn the_checklist_lists_the_13_cmdlets_and_the_4_optional_ones_with_a_hint_for_each_denied_one()
    {
        let report = PermissionReport::from_module_file_for_tests(
            "Get-ActiveSyncOrganizationSettings, Get-MobileDevice, Get-MobileDeviceStatistics",
        );
        let checks = checklist(&report, "admin@contoso.com");
        assert_eq!(checks.len(), 17);
        assert_eq!(checks.iter().filter(|c| c.optional).count(), 4);
        let get = |c: &str| checks.iter().find(|x| x.cmdlet == c).expect(c);
        assert!(get("Set-CASMailbox").optional);
        assert_eq!(get("Set-CASMailbox").allowed, Some(false));
        assert!(!get("Set-ActiveSyncOrganizationSettings").optional);
        assert_eq!(get("Get-MobileDevice").allowed, Some(true));
        assert_eq!(get("Get-MobileDevice").hint, None);
        let denied = get("Set-ActiveSyncOrganizationSettings");
        assert_eq!(denied.allowed, Some(false));
        let hint = denied.hint.as_deref().expect("hint");
        assert!(hint.contains("admin@contoso.com"), "{hint}");
        assert!(hint.contains("Organization Client Access"), "{hint}");
        assert!(
            hint.contains("Set-ActiveSyncOrganizationSettings"),
            "{hint}"
        );
        assert!(get("Get-MobileDeviceStatistics").allowed == Some(true));
        assert!(hint_for_devices_names_mail_recipients());
    }

    fn hint_for_devices_names_mail_recipients() -> bool {
        hint("Get-MobileDevice", "x").contains("Mail Recipients")
            && hint("Get-MobileDeviceMailboxPolicy", "x").contains("Organization Client Access")
    }
}
