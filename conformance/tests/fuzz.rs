//! Fuzzing (issue 13): the harness's own parsers — scenario TOML and the duration
//! expressions inside it — get arbitrary and mutated input. Properties: nothing panics;
//! a refused file gets a message, and a position inside the text when it has one; a
//! duration that parses resolves (or says why not) for any device values, and reads
//! back from how it is shown.
//!
//! A few thousand cases under `cargo test`; more with
//!
//! ```text
//! PROPTEST_CASES=200000 cargo test --release -p conformance --test fuzz
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use conformance::scenario::{parse_duration, Scenario};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRng, TestRunner};

/// `default` cases, unless PROPTEST_CASES says otherwise; failures are not persisted to
/// files (a failure prints its minimal input, which becomes a regression test).
fn config(default: u32) -> Config {
    let mut c = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = default;
    }
    c
}

/// A runner for `default` cases. Under plain `cargo test` every run draws the same
/// cases, so the counts the tests assert cannot flake; a long run (`PROPTEST_CASES`
/// set) draws new ones each time.
fn fuzz_runner(default: u32) -> TestRunner {
    let c = config(default);
    if std::env::var_os("PROPTEST_CASES").is_some() {
        return TestRunner::new(c);
    }
    let rng = TestRng::deterministic_rng(c.rng_algorithm);
    TestRunner::new_with_rng(c, rng)
}

/// Fragments TOML and the scenario checker treat specially.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "\\",
    "{",
    "}",
    "[",
    "]",
    "[[",
    "]]",
    ",",
    "=",
    "#",
    "\n",
    "\r\n",
    "\t",
    " ",
    "'''",
    "\"\"\"",
    "\\u0000",
    "\\uD800",
    "é",
    "💥",
    "\u{202e}",
    "1e999",
    "-0",
    "inf",
    "nan",
    "9223372036854775808",
    "-9223372036854775809",
    "true",
    "1979-05-27T07:32:00Z",
    "steps",
    "login",
    "logout",
    "fill",
    "wait",
    "idle_timeout",
    "max_lifetime",
    "+",
    "-",
    "s",
    "m",
    "h",
    "d",
    "w",
    "${",
    "}",
    ".id",
    ".uri",
    "expect_count",
    "table_size",
    "session",
];

#[derive(Clone, Debug)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop_oneof![
        prop::sample::select(TOKENS).prop_map(str::to_string),
        ".{0,6}",
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    prop_oneof![
        (any::<usize>(), 0usize..24).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), text).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), 0usize..80).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Delete { at, len } => {
                let a = boundary(&s, *at);
                let b = boundary(&s, a + len).max(a);
                s.replace_range(a..b, "");
            }
            Edit::Insert { at, text } => {
                let a = boundary(&s, *at);
                s.insert_str(a, text);
            }
            Edit::Duplicate { at, len } => {
                let a = boundary(&s, *at);
                let b = boundary(&s, a + len).max(a);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            Edit::Truncate { at } => {
                let a = boundary(&s, *at);
                s.truncate(a);
            }
        }
    }
    s
}

/// Valid `seeds` with up to eight edits each, or arbitrary text.
fn mutated(seeds: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (prop::sample::select(seeds), prop::collection::vec(edit(), 0..8))
            .prop_map(|(seed, edits)| apply(seed, &edits)),
        1 => ".{0,300}",
    ]
}

/// Every scenario file of the library.
fn library() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = Vec::new();
    walk(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios"), &mut out);
    assert!(out.len() > 40, "the scenario library is where it should be");
    out
}

/// Where a 1-based (line, column) falls, if it is inside `text` (or just after it).
fn inside(text: &str, (line, column): (usize, usize)) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    line >= 1 && line <= lines.len() && column >= 1 && column <= lines[line - 1].chars().count() + 1
}

/// Scenario TOML: any text is a scenario or an error with a message and, when it has
/// one, a position inside the text; never a panic.
#[test]
fn scenario_toml_is_parsed_cleanly() {
    let mut runner = fuzz_runner(3000);
    runner
        .run(&mutated(library()), |text| {
            match Scenario::from_toml(&text, Path::new("fuzzed.toml"), "fuzz") {
                Ok(s) => {
                    prop_assert!(!s.name.is_empty());
                    let _ = s.id();
                }
                Err(e) => {
                    prop_assert!(!e.message.is_empty());
                    if let Some(p) = e.position {
                        prop_assert!(inside(&text, p), "position {p:?} outside the text: {e}");
                    }
                    prop_assert!(e.to_string().starts_with("fuzzed.toml"), "{e}");
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Found by `scenario_toml_is_parsed_cleanly`: a file that breaks off (`{ login = ` at
/// the end) was refused as `file:5:13: ` with no message.
#[test]
fn truncated_scenario_says_what_is_wrong() {
    let text = "name = \"x\"\ndescription = \"d\"\nsource = \"s\"\nsteps = [\n  { login = ";
    let e = Scenario::from_toml(text, Path::new("cut.toml"), "g").unwrap_err();
    assert_eq!(e.position, Some((5, 13)));
    assert!(e.to_string().contains("invalid TOML here"), "{e}");
}

/// Found by `durations_are_parsed_cleanly`: a base followed by a character of more than
/// one byte panicked (the sign was cut off by byte); it is refused instead.
#[test]
fn base_followed_by_a_wide_character_is_refused() {
    for text in ["max_lifetime¡ + 1d", "idle_timeouté", "idle_timeout 💥1s"] {
        let e = parse_duration(text).unwrap_err();
        assert!(e.contains("after the base comes `+ DURATION`"), "{text}: {e}");
    }
    let e = Scenario::from_toml(
        "name = \"x\"\ndescription = \"d\"\nsource = \"s\"\nvendors = [\"redfish\"]\nsteps = [{ wait = \"idle_timeouté\" }]",
        Path::new("wide.toml"),
        "g",
    )
    .unwrap_err();
    assert!(e.to_string().contains("idle_timeouté"), "{e}");
}

fn durations() -> impl Strategy<Value = String> {
    let seeds = [
        "90s",
        "1h30m",
        "idle_timeout",
        "idle_timeout + 1s",
        "max_lifetime - 10s",
        "2d",
        "1w",
        "0s",
        "max_lifetime + 106751991167300d",
    ];
    mutated(seeds.iter().map(|s| s.to_string()).collect())
}

/// Duration expressions: any text parses or is refused; what parses resolves against
/// any idle timeout and lifetime without panicking, and is shown in a form that parses
/// back to the same expression.
#[test]
fn durations_are_parsed_cleanly() {
    let device_values = (
        prop::option::of(any::<u64>().prop_map(Duration::from_secs)),
        prop::option::of(any::<u64>().prop_map(Duration::from_secs)),
    );
    let mut runner = fuzz_runner(4000);
    runner
        .run(&(durations(), device_values), |(text, (idle, lifetime))| {
            match parse_duration(&text) {
                Ok(d) => {
                    let _ = d.resolve(idle, lifetime);
                    let shown = d.to_string();
                    prop_assert_eq!(parse_duration(&shown), Ok(d), "shown as {:?}", shown);
                }
                Err(e) => prop_assert!(e.contains("duration"), "{e}"),
            }
            Ok(())
        })
        .unwrap();
}
