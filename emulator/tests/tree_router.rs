//! The device's resource tree (systems, chassis, power) behind every Redfish-family
//! personality, driven in-process with `tower::ServiceExt::oneshot` on a virtual clock.
//!
//! - a walk from the service root of every profile finds no dangling `@odata.id`;
//! - `ComputerSystem.Reset` changes `PowerState`, a graceful shutdown takes the profile's
//!   seconds on the device clock, and a device reset powers the system back on;
//! - a reset the power state forbids answers as each vendor does (iLO
//!   `InvalidOperationForSystemState`, iDRAC `PSU501`), pinned with insta;
//! - PATCH honours `If-Match`; privileges, 401 and 405 are the personality's.
//!
//! The system and chassis documents of every profile are pinned with insta
//! (`tests/snapshots/tree_router__*.snap`).

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

/// Every Redfish-family profile, with its system and chassis URIs as the vendor writes
/// them.
const PROFILES: [(&str, &str, &str); 7] = [
    ("redfish", "/redfish/v1/Systems/1", "/redfish/v1/Chassis/1"),
    ("ilo4", "/redfish/v1/Systems/1/", "/redfish/v1/Chassis/1/"),
    ("ilo5", "/redfish/v1/Systems/1/", "/redfish/v1/Chassis/1/"),
    ("ilo6", "/redfish/v1/Systems/1/", "/redfish/v1/Chassis/1/"),
    ("idrac8", "/redfish/v1/Systems/System.Embedded.1", "/redfish/v1/Chassis/System.Embedded.1"),
    ("idrac9", "/redfish/v1/Systems/System.Embedded.1", "/redfish/v1/Chassis/System.Embedded.1"),
    ("idrac10", "/redfish/v1/Systems/System.Embedded.1", "/redfish/v1/Chassis/System.Embedded.1"),
];

fn device(name: &str) -> DeviceHandle {
    let profile = Arc::new(Profile::embedded(name).expect("embedded profile"));
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle(name, profile, Clock::virtual_at(start), Some(7))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every header, as `name: value` in the order of the wire (the device's clock stands
    /// still, so `Date` is the same in every answer).
    fn head(&self) -> String {
        let line =
            |(name, value): (_, &HeaderValue)| format!("{name}: {}", value.to_str().unwrap_or("?"));
        let lines = self.headers.iter().map(line);
        std::iter::once(self.status.to_string()).chain(lines).collect::<Vec<_>>().join("\n")
    }

    fn view(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for name in ["content-type", "allow", "etag"] {
            if let Some(value) = self.header(name) {
                headers.insert(name.to_string(), json!(value));
            }
        }
        json!({ "status": self.status.as_u16(), "headers": headers, "body": self.body })
    }
}

async fn send(
    dev: &DeviceHandle,
    method: Method,
    uri: &str,
    auth: Option<&str>,
    extra: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = auth {
        builder = builder.header("X-Auth-Token", token);
    }
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    let body = match body {
        Some(value) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(value.to_string())
        }
        None => Body::empty(),
    };
    let request = builder.body(body).expect("request");
    let response =
        emulator::vendors::router(dev.clone()).oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let raw = response.into_body().collect().await.expect("body").to_bytes();
    Reply { status, headers, body: serde_json::from_slice(&raw).unwrap_or(Value::Null) }
}

/// Logs in as `user` at the collection the service root links; returns the token.
async fn login_as(dev: &DeviceHandle, user: &str, password: &str) -> String {
    let sessions = sessions_uri(dev).await;
    let body = json!({ "UserName": user, "Password": password });
    let reply = send(dev, Method::POST, &sessions, None, &[], Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.header("x-auth-token").expect("token").to_string()
}

/// The sessions collection the service root links.
async fn sessions_uri(dev: &DeviceHandle) -> String {
    let root = send(dev, Method::GET, "/redfish/v1/", None, &[], None).await;
    root.body["Links"]["Sessions"]["@odata.id"]
        .as_str()
        .or_else(|| root.body["links"]["Sessions"]["href"].as_str())
        .expect("the root links its sessions")
        .to_string()
}

async fn login(dev: &DeviceHandle) -> String {
    let account = dev.profile().default_account().clone();
    login_as(dev, &account.user, &account.password).await
}

fn odata_ids(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("@odata.id", Value::String(id)) => out.push(id.clone()),
                    _ => odata_ids(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| odata_ids(v, out)),
        _ => {}
    }
}

