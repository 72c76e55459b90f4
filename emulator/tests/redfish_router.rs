//! The DMTF Redfish router, driven in-process with `tower::ServiceExt::oneshot`.
//!
//! Each test cites the clause of the Redfish Specification, DMTF DSP0266
//! (https://www.dmtf.org/dsp/DSP0266), it checks. Wire formats are
//! pinned with insta JSON snapshots (`tests/snapshots/redfish_router__*.snap`) of the
//! status, the headers that matter and the body; tokens, session ids and times are
//! redacted, the token only after checking it is 32 hex digits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::session::Account;
use emulator::vendors::redfish;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const ADMIN: (&str, &str) = ("admin", "sessionlab");
const OPERATOR: (&str, &str) = ("operator", "sessionlab");
const READONLY: (&str, &str) = ("readonly", "sessionlab");

fn device() -> DeviceHandle {
    let profile = Arc::new(Profile::embedded("redfish").expect("embedded profile"));
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle("redfish", profile, Clock::virtual_at(start), Some(7))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    raw: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Status, the named headers (when present) and the body, for a snapshot.
    fn view(&self, names: &[&str]) -> Value {
        let mut headers = serde_json::Map::new();
        for name in names {
            if let Some(value) = self.header(name) {
                headers.insert((*name).to_string(), json!(value));
            }
        }
        json!({ "status": self.status.as_u16(), "headers": headers, "body": self.body })
    }

    fn message_ids(&self) -> Vec<String> {
        let info = self.body["error"]["@Message.ExtendedInfo"]
            .as_array()
            .or_else(|| self.body["@Message.ExtendedInfo"].as_array());
        info.map(|list| {
            list.iter().filter_map(|m| m["MessageId"].as_str().map(str::to_string)).collect()
        })
        .unwrap_or_default()
    }
}

/// Headers every snapshot shows.
const COMMON: [&str; 5] = ["content-type", "odata-version", "server", "cache-control", "allow"];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    COMMON.iter().copied().chain(extra.iter().copied()).collect()
}

struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

fn req(method: Method, uri: &str) -> Req {
    Req { builder: Request::builder().method(method).uri(uri), body: Body::empty() }
}

fn get(uri: &str) -> Req {
    req(Method::GET, uri)
}

impl Req {
    fn token(mut self, token: &str) -> Req {
        self.builder = self.builder.header("X-Auth-Token", token);
        self
    }

