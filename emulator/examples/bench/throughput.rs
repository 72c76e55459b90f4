//! Per-request throughput: each case against a device, as a ratio to a bare axum route
//! that serves the same bytes in the same run.
//!
//! Every case first asks the device once and keeps the answers it got (status, headers
//! but `Content-Length` and `Date`, which hyper writes for both, and body). A bare axum
//! app then serves exactly those answers on the same paths: the same body size and the
//! same number of headers, with nothing behind them. Rounds alternate bare and device,
//! and the figures are medians over the rounds; the ratio is the median of each round's
//! device rate over the bare rate measured just before it, so a machine that gets busier
//! or quieter during the run moves both sides alike.
//!
//! The load is `wrk -t2 -c16` when it is installed (`apt-get install wrk`): a fixed
//! request, or for the login + GET + logout cycle a Lua script that keeps each thread's
//! sessions in order (logged in, then read, then logged out). Without wrk a
//! built-in keep-alive client does the same from inside this process, which loads the
//! machine more and lowers both sides' figures.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use emulator::profile::Profile;
use emulator::vendors::http::{Connection, ListenerScheme};
use emulator::EmulatedDevice;

/// Connections of the fixed-request loads.
const CONNECTIONS: usize = 16;

/// How the throughput part runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds per measurement (one side of one round).
    pub seconds: u64,
    /// Rounds (bare then device, alternated).
    pub rounds: usize,
    /// Only the cases whose name contains this.
    pub only: Option<String>,
    /// `cpu`: one worker only, answering in the measuring task itself. It is the same
    /// work run for run (no second worker's timing decides who copies a shared session,
    /// and no idle worker looks for work), so an instruction count of it tells two
    /// builds apart where the two-worker columns' noise would hide it.
    pub one_worker: bool,
}

/// One request as the load sends it.
#[derive(Clone, Debug)]
struct Request {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Request {
    fn get(path: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: Method::GET,
            path: path.to_string(),
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: None,
        }
    }

