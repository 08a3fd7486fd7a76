//! InvokeCommand over HTTP: paging, headers, errors, large tenants.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn token_then_every_page_of_get_mobile_device_adds_up_to_the_device_count() {
    let sim = start_sim(SimConfig {
        mailboxes: 30,
        devices: 45,
        ..SimConfig::default()
    })
    .await;
    let token = access_token(&sim).await;
    let body = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"ResultSize": "Unlimited"}}});
    let mut url = invoke_url(&sim);
    let mut devices = Vec::new();
    let mut pages = 0;
    loop {
        let (status, headers, page) = invoke(&url, Some(&token), &body, Some(7)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(headers.contains_key("request-id"));
        assert!(headers["x-calculatedbetarget"]
            .to_str()
            .unwrap_or_default()
            .ends_with(".prod.exchangelabs.com"));
        assert_eq!(
            headers["client-request-id"],
            "5d1c8f7e-0000-4000-8000-000000000001"
        );
        assert_eq!(
            headers["content-type"],
            "application/json; odata.metadata=minimal"
        );
        assert!(page["@odata.context"]
            .as_str()
            .unwrap_or_default()
            .ends_with("$metadata#Collection(Exchange.GenericHashTable)"));
        let value = page["value"].as_array().cloned().unwrap_or_default();
        assert!(value.len() <= 7);
        devices.extend(value);
        pages += 1;
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(devices.len(), sim.device_count());
    assert_eq!(pages, 7);
    assert_eq!(sim.request_count("Get-MobileDevice"), 7);
    assert_eq!(sim.request_count("get-mobiledevice"), 7);

    let d = &devices[0];
    for key in [
        "FriendlyName",
        "DeviceId",
        "DeviceImei",
        "DeviceMobileOperator",
        "DeviceOS",
        "DeviceOSLanguage",
        "DeviceTelephoneNumber",
        "DeviceType",
        "DeviceUserAgent",
        "DeviceModel",
        "FirstSyncTime",
        "UserDisplayName",
        "DeviceAccessState",
        "DeviceAccessStateReason",
        "DeviceAccessControlRule",
        "ClientVersion",
        "ClientType",
        "IsManaged",
        "IsCompliant",
        "IsDisabled",
        "Identity",
        "Guid",
        "ExchangeObjectId",
        "Name",
        "WhenChanged",
        "WhenChangedUTC",
        "WhenCreated",
        "WhenCreatedUTC",
        "OrganizationId",
        "DistinguishedName",
    ] {
        assert!(d.get(key).is_some(), "missing {key} in {d}");
    }
    assert_eq!(d["Guid@odata.type"], "#Guid");
    // Like Exchange Online, some devices name their owner by directory path, others by name.
    let path = "EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/\
                contoso-demo.onmicrosoft.com/";
    let shown: Vec<&str> = devices
        .iter()
        .map(|d| d["UserDisplayName"].as_str().unwrap_or_default())
        .collect();
    assert!(shown.iter().any(|u| u.starts_with(path)), "{shown:?}");
    assert!(
        shown.iter().any(|u| !u.is_empty() && !u.contains('/')),
        "{shown:?}"
    );
    assert!(d["Identity"]
        .as_str()
        .unwrap_or_default()
        .contains("\\ExchangeActiveSyncDevices\\"));
    assert!(d["OrganizationId"]
        .as_str()
        .unwrap_or_default()
        .contains("contoso-demo.onmicrosoft.com"));
    let when = d["WhenChangedUTC"].as_str().unwrap_or_default();
    assert_eq!(
        when.len(),
        "2022-09-21T08:07:47.0000000+00:00".len(),
        "{when}"
    );

    let stats: Value = client()
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("stats: {e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(stats["requests"]["Get-MobileDevice"], 7);
    assert_eq!(stats["tokensIssued"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_with_a_challenge() {
    let sim = start_sim(SimConfig {
        mailboxes: 5,
        devices: 5,
        ..SimConfig::default()
    })
    .await;
    let body = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice"}});
    for token in [None, Some("not-a-token")] {
        let (status, headers, err) = invoke(&invoke_url(&sim), token, &body, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(headers["www-authenticate"]
            .to_str()
            .unwrap_or_default()
            .starts_with("Bearer "));
        assert!(err["error"]["details"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        assert!(headers.contains_key("request-id") && headers.contains_key("x-exceptiontype"));
    }
    assert_eq!(sim.request_count("Get-MobileDevice"), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_requests_answer_in_the_spec_error_shape() {
    let sim = start_sim(SimConfig {
        mailboxes: 5,
        devices: 8,
        ..SimConfig::default()
    })
    .await;
    let token = access_token(&sim).await;
    let url = invoke_url(&sim);

    let (status, headers, err) = invoke(
        &url,
        Some(&token),
        &json!({"CmdletInput": {"CmdletName": "Get-Foo"}}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["x-exceptiontype"], "CommandNotFoundException");
    let msg = err["error"]["details"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(msg.contains("|System.Management.Automation.CommandNotFoundException|The term 'Get-Foo' is not recognized"), "{msg}");
    assert_eq!(
        err["error"]["innererror"]["internalexception"]["message"],
        msg
    );

    let unknown_param =
        json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"Colour": "red"}}});
    let (status, _, err) = invoke(&url, Some(&token), &unknown_param, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"]["details"][0]["message"].as_str().is_some_and(
        |m| m.ends_with("A parameter cannot be found that matches parameter name 'Colour'.")
    ));

    let missing = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"Identity": "nobody\\ExchangeActiveSyncDevices\\x"}}});
    let (status, headers, _) = invoke(&url, Some(&token), &missing, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        headers["x-exceptiontype"],
        "ManagementObjectNotFoundException"
    );

    let raw = client()
        .post(&url)
        .bearer_auth(&token)
        .header("X-ResponseFormat", "json")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);

    let forged = format!("{url}?$skiptoken=deadbeef");
    let (status, _, _) =
        invoke(&forged, Some(&token), &json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"ResultSize": "Unlimited"}}}), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.shutdown().await;
}

