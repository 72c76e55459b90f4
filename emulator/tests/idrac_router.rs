//! The iDRAC Redfish router, driven in-process with `tower::ServiceExt::oneshot`, for each
//! profile (idrac8, idrac9, idrac10) on a fixed virtual clock with a seed.
//!
//! Each test cites the clause of `shared/vendors/ilo-idrac.md` it checks. Bodies are
//! pinned with insta JSON snapshots (`tests/snapshots/idrac_router__*@<profile>.snap`);
//! tokens are redacted after checking they are 32 hex digits, UUID ids after checking
//! their form. Captured bodies are compared byte for byte with the evidence, quoted here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::session::{ClientInfo, EndReason, EventKind, LoginError};
use emulator::vendors::http::{Connection, ListenerScheme};
use emulator::vendors::idrac;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const PROFILES: [&str; 3] = ["idrac8", "idrac9", "idrac10"];
const ROOT: (&str, &str) = ("root", "calvin");

/// The 2022 RAC0218 body, byte for byte (ilo-idrac.md 2.4, bb-Ricardo/check_redfish#89).
const RAC0218_2022: &str = r#"{"error":{"@Message.ExtendedInfo":[{"Message":"The maximum number of user sessions is reached.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"IDRAC.2.4.RAC0218","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"Make sure that the number of active sessions is less than or equal to the threshold limit. To end a current session and start a new session, do one of the following: 1) Log out of iDRAC by using a Graphical User Interface (GUI). 2) End any unused session by running the following RACADM command at the Command Line Interface (CLI): racadm closessn -i [session id].Warning: Ending a session may abruptly stop any running operation on that specific iDRAC session.","Severity":"Informational"}],"code":"Base.1.7.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information"}}"#;

/// The 2020 RAC0218 body, byte for byte (ilo-idrac.md 2.4, stmcginnis/gofish#75).
const RAC0218_2020: &str = r#"{"error":{"@Message.ExtendedInfo":[{"Message":"The maximum number of user sessions is reached.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"IDRAC.2.1.RAC0218","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"Close one or more sessions before opening another session.","Severity":"Informational"}],"code":"Base.1.5.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information"}}"#;

/// The 415 of iDRAC9 5.x/6.x to a login with `Authorization` (community.general#5886).
const UNSUPPORTED_2022: &str = r##"{"error":{"code":"Base.1.5.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information.","@Message.ExtendedInfo":{"@odata.type":"#Message.v1_0_0.Message","MessageId":"Base.1.5.GeneralError","Message":"A general error has occurred. See Resolution for information on how to resolve the error.","Resolution":"Redfish request contains unsupported media type. Correct the request body and resubmit.","Severity":"Warning"}}}"##;

/// The iDRAC9 401 for bad Basic credentials (iDRAC-Redfish-Scripting#126).
const ACCESS_DENIED_2020: &str = r##"{"error":{"code":"Base.1.0.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information.","@Message.ExtendedInfo":[{"@odata.type":"#Message.v1_0_0.Message","MessageId":"Base.1.2.AccessDenied","Message":"The authentication credentials included with this request are missing or invalid.","MessageArgs":[],"MessageArgs@odata.count":0,"RelatedProperties":[],"RelatedProperties@odata.count":0,"Severity":"Critical","Resolution":"Attempt to ensure that the URI is correct and that the service has the appropriate credentials."}]}}"##;

fn device(profile: &str) -> DeviceHandle {
    let profile = Arc::new(Profile::embedded(profile).expect("embedded profile"));
    let start = chrono::Utc.with_ymd_and_hms(2024, 7, 16, 18, 59, 10).single().expect("date");
    Device::handle(&profile.name.clone(), profile, Clock::virtual_at(start), Some(7))
}

fn sessions_path(profile: &str) -> &'static str {
    if profile == "idrac8" {
        "/redfish/v1/Sessions"
    } else {
        "/redfish/v1/SessionService/Sessions"
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    raw: String,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Status, the headers that matter (when present) and the body, for a snapshot.
    fn view(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for name in [
            "content-type",
            "odata-version",
            "server",
            "cache-control",
            "www-authenticate",
            "location",
            "x-auth-token",
        ] {
            if let Some(value) = self.header(name) {
                headers.insert(name.to_string(), json!(value));
            }
        }
        json!({ "status": self.status.as_u16(), "headers": headers, "body": self.body })
    }

    fn token(&self) -> String {
        let token = self.header("x-auth-token").expect("X-Auth-Token").to_string();
        assert_eq!(token.len(), 32, "{token}");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        token
    }
}

struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

fn req(method: Method, uri: &str) -> Req {
    let peer: SocketAddr = "192.0.2.10:50000".parse().expect("addr");
    Req {
        builder: Request::builder()
            .method(method)
            .uri(uri)
            .extension(Connection::new(peer, ListenerScheme::Http)),
        body: Body::empty(),
    }
}

fn get(uri: &str) -> Req {
    req(Method::GET, uri)
}

impl Req {
    fn token(mut self, token: &str) -> Req {
        self.builder = self.builder.header("X-Auth-Token", token);
        self
    }

    fn header(mut self, name: &str, value: &str) -> Req {
        self.builder = self.builder.header(name, value);
        self
    }

