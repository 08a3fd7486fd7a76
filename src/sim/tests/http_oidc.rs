//! Refresh-token rotation and OpenID Connect (discovery, JWKS, id_token) over HTTP.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::http_identity::{
    assert_invalid_grant, authorize_url, browser, identity_sim, location_params, pkce, redeem,
    refresh, standard_params, REDIRECT,
};
use super::*;

#[tokio::test]
async fn refresh_tokens_rotate_and_a_used_one_is_refused() {
    let sim = identity_sim(true).await;
    let (verifier, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(&sim, &standard_params(&sim, &challenge)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let code = location_params(&resp)
        .1
        .get("code")
        .cloned()
        .unwrap_or_default();
    let (_, first) = redeem(&sim, &code, &verifier, REDIRECT).await;
    let rt1 = first["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let (status, second) = refresh(&sim, &rt1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let rt2 = second["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!rt2.is_empty() && rt2 != rt1);
    assert_ne!(second["access_token"], first["access_token"]);
    assert!(second["id_token"].is_string());
    let token = second["access_token"].as_str().unwrap_or_default();
    let user = sim
        .state()
        .tokens()
        .validate(token, sim.state().now())
        .map(|i| i.user.clone());
    assert_eq!(
        user,
        Ok(Some("admin@contoso-demo.onmicrosoft.com".to_owned()))
    );

    let (status, body) = refresh(&sim, &rt1).await;
    assert_invalid_grant(status, &body, "AADSTS50173: ");
    let (status, third) = refresh(&sim, &rt2).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let (status, body) = refresh(&sim, "exosim-rt.unknown").await;
    assert_invalid_grant(status, &body, "did not issue this refresh token");
    sim.shutdown().await;
}

#[tokio::test]
async fn discovery_and_the_jwks_verify_the_id_token() {
    let sim = identity_sim(true).await;
    let c = sim.config().clone();
    let discovery: Value = client()
        .get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            sim.authority_url(),
            c.tenant_domain
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    let issuer = format!("{}/{}/v2.0", sim.authority_url(), c.tenant_id);
    assert_eq!(discovery["issuer"], issuer.as_str());
    let base = format!("{}/{}", sim.authority_url(), c.tenant_id);
    assert_eq!(
        discovery["authorization_endpoint"],
        format!("{base}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        discovery["token_endpoint"],
        format!("{base}/oauth2/v2.0/token")
    );
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(discovery["response_types_supported"], json!(["code"]));
    assert!(discovery["scopes_supported"]
        .as_array()
        .is_some_and(|s| s.contains(&json!("openid"))));
    assert!(discovery["claims_supported"]
        .as_array()
        .is_some_and(|s| s.contains(&json!("preferred_username"))));
    assert!(discovery["subject_types_supported"].is_array());

    let jwks: Value = client()
        .get(discovery["jwks_uri"].as_str().unwrap_or_default())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["use"].as_str(),
            key["alg"].as_str()
        ),
        (Some("RSA"), Some("sig"), Some("RS256"))
    );

    let (verifier, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(&sim, &standard_params(&sim, &challenge)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let code = location_params(&resp)
        .1
        .get("code")
        .cloned()
        .unwrap_or_default();
    let (_, body) = redeem(&sim, &code, &verifier, REDIRECT).await;
    let id_token = body["id_token"].as_str().unwrap_or_default();

    let header = jsonwebtoken::decode_header(id_token).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap_or_default(),
        key["e"].as_str().unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&c.client_id]);
    validation.set_issuer(&[&issuer]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &decoding, &validation)
        .unwrap_or_else(|e| panic!("the id_token does not verify: {e}"))
        .claims;
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["tid"], c.tenant_id.as_str());
    for key in ["preferred_username", "email", "upn"] {
        assert_eq!(claims[key], "admin@contoso-demo.onmicrosoft.com", "{key}");
    }
    assert_eq!(claims["name"], "MOD Administrator");
    assert!(claims["oid"]
        .as_str()
        .is_some_and(|o| uuid::Uuid::parse_str(o).is_ok()));
    let (iat, nbf, exp) = (
        claims["iat"].as_i64(),
        claims["nbf"].as_i64(),
        claims["exp"].as_i64(),
    );
    assert_eq!(nbf, iat);
    assert_eq!(exp.zip(iat).map(|(e, i)| e - i), Some(3600));
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));

    // A token signed by someone else does not verify with the JWKS.
    let other = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!(
        "../../../tests/fixtures/certs/other.key"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &other,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(jsonwebtoken::decode::<Value>(&forged, &decoding, &validation).is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_sign_in_without_exchange_scopes_gets_a_token_the_admin_api_refuses() {
    let sim = identity_sim(true).await;
    let (verifier, challenge) = pkce();
    let mut params = standard_params(&sim, &challenge);
    params.retain(|(k, _)| *k != "scope");
    params.push(("scope", "openid profile email"));
    let resp = browser()
        .get(authorize_url(&sim, &params))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let code = location_params(&resp)
        .1
        .get("code")
        .cloned()
        .unwrap_or_default();
    let (status, body) = redeem(&sim, &code, &verifier, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "openid profile email");
    assert!(body.get("refresh_token").is_none() && body["id_token"].is_string());
    let org = json!({"CmdletInput": {"CmdletName": "Get-ActiveSyncOrganizationSettings"}});
    let token = body["access_token"].as_str().unwrap_or_default();
    let (status, _, _) = invoke(&invoke_url(&sim), Some(token), &org, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    sim.shutdown().await;
}
