//! racadm over SSH, driven with the system's OpenSSH client and `sshpass`, exactly as
//! seed 002's shell tooling does (`sshpass -p "$password" ssh -o StrictHostKeyChecking=no
//! "$username@$idrac_ip" "racadm getssninfo"`), and parsed with the seed's own regular
//! expressions, run by bash itself.
//!
//! Needs `ssh` (openssh-client), `sshpass` and `bash`; without them each test prints a
//! SKIP line and passes (with CI=true it fails). CI installs them: `apt-get install -y
//! openssh-client sshpass`.
//! Time moves only through `EmulatedDevice::advance`; waits are bounded reads of the
//! clients' output or exit, never sleeps.

use std::process::Stdio;
use std::time::Duration;

use emulator::profile::Profile;
use emulator::session::{ClientInfo, EndReason, EventKind, LimitScope, Session};
use emulator::EmulatedDevice;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

/// Bound on any one client run or read.
const PATIENCE: Duration = Duration::from_secs(30);

/// Seed 002's parsing, verbatim: `parse_session_data` (count of lines starting with a
/// number), the row regex of `store_session_data` and the one of `auto_cleanup_sessions`,
/// with the date conversion the latter does (`date -d "$ssn_date $ssn_time" +%s`).
const SEED_PARSER: &str = r#"
session_data="$(cat)"
active_sessions=0
while IFS= read -r line; do
    if [[ "$line" =~ ^[0-9]+ ]]; then
        ((active_sessions++))
    fi
done <<< "$session_data"
echo "active|$active_sessions"
while IFS= read -r line; do
    if [[ "$line" =~ ^([0-9]+)[[:space:]]+([A-Z]+)[[:space:]]+([a-zA-Z0-9_-]+)[[:space:]]+([0-9.]+)[[:space:]]+(.+)$ ]]; then
        echo "store|${BASH_REMATCH[1]}|${BASH_REMATCH[2]}|${BASH_REMATCH[3]}|${BASH_REMATCH[4]}|${BASH_REMATCH[5]}"
    fi
done <<< "$session_data"
while IFS= read -r line; do
    if [[ "$line" =~ ^([0-9]+)[[:space:]]+([A-Z]+)[[:space:]]+([a-zA-Z0-9_-]+)[[:space:]]+([0-9.]+)[[:space:]]+([0-9/]+)[[:space:]]+([0-9:]+)$ ]]; then
        ssn_date="${BASH_REMATCH[5]}"
        ssn_time="${BASH_REMATCH[6]}"
        session_timestamp=$(date -d "$ssn_date $ssn_time" +%s 2>/dev/null)
        echo "cleanup|${BASH_REMATCH[1]}|${BASH_REMATCH[2]}|${BASH_REMATCH[3]}|${BASH_REMATCH[4]}|$ssn_date|$ssn_time|$session_timestamp"
    fi
done <<< "$session_data"
"#;

/// Seed 002's `close_idrac_session` check: `[[ "$result" =~ "closed successfully" ]]`.
const SEED_CLOSE_CHECK: &str = r#"
result="$(cat)"
if [[ "$result" =~ "closed successfully" ]]; then
    echo "closed"
else
    echo "failed: $result"
fi
"#;

