//! The `sessionlab-emulator` binary: config checks, serving, health check, shutdown.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sessionlab-emulator");

fn repo(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN).args(args).output().unwrap()
}

/// `check` accepts every shipped profile and fleet file, and names a profile's vendor
/// by its wire name.
#[test]
fn check_accepts_shipped_files() {
    for file in [
        "fixtures/profiles/redfish.toml",
        "fixtures/fleets/example.toml",
        "fixtures/fleets/real-addresses.toml",
    ] {
        let out = run(&["check", &repo(file)]);
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
    }
    let out = run(&["check", &repo("fixtures/profiles/bigip17.toml")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("profile \"bigip17\" (bigip, 2 accounts)\n"), "{text}");
}

/// `check` names the line of a misspelt field and exits 2.
#[test]
fn check_reports_bad_field_with_its_line() {
    let dir = std::env::temp_dir().join(format!("sessionlab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "name = \"x\"\nvendor = \"redfish\"\n\n[session]\nidle_timout_secs = 5\n",
    )
    .unwrap();
    let out = run(&["check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 5") && err.contains("idle_timout_secs"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

/// An unknown profile is a clear error listing the embedded ones, not a panic.
#[test]
fn unknown_profile_is_a_clear_error() {
    let out = run(&["--profile", "no-such-device", "--control-port", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown profile") && err.contains("redfish"), "{err}");
}

/// Every command has help text.
#[test]
fn every_command_has_help() {
    for args in
        [&["--help"][..], &["check", "--help"], &["healthcheck", "--help"], &["profiles", "--help"]]
    {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        assert!(!out.stdout.is_empty());
    }
}

/// Serving prints the device table; `healthcheck` passes while it runs; SIGTERM stops it
/// cleanly with exit 0.
#[tokio::test]
async fn serves_prints_table_answers_healthcheck_and_stops_on_sigterm() {
    let control_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = Command::new(BIN)
        .args(["--profile", "redfish", "--control-port", &control_port.to_string(), "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut table = Vec::new();
    let read_table = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.starts_with("clock:");
            table.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_table).await.expect("table printed");
    assert!(table[0].starts_with("DEVICE") && table[0].contains("PASSWORD"), "{table:?}");
    let url = table[1].split_whitespace().nth(2).unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{table:?}");

    let root = reqwest::get(format!("{url}/redfish/v1/")).await.unwrap();
    assert_eq!(root.status(), 200);

    let health = Command::new(BIN)
        .args(["healthcheck", "--control-port", &control_port.to_string()])
        .output()
        .await
        .unwrap();
    assert!(health.status.success(), "{}", String::from_utf8_lossy(&health.stderr));

    let pid = child.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    let status =
        tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
}

/// `healthcheck` fails when nothing answers.
#[test]
fn healthcheck_fails_when_nothing_listens() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let out = run(&["healthcheck", "--control-port", &port.to_string()]);
    assert!(!out.status.success());
}

/// Issue 13 (reliability): a client holding a half-sent request cannot keep SIGTERM from
/// ending the emulator; open connections get the drain time (`--drain-secs`), then close.
#[tokio::test]
async fn sigterm_ends_the_emulator_while_a_client_holds_a_half_sent_request() {
    use tokio::io::AsyncWriteExt;
    let control_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = Command::new(BIN)
        .args(["--profile", "redfish", "--control-port", &control_port.to_string()])
        .args(["--drain-secs", "0.5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("redfish") {
                return line.split_whitespace().nth(2).unwrap().to_string();
            }
        }
        panic!("no device line");
    })
    .await
    .expect("table printed");
    let addr = url.trim_start_matches("http://").to_string();
    // Headers without their end on the device, and a body that never comes on the control API.
    let mut device = tokio::net::TcpStream::connect(&addr).await.unwrap();
    device.write_all(b"GET /redfish/v1/ HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut control = tokio::net::TcpStream::connect(("127.0.0.1", control_port)).await.unwrap();
    control
        .write_all(b"POST /_sessionlab/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await; // let both connections be accepted

    let pid = child.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    // Generous: the point is that it ends at all (before, it waited for the client forever).
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the emulator ended despite the half-sent requests")
        .unwrap();
    assert!(status.success(), "{status:?}");
    drop((device, control));
}

/// A drain time that is not a number of seconds from 0 to 3600 is refused with the reason.
#[test]
fn a_bad_drain_time_is_refused() {
    let out = run(&["--profile", "redfish", "--drain-secs", "forever"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("seconds from 0 to 3600"));
}

/// Issue 13 item 3: a timeout that is not a positive number of seconds is refused with
/// the reason.
#[test]
fn a_bad_connection_timeout_is_refused() {
    let out = run(&["--profile", "redfish", "--header-timeout-secs", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("seconds above 0"));
}

/// Issue 13 item 3: `SESSIONLAB_HEADER_TIMEOUT_SECS` (the `--header-timeout-secs` twin)
/// closes a connection that never sends a request head; the emulator still serves.
#[tokio::test]
async fn header_timeout_twin_closes_a_silent_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut child, device, _) = start_with(
        &["--profile", "redfish", "--control-port", "0"],
        &[("SESSIONLAB_HEADER_TIMEOUT_SECS", "0.3"), ("SESSIONLAB_MAX_CONNECTIONS", "4")],
    )
    .await;
    let url = device.split_whitespace().nth(2).expect("url").to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(30), silent.read(&mut buf))
        .await
        .expect("closed within the bound");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    let mut next = tokio::net::TcpStream::connect(&addr).await.unwrap();
    next.write_all(b"GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(30), next.read_exact(&mut head))
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    child.kill().await.unwrap();
}

/// Writes `text` as a fleet file in a fresh directory and runs `check` on it.
fn check_fleet(name: &str, text: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("sessionlab-fleet-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fleet.toml");
    std::fs::write(&file, text).unwrap();
    let out = run(&["check", file.to_str().unwrap()]);
    std::fs::remove_dir_all(dir).ok();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Issue 13 (reliability): `check` refuses fleets that cannot be served — two devices on
/// one port, a count that no address has ports for — before allocating anything, and names
/// the line of the device at fault.
#[test]
fn check_refuses_fleets_that_cannot_be_served() {
    let two_on_one_port = "[[device]]\nname = \"a\"\nprofile = \"redfish\"\nport = 8000\n\n\
                           [[device]]\nname = \"b\"\nprofile = \"ilo5\"\nport = 8000\n";
    let (code, err) = check_fleet("port", two_on_one_port);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 7") && err.contains("port 8000 is already taken by \"a\""), "{err}");

    let ssh_on_http = "[[device]]\nname = \"a\"\nprofile = \"redfish\"\nport = 2222\n\n\
                       [[device]]\nname = \"b\"\nprofile = \"idrac9\"\nssh_port = 2222\n";
    let (code, err) = check_fleet("ssh", ssh_on_http);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("port 2222 is already taken"), "{err}");

    let huge = "[[device]]\nname = \"rack\"\nprofile = \"redfish\"\ncount = 100000000\n";
    let (code, err) = check_fleet("count", huge);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 2") && err.contains("at most 50000"), "{err}");

    let huge_at_addresses = "addresses = \"127.0.0.0/8\"\n[[device]]\nname = \"rack\"\n\
                             profile = \"redfish\"\ncount = 100000000\n";
    let (code, err) = check_fleet("count-addresses", huge_at_addresses);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 3") && err.contains("at most 1000000"), "{err}");

    let twice = "[[device]]\nname = \"a\"\nprofile = \"redfish\"\n\n\
                 [[device]]\nname = \"a\"\nprofile = \"redfish\"\n";
    let (code, err) = check_fleet("twice", twice);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 6") && err.contains("listed twice"), "{err}");
}

/// Issue 13 (reliability): an unknown profile in a fleet names its line; a file that is
/// not a profile is reported by line and column, never quoted.
#[test]
fn check_names_the_line_of_a_bad_profile_and_quotes_no_file() {
    let (code, err) =
        check_fleet("unknown", "[[device]]\nname = \"a\"\nprofile = \"no-such-profile\"\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 3") && err.contains("no-such-profile"), "{err}");

    let dir = std::env::temp_dir().join(format!("sessionlab-fleet-{}-quote", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "admin:hunter2-secret\n").unwrap();
    let file = dir.join("fleet.toml");
    std::fs::write(&file, "[[device]]\nname = \"a\"\nprofile = \"notes.txt\"\n").unwrap();
    let out = run(&["check", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    std::fs::remove_dir_all(dir).ok();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// Starts the emulator with `args` and `envs`, returns it with the first device line of its
/// table and the first line it logged.
async fn start_with(
    args: &[&str],
    envs: &[(&str, &str)],
) -> (tokio::process::Child, String, String) {
    let mut command = Command::new(BIN);
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    for (k, v) in envs {
        command.env(k, v);
    }
    command.env_remove("NO_COLOR");
    let mut child = command.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let device = tokio::time::timeout(Duration::from_secs(30), async {
        let _header = out.next_line().await.unwrap();
        out.next_line().await.unwrap().unwrap_or_default()
    })
    .await
    .expect("table printed");
    let logged = tokio::time::timeout(Duration::from_secs(30), err.next_line())
        .await
        .expect("a log line")
        .unwrap()
        .unwrap_or_default();
    (child, device, logged)
}

/// Issue 14: a boolean twin takes what CI systems write (`SESSIONLAB_TLS=1`), and logs
/// written to a pipe carry no colour codes.
#[tokio::test]
async fn tls_twin_takes_1_and_logs_to_a_pipe_are_plain() {
    let (mut child, device, logged) =
        start_with(&["--profile", "redfish", "--control-port", "0"], &[("SESSIONLAB_TLS", "1")])
            .await;
    assert!(device.contains("https://127.0.0.1:"), "{device}");
    assert!(logged.contains("serving"), "{logged}");
    assert!(!logged.contains('\u{1b}'), "colour codes in a log file: {logged:?}");
    child.kill().await.unwrap();

    let (mut child, device, _) =
        start_with(&["--profile", "redfish", "--control-port", "0"], &[("SESSIONLAB_TLS", "")])
            .await;
    assert!(device.contains("http://127.0.0.1:"), "an empty twin is false: {device}");
    child.kill().await.unwrap();
}

/// Issue 14: `healthcheck` probes the address the emulator binds (`--bind`, or its
/// `SESSIONLAB_BIND` twin), so a container bound elsewhere becomes healthy.
#[tokio::test]
async fn healthcheck_probes_the_bound_address() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let (mut child, _, _) = start_with(
        &["--profile", "redfish", "--bind", "127.0.0.2", "--control-port", &port.to_string()],
        &[],
    )
    .await;
    let health = |bind: Option<&'static str>| {
        let mut command = std::process::Command::new(BIN);
        command.args(["healthcheck", "--control-port", &port.to_string()]);
        if let Some(bind) = bind {
            command.env("SESSIONLAB_BIND", bind);
        }
        command.output().unwrap()
    };
    let bound = health(Some("127.0.0.2"));
    assert!(bound.status.success(), "{}", String::from_utf8_lossy(&bound.stderr));
    let elsewhere = health(None);
    assert!(!elsewhere.status.success(), "127.0.0.1 has nothing listening");
    child.kill().await.unwrap();
}

/// Issue 14: `profiles` prints aligned columns with the vendors' wire names.
#[test]
fn profiles_prints_wire_names_in_columns() {
    let out = run(&["profiles"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("PROFILE") && lines[0].contains("VENDOR"), "{text}");
    let column = lines[0].find("VENDOR").unwrap();
    for line in &lines[1..] {
        let vendor = line[column..].split_whitespace().next().unwrap();
        assert!(["redfish", "bigip", "solace", "ilo", "idrac"].contains(&vendor), "{line}");
    }
    assert!(!text.contains("Bigip"), "{text}");
    insta::assert_snapshot!("profiles", text);
}

/// Issue 13 (log injection): a user name with a newline and an escape sequence, sent
/// before authentication, is logged escaped: it forges no log line and colours nothing.
#[tokio::test]
async fn client_strings_are_logged_escaped() {
    let mut child = Command::new(BIN)
        .args(["--profile", "redfish", "--control-port", "0"])
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        let _header = out.next_line().await.unwrap();
        let device = out.next_line().await.unwrap().unwrap();
        device.split_whitespace().nth(2).unwrap().to_string()
    })
    .await
    .expect("table printed");
    let forged = "mallory\n2026-01-01T00:00:00Z  INFO forged: admin logged out\u{1b}[31m";
    let reply = reqwest::Client::new()
        .post(format!("{url}/redfish/v1/SessionService/Sessions"))
        .json(&serde_json::json!({"UserName": forged, "Password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let mut log = Vec::new();
    let refused = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = err.next_line().await.unwrap() {
            log.push(line.clone());
            if line.contains("login refused") {
                return line;
            }
        }
        panic!("the refusal was not logged: {log:?}");
    })
    .await
    .expect("the refusal is logged");
    assert!(refused.contains("mallory\\n2026-01-01"), "{refused}");
    assert!(!refused.contains('\u{1b}'), "an escape sequence reached the log: {refused:?}");
    child.kill().await.unwrap();
    // Nothing after the refusal starts with the forged timestamp either.
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(5), err.next_line()).await
    {
        assert!(!line.starts_with("2026-01-01T00:00:00Z"), "a forged line: {line}");
    }
}

/// Issue 15: `check` refuses device addresses a fleet cannot serve — one that is not an
/// address, one taken twice, a range that is not one or has no room left, a fixed port
/// repeated across devices without addresses — and accepts devices that share a port at
/// addresses of their own.
#[test]
fn check_refuses_bad_and_duplicate_addresses() {
    let device = |name: &str, extra: &str| {
        format!("[[device]]\nname = \"{name}\"\nprofile = \"redfish\"\n{extra}\n")
    };
    let not_an_address = device("a", "address = \"127.1.0.300\"");
    let (code, err) = check_fleet("bad-address", &not_an_address);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("invalid IP address") && err.contains("line 4"), "{err}");

    let twice =
        device("a", "address = \"127.1.0.5\"") + &device("b", "address = \"127.1.0.4\"\ncount = 3");
    let (code, err) = check_fleet("address-twice", &twice);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("address 127.1.0.5 is already taken by \"a\"") && err.contains("line 6"),
        "{err}"
    );

    let bad_range = format!("addresses = \"127.1.0.0/40\"\n{}", device("a", ""));
    let (code, err) = check_fleet("bad-range", &bad_range);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("addresses") && err.contains("at most 32"), "{err}");

    let full = format!("addresses = \"127.1.0.0/30\"\n{}", device("r", "count = 4"));
    let (code, err) = check_fleet("range-full", &full);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no free address left (3 in all)"), "{err}");

    let port_without_addresses = device("r", "count = 2\nport = 8443");
    let (code, err) = check_fleet("count-port", &port_without_addresses);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unless the devices have addresses of their own"), "{err}");

    let real_ports = format!(
        "addresses = \"127.1.0.0/16\"\nshared_bind = [\"0.0.0.0\"]\n{}{}",
        device("ilo", "count = 300\nport = 443\ntls = true"),
        device("one", "address = \"127.1.0.1\"\nport = 443")
    );
    let (code, err) = check_fleet("real-ports", &real_ports);
    assert_eq!(code, Some(0), "{err}");
}
