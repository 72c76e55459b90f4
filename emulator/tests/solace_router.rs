//! The Solace PubSub+ (SEMPv2) router, driven in-process with `tower::ServiceExt::oneshot`.
//!
//! Each test cites the evidence it checks: the seed document (`seed 003`,
//! `shared/seeds/003_8e2f3587e4fa89dc.txt`) or a section of Part 2 of
//! `shared/vendors/bigip-solace.md`. Wire formats are pinned with insta JSON snapshots
//! (`tests/snapshots/solace_router__*.snap`) of the status, the headers that matter and the
//! body; cookies are redacted after checking they are 43 URL-safe characters, session ids
//! after checking they are 16 hex digits, and Unix times are redacted.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::session::{EndReason, EventKind};
use emulator::vendors::solace::{self, StaleCookie};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const ADMIN: (&str, &str) = ("admin", "sessionlab");
const OPERATOR: (&str, &str) = ("operator", "sessionlab");
const MONITOR: (&str, &str) = ("monitor", "sessionlab");
const BEARER: &str = "sessionlab-oauth-token";
const HOST: &str = "broker.example:8080";

fn device_of(profile: &str) -> DeviceHandle {
    let profile = Arc::new(Profile::embedded(profile).expect("embedded profile"));
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle("broker", profile, Clock::virtual_at(start), Some(7))
}

fn device() -> DeviceHandle {
    device_of("solace-software-100")
}

/// A solace-software-100 device with some knobs changed.
fn device_with(edit: impl FnOnce(&mut Profile)) -> DeviceHandle {
    let mut profile = Profile::embedded("solace-software-100").expect("embedded profile");
    edit(&mut profile);
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle("broker", Arc::new(profile), Clock::virtual_at(start), Some(7))
}

fn advance(dev: &DeviceHandle, secs: u64) {
    dev.clock().advance(Duration::from_secs(secs)).expect("virtual clock");
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

    /// The `Session` cookie the answer sets, if any.
    fn cookie(&self) -> Option<String> {
        let set = self.header("set-cookie")?;
        let (pair, _) = set.split_once(';').unwrap_or((set, ""));
        pair.strip_prefix("Session=").map(str::to_string)
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

    fn error_code(&self) -> Option<i64> {
        self.body["meta"]["error"]["code"].as_i64()
    }
}

/// Headers every snapshot shows.
const COMMON: [&str; 3] = ["content-type", "set-cookie", "www-authenticate"];

struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

fn req(method: Method, uri: &str) -> Req {
    Req {
        builder: Request::builder().method(method).uri(uri).header("host", HOST),
        body: Body::empty(),
    }
}

fn get(uri: &str) -> Req {
    req(Method::GET, uri)
}

impl Req {
    fn basic(mut self, (user, password): (&str, &str)) -> Req {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.builder = self.builder.header(header::AUTHORIZATION, format!("Basic {encoded}"));
        self
    }

    fn cookie(mut self, value: &str) -> Req {
        self.builder = self.builder.header(header::COOKIE, format!("Session={value}"));
        self
    }

    fn bearer(mut self, token: &str) -> Req {
        self.builder = self.builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        self
    }

    fn json(mut self, body: &Value) -> Req {
        self.builder = self.builder.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    fn raw(mut self, body: &'static str) -> Req {
        self.builder = self.builder.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body);
        self
    }

    async fn send(self, dev: &DeviceHandle) -> Reply {
        let request = self.builder.body(self.body).expect("request");
        let response = solace::router(dev.clone()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or_else(|_| {
            panic!("not JSON ({status}): {}", String::from_utf8_lossy(&raw));
        });
        Reply { status, headers, body }
    }
}

const ABOUT_USER: &str = "/SEMP/v2/monitor/about/user";

/// Opens a session with Basic credentials and returns its cookie value.
async fn login(dev: &DeviceHandle, who: (&str, &str)) -> String {
    let reply = get(ABOUT_USER).basic(who).send(dev).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.cookie().expect("Set-Cookie: Session=...")
}

/// The cookie of a new user `nobody` (`globalAccessLevel` none), created by the admin.
async fn nobody(dev: &DeviceHandle) -> String {
    let admin = login(dev, ADMIN).await;
    let created = req(Method::POST, "/SEMP/v2/__private_config__/usernames")
        .cookie(&admin)
        .json(&json!({"userName": "nobody", "password": "pw", "globalAccessLevel": "none"}))
        .send(dev)
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    login(dev, ("nobody", "pw")).await
}

/// The id of the session behind `cookie`.
async fn session_id(dev: &DeviceHandle, cookie: &str) -> String {
    let reply = get(ABOUT_USER).cookie(cookie).send(dev).await;
    reply.body["data"]["sessionId"].as_str().expect("sessionId").to_string()
}

fn open(dev: &DeviceHandle) -> usize {
    dev.store.counts(dev.now()).total
}

/// (session id, reason) of every ending in the event log.
fn endings(dev: &DeviceHandle) -> Vec<(String, EndReason)> {
    dev.store
        .events(dev.now())
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Ended { reason } => Some((e.session_id.unwrap_or_default(), reason)),
            _ => None,
        })
        .collect()
}