    fn basic(mut self, (user, password): (&str, &str)) -> Req {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.builder = self.builder.header(header::AUTHORIZATION, format!("Basic {encoded}"));
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

    fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Req {
        self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    async fn send(self, dev: &DeviceHandle) -> Reply {
        let request = self.builder.body(self.body).expect("request");
        let response = redfish::router(dev.clone()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, raw }
    }
}

async fn login(dev: &DeviceHandle, (user, password): (&str, &str)) -> Reply {
    req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .json(&json!({ "UserName": user, "Password": password }))
        .send(dev)
        .await
}

/// Logs in and returns (token, session URI).
async fn session(dev: &DeviceHandle, who: (&str, &str)) -> (String, String) {
    let reply = login(dev, who).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let token = reply.header("x-auth-token").expect("token").to_string();
    let location = reply.header("location").expect("location").to_string();
    (token, location)
}

fn assert_hex32(value: &str) {
    assert_eq!(value.len(), 32, "{value:?}");
    assert!(value.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{value:?}");
}

/// Redacts the token after checking its shape.
fn token_redaction(
    value: insta::internals::Content,
    _: insta::internals::ContentPath<'_>,
) -> String {
    assert_hex32(value.as_str().expect("token is a string"));
    "[32 hex]".to_string()
}

// ----- discovery -----

/// DSP0266 Service root request, Response headers: the service root needs no authentication and carries OData-Version and Allow.
#[tokio::test]
async fn service_root_is_public_and_pinned() {
    let dev = device();
    let reply = get("/redfish/v1/").send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!("service_root", reply.view(&COMMON), {
        ".body.UUID" => "[uuid]",
    });
}

/// DSP0266 Service root request, Response headers: `/redfish/v1` is treated the same as `/redfish/v1/`.
#[tokio::test]
async fn root_without_trailing_slash_is_the_same_resource() {
    let dev = device();
    let with_slash = get("/redfish/v1/").send(&dev).await;
    let without = get("/redfish/v1").send(&dev).await;
    assert_eq!(without.status, StatusCode::OK);
    assert_eq!(with_slash.body, without.body);
}

/// DSP0266 Service root request, Response headers: `/redfish`, `$metadata` (XML with an EntityContainer) and `odata` need no authentication.
#[tokio::test]
async fn discovery_documents_need_no_authentication() {
    let dev = device();
    let versions = get("/redfish").send(&dev).await;
    assert_eq!(versions.status, StatusCode::OK);
    assert_eq!(versions.body, json!({ "v1": "/redfish/v1/" }));

    let metadata = get("/redfish/v1/$metadata").send(&dev).await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert_eq!(metadata.header("content-type"), Some("application/xml"));
    let xml = String::from_utf8(metadata.raw.clone()).expect("utf-8");
    assert!(xml.contains("<EntityContainer"), "{xml}");
    assert_eq!(metadata.header("odata-version"), Some("4.0"));

    let odata = get("/redfish/v1/odata").send(&dev).await;
    assert_eq!(odata.status, StatusCode::OK);
    assert_eq!(odata.body["@odata.context"], "/redfish/v1/$metadata");
    assert!(odata.body["value"].as_array().is_some_and(|v| !v.is_empty()));
}

/// DSP0266 Redfish login sessions: `Links.Sessions` in the service root equals SessionService's `Sessions`.
#[tokio::test]
async fn links_sessions_equals_session_service_sessions() {
    let dev = device();
    let root = get("/redfish/v1/").send(&dev).await;
    let service = get("/redfish/v1/SessionService").basic(ADMIN).send(&dev).await;
    assert_eq!(service.status, StatusCode::OK);
    assert_eq!(root.body["Links"]["Sessions"]["@odata.id"], service.body["Sessions"]["@odata.id"]);
}

/// DSP0266 Service root request, Response headers: every response carries OData-Version 4.0, errors included.
#[tokio::test]
async fn every_answer_carries_odata_version() {
    let dev = device();
    let (token, location) = session(&dev, ADMIN).await;
    let replies = [
        get("/redfish/v1/").send(&dev).await,
        get("/redfish/v1/SessionService").send(&dev).await,
        get("/redfish/v1/Nope").send(&dev).await,
        req(Method::PUT, "/redfish/v1/").send(&dev).await,
        get(&location).token(&token).send(&dev).await,
        req(Method::DELETE, &location).token(&token).send(&dev).await,
    ];
    for reply in replies {
        assert_eq!(reply.header("odata-version"), Some("4.0"), "status {}", reply.status);
        assert_eq!(reply.header("server"), Some("sessionlab-redfish"));
    }
}

/// DSP0266 Service root request, Response headers: GET and HEAD answers carry Allow, the same list a 405 gives.
#[tokio::test]
async fn get_and_head_carry_allow_matching_405() {
    let dev = device();
    for uri in [
        "/redfish/v1/",
        "/redfish/v1/SessionService",
        "/redfish/v1/SessionService/Sessions",
        "/redfish/v1/AccountService/Accounts/admin",
        "/redfish/v1/Managers/1",
    ] {
        let got = get(uri).basic(ADMIN).send(&dev).await;
        assert_eq!(got.status, StatusCode::OK, "{uri}");
        let head = req(Method::HEAD, uri).basic(ADMIN).send(&dev).await;
        assert_eq!(head.status, StatusCode::OK, "{uri}");
        assert!(head.raw.is_empty(), "HEAD {uri} has a body");
        let refused = req(Method::PUT, uri).basic(ADMIN).send(&dev).await;
        assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED, "{uri}");
        assert!(got.header("allow").is_some(), "{uri}");
        assert_eq!(got.header("allow"), head.header("allow"), "{uri}");
        assert_eq!(got.header("allow"), refused.header("allow"), "{uri}");
    }
}

/// DSP0266 Link header: GET and HEAD answers carry `Link: <schema>; rel=describedby`, the
/// schema versioned as the body's `@odata.type`; errors and the unversioned documents do not.
#[tokio::test]
async fn get_and_head_carry_a_describedby_link() {
    let dev = device();
    let (token, location) = session(&dev, ADMIN).await;
    for uri in [
        "/redfish/v1/",
        "/redfish/v1/SessionService",
        "/redfish/v1/SessionService/Sessions",
        location.as_str(),
        "/redfish/v1/AccountService",
        "/redfish/v1/AccountService/Accounts",
        "/redfish/v1/AccountService/Accounts/admin",
        "/redfish/v1/AccountService/Roles",
        "/redfish/v1/AccountService/Roles/Administrator",
        "/redfish/v1/Managers",
        "/redfish/v1/Managers/1",
    ] {
        let got = get(uri).token(&token).send(&dev).await;
        assert_eq!(got.status, StatusCode::OK, "{uri}");
        let odata_type = got.body["@odata.type"].as_str().expect("@odata.type");
        let (namespace, name) = odata_type.trim_start_matches('#').rsplit_once('.').expect("type");
        let schema = if namespace == name { name } else { namespace };
        let expected =
            format!("<http://redfish.dmtf.org/schemas/v1/{schema}.json>; rel=describedby");
        assert_eq!(got.header("link"), Some(expected.as_str()), "GET {uri}");
        let head = req(Method::HEAD, uri).token(&token).send(&dev).await;
        assert_eq!(head.header("link"), Some(expected.as_str()), "HEAD {uri}");
    }
    assert_eq!(get("/redfish/v1/Session").send(&dev).await.header("link"), None);
    assert_eq!(get("/redfish/v1/SessionService").send(&dev).await.header("link"), None);
    assert_eq!(get("/redfish").send(&dev).await.header("link"), None);
}

/// DSP0266 POST (create): a POST to `Sessions/Members` logs in exactly as a POST to the
/// Sessions collection ("Services that support the addition of Members ... shall support both forms").
#[tokio::test]
async fn post_to_sessions_members_logs_in() {
    let dev = device();
    let reply = req(Method::POST, "/redfish/v1/SessionService/Sessions/Members")
        .json(&json!({ "UserName": ADMIN.0, "Password": ADMIN.1 }))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let token = reply.header("x-auth-token").expect("X-Auth-Token");
    assert_hex32(token);
    let location = reply.header("location").expect("Location");
    assert_eq!(reply.body["@odata.id"], location);
    assert!(location.starts_with("/redfish/v1/SessionService/Sessions/"), "{location}");
    assert!(!location.ends_with("/Members"), "{location}");
    let via_collection = login(&dev, ADMIN).await;
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(keys(&reply.body), keys(&via_collection.body));
    let member = get(location).token(token).send(&dev).await;
    assert_eq!(member.status, StatusCode::OK);
    assert_eq!(member.body["UserName"], ADMIN.0);
    let listed = get("/redfish/v1/SessionService/Sessions").token(token).send(&dev).await;
    assert_eq!(listed.body["Members@odata.count"], 2);
    let refused = req(Method::POST, "/redfish/v1/SessionService/Sessions/Members")
        .json(&json!({ "UserName": ADMIN.0, "Password": "wrong" }))
        .send(&dev)
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let out = req(Method::DELETE, location).token(token).send(&dev).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
}

/// DSP0266 POST (create): a POST to `Accounts/Members` creates an account exactly as a POST
/// to the Accounts collection, with the same privilege check.
#[tokio::test]
async fn post_to_accounts_members_creates_an_account() {
    let dev = device();
    let body = json!({ "UserName": "newbie", "Password": "sessionlab1", "RoleId": "ReadOnly" });
    let denied = req(Method::POST, "/redfish/v1/AccountService/Accounts/Members")
        .basic(READONLY)
        .json(&body)
        .send(&dev)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let created = req(Method::POST, "/redfish/v1/AccountService/Accounts/Members/")
        .basic(ADMIN)
        .json(&body)
        .send(&dev)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.header("location"), Some("/redfish/v1/AccountService/Accounts/newbie"));
    assert_eq!(created.body["RoleId"], "ReadOnly");
    let newbie = session(&dev, ("newbie", "sessionlab1")).await;
    assert!(!newbie.0.is_empty());
}

/// DSP0266 Request headers: an unsupported OData-Version gets 412, in the DSP0266 error envelope.
#[tokio::test]
async fn unsupported_odata_version_is_refused() {
    let dev = device();
    let reply = get("/redfish/v1/").header("OData-Version", "4.1").send(&dev).await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(reply.message_ids(), ["Base.1.18.HeaderInvalid"]);
    let fine = get("/redfish/v1/").header("OData-Version", "4.0").send(&dev).await;
    assert_eq!(fine.status, StatusCode::OK);
}

// ----- sessions -----

/// DSP0266 Redfish login sessions: login answers 201 with X-Auth-Token, Location and the full session, no Set-Cookie.
#[tokio::test]
async fn login_answer_is_pinned() {
    let dev = device();
    let reply = login(&dev, ADMIN).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert!(reply.header("set-cookie").is_none());
    assert_eq!(reply.header("location"), reply.body["@odata.id"].as_str());
    insta::assert_json_snapshot!("login", reply.view(&with(&["x-auth-token", "location", "set-cookie"])), {
        ".headers[\"x-auth-token\"]" => insta::dynamic_redaction(token_redaction),
        ".headers.location" => "[session-uri]",
        ".body[\"@odata.id\"]" => "[session-uri]",
        ".body.Id" => "[id]",
        ".body.CreatedTime" => "[time]",
    });
}

/// DSP0266 Redfish login sessions: the session member shows the session, never its token or password.
#[tokio::test]
async fn session_member_is_pinned() {
    let dev = device();
    let (token, location) = session(&dev, OPERATOR).await;
    let reply = get(&location).token(&token).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&reply.raw).contains(&token));
    assert_eq!(reply.body["Password"], Value::Null);
    insta::assert_json_snapshot!("session_member", reply.view(&COMMON), {
        ".body[\"@odata.id\"]" => "[session-uri]",
        ".body.Id" => "[id]",
        ".body.CreatedTime" => "[time]",
    });
}

