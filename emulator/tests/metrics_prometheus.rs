//! Issue 16: `/_sessionlab/metrics` read by the Prometheus project's own Python parsers
//! (`prometheus_client` 0.26.0: the strict OpenMetrics parser and the classic text-format
//! parser) after a scripted leak over the wire, and the numbers agree with the control API.
//!
//! The parsers live in the `monitor` virtual environment that `ci/clients/setup.sh` builds
//! under `$SESSIONLAB_CLIENTS_DIR` (default `<workspace>/target/clients`). When it is
//! missing the test says SKIPPED and passes, except under `CI=true`, where it fails.
//! Time moves only through the virtual clock.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Both parsers over the text on stdin; every family's type and every sample, as JSON.
const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as classic
text = sys.stdin.read()
out = {"types": {}, "samples": [], "classic": []}
for family in openmetrics(text):
    out["types"][family.name] = family.type
    out["samples"] += [[s.name, s.labels, s.value] for s in family.samples]
for family in classic(text):
    out["classic"] += [[s.name, s.labels, s.value] for s in family.samples]
print(json.dumps(out))
"#;

fn python() -> Option<PathBuf> {
    let python = common::clients_dir().join("monitor/bin/python");
    if python.is_file() {
        return Some(python);
    }
    let why = format!(
        "{} is missing: run ci/clients/setup.sh, or point SESSIONLAB_CLIENTS_DIR at its output",
        python.display()
    );
    assert!(!common::strict(), "CI=true and the monitor venv is missing: {why}");
    println!("SKIPPED metrics through the Prometheus parsers: {why}");
    eprintln!("SKIPPED metrics through the Prometheus parsers: {why}");
    None
}

async fn parse(python: &PathBuf, text: &str) -> Value {
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(text.as_bytes()).await.expect("write the metrics");
    drop(stdin);
    let out = child.wait_with_output().await.expect("python runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the parsers refused the metrics: {stderr}\n{text}");
    serde_json::from_slice(&out.stdout).expect("the script's JSON")
}

/// The value of the sample `name` whose labels include every pair of `labels`.
fn sample(samples: &Value, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples.as_array()?.iter().find_map(|s| {
        let matches = s[0] == name && labels.iter().all(|(k, v)| s[1][*k] == *v);
        matches.then(|| s[2].as_f64()).flatten()
    })
}

/// A scripted leak: 16 logins that never log out fill the Redfish table, the 17th is
/// refused, a wrong password is refused, the clock jumps past the idle timeout, and one
/// more login gets in. Both parsers read the metrics, and every number agrees with the
/// control API.
#[tokio::test]
async fn the_prometheus_parsers_read_the_metrics_of_a_leak() {
    let Some(python) = python() else { return };
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let sessions = format!("{}/redfish/v1/SessionService/Sessions", device.url());
    let login = |password: &str| {
        http.post(&sessions)
            .header("User-Agent", "leaky-script/1.0")
            .json(&json!({"UserName": "admin", "Password": password}))
            .send()
    };
    for _ in 0..16 {
        assert_eq!(login("sessionlab").await.unwrap().status(), 201);
    }
    assert_eq!(login("sessionlab").await.unwrap().status(), 503, "the table is full");
    assert_eq!(login("wrong").await.unwrap().status(), 401);
    let control = format!("{}/_sessionlab", device.control());
    let advanced = http
        .post(format!("{control}/clock/advance"))
        .json(&json!({"seconds": 1800}))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), 200);
    assert_eq!(login("sessionlab").await.unwrap().status(), 201, "room again");

    let text = http.get(format!("{control}/metrics")).send().await.unwrap().text().await.unwrap();
    let parsed = parse(&python, &text).await;
    let get = |path: &str| {
        let http = http.clone();
        let url = format!("{control}/{path}");
        async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let dev = get("devices/redfish").await;
    let events = get("devices/redfish/events").await;
    let hygiene = get("devices/redfish/hygiene").await;
    let clock = get("clock").await;

    // Types, as the strict parser reads them.
    let types = &parsed["types"];
    for (family, kind) in [
        ("sessionlab_sessions_open", "gauge"),
        ("sessionlab_sessions_limit", "gauge"),
        ("sessionlab_pool_sessions_open", "gauge"),
        ("sessionlab_pool_sessions_limit", "gauge"),
        ("sessionlab_logins_accepted", "counter"),
        ("sessionlab_logins_refused", "counter"),
        ("sessionlab_sessions_ended", "counter"),
        ("sessionlab_clock_offset_seconds", "gauge"),
    ] {
        assert_eq!(types[family], kind, "{family}: {types}");
    }

    // What the control API says, counted from its event log and views.
    let mut by_kind: BTreeMap<String, f64> = BTreeMap::new();
    let mut ended: BTreeMap<String, f64> = BTreeMap::new();
    for e in events["events"].as_array().unwrap() {
        *by_kind.entry(e["event"].as_str().unwrap().to_string()).or_default() += 1.0;
        if let Some(reason) = e["reason"].as_str() {
            *ended.entry(reason.to_string()).or_default() += 1.0;
        }
    }
    assert_eq!(events["dropped"], 0, "the log kept everything, so it can be the reference");
    let redfish = [("device", "redfish"), ("vendor", "redfish"), ("session_type", "redfish")];
    let samples = &parsed["samples"];
    let open = dev["sessions"]["by_type"]["redfish"].as_f64().unwrap();
    assert_eq!(open, 1.0);
    assert_eq!(sample(samples, "sessionlab_sessions_open", &redfish), Some(open));
    assert_eq!(sample(samples, "sessionlab_sessions_limit", &redfish), Some(16.0));
    let total = [("device", "redfish"), ("pool", "total")];
    assert_eq!(sample(samples, "sessionlab_pool_sessions_open", &total), Some(open));
    assert_eq!(sample(samples, "sessionlab_pool_sessions_limit", &total), Some(16.0));
    assert_eq!(by_kind["created"], 17.0);
    assert_eq!(sample(samples, "sessionlab_logins_accepted_total", &redfish), Some(17.0));
    let refused = |reason| {
        let labels = [("device", "redfish"), ("session_type", "redfish"), ("reason", reason)];
        sample(samples, "sessionlab_logins_refused_total", &labels)
    };
    assert_eq!(refused("total-limit"), Some(by_kind["refused"]));
    assert_eq!(refused("bad-credentials"), Some(by_kind["login-failed"]));
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended["idle-timeout"], 16.0);
    assert_eq!(hygiene["totals"]["ended_by_reason"]["idle-timeout"], 16);
    let idle = [("device", "redfish"), ("session_type", "redfish"), ("reason", "idle-timeout")];
    assert_eq!(sample(samples, "sessionlab_sessions_ended_total", &idle), Some(16.0));
    assert_eq!(clock["monotonic_secs"].as_f64(), Some(1800.0));
    assert_eq!(sample(samples, "sessionlab_clock_offset_seconds", &[]), Some(1800.0));

    // The classic text-format parser reads the same samples with the same values.
    let mut strict: Vec<String> =
        samples.as_array().unwrap().iter().map(|s| s.to_string()).collect();
    let mut classic: Vec<String> =
        parsed["classic"].as_array().unwrap().iter().map(|s| s.to_string()).collect();
    strict.sort();
    classic.sort();
    assert_eq!(strict, classic);
}
