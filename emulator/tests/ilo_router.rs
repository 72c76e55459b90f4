//! The HPE iLO router, driven in-process with `tower::ServiceExt::oneshot`, once per
//! profile (`ilo4`, `ilo5`, `ilo6`).
//!
//! Each test cites the clause of `shared/vendors/ilo-idrac.md` (Part 1) it checks. Every
//! iLO body and header set is pinned with an insta JSON snapshot per profile
//! (`tests/snapshots/ilo_router__<name>@<profile>.snap`); session ids, tokens, times and
//! resource ETags are redacted by dynamic redactions that first assert their shape.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use chrono::{DateTime, TimeZone as _, Utc};
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::session::{ClientInfo, EndReason, EventKind};
use emulator::vendors::http::{Connection, ListenerScheme};
use emulator::vendors::ilo;
use http_body_util::BodyExt as _;
use insta::internals::{Content, ContentPath};
use serde_json::{json, Value};
use tower::ServiceExt as _;

const PROFILES: [&str; 3] = ["ilo4", "ilo5", "ilo6"];
const ADMIN: (&str, &str) = ("Administrator", "sessionlab");
const OPERATOR: (&str, &str) = ("operator", "sessionlab");
const SESSIONS: &str = "/redfish/v1/SessionService/Sessions/";
/// The clock every device starts at: 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;

fn device(profile: &str) -> DeviceHandle {
    let profile = Arc::new(Profile::embedded(profile).expect("embedded profile"));
    let start = Utc.timestamp_opt(START, 0).single().expect("date");
    let name = profile.name.clone();
    Device::handle(&name, profile, Clock::virtual_at(start), Some(7))
}

fn oem(dev: &DeviceHandle) -> &'static str {
    if dev.profile().name == "ilo4" {
        "Hp"
    } else {
        "Hpe"
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    raw: Vec<u8>,
}

/// Headers every iLO snapshot shows when present.
const HEADERS: [&str; 16] = [
    "allow",
    "cache-control",
    "content-type",
    "etag",
    "link",
    "location",
    "odata-version",
    "server",
    "set-cookie",
    "www-authenticate",
    "x-auth-token",
    "x-content-type-options",
    "x-frame-options",
    "x-xss-protection",
    "x_hp-chrp-service-version",
    "content-length",
];

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn view(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for name in HEADERS.iter().filter(|n| **n != "content-length") {
            if let Some(value) = self.header(name) {
                headers.insert((*name).to_string(), json!(value));
            }
        }
        json!({ "status": self.status.as_u16(), "headers": headers, "body": self.body })
    }

    /// The message ids of the envelope, whichever spelling of the key the profile uses.
    fn message_ids(&self) -> Vec<String> {
        let info =
            self.body["error"]["@Message.ExtendedInfo"].as_array().cloned().unwrap_or_default();
        info.iter()
            .filter_map(|m| m.get("MessageId").or_else(|| m.get("MessageID")))
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    fn token(&self) -> String {
        self.header("x-auth-token").expect("X-Auth-Token").to_string()
    }

    /// The session path of a login's absolute `Location`.
    fn session_path(&self) -> String {
        let location = self.header("location").expect("Location");
        let path =
            location.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]));
        path.expect("absolute URL").to_string()
    }
}

struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

fn req(method: Method, uri: &str) -> Req {
    let builder = Request::builder().method(method).uri(uri).header(header::HOST, "127.0.0.1");
    Req { builder, body: Body::empty() }
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

    fn json(mut self, body: &Value) -> Req {
        self.builder = self.builder.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    async fn send(self, dev: &DeviceHandle) -> Reply {
        let mut request = self.builder.body(self.body).expect("request");
        let peer = SocketAddr::from(([127, 0, 0, 1], 50_000));
        // As a real iLO is reached: over TLS (the listener says so in every request).
        request.extensions_mut().insert(Connection::new(peer, ListenerScheme::Https));
        let response = ilo::router(dev.clone()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, raw }
    }
}

async fn login(dev: &DeviceHandle, (user, password): (&str, &str)) -> Reply {
    req(Method::POST, SESSIONS)
        .json(&json!({ "UserName": user, "Password": password }))
        .send(dev)
        .await
}

/// Logs in and returns (token, session path).
async fn session(dev: &DeviceHandle, who: (&str, &str)) -> (String, String) {
    let reply = login(dev, who).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (reply.token(), reply.session_path())
}

fn advance(dev: &DeviceHandle, secs: u64) {
    dev.clock().advance(Duration::from_secs(secs)).expect("virtual clock");
}

fn open(dev: &DeviceHandle) -> usize {
    dev.store.list(dev.now()).len()
}

// ----- shapes and redactions -----

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// ilo-idrac.md 1.2 [C]: the id is the user name, 16 hex digits of the login time in Unix
/// seconds (zero-padded), and 8 random hex digits.
fn assert_session_id(id: &str) {
    assert!(id.len() > 24, "{id:?}");
    let (user, tail) = id.split_at(id.len() - 24);
    assert!(["Administrator", "operator", "readonly"].contains(&user), "{id:?}");
    assert!(is_hex(tail, 24), "{id:?}");
    let secs = i64::from_str_radix(&tail[..16], 16).expect("hex");
    assert!((START..START + 10 * 86_400).contains(&secs), "{id:?}: login time {secs}");
}

/// A session's URI: `/redfish/v1/SessionService/Sessions/<id>/`.
fn assert_session_uri(uri: &str) {
    let id = uri
        .strip_prefix("/redfish/v1/SessionService/Sessions/")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("not a session URI with a trailing slash: {uri:?}"));
    assert_session_id(id);
}