    fn json(mut self, body: &Value) -> Req {
        self.builder = self.builder.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    async fn send(self, dev: &DeviceHandle) -> Reply {
        let request = self.builder.body(self.body).expect("request");
        let response = idrac::router(dev.clone()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let raw = String::from_utf8(bytes.to_vec()).expect("utf-8");
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Reply { status, headers, raw, body }
    }
}

async fn login(dev: &DeviceHandle, profile: &str, (user, password): (&str, &str)) -> Reply {
    req(Method::POST, sessions_path(profile))
        .json(&json!({ "UserName": user, "Password": password }))
        .send(dev)
        .await
}

fn settings(profile: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_suffix(profile);
    s.add_redaction(".headers[\"x-auth-token\"]", "[token]");
    s
}

/// Redacts UUID session ids (iDRAC10) after checking their form.
fn redact_uuids(value: &mut Value) {
    match value {
        Value::String(s) => {
            let last = s.rsplit('/').next().unwrap_or("").to_string();
            if last.len() == 36 && uuid::Uuid::parse_str(&last).is_ok() {
                *s = s.replace(&last, "[uuid]");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_uuids),
        Value::Object(map) => map.values_mut().for_each(redact_uuids),
        _ => {}
    }
}

/// ilo-idrac.md 2.1 [C][P]: RedfishVersion and `Links.Sessions` per generation: 1.4.0 and
/// `/redfish/v1/Sessions` on iDRAC8, `/redfish/v1/SessionService/Sessions` from 1.6.
#[tokio::test]
async fn service_root_links_sessions_by_redfish_version() {
    for profile in PROFILES {
        let dev = device(profile);
        let r = get("/redfish/v1").send(&dev).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["Links"]["Sessions"]["@odata.id"], sessions_path(profile));
        settings(profile).bind(|| insta::assert_json_snapshot!("service_root", r.view()));
    }
}

/// ilo-idrac.md 2.2 [C][P]: login answers 201 with a 32-hex `X-Auth-Token`, `Location`,
/// and the session with ExtendedInfo `Created` + `SYS414`, `SessionType` Redfish,
/// `ClientOriginIPAddress`, `CreatedTime` in the device's offset (-05:00); ids are
/// growing decimals on iDRAC8/9 and UUIDs on iDRAC10. Keys in byte order as captured.
#[tokio::test]
async fn login_answers_201_with_the_captured_session_body() {
    for profile in PROFILES {
        let dev = device(profile);
        let r = login(&dev, profile, ROOT).await;
        assert_eq!(r.status, StatusCode::CREATED, "{profile}: {}", r.raw);
        r.token();
        assert_eq!(r.body["CreatedTime"], "2024-07-16T13:59:10-05:00");
        assert!(r.raw.starts_with(r#"{"@Message.ExtendedInfo":[{"Message":"The resource has been created successfully.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"#));
        let id = r.body["Id"].as_str().expect("Id").to_string();
        if profile == "idrac10" {
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        } else {
            assert_eq!(id, "1");
            let second = login(&dev, profile, ROOT).await;
            assert_eq!(second.body["Id"], "2", "ids keep growing");
        }
        assert_eq!(r.header("location"), Some(format!("{}/{id}", sessions_path(profile)).as_str()));
        let mut view = r.view();
        redact_uuids(&mut view);
        settings(profile).bind(|| insta::assert_json_snapshot!("login", view));
    }
}

/// ilo-idrac.md 2.2: the iDRAC9 capture's key order (python-redfish-library#160) is
/// reproduced exactly for the same values.
#[tokio::test]
async fn idrac9_login_body_serialises_like_the_capture() {
    let dev = device("idrac9");
    let r = login(&dev, "idrac9", ROOT).await;
    let expected = r##"{"@Message.ExtendedInfo":[{"Message":"The resource has been created successfully.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"Base.1.12.Created","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"None.","Severity":"OK"},{"Message":"A new resource is successfully created.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"IDRAC.2.9.SYS414","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"No response action is required.","Severity":"Informational"}],"@odata.context":"/redfish/v1/$metadata#Session.Session","@odata.id":"/redfish/v1/SessionService/Sessions/1","@odata.type":"#Session.v1_6_0.Session","ClientOriginIPAddress":"192.0.2.10","CreatedTime":"2024-07-16T13:59:10-05:00","Description":"User Session","Id":"1","Name":"User Session","Password":null,"SessionType":"Redfish","UserName":"root"}"##;
    assert_eq!(r.raw, expected);
}

/// ilo-idrac.md 2.2 [P]: bad credentials get 401 `SYS415` (and `WWW-Authenticate`).
#[tokio::test]
async fn bad_credentials_get_401_sys415() {
    for profile in PROFILES {
        let dev = device(profile);
        let r = login(&dev, profile, ("root", "wrong")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body["error"]["@Message.ExtendedInfo"][0]["MessageId"]
            .as_str()
            .is_some_and(|m| m.ends_with(".SYS415")));
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"RedfishService\""));
        settings(profile).bind(|| insta::assert_json_snapshot!("bad_credentials", r.view()));
        let failed = dev.store.events(dev.now()).pop().expect("event");
        assert_eq!(failed.kind, EventKind::LoginFailed);
    }
}

/// ilo-idrac.md 2.4 [C]: a full web-server pool answers 503 with the captured RAC0218
/// body byte for byte, quirks included (2022 body on iDRAC9/10, 2020 body on iDRAC8).
#[tokio::test]
async fn full_web_server_pool_gets_rac0218_byte_for_byte() {
    for (profile, limit, body) in
        [("idrac8", 4, RAC0218_2020), ("idrac9", 8, RAC0218_2022), ("idrac10", 8, RAC0218_2022)]
    {
        let dev = device(profile);
        for _ in 0..limit {
            assert_eq!(login(&dev, profile, ROOT).await.status, StatusCode::CREATED);
        }
        let r = login(&dev, profile, ROOT).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{profile}");
        assert_eq!(r.raw, body, "{profile}");
        assert!(r.header("x-auth-token").is_none());
    }
}

/// ilo-idrac.md 2.4 [I] → pools knob: GUI sessions share the web-server pool with
/// Redfish; SSH sessions do not.
#[tokio::test]
async fn gui_sessions_share_the_web_server_pool() {
    let dev = device("idrac9");
    for _ in 0..8 {
        dev.store.open_for("root", "gui", ClientInfo::default(), dev.now()).expect("gui slot");
    }
    dev.store
        .open_for("root", "ssh", ClientInfo::default(), dev.now())
        .expect("ssh is its own pool");
    let r = login(&dev, "idrac9", ROOT).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.raw, RAC0218_2022);
}

/// Seed 002 "IPMI Sessions: Out-of-band management (typically 4-8 concurrent)": IPMI
/// sessions have a pool of their own per model (idrac8 4, idrac9 and idrac10 5, assumed).
#[tokio::test]
async fn ipmi_sessions_have_a_pool_per_model() {
    for (profile, limit) in [("idrac8", 4), ("idrac9", 5), ("idrac10", 5)] {
        let dev = device(profile);
        for _ in 0..limit {
            dev.store.open_for("root", "ipmi", ClientInfo::default(), dev.now()).expect("slot");
        }
        let refused = dev.store.open_for("root", "ipmi", ClientInfo::default(), dev.now());
        assert!(
            matches!(refused, Err(LoginError::LimitReached { limit: l, .. }) if l == limit),
            "{profile}: {refused:?}"
        );
        let r = login(&dev, profile, ROOT).await;
        assert_eq!(r.status, StatusCode::CREATED, "{profile}: IPMI is not the web-server pool");
    }
}

/// ilo-idrac.md 2.4 [C] (iDRAC9 5.10 Manager): `CommandShell` {SSH, IPMI; 5},
/// `GraphicalConsole` {KVMIP; 6}, `SerialConsole` {none; 0; disabled}.
#[tokio::test]
async fn idrac9_manager_publishes_its_session_maxima() {
    let dev = device("idrac9");
    let token =
        login(&dev, "idrac9", ROOT).await.headers["x-auth-token"].to_str().unwrap().to_string();
    let r = get("/redfish/v1/Managers/iDRAC.Embedded.1").token(&token).send(&dev).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (&r.body["CommandShell"], &r.body["GraphicalConsole"], &r.body["SerialConsole"]),
        (
            &json!({"ConnectTypesSupported": ["SSH", "IPMI"], "MaxConcurrentSessions": 5}),
            &json!({"ConnectTypesSupported": ["KVMIP"], "MaxConcurrentSessions": 6}),
            &json!({"ConnectTypesSupported": [], "MaxConcurrentSessions": 0,
                    "ServiceEnabled": false}),
        )
    );
}

