//! Hygiene mode: does a client log out?
//!
//! `sessionlab-conformance hygiene --profile NAME -- COMMAND ARGS...` starts an emulated
//! device, hands its URL and credentials to COMMAND through the environment, runs it
//! with its output passed through, then reports every session COMMAND left open (user,
//! type, client, User-Agent, created, last used, requests made with it) and every login
//! refused because the table was full. The device it starts names the local process
//! behind each login (Linux: from `/proc`, while the client's connection is open), so
//! the report tells apart clients that all send `User-Agent: python-requests/2.32.3`;
//! `--tls` and `--port` serve it as HTTPS on a fixed port (an iLO on 443). `--target URL --control URL` does the same
//! against an emulator that is already running; without COMMAND it reports the sessions
//! open right now.
//!
//! The command sees:
//!
//! | Variable | Example |
//! | --- | --- |
//! | `SESSIONLAB_URL` | `http://127.0.0.1:40123` |
//! | `SESSIONLAB_SCHEME`, `SESSIONLAB_HOST`, `SESSIONLAB_PORT` | `http`, `127.0.0.1`, `40123` |
//! | `SESSIONLAB_USER`, `SESSIONLAB_PASSWORD` | `admin`, `sessionlab` |
//! | `SESSIONLAB_CONTROL_URL`, `SESSIONLAB_DEVICE` | `http://127.0.0.1:40100`, `redfish` |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use serde::Serialize;

use crate::control::{ClientProcess, Control, RefusedLogin, SessionInfo};

/// Where the device comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Start an emulated device of this profile (name or file).
    Profile {
        /// Profile name or file.
        name: String,
        /// Shrink the session table to this size, to reproduce exhaustion quickly.
        max_sessions: Option<usize>,
        /// Seed for tokens and ids.
        seed: Option<u64>,
        /// Serve HTTPS with a self-signed certificate.
        tls: bool,
        /// Port on 127.0.0.1 (0: any free port).
        port: u16,
        /// Credentials to hand to the command (default: the profile's first account).
        user: Option<String>,
        /// Password.
        password: Option<String>,
    },
    /// Use a device of an emulator that is already running.
    Running {
        /// The device's URL (default: the emulator's only device).
        target: Option<String>,
        /// The emulator's control API.
        control: String,
        /// The device's name in that emulator.
        device: Option<String>,
        /// Credentials to hand to the command (default: the profile's first account).
        user: Option<String>,
        /// Password.
        password: Option<String>,
    },
}

/// What to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The device.
    pub source: Source,
    /// Leaked sessions tolerated before failing.
    pub allow_leaks: usize,
    /// The command and its arguments (empty: report what is open now).
    pub command: Vec<String>,
}

/// A hygiene check that could not be done.
#[derive(Clone, Debug, thiserror::Error)]
#[error("hygiene: {0}")]
pub struct HygieneError(pub String);

/// A leaked session, for the report.
#[derive(Clone, Debug, Serialize)]
pub struct Leak {
    /// Session id.
    pub id: String,
    /// User.
    pub user: String,
    /// Session type.
    pub session_type: String,
    /// Client address.
    pub client_addr: Option<String>,
    /// User-Agent.
    pub user_agent: Option<String>,
    /// The local process that logged in, when the device could name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_process: Option<ClientProcess>,
    /// Created (RFC 3339, device time).
    pub created: String,
    /// Last used.
    pub last_used: String,
    /// Requests made with it, when the emulator counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
}

impl From<SessionInfo> for Leak {
    fn from(s: SessionInfo) -> Leak {
        Leak {
            id: s.id,
            user: s.user,
            session_type: s.session_type,
            client_addr: s.client_addr,
            user_agent: s.user_agent,
            client_process: s.client_process,
            created: s.created,
            last_used: s.last_used,
            requests: s.requests,
        }
    }
}

impl Leak {
    fn redacted(mut self, password: &str) -> Leak {
        self.client_process = self.client_process.map(|p| redacted(p, password));
        self
    }
}

