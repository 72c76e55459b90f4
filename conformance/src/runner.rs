//! The runner: runs scenarios against a target and judges each step.
//!
//! Rules it keeps, whatever happens:
//! - every session it opened is logged out at the end of its scenario — when a step
//!   fails, and when the run is interrupted (Ctrl-C) — and every account it created is
//!   deleted, and every setting it changed (the idle timeout) is restored;
//! - a destructive scenario (it fills the session table or restarts the device) never
//!   runs against a real device without `--allow-destructive`;
//! - bad-password logins happen only where a scenario asks for one, and the target's
//!   own credentials are checked once before anything else, so a wrong password costs
//!   one failed login, not one per scenario;
//! - on a real device, `wait` really waits, bounded by `--max-wait`; before waiting for
//!   an idle timeout the runner shortens it through the device's API (and restores it);
//! - on emulated targets `wait` moves the virtual clock, and scenarios run in parallel,
//!   each with its own device.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub use crate::ledger::{Ledger, Stop};

use crate::driver::{
    Answer, Auth, Capability, Credentials, Driver, DriverError, Exchange, LoginOutcome,
    LogoutOutcome, RawCall, SessionHandle, TokenState,
};
use crate::report::{Failure, RunReport, ScenarioResult, Verdict};
use crate::scenario::{
    format_secs, Action, CountExpr, DurationBase, DurationExpr, LoginExpect, RawRequest,
    RequestAuth, Scenario,
};
use crate::stopwatch::Stopwatch;
use crate::target::{Target, TargetSpec, TimeSource};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Run destructive scenarios against real devices too.
    pub allow_destructive: bool,
    /// The longest real waiting one scenario may do on a device without a virtual clock.
    pub max_wait: Duration,
    /// Scenarios run at once on emulated targets.
    pub jobs: usize,
    /// The most logins a `fill` step tries when the table size is not known.
    pub fill_limit: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { allow_destructive: false, max_wait: Duration::ZERO, jobs: 8, fill_limit: 256 }
    }
}

/// Where progress lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nowhere.
    Quiet,
    /// Standard error, prefixed with the program name.
    Stderr,
}

impl Progress {
    /// Shows one line.
    pub fn line(&self, text: &str) {
        if *self == Progress::Stderr {
            eprintln!("sessionlab-conformance: {text}");
        }
    }

    fn finished(&self, done: usize, total: usize, r: &ScenarioResult) {
        let mut text = format!(
            "[{done}/{total}] {:<10} {} ({:.2}s)",
            r.verdict.as_str(),
            r.id,
            r.duration.as_secs_f64()
        );
        if r.verdict == Verdict::NotTested {
            if let Some(reason) = &r.reason {
                text.push_str(": ");
                text.push_str(reason);
            }
        }
        self.line(&text);
    }
}

// ---------------------------------------------------------------------------------------
// Running a whole set

/// Runs `scenarios` against the target `spec` describes, until done or until
/// `interrupt` completes (then everything opened so far is cleaned up and the rest is
/// NOT-TESTED). Scenarios that do not apply to the target are left out of the results
/// and counted in [`RunReport::not_applicable`].
pub async fn run(
    spec: &TargetSpec,
    scenarios: &[Scenario],
    opts: &RunOptions,
    progress: Progress,
    interrupt: impl Future<Output = ()>,
) -> RunReport {
    run_interruptible(spec, scenarios, opts, progress, interrupt, std::future::pending()).await
}

/// [`run`], where the cleanup after an interrupt can itself be abandoned: `abort` is
/// watched only once `interrupt` has completed (a second Ctrl-C), and the report then
/// says what was left on the device. Until then the cleanup runs to its end: the
/// request in flight when `interrupt` came is answered and recorded, every session the
/// ledger knows is logged out, and a device with a control API is swept for sessions
/// carrying the harness's User-Agent.
pub async fn run_interruptible(
    spec: &TargetSpec,
    scenarios: &[Scenario],
    opts: &RunOptions,
    progress: Progress,
    interrupt: impl Future<Output = ()>,
    abort: impl Future<Output = ()>,
) -> RunReport {
    let watch = Stopwatch::start();
    let started = crate::stopwatch::wall_now();
    let profile = spec.profile().map(|p| p.name.as_str());
    let capabilities = capability_driver(spec.vendor());
    let applicable: Vec<Scenario> = scenarios
        .iter()
        .filter(|s| {
            not_applicable(
                spec.vendor(),
                profile,
                !spec.is_real_device(),
                capabilities.as_deref(),
                s,
            )
            .is_none()
        })
        .cloned()
        .collect();
    let left_out = scenarios.len() - applicable.len();
    if left_out > 0 {
        progress.line(&format!("{left_out} scenarios do not apply to {}", spec.vendor()));
    }
    let mut report = if spec.is_embedded() {
        // Embedded devices live in this process: they go with it, sessions and all.
        run_parallel(spec, &applicable, opts, progress, interrupt).await
    } else {
        run_sequential(spec, &applicable, opts, progress, interrupt, abort).await
    };
    report.not_applicable = left_out;
    report.started = Some(started);
    report.duration = watch.elapsed();
    report.summarize();
    report
}

/// A driver for `vendor` that is only asked what it can do (it talks to nobody).
pub fn capability_driver(vendor: &str) -> Option<Box<dyn Driver>> {
    crate::driver::for_vendor(
        vendor,
        crate::driver::DriverConfig {
            url: "http://127.0.0.1:9".to_string(),
            admin: Credentials::new("", ""),
            insecure: false,
            restart_grace: Duration::ZERO,
            restart_timeout: Duration::ZERO,
        },
    )
    .ok()
}

/// Why a scenario does not apply to a target of `vendor` (and `profile`), if it does
/// not: it names other vendors and profiles only, or it is written for `any` vendor and
/// the vendor's driver (`capabilities`, from [`capability_driver`]) cannot do one of its
/// steps. `control`: an emulator's control API is at hand (it restarts devices and
/// changes their authentication configuration where the protocol cannot).
pub fn not_applicable(
    vendor: &str,
    profile: Option<&str>,
    control: bool,
    capabilities: Option<&dyn Driver>,
    s: &Scenario,
) -> Option<String> {
    if s.names(vendor, profile) {
        return None;
    }
    if !s.applies_to(vendor, profile) {
        return Some(applies_only_to(vendor, profile, s));
    }
    let driver = capabilities?;
    unsupported_steps(driver, control, s)
        .map(|why| format!("written for any vendor whose driver can do its steps; {why}"))
}

fn applies_only_to(vendor: &str, profile: Option<&str>, s: &Scenario) -> String {
    let mut to = Vec::new();
    if !s.vendors.is_empty() {
        to.push(format!("vendors {}", s.vendors.join(", ")));
    }
    if !s.profiles.is_empty() {
        to.push(format!("profiles {}", s.profiles.join(", ")));
    }
    format!(
        "applies to {}; the target is vendor {vendor}{}",
        to.join(" and "),
        profile.map(|p| format!(", profile {p}")).unwrap_or_default()
    )
}