/// DSP0266 Redfish login sessions: two logins get different Locations and `Members@odata.count` equals the members.
#[tokio::test]
async fn session_collection_is_pinned() {
    let dev = device();
    let (token, first) = session(&dev, ADMIN).await;
    let (_, second) = session(&dev, READONLY).await;
    assert_ne!(first, second);
    let reply = get("/redfish/v1/SessionService/Sessions").token(&token).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    let members = reply.body["Members"].as_array().expect("members");
    assert_eq!(reply.body["Members@odata.count"], json!(members.len()));
    assert_eq!(members.len(), 2);
    insta::assert_json_snapshot!("session_collection", reply.view(&COMMON), {
        ".body.Members[][\"@odata.id\"]" => "[session-uri]",
    });
}

/// DSP0266 Redfish login sessions: SessionService shows SessionTimeout in seconds and links the Sessions collection.
#[tokio::test]
async fn session_service_is_pinned() {
    let dev = device();
    let reply = get("/redfish/v1/SessionService").basic(READONLY).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!("session_service", reply.view(&COMMON));
}

/// DSP0266 Redfish login sessions: logout deletes the session's URI and the token is rejected afterwards.
#[tokio::test]
async fn logout_kills_the_token() {
    let dev = device();
    let (token, location) = session(&dev, ADMIN).await;
    let bye = req(Method::DELETE, &location).token(&token).send(&dev).await;
    assert_eq!(bye.status, StatusCode::NO_CONTENT);
    let after = get("/redfish/v1/SessionService").token(&token).send(&dev).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.message_ids(), ["Base.1.18.NoValidSession"]);
    assert!(dev.store.list(dev.now()).is_empty());
}

