//! The F5 BIG-IP router, driven in-process with `tower::ServiceExt::oneshot`.
//!
//! Each test cites the clause of `shared/vendors/bigip-solace.md` (Part 1) or of the seed
//! document (`SOAP-SEED`, `seeds/001_*.txt`) it checks. Wire formats are pinned with insta
//! snapshots (`tests/snapshots/bigip_router__*.snap`): REST answers as JSON (status, the
//! headers that matter, body) and SOAP answers as text. Tokens are redacted after checking
//! they are 26 characters of `[A-Z2-7]`; times and operation ids are redacted too.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::vendors::bigip;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const ADMIN: (&str, &str) = ("admin", "sessionlab");
const OPERATOR: (&str, &str) = ("operator", "sessionlab");
const LOGIN: &str = "/mgmt/shared/authn/login";
const TOKENS: &str = "/mgmt/shared/authz/tokens";
const PORTAL: &str = "/iControl/iControlPortal.cgi";

struct Bigip {
    device: DeviceHandle,
    app: Router,
}

fn bigip(profile: &str) -> Bigip {
    bigip_with(profile, |_| {})
}

/// A device whose profile `change` adjusted (to exercise a knob).
fn bigip_with(profile: &str, change: impl FnOnce(&mut Profile)) -> Bigip {
    let mut profile = Profile::embedded(profile).expect("embedded profile");
    change(&mut profile);
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    let device = Device::handle("bigip", Arc::new(profile), Clock::virtual_at(start), Some(7));
    Bigip { app: bigip::router(device.clone()), device }
}

