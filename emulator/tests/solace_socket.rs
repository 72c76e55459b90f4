//! The Solace PubSub+ personality over a real socket: an [`EmulatedDevice`] on port 0 and
//! reqwest clients that keep cookies (`.cookie_store(true)`) the way Broker Manager,
//! Solace's Ansible collection or a Python `requests.Session` do.
//!
//! Time moves only through [`EmulatedDevice::advance`] (the virtual clock); no test sleeps.
//! Each test cites the seed document (`seed 003`) or Part 2 of
//! `shared/vendors/bigip-solace.md`.

use std::time::Duration;

use emulator::profile::Profile;
use emulator::session::{EndReason, EventKind};
use emulator::EmulatedDevice;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const ABOUT_USER: &str = "/SEMP/v2/monitor/about/user";
const LOGOUT: &str = "/SEMP/v2/action/about/user/logout";

async fn broker(profile: &str) -> EmulatedDevice {
    EmulatedDevice::start(Profile::embedded(profile).expect("embedded profile"))
        .await
        .expect("emulated broker")
}

/// A client that keeps cookies, like a `requests.Session`.
fn browser() -> Client {
    Client::builder().cookie_store(true).build().expect("client")
}

/// A client that never keeps cookies.
fn forgetful() -> Client {
    Client::builder().build().expect("client")
}

/// A broker's URL for `path`.
fn url(dev: &EmulatedDevice, path: &str) -> String {
    format!("{}{path}", dev.url())
}

/// Logs `client` in with Basic credentials; the answer's cookie lands in its jar.
async fn login(dev: &EmulatedDevice, client: &Client, user: &str, password: &str) -> Value {
    let reply =
        client.get(url(dev, ABOUT_USER)).basic_auth(user, Some(password)).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let cookie =
        reply.headers().get("set-cookie").expect("Set-Cookie").to_str().unwrap().to_string();
    assert!(cookie.starts_with("Session="), "{cookie}");
    reply.json().await.unwrap()
}

async fn admin_login(dev: &EmulatedDevice, client: &Client) -> Value {
    let (user, password) = dev.credentials();
    login(dev, client, &user, &password).await
}

/// The status of an `about/user` request sent with only what the client's jar holds.
async fn status(dev: &EmulatedDevice, client: &Client) -> StatusCode {
    client.get(url(dev, ABOUT_USER)).send().await.unwrap().status()
}

fn open(dev: &EmulatedDevice) -> usize {
    let device = dev.device();
    device.store.counts(device.now()).total
}

fn reasons(dev: &EmulatedDevice) -> Vec<EndReason> {
    let device = dev.device();
    device
        .store
        .events(device.now())
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Ended { reason } => Some(reason),
            _ => None,
        })
        .collect()
}

/// bigip-solace.md 2.1: the first request with Basic opens a session and sets the
/// `Session` cookie; a cookie-keeping client then needs no credentials, and no second
/// session opens.
#[tokio::test]
async fn basic_login_then_cookie_reuse_without_credentials() {
    let dev = broker("solace-software-100").await;
    let client = browser();
    let first = admin_login(&dev, &client).await;
    for _ in 0..3 {
        let reply = client.get(url(&dev, ABOUT_USER)).send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        assert!(reply.headers().get("set-cookie").is_none());
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["data"]["sessionId"], first["data"]["sessionId"]);
    }
    assert_eq!(open(&dev), 1);
}

/// bigip-solace.md 2.4: `PUT .../about/user/logout` with `{}` ends the session; the
/// cookie is dead afterwards (seed 003: "the associated token immediately becomes invalid").
#[tokio::test]
async fn logout_ends_the_session() {
    let dev = broker("solace-software-100").await;
    let client = browser();
    admin_login(&dev, &client).await;
    let reply = client.put(url(&dev, LOGOUT)).json(&json!({})).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(status(&dev, &client).await, StatusCode::UNAUTHORIZED);
    assert_eq!(open(&dev), 0);
    assert_eq!(reasons(&dev), vec![EndReason::Logout]);
}

/// seed 003: sessions are invalidated after 15 minutes without activity (idle timeout).
#[tokio::test]
async fn idle_timeout_ends_the_session() {
    let dev = broker("solace-software-100").await;
    let client = browser();
    admin_login(&dev, &client).await;
    dev.advance(Duration::from_secs(14 * 60)).unwrap();
    assert_eq!(status(&dev, &client).await, StatusCode::OK);
    dev.advance(Duration::from_secs(15 * 60)).unwrap();
    assert_eq!(status(&dev, &client).await, StatusCode::UNAUTHORIZED);
    assert_eq!(reasons(&dev), vec![EndReason::IdleTimeout]);
}

