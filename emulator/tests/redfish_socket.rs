//! The DMTF Redfish personality over a real socket: an `EmulatedDevice` on 127.0.0.1:0
//! with a virtual clock, driven with reqwest (no cookie store). Time moves only through
//! `EmulatedDevice::advance`; nothing sleeps.
//!
//! Each test cites the clause of the Redfish Specification, DMTF DSP0266
//! (https://www.dmtf.org/dsp/DSP0266), it checks.

use std::time::Duration;

use emulator::profile::Profile;
use emulator::session::{EndReason, EventKind};
use emulator::EmulatedDevice;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

struct Bmc {
    device: EmulatedDevice,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Token(&'a str),
    Basic(&'a str, &'a str),
}

struct Login {
    token: String,
    location: String,
    body: Value,
}

impl Bmc {
    async fn start() -> Bmc {
        let profile = Profile::embedded("redfish").expect("embedded profile");
        let device = EmulatedDevice::start(profile).await.expect("device starts");
        Bmc { device, http: reqwest::Client::new() }
    }

    fn admin(&self) -> (String, String) {
        self.device.credentials()
    }

    async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        self.call_with(method, path, auth, body, &[]).await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = format!("{}{path}", self.device.url());
        let mut request = self.http.request(method, url);
        request = match auth {
            Auth::None => request,
            Auth::Token(token) => request.header("X-Auth-Token", token),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body }
    }

    async fn try_login(&self, user: &str, password: &str) -> Reply {
        let body = json!({ "UserName": user, "Password": password });
        self.call(Method::POST, SESSIONS, Auth::None, Some(body)).await
    }

    async fn login(&self, user: &str, password: &str) -> Login {
        let reply = self.try_login(user, password).await;
        assert_eq!(reply.status, StatusCode::CREATED, "login {user}: {}", reply.body);
        Login {
            token: reply.header("x-auth-token").expect("X-Auth-Token").to_string(),
            location: reply.header("location").expect("Location").to_string(),
            body: reply.body,
        }
    }

    async fn login_admin(&self) -> Login {
        let (user, password) = self.admin();
        self.login(&user, &password).await
    }

    /// The status a token gets on a protected resource.
    async fn use_token(&self, token: &str) -> StatusCode {
        self.call(Method::GET, "/redfish/v1/SessionService", Auth::Token(token), None).await.status
    }

    fn advance(&self, secs: u64) {
        self.device.advance(Duration::from_secs(secs)).expect("virtual clock");
    }

    fn open_sessions(&self) -> usize {
        let device = self.device.device();
        device.store.list(device.now()).len()
    }
}

/// DSP0266 Redfish login sessions: login, use, logout, and the token is rejected afterwards with NoValidSession.
#[tokio::test]
async fn login_use_logout_then_token_is_dead() {
    let bmc = Bmc::start().await;
    let login = bmc.login_admin().await;
    assert_eq!(login.token.len(), 32);
    assert_eq!(login.body["@odata.id"], login.location.as_str());
    assert_eq!(login.body["ClientOriginIPAddress"], "127.0.0.1");
    assert_eq!(bmc.use_token(&login.token).await, StatusCode::OK);
    let bye = bmc.call(Method::DELETE, &login.location, Auth::Token(&login.token), None).await;
    assert_eq!(bye.status, StatusCode::NO_CONTENT);
    let after =
        bmc.call(Method::GET, "/redfish/v1/Managers/1", Auth::Token(&login.token), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.message_ids(), ["Base.1.18.NoValidSession"]);
    assert!(after.header("www-authenticate").is_some());
    assert_eq!(bmc.open_sessions(), 0);
}

/// DSP0266 Redfish login sessions: two logins in a row get different Locations, tokens and no Set-Cookie.
#[tokio::test]
async fn two_logins_get_different_locations() {
    let bmc = Bmc::start().await;
    let (user, password) = bmc.admin();
    let first = bmc.try_login(&user, &password).await;
    let second = bmc.try_login(&user, &password).await;
    assert!(first.header("set-cookie").is_none() && second.header("set-cookie").is_none());
    assert_ne!(first.header("location"), second.header("location"));
    assert_ne!(first.header("x-auth-token"), second.header("x-auth-token"));
    let token = first.header("x-auth-token").expect("token");
    let list = bmc.call(Method::GET, SESSIONS, Auth::Token(token), None).await;
    assert_eq!(list.body["Members@odata.count"], 2);
}