fn assert_cookie_shape(value: &str) {
    assert_eq!(value.len(), 43, "{value:?}");
    assert!(
        value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{value:?}"
    );
}

/// Redacts `Set-Cookie` after checking its value is 43 URL-safe characters.
fn cookie_redaction(
    value: insta::internals::Content,
    _: insta::internals::ContentPath<'_>,
) -> String {
    let text = value.as_str().expect("Set-Cookie is a string");
    let (pair, attributes) = text.split_once("; ").expect("attributes follow the value");
    assert_cookie_shape(pair.strip_prefix("Session=").expect("Session="));
    format!("Session=[43 url-safe]; {attributes}")
}

/// Redacts a session id after checking it is 16 hex digits.
fn id_redaction(value: insta::internals::Content, _: insta::internals::ContentPath<'_>) -> String {
    let id = value.as_str().expect("sessionId is a string");
    assert_eq!(id.len(), 16, "{id:?}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id:?}");
    "[16 hex]".to_string()
}

// ----- creating sessions -----

/// bigip-solace.md 2.1: the first request with Basic credentials opens a session and the
/// answer sets `Session=<43 URL-safe characters>`; `about/user` shows the session.
#[tokio::test]
async fn basic_request_opens_a_session_and_sets_the_session_cookie() {
    let dev = device();
    let reply = get(ABOUT_USER).basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_cookie_shape(&reply.cookie().expect("cookie"));
    assert_eq!(open(&dev), 1);
    let data = &reply.body["data"];
    assert_eq!(data["sessionActive"], json!(true));
    let created = data["sessionCreateTime"].as_i64().unwrap();
    assert_eq!(data["sessionCurrentTime"].as_i64(), Some(created));
    assert_eq!(data["sessionIdleExpiryTime"].as_i64(), Some(created + 15 * 60));
    assert_eq!(data["sessionHardExpiryTime"].as_i64(), Some(created + 43_200 * 60));
    insta::assert_json_snapshot!("about_user_basic", reply.view(&COMMON), {
        ".headers[\"set-cookie\"]" => insta::dynamic_redaction(cookie_redaction),
        ".body.data.sessionId" => insta::dynamic_redaction(id_redaction),
        ".body.data.sessionCreateTime" => "[unix]",
        ".body.data.sessionCurrentTime" => "[unix]",
        ".body.data.sessionIdleExpiryTime" => "[unix]",
        ".body.data.sessionHardExpiryTime" => "[unix]",
    });
}

/// bigip-solace.md 2.1: later requests may send only the cookie; no new session is opened
/// and no new cookie is set.
#[tokio::test]
async fn the_cookie_alone_authenticates_later_requests() {
    let dev = device();
    let cookie = login(&dev, OPERATOR).await;
    let first = session_id(&dev, &cookie).await;
    let reply = get("/SEMP/v2/config/about/user").cookie(&cookie).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(reply.body["data"]["sessionId"], json!(first));
    assert_eq!(reply.body["data"]["globalAccessLevel"], "read-write");
    assert_eq!(open(&dev), 1);
}

/// bigip-solace.md 2.1 and 2.2: a client that never sends the cookie back opens a new
/// session with every Basic request, each taking a slot.
#[tokio::test]
async fn basic_without_the_cookie_opens_a_session_every_time() {
    let dev = device();
    for _ in 0..3 {
        login(&dev, ADMIN).await;
    }
    assert_eq!(open(&dev), 3);
}

/// bigip-solace.md 2.1 [I]: a dead cookie gets 401 even when valid Basic credentials come
/// with it; no session is opened.
#[tokio::test]
async fn dead_cookie_with_valid_basic_is_refused_with_401() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    let logout = req(Method::PUT, "/SEMP/v2/action/about/user/logout")
        .cookie(&cookie)
        .json(&json!({}))
        .send(&dev)
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let reply = get(ABOUT_USER).cookie(&cookie).basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(open(&dev), 0);
    insta::assert_json_snapshot!("error_unauthorized", reply.view(&COMMON));
    let unknown = get(ABOUT_USER).cookie("nonsense").basic(ADMIN).send(&dev).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
}

/// bigip-solace.md 2.1: no credentials, or wrong ones, get 401 and no session.
#[tokio::test]
async fn missing_or_wrong_credentials_get_401() {
    let dev = device();
    assert_eq!(get(ABOUT_USER).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    let wrong = get(ABOUT_USER).basic(("admin", "nope")).send(&dev).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_code(), Some(72));
    assert_eq!(open(&dev), 0);
}

