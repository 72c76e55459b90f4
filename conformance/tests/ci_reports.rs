//! What CI users rely on (issue 14): an unusable target is an error first and last,
//! relative counts are not fooled by other clients' sessions, real waiting on an
//! emulator's virtual clock is detected, and hygiene hands the command the account asked
//! for.

use std::path::PathBuf;
use std::time::Duration;

use conformance::report::Verdict;
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario;
use conformance::target::{TargetOptions, TargetSpec};
use emulator::profile::Profile;
use emulator::EmulatedDevice;

fn common(name: &str) -> scenario::Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/common");
    scenario::load(&[path]).unwrap().into_iter().find(|s| s.name == name).unwrap()
}

async fn conformance(args: &[&str]) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sessionlab-conformance"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SESSIONLAB_CONTROL_URL")
        .env_remove("SESSIONLAB_TARGET")
        .output()
        .await
        .unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// A target where nothing answers is named plainly on the first line and on the last,
/// and the run fails: not a grey "0 passed, 0 failed, N skipped".
#[tokio::test]
async fn unreachable_target_is_an_error_first_and_last() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = conformance(&[
        "run",
        "../scenarios",
        "--target",
        &url,
        "--vendor",
        "redfish",
        "--user",
        "admin",
        "--password",
        "x",
        "--quiet",
    ])
    .await;
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].starts_with(&format!("error: nothing answers at {url}: ")), "{out}");
    assert!(lines[1].contains("onnection refused"), "{out}");
    assert!(out.contains("not applicable to redfish"), "{out}");
    assert!(lines.last().unwrap().ends_with(" skipped, 1 error"), "{out}");
    assert_eq!(lines[lines.len() - 2], lines[1], "{out}");
}