fn new_report(spec: &TargetSpec, results: Vec<ScenarioResult>) -> RunReport {
    RunReport::new(
        spec.label().to_string(),
        spec.vendor().to_string(),
        spec.profile().map(|p| p.name.clone()),
        results,
    )
}

async fn run_parallel(
    spec: &TargetSpec,
    scenarios: &[Scenario],
    opts: &RunOptions,
    progress: Progress,
    interrupt: impl Future<Output = ()>,
) -> RunReport {
    let total = scenarios.len();
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        let (spec, scenario, opts, limit) =
            (spec.clone(), scenario.clone(), opts.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, run_one(&spec, &scenario, &opts, progress).await)
        });
    }
    let mut slots: Vec<Option<(ScenarioResult, usize)>> = vec![None; total];
    let mut done = 0;
    let collect = async {
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, (result, bad))) => {
                    done += 1;
                    progress.finished(done, total, &result);
                    slots[i] = Some((result, bad));
                }
                Err(e) => progress.line(&format!("a scenario task stopped: {e}")),
            }
        }
    };
    let interrupted = tokio::select! {
        () = collect => false,
        () = interrupt => true,
    };
    drop(tasks);
    let mut bad = 0;
    let results = slots
        .into_iter()
        .zip(scenarios)
        .map(|(slot, s)| match slot {
            Some((r, b)) => {
                bad += b;
                r
            }
            None => not_tested(s, if interrupted { "interrupted" } else { "did not finish" }),
        })
        .collect();
    let mut report = new_report(spec, results);
    report.interrupted = interrupted;
    report.bad_credential_attempts = bad;
    report
}

async fn run_sequential(
    spec: &TargetSpec,
    scenarios: &[Scenario],
    opts: &RunOptions,
    progress: Progress,
    interrupt: impl Future<Output = ()>,
    abort: impl Future<Output = ()>,
) -> RunReport {
    let total = scenarios.len();
    let target = match spec.connect().await {
        Ok(t) => t,
        Err(e) => return unreachable_report(spec, scenarios, e.to_string()),
    };
    let vendor = spec.vendor();
    if let Err(e) = target.driver.probe().await {
        let why = match &e {
            DriverError::Transport(ex) => {
                format!("nothing answers at {}: {}", spec.label(), ex.body)
            }
            other => format!("{} does not answer as a {vendor} device: {other}", spec.label()),
        };
        return unreachable_report(spec, scenarios, why);
    }
    match target.driver.check_credentials().await {
        Ok(a) if a.value => {}
        Ok(a) => {
            let mut report = unreachable_report(
                spec,
                scenarios,
                format!(
                    "the credentials of user {:?} are rejected ({}); stopping before any \
                     scenario, since real devices lock accounts out after failed logins",
                    target.credentials.user,
                    a.exchange.summary()
                ),
            );
            report.bad_credential_attempts = 1;
            return report;
        }
        Err(e) => {
            return unreachable_report(
                spec,
                scenarios,
                format!(
                    "{} answers, but not as a {vendor} device that logs users in: {e}",
                    spec.label()
                ),
            )
        }
    }
    let ledger = Ledger::default();
    let (switch, stop) = Stop::new();
    let results: Mutex<Vec<ScenarioResult>> = Mutex::new(Vec::new());
    let bad = Mutex::new(0usize);
    let all = async {
        for (i, scenario) in scenarios.iter().enumerate() {
            if stop.is_raised() {
                break;
            }
            progress.line(&format!("[{}/{total}] {} ...", i + 1, scenario.id()));
            let (result, b) = run_on_until(&target, scenario, opts, progress, &ledger, &stop).await;
            let mut results = results.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            progress.finished(results.len() + 1, total, &result);
            results.push(result);
            *bad.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += b;
        }
    };
    let mut errors = Vec::new();
    let interrupted = {
        let mut all = std::pin::pin!(all);
        let interrupted = tokio::select! {
            () = &mut all => false,
            () = interrupt => true,
        };
        if interrupted {
            // The scenario in flight is not dropped: its request in flight is answered and
            // recorded, it stops before its next step (a wait ends at once), and it cleans
            // up as after a failure. Only a second interrupt abandons that.
            switch.raise();
            progress.line(&format!(
                "interrupted: finishing the request in flight, then cleaning up ({} sessions to \
                 log out); interrupt again to abandon the cleanup",
                ledger.open_sessions()
            ));
            let abandoned = tokio::select! {
                () = &mut all => false,
                () = abort => true,
            };
            if abandoned {
                let left = ledger.describe();
                let text = if left.is_empty() {
                    "cleanup abandoned by a second interrupt; nothing was left to undo".to_string()
                } else {
                    format!("cleanup abandoned by a second interrupt; left on the device: {left}")
                };
                progress.line(&text);
                errors.push(text);
            }
        }
        interrupted
    };
    let mut results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    if interrupted {
        if let Some(last) = results.last_mut() {
            if last.verdict == Verdict::NotTested && last.reason.as_deref() == Some("interrupted") {
                errors.append(&mut last.warnings);
            }
        }
        for s in &scenarios[results.len()..] {
            results.push(not_tested(s, "interrupted"));
        }
    }
    let mut report = new_report(spec, results);
    report.interrupted = interrupted;
    report.errors = errors;
    report.bad_credential_attempts = bad.into_inner().unwrap_or_else(|e| e.into_inner());
    report
}

fn unreachable_report(spec: &TargetSpec, scenarios: &[Scenario], why: String) -> RunReport {
    let results =
        scenarios.iter().map(|s| not_tested(s, "not run: the target could not be used")).collect();
    let mut report = new_report(spec, results);
    report.target_error = Some(why);
    report
}

fn base_result(s: &Scenario, verdict: Verdict, reason: Option<String>) -> ScenarioResult {
    ScenarioResult {
        id: s.id(),
        name: s.name.clone(),
        group: s.group.clone(),
        file: s.path.display().to_string(),
        source: s.source.clone(),
        verdict,
        reason,
        failure: None,
        expected_fail: s.expected_fail.clone(),
        warnings: Vec::new(),
        steps_run: 0,
        steps_total: s.steps.len(),
        duration: Duration::ZERO,
    }
}

fn not_tested(s: &Scenario, why: &str) -> ScenarioResult {
    base_result(s, Verdict::NotTested, Some(why.to_string()))
}

/// Why a scenario does not run on this target at all, if it does not.
pub fn gate(spec: &TargetSpec, s: &Scenario, opts: &RunOptions) -> Option<String> {
    let profile = spec.profile().map(|p| p.name.as_str());
    gate_reason(spec.vendor(), profile, spec.is_real_device(), s, opts)
}

