//! Calibrate: measure a device's session behaviour and write the profile that emulates
//! it (issue 17).
//!
//! Reads what the API states (service root, firmware, the idle timeout and maximum
//! lifetime the device publishes, the exact login answer, a dead token's answer, one
//! bad-password answer) and, only with `allow_destructive`, measures what only behaviour
//! shows: the session limit and the refusal, whether HTTP Basic holds a slot, whether a
//! password change ends open sessions, the idle timeout and whether it slides. Every
//! session and account it makes is recorded in a [`Ledger`] before it is made and undone
//! at the end, also after an interrupt, as `run` does. The profile written starts from
//! the nearest embedded one; every knob measured is in `[verified]` with "measured on
//! <model> <firmware> <date>", and every knob left as it was is listed in a closing
//! summary.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use emulator::profile::{Profile, Vendor};
use emulator::session::UserChange;
use serde_json::Value;

use crate::driver::{
    Answer, Auth, Credentials, Driver, DriverError, Exchange, LoginOutcome, RawCall, SessionHandle,
    TokenState,
};
use crate::ledger::{self, Ledger, Stop};
use crate::scenario::format_secs;
use crate::target::{Target, TargetOptions, TargetSpec, TimeSource};

/// What to calibrate and where to write the result.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    /// The device (URL, vendor, credentials, control API).
    pub target: TargetOptions,
    /// Start from this embedded profile (or file) instead of the nearest one.
    pub base: Option<String>,
    /// The written profile's name (default: the base profile's, so the scenarios
    /// written for that model apply to it).
    pub name: Option<String>,
    /// Run the probes that fill the table, create an account and change the timeout.
    pub allow_destructive: bool,
    /// The longest real waiting the idle-timeout probe may do (no virtual clock).
    pub max_wait: Duration,
    /// The most logins the limit probe tries.
    pub fill_limit: usize,
    /// Capture the resource tree into this directory and name it in the profile.
    pub capture: Option<PathBuf>,
    /// The profile file to write.
    pub output: PathBuf,
    /// Overwrite `output` if it exists.
    pub force: bool,
    /// The date written in "measured on ..." (YYYY-MM-DD).
    pub date: String,
}

/// Why calibrate could not finish.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// Unusable options (exit status 2); nothing was sent to the device.
    #[error("{0}")]
    Usage(String),
    /// The device cannot be reached or answered something calibrate cannot use.
    #[error("{0}")]
    Device(String),
    /// The device refused the password (one attempt was made, so no lockout).
    #[error("{0}")]
    BadPassword(String),
    /// Interrupted; what cleanup could not undo follows.
    #[error("interrupted{}", cleanup_note(.0))]
    Interrupted(Vec<String>),
    /// The profile could not be written.
    #[error("{0}")]
    Write(String),
}

fn cleanup_note(problems: &[String]) -> String {
    if problems.is_empty() {
        "; every session and account it made was removed".to_string()
    } else {
        format!("; {}", problems.join("; "))
    }
}

/// One knob calibrate looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Knob {
    /// Its key, as `[verified]` and `[assumed]` spell it (`session.max_total`).
    pub key: String,
    /// The value found, or why it stays inherited.
    pub note: String,
}

/// One answer recorded word for word (secrets and the device's address redacted).
#[derive(Clone, Debug)]
pub struct Observed {
    /// What was asked (`login`, `dead token`, `bad password`, `table full`).
    pub what: String,
    /// The exchange.
    pub exchange: Exchange,
}

/// What calibrate found and wrote.
#[derive(Debug)]
pub struct Calibration {
    /// The profile written.
    pub profile: Profile,
    /// The embedded profile it started from.
    pub base: String,
    /// `<model> <firmware>` of the device.
    pub device: String,
    /// Knobs measured (recorded under `[verified]`).
    pub measured: Vec<Knob>,
    /// Knobs left as the base profile has them, and why.
    pub inherited: Vec<Knob>,
    /// Answers recorded.
    pub observed: Vec<Observed>,
    /// Problems that did not stop calibrate (cleanup included).
    pub warnings: Vec<String>,
}

impl Calibration {
    /// The closing summary printed after a run.
    pub fn summary(&self, output: &std::path::Path) -> String {
        let mut out = format!(
            "wrote {} (from embedded profile {}, device {})\n",
            output.display(),
            self.base,
            self.device
        );
        out.push_str(&format!("measured ({}):\n", self.measured.len()));
        for k in &self.measured {
            out.push_str(&format!("  {} = {}\n", k.key, k.note));
        }
        out.push_str(&format!("inherited from {} ({}):\n", self.base, self.inherited.len()));
        for k in &self.inherited {
            out.push_str(&format!("  {}: {}\n", k.key, k.note));
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

/// The session type a vendor's driver logs in with by default.
fn login_type(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Redfish | Vendor::Ilo | Vendor::Idrac => "redfish",
        Vendor::Bigip => "rest-token",
        Vendor::Solace => "semp",
    }
}

/// Knobs the behaviour probes set; listed as inherited when they do not run.
const DESTRUCTIVE_KNOBS: &[&str] =
    &["session limit", "session limit refusal", "basic holds slot", "password change", "idle"];

/// Calibrates the device `opts.target` names and writes `opts.output`. `say` gets
/// progress lines (and the announcement before each destructive step); `interrupt`
/// ends it early, after cleanup.
pub async fn calibrate(
    opts: &CalibrateOptions,
    say: &(dyn Fn(&str) + Sync),
    interrupt: impl Future<Output = ()>,
) -> Result<Calibration, CalibrateError> {
    if opts.output.exists() && !opts.force {
        return Err(CalibrateError::Usage(format!(
            "{} exists; give --force to overwrite it, or another -o",
            opts.output.display()
        )));
    }
    if let Some(dir) = &opts.capture {
        if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
            return Err(CalibrateError::Usage(format!(
                "--capture {}: the directory exists and is not empty",
                dir.display()
            )));
        }
    }
    let spec = TargetSpec::resolve(&opts.target)
        .await
        .map_err(|e| CalibrateError::Usage(e.to_string()))?;
    let target = spec.connect().await.map_err(|e| CalibrateError::Device(e.to_string()))?;
    let vendor = profile_vendor(&target.vendor)?;
    let ledger = Ledger::default();
    let (switch, stop) = Stop::new();
    let mut probe = Probe {
        target: &target,
        ledger: &ledger,
        vendor,
        opts,
        say,
        stop,
        found: Findings::default(),
        waited: Duration::ZERO,
    };
    // An interrupt raises the stop: the request in flight is answered and recorded (a
    // login the device accepted is never forgotten), and the probes end before their
    // next request or at once in a real wait.
    let outcome = {
        let run = probe.all();
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r,
            () = interrupt => {
                switch.raise();
                run.await
            }
        }
    };
    let outcome = match outcome {
        Err(CalibrateError::Interrupted(_)) => None,
        other => Some(other),
    };
    let found = std::mem::take(&mut probe.found);
    // Cleanup runs whatever happened: sessions, the account, the idle timeout.
    let mut problems = ledger.clean(target.driver.as_ref()).await;
    problems.extend(ledger::sweep(&target, &ledger).await);
    match outcome {
        None => return Err(CalibrateError::Interrupted(problems)),
        Some(Err(e)) => {
            if !problems.is_empty() {
                say(&format!("cleanup: {}", problems.join("; ")));
            }
            return Err(e);
        }
        Some(Ok(())) => {}
    }
    let mut calibration = write_profile(opts, &target, vendor, found, say).await?;
    calibration.warnings.extend(problems);
    Ok(calibration)
}