fn session_uri_redaction(value: Content, _: ContentPath<'_>) -> String {
    let text = value.as_str().expect("string");
    if text == SESSIONS {
        return text.to_string();
    }
    let path = match text.split_once("://") {
        Some((scheme, rest)) => {
            assert!(scheme == "https" && rest.starts_with("127.0.0.1/"), "{text:?}");
            &rest[rest.find('/').expect("path")..]
        }
        None => text.trim_start_matches('<').split_once('>').map_or(text, |(p, _)| p),
    };
    assert_session_uri(path);
    if text.contains("://") {
        "https://127.0.0.1[session-uri]".to_string()
    } else if text.starts_with('<') {
        "<[session-uri]>; rel=self".to_string()
    } else {
        "[session-uri]".to_string()
    }
}

fn session_id_redaction(value: Content, _: ContentPath<'_>) -> String {
    assert_session_id(value.as_str().expect("string"));
    "[user+unix16+rand8]".to_string()
}

fn token_redaction(value: Content, _: ContentPath<'_>) -> String {
    assert!(is_hex(value.as_str().expect("string"), 32), "{value:?}");
    "[32 hex]".to_string()
}

fn time_redaction(value: Content, _: ContentPath<'_>) -> String {
    let text = value.as_str().expect("string");
    assert!(DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'), "{text:?}");
    assert_eq!(text.len(), 20, "seconds precision: {text:?}");
    "[time]".to_string()
}

/// Resource ETags are redacted (they hash the body); iLO's fixed ExtendedInfo ETag stays.
fn etag_redaction(value: Content, _: ContentPath<'_>) -> String {
    let text = value.as_str().expect("string");
    if text == "W/\"02C2D1BB\"" {
        return text.to_string();
    }
    let hex = text.strip_prefix("W/\"").and_then(|t| t.strip_suffix('"')).expect("weak etag");
    assert!(
        hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    "W/\"[8 HEX]\"".to_string()
}

/// Snapshot `reply` as `name@<profile>` with every redaction.
fn pin(profile: &str, name: &str, reply: &Reply) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_suffix(profile);
    settings.set_sort_maps(true);
    let uris = [
        ".headers.location",
        ".headers.link",
        ".body[\"@odata.id\"]",
        ".body.Members[][\"@odata.id\"]",
        ".body.Oem.*.Links.MySession[\"@odata.id\"]",
    ];
    for selector in uris {
        settings.add_dynamic_redaction(selector, session_uri_redaction);
    }
    settings.add_dynamic_redaction(".body.Id", session_id_redaction);
    settings.add_dynamic_redaction(".headers[\"x-auth-token\"]", token_redaction);
    for field in ["AccessTime", "LoginTime", "UserExpires", "Time"] {
        settings.add_dynamic_redaction(&format!(".body.Oem.*.{field}"), time_redaction);
    }
    settings.add_dynamic_redaction(".body[\"@odata.etag\"]", etag_redaction);
    settings.add_dynamic_redaction(".headers.etag", etag_redaction);
    settings.bind(|| insta::assert_json_snapshot!(name, reply.view()));
}

/// Session URIs are only redacted in session bodies; others keep their `@odata.id`.
fn pin_resource(profile: &str, name: &str, reply: &Reply) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_suffix(profile);
    settings.add_dynamic_redaction(".body.Oem.*.Time", time_redaction);
    settings.add_dynamic_redaction(".body.Time", time_redaction);
    settings.add_dynamic_redaction(".body[\"@odata.etag\"]", etag_redaction);
    settings.add_dynamic_redaction(".headers.etag", etag_redaction);
    settings.bind(|| insta::assert_json_snapshot!(name, reply.view()));
}

// ----- discovery -----

/// ilo-idrac.md 1.1 [C]: the service root as captured (RedfishVersion, Links.Sessions or iLO 4's links, Oem.Hpe.Sessions with LoginHint and LoginFailureDelay), without authentication.
#[tokio::test]
async fn service_root_is_public_and_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = get("/redfish/v1/").send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}");
        let sessions = &reply.body["Oem"][oem(&dev)]["Sessions"];
        assert_eq!(sessions["LoginFailureDelay"], 0, "{profile}");
        assert_eq!(
            sessions["LoginHint"]["HintPOSTData"],
            json!({"Password": "password", "UserName": "username"})
        );
        pin_resource(profile, "service_root", &reply);
    }
}

/// ilo-idrac.md 1.1 [C]: the captured roots link JsonSchemas and Registries (iLO 4 v2.54 also as links.Schemas and links.Registries), which HPE's iLOrest reads before it logs in ('ERROR: \'links\'' without them).
#[tokio::test]
async fn root_links_schemas_and_registries() {
    for profile in PROFILES {
        let dev = device(profile);
        let root = get("/redfish/v1/").send(&dev).await;
        let schemas =
            if profile == "ilo4" { "/redfish/v1/Schemas/" } else { "/redfish/v1/JsonSchemas/" };
        assert_eq!(root.body["JsonSchemas"]["@odata.id"], schemas, "{profile}");
        assert_eq!(root.body["Registries"]["@odata.id"], "/redfish/v1/Registries/", "{profile}");
        if profile == "ilo4" {
            assert_eq!(root.body["links"]["Schemas"]["href"], schemas);
            assert_eq!(root.body["links"]["Registries"]["href"], "/redfish/v1/Registries/");
        }
        for link in [schemas, "/redfish/v1/Registries/"] {
            let reply = get(link).basic(ADMIN).send(&dev).await;
            assert_eq!(reply.status, StatusCode::OK, "{profile} {link}");
            let members = reply.body["Members"].as_array().expect("Members").clone();
            assert_eq!(reply.body["Members@odata.count"], members.len());
            for member in members {
                let uri = member["@odata.id"].as_str().expect("member link");
                assert!(uri.starts_with(link) && uri.ends_with('/'), "{profile} {uri}");
                let reply = get(uri).basic(ADMIN).send(&dev).await;
                assert_eq!(reply.status, StatusCode::OK, "{profile} {uri}");
                assert_eq!(reply.body["@odata.id"], uri);
            }
        }
    }
}