/// bigip-solace.md 2.1: Bearer requests never create sessions and ignore the cookie.
#[tokio::test]
async fn bearer_requests_open_no_session_and_ignore_the_cookie() {
    let dev = device();
    let reply = get(ABOUT_USER).bearer(BEARER).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(open(&dev), 0);
    insta::assert_json_snapshot!("about_user_bearer", reply.view(&COMMON));
    let with_dead_cookie = get(ABOUT_USER).bearer(BEARER).cookie("dead").send(&dev).await;
    assert_eq!(with_dead_cookie.status, StatusCode::OK);
    let cookie = login(&dev, MONITOR).await;
    let with_live_cookie = get(ABOUT_USER).bearer(BEARER).cookie(&cookie).send(&dev).await;
    assert_eq!(with_live_cookie.body["data"]["username"], "oauth-admin");
    assert_eq!(with_live_cookie.body["data"]["sessionActive"], json!(false));
    assert_eq!(get(ABOUT_USER).bearer("wrong").send(&dev).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(open(&dev), 1);
}

/// seed 003 and bigip-solace.md 2.2: the 51st session on a 100-connection software
/// broker gets 529 `No SEMP Session Available` in the SEMP error envelope.
#[tokio::test]
async fn fifty_first_session_gets_529() {
    let dev = device();
    for _ in 0..50 {
        login(&dev, ADMIN).await;
    }
    let reply = get(ABOUT_USER).basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status.as_u16(), 529);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(open(&dev), 50);
    insta::assert_json_snapshot!("error_session_limit", reply.view(&COMMON));
    let refused = dev
        .store
        .events(dev.now())
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Refused { .. }))
        .count();
    assert_eq!(refused, 1);
}

/// seed 003: the appliance has 2,000 slots and the 1000-connection software broker 150.
#[tokio::test]
async fn profiles_carry_the_three_limits() {
    for (profile, limit) in
        [("solace-appliance", 2000), ("solace-software-100", 50), ("solace-software-1000", 150)]
    {
        let p = Profile::embedded(profile).unwrap();
        assert_eq!(p.session.max_total, Some(limit), "{profile}");
    }
    let dev = device_of("solace-software-1000");
    for _ in 0..150 {
        login(&dev, ADMIN).await;
    }
    assert_eq!(get(ABOUT_USER).basic(ADMIN).send(&dev).await.status.as_u16(), 529);
}

// ----- about -----

/// bigip-solace.md 2.4: `about/user` is served on the monitor, config and action APIs;
/// the action API links the logout action.
#[tokio::test]
async fn about_user_answers_on_every_api() {
    let dev = device();
    let cookie = login(&dev, MONITOR).await;
    for api in ["monitor", "config", "action"] {
        let reply = get(&format!("/SEMP/v2/{api}/about/user")).cookie(&cookie).send(&dev).await;
        assert_eq!(reply.status, StatusCode::OK, "{api}");
        assert_eq!(reply.body["data"]["username"], "monitor");
        assert_eq!(reply.body["data"]["globalAccessLevel"], "read-only");
    }
    let reply = get("/SEMP/v2/action/about/user").cookie(&cookie).send(&dev).await;
    insta::assert_json_snapshot!("about_user_action", reply.view(&COMMON), {
        ".body.data.sessionId" => insta::dynamic_redaction(id_redaction),
        ".body.data.sessionCreateTime" => "[unix]",
        ".body.data.sessionCurrentTime" => "[unix]",
        ".body.data.sessionIdleExpiryTime" => "[unix]",
        ".body.data.sessionHardExpiryTime" => "[unix]",
    });
}

/// bigip-solace.md 2.4 (`GET /SEMP/v2/config` is the Broker object) with SEMPv2's specification, which puts the Broker at `/` of each API: `/SEMP/v2/config/` is the same object, and `meta.request.uri` names the path as sent.
#[tokio::test]
async fn a_trailing_slash_reaches_the_same_object() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    for (uri, path) in [
        ("/SEMP/v2/config/", "/SEMP/v2/config"),
        ("/SEMP/v2/monitor/about/user/", "/SEMP/v2/monitor/about/user"),
    ] {
        let slashed = get(uri).cookie(&cookie).send(&dev).await;
        let plain = get(path).cookie(&cookie).send(&dev).await;
        assert_eq!(slashed.status, StatusCode::OK, "{uri}: {}", slashed.body);
        assert_eq!(slashed.body["data"], plain.body["data"], "{uri}");
        assert_eq!(slashed.body["meta"]["request"]["uri"], format!("http://{HOST}{uri}"));
    }
    let missing = get("/SEMP/v2/config/nothing/").cookie(&cookie).send(&dev).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["meta"]["error"]["status"], "NOT_FOUND");
}

/// bigip-solace.md 2.1: the session's idle timer is renewed by each request, so
/// `sessionIdleExpiryTime` moves with use while `sessionHardExpiryTime` stays.
#[tokio::test]
async fn use_renews_the_idle_expiry_but_not_the_hard_expiry() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    let before = get(ABOUT_USER).cookie(&cookie).send(&dev).await.body["data"].clone();
    advance(&dev, 600);
    let after = get(ABOUT_USER).cookie(&cookie).send(&dev).await.body["data"].clone();
    let diff = |k: &str| after[k].as_i64().unwrap() - before[k].as_i64().unwrap();
    assert_eq!(diff("sessionIdleExpiryTime"), 600);
    assert_eq!(diff("sessionHardExpiryTime"), 0);
    assert_eq!(diff("sessionCurrentTime"), 600);
}

