//! The iDRAC personality over real sockets: an `EmulatedDevice` on 127.0.0.1:0 with a
//! virtual clock, driven with reqwest and the control API. Time moves only through
//! `EmulatedDevice::advance`; nothing sleeps.
//!
//! Each test cites the clause of `shared/vendors/ilo-idrac.md` it checks.

use std::time::Duration;

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The 2022 RAC0218 body, byte for byte (ilo-idrac.md 2.4, bb-Ricardo/check_redfish#89).
const RAC0218_2022: &str = r#"{"error":{"@Message.ExtendedInfo":[{"Message":"The maximum number of user sessions is reached.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"IDRAC.2.4.RAC0218","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"Make sure that the number of active sessions is less than or equal to the threshold limit. To end a current session and start a new session, do one of the following: 1) Log out of iDRAC by using a Graphical User Interface (GUI). 2) End any unused session by running the following RACADM command at the Command Line Interface (CLI): racadm closessn -i [session id].Warning: Ending a session may abruptly stop any running operation on that specific iDRAC session.","Severity":"Informational"}],"code":"Base.1.7.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information"}}"#;

struct Idrac {
    device: EmulatedDevice,
    http: reqwest::Client,
    sessions: &'static str,
    name: &'static str,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    raw: String,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct Login {
    token: String,
    uri: String,
}

impl Idrac {
    async fn start(name: &'static str) -> Idrac {
        let profile = Profile::embedded(name).expect("embedded profile");
        let device = EmulatedDevice::start(profile).await.expect("device starts");
        let sessions = if name == "idrac8" {
            "/redfish/v1/Sessions"
        } else {
            "/redfish/v1/SessionService/Sessions"
        };
        Idrac { device, http: reqwest::Client::new(), sessions, name }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.device.url()));
        if let Some(token) = token {
            req = req.header("X-Auth-Token", token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("answer");
        let status = resp.status();
        let headers = resp.headers().clone();
        let raw = resp.text().await.expect("body");
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Reply { status, headers, raw, body }
    }

    async fn try_login(&self) -> Reply {
        let (user, password) = self.device.credentials();
        let body = json!({ "UserName": user, "Password": password });
        self.call(Method::POST, self.sessions, None, Some(body)).await
    }

    async fn login(&self) -> Login {
        let r = self.try_login().await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", self.name, r.raw);
        Login {
            token: r.header("x-auth-token").expect("token").to_string(),
            uri: r.header("location").expect("location").to_string(),
        }
    }

    async fn alive(&self, token: &str) -> bool {
        let r = self.call(Method::GET, "/redfish/v1/SessionService", Some(token), None).await;
        match r.status {
            StatusCode::OK => true,
            StatusCode::UNAUTHORIZED => false,
            other => panic!("unexpected {other}: {}", r.raw),
        }
    }

    /// Opens a session of `kind` through the control API (GUI, SSH, console, ...).
    async fn open(&self, kind: &str) -> reqwest::Response {
        let url = format!("{}/_sessionlab/devices/{}/sessions", self.device.control(), self.name);
        let body = json!({ "user": "root", "session_type": kind, "client_addr": "192.0.2.50" });
        self.http.post(url).json(&body).send().await.expect("control API")
    }

    fn advance(&self, secs: u64) {
        self.device.advance(Duration::from_secs(secs)).expect("virtual clock");
    }

    fn count(&self, kind: &str) -> usize {
        let now = self.device.device().now();
        self.device.device().store.counts(now).by_type.get(kind).copied().unwrap_or(0)
    }
}

/// ilo-idrac.md 2.4 [C]: iDRAC9 5.10's web-server pool holds 8; the 9th login gets 503
/// with the captured RAC0218 body byte for byte; one logout frees one slot.
#[tokio::test]
async fn ninth_login_gets_rac0218_and_a_logout_frees_a_slot() {
    let bmc = Idrac::start("idrac9").await;
    let mut logins = Vec::new();
    for _ in 0..8 {
        logins.push(bmc.login().await);
    }
    let full = bmc.try_login().await;
    assert_eq!(full.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(full.raw, RAC0218_2022);
    assert_eq!(
        full.header("content-type"),
        Some("application/json;odata.metadata=minimal;charset=utf-8")
    );
    let first = &logins[0];
    let out = bmc.call(Method::DELETE, &first.uri, Some(&first.token), None).await;
    assert_eq!(out.status, StatusCode::OK);
    bmc.login().await;
    assert_eq!(bmc.try_login().await.status, StatusCode::SERVICE_UNAVAILABLE);
}

/// ilo-idrac.md 2.4 [P]: "A maximum of 4 iDRAC Web GUI sessions" on iDRAC8, shared with
/// Redfish [I]: two GUI sessions leave room for two logins.
#[tokio::test]
async fn idrac8_web_pool_of_four_is_shared_with_gui_sessions() {
    let bmc = Idrac::start("idrac8").await;
    for _ in 0..2 {
        assert_eq!(bmc.open("gui").await.status(), StatusCode::CREATED);
    }
    bmc.login().await;
    bmc.login().await;
    let full = bmc.try_login().await;
    assert_eq!(full.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(full.raw.contains("IDRAC.2.1.RAC0218"));
    assert_eq!(
        bmc.open("gui").await.status(),
        StatusCode::CONFLICT,
        "the control API sees the same pool"
    );
}

/// ilo-idrac.md 2.4 [C]: each type has its own pool (SSH 4, racadm 2, virtual console 6,
/// VNC 2); filling them leaves Redfish logins alone.
#[tokio::test]
async fn each_session_type_has_its_own_pool() {
    let bmc = Idrac::start("idrac9").await;
    for (kind, limit) in [("ssh", 4), ("racadm", 2), ("virtual-console", 6), ("vnc", 2)] {
        for _ in 0..limit {
            assert_eq!(bmc.open(kind).await.status(), StatusCode::CREATED, "{kind}");
        }
        assert_eq!(bmc.open(kind).await.status(), StatusCode::CONFLICT, "{kind} pool full");
    }
    bmc.login().await;
}

/// ilo-idrac.md 2.5 [P][C]: sliding idle timeouts per type: Redfish 1800 s (renewed by
/// use), racadm 60 s, VNC 300 s, the virtual console without one (TimeoutEnable
/// Disabled); the reaper ends them when the virtual clock moves.
#[tokio::test]
async fn idle_timeouts_are_per_type_and_sliding() {
    let bmc = Idrac::start("idrac9").await;
    let a = bmc.login().await;
    for kind in ["racadm", "vnc", "virtual-console", "gui"] {
        bmc.open(kind).await;
    }
    bmc.advance(61);
    assert_eq!(bmc.count("racadm"), 0, "Racadm.Timeout 60");
    assert_eq!(bmc.count("vnc"), 1);
    bmc.advance(240);
    assert_eq!(bmc.count("vnc"), 0, "VNCServer.Timeout 300");
    assert!(bmc.alive(&a.token).await, "1800 s not reached; this use renews it");
    bmc.advance(1799);
    assert!(bmc.alive(&a.token).await);
    assert_eq!(bmc.count("gui"), 0, "the GUI session was never used");
    bmc.advance(1801);
    assert!(!bmc.alive(&a.token).await);
    bmc.advance(30 * 86_400);
    assert_eq!(bmc.count("virtual-console"), 1, "no virtual console timeout");
}

/// ilo-idrac.md 2.5 [P]: "Changes to idle time out settings take effect at the next
/// login": a shorter `WebServer.1.Timeout` ends new sessions sooner, not old ones.
#[tokio::test]
async fn timeout_changes_apply_at_the_next_login() {
    let bmc = Idrac::start("idrac9").await;
    let old = bmc.login().await;
    let patch = json!({ "Attributes": { "WebServer.1.Timeout": 120 } });
    let r = bmc
        .call(
            Method::PATCH,
            "/redfish/v1/Managers/iDRAC.Embedded.1/Attributes",
            Some(&old.token),
            Some(patch),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let service = bmc.call(Method::GET, "/redfish/v1/SessionService", Some(&old.token), None).await;
    assert_eq!(service.body["SessionTimeout"], 120);
    let new = bmc.login().await;
    bmc.advance(121);
    assert!(!bmc.alive(&new.token).await);
    assert!(bmc.alive(&old.token).await);
}

/// ilo-idrac.md 2.3 [P]: logout is 200 on iDRAC9 and 204 on iDRAC10; the deleted
/// session's URI then answers 404 and its token 401 with `WWW-Authenticate`.
#[tokio::test]
async fn logout_statuses_and_what_follows() {
    for (name, status) in [
        ("idrac8", StatusCode::OK),
        ("idrac9", StatusCode::OK),
        ("idrac10", StatusCode::NO_CONTENT),
    ] {
        let bmc = Idrac::start(name).await;
        let a = bmc.login().await;
        let b = bmc.login().await;
        let r = bmc.call(Method::DELETE, &a.uri, Some(&a.token), None).await;
        assert_eq!(r.status, status, "{name}");
        assert_eq!(
            bmc.call(Method::GET, &a.uri, Some(&b.token), None).await.status,
            StatusCode::NOT_FOUND
        );
        let dead = bmc.call(Method::GET, "/redfish/v1/SessionService", Some(&a.token), None).await;
        assert_eq!(dead.status, StatusCode::UNAUTHORIZED);
        assert_eq!(dead.header("www-authenticate"), Some("Basic realm=\"RedfishService\""));
    }
}

/// ilo-idrac.md 2.1 [C]: iDRAC8 answers 405 to a login at
/// `/redfish/v1/SessionService/Sessions`; iDRAC9 accepts both paths.
#[tokio::test]
async fn new_sessions_path_per_generation() {
    let body = json!({ "UserName": "root", "Password": "calvin" });
    let idrac8 = Idrac::start("idrac8").await;
    let r = idrac8
        .call(Method::POST, "/redfish/v1/SessionService/Sessions", None, Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let idrac9 = Idrac::start("idrac9").await;
    for path in ["/redfish/v1/Sessions", "/redfish/v1/SessionService/Sessions"] {
        let r = idrac9.call(Method::POST, path, None, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}");
    }
}

/// The control API's restart ends every session; the Redfish token is dead after it.
#[tokio::test]
async fn restart_ends_every_session() {
    let bmc = Idrac::start("idrac10").await;
    let a = bmc.login().await;
    bmc.open("ssh").await;
    let url = format!("{}/_sessionlab/devices/idrac10/restart", bmc.device.control());
    let r = bmc.http.post(url).send().await.expect("control API");
    assert!(r.status().is_success());
    assert!(!bmc.alive(&a.token).await);
    assert_eq!(bmc.count("ssh"), 0);
}
