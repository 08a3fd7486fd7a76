//! Role-based access: which cmdlets a caller may not run. A denied cmdlet answers **403** on
//! InvokeCommand (body: one short line of plain text, `text/plain`, as the service sometimes
//! does; never JSON) and is left out of `EXOModuleFile`'s `exportedCmdlets`.
//!
//! Deny specification (`EXO_SIM_DENY`, `exo-sim --deny`, `{"spec": ...}` on `PUT /_sim/rbac`):
//! entries separated by `;`, each `PRINCIPAL=CMDLET,CMDLET...` or just `CMDLET,CMDLET...`
//! (meaning everyone). `PRINCIPAL` is `*` (everyone), `app:<client id>` (tokens of that
//! application, app-only or delegated) or `user:<upn>` (delegated tokens of that user). A cmdlet
//! `*` denies every cmdlet. Names and principals compare case-insensitively. Examples:
//!
//! ```text
//! Set-ActiveSyncOrganizationSettings
//! app:9c1b7e42-5d3a-4f60-8e29-b1a4c6d8e0f3=New-ActiveSyncDeviceAccessRule,Remove-MobileDevice;user:helpdesk@contoso.com=*
//! ```
//!
//! `GET /_sim/rbac` answers `{"spec": "...", "deny": [{"principal": "app:...", "cmdlets": [...]}]}`;
//! `PUT /_sim/rbac` takes either `{"spec": "..."}` or `{"deny": [...]}` (same shape) and replaces
//! the whole configuration (an empty one allows everything).

use std::sync::{RwLockReadGuard, RwLockWriteGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::identity::TokenInfo;
use super::SimState;

/// Who a deny entry applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// Every caller.
    Everyone,
    /// Tokens issued to this application (client) id.
    App(String),
    /// Delegated tokens of this user (UPN).
    User(String),
}

impl Principal {
    fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t == "*" {
            return Ok(Self::Everyone);
        }
        let (kind, who) = t.split_once(':').ok_or_else(|| {
            format!("principal must be *, app:<client id> or user:<upn>, got {t:?}")
        })?;
        let who = who.trim();
        if who.is_empty() {
            return Err(format!("principal {t:?} names nobody"));
        }
        match kind.trim().to_ascii_lowercase().as_str() {
            "app" => Ok(Self::App(who.to_owned())),
            "user" => Ok(Self::User(who.to_owned())),
            _ => Err(format!(
                "principal must be *, app:<client id> or user:<upn>, got {t:?}"
            )),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Everyone => "*".to_owned(),
            Self::App(id) => format!("app:{id}"),
            Self::User(upn) => format!("user:{upn}"),
        }
    }

    fn covers(&self, client_id: &str, user: Option<&str>) -> bool {
        match self {
            Self::Everyone => true,
            Self::App(id) => id.eq_ignore_ascii_case(client_id),
            Self::User(upn) => user.is_some_and(|u| u.eq_ignore_ascii_case(upn)),
        }
    }
}

/// The deny list: everything not denied is allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rbac {
    entries: Vec<(Principal, Vec<String>)>,
}

fn check_cmdlet(name: &str) -> Result<String, String> {
    let n = name.trim();
    let ok = n == "*"
        || n.split_once('-').is_some_and(|(verb, noun)| {
            !verb.is_empty()
                && !noun.is_empty()
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(n.to_owned())
    } else {
        Err(format!("{n:?} is not a cmdlet name (Verb-Noun) or *"))
    }
}

impl Rbac {
    /// Parses the deny specification described in the module docs (empty text: nothing denied).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut rbac = Self::default();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (principal, list) = match entry.split_once('=') {
                Some((p, l)) => (Principal::parse(p)?, l),
                None => (Principal::Everyone, entry),
            };
            let cmdlets: Vec<&str> = list.split(',').filter(|c| !c.trim().is_empty()).collect();
            if cmdlets.is_empty() {
                return Err(format!("entry {entry:?} denies no cmdlet"));
            }
            rbac.deny(principal, &cmdlets)?;
        }
        Ok(rbac)
    }

    /// Denies `cmdlets` (names or `*`) to `principal`.
    pub fn deny(&mut self, principal: Principal, cmdlets: &[&str]) -> Result<(), String> {
        let names = cmdlets
            .iter()
            .map(|c| check_cmdlet(c))
            .collect::<Result<Vec<_>, _>>()?;
        self.entries.push((principal, names));
        Ok(())
    }

    /// Whether nothing is denied.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a caller (application `client_id`, signed-in `user` for delegated tokens) may run
    /// `cmdlet`.
    pub fn allows(&self, client_id: &str, user: Option<&str>, cmdlet: &str) -> bool {
        !self.entries.iter().any(|(p, names)| {
            p.covers(client_id, user)
                && names
                    .iter()
                    .any(|n| n == "*" || n.eq_ignore_ascii_case(cmdlet.trim()))
        })
    }

    /// The canonical specification text (parses back to the same deny list).
    pub fn spec(&self) -> String {
        self.entries
            .iter()
            .map(|(p, names)| format!("{}={}", p.text(), names.join(",")))
            .collect::<Vec<_>>()
            .join(";")
    }

    fn to_json(&self) -> Value {
        let deny: Vec<Value> = self
            .entries
            .iter()
            .map(|(p, names)| json!({"principal": p.text(), "cmdlets": names}))
            .collect();
        json!({"spec": self.spec(), "deny": deny})
    }

    fn from_json(v: &Value) -> Result<Self, String> {
        if let Some(spec) = v.get("spec").and_then(Value::as_str) {
            return Self::parse(spec);
        }
        let list = v
            .get("deny")
            .and_then(Value::as_array)
            .ok_or("expected {\"spec\": \"...\"} or {\"deny\": [{\"principal\": ..., \"cmdlets\": [...]}]}")?;
        let mut rbac = Self::default();
        for e in list {
            let principal =
                Principal::parse(e.get("principal").and_then(Value::as_str).unwrap_or("*"))?;
            let cmdlets: Vec<&str> = e
                .get("cmdlets")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if cmdlets.is_empty() {
                return Err("every deny entry needs a non-empty \"cmdlets\" list".to_owned());
            }
            rbac.deny(principal, &cmdlets)?;
        }
        Ok(rbac)
    }
}