/// bigip-solace.md 2.1 (SEMP `about/api`): the API version the broker speaks.
#[tokio::test]
async fn about_api_names_the_semp_version() {
    let dev = device();
    let reply = get("/SEMP/v2/config/about/api").basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!("about_api", reply.view(&["content-type"]));
}

// ----- logout and admin delete -----

/// bigip-solace.md 2.4: `PUT /SEMP/v2/action/about/user/logout` with `{}` ends the session
/// (reason `logout`) and answers with the meta-only envelope; the cookie is dead after.
#[tokio::test]
async fn logout_ends_the_session() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    let id = session_id(&dev, &cookie).await;
    let reply = req(Method::PUT, "/SEMP/v2/action/about/user/logout")
        .cookie(&cookie)
        .json(&json!({}))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!("logout", reply.view(&COMMON));
    assert_eq!(get(ABOUT_USER).cookie(&cookie).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(endings(&dev), vec![(id, EndReason::Logout)]);
}

/// bigip-solace.md 2.4: a Basic-only logout opens and ends a session in one request, so
/// it sets no cookie and leaves nothing open.
#[tokio::test]
async fn basic_only_logout_leaves_nothing_open() {
    let dev = device();
    let reply = req(Method::PUT, "/SEMP/v2/action/about/user/logout").basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(open(&dev), 0);
}

/// bigip-solace.md 2.4: `PUT /SEMP/v2/action/sessions/{user},{id}/delete` needs global
/// admin access; it ends the session with reason `admin-delete`.
#[tokio::test]
async fn admin_delete_needs_global_admin() {
    let dev = device();
    let victim = login(&dev, OPERATOR).await;
    let id = session_id(&dev, &victim).await;
    let uri = format!("/SEMP/v2/action/sessions/operator,{id}/delete");
    let denied = req(Method::PUT, &uri).basic(MONITOR).json(&json!({})).send(&dev).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("error_access_denied", denied.view(&COMMON), {
        ".headers[\"set-cookie\"]" => insta::dynamic_redaction(cookie_redaction),
        ".body.meta.request.uri" => "[uri]",
    });
    let rw = req(Method::PUT, &uri).basic(OPERATOR).json(&json!({})).send(&dev).await;
    assert_eq!(rw.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(ABOUT_USER).cookie(&victim).send(&dev).await.status, StatusCode::OK);

    let admin = login(&dev, ADMIN).await;
    let done = req(Method::PUT, &uri).cookie(&admin).json(&json!({})).send(&dev).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["meta"]["responseCode"], json!(200));
    assert_eq!(get(ABOUT_USER).cookie(&victim).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    assert!(endings(&dev).contains(&(id.clone(), EndReason::AdminDelete)));
    let again = req(Method::PUT, &uri).cookie(&admin).json(&json!({})).send(&dev).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.error_code(), Some(6));
}

// ----- listing sessions -----

/// bigip-solace.md 2.4: the monitor Session object has exactly `createTime`,
/// `lastActivityTime`, `sessionId`, `sessionUsername`, and `links.uri` names it with an
/// unescaped comma.
#[tokio::test]
async fn session_item_is_pinned() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    let id = session_id(&dev, &cookie).await;
    let reply =
        get(&format!("/SEMP/v2/monitor/sessions/admin,{id}")).cookie(&cookie).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["links"]["uri"],
        json!(format!("http://{HOST}/SEMP/v2/monitor/sessions/admin,{id}"))
    );
    insta::assert_json_snapshot!("session_monitor", reply.view(&COMMON), {
        ".body.data.sessionId" => insta::dynamic_redaction(id_redaction),
        ".body.data.createTime" => "[unix]",
        ".body.data.lastActivityTime" => "[unix]",
        ".body.links.uri" => "[session-uri]",
        ".body.meta.request.uri" => "[session-uri]",
    });
    let action =
        get(&format!("/SEMP/v2/action/sessions/admin,{id}")).cookie(&cookie).send(&dev).await;
    insta::assert_json_snapshot!("session_action", action.view(&COMMON), {
        ".body.data.sessionId" => insta::dynamic_redaction(id_redaction),
        ".body.links.uri" => "[session-uri]",
        ".body.links.deleteUri" => "[session-uri]/delete",
        ".body.meta.request.uri" => "[session-uri]",
    });
}

/// SEMP-API-Protocol ("any comma in the resource identifier must not be escaped", cited in
/// bigip-solace.md 2.4): an escaped comma or another user's name finds nothing, 400 code 6.
#[tokio::test]
async fn session_item_needs_the_unescaped_comma() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    let id = session_id(&dev, &cookie).await;
    let escaped =
        get(&format!("/SEMP/v2/monitor/sessions/admin%2C{id}")).cookie(&cookie).send(&dev).await;
    assert_eq!(escaped.status, StatusCode::BAD_REQUEST);
    assert_eq!(escaped.error_code(), Some(6));
    let other =
        get(&format!("/SEMP/v2/monitor/sessions/operator,{id}")).cookie(&cookie).send(&dev).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("error_not_found", other.view(&COMMON), {
        ".body.meta.error.description" => "[description naming the session]",
        ".body.meta.request.uri" => "[session-uri]",
    });
}

