//! The scenario library against every embedded emulator profile: one trial per scenario
//! and profile it applies to (common scenarios written for `vendors = ["any"]`: every
//! profile whose vendor's driver can do their steps), named `PROFILE::GROUP::SCENARIO`, so a regression in the
//! emulator or in a scenario shows as a named failing test.
//!
//! A trial passes on PASS (and on the WARN of an `expected_fail` scenario that still
//! fails); it fails on FAIL, on any other WARN (the harness left something behind) and on
//! an unexpected NOT-TESTED. Scenarios that need something the profile does not have
//! (a maximum lifetime), or whose vendor has no driver yet, are ignored trials. Filter like any test: `cargo test -p
//! conformance --test scenarios -- idle`.

use std::path::PathBuf;
use std::process::ExitCode;

use conformance::driver;
use conformance::report::Verdict;
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario::{self, Scenario};
use conformance::target::{vendor_name, TargetOptions, TargetSpec};
use emulator::profile::{Profile, EMBEDDED};
use libtest_mimic::{Arguments, Failed, Trial};

fn scenario_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let scenarios = match scenario::load(&[scenario_root()]) {
        Ok(s) => s,
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let trial =
                Trial::test("scenario-files-are-valid", move || Err(text.join("\n").into()));
            return libtest_mimic::run(&args, vec![trial]).exit_code();
        }
    };
    let mut trials = Vec::new();
    for (name, _) in EMBEDDED {
        let profile = Profile::embedded(name).expect("embedded profiles load");
        let vendor = vendor_name(&profile);
        let capabilities = runner::capability_driver(&vendor);
        for s in &scenarios {
            if !s.applies_to(&vendor, Some(name))
                || runner::not_applicable(&vendor, Some(name), true, capabilities.as_deref(), s)
                    .is_some()
            {
                continue;
            }
            // Ignored, not failed: the profile has no maximum lifetime to wait for, or no
            // driver speaks its vendor's protocol yet.
            let missing_lifetime = s.needs_max_lifetime() && profile.session.max_lifetime_secs == 0;
            let no_driver = !driver::VENDORS.contains(&vendor.as_str());
            let id = format!("{name}::{}::{}", s.group, s.name);
            // Ignored trials say why, where a reader sees it (libtest-mimic captures nothing).
            let selected = args.filter.as_ref().is_none_or(|f| id.contains(f.as_str()));
            if selected && !args.list && (missing_lifetime || no_driver) {
                let why = if missing_lifetime {
                    "the profile has no maximum session lifetime to wait for"
                } else {
                    "no driver speaks this vendor's protocol yet"
                };
                println!("SKIPPED {id}: {why}");
            }
            let (profile_name, s) = (name.to_string(), s.clone());
            trials.push(
                Trial::test(id, move || run(&profile_name, &s))
                    .with_ignored_flag(missing_lifetime || no_driver),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

fn run(profile: &str, s: &Scenario) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let opts = TargetOptions { target: format!("emulated:{profile}"), ..Default::default() };
        let spec = TargetSpec::resolve(&opts).await?;
        let (r, _) = runner::run_one(&spec, s, &RunOptions::default(), Progress::Quiet).await;
        let expected_failure =
            r.verdict == Verdict::Warn && r.expected_fail.is_some() && r.warnings.is_empty();
        match r.verdict {
            Verdict::Pass => Ok(()),
            _ if expected_failure => Ok(()),
            _ => {
                let mut report = conformance::report::RunReport::new(
                    spec.label().to_string(),
                    spec.vendor().to_string(),
                    Some(profile.to_string()),
                    vec![r],
                );
                report.summarize();
                Err(format!("{}\nsource: {}", report.text(), s.source).into())
            }
        }
    })
}