fn settings(p: &mut Profile) -> &mut bigip::BigipSettings {
    p.bigip.get_or_insert_with(bigip::BigipSettings::default)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Status, content type, any `WWW-Authenticate`, and the JSON body.
    fn view(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for name in ["content-type", "www-authenticate"] {
            if let Some(value) = self.header(name) {
                headers.insert(name.to_string(), json!(value));
            }
        }
        json!({ "status": self.status.as_u16(), "headers": headers, "body": self.body })
    }

    /// Status, content type and the body as text (SOAP).
    fn xml_view(&self) -> String {
        format!(
            "{}\ncontent-type: {}\n\n{}",
            self.status.as_u16(),
            self.header("content-type").unwrap_or(""),
            self.text
        )
    }

    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

fn req(method: Method, uri: &str) -> Req {
    Req { builder: Request::builder().method(method).uri(uri), body: Body::empty() }
}

fn basic_value((user, password): (&str, &str)) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

impl Req {
    fn token(mut self, token: &str) -> Req {
        self.builder = self.builder.header("X-F5-Auth-Token", token);
        self
    }

    fn basic(mut self, who: (&str, &str)) -> Req {
        self.builder = self.builder.header(header::AUTHORIZATION, basic_value(who));
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

    fn raw(mut self, body: impl Into<Body>) -> Req {
        self.body = body.into();
        self
    }

    async fn send(self, b: &Bigip) -> Reply {
        let request = self.builder.body(self.body).expect("request");
        let response = b.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }
}

async fn login(b: &Bigip, (user, password): (&str, &str)) -> Reply {
    req(Method::POST, LOGIN)
        .json(&json!({ "username": user, "password": password, "loginProviderName": "tmos" }))
        .send(b)
        .await
}

async fn token(b: &Bigip, who: (&str, &str)) -> String {
    let reply = login(b, who).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["token"]["token"].as_str().expect("token").to_string()
}

/// The keys appear in this order in the raw body (insta snapshots sort keys, so the
/// captured order is checked here).
fn assert_key_order(text: &str, keys: &[&str]) {
    let mut from = 0;
    for key in keys {
        let at =
            text[from..].find(key).unwrap_or_else(|| panic!("{key} after byte {from} in {text}"));
        from += at + key.len();
    }
}

fn assert_token_shape(value: &str) {
    assert_eq!(value.len(), 26, "{value:?}");
    assert!(
        value.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
        "{value:?}"
    );
}

fn token_redaction(
    value: insta::internals::Content,
    _: insta::internals::ContentPath<'_>,
) -> String {
    assert_token_shape(value.as_str().expect("token is a string"));
    "[token]".to_string()
}

fn self_link_redaction(
    value: insta::internals::Content,
    _: insta::internals::ContentPath<'_>,
) -> String {
    let link = value.as_str().expect("selfLink is a string");
    let token = link.strip_prefix("https://localhost/mgmt/shared/authz/tokens/").expect(link);
    assert_token_shape(token);
    "https://localhost/mgmt/shared/authz/tokens/[token]".to_string()
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, e.g. `2025-12-31T17:00:00.000-0700`.
fn start_time_redaction(
    value: insta::internals::Content,
    _: insta::internals::ContentPath<'_>,
) -> String {
    let t = value.as_str().expect("startTime is a string");
    assert!(chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok(), "{t}");
    assert_eq!(t.len(), 28, "{t}");
    "[startTime]".to_string()
}

/// An error or plain resource: only the operation id is redacted.
macro_rules! assert_rest_snapshot {
    ($name:expr, $reply:expr) => {
        insta::assert_json_snapshot!($name, $reply.view(), {
            ".body.restOperationId" => "[restOperationId]",
        })
    };
}

/// A login answer: the token object inside is redacted.
macro_rules! assert_login_snapshot {
    ($name:expr, $reply:expr) => {
        insta::assert_json_snapshot!($name, $reply.view(), {
            ".body.token.token" => insta::dynamic_redaction(token_redaction),
            ".body.token.name" => insta::dynamic_redaction(token_redaction),
            ".body.token.selfLink" => insta::dynamic_redaction(self_link_redaction),
            ".body.token.startTime" => insta::dynamic_redaction(start_time_redaction),
            ".body.token.lastUpdateMicros" => "[micros]",
            ".body.token.expirationMicros" => "[micros]",
        })
    };
}

/// One token resource.
macro_rules! assert_token_snapshot {
    ($name:expr, $reply:expr) => {
        insta::assert_json_snapshot!($name, $reply.view(), {
            ".body.token" => insta::dynamic_redaction(token_redaction),
            ".body.name" => insta::dynamic_redaction(token_redaction),
            ".body.selfLink" => insta::dynamic_redaction(self_link_redaction),
            ".body.startTime" => insta::dynamic_redaction(start_time_redaction),
            ".body.lastUpdateMicros" => "[micros]",
            ".body.expirationMicros" => "[micros]",
        })
    };
}

/// The token collection.
macro_rules! assert_token_collection_snapshot {
    ($name:expr, $reply:expr) => {
        insta::assert_json_snapshot!($name, $reply.view(), {
            ".body.lastUpdateMicros" => "[micros]",
            ".body.items[].token" => insta::dynamic_redaction(token_redaction),
            ".body.items[].name" => insta::dynamic_redaction(token_redaction),
            ".body.items[].selfLink" => insta::dynamic_redaction(self_link_redaction),
            ".body.items[].startTime" => insta::dynamic_redaction(start_time_redaction),
            ".body.items[].lastUpdateMicros" => "[micros]",
            ".body.items[].expirationMicros" => "[micros]",
        })
    };
}

fn soap(method: &str, params: &str) -> String {
    soap_with_header("", method, params)
}

fn soap_with_header(header: &str, method: &str, params: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope \
         xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:s=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:y=\"http://www.w3.org/2001/XMLSchema\">\
         <SOAP-ENV:Header>{header}</SOAP-ENV:Header><SOAP-ENV:Body>\
         <m:{method} xmlns:m=\"urn:iControl:System/Session\">{params}</m:{method}>\
         </SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

async fn soap_call(b: &Bigip, who: (&str, &str), xml: String) -> Reply {
    req(Method::POST, PORTAL)
        .basic(who)
        .header("content-type", "text/xml; charset=utf-8")
        .raw(xml)
        .send(b)
        .await
}

// ----- login -----

/// 1.1: login answers 200 with the captured body shape; the token is 26 base32
/// characters, `token` = `name`, and `expirationMicros` is creation + 1200 s truncated to
/// milliseconds.
#[tokio::test]
async fn login_returns_the_captured_token_body() {
    let b = bigip("bigip15");
    b.device.clock().advance(Duration::from_micros(666_487)).unwrap();
    let reply = login(&b, ADMIN).await;
    assert_eq!(reply.status, StatusCode::OK);
    let t = &reply.body["token"];
    assert_eq!(t["token"], t["name"]);
    let last = t["lastUpdateMicros"].as_i64().unwrap();
    assert_eq!(t["expirationMicros"].as_i64().unwrap(), last / 1000 * 1000 + 1_200_000_000);
    assert_eq!(t["startTime"], "2025-12-31T17:00:00.666-0700");
    assert_key_order(
        &reply.text,
        &["\"username\"", "\"loginReference\"", "\"loginProviderName\"", "\"token\":{"],
    );
    assert_key_order(
        &reply.text,
        &[
            "{\"token\":",
            "\"name\"",
            "\"userName\"",
            "\"authProviderName\"",
            "\"user\"",
            "\"groupReferences\"",
            "\"timeout\"",
            "\"startTime\"",
            "\"address\"",
            "\"partition\"",
            "\"generation\"",
            "\"lastUpdateMicros\"",
            "\"expirationMicros\"",
            "\"kind\"",
            "\"selfLink\"",
            "},\"generation\":0",
            "\"lastUpdateMicros\":0}",
        ],
    );
    assert_login_snapshot!("login", reply);
}

/// 1.1: `loginProviderName: local` gives the captured `local` loginReference.
#[tokio::test]
async fn local_provider_login_points_at_the_local_provider() {
    let b = bigip("bigip15");
    let reply = req(Method::POST, LOGIN)
        .json(
            &json!({ "username": "admin", "password": "sessionlab", "loginProviderName": "local" }),
        )
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["loginReference"]["link"],
        "https://localhost/mgmt/cm/system/authn/providers/local/login"
    );
    assert_eq!(reply.body["token"]["authProviderName"], "local");
}

/// 1.1: bad credentials answer 401 `Authentication failed.` with the request echoed
/// without the password (`exampleAuthRespFailed`).
#[tokio::test]
async fn bad_credentials_echo_the_request_without_password() {
    let b = bigip("bigip15");
    let reply = req(Method::POST, LOGIN)
        .json(&json!({ "username": "admin", "password": "wrong", "loginProviderName": "local" }))
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(!reply.text.contains("wrong"));
    assert_eq!(
        reply.body["originalRequestBody"],
        r#"{"username":"admin","loginProviderName":"local","generation":0,"lastUpdateMicros":0}"#
    );
    assert_rest_snapshot!("error_login_failed", reply);
}

/// 1.1: an unknown `loginProviderName` gets 401 `loginProviderName is invalid.` ([C] f5er #18).
#[tokio::test]
async fn unknown_login_provider_is_invalid() {
    let b = bigip("bigip15");
    let reply = req(Method::POST, LOGIN)
        .json(&json!({ "username": "admin", "password": "sessionlab", "loginProviderName": "radius9" }))
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "loginProviderName is invalid.");
}

/// 1.4: the 101st token of a non-admin user gets 400 `user <nameUUIDFromBytes(user)>
/// has reached maximum active login tokens`.
#[tokio::test]
async fn hundred_and_first_token_is_refused_with_the_user_uuid() {
    let b = bigip("bigip15");
    for _ in 0..100 {
        token(&b, OPERATOR).await;
    }
    let reply = login(&b, OPERATOR).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.message(),
        "user 4b583376-b276-3b92-bc3e-1da60d10de59 has reached maximum active login tokens"
    );
    assert_rest_snapshot!("error_max_tokens", reply);
}

// ----- using tokens -----

/// 1.2: an expired token gets 401 `X-F5-Auth-Token has expired.` in the error envelope.
#[tokio::test]
async fn expired_token_is_refused_as_expired() {
    let b = bigip("bigip15");
    let t = token(&b, ADMIN).await;
    b.device.clock().advance(Duration::from_secs(1200)).unwrap();
    let reply = req(Method::GET, "/mgmt/tm/sys/version").token(&t).send(&b).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "X-F5-Auth-Token has expired.");
    assert_rest_snapshot!("error_token_expired", reply);
}

