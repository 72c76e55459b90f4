//! JUnit XML as CI systems read it, valid against the Jenkins JUnit schema (`junit-10.xsd`
//! of the Jenkins xUnit plugin, derived from Maven Surefire's report format; a copy is in
//! `conformance/tests/fixtures/junit-10.xsd` and a test validates every report kind
//! against it).
//!
//! The schema fixes what may appear: `<testsuites>` carries only name, tests, failures,
//! errors and time; `<testsuite>` adds skipped, timestamp and the like (no `disabled`);
//! `<testcase>` has name, classname and time only, so the scenario's file goes into its
//! `<system-out>` (Surefire's `surefire-test-report-3.0.xsd` has no `file` either: name,
//! classname, group, time); `<failure>` and `<error>` carry a `type` and a `message`. Text that XML
//! 1.0 cannot carry (control characters from a device's answer) is replaced.

use std::time::Duration;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// How a test case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Pass,
    /// An assertion did not hold.
    Failure {
        /// A short, machine-readable kind (`StepFailed`).
        kind: String,
        /// One line.
        message: String,
        /// The details.
        text: String,
    },
    /// It could not be judged because something around it broke (the target).
    Error {
        /// A short, machine-readable kind (`TargetUnusable`).
        kind: String,
        /// One line.
        message: String,
        /// The details.
        text: String,
    },
    /// It applies, but could not run here.
    Skipped {
        /// Why.
        message: String,
    },
}

/// One test case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Its name.
    pub name: String,
    /// Its class name (CI systems group by it; include the target so a matrix over
    /// targets does not collide).
    pub classname: String,
    /// Wall time.
    pub time: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// Text for `<system-out>`.
    pub out: String,
}

/// One test suite, written as the only suite of a `<testsuites>` document.
#[derive(Clone, Debug, Default)]
pub struct Suite {
    /// Its name.
    pub name: String,
    /// When it started (RFC 3339).
    pub timestamp: Option<String>,
    /// Wall time.
    pub time: Duration,
    /// `<property>` name and value pairs.
    pub properties: Vec<(String, String)>,
    /// The cases.
    pub cases: Vec<Case>,
    /// Text for the suite's `<system-err>`.
    pub err: String,
}

