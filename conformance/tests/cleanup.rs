//! What the harness leaves behind when it is interrupted, or when the device is odd
//! (issue 13, items 8 and 9): nothing.
//!
//! - 50 interrupts at seeded random points of a run against an emulator running as a
//!   separate process (`sessionlab-emulator`, discovered ports), and one real SIGINT to
//!   the `sessionlab-conformance` binary; after each, the control API lists no session,
//!   only the profile's accounts, and the idle timeout it started with;
//! - a second interrupt abandons a cleanup that hangs and says what is left;
//! - against a server that hands every login the same token (as DMTF's mockup server
//!   does), both sessions are logged out.
//!
//! The emulator binary is built by `cargo test --workspace` (or `cargo build -p emulator`);
//! without it the process tests say so and check nothing, and fail with CI=true.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario::{self, Scenario};
use conformance::target::{TargetOptions, TargetSpec};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Seed of the interrupt points; change it to explore others, keep it to reproduce.
const SEED: u64 = 0x5e55_10a1_2026_0013;
/// Interrupts per run of the test.
const INTERRUPTS: usize = 50;

/// splitmix64: a small seeded generator, so the interrupt points are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// An emulator running as a separate process, killed when dropped.
struct Emulator {
    _child: tokio::process::Child,
    url: String,
    control: String,
}

fn emulator_binary() -> Option<PathBuf> {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_sessionlab-conformance")).parent()?;
    let path = bin_dir.join("sessionlab-emulator");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is not built (cargo test --workspace builds it)",
        path.display()
    );
    eprintln!("skipped: {} is not built (cargo build -p emulator builds it)", path.display());
    None
}