/// ilo-idrac.md 2.2 [C]: an `Authorization` header on the login POST is rejected:
/// `SYS468` on iDRAC9 7.00.60 (the profile's firmware), 415 with the non-array
/// ExtendedInfo on 5.x/6.x (knob value), accepted on iDRAC8 (assumed).
#[tokio::test]
async fn authorization_header_on_login_is_rejected_per_firmware() {
    for profile in PROFILES {
        let dev = device(profile);
        let r = req(Method::POST, sessions_path(profile))
            .header("Authorization", "Basic cm9vdDpjYWx2aW4=")
            .json(&json!({ "UserName": "root", "Password": "calvin" }))
            .send(&dev)
            .await;
        if profile == "idrac8" {
            assert_eq!(r.status, StatusCode::CREATED);
        } else {
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert!(r.raw.contains(".SYS468\""), "{}", r.raw);
            settings(profile)
                .bind(|| insta::assert_json_snapshot!("authorization_on_login", r.view()));
        }
    }
    let mut profile = Profile::embedded("idrac9").expect("profile");
    if let Some(s) = profile.idrac.as_mut() {
        s.login_authorization = idrac::LoginAuthorization::UnsupportedMediaType;
    }
    let start = chrono::Utc.with_ymd_and_hms(2023, 1, 24, 0, 0, 0).single().expect("date");
    let dev = Device::handle("idrac9-6x", Arc::new(profile), Clock::virtual_at(start), Some(7));
    let r = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .header("Authorization", "Basic cm9vdDpjYWx2aW4=")
        .json(&json!({ "UserName": "root", "Password": "calvin" }))
        .send(&dev)
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.raw, UNSUPPORTED_2022);
}

/// ilo-idrac.md 2.1 [C]: iDRAC8 answers 405 to the path RedfishVersion 1.6 introduced
/// (body: the SYS402 captured on iDRAC8 2.70); iDRAC9 serves both paths.
#[tokio::test]
async fn idrac8_answers_405_on_the_new_sessions_path() {
    let dev = device("idrac8");
    let r = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .json(&json!({ "UserName": "root", "Password": "calvin" }))
        .send(&dev)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    settings("idrac8").bind(|| insta::assert_json_snapshot!("new_path_405", r.view()));
    let dev = device("idrac9");
    let old = login(&dev, "idrac8", ROOT).await;
    assert_eq!(old.status, StatusCode::CREATED, "iDRAC9 still serves /redfish/v1/Sessions");
    let token = old.token();
    let listed = get("/redfish/v1/Sessions").token(&token).send(&dev).await;
    assert_eq!(listed.body["Members@odata.count"], 1);
    let deleted = req(Method::DELETE, "/redfish/v1/Sessions/1").token(&token).send(&dev).await;
    assert_eq!(
        deleted.status,
        StatusCode::OK,
        "Dell's Ansible deletes /redfish/v1/Sessions/{{Id}}"
    );
}

/// ilo-idrac.md 2.1 [C]: the SessionService and the collection as in Dell's mockups;
/// `SessionTimeout` is the web-server timeout.
#[tokio::test]
async fn session_service_and_collection_bodies() {
    for profile in PROFILES {
        let dev = device(profile);
        let token = login(&dev, profile, ROOT).await.token();
        let service = get("/redfish/v1/SessionService").token(&token).send(&dev).await;
        assert_eq!(service.body["SessionTimeout"], 1800);
        let collection = get(sessions_path(profile)).token(&token).send(&dev).await;
        let member =
            collection.body["Members"][0]["@odata.id"].as_str().expect("member").to_string();
        let session = get(&member).token(&token).send(&dev).await;
        assert_eq!(session.status, StatusCode::OK);
        assert!(session.body.get("@Message.ExtendedInfo").is_none());
        let mut views = json!({
            "service": service.view(),
            "collection": collection.view(),
            "member": session.view(),
        });
        redact_uuids(&mut views);
        settings(profile).bind(|| insta::assert_json_snapshot!("session_documents", views));
    }
}

/// ilo-idrac.md 2.3 [P]: logout answers 200 on iDRAC9 and 204 on iDRAC10; a GET of the
/// deleted session then gets 404; the dead token gets 401.
#[tokio::test]
async fn logout_status_per_generation_then_404() {
    for (profile, status) in [
        ("idrac8", StatusCode::OK),
        ("idrac9", StatusCode::OK),
        ("idrac10", StatusCode::NO_CONTENT),
    ] {
        let dev = device(profile);
        let a = login(&dev, profile, ROOT).await;
        let b = login(&dev, profile, ROOT).await.token();
        let uri = a.header("location").expect("location").to_string();
        let r = req(Method::DELETE, &uri).token(&a.token()).send(&dev).await;
        assert_eq!(r.status, status, "{profile}");
        if status == StatusCode::NO_CONTENT {
            assert!(r.raw.is_empty());
        } else {
            settings(profile).bind(|| insta::assert_json_snapshot!("logout", r.view()));
        }
        let gone = get(&uri).token(&b).send(&dev).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{profile}");
        let dead = get("/redfish/v1/SessionService").token(&a.token()).send(&dev).await;
        assert_eq!(dead.status, StatusCode::UNAUTHORIZED);
        let ended = dev
            .store
            .events(dev.now())
            .into_iter()
            .find(|e| matches!(e.kind, EventKind::Ended { .. }));
        assert_eq!(ended.map(|e| e.kind), Some(EventKind::Ended { reason: EndReason::Logout }));
    }
}

