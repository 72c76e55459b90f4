//! The request log line every personality writes at debug level (issue 18: "every
//! personality logs method, path, status and duration for every request"), captured from
//! `tracing` while each personality's router answers in-process.
//!
//! - one line per request with device, method, path, status and duration, for redfish,
//!   iLO, iDRAC, BIG-IP and Solace alike;
//! - no credential reaches the log: not the Authorization header, not the X-Auth-Token,
//!   not a cookie, not the query string.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use tower::ServiceExt as _;

/// A `MakeWriter` that appends every line to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn device(name: &str) -> DeviceHandle {
    let profile = Arc::new(Profile::embedded(name).expect("embedded profile"));
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle(name, profile, Clock::virtual_at(start), Some(7))
}

/// Secrets a client may send; none of them may appear in a log line.
const TOKEN: &str = "feedfacefeedfacefeedfacefeedface";
const BASIC: &str = "Basic cm9vdDpzM2NyZXQtcGFzc3dvcmQ="; // root:s3cret-password
const COOKIE: &str = "TokenValue=c00k1e-s3cret";
const QUERY_SECRET: &str = "p4ss-in-query";

async fn send(dev: &DeviceHandle, method: Method, uri: &str) -> u16 {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("X-Auth-Token", TOKEN)
        .header("X-F5-Auth-Token", TOKEN)
        .header("Authorization", BASIC)
        .header("Cookie", COOKIE)
        .body(Body::empty())
        .expect("request");
    let response = emulator::vendors::router(dev.clone()).oneshot(request).await.expect("answer");
    response.status().as_u16()
}

/// issue 18: every personality logs method, path, status and duration at debug level,
/// and nothing the client authenticated with.
#[tokio::test]
async fn every_personality_logs_one_request_line_without_secrets() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let cases = [
        ("redfish", "redfish", "/redfish/v1/Systems"),
        ("ilo5", "ilo", "/redfish/v1/Systems/1/"),
        ("idrac9", "idrac", "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs"),
        ("bigip17", "bigip", "/mgmt/tm/sys/clock"),
        ("solace-software-100", "solace", "/SEMP/v2/config/msgVpns"),
    ];
    for (profile, personality, path) in cases {
        let dev = device(profile);
        let before = captured.text().len();
        let uri = format!("{path}?password={QUERY_SECRET}");
        let status = send(&dev, Method::GET, &uri).await;
        let text = captured.text();
        let lines: Vec<&str> = text[before..]
            .lines()
            .filter(|l| l.contains(&format!("{personality}: request")))
            .collect();
        assert_eq!(lines.len(), 1, "{profile}: one request line in {:?}", &text[before..]);
        let line = lines[0];
        assert!(line.contains("DEBUG"), "{profile}: at debug level: {line}");
        assert!(line.contains(&format!("device={profile}")), "{profile}: device: {line}");
        assert!(line.contains("method=GET"), "{profile}: method: {line}");
        assert!(line.contains(&format!("path=\"{path}\"")), "{profile}: path: {line}");
        assert!(line.contains(&format!("status={status}")), "{profile}: status: {line}");
        assert!(line.contains("duration=") && line.contains("ms"), "{profile}: duration: {line}");
        for secret in [TOKEN, "cm9vdDpzM2NyZXQtcGFzc3dvcmQ", "s3cret", QUERY_SECRET] {
            assert!(!text.contains(secret), "{profile}: {secret} logged: {text}");
        }
    }
}

/// No secrets in logs: a racadm command that sets a password logs its subcommand, never
/// its arguments.
#[test]
fn racadm_logs_the_subcommand_not_a_password() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let dev = device("idrac9");
    let caller = emulator::vendors::idrac::racadm::Caller { session: None, user: "root" };
    let line = "racadm set iDRAC.Users.2.Password s3cret-password";
    emulator::vendors::idrac::racadm::run(&dev, dev.now(), &caller, line);
    let text = captured.text();
    assert!(text.contains("subcommand=\"set\"") || text.contains("subcommand=set"), "{text}");
    assert!(!text.contains("s3cret-password"), "a password reached the log: {text}");
}
