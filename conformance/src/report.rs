//! Reports: one verdict per scenario — PASS, FAIL, WARN or NOT-TESTED — with the
//! failing step, what was expected and what came back; as human text (default), JSON
//! (`--json FILE`) or JUnit XML (`--junit FILE`, which CI systems read).
//!
//! The text report always ends with the line `N passed, N failed, N skipped`: PASS and
//! WARN count as passed, FAIL as failed, NOT-TESTED as skipped — a scenario that applies
//! to the target but could not run here. Scenarios that do not apply (another vendor's,
//! or common ones whose steps the target's driver cannot do) are left out and counted in
//! one line. A target that cannot be used at all is an error, said first and last (and a
//! JUnit `<error>`), with `, 1 error` on the closing line.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::driver::Exchange;
use crate::junit::{self, Case, Outcome, Suite};

/// A scenario's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Every step held.
    #[serde(rename = "PASS")]
    Pass,
    /// A step did not hold (or an `expected_fail` scenario passed).
    #[serde(rename = "FAIL")]
    Fail,
    /// It held, with something worth a look (an expected failure, a cleanup problem).
    #[serde(rename = "WARN")]
    Warn,
    /// Not run, or stopped before it could judge; the reason says why.
    #[serde(rename = "NOT-TESTED")]
    NotTested,
}

impl Verdict {
    /// `PASS`, `FAIL`, `WARN`, `NOT-TESTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Warn => "WARN",
            Verdict::NotTested => "NOT-TESTED",
        }
    }
}

/// The step that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// 1-based step number.
    pub step: usize,
    /// Line in the scenario file.
    pub line: usize,
    /// The step as written.
    pub text: String,
    /// What the step expected.
    pub expected: String,
    /// What came back.
    pub got: String,
    /// The request and answer it is based on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

/// One scenario's result.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    /// `group/name`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Folder (`common`, `redfish`).
    pub group: String,
    /// The scenario file.
    pub file: String,
    /// The evidence it encodes.
    pub source: String,
    /// Verdict.
    pub verdict: Verdict,
    /// Why NOT-TESTED, or a summary of a FAIL or WARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The failing step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The scenario's `expected_fail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_fail: Option<String>,
    /// Things worth a look that do not fail the scenario.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Steps run.
    pub steps_run: usize,
    /// Steps in the scenario.
    pub steps_total: usize,
    /// Wall time.
    #[serde(serialize_with = "secs", rename = "seconds")]
    pub duration: Duration,
}

fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// Totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// PASS and WARN.
    pub passed: usize,
    /// FAIL.
    pub failed: usize,
    /// NOT-TESTED.
    pub skipped: usize,
    /// Problems with the run as a whole: the target could not be used, cleanup failed,
    /// the run was interrupted.
    pub errors: usize,
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The target's label.
    pub target: String,
    /// Its vendor.
    pub vendor: String,
    /// Its profile, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// When the run started (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// Results, in scenario order, of the scenarios that apply to the target.
    pub results: Vec<ScenarioResult>,
    /// Scenarios left out because they do not apply to the target.
    pub not_applicable: usize,
    /// Why the target could not be used at all, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_error: Option<String>,
    /// Whether the run was interrupted (Ctrl-C) before the end.
    pub interrupted: bool,
    /// Logins refused for their credentials during the run (each costs on real devices).
    pub bad_credential_attempts: usize,
    /// Problems with the run as a whole (not with one scenario).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Wall time.
    #[serde(serialize_with = "secs", rename = "seconds")]
    pub duration: Duration,
    /// Totals.
    pub summary: Summary,
}

impl RunReport {
    /// A report; the summary is computed from the results.
    pub fn new(
        target: String,
        vendor: String,
        profile: Option<String>,
        results: Vec<ScenarioResult>,
    ) -> RunReport {
        let mut r = RunReport {
            target,
            vendor,
            profile,
            started: None,
            results,
            not_applicable: 0,
            target_error: None,
            interrupted: false,
            bad_credential_attempts: 0,
            errors: Vec::new(),
            duration: Duration::ZERO,
            summary: Summary::default(),
        };
        r.summarize();
        r
    }

    /// Recomputes the totals.
    pub fn summarize(&mut self) {
        let mut s = Summary::default();
        for r in &self.results {
            match r.verdict {
                Verdict::Pass | Verdict::Warn => s.passed += 1,
                Verdict::Fail => s.failed += 1,
                Verdict::NotTested => s.skipped += 1,
            }
        }
        s.errors = self.errors.len()
            + usize::from(self.target_error.is_some())
            + usize::from(self.interrupted);
        self.summary = s;
    }

