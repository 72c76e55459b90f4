//! Fuzzing (issue 13): every parser the emulator exposes to clients or users gets
//! arbitrary and mutated input — the BIG-IP SOAP envelope, racadm command lines, each
//! vendor's login body, HTTP Basic and cookie headers, the control API's JSON bodies,
//! profile and fleet TOML. Properties: nothing panics; over HTTP nothing answers 500 and
//! every error is the vendor's own envelope (Redfish `error` object, BIG-IP `code` and
//! `message`, SEMP `meta.error`, a SOAP fault, the control API's `error.message`).
//!
//! Each property runs a few hundred to a few thousand cases under `cargo test`; run far
//! more with
//!
//! ```text
//! PROPTEST_CASES=200000 cargo test --release -p emulator --test fuzz
//! ```
//!
//! Requests go through the routers in-process (`tower::ServiceExt::oneshot`): no sockets,
//! except the control API's fleet, which binds 127.0.0.1 on ports the OS picks.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::fleet::{DeviceSpec, Fleet, FleetConfig, FleetFile};
use emulator::profile::Profile;
use emulator::vendors::idrac::racadm;
use emulator::vendors::{bigip, http, idrac, ilo, redfish, solace};
use http_body_util::BodyExt as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::Value;
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------------------
// Inputs: arbitrary text, and valid text mutated.

/// `default` cases, unless PROPTEST_CASES says otherwise. Failures are not persisted to
/// files: a failure prints its minimal input, which becomes a regression test below.
fn config(default: u32) -> Config {
    let mut c = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = default;
    }
    c
}

/// A runner for `default` cases. Under plain `cargo test` every run draws the same
/// cases, so the counts the tests assert cannot flake; a long run (`PROPTEST_CASES`
/// set) draws new ones each time.
fn fuzz_runner(default: u32) -> TestRunner {
    let c = config(default);
    if std::env::var_os("PROPTEST_CASES").is_some() {
        return TestRunner::new(c);
    }
    let rng = TestRng::deterministic_rng(c.rng_algorithm);
    TestRunner::new_with_rng(c, rng)
}

/// Fragments that parsers of these formats treat specially.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "=",
    ";",
    "<",
    ">",
    "/>",
    "</",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#0;",
    "&#x10FFFF;",
    "&bogus;",
    "\0",
    "\n",
    "\r\n",
    "\t",
    " ",
    "-",
    "--",
    "-g",
    "-o",
    "-i",
    "-u",
    "-a",
    "-k",
    "xmlns:",
    "null",
    "true",
    "1e999",
    "-0",
    "18446744073709551616",
    "-9223372036854775809",
    "NaN",
    "é",
    "\u{202e}",
    "\u{1b}[31m",
    "💥",
    "%",
    "%00",
    "Basic ",
    "=",
    "==",
    "[[",
    "]]",
    "'''",
    "\"\"\"",
    "#",
    "inf",
    "nan",
];

/// One edit of a mutated input.
#[derive(Clone, Debug)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop_oneof![
        prop::sample::select(TOKENS).prop_map(str::to_string),
        ".{0,6}",
        any::<u32>().prop_map(|n| n.to_string()),
    ];
    prop_oneof![
        (any::<usize>(), 0usize..16).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), text).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

/// A char boundary of `s` chosen by `at`.
fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Delete { at, len } => {
                let a = boundary(&s, *at);
                let b = boundary(&s, a + len);
                if b >= a {
                    s.replace_range(a..b, "");
                }
            }
            Edit::Insert { at, text } => {
                let a = boundary(&s, *at);
                s.insert_str(a, text);
            }
            Edit::Duplicate { at, len } => {
                let a = boundary(&s, *at);
                let b = boundary(&s, a + len).max(a);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            Edit::Truncate { at } => {
                let a = boundary(&s, *at);
                s.truncate(a);
            }
        }
    }
    s
}

/// Valid `seeds` with up to eight edits each, or arbitrary text.
fn mutated(seeds: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (prop::sample::select(seeds), prop::collection::vec(edit(), 0..8))
            .prop_map(|(seed, edits)| apply(seed, &edits)),
        1 => ".{0,200}",
    ]
}

/// Arbitrary bytes, or a mutated seed's bytes.
fn mutated_bytes(seeds: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => mutated(seeds).prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
}