/// Follows every `@odata.id` from the service root; returns the resources reached.
async fn walk(dev: &DeviceHandle, token: &str) -> (BTreeSet<String>, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut dangling = Vec::new();
    let mut queue = VecDeque::from(["/redfish/v1/".to_string()]);
    while let Some(uri) = queue.pop_front() {
        let canonical = uri.trim_end_matches('/').to_string();
        if uri.contains('#') || !seen.insert(canonical) {
            continue;
        }
        let reply = send(dev, Method::GET, &uri, Some(token), &[], None).await;
        if reply.status != StatusCode::OK {
            dangling.push(format!("{uri}: {}", reply.status));
            continue;
        }
        let mut found = Vec::new();
        odata_ids(&reply.body, &mut found);
        queue.extend(found);
    }
    (seen, dangling)
}

/// issue 11 Tests: a tree walk of every Redfish-family profile finds no dangling
/// `@odata.id`, and reaches the system and chassis the service root links.
#[tokio::test]
async fn tree_walk_finds_no_dangling_links() {
    let mut figures = Vec::new();
    for (name, system, chassis) in PROFILES {
        let dev = device(name);
        let token = login(&dev).await;
        let (seen, dangling) = walk(&dev, &token).await;
        assert!(dangling.is_empty(), "{name}: dangling links: {dangling:#?}");
        for uri in [system, chassis, "/redfish/v1/Systems", "/redfish/v1/Chassis"] {
            assert!(seen.contains(uri.trim_end_matches('/')), "{name}: {uri} not reached");
        }
        let tree = dev.resources().lock().len();
        figures.push(format!("{name}: {} resources reachable ({tree} from the tree)", seen.len()));
    }
    println!("{}", figures.join("\n"));
}

fn reset_type_for_graceful(system: &Value) -> &'static str {
    let allowed = &system["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"];
    let list: Vec<&str> = allowed
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if list.contains(&"GracefulShutdown") {
        "GracefulShutdown"
    } else {
        assert!(list.contains(&"PushPowerButton"), "{list:?}");
        "PushPowerButton"
    }
}

/// issue 11 item 2: a graceful shutdown takes the profile's seconds on the device clock
/// (the test advances the virtual clock to watch it happen), the chassis follows, `On`
/// powers the system back on, and a device reset restores the profile's tree.
#[tokio::test]
async fn graceful_shutdown_happens_on_the_device_clock() {
    for (name, system, chassis) in PROFILES {
        let dev = device(name);
        let token = login(&dev).await;
        let doc = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_eq!(doc.body["PowerState"], "On", "{name}");
        let target = doc.body["Actions"]["#ComputerSystem.Reset"]["target"]
            .as_str()
            .expect("reset target")
            .to_string();
        let kind = reset_type_for_graceful(&doc.body);
        let reply = send(
            &dev,
            Method::POST,
            &target,
            Some(&token),
            &[],
            Some(json!({ "ResetType": kind })),
        )
        .await;
        let expected =
            if name.starts_with("ilo") { StatusCode::OK } else { StatusCode::NO_CONTENT };
        assert_eq!(reply.status, expected, "{name}: {}", reply.body);
        let secs = dev.profile().tree.as_ref().expect("tree").power.graceful_shutdown_secs;
        dev.clock().advance(Duration::from_secs(secs - 1)).expect("virtual clock");
        let during = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_ne!(during.body["PowerState"], "Off", "{name}: off before {secs} s");
        dev.clock().advance(Duration::from_secs(1)).expect("virtual clock");
        let after = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_eq!(after.body["PowerState"], "Off", "{name}");
        let box_ = send(&dev, Method::GET, chassis, Some(&token), &[], None).await;
        assert_eq!(box_.body["PowerState"], "Off", "{name}: chassis");
        let on = json!({ "ResetType": "On" });
        let reply = send(&dev, Method::POST, &target, Some(&token), &[], Some(on)).await;
        assert!(reply.status.is_success(), "{name}: {}", reply.body);
        let back = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_eq!(back.body["PowerState"], "On", "{name}");
        send(
            &dev,
            Method::POST,
            &target,
            Some(&token),
            &[],
            Some(json!({"ResetType": "ForceOff"})),
        )
        .await;
        dev.reset();
        let token = login(&dev).await;
        let fresh = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_eq!(fresh.body["PowerState"], "On", "{name}: reset restores the tree");
    }
}