/// ilo-idrac.md 2.2/2.3 [C]: an expired or unknown token gets 401 with `WWW-Authenticate:
/// Basic realm="RedfishService"`: the captured AccessDenied JSON on iDRAC9, and on
/// iDRAC8 the non-JSON answer (`text/html`, empty body).
#[tokio::test]
async fn dead_tokens_get_401_per_generation() {
    for profile in PROFILES {
        let dev = device(profile);
        let token = login(&dev, profile, ROOT).await.token();
        dev.clock().advance(Duration::from_secs(1801)).expect("virtual");
        let r = get("/redfish/v1/SessionService").token(&token).send(&dev).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{profile}");
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"RedfishService\""));
        match profile {
            "idrac8" => {
                assert_eq!(r.header("content-type"), Some("text/html"));
                assert_eq!(r.raw, "");
                assert_eq!(r.header("server"), Some("iDRAC/8"));
            }
            "idrac9" => assert_eq!(r.raw, ACCESS_DENIED_2020),
            _ => assert!(r.raw.contains("Base.1.18.AccessDenied")),
        }
        let unknown = get("/redfish/v1/SessionService")
            .token("0123456789abcdef0123456789abcdef")
            .send(&dev)
            .await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.raw, r.raw);
    }
}

/// ilo-idrac.md 2.2 [C]: iDRAC10 1.30.10.50+ has HTTP Basic "Unadvertised": Basic
/// requests get `Base.1.18.AccessDenied`; iDRAC9 accepts them.
#[tokio::test]
async fn basic_auth_is_refused_on_idrac10() {
    let basic = "Basic cm9vdDpjYWx2aW4=";
    let dev = device("idrac10");
    let r = get("/redfish/v1/SessionService").header("Authorization", basic).send(&dev).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.raw.contains("\"MessageId\":\"Base.1.18.AccessDenied\""));
    let dev = device("idrac9");
    let r = get("/redfish/v1/SessionService").header("Authorization", basic).send(&dev).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(dev.store.counts(dev.now()).total, 0, "the one-request session is gone");
}

/// ilo-idrac.md 2.5 [P][C]: per-type timeouts are Dell attributes
/// (`WebServer.1.Timeout` 1800 in 60..10800, `SSH.1.Timeout`, `Racadm.1.Timeout` 60,
/// the virtual console's `TimeoutEnable` Disabled); a PATCH applies from the next login
/// and `SessionService.SessionTimeout` mirrors the web-server timeout.
#[tokio::test]
async fn attributes_carry_the_timeouts_and_sessiontimeout_mirrors_them() {
    let dev = device("idrac9");
    let token = login(&dev, "idrac9", ROOT).await.token();
    let attrs =
        get("/redfish/v1/Managers/iDRAC.Embedded.1/Attributes").token(&token).send(&dev).await;
    let a = &attrs.body["Attributes"];
    assert_eq!(a["WebServer.1.Timeout"], 1800);
    assert_eq!(a["WebServer.1.MaxNumberOfSessions"], 8);
    assert_eq!(a["SSH.1.Timeout"], 1800);
    assert_eq!(a["SSH.1.MaxSessions"], 4);
    assert_eq!(a["Racadm.1.Timeout"], 60);
    assert_eq!(a["Racadm.1.MaxSessions"], 2);
    assert_eq!(a["VirtualConsole.1.MaxSessions"], 6);
    assert_eq!(a["VirtualConsole.1.Timeout"], 1800);
    assert_eq!(a["VirtualConsole.1.TimeoutEnable"], "Disabled");
    assert_eq!(a["VNCServer.1.MaxSessions"], 2);
    assert_eq!(a["Users.2.UserName"], "root");
    assert_eq!(a["Users.2.Password"], Value::Null);
    let patch = |body: Value| {
        req(Method::PATCH, "/redfish/v1/Managers/iDRAC.Embedded.1/Attributes")
            .token(&token)
            .json(&body)
    };
    let ok = patch(json!({"Attributes": {"WebServer.1.Timeout": 600}})).send(&dev).await;
    assert_eq!(ok.status, StatusCode::OK);
    settings("idrac9").bind(|| insta::assert_json_snapshot!("attributes_patch", ok.view()));
    let service = get("/redfish/v1/SessionService").token(&token).send(&dev).await;
    assert_eq!(service.body["SessionTimeout"], 600);
    let bad = patch(json!({"Attributes": {"WebServer.1.Timeout": 59, "SSH.1.Timeout": 900}}))
        .send(&dev)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    settings("idrac9").bind(|| insta::assert_json_snapshot!("attributes_out_of_range", bad.view()));
    let unchanged =
        get("/redfish/v1/Managers/iDRAC.Embedded.1/Attributes").token(&token).send(&dev).await;
    assert_eq!(unchanged.body["Attributes"]["SSH.1.Timeout"], 1800, "nothing changes on a 400");
    let ro = patch(json!({"Attributes": {"SSH.1.MaxSessions": 5, "Nope.1.X": 1}})).send(&dev).await;
    assert_eq!(ro.status, StatusCode::BAD_REQUEST);
    // The old session keeps 1800 s; a new one gets 600 s.
    let fresh = login(&dev, "idrac9", ROOT).await.token();
    dev.clock().advance(Duration::from_secs(601)).expect("virtual");
    assert_eq!(
        get("/redfish/v1/SessionService").token(&fresh).send(&dev).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/redfish/v1/SessionService").token(&token).send(&dev).await.status,
        StatusCode::OK
    );
    // SessionTimeout is writable too, within the web-server range.
    let set = req(Method::PATCH, "/redfish/v1/SessionService")
        .token(&token)
        .json(&json!({"SessionTimeout": 900}))
        .send(&dev)
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let check =
        get("/redfish/v1/Managers/iDRAC.Embedded.1/Attributes").token(&token).send(&dev).await;
    assert_eq!(check.body["Attributes"]["WebServer.1.Timeout"], 900);
    let out = req(Method::PATCH, "/redfish/v1/SessionService")
        .token(&token)
        .json(&json!({"SessionTimeout": 30}))
        .send(&dev)
        .await;
    assert_eq!(out.status, StatusCode::BAD_REQUEST);
}