    /// Whether the run succeeded: no FAIL, no run error, not interrupted.
    pub fn ok(&self) -> bool {
        self.summary.failed == 0
            && self.errors.is_empty()
            && self.target_error.is_none()
            && !self.interrupted
    }

    /// Zeroes every timing, so reports can be compared byte for byte (snapshots).
    pub fn redact_timings(&mut self) {
        self.duration = Duration::ZERO;
        if self.started.is_some() {
            self.started = Some("1970-01-01T00:00:00Z".to_string());
        }
        for r in &mut self.results {
            r.duration = Duration::ZERO;
        }
    }

    /// `N passed, N failed, N skipped`, and `, N error(s)` when the run had errors.
    pub fn summary_line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} skipped",
            self.summary.passed, self.summary.failed, self.summary.skipped
        );
        match self.summary.errors {
            0 => {}
            1 => line.push_str(", 1 error"),
            n => line.push_str(&format!(", {n} errors")),
        }
        line
    }

    /// `70 not applicable to bigip`, when scenarios were left out.
    pub fn not_applicable_line(&self) -> Option<String> {
        (self.not_applicable > 0).then(|| {
            format!(
                "{} not applicable to {} (another vendor's, or steps its driver cannot do)",
                self.not_applicable, self.vendor
            )
        })
    }

    /// The human report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let profile = self.profile.as_deref().map(|p| format!(", profile {p}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "sessionlab-conformance: {} scenarios against {} (vendor {}{profile})",
            self.results.len(),
            self.target,
            self.vendor
        );
        if let Some(e) = &self.target_error {
            let _ = writeln!(out, "error: {e}");
        }
        let _ = writeln!(out);
        let width = self.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
        for r in &self.results {
            let verdict = r.verdict.as_str();
            let _ = writeln!(
                out,
                "{verdict:<10}  {id:<width$}  {secs:.2}s",
                id = r.id,
                secs = r.duration.as_secs_f64()
            );
            let pad = " ".repeat(12);
            if let Some(reason) = &r.reason {
                let _ = writeln!(out, "{pad}{reason}");
            }
            if let Some(f) = &r.failure {
                let _ = writeln!(out, "{pad}step {} (line {}): {}", f.step, f.line, f.text);
                let _ = writeln!(out, "{pad}expected: {}", f.expected);
                let _ = writeln!(out, "{pad}got:      {}", f.got);
            }
            for w in &r.warnings {
                let _ = writeln!(out, "{pad}warning: {w}");
            }
        }
        let _ = writeln!(out);
        if let Some(line) = self.not_applicable_line() {
            let _ = writeln!(out, "{line}");
        }
        for e in &self.errors {
            let _ = writeln!(out, "error: {e}");
        }
        if let Some(e) = &self.target_error {
            let _ = writeln!(out, "error: {e}");
        }
        if self.interrupted {
            let _ = writeln!(out, "interrupted: the run stopped before the end");
        }
        if self.bad_credential_attempts > 0 {
            let _ = writeln!(
                out,
                "bad-credential logins during the run: {}",
                self.bad_credential_attempts
            );
        }
        let _ = writeln!(out, "{}", self.summary_line());
        out
    }

    /// The JSON report.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            serde_json::json!({ "error": format!("cannot render the report: {e}") }).to_string()
        });
        text.push('\n');
        text
    }

    /// The JUnit XML report (valid against the Jenkins JUnit schema): one test suite
    /// for the target, one test case per scenario that applies, class name
    /// `TARGET.GROUP` so a matrix over targets does not collide. FAIL is a `<failure>`,
    /// NOT-TESTED a `<skipped>`, WARN passes with its warnings in `<system-out>`; an
    /// unusable target, an interrupted run and failed cleanups are `<error>`s, first.
    pub fn junit(&self) -> Result<String, String> {
        let target = junit::class_part(&self.target);
        let mut suite = Suite {
            name: format!("sessionlab-conformance {}", self.target),
            timestamp: self.started.clone(),
            time: self.duration,
            ..Suite::default()
        };
        suite.properties.push(("target".to_string(), self.target.clone()));
        suite.properties.push(("vendor".to_string(), self.vendor.clone()));
        if let Some(p) = &self.profile {
            suite.properties.push(("profile".to_string(), p.clone()));
        }
        suite.properties.push(("not_applicable".to_string(), self.not_applicable.to_string()));
        let run_error = |name: &str, kind: &str, message: &str| Case {
            name: name.to_string(),
            classname: format!("{target}.run"),
            time: Duration::ZERO,
            outcome: Outcome::Error {
                kind: kind.to_string(),
                message: message.to_string(),
                text: message.to_string(),
            },
            out: String::new(),
        };
        if let Some(e) = &self.target_error {
            suite.cases.push(run_error("target", "TargetUnusable", e));
        }
        if self.interrupted {
            suite.cases.push(run_error(
                "interrupted",
                "Interrupted",
                "interrupted: the run stopped before the end",
            ));
        }
        for (i, e) in self.errors.iter().enumerate() {
            suite.cases.push(run_error(&format!("run-error-{}", i + 1), "RunError", e));
        }
        for r in &self.results {
            let group = if r.group.is_empty() { "scenarios" } else { r.group.as_str() };
            let mut out = String::new();
            let _ = writeln!(out, "file: {}", r.file);
            let _ = writeln!(out, "source: {}", r.source);
            let outcome = match r.verdict {
                Verdict::Pass | Verdict::Warn => {
                    if r.verdict == Verdict::Warn {
                        if let Some(reason) = &r.reason {
                            let _ = writeln!(out, "WARN: {reason}");
                        }
                        if let Some(f) = &r.failure {
                            let _ = writeln!(out, "step {} (line {}): {}", f.step, f.line, f.text);
                            let _ = writeln!(out, "expected: {}", f.expected);
                            let _ = writeln!(out, "got:      {}", f.got);
                        }
                    }
                    Outcome::Pass
                }
                Verdict::Fail => {
                    let (kind, message) = match (&r.failure, &r.reason) {
                        (Some(f), _) => {
                            ("StepFailed", format!("step {} (line {}): {}", f.step, f.line, f.text))
                        }
                        (None, Some(reason)) if r.expected_fail.is_some() => {
                            ("UnexpectedPass", reason.clone())
                        }
                        (None, Some(reason)) => ("ScenarioFailed", reason.clone()),
                        (None, None) => ("ScenarioFailed", "failed".to_string()),
                    };
                    let mut text = String::new();
                    if let Some(reason) = &r.reason {
                        let _ = writeln!(text, "{reason}");
                    }
                    if let Some(f) = &r.failure {
                        let _ = writeln!(text, "expected: {}", f.expected);
                        let _ = writeln!(text, "got:      {}", f.got);
                    }
                    let _ = writeln!(text, "source: {}", r.source);
                    let _ = writeln!(text, "file: {}", r.file);
                    Outcome::Failure { kind: kind.to_string(), message, text }
                }
                Verdict::NotTested => Outcome::Skipped {
                    message: r.reason.clone().unwrap_or_else(|| "not tested".to_string()),
                },
            };
            for w in &r.warnings {
                let _ = writeln!(out, "warning: {w}");
            }
            suite.cases.push(Case {
                name: r.name.clone(),
                classname: format!("{target}.{group}"),
                time: r.duration,
                outcome,
                out,
            });
        }
        if let Some(line) = self.not_applicable_line() {
            suite.err = format!("{line}\n");
        }
        Ok(suite.to_xml())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, verdict: Verdict) -> ScenarioResult {
        ScenarioResult {
            id: format!("common/{id}"),
            name: id.to_string(),
            group: "common".to_string(),
            file: format!("scenarios/common/{id}.toml"),
            source: "s".to_string(),
            verdict,
            reason: None,
            failure: None,
            expected_fail: None,
            warnings: Vec::new(),
            steps_run: 1,
            steps_total: 1,
            duration: Duration::from_millis(12),
        }
    }

    /// WARN counts as passed, NOT-TESTED as skipped, and the last line says so.
    #[test]
    fn summary_counts_and_last_line() {
        let r = RunReport::new(
            "t".into(),
            "redfish".into(),
            None,
            vec![
                result("a", Verdict::Pass),
                result("b", Verdict::Warn),
                result("c", Verdict::Fail),
                result("d", Verdict::NotTested),
            ],
        );
        assert_eq!(r.text().lines().last(), Some("2 passed, 1 failed, 1 skipped"));
        assert!(!r.ok());
        let json: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(json["summary"]["failed"], 1);
        assert_eq!(json["results"][3]["verdict"], "NOT-TESTED");
        assert_eq!(json["results"][0]["seconds"], 0.012);
    }
}