/// DSP0266 Redfish login sessions: a session unused for SessionTimeout seconds ends; valid just before, dead at the timeout.
#[tokio::test]
async fn idle_session_ends_at_session_timeout() {
    let bmc = Bmc::start().await;
    let login = bmc.login_admin().await;
    bmc.advance(1799);
    assert_eq!(bmc.use_token(&login.token).await, StatusCode::OK, "1 s before the timeout");
    // That use renewed the idle timer (sliding): 1800 s of silence from here.
    bmc.advance(1799);
    assert_eq!(bmc.open_sessions(), 1, "still alive 1 s before the renewed deadline");
    bmc.advance(1);
    assert_eq!(bmc.open_sessions(), 0, "the reaper ended it at the deadline");
    assert_eq!(bmc.use_token(&login.token).await, StatusCode::UNAUTHORIZED);
    let device = bmc.device.device();
    let reason = device.store.events(device.now()).into_iter().find_map(|e| match e.kind {
        EventKind::Ended { reason } => Some(reason),
        _ => None,
    });
    assert_eq!(reason, Some(EndReason::IdleTimeout));
}

/// DSP0266 Redfish login sessions: when the table is full, login fails with SessionLimitExceeded (503); a logout frees a slot.
#[tokio::test]
async fn full_table_refuses_login_until_a_logout() {
    let bmc = Bmc::start().await;
    let mut logins = Vec::new();
    for _ in 0..16 {
        logins.push(bmc.login("operator", "sessionlab").await);
    }
    let (user, password) = bmc.admin();
    let refused = bmc.try_login(&user, &password).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.message_ids(), ["Base.1.18.SessionLimitExceeded"]);
    assert!(refused.header("x-auth-token").is_none());
    // Basic does not need a slot in this profile (one-request sessions do not count).
    let basic = bmc.call(Method::GET, SESSIONS, Auth::Basic(&user, &password), None).await;
    assert_eq!(basic.status, StatusCode::OK);
    assert_eq!(basic.body["Members@odata.count"], 16);
    let first = &logins[0];
    let bye = bmc.call(Method::DELETE, &first.location, Auth::Token(&first.token), None).await;
    assert_eq!(bye.status, StatusCode::NO_CONTENT);
    bmc.login(&user, &password).await;
}

/// DSP0266 Redfish login sessions (SessionTimeout) with the profile's timeout_change_applies_to_existing = false: a PATCH applies to later sessions.
#[tokio::test]
async fn session_timeout_patch_applies_to_new_sessions() {
    let bmc = Bmc::start().await;
    let before = bmc.login_admin().await;
    let patch = bmc
        .call(
            Method::PATCH,
            "/redfish/v1/SessionService",
            Auth::Token(&before.token),
            Some(json!({ "SessionTimeout": 60 })),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK);
    assert_eq!(patch.body["SessionTimeout"], 60);
    let after = bmc.login("operator", "sessionlab").await;
    bmc.advance(59);
    let device = bmc.device.device();
    assert!(device.store.get(after.body["Id"].as_str().expect("id"), device.now()).is_some());
    bmc.advance(1);
    assert_eq!(bmc.use_token(&after.token).await, StatusCode::UNAUTHORIZED, "new session: 60 s");
    assert_eq!(bmc.use_token(&before.token).await, StatusCode::OK, "older session keeps 1800 s");
}