/// ilo-idrac.md 1.1 [C]: the registry collection and file as captured on iLO 5 v2.55 (ISERVER UriRegistries.md), listing the Base and iLO registries whose message ids this firmware sends.
#[tokio::test]
async fn registries_are_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = get("/redfish/v1/Registries/").basic(ADMIN).send(&dev).await;
        pin_resource(profile, "registries", &reply);
        let reply = get("/redfish/v1/Registries/Base/").basic(ADMIN).send(&dev).await;
        assert_eq!(reply.body["Registry"], format!("{}.0", base(profile)));
        pin_resource(profile, "registry_base", &reply);
    }
}

/// The JSON schema collection lists one JsonSchemaFile per schema the device serves (HPE's iLO 6 JsonSchemaFile.v1_0_4 definition; store URIs /redfish/v1/SchemaStore/en/<Type>.json/ as in HPE's iLOrest debug log).
#[tokio::test]
async fn json_schemas_are_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let collection =
            if profile == "ilo4" { "/redfish/v1/Schemas/" } else { "/redfish/v1/JsonSchemas/" };
        let reply = get(collection).basic(ADMIN).send(&dev).await;
        pin_resource(profile, "json_schemas", &reply);
        let reply = get(&format!("{collection}Session/")).basic(ADMIN).send(&dev).await;
        pin_resource(profile, "json_schema_session", &reply);
    }
}

/// HPE's library reads both collections with ?$expand=. (the iLO 5 root advertises ExpandQuery): the members come inline, whole.
#[tokio::test]
async fn expand_inlines_schema_and_registry_files() {
    let dev = device("ilo5");
    for collection in ["/redfish/v1/JsonSchemas/", "/redfish/v1/Registries/"] {
        let plain = get(collection).basic(ADMIN).send(&dev).await;
        let expanded = get(&format!("{collection}?$expand=.")).basic(ADMIN).send(&dev).await;
        assert_eq!(expanded.status, StatusCode::OK);
        let members = expanded.body["Members"].as_array().expect("Members");
        assert_eq!(members.len(), plain.body["Members"].as_array().expect("Members").len());
        for member in members {
            let uri = member["@odata.id"].as_str().expect("link");
            let alone = get(uri).basic(ADMIN).send(&dev).await;
            let mut alone = alone.body;
            alone.as_object_mut().expect("object").remove("@odata.etag");
            assert_eq!(member, &alone, "{uri}");
        }
    }
}

/// ilo-idrac.md 1.1 [C]: iLO 5 and 6 link the Sessions collection at Links.Sessions, iLO 4 v2.54 only at links.Sessions.href.
#[tokio::test]
async fn root_links_the_sessions_collection() {
    for profile in PROFILES {
        let dev = device(profile);
        let root = get("/redfish/v1/").send(&dev).await;
        let link = if profile == "ilo4" {
            &root.body["links"]["Sessions"]["href"]
        } else {
            &root.body["Links"]["Sessions"]["@odata.id"]
        };
        assert_eq!(link, SESSIONS, "{profile}");
    }
}

/// ilo-idrac.md 1.1 [C]: SessionService at its trailing-slash URI; SessionTimeout shown where the firmware shows it.
#[tokio::test]
async fn session_service_is_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = get("/redfish/v1/SessionService/").basic(ADMIN).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}");
        assert_eq!(reply.body["SessionTimeout"].as_u64().is_some(), profile != "ilo5", "{profile}");
        pin_resource(profile, "session_service", &reply);
    }
}

/// ilo-idrac.md 1.1 [P]: HPE writes lower-case paths (/redfish/v1/sessionservice/sessions); they reach the same resources, with and without the trailing slash.
#[tokio::test]
async fn paths_match_whatever_their_case() {
    let dev = device("ilo5");
    let (token, _) = session(&dev, ADMIN).await;
    for uri in [
        "/redfish/v1/sessionservice/sessions/",
        "/redfish/v1/SessionService/Sessions",
        "/REDFISH/V1/SESSIONSERVICE/",
    ] {
        let reply = get(uri).token(&token).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
    }
}

// ----- login -----

/// ilo-idrac.md 1.2 [C][P]: 201, 32-hex X-Auth-Token, absolute Location ending in /, Link rel=self, and the profile's body (Created ExtendedInfo on iLO 4/5, the session on iLO 6).
#[tokio::test]
async fn login_answer_is_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = login(&dev, ADMIN).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{profile}");
        let location = reply.header("location").expect("Location");
        assert!(location.starts_with("https://127.0.0.1/redfish/v1/SessionService/Sessions/"));
        assert!(location.ends_with('/'), "{location}");
        assert_eq!(
            reply.header("link"),
            Some(format!("<{}>; rel=self", reply.session_path()).as_str())
        );
        if profile == "ilo6" {
            assert_eq!(reply.body["Oem"]["Hpe"]["MySession"], true);
        } else {
            assert_eq!(reply.message_ids(), [format!("{}.Created", base(profile))]);
        }
        pin(profile, "login", &reply);
    }
}

fn base(profile: &str) -> &'static str {
    match profile {
        "ilo4" => "Base.0.10",
        "ilo5" => "Base.1.4",
        _ => "Base.1.18",
    }
}