/// A refused login, for the report.
#[derive(Clone, Debug, Serialize)]
pub struct Refusal {
    /// When (device time).
    pub at: String,
    /// User.
    pub user: String,
    /// Session type.
    pub session_type: String,
    /// Client address.
    pub client_addr: Option<String>,
    /// User-Agent.
    pub user_agent: Option<String>,
    /// The local process that tried, when the device could name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_process: Option<ClientProcess>,
}

impl From<RefusedLogin> for Refusal {
    fn from(r: RefusedLogin) -> Refusal {
        Refusal {
            at: r.at,
            user: r.user,
            session_type: r.session_type,
            client_addr: r.client_addr,
            user_agent: r.user_agent,
            client_process: r.client_process,
        }
    }
}

impl Refusal {
    fn redacted(mut self, password: &str) -> Refusal {
        self.client_process = self.client_process.map(|p| redacted(p, password));
        self
    }
}

/// The hygiene report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The device's name.
    pub device: String,
    /// Its URL.
    pub url: String,
    /// Its session table size, if limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_size: Option<usize>,
    /// The command run (empty: none).
    pub command: Vec<String>,
    /// Its exit code (`None`: no command, or it was killed by a signal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did (Unix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Whether the command succeeded (true when there was none).
    pub command_ok: bool,
    /// Sessions left open.
    pub leaked: Vec<Leak>,
    /// Logins refused because the table was full.
    pub refused: Vec<Refusal>,
    /// Leaks tolerated.
    pub allowed_leaks: usize,
    /// The verdict.
    pub ok: bool,
}

impl Report {
    fn finish(mut self) -> Report {
        self.ok =
            self.command_ok && self.leaked.len() <= self.allowed_leaks && self.refused.is_empty();
        self
    }