/// ilo-idrac.md 2.5 [C][P]: sliding idle timeout without absolute lifetime: a session
/// used every 25 minutes against 30 lives on; left alone it ends at 30 minutes.
#[tokio::test]
async fn redfish_sessions_slide() {
    let dev = device("idrac9");
    let token = login(&dev, "idrac9", ROOT).await.token();
    for _ in 0..10 {
        dev.clock().advance(Duration::from_secs(25 * 60)).expect("virtual");
        assert_eq!(
            get("/redfish/v1/SessionService").token(&token).send(&dev).await.status,
            StatusCode::OK
        );
    }
    dev.clock().advance(Duration::from_secs(1800)).expect("virtual");
    assert_eq!(
        get("/redfish/v1/SessionService").token(&token).send(&dev).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// ilo-idrac.md 2.7 [U] → knob (assumed): a password change through the account slot
/// ends that user's sessions; accounts are slots with root in 2.
#[tokio::test]
async fn account_password_patch_ends_the_users_sessions() {
    let dev = device("idrac9");
    let admin = login(&dev, "idrac9", ROOT).await.token();
    let op = login(&dev, "idrac9", ("operator", "calvin")).await.token();
    let slot = get("/redfish/v1/AccountService/Accounts/3").token(&admin).send(&dev).await;
    assert_eq!(slot.body["UserName"], "operator");
    settings("idrac9").bind(|| insta::assert_json_snapshot!("account_slot", slot.view()));
    let r = req(Method::PATCH, "/redfish/v1/AccountService/Accounts/3")
        .token(&admin)
        .json(&json!({"Password": "n3w-pass"}))
        .send(&dev)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get("/redfish/v1/SessionService").token(&op).send(&dev).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/redfish/v1/SessionService").token(&admin).send(&dev).await.status,
        StatusCode::OK
    );
    assert_eq!(login(&dev, "idrac9", ("operator", "n3w-pass")).await.status, StatusCode::CREATED);
}

/// `Manager.Reset` restarts the iDRAC: every session ends (reason restart).
#[tokio::test]
async fn manager_reset_ends_every_session() {
    let dev = device("idrac9");
    let token = login(&dev, "idrac9", ROOT).await.token();
    dev.store.open_for("root", "ssh", ClientInfo::default(), dev.now()).expect("ssh");
    let r = req(Method::POST, "/redfish/v1/Managers/iDRAC.Embedded.1/Actions/Manager.Reset")
        .token(&token)
        .json(&json!({"ResetType": "GracefulRestart"}))
        .send(&dev)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(dev.store.counts(dev.now()).total, 0);
}

/// Unknown paths get 404 and wrong methods 405 in iDRAC's envelope, never a DMTF-shaped
/// or empty body.
#[tokio::test]
async fn unknown_paths_and_methods_get_idrac_errors() {
    let dev = device("idrac9");
    let token = login(&dev, "idrac9", ROOT).await.token();
    let missing = get("/redfish/v1/Nope").token(&token).send(&dev).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let wrong = req(Method::PUT, "/redfish/v1/SessionService").token(&token).send(&dev).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    let views = json!({ "not_found": missing.view(), "method_not_allowed": wrong.view() });
    settings("idrac9").bind(|| insta::assert_json_snapshot!("errors", views));
}

/// The FC630 (iDRAC8) mockup's Operator role, byte for byte in content (SAILFISH
/// Server-PowerEdge-FC630-TimeInfo/.../Roles/Operator), without the mockup's copyright.
const OPERATOR_ROLE_FC630: &str = r##"{"@odata.context":"/redfish/v1/$metadata#Role.Role","@odata.id":"/redfish/v1/AccountService/Roles/Operator","@odata.type":"#Role.v1_0_2.Role","AssignedPrivileges":["Login","ConfigureComponent","ConfigureSelf"],"AssignedPrivileges@odata.count":3,"Description":"Operator User Role","Id":"Operator","IsPredefined":true,"Name":"User Role"}"##;

async fn session_token(dev: &DeviceHandle, profile: &str) -> String {
    let r = login(dev, profile, ROOT).await;
    assert_eq!(r.status, StatusCode::CREATED, "{profile}: {}", r.raw);
    r.token()
}

/// Dell's mockups (FC630 iDRAC8, R740 iDRAC9) [C] and CreateDeleteIdracUsersREDFISH.py [P]:
/// the AccountService links `Roles`, a collection of the predefined roles (`None` only up
/// to iDRAC9), each readable; DMTF redfishtool's `AccountService Roles` follows that link.
#[tokio::test]
async fn account_service_links_the_predefined_roles() {
    for profile in PROFILES {
        let dev = device(profile);
        let token = session_token(&dev, profile).await;
        let service = get("/redfish/v1/AccountService").token(&token).send(&dev).await;
        let roles_uri = service.body["Roles"]["@odata.id"].as_str().expect("Roles link");
        assert_eq!(roles_uri, "/redfish/v1/AccountService/Roles");
        let roles = get(roles_uri).token(&token).send(&dev).await;
        assert_eq!(roles.status, StatusCode::OK, "{profile}: {}", roles.raw);
        let mut members = Vec::new();
        for member in roles.body["Members"].as_array().expect("Members") {
            let uri = member["@odata.id"].as_str().expect("@odata.id");
            let role = get(uri).token(&token).send(&dev).await;
            assert_eq!(role.status, StatusCode::OK, "{profile} {uri}");
            assert_eq!(role.body["@odata.id"], uri);
            members.push(role.body);
        }
        let ids: Vec<&str> = members.iter().filter_map(|r| r["Id"].as_str()).collect();
        let expected: &[&str] = if profile == "idrac10" {
            &["Administrator", "Operator", "ReadOnly"]
        } else {
            &["Administrator", "Operator", "ReadOnly", "None"]
        };
        assert_eq!(ids, expected, "{profile}");
        assert_eq!(roles.body["Members@odata.count"], expected.len());
        let view = json!({ "collection": roles.body, "members": members });
        settings(profile).bind(|| insta::assert_json_snapshot!("roles", view));
        let missing = get("/redfish/v1/AccountService/Roles/Nobody").token(&token).send(&dev).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let anonymous = get(roles_uri).send(&dev).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    }
}

/// SAILFISH FC630 (iDRAC8) mockup [C]: the Operator role's body and its privilege spelling.
#[tokio::test]
async fn idrac8_operator_role_reads_like_the_mockup() {
    let dev = device("idrac8");
    let token = session_token(&dev, "idrac8").await;
    let role = get("/redfish/v1/AccountService/Roles/Operator").token(&token).send(&dev).await;
    assert_eq!(role.raw, OPERATOR_ROLE_FC630);
}

/// DSP0266 OData service and metadata document requests; Dell's FC630 and R740 mockups
/// [C]: `/redfish/v1/odata` and `/redfish/v1/$metadata` answer without authentication,
/// the metadata as XML with the `Service` EntityContainer and references under
/// `/redfish/v1/Schemas/`.
#[tokio::test]
async fn odata_documents_need_no_authentication() {
    for profile in PROFILES {
        let dev = device(profile);
        let odata = get("/redfish/v1/odata").send(&dev).await;
        assert_eq!(odata.status, StatusCode::OK, "{profile}: {}", odata.raw);
        assert_eq!(odata.body["@odata.context"], "/redfish/v1/$metadata");
        let urls: Vec<&str> = odata.body["value"]
            .as_array()
            .expect("value")
            .iter()
            .filter_map(|v| v["url"].as_str())
            .collect();
        assert_eq!(
            urls,
            [
                "/redfish/v1",
                "/redfish/v1/Managers",
                "/redfish/v1/AccountService",
                "/redfish/v1/SessionService"
            ]
        );
        let metadata = get("/redfish/v1/$metadata").send(&dev).await;
        assert_eq!(metadata.status, StatusCode::OK, "{profile}");
        assert_eq!(metadata.header("content-type"), Some("application/xml"));
        assert_eq!(metadata.header("odata-version"), Some("4.0"));
        let xml = &metadata.raw;
        assert!(xml.contains("<EntityContainer Name=\"Service\""), "{xml}");
        assert!(xml.contains("<edmx:Reference Uri=\"/redfish/v1/Schemas/Session_v1.xml\">"));
        assert!(xml.contains("<edmx:Include Namespace=\"Role.v1_0_2\"/>"), "{xml}");
        settings(profile).bind(|| insta::assert_snapshot!("metadata", xml));
    }
}

/// bb-Ricardo/check_redfish#90 [C] (iDRAC8): a successful GET carries
/// `Link: </redfish/v1/Schemas/<Schema>.<version>.json>;rel=describedby`, the version of the
/// body's `@odata.type` (DSP0266 Link header); HEAD too; errors and `/redfish` do not.
#[tokio::test]
async fn get_and_head_carry_the_captured_describedby_link() {
    for profile in PROFILES {
        let dev = device(profile);
        let token = session_token(&dev, profile).await;
        let session_uri = format!("{}/1", sessions_path(profile));
        let cases = [
            ("/redfish/v1", "ServiceRoot.v1_6_0"),
            ("/redfish/v1/SessionService", ""),
            (sessions_path(profile), "SessionCollection"),
            ("/redfish/v1/AccountService", "AccountService.v1_5_0"),
            ("/redfish/v1/AccountService/Accounts/2", "ManagerAccount.v1_4_0"),
            ("/redfish/v1/AccountService/Roles", "RoleCollection"),
            ("/redfish/v1/AccountService/Roles/ReadOnly", "Role.v1_0_2"),
            ("/redfish/v1/Managers/iDRAC.Embedded.1", "Manager.v1_9_0"),
        ];
        for (uri, schema) in cases {
            let got = get(uri).token(&token).send(&dev).await;
            assert_eq!(got.status, StatusCode::OK, "{profile} {uri}");
            let schema = if schema.is_empty() {
                let t = got.body["@odata.type"].as_str().expect("type");
                t.trim_start_matches('#').rsplit_once('.').expect("versioned").0.to_string()
            } else {
                schema.to_string()
            };
            let expected = format!("</redfish/v1/Schemas/{schema}.json>;rel=describedby");
            assert_eq!(got.header("link"), Some(expected.as_str()), "{profile} GET {uri}");
            let head = req(Method::HEAD, uri).token(&token).send(&dev).await;
            assert_eq!(head.header("link"), Some(expected.as_str()), "{profile} HEAD {uri}");
        }
        if profile != "idrac10" {
            let id = session_token(&dev, profile).await;
            let session = get(&session_uri).token(&id).send(&dev).await;
            assert!(session.header("link").is_some_and(|l| l.contains("/Session.v1_")));
        }
        assert_eq!(get("/redfish/v1/AccountService").send(&dev).await.header("link"), None);
        assert_eq!(get("/redfish").send(&dev).await.header("link"), None);
    }
}

/// DSP0266 POST (create): a login POSTed to the collection's `Members` is a login at the
/// collection (both forms); on iDRAC8 that is `/redfish/v1/Sessions/Members`, and the
/// Redfish 1.6 path keeps answering 405 (ilo-idrac.md 2.1 [C]).
#[tokio::test]
async fn post_to_sessions_members_logs_in() {
    for profile in PROFILES {
        let dev = device(profile);
        let members = format!("{}/Members", sessions_path(profile));
        let r = req(Method::POST, &members)
            .json(&json!({ "UserName": ROOT.0, "Password": ROOT.1 }))
            .send(&dev)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{profile}: {}", r.raw);
        let token = r.token();
        let location = r.header("location").expect("Location").to_string();
        assert_eq!(r.body["@odata.id"], location.as_str());
        assert!(location.starts_with(&format!("{}/", sessions_path(profile))), "{location}");
        assert_eq!(
            r.body["@Message.ExtendedInfo"][1]["MessageId"]
                .as_str()
                .map(|m| m.ends_with(".SYS414")),
            Some(true)
        );
        let listed = get(sessions_path(profile)).token(&token).send(&dev).await;
        assert_eq!(listed.body["Members@odata.count"], 1, "{profile}");
        let out = req(Method::DELETE, &location).token(&token).send(&dev).await;
        assert!(out.status.is_success(), "{profile}: {}", out.status);
        if profile == "idrac8" {
            let new_path = req(Method::POST, "/redfish/v1/SessionService/Sessions/Members")
                .json(&json!({ "UserName": ROOT.0, "Password": ROOT.1 }))
                .send(&dev)
                .await;
            assert_eq!(new_path.status, StatusCode::METHOD_NOT_ALLOWED);
        }
    }
}

// ----- beyond sessions: the Dell objects tools read first (issue 18) -----

const MANAGER: &str = "/redfish/v1/Managers/iDRAC.Embedded.1";
const FIRMWARE: &str = "/redfish/v1/UpdateService/FirmwareInventory";
const DELL_INVENTORY: &str = "/redfish/v1/UpdateService/Oem/Dell/DellSoftwareInventory";

/// The profile's `[tree.vars]` value `name`.
fn tree_var(profile: &str, name: &str) -> String {
    let p = Profile::embedded(profile).expect("profile");
    p.tree.expect("tree").vars[name].as_str().expect("string var").to_string()
}

/// iDRAC9 5.10 manager (github.com/akaliwod/iserver UriManagers.md) [C]:
/// `Links.Oem.Dell.DellAttributes` is an array of the iDRAC, System and
/// LifecycleController sets with `DellAttributes@odata.count` 3 and `Jobs` beside it;
/// every set it links answers 200.
#[tokio::test]
async fn manager_links_the_dell_attribute_sets_as_an_array() {
    for profile in PROFILES {
        let dev = device(profile);
        let token = session_token(&dev, profile).await;
        let r = get(MANAGER).token(&token).send(&dev).await;
        assert_eq!(r.status, StatusCode::OK, "{profile}: {}", r.raw);
        let dell = &r.body["Links"]["Oem"]["Dell"];
        let sets = dell["DellAttributes"].as_array().expect("an array, not one object");
        assert_eq!(sets.len(), 3, "{profile}");
        assert_eq!(dell["DellAttributes@odata.count"], 3, "{profile}");
        assert_eq!(r.body["FirmwareVersion"], tree_var(profile, "manager_firmware"));
        for set in sets {
            let uri = set["@odata.id"].as_str().expect("link");
            let got = get(uri).token(&token).send(&dev).await;
            assert_eq!(got.status, StatusCode::OK, "{profile} {uri}: {}", got.raw);
            assert!(got.body["Attributes"].is_object(), "{profile} {uri}");
        }
        settings(profile).bind(|| insta::assert_json_snapshot!("manager", r.view()));
    }
}

/// Dell's scripts poll `Managers/iDRAC.Embedded.1/Jobs` and `.../Oem/Dell/Jobs`
/// (iDRAC-Redfish-Scripting): both are collections, empty on a fresh device (no job has
/// been scheduled); iDRAC8 has no Dell job collection (assumed).
#[tokio::test]
async fn job_queues_are_empty_collections() {
    for profile in PROFILES {
        let dev = device(profile);
        let token = session_token(&dev, profile).await;
        let jobs = get(&format!("{MANAGER}/Jobs")).token(&token).send(&dev).await;
        assert_eq!(jobs.status, StatusCode::OK, "{profile}: {}", jobs.raw);
        assert_eq!(jobs.body["Members"], json!([]));
        assert_eq!(jobs.body["Members@odata.count"], 0);
        let dell = get(&format!("{MANAGER}/Oem/Dell/Jobs")).token(&token).send(&dev).await;
        if profile == "idrac8" {
            assert_eq!(dell.status, StatusCode::NOT_FOUND, "{}", dell.raw);
        } else {
            assert_eq!(dell.status, StatusCode::OK, "{profile}: {}", dell.raw);
            assert_eq!(dell.body["@odata.type"], "#DellJobCollection.DellJobCollection");
            assert_eq!(dell.body["Members@odata.count"], 0);
        }
        settings(profile).bind(|| insta::assert_json_snapshot!("jobs", jobs.view()));
    }
}

/// iDRAC9 5.10 UpdateService (iserver UriUpdateService.md) [C]: FirmwareInventory members
/// named `Installed-<id>-<version>__<FQDD>`, with the profile's BIOS and iDRAC versions;
/// `UpdateService/Oem/Dell/DellSoftwareInventory` lists its members expanded, with
/// `ElementName`, `Status` and an `Id` whose FQDD follows `__`, as Dell's Ansible modules
/// read it [P]; iDRAC8 answers 404 there (those modules then fall back to OMSDK).
#[tokio::test]
async fn firmware_inventory_carries_the_profiles_versions() {
    for profile in PROFILES {
        let dev = device(profile);
        let token = session_token(&dev, profile).await;
        let (bios, idrac) =
            (tree_var(profile, "bios_version"), tree_var(profile, "manager_firmware"));
        let list = get(FIRMWARE).token(&token).send(&dev).await;
        assert_eq!(list.status, StatusCode::OK, "{profile}: {}", list.raw);
        let mut versions = Vec::new();
        for member in list.body["Members"].as_array().expect("members") {
            let uri = member["@odata.id"].as_str().expect("link");
            let item = get(uri).token(&token).send(&dev).await;
            assert_eq!(item.status, StatusCode::OK, "{profile} {uri}");
            let id = item.body["Id"].as_str().expect("Id");
            let version = item.body["Version"].as_str().expect("Version");
            assert!(id.contains(&format!("-{version}__")), "{id}");
            versions
                .push((item.body["Name"].as_str().expect("Name").to_string(), version.to_string()));
        }
        assert!(versions.contains(&("BIOS".to_string(), bios.clone())), "{versions:?}");
        let idrac_name = "Integrated Dell Remote Access Controller".to_string();
        assert!(versions.contains(&(idrac_name, idrac.clone())), "{versions:?}");
        let dell = get(DELL_INVENTORY).token(&token).send(&dev).await;
        if profile == "idrac8" {
            assert_eq!(dell.status, StatusCode::NOT_FOUND, "{}", dell.raw);
            continue;
        }
        assert_eq!(dell.status, StatusCode::OK, "{profile}: {}", dell.raw);
        let members = dell.body["Members"].as_array().expect("members");
        let bios_item = members
            .iter()
            .find(|m| m["ElementName"] == "BIOS" && m["Status"] == "Installed")
            .expect("an installed BIOS");
        assert_eq!(
            bios_item["Id"].as_str().and_then(|i| i.split("__").last()),
            Some("BIOS.Setup.1-1")
        );
        assert_eq!(bios_item["VersionString"], bios.as_str());
        for member in members {
            let uri = member["@odata.id"].as_str().expect("link");
            let item = get(uri).token(&token).send(&dev).await;
            assert_eq!(item.status, StatusCode::OK, "{profile} {uri}");
            assert_eq!(&item.body["Id"], &member["Id"]);
        }
        settings(profile).bind(|| insta::assert_json_snapshot!("firmware_inventory", list.view()));
    }
}

/// iDRAC9 5.10 DellAttributes sets (iserver UriManagers.md) [C]: the System set takes a
/// PATCH of its `Attributes` and answers as the iDRAC's own attributes do (`Success`,
/// `SYS413`); a device reset restores it.
#[tokio::test]
async fn system_attribute_set_patches_and_resets() {
    let profile = "idrac9";
    let dev = device(profile);
    let token = session_token(&dev, profile).await;
    let uri = format!("{MANAGER}/Oem/Dell/DellAttributes/System.Embedded.1");
    let patch = json!({ "Attributes": { "AcquisitionInfo.1.CostCenter": "lab-7" } });
    let r = req(Method::PATCH, &uri).token(&token).json(&patch).send(&dev).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let ids: Vec<&str> = r.body["@Message.ExtendedInfo"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["MessageId"].as_str())
        .collect();
    assert_eq!(ids, ["Base.1.12.Success", "IDRAC.2.9.SYS413"]);
    let read = get(&uri).token(&token).send(&dev).await;
    assert_eq!(read.body["Attributes"]["AcquisitionInfo.1.CostCenter"], "lab-7");
    let locked = json!({ "Attributes": { "WarrantyInfo.1.UnitType": "Years" } });
    let r = req(Method::PATCH, &uri).token(&token).json(&locked).send(&dev).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    dev.reset();
    let token = session_token(&dev, profile).await;
    let read = get(&uri).token(&token).send(&dev).await;
    assert_eq!(read.body["Attributes"]["AcquisitionInfo.1.CostCenter"], "");
}

/// iDRAC9 5.10 service root [C]: ExpandQuery `*`, `.`, `~` with `$levels` up to 1, the form
/// Dell's scripts send (`?$expand=*($levels=1)`): the members come back whole, router-
/// served collections (sessions) as tree ones (firmware). DSP0266 query parameters: a
/// value out of range is 400, a form the service does not take 501 (iDRAC8, assumed), and
/// authentication comes first.
#[tokio::test]
async fn expand_answers_as_the_service_root_advertises() {
    let dev = device("idrac9");
    let token = session_token(&dev, "idrac9").await;
    let r = get("/redfish/v1/SessionService/Sessions?$expand=*($levels=1)")
        .token(&token)
        .send(&dev)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.body["Members"][0]["UserName"], "root", "{}", r.raw);
    assert!(r.raw.starts_with(r#"{"@odata.context""#), "sorted keys: {}", r.raw);
    let r =
        get(&format!("{FIRMWARE}?%24expand=%2A%28%24levels%3D1%29")).token(&token).send(&dev).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert!(r.body["Members"]
        .as_array()
        .expect("members")
        .iter()
        .all(|m| m["Version"].is_string()));
    let r = get(&format!("{MANAGER}?$expand=~")).token(&token).send(&dev).await;
    assert_eq!(r.body["Links"]["Oem"]["Dell"]["Jobs"]["Members@odata.count"], 0, "{}", r.raw);
    assert!(r.body["EthernetInterfaces"].is_null());
    let r = get(&format!("{FIRMWARE}?$expand=.($levels=2)")).token(&token).send(&dev).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    settings("idrac9")
        .bind(|| insta::assert_json_snapshot!("expand_levels_out_of_range", r.view()));
    let r = get(&format!("{FIRMWARE}?$expand=Members")).token(&token).send(&dev).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    let r = get(&format!("{FIRMWARE}?$expand=*")).send(&dev).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.raw);

    let dev = device("idrac8");
    let token = session_token(&dev, "idrac8").await;
    let r = get("/redfish/v1/Sessions?$expand=.").token(&token).send(&dev).await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED, "{}", r.raw);
    settings("idrac8").bind(|| insta::assert_json_snapshot!("expand_not_implemented", r.view()));
    let r = get("/redfish/v1/Sessions?$expand=.").send(&dev).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let root = get("/redfish/v1").send(&dev).await;
    assert!(root.body.get("ProtocolFeaturesSupported").is_none(), "{}", root.raw);
}

