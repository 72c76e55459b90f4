//! Every kind of JUnit report validates against the Jenkins JUnit schema (`junit-10.xsd`
//! of the Jenkins xUnit plugin, vendored in `tests/fixtures/` with its source URL): a run
//! with PASS, FAIL, WARN and NOT-TESTED scenarios, a run against a target that does not
//! answer, and a hygiene report with leaked sessions.
//!
//! No Rust crate validates XML Schema, so `xmllint --schema` (Debian: libxml2-utils, which
//! `.ci/run` installs) does. Without it the trials are ignored with a SKIPPED line, and
//! fail under CI=true.

use std::path::PathBuf;
use std::process::ExitCode;

use conformance::hygiene::{Leak, Report as HygieneReport};
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario;
use conformance::target::{TargetOptions, TargetSpec};
use libtest_mimic::{Arguments, Failed, Trial};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have_xmllint() -> bool {
    std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Validates `xml` against the vendored schema with xmllint.
fn validate(name: &str, xml: &str) -> Result<(), Failed> {
    let file = std::env::temp_dir().join(format!("sessionlab-{name}-{}.xml", std::process::id()));
    std::fs::write(&file, xml)?;
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(manifest().join("tests/fixtures/junit-10.xsd"))
        .arg(&file)
        .output()?;
    let _ = std::fs::remove_file(&file);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} is not valid against junit-10.xsd:\n{}\n{xml}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into())
    }
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> Result<T, Failed> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(f))
}

/// The report fixtures: PASS, FAIL, WARN, NOT-TESTED and one not applicable.
fn run_report_is_valid() -> Result<(), Failed> {
    let xml = block_on(async {
        let scenarios = scenario::load(&[manifest().join("tests/fixtures/report")]).unwrap();
        let opts = TargetOptions {
            target: "emulated:redfish".to_string(),
            seed: Some(7),
            ..Default::default()
        };
        let spec = TargetSpec::resolve(&opts).await.unwrap();
        let report = runner::run(
            &spec,
            &scenarios,
            &RunOptions::default(),
            Progress::Quiet,
            std::future::pending(),
        )
        .await;
        report.junit().unwrap()
    })?;
    assert!(xml.contains("<failure type=\"StepFailed\""), "{xml}");
    assert!(xml.contains("<skipped message="), "{xml}");
    assert!(xml.contains("classname=\"emulated:redfish.report\""), "{xml}");
    validate("run-report", &xml)
}

/// A target where nothing answers: one `<error>`, the scenarios not run.
fn unusable_target_report_is_valid() -> Result<(), Failed> {
    let xml = block_on(async {
        // A port that was free a moment ago: nothing answers there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let scenarios = scenario::load(&[manifest().join("tests/fixtures/report")]).unwrap();
        let opts = TargetOptions {
            target: format!("http://127.0.0.1:{port}"),
            vendor: Some("redfish".to_string()),
            user: Some("admin".to_string()),
            password: Some("x".to_string()),
            ..Default::default()
        };
        let spec = TargetSpec::resolve(&opts).await.unwrap();
        let report = runner::run(
            &spec,
            &scenarios,
            &RunOptions::default(),
            Progress::Quiet,
            std::future::pending(),
        )
        .await;
        report.junit().unwrap()
    })?;
    assert!(xml.contains("errors=\"1\""), "{xml}");
    assert!(xml.contains("<error type=\"TargetUnusable\" message=\"nothing answers at"), "{xml}");
    validate("unusable-target-report", &xml)
}

/// A hygiene report with two leaked sessions and a failed command.
fn hygiene_report_is_valid() -> Result<(), Failed> {
    let leak = |id: &str| Leak {
        id: id.to_string(),
        user: "admin".to_string(),
        session_type: "redfish".to_string(),
        client_addr: Some("127.0.0.1".to_string()),
        user_agent: Some("curl/8.5.0 <&\"'>".to_string()),
        client_process: None,
        created: "2026-11-30T12:00:00Z".to_string(),
        last_used: "2026-11-30T12:00:01Z".to_string(),
        requests: Some(2),
    };
    let report = HygieneReport {
        device: "redfish".to_string(),
        url: "http://127.0.0.1:8000".to_string(),
        table_size: Some(16),
        command: vec!["sh".to_string(), "-c".to_string(), "exit 3".to_string()],
        exit_code: Some(3),
        signal: None,
        command_ok: false,
        leaked: vec![leak("1"), leak("2")],
        refused: Vec::new(),
        allowed_leaks: 0,
        ok: false,
    };
    let xml = report.junit();
    assert!(xml.contains(r#"tests="3" failures="3""#), "{xml}");
    assert!(xml.contains(r#"<testcase name="session 2 left open" classname="hygiene.redfish""#));
    validate("hygiene-report", &xml)
}

type Check = fn() -> Result<(), Failed>;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let missing = !have_xmllint();
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let trials: [(&str, Check); 3] = [
        ("run_report_is_valid_against_the_jenkins_junit_schema", run_report_is_valid),
        (
            "unusable_target_report_is_valid_against_the_jenkins_junit_schema",
            unusable_target_report_is_valid,
        ),
        ("hygiene_report_is_valid_against_the_jenkins_junit_schema", hygiene_report_is_valid),
    ];
    let trials = trials
        .into_iter()
        .map(|(name, test)| {
            if missing && ci {
                Trial::test(name, || {
                    Err("xmllint is missing under CI=true: install libxml2-utils".into())
                })
            } else {
                if missing && !args.list {
                    println!(
                        "SKIPPED {name}: xmllint is not installed (apt-get install libxml2-utils)"
                    );
                }
                Trial::test(name, test).with_ignored_flag(missing)
            }
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