fn profile_vendor(name: &str) -> Result<Vendor, CalibrateError> {
    serde_json::from_value(Value::String(name.to_string()))
        .map_err(|_| CalibrateError::Usage(format!("no profile vendor named {name:?}")))
}

/// What the probes found.
#[derive(Debug, Default)]
struct Findings {
    model: Option<String>,
    firmware: Option<String>,
    redfish_version: Option<String>,
    /// Solace: the broker's platform (`VMR`, `Appliance`).
    platform: Option<String>,
    idle_stated: Option<Option<Duration>>,
    lifetime_stated: Option<Option<Duration>>,
    bad_login_status: Option<u16>,
    limit: Option<usize>,
    refusal: Option<Exchange>,
    basic_holds_slot: Option<bool>,
    password_change_ends: Option<bool>,
    idle_measured: Option<Option<u64>>,
    sliding: Option<bool>,
    observed: Vec<Observed>,
    /// Knob group -> why it was not measured.
    skipped: BTreeMap<&'static str, String>,
    /// Problems that did not stop the probes.
    warnings: Vec<String>,
    /// The manager's published maxima (`CommandShell` -> 9).
    maxima: BTreeMap<&'static str, u64>,
}

struct Probe<'a> {
    target: &'a Target,
    ledger: &'a Ledger,
    vendor: Vendor,
    opts: &'a CalibrateOptions,
    say: &'a (dyn Fn(&str) + Sync),
    stop: Stop,
    found: Findings,
    /// Real time waited so far (bounded by `max_wait`).
    waited: Duration,
}

fn device_error(what: &str, e: DriverError) -> CalibrateError {
    CalibrateError::Device(format!("{what}: {e}"))
}