/// ilo-idrac.md 1.2 [C]: the Id is the user name + 16 hex digits of the login time in Unix seconds + 8 random hex digits.
#[tokio::test]
async fn session_id_encodes_user_and_login_time() {
    let dev = device("ilo5");
    advance(&dev, 12_345);
    let reply = login(&dev, OPERATOR).await;
    let path = reply.session_path();
    let id = path.trim_end_matches('/').rsplit('/').next().expect("id");
    assert!(id.starts_with("operator"), "{id}");
    let secs = &id["operator".len()..id.len() - 8];
    assert_eq!(secs, format!("{:016x}", START + 12_345));
    assert_eq!(reply.token().len(), 32);
}

/// ilo-idrac.md 1.1 [P]: /redfish/v1/Sessions/ is an alias of the collection (HPE's TFA examples POST to it).
#[tokio::test]
async fn sessions_alias_logs_in_and_lists() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = req(Method::POST, "/redfish/v1/Sessions/")
            .json(
                &json!({"UserName": "Administrator", "Password": "sessionlab", "Token": "123456"}),
            )
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{profile}: {}", reply.body);
        let listed = get("/redfish/v1/Sessions/").token(&reply.token()).send(&dev).await;
        assert_eq!(listed.body["Members@odata.count"], 1, "{profile}");
    }
}

/// ilo-idrac.md 1.1 [P]: iLO 4 also exposes the legacy /rest/v1/Sessions; iLO 5 and 6 do not.
#[tokio::test]
async fn rest_v1_alias_is_ilo4_only() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = req(Method::POST, "/rest/v1/Sessions")
            .json(&json!({"UserName": "Administrator", "Password": "sessionlab"}))
            .send(&dev)
            .await;
        let expected =
            if profile == "ilo4" { StatusCode::CREATED } else { StatusCode::PERMANENT_REDIRECT };
        assert_eq!(reply.status, expected, "{profile}");
    }
}

/// HPE's iLO 5 adaptation guide [P]: "all accesses of the /rest/v1/x URI pattern result in HTTP 308 redirect to /redfish/v1/x/" (iLOrest probes /rest/v1 before each login); iLO 4 serves /rest/v1 itself.
#[tokio::test]
async fn rest_v1_redirects_to_redfish_on_ilo5_and_later() {
    for profile in ["ilo5", "ilo6"] {
        let dev = device(profile);
        for (from, to) in [
            ("/rest/v1", "/redfish/v1/"),
            ("/rest/v1/", "/redfish/v1/"),
            ("/rest/v1/SessionService", "/redfish/v1/SessionService/"),
            ("/rest/v1/Sessions/?a=b", "/redfish/v1/Sessions/?a=b"),
        ] {
            let reply = get(from).send(&dev).await;
            assert_eq!(reply.status, StatusCode::PERMANENT_REDIRECT, "{profile} {from}");
            assert_eq!(reply.header("location"), Some(to), "{profile} {from}");
            assert!(reply.raw.is_empty(), "{profile} {from}");
        }
        assert_eq!(get("/rest/v2/").send(&dev).await.status, StatusCode::NOT_FOUND);
    }
    let dev = device("ilo4");
    let reply = get("/rest/v1").send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK, "iLO 4 serves its root at /rest/v1");
}

/// ilo-idrac.md 1.6 [P]: bad credentials get UnauthorizedLoginAttempt under the firmware's iLO registry prefix (status: knob, 401).
#[tokio::test]
async fn bad_credentials_get_unauthorized_login_attempt() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = login(&dev, ("Administrator", "wrong")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{profile}");
        let registry = match profile {
            "ilo4" => "iLO.0.10",
            "ilo5" => "iLO.2.13",
            _ => "iLO.2.30",
        };
        assert_eq!(reply.message_ids(), [format!("{registry}.UnauthorizedLoginAttempt")]);
        assert!(reply.header("www-authenticate").is_none());
        pin(profile, "error_bad_login", &reply);
        assert_eq!(open(&dev), 0);
    }
}

/// ilo-idrac.md 1.9 [U]: the table full answers SessionLimitExceeded in the iLO envelope with the profile's status (503).
#[tokio::test]
async fn table_full_gets_session_limit_exceeded() {
    for profile in PROFILES {
        let dev = device(profile);
        for _ in 0..10 {
            session(&dev, ADMIN).await;
        }
        let reply = login(&dev, ADMIN).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{profile}");
        assert_eq!(reply.message_ids(), [format!("{}.SessionLimitExceeded", base(profile))]);
        pin(profile, "error_session_limit", &reply);
    }
}

// ----- session resources -----

/// ilo-idrac.md 1.3 [C][P]: the own session shows Oem.Hpe AccessTime, LoginTime, MySession true, Privileges, UserExpires, UserIP, UserTag REST, UserType Local.
#[tokio::test]
async fn own_session_member_is_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let (token, path) = session(&dev, ADMIN).await;
        let reply = get(&path).token(&token).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}");
        let block = &reply.body["Oem"][oem(&dev)];
        assert_eq!(block["MySession"], true);
        assert!(block["Privileges"].is_object());
        assert_eq!(block["UserIP"], "127.0.0.1");
        assert!(!String::from_utf8_lossy(&reply.raw).contains(&token));
        pin(profile, "session_member", &reply);
    }
}

/// ilo-idrac.md 1.3 [P][I]: another user's session shows MySession false and no Privileges.
#[tokio::test]
async fn other_session_member_has_no_privileges() {
    for profile in PROFILES {
        let dev = device(profile);
        let (_, theirs) = session(&dev, OPERATOR).await;
        let (token, _) = session(&dev, ADMIN).await;
        let reply = get(&theirs).token(&token).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK);
        let block = &reply.body["Oem"][oem(&dev)];
        assert_eq!(block["MySession"], false);
        assert!(block.get("Privileges").is_none(), "{profile}: {block}");
        pin(profile, "session_member_other", &reply);
    }
}