/// ansible-ilo#1 [C] (iLO 4), python-redfish-utility#72 [C] (iLO 5), dellemc
/// openmanage#115/#132 [C] (iDRAC9): a reset the power state forbids is refused in the
/// vendor's words; the standard service accepts it without change.
#[tokio::test]
async fn same_state_resets_answer_as_the_vendor_does() {
    for (name, system, _) in PROFILES {
        let dev = device(name);
        let token = login(&dev).await;
        let doc = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        let target = doc.body["Actions"]["#ComputerSystem.Reset"]["target"]
            .as_str()
            .expect("target")
            .to_string();
        let on =
            send(&dev, Method::POST, &target, Some(&token), &[], Some(json!({"ResetType": "On"})))
                .await;
        insta::assert_json_snapshot!(format!("reset_on_when_on@{name}"), on.view());
        let off = json!({"ResetType": "ForceOff"});
        send(&dev, Method::POST, &target, Some(&token), &[], Some(off.clone())).await;
        let again = send(&dev, Method::POST, &target, Some(&token), &[], Some(off)).await;
        insta::assert_json_snapshot!(format!("reset_off_when_off@{name}"), again.view());
        let bad = json!({"ResetType": "Suspend", "Delay": 5});
        let bad = send(&dev, Method::POST, &target, Some(&token), &[], Some(bad)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{name}: {}", bad.body);
    }
}

/// The documents automation reads, pinned per profile.
#[tokio::test]
async fn system_and_chassis_documents() {
    for (name, system, chassis) in PROFILES {
        let dev = device(name);
        let token = login(&dev).await;
        for (what, uri) in [("system", system), ("chassis", chassis)] {
            let reply = send(&dev, Method::GET, uri, Some(&token), &[], None).await;
            assert_eq!(reply.status, StatusCode::OK, "{name} {uri}");
            for key in ["PowerState", "Manufacturer", "Model", "SerialNumber", "SKU", "Status"] {
                assert!(reply.body.get(key).is_some(), "{name} {what}: no {key}");
            }
            if what == "system" {
                for key in ["BiosVersion", "ProcessorSummary", "MemorySummary", "UUID"] {
                    assert!(reply.body.get(key).is_some(), "{name}: no {key}");
                }
            }
            insta::assert_json_snapshot!(format!("{what}@{name}"), reply.view());
        }
        let manager =
            send(&dev, Method::GET, "/redfish/v1/Managers", Some(&token), &[], None).await;
        let uri = manager.body["Members"][0]["@odata.id"].as_str().expect("a manager").to_string();
        let manager = send(&dev, Method::GET, &uri, Some(&token), &[], None).await;
        assert!(
            manager.body["FirmwareVersion"].as_str().is_some_and(|v| !v.is_empty()),
            "{name}: Manager FirmwareVersion"
        );
    }
}

/// A document's answer (a System from the tree, the SessionService from the routes) and a
/// refused login's keep their headers in the order the personality sets them: the
/// answer's own, then its last step's (`OData-Version`, `Server`, `Cache-Control`, `Link`,
/// iLO's and iDRAC's own), then `Date`; the same on the first answer, which makes the head
/// kept for the answers after it, as on those answers.
#[tokio::test]
async fn answers_keep_their_header_order() {
    for (name, system, _) in PROFILES {
        let dev = device(name);
        let token = login(&dev).await;
        let first = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        let again = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_eq!(first.head(), again.head(), "{name}");
        insta::assert_snapshot!(format!("system-head@{name}"), first.head());

        let service = "/redfish/v1/SessionService";
        let first = send(&dev, Method::GET, service, Some(&token), &[], None).await;
        let again = send(&dev, Method::GET, service, Some(&token), &[], None).await;
        assert_eq!(first.head(), again.head(), "{name}");
        insta::assert_snapshot!(format!("session-service-head@{name}"), first.head());

        let account = dev.profile().default_account().clone();
        let body = json!({ "UserName": account.user, "Password": account.password });
        let sessions = sessions_uri(&dev).await;
        let mut refused = None;
        for _ in 0..200 {
            let reply = send(&dev, Method::POST, &sessions, None, &[], Some(body.clone())).await;
            if reply.status != StatusCode::CREATED {
                refused = Some(reply);
                break;
            }
        }
        let refused = refused.expect("the table fills");
        let again = send(&dev, Method::POST, &sessions, None, &[], Some(body)).await;
        assert_eq!(refused.head(), again.head(), "{name}");
        insta::assert_snapshot!(format!("refused-head@{name}"), refused.head());
    }
}

/// DSP0266 ETags: PATCH changes the ETag (in the header as in the body), a stale
/// `If-Match` gets 412 and changes nothing, `If-None-Match` with the current one gets 304.
#[tokio::test]
async fn patch_honours_etags() {
    for (name, system, _) in PROFILES {
        let dev = device(name);
        let token = login(&dev).await;
        let before = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        let etag = before.header("etag").expect("etag").to_string();
        assert_eq!(before.body["@odata.etag"], json!(etag), "{name}");
        let cached =
            send(&dev, Method::GET, system, Some(&token), &[("If-None-Match", &etag)], None).await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED, "{name}");
        let patch = json!({ "AssetTag": "rack-7" });
        let ok =
            send(&dev, Method::PATCH, system, Some(&token), &[("If-Match", &etag)], Some(patch))
                .await;
        assert_eq!(ok.status, StatusCode::OK, "{name}: {}", ok.body);
        let after = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_eq!(after.body["AssetTag"], "rack-7", "{name}");
        assert_ne!(after.header("etag"), Some(etag.as_str()), "{name}");
        // The answer's headers are kept with the document: a change makes new ones.
        let again = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        for read in [&after, &again] {
            assert_eq!(read.body["@odata.etag"], json!(read.header("etag")), "{name}");
        }
        let stale = json!({ "AssetTag": "other" });
        let stale =
            send(&dev, Method::PATCH, system, Some(&token), &[("If-Match", &etag)], Some(stale))
                .await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{name}");
        let power = json!({ "PowerState": "Off" });
        let refused = send(&dev, Method::PATCH, system, Some(&token), &[], Some(power)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{name}");
        let now = send(&dev, Method::GET, system, Some(&token), &[], None).await;
        assert_eq!(now.body["AssetTag"], "rack-7", "{name}");
        assert_eq!(now.body["PowerState"], "On", "{name}");
    }
}

/// The personality's authentication, privileges and 405 guard the tree: 401 without
/// credentials, 403 for a ReadOnly reset, 405 with `Allow` for DELETE.
#[tokio::test]
async fn tree_is_behind_the_personality() {
    for (name, system, _) in PROFILES {
        let dev = device(name);
        let anonymous = send(&dev, Method::GET, system, None, &[], None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{name}");
        let readonly = login_as(&dev, "readonly", &dev.profile().default_account().password).await;
        let doc = send(&dev, Method::GET, system, Some(&readonly), &[], None).await;
        assert_eq!(doc.status, StatusCode::OK, "{name}");
        let target = doc.body["Actions"]["#ComputerSystem.Reset"]["target"]
            .as_str()
            .expect("target")
            .to_string();
        let off = json!({ "ResetType": "ForceOff" });
        let denied = send(&dev, Method::POST, &target, Some(&readonly), &[], Some(off)).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{name}: {}", denied.body);
        let delete = send(&dev, Method::DELETE, system, Some(&readonly), &[], None).await;
        assert_eq!(delete.status, StatusCode::METHOD_NOT_ALLOWED, "{name}");
        let unknown =
            send(&dev, Method::GET, "/redfish/v1/Systems/9", Some(&readonly), &[], None).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{name}");
        let still = send(&dev, Method::GET, system, Some(&readonly), &[], None).await;
        assert_eq!(still.body["PowerState"], "On", "{name}");
    }
}

/// DSP0266 query parameters, per profile's service root (`ProtocolFeaturesSupported`):
/// where `.` is taken, the Systems collection comes back with its member whole; where it
/// is not (idrac8, assumed), 501; iLO 5/6 advertise no `*` (iLO 5 2.55 root [C]) and
/// answer it 501; nothing is refused before authentication.
#[tokio::test]
async fn expand_answers_as_each_service_root_says() {
    for (name, system, _) in PROFILES {
        let dev = device(name);
        let token = login(&dev).await;
        let root = send(&dev, Method::GET, "/redfish/v1/", None, &[], None).await;
        let advertised = &root.body["ProtocolFeaturesSupported"]["ExpandQuery"];
        let takes = |form: &str| {
            let tree = dev.profile().tree.as_ref().expect("tree");
            match form {
                "." => tree.expand.no_links,
                _ => tree.expand.expand_all,
            }
        };
        if !advertised.is_null() {
            assert_eq!(advertised["NoLinks"], json!(takes(".")), "{name}");
            assert_eq!(advertised["ExpandAll"], json!(takes("*")), "{name}");
        }
        let collection =
            if system.ends_with('/') { "/redfish/v1/Systems/" } else { "/redfish/v1/Systems" };
        for form in [".", "*"] {
            let uri = format!("{collection}?$expand={form}");
            let reply = send(&dev, Method::GET, &uri, Some(&token), &[], None).await;
            if takes(form) {
                assert_eq!(reply.status, StatusCode::OK, "{name} {form}: {}", reply.body);
                assert_eq!(reply.body["Members"][0]["PowerState"], "On", "{name} {form}");
                assert!(reply.header("etag").is_none(), "{name}: an expanded view has no ETag");
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::NOT_IMPLEMENTED,
                    "{name} {form}: {}",
                    reply.body
                );
            }
            let anonymous = send(&dev, Method::GET, &uri, None, &[], None).await;
            assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{name} {form}");
        }
    }
}