impl Probe<'_> {
    fn driver(&self) -> &dyn Driver {
        self.target.driver.as_ref()
    }

    fn virtual_clock(&self) -> bool {
        matches!(self.target.time, TimeSource::Virtual(_))
    }

    async fn all(&mut self) -> Result<(), CalibrateError> {
        let root = self.driver().probe().await.map_err(|e| match e {
            DriverError::Transport(_) => {
                CalibrateError::Device(format!("cannot reach {}: {e}", self.target.label))
            }
            _ => CalibrateError::Device(format!(
                "{} does not answer as a {} device (wrong --vendor?): {e}",
                self.target.label, self.target.vendor
            )),
        })?;
        self.record("service root", root);
        // The target's own credentials, once: a wrong password stops here, after one
        // attempt, so the account is not locked out.
        let first = self.login(&self.target.credentials.clone()).await?;
        let session = match first.value {
            LoginOutcome::Accepted(s) => s,
            LoginOutcome::BadCredentials => {
                return Err(CalibrateError::BadPassword(format!(
                    "the device refused the password of {:?} ({}); calibrate tried once and \
                     stopped, so the account is not locked out",
                    self.target.credentials.user,
                    first.exchange.summary()
                )))
            }
            LoginOutcome::RefusedFull => {
                return Err(CalibrateError::Device(format!(
                    "the device's session table is full; log some sessions out and try again ({})",
                    first.exchange.summary()
                )))
            }
            LoginOutcome::Other(why) => {
                return Err(CalibrateError::Device(format!(
                    "the login was not accepted ({why}): {}",
                    first.exchange.summary()
                )))
            }
        };
        self.record("login", first.exchange);
        self.read_identity(&session).await;
        let dead = self.logout(&session).await;
        if let Err(e) = dead {
            return Err(device_error("logging out the first session", e));
        }
        match self.driver().check(&session).await {
            Ok(a) => {
                if a.value == TokenState::Valid {
                    self.found.warnings.push(
                        "the first session's token was still accepted after its logout".to_string(),
                    );
                }
                self.record("dead token", a.exchange);
            }
            Err(e) => self.note("dead token", &e.to_string()),
        }
        self.bad_password().await;
        match self.driver().idle_timeout().await {
            Ok(a) => self.found.idle_stated = Some(a.value),
            Err(e) => self.note("idle stated", &e.to_string()),
        }
        match self.driver().max_lifetime().await {
            Ok(a) => self.found.lifetime_stated = Some(a.value),
            Err(e) => self.note("max lifetime", &e.to_string()),
        }
        if !self.opts.allow_destructive {
            for k in DESTRUCTIVE_KNOBS {
                self.found
                    .skipped
                    .insert(k, "needs --allow-destructive (a behaviour probe)".to_string());
            }
            (self.say)("skipping the behaviour probes (session limit, Basic slot, password change, idle timeout): they need --allow-destructive");
            return Ok(());
        }
        self.limit().await?;
        self.password_change().await?;
        self.idle().await?;
        Ok(())
    }

    fn note(&mut self, key: &'static str, why: &str) {
        self.found.skipped.insert(key, why.to_string());
    }

    fn record(&mut self, what: &str, exchange: Exchange) {
        self.found.observed.push(Observed { what: what.to_string(), exchange });
    }

    async fn login(
        &self,
        credentials: &Credentials,
    ) -> Result<Answer<LoginOutcome>, CalibrateError> {
        if self.stop.is_raised() {
            return Err(CalibrateError::Interrupted(Vec::new()));
        }
        let intent = self.ledger.intend_login(&credentials.user);
        let result = self.driver().login(credentials, None).await;
        match &result {
            Ok(Answer { value: LoginOutcome::Accepted(h), .. }) => self.ledger.opened(intent, h),
            _ => self.ledger.settle_unless_lost(intent, &result),
        }
        result.map_err(|e| match &e {
            DriverError::Transport(_) => {
                CalibrateError::Device(format!("cannot reach {}: {e}", self.target.label))
            }
            _ => device_error("logging in", e),
        })
    }

    async fn logout(&self, session: &SessionHandle) -> Result<(), DriverError> {
        let r = self.driver().logout(session).await;
        if r.is_ok() {
            self.ledger.remove_session(session);
        }
        r.map(|_| ())
    }

    /// Model, firmware and Redfish version, read with the first session.
    async fn read_identity(&mut self, session: &SessionHandle) {
        match self.vendor {
            Vendor::Redfish | Vendor::Ilo | Vendor::Idrac => {
                let slash = if self.vendor == Vendor::Ilo { "/" } else { "" };
                if let Some(root) = self.get_json("/redfish/v1/", Auth::None).await {
                    self.found.redfish_version =
                        root.get("RedfishVersion").and_then(Value::as_str).map(str::to_string);
                    let hpe = root
                        .pointer("/Oem/Hpe/Manager/0")
                        .or_else(|| root.pointer("/Oem/Hp/Manager/0"));
                    if let Some(m) = hpe {
                        self.found.model =
                            m.get("ManagerType").and_then(Value::as_str).map(str::to_string);
                        self.found.firmware = m
                            .get("ManagerFirmwareVersion")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                    }
                }
                let managers = format!("/redfish/v1/Managers{slash}");
                let first =
                    self.get_json_owned(&managers, Auth::Session(session)).await.and_then(|c| {
                        c.pointer("/Members/0/@odata.id")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    });
                if let Some(path) = first {
                    if let Some(m) = self.get_json_owned(&path, Auth::Session(session)).await {
                        for service in ["CommandShell", "GraphicalConsole", "SerialConsole"] {
                            let max = m
                                .pointer(&format!("/{service}/MaxConcurrentSessions"))
                                .and_then(Value::as_u64);
                            if let Some(n) = max {
                                self.found.maxima.insert(service, n);
                            }
                        }
                        if self.found.model.is_none() {
                            self.found.model =
                                m.get("Model").and_then(Value::as_str).map(str::to_string);
                        }
                        if self.found.firmware.is_none() {
                            self.found.firmware = m
                                .get("FirmwareVersion")
                                .and_then(Value::as_str)
                                .map(str::to_string);
                        }
                    }
                }
            }
            Vendor::Bigip => {
                self.found.model = Some("BIG-IP".to_string());
                if let Some(v) =
                    self.get_json_owned("/mgmt/tm/sys/version", Auth::Session(session)).await
                {
                    self.found.firmware = find_string(&v, "Version");
                }
            }
            Vendor::Solace => {
                if let Some(v) =
                    self.get_json_owned("/SEMP/v2/monitor/about/api", Auth::Session(session)).await
                {
                    self.found.platform =
                        v.pointer("/data/platform").and_then(Value::as_str).map(str::to_string);
                    self.found.model = Some(format!(
                        "PubSub+ {}",
                        self.found.platform.clone().unwrap_or_default()
                    ));
                    self.found.firmware =
                        v.pointer("/data/sempVersion").and_then(Value::as_str).map(str::to_string);
                }
            }
        }
    }

    async fn get_json(&self, path: &'static str, auth: Auth<'_>) -> Option<Value> {
        self.get_json_owned(path, auth).await
    }

    async fn get_json_owned(&self, path: &str, auth: Auth<'_>) -> Option<Value> {
        let call = RawCall {
            method: "GET".to_string(),
            path: path.to_string(),
            auth,
            headers: Vec::new(),
            body: None,
        };
        let reply = self.driver().raw(call).await.ok()?;
        (200..300).contains(&reply.status).then_some(reply.json).flatten()
    }

    /// One login with a wrong password: its answer, once (devices lock accounts out).
    async fn bad_password(&mut self) {
        let user = self.target.credentials.user.clone();
        let wrong =
            Credentials::new(user, format!("{}-not-this", self.target.credentials.password));
        (self.say)("one login with a wrong password, to record the answer (one attempt only)");
        match self.login(&wrong).await {
            Ok(a) => {
                match &a.value {
                    LoginOutcome::BadCredentials => {
                        self.found.bad_login_status = a.exchange.status;
                    }
                    LoginOutcome::Accepted(s) => {
                        let s = s.clone();
                        let _ = self.logout(&s).await;
                        self.note("bad password", "the device accepted a wrong password");
                    }
                    other => self.note("bad password", &format!("{other:?}")),
                }
                self.record("bad password", a.exchange);
            }
            Err(e) => self.note("bad password", &e.to_string()),
        }
    }

    /// Fills the table, records the refusal, asks once with Basic, logs everything out.
    async fn limit(&mut self) -> Result<(), CalibrateError> {
        let cap = self.opts.fill_limit.max(1);
        (self.say)(&format!(
            "about to fill the session table: logging in as {:?} until the device refuses (at most {cap} logins), then logging every one of those sessions out",
            self.target.credentials.user
        ));
        let credentials = self.target.credentials.clone();
        let mut opened: Vec<SessionHandle> = Vec::new();
        let mut refusal = None;
        for _ in 0..cap {
            let a = self.login(&credentials).await?;
            match a.value {
                LoginOutcome::Accepted(h) => opened.push(h),
                LoginOutcome::BadCredentials => {
                    return Err(CalibrateError::Device(format!(
                        "a login while filling the table was refused for its credentials: {}",
                        a.exchange.summary()
                    )))
                }
                LoginOutcome::RefusedFull | LoginOutcome::Other(_) => {
                    refusal = Some(a.exchange);
                    break;
                }
            }
        }
        let result = match refusal {
            None => {
                self.note(
                    "session limit",
                    &format!("all {cap} logins were accepted (raise --fill-limit)"),
                );
                self.note("session limit refusal", "no refusal seen");
                self.note("basic holds slot", "the table could not be filled");
                Ok(())
            }
            Some(refused) => {
                // Sessions someone else holds take slots too.
                let others = match opened.first() {
                    Some(s) => match self.driver().count(None, Auth::Session(s)).await {
                        Ok(a) => a.value.saturating_sub(opened.len()),
                        Err(_) => 0,
                    },
                    None => 0,
                };
                if others > 0 {
                    (self.say)(&format!(
                        "{others} session(s) of other clients were open: counted in the limit"
                    ));
                }
                self.found.limit = Some(opened.len() + others);
                self.found.refusal = Some(refused.clone());
                self.record("table full", refused.clone());
                self.basic_while_full(&refused).await;
                Ok(())
            }
        };
        (self.say)(&format!("logging out the {} session(s) it opened", opened.len()));
        for s in &opened {
            let _ = self.logout(s).await;
        }
        result
    }

    async fn basic_while_full(&mut self, refused: &Exchange) {
        let path = match self.vendor {
            Vendor::Ilo => "/redfish/v1/SessionService/",
            Vendor::Redfish | Vendor::Idrac => "/redfish/v1/SessionService",
            _ => {
                self.note("basic holds slot", "not probed for this vendor");
                return;
            }
        };
        (self.say)("about to send one HTTP Basic request while the table is full");
        let call = RawCall {
            method: "GET".to_string(),
            path: path.to_string(),
            auth: Auth::Admin,
            headers: Vec::new(),
            body: None,
        };
        match self.driver().raw(call).await {
            Ok(r) if (200..300).contains(&r.status) => self.found.basic_holds_slot = Some(false),
            Ok(r) if Some(r.status) == refused.status => {
                self.found.basic_holds_slot = Some(true);
            }
            Ok(r) => {
                self.note("basic holds slot", &format!("inconclusive: {}", r.exchange.summary()))
            }
            Err(e) => self.note("basic holds slot", &e.to_string()),
        }
    }

    /// On an account it creates and deletes: does a password change end its session?
    async fn password_change(&mut self) -> Result<(), CalibrateError> {
        if let Err(why) = self.driver().supports(crate::driver::Capability::Users) {
            self.note("password change", &why);
            return Ok(());
        }
        let user = format!("slcal{}", std::process::id() % 10_000);
        let first = "Calib-1-sessionlab!";
        let second = "Calib-2-sessionlab!";
        (self.say)(&format!(
            "about to create account {user:?} (ReadOnly), log it in, change its password, then log it out and delete it"
        ));
        self.ledger.intend_user(&user);
        match self.driver().create_user(&user, first, "ReadOnly").await {
            Ok(_) => self.ledger.user_created(&user),
            Err(e) => {
                self.ledger.remove_user(&user);
                self.note("password change", &format!("could not create an account: {e}"));
                return Ok(());
            }
        }
        let a = self.login(&Credentials::new(user.clone(), first)).await?;
        let LoginOutcome::Accepted(s) = a.value else {
            self.note(
                "password change",
                &format!("the new account could not log in: {}", a.exchange.summary()),
            );
            return Ok(());
        };
        match self.driver().change_password(&user, second).await {
            Ok(_) => match self.driver().check(&s).await {
                Ok(c) => match c.value {
                    TokenState::Valid => self.found.password_change_ends = Some(false),
                    TokenState::Invalid => self.found.password_change_ends = Some(true),
                    TokenState::Other(why) => {
                        self.note("password change", &format!("inconclusive: {why}"))
                    }
                },
                Err(e) => self.note("password change", &e.to_string()),
            },
            Err(e) => self.note("password change", &format!("could not change it: {e}")),
        }
        let _ = self.logout(&s).await;
        Ok(())
    }

    /// Lets `d` pass: the virtual clock moves, or real time is waited (within
    /// `max_wait` overall).
    async fn pass(&mut self, d: Duration) -> Result<(), CalibrateError> {
        if self.stop.is_raised() {
            return Err(CalibrateError::Interrupted(Vec::new()));
        }
        match &self.target.time {
            TimeSource::Virtual(c) => c
                .advance(d)
                .await
                .map_err(|e| CalibrateError::Device(format!("advancing the virtual clock: {e}"))),
            TimeSource::Real => {
                self.waited += d;
                if d >= Duration::from_secs(5) {
                    (self.say)(&format!("waiting {} (real time)", format_secs(d.as_secs())));
                }
                tokio::select! {
                    () = tokio::time::sleep(d) => Ok(()),
                    () = self.stop.raised() => Err(CalibrateError::Interrupted(Vec::new())),
                }
            }
        }
    }

    /// A fresh session still accepted after `d` of idleness?
    async fn alive_after(&mut self, d: Duration) -> Result<Option<bool>, CalibrateError> {
        let a = self.login(&self.target.credentials.clone()).await?;
        let LoginOutcome::Accepted(s) = a.value else { return Ok(None) };
        self.pass(d).await?;
        let alive = match self.driver().check(&s).await {
            Ok(c) => match c.value {
                TokenState::Valid => Some(true),
                TokenState::Invalid => Some(false),
                TokenState::Other(_) => None,
            },
            Err(_) => None,
        };
        let _ = self.logout(&s).await;
        Ok(alive)
    }

    /// The idle timeout and whether use extends it.
    async fn idle(&mut self) -> Result<(), CalibrateError> {
        let stated = self.found.idle_stated.flatten();
        let hint = stated.map(|d| d.as_secs()).unwrap_or(0);
        if self.virtual_clock() {
            // Time costs nothing: find the timeout to the second, whatever the API says.
            (self.say)(
                "about to move the emulator's virtual clock (through its control API) to find the idle timeout",
            );
            let upper = 86_400 * 2;
            let start = if hint > 0 { hint } else { 1_800 };
            let Some(expired_at_start) = self.alive_after(secs(start + 1)).await?.map(|a| !a)
            else {
                self.note("idle", "a token check gave no clear answer");
                return Ok(());
            };
            let (mut lo, mut hi) =
                if expired_at_start { (0, start + 1) } else { (start + 1, upper) };
            if !expired_at_start && self.alive_after(secs(upper)).await? != Some(false) {
                self.found.idle_measured = Some(None);
                return Ok(());
            }
            // alive after lo, dead after hi.
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                match self.alive_after(secs(mid)).await? {
                    Some(true) => lo = mid,
                    Some(false) => hi = mid,
                    None => {
                        self.note("idle", "a token check gave no clear answer");
                        return Ok(());
                    }
                }
            }
            // Alive after `lo` seconds, dead after `hi`: the timeout is `lo` (a session
            // idle exactly its timeout is still valid in the engine; one second more ends it).
            let timeout = hi;
            self.found.idle_measured = Some(Some(timeout));
            self.sliding(secs(timeout)).await?;
            return Ok(());
        }
        // Real time: test the stated value, shortened first if that takes too long.
        let Some(stated) = stated else {
            self.note(
                "idle",
                "the API states no idle timeout, and finding one takes a virtual clock",
            );
            return Ok(());
        };
        let mut t = stated;
        let mut shortened = false;
        if t + margin(t) > self.opts.max_wait.saturating_sub(self.waited) {
            let shortest = self.driver().min_idle_timeout();
            let can = self.driver().supports(crate::driver::Capability::IdleTimeout).is_ok();
            match shortest.filter(|m| can && *m + margin(*m) <= self.opts.max_wait) {
                Some(m) => {
                    (self.say)(&format!(
                        "about to shorten the idle timeout from {} to {} (restored afterwards)",
                        format_secs(t.as_secs()),
                        format_secs(m.as_secs())
                    ));
                    self.ledger.note_idle_timeout(stated);
                    if let Err(e) = self.driver().set_idle_timeout(m).await {
                        self.note("idle", &format!("could not shorten it: {e}"));
                        return Ok(());
                    }
                    t = m;
                    shortened = true;
                }
                None => {
                    self.note(
                        "idle",
                        &format!(
                            "checking it takes {} of waiting; raise --max-wait",
                            format_secs((t + margin(t)).as_secs())
                        ),
                    );
                    return Ok(());
                }
            }
        }
        // One wait of t + m for both answers: A is used at t - m (it must be alive: the
        // timeout is not shorter), B never (it must be dead at t + m: not longer); A
        // alive at t + m means use renewed it.
        let m = margin(t);
        let credentials = self.target.credentials.clone();
        let (a, b) = (self.login(&credentials).await?, self.login(&credentials).await?);
        let (LoginOutcome::Accepted(a), LoginOutcome::Accepted(b)) = (a.value, b.value) else {
            self.note("idle", "two sessions could not be opened");
            let _ = self.ledger.clean(self.driver()).await;
            return Ok(());
        };
        self.pass(t.saturating_sub(m)).await?;
        let early = self.driver().check(&a).await.map(|c| c.value);
        self.pass(m * 2).await?;
        let late = self.driver().check(&b).await.map(|c| c.value);
        let renewed = self.driver().check(&a).await.map(|c| c.value);
        if matches!((&early, &late), (Ok(TokenState::Valid), Ok(TokenState::Invalid))) {
            if shortened {
                // Enforced as stated at the shortened value; the original is as stated.
                (self.say)(&format!(
                    "the device ended an idle session after {} as set",
                    format_secs(t.as_secs())
                ));
            } else {
                self.found.idle_measured = Some(Some(stated.as_secs()));
            }
            match renewed {
                Ok(TokenState::Valid) => self.found.sliding = Some(true),
                Ok(TokenState::Invalid) => self.found.sliding = Some(false),
                other => self.note("sliding", &format!("inconclusive: {other:?}")),
            }
        } else {
            self.note(
                "idle",
                &format!(
                    "the device did not end a session between {} and {} of idleness as its API states ({early:?}, {late:?})",
                    format_secs(t.saturating_sub(m).as_secs()),
                    format_secs((t + m).as_secs())
                ),
            );
            self.note("sliding", "the idle probe was inconclusive");
        }
        for s in [&a, &b] {
            let _ = self.logout(s).await;
        }
        if shortened {
            // Restore now rather than at the end, so the device spends little time shortened.
            (self.say)(&format!("restoring the idle timeout to {}", format_secs(stated.as_secs())));
            let problems = self.ledger.clean(self.driver()).await;
            if !problems.is_empty() {
                self.found.warnings.extend(problems);
            }
        }
        Ok(())
    }

    /// Whether a session used just before its timeout lives on past it.
    async fn sliding(&mut self, t: Duration) -> Result<(), CalibrateError> {
        let m = margin(t);
        let a = self.login(&self.target.credentials.clone()).await?;
        let LoginOutcome::Accepted(s) = a.value else {
            self.note("sliding", "a login was not accepted");
            return Ok(());
        };
        self.pass(t.saturating_sub(m)).await?;
        let touched = self.driver().check(&s).await.map(|c| c.value);
        self.pass(m * 2).await?;
        let after = self.driver().check(&s).await.map(|c| c.value);
        match (touched, after) {
            (Ok(TokenState::Valid), Ok(TokenState::Valid)) => self.found.sliding = Some(true),
            (Ok(TokenState::Valid), Ok(TokenState::Invalid)) => self.found.sliding = Some(false),
            other => self.note("sliding", &format!("inconclusive: {other:?}")),
        }
        let _ = self.logout(&s).await;
        Ok(())
    }
}