    fn post_json(path: &str, body: &str) -> Request {
        Request {
            method: Method::POST,
            path: path.to_string(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(body.to_string()),
        }
    }
}

/// What a load does on every connection.
#[derive(Clone, Debug)]
enum Load {
    /// The same request again and again.
    Fixed(Request),
    /// Redfish login (`X-Auth-Token` and `Location` from the answer), a GET of `get`
    /// with the token, a DELETE of `Location` with the token; again.
    Cycle { login: Request, get: String },
}

/// An answer as the device gave it, to be served by the bare route.
#[derive(Clone, Debug)]
struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Answer {
    fn to_response(&self) -> Response {
        let mut response = Response::new(axum::body::Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        response
    }
}

/// One measured case.
struct Case {
    name: String,
    /// The issue's target for the ratio.
    target: f64,
    load: Load,
    device: SocketAddr,
    /// The bare app serving what the device answered.
    bare: SocketAddr,
    /// What one answer of the device looks like (the GET's, for the cycle).
    bytes: usize,
    headers: usize,
    /// Requests per unit of `load` (3 for the cycle).
    per_unit: f64,
    /// Whether the device answers with an error (a refused login), not a 2xx.
    refusal: bool,
    /// The device itself: kept up until the case is measured, and called in process by
    /// `cpu`.
    emulated: Arc<EmulatedDevice>,
}

/// Runs every case and prints the table.
pub async fn run(options: &Options) {
    let wrk = which("wrk");
    let tool = if wrk {
        format!("wrk -t2 -c{CONNECTIONS}")
    } else {
        format!("built-in client, {CONNECTIONS} connections (install wrk for steadier figures)")
    };
    println!(
        "== throughput ({tool}; {} rounds of {} s per side, medians)",
        options.rounds, options.seconds
    );
    let mut cases = Vec::new();
    for (name, kind) in CASES {
        if options.only.as_deref().is_none_or(|o| name.contains(o)) {
            cases.push(make(name, kind).await);
        }
    }
    println!(
        "{:<40} {:>6} {:>4} {:>11} {:>11} {:>6} {:>6}",
        "case", "bytes", "hdrs", "device/s", "bare/s", "ratio", "target"
    );
    for case in &cases {
        let mut device = Vec::new();
        let mut bare = Vec::new();
        let mut ratios = Vec::new();
        for round in 1..=options.rounds {
            let b = rate(wrk, &case.load, case.bare, options.seconds, case.refusal).await;
            let d = rate(wrk, &case.load, case.device, options.seconds, case.refusal).await;
            let ratio = if b > 0.0 { d / b } else { 0.0 };
            // Progress, and each round's figures for judging the machine's noise; on
            // stderr, so the table alone can be kept.
            eprintln!(
                "  {}: round {round}/{}: bare {b:.0}/s, device {d:.0}/s, ratio {ratio:.2}",
                case.name, options.rounds
            );
            ratios.push(ratio);
            bare.push(b);
            device.push(d);
        }
        let unit = if case.per_unit > 1.0 { " (requests)" } else { "" };
        println!(
            "{:<40} {:>6} {:>4} {:>11.0} {:>11.0} {:>6.2} {:>6.2}{unit}",
            case.name,
            case.bytes,
            case.headers,
            median(&mut device),
            median(&mut bare),
            median(&mut ratios),
            case.target,
        );
        if case.per_unit > 1.0 {
            println!(
                "{:<40} {:>6} {:>4} {:>11.0} cycles/s",
                "",
                "",
                "",
                median(&mut device) / case.per_unit
            );
        }
    }
}

/// What a case measures.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// GET with a redfish-family `X-Auth-Token`, on this profile.
    TokenGet(&'static str),
    /// The same, of the first System of the profile's resource tree.
    TreeGet(&'static str),
    /// BIG-IP GET with `X-F5-Auth-Token`.
    BigipTokenGet,
    /// The same, of an LTM pool of two members (made first).
    BigipPoolGet,
    /// SEMP GET of this path with the `Session` cookie.
    SempCookieGet(&'static str),
    /// Redfish GET with HTTP Basic: a one-request session each time.
    BasicGet,
    /// Redfish login, GET, logout.
    Cycle,
    /// Redfish login on a full table: 503.
    RefusedLogin,
}

/// Every case, in the order printed.
const CASES: [(&str, Kind); 13] = [
    ("redfish X-Auth-Token GET", Kind::TokenGet("redfish")),
    ("redfish tree GET (a System)", Kind::TreeGet("redfish")),
    ("ilo5 X-Auth-Token GET", Kind::TokenGet("ilo5")),
    ("ilo5 tree GET (a System)", Kind::TreeGet("ilo5")),
    ("idrac9 X-Auth-Token GET", Kind::TokenGet("idrac9")),
    ("idrac9 tree GET (a System)", Kind::TreeGet("idrac9")),
    ("bigip17 X-F5-Auth-Token GET", Kind::BigipTokenGet),
    ("BIG-IP GET of an LTM pool, token", Kind::BigipPoolGet),
    ("solace SEMP cookie GET", Kind::SempCookieGet("/SEMP/v2/config")),
    ("SEMP GET of a Message VPN, cookie", Kind::SempCookieGet("/SEMP/v2/config/msgVpns/default")),
    ("redfish Basic GET (one-request session)", Kind::BasicGet),
    ("redfish login + GET + logout", Kind::Cycle),
    ("redfish login refused, table full", Kind::RefusedLogin),
];

/// The names of the cases `--only` picks from (by substring).
pub fn case_names() -> impl Iterator<Item = &'static str> {
    CASES.iter().map(|(name, _)| *name)
}

async fn make(name: &str, kind: Kind) -> Case {
    match kind {
        Kind::TokenGet(profile) => token_get(name, profile).await,
        Kind::TreeGet(profile) => tree_get(name, profile).await,
        Kind::BigipTokenGet => bigip_token_get(name, false).await,
        Kind::BigipPoolGet => bigip_token_get(name, true).await,
        Kind::SempCookieGet(path) => semp_cookie_get(name, path).await,
        Kind::BasicGet => basic_get(name).await,
        Kind::Cycle => cycle(name).await,
        Kind::RefusedLogin => refused_login(name).await,
    }
}

const REDFISH_GET: &str = "/redfish/v1/SessionService";
const REDFISH_SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

/// A profile whose limits never refuse the benchmark's sessions.
fn roomy(name: &str) -> Profile {
    let mut profile = Profile::embedded(name).expect("embedded profile");
    profile.session.max_total = Some(1_000_000);
    profile.session.max_per_user = None;
    for pool in &mut profile.session.pools {
        pool.limit = 1_000_000;
    }
    profile
}

async fn start(profile: Profile) -> Arc<EmulatedDevice> {
    Arc::new(EmulatedDevice::start(profile).await.expect("device starts"))
}

fn addr_of(device: &EmulatedDevice) -> SocketAddr {
    let url = device.url();
    url.trim_start_matches("http://").parse().expect("device URL is http://address")
}

fn redfish_login_body(device: &EmulatedDevice) -> String {
    let (user, password) = device.credentials();
    serde_json::json!({"UserName": user, "Password": password}).to_string()
}

fn basic(device: &EmulatedDevice) -> String {
    let (user, password) = device.credentials();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// Sends `request` to `addr` once and keeps the answer.
async fn ask(addr: SocketAddr, request: &Request) -> Answer {
    let client = reqwest::Client::new();
    let mut builder =
        client.request(request.method.clone(), format!("http://{addr}{}", request.path));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.expect("the device answers");
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| **name != "content-length" && **name != "date")
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let body = response.bytes().await.expect("a whole body");
    Answer { status, headers, body }
}

/// A redfish-family session token: a login's `X-Auth-Token`.
async fn redfish_token(device: &EmulatedDevice) -> String {
    let login =
        ask(addr_of(device), &Request::post_json(REDFISH_SESSIONS, &redfish_login_body(device)))
            .await;
    assert_eq!(login.status, StatusCode::CREATED, "login answers 201");
    header(&login, "x-auth-token")
}

fn header(answer: &Answer, name: &str) -> String {
    answer
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.to_str().ok())
        .unwrap_or_else(|| panic!("the answer has {name}"))
        .to_string()
}

/// A bare axum app serving `routes`: (method, path, answer).
async fn bare_app(routes: Vec<(Method, String, Answer)>) -> SocketAddr {
    let mut by_path: HashMap<String, axum::routing::MethodRouter> = HashMap::new();
    for (method, path, answer) in routes {
        let answer = Arc::new(answer);
        let handler = move || {
            let answer = answer.clone();
            async move { answer.to_response() }
        };
        let filter = axum::routing::MethodFilter::try_from(method).expect("a plain method");
        let entry = by_path.remove(&path).unwrap_or_default();
        by_path.insert(path, entry.on(filter, handler));
    }
    let mut app = axum::Router::new();
    for (path, methods) in by_path {
        app = app.route(&path, methods);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn fixed_case(
    name: &str,
    target: f64,
    device: Arc<EmulatedDevice>,
    request: Request,
    refusal: bool,
) -> Case {
    let addr = addr_of(&device);
    let answer = ask(addr, &request).await;
    assert_eq!(
        answer.status.is_success(),
        !refusal,
        "{name}: the device answers {} to the sample request",
        answer.status
    );
    let (bytes, headers) = (answer.body.len(), answer.headers.len());
    let bare = bare_app(vec![(request.method.clone(), request.path.clone(), answer)]).await;
    Case {
        name: name.to_string(),
        target,
        load: Load::Fixed(request),
        device: addr,
        bare,
        bytes,
        headers,
        per_unit: 1.0,
        refusal,
        emulated: device,
    }
}

async fn token_get(name: &str, profile: &str) -> Case {
    let device = start(roomy(profile)).await;
    let token = redfish_token(&device).await;
    let request = Request::get(REDFISH_GET, &[("X-Auth-Token", &token)]);
    fixed_case(name, 0.80, device, request, false).await
}

/// A GET of a document of the resource tree (what inventory reads: a System), the
/// first member of the profile's Systems collection.
async fn tree_get(name: &str, profile: &str) -> Case {
    let device = start(roomy(profile)).await;
    let token = redfish_token(&device).await;
    let auth = [("X-Auth-Token", token.as_str())];
    let systems = ask(addr_of(&device), &Request::get("/redfish/v1/Systems", &auth)).await;
    let systems: serde_json::Value =
        serde_json::from_slice(&systems.body).expect("a JSON Systems collection");
    let first = systems["Members"][0]["@odata.id"].as_str().expect("a System").to_string();
    let request = Request::get(&first, &auth);
    fixed_case(name, 0.80, device, request, false).await
}

/// A BIG-IP GET with a token: of `sys version`, or (`pool`) of an LTM pool of two
/// members, made first (what automation reads back of what it configured).
async fn bigip_token_get(name: &str, pool: bool) -> Case {
    let device = start(roomy("bigip17")).await;
    let (user, password) = device.credentials();
    let body =
        serde_json::json!({"username": user, "password": password, "loginProviderName": "tmos"});
    let login =
        ask(addr_of(&device), &Request::post_json("/mgmt/shared/authn/login", &body.to_string()))
            .await;
    let json: serde_json::Value = serde_json::from_slice(&login.body).expect("a JSON login answer");
    let token = json["token"]["token"].as_str().expect("a token").to_string();
    let mut path = "/mgmt/tm/sys/version";
    if pool {
        let body = serde_json::json!({
            "name": "web",
            "monitor": "http",
            "members": [{"name": "10.0.0.1:80"}, {"name": "10.0.0.2:80"}],
        });
        let mut made = Request::post_json("/mgmt/tm/ltm/pool", &body.to_string());
        made.headers.push(("X-F5-Auth-Token".into(), token.clone()));
        let made = ask(addr_of(&device), &made).await;
        assert_eq!(made.status, StatusCode::OK, "the pool is made");
        path = "/mgmt/tm/ltm/pool/~Common~web";
    }
    let request = Request::get(path, &[("X-F5-Auth-Token", &token)]);
    fixed_case(name, 0.80, device, request, false).await
}

async fn semp_cookie_get(name: &str, path: &str) -> Case {
    let device = start(roomy("solace-software-100")).await;
    let opened =
        ask(addr_of(&device), &Request::get(path, &[("Authorization", &basic(&device))])).await;
    let cookie = header(&opened, "set-cookie");
    let cookie = cookie.split(';').next().expect("name=value").to_string();
    let request = Request::get(path, &[("Cookie", &cookie)]);
    fixed_case(name, 0.70, device, request, false).await
}

async fn basic_get(name: &str) -> Case {
    let device = start(roomy("redfish")).await;
    let request = Request::get(REDFISH_GET, &[("Authorization", &basic(&device))]);
    fixed_case(name, 0.70, device, request, false).await
}

async fn refused_login(name: &str) -> Case {
    let mut profile = Profile::embedded("redfish").expect("embedded profile");
    profile.session.max_total = Some(1);
    let device = start(profile).await;
    redfish_token(&device).await; // the one place taken
    let request = Request::post_json(REDFISH_SESSIONS, &redfish_login_body(&device));
    fixed_case(name, 0.80, device, request, true).await
}

async fn cycle(name: &str) -> Case {
    let device = start(roomy("redfish")).await;
    let addr = addr_of(&device);
    let login = Request::post_json(REDFISH_SESSIONS, &redfish_login_body(&device));
    let logged_in = ask(addr, &login).await;
    assert_eq!(logged_in.status, StatusCode::CREATED, "login answers 201");
    let token = header(&logged_in, "x-auth-token");
    let location = header(&logged_in, "location");
    let got = ask(addr, &Request::get(REDFISH_GET, &[("X-Auth-Token", &token)])).await;
    let delete = Request {
        method: Method::DELETE,
        path: location.clone(),
        headers: vec![("X-Auth-Token".into(), token.clone())],
        body: None,
    };
    let logged_out = ask(addr, &delete).await;
    assert!(logged_out.status.is_success(), "logout answers {}", logged_out.status);
    let (bytes, headers) = (got.body.len(), got.headers.len());
    let bare = bare_app(vec![
        (Method::POST, REDFISH_SESSIONS.to_string(), logged_in),
        (Method::GET, REDFISH_GET.to_string(), got),
        (Method::DELETE, format!("{REDFISH_SESSIONS}/{{id}}"), logged_out),
    ])
    .await;
    Case {
        name: name.to_string(),
        target: 0.70,
        load: Load::Cycle { login, get: REDFISH_GET.to_string() },
        device: addr,
        bare,
        bytes,
        headers,
        per_unit: 3.0,
        refusal: false,
        emulated: device,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

pub fn which(tool: &str) -> bool {
    std::process::Command::new(tool).arg("--version").output().is_ok()
}

/// Requests per second of `load` against `addr`.
async fn rate(wrk: bool, load: &Load, addr: SocketAddr, seconds: u64, refusal: bool) -> f64 {
    if wrk {
        wrk_rate(load, addr, seconds, refusal).await
    } else {
        builtin_rate(load, addr, seconds).await
    }
}

/// A Lua string literal.
fn lua(text: &str) -> String {
    format!("{text:?}")
}

fn wrk_script(load: &Load) -> String {
    match load {
        Load::Fixed(request) => {
            let mut s = format!(
                "wrk.method = {}\nwrk.path = {}\n",
                lua(request.method.as_str()),
                lua(&request.path)
            );
            for (name, value) in &request.headers {
                s.push_str(&format!("wrk.headers[{}] = {}\n", lua(name), lua(value)));
            }
            if let Some(body) = &request.body {
                s.push_str(&format!("wrk.body = {}\n", lua(body)));
            }
            s
        }
        Load::Cycle { login, get } => {
            let body = login.body.as_deref().unwrap_or("");
            format!(
                r#"-- Each thread keeps its sessions in order: logged in (waiting for their GET),
-- read (waiting for their logout). Answers are told apart by status: 201 a login,
-- 200 a GET, 204 a logout; wrk counts the others.
local fresh, reading, read = {{}}, {{}}, {{}}
function request()
  local done = table.remove(read, 1)
  if done then
    return wrk.format("DELETE", done[2], {{["X-Auth-Token"] = done[1]}})
  end
  local session = table.remove(fresh, 1)
  if session then
    table.insert(reading, session)
    return wrk.format("GET", {get}, {{["X-Auth-Token"] = session[1]}})
  end
  return wrk.format("POST", {login}, {{["Content-Type"] = "application/json"}}, {body})
end
function response(status, headers, body)
  if status == 201 then
    local token, location = headers["x-auth-token"], headers["location"]
    table.insert(fresh, {{token, (location:gsub("^https?://[^/]+", ""))}})
  elseif status == 200 then
    local session = table.remove(reading, 1)
    if session then table.insert(read, session) end
  end
end
"#,
                login = lua(&login.path),
                get = lua(get),
                body = lua(body),
            )
        }
    }
}

async fn wrk_rate(load: &Load, addr: SocketAddr, seconds: u64, refusal: bool) -> f64 {
    let script = std::env::temp_dir().join(format!(
        "sessionlab-bench-{}-{}.lua",
        std::process::id(),
        addr.port()
    ));
    std::fs::write(&script, wrk_script(load)).expect("the Lua script is written");
    let (threads, connections) = match load {
        Load::Fixed(_) => (2, CONNECTIONS),
        Load::Cycle { .. } => (2, CONNECTIONS),
    };
    let out = tokio::process::Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}/"))
        .output()
        .await
        .expect("wrk runs");
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| -> Option<f64> {
        text.lines().find_map(|l| l.trim().strip_prefix(prefix)).and_then(|v| v.trim().parse().ok())
    };
    let requests = field("Requests/sec:").unwrap_or(0.0);
    let errors = field("Non-2xx or 3xx responses:").unwrap_or(0.0);
    // A thread's answers may come back out of order, so now and then a logout overtakes
    // the GET of its own session (a 401): a few of those are the load's, not the device's.
    let raced = matches!(load, Load::Cycle { .. }) && errors <= requests * seconds as f64 / 100.0;
    if (!refusal && errors > 0.0 && !raced) || text.contains("Socket errors") {
        eprintln!("warning: wrk against {addr} saw errors:\n{text}");
    }
    if refusal && errors == 0.0 {
        eprintln!("warning: the refused logins were answered with 2xx:\n{text}");
    }
    requests
}

/// Sends one request of the built-in client and reads the whole answer; its status and
/// headers, or `None` when it failed.
async fn send(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    request: (&str, &[(String, String)], Option<&String>),
) -> Option<reqwest::header::HeaderMap> {
    let (path, headers, body) = request;
    let mut builder = client.request(method, format!("{base}{path}"));
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.ok()?;
    let headers = response.headers().clone();
    response.bytes().await.ok()?;
    Some(headers)
}

/// One unit of `load` with the built-in client; how many requests it made.
async fn builtin_unit(client: &reqwest::Client, base: &str, load: &Load) -> u64 {
    match load {
        Load::Fixed(r) => {
            let sent = (r.path.as_str(), r.headers.as_slice(), r.body.as_ref());
            u64::from(send(client, base, r.method.clone(), sent).await.is_some())
        }
        Load::Cycle { login, get } => {
            let sent = (login.path.as_str(), login.headers.as_slice(), login.body.as_ref());
            let Some(headers) = send(client, base, Method::POST, sent).await else { return 0 };
            let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let (Some(token), Some(location)) = (value("x-auth-token"), value("location")) else {
                return 1;
            };
            let auth = [("X-Auth-Token".to_string(), token.to_string())];
            let _ = send(client, base, Method::GET, (get, &auth, None)).await;
            let path = match location.split_once("://") {
                Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
                None => location,
            };
            let _ = send(client, base, Method::DELETE, (path, &auth, None)).await;
            3
        }
    }
}

/// The built-in client: `CONNECTIONS` keep-alive loops in this process.
async fn builtin_rate(load: &Load, addr: SocketAddr, seconds: u64) -> f64 {
    let client = reqwest::Client::new();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let base = format!("http://{addr}");
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, count, load, base) =
            (client.clone(), count.clone(), load.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                count.fetch_add(builtin_unit(&client, &base, &load).await, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    count.load(Ordering::Relaxed) as f64 / seconds as f64
}

// ----- CPU per request, in process -----

/// Measures every case's CPU per request inside this process: the device's service
/// (what the listener calls for each request) is called directly, with no sockets,
/// HTTP parsing or load generator, so the figure is the emulator's own work. Each case
/// runs on one worker, then on two workers sharing the one device, then on two workers
/// with a device each: the difference between the last two is what sharing a device's
/// state between cores costs (locks, and the cache lines of shared counters moving
/// between the cores).
pub async fn cpu(options: &Options, requests: u32) {
    println!(
        "== CPU per request in process ({requests} requests per figure; µs of CPU per request)"
    );
    println!("{:<40} {:>9} {:>15} {:>16}", "case", "1 worker", "2 on 1 device", "2 on 2 devices");
    for (name, kind) in CASES {
        if options.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let first = make(name, kind).await;
        if options.one_worker {
            let one = inline(&first, requests).await;
            println!("{name:<40} {one:>9.2} {:>15} {:>16}", "-", "-");
            continue;
        }
        let second = make(name, kind).await;
        let one = busy(&[&first], requests).await;
        let shared = busy(&[&first, &first], requests).await;
        let apart = busy(&[&first, &second], requests).await;
        println!("{name:<40} {one:>9.2} {shared:>15.2} {apart:>16.2}");
    }
}

/// µs of CPU per request with one task per case in `cases`, on the runtime's workers,
/// together doing `requests`.
async fn busy(cases: &[&Case], requests: u32) -> f64 {
    let tasks = cases.len() as u32;
    let started = Instant::now();
    let mut running = Vec::new();
    for case in cases {
        let app = emulator::vendors::app(case.emulated.device().clone());
        let (load, per_unit) = (case.load.clone(), case.per_unit as u32);
        running.push(tokio::spawn(connection().serve(async move {
            for _ in 0..requests / tasks / per_unit {
                play(&app, &load).await;
            }
        })));
    }
    for task in running {
        task.await.expect("a measuring task ends");
    }
    started.elapsed().as_secs_f64() * 1e6 * f64::from(tasks) / f64::from(requests)
}

/// µs of CPU per request with `case` answered `requests` times in this task, on no
/// worker: the runtime's workers have nothing to do, so none of them looks for work
/// meanwhile, and a count of instructions is the requests' alone.
async fn inline(case: &Case, requests: u32) -> f64 {
    let app = emulator::vendors::app(case.emulated.device().clone());
    let started = Instant::now();
    connection()
        .serve(async {
            for _ in 0..requests / case.per_unit as u32 {
                play(&app, &case.load).await;
            }
        })
        .await;
    started.elapsed().as_secs_f64() * 1e6 / f64::from(requests)
}

/// What the listener knows of one keep-alive connection from the load, served around its
/// requests as the listener serves each connection.
fn connection() -> Connection {
    Connection::new(SocketAddr::from(([127, 0, 0, 1], 40_000)), ListenerScheme::Http)
}

/// One unit of `load` through `app`, each answer read to its end.
async fn play(app: &emulator::vendors::http::App, load: &Load) {
    match load {
        Load::Fixed(request) => {
            call(app, request, &[]).await;
        }
        Load::Cycle { login, get } => {
            let answer = call(app, login, &[]).await;
            let value =
                |name: &str| answer.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let (Some(token), Some(location)) = (value("x-auth-token"), value("location")) else {
                panic!("the login answers {} without a token", answer.status);
            };
            let token = [(HeaderName::from_static("x-auth-token"), token)];
            call(app, &Request::get(get, &[]), &token).await;
            let location = location.to_str().expect("a text Location").to_string();
            let delete = Request { method: Method::DELETE, ..Request::get(&location, &[]) };
            call(app, &delete, &token).await;
        }
    }
}

/// `request` (with `extra` headers) through `app`, as the listener hands it over.
async fn call(
    app: &emulator::vendors::http::App,
    request: &Request,
    extra: &[(HeaderName, HeaderValue)],
) -> Answer {
    use http_body_util::BodyExt as _;
    let body = request.body.clone().map(axum::body::Body::from).unwrap_or_default();
    let mut sent = axum::http::Request::new(body);
    *sent.method_mut() = request.method.clone();
    *sent.uri_mut() = request.path.parse().expect("a request path");
    let headers = sent.headers_mut();
    headers.insert("host", HeaderValue::from_static("127.0.0.1"));
    for (name, value) in &request.headers {
        let name = HeaderName::try_from(name.as_str()).expect("a header name");
        headers.insert(name, HeaderValue::from_str(value).expect("a header value"));
    }
    for (name, value) in extra {
        headers.insert(name.clone(), value.clone());
    }
    let answer = app.call(sent).await;
    let status = answer.status();
    let headers = answer.headers().iter().map(|(n, v)| (n.clone(), v.clone())).collect();
    let body = answer.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Answer { status, headers, body }
}