/// 1.2 "Absolute, not idle": a token used until its last second still expires at
/// creation + timeout, and the event log calls that a lifetime ending, not an idle one.
#[tokio::test]
async fn token_expiry_is_logged_as_a_lifetime_ending() {
    let b = bigip("bigip15");
    let t = token(&b, ADMIN).await;
    let created = b.device.now().utc;
    for _ in 0..3 {
        b.device.clock().advance(Duration::from_secs(399)).unwrap();
        let used = req(Method::GET, "/mgmt/tm/sys/version").token(&t).send(&b).await;
        assert_eq!(used.status, StatusCode::OK);
    }
    b.device.clock().advance(Duration::from_secs(3)).unwrap();
    let ended: Vec<_> = b
        .device
        .store
        .events(b.device.now())
        .into_iter()
        .filter_map(|e| match e.kind {
            emulator::session::EventKind::Ended { reason } => Some((reason, e.at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ended,
        vec![(
            emulator::session::EndReason::MaxLifetime,
            created + chrono::Duration::seconds(1200)
        )]
    );
}

/// 1.2: an unknown token gets 401 `X-F5-Auth-Token does not exist.`.
#[tokio::test]
async fn unknown_token_does_not_exist() {
    let b = bigip("bigip15");
    let reply =
        req(Method::GET, "/mgmt/tm/sys/version").token("AAAAAAAAAAAAAAAAAAAAAAAAAA").send(&b).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_rest_snapshot!("error_token_unknown", reply);
}

/// 1.6: a protected resource without credentials gets 401 in the envelope, with a Basic
/// challenge.
#[tokio::test]
async fn no_credentials_get_the_envelope() {
    let b = bigip("bigip15");
    let reply = req(Method::GET, "/mgmt/tm/sys/version").send(&b).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_rest_snapshot!("error_no_credentials", reply);
}

/// 1.5: Basic auth works for local users on REST resources and creates no token.
#[tokio::test]
async fn basic_auth_reads_version_without_a_token() {
    let b = bigip("bigip15");
    let reply = req(Method::GET, "/mgmt/tm/sys/version").basic(ADMIN).send(&b).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(b.device.store.counts(b.device.now()).total, 0);
    assert_rest_snapshot!("sys_version", reply);
}

/// 1.4: bigrest checks connections with `/mgmt/shared/echo-query`, which creates no token.
#[tokio::test]
async fn echo_query_creates_no_token() {
    let b = bigip("bigip15");
    let reply = req(Method::GET, "/mgmt/shared/echo-query?a=1").basic(OPERATOR).send(&b).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["query"]["a"], "1");
    assert_eq!(b.device.store.counts(b.device.now()).total, 0);
}

// ----- the token resource -----

/// 1.3: the collection has kind `...authtokencollectionstate`, its items
/// `...authtokenitemstate`, and a user sees only their own tokens.
#[tokio::test]
async fn token_collection_shows_only_own_tokens() {
    let b = bigip("bigip15");
    let mine = token(&b, ADMIN).await;
    token(&b, OPERATOR).await;
    let reply = req(Method::GET, TOKENS).token(&mine).send(&b).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(reply.body["items"][0]["userName"], "admin");
    assert_token_collection_snapshot!("token_collection", reply);
}

/// 1.2: PATCH `{"timeout": N}` answers the token with the new `timeout` (checked by the
/// Terraform provider) and a bumped `generation`.
#[tokio::test]
async fn patch_sets_timeout_and_bumps_generation() {
    let b = bigip("bigip15");
    let t = token(&b, ADMIN).await;
    let reply = req(Method::PATCH, &format!("{TOKENS}/{t}"))
        .token(&t)
        .json(&json!({ "timeout": 36000 }))
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["timeout"], 36000);
    assert_eq!(reply.body["generation"], 2);
    assert_token_snapshot!("token_patched", reply);
}

/// 1.2: above 36000 seconds the PATCH gets 406 `Auth-token absolute timeout (36000
/// seconds) exceeded`.
#[tokio::test]
async fn patch_above_maximum_is_not_acceptable() {
    let b = bigip("bigip15");
    let t = token(&b, ADMIN).await;
    let reply = req(Method::PATCH, &format!("{TOKENS}/{t}"))
        .token(&t)
        .json(&json!({ "timeout": 36001 }))
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_ACCEPTABLE);
    assert_rest_snapshot!("error_timeout_exceeded", reply);
}