/// Today's date in UTC (`2026-11-30`), for "measured on ...".
pub fn today() -> String {
    crate::stopwatch::wall_now().chars().take(10).collect()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// How far either side of a timeout the probes look: a tenth, 1 s to 5 s.
fn margin(t: Duration) -> Duration {
    (t / 10).clamp(Duration::from_secs(1), Duration::from_secs(5))
}

fn find_string(v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k == key {
                v.as_str().map(str::to_string).or_else(|| find_string(v, "description"))
            } else {
                find_string(v, key)
            }
        }),
        Value::Array(items) => items.iter().find_map(|v| find_string(v, key)),
        _ => None,
    }
}

/// The embedded profile nearest to what the device says it is.
pub fn nearest_base(
    vendor: Vendor,
    model: Option<&str>,
    firmware: Option<&str>,
    platform: Option<&str>,
) -> &'static str {
    let model = model.unwrap_or("").to_ascii_lowercase();
    let firmware = firmware.unwrap_or("");
    let major: u32 = firmware.split('.').next().and_then(|m| m.trim().parse().ok()).unwrap_or(0);
    match vendor {
        Vendor::Redfish => "redfish",
        Vendor::Ilo => {
            if model.contains("ilo 4") {
                "ilo4"
            } else if model.contains("ilo 6") {
                "ilo6"
            } else {
                "ilo5"
            }
        }
        Vendor::Idrac => {
            if model.contains("idrac10") || major == 1 {
                "idrac10"
            } else if major == 2 || model.contains("13g") {
                "idrac8"
            } else {
                "idrac9"
            }
        }
        Vendor::Bigip => {
            if firmware.starts_with("17.1.2") {
                "bigip17-1-2"
            } else if major > 0 && major < 17 {
                "bigip15"
            } else {
                "bigip17"
            }
        }
        Vendor::Solace => match platform.unwrap_or("").to_ascii_lowercase() {
            p if p.contains("appliance") => "solace-appliance",
            _ => "solace-software-100",
        },
    }
}