/// DSP0266 Redfish login sessions: SessionTimeout accepts 30..86400 seconds and refuses the rest with a Base message.
#[tokio::test]
async fn session_timeout_patch_is_range_checked() {
    let dev = device();
    for (value, id) in [
        (json!(29), "Base.1.18.PropertyValueOutOfRange"),
        (json!(86_401), "Base.1.18.PropertyValueOutOfRange"),
        (json!("600"), "Base.1.18.PropertyValueTypeError"),
        (json!(60.5), "Base.1.18.PropertyValueTypeError"),
    ] {
        let reply = req(Method::PATCH, "/redfish/v1/SessionService")
            .basic(ADMIN)
            .json(&json!({ "SessionTimeout": value }))
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{value}");
        assert_eq!(reply.message_ids(), [id], "{value}");
    }
    let out_of_range = req(Method::PATCH, "/redfish/v1/SessionService")
        .basic(ADMIN)
        .json(&json!({ "SessionTimeout": 10 }))
        .send(&dev)
        .await;
    insta::assert_json_snapshot!("error_session_timeout_out_of_range", out_of_range.view(&COMMON));
    let fine = req(Method::PATCH, "/redfish/v1/SessionService")
        .basic(ADMIN)
        .json(&json!({ "SessionTimeout": 30 }))
        .send(&dev)
        .await;
    assert_eq!(fine.status, StatusCode::OK);
    assert_eq!(fine.body["SessionTimeout"], 30);
    let readonly = req(Method::PATCH, "/redfish/v1/SessionService")
        .basic(READONLY)
        .json(&json!({ "SessionTimeout": 60 }))
        .send(&dev)
        .await;
    assert_eq!(readonly.status, StatusCode::FORBIDDEN);
}

// ----- authentication errors -----

/// DSP0266 Authentication: a failed login gets 401, WWW-Authenticate and a message that says nothing privileged.
#[tokio::test]
async fn failed_login_is_pinned() {
    let dev = device();
    let reply = login(&dev, ("admin", "wrong")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let unknown_user = login(&dev, ("nobody", "wrong")).await;
    assert_eq!(reply.body, unknown_user.body, "unknown user and wrong password look alike");
    insta::assert_json_snapshot!("error_login_failed", reply.view(&with(&["www-authenticate"])));
}

/// DSP0266 Redfish login sessions: a dead token gets 401 NoValidSession with WWW-Authenticate.
#[tokio::test]
async fn dead_token_is_pinned() {
    let dev = device();
    let (token, location) = session(&dev, ADMIN).await;
    req(Method::DELETE, &location).token(&token).send(&dev).await;
    let reply = get("/redfish/v1/Managers").token(&token).send(&dev).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("error_dead_token", reply.view(&with(&["www-authenticate"])));
}

/// DSP0266 Authentication: every other resource, read or write, needs authentication.
#[tokio::test]
async fn protected_resources_need_credentials() {
    let dev = device();
    for (method, uri) in [
        (Method::GET, "/redfish/v1/SessionService"),
        (Method::GET, "/redfish/v1/SessionService/Sessions"),
        (Method::GET, "/redfish/v1/AccountService"),
        (Method::GET, "/redfish/v1/AccountService/Accounts"),
        (Method::GET, "/redfish/v1/AccountService/Roles"),
        (Method::GET, "/redfish/v1/Managers/1"),
        (Method::DELETE, "/redfish/v1/SessionService/Sessions/1"),
        (Method::POST, "/redfish/v1/Managers/1/Actions/Manager.Reset"),
    ] {
        let reply = req(method.clone(), uri).send(&dev).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Basic realm=\"RedfishService\""),
            "{method} {uri}"
        );
        assert_eq!(reply.message_ids(), ["Base.1.18.NoValidSession"], "{method} {uri}");
    }
}

/// DSP0266 Authentication: cookies never authenticate anything.
#[tokio::test]
async fn cookies_never_authenticate() {
    let dev = device();
    let (token, _) = session(&dev, ADMIN).await;
    for cookie in
        [format!("X-Auth-Token={token}"), format!("SESSION={token}"), format!("sessionKey={token}")]
    {
        let reply = get("/redfish/v1/SessionService").header("cookie", &cookie).send(&dev).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{cookie}");
    }
}

