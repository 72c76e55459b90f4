//! The HPE iLO personality over a real socket: an `EmulatedDevice` on 127.0.0.1:0 with a
//! virtual clock, driven with reqwest (no cookie store). Time moves only through
//! `EmulatedDevice::advance`; nothing sleeps.
//!
//! The centre piece is seed 000's `ilorest --nocache` story: a script that logs in and
//! never logs out fills the table, every later login is refused, and only a logout, an
//! expiry at `UserExpires`, an admin delete or an iLO reset frees a slot. Each test cites
//! the seed or the clause of `shared/vendors/ilo-idrac.md` it checks.

use std::time::Duration;

use chrono::DateTime;
use emulator::profile::Profile;
use emulator::session::{EndReason, EventKind};
use emulator::EmulatedDevice;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SESSIONS: &str = "/redfish/v1/SessionService/Sessions/";
/// The REST/Web UI pool of the iLO profiles (assumed: ilo-idrac.md 1.9 [U]).
const LIMIT: usize = 10;

struct Ilo {
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
        let info =
            self.body["error"]["@Message.ExtendedInfo"].as_array().cloned().unwrap_or_default();
        info.iter()
            .filter_map(|m| m.get("MessageId").or_else(|| m.get("MessageID")))
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Token(&'a str),
    Basic(&'a str, &'a str),
}

/// A session as a client holds it.
struct Login {
    token: String,
    /// The absolute `Location`.
    location: String,
    /// Its path, for later requests.
    path: String,
}

impl Ilo {
    async fn start(profile: &str) -> Ilo {
        let profile = Profile::embedded(profile).expect("embedded profile");
        let device = EmulatedDevice::start(profile).await.expect("device starts");
        Ilo { device, http: reqwest::Client::new() }
    }

    fn name(&self) -> String {
        self.device.device().name().to_string()
    }

    async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        let url = format!("{}{path}", self.device.url());
        let mut request = self.http.request(method, url);
        request = match auth {
            Auth::None => request,
            Auth::Token(token) => request.header("X-Auth-Token", token),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
        };
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    async fn try_login(&self) -> Reply {
        let (user, password) = self.device.credentials();
        let body = json!({ "UserName": user, "Password": password });
        self.call(Method::POST, SESSIONS, Auth::None, Some(body)).await
    }

    async fn login(&self) -> Login {
        let reply = self.try_login().await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let location = reply.header("location").expect("Location").to_string();
        let base = self.device.url();
        let path = location.strip_prefix(&base).expect("Location on this device").to_string();
        Login { token: reply.header("x-auth-token").expect("token").to_string(), location, path }
    }

    /// What `ilorest --nocache` leaves behind, run until the table refuses it.
    async fn fill(&self) -> Vec<Login> {
        let mut held = Vec::new();
        for _ in 0..LIMIT {
            held.push(self.login().await);
        }
        held
    }

    async fn refused(&self) -> bool {
        let reply = self.try_login().await;
        if reply.status == StatusCode::CREATED {
            return false;
        }
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
        assert!(reply.message_ids()[0].ends_with(".SessionLimitExceeded"), "{}", reply.body);
        true
    }

    async fn token_status(&self, token: &str) -> StatusCode {
        self.call(Method::GET, SESSIONS, Auth::Token(token), None).await.status
    }

    fn advance(&self, secs: u64) {
        self.device.advance(Duration::from_secs(secs)).expect("virtual clock");
    }

    fn open_sessions(&self) -> usize {
        let device = self.device.device();
        device.store.list(device.now()).len()
    }

