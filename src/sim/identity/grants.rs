//! State of the delegated flow: authorize requests waiting for consent, authorization codes,
//! refresh tokens, plus the replay cache of client-assertion ids. Every entry has an expiry and
//! expired entries are purged whenever a new one is stored, so the maps stay bounded.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::random_token;

/// How long a consent page and an authorization code stay usable.
pub(crate) const CODE_LIFETIME_SECS: i64 = 600;
/// How long a refresh token stays usable (Entra: 90 days, sliding).
pub(crate) const REFRESH_LIFETIME_SECS: i64 = 90 * 86_400;

/// A validated authorize request: what the user consents to and what the code is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    /// Scopes as asked (already checked).
    pub(crate) scopes: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    /// `BASE64URL(SHA256(code_verifier))`.
    pub(crate) code_challenge: String,
    /// UPN of the signed-in user.
    pub(crate) user: String,
}

/// An issued authorization code.
#[derive(Clone, Debug)]
pub(crate) struct AuthCode {
    pub(crate) request: AuthRequest,
    expires_at: DateTime<Utc>,
    redeemed: bool,
    /// Shared by every refresh token that descends from this code.
    pub(crate) family: String,
}

/// Why a code was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CodeProblem {
    Unknown,
    Expired,
    /// Already redeemed once; the refresh tokens that came from it are revoked now.
    Redeemed,
}

/// A refresh token's grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) user: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) family: String,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

/// Why a refresh token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshProblem {
    Unknown,
    Expired,
    /// Rotated (used once already) or revoked with its family.
    Revoked,
}

/// The grants of the delegated flow (behind the token store's lock).
#[derive(Debug, Default)]
pub(crate) struct Grants {
    pending: HashMap<String, (AuthRequest, DateTime<Utc>)>,
    codes: HashMap<String, AuthCode>,
    refresh: HashMap<String, RefreshGrant>,
    /// Seen assertion ids (`client_id` + `jti`) and when they may be forgotten.
    jtis: HashMap<String, DateTime<Utc>>,
}

impl Grants {
    /// Keeps `request` until the user answers the consent page; returns the transaction id.
    pub(crate) fn begin(&mut self, request: AuthRequest, now: DateTime<Utc>) -> String {
        self.pending.retain(|_, (_, until)| *until > now);
        let id = random_token("");
        let until = now + Duration::seconds(CODE_LIFETIME_SECS);
        self.pending.insert(id.clone(), (request, until));
        id
    }

    /// The pending request of `transaction` (answered once: it is removed).
    pub(crate) fn take_pending(
        &mut self,
        transaction: &str,
        now: DateTime<Utc>,
    ) -> Option<AuthRequest> {
        match self.pending.remove(transaction) {
            Some((request, until)) if until > now => Some(request),
            _ => None,
        }
    }

    /// Issues a single-use code for a consented request.
    pub(crate) fn issue_code(&mut self, request: AuthRequest, now: DateTime<Utc>) -> String {
        self.codes.retain(|_, c| c.expires_at > now);
        let code = random_token("exosim-code.");
        let family = random_token("");
        self.codes.insert(
            code.clone(),
            AuthCode {
                request,
                expires_at: now + Duration::seconds(CODE_LIFETIME_SECS),
                redeemed: false,
                family,
            },
        );
        code
    }

    /// Redeems `code` (any attempt uses it up, so a wrong verifier cannot be retried). A second
    /// redemption revokes every refresh token that came from the first one (RFC 6749 §4.1.2).
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<AuthCode, CodeProblem> {
        let entry = self.codes.get_mut(code).ok_or(CodeProblem::Unknown)?;
        if entry.redeemed {
            let family = entry.family.clone();
            for grant in self.refresh.values_mut().filter(|g| g.family == family) {
                grant.revoked = true;
            }
            return Err(CodeProblem::Redeemed);
        }
        if entry.expires_at <= now {
            return Err(CodeProblem::Expired);
        }
        entry.redeemed = true;
        Ok(entry.clone())
    }