/// DSP0266 Authentication: garbage in Authorization gets 401 in the Redfish envelope.
#[tokio::test]
async fn garbage_authorization_gets_the_envelope() {
    let dev = device();
    for value in ["Basic", "Basic !!!not-base64", "Bearer abc", "Basic YWRtaW4=", "Digest x=y"] {
        let reply = get("/redfish/v1/SessionService")
            .header(header::AUTHORIZATION.as_str(), value)
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(reply.message_ids(), ["Base.1.18.NoValidSession"], "{value}");
        assert!(reply.header("www-authenticate").is_some(), "{value}");
    }
}

/// DSP0266 Authentication: Basic works without creating a session, and its one-request session ends with the request.
#[tokio::test]
async fn basic_request_leaves_no_session() {
    let dev = device();
    let reply = get("/redfish/v1/SessionService/Sessions").basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["Members@odata.count"], 0);
    let failed = get("/redfish/v1/Nope/Not/Here").basic(ADMIN).send(&dev).await;
    assert_eq!(failed.status, StatusCode::NOT_FOUND);
    let refused = req(Method::PATCH, "/redfish/v1/SessionService")
        .basic(READONLY)
        .json(&json!({ "SessionTimeout": 60 }))
        .send(&dev)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(dev.store.list(dev.now()).is_empty());
    let ended = dev
        .store
        .events(dev.now())
        .into_iter()
        .filter(|e| {
            e.one_request
                && e.kind
                    == emulator::session::EventKind::Ended {
                        reason: emulator::session::EndReason::RequestEnd,
                    }
        })
        .count();
    assert_eq!(ended, 2, "both Basic requests opened and ended a one-request session");
}

/// RFC 9110 5.6.7 (Date): the personality's router answers as a listener serves it, with the device clock's `Date`.
#[tokio::test]
async fn the_router_dates_its_answers_by_the_devices_clock() {
    let dev = device();
    dev.clock().advance(Duration::from_secs(86_400 + 5)).expect("virtual");
    let reply = get("/redfish/v1").send(&dev).await;
    assert_eq!(reply.header("date"), Some("Fri, 02 Jan 2026 00:00:05 GMT"));
}

/// DSP0266 Redfish login sessions: a full table refuses login with the Base registry's SessionLimitExceeded (503 here).
#[tokio::test]
async fn session_limit_is_pinned() {
    let dev = device();
    for _ in 0..16 {
        session(&dev, OPERATOR).await;
    }
    let reply = login(&dev, ADMIN).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.header("x-auth-token").is_none());
    insta::assert_json_snapshot!("error_session_limit", reply.view(&COMMON));
}

// ----- request errors -----

/// DSP0266 Error responses: an unknown path gets 404 in the envelope.
#[tokio::test]
async fn unknown_path_is_pinned() {
    let dev = device();
    let reply = get("/redfish/v1/Systems/NoSuchThing").send(&dev).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("error_not_found", reply.view(&COMMON));
}

/// DSP0266 Service root request, Response headers: a 405 carries Allow with the valid methods, in the envelope.
#[tokio::test]
async fn wrong_method_is_pinned() {
    let dev = device();
    let reply = req(Method::DELETE, "/redfish/v1/SessionService").basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    insta::assert_json_snapshot!("error_method_not_allowed", reply.view(&COMMON));
}

/// DSP0266 Error responses: malformed JSON gets 400 MalformedJSON.
#[tokio::test]
async fn malformed_json_is_pinned() {
    let dev = device();
    let reply = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .raw("application/json", "{\"UserName\": \"admin\", ")
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("error_malformed_json", reply.view(&COMMON));
}

/// DSP0266 Error responses: a missing property gets 400 PropertyMissing.
#[tokio::test]
async fn missing_property_is_pinned() {
    let dev = device();
    let reply = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .json(&json!({ "UserName": "admin" }))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("error_property_missing", reply.view(&COMMON));
}

/// DSP0266 Error responses: wrong types and unknown properties each get their message, passwords never echoed.
#[tokio::test]
async fn wrong_types_and_unknown_properties_are_listed() {
    let dev = device();
    let reply = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .json(&json!({ "UserName": 7, "Password": ["hunter2"], "Bogus": true }))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(!String::from_utf8_lossy(&reply.raw).contains("hunter2"));
    insta::assert_json_snapshot!("error_property_types", reply.view(&COMMON));
}

/// DSP0266 Error responses: a body of another content type gets 415, an oversized one 413, both in the envelope.
#[tokio::test]
async fn content_type_and_size_are_enforced() {
    let dev = device();
    let form = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .raw("application/x-www-form-urlencoded", "UserName=admin&Password=sessionlab")
        .send(&dev)
        .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(form.message_ids(), ["Base.1.18.HeaderInvalid"]);
    let big = format!("{{\"UserName\": \"{}\", \"Password\": \"x\"}}", "a".repeat(70_000));
    let large = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .raw("application/json; charset=utf-8", big)
        .send(&dev)
        .await;
    assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE);
    insta::assert_json_snapshot!("error_payload_too_large", large.view(&COMMON));
    let array = req(Method::POST, "/redfish/v1/SessionService/Sessions")
        .raw("application/json", "[1, 2]")
        .send(&dev)
        .await;
    assert_eq!(array.status, StatusCode::BAD_REQUEST);
    assert_eq!(array.message_ids(), ["Base.1.18.UnrecognizedRequestBody"]);
}