    async fn control(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}/_sessionlab/devices/{}{path}", self.device.control(), self.name());
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("control API");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn id_of(login: &Login) -> String {
    login.path.trim_end_matches('/').rsplit('/').next().expect("id").to_string()
}

// ----- the --nocache story -----

/// Seed 000: logging in again and again without logout (ilorest --nocache) fills the table; every later login is refused until something frees a slot.
#[tokio::test]
async fn nocache_logins_fill_the_table_and_lock_everyone_out() {
    for profile in ["ilo4", "ilo5", "ilo6"] {
        let ilo = Ilo::start(profile).await;
        let held = ilo.fill().await;
        assert_eq!(ilo.open_sessions(), LIMIT, "{profile}");
        for _ in 0..3 {
            assert!(ilo.refused().await, "{profile}: a login got through a full table");
        }
        // The abandoned sessions are still valid: nothing expires them while they idle.
        assert_eq!(ilo.token_status(&held[0].token).await, StatusCode::OK);
        let refusals = ilo
            .device
            .device()
            .store
            .events(ilo.device.device().now())
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Refused { .. }))
            .count();
        assert_eq!(refusals, 3, "{profile}");
    }
}

/// Seed 000 and ilo-idrac.md 1.5 [C]: a logout (DELETE of the Location) frees one slot.
#[tokio::test]
async fn logout_frees_a_slot_in_a_full_table() {
    let ilo = Ilo::start("ilo5").await;
    let held = ilo.fill().await;
    assert!(ilo.refused().await);
    let bye = ilo.call(Method::DELETE, &held[3].path, Auth::Token(&held[3].token), None).await;
    assert_eq!(bye.status, StatusCode::OK);
    assert_eq!(bye.message_ids(), ["Base.1.4.Success"]);
    ilo.login().await;
    assert!(ilo.refused().await, "only one slot was freed");
}