/// Whether `program` runs; prints why the test is skipped when it does not.
async fn have(program: &str, arg: &str) -> bool {
    let found = Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{program}` is missing in CI (.ci/run installs openssh-client and sshpass)"
        );
        eprintln!(
            "SKIP: `{program}` is not installed; this test drives the emulator with OpenSSH. \
             Install with: apt-get install -y openssh-client sshpass"
        );
    }
    found
}

async fn tools() -> bool {
    have("ssh", "-V").await && have("sshpass", "-V").await && have("bash", "--version").await
}

async fn start(profile: &str) -> EmulatedDevice {
    EmulatedDevice::start(Profile::embedded(profile).expect("profile"))
        .await
        .expect("device starts")
}

/// `sshpass -p PASSWORD ssh <options> -p PORT USER@127.0.0.1 [extra...]`.
fn ssh(bmc: &EmulatedDevice, password: &str, extra: &[&str]) -> Command {
    let addr = bmc.ssh_addr().expect("the iDRAC serves SSH");
    let (user, _) = bmc.credentials();
    let mut cmd = Command::new("sshpass");
    cmd.args(["-p", password, "ssh", "-F", "/dev/null"])
        .args(["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
        .args(["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"])
        .args(["-o", "PreferredAuthentications=password,keyboard-interactive"])
        .args(["-p", &addr.port().to_string(), &format!("{user}@{}", addr.ip())])
        .args(extra)
        .kill_on_drop(true);
    cmd
}

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// `ssh user@host "COMMAND"`: runs to the end.
async fn exec(bmc: &EmulatedDevice, command: &str) -> Run {
    let (_, password) = bmc.credentials();
    let out = tokio::time::timeout(PATIENCE, ssh(bmc, &password, &[command]).output())
        .await
        .expect("ssh finishes in time")
        .expect("ssh runs");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// Runs a bash script with `input` on its standard input.
async fn bash(script: &str, input: &str) -> String {
    let mut child = Command::new("bash")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bash");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).await.expect("write");
    drop(stdin);
    let out = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("bash in time")
        .expect("bash");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An interactive `racadm>>` shell (`ssh -tt`), kept open.
struct Shell {
    child: Child,
    seen: String,
}

impl Shell {
    async fn open(bmc: &EmulatedDevice) -> Shell {
        let (_, password) = bmc.credentials();
        let child = ssh(bmc, &password, &["-tt"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh");
        let mut shell = Shell { child, seen: String::new() };
        shell.until_prompts(1).await;
        shell
    }

    /// Reads until `n` prompts have been seen in total.
    async fn until_prompts(&mut self, n: usize) {
        let stdout = self.child.stdout.as_mut().expect("stdout");
        let mut buf = [0u8; 4096];
        while self.seen.matches("racadm>>").count() < n {
            let read = tokio::time::timeout(PATIENCE, stdout.read(&mut buf))
                .await
                .expect("prompt in time");
            match read.expect("read") {
                0 => panic!("the shell closed before its prompt; saw {:?}", self.seen),
                k => self.seen.push_str(&String::from_utf8_lossy(&buf[..k])),
            }
        }
    }

    async fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(format!("{line}\r").as_bytes()).await.expect("write");
        stdin.flush().await.expect("flush");
    }

    /// Waits for the client to exit (the server closed the connection, or `exit`).
    async fn closed(&mut self) -> Option<i32> {
        let status =
            tokio::time::timeout(PATIENCE, self.child.wait()).await.expect("ssh exits in time");
        status.expect("wait").code()
    }
}

fn open_as(bmc: &EmulatedDevice, kind: &str, addr: &str) -> Session {
    let dev = bmc.device();
    let client = ClientInfo { addr: Some(addr.to_string()), user_agent: None, process: None };
    dev.store.open_for("root", kind, client, dev.now()).expect("slot free")
}

/// Waits (bounded, yielding to the server's tasks, never sleeping) until `done` holds:
/// the server notices a closed connection on its own schedule.
async fn settle(what: &str, done: impl Fn() -> bool) {
    let wait = async {
        while !done() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.unwrap_or_else(|_| panic!("never settled: {what}"));
}

fn count(bmc: &EmulatedDevice, kind: &str) -> usize {
    let dev = bmc.device();
    dev.store.counts(dev.now()).by_type.get(kind).copied().unwrap_or(0)
}

/// Seed 002 `get_session_info` + `parse_session_data`: `racadm getssninfo` over
/// `sshpass ssh` lists the sessions in rows the seed's regexes split into id, type, user,
/// IP, date and time, and GNU `date -d` reads the date (ilo-idrac.md 2.6, [C] layout).
#[tokio::test]
async fn getssninfo_over_openssh_parses_with_the_seeds_regexes() {
    if !tools().await {
        return;
    }
    let bmc = start("idrac9").await;
    let gui = open_as(&bmc, "gui", "10.67.125.24");
    let run = exec(&bmc, "racadm getssninfo").await;
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stdout.starts_with("SSNID Type              User"), "{}", run.stdout);
    let parsed = bash(SEED_PARSER, &run.stdout).await;
    let lines: Vec<&str> = parsed.lines().collect();
    assert_eq!(lines[0], "active|2", "{parsed}");
    let store_gui = format!("store|{}|GUI|root|10.67.125.24|", gui.id);
    assert!(lines.iter().any(|l| l.starts_with(&store_gui)), "{parsed}");
    let cleanup: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| l.starts_with("cleanup|"))
        .map(|l| l.split('|').collect())
        .collect();
    assert_eq!(cleanup.len(), 2, "{parsed}");
    let ssh_row = cleanup.iter().find(|f| f[2] == "SSH").expect("the SSH session running racadm");
    assert_eq!((ssh_row[3], ssh_row[4]), ("root", "127.0.0.1"));
    assert!(
        ssh_row[7].parse::<i64>().is_ok(),
        "date -d reads {} {}: {parsed}",
        ssh_row[5],
        ssh_row[6]
    );
    settle("the exec's SSH session ends with its connection", || count(&bmc, "ssh") == 0).await;
}

/// Seed 002 `close_idrac_session`: `racadm closessn -i N` with `2>&1` prints a text the
/// seed's `=~ "closed successfully"` accepts (ilo-idrac.md 2.6, [C]), and the session ends.
#[tokio::test]
async fn closessn_over_openssh_satisfies_the_seeds_check() {
    if !tools().await {
        return;
    }
    let bmc = start("idrac9").await;
    let gui = open_as(&bmc, "gui", "10.67.125.24");
    let run = exec(&bmc, &format!("racadm closessn -i {}", gui.id)).await;
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout, format!("Session {} closed successfully.\n", gui.id));
    let result = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(bash(SEED_CLOSE_CHECK, &result).await, "closed\n");
    assert_eq!(count(&bmc, "gui"), 0);
    let missing = exec(&bmc, "racadm closessn -i 999").await;
    assert_eq!(missing.code, Some(1));
    assert!(bash(SEED_CLOSE_CHECK, &format!("{}{}", missing.stdout, missing.stderr))
        .await
        .starts_with("failed"));
}

/// The issue: both `ssh host racadm ...` and an interactive shell with the `racadm>>`
/// prompt work; closing one's own session is refused (ilo-idrac.md 2.6, [C] text).
#[tokio::test]
async fn interactive_shell_runs_racadm_at_the_prompt() {
    if !tools().await {
        return;
    }
    let bmc = start("idrac9").await;
    let mut shell = Shell::open(&bmc).await;
    assert_eq!(count(&bmc, "ssh"), 1, "the open shell holds an SSH session");
    shell.send("racadm getssninfo").await;
    shell.until_prompts(2).await;
    assert!(shell.seen.contains("SSNID Type"), "{}", shell.seen);
    assert!(shell.seen.contains("\r\n-----"), "lines end with CRLF on a pty: {:?}", shell.seen);
    let own = bmc.device().store.list(bmc.device().now())[0].id.clone();
    shell.send(&format!("closessn -i {own}")).await;
    shell.until_prompts(3).await;
    assert!(
        shell.seen.contains("Closing the executing session is not permitted."),
        "{}",
        shell.seen
    );
    shell.send("exit").await;
    assert_eq!(shell.closed().await, Some(0));
    // The connection's end ends its session, reason logout.
    let dev = bmc.device();
    settle("the shell's session ends", || dev.store.get(&own, dev.now()).is_none()).await;
    let events = dev.store.events(dev.now());
    let ended = events
        .iter()
        .find(|e| e.session_id.as_deref() == Some(&own) && e.kind != EventKind::Created);
    assert_eq!(ended.map(|e| e.kind.clone()), Some(EventKind::Ended { reason: EndReason::Logout }));
}

/// ilo-idrac.md 2.4 [C]: `SSH.1.MaxSessions` is 4: with four SSH connections open, a
/// fifth is refused after its password check (closed: `ssh` exits 255), and the refusal
/// is logged against the ssh pool. An idle SSH connection is closed once the virtual
/// clock passes `SSH.1.Timeout` (1800 s), which frees the slots.
#[tokio::test]
async fn fifth_ssh_connection_is_refused_and_idle_ones_close_at_the_ssh_timeout() {
    if !tools().await {
        return;
    }
    let bmc = start("idrac9").await;
    let mut shells = Vec::new();
    for _ in 0..4 {
        shells.push(Shell::open(&bmc).await);
    }
    assert_eq!(count(&bmc, "ssh"), 4);
    let refused = exec(&bmc, "racadm getssninfo").await;
    assert_eq!(refused.code, Some(255), "stdout {:?} stderr {:?}", refused.stdout, refused.stderr);
    let events = bmc.device().store.events(bmc.device().now());
    assert!(events
        .iter()
        .any(|e| e.kind == EventKind::Refused { limit: LimitScope::Pool("ssh".into()) }));
    // Keep one shell busy: activity renews its idle timer.
    bmc.advance(Duration::from_secs(1000)).expect("virtual clock");
    shells[0].send("getssninfo -A").await;
    shells[0].until_prompts(2).await;
    bmc.advance(Duration::from_secs(1000)).expect("virtual clock");
    for shell in &mut shells[1..] {
        assert!(shell.closed().await.is_some(), "idle past 1800 s: the server closed it");
    }
    assert_eq!(count(&bmc, "ssh"), 1, "only the busy shell is left");
    let run = exec(&bmc, "racadm getssninfo -A").await;
    assert_eq!(run.code, Some(0), "a slot is free again");
}

/// The pool check without any SSH client of our own: slots held through the engine
/// (as the control API opens them) refuse the OpenSSH login just the same.
#[tokio::test]
async fn ssh_pool_held_through_the_engine_refuses_openssh() {
    if !tools().await {
        return;
    }
    let bmc = start("idrac9").await;
    let held: Vec<Session> =
        (0..4).map(|i| open_as(&bmc, "ssh", &format!("192.0.2.{i}"))).collect();
    assert_eq!(exec(&bmc, "racadm getssninfo").await.code, Some(255));
    let dev = bmc.device();
    dev.store.end(&held[0].id, EndReason::AdminDelete, dev.now()).expect("open");
    assert_eq!(exec(&bmc, "racadm getssninfo").await.code, Some(0));
}

/// A wrong password is refused like on any SSH server (sshpass exits 5) and logged as a
/// failed login.
#[tokio::test]
async fn wrong_password_is_refused() {
    if !tools().await {
        return;
    }
    let bmc = start("idrac9").await;
    let out = tokio::time::timeout(PATIENCE, ssh(&bmc, "wrong", &["racadm getssninfo"]).output())
        .await
        .expect("in time")
        .expect("runs");
    assert_eq!(out.status.code(), Some(5), "sshpass: invalid password");
    let events = bmc.device().store.events(bmc.device().now());
    assert!(events.iter().any(|e| e.kind == EventKind::LoginFailed && e.session_type == "ssh"));
}

/// `closessn` from another client ends a shell's session: the server closes that
/// connection (the watcher notices within a fraction of a second).
#[tokio::test]
async fn closing_a_shells_session_from_elsewhere_closes_its_connection() {
    if !tools().await {
        return;
    }
    let bmc = start("idrac9").await;
    let mut shell = Shell::open(&bmc).await;
    let id = bmc.device().store.list(bmc.device().now())[0].id.clone();
    let run = exec(&bmc, &format!("racadm closessn -i {id}")).await;
    assert_eq!(run.stdout, format!("Session {id} closed successfully.\n"));
    assert!(shell.closed().await.is_some());
}

/// The host key is derived from the device name and the profile's seed: two starts of
/// the same device show the same key (`ssh-keyscan`), so clients see no new key.
#[tokio::test]
async fn host_key_is_stable_across_starts() {
    if !tools().await || !have("ssh-keyscan", "-h").await {
        return;
    }
    let mut keys = Vec::new();
    for _ in 0..2 {
        let bmc = start("idrac9").await;
        let addr = bmc.ssh_addr().expect("ssh");
        let out = tokio::time::timeout(
            PATIENCE,
            Command::new("ssh-keyscan")
                .args(["-t", "ed25519", "-p", &addr.port().to_string(), &addr.ip().to_string()])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("in time")
        .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let key = text.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
        assert!(key.starts_with("ssh-ed25519 "), "{text}");
        keys.push(key);
    }
    assert_eq!(keys[0], keys[1]);
}