/// ilo-idrac.md 1.4 [C][P]: the collection lists every user's sessions oldest first, with Oem.Hpe.Links.MySession.
#[tokio::test]
async fn session_collection_is_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let (_, first) = session(&dev, OPERATOR).await;
        advance(&dev, 60);
        let (token, mine) = session(&dev, ADMIN).await;
        let reply = get(SESSIONS).token(&token).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK);
        let members: Vec<&str> = reply.body["Members"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|m| m["@odata.id"].as_str())
            .collect();
        assert_eq!(members, [first.as_str(), mine.as_str()], "{profile}");
        assert_eq!(reply.body["Members@odata.count"], 2);
        assert_eq!(reply.body["Oem"][oem(&dev)]["Links"]["MySession"]["@odata.id"], mine.as_str());
        pin(profile, "session_collection", &reply);
    }
}

/// ilo-idrac.md 1.8 [C]: UserExpires = AccessTime + idle timeout, and use slides both.
#[tokio::test]
async fn user_expires_is_access_time_plus_idle_timeout() {
    let dev = device("ilo5");
    let (token, path) = session(&dev, ADMIN).await;
    let fresh = get(&path).token(&token).send(&dev).await;
    let block = &fresh.body["Oem"]["Hpe"];
    assert_eq!(block["AccessTime"], block["LoginTime"]);
    assert_eq!(block["UserExpires"], "2026-01-01T00:30:00Z");
    advance(&dev, 23 * 60 + 2);
    let later = get(&path).token(&token).send(&dev).await;
    let block = &later.body["Oem"]["Hpe"];
    assert_eq!(block["LoginTime"], "2026-01-01T00:00:00Z");
    assert_eq!(block["AccessTime"], "2026-01-01T00:23:02Z");
    assert_eq!(block["UserExpires"], "2026-01-01T00:53:02Z");
}

/// ilo-idrac.md 1.8 [P]: sessions expire at UserExpires, and the token is then refused with NoValidSession.
#[tokio::test]
async fn session_expires_at_user_expires() {
    let dev = device("ilo6");
    let (token, _) = session(&dev, ADMIN).await;
    advance(&dev, 30 * 60 - 1);
    assert_eq!(open(&dev), 1);
    advance(&dev, 1);
    assert_eq!(open(&dev), 0);
    let reply = get(SESSIONS).token(&token).send(&dev).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message_ids(), ["Base.1.18.NoValidSession"]);
}

// ----- Basic -----

/// ilo-idrac.md 1.7 [P][C]: each Basic request creates a one-request session that the collection lists (as MySession) while it runs, and that ends after.
#[tokio::test]
async fn basic_request_lists_its_own_transient_session() {
    for profile in PROFILES {
        let dev = device(profile);
        let first = get(SESSIONS).basic(ADMIN).send(&dev).await;
        assert_eq!(first.status, StatusCode::OK, "{profile}");
        assert_eq!(first.body["Members@odata.count"], 1);
        let member = first.body["Members"][0]["@odata.id"].clone();
        assert_eq!(first.body["Oem"][oem(&dev)]["Links"]["MySession"]["@odata.id"], member);
        assert_eq!(open(&dev), 0, "{profile}: the Basic session outlived its request");
        let second = get(SESSIONS).basic(ADMIN).send(&dev).await;
        assert_eq!(second.body["Members@odata.count"], 1);
        assert_ne!(second.body["Members"][0]["@odata.id"], member, "a new session each time");
        let ended = dev
            .store
            .events(dev.now())
            .iter()
            .filter(|e| e.kind == EventKind::Ended { reason: EndReason::RequestEnd })
            .count();
        assert_eq!(ended, 2);
    }
}

/// ilo-idrac.md 1.7 [I]: the Basic session holds a slot while it runs, so a full table refuses Basic requests too.
#[tokio::test]
async fn full_table_refuses_basic_requests() {
    let dev = device("ilo5");
    for _ in 0..10 {
        session(&dev, ADMIN).await;
    }
    let reply = get(SESSIONS).basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.message_ids(), ["Base.1.4.SessionLimitExceeded"]);
}

// ----- logout and dead tokens -----

/// ilo-idrac.md 1.5 [C]: logout answers 200 with Base.1.x.Success in the iLO envelope.
#[tokio::test]
async fn logout_answers_200_success() {
    for profile in PROFILES {
        let dev = device(profile);
        let (token, path) = session(&dev, ADMIN).await;
        let reply = req(Method::DELETE, &path).token(&token).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}");
        assert_eq!(reply.message_ids(), [format!("{}.Success", base(profile))]);
        pin(profile, "logout", &reply);
        assert_eq!(open(&dev), 0);
    }
}

/// ilo-idrac.md 1.6 [C]: a dead token gets 401 NoValidSession in the firmware's envelope (iLO 4: Messages/Type/MessageID) and no WWW-Authenticate.
#[tokio::test]
async fn dead_token_gets_no_valid_session_without_www_authenticate() {
    for profile in PROFILES {
        let dev = device(profile);
        let (token, path) = session(&dev, ADMIN).await;
        req(Method::DELETE, &path).token(&token).send(&dev).await;
        let reply = get("/redfish/v1/Managers/1/").token(&token).send(&dev).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{profile}");
        assert_eq!(reply.message_ids(), [format!("{}.NoValidSession", base(profile))]);
        assert!(reply.header("www-authenticate").is_none(), "{profile}");
        if profile == "ilo4" {
            assert_eq!(reply.body["Messages"], json!([{"MessageID": "Base.0.10.NoValidSession"}]));
            assert_eq!(reply.body["Type"], "ExtendedError.1.0.0");
        }
        pin(profile, "error_dead_token", &reply);
    }
}