/// bigip-solace.md 2.4: `GET /SEMP/v2/monitor/sessions` pages with `count` (default 10),
/// `meta.count` counts every match and `meta.paging` carries `cursorQuery` and
/// `nextPageUri` until the last page.
#[tokio::test]
async fn sessions_listing_pages_with_count_and_cursor() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    for _ in 0..11 {
        login(&dev, MONITOR).await;
        advance(&dev, 1);
    }
    let all = get("/SEMP/v2/monitor/sessions").cookie(&cookie).send(&dev).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 10);
    assert_eq!(all.body["meta"]["count"], json!(12));

    let first = get("/SEMP/v2/monitor/sessions?count=5").cookie(&cookie).send(&dev).await;
    assert_eq!(first.status, StatusCode::OK);
    insta::assert_json_snapshot!("sessions_first_page", first.view(&COMMON), {
        ".body.data[].sessionId" => insta::dynamic_redaction(id_redaction),
        ".body.data[].createTime" => "[unix]",
        ".body.data[].lastActivityTime" => "[unix]",
        ".body.links[].uri" => "[session-uri]",
        ".body.meta.paging.cursorQuery" => "[cursor]",
        ".body.meta.paging.nextPageUri" => "[next-page-uri]",
    });
    let mut seen: Vec<String> = Vec::new();
    let mut next = first.body["meta"]["paging"]["nextPageUri"].as_str().map(str::to_string);
    seen.extend(ids_of(&first.body));
    while let Some(uri) = next {
        let path = uri.strip_prefix(&format!("http://{HOST}")).expect("absolute next page");
        let page = get(path).cookie(&cookie).send(&dev).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(ids_of(&page.body));
        next = page.body["meta"]["paging"]["nextPageUri"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 12);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12);
}

fn ids_of(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_string())
        .collect()
}

/// bigip-solace.md 2.4: `where=sessionUsername==x` keeps one user's sessions and `select`
/// keeps the named attributes.
#[tokio::test]
async fn where_and_select_filter_the_listing() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    login(&dev, OPERATOR).await;
    login(&dev, OPERATOR).await;
    let reply =
        get("/SEMP/v2/action/sessions?where=sessionUsername==operator&select=sessionUsername")
            .cookie(&cookie)
            .send(&dev)
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["data"],
        json!([{"sessionUsername": "operator"}, {"sessionUsername": "operator"}])
    );
    assert_eq!(reply.body["meta"]["count"], json!(2));
    let bad = get("/SEMP/v2/monitor/sessions?where=nothing==1").cookie(&cookie).send(&dev).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_code(), Some(11));
    let zero = get("/SEMP/v2/monitor/sessions?count=0").cookie(&cookie).send(&dev).await;
    assert_eq!(zero.error_code(), Some(11));
}

/// bigip-solace.md 2.4: listing sessions needs `global/read-only`; a `none` user may still
/// read `about/user`.
#[tokio::test]
async fn listing_sessions_needs_read_only() {
    let dev = device();
    let nobody = nobody(&dev).await;
    let list = get("/SEMP/v2/monitor/sessions").cookie(&nobody).send(&dev).await;
    assert_eq!(list.status, StatusCode::UNAUTHORIZED);
    assert_eq!(list.error_code(), Some(72));
    let broker = get("/SEMP/v2/config").cookie(&nobody).send(&dev).await;
    assert_eq!(broker.body["data"], json!({}));
}

// ----- timeouts -----

/// bigip-solace.md 2.3: `serviceSempSessionIdleTimeout` (15) and
/// `serviceSempSessionMaxLifetime` (43200) are read on `/SEMP/v2/config` and
/// `/SEMP/v2/monitor` with read-only access.
#[tokio::test]
async fn timeouts_are_read_on_config_and_monitor() {
    let dev = device();
    let config = get("/SEMP/v2/config").basic(MONITOR).send(&dev).await;
    assert_eq!(config.status, StatusCode::OK);
    insta::assert_json_snapshot!("broker_config", config.view(&COMMON), {
        ".headers[\"set-cookie\"]" => insta::dynamic_redaction(cookie_redaction),
    });
    let monitor = get("/SEMP/v2/monitor").basic(MONITOR).send(&dev).await;
    assert_eq!(monitor.body["data"], config.body["data"]);
}