    /// The human report; its last line is `hygiene: PASS` or `hygiene: FAIL: why`.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let what = if self.command.is_empty() {
            "right now".to_string()
        } else {
            format!("after `{}`", shell_words(&self.command))
        };
        if !self.command.is_empty() {
            let status = match (self.exit_code, self.signal) {
                (Some(c), _) => format!("exited with status {c}"),
                (None, Some(n)) => match signal_name(n) {
                    Some(name) => format!("was killed by signal {n} ({name})"),
                    None => format!("was killed by signal {n}"),
                },
                (None, None) => "was killed by a signal".to_string(),
            };
            let _ = writeln!(out, "hygiene: `{}` {status}", shell_words(&self.command));
        }
        let _ = writeln!(
            out,
            "hygiene: {} session(s) open on {} ({}) {what}; {} allowed",
            self.leaked.len(),
            self.device,
            self.url,
            self.allowed_leaks
        );
        // One group per process where the device named it, else per address and agent.
        let mut groups: BTreeMap<(Option<&ClientProcess>, String, String), Vec<&Leak>> =
            BTreeMap::new();
        for l in &self.leaked {
            let key = (
                l.client_process.as_ref(),
                l.client_addr.clone().unwrap_or_else(|| "?".to_string()),
                l.user_agent.clone().unwrap_or_else(|| "(none)".to_string()),
            );
            groups.entry(key).or_default().push(l);
        }
        for ((process, addr, agent), leaks) in &groups {
            let n = leaks.len();
            let ids = leaks.iter().map(|l| l.id.as_str()).collect::<Vec<_>>().join(", ");
            let _ = match process {
                Some(p) => writeln!(
                    out,
                    "  {} left {} open: client {addr}, User-Agent {agent:?}",
                    process_words(p),
                    if n == 1 { format!("session {ids}") } else { format!("{n} sessions ({ids})") }
                ),
                None => writeln!(out, "  client {addr}, User-Agent {agent:?}: {n} session(s)"),
            };
            for l in leaks {
                let requests = l.requests.map(|n| format!(", {n} request(s)")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    session {}: user {}, type {}, created {}, last used {}{requests}",
                    l.id, l.user, l.session_type, l.created, l.last_used
                );
            }
        }
        if !self.refused.is_empty() {
            let size = self.table_size.map(|n| format!(" (table of {n})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "hygiene: {} login(s) refused because the session table was full{size}:",
                self.refused.len()
            );
            for r in &self.refused {
                let by = r
                    .client_process
                    .as_ref()
                    .map(|p| format!(", by {}", process_words(p)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    {}: user {}, type {}, client {}, User-Agent {:?}{by}",
                    r.at,
                    r.user,
                    r.session_type,
                    r.client_addr.as_deref().unwrap_or("?"),
                    r.user_agent.as_deref().unwrap_or("(none)")
                );
            }
        }
        let mut why = Vec::new();
        if !self.command_ok {
            why.push("the command failed".to_string());
        }
        if self.leaked.len() > self.allowed_leaks {
            why.push(format!(
                "{} session(s) left open, {} allowed",
                self.leaked.len(),
                self.allowed_leaks
            ));
        }
        if !self.refused.is_empty() {
            why.push("the session limit was hit".to_string());
        }
        if why.is_empty() {
            let _ = writeln!(out, "hygiene: PASS");
        } else {
            let _ = writeln!(out, "hygiene: FAIL: {}", why.join("; "));
        }
        out
    }

    /// The JSON report.
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The JUnit XML report (valid against the Jenkins JUnit schema): one test case per
    /// session left open (a failure, or a pass with a note when `--allow-leaks` tolerates
    /// it), one for the command's exit, one per login refused because the table was full;
    /// a clean run is one passing test case. Class names carry the device's name.
    pub fn junit(&self) -> String {
        use crate::junit::{class_part, Case, Outcome, Suite};
        let class = format!("hygiene.{}", class_part(&self.device));
        let command = shell_words(&self.command);
        let mut cases = Vec::new();
        let case = |name: String, outcome: Outcome, out: String| Case {
            name,
            classname: class.clone(),
            time: std::time::Duration::ZERO,
            outcome,
            out,
        };
        if !self.command.is_empty() {
            let outcome = if self.command_ok {
                Outcome::Pass
            } else {
                let status = match (self.exit_code, self.signal) {
                    (Some(c), _) => format!("exited with status {c}"),
                    (None, Some(n)) => format!("was killed by signal {n}"),
                    (None, None) => "was killed by a signal".to_string(),
                };
                Outcome::Failure {
                    kind: "CommandFailed".to_string(),
                    message: format!("`{command}` {status}"),
                    text: String::new(),
                }
            };
            cases.push(case("command".to_string(), outcome, format!("command: {command}\n")));
        }
        let tolerated = self.leaked.len() <= self.allowed_leaks;
        for l in &self.leaked {
            let who = match &l.client_process {
                Some(p) => process_words(p),
                None => format!(
                    "client {}, User-Agent {:?}",
                    l.client_addr.as_deref().unwrap_or("?"),
                    l.user_agent.as_deref().unwrap_or("(none)")
                ),
            };
            let requests = l.requests.map(|n| format!(", {n} request(s)")).unwrap_or_default();
            let details = format!(
                "session {}: user {}, type {}, created {}, last used {}{requests}\nopened by {who}\n",
                l.id, l.user, l.session_type, l.created, l.last_used
            );
            let message = format!("session {} left open by {who}", l.id);
            let outcome = if tolerated {
                Outcome::Pass
            } else {
                Outcome::Failure {
                    kind: "LeakedSession".to_string(),
                    message,
                    text: details.clone(),
                }
            };
            let out = if tolerated {
                format!("tolerated (--allow-leaks {})\n{details}", self.allowed_leaks)
            } else {
                String::new()
            };
            cases.push(case(format!("session {} left open", l.id), outcome, out));
        }
        for (i, r) in self.refused.iter().enumerate() {
            let size = self.table_size.map(|n| format!(" (table of {n})")).unwrap_or_default();
            cases.push(case(
                format!("login {} refused", i + 1),
                Outcome::Failure {
                    kind: "SessionLimitHit".to_string(),
                    message: format!(
                        "a login of {} was refused at {} because the session table was full{size}",
                        r.user, r.at
                    ),
                    text: String::new(),
                },
                String::new(),
            ));
        }
        if self.leaked.is_empty() {
            cases.push(case("no session left open".to_string(), Outcome::Pass, String::new()));
        }
        Suite {
            name: format!("sessionlab-hygiene {} ({})", self.device, self.url),
            properties: vec![
                ("device".to_string(), self.device.clone()),
                ("url".to_string(), self.url.clone()),
                ("allowed_leaks".to_string(), self.allowed_leaks.to_string()),
            ],
            cases,
            ..Suite::default()
        }
        .to_xml()
    }
}