/// Starts `sessionlab-emulator --profile redfish` on ports the OS picks, and reads the
/// device's URL and the control API's from the table it prints.
async fn start_emulator(binary: &Path) -> Emulator {
    let mut child = tokio::process::Command::new(binary)
        .args(["--profile", "redfish", "--control-port", "0", "--seed", "13"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the emulator starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut url, mut control) = (None, None);
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("stdout readable") {
            if url.is_none() {
                url =
                    line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_string);
            }
            if let Some(rest) = line.strip_prefix("control API:") {
                control = rest
                    .split_whitespace()
                    .next()
                    .map(|u| u.trim_end_matches('/').trim_end_matches("/_sessionlab").to_string());
                break;
            }
        }
    })
    .await
    .expect("the emulator prints its table");
    // Keep reading (and dropping) what it prints, so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Emulator {
        _child: child,
        url: url.expect("a device URL in the table"),
        control: control.expect("the control API's URL"),
    }
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The device as the harness must leave it: no session, the profile's accounts only,
/// the profile's idle timeout. Returns what is wrong, if anything.
async fn left_behind(e: &Emulator) -> Option<String> {
    let sessions = get_json(&format!("{}/_sessionlab/devices/redfish/sessions", e.control)).await;
    let users = get_json(&format!("{}/_sessionlab/devices/redfish/users", e.control)).await;
    let names: Vec<&str> =
        users["users"].as_array().unwrap().iter().map(|u| u["user"].as_str().unwrap()).collect();
    let service: Value = reqwest::Client::new()
        .get(format!("{}/redfish/v1/SessionService", e.url))
        .basic_auth("admin", Some("sessionlab"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut wrong = Vec::new();
    if sessions["sessions"] != json!([]) {
        wrong.push(format!("sessions left open: {}", sessions["sessions"]));
    }
    if names != ["admin", "operator", "readonly"] {
        wrong.push(format!("accounts left behind: {names:?}"));
    }
    if service["SessionTimeout"] != 1800 {
        wrong.push(format!("idle timeout not restored: {}", service["SessionTimeout"]));
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

/// The sequence number of the device's latest event.
async fn last_event(e: &Emulator) -> u64 {
    let v = get_json(&format!("{}/_sessionlab/devices/redfish/events", e.control)).await;
    v["events"].as_array().and_then(|a| a.last()).and_then(|l| l["seq"].as_u64()).unwrap_or(0)
}

/// The scenarios every interrupt cuts into: logins and logouts, accounts created,
/// changed and deleted, a filled table, the idle timeout changed and waited out (on the
/// emulator's virtual clock), an administrator's delete. Six of the common ones keep each
/// run short.
fn common_scenarios() -> Vec<Scenario> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/common");
    let wanted = [
        "login-logout",
        "password-change-ends-user-sessions",
        "user-deletion-ends-user-sessions",
        "table-full-refuses-login",
        "idle-timeout-ends-session",
        "admin-delete-ends-session",
    ];
    let all = scenario::load(&[dir]).unwrap();
    let chosen: Vec<Scenario> =
        all.into_iter().filter(|s| wanted.contains(&s.name.as_str())).collect();
    assert_eq!(chosen.len(), wanted.len(), "the common scenarios were renamed");
    chosen
}

fn spec_options(e: &Emulator) -> TargetOptions {
    TargetOptions {
        target: e.url.clone(),
        control: Some(e.control.clone()),
        ..TargetOptions::default()
    }
}

/// Interrupting a run at 50 seeded random points (after the device's k-th session event
/// of the run, then a few scheduler turns) leaves nothing behind: every session logged
/// out, every scenario account deleted, the idle timeout restored. The emulator runs as
/// a separate process and is reached only through its URLs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupts_at_random_points_leave_nothing_behind() {
    let Some(binary) = emulator_binary() else { return };
    let emulator = start_emulator(&binary).await;
    let scenarios = common_scenarios();
    let spec = TargetSpec::resolve(&spec_options(&emulator)).await.unwrap();
    let opts = RunOptions::default();

    // One run to the end: how many session events a whole run makes.
    let before = last_event(&emulator).await;
    let report =
        runner::run(&spec, &scenarios, &opts, Progress::Quiet, std::future::pending()).await;
    assert!(report.ok(), "{}", report.text());
    let events_per_run = last_event(&emulator).await - before;
    assert!(events_per_run > 20, "{events_per_run}");
    assert_eq!(left_behind(&emulator).await, None);

    let mut rng = Rng(SEED);
    let mut cut_short = 0;
    for i in 0..INTERRUPTS {
        let k = rng.below(events_per_run);
        let turns = rng.below(16);
        let start = last_event(&emulator).await;
        let control = emulator.control.clone();
        let interrupt = async move {
            let url = format!("{control}/_sessionlab/devices/redfish/events?after={start}");
            loop {
                let v = get_json(&url).await;
                if v["events"].as_array().map_or(0, Vec::len) as u64 >= k {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            for _ in 0..turns {
                tokio::task::yield_now().await;
            }
        };
        let report = runner::run(&spec, &scenarios, &opts, Progress::Quiet, interrupt).await;
        cut_short += usize::from(report.interrupted);
        if let Some(wrong) = left_behind(&emulator).await {
            panic!(
                "interrupt {i} (seed {SEED:#x}, after event {k} and {turns} turns): {wrong}\n{}",
                report.text()
            );
        }
    }
    // Most interrupt points fall inside the run (the last events come as it ends).
    assert!(cut_short > INTERRUPTS / 2, "only {cut_short} of {INTERRUPTS} runs were interrupted");
}

/// A real Ctrl-C (SIGINT) to `sessionlab-conformance run` while it holds sessions: it
/// exits 130 and leaves the device clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_to_the_binary_leaves_nothing_behind() {
    let Some(binary) = emulator_binary() else { return };
    let emulator = start_emulator(&binary).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sessionlab-conformance"))
        .args(["run", "../scenarios/common", "--target", &emulator.url])
        .args(["--control", &emulator.control, "--filter", "table-full"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let sessions = format!("{}/_sessionlab/devices/redfish/sessions", emulator.control);
    loop {
        let v = get_json(&sessions).await;
        if v["sessions"].as_array().is_some_and(|s| s.len() >= 3) {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let pid = child.id().map(|p| p.to_string());
    if let Some(pid) = pid {
        let status = std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(status.success());
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the harness stops after Ctrl-C")
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // It may have finished before the signal landed; either way nothing is left.
    if out.status.code() != Some(0) {
        // A death by signal (no exit code) names the signal, to tell a SIGINT that found
        // no handler from a crash.
        let signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
        assert_eq!(out.status.code(), Some(130), "signal {signal:?}\n{stdout}{stderr}");
        assert!(stderr.contains("interrupted: finishing the request in flight"), "{stderr}");
    }
    assert_eq!(left_behind(&emulator).await, None, "{stdout}{stderr}");
}

// ---------------------------------------------------------------------------------------
// A stub Redfish service: every login gets the same token (DMTF's mockup server does
// this); a DELETE may be made to hang, to see a cleanup abandoned.

#[derive(Default)]
struct Stub {
    open: Mutex<BTreeSet<u32>>,
    next: Mutex<u32>,
    hang_deletes: bool,
    delete_seen: tokio::sync::Notify,
}

const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

async fn stub_root() -> Json<Value> {
    Json(json!({
        "@odata.id": "/redfish/v1/",
        "SessionService": { "@odata.id": "/redfish/v1/SessionService" },
        "Links": { "Sessions": { "@odata.id": SESSIONS } }
    }))
}

async fn stub_service(headers: HeaderMap) -> impl IntoResponse {
    if headers.get("authorization").is_none() {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    (StatusCode::OK, Json(json!({ "SessionTimeout": 1800 })))
}

async fn stub_list(State(stub): State<Arc<Stub>>) -> Json<Value> {
    let open = stub.open.lock().unwrap().clone();
    let members: Vec<Value> =
        open.iter().map(|n| json!({ "@odata.id": format!("{SESSIONS}/{n}") })).collect();
    Json(json!({ "Members@odata.count": members.len(), "Members": members }))
}

async fn stub_login(State(stub): State<Arc<Stub>>) -> impl IntoResponse {
    let n = {
        let mut next = stub.next.lock().unwrap();
        *next += 1;
        *next
    };
    stub.open.lock().unwrap().insert(n);
    let uri = format!("{SESSIONS}/{n}");
    (
        StatusCode::CREATED,
        [("x-auth-token", "the-same-token-for-everyone".to_string()), ("location", uri.clone())],
        Json(json!({ "@odata.id": uri, "Id": n.to_string(), "UserName": "admin" })),
    )
}

async fn stub_logout(State(stub): State<Arc<Stub>>, UrlPath(n): UrlPath<u32>) -> StatusCode {
    if stub.hang_deletes {
        stub.delete_seen.notify_one();
        std::future::pending::<()>().await;
    }
    if stub.open.lock().unwrap().remove(&n) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn start_stub(stub: Arc<Stub>) -> String {
    let app = Router::new()
        .route("/redfish/v1/", get(stub_root))
        .route("/redfish/v1/SessionService", get(stub_service))
        .route(SESSIONS, get(stub_list).post(stub_login))
        .route(&format!("{SESSIONS}/{{n}}"), axum::routing::delete(stub_logout))
        .with_state(stub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn inline(text: &str) -> Scenario {
    Scenario::from_toml(text, Path::new("inline.toml"), "test").unwrap()
}

fn stub_options(url: String) -> TargetOptions {
    TargetOptions {
        target: url,
        vendor: Some("redfish".to_string()),
        user: Some("admin".to_string()),
        password: Some("pw".to_string()),
        ..TargetOptions::default()
    }
}

/// Two sessions with the same token are two sessions: logging one out leaves the
/// other in the ledger, and the cleanup logs it out by its own URI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_sharing_a_token_are_both_logged_out() {
    let stub = Arc::new(Stub::default());
    let url = start_stub(stub.clone()).await;
    let s = inline(
        r#"name = "same-token"
description = "d"
source = "s"
vendors = ["redfish"]
steps = [
  { login = "a" },
  { login = "b" },
  { logout = "a" },
]"#,
    );
    let spec = TargetSpec::resolve(&stub_options(url)).await.unwrap();
    let report =
        runner::run(&spec, &[s], &RunOptions::default(), Progress::Quiet, std::future::pending())
            .await;
    assert!(report.ok(), "{}", report.text());
    assert_eq!(*stub.next.lock().unwrap(), 2, "two logins");
    assert_eq!(*stub.open.lock().unwrap(), BTreeSet::new(), "session 2 left open");
}

/// A second interrupt abandons a cleanup whose logout hangs, and the report says what
/// is left on the device (the session's id, not its token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_interrupt_abandons_cleanup_and_says_what_is_left() {
    let stub = Arc::new(Stub { hang_deletes: true, ..Stub::default() });
    let url = start_stub(stub.clone()).await;
    let s = inline(
        r#"name = "hangs"
description = "d"
source = "s"
vendors = ["redfish"]
steps = [
  { login = "a" },
  { wait = "10m" },
]"#,
    );
    let spec = TargetSpec::resolve(&stub_options(url)).await.unwrap();
    let opts = RunOptions { max_wait: Duration::from_secs(3600), ..RunOptions::default() };
    let watched = stub.clone();
    let interrupt = async move {
        while watched.open.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let abort = async move { stub.delete_seen.notified().await };
    let report =
        runner::run_interruptible(&spec, &[s], &opts, Progress::Quiet, interrupt, abort).await;
    assert!(report.interrupted);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let error = &report.errors[0];
    assert!(error.contains("cleanup abandoned by a second interrupt"), "{error}");
    assert!(error.contains("1 open session(s): 1 (admin)"), "{error}");
    assert!(!error.contains("the-same-token"), "{error}");
}