/// XML 1.0 text: characters it cannot carry become U+FFFD.
fn xml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// An attribute value on one line.
fn attr(s: &str) -> String {
    xml_text(&s.replace(['\r', '\n'], " "))
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

impl Suite {
    /// The document.
    pub fn to_xml(&self) -> String {
        let mut failures = 0;
        let mut errors = 0;
        let mut skipped = 0;
        for c in &self.cases {
            match c.outcome {
                Outcome::Failure { .. } => failures += 1,
                Outcome::Error { .. } => errors += 1,
                Outcome::Skipped { .. } => skipped += 1,
                Outcome::Pass => {}
            }
        }
        let (tests, failures, errors, skipped) = (
            self.cases.len().to_string(),
            failures.to_string(),
            errors.to_string(),
            skipped.to_string(),
        );
        let time = secs(self.time);
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 4);
        // Writing into a Vec cannot fail.
        let _ = self.write(&mut w, [&tests, &failures, &errors, &skipped, &time]);
        let mut text = String::from_utf8_lossy(&w.into_inner()).into_owned();
        text.push('\n');
        text
    }

    fn write(&self, w: &mut Writer<Vec<u8>>, counts: [&String; 5]) -> std::io::Result<()> {
        let [tests, failures, errors, skipped, time] = counts;
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new("testsuites");
        root.push_attribute(("name", attr(&self.name).as_str()));
        root.push_attribute(("tests", tests.as_str()));
        root.push_attribute(("failures", failures.as_str()));
        root.push_attribute(("errors", errors.as_str()));
        root.push_attribute(("time", time.as_str()));
        w.write_event(Event::Start(root))?;
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", attr(&self.name).as_str()));
        suite.push_attribute(("tests", tests.as_str()));
        suite.push_attribute(("failures", failures.as_str()));
        suite.push_attribute(("errors", errors.as_str()));
        suite.push_attribute(("skipped", skipped.as_str()));
        suite.push_attribute(("time", time.as_str()));
        if let Some(t) = &self.timestamp {
            suite.push_attribute(("timestamp", attr(t).as_str()));
        }
        w.write_event(Event::Start(suite))?;
        if !self.properties.is_empty() {
            w.write_event(Event::Start(BytesStart::new("properties")))?;
            for (name, value) in &self.properties {
                let mut p = BytesStart::new("property");
                p.push_attribute(("name", attr(name).as_str()));
                p.push_attribute(("value", attr(value).as_str()));
                w.write_event(Event::Empty(p))?;
            }
            w.write_event(Event::End(BytesEnd::new("properties")))?;
        }
        for c in &self.cases {
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("name", attr(&c.name).as_str()));
            case.push_attribute(("classname", attr(&c.classname).as_str()));
            case.push_attribute(("time", secs(c.time).as_str()));
            if c.outcome == Outcome::Pass && c.out.is_empty() {
                w.write_event(Event::Empty(case))?;
                continue;
            }
            w.write_event(Event::Start(case))?;
            match &c.outcome {
                Outcome::Pass => {}
                Outcome::Failure { kind, message, text }
                | Outcome::Error { kind, message, text } => {
                    let tag = if matches!(c.outcome, Outcome::Failure { .. }) {
                        "failure"
                    } else {
                        "error"
                    };
                    let mut e = BytesStart::new(tag);
                    e.push_attribute(("type", attr(kind).as_str()));
                    e.push_attribute(("message", attr(message).as_str()));
                    if text.is_empty() {
                        w.write_event(Event::Empty(e))?;
                    } else {
                        w.write_event(Event::Start(e))?;
                        w.write_event(Event::Text(BytesText::new(&xml_text(text))))?;
                        w.write_event(Event::End(BytesEnd::new(tag)))?;
                    }
                }
                Outcome::Skipped { message } => {
                    let mut e = BytesStart::new("skipped");
                    e.push_attribute(("message", attr(message).as_str()));
                    w.write_event(Event::Empty(e))?;
                }
            }
            if !c.out.is_empty() {
                text_element(w, "system-out", &c.out)?;
            }
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        if !self.err.is_empty() {
            text_element(w, "system-err", &self.err)?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
        w.write_event(Event::End(BytesEnd::new("testsuites")))?;
        Ok(())
    }
}

fn text_element(w: &mut Writer<Vec<u8>>, tag: &str, text: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(tag)))?;
    w.write_event(Event::Text(BytesText::new(&xml_text(text))))?;
    w.write_event(Event::End(BytesEnd::new(tag)))
}

/// A class name part from a target label: CI systems split class names at dots, so the
/// dots of an address (`10.0.0.5`) become underscores.
pub fn class_part(label: &str) -> String {
    label.replace('.', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Control characters from a device's answer cannot break the XML, and counts are
    /// per outcome.
    #[test]
    fn control_characters_are_replaced_and_outcomes_counted() {
        let suite = Suite {
            name: "s".into(),
            cases: vec![
                Case {
                    name: "a".into(),
                    classname: "c".into(),
                    time: Duration::ZERO,
                    outcome: Outcome::Failure {
                        kind: "StepFailed".into(),
                        message: "bad\u{1b}[31m".into(),
                        text: "got \u{0}".into(),
                    },
                    out: String::new(),
                },
                Case {
                    name: "b".into(),
                    classname: "c".into(),
                    time: Duration::ZERO,
                    outcome: Outcome::Pass,
                    out: String::new(),
                },
            ],
            ..Suite::default()
        };
        let xml = suite.to_xml();
        assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}'), "{xml}");
        assert!(xml.contains(r#"<failure type="StepFailed" message="bad�[31m">got �</failure>"#));
        assert!(xml.contains(r#"tests="2" failures="1" errors="0" skipped="0""#), "{xml}");
        assert!(!xml.contains("disabled"), "{xml}");
    }
}
