//! Report formats, pinned by snapshots: the text report and the JUnit XML of a run of
//! fixture scenarios that PASS, FAIL, WARN (expected failure), FAIL (an expected failure
//! that passes) and NOT-TESTED (two ways), with timings zeroed. The fixtures, not the
//! growing library, keep the snapshots stable. Also the exit
//! status of `run` for each kind.

use std::path::PathBuf;
use std::process::Command;

use conformance::report::Verdict;
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario;
use conformance::target::{TargetOptions, TargetSpec};

async fn fixtures() -> conformance::report::RunReport {
    // Relative paths (cargo runs tests in the package folder) keep file names stable.
    let paths = [PathBuf::from("tests/fixtures/report")];
    let scenarios = scenario::load(&paths).expect("valid scenarios");
    let opts = TargetOptions {
        target: "emulated:redfish".to_string(),
        seed: Some(7),
        ..Default::default()
    };
    let spec = TargetSpec::resolve(&opts).await.unwrap();
    let mut report = runner::run(
        &spec,
        &scenarios,
        &RunOptions::default(),
        Progress::Quiet,
        std::future::pending(),
    )
    .await;
    report.redact_timings();
    report
}

/// The human report: one line per scenario, the failing step with what was expected
/// and what came back, and the summary line last.
#[tokio::test]
async fn text_and_junit_reports_are_stable() {
    let report = fixtures().await;
    let verdict =
        |name: &str| report.results.iter().find(|r| r.name == name).map(|r| r.verdict).unwrap();
    assert_eq!(verdict("fixture-count-mismatch"), Verdict::Fail);
    assert_eq!(verdict("fixture-known-divergence"), Verdict::Warn);
    assert_eq!(verdict("fixture-fixed-divergence"), Verdict::Fail);
    // Another vendor's scenario is left out of the results, and counted.
    assert!(report.results.iter().all(|r| r.name != "fixture-other-vendor"));
    assert_eq!(report.not_applicable, 1);
    assert!(!report.ok());
    let text = report.text();
    assert_eq!(text.lines().last(), Some(report.summary_line().as_str()));
    insta::assert_snapshot!("text_report", redact_times(&text));
    insta::assert_snapshot!("junit_report", redact_times(&report.junit().unwrap()));
}

/// The JSON report carries the same verdicts and the failing exchange.
#[tokio::test]
async fn json_report_has_verdicts_and_evidence() {
    let report = fixtures().await;
    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(json["summary"]["failed"], 3);
    let failing = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "fixture-count-mismatch")
        .unwrap();
    assert_eq!(failing["verdict"], "FAIL");
    assert_eq!(failing["failure"]["step"], 2);
    assert_eq!(failing["failure"]["line"], 8);
    assert_eq!(failing["failure"]["exchange"]["status"], 200);
    assert_eq!(
        failing["failure"]["exchange"]["request"],
        "GET /redfish/v1/SessionService/Sessions"
    );
    // Tokens never reach a report: the failing login's X-Auth-Token is redacted.
    let login = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "fixture-login-status")
        .unwrap();
    assert_eq!(login["failure"]["exchange"]["status"], 201);
    assert_eq!(login["failure"]["exchange"]["headers"]["x-auth-token"], "[redacted]");
    assert!(login["warnings"].is_null(), "the adopted session was logged out: {login}");
}

/// Wall-clock timestamps (the virtual clock starts at the machine's time) as `[time]`.
fn redact_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let digit = |c: Option<&char>| c.is_some_and(char::is_ascii_digit);
    while i < chars.len() {
        let starts_date = (0..4).all(|k| digit(chars.get(i + k)))
            && chars.get(i + 4) == Some(&'-')
            && chars.get(i + 10) == Some(&'T');
        if starts_date {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || "-:T.+Z".contains(chars[j])) {
                j += 1;
            }
            out.push_str("[time]");
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn run_exit(filter: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sessionlab-conformance"))
        .args([
            "run",
            "tests/fixtures/report",
            "--target",
            "emulated:redfish",
            "--quiet",
            "--filter",
            filter,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// Issue 14: a `--filter` that selects no scenario exits 2 with the reason, as pytest and nextest do, rather than 0 with nothing run.
#[test]
fn a_filter_that_selects_nothing_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_sessionlab-conformance"))
        .args(["run", "tests/fixtures/report", "--target", "emulated:redfish", "--quiet"])
        .args(["--filter", "no-such-scenario"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no scenario id contains \"no-such-scenario\""), "{err}");
}

/// Exit status: 0 for a WARN (a known divergence that still fails) or NOT-TESTED; 1 for
/// a FAIL, including an `expected_fail` scenario that now passes.
#[test]
fn exit_status_follows_the_verdicts() {
    let (code, out) = run_exit("known-divergence");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed, 0 skipped"));
    let (code, out) = run_exit("other-vendor");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("\n1 not applicable to redfish"), "{out}");
    assert_eq!(out.lines().last(), Some("0 passed, 0 failed, 0 skipped"));
    let (code, out) = run_exit("fixed-divergence");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("but every step held: remove `expected_fail`"), "{out}");
    let (code, out) = run_exit("count-mismatch");
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed, 0 skipped"));
}