/// Seed 000 and ilo-idrac.md 1.8 [P][C]: the abandoned sessions end at UserExpires (AccessTime + 30 min), and then logins work again.
#[tokio::test]
async fn expiry_at_user_expires_frees_the_table() {
    let ilo = Ilo::start("ilo5").await;
    let held = ilo.fill().await;
    // The last one stays in use, so its UserExpires slides.
    ilo.advance(10 * 60);
    let mine = ilo.call(Method::GET, &held[9].path, Auth::Token(&held[9].token), None).await;
    let block = &mine.body["Oem"]["Hpe"];
    let expires = DateTime::parse_from_rfc3339(block["UserExpires"].as_str().expect("UserExpires"))
        .expect("time");
    let access = DateTime::parse_from_rfc3339(block["AccessTime"].as_str().expect("AccessTime"))
        .expect("time");
    assert_eq!((expires - access).num_seconds(), 30 * 60);
    assert!(ilo.refused().await);
    ilo.advance(20 * 60 - 1);
    assert!(ilo.refused().await, "one second before UserExpires the table is still full");
    ilo.advance(1);
    assert_eq!(ilo.open_sessions(), 1, "nine idled out at their UserExpires");
    assert_eq!(ilo.token_status(&held[0].token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(ilo.token_status(&held[9].token).await, StatusCode::OK);
    ilo.login().await;
}

/// Seed 000 ("a manual delete"): an administrator deleting a session through the control API frees its slot; the deleted token gets NoValidSession.
#[tokio::test]
async fn admin_delete_through_the_control_api_frees_a_slot() {
    let ilo = Ilo::start("ilo6").await;
    let held = ilo.fill().await;
    assert!(ilo.refused().await);
    let (status, answer) =
        ilo.control(Method::DELETE, &format!("/sessions/{}", id_of(&held[0])), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let dead = ilo.call(Method::GET, SESSIONS, Auth::Token(&held[0].token), None).await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED);
    assert_eq!(dead.message_ids(), ["Base.1.18.NoValidSession"]);
    assert!(dead.header("www-authenticate").is_none());
    ilo.login().await;
}

/// Seed 000 (`ilorest rawdelete`) and ilo-idrac.md 1.4 [P]: a session still held can list the table and delete the others.
#[tokio::test]
async fn a_held_session_can_clean_up_the_others() {
    let ilo = Ilo::start("ilo5").await;
    let held = ilo.fill().await;
    let admin = &held[9];
    let listed = ilo.call(Method::GET, SESSIONS, Auth::Token(&admin.token), None).await;
    let mine = listed.body["Oem"]["Hpe"]["Links"]["MySession"]["@odata.id"].clone();
    for member in listed.body["Members"].as_array().expect("members") {
        if member["@odata.id"] != mine {
            let uri = member["@odata.id"].as_str().expect("uri");
            let reply = ilo.call(Method::DELETE, uri, Auth::Token(&admin.token), None).await;
            assert_eq!(reply.status, StatusCode::OK);
        }
    }
    assert_eq!(ilo.open_sessions(), 1);
    ilo.login().await;
}

/// Seed 000 ("or an iLO reset") and ilo-idrac.md 1.9 [P]: Manager.Reset ends every session and the table is free again.
#[tokio::test]
async fn manager_reset_frees_the_table() {
    let ilo = Ilo::start("ilo4").await;
    let held = ilo.fill().await;
    assert!(ilo.refused().await);
    let reset = "/redfish/v1/Managers/1/Actions/Manager.Reset/";
    let reply = ilo.call(Method::POST, reset, Auth::Token(&held[0].token), Some(json!({}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(ilo.open_sessions(), 0);
    for login in &held {
        assert_eq!(ilo.token_status(&login.token).await, StatusCode::UNAUTHORIZED);
    }
    let ended = ilo
        .device
        .device()
        .store
        .events(ilo.device.device().now())
        .iter()
        .filter(|e| e.kind == EventKind::Ended { reason: EndReason::Restart })
        .count();
    assert_eq!(ended, LIMIT);
    ilo.login().await;
}

// ----- the other behaviours -----

/// ilo-idrac.md 1.2 [C]: Location is absolute, on this device, ends in /, and the DELETE of it logs out.
#[tokio::test]
async fn location_is_absolute_and_logs_out() {
    let ilo = Ilo::start("ilo5").await;
    let login = ilo.login().await;
    assert!(login
        .location
        .starts_with(&format!("{}/redfish/v1/SessionService/Sessions/", ilo.device.url())));
    assert!(login.location.ends_with('/'));
    let member = ilo.call(Method::GET, &login.path, Auth::Token(&login.token), None).await;
    assert_eq!(member.body["Oem"]["Hpe"]["UserIP"], "127.0.0.1");
    assert_eq!(member.body["@odata.id"], login.path.as_str());
    let bye = ilo.call(Method::DELETE, &login.path, Auth::Token(&login.token), None).await;
    assert_eq!(bye.status, StatusCode::OK);
    assert_eq!(ilo.open_sessions(), 0);
}

/// ilo-idrac.md 1.7 [P][C]: a Basic request shows exactly its own transient session, and leaves none behind.
#[tokio::test]
async fn basic_requests_leave_no_session() {
    let ilo = Ilo::start("ilo6").await;
    let (user, password) = ilo.device.credentials();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let reply = ilo.call(Method::GET, SESSIONS, Auth::Basic(&user, &password), None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["Members@odata.count"], 1);
        seen.push(reply.body["Members"][0]["@odata.id"].clone());
        assert_eq!(ilo.open_sessions(), 0);
    }
    assert_ne!(seen[0], seen[1]);
}

/// ilo-idrac.md 1.3 [P]: sessions opened through the control API as Web UI, SSH and Remote Console show those UserTags and their client address.
#[tokio::test]
async fn control_api_sessions_show_their_user_tag() {
    let ilo = Ilo::start("ilo5").await;
    for (kind, addr) in [("web", "10.0.0.1"), ("ssh", "10.0.0.2"), ("remote-console", "10.0.0.3")] {
        let body = json!({ "user": "operator", "session_type": kind, "client_addr": addr });
        let (status, answer) = ilo.control(Method::POST, "/sessions", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let login = ilo.login().await;
    let listed = ilo.call(Method::GET, SESSIONS, Auth::Token(&login.token), None).await;
    let mut seen = Vec::new();
    for member in listed.body["Members"].as_array().expect("members") {
        let uri = member["@odata.id"].as_str().expect("uri");
        let reply = ilo.call(Method::GET, uri, Auth::Token(&login.token), None).await;
        let block = &reply.body["Oem"]["Hpe"];
        seen.push((block["UserTag"].clone(), block["UserIP"].clone()));
    }
    assert_eq!(
        seen,
        [
            (json!("Web UI"), json!("10.0.0.1")),
            (json!("SSH"), json!("10.0.0.2")),
            (json!("Remote Console"), json!("10.0.0.3")),
            (json!("REST"), json!("127.0.0.1")),
        ]
    );
}

/// ilo-idrac.md 1.9 [C]: SSH sessions have their own pool (CommandShell MaxConcurrentSessions 9), so a full SSH pool leaves REST logins alone.
#[tokio::test]
async fn ssh_pool_is_separate_from_rest() {
    let ilo = Ilo::start("ilo5").await;
    for _ in 0..9 {
        let body = json!({ "user": "operator", "session_type": "ssh" });
        let (status, _) = ilo.control(Method::POST, "/sessions", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _) = ilo
        .control(
            Method::POST,
            "/sessions",
            Some(json!({ "user": "operator", "session_type": "ssh" })),
        )
        .await;
    assert_ne!(status, StatusCode::CREATED, "the tenth SSH session is refused");
    ilo.login().await;
}

/// ilo-idrac.md 1.10 [I]: deleting an account through the control API ends its sessions.
#[tokio::test]
async fn deleting_an_account_ends_its_sessions() {
    let ilo = Ilo::start("ilo5").await;
    let body = json!({ "UserName": "operator", "Password": "sessionlab" });
    let reply = ilo.call(Method::POST, SESSIONS, Auth::None, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let token = reply.header("x-auth-token").expect("token").to_string();
    let (status, answer) = ilo.control(Method::DELETE, "/users/operator", None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(ilo.token_status(&token).await, StatusCode::UNAUTHORIZED);
}

/// ilo-idrac.md 1.6 [P]: a wrong password gets UnauthorizedLoginAttempt under the iLO registry, answered at once with the delay knob at 0.
#[tokio::test]
async fn wrong_password_gets_unauthorized_login_attempt() {
    let ilo = Ilo::start("ilo6").await;
    let body = json!({ "UserName": "Administrator", "Password": "nope" });
    let reply = ilo.call(Method::POST, SESSIONS, Auth::None, Some(body)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message_ids(), ["iLO.2.30.UnauthorizedLoginAttempt"]);
    let root = ilo.call(Method::GET, "/redfish/v1/", Auth::None, None).await;
    assert_eq!(root.body["Oem"]["Hpe"]["Sessions"]["LoginFailureDelay"], 0);
}

/// ilo-idrac.md 1.2 [C]: `Location` is absolute; on a TLS listener it says `https` whatever the port, so a client that logs out at it (sushy) reaches the same listener.
#[tokio::test]
async fn location_on_a_tls_listener_is_https_on_any_port() {
    let mut options = EmulatedDevice::options(Profile::embedded("ilo5").expect("profile"));
    options.tls = true;
    let device = options.start().await.expect("device starts");
    let url = device.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let http =
        reqwest::Client::builder().danger_accept_invalid_certs(true).build().expect("client");
    let reply = http
        .post(format!("{url}{SESSIONS}"))
        .json(&json!({ "UserName": "Administrator", "Password": "sessionlab" }))
        .send()
        .await
        .expect("login");
    assert_eq!(reply.status(), StatusCode::CREATED);
    let location = reply.headers()["location"].to_str().expect("ascii").to_string();
    let token = reply.headers()["x-auth-token"].to_str().expect("ascii").to_string();
    assert!(location.starts_with(&format!("{url}{SESSIONS}")), "{location} on {url}");
    let logout = http.delete(&location).header("X-Auth-Token", token).send().await.expect("logout");
    assert_eq!(logout.status(), StatusCode::OK);
    let device = device.device();
    assert!(device.store.list(device.now()).is_empty());
}
