//! The README's curl walkthrough, end to end over sockets, and the login race over HTTP.

use std::sync::Arc;

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use serde_json::{json, Value};

async fn redfish() -> EmulatedDevice {
    EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap()
}

async fn login(client: &reqwest::Client, device: &EmulatedDevice) -> reqwest::Response {
    let (user, password) = device.credentials();
    client
        .post(format!("{}/redfish/v1/SessionService/Sessions", device.url()))
        .json(&json!({"UserName": user, "Password": password}))
        .send()
        .await
        .unwrap()
}

/// README walkthrough: a script that never logs out fills the table, the next login is
/// refused with SessionLimitExceeded, and the idle timeout (moved by the control API's
/// virtual clock) frees it.
#[tokio::test]
async fn forgotten_sessions_fill_the_table_until_the_idle_timeout() {
    let device = redfish().await;
    let client = reqwest::Client::new();
    for _ in 0..16 {
        assert_eq!(login(&client, &device).await.status(), 201);
    }
    let refused = login(&client, &device).await;
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    let id = body["error"]["@Message.ExtendedInfo"][0]["MessageId"].as_str().unwrap();
    assert!(id.ends_with(".SessionLimitExceeded"), "{body}");

    let devices: Value = client
        .get(format!("{}/_sessionlab/devices", device.control()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(devices["devices"][0]["sessions"]["total"], 16, "{devices}");

    let advanced = client
        .post(format!("{}/_sessionlab/clock/advance", device.control()))
        .json(&json!({"seconds": 1800}))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), 200);
    assert_eq!(login(&client, &device).await.status(), 201);

    let events: Value = client
        .get(format!("{}/_sessionlab/devices/redfish/events?reason=idle-timeout", device.control()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 16, "{events}");
}

/// Issue 2: 200 concurrent logins against a limit of 16 yield exactly 16 sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_http_logins_never_exceed_the_limit() {
    let device = Arc::new(redfish().await);
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (client, device) = (client.clone(), device.clone());
        tasks.push(tokio::spawn(async move { login(&client, &device).await.status().as_u16() }));
    }
    let mut created = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            201 => created += 1,
            503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((created, refused), (16, 184));
    let now = device.device().now();
    assert_eq!(device.device().store.counts(now).total, 16);
}

/// The `Date` header follows the device's clock, so it agrees with expiry times in bodies
/// after the virtual clock moved (RFC 9110 Date is the origin server's time).
#[tokio::test]
async fn date_header_follows_the_virtual_clock() {
    let device = redfish().await;
    let client = reqwest::Client::new();
    let root = format!("{}/redfish/v1/", device.url());
    let date = |r: &reqwest::Response| {
        let text = r.headers()["date"].to_str().unwrap().to_string();
        chrono::DateTime::parse_from_rfc2822(&text.replace("GMT", "+0000")).unwrap()
    };
    let before = date(&client.get(&root).send().await.unwrap());
    device.advance(std::time::Duration::from_secs(30 * 86_400)).unwrap();
    let after = date(&client.get(&root).send().await.unwrap());
    assert!((after - before).num_seconds() >= 30 * 86_400, "{before} -> {after}");
}