#[tokio::test]
async fn org_settings_name_the_organization_and_skiptokens_do_not_cross_calls() {
    let sim = start_sim(SimConfig {
        mailboxes: 10,
        devices: 12,
        ..SimConfig::default()
    })
    .await;
    let token = access_token(&sim).await;
    let url = invoke_url(&sim);
    let (status, _, body) = invoke(
        &url,
        Some(&token),
        &json!({"CmdletInput": {"CmdletName": "Get-ActiveSyncOrganizationSettings"}}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let s = &body["value"][0];
    assert_eq!(s["Identity"], "Mobile Mailbox Settings");
    assert_eq!(s["DefaultAccessLevel"], "Allow");
    assert_eq!(s["IsIntuneManaged"], false);
    assert!(s["AdminMailRecipients"].is_array());
    assert!(s["OrganizationId"]
        .as_str()
        .unwrap_or_default()
        .contains("/contoso-demo.onmicrosoft.com - "));

    // A nextLink from one call is refused for a call with other parameters.
    let all = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"ResultSize": "Unlimited"}}});
    let (_, _, first) = invoke(&url, Some(&token), &all, Some(2)).await;
    let next = first["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(next.contains("$skiptoken="), "{first}");
    let other = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"ResultSize": 11}}});
    let (status, _, _) = invoke(&next, Some(&token), &other, Some(2)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The domain works in place of the GUID.
    let by_domain = format!(
        "{}/{}/InvokeCommand",
        sim.admin_api_url(),
        sim.config().tenant_domain
    );
    let (status, _, _) = invoke(&by_domain, Some(&token), &all, None).await;
    assert_eq!(status, StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn without_the_json_header_the_answer_is_not_json() {
    let sim = start_sim(SimConfig {
        mailboxes: 1,
        devices: 1,
        ..SimConfig::default()
    })
    .await;
    let token = access_token(&sim).await;
    let resp = client()
        .post(invoke_url(&sim))
        .bearer_auth(&token)
        .json(&json!({"CmdletInput": {"CmdletName": "Get-MobileDevice"}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/xml"));
    assert!(resp.text().await.unwrap_or_default().starts_with("<Objs"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_large_tenant_serves_a_full_page_quickly() {
    let sim = start_sim(SimConfig {
        mailboxes: 20_000,
        devices: 100_000,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(sim.device_count(), 100_000);
    let token = access_token(&sim).await;
    let body = json!({"CmdletInput": {"CmdletName": "Get-MobileDevice", "Parameters": {"ResultSize": "Unlimited"}}});
    let (status, _, first) = invoke(&invoke_url(&sim), Some(&token), &body, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["value"].as_array().map(Vec::len), Some(1000));
    let next = first["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let started = std::time::Instant::now();
    let (status, _, second) = invoke(&next, Some(&token), &body, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["value"].as_array().map(Vec::len), Some(1000));
    // Generous bound for debug builds on a loaded CI machine; release serves it in a few ms.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    sim.shutdown().await;
}
