//! A mockup in DMTF's format served behind an emulated session store (issue 11 item 3):
//! the personality's service root, session service, authentication and error envelope
//! win over the mockup's copies; the mockup's other resources are served as its files
//! say, PATCH and resets take effect in memory until the device is reset; `check`
//! names a malformed file with its line; `headers.json` and captured ETags are served.

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

async fn send_with_headers(
    dev: &DeviceHandle,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
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
    let (status, headers) = (response.status(), response.headers().clone());
    let raw = response.into_body().collect().await.expect("body").to_bytes();
    (status, headers, serde_json::from_slice(&raw).unwrap_or(Value::Null))
}

/// headers.json as DMTF's Mockup Server `-X` serves it, the personality first: its
/// headers fill names the answer lacks (never Set-Cookie or Date), its Allow without
/// PATCH makes a document read-only, and a captured ETag is served until the document
/// changes, when a new one (in the header and `@odata.etag`) replaces it.
#[tokio::test]
async fn headers_json_and_captured_etags_are_served() {
    let dir = mockup("mockup-headers");
    let system = SYSTEM.replacen("{", "{\n    \"@odata.etag\": \"W/\\\"dev-1\\\"\",", 1);
    write(&dir, "redfish/v1/Systems/1/index.json", &system);
    write(
        &dir,
        "redfish/v1/Systems/1/headers.json",
        r#"{"GET": {"ETag": "W/\"dev-1\"", "X-Vendor-Build": "17", "OData-Version": "4.01",
            "Date": "Mon, 01 Jan 2024 00:00:00 GMT", "Set-Cookie": "sid=1", "Allow": "GET, PATCH"}}"#,
    );
    write(&dir, "redfish/v1/UpdateService/headers.json", r#"{"GET": {"Allow": "GET, HEAD"}}"#);
    let dev = device(&dir);
    let token = login(&dev).await;
    let auth = [("X-Auth-Token", token.as_str())];
    let uri = "/redfish/v1/Systems/1/";
    let (status, headers, body) = send_with_headers(&dev, Method::GET, uri, &auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "W/\"dev-1\"");
    assert_eq!(body["@odata.etag"], "W/\"dev-1\"");
    assert_eq!(headers["x-vendor-build"], "17");
    assert_eq!(headers["odata-version"], "4.0", "the personality's OData-Version wins");
    assert!(headers.get("set-cookie").is_none());
    assert!(headers.get("date").is_none_or(|d| d != "Mon, 01 Jan 2024 00:00:00 GMT"));

    let patch = json!({ "AssetTag": "changed" });
    let stale = [("X-Auth-Token", token.as_str()), ("If-Match", "W/\"other\"")];
    let (status, _, _) =
        send_with_headers(&dev, Method::PATCH, uri, &stale, Some(patch.clone())).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let current = [("X-Auth-Token", token.as_str()), ("If-Match", "W/\"dev-1\"")];
    let (status, _, _) = send_with_headers(&dev, Method::PATCH, uri, &current, Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "the captured ETag is the current one");
    let (_, headers, body) = send_with_headers(&dev, Method::GET, uri, &auth, None).await;
    let etag = headers["etag"].to_str().expect("etag");
    assert_ne!(etag, "W/\"dev-1\"", "a change makes a new ETag");
    assert_eq!(body["@odata.etag"], etag);

    let update = "/redfish/v1/UpdateService/";
    let (status, headers, _) =
        send_with_headers(&dev, Method::PATCH, update, &auth, Some(json!({ "Id": "x" }))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "read-only by its Allow");
    assert!(!headers["allow"].to_str().expect("allow").contains("PATCH"));
    let _ = std::fs::remove_dir_all(&dir);
}