/// ilo-idrac.md 1.6 [C]: the captured 401 bodies, byte for byte (iLO 4 2.77 and iLO 5).
#[tokio::test]
async fn no_valid_session_bodies_are_byte_exact() {
    let ilo4 = get(SESSIONS).send(&device("ilo4")).await;
    assert_eq!(
        String::from_utf8(ilo4.raw).expect("utf-8"),
        r#"{"Messages":[{"MessageID":"Base.0.10.NoValidSession"}],"Type":"ExtendedError.1.0.0","error":{"@Message.ExtendedInfo":[{"MessageID":"Base.0.10.NoValidSession"}],"code":"iLO.0.10.ExtendedInfo","message":"See @Message.ExtendedInfo for more information."}}"#
    );
    let ilo5 = get(SESSIONS).send(&device("ilo5")).await;
    assert_eq!(
        String::from_utf8(ilo5.raw).expect("utf-8"),
        r#"{"error":{"@Message.ExtendedInfo":[{"MessageId":"Base.1.4.NoValidSession"}],"code":"iLO.0.10.ExtendedInfo","message":"See @Message.ExtendedInfo for more information."}}"#
    );
}

/// ilo-idrac.md 1.2 [P][I]: the Created body is the compact 162 bytes behind the documented Content-length 163 (iLO 5 shape).
#[tokio::test]
async fn created_body_is_compact() {
    let reply = login(&device("ilo5"), ADMIN).await;
    assert_eq!(
        String::from_utf8(reply.raw).expect("utf-8"),
        r#"{"error":{"@Message.ExtendedInfo":[{"MessageId":"Base.1.4.Created"}],"code":"iLO.0.10.ExtendedInfo","message":"See @Message.ExtendedInfo for more information."}}"#
    );
}

/// ilo-idrac.md 1.2 [C]: answers carry iLO's headers (Content-type with charset, X-Frame-Options), and iLO 4's Server.
#[tokio::test]
async fn answers_carry_ilo_headers() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = get("/redfish/v1/").send(&dev).await;
        assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
        assert_eq!(reply.header("x-frame-options"), Some("sameorigin"));
        assert_eq!(reply.header("odata-version"), Some("4.0"));
        let server = if profile == "ilo4" { Some("HP-iLO-Server/1.30") } else { None };
        assert_eq!(reply.header("server"), server, "{profile}");
    }
}

/// ilo-idrac.md 1.6 [P]: every resource but the service root answers 401 without credentials.
#[tokio::test]
async fn resources_need_credentials() {
    let dev = device("ilo5");
    for uri in [
        SESSIONS,
        "/redfish/v1/SessionService/",
        "/redfish/v1/Managers/1/",
        "/redfish/v1/AccountService/",
    ] {
        let reply = get(uri).send(&dev).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
}

/// ilo-idrac.md 1.6 [P]: "any resource except /redfish/v1/ answers 401" without valid credentials, also the ones every real iLO has and this emulator does not serve (EventService, a second system); with credentials such a path is 404, while the tree's own resources answer.
#[tokio::test]
async fn unknown_paths_answer_401_before_404() {
    for profile in PROFILES {
        let dev = device(profile);
        let system = get("/redfish/v1/Systems/1/").send(&dev).await;
        assert_eq!(system.status, StatusCode::UNAUTHORIZED, "{profile}: the tree's system");
        let system = get("/redfish/v1/Systems/1/").basic(ADMIN).send(&dev).await;
        assert_eq!(system.status, StatusCode::OK, "{profile}: the tree's system");
        for uri in ["/redfish/v1/Systems/2/", "/redfish/v1/EventService/", "/redfish/v1/Nope"] {
            let reply = get(uri).send(&dev).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{profile} {uri}");
            assert_eq!(reply.message_ids(), [format!("{}.NoValidSession", base(profile))]);
            assert_eq!(reply.header("www-authenticate"), None, "{profile}");
            let reply = get(uri).token("0123456789abcdef0123456789abcdef").send(&dev).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{profile} {uri} bad token");
            let reply = get(uri).basic(("Administrator", "wrong")).send(&dev).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{profile} {uri} bad password");
            let reply = get(uri).basic(ADMIN).send(&dev).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{profile} {uri}");
            assert_eq!(reply.message_ids(), [format!("{}.ResourceMissingAtURI", base(profile))]);
        }
        let (token, _) = session(&dev, ADMIN).await;
        let reply = get("/redfish/v1/Systems/2/").token(&token).send(&dev).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{profile}");
        assert_eq!(open(&dev), 1, "{profile}: the Basic requests' sessions ended");
        // A path outside `/redfish/`: a plain 404, credentials or not.
        let reply = get("/other/path").send(&dev).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{profile}");
        assert_eq!(reply.message_ids(), [format!("{}.ResourceMissingAtURI", base(profile))]);
    }
}

/// ilo-idrac.md 1.1 [C]: iLO writes every @odata.id with a trailing / — the AccountService, its accounts and roles too, and the Location of a new account.
#[tokio::test]
async fn account_service_links_end_in_slash() {
    fn links(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    match item {
                        Value::String(s) if key == "@odata.id" => out.push(s.clone()),
                        _ => links(item, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| links(i, out)),
            _ => {}
        }
    }
    for profile in PROFILES {
        let dev = device(profile);
        let mut found = Vec::new();
        for uri in [
            "/redfish/v1/AccountService/",
            "/redfish/v1/AccountService/Accounts/",
            "/redfish/v1/AccountService/Accounts/Administrator/",
            "/redfish/v1/AccountService/Roles/",
            "/redfish/v1/AccountService/Roles/Administrator/",
            "/redfish/v1/Managers/",
        ] {
            let reply = get(uri).basic(ADMIN).send(&dev).await;
            assert_eq!(reply.status, StatusCode::OK, "{profile} {uri}");
            assert_eq!(reply.body["@odata.id"], uri, "{profile}");
            links(&reply.body, &mut found);
        }
        assert!(found.len() > 10, "{found:?}");
        for link in &found {
            assert!(link.ends_with('/'), "{profile}: {link}");
        }
        let created = req(Method::POST, "/redfish/v1/AccountService/Accounts/")
            .basic(ADMIN)
            .json(&json!({"UserName": "newbie", "Password": "sessionlab1", "RoleId": "ReadOnly"}))
            .send(&dev)
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{profile}: {}", created.body);
        let location = created.header("location").expect("Location");
        assert!(location.ends_with("/AccountService/Accounts/newbie/"), "{profile}: {location}");
        assert_eq!(created.body["@odata.id"], "/redfish/v1/AccountService/Accounts/newbie/");
    }
}

/// The standard 404 in iLO's envelope carries its argument as MessageArgs (shape of HPE's OneTimePasscodeSent example).
#[tokio::test]
async fn unknown_path_is_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = get("/redfish/v1/Nope/").basic(ADMIN).send(&dev).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        pin(profile, "error_not_found", &reply);
    }
}

