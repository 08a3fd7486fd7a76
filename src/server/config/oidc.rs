//! Sign-in with OpenID Connect (`OIDC_*`): off unless `OIDC_ISSUER_URL` is set.

use secrecy::SecretString;
use url::Url;

use super::{bad, ConfigError};

/// The value of `OIDC_ISSUER_URL` that means the embedded simulator's own sign-in.
pub const SIMULATOR_ISSUER: &str = "simulator";
/// The provider's name on the sign-in button when `OIDC_PROVIDER_NAME` is not set.
pub const DEFAULT_PROVIDER_NAME: &str = "Microsoft";

/// Which OpenID provider people sign in with.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub issuer: OidcIssuer,
    /// `OIDC_CLIENT_ID`: the app registration's client id (the simulator's demo app when the
    /// issuer is the simulator).
    pub client_id: Option<String>,
    /// `OIDC_CLIENT_SECRET`: unset for a public client (PKCE only). Never logged.
    pub client_secret: Option<SecretString>,
    /// `OIDC_PROVIDER_NAME`: "Sign in with …" (default "Microsoft").
    pub provider_name: String,
}

/// `OIDC_ISSUER_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OidcIssuer {
    /// `simulator`: the embedded simulator's authority, its tenant and demo app.
    Simulator,
    /// An issuer such as `https://login.microsoftonline.com/<tenant id>/v2.0` (discovery is
    /// read from `<issuer>/.well-known/openid-configuration`).
    Url(Url),
}

impl OidcSettings {
    /// `None` when `OIDC_ISSUER_URL` is not set (the other `OIDC_*` keys must not be set then).
    pub(super) fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let client_id = get("OIDC_CLIENT_ID").map(|s| s.trim().to_owned());
        let client_secret = get("OIDC_CLIENT_SECRET").map(SecretString::from);
        let provider_name = get("OIDC_PROVIDER_NAME").map(|s| s.trim().to_owned());
        let Some(raw) = get("OIDC_ISSUER_URL") else {
            if client_id.is_some() || client_secret.is_some() || provider_name.is_some() {
                return Err(bad(
                    "OIDC_ISSUER_URL",
                    "is required when another OIDC_ setting is set (for example \
                     https://login.microsoftonline.com/<tenant id>/v2.0, or \"simulator\")",
                ));
            }
            return Ok(None);
        };
        let raw = raw.trim();
        let issuer = if raw.eq_ignore_ascii_case(SIMULATOR_ISSUER) {
            OidcIssuer::Simulator
        } else {
            OidcIssuer::Url(issuer_url(raw)?)
        };
        if let OidcIssuer::Url(_) = issuer {
            if client_id.is_none() {
                return Err(bad(
                    "OIDC_CLIENT_ID",
                    "is required with OIDC_ISSUER_URL (the client id of the app registration \
                     people sign in with)",
                ));
            }
        }
        if provider_name
            .as_deref()
            .is_some_and(|n| n.chars().count() > 40)
        {
            return Err(bad("OIDC_PROVIDER_NAME", "must be at most 40 characters"));
        }
        Ok(Some(Self {
            issuer,
            client_id,
            client_secret,
            provider_name: provider_name.unwrap_or_else(|| DEFAULT_PROVIDER_NAME.to_owned()),
        }))
    }
}

/// An issuer must be https, except on a loopback address (a standalone simulator).
fn issuer_url(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| {
        bad(
            "OIDC_ISSUER_URL",
            format!(
                "must be a URL like https://login.microsoftonline.com/<tenant id>/v2.0, or \
                 \"simulator\" ({e})"
            ),
        )
    })?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(bad(
                "OIDC_ISSUER_URL",
                "must be an https:// address (http:// only on a loopback address)",
            ))
        }
    }
    let tenant_neutral = url.path_segments().is_some_and(|mut s| {
        s.any(|p| {
            ["common", "organizations", "consumers"].contains(&p.to_ascii_lowercase().as_str())
        })
    });
    if tenant_neutral {
        return Err(bad(
            "OIDC_ISSUER_URL",
            "must name your tenant (https://login.microsoftonline.com/<tenant id>/v2.0): \
             /common, /organizations and /consumers would let other organizations' accounts in",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<OidcSettings>, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        OidcSettings::from_lookup(&|k: &str| map.get(k).cloned())
    }

    #[test]
    fn off_unless_an_issuer_is_set_and_stray_settings_are_refused() {
        assert!(matches!(parse(&[]), Ok(None)));
        let e = parse(&[("OIDC_CLIENT_ID", "abc")]).expect_err("no issuer");
        assert_eq!(e.setting, "OIDC_ISSUER_URL");
    }

    #[test]
    fn the_simulator_needs_nothing_else_and_a_real_issuer_needs_a_client_id() {
        let s = parse(&[("OIDC_ISSUER_URL", "Simulator")])
            .expect("ok")
            .expect("on");
        assert_eq!(s.issuer, OidcIssuer::Simulator);
        assert_eq!(s.provider_name, "Microsoft");
        let e = parse(&[(
            "OIDC_ISSUER_URL",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
        )])
        .expect_err("no client id");
        assert_eq!(e.setting, "OIDC_CLIENT_ID");
        let s = parse(&[
            (
                "OIDC_ISSUER_URL",
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
            ),
            ("OIDC_CLIENT_ID", " 00000000-0000-0000-0000-000000000001 "),
            ("OIDC_PROVIDER_NAME", "Contoso"),
        ])
        .expect("ok")
        .expect("on");
        assert_eq!(
            s.client_id.as_deref(),
            Some("00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(s.provider_name, "Contoso");
    }

    #[test]
    fn plain_http_tenant_neutral_and_malformed_issuers_are_refused() {
        for bad_issuer in [
            "http://login.example.com/t/v2.0",
            "https://login.microsoftonline.com/common/v2.0",
            "https://login.microsoftonline.com/organizations/v2.0",
            "not a url",
        ] {
            let e = parse(&[("OIDC_ISSUER_URL", bad_issuer), ("OIDC_CLIENT_ID", "x")])
                .expect_err(bad_issuer);
            assert_eq!(e.setting, "OIDC_ISSUER_URL", "{bad_issuer}");
        }
        assert!(parse(&[
            ("OIDC_ISSUER_URL", "http://127.0.0.1:9000/t/v2.0"),
            ("OIDC_CLIENT_ID", "x")
        ])
        .is_ok());
    }
}