// ----- accounts and privileges -----

/// DSP0266 Account service, Privilege model: the account shows its RoleId, ETag and @odata.etag, and no password.
#[tokio::test]
async fn account_member_is_pinned() {
    let dev = device();
    let reply =
        get("/redfish/v1/AccountService/Accounts/operator").basic(OPERATOR).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("etag"), reply.body["@odata.etag"].as_str());
    insta::assert_json_snapshot!("account_member", reply.view(&with(&["etag"])));
}

/// DSP0266 Account service, Privilege model: Administrator, Operator and ReadOnly exist with fixed AssignedPrivileges.
#[tokio::test]
async fn standard_roles_are_pinned() {
    let dev = device();
    let list = get("/redfish/v1/AccountService/Roles").basic(READONLY).send(&dev).await;
    assert_eq!(list.body["Members@odata.count"], 3);
    let mut roles = serde_json::Map::new();
    for id in ["Administrator", "Operator", "ReadOnly"] {
        let role =
            get(&format!("/redfish/v1/AccountService/Roles/{id}")).basic(READONLY).send(&dev).await;
        assert_eq!(role.status, StatusCode::OK, "{id}");
        roles.insert(id.to_string(), role.body["AssignedPrivileges"].clone());
    }
    insta::assert_json_snapshot!("role_privileges", roles);
    let patch = req(Method::PATCH, "/redfish/v1/AccountService/Roles/ReadOnly")
        .basic(ADMIN)
        .json(&json!({ "AssignedPrivileges": ["Login", "ConfigureUsers"] }))
        .send(&dev)
        .await;
    assert_eq!(patch.status, StatusCode::METHOD_NOT_ALLOWED, "roles cannot be changed");
}

/// DSP0266 Account service, Privilege model: a ReadOnly account cannot PATCH another account: 403 InsufficientPrivilege.
#[tokio::test]
async fn readonly_patching_another_account_is_pinned() {
    let dev = device();
    let reply = req(Method::PATCH, "/redfish/v1/AccountService/Accounts/operator")
        .basic(READONLY)
        .json(&json!({ "Password": "new-password" }))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("error_insufficient_privilege", reply.view(&COMMON));
    assert!(dev.store.account("operator").is_some_and(|a| a.version == 1), "nothing changed");
}

/// DSP0266 Account service, Privilege model: ReadOnly and Operator cannot create accounts or change roles; an Administrator can.
#[tokio::test]
async fn operation_to_privilege_mapping_is_enforced() {
    let dev = device();
    let new = json!({ "UserName": "ops", "Password": "pw-ops-1", "RoleId": "Operator" });
    for who in [READONLY, OPERATOR] {
        let reply = req(Method::POST, "/redfish/v1/AccountService/Accounts")
            .basic(who)
            .json(&new)
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", who.0);
        assert_eq!(reply.message_ids(), ["Base.1.18.InsufficientPrivilege"]);
    }
    let own_role = req(Method::PATCH, "/redfish/v1/AccountService/Accounts/readonly")
        .basic(READONLY)
        .json(&json!({ "RoleId": "Administrator" }))
        .send(&dev)
        .await;
    assert_eq!(own_role.status, StatusCode::FORBIDDEN);
    let other = get("/redfish/v1/AccountService/Accounts/admin").basic(OPERATOR).send(&dev).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let reset = req(Method::POST, "/redfish/v1/Managers/1/Actions/Manager.Reset")
        .basic(OPERATOR)
        .json(&json!({ "ResetType": "GracefulRestart" }))
        .send(&dev)
        .await;
    assert_eq!(reset.status, StatusCode::FORBIDDEN);

    let created = req(Method::POST, "/redfish/v1/AccountService/Accounts")
        .basic(ADMIN)
        .json(&new)
        .send(&dev)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.header("location"), Some("/redfish/v1/AccountService/Accounts/ops"));
    assert_eq!(created.body["RoleId"], "Operator");
    let again = req(Method::POST, "/redfish/v1/AccountService/Accounts")
        .basic(ADMIN)
        .json(&new)
        .send(&dev)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.message_ids(), ["Base.1.18.ResourceAlreadyExists"]);
    let bad_role = req(Method::POST, "/redfish/v1/AccountService/Accounts")
        .basic(ADMIN)
        .json(&json!({ "UserName": "x", "Password": "y", "RoleId": "Root" }))
        .send(&dev)
        .await;
    assert_eq!(bad_role.message_ids(), ["Base.1.18.PropertyValueNotInList"]);
    let listed = get("/redfish/v1/AccountService/Accounts").basic(READONLY).send(&dev).await;
    assert_eq!(listed.body["Members@odata.count"], 1, "ReadOnly sees its own account only");
}

