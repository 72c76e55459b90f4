//! The resource tree over real sockets: an iLO 5 on HTTPS and an iDRAC9 on HTTP, with
//! the virtual clock moved and the device reset through the control API, as a test in
//! another process would do it.

use std::time::Duration;

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let reply = http.get(url).header("X-Auth-Token", token).send().await.expect("GET");
    assert_eq!(reply.status(), StatusCode::OK, "{url}");
    reply.json().await.expect("JSON")
}

async fn login(http: &reqwest::Client, device: &EmulatedDevice, sessions: &str) -> String {
    let (user, password) = device.credentials();
    let reply = http
        .post(format!("{}{sessions}", device.url()))
        .json(&json!({ "UserName": user, "Password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(reply.status(), StatusCode::CREATED);
    reply.headers()["x-auth-token"].to_str().expect("token").to_string()
}

async fn power(http: &reqwest::Client, url: &str, token: &str) -> String {
    get(http, url, token).await["PowerState"].as_str().expect("PowerState").to_string()
}

/// ilo-idrac.md 1.1: iLO 5 over TLS; a graceful shutdown ends when the control API's
/// clock advance passes the profile's delay, and the control API's device reset powers
/// the system back on.
#[tokio::test]
async fn ilo5_over_tls_graceful_shutdown_and_control_api() {
    let mut options = EmulatedDevice::options(Profile::embedded("ilo5").expect("profile"));
    options.tls = true;
    let ilo = options.start().await.expect("device starts");
    assert!(ilo.url().starts_with("https://"));
    let http = client();
    let token = login(&http, &ilo, "/redfish/v1/SessionService/Sessions/").await;
    let root = get(&http, &format!("{}/redfish/v1/", ilo.url()), &token).await;
    let systems = root["Systems"]["@odata.id"].as_str().expect("Systems link");
    assert_eq!(systems, "/redfish/v1/Systems/");
    let system = format!("{}/redfish/v1/Systems/1/", ilo.url());
    let doc = get(&http, &system, &token).await;
    let target = doc["Actions"]["#ComputerSystem.Reset"]["target"].as_str().expect("target");
    let reply = http
        .post(format!("{}{target}", ilo.url()))
        .header("X-Auth-Token", &token)
        .json(&json!({ "ResetType": "GracefulShutdown" }))
        .send()
        .await
        .expect("reset");
    assert_eq!(reply.status(), StatusCode::OK);
    let body: Value = reply.json().await.expect("JSON");
    assert_eq!(body["error"]["@Message.ExtendedInfo"][0]["MessageId"], "Base.1.4.Success");
    assert_eq!(power(&http, &system, &token).await, "On", "iLO shows On while shutting down");

    let advance = |secs: u64| {
        http.post(format!("{}/_sessionlab/clock/advance", ilo.control()))
            .json(&json!({ "seconds": secs }))
            .send()
    };
    assert!(advance(29).await.expect("advance").status().is_success());
    assert_eq!(power(&http, &system, &token).await, "On");
    assert!(advance(1).await.expect("advance").status().is_success());
    assert_eq!(power(&http, &system, &token).await, "Off");

    let name = ilo.device().name().to_string();
    let reset = http
        .post(format!("{}/_sessionlab/devices/{name}/reset", ilo.control()))
        .send()
        .await
        .expect("reset");
    assert!(reset.status().is_success());
    let token = login(&http, &ilo, "/redfish/v1/SessionService/Sessions/").await;
    assert_eq!(power(&http, &system, &token).await, "On", "device reset restores the tree");
}

/// iDRAC9 over HTTP: HEAD and GET of the system carry the same ETag; PATCH of the
/// chassis asset tag answers 200 with `Success`; ForceOff then On answer 204.
#[tokio::test]
async fn idrac9_over_http_patch_and_reset() {
    let idrac = EmulatedDevice::start(Profile::embedded("idrac9").expect("profile"))
        .await
        .expect("device starts");
    let http = client();
    let token = login(&http, &idrac, "/redfish/v1/SessionService/Sessions").await;
    let system = format!("{}/redfish/v1/Systems/System.Embedded.1", idrac.url());
    let got = http.get(&system).header("X-Auth-Token", &token).send().await.expect("GET");
    let etag = got.headers()["etag"].to_str().expect("etag").to_string();
    let head = http.head(&system).header("X-Auth-Token", &token).send().await.expect("HEAD");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["etag"].to_str().expect("etag"), etag);

    let chassis = format!("{}/redfish/v1/Chassis/System.Embedded.1", idrac.url());
    let patched = http
        .patch(&chassis)
        .header("X-Auth-Token", &token)
        .json(&json!({ "AssetTag": "row-4" }))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(patched.status(), StatusCode::OK);
    let body: Value = patched.json().await.expect("JSON");
    assert_eq!(body["@Message.ExtendedInfo"][0]["MessageId"], "Base.1.12.Success");
    assert_eq!(get(&http, &chassis, &token).await["AssetTag"], "row-4");

    let target = format!("{system}/Actions/ComputerSystem.Reset");
    for (kind, state) in [("ForceOff", "Off"), ("On", "On")] {
        let reply = http
            .post(&target)
            .header("X-Auth-Token", &token)
            .json(&json!({ "ResetType": kind }))
            .send()
            .await
            .expect("reset");
        assert_eq!(reply.status(), StatusCode::NO_CONTENT, "{kind}");
        assert_eq!(power(&http, &system, &token).await, state);
        assert_eq!(power(&http, &chassis, &token).await, state);
    }
}
