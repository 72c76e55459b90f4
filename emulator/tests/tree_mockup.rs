//! A mockup in DMTF's format served behind an emulated session store (issue 11 item 3):
//! the personality's service root, session service, authentication and error envelope
//! win over the mockup's copies; the mockup's other resources are served as its files
//! say, PATCH and resets take effect in memory until the device is reset; `check`
//! names a malformed file with its line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const SYSTEM: &str = r##"{
    "@odata.id": "/redfish/v1/Systems/1/",
    "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
    "Id": "1",
    "AssetTag": "from-the-mockup",
    "Manufacturer": "HPE",
    "PowerState": "On",
    "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset/"}}
}"##;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn mockup(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sessionlab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write(&dir, "redfish/index.json", r#"{"v1": "/redfish/v1/"}"#);
    write(
        &dir,
        "redfish/v1/index.json",
        r#"{"@odata.id": "/redfish/v1/", "Name": "Mockup Root", "Systems": {"@odata.id": "/redfish/v1/Systems/"}}"#,
    );
    write(
        &dir,
        "redfish/v1/SessionService/index.json",
        r#"{"@odata.id": "/redfish/v1/SessionService/", "Name": "Mockup Session Service"}"#,
    );
    write(
        &dir,
        "redfish/v1/Systems/index.json",
        r#"{"@odata.id": "/redfish/v1/Systems/", "Members": [{"@odata.id": "/redfish/v1/Systems/1/"}], "Members@odata.count": 1}"#,
    );
    write(&dir, "redfish/v1/Systems/1/index.json", SYSTEM);
    write(
        &dir,
        "redfish/v1/UpdateService/index.json",
        r#"{"@odata.id": "/redfish/v1/UpdateService/", "Id": "UpdateService"}"#,
    );
    dir
}

fn device(dir: &Path) -> DeviceHandle {
    let mut profile = Profile::embedded("ilo5").expect("profile");
    profile.tree.as_mut().expect("tree").mockup = Some(dir.to_path_buf());
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle("ilo5", Arc::new(profile), Clock::virtual_at(start), Some(7))
}

async fn send(
    dev: &DeviceHandle,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header("X-Auth-Token", token);
    }
    let body = match body {
        Some(v) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = emulator::vendors::router(dev.clone())
        .oneshot(builder.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let token =
        response.headers().get("x-auth-token").and_then(|v| v.to_str().ok()).map(String::from);
    let raw = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&raw).unwrap_or(Value::Null), token)
}

async fn login(dev: &DeviceHandle) -> String {
    let body = json!({ "UserName": "Administrator", "Password": "sessionlab" });
    let (status, _, token) =
        send(dev, Method::POST, "/redfish/v1/SessionService/Sessions/", None, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    token.expect("token")
}

/// The mockup's resources behind iLO 5's sessions, envelope and service root.
#[tokio::test]
async fn mockup_is_served_behind_the_personality() {
    let dir = mockup("mockup-served");
    let dev = device(&dir);
    let (status, root, _) = send(&dev, Method::GET, "/redfish/v1/", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(root["Name"], "HPE RESTful Root Service", "the personality's root");
    assert_eq!(root["Systems"]["@odata.id"], "/redfish/v1/Systems/");
    assert_eq!(root["UpdateService"]["@odata.id"], "/redfish/v1/UpdateService/");
    assert_eq!(root["SessionService"]["@odata.id"], "/redfish/v1/SessionService/");

    let (status, denied, _) = send(&dev, Method::GET, "/redfish/v1/Systems/1/", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(denied["error"]["code"], "iLO.0.10.ExtendedInfo", "iLO's envelope");

    let token = login(&dev).await;
    let (status, system, _) =
        send(&dev, Method::GET, "/redfish/v1/Systems/1/", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(system, serde_json::from_str::<Value>(SYSTEM).expect("json"), "as the file says");
    let (_, service, _) =
        send(&dev, Method::GET, "/redfish/v1/SessionService/", Some(&token), None).await;
    assert_eq!(service["Name"], "Session Service", "the personality's session service");
    let (status, missing, _) =
        send(&dev, Method::GET, "/redfish/v1/Nothing/", Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "iLO.0.10.ExtendedInfo");

    let patch = json!({ "AssetTag": "changed" });
    let (status, _, _) =
        send(&dev, Method::PATCH, "/redfish/v1/Systems/1/", Some(&token), Some(patch)).await;
    assert_eq!(status, StatusCode::OK);
    let off = json!({ "ResetType": "ForceOff" });
    let target = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset/";
    let (status, _, _) = send(&dev, Method::POST, target, Some(&token), Some(off)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, changed, _) =
        send(&dev, Method::GET, "/redfish/v1/Systems/1/", Some(&token), None).await;
    assert_eq!(
        (changed["AssetTag"].as_str(), changed["PowerState"].as_str()),
        (Some("changed"), Some("Off"))
    );

    dev.reset();
    let token = login(&dev).await;
    let (_, fresh, _) = send(&dev, Method::GET, "/redfish/v1/Systems/1/", Some(&token), None).await;
    assert_eq!(fresh, serde_json::from_str::<Value>(SYSTEM).expect("json"), "reset reloads");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sessionlab-emulator check DIR`: ok with the resource count, or each malformed file
/// with its line and exit status 2.
#[test]
fn check_names_malformed_files() {
    let bin = env!("CARGO_BIN_EXE_sessionlab-emulator");
    let dir = mockup("mockup-check");
    let ok = std::process::Command::new(bin).arg("check").arg(&dir).output().expect("runs");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("mockup with 5 resources"));
    write(
        &dir,
        "redfish/v1/Systems/1/index.json",
        "{\n  \"Id\": \"1\",\n  \"PowerState\": On\n}\n",
    );
    let bad = std::process::Command::new(bin).arg("check").arg(&dir).output().expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("Systems/1/index.json: line 3:"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
