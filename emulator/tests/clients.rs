//! The client matrix: the vendors' own clients, unmodified, against every profile they
//! target (ci/clients/README.md). One trial per cell, named
//! `clients::CLIENT::PROFILE::TRANSPORT`; after the trials, the matrix itself.
//!
//! A cell starts an emulated device (HTTP, or HTTPS with a self-signed certificate), runs
//! the row's command with the device's URL and credentials in its environment, then reads
//! the device's table: the command must exit 0, have opened a session, and have left none
//! open (or exactly the number its row declares, with the reason). A cell listed under
//! `fails` must fail (the real device fails the same way); if it passes, the trial fails
//! so the row gets corrected.
//!
//! Cells whose client is not installed (`ci/clients/setup.sh` makes the environments) or
//! that need what this machine lacks (root for a network namespace, `sshpass`) are
//! ignored trials with a SKIPPED line saying why; with `CI=true` they fail instead.
//!
//! Rows with `netns = true` run their client inside a private network namespace with
//! only loopback up: the trial re-runs this test binary for that one cell under
//! `unshare -n`, so the emulated device and the client both live in the namespace and
//! whatever address the client contacts on its own (ilorest's VNIC probe) is unreachable.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use emulator::profile::{Profile, EMBEDDED};
use emulator::session::EventKind;
use emulator::EmulatedDevice;
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;

/// How long one cell's command may run.
const CELL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a disconnected client's session may take to end once the client has exited.
const SETTLE: Duration = Duration::from_secs(10);
/// Set in the environment of this binary when it re-runs itself inside a namespace.
const IN_NETNS: &str = "SESSIONLAB_CLIENTS_IN_NETNS";
/// Where the re-run writes its cell's outcome.
const RESULT_FILE: &str = "SESSIONLAB_CLIENTS_RESULT";

// ----- the rows -----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    client: Vec<Row>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    name: String,
    version: String,
    venv: String,
    command: Vec<String>,
    profiles: Vec<String>,
    transports: Vec<Transport>,
    #[serde(default)]
    needs: Vec<String>,
    #[serde(default)]
    netns: bool,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    open_sessions: Option<OpenSessions>,
    #[serde(default = "yes")]
    sessions: bool,
    #[serde(default)]
    fails: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenSessions {
    count: usize,
    why: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
enum Transport {
    Http,
    Https,
    /// The device's SSH service (racadm); its HTTP side is plain.
    Ssh,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Https => "https",
            Transport::Ssh => "ssh",
        }
    }
}

fn clients_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ci/clients")
}

/// Every row of every `matrix/*.toml`, in file order.
fn load_rows() -> Result<Vec<Row>, String> {
    let dir = clients_root().join("matrix");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed: MatrixFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        for row in &parsed.client {
            check_row(row).map_err(|e| format!("{}: row {}: {e}", file.display(), row.name))?;
        }
        rows.extend(parsed.client);
    }
    Ok(rows)
}

fn check_row(row: &Row) -> Result<(), String> {
    if row.command.is_empty() {
        return Err("`command` is empty".into());
    }
    for profile in &row.profiles {
        if !EMBEDDED.iter().any(|(name, _)| name == profile) {
            return Err(format!("unknown profile {profile}"));
        }
    }
    for cell in row.fails.keys() {
        let known = row
            .profiles
            .iter()
            .any(|p| row.transports.iter().any(|t| *cell == format!("{p}/{}", t.as_str())));
        if !known {
            return Err(format!("`fails` names {cell}, which is not one of the row's cells"));
        }
    }
    if row.port.is_some() && !row.netns {
        return Err("a fixed `port` needs `netns = true` (nothing else may hold it)".into());
    }
    Ok(())
}

// ----- one cell -----

#[derive(Clone, Debug)]
struct Cell {
    row: Row,
    profile: String,
    transport: Transport,
}

impl Cell {
    fn id(&self) -> String {
        format!("clients::{}::{}::{}", self.row.name, self.profile, self.transport.as_str())
    }

    fn key(&self) -> String {
        format!("{}/{}", self.profile, self.transport.as_str())
    }

    fn venv_bin(&self) -> Option<PathBuf> {
        (self.row.venv != "none").then(|| common::clients_dir().join(&self.row.venv).join("bin"))
    }