/// The signal that ended a command (Unix only).
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        status.signal()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// The usual names of the signals that end client commands.
fn signal_name(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}

/// Longest command line shown for a process, in characters.
const SHOWN_CMDLINE: usize = 200;

/// `python3 (pid 4242: python3 my_test.py)`, the command line cut short if long.
fn process_words(p: &ClientProcess) -> String {
    if p.cmdline.is_empty() {
        return format!("{} (pid {})", p.name, p.pid);
    }
    // One argument holding spaces is a title the process wrote over its argv (ilorest
    // does): shown as it is, not quoted.
    let mut cmdline = match p.cmdline.as_slice() {
        [title] => title.clone(),
        words => shell_words(words),
    };
    if cmdline.chars().count() > SHOWN_CMDLINE {
        cmdline = cmdline.chars().take(SHOWN_CMDLINE).collect::<String>() + "...";
    }
    format!("{} (pid {}: {cmdline})", p.name, p.pid)
}

/// A command line as one could type it.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the hygiene check.
pub async fn run(opts: &Options) -> Result<Report, HygieneError> {
    let err = |m: String| HygieneError(m);
    // Keep the embedded device alive until the report is built.
    let mut _device: Option<EmulatedDevice> = None;
    let (control, device_name, url, user, password, table_size) = match &opts.source {
        Source::Profile { name, max_sessions, seed, tls, port, user, password } => {
            let mut profile = Profile::load(name).map_err(|e| err(e.to_string()))?;
            if let Some(n) = max_sessions {
                if *n == 0 {
                    return Err(err("--max-sessions must be 1 or more".to_string()));
                }
                profile.session.max_total = Some(*n);
            }
            hand_over(&mut profile, user.as_deref(), password.as_deref());
            let table_size = profile.session.max_total;
            let mut options = EmulatedDevice::options(profile);
            options.seed = *seed;
            options.tls = *tls;
            options.port = *port;
            // The command runs here: name the process behind each login.
            options.client_processes = true;
            let device = options
                .start()
                .await
                .map_err(|e| err(format!("cannot start the emulated device: {e}")))?;
            let control = Control::new(&device.control()).map_err(err)?;
            let (default_user, default_password) = device.credentials();
            let user = user.clone().unwrap_or(default_user);
            let password = password.clone().unwrap_or(default_password);
            let name = device.device().name().to_string();
            let url = device.url();
            _device = Some(device);
            (control, name, url, user, password, table_size)
        }
        Source::Running { target, control, device, user, password } => {
            let control = Control::new(control).map_err(err)?;
            let info = control
                .find_device(target.as_deref(), device.as_deref())
                .await
                .map_err(|e| err(e.to_string()))?;
            let profile = Profile::load(&info.profile).ok();
            let account = profile.as_ref().map(|p| p.default_account().clone());
            let user = user
                .clone()
                .or_else(|| account.as_ref().map(|a| a.user.clone()))
                .unwrap_or_default();
            let password = password
                .clone()
                .or_else(|| account.as_ref().map(|a| a.password.clone()))
                .unwrap_or_default();
            let table_size = profile.and_then(|p| p.session.max_total);
            (control, info.name, info.url, user, password, table_size)
        }
    };
    let report = |command_ok, (exit_code, signal), leaked, refused| {
        Report {
            device: device_name.clone(),
            url: url.clone(),
            table_size,
            command: opts.command.clone(),
            exit_code,
            signal,
            command_ok,
            leaked,
            refused,
            allowed_leaks: opts.allow_leaks,
            ok: false,
        }
        .finish()
    };
    let open_now = |c: Control, d: String| async move {
        c.sessions(&d).await.map(|s| s.into_iter().filter(|s| !s.one_request).collect::<Vec<_>>())
    };
    if opts.command.is_empty() {
        let leaked =
            open_now(control.clone(), device_name.clone()).await.map_err(|e| err(e.to_string()))?;
        let refused = control.refused(&device_name, None).await.map_err(|e| err(e.to_string()))?;
        return Ok(report(
            true,
            (None, None),
            leaked.into_iter().map(|s| Leak::from(s).redacted(&password)).collect(),
            refused.into_iter().map(|r| Refusal::from(r).redacted(&password)).collect(),
        ));
    }
    let before: BTreeSet<String> = open_now(control.clone(), device_name.clone())
        .await
        .map_err(|e| err(e.to_string()))?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let last_event = control.last_event(&device_name).await.map_err(|e| err(e.to_string()))?;
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url.as_str()));
    let host_port = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.to_string()),
        None => (host_port.to_string(), if scheme == "https" { "443" } else { "80" }.to_string()),
    };
    let status = tokio::process::Command::new(&opts.command[0])
        .args(&opts.command[1..])
        .env("SESSIONLAB_URL", &url)
        .env("SESSIONLAB_SCHEME", scheme)
        .env("SESSIONLAB_HOST", host)
        .env("SESSIONLAB_PORT", port)
        .env("SESSIONLAB_USER", &user)
        .env("SESSIONLAB_PASSWORD", &password)
        .env("SESSIONLAB_CONTROL_URL", control.base())
        .env("SESSIONLAB_DEVICE", &device_name)
        .status()
        .await
        .map_err(|e| err(format!("cannot run {:?}: {e}", opts.command[0])))?;
    let leaked = open_now(control.clone(), device_name.clone())
        .await
        .map_err(|e| err(e.to_string()))?
        .into_iter()
        .filter(|s| !before.contains(&s.id))
        .map(|s| Leak::from(s).redacted(&password))
        .collect();
    let refused = control
        .refused(&device_name, Some(last_event))
        .await
        .map_err(|e| err(e.to_string()))?
        .into_iter()
        .map(|r| Refusal::from(r).redacted(&password))
        .collect();
    Ok(report(status.success(), (status.code(), exit_signal(&status)), leaked, refused))
}

/// Makes the profile's device accept the account handed to the command: `--user` and
/// `--password` change that account's password, or add the account (with the role of
/// the profile's first account) when the profile has none of that name; `--password`
/// alone changes the first account's.
fn hand_over(profile: &mut Profile, user: Option<&str>, password: Option<&str>) {
    let user = user.unwrap_or(&profile.default_account().user).to_string();
    let Some(account) = profile.accounts.iter_mut().find(|a| a.user == user) else {
        let mut account = profile.default_account().clone();
        account.user = user;
        if let Some(p) = password {
            account.password = p.to_string();
        }
        account.enabled = true;
        account.password_change_required = false;
        profile.accounts.push(account);
        return;
    };
    if let Some(p) = password {
        account.password = p.to_string();
    }
}

/// The process with the password handed to the command masked in its command line
/// (`curl -u admin:***`): reports end up in CI logs.
fn redacted(mut p: ClientProcess, password: &str) -> ClientProcess {
    if !password.is_empty() {
        for arg in &mut p.cmdline {
            if arg.contains(password) {
                *arg = arg.replace(password, "***");
            }
        }
    }
    p
}