/// 1.3: GET of a token that does not exist answers 404 (f5-sdk `test_load_no_token`).
#[tokio::test]
async fn missing_token_resource_is_404() {
    let b = bigip("bigip15");
    let reply = req(Method::GET, &format!("{TOKENS}/AAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .basic(ADMIN)
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_rest_snapshot!("error_token_not_found", reply);
}

/// 1.3: another user's token cannot be read, changed or deleted: 400.
#[tokio::test]
async fn another_users_token_is_400() {
    let b = bigip("bigip15");
    let theirs = token(&b, OPERATOR).await;
    let mine = token(&b, ADMIN).await;
    for method in [Method::GET, Method::DELETE] {
        let reply = req(method, &format!("{TOKENS}/{theirs}")).token(&mine).send(&b).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.message().starts_with("Au"), "{}", reply.message());
    }
    let reply = req(Method::PATCH, &format!("{TOKENS}/{theirs}"))
        .token(&mine)
        .json(&json!({ "timeout": 600 }))
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

/// 1.3: logout is DELETE of the token with itself in `X-F5-Auth-Token`; afterwards the
/// token "does not exist".
#[tokio::test]
async fn delete_logs_out_and_token_then_does_not_exist() {
    let b = bigip("bigip15");
    let t = token(&b, ADMIN).await;
    let reply = req(Method::DELETE, &format!("{TOKENS}/{t}")).token(&t).send(&b).await;
    assert_eq!(reply.status, StatusCode::OK);
    let again = req(Method::GET, TOKENS).token(&t).send(&b).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.message(), "X-F5-Auth-Token does not exist.");
}

// ----- envelopes for everything else -----

/// 1.6: unknown paths, wrong methods, malformed JSON and oversized bodies all get the
/// iControl REST envelope, never plain text.
#[tokio::test]
async fn errors_are_always_in_the_envelope() {
    let b = bigip("bigip15");
    let unknown = req(Method::GET, "/mgmt/tm/ltm/nothing").basic(ADMIN).send(&b).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_rest_snapshot!("error_not_found", unknown);

    let wrong_method = req(Method::PUT, LOGIN).send(&b).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_rest_snapshot!("error_method_not_allowed", wrong_method);

    let malformed = req(Method::POST, LOGIN).raw("{\"username\": ").send(&b).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_rest_snapshot!("error_malformed_json", malformed);

    let huge = req(Method::POST, LOGIN).raw(vec![b' '; 2 * 1024 * 1024]).send(&b).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.body["kind"], ":resterrorresponse");
}

// ----- local users -----

/// 1.7: local users are listed, created and deleted at `/mgmt/tm/auth/user`; the
/// password never shows.
#[tokio::test]
async fn users_are_managed_at_tm_auth_user() {
    let b = bigip("bigip15");
    let created = req(Method::POST, "/mgmt/tm/auth/user")
        .basic(ADMIN)
        .json(&json!({
            "name": "monitor",
            "password": "hunter2",
            "partitionAccess": [{ "name": "all-partitions", "role": "guest" }],
        }))
        .send(&b)
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert!(!created.text.contains("hunter2"));
    assert_rest_snapshot!("user_created", created);
    let again = req(Method::POST, "/mgmt/tm/auth/user")
        .basic(ADMIN)
        .json(&json!({ "name": "monitor", "password": "x" }))
        .send(&b)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let list = req(Method::GET, "/mgmt/tm/auth/user").basic(ADMIN).send(&b).await;
    assert_rest_snapshot!("user_collection", list);
    let by_operator =
        req(Method::DELETE, "/mgmt/tm/auth/user/monitor").basic(OPERATOR).send(&b).await;
    assert_eq!(by_operator.status, StatusCode::UNAUTHORIZED);
    let deleted = req(Method::DELETE, "/mgmt/tm/auth/user/monitor").basic(ADMIN).send(&b).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = req(Method::GET, "/mgmt/tm/auth/user/monitor").basic(ADMIN).send(&b).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

// ----- SOAP -----

/// SOAP-SEED get_session_identifier: returns a long in the iControl response envelope.
#[tokio::test]
async fn soap_get_session_identifier_returns_a_long() {
    let b = bigip("bigip15");
    let reply = soap_call(&b, ADMIN, soap("get_session_identifier", "")).await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_snapshot!("soap_get_session_identifier", reply.xml_view());
}

/// SOAP-SEED set_force_sessions_state: with force sessions on, a request without a
/// session id gets "Could not find the iControl session for <user>".
#[tokio::test]
async fn soap_force_sessions_fault() {
    let b = bigip("bigip15");
    let on = soap_call(
        &b,
        ADMIN,
        soap(
            "set_force_sessions_state",
            "<state s:type=\"iControl:Common.EnabledState\">STATE_ENABLED</state>",
        ),
    )
    .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    let reply = soap_call(&b, OPERATOR, soap("get_session_timeout", "")).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.text.contains("Could not find the iControl session for operator"));
    insta::assert_snapshot!("soap_fault_no_session", reply.xml_view());
}