/// bigip-solace.md 2.3: changing the timeouts needs read-write; values outside
/// 1..5256000 get a SEMP error and change nothing.
#[tokio::test]
async fn timeouts_are_patched_with_read_write_within_range() {
    let dev = device();
    let monitor = login(&dev, MONITOR).await;
    let denied = req(Method::PATCH, "/SEMP/v2/config")
        .cookie(&monitor)
        .json(&json!({"serviceSempSessionIdleTimeout": 30}))
        .send(&dev)
        .await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert_eq!(denied.error_code(), Some(72));

    let operator = login(&dev, OPERATOR).await;
    for bad in [json!(0), json!(5_256_001), json!(-1), json!("15")] {
        let reply = req(Method::PATCH, "/SEMP/v2/config")
            .cookie(&operator)
            .json(&json!({"serviceSempSessionMaxLifetime": bad}))
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.error_code(), Some(11), "{bad}");
    }
    let out_of_range = req(Method::PATCH, "/SEMP/v2/config")
        .cookie(&operator)
        .json(&json!({"serviceSempSessionIdleTimeout": 0}))
        .send(&dev)
        .await;
    insta::assert_json_snapshot!("error_out_of_range", out_of_range.view(&COMMON));

    let ok = req(Method::PATCH, "/SEMP/v2/config")
        .cookie(&operator)
        .json(&json!({"serviceSempSessionIdleTimeout": 1, "serviceSempSessionMaxLifetime": 5_256_000}))
        .send(&dev)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        ok.body["data"],
        json!({"serviceSempSessionIdleTimeout": 1, "serviceSempSessionMaxLifetime": 5_256_000})
    );
    let unknown = req(Method::PATCH, "/SEMP/v2/config")
        .cookie(&operator)
        .json(&json!({"somethingElse": true}))
        .send(&dev)
        .await;
    assert_eq!(unknown.error_code(), Some(14));
}

/// The Broker answer is served again as rendered only while nothing it shows changes: a
/// PATCHed timeout, a lower access level, another URI and a `select` each get their own.
#[tokio::test]
async fn broker_answers_follow_timeouts_access_and_uri() {
    let dev = device();
    let operator = login(&dev, OPERATOR).await;
    let first = get("/SEMP/v2/config").cookie(&operator).send(&dev).await;
    let again = get("/SEMP/v2/config").cookie(&operator).send(&dev).await;
    assert_eq!(first.body, again.body);
    let patched = req(Method::PATCH, "/SEMP/v2/config")
        .cookie(&operator)
        .json(&json!({"serviceSempSessionIdleTimeout": 30}))
        .send(&dev)
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let after = get("/SEMP/v2/config").cookie(&operator).send(&dev).await;
    assert_eq!(after.body["data"]["serviceSempSessionIdleTimeout"], json!(30));

    let monitor = get("/SEMP/v2/monitor").cookie(&operator).send(&dev).await;
    let uri = monitor.body["meta"]["request"]["uri"].as_str().expect("meta.request.uri");
    assert!(uri.ends_with("/SEMP/v2/monitor"), "{uri}");
    let selected = get("/SEMP/v2/config?select=serviceSempSessionIdleTimeout")
        .cookie(&operator)
        .send(&dev)
        .await;
    assert_eq!(selected.body["data"], json!({"serviceSempSessionIdleTimeout": 30}));

    let nobody = nobody(&dev).await;
    let hidden = get("/SEMP/v2/config").cookie(&nobody).send(&dev).await;
    assert_eq!(hidden.body["data"], json!({}));
    let shown = get("/SEMP/v2/config").cookie(&operator).send(&dev).await;
    assert_eq!(shown.body["data"]["serviceSempSessionIdleTimeout"], json!(30));
}

/// seed 003: "Sessions will be invalidated if there is no activity in this period of time"
/// (15 minutes by default): the session ends with reason `idle-timeout`.
#[tokio::test]
async fn idle_timeout_ends_an_unused_session() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    let id = session_id(&dev, &cookie).await;
    advance(&dev, 14 * 60 + 59);
    assert_eq!(get(ABOUT_USER).cookie(&cookie).send(&dev).await.status, StatusCode::OK);
    advance(&dev, 15 * 60);
    assert_eq!(get(ABOUT_USER).cookie(&cookie).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(endings(&dev), vec![(id, EndReason::IdleTimeout)]);
}