    /// Issues a refresh token for `user` of `client_id` in `family`.
    pub(crate) fn issue_refresh(
        &mut self,
        client_id: &str,
        user: &str,
        scopes: &[String],
        family: &str,
        now: DateTime<Utc>,
    ) -> String {
        self.refresh.retain(|_, g| g.expires_at > now);
        let token = random_token("exosim-rt.");
        self.refresh.insert(
            token.clone(),
            RefreshGrant {
                client_id: client_id.to_owned(),
                user: user.to_owned(),
                scopes: scopes.to_vec(),
                family: family.to_owned(),
                expires_at: now + Duration::seconds(REFRESH_LIFETIME_SECS),
                revoked: false,
            },
        );
        token
    }

    /// Uses `token` up (rotation: it is revoked) and returns its grant for a new pair.
    pub(crate) fn use_refresh(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<RefreshGrant, RefreshProblem> {
        let grant = self.refresh.get_mut(token).ok_or(RefreshProblem::Unknown)?;
        if grant.revoked {
            return Err(RefreshProblem::Revoked);
        }
        if grant.expires_at <= now {
            return Err(RefreshProblem::Expired);
        }
        grant.revoked = true;
        Ok(grant.clone())
    }

    /// Records an assertion id until `until`; `false` when it was seen before (a replay).
    pub(crate) fn remember_jti(
        &mut self,
        key: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        self.jtis.retain(|_, forget_at| *forget_at > now);
        if self.jtis.contains_key(key) {
            return false;
        }
        self.jtis.insert(key.to_owned(), until);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AuthRequest {
        AuthRequest {
            client_id: "app".into(),
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            scopes: vec!["openid".into()],
            state: Some("s".into()),
            nonce: None,
            code_challenge: "c".into(),
            user: "admin@contoso.test".into(),
        }
    }

    #[test]
    fn a_code_works_once_and_a_replay_revokes_its_refresh_tokens() {
        let mut g = Grants::default();
        let t0 = Utc::now();
        let code = g.issue_code(request(), t0);
        let first = g.redeem_code(&code, t0);
        let Ok(first) = first else {
            panic!("{first:?}")
        };
        let rt = g.issue_refresh("app", "admin@contoso.test", &[], &first.family, t0);
        assert_eq!(g.redeem_code(&code, t0).err(), Some(CodeProblem::Redeemed));
        assert_eq!(g.use_refresh(&rt, t0), Err(RefreshProblem::Revoked));
        assert_eq!(g.redeem_code("nope", t0).err(), Some(CodeProblem::Unknown));
    }

    #[test]
    fn codes_expire_after_ten_minutes() {
        let mut g = Grants::default();
        let t0 = Utc::now();
        let code = g.issue_code(request(), t0);
        let later = t0 + Duration::seconds(CODE_LIFETIME_SECS);
        assert_eq!(
            g.redeem_code(&code, later).err(),
            Some(CodeProblem::Expired)
        );
    }

    #[test]
    fn refresh_tokens_rotate_and_expire() {
        let mut g = Grants::default();
        let t0 = Utc::now();
        let rt = g.issue_refresh("app", "u", &[], "f", t0);
        assert!(g.use_refresh(&rt, t0).is_ok());
        assert_eq!(g.use_refresh(&rt, t0), Err(RefreshProblem::Revoked));
        let rt = g.issue_refresh("app", "u", &[], "f", t0);
        let late = t0 + Duration::seconds(REFRESH_LIFETIME_SECS);
        assert_eq!(g.use_refresh(&rt, late), Err(RefreshProblem::Expired));
        assert_eq!(g.use_refresh("nope", t0), Err(RefreshProblem::Unknown));
    }

    #[test]
    fn consent_transactions_are_answered_once_and_expire() {
        let mut g = Grants::default();
        let t0 = Utc::now();
        let id = g.begin(request(), t0);
        assert_eq!(g.take_pending(&id, t0), Some(request()));
        assert_eq!(g.take_pending(&id, t0), None);
        let id = g.begin(request(), t0);
        let late = t0 + Duration::seconds(CODE_LIFETIME_SECS);
        assert_eq!(g.take_pending(&id, late), None);
    }

    #[test]
    fn an_assertion_id_is_accepted_once_until_it_is_forgotten() {
        let mut g = Grants::default();
        let t0 = Utc::now();
        let until = t0 + Duration::seconds(60);
        assert!(g.remember_jti("app/1", until, t0));
        assert!(!g.remember_jti("app/1", until, t0));
        assert!(g.remember_jti("app/2", until, t0));
        assert!(g.remember_jti("app/1", until, until + Duration::seconds(1)));
    }
}