/// SOAP-SEED start_transaction: "Only one transaction can be open at the same time in
/// a single user session".
#[tokio::test]
async fn soap_second_transaction_is_a_fault() {
    let b = bigip("bigip15");
    let first = soap_call(&b, ADMIN, soap("start_transaction", "")).await;
    assert_eq!(first.status, StatusCode::OK);
    insta::assert_snapshot!("soap_start_transaction", first.xml_view());
    let second = soap_call(&b, ADMIN, soap("start_transaction", "")).await;
    assert_eq!(second.status, StatusCode::INTERNAL_SERVER_ERROR);
    insta::assert_snapshot!("soap_fault_transaction_open", second.xml_view());
}

/// SOAP-SEED set_transaction_timeout: an open transaction inactive past the timeout is
/// "effectively unusable after that point", and "Expiring transactions are logged".
#[tokio::test]
async fn soap_transaction_expires_after_its_timeout() {
    let b = bigip("bigip15");
    let set = soap_call(&b, ADMIN, soap("set_transaction_timeout", "<timeout>30</timeout>")).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let started = soap_call(&b, ADMIN, soap("start_transaction", "")).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let start = b.device.now().utc;
    b.device.clock().advance(Duration::from_secs(100)).unwrap();
    let submit = soap_call(&b, ADMIN, soap("submit_transaction", "")).await;
    assert_eq!(submit.status, StatusCode::INTERNAL_SERVER_ERROR);
    insta::assert_snapshot!("soap_fault_transaction_expired", submit.xml_view());
    let expired: Vec<_> = b
        .device
        .store
        .events(b.device.now())
        .into_iter()
        .filter(|e| e.kind == emulator::session::EventKind::Expired { what: "transaction".into() })
        .collect();
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].at, start + chrono::Duration::seconds(30));
    assert_eq!(expired[0].user, "admin");
    // The expired transaction is closed: a new one can start, and nothing is left open.
    let again = soap_call(&b, ADMIN, soap("submit_transaction", "")).await;
    assert!(again.text.contains("No transaction is open"), "{}", again.text);
    let restarted = soap_call(&b, ADMIN, soap("start_transaction", "")).await;
    assert_eq!(restarted.status, StatusCode::OK, "{}", restarted.text);
}

/// SOAP-SEED set_transaction_timeout: the timeout counts inactivity, so a transaction
/// whose session keeps being used stays open and submits.
#[tokio::test]
async fn soap_transaction_in_use_does_not_expire() {
    let b = bigip("bigip15");
    soap_call(&b, ADMIN, soap("set_transaction_timeout", "<timeout>30</timeout>")).await;
    soap_call(&b, ADMIN, soap("start_transaction", "")).await;
    for _ in 0..4 {
        b.device.clock().advance(Duration::from_secs(20)).unwrap();
        let used = soap_call(&b, ADMIN, soap("get_active_folder", "")).await;
        assert_eq!(used.status, StatusCode::OK);
    }
    let submit = soap_call(&b, ADMIN, soap("submit_transaction", "")).await;
    assert_eq!(submit.status, StatusCode::OK, "{}", submit.text);
    let timeout = soap_call(&b, ADMIN, soap("get_transaction_timeout", "")).await;
    assert!(timeout.text.contains(">30</return>"), "{}", timeout.text);
}

/// SOAP-SEED set_dtd_processing_state: disabled by default ("parsing aborted"), only
/// administrators set it, and once on a request's internal entities are processed.
#[tokio::test]
async fn soap_dtd_processing_state_changes_what_is_parsed() {
    let b = bigip("bigip15");
    let with_dtd = || {
        soap("set_active_folder", "<folder>&part;</folder>").replacen(
            "?>\n",
            "?>\n<!DOCTYPE e [<!ENTITY part \"/Common/app\">]>",
            1,
        )
    };
    let state = soap_call(&b, ADMIN, soap("get_dtd_processing_state", "")).await;
    insta::assert_snapshot!("soap_get_dtd_processing_state", state.xml_view());
    let refused = soap_call(&b, ADMIN, with_dtd()).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(refused.text.contains("parsing aborted"), "{}", refused.text);
    let on = "<state s:type=\"iControl:Common.EnabledState\">STATE_ENABLED</state>";
    let by_operator = soap_call(&b, OPERATOR, soap("set_dtd_processing_state", on)).await;
    assert!(by_operator.text.contains("Common::AccessDenied"), "{}", by_operator.text);
    let set = soap_call(&b, ADMIN, soap("set_dtd_processing_state", on)).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let state = soap_call(&b, OPERATOR, soap("get_dtd_processing_state", "")).await;
    assert!(state.text.contains(">STATE_ENABLED</return>"), "{}", state.text);
    let accepted = soap_call(&b, ADMIN, with_dtd()).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    let folder = soap_call(&b, ADMIN, soap("get_active_folder", "")).await;
    assert!(folder.text.contains(">/Common/app</return>"), "{}", folder.text);
}

