//! Scenarios against an emulator that is not started by the runner: a device reached
//! by URL, with and without its control API, as when the emulator runs as a separate
//! process (here it runs in the test, but the harness only sees its URLs). Also what the
//! runner guarantees on such targets: cleanup after failures and interrupts, one bad
//! login at most for wrong credentials.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conformance::report::Verdict;
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario::{self, Scenario};
use conformance::target::{TargetOptions, TargetSpec};
use emulator::profile::Profile;
use emulator::EmulatedDevice;
use serde_json::Value;

async fn start() -> EmulatedDevice {
    EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap()
}

async fn conformance(args: &[&str]) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sessionlab-conformance"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SESSIONLAB_CONTROL_URL")
        .output()
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verdicts(json: &Value) -> BTreeMap<String, (String, String)> {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let reason = r["reason"].as_str().unwrap_or_default().to_string();
            (
                r["id"].as_str().unwrap().to_string(),
                (r["verdict"].as_str().unwrap().to_string(), reason),
            )
        })
        .collect()
}

async fn control_get(device: &EmulatedDevice, path: &str) -> Value {
    reqwest::get(format!("{}/_sessionlab/{path}", device.control()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What the device looks like after the harness: no session open, the idle timeout
/// back at the profile's, only the profile's accounts.
async fn assert_left_clean(device: &EmulatedDevice) {
    let sessions = control_get(device, "devices/redfish/sessions").await;
    assert_eq!(sessions["sessions"], serde_json::json!([]), "sessions left open");
    let users = control_get(device, "devices/redfish/users").await;
    let names: Vec<&str> =
        users["users"].as_array().unwrap().iter().map(|u| u["user"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "operator", "readonly"], "accounts left behind");
    let service: Value = reqwest::Client::new()
        .get(format!("{}/redfish/v1/SessionService", device.url()))
        .basic_auth("admin", Some("sessionlab"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(service["SessionTimeout"], 1800, "idle timeout not restored");
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sessionlab-{name}-{}.json", std::process::id()))
}

/// `--target URL --control URL` gives the same verdicts as `emulated:redfish`: the
/// control API moves the emulator's virtual clock, so waits are instant. The device is
/// left as it was found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_emulator_with_control_matches_embedded() {
    let device = start().await;
    let json = temp("remote-control");
    let json_arg = json.display().to_string();
    let (code, out, err) = conformance(&[
        "run",
        "../scenarios",
        "--target",
        &device.url(),
        "--control",
        &device.control(),
        "--json",
        &json_arg,
        "--quiet",
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    let remote: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let embedded_json = temp("embedded");
    let embedded_arg = embedded_json.display().to_string();
    let (code, out, err) = conformance(&[
        "run",
        "../scenarios",
        "--target",
        "emulated:redfish",
        "--json",
        &embedded_arg,
        "--quiet",
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    let embedded: Value =
        serde_json::from_str(&std::fs::read_to_string(&embedded_json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&embedded_json);
    assert_eq!(verdicts(&remote), verdicts(&embedded));
    assert_eq!(remote["summary"]["failed"], 0);
    assert_left_clean(&device).await;
}

/// Without `--control` the device is treated as real: waiting scenarios are NOT-TESTED
/// (`--max-wait` is 0 by default), so are destructive ones and the auth-config change
/// (Redfish has no standard call for it); everything else passes, and the device is
/// left clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_emulator_without_control_skips_waits() {
    let device = start().await;
    let json = temp("remote-real");
    let json_arg = json.display().to_string();
    let (code, out, err) = conformance(&[
        "run",
        "../scenarios",
        "--target",
        &device.url(),
        "--vendor",
        "redfish",
        "--user",
        "admin",
        "--password",
        "sessionlab",
        "--json",
        &json_arg,
        "--quiet",
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let v = verdicts(&report);
    let not_tested = |id: &str, why: &str| {
        let (verdict, reason) = &v[id];
        assert_eq!(verdict, "NOT-TESTED", "{id}: {reason}");
        assert!(reason.contains(why), "{id}: {reason}");
    };
    not_tested(
        "common/idle-timeout-ends-session",
        "needs 1m of real waiting with the idle timeout shortened to 30s; --max-wait is 0s",
    );
    not_tested("common/activity-renews-idle-timeout", "needs 40s of real waiting");
    not_tested("redfish/redfish-session-timeout-setting", "needs 2m of real waiting");
    not_tested("common/max-lifetime-ends-session", "no maximum session lifetime");
    not_tested("common/table-full-refuses-login", "--allow-destructive");
    not_tested("common/restart-ends-all", "--allow-destructive");
    // It is for devices that follow the redfish profile; this one has none given.
    // It is for devices that follow the redfish profile; this one has none given, so
    // it is left out of the report (and counted), not skipped.
    assert!(!v.contains_key("common/auth-config-change-ends-all"));
    assert!(report["not_applicable"].as_u64().unwrap() > 0, "{report}");
    for id in [
        "common/login-logout",
        "common/token-dead-after-logout",
        "common/password-change-ends-user-sessions",
        "common/user-deletion-ends-user-sessions",
        "common/admin-delete-ends-session",
        "common/basic-auth-leaves-no-session",
        "redfish/redfish-login-answer",
        "redfish/redfish-dead-token-answer",
    ] {
        assert_eq!(v[id].0, "PASS", "{id}: {}", v[id].1);
    }
    assert_left_clean(&device).await;

    // With --allow-destructive and the profile that documents the table size, the
    // table-filling scenario runs on a "real" device too.
    let (code, out, err) = conformance(&[
        "run",
        "../scenarios",
        "--target",
        &device.url(),
        "--vendor",
        "redfish",
        "--user",
        "admin",
        "--password",
        "sessionlab",
        "--allow-destructive",
        "--profile",
        "redfish",
        "--filter",
        "common/table-full",
        "--quiet",
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.trim_end().ends_with("1 passed, 0 failed, 0 skipped"), "{out}");
    assert_left_clean(&device).await;
}

/// Wrong credentials stop the run after one failed login: no scenario runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_costs_one_attempt() {
    let device = start().await;
    let (code, out, err) = conformance(&[
        "run",
        "../scenarios",
        "--target",
        &device.url(),
        "--vendor",
        "redfish",
        "--user",
        "admin",
        "--password",
        "wrong",
        "--quiet",
    ])
    .await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("the credentials of user \"admin\" are rejected"), "{out}");
    assert!(out.contains("bad-credential logins during the run: 1"), "{out}");
    // An error first and last: the run is not a grey "all skipped".
    assert!(out.lines().nth(1).unwrap().starts_with("error: the credentials"), "{out}");
    let last = out.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("0 passed, 0 failed, ") && last.ends_with(" skipped, 1 error"),
        "{out}"
    );
    let failed = control_get(&device, "devices/redfish/events?event=login-failed").await;
    assert_eq!(failed["events"].as_array().unwrap().len(), 1, "{failed}");
}

fn scenario(text: &str) -> Scenario {
    Scenario::from_toml(text, Path::new("inline.toml"), "test").unwrap()
}

fn remote_spec_options(device: &EmulatedDevice) -> TargetOptions {
    TargetOptions {
        target: device.url(),
        vendor: Some("redfish".to_string()),
        user: Some("admin".to_string()),
        password: Some("sessionlab".to_string()),
        ..Default::default()
    }
}

/// A failing step does not leave its sessions (or its account) behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_step_still_cleans_up() {
    let device = start().await;
    let s = scenario(
        r#"name = "fails-midway"
description = "d"
source = "s"
vendors = ["redfish"]
steps = [
  { create_user = "slx" },
  { login = "a" },
  { login = "b", user = "slx" },
  { expect_count = 7 },
  { logout = "a" },
]"#,
    );
    let spec = TargetSpec::resolve(&remote_spec_options(&device)).await.unwrap();
    let report =
        runner::run(&spec, &[s], &RunOptions::default(), Progress::Quiet, std::future::pending())
            .await;
    let r = &report.results[0];
    assert_eq!(r.verdict, Verdict::Fail, "{}", report.text());
    assert_eq!(r.failure.as_ref().unwrap().step, 4);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_left_clean(&device).await;
}

/// Ctrl-C in the middle of a real wait: the runner logs out what it opened and puts the
/// idle timeout it had shortened back, and reports the run as interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_logs_out_and_restores_settings() {
    let device = start().await;
    let s = scenario(
        r#"name = "long-wait"
description = "d"
source = "s"
vendors = ["redfish"]
steps = [
  { login = "a" },
  { login = "b" },
  { wait = "idle_timeout + 1s" },
  { expect_invalid = "a" },
]"#,
    );
    let spec = TargetSpec::resolve(&remote_spec_options(&device)).await.unwrap();
    let opts = RunOptions { max_wait: Duration::from_secs(3600), ..RunOptions::default() };
    let control = device.control();
    // "Ctrl-C" once both logins are in and the runner is waiting (really: 31 s).
    let interrupt = async move {
        loop {
            let v: Value = reqwest::get(format!("{control}/_sessionlab/devices/redfish/sessions"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["sessions"].as_array().unwrap().len() == 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let before = control_get(&device, "devices/redfish").await;
    assert_eq!(before["sessions"]["total"], 0);
    let report = runner::run(&spec, &[s], &opts, Progress::Quiet, interrupt).await;
    assert!(report.interrupted);
    assert_eq!(report.results[0].verdict, Verdict::NotTested);
    assert_eq!(report.results[0].reason.as_deref(), Some("interrupted"));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_left_clean(&device).await;
    let ended = control_get(&device, "devices/redfish/events?reason=logout").await;
    assert_eq!(ended["events"].as_array().unwrap().len(), 2, "{ended}");
}

/// A device with a self-signed certificate (as real BMCs ship) is refused unless
/// `--insecure` is given; with it, scenarios run over HTTPS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_tls_needs_insecure() {
    use emulator::fleet::{DeviceSpec, Fleet, FleetConfig};
    use emulator::tls::TlsSetup;
    let profile = std::sync::Arc::new(Profile::embedded("redfish").unwrap());
    let mut config = FleetConfig::new(vec![DeviceSpec::new("redfish", profile)]);
    config.tls = Some(TlsSetup::SelfSigned);
    let fleet = Fleet::start(config).await.unwrap();
    let url = fleet.devices()[0].url();
    assert!(url.starts_with("https://"), "{url}");
    let control = fleet.control_url();
    let args = [
        "run",
        "../scenarios",
        "--filter",
        "common/login-logout",
        "--target",
        &url,
        "--control",
        &control,
        "--quiet",
    ];
    let (code, out, err) = conformance(&args).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("error: nothing answers at https://"), "{out}");
    assert!(out.to_lowercase().contains("certificate"), "{out}");
    let (code, out, err) = conformance(&[&args[..], &["--insecure"]].concat()).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.trim_end().ends_with("1 passed, 0 failed, 0 skipped"), "{out}");
}

/// The scenario library loads from where the docs say it is.
#[test]
fn library_loads() {
    let s =
        scenario::load(&[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")]).unwrap();
    assert!(s.len() >= 16);
}