// ---------------------------------------------------------------------------------------
// Devices and requests

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    })
}

fn device(profile: &str) -> DeviceHandle {
    let profile = Profile::embedded(profile).expect("embedded profile");
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle("fuzzed", Arc::new(profile), Clock::virtual_at(start), Some(13))
}

/// What came back.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn send(app: &Router, req: Request<Body>) -> Answer {
    runtime().block_on(async {
        let resp = app.clone().oneshot(req).await.expect("routers are infallible");
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = resp.into_body().collect().await.expect("body").to_bytes().to_vec();
        Answer { status, content_type, body }
    })
}

fn request(method: Method, path: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(path)
}

fn basic(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// The families of error envelope.
#[derive(Clone, Copy, Debug)]
enum Envelope {
    /// DMTF Redfish (and iLO, iDRAC): `{"error": {"code", "message"}}`.
    Redfish,
    /// iControl REST: `{"code", "message"}`.
    Bigip,
    /// SEMPv2: `{"meta": {"error": {"code", "description", "status"}}}`.
    Semp,
    /// The control API: `{"error": {"message"}}`.
    Control,
}

/// Checks an answer: never 500, and an error (4xx, 5xx) in the vendor's own envelope.
fn check(what: &str, envelope: Envelope, a: &Answer) -> Result<(), TestCaseError> {
    prop_assert!(a.status != StatusCode::INTERNAL_SERVER_ERROR, "{what}: 500 with {}", a.text());
    if a.status.is_success() || a.status.is_redirection() {
        return Ok(());
    }
    let json = a.json();
    let ok = match (envelope, &json) {
        (Envelope::Redfish, Some(j)) => {
            j.pointer("/error/code").is_some_and(Value::is_string)
                && j.pointer("/error/message").is_some_and(Value::is_string)
        }
        (Envelope::Bigip, Some(j)) => {
            j.get("code").is_some_and(Value::is_u64)
                && j.get("message").is_some_and(Value::is_string)
        }
        (Envelope::Semp, Some(j)) => {
            j.pointer("/meta/error/code").is_some_and(Value::is_u64)
                && j.pointer("/meta/error/description").is_some_and(Value::is_string)
                && j.pointer("/meta/error/status").is_some_and(Value::is_string)
        }
        (Envelope::Control, Some(j)) => j.pointer("/error/message").is_some_and(Value::is_string),
        (_, None) => false,
    };
    prop_assert!(
        ok,
        "{what}: {} ({}) is not a {envelope:?} error envelope: {}",
        a.status,
        a.content_type,
        a.text()
    );
    Ok(())
}

/// Checks a SOAP answer: never 500 unless a well-formed SOAP fault (the portal's
/// documented fault status), and always well-formed XML with an Envelope and a Body.
fn check_soap(a: &Answer) -> Result<(), TestCaseError> {
    let text = a.text();
    if a.status == StatusCode::UNAUTHORIZED {
        return Ok(());
    }
    let mut reader = quick_xml::Reader::from_str(&text);
    let (mut envelope, mut body, mut fault) = (false, false, false);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e)) => {
                let name = e.local_name();
                envelope |= name.as_ref() == b"Envelope";
                body |= name.as_ref() == b"Body";
                fault |= name.as_ref() == b"Fault";
            }
            Ok(_) => {}
            Err(e) => {
                return Err(TestCaseError::fail(format!("malformed SOAP answer: {e}: {text}")))
            }
        }
    }
    prop_assert!(envelope && body, "no SOAP Envelope/Body: {} {text}", a.status);
    if a.status == StatusCode::INTERNAL_SERVER_ERROR {
        prop_assert!(fault, "500 without a SOAP fault: {text}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// BIG-IP: SOAP envelopes, REST login bodies

fn soap(header: &str, method: &str, params: &str) -> String {
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

fn soap_seeds() -> Vec<String> {
    vec![
        soap("", "get_session_identifier", ""),
        soap("", "get_session_timeout", ""),
        soap("", "set_session_timeout", "<timeout s:type=\"y:long\">600</timeout>"),
        soap("<m:session xmlns:m=\"urn:iControl\">12345</m:session>", "get_session_identifier", ""),
        soap("", "set_active_folder", "<folder>/Common</folder>"),
        soap("", "get_version", ""),
    ]
}

/// The SOAP envelope parser takes anything without panicking.
#[test]
fn soap_parser_never_panics() {
    let mut runner = fuzz_runner(3000);
    runner
        .run(&mutated(soap_seeds()), |xml| {
            let _ = bigip::soap::parse(&xml);
            Ok(())
        })
        .unwrap();
}

/// The iControl portal answers any body with well-formed SOAP, never a bare 500.
#[test]
fn soap_portal_answers_well_formed_soap() {
    let app = bigip::router(device("bigip17"));
    let auth = basic("admin", "sessionlab");
    let mut runner = fuzz_runner(1500);
    runner
        .run(&mutated_bytes(soap_seeds()), |body| {
            let req = request(Method::POST, bigip::soap::PORTAL)
                .header(header::AUTHORIZATION, &auth)
                .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
                .body(Body::from(body))
                .expect("request");
            check_soap(&send(&app, req))
        })
        .unwrap();
}

/// BIG-IP REST login: any body gets an answer in iControl REST's error envelope.
#[test]
fn bigip_login_body_is_parsed_cleanly() {
    let app = bigip::router(device("bigip17"));
    let seeds = vec![
        r#"{"username":"admin","password":"sessionlab","loginProviderName":"tmos"}"#.to_string(),
        r#"{"username":"admin","password":"wrong"}"#.to_string(),
        r#"{"username":"admin","password":"sessionlab","loginReference":{"link":"https://localhost/mgmt/cm/system/authn/providers/tmos/1f44a60e-11a7-3c51-a49f-82983026b41b/login"}}"#.to_string(),
        r#"{"username":["admin"],"password":{"x":1}}"#.to_string(),
    ];
    let accepted = std::cell::Cell::new(0usize);
    let mut runner = fuzz_runner(1500);
    runner
        .run(&mutated_bytes(seeds), |body| {
            let req = request(Method::POST, bigip::wire::LOGIN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("request");
            let a = send(&app, req);
            // Each successful login opens a token: end them all, so the 100-token limit
            // does not turn every later case into the same refusal.
            if a.status.is_success() {
                accepted.set(accepted.get() + 1);
                let token = a.json().and_then(|j| j.pointer("/token/token").cloned());
                if let Some(Value::String(t)) = token {
                    let del = request(Method::DELETE, &format!("/mgmt/shared/authz/tokens/{t}"))
                        .header("X-F5-Auth-Token", &t)
                        .body(Body::empty())
                        .expect("request");
                    let _ = send(&app, del);
                }
            }
            check("BIG-IP login", Envelope::Bigip, &a)
        })
        .unwrap();
    // Many mutated bodies still log in: the property is not tested on refusals alone.
    assert!(accepted.get() > 50, "only {} logins accepted", accepted.get());
}

// ---------------------------------------------------------------------------------------
// Redfish, iLO, iDRAC login bodies

fn redfish_login_seeds() -> Vec<String> {
    vec![
        r#"{"UserName":"admin","Password":"sessionlab"}"#.to_string(),
        r#"{"UserName":"admin","Password":"wrong"}"#.to_string(),
        r#"{"UserName":"admin","Password":"sessionlab","Oem":{"Hpe":{"LoginName":"x"}}}"#
            .to_string(),
        r#"{"UserName":null,"Password":1}"#.to_string(),
        r#"{"UserName":"root","Password":"calvin","Context":"x"}"#.to_string(),
    ]
}

/// A Redfish-family login with `body`: every session it opens is deleted again so the
/// table never fills and later cases reach the parser, not the limit.
fn redfish_family_login(app: &Router, path: &str, body: Vec<u8>) -> Answer {
    let req = request(Method::POST, path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    let a = send(app, req);
    if a.status.is_success() {
        let location =
            a.json().and_then(|j| j.get("@odata.id").and_then(Value::as_str).map(str::to_string));
        if let Some(uri) = location {
            let del = request(Method::DELETE, &uri)
                .header(header::AUTHORIZATION, basic("admin", "sessionlab"))
                .body(Body::empty())
                .expect("request");
            let _ = send(app, del);
        }
    }
    a
}

fn login_body_property(profile: &str, router: fn(DeviceHandle) -> Router, cases: u32) {
    let dev = device(profile);
    let account = dev.profile().default_account().clone();
    let app = router(dev);
    let mut seeds = redfish_login_seeds();
    seeds.push(format!(
        r#"{{"UserName":{},"Password":{}}}"#,
        Value::String(account.user.clone()),
        Value::String(account.password.clone())
    ));
    let table = dev_table_size(profile);
    let accepted = std::cell::Cell::new(0usize);
    let mut runner = fuzz_runner(cases);
    runner
        .run(&mutated_bytes(seeds), |body| {
            let a = redfish_family_login(&app, "/redfish/v1/SessionService/Sessions", body);
            accepted.set(accepted.get() + usize::from(a.status.is_success()));
            check(profile, Envelope::Redfish, &a)
        })
        .unwrap();
    // The inputs reach past the parser: more logins succeed than the table holds, so
    // sessions are logged out again and later cases are not all "table full".
    assert!(accepted.get() > table, "{profile}: only {} logins accepted", accepted.get());
}

fn dev_table_size(profile: &str) -> usize {
    Profile::embedded(profile).expect("profile").session.max_total.unwrap_or(0)
}

/// Redfish login: any body gets a Redfish error object or a session, never a 500.
#[test]
fn redfish_login_body_is_parsed_cleanly() {
    login_body_property("redfish", redfish::router, 1500);
}

/// iLO login: the same, in iLO's dialect of the Redfish error object.
#[test]
fn ilo_login_body_is_parsed_cleanly() {
    login_body_property("ilo5", ilo::router, 1500);
}

/// iDRAC login: the same, in iDRAC's dialect.
#[test]
fn idrac_login_body_is_parsed_cleanly() {
    login_body_property("idrac9", idrac::router, 1500);
}

// ---------------------------------------------------------------------------------------
// Headers: Basic and cookies

/// `Authorization` values: valid Basic, mutated, arbitrary.
fn authorization_values() -> impl Strategy<Value = String> {
    let seeds = vec![
        basic("admin", "sessionlab"),
        basic("admin", "wrong"),
        basic("admin:x", "y:z"),
        "Basic".to_string(),
        "Basic =".to_string(),
        "basic YWRtaW46c2Vzc2lvbmxhYg".to_string(),
        "Bearer abc".to_string(),
        "Digest username=\"admin\"".to_string(),
    ];
    mutated(seeds)
}

/// `parse_basic` takes any value without panicking, and reads back what was encoded.
#[test]
fn basic_header_parser_round_trips() {
    let mut runner = fuzz_runner(3000);
    runner
        .run(&authorization_values(), |value| {
            let _ = http::parse_basic(&value);
            Ok(())
        })
        .unwrap();
    let mut runner = fuzz_runner(1000);
    runner
        .run(&("[^:]{0,20}", ".{0,20}"), |(user, password)| {
            let parsed = http::parse_basic(&basic(&user, &password));
            let parts = parsed.as_ref().map(|b| (b.user(), b.password()));
            prop_assert_eq!(parts, Some((user.as_str(), password.as_str())));
            Ok(())
        })
        .unwrap();
}

/// Any `Authorization` header on an authenticated resource gets the vendor's error
/// envelope or an answer, never a 500: Redfish, iLO, iDRAC, BIG-IP, SEMP.
#[test]
fn authorization_headers_are_parsed_cleanly() {
    let targets: Vec<(&str, Router, &str, Envelope)> = vec![
        (
            "redfish",
            redfish::router(device("redfish")),
            "/redfish/v1/SessionService",
            Envelope::Redfish,
        ),
        ("ilo5", ilo::router(device("ilo5")), "/redfish/v1/SessionService/", Envelope::Redfish),
        (
            "idrac9",
            idrac::router(device("idrac9")),
            "/redfish/v1/SessionService",
            Envelope::Redfish,
        ),
        ("bigip17", bigip::router(device("bigip17")), "/mgmt/tm/sys/version", Envelope::Bigip),
        ("solace", solace::router(device("solace-appliance")), "/SEMP/v2/config", Envelope::Semp),
    ];
    let mut runner = fuzz_runner(600);
    runner
        .run(&authorization_values(), |value| {
            let Ok(value) = HeaderValue::from_str(&value) else { return Ok(()) };
            for (name, app, path, envelope) in &targets {
                let req = request(Method::GET, path)
                    .header(header::AUTHORIZATION, value.clone())
                    .body(Body::empty())
                    .expect("request");
                let a = send(app, req);
                check(name, *envelope, &a)?;
                // A Basic request that opened a SEMP session: log it out again.
                if a.status.is_success() && *name == "solace" {
                    let _ = send(
                        app,
                        request(Method::PUT, "/SEMP/v2/action/about/user/logout")
                            .header(header::AUTHORIZATION, value.clone())
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from("{}"))
                            .expect("request"),
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Cookie headers: the SEMP session cookie reader takes anything, and the broker
/// answers any cookie with a SEMP envelope.
#[test]
fn cookie_headers_are_parsed_cleanly() {
    let dev = device("solace-appliance");
    let app = solace::router(dev);
    let seeds = vec![
        "Session=abc".to_string(),
        "a=b; Session=\"quoted\"; c=d".to_string(),
        "Session=".to_string(),
        "=; ;; Session==x".to_string(),
        "Session=x; Session=y".to_string(),
    ];
    let mut runner = fuzz_runner(1500);
    runner
        .run(&mutated(seeds), |value| {
            let Ok(value) = HeaderValue::from_str(&value) else { return Ok(()) };
            let mut headers = axum::http::HeaderMap::new();
            headers.append(header::COOKIE, value.clone());
            let _ = solace::auth::session_cookie(&headers, "Session");
            let req = request(Method::GET, "/SEMP/v2/config")
                .header(header::COOKIE, value)
                .body(Body::empty())
                .expect("request");
            check("solace cookie", Envelope::Semp, &send(&app, req))
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// racadm

fn racadm_seeds() -> Vec<String> {
    [
        "racadm getssninfo",
        "racadm getssninfo -u root",
        "racadm getssninfo -A",
        "racadm closessn -i 1",
        "racadm closessn -a",
        "racadm closessn -u root",
        "racadm get iDRAC.Webserver.Timeout",
        "racadm set iDRAC.Webserver.Timeout 1800",
        "racadm set iDRAC.Users.2.Password 'new pass'",
        "racadm get iDRAC.Users.2",
        "racadm racreset soft",
        "getssninfo",
        "racadm help",
        "racadm \"get\" 'iDRAC.Tuning' \\-x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// racadm command lines: splitting and running any line never panics, and every
/// answer says something (output, or an error with a non-zero status).
#[test]
fn racadm_command_lines_are_parsed_cleanly() {
    let dev = device("idrac9");
    let succeeded = std::cell::Cell::new(0usize);
    let mut runner = fuzz_runner(3000);
    runner
        .run(&mutated(racadm_seeds()), |line| {
            let _ = racadm::parse::split(&line);
            let caller = racadm::Caller { session: Some("1"), user: "root" };
            let out = racadm::run(&dev, dev.now(), &caller, &line);
            succeeded.set(succeeded.get() + usize::from(out.exit == 0));
            prop_assert!(
                !(out.stdout.is_empty() && out.stderr.is_empty() && out.exit != 0),
                "{line:?}: failed silently"
            );
            Ok(())
        })
        .unwrap();
    // Some lines are still commands that run: the inputs reach past the parser.
    assert!(succeeded.get() > 10, "only {} command lines ran", succeeded.get());
}

// ---------------------------------------------------------------------------------------
// The control API

fn fleet() -> &'static (Fleet, Router) {
    static FLEET: OnceLock<(Fleet, Router)> = OnceLock::new();
    FLEET.get_or_init(|| {
        runtime().block_on(async {
            let profile = Arc::new(Profile::embedded("redfish").expect("profile"));
            let fleet = Fleet::start(FleetConfig::new(vec![DeviceSpec::new("redfish", profile)]))
                .await
                .expect("fleet");
            let app = emulator::control::router(fleet.state().clone());
            (fleet, app)
        })
    })
}

/// The control API's JSON bodies: any body on any endpoint that takes one gets JSON,
/// an error with `error.message`, never a 500.
#[test]
fn control_api_bodies_are_parsed_cleanly() {
    let (_fleet, app) = fleet();
    let endpoints = [
        (Method::POST, "/_sessionlab/clock/advance", r#"{"seconds": 1}"#),
        (
            Method::POST,
            "/_sessionlab/devices/redfish/users",
            r#"{"user":"x","password":"y","role":"ReadOnly"}"#,
        ),
        (
            Method::PUT,
            "/_sessionlab/devices/redfish/users/operator/password",
            r#"{"password":"p"}"#,
        ),
        (
            Method::POST,
            "/_sessionlab/devices/redfish/users/operator/password",
            r#"{"password":"p"}"#,
        ),
        (
            Method::POST,
            "/_sessionlab/devices/redfish/sessions",
            r#"{"user":"admin","session_type":"redfish"}"#,
        ),
        (Method::POST, "/_sessionlab/devices/redfish/auth-config", "{}"),
        (Method::POST, "/_sessionlab/devices/redfish/restart", "{}"),
        (Method::POST, "/_sessionlab/devices/redfish/reset", "{}"),
    ];
    let seeds: Vec<String> = endpoints.iter().map(|(_, _, b)| b.to_string()).collect();
    let strategy = (0..endpoints.len(), mutated_bytes(seeds));
    let mut runner = fuzz_runner(1500);
    runner
        .run(&strategy, |(i, body)| {
            let (method, path, _) = &endpoints[i];
            // Never move the clock far: a saturated clock is its own issue (item 4).
            let req = request(method.clone(), path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("request");
            let a = send(app, req);
            check(path, Envelope::Control, &a)
        })
        .unwrap();
}

/// The control API's query strings (event filters): any query gets JSON or an error
/// with `error.message`, never a 500.
#[test]
fn control_api_queries_are_parsed_cleanly() {
    let (_fleet, app) = fleet();
    let seeds = vec![
        "event=ended&reason=logout".to_string(),
        "after=3&user=admin".to_string(),
        "session_id=1&event=refused".to_string(),
        "reason=idle-timeout&after=18446744073709551615".to_string(),
    ];
    let mut runner = fuzz_runner(1500);
    runner
        .run(&mutated(seeds), |query| {
            let uri = format!("/_sessionlab/devices/redfish/events?{query}");
            let Ok(uri) = axum::http::Uri::try_from(uri) else { return Ok(()) };
            let req = Request::builder().uri(uri).body(Body::empty()).expect("request");
            check("events query", Envelope::Control, &send(app, req))
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Profile and fleet TOML

/// Profile TOML: any text loads or is refused with an error, never a panic.
#[test]
fn profile_toml_is_parsed_cleanly() {
    let seeds: Vec<String> = ["redfish", "ilo5", "idrac9", "bigip17", "solace-appliance"]
        .iter()
        .map(|name| {
            let path = format!("{}/../fixtures/profiles/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .collect();
    let mut runner = fuzz_runner(1000);
    runner
        .run(&mutated(seeds), |text| {
            if let Err(e) = Profile::from_toml(&text, "fuzzed.toml") {
                let shown = e.to_string();
                prop_assert!(!shown.trim_end().ends_with(':'), "an error with no message: {shown}");
            }
            Ok(())
        })
        .unwrap();
}

/// Found by `profile_toml_is_parsed_cleanly`: a profile that breaks off (`a = ` at the
/// end) was refused with a position and no message at all.
#[test]
fn truncated_profile_says_what_is_wrong() {
    let e = Profile::from_toml("name = \"x\"\nvendor = ", "cut.toml").unwrap_err().to_string();
    assert!(e.contains("line 2, column 10: invalid TOML here"), "{e}");
}

/// Fleet TOML: any text parses or is refused with an error, never a panic.
#[test]
fn fleet_toml_is_parsed_cleanly() {
    let seeds = vec![
        "[[device]]\nname = \"a\"\nprofile = \"redfish\"\nport = 8443\n".to_string(),
        "[[device]]\nname = \"b\"\nprofile = \"idrac9\"\ncount = 3\nssh_port = 2222\ntls = true\n"
            .to_string(),
    ];
    let mut runner = fuzz_runner(1500);
    runner
        .run(&mutated(seeds), |text| {
            if let Err(e) = FleetFile::from_toml(&text, "fuzzed.toml") {
                let shown = e.to_string();
                prop_assert!(!shown.trim_end().ends_with(':'), "an error with no message: {shown}");
            }
            Ok(())
        })
        .unwrap();
}