/// seed 003: "Sessions will be invalidated after this period of time, regardless of
/// activity": a session used every 10 minutes still ends at its maximum lifetime.
#[tokio::test]
async fn max_lifetime_ends_a_busy_session() {
    let dev = device();
    let operator = login(&dev, OPERATOR).await;
    let patched = req(Method::PATCH, "/SEMP/v2/config")
        .cookie(&operator)
        .json(&json!({"serviceSempSessionMaxLifetime": 60}))
        .send(&dev)
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let cookie = login(&dev, ADMIN).await;
    let id = session_id(&dev, &cookie).await;
    for _ in 0..5 {
        advance(&dev, 600);
        assert_eq!(get(ABOUT_USER).cookie(&cookie).send(&dev).await.status, StatusCode::OK);
    }
    advance(&dev, 600);
    assert_eq!(get(ABOUT_USER).cookie(&cookie).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    assert!(endings(&dev).contains(&(id, EndReason::MaxLifetime)));
}

// ----- credentials and auth type -----

async fn patch_user(dev: &DeviceHandle, cookie: &str, user: &str, body: Value) -> Reply {
    req(Method::PATCH, &format!("/SEMP/v2/__private_config__/usernames/{user}"))
        .cookie(cookie)
        .json(&body)
        .send(dev)
        .await
}

/// seed 003: a password update deletes all sessions of that user, and only that user's.
#[tokio::test]
async fn password_change_ends_only_that_users_sessions() {
    let dev = device();
    let admin = login(&dev, ADMIN).await;
    let op1 = login(&dev, OPERATOR).await;
    let op2 = login(&dev, OPERATOR).await;
    let reply = patch_user(&dev, &admin, "operator", json!({"password": "new-secret"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    insta::assert_json_snapshot!("username", reply.view(&COMMON));
    for cookie in [&op1, &op2] {
        assert_eq!(
            get(ABOUT_USER).cookie(cookie).send(&dev).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(get(ABOUT_USER).cookie(&admin).send(&dev).await.status, StatusCode::OK);
    let reasons: Vec<EndReason> = endings(&dev).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, vec![EndReason::CredentialChange, EndReason::CredentialChange]);
    login(&dev, ("operator", "new-secret")).await;
}

/// seed 003: access-level changes do not end sessions, and the new level applies at once.
#[tokio::test]
async fn access_level_change_ends_no_session() {
    let dev = device();
    let admin = login(&dev, ADMIN).await;
    let op = login(&dev, OPERATOR).await;
    let reply =
        patch_user(&dev, &admin, "operator", json!({"globalAccessLevel": "read-only"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let about = get(ABOUT_USER).cookie(&op).send(&dev).await;
    assert_eq!(about.status, StatusCode::OK);
    assert_eq!(about.body["data"]["globalAccessLevel"], "read-only");
    assert!(endings(&dev).is_empty());
}

/// seed 003: a username change deletes all sessions of that user (reason
/// `credential-change`); the user logs in under the new name.
#[tokio::test]
async fn rename_ends_that_users_sessions() {
    let dev = device();
    let admin = login(&dev, ADMIN).await;
    let op = login(&dev, OPERATOR).await;
    let reply = req(Method::PUT, "/SEMP/v2/__private_action__/usernames/operator/rename")
        .cookie(&admin)
        .json(&json!({"newUserName": "operator2"}))
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(get(ABOUT_USER).cookie(&op).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(ABOUT_USER).basic(OPERATOR).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    login(&dev, ("operator2", "sessionlab")).await;
    let reasons: Vec<EndReason> = endings(&dev).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, vec![EndReason::CredentialChange]);
    assert_eq!(get(ABOUT_USER).cookie(&admin).send(&dev).await.status, StatusCode::OK);
}

/// SEMP1026 (bigip-solace.md 2.6): "Deleting a username will cause all SEMP sessions
/// associated with the username to be deleted" (reason `user-deleted`).
#[tokio::test]
async fn user_deletion_ends_that_users_sessions() {
    let dev = device();
    let admin = login(&dev, ADMIN).await;
    let op = login(&dev, OPERATOR).await;
    let reply = req(Method::DELETE, "/SEMP/v2/__private_config__/usernames/operator")
        .cookie(&admin)
        .send(&dev)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(get(ABOUT_USER).cookie(&op).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    let reasons: Vec<EndReason> = endings(&dev).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, vec![EndReason::UserDeleted]);
    let gone =
        get("/SEMP/v2/__private_config__/usernames/operator").cookie(&admin).send(&dev).await;
    assert_eq!(gone.error_code(), Some(6));
}

/// bigip-solace.md 2.6: user changes need global admin.
#[tokio::test]
async fn user_changes_need_global_admin() {
    let dev = device();
    let op = login(&dev, OPERATOR).await;
    let reply = patch_user(&dev, &op, "monitor", json!({"password": "x"})).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(endings(&dev).is_empty());
}

/// seed 003: an auth-type change (internal to LDAP, or one LDAP profile to another)
/// deletes all sessions (reason `auth-config-change`); setting the same type ends none.
#[tokio::test]
async fn auth_type_change_ends_every_session() {
    let dev = device();
    let admin = login(&dev, ADMIN).await;
    login(&dev, OPERATOR).await;
    login(&dev, MONITOR).await;
    let same = req(Method::PATCH, "/SEMP/v2/__private_config__")
        .cookie(&admin)
        .json(&json!({"cliAuthType": "internal"}))
        .send(&dev)
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    assert_eq!(open(&dev), 3);
    let ldap = req(Method::PATCH, "/SEMP/v2/__private_config__")
        .cookie(&admin)
        .json(&json!({"cliAuthType": "ldap", "cliAuthProfileName": "corp"}))
        .send(&dev)
        .await;
    assert_eq!(ldap.status, StatusCode::OK, "{}", ldap.body);
    insta::assert_json_snapshot!("auth_config", ldap.view(&COMMON));
    assert_eq!(open(&dev), 0);
    assert!(endings(&dev).iter().all(|(_, r)| *r == EndReason::AuthConfigChange));
    assert_eq!(endings(&dev).len(), 3);

    let admin = login(&dev, ADMIN).await;
    let other_profile = req(Method::PATCH, "/SEMP/v2/__private_config__")
        .cookie(&admin)
        .json(&json!({"cliAuthProfileName": "corp2"}))
        .send(&dev)
        .await;
    assert_eq!(other_profile.status, StatusCode::OK);
    assert_eq!(open(&dev), 0);
    let bad = req(Method::PATCH, "/SEMP/v2/__private_config__")
        .basic(ADMIN)
        .json(&json!({"cliAuthType": "kerberos"}))
        .send(&dev)
        .await;
    assert_eq!(bad.error_code(), Some(11));
}

/// seed 003: the broker restarting ends every session (reason `restart`).
#[tokio::test]
async fn restart_ends_every_session() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    login(&dev, OPERATOR).await;
    dev.restart();
    assert_eq!(get(ABOUT_USER).cookie(&cookie).send(&dev).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(endings(&dev).iter().filter(|(_, r)| *r == EndReason::Restart).count(), 2);
}

// ----- errors -----

/// bigip-solace.md 2.5: malformed JSON gets the SEMP error envelope (code 27 PARSE_ERROR,
/// SEMP-Error-Handling), never plain text.
#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let dev = device();
    let reply =
        req(Method::PATCH, "/SEMP/v2/config").basic(ADMIN).raw("{not json").send(&dev).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("error_malformed_json", reply.view(&COMMON), {
        ".headers[\"set-cookie\"]" => insta::dynamic_redaction(cookie_redaction),
    });
    let array = req(Method::PATCH, "/SEMP/v2/config").basic(ADMIN).raw("[1]").send(&dev).await;
    assert_eq!(array.error_code(), Some(27));
}

/// bigip-solace.md 2.5: an unknown path is 400 code 6 `NOT_FOUND`; a known path with
/// another method is 400 code 14 `NOT_SUPPORTED`, both in the envelope naming the request.
#[tokio::test]
async fn unknown_paths_and_wrong_methods_get_semp_errors() {
    let dev = device();
    let cookie = login(&dev, ADMIN).await;
    let unknown = get("/SEMP/v2/monitor/dmrClusters").cookie(&cookie).send(&dev).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("error_unknown_path", unknown.view(&COMMON));
    let wrong = req(Method::DELETE, "/SEMP/v2/config").cookie(&cookie).send(&dev).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("error_wrong_method", wrong.view(&COMMON));
    let logout_get = get("/SEMP/v2/action/about/user/logout").cookie(&cookie).send(&dev).await;
    assert_eq!(logout_get.error_code(), Some(14));
}

/// bigip-solace.md 2.1: authentication comes first, so an unauthenticated request to an
/// unknown path gets 401, not 400.
#[tokio::test]
async fn authentication_comes_before_routing() {
    let dev = device();
    let reply = get("/SEMP/v2/monitor/nothing").send(&dev).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

// ----- knobs -----

/// bigip-solace.md 2.1 [I]: with `stale_cookie_with_basic = "new-session"` a dead cookie
/// sent with valid Basic credentials is ignored and Basic opens a new session.
#[tokio::test]
async fn stale_cookie_knob_can_open_a_new_session() {
    let dev = device_with(|p| {
        p.solace.as_mut().expect("[solace]").stale_cookie_with_basic = StaleCookie::NewSession;
    });
    let reply = get(ABOUT_USER).cookie("dead").basic(ADMIN).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_cookie_shape(&reply.cookie().expect("a new cookie"));
    assert_eq!(open(&dev), 1);
    assert_eq!(get(ABOUT_USER).cookie("dead").send(&dev).await.status, StatusCode::UNAUTHORIZED);
}

/// bigip-solace.md 2.3 [U]: with `timeout_change_applies_to_existing` a shorter idle
/// timeout or lifetime reaches sessions already open; by default only new ones.
#[tokio::test]
async fn timeout_changes_reach_open_sessions_only_when_the_profile_says_so() {
    for applies in [false, true] {
        let dev = device_with(|p| p.session.timeout_change_applies_to_existing = applies);
        let operator = login(&dev, OPERATOR).await;
        let reply = req(Method::PATCH, "/SEMP/v2/config")
            .cookie(&operator)
            .json(&json!({"serviceSempSessionIdleTimeout": 1, "serviceSempSessionMaxLifetime": 2}))
            .send(&dev)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        advance(&dev, 61);
        let status = get(ABOUT_USER).cookie(&operator).send(&dev).await.status;
        let expected = if applies { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
        assert_eq!(status, expected, "applies to existing: {applies}");
        let fresh = login(&dev, ADMIN).await;
        advance(&dev, 61);
        assert_eq!(
            get(ABOUT_USER).cookie(&fresh).send(&dev).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

/// SEMP-API-Protocol [U]: with `escaped_comma_matches` an escaped comma finds the session.
#[tokio::test]
async fn escaped_comma_knob_finds_the_session() {
    let dev = device_with(|p| p.solace.as_mut().expect("[solace]").escaped_comma_matches = true);
    let cookie = login(&dev, ADMIN).await;
    let id = session_id(&dev, &cookie).await;
    let reply =
        get(&format!("/SEMP/v2/monitor/sessions/admin%2C{id}")).cookie(&cookie).send(&dev).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