    /// Why this cell cannot run on this machine, if it cannot.
    fn missing(&self) -> Option<String> {
        if let Some(bin) = self.venv_bin() {
            if !bin.join("python").exists() {
                return Some(format!(
                    "the `{}` client environment is not installed ({}): run ci/clients/setup.sh",
                    self.row.venv,
                    bin.parent().unwrap_or(&bin).display()
                ));
            }
        }
        let path = search_path(self.venv_bin().as_deref());
        for program in &self.row.needs {
            if which(program, &path).is_none() {
                return Some(format!("`{program}` is not installed"));
            }
        }
        if self.row.netns && std::env::var_os(IN_NETNS).is_none() {
            if !is_root() {
                return Some("a private network namespace (unshare -n) needs root".into());
            }
            for program in ["unshare", "ip"] {
                if which(program, &path).is_none() {
                    return Some(format!(
                        "`{program}` is not installed (needed for a private network namespace)"
                    ));
                }
            }
        }
        None
    }
}

/// What became of a cell, for the matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// Failed as the row says the real device fails.
    FailsAsDevice(String),
    Failed(String),
    Skipped(String),
}

type Outcomes = Arc<Mutex<BTreeMap<String, (Cell, Outcome)>>>;

fn run_cell(cell: &Cell) -> Outcome {
    if let Some(why) = cell.missing() {
        return Outcome::Failed(format!("cannot run: {why}"));
    }
    let result = if cell.row.netns && std::env::var_os(IN_NETNS).is_none() {
        run_in_netns(cell)
    } else {
        run_here(cell)
    };
    match (result, cell.row.fails.get(&cell.key())) {
        (Ok(()), None) => Outcome::Ok,
        (Err(e), None) => Outcome::Failed(e),
        (Err(_), Some(why)) => Outcome::FailsAsDevice(why.clone()),
        (Ok(()), Some(_)) => Outcome::Failed(format!(
            "passes, but the row lists {} under `fails`: remove it from `fails`",
            cell.key()
        )),
    }
}

/// Runs the cell in this process.
fn run_here(cell: &Cell) -> Result<(), String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no async runtime: {e}"))?
        .block_on(drive(cell))
}

/// Starts the device, runs the command, reads the table.
async fn drive(cell: &Cell) -> Result<(), String> {
    let profile = Profile::embedded(&cell.profile).map_err(|e| e.to_string())?;
    if cell.row.netns {
        bring_loopback_up().await?;
    }
    let mut options = EmulatedDevice::options(profile);
    options.tls = cell.transport == Transport::Https;
    options.port = cell.row.port.unwrap_or(0);
    let device = options.start().await.map_err(|e| format!("the device did not start: {e}"))?;
    let url = device.url();
    let (user, password) = device.credentials();
    let (scheme, hostport) = url.split_once("://").unwrap_or(("http", &url));
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, ""));

    let mut command = tokio::process::Command::new(&cell.row.command[0]);
    command
        .args(&cell.row.command[1..])
        .current_dir(clients_root())
        .env("PATH", search_path(cell.venv_bin().as_deref()))
        .env("SESSIONLAB_URL", &url)
        .env("SESSIONLAB_SCHEME", scheme)
        .env("SESSIONLAB_HOST", host)
        .env("SESSIONLAB_PORT", port)
        .env("SESSIONLAB_USER", &user)
        .env("SESSIONLAB_PASSWORD", &password)
        .env("SESSIONLAB_PROFILE", &cell.profile)
        .env("SESSIONLAB_CONTROL_URL", device.control())
        .env("SESSIONLAB_DEVICE", device.device().name())
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(bin) = cell.venv_bin() {
        command.env("VIRTUAL_ENV", bin.parent().unwrap_or(&bin));
    }
    if let Some(ssh) = device.ssh_addr() {
        command.env("SESSIONLAB_SSH_PORT", ssh.port().to_string());
    }
    let child = command.spawn().map_err(|e| format!("{}: {e}", cell.row.command[0]))?;
    let output = match tokio::time::timeout(CELL_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("{}: {e}", cell.row.command[0])),
        Err(_) => return Err(format!("still running after {}s", CELL_TIMEOUT.as_secs())),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "{} ({})",
            error_line(&stderr, &stdout),
            output.status.code().map_or_else(|| "killed".to_string(), |c| format!("exit {c}"))
        ));
    }
    if let Some(line) = stdout.lines().rev().find(|l| !l.trim().is_empty()) {
        println!("    {}: {}", cell.id(), line.trim());
    }

    // The table: every session the client opened, and what is still open. A client that
    // just disconnects (racadm over SSH) ends its session when the server notices the
    // closed connection, on the server's own schedule: wait for that, bounded, yielding.
    let store = &device.device().store;
    let allowed = cell.row.open_sessions.as_ref().map_or(0, |o| o.count);
    let settled = async {
        while store.list(device.device().now()).len() > allowed {
            tokio::task::yield_now().await;
        }
    };
    let _ = tokio::time::timeout(SETTLE, settled).await;
    let now = device.device().now();
    let opened = store.events(now).iter().filter(|e| e.kind == EventKind::Created).count();
    let open = store.list(now).len();
    if cell.row.sessions && opened == 0 {
        return Err("the client opened no session".into());
    }
    if open != allowed {
        let why =
            cell.row.open_sessions.as_ref().map_or(String::new(), |o| format!(" ({})", o.why));
        return Err(format!(
            "{open} session(s) left open of {opened} opened; {allowed} expected{why}"
        ));
    }
    Ok(())
}