// ----- idle timeout -----

/// ilo-idrac.md 1.8 [P][C]: the manager shows IdleConnectionTimeoutMinutes 30 (iLO 5, 6) and the per-service maxima of 1.9.
#[tokio::test]
async fn manager_is_pinned() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = get("/redfish/v1/Managers/1/").basic(ADMIN).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}");
        assert_eq!(reply.body["CommandShell"]["MaxConcurrentSessions"], 9);
        pin_resource(profile, "manager", &reply);
    }
}

/// ilo-idrac.md 1.8 [P]: PATCH Managers/1 Oem.Hpe.IdleConnectionTimeoutMinutes (15, 30, 60, 120, null) changes the timeout of new sessions; open ones keep theirs (knob).
#[tokio::test]
async fn idle_connection_timeout_applies_to_new_sessions() {
    for profile in ["ilo5", "ilo6"] {
        let dev = device(profile);
        let (old, _) = session(&dev, ADMIN).await;
        let patch = json!({"Oem": {"Hpe": {"IdleConnectionTimeoutMinutes": 15}}});
        let reply =
            req(Method::PATCH, "/redfish/v1/Managers/1/").token(&old).json(&patch).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}: {}", reply.body);
        pin(profile, "manager_patch", &reply);
        let (new, _) = session(&dev, ADMIN).await;
        let manager = get("/redfish/v1/Managers/1/").token(&new).send(&dev).await;
        assert_eq!(manager.body["Oem"]["Hpe"]["IdleConnectionTimeoutMinutes"], 15);
        advance(&dev, 15 * 60);
        assert_eq!(get(SESSIONS).token(&new).send(&dev).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            get(SESSIONS).token(&old).send(&dev).await.status,
            StatusCode::OK,
            "open sessions keep 30 minutes"
        );
    }
    let dev = device("ilo5");
    let (token, _) = session(&dev, ADMIN).await;
    let patch = json!({"Oem": {"Hpe": {"IdleConnectionTimeoutMinutes": null}}});
    let reply =
        req(Method::PATCH, "/redfish/v1/Managers/1").token(&token).json(&patch).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    let (forever, path) = session(&dev, ADMIN).await;
    advance(&dev, 30 * 86_400);
    let member = get(&path).token(&forever).send(&dev).await;
    assert_eq!(member.status, StatusCode::OK, "Infinite: never idles out");
    assert!(member.body["Oem"]["Hpe"].get("UserExpires").is_none());
    let manager = get("/redfish/v1/Managers/1/").token(&forever).send(&dev).await;
    assert_eq!(manager.body["Oem"]["Hpe"]["IdleConnectionTimeoutMinutes"], Value::Null);
}

/// ilo-idrac.md 1.8 [P]: values other than 15, 30, 60, 120 or infinite are refused with PropertyValueNotInList.
#[tokio::test]
async fn idle_connection_timeout_refuses_other_values() {
    for profile in ["ilo5", "ilo6"] {
        let dev = device(profile);
        let patch = json!({"Oem": {"Hpe": {"IdleConnectionTimeoutMinutes": 45}}});
        let reply = req(Method::PATCH, "/redfish/v1/Managers/1/")
            .basic(ADMIN)
            .json(&patch)
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.message_ids(), [format!("{}.PropertyValueNotInList", base(profile))]);
        pin(profile, "error_bad_timeout", &reply);
    }
}