/// ilo-idrac.md 2.6 [C] (remote racadm: `POST /cgi-bin/login`, `/cgi-bin/exec`): each
/// login is a RACADM session, so the pool (2 on iDRAC9) fills over the wire, and exec
/// runs the same commands as racadm over SSH.
#[tokio::test]
async fn remote_racadm_fills_the_racadm_pool_over_the_wire() {
    let dev = device("idrac9");
    let body = "<?xml version='1.0'?><LOGIN><REQ><USERNAME>root</USERNAME>\
                <PASSWORD>calvin</PASSWORD></REQ></LOGIN>";
    let mut cookies = Vec::new();
    for _ in 0..2 {
        let mut r = req(Method::POST, "/cgi-bin/login");
        r.body = Body::from(body);
        let r = r.send(&dev).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.raw.contains("<STATENAME>OK</STATENAME>"), "{}", r.raw);
        assert!(!r.raw.contains("<SID>0</SID>"), "{}", r.raw);
        let cookie = r.headers["set-cookie"].to_str().unwrap();
        cookies.push(cookie.split(';').next().unwrap().to_string());
    }
    let mut third = req(Method::POST, "/cgi-bin/login");
    third.body = Body::from(body);
    let third = third.send(&dev).await;
    assert!(third.raw.contains("<SID>0</SID>"), "pool of 2 is full: {}", third.raw);
    let mut exec = req(Method::POST, "/cgi-bin/exec").header("cookie", &cookies[0]);
    exec.body = Body::from(
        "<?xml version='1.0'?><EXEC><REQ><CMDINPUT>racadm getssninfo</CMDINPUT>\
         <MAXOUTPUTLEN>0x0fff</MAXOUTPUTLEN></REQ></EXEC>",
    );
    let exec = exec.send(&dev).await;
    assert!(exec.raw.contains("<CMDRC>0x0</CMDRC>"), "{}", exec.raw);
    assert_eq!(exec.raw.matches("RACADM").count(), 2, "{}", exec.raw);
    let out = req(Method::POST, "/cgi-bin/logout").header("cookie", &cookies[0]).send(&dev).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(dev.store.counts(dev.now()).by_type.get("racadm"), Some(&1));
    let mut wrong = req(Method::POST, "/cgi-bin/login");
    wrong.body = Body::from(body.replace("calvin", "wrong"));
    assert!(wrong.send(&dev).await.raw.contains("<SID>0</SID>"));
}
