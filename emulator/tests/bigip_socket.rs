//! The F5 BIG-IP personality over a real socket: an `EmulatedDevice` on 127.0.0.1:0
//! with a virtual clock, driven with reqwest. Time moves only through
//! `EmulatedDevice::advance`; nothing sleeps.
//!
//! Each test cites the clause of `shared/vendors/bigip-solace.md` (Part 1) or the seed
//! document (`SOAP-SEED`: `System::Session`, `seeds/001_*.txt`) it checks.

use std::time::Duration;

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const TOKENS: &str = "/mgmt/shared/authz/tokens";
const PORTAL: &str = "/iControl/iControlPortal.cgi";
const OPERATOR_UUID: &str = "4b583376-b276-3b92-bc3e-1da60d10de59";

struct Bigip {
    device: EmulatedDevice,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    body: Value,
    text: String,
}

impl Reply {
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Token(&'a str),
    Basic(&'a str, &'a str),
    Both(&'a str, &'a str, &'a str),
}

const ADMIN: Auth<'static> = Auth::Basic("admin", "sessionlab");
const OPERATOR: Auth<'static> = Auth::Basic("operator", "sessionlab");

impl Bigip {
    /// The status line of a token-authenticated GET, read off the socket (HTTP clients
    /// hide reason phrases).
    async fn raw_status_line(&self, token: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.device.url().trim_start_matches("http://").to_string();
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET /mgmt/tm/sys/version HTTP/1.1\r\nHost: bigip\r\nX-F5-Auth-Token: {token}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
    }

    async fn start(profile: &str) -> Bigip {
        let profile = Profile::embedded(profile).expect("embedded profile");
        let device = EmulatedDevice::start(profile).await.expect("device starts");
        Bigip { device, http: reqwest::Client::new() }
    }

    async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.device.url()));
        request = match auth {
            Auth::None => request,
            Auth::Token(t) => request.header("X-F5-Auth-Token", t),
            Auth::Basic(u, p) => request.basic_auth(u, Some(p)),
            Auth::Both(t, u, p) => request.header("X-F5-Auth-Token", t).basic_auth(u, Some(p)),
        };
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text }
    }

    async fn try_login(&self, user: &str, password: &str) -> Reply {
        let body = json!({ "username": user, "password": password, "loginProviderName": "tmos" });
        self.call(Method::POST, "/mgmt/shared/authn/login", Auth::None, Some(body)).await
    }

    async fn login(&self, user: &str) -> String {
        let reply = self.try_login(user, "sessionlab").await;
        assert_eq!(reply.status, StatusCode::OK, "login {user}: {}", reply.text);
        reply.body["token"]["token"].as_str().expect("token").to_string()
    }

    async fn use_token(&self, token: &str) -> Reply {
        self.call(Method::GET, "/mgmt/tm/sys/version", Auth::Token(token), None).await
    }

    fn advance(&self, secs: u64) {
        self.device.advance(Duration::from_secs(secs)).expect("virtual clock");
    }

    fn open(&self, session_type: &str) -> usize {
        let device = self.device.device();
        device.store.counts(device.now()).by_type.get(session_type).copied().unwrap_or(0)
    }

    /// One SOAP call of `System.Session`, with an optional `X-iControl-Session` header and
    /// SOAP `session` header element.
    async fn soap(
        &self,
        who: (&str, &str),
        method: &str,
        params: &str,
        http_session: Option<&str>,
        soap_session: Option<&str>,
    ) -> Reply {
        let header = soap_session
            .map(|id| format!("<session xmlns=\"urn:iControl\" s:type=\"y:long\">{id}</session>"))
            .unwrap_or_default();
        let xml = format!(
            "<?xml version=\"1.0\"?><SOAP-ENV:Envelope \
             xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:s=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xmlns:y=\"http://www.w3.org/2001/XMLSchema\"><SOAP-ENV:Header>{header}\
             </SOAP-ENV:Header><SOAP-ENV:Body><m:{method} \
             xmlns:m=\"urn:iControl:System/Session\">{params}</m:{method}></SOAP-ENV:Body>\
             </SOAP-ENV:Envelope>"
        );
        let mut request = self
            .http
            .post(format!("{}{PORTAL}", self.device.url()))
            .basic_auth(who.0, Some(who.1))
            .header("content-type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("urn:iControl:System/Session#{method}"))
            .body(xml);
        if let Some(id) = http_session {
            request = request.header("X-iControl-Session", id);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body read");
        Reply { status, body: Value::Null, text }
    }

    async fn session_id(&self, who: (&str, &str)) -> String {
        let reply = self.soap(who, "get_session_identifier", "", None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        returned(&reply).to_string()
    }
}

/// The text of `<return ...>TEXT</return>`.
fn returned(reply: &Reply) -> &str {
    let start = reply.text.find("<return").expect("a return element");
    let rest = &reply.text[start..];
    let open = rest.find('>').expect("end of the start tag") + 1;
    let close = rest.find("</return>").expect("end tag");
    &rest[open..close]
}

const ADMIN_PAIR: (&str, &str) = ("admin", "sessionlab");
const OPERATOR_PAIR: (&str, &str) = ("operator", "sessionlab");

// ----- REST tokens -----

/// 1.1: login gives a 26-character base32 token that authenticates requests in
/// `X-F5-Auth-Token`.
#[tokio::test]
async fn login_then_token_authenticates() {
    let b = Bigip::start("bigip15").await;
    let token = b.login("admin").await;
    assert_eq!(token.len(), 26);
    assert!(token.bytes().all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
    let reply = b.use_token(&token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["kind"], "tm:sys:version:versionstats");
}

/// 1.1 (F5-AUTHDOC): when both are sent, "the token scheme takes precedence": a good
/// token wins over wrong Basic, a deleted token loses even with good Basic.
#[tokio::test]
async fn token_header_wins_over_basic() {
    let b = Bigip::start("bigip15").await;
    let token = b.login("admin").await;
    let ok = b
        .call(Method::GET, "/mgmt/tm/sys/version", Auth::Both(&token, "admin", "wrong"), None)
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    b.call(Method::DELETE, &format!("{TOKENS}/{token}"), Auth::Token(&token), None).await;
    let refused = b
        .call(Method::GET, "/mgmt/tm/sys/version", Auth::Both(&token, "admin", "sessionlab"), None)
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.message(), "X-F5-Auth-Token does not exist.");
}

/// 1.2: expiry is absolute: use does not extend it, and at creation + 1200 s the token
/// is "expired".
#[tokio::test]
async fn expiry_is_absolute_from_creation() {
    let b = Bigip::start("bigip15").await;
    let token = b.login("admin").await;
    for _ in 0..11 {
        b.advance(109);
        assert_eq!(b.use_token(&token).await.status, StatusCode::OK);
    }
    b.advance(1); // 1200 s after creation, though used 1 s ago
    let reply = b.use_token(&token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "X-F5-Auth-Token has expired.");
}

/// 1.2: an expired token says "has expired"; a deleted one "does not exist"; both 401
/// with the error envelope.
#[tokio::test]
async fn expired_and_deleted_tokens_have_different_messages() {
    let b = Bigip::start("bigip15").await;
    let expiring = b.login("admin").await;
    let deleted = b.login("admin").await;
    let logout =
        b.call(Method::DELETE, &format!("{TOKENS}/{deleted}"), Auth::Token(&deleted), None).await;
    assert_eq!(logout.status, StatusCode::OK);
    b.advance(1200);
    let e = b.use_token(&expiring).await;
    let d = b.use_token(&deleted).await;
    assert_eq!((e.status, e.message()), (StatusCode::UNAUTHORIZED, "X-F5-Auth-Token has expired."));
    assert_eq!(
        (d.status, d.message()),
        (StatusCode::UNAUTHORIZED, "X-F5-Auth-Token does not exist.")
    );
    for token in [&expiring, &deleted] {
        // 1.2 [C]: the status line reads "401 F5 Authorization Required".
        let line = b.raw_status_line(token).await;
        assert_eq!(line, "HTTP/1.1 401 F5 Authorization Required");
    }
    for reply in [&e, &d] {
        assert_eq!(reply.body["code"], 401);
        assert_eq!(reply.body["kind"], ":resterrorresponse");
        assert_eq!(reply.body["referer"], "127.0.0.1");
        assert!(reply.body["restOperationId"].is_u64());
    }
}

/// 1.3 ([C] AST #153 on 17.1.2.1): a client that logs out after its token expired gets 401.
#[tokio::test]
async fn logout_after_expiry_is_401() {
    let b = Bigip::start("bigip17-1-2").await;
    let token = b.login("operator").await;
    b.advance(1200);
    let reply =
        b.call(Method::DELETE, &format!("{TOKENS}/{token}"), Auth::Token(&token), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// 1.2: PATCH raises the timeout up to 36000 s; the new expiry counts from creation
/// (profile default); above 36000 the answer is 406.
#[tokio::test]
async fn patch_timeout_counts_from_creation_and_caps_at_36000() {
    let b = Bigip::start("bigip15").await;
    let token = b.login("admin").await;
    b.advance(1000);
    let patched = b
        .call(
            Method::PATCH,
            &format!("{TOKENS}/{token}"),
            Auth::Token(&token),
            Some(json!({ "timeout": 3600 })),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["timeout"], 3600);
    let start = patched.body["lastUpdateMicros"].as_i64().unwrap() - 1_000_000_000;
    let expires = patched.body["expirationMicros"].as_i64().unwrap();
    assert_eq!(expires - start / 1000 * 1000, 3_600_000_000, "creation + 3600 s");
    b.advance(2599);
    assert_eq!(b.use_token(&token).await.status, StatusCode::OK);
    b.advance(1);
    assert_eq!(b.use_token(&token).await.message(), "X-F5-Auth-Token has expired.");

    let other = b.login("admin").await;
    let refused = b
        .call(
            Method::PATCH,
            &format!("{TOKENS}/{other}"),
            Auth::Token(&other),
            Some(json!({ "timeout": 36001 })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(refused.message(), "Auth-token absolute timeout (36000 seconds) exceeded");
    let max = b
        .call(
            Method::PATCH,
            &format!("{TOKENS}/{other}"),
            Auth::Token(&other),
            Some(json!({ "timeout": 36000 })),
        )
        .await;
    assert_eq!(max.status, StatusCode::OK);
}

/// 1.4: a non-admin user's 101st login gets 400 `user <uuid> has reached maximum active
/// login tokens`, the uuid being `nameUUIDFromBytes(user)`.
#[tokio::test]
async fn hundred_and_first_login_is_refused() {
    let b = Bigip::start("bigip17").await;
    for _ in 0..100 {
        b.login("operator").await;
    }
    let reply = b.try_login("operator", "sessionlab").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.message(),
        format!("user {OPERATOR_UUID} has reached maximum active login tokens")
    );
    assert_eq!(reply.body["code"], 400);
}

/// 1.4: "The only exception is the admin user": admin may hold more than 100 tokens.
#[tokio::test]
async fn admin_is_exempt_from_the_token_limit() {
    let b = Bigip::start("bigip15").await;
    for _ in 0..101 {
        b.login("admin").await;
    }
    assert_eq!(b.open("rest-token"), 101);
}

/// 1.5: Basic auth creates no token, so it never counts against the 100.
#[tokio::test]
async fn basic_requests_do_not_use_up_tokens() {
    let b = Bigip::start("bigip15").await;
    for _ in 0..150 {
        let r = b.call(Method::GET, "/mgmt/shared/echo-query", OPERATOR, None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_eq!(b.open("rest-token"), 0);
    b.login("operator").await;
}

/// 1.4 (BIGREST #13): deleting tokens frees the user's slots on 15.1 and 17.1.
#[tokio::test]
async fn deleting_tokens_frees_the_user() {
    for profile in ["bigip15", "bigip17"] {
        let b = Bigip::start(profile).await;
        let mut tokens = Vec::new();
        for _ in 0..100 {
            tokens.push(b.login("operator").await);
        }
        assert_eq!(b.try_login("operator", "sessionlab").await.status, StatusCode::BAD_REQUEST);
        let one = &tokens[0];
        b.call(Method::DELETE, &format!("{TOKENS}/{one}"), Auth::Token(one), None).await;
        b.login("operator").await;
        let cleared = b.call(Method::DELETE, TOKENS, OPERATOR, None).await;
        assert_eq!(cleared.status, StatusCode::OK);
        assert_eq!(cleared.body["items"].as_array().map(Vec::len), Some(100), "{profile}");
        b.login("operator").await;
    }
}

/// 1.4 (bug ID1787517, ASTs #125/#151/#153): on 17.1.2.x deleted and expired tokens keep
/// counting until restjavad restarts; the restart frees the user.
#[tokio::test]
async fn on_17_1_2_released_tokens_count_until_restjavad_restarts() {
    let b = Bigip::start("bigip17-1-2").await;
    for _ in 0..50 {
        b.login("operator").await;
    }
    b.advance(1200); // these 50 expire
    for _ in 0..50 {
        b.login("operator").await;
    }
    let cleared = b.call(Method::DELETE, TOKENS, OPERATOR, None).await;
    assert_eq!(cleared.body["items"].as_array().map(Vec::len), Some(50));
    assert_eq!(b.open("rest-token"), 0);
    let refused = b.try_login("operator", "sessionlab").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.message(),
        format!("user {OPERATOR_UUID} has reached maximum active login tokens")
    );

    let by_operator = b
        .call(
            Method::POST,
            "/mgmt/tm/sys/service/restjavad",
            OPERATOR,
            Some(json!({ "command": "restart" })),
        )
        .await;
    assert_eq!(by_operator.status, StatusCode::UNAUTHORIZED);
    let restart = b
        .call(
            Method::POST,
            "/mgmt/tm/sys/service/restjavad",
            ADMIN,
            Some(json!({ "command": "restart" })),
        )
        .await;
    assert_eq!(restart.status, StatusCode::OK, "{}", restart.text);
    b.login("operator").await;
}

/// 1.7 (default keep): a password change leaves the user's tokens valid.
#[tokio::test]
async fn password_change_keeps_tokens_by_default() {
    let b = Bigip::start("bigip15").await;
    let token = b.login("operator").await;
    let changed = b
        .call(
            Method::PATCH,
            "/mgmt/tm/auth/user/operator",
            ADMIN,
            Some(json!({ "password": "new-pass" })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(b.use_token(&token).await.status, StatusCode::OK);
    assert_eq!(b.try_login("operator", "sessionlab").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(b.try_login("operator", "new-pass").await.status, StatusCode::OK);
}

// ----- SOAP System.Session -----

/// SOAP-SEED: without an id the session is keyed by user name: a variable set in one
/// request is seen by the next; an explicit id is a distinct session.
#[tokio::test]
async fn default_session_is_keyed_by_user_name() {
    let b = Bigip::start("bigip15").await;
    let set = b
        .soap(ADMIN_PAIR, "set_active_folder", "<folder>/george/server</folder>", None, None)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let again = b.soap(ADMIN_PAIR, "get_active_folder", "", None, None).await;
    assert_eq!(returned(&again), "/george/server");
    let other_user = b.soap(OPERATOR_PAIR, "get_active_folder", "", None, None).await;
    assert_eq!(returned(&other_user), "/Common");
    let id = b.session_id(ADMIN_PAIR).await;
    let explicit = b.soap(ADMIN_PAIR, "get_active_folder", "", Some(&id), None).await;
    assert_eq!(returned(&explicit), "/Common");
}

/// SOAP-SEED get_session_identifier: the id may come in `X-iControl-Session` or the
/// SOAP `session` element, and "the SOAP header element value will take precedence".
#[tokio::test]
async fn soap_header_session_wins_over_http_header() {
    let b = Bigip::start("bigip15").await;
    let a = b.session_id(ADMIN_PAIR).await;
    let c = b.session_id(ADMIN_PAIR).await;
    assert_ne!(a, c);
    b.soap(ADMIN_PAIR, "set_active_folder", "<folder>/A</folder>", Some(&a), None).await;
    b.soap(ADMIN_PAIR, "set_active_folder", "<folder>/C</folder>", None, Some(&c)).await;
    let both = b.soap(ADMIN_PAIR, "get_active_folder", "", Some(&a), Some(&c)).await;
    assert_eq!(returned(&both), "/C");
    let http_only = b.soap(ADMIN_PAIR, "get_active_folder", "", Some(&a), None).await;
    assert_eq!(returned(&http_only), "/A");
}

/// SOAP-SEED set_session_timeout: an expired default session is silently recreated with
/// default values; an expired explicit id is an error.
#[tokio::test]
async fn expired_default_is_recreated_and_expired_id_is_an_error() {
    let b = Bigip::start("bigip15").await;
    let id = b.session_id(ADMIN_PAIR).await;
    b.soap(ADMIN_PAIR, "set_active_folder", "<folder>/kept</folder>", None, None).await;
    b.advance(1799);
    let still = b.soap(ADMIN_PAIR, "get_active_folder", "", None, None).await;
    assert_eq!(returned(&still), "/kept", "idle timer renewed by use");
    b.advance(1800);
    let fresh = b.soap(ADMIN_PAIR, "get_active_folder", "", None, None).await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(returned(&fresh), "/Common");
    let gone = b.soap(ADMIN_PAIR, "get_active_folder", "", Some(&id), None).await;
    assert_eq!(gone.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(gone.text.contains("Exception: Common::OperationFailed"), "{}", gone.text);
}

/// SOAP-SEED set_force_sessions_state: once on, requests without an id get "Could not
/// find the iControl session for <user>"; get_session_identifier still works.
#[tokio::test]
async fn force_sessions_requires_an_explicit_id() {
    let b = Bigip::start("bigip15").await;
    let on = b
        .soap(ADMIN_PAIR, "set_force_sessions_state", "<state>STATE_ENABLED</state>", None, None)
        .await;
    assert_eq!(on.status, StatusCode::OK);
    let refused = b.soap(OPERATOR_PAIR, "get_session_timeout", "", None, None).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(refused.text.contains("Could not find the iControl session for operator"));
    let id = b.session_id(OPERATOR_PAIR).await;
    let ok = b.soap(OPERATOR_PAIR, "get_session_timeout", "", Some(&id), None).await;
    assert_eq!(returned(&ok), "1800");
}

/// SOAP-SEED set_maximum_sessions: default 50; past it new sessions are rejected with an
/// error; 0 means unlimited.
#[tokio::test]
async fn maximum_sessions_limits_and_zero_is_unlimited() {
    let b = Bigip::start("bigip15").await;
    for _ in 0..49 {
        b.session_id(ADMIN_PAIR).await; // plus admin's default session: 50
    }
    let refused = b.soap(ADMIN_PAIR, "get_session_identifier", "", None, None).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", refused.text);
    let other = b.soap(OPERATOR_PAIR, "get_session_timeout", "", None, None).await;
    assert_eq!(
        other.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a new default session is a session too"
    );
    let unlimited =
        b.soap(ADMIN_PAIR, "set_maximum_sessions", "<sessions>0</sessions>", None, None).await;
    assert_eq!(unlimited.status, StatusCode::OK, "{}", unlimited.text);
    b.session_id(ADMIN_PAIR).await;
    let max = b.soap(ADMIN_PAIR, "get_maximum_sessions", "", None, None).await;
    assert_eq!(returned(&max), "0");
    assert_eq!(b.open("soap"), 51);
}

/// SOAP-SEED set_session_timeout: the timeout is global and idle; 0 means one request per
/// session.
#[tokio::test]
async fn zero_timeout_means_one_request_per_session() {
    let b = Bigip::start("bigip15").await;
    let set = b.soap(ADMIN_PAIR, "set_session_timeout", "<timeout>0</timeout>", None, None).await;
    assert_eq!(set.status, StatusCode::OK);
    let id = b.session_id(ADMIN_PAIR).await;
    let first = b.soap(ADMIN_PAIR, "get_session_timeout", "", Some(&id), None).await;
    assert_eq!(returned(&first), "0");
    let second = b.soap(ADMIN_PAIR, "get_session_timeout", "", Some(&id), None).await;
    assert_eq!(second.status, StatusCode::INTERNAL_SERVER_ERROR);
    b.soap(ADMIN_PAIR, "set_active_folder", "<folder>/gone</folder>", None, None).await;
    let default = b.soap(ADMIN_PAIR, "get_active_folder", "", None, None).await;
    assert_eq!(returned(&default), "/Common", "the default session lasted one request");
}

/// SOAP-SEED start_transaction: one open transaction per session; sessions are separate;
/// submit or rollback with none open is an error.
#[tokio::test]
async fn one_transaction_per_session() {
    let b = Bigip::start("bigip15").await;
    let id = b.session_id(ADMIN_PAIR).await;
    assert_eq!(
        b.soap(ADMIN_PAIR, "start_transaction", "", None, None).await.status,
        StatusCode::OK
    );
    let twice = b.soap(ADMIN_PAIR, "start_transaction", "", None, None).await;
    assert_eq!(twice.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        b.soap(ADMIN_PAIR, "start_transaction", "", Some(&id), None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        b.soap(ADMIN_PAIR, "rollback_transaction", "", None, None).await.status,
        StatusCode::OK
    );
    let none = b.soap(ADMIN_PAIR, "submit_transaction", "", None, None).await;
    assert_eq!(none.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        b.soap(ADMIN_PAIR, "submit_transaction", "", Some(&id), None).await.status,
        StatusCode::OK
    );
}

/// SOAP-SEED: "Only administrators can set this value" for the three settings.
#[tokio::test]
async fn only_administrators_change_session_settings() {
    let b = Bigip::start("bigip15").await;
    for (method, params) in [
        ("set_maximum_sessions", "<sessions>5</sessions>"),
        ("set_session_timeout", "<timeout>60</timeout>"),
        ("set_force_sessions_state", "<state>STATE_ENABLED</state>"),
    ] {
        let reply = b.soap(OPERATOR_PAIR, method, params, None, None).await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{method}");
        assert!(reply.text.contains("Common::AccessDenied"), "{}", reply.text);
    }
}

/// 1.4 (bug ID1787517): a device restart through the control API also frees the leaked
/// token counts, as a reboot does.
#[tokio::test]
async fn control_api_restart_clears_leaked_token_counts() {
    let b = Bigip::start("bigip17-1-2").await;
    for _ in 0..100 {
        b.login("operator").await;
    }
    b.call(Method::DELETE, TOKENS, OPERATOR, None).await;
    assert_eq!(b.try_login("operator", "sessionlab").await.status, StatusCode::BAD_REQUEST);
    let name = b.device.device().name().to_string();
    let url = format!("{}/_sessionlab/devices/{name}/restart", b.device.control());
    let restarted = b.http.post(url).send().await.expect("control API answers");
    assert!(restarted.status().is_success(), "{}", restarted.status());
    b.login("operator").await;
}

// ----- WSDL -----

/// 1.8 [P] bigsuds fetches `?WSDL=System.Session` over HTTPS before any call: on a TLS
/// listener the WSDL's `soap:address` is `https://` with the host and port the client
/// used, so a SOAP client that keeps the WSDL's address calls this device back.
#[tokio::test]
async fn wsdl_address_on_a_tls_listener_is_https_with_the_port() {
    let mut options = EmulatedDevice::options(Profile::embedded("bigip17").expect("profile"));
    options.tls = true;
    let device = options.start().await.expect("device starts");
    let http = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    let reply = http
        .get(format!("{}{PORTAL}?WSDL=System.Session", device.url()))
        .basic_auth("admin", Some("sessionlab"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(reply.status(), StatusCode::OK);
    let text = reply.text().await.unwrap();
    let expected = format!("<soap:address location=\"{}{PORTAL}\"/>", device.url());
    assert!(device.url().starts_with("https://127.0.0.1:"));
    assert!(text.contains(&expected), "{expected} in {text}");
}