/// ilo-idrac.md 1.8 [P]: iLO 4 sets the timeout with SessionTimeoutMinutes on the NetworkService (0 = infinite); its manager has no IdleConnectionTimeoutMinutes.
#[tokio::test]
async fn ilo4_sets_the_timeout_on_the_network_service() {
    let dev = device("ilo4");
    let uri = "/redfish/v1/Managers/1/NetworkService/";
    let before = get(uri).basic(ADMIN).send(&dev).await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(before.body["SessionTimeoutMinutes"], 30);
    pin_resource("ilo4", "network_service", &before);
    let reply = req(Method::PATCH, uri)
        .basic(ADMIN)
        .json(&json!({"SessionTimeoutMinutes": 120}))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(get(uri).basic(ADMIN).send(&dev).await.body["SessionTimeoutMinutes"], 120);
    let oem = json!({"Oem": {"Hp": {"IdleConnectionTimeoutMinutes": 15}}});
    let refused =
        req(Method::PATCH, "/redfish/v1/Managers/1/").basic(ADMIN).json(&oem).send(&dev).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.message_ids(), ["Base.0.10.PropertyUnknown"]);
    assert_eq!(
        get("/redfish/v1/Managers/1/NetworkService/")
            .basic(ADMIN)
            .send(&device("ilo5"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// ilo-idrac.md 1.8 [P][I]: SessionService.SessionTimeout (seconds, 0 = infinite) sets the same idle timeout.
#[tokio::test]
async fn session_timeout_mirrors_the_idle_setting() {
    for profile in PROFILES {
        let dev = device(profile);
        let reply = req(Method::PATCH, "/redfish/v1/SessionService/")
            .basic(ADMIN)
            .json(&json!({"SessionTimeout": 3600}))
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}: {}", reply.body);
        assert_eq!(dev.store.policy().idle_timeout_secs, 3600);
        let refused = req(Method::PATCH, "/redfish/v1/SessionService/")
            .basic(ADMIN)
            .json(&json!({"SessionTimeout": 1000}))
            .send(&dev)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{profile}");
    }
}

// ----- accounts and reset -----

/// ilo-idrac.md 1.10 [I]: deleting an account ends its sessions and answers AccountRemoved.
#[tokio::test]
async fn account_deletion_ends_its_sessions() {
    for profile in PROFILES {
        let dev = device(profile);
        let (theirs, _) = session(&dev, OPERATOR).await;
        let (token, _) = session(&dev, ADMIN).await;
        let reply = req(Method::DELETE, "/redfish/v1/AccountService/Accounts/operator/")
            .token(&token)
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}: {}", reply.body);
        assert_eq!(reply.message_ids(), [format!("{}.AccountRemoved", base(profile))]);
        pin(profile, "account_delete", &reply);
        assert_eq!(get(SESSIONS).token(&theirs).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    }
}

/// ilo-idrac.md 1.10 [P][I]: deleting one's own account answers AccountForSessionNoLongerExists and the token dies.
#[tokio::test]
async fn deleting_own_account_answers_account_for_session_no_longer_exists() {
    for profile in PROFILES {
        let dev = device(profile);
        let (token, _) = session(&dev, ADMIN).await;
        let reply = req(Method::DELETE, "/redfish/v1/AccountService/Accounts/Administrator/")
            .token(&token)
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}: {}", reply.body);
        assert_eq!(
            reply.message_ids(),
            [format!("{}.AccountForSessionNoLongerExists", base(profile))]
        );
        pin(profile, "account_delete_own", &reply);
        assert_eq!(get(SESSIONS).token(&token).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    }
}

/// ilo-idrac.md 1.10 [U]: a password change keeps the user's sessions (knob, default keep).
#[tokio::test]
async fn password_change_keeps_sessions() {
    let dev = device("ilo5");
    let (token, _) = session(&dev, OPERATOR).await;
    let reply = req(Method::PATCH, "/redfish/v1/AccountService/Accounts/operator/")
        .basic(ADMIN)
        .json(&json!({"Password": "changed-1"}))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(get(SESSIONS).token(&token).send(&dev).await.status, StatusCode::OK);
}

/// Seed 000 and ilo-idrac.md 1.9 [P]: an iLO reset (Manager.Reset) ends every session.
#[tokio::test]
async fn manager_reset_ends_every_session() {
    for profile in PROFILES {
        let dev = device(profile);
        let (other, _) = session(&dev, OPERATOR).await;
        let (token, _) = session(&dev, ADMIN).await;
        dev.store.open_for("operator", ilo::SSH, ClientInfo::default(), dev.now()).expect("ssh");
        let reply = req(Method::POST, "/redfish/v1/Managers/1/Actions/Manager.Reset/")
            .token(&token)
            .json(&json!({}))
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{profile}: {}", reply.body);
        assert_eq!(reply.message_ids(), [format!("{}.Success", base(profile))]);
        pin(profile, "manager_reset", &reply);
        assert_eq!(open(&dev), 0);
        assert_eq!(get(SESSIONS).token(&other).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    }
}

/// ilo-idrac.md 1.3 [P]: sessions opened another way show their source in UserTag (Web UI, SSH, Remote Console; iLO 4 shows REST logins as Web UI).
#[tokio::test]
async fn user_tag_names_the_session_source() {
    for profile in PROFILES {
        let dev = device(profile);
        for kind in [ilo::WEB, ilo::SSH, ilo::REMOTE_CONSOLE] {
            let client =
                ClientInfo { addr: Some("10.0.0.9".into()), user_agent: None, process: None };
            dev.store.open_for("operator", kind, client, dev.now()).expect("open");
        }
        let (token, _) = session(&dev, ADMIN).await;
        let listed = get(SESSIONS).token(&token).send(&dev).await;
        let mut tags = Vec::new();
        for member in listed.body["Members"].as_array().expect("members") {
            let uri = member["@odata.id"].as_str().expect("uri");
            let reply = get(uri).token(&token).send(&dev).await;
            tags.push(reply.body["Oem"][oem(&dev)]["UserTag"].as_str().expect("tag").to_string());
        }
        let rest = if profile == "ilo4" { "Web UI" } else { "REST" };
        assert_eq!(tags, ["Web UI", "SSH", "Remote Console", rest], "{profile}");
    }
}