/// seed 003: sessions are invalidated at their maximum lifetime "regardless of activity";
/// bigip-solace.md 2.3: `serviceSempSessionMaxLifetime` is PATCHed on `/SEMP/v2/config`.
#[tokio::test]
async fn max_lifetime_ends_a_busy_session() {
    let dev = broker("solace-software-100").await;
    let admin = browser();
    admin_login(&dev, &admin).await;
    let patched = admin
        .patch(url(&dev, "/SEMP/v2/config"))
        .json(&json!({"serviceSempSessionMaxLifetime": 20}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let client = browser();
    login(&dev, &client, "operator", "sessionlab").await;
    for _ in 0..3 {
        dev.advance(Duration::from_secs(6 * 60)).unwrap();
        assert_eq!(status(&dev, &client).await, StatusCode::OK);
    }
    dev.advance(Duration::from_secs(2 * 60)).unwrap();
    assert_eq!(status(&dev, &client).await, StatusCode::UNAUTHORIZED);
    assert!(reasons(&dev).contains(&EndReason::MaxLifetime));
}

/// seed 003: when a user's credentials change the broker deletes all sessions of that
/// user, and no one else's.
#[tokio::test]
async fn credential_change_ends_that_users_sessions_only() {
    let dev = broker("solace-software-100").await;
    let admin = browser();
    admin_login(&dev, &admin).await;
    let operator = browser();
    login(&dev, &operator, "operator", "sessionlab").await;
    let reply = admin
        .patch(url(&dev, "/SEMP/v2/__private_config__/usernames/operator"))
        .json(&json!({"password": "changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(status(&dev, &operator).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&dev, &admin).await, StatusCode::OK);
    assert_eq!(reasons(&dev), vec![EndReason::CredentialChange]);
}

/// seed 003: "If the auth-type configuration changes, the event broker deletes all sessions."
#[tokio::test]
async fn auth_type_change_ends_every_session() {
    let dev = broker("solace-software-100").await;
    let admin = browser();
    admin_login(&dev, &admin).await;
    let operator = browser();
    login(&dev, &operator, "operator", "sessionlab").await;
    let reply = admin
        .patch(url(&dev, "/SEMP/v2/__private_config__"))
        .json(&json!({"cliAuthType": "radius"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(status(&dev, &operator).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&dev, &admin).await, StatusCode::UNAUTHORIZED);
    assert_eq!(reasons(&dev), vec![EndReason::AuthConfigChange; 2]);
}

/// seed 003: the same ending through the control API (`POST .../auth-config`).
#[tokio::test]
async fn control_api_auth_config_change_ends_every_session() {
    let dev = broker("solace-software-100").await;
    let client = browser();
    admin_login(&dev, &client).await;
    let name = dev.device().name().to_string();
    let reply = forgetful()
        .post(format!("{}/_sessionlab/devices/{name}/auth-config", dev.control()))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{}", reply.status());
    assert_eq!(status(&dev, &client).await, StatusCode::UNAUTHORIZED);
    assert_eq!(reasons(&dev), vec![EndReason::AuthConfigChange]);
}

/// bigip-solace.md 2.4 and seed 003: an admin deletes another user's session with
/// `PUT /SEMP/v2/action/sessions/{user},{id}/delete`.
#[tokio::test]
async fn admin_delete_ends_the_session() {
    let dev = broker("solace-software-100").await;
    let victim = browser();
    let about = login(&dev, &victim, "monitor", "sessionlab").await;
    let id = about["data"]["sessionId"].as_str().unwrap().to_string();
    let admin = browser();
    admin_login(&dev, &admin).await;
    let reply = admin
        .put(url(&dev, &format!("/SEMP/v2/action/sessions/monitor,{id}/delete")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(status(&dev, &victim).await, StatusCode::UNAUTHORIZED);
    assert_eq!(reasons(&dev), vec![EndReason::AdminDelete]);
}

/// seed 003: the broker restarting ends every session (control API `POST .../restart`).
#[tokio::test]
async fn restart_ends_every_session() {
    let dev = broker("solace-software-100").await;
    let admin = browser();
    admin_login(&dev, &admin).await;
    let operator = browser();
    login(&dev, &operator, "operator", "sessionlab").await;
    let name = dev.device().name().to_string();
    let reply = forgetful()
        .post(format!("{}/_sessionlab/devices/{name}/restart", dev.control()))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{}", reply.status());
    assert_eq!(status(&dev, &admin).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&dev, &operator).await, StatusCode::UNAUTHORIZED);
    assert_eq!(reasons(&dev), vec![EndReason::Restart; 2]);
}

/// bigip-solace.md 2.1 [I]: a client that keeps a dead cookie and also sends valid Basic
/// credentials gets 401 (and must clear its jar, as Solace's MCP server does).
#[tokio::test]
async fn dead_cookie_with_valid_basic_gets_401() {
    let dev = broker("solace-software-100").await;
    let client = browser();
    admin_login(&dev, &client).await;
    client.put(url(&dev, LOGOUT)).json(&json!({})).send().await.unwrap();
    let (user, password) = dev.credentials();
    let reply =
        client.get(url(&dev, ABOUT_USER)).basic_auth(&user, Some(&password)).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["meta"]["responseCode"], json!(401));
    assert_eq!(open(&dev), 0);
    // A fresh jar with the same Basic credentials gets a new session.
    admin_login(&dev, &browser()).await;
    assert_eq!(open(&dev), 1);
}

/// bigip-solace.md 2.1: "Sessions are not created when authenticating with an OAuth token
/// ... using HTTP Bearer authentication."
#[tokio::test]
async fn bearer_requests_create_no_session() {
    let dev = broker("solace-software-100").await;
    let client = browser();
    for _ in 0..3 {
        let reply = client
            .get(url(&dev, ABOUT_USER))
            .bearer_auth("sessionlab-oauth-token")
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        assert!(reply.headers().get("set-cookie").is_none());
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["data"]["sessionActive"], json!(false));
    }
    assert_eq!(open(&dev), 0);
}

/// seed 003 and bigip-solace.md 2.2: a software broker at the 100-connection scale has 50
/// session slots; a client that forgets cookies fills them, and the 51st session gets 529
/// `No SEMP Session Available`.
#[tokio::test]
async fn fifty_first_session_gets_529() {
    let dev = broker("solace-software-100").await;
    let client = forgetful();
    let (user, password) = dev.credentials();
    for _ in 0..50 {
        let reply = client
            .get(url(&dev, ABOUT_USER))
            .basic_auth(&user, Some(&password))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
    }
    let reply =
        client.get(url(&dev, ABOUT_USER)).basic_auth(&user, Some(&password)).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 529);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["meta"]["responseCode"], json!(529));
    assert_eq!(body["meta"]["error"]["description"], "No SEMP Session Available");
    assert_eq!(open(&dev), 50);
    // bigip-solace.md 2.2 [P]: the status line itself says "529 No SEMP Session Available".
    assert!(raw_status_line(&dev, &user, &password)
        .await
        .starts_with("HTTP/1.1 529 No SEMP Session Available"));
    // A restart empties the table, and the next login gets a slot.
    dev.device().restart();
    assert_eq!(
        client
            .get(url(&dev, ABOUT_USER))
            .basic_auth(&user, Some(&password))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

/// The status line of one Basic-auth GET, read off the socket (HTTP clients hide reason
/// phrases).
async fn raw_status_line(dev: &EmulatedDevice, user: &str, password: &str) -> String {
    use base64::Engine as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = dev.url().trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let request = format!(
        "GET {ABOUT_USER} HTTP/1.1\r\nHost: broker\r\nAuthorization: Basic {credentials}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
}

/// bigip-solace.md Part 2 (SEMPv2 envelope): `meta.request.uri` and links are absolute; on a TLS listener they say `https`, so a generated client that follows them stays on TLS.
#[tokio::test]
async fn absolute_uris_on_a_tls_listener_are_https() {
    let mut options =
        EmulatedDevice::options(Profile::embedded("solace-software-100").expect("profile"));
    options.tls = true;
    let dev = options.start().await.expect("broker starts");
    let client = Client::builder()
        .cookie_store(true)
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let reply = client
        .get(url(&dev, ABOUT_USER))
        .basic_auth("admin", Some("sessionlab"))
        .send()
        .await
        .expect("request");
    assert_eq!(reply.status(), StatusCode::OK);
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["meta"]["request"]["uri"], json!(url(&dev, ABOUT_USER)), "{body}");
    assert!(dev.url().starts_with("https://"));
    let logout = client.put(url(&dev, LOGOUT)).json(&json!({})).send().await.expect("logout");
    assert_eq!(logout.status(), StatusCode::OK);
}