impl SimState {
    fn rbac_read(&self) -> RwLockReadGuard<'_, Rbac> {
        self.inner.rbac.read().unwrap_or_else(|e| e.into_inner())
    }

    fn rbac_write(&self) -> RwLockWriteGuard<'_, Rbac> {
        self.inner.rbac.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The deny list in force.
    pub fn rbac(&self) -> Rbac {
        self.rbac_read().clone()
    }

    /// Replaces the deny list.
    pub fn set_rbac(&self, rbac: Rbac) {
        *self.rbac_write() = rbac;
    }

    /// Replaces the deny list with the parsed `spec` (see the module docs); on error nothing
    /// changes.
    pub fn set_denied(&self, spec: &str) -> Result<(), String> {
        let rbac = Rbac::parse(spec)?;
        self.set_rbac(rbac);
        Ok(())
    }

    /// Whether the bearer of `token` may run `cmdlet`.
    pub(crate) fn allowed(&self, token: &TokenInfo, cmdlet: &str) -> bool {
        self.rbac_read()
            .allows(&token.client_id, token.user.as_deref(), cmdlet)
    }
}

/// The 403 InvokeCommand answers for a denied cmdlet.
pub(crate) fn forbidden_text(cmdlet: &str) -> String {
    format!(
        "Access denied: the role assignments of this caller do not include the cmdlet '{cmdlet}'."
    )
}

/// `GET /_sim/rbac`.
pub(crate) async fn get_rbac(State(state): State<SimState>) -> Json<Value> {
    Json(state.rbac().to_json())
}

/// `PUT /_sim/rbac`.
pub(crate) async fn put_rbac(State(state): State<SimState>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body)
        .map_err(|e| format!("body must be JSON: {e}"))
        .and_then(|v| Rbac::from_json(&v));
    match parsed {
        Ok(rbac) => {
            state.set_rbac(rbac);
            Json(state.rbac().to_json()).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "9c1b7e42-5d3a-4f60-8e29-b1a4c6d8e0f3";

    #[test]
    fn a_bare_list_denies_everyone() {
        let r = Rbac::parse("Set-ActiveSyncOrganizationSettings").unwrap_or_default();
        assert!(!r.allows(APP, None, "set-activesyncorganizationsettings"));
        assert!(!r.allows("other", Some("a@b"), "Set-ActiveSyncOrganizationSettings"));
        assert!(r.allows(APP, None, "Get-ActiveSyncOrganizationSettings"));
    }

    #[test]
    fn entries_apply_per_application_and_per_user() {
        let spec = format!("app:{APP}=Remove-MobileDevice,New-ActiveSyncDeviceAccessRule;user:Helpdesk@Contoso.com=*;*=Get-Mailbox");
        let r = Rbac::parse(&spec).unwrap_or_default();
        assert!(!r.allows(&APP.to_uppercase(), None, "Remove-MobileDevice"));
        assert!(r.allows("another-app", None, "Remove-MobileDevice"));
        assert!(!r.allows(
            "another-app",
            Some("helpdesk@contoso.com"),
            "Get-MobileDevice"
        ));
        assert!(r.allows("another-app", Some("admin@contoso.com"), "Get-MobileDevice"));
        assert!(!r.allows("another-app", None, "Get-Mailbox"));
        assert_eq!(Rbac::parse(&r.spec()), Ok(r.clone()));
        assert_eq!(Rbac::from_json(&r.to_json()), Ok(r));
        assert_eq!(Rbac::parse(" ; "), Ok(Rbac::default()));
    }

    #[test]
    fn malformed_specs_are_refused() {
        for bad in [
            "group:x=Get-MobileDevice",
            "app:=Get-MobileDevice",
            "*=",
            "Get MobileDevice",
            "*=Get-Mobile;Device!",
        ] {
            assert!(Rbac::parse(bad).is_err(), "{bad}");
        }
    }
}
