//! `ci/sessionlab-ci.sh`, the script the example GitHub Actions workflow calls: its
//! `conformance` step writes a JUnit report CI systems can read, its `hygiene` step
//! fails on a leaky client, and `start` / `wait` / `stop` manage a real
//! `sessionlab-emulator` process when that binary has been built.

use std::path::{Path, PathBuf};

use emulator::profile::Profile;
use emulator::EmulatedDevice;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ci/sessionlab-ci.sh")
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sessionlab-ci-{name}-{}", std::process::id()))
}

async fn ci(args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg(script()).args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for var in [
        "SESSIONLAB_PROFILE",
        "SESSIONLAB_HYGIENE_PROFILE",
        "SESSIONLAB_TARGET",
        "SESSIONLAB_CONTROL_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("SESSIONLAB_CONFORMANCE", env!("CARGO_BIN_EXE_sessionlab-conformance"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("sh runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// `conformance` runs the scenario library against the device through its control API
/// and writes a JUnit report that parses, with one test case per scenario.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_step_writes_junit() {
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let junit = temp("junit.xml");
    let (code, out) = ci(
        &["conformance", "../scenarios"],
        &[
            ("SESSIONLAB_TARGET", &device.url()),
            ("SESSIONLAB_CONTROL_URL", &device.control()),
            ("SESSIONLAB_JUNIT", &junit.display().to_string()),
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let _ = std::fs::remove_file(&junit);
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), format!("sessionlab-conformance {}", device.url()));
    // One test case per scenario that applies; the others are counted in a property.
    let library = conformance::scenario::load(&[PathBuf::from("../scenarios")]).unwrap();
    let not_applicable: usize = suite
        .properties
        .iter()
        .find(|p| p.name.as_str() == "not_applicable")
        .map(|p| p.value.as_str().parse().unwrap())
        .unwrap();
    assert!(not_applicable > 0, "other vendors' scenarios are left out");
    assert_eq!(suite.test_cases.len() + not_applicable, library.len());
    assert_eq!(suite.failures, 0);
    assert!(suite.test_cases.iter().any(|c| c.name.as_str() == "login-logout"));
}

/// `hygiene` fails a client that leaves a session open, and writes its JSON report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hygiene_step_fails_a_leaky_client() {
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let json = temp("hygiene.json");
    let leaky = "curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
                 -d \"{\\\"UserName\\\":\\\"$SESSIONLAB_USER\\\",\\\"Password\\\":\\\"$SESSIONLAB_PASSWORD\\\"}\" \
                 \"$SESSIONLAB_URL/redfish/v1/SessionService/Sessions\"";
    let envs = [
        ("SESSIONLAB_TARGET", device.url()),
        ("SESSIONLAB_CONTROL_URL", device.control()),
        ("SESSIONLAB_HYGIENE_JSON", json.display().to_string()),
    ];
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, out) = ci(&["hygiene", "--", "sh", "-c", "true"], &envs).await;
    assert_eq!(code, Some(0), "{out}");
    if std::process::Command::new("which").arg("curl").output().is_ok_and(|o| o.status.success()) {
        // The example workflow's client (ci/examples/) logs in and out: it passes.
        let (code, out) =
            ci(&["hygiene", "--", "../ci/examples/redfish-login-logout.sh"], &envs).await;
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("logged in, read /redfish/v1/Managers, logged out"), "{out}");
        let (code, out) = ci(&["hygiene", "--", "sh", "-c", leaky], &envs).await;
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("hygiene: FAIL: 1 session(s) left open, 0 allowed"), "{out}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(report["leaked"][0]["id"], "2");
    }
    let _ = std::fs::remove_file(&json);
}

/// Without a subcommand the script prints its usage and exits 2.
#[tokio::test]
async fn usage_without_a_subcommand() {
    let (code, out) = ci(&[], &[]).await;
    assert_eq!(code, Some(2));
    assert!(out.contains("ci/sessionlab-ci.sh start [EMULATOR FLAGS...]"), "{out}");
}

/// Kills the emulator `start` launched if the test ends early (a failed assertion), so no
/// process outlives the test.
struct KillOnDrop(PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `start` launches `sessionlab-emulator` as a separate process and returns once its
/// healthcheck passes; `conformance` runs the whole scenario library against it (waits
/// move its virtual clock through the control API) with no failure; `stop` ends the
/// process. `start` puts the device where SESSIONLAB_TARGET points (issue 14: the script
/// and the emulator's default port must agree). Needs the emulator binary next to this
/// package's binary (`cargo test --workspace` builds it); without it the test says so and
/// checks nothing (and fails with CI=true).
#[tokio::test]
async fn start_wait_stop_manage_the_emulator() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_sessionlab-conformance")).parent().unwrap();
    let emulator = bin_dir.join("sessionlab-emulator");
    if !emulator.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is not built (cargo test --workspace builds it)",
            emulator.display()
        );
        eprintln!("skipped: {} is not built", emulator.display());
        return;
    }
    let (control_port, base_port) = (free_port().to_string(), free_port().to_string());
    let dir = temp("start");
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = KillOnDrop(dir.join("pid"));
    let pidfile = dir.join("pid").display().to_string();
    let log = dir.join("log").display().to_string();
    let target = format!("http://127.0.0.1:{base_port}");
    let envs = [
        ("SESSIONLAB_EMULATOR", emulator.to_str().unwrap()),
        ("SESSIONLAB_CONTROL_PORT", control_port.as_str()),
        ("SESSIONLAB_PIDFILE", pidfile.as_str()),
        ("SESSIONLAB_LOG", log.as_str()),
        ("SESSIONLAB_WAIT_SECS", "20"),
        ("SESSIONLAB_TARGET", target.as_str()),
    ];
    let (code, out) = ci(&["start", "--profile", "redfish"], &envs).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("emulator healthy"), "{out}");
    let root: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{base_port}/redfish/v1/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(root["Links"]["Sessions"].is_object(), "{root}");
    let (code, out) = ci(&["wait"], &envs).await;
    assert_eq!(code, Some(0), "{out}");
    let control = format!("http://127.0.0.1:{control_port}");
    let junit = dir.join("junit.xml").display().to_string();
    let run_envs = [
        &envs[..],
        &[("SESSIONLAB_CONTROL_URL", control.as_str()), ("SESSIONLAB_JUNIT", junit.as_str())],
    ]
    .concat();
    let (code, out) = ci(&["conformance", "../scenarios"], &run_envs).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(" 0 failed, "), "{out}");
    let (code, out) = ci(&["stop"], &envs).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stopped sessionlab-emulator"), "{out}");
    assert!(reqwest::get(format!("http://127.0.0.1:{base_port}/redfish/v1/")).await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