/// SOAP-SEED set_recursive_query_state / set_returned_path: session values ("Changing a
/// session variable in one session does not effect the variable in any other session"),
/// recursive query off until set; ReturnedPath takes PATH_FULL, PATH_RELATIVE, PATH_BARE.
#[tokio::test]
async fn soap_recursive_query_and_returned_path_are_per_session() {
    let b = bigip("bigip15");
    let recursive = soap_call(&b, ADMIN, soap("get_recursive_query_state", "")).await;
    assert!(recursive.text.contains(">STATE_DISABLED</return>"), "{}", recursive.text);
    let path = soap_call(&b, ADMIN, soap("get_returned_path", "")).await;
    insta::assert_snapshot!("soap_get_returned_path", path.xml_view());
    let on = "<state>STATE_ENABLED</state>";
    assert_eq!(soap_call(&b, ADMIN, soap("set_recursive_query_state", on)).await.status, 200);
    let bare = "<path>PATH_BARE</path>";
    assert_eq!(soap_call(&b, ADMIN, soap("set_returned_path", bare)).await.status, 200);
    let recursive = soap_call(&b, ADMIN, soap("get_recursive_query_state", "")).await;
    assert!(recursive.text.contains(">STATE_ENABLED</return>"), "{}", recursive.text);
    let path = soap_call(&b, ADMIN, soap("get_returned_path", "")).await;
    assert!(path.text.contains(">PATH_BARE</return>"), "{}", path.text);
    // Another user's default session keeps its own values.
    let other = soap_call(&b, OPERATOR, soap("get_returned_path", "")).await;
    assert!(other.text.contains(">PATH_FULL</return>"), "{}", other.text);
    let other = soap_call(&b, OPERATOR, soap("get_recursive_query_state", "")).await;
    assert!(other.text.contains(">STATE_DISABLED</return>"), "{}", other.text);
    let unknown =
        soap_call(&b, ADMIN, soap("set_returned_path", "<path>PATH_UNKNOWN</path>")).await;
    assert!(unknown.text.contains("Common::InvalidArgument"), "{}", unknown.text);
}

/// SOAP-SEED set_maximum_sessions: "Only administrators can set this value".
#[tokio::test]
async fn soap_setters_are_for_administrators() {
    let b = bigip("bigip15");
    let reply =
        soap_call(&b, OPERATOR, soap("set_maximum_sessions", "<sessions>10</sessions>")).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    insta::assert_snapshot!("soap_fault_access_denied", reply.xml_view());
}

/// 1.8: unreadable XML is a SOAP fault, never a panic or plain text.
#[tokio::test]
async fn soap_malformed_xml_is_a_fault() {
    let b = bigip("bigip15");
    let broken = "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">\
                  <SOAP-ENV:Body><oops></SOAP-ENV:Body>";
    let reply = soap_call(&b, ADMIN, broken.to_string()).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    insta::assert_snapshot!("soap_fault_malformed", reply.xml_view());
    let unknown = soap_call(&b, ADMIN, soap("get_weather", "")).await;
    assert_eq!(unknown.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(unknown.text.contains("<faultcode>E:Client</faultcode>"), "{}", unknown.text);
}

/// 1.8: the portal uses HTTP Basic; wrong credentials get 401 with a Basic challenge.
#[tokio::test]
async fn soap_needs_basic_credentials() {
    let b = bigip("bigip15");
    let reply = soap_call(&b, ("admin", "wrong"), soap("get_session_timeout", "")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.header("www-authenticate").is_some_and(|v| v.starts_with("Basic realm=")));
}

/// SOAP-SEED: the defaults are 50 sessions, 1800 seconds, force sessions disabled.
#[tokio::test]
async fn soap_defaults_match_the_documentation() {
    let b = bigip("bigip15");
    let max = soap_call(&b, ADMIN, soap("get_maximum_sessions", "")).await;
    assert!(max.text.contains(">50</return>"), "{}", max.text);
    let timeout = soap_call(&b, ADMIN, soap("get_session_timeout", "")).await;
    assert!(timeout.text.contains(">1800</return>"), "{}", timeout.text);
    let force = soap_call(&b, ADMIN, soap("get_force_sessions_state", "")).await;
    insta::assert_snapshot!("soap_get_force_sessions_state", force.xml_view());
}

// ----- knobs for what the evidence leaves open -----

/// 1.2 [I]: with `token_timeout_from = "now"` a PATCHed timeout counts from the PATCH,
/// not from creation.
#[tokio::test]
async fn patched_timeout_can_count_from_now() {
    let b = bigip_with("bigip15", |p| settings(p).token_timeout_from = bigip::TimeoutFrom::Now);
    let t = token(&b, ADMIN).await;
    b.device.clock().advance(Duration::from_secs(1000)).unwrap();
    let reply = req(Method::PATCH, &format!("{TOKENS}/{t}"))
        .token(&t)
        .json(&json!({ "timeout": 1200 }))
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let updated = reply.body["lastUpdateMicros"].as_i64().unwrap();
    assert_eq!(
        reply.body["expirationMicros"].as_i64().unwrap(),
        updated / 1000 * 1000 + 1_200_000_000
    );
    b.device.clock().advance(Duration::from_secs(1199)).unwrap();
    let still = req(Method::GET, TOKENS).token(&t).send(&b).await;
    assert_eq!(still.status, StatusCode::OK);
}

/// 1.7 [U]: with `on_password_change = "end-user-sessions"` a password change ends the
/// user's tokens, which then "do not exist".
#[tokio::test]
async fn password_change_can_end_tokens() {
    let b = bigip_with("bigip15", |p| {
        p.session.on_password_change = emulator::session::UserChange::EndUserSessions;
    });
    let t = token(&b, OPERATOR).await;
    let changed = req(Method::PATCH, "/mgmt/tm/auth/user/operator")
        .basic(ADMIN)
        .json(&json!({ "password": "changed" }))
        .send(&b)
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let reply = req(Method::GET, TOKENS).token(&t).send(&b).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "X-F5-Auth-Token does not exist.");
}

