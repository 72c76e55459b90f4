//! Hygiene mode against real clients: each trial runs `sessionlab-conformance hygiene` on
//! a script of `ci/clients/leaks/` that uses a real client (sushy, redfishtool, the
//! generated SEMPv2 monitor client, ilorest) the way its users do and leaves sessions
//! open, and checks that the check fails (exit 1) and names the leak: the process that
//! opened each leaked session, its sessions, the logins refused once the table was full.
//!
//! The clients live in Python virtual environments made by `ci/clients/setup.sh`, under
//! `SESSIONLAB_CLIENTS_DIR` (default: `target/clients` of the workspace, `CARGO_TARGET_DIR`
//! respected). A missing client makes its trial ignored with a `SKIPPED` line saying
//! why; with `CI=true` it fails instead. Filter like any test:
//! `cargo test -p conformance --test hygiene_clients -- sushy`.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use libtest_mimic::{Arguments, Failed, Trial};

const HYGIENE: &str = env!("CARGO_BIN_EXE_sessionlab-conformance");

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn clients_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SESSIONLAB_CLIENTS_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    target.join("clients")
}

fn leaks(script: &str) -> String {
    workspace().join("ci/clients/leaks").join(script).display().to_string()
}

/// A virtual environment's `bin/`.
fn venv_bin(venv: &str) -> PathBuf {
    clients_dir().join(venv).join("bin")
}

/// Why a client cannot run here, if it cannot.
fn missing_python_module(venv: &str, module: &str) -> Option<String> {
    let python = venv_bin(venv).join("python3");
    if !python.is_file() {
        return Some(format!("no {} (run ci/clients/setup.sh)", python.display()));
    }
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    (!ok).then(|| format!("{} cannot import {module} (run ci/clients/setup.sh)", python.display()))
}

fn missing_program(venv: &str, program: &str) -> Option<String> {
    let path = venv_bin(venv).join(program);
    (!path.is_file()).then(|| format!("no {} (run ci/clients/setup.sh)", path.display()))
}

/// ilorest must run in a private network namespace (it probes an iLO address of its own):
/// that takes `unshare -n` and `ip`, as root.
fn missing_namespace() -> Option<String> {
    let ok = Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up"])
        .output()
        .is_ok_and(|o| o.status.success());
    (!ok).then(|| "`unshare -n sh -c 'ip link set lo up'` fails here (needs root)".to_string())
}