/// The line of a failed command worth showing: a Python traceback's exception line (the
/// last line of standard error), or else the last line of standard output.
fn error_line(stderr: &str, stdout: &str) -> String {
    let last =
        |text: &str| text.lines().rev().map(str::trim).find(|l| !l.is_empty()).map(str::to_string);
    let mut line = last(stderr).or_else(|| last(stdout)).unwrap_or_else(|| "no output".into());
    if line.len() > 200 {
        let cut = (0..=200).rev().find(|i| line.is_char_boundary(*i)).unwrap_or(0);
        line.truncate(cut);
        line.push('…');
    }
    line
}

async fn bring_loopback_up() -> Result<(), String> {
    let status = tokio::process::Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .await
        .map_err(|e| format!("ip link set lo up: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("ip link set lo up: {status}"))
    }
}

/// Re-runs this binary for `cell` alone inside `unshare -n`, and reads back its outcome.
fn run_in_netns(cell: &Cell) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("this test binary: {e}"))?;
    let result = std::env::temp_dir().join(format!(
        "sessionlab-cell-{}-{}.txt",
        std::process::id(),
        cell.id().replace("::", "-")
    ));
    let _ = std::fs::remove_file(&result);
    let output = std::process::Command::new("unshare")
        .arg("-n")
        .arg("--")
        .arg(&exe)
        .args(["--exact", &cell.id(), "--test-threads", "1"])
        .env(IN_NETNS, "1")
        .env(RESULT_FILE, &result)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("unshare -n: {e}"))?;
    let written = std::fs::read_to_string(&result);
    let _ = std::fs::remove_file(&result);
    match written {
        Ok(text) if text == "ok" => Ok(()),
        Ok(text) if text.is_empty() => Err("the cell wrote no result in the namespace".into()),
        Ok(text) => Err(text),
        Err(_) => Err(format!(
            "the cell did not run in the namespace: {}",
            error_line(
                &String::from_utf8_lossy(&output.stderr),
                &String::from_utf8_lossy(&output.stdout)
            )
        )),
    }
}

// ----- the machine -----

fn search_path(first: Option<&Path>) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = first.map(Path::to_path_buf).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

fn which(program: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).map(|d| d.join(program)).find(|p| p.is_file())
}

fn is_root() -> bool {
    // The effective uid, from /proc (std has no getuid and unsafe code is forbidden).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|id| id == "0"))
        })
        .unwrap_or(false)
}

// ----- the matrix -----