/// 1.3 [U]: with `delete_collection_scope = "all"` an administrator's DELETE of the
/// collection ends every user's tokens; by default only the caller's.
#[tokio::test]
async fn collection_delete_scope_is_a_knob() {
    for (scope, left) in [(bigip::CollectionScope::Own, 1), (bigip::CollectionScope::All, 0)] {
        let b = bigip_with("bigip15", |p| settings(p).delete_collection_scope = scope);
        token(&b, ADMIN).await;
        token(&b, OPERATOR).await;
        let reply = req(Method::DELETE, TOKENS).basic(ADMIN).send(&b).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(b.device.store.counts(b.device.now()).total, left, "{scope:?}");
    }
}

/// 1.5 [U]: wrong Basic credentials may be answered with httpd's HTML page instead of
/// the JSON envelope.
#[tokio::test]
async fn basic_failure_body_can_be_httpd_html() {
    let b = bigip_with("bigip15", |p| {
        settings(p).basic_failure_body = bigip::BasicFailureBody::ApacheHtml;
    });
    let reply = req(Method::GET, "/mgmt/tm/sys/version").basic(("admin", "wrong")).send(&b).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.header("content-type").is_some_and(|c| c.starts_with("text/html")));
    assert!(reply.text.contains("<title>401 Unauthorized</title>"), "{}", reply.text);
}

// ----- trailing slashes -----

/// f5-sdk writes every URI with a trailing slash ([P] f5-sdk `resource.py`
/// `_activate_URI`, `ManagementRoot._get_tmos_version` reads `/mgmt/tm/sys/`): each REST
/// path answers with and without one, the organizing collection included.
#[tokio::test]
async fn rest_paths_answer_with_a_trailing_slash() {
    let b = bigip("bigip15");
    let t = token(&b, ADMIN).await;
    for path in ["/mgmt/tm/sys/", "/mgmt/tm/sys/version/", "/mgmt/shared/echo-query/?a=1"] {
        let reply = req(Method::GET, path).token(&t).send(&b).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
    let sys = req(Method::GET, "/mgmt/tm/sys/").token(&t).send(&b).await;
    assert_eq!(sys.body["kind"], "tm:sys:syscollectionstate");
    // f5-sdk takes the TMOS version from the `ver` query argument of `selfLink`.
    assert_eq!(sys.body["selfLink"], "https://localhost/mgmt/tm/sys?ver=15.1.2");
    let echo = req(Method::GET, "/mgmt/shared/echo-query/?a=1").token(&t).send(&b).await;
    assert_eq!(echo.body["query"]["a"], "1");
    // f5-sdk deletes a loaded token at its selfLink plus `/`.
    let logout = req(Method::DELETE, &format!("{TOKENS}/{t}/")).token(&t).send(&b).await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.text);
    assert_eq!(b.device.store.counts(b.device.now()).total, 0);
}

/// Only one slash is trimmed, and only under `/mgmt/`: `//` and the SOAP portal's file
/// path with a slash stay unknown.
#[tokio::test]
async fn only_one_trailing_slash_of_rest_paths_is_ignored() {
    let b = bigip("bigip15");
    let double = req(Method::GET, "/mgmt/tm/sys//").basic(ADMIN).send(&b).await;
    assert_eq!(double.status, StatusCode::NOT_FOUND);
    let portal = req(Method::POST, &format!("{PORTAL}/")).basic(ADMIN).send(&b).await;
    assert_eq!(portal.status, StatusCode::NOT_FOUND);
    assert_eq!(bigip::routes::routed_path("/mgmt/tm/sys/"), "/mgmt/tm/sys");
    assert_eq!(bigip::routes::routed_path("/mgmt/"), "/mgmt/");
    assert_eq!(
        bigip::routes::routed_path("/iControl/iControlPortal.cgi/"),
        "/iControl/iControlPortal.cgi/"
    );
}

// ----- tokens of the caller's choosing -----

/// 1.3: "Tokens can be created directly with POST /mgmt/shared/authz/tokens and body
/// {"token": "T1234512345123451234512345", "user": {"link": <usersReference>}}" ([P]
/// f5-sdk `test_authz.py`); f5-sdk posts to the collection URI with its trailing slash.
/// The token belongs to the caller, answers 200 with the token body, and authenticates.
#[tokio::test]
async fn post_creates_a_token_with_the_given_value() {
    let b = bigip("bigip15");
    let t = token(&b, ADMIN).await;
    let chosen = "T1234512345123451234512345";
    let users = "https://localhost/mgmt/cm/system/authn/providers/tmos/1f44a60e-11a7-3c51-a49f-82983026b41b/users";
    let reply = req(Method::POST, &format!("{TOKENS}/"))
        .token(&t)
        .json(&json!({ "token": chosen, "user": { "link": users } }))
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["token"], chosen);
    assert_eq!(reply.body["name"], chosen);
    assert_eq!(reply.body["userName"], "admin");
    assert_eq!(reply.body["kind"], "shared:authz:tokens:authtokenitemstate");
    insta::assert_json_snapshot!("created_token", reply.view(), {
        ".body.startTime" => insta::dynamic_redaction(start_time_redaction),
        ".body.lastUpdateMicros" => "[micros]",
        ".body.expirationMicros" => "[micros]",
    });
    let used = req(Method::GET, "/mgmt/tm/sys/version").token(chosen).send(&b).await;
    assert_eq!(used.status, StatusCode::OK);
    assert_eq!(b.device.store.counts(b.device.now()).total, 2);
    let again = req(Method::POST, TOKENS)
        .token(&t)
        .json(&json!({ "token": chosen, "user": { "link": users } }))
        .send(&b)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let bye = req(Method::DELETE, &format!("{TOKENS}/{chosen}/")).token(chosen).send(&b).await;
    assert_eq!(bye.status, StatusCode::OK);
}