/// `hygiene ARGS` with `venv`'s `bin/` first on PATH, optionally inside a private network
/// namespace with only loopback up; the exit code and everything it printed.
fn hygiene(venv: &str, netns: bool, args: &[&str]) -> (Option<i32>, String) {
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut all = vec![venv_bin(venv)];
            all.extend(std::env::split_paths(&p));
            std::env::join_paths(all).expect("PATH joins")
        }
        None => venv_bin(venv).into_os_string(),
    };
    let mut cmd = if netns {
        let mut c = Command::new("unshare");
        c.args(["-n", "sh", "-c", r#"ip link set lo up && exec "$0" "$@""#, HYGIENE]);
        c
    } else {
        Command::new(HYGIENE)
    };
    cmd.arg("hygiene").args(args).env("PATH", path).current_dir(std::env::temp_dir());
    // With these set, requests ignores verify=False and refuses the self-signed device.
    for var in [
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "SESSIONLAB_HYGIENE_PROFILE",
        "SESSIONLAB_HYGIENE_TLS",
        "SESSIONLAB_HYGIENE_PORT",
        "SESSIONLAB_MAX_SESSIONS",
        "SESSIONLAB_TARGET",
        "SESSIONLAB_CONTROL_URL",
        "SESSIONLAB_ALLOW_LEAKS",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("the hygiene binary runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// Fails with the whole output unless every `needle` is in it.
fn expect(code: Option<i32>, out: &str, needles: &[&str]) -> Result<(), Failed> {
    println!("{out}");
    if code != Some(1) {
        return Err(format!("hygiene exited with {code:?}, expected 1\n{out}").into());
    }
    for needle in needles {
        if !out.contains(needle) {
            return Err(format!("the report does not say {needle:?}\n{out}").into());
        }
    }
    Ok(())
}

/// Name the process that opened each leaked session: sushy treats a 403 like an expired
/// session (connector.py `_op` → `SessionAuth.refresh_session`, which drops the token
/// without a DELETE) and logs in again; the session it had stays open although the
/// script logs out through sushy's context manager.
fn sushy_reauth_on_403() -> Result<(), Failed> {
    let script = leaks("sushy_reauth_on_403.py");
    let (code, out) = hygiene(
        "main",
        false,
        &[
            "--profile",
            "redfish",
            "--user",
            "readonly",
            "--password",
            "sessionlab",
            "--",
            "python3",
            &script,
        ],
    );
    expect(
        code,
        &out,
        &[
            "reset refused: 403 session now /redfish/v1/SessionService/Sessions/2",
            "exited with status 0",
            "1 session(s) open on redfish",
            "  python3 (pid ",
            "sushy_reauth_on_403.py) left session 1 open: client 127.0.0.1, User-Agent \"python-requests/",
            "    session 1: user readonly, type redfish",
            "hygiene: FAIL: 1 session(s) left open, 0 allowed",
        ],
    )
}

/// Name the process that opened each leaked session: sushy logs out in `Sushy.__del__`
/// (and does at a normal exit), so a sushy process stopped by SIGTERM (a cancelled job,
/// timeout(1)) leaves its session open.
fn sushy_killed() -> Result<(), Failed> {
    let script = leaks("sushy_killed.py");
    let (code, out) = hygiene("main", false, &["--profile", "redfish", "--", "python3", &script]);
    expect(
        code,
        &out,
        &[
            "was killed by signal 15 (SIGTERM)",
            "1 session(s) open on redfish",
            "sushy_killed.py) left session 1 open: client 127.0.0.1",
            "    session 1: user admin, type redfish",
            "hygiene: FAIL: the command failed; 1 session(s) left open, 0 allowed",
        ],
    )
}

/// Name the process that opened each leaked session: `redfishtool ... -A Session -S
/// Always SessionService login` leaves the session it prints for its caller (HTTPS, the
/// only scheme redfishtool speaks: `hygiene --tls`).
fn redfishtool_login() -> Result<(), Failed> {
    let script = leaks("redfishtool_login.sh");
    let (code, out) = hygiene("main", false, &["--profile", "redfish", "--tls", "--", &script]);
    expect(
        code,
        &out,
        &[
            "\"SessionLocation\": \"/redfish/v1/SessionService/Sessions/1\"",
            "1 session(s) open on redfish (https://127.0.0.1:",
            "  redfishtool (pid ",
            "-A Session -S Always SessionService login) left session 1 open",
            "-p '***'",
            "hygiene: FAIL: 1 session(s) left open, 0 allowed",
        ],
    )
}

/// Name the process that opened each leaked session: the generated SEMPv2 monitor client
/// keeps no cookie and never logs out, so each call takes a SEMP session until the
/// broker answers 529 (table shrunk to 3 of the profile's 50).
fn semp_monitor_poll() -> Result<(), Failed> {
    let script = leaks("semp_monitor_poll.py");
    let (code, out) = hygiene(
        "main",
        false,
        &["--profile", "solace-software-100", "--max-sessions", "3", "--", "python3", &script, "5"],
    );
    expect(
        code,
        &out,
        &[
            "poll 3: 200, access admin",
            "poll 4: HTTP 529 No SEMP Session Available",
            "3 session(s) open on solace-software-100",
            "semp_monitor_poll.py 5) left 3 sessions (",
            "User-Agent \"Swagger-Codegen/9.8.0.12/python\"",
            "1 login(s) refused because the session table was full (table of 3)",
            "semp_monitor_poll.py 5)\n",
            "hygiene: FAIL: 3 session(s) left open, 0 allowed; the session limit was hit",
        ],
    )
}

/// `hygiene ... -- ilorest_nocache.sh 4` for an iLO 5 with a table of 3, served over
/// HTTPS on 127.0.0.1:`port` inside a private network namespace.
fn ilorest_runs(port: &str) -> (Option<i32>, String) {
    let script = leaks("ilorest_nocache.sh");
    hygiene(
        "hpe",
        true,
        &["--profile", "ilo5", "--tls", "--port", port, "--max-sessions", "3", "--", &script, "4"],
    )
}

/// Name the process that opened each leaked session: every `ilorest --nocache` run logs
/// in again (HPE, "Managing iLO sessions with Redfish"), and ilorest 7.4's logout after
/// the command works only over HTTPS on 443, so against an iLO on another port four runs
/// leave three sessions, one per run, each named by its own ilorest process (ilorest
/// writes its own title over argv, password masked, and its `comm` is a cut path), and
/// the fourth is refused.
fn ilorest_nocache_other_port() -> Result<(), Failed> {
    let (code, out) = ilorest_runs("8443");
    expect(
        code,
        &out,
        &[
            "ilorest run 1: exit status 0",
            "3 session(s) open on ilo5 (https://127.0.0.1:8443)",
            "/bin/ilorest --nocache login https://127.0.0.1:8443 -u Administrator -p xxxxxxxx) left session Administrator",
            "User-Agent \"python-urllib3/",
            "1 login(s) refused because the session table was full (table of 3)",
            "-p xxxxxxxx)\nhygiene: FAIL: 3 session(s) left open, 0 allowed; the session limit was hit",
        ],
    )?;
    let processes = out.lines().filter(|l| l.contains(") left session ")).count();
    if processes != 3 {
        return Err(format!("expected three ilorest processes, one session each\n{out}").into());
    }
    Ok(())
}

/// The same four `ilorest --nocache` runs on an iLO served as on hardware, HTTPS on
/// 127.0.0.1:443: ilorest 7.4 logs out after each (rdmc.py `_locked_app_logout` when it
/// has no cache), so the table of 3 never fills and the check passes.
fn ilorest_nocache_443() -> Result<(), Failed> {
    let (code, out) = ilorest_runs("443");
    println!("{out}");
    let needles = [
        "ilorest run 4: exit status 0",
        "0 session(s) open on ilo5 (https://127.0.0.1)",
        "hygiene: PASS",
    ];
    if code != Some(0) || needles.iter().any(|n| !out.contains(n)) {
        return Err(format!("expected four clean runs, exit 0 and {needles:?}\n{out}").into());
    }
    Ok(())
}

fn missing_ilorest() -> Option<String> {
    missing_program("hpe", "ilorest").or_else(missing_namespace)
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    type Case = (&'static str, fn() -> Option<String>, fn() -> Result<(), Failed>);
    let cases: [Case; 6] = [
        ("sushy_reauth_on_403", || missing_python_module("main", "sushy"), sushy_reauth_on_403),
        ("sushy_killed", || missing_python_module("main", "sushy"), sushy_killed),
        ("redfishtool_login", || missing_program("main", "redfishtool"), redfishtool_login),
        (
            "semp_monitor_poll",
            || missing_python_module("main", "solace_semp_monitor"),
            semp_monitor_poll,
        ),
        ("ilorest_nocache_other_port", missing_ilorest, ilorest_nocache_other_port),
        ("ilorest_nocache_443", missing_ilorest, ilorest_nocache_443),
    ];
    let mut trials = Vec::new();
    for (name, missing, run) in cases {
        let wanted = args.filter.as_deref().is_none_or(|f| name.contains(f))
            && !args.skip.iter().any(|s| name.contains(s.as_str()));
        let reason = if wanted && !args.list { missing() } else { None };
        trials.push(match reason {
            None => Trial::test(name, run),
            Some(reason) if ci => Trial::test(name, move || {
                Err(format!("CI=true and the client is missing: {reason}").into())
            }),
            Some(reason) => {
                println!("SKIPPED {name}: {reason}");
                Trial::test(name, move || Err(format!("SKIPPED: {reason}").into()))
                    .with_ignored_flag(true)
            }
        });
    }
    libtest_mimic::run(&args, trials).exit_code()
}