/// Puts `value` under `[verified]` for `key` (dropping any `[assumed]` entry of it).
fn verify(profile: &mut Profile, key: &str, note: &str, measured: &mut Vec<Knob>, value: String) {
    profile.assumed.remove(key);
    profile.verified.insert(key.to_string(), note.to_string());
    measured.push(Knob { key: key.to_string(), note: value });
}

/// The device's address (host and port) replaced, for anything written.
fn redact_address(text: &str, url: &str) -> String {
    let host = url.split("://").nth(1).unwrap_or(url).trim_end_matches('/');
    let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let mut out = text.replace(host, "<device>");
    if !bare.is_empty() {
        out = out.replace(bare, "<device>");
    }
    out
}

async fn write_profile(
    opts: &CalibrateOptions,
    target: &Target,
    vendor: Vendor,
    found: Findings,
    say: &(dyn Fn(&str) + Sync),
) -> Result<Calibration, CalibrateError> {
    let base_name = match &opts.base {
        Some(b) => b.clone(),
        None => match nearest_base(
            vendor,
            found.model.as_deref(),
            found.firmware.as_deref(),
            found.platform.as_deref(),
        ) {
            // The software scales differ only in their table (50 and 150 slots).
            "solace-software-100" if found.limit.is_some_and(|n| n >= 100) => {
                "solace-software-1000".to_string()
            }
            other => other.to_string(),
        },
    };
    let mut profile =
        Profile::load(&base_name).map_err(|e| CalibrateError::Usage(format!("--base: {e}")))?;
    if profile.vendor != vendor {
        return Err(CalibrateError::Usage(format!(
            "--base {base_name} is a {} profile; the device is {}",
            profile.vendor.as_str(),
            vendor.as_str()
        )));
    }
    let base = profile.name.clone();
    let model = found.model.clone().unwrap_or_else(|| format!("{} device", vendor.as_str()));
    let firmware = found.firmware.clone().unwrap_or_else(|| "(firmware not stated)".to_string());
    let device = redact_address(&format!("{model} {firmware}"), &target.url);
    let note = format!("measured on {device} {}", opts.date);
    let stated_note = format!("stated by the API on {device} {}", opts.date);
    let mut measured = Vec::new();
    let mut inherited = Vec::new();
    let lt = login_type(vendor);
    let mut skipped = found.skipped.clone();
    let why = |skipped: &BTreeMap<&'static str, String>, k: &str| {
        skipped.get(k).cloned().unwrap_or_else(|| "not measured".to_string())
    };

    // The session limit of the logins' table.
    let limit_key = if let Some(pool) =
        profile.session.pools.iter().find(|p| p.types.iter().any(|t| t == lt))
    {
        format!("session.pools.{}", pool.name)
    } else if profile.session.max_per_user.is_some()
        && profile.session.counts_per_user(lt)
        && profile.session.max_total.is_none()
        && !profile.session.per_user_exempt.contains(&target.credentials.user)
    {
        "session.max_per_user".to_string()
    } else {
        "session.max_total".to_string()
    };
    match found.limit {
        Some(n) => {
            if let Some(pool) =
                profile.session.pools.iter_mut().find(|p| p.types.iter().any(|t| t == lt))
            {
                pool.limit = n;
            } else if limit_key == "session.max_per_user" {
                profile.session.max_per_user = Some(n);
            } else {
                profile.session.max_total = Some(n);
            }
            verify(&mut profile, &limit_key, &note, &mut measured, n.to_string());
        }
        None => {
            let per_user = &profile.session;
            let exempt = per_user.max_per_user.is_some()
                && per_user.counts_per_user(lt)
                && per_user.per_user_exempt.contains(&target.credentials.user);
            let (key, note) = if exempt && found.limit.is_none() {
                (
                    "session.max_per_user".to_string(),
                    format!(
                        "{}; {:?} is exempt from the per-user limit in {base_name}: calibrate as \
                         another user to measure it",
                        why(&skipped, "session limit"),
                        target.credentials.user
                    ),
                )
            } else {
                (limit_key, why(&skipped, "session limit"))
            };
            inherited.push(Knob { key, note })
        }
    }
    // The refusal's status, where the personality makes it a knob.
    let status_key = match vendor {
        Vendor::Redfish | Vendor::Ilo => Some("redfish.session_limit_status"),
        Vendor::Solace => Some("solace.session_limit"),
        _ => None,
    };
    if let Some(key) = status_key {
        match found.refusal.as_ref().and_then(|r| r.status) {
            Some(status) => {
                match vendor {
                    Vendor::Solace => {
                        if let Some(s) = profile.solace.as_mut() {
                            s.session_limit.http_status = status;
                        }
                    }
                    _ => {
                        if let Some(r) = profile.redfish.as_mut() {
                            r.session_limit_status = status;
                        }
                    }
                }
                verify(&mut profile, key, &note, &mut measured, format!("status {status}"));
            }
            None => inherited
                .push(Knob { key: key.to_string(), note: why(&skipped, "session limit refusal") }),
        }
    }
    match found.basic_holds_slot {
        Some(b) => {
            profile.session.one_request_sessions_count = b;
            verify(
                &mut profile,
                "session.one_request_sessions_count",
                &note,
                &mut measured,
                b.to_string(),
            );
        }
        None => inherited.push(Knob {
            key: "session.one_request_sessions_count".to_string(),
            note: why(&skipped, "basic holds slot"),
        }),
    }
    match found.password_change_ends {
        Some(ends) => {
            profile.session.on_password_change =
                if ends { UserChange::EndUserSessions } else { UserChange::Keep };
            let v = if ends { "end-user-sessions" } else { "keep" };
            verify(&mut profile, "session.on_password_change", &note, &mut measured, v.to_string());
        }
        None => inherited.push(Knob {
            key: "session.on_password_change".to_string(),
            note: why(&skipped, "password change"),
        }),
    }
    // The idle timeout: measured by behaviour, else as the API states it.
    let by_type = profile.session.idle_timeout_by_type.contains_key(lt);
    let idle_key = if by_type {
        format!("session.idle_timeout_by_type.{lt}")
    } else {
        "session.idle_timeout_secs".to_string()
    };
    let (idle, idle_note) = match (found.idle_measured, found.idle_stated) {
        (Some(v), _) => (Some(v.unwrap_or(0)), note.clone()),
        (None, Some(stated)) => (Some(stated.map_or(0, |d| d.as_secs())), stated_note.clone()),
        (None, None) => (None, String::new()),
    };
    match idle {
        Some(secs) => {
            if by_type {
                profile.session.idle_timeout_by_type.insert(lt.to_string(), secs);
            } else {
                profile.session.idle_timeout_secs = secs;
            }
            verify(&mut profile, &idle_key, &idle_note, &mut measured, format!("{secs} s"));
        }
        None => inherited.push(Knob { key: idle_key, note: why(&skipped, "idle") }),
    }
    let sliding_key = if profile.session.sliding_by_type.contains_key(lt) {
        format!("session.sliding_by_type.{lt}")
    } else {
        "session.sliding".to_string()
    };
    match found.sliding {
        Some(b) => {
            if profile.session.sliding_by_type.contains_key(lt) {
                profile.session.sliding_by_type.insert(lt.to_string(), b);
            } else {
                profile.session.sliding = b;
            }
            verify(&mut profile, &sliding_key, &note, &mut measured, b.to_string());
        }
        None => {
            let why = skipped.remove("sliding").unwrap_or_else(|| why(&skipped, "idle"));
            inherited.push(Knob { key: sliding_key, note: why })
        }
    }
    match found.lifetime_stated {
        Some(Some(d)) => {
            profile.session.max_lifetime_secs = d.as_secs();
            let v = format!("{} s", d.as_secs());
            verify(&mut profile, "session.max_lifetime_secs", &stated_note, &mut measured, v);
        }
        _ => inherited.push(Knob {
            key: "session.max_lifetime_secs".to_string(),
            note: "the API states no maximum lifetime; not measured (it takes days)".to_string(),
        }),
    }
    if vendor == Vendor::Ilo {
        match found.bad_login_status {
            Some(s) => {
                if let Some(i) = profile.ilo.as_mut() {
                    i.bad_login_status = s;
                }
                verify(&mut profile, "ilo.bad_login_status", &note, &mut measured, s.to_string());
            }
            None => inherited.push(Knob {
                key: "ilo.bad_login_status".to_string(),
                note: why(&skipped, "bad password"),
            }),
        }
        let knobs = [
            ("CommandShell", "ilo.command_shell_max_sessions"),
            ("GraphicalConsole", "ilo.graphical_console_max_sessions"),
            ("SerialConsole", "ilo.serial_console_max_sessions"),
        ];
        for (service, key) in knobs {
            match (found.maxima.get(service), profile.ilo.as_mut()) {
                (Some(&n), Some(i)) => {
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    match service {
                        "CommandShell" => i.command_shell_max_sessions = n,
                        "GraphicalConsole" => i.graphical_console_max_sessions = n,
                        _ => i.serial_console_max_sessions = n,
                    }
                    verify(&mut profile, key, &stated_note, &mut measured, n.to_string());
                }
                _ => inherited.push(Knob {
                    key: key.to_string(),
                    note: "the manager publishes no maximum".to_string(),
                }),
            }
        }
        if let (Some(fw), Some(i)) = (&found.firmware, profile.ilo.as_mut()) {
            i.firmware_version = fw.clone();
            let v = fw.clone();
            verify(&mut profile, "ilo.firmware_version", &stated_note, &mut measured, v);
        }
    }
    if let (Some(v), Some(r)) = (&found.redfish_version, profile.redfish.as_mut()) {
        r.redfish_version = v.clone();
        let shown = v.clone();
        verify(&mut profile, "redfish.redfish_version", &stated_note, &mut measured, shown);
    }
    for key in profile.assumed.keys() {
        if !measured.iter().any(|k| &k.key == key) && !inherited.iter().any(|k| &k.key == key) {
            inherited.push(Knob {
                key: key.clone(),
                note: "assumed in the base profile; calibrate has no probe for it".to_string(),
            });
        }
    }
    if let Some(dir) = &opts.capture {
        if profile.tree.is_some() {
            say(&format!("capturing the resource tree into {}", dir.display()));
            capture(opts, target, dir).await?;
            if let Some(tree) = profile.tree.as_mut() {
                tree.mockup = Some(dir.clone());
            }
            measured.push(Knob { key: "tree.mockup".to_string(), note: dir.display().to_string() });
        } else {
            inherited.push(Knob {
                key: "tree".to_string(),
                note: "--capture: this personality has no Redfish resource tree".to_string(),
            });
        }
    }
    if let Some(name) = &opts.name {
        profile.name = name.clone();
    }
    profile.description = format!("{device}, calibrated {} from {base}", opts.date);
    let text = render(
        &profile,
        &base,
        &device,
        opts,
        &measured,
        &inherited,
        &found.observed,
        &target.url,
    )?;
    // The profile must load as it is written.
    Profile::from_toml(&text, &opts.output.display().to_string())
        .map_err(|e| CalibrateError::Write(format!("the profile written does not load: {e}")))?;
    std::fs::write(&opts.output, &text).map_err(|e| {
        CalibrateError::Write(format!("cannot write {}: {e}", opts.output.display()))
    })?;
    Ok(Calibration {
        profile,
        base,
        device,
        measured,
        inherited,
        observed: found.observed,
        warnings: found.warnings,
    })
}