fn gate_reason(
    vendor: &str,
    profile: Option<&str>,
    real_device: bool,
    s: &Scenario,
    opts: &RunOptions,
) -> Option<String> {
    if !s.applies_to(vendor, profile) {
        return Some(applies_only_to(vendor, profile, s));
    }
    if s.destructive && real_device && !opts.allow_destructive {
        return Some(
            "destructive (it fills the session table or restarts the device); pass \
             --allow-destructive to run it against a real device"
                .to_string(),
        );
    }
    None
}

/// Runs one scenario on a fresh connection to `spec` (a new device for `emulated:`
/// targets). Returns the result and the number of bad-credential logins.
pub async fn run_one(
    spec: &TargetSpec,
    scenario: &Scenario,
    opts: &RunOptions,
    progress: Progress,
) -> (ScenarioResult, usize) {
    if let Some(why) = gate(spec, scenario, opts) {
        return (not_tested(scenario, &why), 0);
    }
    let watch = Stopwatch::start();
    let target = match spec.connect().await {
        Ok(t) => t,
        Err(e) => {
            let mut r = base_result(scenario, Verdict::Fail, Some(e.to_string()));
            r.duration = watch.elapsed();
            return (r, 0);
        }
    };
    if let Err(e) = target.driver.probe().await {
        let mut r = base_result(
            scenario,
            Verdict::Fail,
            Some(format!("{} does not answer: {e}", target.label)),
        );
        r.duration = watch.elapsed();
        return (r, 0);
    }
    let ledger = Ledger::default();
    let (mut r, bad) = run_on(&target, scenario, opts, progress, &ledger).await;
    r.duration = watch.elapsed();
    (r, bad)
}

/// Runs one scenario on a connected target, cleaning up through `ledger`. Returns the
/// result and the number of bad-credential logins.
pub async fn run_on(
    target: &Target,
    scenario: &Scenario,
    opts: &RunOptions,
    progress: Progress,
    ledger: &Ledger,
) -> (ScenarioResult, usize) {
    run_on_until(target, scenario, opts, progress, ledger, &Stop::never()).await
}

/// [`run_on`], stopping before the next step (or during a wait) once `stop` is raised;
/// the scenario is then NOT-TESTED ("interrupted") and cleaned up as after a failure.
pub async fn run_on_until(
    target: &Target,
    scenario: &Scenario,
    opts: &RunOptions,
    progress: Progress,
    ledger: &Ledger,
    stop: &Stop,
) -> (ScenarioResult, usize) {
    let watch = Stopwatch::start();
    let real_device = target.control.is_none();
    if let Some(why) =
        gate_reason(&target.vendor, target.profile_name(), real_device, scenario, opts)
    {
        return (not_tested(scenario, &why), 0);
    }
    if let Some(why) = unsupported(target, scenario) {
        return (not_tested(scenario, &why), 0);
    }
    let mut exec = Exec::new(target, scenario, opts, progress, ledger, stop);
    let outcome = exec.run().await;
    let steps_run = exec.steps_run;
    let bad = exec.bad_attempts;
    let mut warnings = ledger.clean(target.driver.as_ref()).await;
    if !target.private {
        warnings.extend(crate::ledger::sweep(target, ledger).await);
    }
    if target.private {
        if let Some((control, device)) = &target.control {
            let unclosable = target.driver.sessions_without_logout();
            let listed = control.sessions(device).await.map(|mut left| {
                left.retain(|s| !unclosable.contains(&s.session_type.as_str()));
                left
            });
            match listed {
                Ok(left) if !left.is_empty() => warnings.push(format!(
                    "the harness left {} session(s) open: {}",
                    left.len(),
                    left.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
                )),
                Ok(_) => {}
                Err(e) => warnings.push(format!("could not list the sessions left open: {e}")),
            }
        }
    }
    let mut r = base_result(scenario, Verdict::Pass, None);
    r.steps_run = steps_run;
    r.warnings = warnings;
    match (outcome, &scenario.expected_fail) {
        (Ok(()), None) => {
            if !r.warnings.is_empty() {
                r.verdict = Verdict::Warn;
                r.reason = Some("passed, with warnings".to_string());
            }
        }
        (Ok(()), Some(why)) => {
            r.verdict = Verdict::Fail;
            r.reason = Some(format!(
                "expected to fail ({why}), but every step held: remove `expected_fail`"
            ));
        }
        (Err(StepError::NotTested(why)), _) => {
            r.verdict = Verdict::NotTested;
            r.reason = Some(why);
        }
        (Err(StepError::Interrupted), _) => {
            r.verdict = Verdict::NotTested;
            r.reason = Some("interrupted".to_string());
        }
        (Err(StepError::Fail(f)), None) => {
            r.verdict = Verdict::Fail;
            r.failure = Some(*f);
        }
        (Err(StepError::Fail(f)), Some(why)) => {
            r.verdict = Verdict::Warn;
            r.reason = Some(format!("expected failure: {why}"));
            r.failure = Some(*f);
        }
    }
    r.duration = watch.elapsed();
    (r, bad)
}

/// Why the target cannot run one of the scenario's steps, if it cannot.
fn unsupported(target: &Target, s: &Scenario) -> Option<String> {
    unsupported_steps(target.driver.as_ref(), target.control.is_some(), s)
}