/// DSP0266 Account service, Privilege model (PATCH Password) with the profile's on_password_change = end-user-sessions: that user's sessions end, not others'.
#[tokio::test]
async fn password_change_ends_the_users_sessions() {
    let bmc = Bmc::start().await;
    let admin = bmc.login_admin().await;
    let op1 = bmc.login("operator", "sessionlab").await;
    let op2 = bmc.login("operator", "sessionlab").await;
    let uri = "/redfish/v1/AccountService/Accounts/operator";
    let patch = bmc
        .call(
            Method::PATCH,
            uri,
            Auth::Token(&admin.token),
            Some(json!({ "Password": "rotated-1" })),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK);
    assert_eq!(bmc.use_token(&op1.token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(bmc.use_token(&op2.token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(bmc.use_token(&admin.token).await, StatusCode::OK);
    assert_eq!(bmc.try_login("operator", "sessionlab").await.status, StatusCode::UNAUTHORIZED);
    bmc.login("operator", "rotated-1").await;
}

/// DSP0266 Account service, Privilege model (DELETE) with the profile's on_user_delete = end-user-sessions: the account's sessions end.
#[tokio::test]
async fn account_deletion_ends_its_sessions() {
    let bmc = Bmc::start().await;
    let admin = bmc.login_admin().await;
    let created = bmc
        .call(
            Method::POST,
            "/redfish/v1/AccountService/Accounts",
            Auth::Token(&admin.token),
            Some(json!({ "UserName": "temp", "Password": "temp-pass-1", "RoleId": "ReadOnly" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let location = created.header("location").expect("Location").to_string();
    let temp = bmc.login("temp", "temp-pass-1").await;
    assert_eq!(bmc.use_token(&temp.token).await, StatusCode::OK);
    let deleted = bmc.call(Method::DELETE, &location, Auth::Token(&admin.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(bmc.use_token(&temp.token).await, StatusCode::UNAUTHORIZED);
    let gone = bmc.call(Method::GET, &location, Auth::Token(&admin.token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.message_ids(), ["Base.1.18.ResourceNotFound"]);
}

/// DESIGN.md Every ending has a reason (device restart), via the Manager.Reset: every session ends, the caller's included.
#[tokio::test]
async fn manager_reset_ends_all_sessions() {
    let bmc = Bmc::start().await;
    let admin = bmc.login_admin().await;
    let others =
        [bmc.login("operator", "sessionlab").await, bmc.login("readonly", "sessionlab").await];
    let reset = bmc
        .call(
            Method::POST,
            "/redfish/v1/Managers/1/Actions/Manager.Reset",
            Auth::Token(&admin.token),
            Some(json!({ "ResetType": "GracefulRestart" })),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    assert_eq!(bmc.open_sessions(), 0);
    assert_eq!(bmc.use_token(&admin.token).await, StatusCode::UNAUTHORIZED);
    for login in &others {
        assert_eq!(bmc.use_token(&login.token).await, StatusCode::UNAUTHORIZED);
    }
    let device = bmc.device.device();
    let restarts = device
        .store
        .events(device.now())
        .iter()
        .filter(|e| e.kind == EventKind::Ended { reason: EndReason::Restart })
        .count();
    assert_eq!(restarts, 3);
}

/// DSP0266 Authentication: Basic never requires creating a session; its request leaves none behind.
#[tokio::test]
async fn basic_request_leaves_no_session_behind() {
    let bmc = Bmc::start().await;
    let (user, password) = bmc.admin();
    for path in ["/redfish/v1/SessionService", SESSIONS, "/redfish/v1/Managers/1"] {
        let reply = bmc.call(Method::GET, path, Auth::Basic(&user, &password), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(reply.header("x-auth-token").is_none(), "{path}");
        assert!(reply.header("set-cookie").is_none(), "{path}");
    }
    let wrong = bmc.call(Method::GET, SESSIONS, Auth::Basic(&user, "wrong"), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bmc.open_sessions(), 0);
    let device = bmc.device.device();
    let events = device.store.events(device.now());
    let created = events.iter().filter(|e| e.kind == EventKind::Created).count();
    let ended = events
        .iter()
        .filter(|e| e.kind == EventKind::Ended { reason: EndReason::RequestEnd })
        .count();
    assert_eq!((created, ended), (3, 3));
    assert!(events.iter().all(|e| e.session_type == "redfish-basic"));
}

/// DSP0266 Account service, Privilege model: GET gives an ETag that changes with the account; a stale If-Match gets 412 and changes nothing.
#[tokio::test]
async fn stale_if_match_gets_412_and_changes_nothing() {
    let bmc = Bmc::start().await;
    let admin = bmc.login_admin().await;
    let uri = "/redfish/v1/AccountService/Accounts/readonly";
    let first = bmc.call(Method::GET, uri, Auth::Token(&admin.token), None).await;
    let etag = first.header("etag").expect("ETag").to_string();
    assert_eq!(first.body["@odata.etag"], etag.as_str());
    let fresh = bmc
        .call_with(
            Method::PATCH,
            uri,
            Auth::Token(&admin.token),
            Some(json!({ "Password": "second-pass" })),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    let new_etag = fresh.header("etag").expect("ETag").to_string();
    assert_ne!(new_etag, etag);
    let stale = bmc
        .call_with(
            Method::PATCH,
            uri,
            Auth::Token(&admin.token),
            Some(json!({ "Password": "third-pass" })),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.message_ids(), ["Base.1.18.PreconditionFailed"]);
    assert_eq!(bmc.try_login("readonly", "third-pass").await.status, StatusCode::UNAUTHORIZED);
    bmc.login("readonly", "second-pass").await;
    let now = bmc.call(Method::GET, uri, Auth::Token(&admin.token), None).await;
    assert_eq!(now.header("etag"), Some(new_etag.as_str()));
}

/// DSP0266 Password change required handling: PasswordChangeRequired may log in (with the message), read and PATCH its own account; the PATCH clears the flag.
#[tokio::test]
async fn password_change_required_flow() {
    let bmc = Bmc::start().await;
    let admin = bmc.login_admin().await;
    let uri = "/redfish/v1/AccountService/Accounts/operator";
    let flagged = bmc
        .call(
            Method::PATCH,
            uri,
            Auth::Token(&admin.token),
            Some(json!({ "PasswordChangeRequired": true })),
        )
        .await;
    assert_eq!(flagged.status, StatusCode::OK);
    assert_eq!(flagged.body["PasswordChangeRequired"], true);

    let reply = bmc.try_login("operator", "sessionlab").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.message_ids(), ["Base.1.18.PasswordChangeRequired"]);
    let token = reply.header("x-auth-token").expect("token").to_string();

    let own = bmc.call(Method::GET, uri, Auth::Basic("operator", "sessionlab"), None).await;
    assert_eq!(own.status, StatusCode::OK);
    let etag = own.header("etag").expect("ETag").to_string();
    for (method, path) in [
        (Method::GET, SESSIONS),
        (Method::GET, "/redfish/v1/SessionService"),
        (Method::GET, "/redfish/v1/AccountService/Accounts/admin"),
    ] {
        let refused = bmc.call(method.clone(), path, Auth::Token(&token), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(refused.message_ids(), ["Base.1.18.PasswordChangeRequired"], "{path}");
    }
    let other_attribute =
        bmc.call(Method::PATCH, uri, Auth::Token(&token), Some(json!({ "Enabled": true }))).await;
    assert_eq!(other_attribute.status, StatusCode::FORBIDDEN);

    let changed = bmc
        .call_with(
            Method::PATCH,
            uri,
            Auth::Token(&token),
            Some(json!({ "Password": "chosen-by-me" })),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body["PasswordChangeRequired"], false);
    assert_eq!(bmc.use_token(&token).await, StatusCode::UNAUTHORIZED, "credential change ended it");
    let fresh = bmc.login("operator", "chosen-by-me").await;
    assert!(fresh.body.get("@Message.ExtendedInfo").is_none());
    let list = bmc.call(Method::GET, SESSIONS, Auth::Token(&fresh.token), None).await;
    assert_eq!(list.status, StatusCode::OK);
}

/// DSP0266 Authentication: cookies never authenticate, whatever they carry.
#[tokio::test]
async fn cookies_never_authenticate_over_the_wire() {
    let bmc = Bmc::start().await;
    let login = bmc.login_admin().await;
    let cookie = format!("X-Auth-Token={0}; SESSION={0}", login.token);
    let reply = bmc
        .call_with(Method::GET, SESSIONS, Auth::None, None, &[("Cookie", cookie.as_str())])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// A login's raw answer over its own connection: the head's lines after the status line,
/// and the body.
async fn raw_login(bmc: &Bmc, user: &str, password: &str) -> (String, Vec<String>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = reqwest::Url::parse(&bmc.device.url()).expect("device URL");
    let addr = format!("{}:{}", url.host_str().expect("host"), url.port().expect("port"));
    let body = json!({ "UserName": user, "Password": password }).to_string();
    let request = format!(
        "POST {SESSIONS} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read to the close");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    let mut lines = head.split("\r\n").map(str::to_string);
    let status = lines.next().expect("status line");
    (status, lines.collect(), body.to_string())
}

/// DSP0266 Redfish login sessions: a refused login (a full table, a wrong password) is written with the last step's headers in their order, its length last and true.
#[tokio::test]
async fn refused_logins_are_written_whole_with_their_length_last() {
    let bmc = Bmc::start().await;
    for _ in 0..16 {
        bmc.login("operator", "sessionlab").await;
    }
    let (user, password) = bmc.admin();
    let standard = ["content-type", "odata-version", "server", "cache-control"];
    // `Connection: close` is hyper's answer to the request's; the length comes after.
    let last = ["date", "connection", "content-length"];
    let full = [&standard[..], &last].concat();
    let unauthorized = [&standard[..], &["www-authenticate"], &last].concat();
    for (password, status, names) in [
        (password.as_str(), "HTTP/1.1 503 Service Unavailable", full),
        ("wrong", "HTTP/1.1 401 Unauthorized", unauthorized),
    ] {
        let (line, head, body) = raw_login(&bmc, &user, password).await;
        assert_eq!(line, status);
        let written: Vec<&str> =
            head.iter().map(|l| l.split_once(':').expect("a header").0).collect();
        assert_eq!(written, names, "{head:?}");
        let length = head.last().expect("content-length").split_once(": ").expect("value").1;
        assert_eq!(length, body.len().to_string());
    }
}