async fn capture(
    opts: &CalibrateOptions,
    target: &Target,
    dir: &std::path::Path,
) -> Result<(), CalibrateError> {
    use emulator::resources::capture::{self, CaptureOptions};
    let options = CaptureOptions {
        url: target.url.clone(),
        user: target.credentials.user.clone(),
        password: target.credentials.password.clone(),
        out: dir.to_path_buf(),
        insecure: opts.target.insecure,
        max_resources: 20_000,
        timeout: Duration::from_secs(30),
        headers: true,
    };
    capture::capture(&options, |_| {}, std::future::pending())
        .await
        .map(|_| ())
        .map_err(|e| CalibrateError::Device(format!("capture: {e}")))
}

#[allow(clippy::too_many_arguments)]
fn render(
    profile: &Profile,
    base: &str,
    device: &str,
    opts: &CalibrateOptions,
    measured: &[Knob],
    inherited: &[Knob],
    observed: &[Observed],
    url: &str,
) -> Result<String, CalibrateError> {
    let body = profile_toml(profile)?;
    let mut out = format!(
        "# Calibrated by `sessionlab-conformance calibrate` on {} from {device}.\n\
         # A full copy of the embedded profile {base} (profiles have no inheritance), with\n\
         # every measured knob under [verified]; the summary at the end lists the rest.\n\
         # Serve it with: sessionlab-emulator --profile {}\n\n",
        opts.date,
        opts.output.display()
    );
    let mut summary = String::from("\n# ---- calibration summary ----\n");
    summary.push_str(&format!("# measured ({}):\n", measured.len()));
    for k in measured {
        summary.push_str(&format!("#   {} = {}\n", k.key, one_line(&k.note)));
    }
    summary.push_str(&format!("# inherited from {base} ({}):\n", inherited.len()));
    for k in inherited {
        summary.push_str(&format!("#   {}: {}\n", k.key, one_line(&k.note)));
    }
    summary.push_str("# answers recorded (tokens, cookies and the device's address redacted):\n");
    for o in observed {
        let shown = redact_identifiers(&one_line(&o.exchange.summary()));
        summary.push_str(&format!("#   {}: {shown}\n", o.what));
        for (name, value) in &o.exchange.headers {
            summary.push_str(&format!("#     {name}: {}\n", one_line(value)));
        }
    }
    // Only the comments carry what the device said; the body is the base profile's.
    out = redact_address(&out, url);
    out.push_str(&body);
    out.push_str(&redact_address(&summary, url));
    Ok(out)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A profile as TOML that [`Profile::from_toml`] loads back. Accounts are the base
/// profile's emulator accounts (never the device's): their passwords are the fixture's,
/// which `Account` does not serialize on its own.
pub fn profile_toml(profile: &Profile) -> Result<String, CalibrateError> {
    let cannot = |e: &dyn std::fmt::Display| {
        CalibrateError::Write(format!("cannot render the profile: {e}"))
    };
    let mut value = toml::Value::try_from(profile).map_err(|e| cannot(&e))?;
    if let Some(toml::Value::Array(accounts)) = value.get_mut("accounts") {
        for (table, account) in accounts.iter_mut().zip(&profile.accounts) {
            if let toml::Value::Table(t) = table {
                t.remove("version");
                t.insert("password".to_string(), toml::Value::String(account.password.clone()));
            }
        }
    }
    // Likewise the emulator's demo OAuth tokens of a Solace profile.
    let tokens = profile.solace.as_ref().map(|s| s.bearer_tokens.as_slice()).unwrap_or_default();
    if let Some(toml::Value::Array(list)) =
        value.get_mut("solace").and_then(|s| s.get_mut("bearer_tokens"))
    {
        for (table, bearer) in list.iter_mut().zip(tokens) {
            if let toml::Value::Table(t) = table {
                t.insert("token".to_string(), toml::Value::String(bearer.token.clone()));
            }
        }
    }
    toml::to_string(&value).map_err(|e| cannot(&e))
}

/// Values of JSON keys that may name the device (serial numbers, UUIDs, host names,
/// addresses) in a recorded body excerpt, replaced.
fn redact_identifiers(text: &str) -> String {
    const WORDS: &[&str] =
        &["serial", "uuid", "hostname", "fqdn", "address", "mac", "ipv4", "ipv6", "sku"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let Some(len) = closing_quote(&from[1..]) else {
            out.push_str(from);
            return out;
        };
        let key = &from[1..=len];
        let after_key = &from[len + 2..];
        out.push_str(&from[..len + 2]);
        let lower = key.to_ascii_lowercase();
        let secret = WORDS.iter().any(|w| lower.contains(w));
        match after_key.strip_prefix(":\"").or_else(|| after_key.strip_prefix(": \"")) {
            Some(value) if secret => {
                let end = closing_quote(value).unwrap_or(value.len());
                out.push_str(":\"[redacted]\"");
                rest = value.get(end + 1..).unwrap_or("");
            }
            _ => rest = after_key,
        }
    }
    out.push_str(rest);
    out
}

/// Where the string starting at `s` ends (its closing quote), skipping `\\"` escapes.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_in_bodies_are_redacted() {
        let body = r#"{"@odata.etag":"W/\"AB\"","SerialNumber":"CZ123","UUID": "1-2","Name":"x"}"#;
        let shown = redact_identifiers(body);
        assert!(!shown.contains("CZ123") && !shown.contains("1-2"), "{shown}");
        assert!(shown.contains(r#""Name":"x""#) && shown.contains(r#"W/\"AB\""#), "{shown}");
    }

    #[test]
    fn addresses_are_redacted() {
        let text = "Location: https://10.0.0.5:443/redfish/v1/ and 10.0.0.5";
        let shown = redact_address(text, "https://10.0.0.5:443");
        assert!(!shown.contains("10.0.0.5"), "{shown}");
    }

    #[test]
    fn nearest_profiles() {
        assert_eq!(nearest_base(Vendor::Ilo, Some("iLO 6"), Some("1.50"), None), "ilo6");
        assert_eq!(nearest_base(Vendor::Bigip, None, Some("17.1.2"), None), "bigip17-1-2");
        assert_eq!(nearest_base(Vendor::Bigip, None, Some("15.1.0"), None), "bigip15");
        assert_eq!(nearest_base(Vendor::Idrac, None, Some("7.00.00.00"), None), "idrac9");
    }
}