/// Why `driver` cannot run one of the scenario's steps, if it cannot; `control`: an
/// emulator's control API can do what the protocol cannot (restart, auth config).
fn unsupported_steps(driver: &dyn Driver, control: bool, s: &Scenario) -> Option<String> {
    let mut needed = BTreeSet::new();
    for step in &s.steps {
        let caps: &[Capability] = match &step.action {
            Action::Login { session_type, .. }
            | Action::ExpectRefused { session_type, .. }
            | Action::Fill { session_type, .. } => {
                if session_type.is_some() {
                    &[Capability::Sessions, Capability::SessionType]
                } else {
                    &[Capability::Sessions]
                }
            }
            Action::Logout { .. }
            | Action::Use { .. }
            | Action::ExpectValid { .. }
            | Action::ExpectInvalid { .. } => &[Capability::Sessions],
            Action::ExpectCount { session_type, .. } => {
                if session_type.is_some() {
                    &[Capability::Count, Capability::CountByType]
                } else {
                    &[Capability::Count]
                }
            }
            Action::Wait { duration, .. } => match duration.base {
                DurationBase::Fixed => &[],
                DurationBase::IdleTimeout => &[Capability::IdleTimeout],
                DurationBase::MaxLifetime => &[Capability::MaxLifetime],
            },
            Action::SetIdleTimeout { .. } => &[Capability::IdleTimeout],
            Action::CreateUser { .. }
            | Action::ChangePassword { .. }
            | Action::DeleteUser { .. } => &[Capability::Users],
            Action::ChangeAuthConfig => {
                if control {
                    &[]
                } else {
                    &[Capability::AuthConfig]
                }
            }
            Action::Restart => {
                if control {
                    &[]
                } else {
                    &[Capability::Restart]
                }
            }
            Action::AdminDelete { .. } => &[Capability::AdminDelete],
            Action::Request(_) => &[Capability::Raw],
            Action::Forge { .. } | Action::ExpectDistinctTokens { .. } => &[Capability::Sessions],
        };
        for c in caps {
            if needed.insert(format!("{c:?}")) {
                if let Err(why) = driver.supports(*c) {
                    return Some(format!("step at line {}: {why}", step.line));
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Running one scenario's steps

enum StepError {
    Fail(Box<Failure>),
    NotTested(String),
    /// The run was asked to stop.
    Interrupted,
}

/// What a failing step found, before the step's position is attached.
struct Found {
    expected: String,
    got: String,
    exchange: Option<Exchange>,
}

enum Problem {
    Found(Box<Found>),
    NotTested(String),
    /// The run was asked to stop (during a wait or a fill).
    Interrupted,
}

type StepResult = Result<(), Problem>;

fn found(
    expected: impl Into<String>,
    got: impl Into<String>,
    exchange: Option<Exchange>,
) -> Problem {
    Problem::Found(Box::new(Found { expected: expected.into(), got: got.into(), exchange }))
}

/// A driver error seen while doing `what`.
fn driver_problem(what: &str, e: DriverError) -> Problem {
    match e {
        DriverError::Unsupported(why) => Problem::NotTested(why),
        DriverError::Transport(ex) => found(what, ex.summary(), Some(ex)),
        DriverError::Unexpected { expected, exchange } => {
            found(format!("{what} ({expected})"), exchange.summary(), Some(exchange))
        }
    }
}

struct Exec<'a> {
    target: &'a Target,
    scenario: &'a Scenario,
    opts: &'a RunOptions,
    progress: Progress,
    ledger: &'a Ledger,
    stop: &'a Stop,
    sessions: HashMap<String, SessionHandle>,
    passwords: HashMap<String, String>,
    idle: Option<Option<Duration>>,
    lifetime: Option<Option<Duration>>,
    baselines: HashMap<Option<String>, usize>,
    /// The sessions open before the first step, where the driver can list them.
    baseline_ids: Option<BTreeSet<String>>,
    /// Whether the device's clock was seen to move (before the first real wait).
    clock_checked: bool,
    steps_run: usize,
    bad_attempts: usize,
    generated: u32,
    requests: usize,
}

impl<'a> Exec<'a> {
    fn new(
        target: &'a Target,
        scenario: &'a Scenario,
        opts: &'a RunOptions,
        progress: Progress,
        ledger: &'a Ledger,
        stop: &'a Stop,
    ) -> Exec<'a> {
        Exec {
            target,
            scenario,
            opts,
            progress,
            ledger,
            stop,
            sessions: HashMap::new(),
            passwords: HashMap::new(),
            idle: None,
            lifetime: None,
            baselines: HashMap::new(),
            baseline_ids: None,
            clock_checked: false,
            steps_run: 0,
            bad_attempts: 0,
            generated: 0,
            requests: 0,
        }
    }

    fn driver(&self) -> &dyn Driver {
        self.target.driver.as_ref()
    }

    fn real_time(&self) -> bool {
        matches!(self.target.time, TimeSource::Real)
    }

    async fn run(&mut self) -> Result<(), StepError> {
        if self.stop.is_raised() {
            return Err(StepError::Interrupted);
        }
        self.prepare().await.map_err(|p| self.at_start(p))?;
        for (i, step) in self.scenario.steps.iter().enumerate() {
            if self.stop.is_raised() {
                return Err(StepError::Interrupted);
            }
            self.steps_run = i + 1;
            if let Err(p) = self.step(&step.action).await {
                return Err(match p {
                    Problem::Interrupted => StepError::Interrupted,
                    Problem::NotTested(why) => {
                        StepError::NotTested(format!("step {} (line {}): {why}", i + 1, step.line))
                    }
                    Problem::Found(f) => StepError::Fail(Box::new(Failure {
                        step: i + 1,
                        line: step.line,
                        text: step.text.clone(),
                        expected: f.expected,
                        got: f.got,
                        exchange: f.exchange,
                    })),
                });
            }
        }
        Ok(())
    }

    fn at_start(&self, p: Problem) -> StepError {
        match p {
            Problem::Interrupted => StepError::Interrupted,
            Problem::NotTested(why) => StepError::NotTested(why),
            Problem::Found(f) => StepError::Fail(Box::new(Failure {
                step: 0,
                line: 0,
                text: "(before the first step)".to_string(),
                expected: f.expected,
                got: f.got,
                exchange: f.exchange,
            })),
        }
    }

    /// Before the first step: plans real waits (shortening the idle timeout if that
    /// helps), and reads the session counts that relative counts start from.
    async fn prepare(&mut self) -> StepResult {
        if self.real_time() {
            self.plan_real_waits().await?;
        }
        let mut types = BTreeSet::new();
        for step in &self.scenario.steps {
            if let Action::ExpectCount { count: CountExpr::Relative(_), session_type, .. } =
                &step.action
            {
                types.insert(session_type.clone());
            }
        }
        for t in types {
            if t.is_none() {
                // Where the driver lists ids, a relative count counts the sessions that
                // appeared since now: one someone else left that ends meanwhile (it was
                // idle) does not make the scenario fail.
                match self.driver().session_list(Auth::Admin).await {
                    Ok(a) => {
                        self.baseline_ids = Some(a.value.into_iter().map(|l| l.id).collect());
                        continue;
                    }
                    Err(DriverError::Unsupported(_)) => {}
                    Err(e) => {
                        return Err(driver_problem(
                            "listing the sessions open before the scenario",
                            e,
                        ))
                    }
                }
            }
            let a =
                self.driver().count(t.as_deref(), Auth::Admin).await.map_err(|e| {
                    driver_problem("counting the sessions open before the scenario", e)
                })?;
            self.baselines.insert(t, a.value);
        }
        Ok(())
    }

    async fn plan_real_waits(&mut self) -> StepResult {
        let mut idle_wait_first = false;
        let mut set_seen = false;
        let mut any_wait = false;
        for step in &self.scenario.steps {
            match &step.action {
                Action::SetIdleTimeout { .. } => set_seen = true,
                Action::Wait { duration, keep_alive } => {
                    any_wait = true;
                    if !set_seen
                        && (duration.base == DurationBase::IdleTimeout || !keep_alive.is_empty())
                    {
                        idle_wait_first = true;
                    }
                }
                _ => {}
            }
        }
        if !any_wait {
            return Ok(());
        }
        let shorten = idle_wait_first
            && self.driver().supports(Capability::IdleTimeout).is_ok()
            && self.driver().min_idle_timeout().is_some();
        let current = if idle_wait_first { self.idle_timeout().await? } else { None };
        let mut idle = if shorten { self.driver().min_idle_timeout() } else { current };
        let lifetime =
            if self.scenario.needs_max_lifetime() { self.max_lifetime().await? } else { None };
        let mut total = Duration::ZERO;
        for step in &self.scenario.steps {
            match &step.action {
                Action::SetIdleTimeout { duration } => {
                    idle = Some(duration.resolve(idle, lifetime).map_err(Problem::NotTested)?);
                }
                Action::Wait { duration, .. } => {
                    total += duration.resolve(idle, lifetime).map_err(Problem::NotTested)?;
                }
                _ => {}
            }
        }
        if total > self.opts.max_wait {
            let how = if shorten {
                format!(
                    " with the idle timeout shortened to {}",
                    format_secs(idle.unwrap_or_default().as_secs())
                )
            } else {
                String::new()
            };
            return Err(Problem::NotTested(format!(
                "needs {} of real waiting{how}; --max-wait is {} (or give --control for an emulator's virtual clock)",
                format_secs(total.as_secs()),
                format_secs(self.opts.max_wait.as_secs())
            )));
        }
        if shorten {
            let short = self.driver().min_idle_timeout().unwrap_or_default();
            if current.is_some_and(|c| c > short) {
                self.set_idle(short).await?;
                self.progress.line(&format!(
                    "{}: idle timeout shortened from {} to {} for this scenario",
                    self.scenario.id(),
                    format_secs(current.unwrap_or_default().as_secs()),
                    format_secs(short.as_secs())
                ));
            }
        }
        Ok(())
    }

    /// Before waiting in real time: does the device's clock move? A sessionlab emulator
    /// on its default virtual clock reached without `--control` stamps every answer's
    /// `Date` with a clock that stands still, and real waiting would end nothing there
    /// (a false FAIL). Two `Date` headers 1.2 s apart tell (they have whole seconds).
    async fn check_device_clock_moves(&self) -> StepResult {
        let date =
            |e: &Exchange| e.headers.get("date").and_then(|d| httpdate::parse_http_date(d).ok());
        let Ok(first) = self.driver().probe().await else { return Ok(()) };
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let Ok(second) = self.driver().probe().await else { return Ok(()) };
        match (date(&first), date(&second)) {
            (Some(a), Some(b)) if b <= a => Err(Problem::NotTested(format!(
                "the device's clock stands still (its Date header stayed at {} across 1.2 s \
                 of real waiting): it looks like a sessionlab emulator on a virtual clock, \
                 where real waiting ends no session. Give --control with its control API \
                 (e.g. --control http://127.0.0.1:7780) so waits move that clock, or start \
                 the emulator with --clock real",
                first.headers.get("date").map_or("?", String::as_str)
            ))),
            _ => Ok(()),
        }
    }

    async fn idle_timeout(&mut self) -> Result<Option<Duration>, Problem> {
        if let Some(v) = self.idle {
            return Ok(v);
        }
        let a = self
            .driver()
            .idle_timeout()
            .await
            .map_err(|e| driver_problem("reading the idle timeout", e))?;
        self.idle = Some(a.value);
        Ok(a.value)
    }

    async fn max_lifetime(&mut self) -> Result<Option<Duration>, Problem> {
        if let Some(v) = self.lifetime {
            return Ok(v);
        }
        let a = self
            .driver()
            .max_lifetime()
            .await
            .map_err(|e| driver_problem("reading the maximum session lifetime", e))?;
        self.lifetime = Some(a.value);
        Ok(a.value)
    }

    async fn set_idle(&mut self, to: Duration) -> StepResult {
        if let Some(original) = self.idle_timeout().await? {
            self.ledger.note_idle_timeout(original);
        }
        self.driver()
            .set_idle_timeout(to)
            .await
            .map_err(|e| driver_problem("setting the idle timeout", e))?;
        self.idle = Some(Some(to));
        Ok(())
    }

    async fn resolve(&mut self, d: &DurationExpr) -> Result<Duration, Problem> {
        let idle = match d.base {
            DurationBase::IdleTimeout => self.idle_timeout().await?,
            _ => None,
        };
        let lifetime = match d.base {
            DurationBase::MaxLifetime => self.max_lifetime().await?,
            _ => None,
        };
        d.resolve(idle, lifetime).map_err(Problem::NotTested)
    }

    /// Lets `d` pass: the virtual clock moves, or real time is waited out.
    async fn pass(&mut self, d: Duration) -> StepResult {
        if d.is_zero() {
            return Ok(());
        }
        match &self.target.time {
            TimeSource::Virtual(control) => control
                .advance(d)
                .await
                .map_err(|e| found("the emulator's virtual clock to advance", e.to_string(), None)),
            TimeSource::Real => {
                if !self.clock_checked {
                    self.clock_checked = true;
                    // The check waits too: a Ctrl-C during it is an interrupt.
                    tokio::select! {
                        r = self.check_device_clock_moves() => r?,
                        () = self.stop.raised() => return Err(Problem::Interrupted),
                    }
                }
                if d >= Duration::from_secs(5) {
                    self.progress.line(&format!(
                        "{}: waiting {} (real time)",
                        self.scenario.id(),
                        format_secs(d.as_secs())
                    ));
                }
                tokio::select! {
                    () = tokio::time::sleep(d) => Ok(()),
                    () = self.stop.raised() => Err(Problem::Interrupted),
                }
            }
        }
    }

    fn session(&self, name: &str) -> Result<SessionHandle, Problem> {
        self.sessions.get(name).cloned().ok_or_else(|| {
            found(
                format!("session {name:?} to be open"),
                "it was never opened (an earlier login did not succeed)",
                None,
            )
        })
    }

    fn credentials(&self, user: &Option<String>, password: &Option<String>) -> Credentials {
        match user {
            None => Credentials::new(
                self.target.credentials.user.clone(),
                password.clone().unwrap_or_else(|| self.target.credentials.password.clone()),
            ),
            Some(u) => Credentials::new(
                u.clone(),
                password.clone().or_else(|| self.passwords.get(u).cloned()).unwrap_or_default(),
            ),
        }
    }

    /// Names a session the ledger already holds (or adds it, for one from a raw
    /// request).
    fn remember(&mut self, name: &str, handle: SessionHandle) {
        self.ledger.add_session(&handle);
        self.sessions.insert(name.to_string(), handle);
    }

    /// A login through the driver, recorded in the ledger before it is sent; a
    /// session it opens is in the ledger before the answer reaches the step.
    async fn logged_login(
        &self,
        credentials: &Credentials,
        session_type: Option<&str>,
    ) -> Result<Answer<LoginOutcome>, DriverError> {
        let intent = self.ledger.intend_login(&credentials.user);
        let result = self.driver().login(credentials, session_type).await;
        match &result {
            Ok(Answer { value: LoginOutcome::Accepted(h), .. }) => self.ledger.opened(intent, h),
            _ => self.ledger.settle_unless_lost(intent, &result),
        }
        result
    }

    fn forget(&mut self, name: &str) {
        if let Some(h) = self.sessions.get(name) {
            self.ledger.remove_session(h);
        }
    }

    /// A token no device issued: 32 hex digits, as the most common format, derived
    /// from the scenario's name so runs are reproducible.
    fn never_issued_token(&mut self) -> String {
        self.generated += 1;
        let seed = format!("never-issued/{}/{}", self.scenario.name, self.generated);
        let hash = |salt: u64| {
            seed.bytes().fold(0xcbf2_9ce4_8422_2325u64 ^ salt, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
        };
        format!("{:016x}{:016x}", hash(1), hash(2))
    }

    fn new_password(&mut self, user: &str) -> String {
        self.generated += 1;
        let seed = format!("{}/{user}/{}", self.scenario.name, self.generated);
        let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        format!("Sl-{:08x}-Pw!", hash & 0xffff_ffff)
    }

    async fn login(
        &mut self,
        name: &str,
        credentials: &Credentials,
        session_type: Option<&str>,
        expect: LoginExpect,
    ) -> StepResult {
        let a = self
            .logged_login(credentials, session_type)
            .await
            .map_err(|e| driver_problem("a login", e))?;
        let wanted = match expect {
            LoginExpect::Accepted => format!("the login of {:?} to be accepted", credentials.user),
            LoginExpect::RefusedFull => format!(
                "the login of {:?} to be refused because the session table is full",
                credentials.user
            ),
            LoginExpect::BadCredentials => {
                format!("the login of {:?} to be refused for its credentials", credentials.user)
            }
        };
        match (a.value, expect) {
            (LoginOutcome::Accepted(h), LoginExpect::Accepted) => {
                self.remember(name, h);
                Ok(())
            }
            (LoginOutcome::Accepted(h), _) => {
                self.remember(name, h);
                Err(found(wanted, format!("accepted: {}", a.exchange.summary()), Some(a.exchange)))
            }
            (LoginOutcome::RefusedFull, LoginExpect::RefusedFull) => Ok(()),
            (LoginOutcome::BadCredentials, LoginExpect::BadCredentials) => {
                self.bad_attempts += 1;
                Ok(())
            }
            (LoginOutcome::BadCredentials, _) => {
                self.bad_attempts += 1;
                Err(found(
                    wanted,
                    format!("refused for its credentials: {}", a.exchange.summary()),
                    Some(a.exchange),
                ))
            }
            (LoginOutcome::RefusedFull, _) => Err(found(
                wanted,
                format!("refused because the table is full: {}", a.exchange.summary()),
                Some(a.exchange),
            )),
            (LoginOutcome::Other(why), _) => {
                Err(found(wanted, format!("{why}: {}", a.exchange.summary()), Some(a.exchange)))
            }
        }
    }

    async fn check(&mut self, name: &str, want_valid: bool) -> StepResult {
        let h = self.session(name)?;
        let a = self
            .driver()
            .check(&h)
            .await
            .map_err(|e| driver_problem("an authenticated request", e))?;
        let wanted = if want_valid {
            format!("the token of session {name:?} to be accepted")
        } else {
            format!("the token of session {name:?} to be rejected")
        };
        match (a.value, want_valid) {
            (TokenState::Valid, true) => Ok(()),
            (TokenState::Invalid, false) => {
                self.forget(name);
                Ok(())
            }
            (TokenState::Valid, false) => {
                Err(found(wanted, format!("accepted: {}", a.exchange.summary()), Some(a.exchange)))
            }
            (TokenState::Invalid, true) => {
                self.forget(name);
                Err(found(wanted, format!("rejected: {}", a.exchange.summary()), Some(a.exchange)))
            }
            (TokenState::Other(why), _) => {
                Err(found(wanted, format!("{why}: {}", a.exchange.summary()), Some(a.exchange)))
            }
        }
    }

    async fn step(&mut self, action: &Action) -> StepResult {
        match action {
            Action::Login { session, user, password, session_type, expect } => {
                let c = self.credentials(user, password);
                self.login(session, &c, session_type.as_deref(), *expect).await
            }
            Action::ExpectRefused { session, user, session_type } => {
                let c = self.credentials(user, &None);
                self.login(session, &c, session_type.as_deref(), LoginExpect::RefusedFull).await
            }
            Action::Fill { prefix, user, session_type } => {
                self.fill(prefix, user, session_type.as_deref()).await
            }
            Action::Logout { session } => {
                let h = self.session(session)?;
                let a =
                    self.driver().logout(&h).await.map_err(|e| driver_problem("a logout", e))?;
                let wanted = format!("session {session:?} to log out");
                match a.value {
                    LogoutOutcome::LoggedOut => {
                        self.forget(session);
                        Ok(())
                    }
                    LogoutOutcome::AlreadyInvalid => {
                        self.forget(session);
                        Err(found(
                            wanted,
                            format!("its token was already rejected: {}", a.exchange.summary()),
                            Some(a.exchange),
                        ))
                    }
                    LogoutOutcome::Other(why) => Err(found(
                        wanted,
                        format!("{why}: {}", a.exchange.summary()),
                        Some(a.exchange),
                    )),
                }
            }
            Action::Use { session } | Action::ExpectValid { session } => {
                self.check(session, true).await
            }
            Action::ExpectInvalid { session } => self.check(session, false).await,
            Action::ExpectCount { count, session_type, via } => {
                self.expect_count(count, session_type.as_deref(), via.as_deref()).await
            }
            Action::Wait { duration, keep_alive } => self.wait(duration, keep_alive).await,
            Action::SetIdleTimeout { duration } => {
                let d = self.resolve(duration).await?;
                self.set_idle(d).await
            }
            Action::CreateUser { user, password, role } => {
                let password = password.clone().unwrap_or_else(|| self.new_password(user));
                let role = role.clone().unwrap_or_else(|| "ReadOnly".to_string());
                self.ledger.intend_user(user);
                let created = self.driver().create_user(user, &password, &role).await;
                match &created {
                    Ok(_) => self.ledger.user_created(user),
                    // No answer: the device may have made it; cleanup tries to delete it.
                    Err(DriverError::Transport(_)) => {}
                    Err(_) => self.ledger.remove_user(user),
                }
                created
                    .map_err(|e| driver_problem(&format!("creating the account {user:?}"), e))?;
                self.passwords.insert(user.clone(), password);
                Ok(())
            }
            Action::ChangePassword { user, password } => {
                let password = password.clone().unwrap_or_else(|| self.new_password(user));
                self.driver().change_password(user, &password).await.map_err(|e| {
                    driver_problem(&format!("changing the password of {user:?}"), e)
                })?;
                self.passwords.insert(user.clone(), password);
                Ok(())
            }
            Action::DeleteUser { user } => {
                self.driver()
                    .delete_user(user)
                    .await
                    .map_err(|e| driver_problem(&format!("deleting the account {user:?}"), e))?;
                self.ledger.remove_user(user);
                Ok(())
            }
            Action::ChangeAuthConfig => match self.driver().change_auth_config().await {
                Ok(_) => Ok(()),
                Err(DriverError::Unsupported(why)) => match &self.target.control {
                    Some((control, device)) => {
                        control.change_auth_config(device).await.map(|_| ()).map_err(|e| {
                            found(
                                "the emulator to change the authentication configuration",
                                e.to_string(),
                                None,
                            )
                        })
                    }
                    None => Err(Problem::NotTested(why)),
                },
                Err(e) => Err(driver_problem("changing the authentication configuration", e)),
            },
            Action::Restart => match self.driver().restart().await {
                Ok(_) => Ok(()),
                Err(DriverError::Unsupported(why)) => match &self.target.control {
                    Some((control, device)) => {
                        control.restart(device).await.map(|_| ()).map_err(|e| {
                            found("the emulator to restart the device", e.to_string(), None)
                        })
                    }
                    None => Err(Problem::NotTested(why)),
                },
                Err(e) => Err(driver_problem("the device to restart and answer again", e)),
            },
            Action::AdminDelete { session, via } => {
                let h = self.session(session)?;
                let via_handle = match via {
                    Some(v) => Some(self.session(v)?),
                    None => None,
                };
                let auth = via_handle.as_ref().map_or(Auth::Admin, Auth::Session);
                self.driver().admin_delete(&h, auth).await.map_err(|e| {
                    driver_problem(&format!("an administrator to end session {session:?}"), e)
                })?;
                self.forget(session);
                Ok(())
            }
            Action::Request(r) => self.request(r).await,
            Action::Forge { session, no_credentials } => {
                // Not a session of the device's: nothing to log out afterwards.
                let token = if *no_credentials { String::new() } else { self.never_issued_token() };
                let handle = SessionHandle {
                    id: "never-issued".to_string(),
                    uri: String::new(),
                    user: self.target.credentials.user.clone(),
                    token,
                };
                self.sessions.insert(session.clone(), handle);
                Ok(())
            }
            Action::ExpectDistinctTokens { sessions } => {
                let mut seen: HashMap<String, &str> = HashMap::new();
                for name in sessions {
                    let h = self.session(name)?;
                    if let Some(first) = seen.insert(h.token.clone(), name) {
                        return Err(found(
                            format!("sessions {} to have different tokens", sessions.join(", ")),
                            format!("{first:?} and {name:?} got the same token"),
                            None,
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    async fn fill(
        &mut self,
        prefix: &str,
        user: &Option<String>,
        session_type: Option<&str>,
    ) -> StepResult {
        let c = self.credentials(user, &None);
        let documented = self.target.table_size();
        let cap = documented.map_or(self.opts.fill_limit, |n| n + 1);
        for i in 1..=cap {
            if self.stop.is_raised() {
                return Err(Problem::Interrupted);
            }
            let a = self
                .logged_login(&c, session_type)
                .await
                .map_err(|e| driver_problem("a login while filling the table", e))?;
            match a.value {
                LoginOutcome::Accepted(h) => self.remember(&format!("{prefix}{i}"), h),
                LoginOutcome::RefusedFull => return Ok(()),
                LoginOutcome::BadCredentials => {
                    self.bad_attempts += 1;
                    return Err(found(
                        "logins to be accepted until the table is full",
                        format!("login {i} refused for its credentials: {}", a.exchange.summary()),
                        Some(a.exchange),
                    ));
                }
                LoginOutcome::Other(why) => {
                    return Err(found(
                        "logins to be accepted until the table is full",
                        format!("login {i}: {why}: {}", a.exchange.summary()),
                        Some(a.exchange),
                    ))
                }
            }
        }
        let why = match documented {
            Some(n) => format!("the profile documents a table of {n} sessions"),
            None => format!("--fill-limit is {cap}"),
        };
        Err(found(
            format!("a login to be refused because the table is full ({why})"),
            format!("all {cap} logins were accepted"),
            None,
        ))
    }

    async fn expect_count(
        &mut self,
        count: &CountExpr,
        session_type: Option<&str>,
        via: Option<&str>,
    ) -> StepResult {
        if let (CountExpr::Relative(d), None, None, Some(before)) =
            (count, session_type, via, &self.baseline_ids)
        {
            if let Ok(wanted) = usize::try_from(*d) {
                return self.expect_new_sessions(wanted, before.clone(), count).await;
            }
        }
        let expected = match count {
            CountExpr::Absolute(n) => *n,
            CountExpr::Relative(d) => {
                let base =
                    self.baselines.get(&session_type.map(str::to_string)).copied().unwrap_or(0);
                usize::try_from(i64::try_from(base).unwrap_or(i64::MAX).saturating_add(*d))
                    .unwrap_or(0)
            }
            CountExpr::TableSize(d) => {
                let Some(size) = self.target.table_size() else {
                    return Err(Problem::NotTested(
                        "`table_size` needs the device's documented table size: pass --profile NAME"
                            .to_string(),
                    ));
                };
                usize::try_from(i64::try_from(size).unwrap_or(i64::MAX).saturating_add(*d))
                    .unwrap_or(0)
            }
        };
        let via_handle = match via {
            Some(v) => Some(self.session(v)?),
            None => None,
        };
        let auth = via_handle.as_ref().map_or(Auth::Admin, Auth::Session);
        let a = self
            .driver()
            .count(session_type, auth)
            .await
            .map_err(|e| driver_problem("counting the sessions", e))?;
        if a.value == expected {
            return Ok(());
        }
        let what = session_type.map(|t| format!(" of type {t:?}")).unwrap_or_default();
        let how = match count {
            CountExpr::Absolute(_) => String::new(),
            other => format!(" ({other})"),
        };
        Err(found(
            format!("{expected} sessions{what}{how}"),
            format!("{}: {}", a.value, a.exchange.summary()),
            Some(a.exchange),
        ))
    }

    /// `expect_count = "+N"` where the driver lists ids: N sessions appeared since the
    /// scenario started (and are still open); sessions that were there before do not
    /// count, whether they are still open or ended meanwhile. Where the listing names
    /// each session's user, new sessions of users the scenario never used (neither the
    /// target's account nor one it created) are another client's and do not count either.
    async fn expect_new_sessions(
        &mut self,
        wanted: usize,
        before: BTreeSet<String>,
        count: &CountExpr,
    ) -> StepResult {
        let a = self
            .driver()
            .session_list(Auth::Admin)
            .await
            .map_err(|e| driver_problem("listing the sessions", e))?;
        let ours = self.scenario_users();
        let (new, others): (Vec<_>, Vec<_>) = a
            .value
            .iter()
            .filter(|l| !before.contains(&l.id))
            .partition(|l| l.user.as_ref().is_none_or(|u| ours.contains(u)));
        if new.len() == wanted {
            return Ok(());
        }
        let ended = before.iter().filter(|id| !a.value.iter().any(|l| &l.id == *id)).count();
        let others = match others.len() {
            0 => String::new(),
            n => format!(", {n} new of other users not counted"),
        };
        Err(found(
            format!("{wanted} new sessions ({count})"),
            format!(
                "{} new, {} open in all ({} of the {} open at the start ended meanwhile{others}): {}",
                new.len(),
                a.value.len(),
                ended,
                before.len(),
                a.exchange.summary()
            ),
            Some(a.exchange),
        ))
    }

    /// The users whose sessions a relative count attributes to the scenario: the
    /// target's account and the users its steps create.
    fn scenario_users(&self) -> BTreeSet<String> {
        let mut users = BTreeSet::from([self.target.credentials.user.clone()]);
        for step in &self.scenario.steps {
            if let Action::CreateUser { user, .. } = &step.action {
                users.insert(user.clone());
            }
        }
        users
    }

    async fn wait(&mut self, duration: &DurationExpr, keep_alive: &[String]) -> StepResult {
        let total = self.resolve(duration).await?;
        if keep_alive.is_empty() {
            return self.pass(total).await;
        }
        let idle = self.idle_timeout().await?;
        let every = idle.map(|i| i / 2).filter(|e| !e.is_zero()).unwrap_or(total);
        let mut elapsed = Duration::ZERO;
        // Each use comes at least `every` before the end, so the last gap is shorter
        // than the idle timeout and only a maximum lifetime can end the sessions.
        while elapsed + every + every <= total {
            self.pass(every).await?;
            elapsed += every;
            for name in keep_alive {
                let h = self.session(name)?;
                let a = self
                    .driver()
                    .check(&h)
                    .await
                    .map_err(|e| driver_problem("a keep-alive request", e))?;
                if a.value != TokenState::Valid {
                    return Err(found(
                        format!(
                            "session {name:?} to stay valid while used every {}",
                            format_secs(every.as_secs())
                        ),
                        format!(
                            "rejected {} into the wait: {}",
                            format_secs(elapsed.as_secs()),
                            a.exchange.summary()
                        ),
                        Some(a.exchange),
                    ));
                }
            }
        }
        self.pass(total - elapsed).await
    }

    fn substitute(&self, text: &str) -> Result<String, Problem> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').unwrap_or(after.len());
            let inner = &after[..end];
            let value = match inner {
                "user" => self.target.credentials.user.clone(),
                "password" => self.target.credentials.password.clone(),
                _ => match inner.rsplit_once('.') {
                    Some((session, "id")) => self.session(session)?.id,
                    Some((session, "uri")) => self.session(session)?.uri,
                    _ => inner.to_string(),
                },
            };
            out.push_str(&value);
            rest = after.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        Ok(out)
    }

    fn substitute_json(&self, v: &Value) -> Result<Value, Problem> {
        Ok(match v {
            Value::String(s) => Value::String(self.substitute(s)?),
            Value::Array(a) => {
                Value::Array(a.iter().map(|v| self.substitute_json(v)).collect::<Result<_, _>>()?)
            }
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), self.substitute_json(v)?)))
                    .collect::<Result<_, _>>()?,
            ),
            other => other.clone(),
        })
    }

    async fn request(&mut self, r: &RawRequest) -> StepResult {
        let path = self.substitute(&r.path)?;
        let headers = r
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.substitute(v)?)))
            .collect::<Result<Vec<_>, Problem>>()?;
        let body = r.body.as_ref().map(|b| self.substitute_json(b)).transpose()?;
        let via = match &r.auth {
            RequestAuth::Session(name) => Some(self.session(name)?),
            _ => None,
        };
        let auth = match (&r.auth, &via) {
            (RequestAuth::Basic, _) => Auth::Admin,
            (RequestAuth::Session(_), Some(h)) => Auth::Session(h),
            _ => Auth::None,
        };
        let call = RawCall { method: r.method.clone(), path, auth, headers, body };
        let user = call
            .body
            .as_ref()
            .and_then(|b| b.get("UserName"))
            .and_then(Value::as_str)
            .unwrap_or(&self.target.credentials.user)
            .to_string();
        // A POST may be a login: recorded before it is sent, like a login step.
        let intent = r.method.eq_ignore_ascii_case("POST").then(|| self.ledger.intend_login(&user));
        let sent = self.driver().raw(call.clone()).await;
        let adopted = sent.as_ref().ok().and_then(|reply| self.driver().adopt(&call, reply, &user));
        if let Some(intent) = intent {
            match &adopted {
                Some(h) => self.ledger.opened(intent, h),
                None => self.ledger.settle_unless_lost(intent, &sent),
            }
        }
        let reply =
            sent.map_err(|e| driver_problem(&format!("an answer to {} {}", r.method, r.path), e))?;
        self.requests += 1;
        match (adopted, &r.session) {
            (Some(h), Some(name)) => self.remember(name, h),
            (Some(h), None) => {
                let name = format!("_request{}", self.requests);
                self.remember(&name, h);
            }
            (None, Some(name)) => {
                return Err(found(
                    format!("the request to open session {name:?}"),
                    reply.exchange.summary(),
                    Some(reply.exchange),
                ))
            }
            (None, None) => {}
        }
        if let Some(status) = r.expect_status {
            if reply.status != status {
                return Err(found(
                    format!("status {status}"),
                    reply.exchange.summary(),
                    Some(reply.exchange),
                ));
            }
        }
        for (name, matcher) in &r.expect_headers {
            let value = reply.header(name).map(|v| Value::String(v.to_string()));
            if !matcher.matches(value.as_ref()) {
                let shown = if crate::driver::is_secret_header(name) {
                    value.map(|_| "[redacted]".to_string())
                } else {
                    value.map(|v| v.to_string())
                };
                return Err(found(
                    format!("header {name}: {matcher}"),
                    format!(
                        "{}; {}",
                        shown.map_or("absent".to_string(), |v| format!("{name}: {v}")),
                        reply.exchange.summary()
                    ),
                    Some(reply.exchange),
                ));
            }
        }
        for (pointer, matcher) in &r.expect_json {
            let value = reply.json.as_ref().and_then(|j| j.pointer(pointer));
            if !matcher.matches(value) {
                return Err(found(
                    format!("{pointer} = {matcher}"),
                    format!(
                        "{pointer} {}; {}",
                        value.map_or("is absent".to_string(), |v| format!("= {v}")),
                        reply.exchange.summary()
                    ),
                    Some(reply.exchange),
                ));
            }
        }
        Ok(())
    }
}