/// `expect_count = "+1"` counts the sessions that appeared during the scenario: a
/// session someone else left open that idles out during the scenario's own wait does not
/// fail common/activity-renews-idle-timeout on a shared device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_session_expiring_meanwhile_does_not_fail_a_relative_count() {
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    // Someone else's session, left open and idle.
    let login = reqwest::Client::new()
        .post(format!("{}/redfish/v1/SessionService/Sessions", device.url()))
        .json(&serde_json::json!({"UserName": "operator", "Password": "sessionlab"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 201);
    let opts = TargetOptions {
        target: device.url(),
        control: Some(device.control()),
        ..Default::default()
    };
    let spec = TargetSpec::resolve(&opts).await.unwrap();
    let s = common("activity-renews-idle-timeout");
    let report =
        runner::run(&spec, &[s], &RunOptions::default(), Progress::Quiet, std::future::pending())
            .await;
    let r = &report.results[0];
    assert_eq!(r.verdict, Verdict::Pass, "{}", report.text());
    // The other client's session did idle out meanwhile.
    let left: serde_json::Value =
        reqwest::get(format!("{}/_sessionlab/devices/redfish/sessions", device.control()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(left["sessions"], serde_json::json!([]), "{left}");
}

/// Runs one scenario given as TOML against an emulated device of `profile` (with its
/// control API, so waits move the virtual clock).
async fn run_inline(device: &EmulatedDevice, toml: &str) -> conformance::report::RunReport {
    let s =
        scenario::Scenario::from_toml(toml, std::path::Path::new("inline.toml"), "test").unwrap();
    let opts = TargetOptions {
        target: device.url(),
        control: Some(device.control()),
        ..Default::default()
    };
    let spec = TargetSpec::resolve(&opts).await.unwrap();
    runner::run(&spec, &[s], &RunOptions::default(), Progress::Quiet, std::future::pending()).await
}

/// On a shared BIG-IP, `expect_count = "+1"` counts only the scenario's tokens: another
/// client's token that times out during the scenario, and one of another user that
/// appears meanwhile, change nothing. A token names its `userName` (F5 DevCentral,
/// Demystifying iControl REST part 6, https://community.f5.com/kb/technicalarticles/demystifying-icontrol-rest-part-6-token-based-authentication/286793).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bigip_relative_count_leaves_out_other_clients_tokens() {
    let device = EmulatedDevice::start(Profile::embedded("bigip17").unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let login = |user: &'static str| {
        http.post(format!("{}/mgmt/shared/authn/login", device.url())).json(&serde_json::json!({
            "username": user, "password": "sessionlab", "loginProviderName": "tmos"
        }))
    };
    // Someone else's token, left open with a 60-second timeout.
    let body: serde_json::Value = login("operator").send().await.unwrap().json().await.unwrap();
    let token = body["token"]["token"].as_str().unwrap().to_string();
    let patched = http
        .patch(format!("{}/mgmt/shared/authz/tokens/{token}", device.url()))
        .header("X-F5-Auth-Token", &token)
        .json(&serde_json::json!({"timeout": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let toml = r#"
name = "shared-bigip"
description = "d"
source = "s"
vendors = ["bigip"]
steps = [
  { login = "a" },
  { expect_count = "+1" },
  { wait = "61s" },
  { request = "POST /mgmt/shared/authn/login", auth = "none", body = { username = "operator", password = "sessionlab", loginProviderName = "tmos" }, expect_status = 200 },
  { expect_count = "+1" },
  { logout = "a" },
  { expect_count = "+0" },
]
"#;
    let report = run_inline(&device, toml).await;
    assert_eq!(report.results[0].verdict, Verdict::Pass, "{}", report.text());
    // The other client's first token did time out meanwhile: 401 now.
    let dead = http
        .get(format!("{}/mgmt/tm/sys/version", device.url()))
        .header("X-F5-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(dead.status(), 401);
}

/// On a shared Solace broker, `expect_count = "+1"` counts only the scenario's SEMP
/// sessions: another user's session that idles out during the scenario's wait, and one
/// that appears meanwhile, change nothing; the session each administrative listing
/// opens is left out too. A session names its `sessionUsername` (SEMP v2 monitor API,
/// `Session`, https://github.com/SolaceDev/pubsubplus-opentelemetry-go-integration/blob/30d1a3a565d558483e4c6f4a1997ae4694fb0fbf/test/sempclient/spec/spec_monitor.json).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solace_relative_count_leaves_out_other_clients_sessions() {
    let device =
        EmulatedDevice::start(Profile::embedded("solace-software-100").unwrap()).await.unwrap();
    // Someone else's session (a Basic request opens one), left to idle.
    let other = reqwest::Client::new()
        .get(format!("{}/SEMP/v2/monitor/about/user", device.url()))
        .basic_auth("monitor", Some("sessionlab"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert!(other.headers().get("set-cookie").is_some());
    let toml = r#"
name = "shared-solace"
description = "d"
source = "s"
vendors = ["solace"]
steps = [
  { login = "a" },
  { expect_count = "+1" },
  { wait = "idle_timeout + 1s", keep_alive = ["a"] },
  { request = "GET /SEMP/v2/monitor/about/user", auth = "none", headers = { Authorization = "Basic b3BlcmF0b3I6c2Vzc2lvbmxhYg==" }, expect_status = 200 },
  { expect_count = "+1" },
  { logout = "a" },
  { expect_count = "+0" },
]
"#;
    let report = run_inline(&device, toml).await;
    assert_eq!(report.results[0].verdict, Verdict::Pass, "{}", report.text());
    // The other client's session did idle out; the one the scenario's own request
    // opened as operator was logged out by the runner at the end.
    let left: serde_json::Value = reqwest::get(format!(
        "{}/_sessionlab/devices/solace-software-100/sessions",
        device.control()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(left["sessions"], serde_json::json!([]), "{left}");
}

/// Real waiting against an emulator on its virtual clock, reached without --control,
/// would end nothing and report a false FAIL: the runner notices the device's clock
/// standing still and says to give --control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_wait_on_a_virtual_clock_says_to_give_control() {
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let opts = TargetOptions {
        target: device.url(),
        vendor: Some("redfish".to_string()),
        user: Some("admin".to_string()),
        password: Some("sessionlab".to_string()),
        ..Default::default()
    };
    let spec = TargetSpec::resolve(&opts).await.unwrap();
    let run_opts = RunOptions { max_wait: Duration::from_secs(120), ..RunOptions::default() };
    let s = common("idle-timeout-ends-session");
    let report = runner::run(&spec, &[s], &run_opts, Progress::Quiet, std::future::pending()).await;
    let r = &report.results[0];
    assert_eq!(r.verdict, Verdict::NotTested, "{}", report.text());
    let why = r.reason.as_deref().unwrap();
    assert!(why.contains("the device's clock stands still"), "{why}");
    assert!(why.contains("--control"), "{why}");
    assert!(report.ok(), "{}", report.text());
}

fn have_curl() -> bool {
    let found = std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "curl is missing in CI");
        println!("SKIPPED hygiene_uses_the_given_user_and_password: no curl");
    }
    found
}

/// `hygiene --profile P --user U --password W` hands the command U and W, and the device
/// accepts them: an account the profile lacks is added, an existing one gets W.
#[tokio::test]
async fn hygiene_uses_the_given_user_and_password() {
    if !have_curl() {
        return;
    }
    let client = r#"curl -s -o /dev/null -w "%{http_code} as $SESSIONLAB_USER\n" \
  -u "$SESSIONLAB_USER:$SESSIONLAB_PASSWORD" "$SESSIONLAB_URL/redfish/v1/SessionService""#;
    for user in ["ci-robot", "readonly"] {
        let (code, out) = conformance(&[
            "hygiene",
            "--profile",
            "redfish",
            "--user",
            user,
            "--password",
            "Ci-Pw-42",
            "--",
            "sh",
            "-c",
            client,
        ])
        .await;
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(&format!("200 as {user}\n")), "{out}");
    }
}

/// What points only into the project's notes outside the repository: seed files,
/// `vendors/*.md`, and the short labels those notes define (`F5-TOKMGMT`, `SEMP1026`).
const PRIVATE: [&str; 22] = [
    "seed 0",
    "seeds/",
    "vendors/",
    "/work/shared",
    "ilo-idrac.md",
    "bigip-solace.md",
    " redfish.md",
    "SOAP-SEED",
    "SOL-SESS",
    "F5-TOKMGMT",
    "F5-AUTHDOC",
    "F5-ANSIBLE",
    "F5-SDK",
    "TF-BIGIP",
    "SEMP221",
    "SEMP234",
    "SEMP1026",
    "HPE-DOCS",
    "HPE-PORTAL",
    "ISERVER",
    "SAILFISH",
    "TF #",
];

/// Scenario sources cite what a user can follow (a public document or URL), never the
/// project's own notes outside the repository (seed files, `vendors/*.md`).
#[test]
fn scenario_sources_cite_public_references() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    for s in scenario::load(&[root]).unwrap() {
        for p in PRIVATE {
            assert!(!s.source.contains(p), "{}: source cites {p:?}: {}", s.id(), s.source);
        }
        assert!(!s.source.starts_with("redfish.md"), "{}: {}", s.id(), s.source);
    }
}

/// The profiles' `[verified]` and `[assumed]` notes cite public references too.
#[test]
fn profile_notes_cite_public_references() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/profiles");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for p in PRIVATE {
                assert!(!line.contains(p), "{}:{}: cites {p:?}: {line}", path.display(), n + 1);
            }
        }
    }
    assert!(seen >= 13, "{seen} profiles");
}