/// 1.3 [P] F5-TOKMGMT: a user manages only their own tokens; creating one for another
/// user needs an administrator. A missing or empty `token` is a 400.
#[tokio::test]
async fn post_of_a_token_for_someone_else_needs_an_administrator() {
    let b = bigip("bigip15");
    let op = token(&b, OPERATOR).await;
    let admin_link = json!({ "link": "https://localhost/mgmt/shared/authz/users/admin" });
    let refused = req(Method::POST, TOKENS)
        .token(&op)
        .json(&json!({ "token": "OPERATORMADETHISFORADMIN22", "user": admin_link }))
        .send(&b)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.message().starts_with("Au"), "{}", refused.message());
    let empty = req(Method::POST, TOKENS).token(&op).json(&json!({ "token": "" })).send(&b).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let granted = req(Method::POST, TOKENS)
        .basic(ADMIN)
        .json(&json!({ "token": "ADMINMADETHISFOROPERATOR22", "user": { "link": "https://localhost/mgmt/shared/authz/users/operator" }, "timeout": 600 }))
        .send(&b)
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(granted.body["userName"], "operator");
    assert_eq!(granted.body["timeout"], 600);
}

// ----- WSDL -----

/// 1.8 [P] bigsuds: the WSDL of an interface is at `/iControl/iControlPortal.cgi?WSDL=
/// System.Session` behind HTTP Basic; written from F5's `System::Session` signatures
/// (SOAP-SEED), RPC/encoded in `urn:iControl:System/Session`, its `soap:address` the
/// portal at the request's scheme and `Host`. Fetching it opens no session.
#[tokio::test]
async fn wsdl_of_system_session_names_the_portal_that_served_it() {
    let b = bigip("bigip17");
    let reply = req(Method::GET, &format!("{PORTAL}?WSDL=System.Session"))
        .basic(ADMIN)
        .header("host", "bigip-a.example:8443")
        .send(&b)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.text.contains(
        "<soap:address location=\"http://bigip-a.example:8443/iControl/iControlPortal.cgi\"/>"
    ));
    insta::assert_snapshot!("wsdl_system_session", reply.xml_view());
    let info = req(Method::GET, &format!("{PORTAL}?WSDL=System.SystemInfo"))
        .basic(OPERATOR)
        .header("host", "127.0.0.1:9201")
        .send(&b)
        .await;
    assert_eq!(info.status, StatusCode::OK);
    insta::assert_snapshot!("wsdl_system_systeminfo", info.xml_view());
    assert_eq!(b.device.store.counts(b.device.now()).total, 0);
}

/// Every operation the WSDL describes is one the portal answers (one table drives both).
#[tokio::test]
async fn every_wsdl_operation_is_answered_by_the_portal() {
    let b = bigip("bigip17");
    for interface in bigip::wsdl::INTERFACES {
        let path = interface.path();
        for method in interface.methods.iter().filter(|m| m.name.starts_with("get_")) {
            let xml = soap(method.name, "").replace("System/Session", &path);
            let reply = soap_call(&b, ADMIN, xml).await;
            assert_eq!(reply.status, StatusCode::OK, "{path} {}: {}", method.name, reply.text);
        }
    }
}

/// 1.8 [P] bigsuds (suds' HttpAuthenticated answers a challenge): without credentials
/// the WSDL is a 401 with a Basic challenge; an interface the emulator does not implement
/// is a 404 naming the ones it does; without `WSDL=` the portal lists its WSDLs in the
/// form bigsuds' `get_wsdls` reads (`/iControl/iControlPortal.cgi\?WSDL=([^"]+)"`).
#[tokio::test]
async fn wsdl_needs_credentials_and_a_known_interface() {
    let b = bigip("bigip17");
    let anonymous = req(Method::GET, &format!("{PORTAL}?WSDL=System.Session")).send(&b).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.header("www-authenticate").is_some_and(|v| v.starts_with("Basic realm=")));
    let unknown =
        req(Method::GET, &format!("{PORTAL}?WSDL=LocalLB.Pool")).basic(ADMIN).send(&b).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_rest_snapshot!("wsdl_unknown_interface", unknown);
    let index = req(Method::GET, PORTAL).basic(ADMIN).send(&b).await;
    assert_eq!(index.status, StatusCode::OK);
    for name in ["System.Session", "System.SystemInfo"] {
        assert!(index.text.contains(&format!("{PORTAL}?WSDL={name}\"")), "{}", index.text);
    }
}

/// `bigip.wsdl_location` [U] replaces the address (F5's published WSDLs carry
/// `https://url_to_service`; whether a device rewrites it is not documented).
#[tokio::test]
async fn wsdl_location_is_a_knob() {
    let b = bigip_with("bigip15", |p| {
        settings(p).wsdl_location = "https://url_to_service".to_string();
    });
    let reply =
        req(Method::GET, &format!("{PORTAL}?WSDL=System.Session")).basic(ADMIN).send(&b).await;
    assert!(reply.text.contains("<soap:address location=\"https://url_to_service\"/>"));
}