fn print_matrix(rows: &[Row], outcomes: &BTreeMap<String, (Cell, Outcome)>) {
    if outcomes.is_empty() {
        return;
    }
    let profiles: Vec<&str> = EMBEDDED
        .iter()
        .map(|(name, _)| *name)
        .filter(|p| outcomes.values().any(|(c, _)| c.profile == *p))
        .collect();
    let mut labels: Vec<(String, Transport)> = Vec::new();
    for row in rows {
        for t in &row.transports {
            let label = (row.name.clone(), *t);
            if !labels.contains(&label)
                && outcomes.values().any(|(c, _)| c.row.name == row.name && c.transport == *t)
            {
                labels.push(label);
            }
        }
    }
    let width = labels.iter().map(|(n, t)| n.len() + t.as_str().len() + 3).max().unwrap_or(6);
    let mut out = String::from(
        "\nclient matrix (ok; FAIL; known = fails as the device does; skip = not run here):\n",
    );
    out.push_str(&format!("{:width$}", ""));
    for p in &profiles {
        out.push_str(&format!(" {p:>w$}", w = p.len().max(5)));
    }
    out.push('\n');
    let mut notes = Vec::new();
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (name, transport) in &labels {
        out.push_str(&format!("{:width$}", format!("{name} ({})", transport.as_str())));
        for p in &profiles {
            let found = outcomes
                .values()
                .find(|(c, _)| c.row.name == *name && c.transport == *transport && c.profile == *p);
            let text = match found {
                None => "-",
                Some((cell, outcome)) => {
                    let total = counts.entry(vendor_of(p)).or_default();
                    total.1 += 1;
                    match outcome {
                        Outcome::Ok => {
                            total.0 += 1;
                            "ok"
                        }
                        Outcome::FailsAsDevice(why) => {
                            total.0 += 1;
                            notes.push(format!("  known  {}: {why}", cell.id()));
                            "known"
                        }
                        Outcome::Failed(why) => {
                            notes.push(format!("  FAIL   {}: {why}", cell.id()));
                            "FAIL"
                        }
                        Outcome::Skipped(why) => {
                            notes.push(format!("  skip   {}: {why}", cell.id()));
                            "skip"
                        }
                    }
                }
            };
            out.push_str(&format!(" {text:>w$}", w = p.len().max(5)));
        }
        out.push('\n');
    }
    for note in notes {
        out.push_str(&note);
        out.push('\n');
    }
    let summary: Vec<String> =
        counts.iter().map(|(v, (ok, total))| format!("{v} {ok}/{total}")).collect();
    out.push_str(&format!("cells ok (or failing as the device does): {}\n", summary.join(", ")));
    let versions: Vec<String> = {
        let mut seen = Vec::new();
        for row in rows {
            if !seen.contains(&row.version) {
                seen.push(row.version.clone());
            }
        }
        seen
    };
    out.push_str(&format!("clients: {}\n", versions.join(", ")));
    println!("{out}");
}

fn vendor_of(profile: &str) -> &'static str {
    match profile {
        p if p.starts_with("ilo") => "iLO",
        p if p.starts_with("idrac") => "iDRAC",
        p if p.starts_with("bigip") => "BIG-IP",
        p if p.starts_with("solace") => "Solace",
        _ => "Redfish",
    }
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let rows = match load_rows() {
        Ok(rows) => rows,
        Err(e) => {
            let trial = Trial::test("clients::matrix-files-are-valid", move || Err(e.into()));
            return libtest_mimic::run(&args, vec![trial]).exit_code();
        }
    };
    let in_netns = std::env::var_os(IN_NETNS).is_some();
    let outcomes: Outcomes = Arc::default();
    let mut trials = Vec::new();
    for row in &rows {
        for profile in &row.profiles {
            for transport in &row.transports {
                let cell =
                    Cell { row: row.clone(), profile: profile.clone(), transport: *transport };
                let missing = if in_netns { None } else { cell.missing() };
                let skip = missing.is_some() && !common::strict();
                if let (Some(why), true) = (&missing, skip) {
                    let selected =
                        args.filter.as_ref().is_none_or(|f| cell.id().contains(f.as_str()));
                    if selected && !args.list {
                        println!("SKIPPED {}: {why}", cell.id());
                    }
                    let outcome = Outcome::Skipped(why.clone());
                    outcomes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(cell.id(), (cell.clone(), outcome));
                }
                let recorded = Arc::clone(&outcomes);
                trials.push(
                    Trial::test(cell.id(), move || {
                        if let Some(file) = std::env::var_os(RESULT_FILE) {
                            // Re-run inside a namespace: report the raw result outward.
                            let raw = run_here(&cell);
                            let _ = std::fs::write(
                                file,
                                raw.as_ref().err().map_or("ok", String::as_str),
                            );
                            return raw.map_err(Failed::from);
                        }
                        let outcome = run_cell(&cell);
                        let verdict = match &outcome {
                            Outcome::Ok | Outcome::FailsAsDevice(_) => Ok(()),
                            Outcome::Failed(why) | Outcome::Skipped(why) => {
                                Err(Failed::from(why.as_str()))
                            }
                        };
                        recorded
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(cell.id(), (cell, outcome));
                        verdict
                    })
                    .with_kind(vendor_of(profile))
                    .with_ignored_flag(skip),
                );
            }
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if !in_netns && !args.list {
        let outcomes = outcomes.lock().unwrap_or_else(|e| e.into_inner());
        print_matrix(&rows, &outcomes);
    }
    conclusion.exit_code()
}
