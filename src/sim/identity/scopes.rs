//! Delegated scopes: which the authorize endpoint accepts and what a token response grants.

use axum::http::StatusCode;

use super::oidc::OIDC_SCOPES;
use super::AadError;

/// Delegated Exchange scope accepted besides `.default`, and the one token responses report.
const EXCHANGE_MANAGE: &str = "https://outlook.office365.com/Exchange.Manage";

/// Checks delegated scopes: OpenID Connect ones plus Exchange Online's. The result is the list,
/// de-duplicated, OpenID ones lower-cased.
pub(crate) fn delegated_scopes(scope: &str) -> Result<Vec<String>, AadError> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split_whitespace() {
        let item = if let Some(o) = OIDC_SCOPES.iter().find(|o| o.eq_ignore_ascii_case(s)) {
            (*o).to_owned()
        } else if s.eq_ignore_ascii_case(super::EXCHANGE_SCOPE)
            || s.eq_ignore_ascii_case(EXCHANGE_MANAGE)
        {
            s.to_owned()
        } else {
            return Err(AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", 70011, format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {s} is not valid. exo-sim grants \
                 {} (or Exchange.Manage) and the OpenID Connect scopes {}.",
                super::EXCHANGE_SCOPE,
                OIDC_SCOPES.join(", ")
            )));
        };
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
            out.push(item);
        }
    }
    if out.is_empty() {
        return Err(AadError::missing("scope"));
    }
    Ok(out)
}

/// Whether `scopes` include `name` (an OpenID Connect scope).
pub(crate) fn has_scope(scopes: &[String], name: &str) -> bool {
    scopes.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Whether `scopes` ask for Exchange Online (else only a sign-in is asked for).
pub(crate) fn has_exchange(scopes: &[String]) -> bool {
    scopes.iter().any(|s| !OIDC_SCOPES.contains(&s.as_str()))
}

/// The `scope` of a token response: Exchange's delegated permission plus the OpenID scopes asked.
pub(crate) fn granted_scope(scopes: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    if has_exchange(scopes) {
        out.push(EXCHANGE_MANAGE);
    }
    out.extend(OIDC_SCOPES.iter().copied().filter(|o| has_scope(scopes, o)));
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegated_scopes_accept_exchange_and_openid_only() {
        let ok = delegated_scopes(
            "https://outlook.office365.com/.default offline_access OPENID email profile openid",
        );
        let ok = ok.unwrap_or_default();
        assert_eq!(
            ok,
            [
                "https://outlook.office365.com/.default",
                "offline_access",
                "openid",
                "email",
                "profile"
            ]
        );
        assert_eq!(
            granted_scope(&ok),
            "https://outlook.office365.com/Exchange.Manage openid profile email offline_access"
        );
        assert!(has_exchange(&ok) && has_scope(&ok, "OpenID"));
        let sign_in_only = delegated_scopes("openid profile").unwrap_or_default();
        assert!(!has_exchange(&sign_in_only));
        assert_eq!(
            delegated_scopes("https://graph.microsoft.com/.default")
                .map_err(|e| e.error)
                .err(),
            Some("invalid_scope")
        );
        assert_eq!(
            delegated_scopes("  ").map_err(|e| e.code).err(),
            Some(900144)
        );
    }
}