/// DSP0266 Account service, Privilege model: PATCH with a stale If-Match gets 412 and changes nothing.
#[tokio::test]
async fn stale_if_match_is_pinned() {
    let dev = device();
    let uri = "/redfish/v1/AccountService/Accounts/operator";
    let first = get(uri).basic(ADMIN).send(&dev).await;
    let stale = first.header("etag").expect("etag").to_string();
    let changed = req(Method::PATCH, uri)
        .basic(ADMIN)
        .header("If-Match", &stale)
        .json(&json!({ "Enabled": true }))
        .send(&dev)
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(stale.as_str()), "the ETag changes with the account");
    let reply = req(Method::PATCH, uri)
        .basic(ADMIN)
        .header("If-Match", &stale)
        .json(&json!({ "Password": "never-set" }))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    insta::assert_json_snapshot!("error_precondition_failed", reply.view(&COMMON));
    assert_eq!(login(&dev, OPERATOR).await.status, StatusCode::CREATED, "password unchanged");
}

/// DSP0266 Authentication: If-None-Match never reveals a 304 to an unauthenticated client.
#[tokio::test]
async fn if_none_match_needs_authentication_first() {
    let dev = device();
    let uri = "/redfish/v1/AccountService/Accounts/admin";
    let etag = get(uri).basic(ADMIN).send(&dev).await.header("etag").expect("etag").to_string();
    let anonymous = get(uri).header("If-None-Match", &etag).send(&dev).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let known = get(uri).basic(ADMIN).header("If-None-Match", &etag).send(&dev).await;
    assert_eq!(known.status, StatusCode::NOT_MODIFIED);
}

/// DSP0266 Password change required handling: a PasswordChangeRequired account logs in with the message, and gets 403 elsewhere.
#[tokio::test]
async fn password_change_required_is_pinned() {
    let dev = device();
    let mut account = Account::new("fresh", "factory-default", "Operator");
    account.password_change_required = true;
    dev.store.add_account(account).expect("added");
    let reply = login(&dev, ("fresh", "factory-default")).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.message_ids(), ["Base.1.18.PasswordChangeRequired"]);
    insta::assert_json_snapshot!("login_password_change_required", reply.view(&COMMON), {
        ".body[\"@odata.id\"]" => "[session-uri]",
        ".body.Id" => "[id]",
        ".body.CreatedTime" => "[time]",
    });
    let token = reply.header("x-auth-token").expect("token").to_string();
    let own = get("/redfish/v1/AccountService/Accounts/fresh").token(&token).send(&dev).await;
    assert_eq!(own.status, StatusCode::OK);
    let elsewhere = get("/redfish/v1/SessionService/Sessions").token(&token).send(&dev).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("error_password_change_required", elsewhere.view(&COMMON));
    let location = reply.header("location").expect("location").to_string();
    let logout = req(Method::DELETE, &location).token(&token).send(&dev).await;
    assert_eq!(
        logout.status,
        StatusCode::FORBIDDEN,
        "logout is not among the requests DSP0266 allows"
    );
}

/// DSP0266 Error responses: a Manager.Reset with a bad ResetType gets 400 and restarts nothing.
#[tokio::test]
async fn manager_reset_checks_its_parameters() {
    let dev = device();
    let (token, _) = session(&dev, ADMIN).await;
    let uri = "/redfish/v1/Managers/1/Actions/Manager.Reset";
    let bad =
        req(Method::POST, uri).token(&token).json(&json!({ "ResetType": "On" })).send(&dev).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.message_ids(), ["Base.1.18.ActionParameterValueNotInList"]);
    let unknown =
        req(Method::POST, uri).token(&token).json(&json!({ "Force": 1 })).send(&dev).await;
    assert_eq!(unknown.message_ids(), ["Base.1.18.ActionParameterUnknown"]);
    let get_action = get(uri).token(&token).send(&dev).await;
    assert_eq!(get_action.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get_action.header("allow"), Some("POST"));
    assert_eq!(dev.store.list(dev.now()).len(), 1, "no restart happened");
    let manager = get("/redfish/v1/Managers/1").token(&token).send(&dev).await;
    assert_eq!(manager.body["Actions"]["#Manager.Reset"]["target"], uri);
    let done = req(Method::POST, uri).token(&token).send(&dev).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "an empty body is a default reset");
    assert!(dev.store.list(dev.now()).is_empty());
}

/// DSP0266 Redfish login sessions: a session unused for SessionTimeout seconds ends (virtual clock, no sleeping).
#[tokio::test]
async fn idle_session_ends_at_its_timeout() {
    let dev = device();
    let (token, _) = session(&dev, ADMIN).await;
    dev.clock().advance(Duration::from_secs(1799)).expect("virtual");
    let alive = get("/redfish/v1/SessionService").token(&token).send(&dev).await;
    assert_eq!(alive.status, StatusCode::OK);
    dev.clock().advance(Duration::from_secs(1800)).expect("virtual");
    let dead = get("/redfish/v1/SessionService").token(&token).send(&dev).await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED);
}

