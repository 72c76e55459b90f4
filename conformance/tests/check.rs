//! `sessionlab-conformance check`: every invalid scenario file is reported with its file,
//! line and column, and the exit status is 2.

use std::process::Command;

fn conformance(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sessionlab-conformance"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Each kind of mistake gets its own message at the step's line and column; the files
/// are reported in path order, all of them, not just the first.
#[test]
fn bad_scenario_files_are_reported_with_file_line_and_column() {
    let out = conformance(&["check", "tests/fixtures/bad"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 6, "{stderr}");
    assert_eq!(
        lines[0],
        "error: tests/fixtures/bad/bad-duration.toml:7:3: duration \"2y\": \"y\" is a month or year, which has \
         no fixed length (a minute is \"m\"); write \"90s\", \"30m\", \"2h\", \"1d\", \"1h30m\", or \"idle_timeout + 1s\" / \"max_lifetime - 1m\""
    );
    assert_eq!(
        lines[1],
        "error: tests/fixtures/bad/missing-destructive.toml: a scenario with a `fill` step must \
         say `destructive = true` (it is never run against a real device without --allow-destructive)"
    );
    assert_eq!(
        lines[2],
        "error: tests/fixtures/bad/two-actions.toml:9:1: a step has one action; this one has \
         logout and expect_invalid (split it into several steps)"
    );
    assert!(
        lines[3].starts_with(
            "error: tests/fixtures/bad/unknown-field.toml:7:5: unknown field `logn`, expected one of `login`, `logout`, `use`,"
        ),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[4],
        "error: tests/fixtures/bad/unknown-session.toml:8:3: session \"b\" is not opened by an \
         earlier `login` (or `fill`, `request` with `session`)"
    );
    assert_eq!(lines[5], "5 scenario file(s) cannot be used");
}

/// The scenario library itself is valid.
#[test]
fn the_scenario_library_checks_clean() {
    let out = conformance(&["check", "../scenarios"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(stdout.trim_end().ends_with("scenarios in ../scenarios"), "{stdout}");
}

/// `run` refuses to start on an invalid file rather than skipping it.
#[test]
fn run_refuses_invalid_files() {
    let out = conformance(&[
        "run",
        "tests/fixtures/bad/two-actions.toml",
        "--target",
        "emulated:redfish",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("two-actions.toml:9:1: a step has one action"), "{stderr}");
}

/// `--max-wait` reads durations with humantime: a bad one is refused before anything
/// runs (exit 2), saying what is wrong and what to write.
#[test]
fn bad_max_wait_is_refused_with_the_reason() {
    for (wait, why) in [
        ("5", "time unit needed, for example 5sec or 5ms"),
        ("1M", "\"M\" is a month or year, which has no fixed length"),
        ("idle_timeout", "give a fixed duration such as 90s or 10m"),
    ] {
        let out = conformance(&["run", "--target", "emulated:redfish", "--max-wait", wait]);
        assert_eq!(out.status.code(), Some(2), "{wait}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--max-wait"), "{wait}: {stderr}");
        assert!(stderr.contains(why), "{wait}: {stderr}");
    }
}