/// Issue requirement (DSP0266 Authentication: a failure says nothing privileged): no password or token in any log line.
#[test]
fn logs_never_show_passwords_or_tokens() {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let token = tracing::subscriber::with_default(subscriber, || {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let dev = device();
            dev.store
                .add_account(Account::new("quiet", "Pa55-quiet-word", "Operator"))
                .expect("add");
            let (token, location) = session(&dev, ("quiet", "Pa55-quiet-word")).await;
            login(&dev, ("quiet", "Wr0ng-quiet-word")).await;
            get("/redfish/v1/Managers").basic(("quiet", "Pa55-quiet-word")).send(&dev).await;
            get("/redfish/v1/Managers").basic(("quiet", "Wr0ng-quiet-word")).send(&dev).await;
            req(Method::PATCH, "/redfish/v1/AccountService/Accounts/quiet")
                .token(&token)
                .json(&json!({ "Password": "N3w-quiet-word" }))
                .send(&dev)
                .await;
            req(Method::DELETE, &location).token(&token).send(&dev).await;
            get("/redfish/v1/Managers").token(&token).send(&dev).await;
            token
        })
    });
    let logs = String::from_utf8(sink.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("redfish"), "the subscriber saw the requests: {logs}");
    for secret in ["Pa55-quiet-word", "Wr0ng-quiet-word", "N3w-quiet-word", token.as_str()] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs:\n{logs}");
    }
}

fn device_with(change: impl FnOnce(&mut Profile)) -> DeviceHandle {
    let mut profile = Profile::embedded("redfish").expect("embedded profile");
    change(&mut profile);
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle("redfish", Arc::new(profile), Clock::virtual_at(start), Some(7))
}

/// DSP0266 Redfish login sessions: a profile with a maximum lifetime shows AbsoluteSessionTimeout and Session.ExpirationTime (2024.4).
#[tokio::test]
async fn modelled_lifetime_is_exposed_in_the_2024_4_properties() {
    let plain = device();
    let service = get("/redfish/v1/SessionService").basic(ADMIN).send(&plain).await;
    assert!(service.body.get("AbsoluteSessionTimeout").is_none(), "no lifetime, none shown");

    let dev = device_with(|p| p.session.max_lifetime_secs = 3600);
    let service = get("/redfish/v1/SessionService").basic(ADMIN).send(&dev).await;
    assert_eq!(service.body["@odata.type"], "#SessionService.v1_2_0.SessionService");
    assert_eq!(service.body["AbsoluteSessionTimeout"], 3600);
    assert_eq!(service.body["AbsoluteSessionTimeoutEnabled"], true);
    let (token, location) = session(&dev, ADMIN).await;
    let member = get(&location).token(&token).send(&dev).await;
    assert_eq!(member.body["@odata.type"], "#Session.v1_8_0.Session");
    assert_eq!(member.body["CreatedTime"], "2026-01-01T00:00:00+00:00");
    assert_eq!(member.body["ExpirationTime"], "2026-01-01T01:00:00+00:00");
}

/// DSP0266 Redfish login sessions: the SessionLimitExceeded status, the realm, the registry and the logout answer are profile knobs.
#[tokio::test]
async fn settings_shape_the_wire() {
    let dev = device_with(|p| {
        let settings = p.redfish.get_or_insert_with(Default::default);
        settings.session_limit_status = 403;
        settings.auth_realm = "iLO".to_string();
        settings.base_registry = "Base.1.16".to_string();
        settings.logout_status = 200;
        settings.server_header = String::new();
        p.session.max_total = Some(1);
    });
    let (token, location) = session(&dev, ADMIN).await;
    let full = login(&dev, OPERATOR).await;
    assert_eq!(full.status, StatusCode::FORBIDDEN);
    assert_eq!(full.message_ids(), ["Base.1.16.SessionLimitExceeded"]);
    assert!(full.header("server").is_none());
    let bye = req(Method::DELETE, &location).token(&token).send(&dev).await;
    assert_eq!(bye.status, StatusCode::OK);
    assert_eq!(bye.message_ids(), ["Base.1.16.SessionTerminated"]);
    let dead = get("/redfish/v1/Managers").token(&token).send(&dev).await;
    assert_eq!(dead.header("www-authenticate"), Some("Basic realm=\"iLO\""));
}

/// DSP0266 Redfish login sessions: an administrator may end another user's session; an operator may not.
#[tokio::test]
async fn ending_another_users_session_needs_configure_manager() {
    let dev = device();
    let (_, readonly_session) = session(&dev, READONLY).await;
    let (operator_token, _) = session(&dev, OPERATOR).await;
    let refused = req(Method::DELETE, &readonly_session).token(&operator_token).send(&dev).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.message_ids(), ["Base.1.18.InsufficientPrivilege"]);
    let done = req(Method::DELETE, &readonly_session).basic(ADMIN).send(&dev).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT);
    let ended = dev.store.events(dev.now()).into_iter().any(|e| {
        e.kind
            == emulator::session::EventKind::Ended {
                reason: emulator::session::EndReason::AdminDelete,
            }
    });
    assert!(ended, "logged as an administrator's delete, not a logout");
    let missing = get(&readonly_session).basic(ADMIN).send(&dev).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.message_ids(), ["Base.1.18.ResourceNotFound"]);
}
