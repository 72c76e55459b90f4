//! Scenario files: documented session behaviour written as abstract steps that any
//! driver can run against any device of the vendors or profiles the scenario names.
//!
//! A scenario is one TOML file. Unknown fields are rejected, and every error names the
//! file, line and column, so `sessionlab-conformance check` points at the typo:
//!
//! ```toml
//! name = "logout-ends-session"
//! description = "After logout the token is rejected"
//! source = "redfish.md, Sessions: Logout [Session termination or logout]"
//! vendors = ["redfish"]
//! steps = [
//!   { login = "a" },
//!   { logout = "a" },
//!   { expect_invalid = "a" },
//! ]
//! ```
//!
//! Each step is a table with exactly one *action* key, whose value is the action's main
//! argument (usually a session name), plus the options that action takes. The actions
//! and their options are listed in [`Action`] and in `conformance/README-section.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// `vendors = ["any"]`: every vendor whose driver can do the scenario's steps.
pub const ANY_VENDOR: &str = "any";

/// One scenario, parsed and validated.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Unique name, used in reports and test names.
    pub name: String,
    /// What the scenario shows, in one or two sentences.
    pub description: String,
    /// The evidence it encodes: the public reference (document and section, or URL).
    pub source: String,
    /// Vendors (driver protocols) it applies to.
    pub vendors: Vec<String>,
    /// Profiles it applies to.
    pub profiles: Vec<String>,
    /// It fills the session table or restarts the device: never run against a real
    /// device without `--allow-destructive`.
    pub destructive: bool,
    /// A known divergence: the scenario is expected to fail, and why.
    pub expected_fail: Option<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The file it came from.
    pub path: PathBuf,
    /// Its folder under the scenario root (`common`, `redfish`), for grouping in reports.
    pub group: String,
}

/// One step and where it is written.
#[derive(Clone, Debug)]
pub struct Step {
    /// 1-based line of the step in its file.
    pub line: usize,
    /// The step as written, on one line, for reports.
    pub text: String,
    /// What it does.
    pub action: Action,
}

/// What a login is expected to get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginExpect {
    /// A session (the default).
    Accepted,
    /// Refused because the session table is full.
    RefusedFull,
    /// Refused because of the credentials. Each one is a failed login on a real device,
    /// which may lock the account or the address out: use sparingly.
    BadCredentials,
}

/// Whose credentials a request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestAuth {
    /// None.
    None,
    /// HTTP Basic with the target's user and password.
    Basic,
    /// The token of this named session.
    Session(String),
}

/// A raw HTTP request for vendor-specific checks.
#[derive(Clone, Debug)]
pub struct RawRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path (or absolute URL), with `${...}` placeholders.
    pub path: String,
    /// Credentials sent with it.
    pub auth: RequestAuth,
    /// Extra request headers (values may hold placeholders).
    pub headers: BTreeMap<String, String>,
    /// JSON body (string leaves may hold placeholders).
    pub body: Option<serde_json::Value>,
    /// Expected status.
    pub expect_status: Option<u16>,
    /// Expected response headers (names case-insensitive).
    pub expect_headers: BTreeMap<String, Matcher>,
    /// Expected values at JSON pointers of the response body.
    pub expect_json: BTreeMap<String, Matcher>,
    /// Name for the session this request creates, if it creates one (a login).
    pub session: Option<String>,
}

/// How an expected value is compared with what came back.
#[derive(Clone, Debug, PartialEq)]
pub enum Matcher {
    /// Exactly this JSON value (for headers: this string).
    Equals(serde_json::Value),
    /// A string that starts with this.
    StartsWith(String),
    /// A string that ends with this.
    EndsWith(String),
    /// A string that contains this.
    Contains(String),
    /// Present (true) or absent (false).
    Present(bool),
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Equals(v) => write!(f, "{v}"),
            Matcher::StartsWith(s) => write!(f, "a string starting with {s:?}"),
            Matcher::EndsWith(s) => write!(f, "a string ending with {s:?}"),
            Matcher::Contains(s) => write!(f, "a string containing {s:?}"),
            Matcher::Present(true) => f.write_str("present"),
            Matcher::Present(false) => f.write_str("absent"),
        }
    }
}

impl Matcher {
    /// Whether `found` (None: absent) satisfies this matcher.
    pub fn matches(&self, found: Option<&serde_json::Value>) -> bool {
        match (self, found) {
            (Matcher::Present(want), found) => *want == found.is_some(),
            (_, None) => false,
            (Matcher::Equals(want), Some(v)) => want == v,
            (Matcher::StartsWith(s), Some(serde_json::Value::String(v))) => v.starts_with(s),
            (Matcher::EndsWith(s), Some(serde_json::Value::String(v))) => v.ends_with(s),
            (Matcher::Contains(s), Some(serde_json::Value::String(v))) => v.contains(s),
            _ => false,
        }
    }
}

/// A number of sessions, absolute or relative to the count when the scenario started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountExpr {
    /// Exactly this many.
    Absolute(usize),
    /// This many more (or fewer) than at the start of the scenario: `"+1"`, `"+0"`.
    Relative(i64),
    /// The profile's table size plus this offset: `"table_size"`, `"table_size - 1"`.
    TableSize(i64),
}

impl fmt::Display for CountExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountExpr::Absolute(n) => write!(f, "{n}"),
            CountExpr::Relative(d) => write!(f, "{d:+} from the start"),
            CountExpr::TableSize(0) => f.write_str("table_size"),
            CountExpr::TableSize(d) if *d > 0 => write!(f, "table_size + {d}"),
            CountExpr::TableSize(d) => write!(f, "table_size - {}", d.unsigned_abs()),
        }
    }
}

/// What a duration is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationBase {
    /// Nothing: a fixed duration.
    Fixed,
    /// The idle timeout in effect on the device at that step.
    IdleTimeout,
    /// The device's maximum session lifetime (the scenario is NOT-TESTED without one).
    MaxLifetime,
}

/// A duration such as `"90s"`, `"30d"`, `"idle_timeout + 1s"` or `"max_lifetime - 1m"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationExpr {
    /// What it is relative to.
    pub base: DurationBase,
    /// Seconds added to the base (negative: subtracted).
    pub offset_secs: i64,
}

impl DurationExpr {
    /// A fixed duration.
    pub fn fixed(secs: u64) -> DurationExpr {
        DurationExpr { base: DurationBase::Fixed, offset_secs: i64::try_from(secs).unwrap_or(0) }
    }

    /// The duration, given the base values; `Err` says what is missing or negative.
    pub fn resolve(
        &self,
        idle_timeout: Option<Duration>,
        max_lifetime: Option<Duration>,
    ) -> Result<Duration, String> {
        let base = match self.base {
            DurationBase::Fixed => Duration::ZERO,
            DurationBase::IdleTimeout => {
                idle_timeout.ok_or("the device has no idle timeout to wait for")?
            }
            DurationBase::MaxLifetime => {
                max_lifetime.ok_or("the device reports no maximum session lifetime")?
            }
        };
        let secs = i128::from(base.as_secs()) + i128::from(self.offset_secs);
        u64::try_from(secs)
            .map(Duration::from_secs)
            .map_err(|_| format!("{self} is negative here ({secs} s)"))
    }
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = match self.base {
            DurationBase::Fixed => {
                return f.write_str(&format_secs(self.offset_secs.unsigned_abs()));
            }
            DurationBase::IdleTimeout => "idle_timeout",
            DurationBase::MaxLifetime => "max_lifetime",
        };
        match self.offset_secs {
            0 => f.write_str(base),
            d if d > 0 => write!(f, "{base} + {}", format_secs(d.unsigned_abs())),
            d => write!(f, "{base} - {}", format_secs(d.unsigned_abs())),
        }
    }
}

/// Seconds as the shortest `1d2h3m4s` form (`0s` for zero).
pub fn format_secs(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// What a step does. The TOML key of each variant is given in its doc.
#[derive(Clone, Debug)]
pub enum Action {
    /// `login = "NAME"` [`user`, `password`, `session_type`, `expect`]: log in and call
    /// the session NAME. `user` must be created by an earlier `create_user` (omit it to
    /// use the target's user); `expect` is `accepted` (default), `refused-full` or
    /// `bad-credentials`.
    Login {
        /// Session name.
        session: String,
        /// User (None: the target's).
        user: Option<String>,
        /// Password (None: the user's known one).
        password: Option<String>,
        /// Session type (None: the driver's default).
        session_type: Option<String>,
        /// Expected outcome.
        expect: LoginExpect,
    },
    /// `logout = "NAME"`: the session logs itself out.
    Logout {
        /// Session name.
        session: String,
    },
    /// `use = "NAME"`: an authenticated request with the session; it must be accepted.
    Use {
        /// Session name.
        session: String,
    },
    /// `expect_valid = "NAME"`: the session's token is accepted (this uses the session).
    ExpectValid {
        /// Session name.
        session: String,
    },
    /// `expect_invalid = "NAME"`: the session's token is rejected.
    ExpectInvalid {
        /// Session name.
        session: String,
    },
    /// `expect_count = N | "+N" | "table_size"` [`session_type`, `via`]: sessions
    /// visible on the device, total or of one type.
    ExpectCount {
        /// Expected count.
        count: CountExpr,
        /// Only sessions of this type.
        session_type: Option<String>,
        /// Read the count with this session (None: the target's credentials).
        via: Option<String>,
    },
    /// `expect_refused = "NAME"` [`user`, `session_type`]: a login is refused because
    /// the table is full (were it accepted, it would be called NAME).
    ExpectRefused {
        /// Name the session would get.
        session: String,
        /// User (None: the target's).
        user: Option<String>,
        /// Session type.
        session_type: Option<String>,
    },
    /// `fill = "PREFIX"` [`user`, `session_type`]: log in until the device refuses a
    /// login because the table is full; the sessions are PREFIX1, PREFIX2, ...
    Fill {
        /// Name prefix.
        prefix: String,
        /// User (None: the target's).
        user: Option<String>,
        /// Session type.
        session_type: Option<String>,
    },
    /// `wait = "DURATION"` [`keep_alive`]: time passes (virtual on emulated targets),
    /// while the sessions in `keep_alive` are used often enough not to idle out.
    Wait {
        /// How long.
        duration: DurationExpr,
        /// Sessions kept in use meanwhile.
        keep_alive: Vec<String>,
    },
    /// `set_idle_timeout = "DURATION"`: change the device's idle timeout (restored after).
    SetIdleTimeout {
        /// The new timeout.
        duration: DurationExpr,
    },
    /// `create_user = "USER"` [`password`, `role`]: a new account (deleted after).
    CreateUser {
        /// User name.
        user: String,
        /// Password (None: one is generated).
        password: Option<String>,
        /// Role (None: `ReadOnly`).
        role: Option<String>,
    },
    /// `change_password = "USER"` [`password`]: a user created by this scenario gets a
    /// new password.
    ChangePassword {
        /// User name.
        user: String,
        /// New password (None: one is generated).
        password: Option<String>,
    },
    /// `delete_user = "USER"`: a user created by this scenario is deleted.
    DeleteUser {
        /// User name.
        user: String,
    },
    /// `change_auth_config = true`: the device's authentication configuration changes.
    ChangeAuthConfig,
    /// `restart = true`: the device restarts (destructive).
    Restart,
    /// `admin_delete = "NAME"` [`via`]: an administrator ends the session NAME, with the
    /// target's credentials or with the session `via`.
    AdminDelete {
        /// Session name.
        session: String,
        /// Administrator's session (None: the target's credentials).
        via: Option<String>,
    },
    /// `request = "METHOD PATH"` [`auth`, `via`, `headers`, `body`, `expect_status`,
    /// `expect_headers`, `expect_json`, `session`]: a raw request for vendor-specific checks.
    Request(Box<RawRequest>),
    /// `forge = "NAME"` [`auth`]: a session NAME that the device never issued, to check
    /// that it is refused: with a made-up token (default, `auth = "never-issued"`), or
    /// with no credentials at all (`auth = "none"`). Nothing is logged in or out.
    Forge {
        /// Session name.
        session: String,
        /// Send no credentials at all (else a never-issued token).
        no_credentials: bool,
    },
    /// `expect_distinct_tokens = ["A", "B", ...]`: the sessions got different tokens
    /// (a device that hands every login the same token fails).
    ExpectDistinctTokens {
        /// Session names.
        sessions: Vec<String>,
    },
}

impl Action {
    /// The session names this step opens (a login names one; `fill` opens many).
    fn opens(&self) -> Option<&str> {
        match self {
            Action::Login { session, expect: LoginExpect::Accepted, .. } => Some(session),
            Action::Request(r) => r.session.as_deref(),
            Action::Forge { session, .. } => Some(session),
            _ => None,
        }
    }
}

/// Why a scenario file cannot be used: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file.
    pub path: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => {
                write!(f, "{}:{line}:{column}: {}", self.path, self.message)
            }
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// 1-based (line, column) of byte `offset` in `text`.
/// The TOML parser's message, or what to look for when it gives none (it gives none
/// for input that breaks off, such as `a = ` at the end of a file).
fn toml_message(e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    if message.is_empty() {
        "invalid TOML here (an unfinished value, string, array or table?)".to_string()
    } else {
        message.to_string()
    }
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

// ---------------------------------------------------------------------------------------
// Raw TOML shapes

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    description: String,
    source: String,
    #[serde(default)]
    vendors: Vec<String>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    destructive: bool,
    #[serde(default)]
    expected_fail: Option<String>,
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStep {
    // actions
    login: Option<String>,
    logout: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    expect_valid: Option<String>,
    expect_invalid: Option<String>,
    expect_count: Option<toml::Value>,
    expect_refused: Option<String>,
    fill: Option<String>,
    wait: Option<toml::Value>,
    set_idle_timeout: Option<toml::Value>,
    create_user: Option<String>,
    change_password: Option<String>,
    delete_user: Option<String>,
    change_auth_config: Option<bool>,
    restart: Option<bool>,
    admin_delete: Option<String>,
    request: Option<String>,
    forge: Option<String>,
    expect_distinct_tokens: Option<Vec<String>>,
    // options
    user: Option<String>,
    password: Option<String>,
    session_type: Option<String>,
    expect: Option<String>,
    via: Option<String>,
    keep_alive: Option<Vec<String>>,
    role: Option<String>,
    auth: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    body: Option<toml::Value>,
    expect_status: Option<u16>,
    expect_headers: Option<BTreeMap<String, toml::Value>>,
    expect_json: Option<BTreeMap<String, toml::Value>>,
    session: Option<String>,
}

/// The action keys, in the order reports and errors list them.
pub const ACTIONS: [&str; 19] = [
    "login",
    "logout",
    "use",
    "expect_valid",
    "expect_invalid",
    "expect_count",
    "expect_refused",
    "fill",
    "wait",
    "set_idle_timeout",
    "create_user",
    "change_password",
    "delete_user",
    "change_auth_config",
    "restart",
    "admin_delete",
    "request",
    "forge",
    "expect_distinct_tokens",
];

impl RawStep {
    fn actions(&self) -> Vec<&'static str> {
        let present = [
            self.login.is_some(),
            self.logout.is_some(),
            self.use_.is_some(),
            self.expect_valid.is_some(),
            self.expect_invalid.is_some(),
            self.expect_count.is_some(),
            self.expect_refused.is_some(),
            self.fill.is_some(),
            self.wait.is_some(),
            self.set_idle_timeout.is_some(),
            self.create_user.is_some(),
            self.change_password.is_some(),
            self.delete_user.is_some(),
            self.change_auth_config.is_some(),
            self.restart.is_some(),
            self.admin_delete.is_some(),
            self.request.is_some(),
            self.forge.is_some(),
            self.expect_distinct_tokens.is_some(),
        ];
        ACTIONS.iter().zip(present).filter(|(_, p)| *p).map(|(a, _)| *a).collect()
    }

    fn options(&self) -> Vec<&'static str> {
        let present = [
            ("user", self.user.is_some()),
            ("password", self.password.is_some()),
            ("session_type", self.session_type.is_some()),
            ("expect", self.expect.is_some()),
            ("via", self.via.is_some()),
            ("keep_alive", self.keep_alive.is_some()),
            ("role", self.role.is_some()),
            ("auth", self.auth.is_some()),
            ("headers", self.headers.is_some()),
            ("body", self.body.is_some()),
            ("expect_status", self.expect_status.is_some()),
            ("expect_headers", self.expect_headers.is_some()),
            ("expect_json", self.expect_json.is_some()),
            ("session", self.session.is_some()),
        ];
        present.iter().filter(|(_, p)| *p).map(|(o, _)| *o).collect()
    }
}

/// The options each action accepts.
fn allowed_options(action: &str) -> &'static [&'static str] {
    match action {
        "login" => &["user", "password", "session_type", "expect"],
        "expect_count" => &["session_type", "via"],
        "expect_refused" | "fill" => &["user", "session_type"],
        "wait" => &["keep_alive"],
        "create_user" => &["password", "role"],
        "change_password" => &["password"],
        "admin_delete" => &["via"],
        "forge" => &["auth"],
        "request" => &[
            "auth",
            "via",
            "headers",
            "body",
            "expect_status",
            "expect_headers",
            "expect_json",
            "session",
        ],
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

impl Scenario {
    /// Parses and validates a scenario; `path` names it in errors, and `group` is its
    /// folder under the scenario root.
    pub fn from_toml(text: &str, path: &Path, group: &str) -> Result<Scenario, ScenarioError> {
        let shown = path.display().to_string();
        let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError {
            path: shown.clone(),
            position: e.span().map(|s| position(text, s.start)),
            message: toml_message(&e),
        })?;
        let error = |offset: usize, message: String| ScenarioError {
            path: shown.clone(),
            position: Some(position(text, offset)),
            message,
        };
        let whole =
            |message: String| ScenarioError { path: shown.clone(), position: None, message };
        if raw.name.trim().is_empty() {
            return Err(whole("`name` must not be empty".to_string()));
        }
        if raw.name.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':') {
            return Err(whole(format!(
                "name {:?}: use letters, digits, '-' and '_' only (it becomes a test name)",
                raw.name
            )));
        }
        if raw.source.trim().is_empty() {
            return Err(whole("`source` must cite the evidence the scenario encodes".to_string()));
        }
        if raw.vendors.is_empty() && raw.profiles.is_empty() {
            return Err(whole(
                "say what the scenario applies to: `vendors = [...]` and/or `profiles = [...]`"
                    .to_string(),
            ));
        }
        if raw.steps.is_empty() {
            return Err(whole("a scenario needs at least one step".to_string()));
        }
        if let Some(why) = &raw.expected_fail {
            if why.trim().is_empty() {
                return Err(whole("`expected_fail` must say why the scenario fails".to_string()));
            }
        }
        let mut checker = Checker::default();
        let mut steps = Vec::with_capacity(raw.steps.len());
        for spanned in &raw.steps {
            let span = spanned.span();
            let step = spanned.get_ref();
            let action = parse_step(step).map_err(|m| error(span.start, m))?;
            checker.check(&action).map_err(|m| error(span.start, m))?;
            steps.push(Step {
                line: position(text, span.start).0,
                text: one_line(text.get(span.clone()).unwrap_or_default()),
                action,
            });
        }
        if checker.destructive && !raw.destructive {
            return Err(whole(format!(
                "a scenario with a `{}` step must say `destructive = true` (it is never run \
                 against a real device without --allow-destructive)",
                checker.destructive_action
            )));
        }
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            source: raw.source,
            vendors: raw.vendors,
            profiles: raw.profiles,
            destructive: raw.destructive,
            expected_fail: raw.expected_fail,
            steps,
            path: path.to_path_buf(),
            group: group.to_string(),
        })
    }

    /// Whether it may apply to a target of this vendor and (if known) profile: it names
    /// them, or it is written for `vendors = ["any"]` (then it applies where the vendor's
    /// driver can do its steps: `runner::not_applicable` decides).
    pub fn applies_to(&self, vendor: &str, profile: Option<&str>) -> bool {
        self.names(vendor, profile) || self.vendors.iter().any(|v| v == ANY_VENDOR)
    }

    /// Whether it names this vendor or profile.
    pub fn names(&self, vendor: &str, profile: Option<&str>) -> bool {
        self.vendors.iter().any(|v| v == vendor)
            || profile.is_some_and(|p| self.profiles.iter().any(|q| q == p))
    }

    /// The scenario's id in reports and test names: `group/name`.
    pub fn id(&self) -> String {
        if self.group.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.group, self.name)
        }
    }

    /// Whether a step waits relative to the maximum lifetime (the scenario needs one).
    pub fn needs_max_lifetime(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(&s.action, Action::Wait { duration, .. } | Action::SetIdleTimeout { duration }
                if duration.base == DurationBase::MaxLifetime)
        })
    }
}

/// A step's source collapsed onto one line.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.find(" #") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line == "[[steps]]" {
            continue;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(line);
    }
    out
}

fn parse_step(s: &RawStep) -> Result<Action, String> {
    let actions = s.actions();
    let action = match actions.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "a step needs one action key (one of {}); found only options {}",
                ACTIONS.join(", "),
                s.options().join(", ")
            ))
        }
        many => {
            return Err(format!(
                "a step has one action; this one has {} (split it into several steps)",
                many.join(" and ")
            ))
        }
    };
    let allowed = allowed_options(action);
    if let Some(bad) = s.options().into_iter().find(|o| !allowed.contains(o)) {
        return Err(if allowed.is_empty() {
            format!("`{action}` takes no options, but `{bad}` is given")
        } else {
            format!("`{action}` takes {}, not `{bad}`", allowed.join(", "))
        });
    }
    let name = |v: &Option<String>, what: &str| -> Result<String, String> {
        let v = v.clone().unwrap_or_default();
        if v.trim().is_empty() || v.chars().any(char::is_whitespace) {
            Err(format!("`{action}` needs a {what} without spaces, not {v:?}"))
        } else {
            Ok(v)
        }
    };
    Ok(match action {
        "login" => Action::Login {
            session: name(&s.login, "session name")?,
            user: s.user.clone(),
            password: s.password.clone(),
            session_type: s.session_type.clone(),
            expect: match s.expect.as_deref() {
                None | Some("accepted") => LoginExpect::Accepted,
                Some("refused-full") => LoginExpect::RefusedFull,
                Some("bad-credentials") => LoginExpect::BadCredentials,
                Some(other) => {
                    return Err(format!(
                    "expect = {other:?}: use \"accepted\", \"refused-full\" or \"bad-credentials\""
                ))
                }
            },
        },
        "logout" => Action::Logout { session: name(&s.logout, "session name")? },
        "forge" => Action::Forge {
            session: name(&s.forge, "session name")?,
            no_credentials: match s.auth.as_deref() {
                None | Some("never-issued") => false,
                Some("none") => true,
                Some(other) => {
                    return Err(format!(
                        "auth = {other:?}: use \"never-issued\" (a made-up token) or \"none\" (no credentials)"
                    ))
                }
            },
        },
        "expect_distinct_tokens" => {
            let sessions = s.expect_distinct_tokens.clone().unwrap_or_default();
            if sessions.len() < 2 {
                return Err("`expect_distinct_tokens` needs two or more session names".to_string());
            }
            Action::ExpectDistinctTokens { sessions }
        }
        "use" => Action::Use { session: name(&s.use_, "session name")? },
        "expect_valid" => Action::ExpectValid { session: name(&s.expect_valid, "session name")? },
        "expect_invalid" => {
            Action::ExpectInvalid { session: name(&s.expect_invalid, "session name")? }
        }
        "expect_count" => Action::ExpectCount {
            count: parse_count(s.expect_count.as_ref().expect("present"))?,
            session_type: s.session_type.clone(),
            via: s.via.clone(),
        },
        "expect_refused" => Action::ExpectRefused {
            session: name(&s.expect_refused, "session name")?,
            user: s.user.clone(),
            session_type: s.session_type.clone(),
        },
        "fill" => Action::Fill {
            prefix: name(&s.fill, "name prefix")?,
            user: s.user.clone(),
            session_type: s.session_type.clone(),
        },
        "wait" => Action::Wait {
            duration: parse_duration_value(s.wait.as_ref().expect("present"))?,
            keep_alive: s.keep_alive.clone().unwrap_or_default(),
        },
        "set_idle_timeout" => {
            let duration = parse_duration_value(s.set_idle_timeout.as_ref().expect("present"))?;
            if duration.base != DurationBase::Fixed {
                return Err("set_idle_timeout takes a fixed duration such as \"60s\"".to_string());
            }
            Action::SetIdleTimeout { duration }
        }
        "create_user" => Action::CreateUser {
            user: name(&s.create_user, "user name")?,
            password: s.password.clone(),
            role: s.role.clone(),
        },
        "change_password" => Action::ChangePassword {
            user: name(&s.change_password, "user name")?,
            password: s.password.clone(),
        },
        "delete_user" => Action::DeleteUser { user: name(&s.delete_user, "user name")? },
        "change_auth_config" => {
            if s.change_auth_config != Some(true) {
                return Err("write `change_auth_config = true`".to_string());
            }
            Action::ChangeAuthConfig
        }
        "restart" => {
            if s.restart != Some(true) {
                return Err("write `restart = true`".to_string());
            }
            Action::Restart
        }
        "admin_delete" => Action::AdminDelete {
            session: name(&s.admin_delete, "session name")?,
            via: s.via.clone(),
        },
        "request" => Action::Request(Box::new(parse_request(s)?)),
        other => unreachable!("unhandled action {other}"),
    })
}

fn parse_request(s: &RawStep) -> Result<RawRequest, String> {
    let line = s.request.as_deref().unwrap_or_default().trim();
    let (method, path) = line.split_once(' ').ok_or_else(|| {
        format!("request = {line:?}: write the method and the path, such as \"GET /redfish/v1/\"")
    })?;
    let method = method.trim();
    let path = path.trim();
    if method.is_empty()
        || !method.chars().all(|c| c.is_ascii_uppercase())
        || path.is_empty()
        || path.contains(char::is_whitespace)
    {
        return Err(format!(
            "request = {line:?}: write an upper-case method and a path without spaces, such as \"GET /redfish/v1/\""
        ));
    }
    if !path.starts_with('/') && !path.starts_with("${") {
        return Err(format!("request path {path:?} must start with '/'"));
    }
    let auth = match (s.auth.as_deref(), &s.via) {
        (None | Some("none"), None) => RequestAuth::None,
        (Some("basic"), None) => RequestAuth::Basic,
        (None | Some("session"), Some(via)) => RequestAuth::Session(via.clone()),
        (Some("session"), None) => {
            return Err("auth = \"session\" needs `via = \"NAME\"`".to_string())
        }
        (Some(_), Some(_)) => {
            return Err("give `via` (a session's token) or `auth`, not both".to_string())
        }
        (Some(other), None) => {
            return Err(format!("auth = {other:?}: use \"none\", \"basic\" or `via = \"SESSION\"`"))
        }
    };
    if let Some(status) = s.expect_status {
        if !(100..=599).contains(&status) {
            return Err(format!("expect_status = {status} is not an HTTP status"));
        }
    }
    let expect_headers = s
        .expect_headers
        .iter()
        .flatten()
        .map(|(k, v)| Ok((k.to_ascii_lowercase(), parse_matcher(v)?)))
        .collect::<Result<_, String>>()?;
    let expect_json = s
        .expect_json
        .iter()
        .flatten()
        .map(|(k, v)| {
            if !k.is_empty() && !k.starts_with('/') {
                return Err(format!(
                    "expect_json key {k:?} is not a JSON pointer (write \"/Field/0/Sub\")"
                ));
            }
            Ok((k.clone(), parse_matcher(v)?))
        })
        .collect::<Result<_, String>>()?;
    Ok(RawRequest {
        method: method.to_string(),
        path: path.to_string(),
        auth,
        headers: s.headers.clone().unwrap_or_default(),
        body: s.body.as_ref().map(toml_to_json).transpose()?,
        expect_status: s.expect_status,
        expect_headers,
        expect_json,
        session: s.session.clone(),
    })
}

/// A TOML value as JSON (dates are refused: JSON has none).
fn toml_to_json(v: &toml::Value) -> Result<serde_json::Value, String> {
    Ok(match v {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| format!("{f} has no JSON form"))?,
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => {
            return Err(format!("date {d} has no JSON form; quote it as a string"))
        }
        toml::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// An expected value: a plain value means "equals"; a table with one of the keys
/// `starts_with`, `ends_with`, `contains`, `present` is a matcher.
fn parse_matcher(v: &toml::Value) -> Result<Matcher, String> {
    if let toml::Value::Table(t) = v {
        if t.len() == 1 {
            let (k, inner) = t.iter().next().expect("one entry");
            let text = || {
                inner.as_str().map(str::to_string).ok_or_else(|| format!("`{k}` takes a string"))
            };
            match k.as_str() {
                "starts_with" => return Ok(Matcher::StartsWith(text()?)),
                "ends_with" => return Ok(Matcher::EndsWith(text()?)),
                "contains" => return Ok(Matcher::Contains(text()?)),
                "present" => {
                    return inner
                        .as_bool()
                        .map(Matcher::Present)
                        .ok_or_else(|| "`present` takes true or false".to_string())
                }
                _ => {}
            }
        }
    }
    Ok(Matcher::Equals(toml_to_json(v)?))
}

fn parse_count(v: &toml::Value) -> Result<CountExpr, String> {
    let bad = || {
        format!(
            "expect_count = {v}: write a number (2), a change since the start (\"+1\", \"-1\", \"+0\") or \"table_size\" (\"table_size - 1\")"
        )
    };
    match v {
        toml::Value::Integer(n) => usize::try_from(*n).map(CountExpr::Absolute).map_err(|_| bad()),
        toml::Value::String(s) => {
            let s = s.trim();
            if let Some(rest) = s.strip_prefix("table_size") {
                let rest: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
                if rest.is_empty() {
                    return Ok(CountExpr::TableSize(0));
                }
                return rest.parse::<i64>().map(CountExpr::TableSize).map_err(|_| bad());
            }
            if s.starts_with('+') || s.starts_with('-') {
                return s.parse::<i64>().map(CountExpr::Relative).map_err(|_| bad());
            }
            Err(bad())
        }
        _ => Err(bad()),
    }
}

fn parse_duration_value(v: &toml::Value) -> Result<DurationExpr, String> {
    match v {
        toml::Value::Integer(n) if *n >= 0 => Ok(DurationExpr::fixed(n.unsigned_abs())),
        toml::Value::String(s) => parse_duration(s),
        _ => Err(format!(
            "duration {v}: write \"90s\", \"30m\", \"2h\", \"1d\", or \"idle_timeout + 1s\""
        )),
    }
}

/// Parses `"90s"`, `"1h30m"`, `"idle_timeout"`, `"idle_timeout + 1s"`,
/// `"max_lifetime - 10s"`.
pub fn parse_duration(text: &str) -> Result<DurationExpr, String> {
    let bad = |why: &str| {
        format!(
            "duration {text:?}: {why}; write \"90s\", \"30m\", \"2h\", \"1d\", \"1h30m\", or \"idle_timeout + 1s\" / \"max_lifetime - 1m\""
        )
    };
    let t = text.trim();
    let (base, rest) = if let Some(rest) = t.strip_prefix("idle_timeout") {
        (DurationBase::IdleTimeout, rest.trim())
    } else if let Some(rest) = t.strip_prefix("max_lifetime") {
        (DurationBase::MaxLifetime, rest.trim())
    } else {
        (DurationBase::Fixed, t)
    };
    if base == DurationBase::Fixed {
        let secs = parse_plain(rest).map_err(|w| bad(&w))?;
        return Ok(DurationExpr { base, offset_secs: secs });
    }
    if rest.is_empty() {
        return Ok(DurationExpr { base, offset_secs: 0 });
    }
    // By prefix, not by byte: `rest` may start with any character (`idle_timeouté`).
    let (sign, amount) = if let Some(a) = rest.strip_prefix('+') {
        (1, a)
    } else if let Some(a) = rest.strip_prefix('-') {
        (-1, a)
    } else {
        return Err(bad("after the base comes `+ DURATION` or `- DURATION`"));
    };
    let secs = parse_plain(amount.trim()).map_err(|w| bad(&w))?;
    Ok(DurationExpr { base, offset_secs: sign * secs })
}

/// A fixed amount in whole seconds, read by humantime (`"90s"`, `"1h30m"`, `"1h 30min"`).
fn parse_plain(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("it is empty".to_string());
    }
    let d = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    let calendar = ["M", "month", "months", "y", "yr", "yrs", "year", "years"];
    let mut units = text.split(|c: char| !c.is_alphabetic()).filter(|u| !u.is_empty());
    if let Some(unit) = units.find(|u| calendar.contains(u)) {
        return Err(format!(
            "{unit:?} is a month or year, which has no fixed length (a minute is \"m\")"
        ));
    }
    if d.subsec_nanos() != 0 {
        return Err("scenario durations are whole seconds".to_string());
    }
    i64::try_from(d.as_secs()).map_err(|_| "too long".to_string())
}

/// Checks the references between steps as it goes: sessions used after they are
/// named, users changed only when the scenario created them.
#[derive(Default)]
struct Checker {
    sessions: BTreeSet<String>,
    prefixes: BTreeSet<String>,
    users: BTreeSet<String>,
    deleted: BTreeSet<String>,
    destructive: bool,
    destructive_action: &'static str,
}

impl Checker {
    fn session(&self, name: &str) -> Result<(), String> {
        if self.sessions.contains(name) {
            return Ok(());
        }
        if self.prefixes.iter().any(|p| {
            name.strip_prefix(p.as_str())
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        }) {
            return Ok(());
        }
        Err(format!("session {name:?} is not opened by an earlier `login` (or `fill`, `request` with `session`)"))
    }

    fn user(&self, user: &Option<String>, action: &str) -> Result<(), String> {
        match user {
            None => Ok(()),
            Some(u) if self.users.contains(u) && !self.deleted.contains(u) => Ok(()),
            Some(u) if self.deleted.contains(u) && action == "login" => Ok(()),
            Some(u) => Err(format!(
                "`{action}` as user {u:?}: scenarios act as the target's user (omit `user`) or \
                 as users they create with an earlier `create_user`, so they are safe on any device"
            )),
        }
    }

    fn placeholders(&self, text: &str) -> Result<(), String> {
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| format!("unclosed placeholder in {text:?}"))?;
            let inner = &after[..end];
            match inner {
                "user" | "password" => {}
                _ => match inner.rsplit_once('.') {
                    Some((session, "id" | "uri")) => self.session(session)?,
                    _ => {
                        return Err(format!(
                            "unknown placeholder ${{{inner}}}: use ${{user}}, ${{password}}, ${{SESSION.id}} or ${{SESSION.uri}}"
                        ))
                    }
                },
            }
            rest = &after[end + 1..];
        }
        Ok(())
    }

    fn json_placeholders(&self, v: &serde_json::Value) -> Result<(), String> {
        match v {
            serde_json::Value::String(s) => self.placeholders(s),
            serde_json::Value::Array(a) => a.iter().try_for_each(|v| self.json_placeholders(v)),
            serde_json::Value::Object(o) => o.values().try_for_each(|v| self.json_placeholders(v)),
            _ => Ok(()),
        }
    }

    fn check(&mut self, action: &Action) -> Result<(), String> {
        match action {
            Action::Login { user, .. } => self.user(user, "login")?,
            Action::ExpectRefused { user, .. } => self.user(user, "expect_refused")?,
            Action::Fill { prefix, user, .. } => {
                self.user(user, "fill")?;
                if !self.prefixes.insert(prefix.clone()) {
                    return Err(format!("fill prefix {prefix:?} is used twice"));
                }
                self.destructive = true;
                self.destructive_action = "fill";
            }
            Action::Logout { session }
            | Action::Use { session }
            | Action::ExpectValid { session }
            | Action::ExpectInvalid { session } => self.session(session)?,
            Action::Forge { .. } => {}
            Action::ExpectDistinctTokens { sessions } => {
                for s in sessions {
                    self.session(s)?;
                }
            }
            Action::AdminDelete { session, via } => {
                self.session(session)?;
                if let Some(v) = via {
                    self.session(v)?;
                }
            }
            Action::ExpectCount { via, .. } => {
                if let Some(v) = via {
                    self.session(v)?;
                }
            }
            Action::Wait { keep_alive, .. } => {
                for s in keep_alive {
                    self.session(s)?;
                }
            }
            Action::SetIdleTimeout { .. } | Action::ChangeAuthConfig => {}
            Action::Restart => {
                self.destructive = true;
                self.destructive_action = "restart";
            }
            Action::CreateUser { user, .. } => {
                if self.users.contains(user) && !self.deleted.contains(user) {
                    return Err(format!("user {user:?} is already created by this scenario"));
                }
                self.users.insert(user.clone());
                self.deleted.remove(user);
            }
            Action::ChangePassword { user, .. } => {
                self.user(&Some(user.clone()), "change_password")?;
            }
            Action::DeleteUser { user } => {
                self.user(&Some(user.clone()), "delete_user")?;
                self.deleted.insert(user.clone());
            }
            Action::Request(r) => {
                self.placeholders(&r.path)?;
                for v in r.headers.values() {
                    self.placeholders(v)?;
                }
                if let Some(body) = &r.body {
                    self.json_placeholders(body)?;
                }
                if let RequestAuth::Session(v) = &r.auth {
                    self.session(v)?;
                }
            }
        }
        if let Some(opened) = action.opens() {
            if !self.sessions.insert(opened.to_string()) {
                return Err(format!(
                    "session name {opened:?} is used twice; give each login its own name"
                ));
            }
        }
        if let Action::ExpectRefused { session, .. } = action {
            // Were it accepted, the session is called this; keep the name unique.
            if self.sessions.contains(session) {
                return Err(format!("session name {session:?} is already taken"));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Loading files and folders

/// Why scenarios could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A scenario is invalid.
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
    /// Two scenarios share a name.
    #[error("{second}: scenario name {name:?} is already used by {first}")]
    Duplicate {
        /// The name.
        name: String,
        /// The file that has it first.
        first: String,
        /// The file that repeats it.
        second: String,
    },
}

/// Loads scenarios from files and folders (searched recursively for `*.toml`, in path
/// order). Every invalid file is reported, not just the first.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            match toml_files(path) {
                Ok(found) => files.extend(found.into_iter().map(|f| (path.clone(), f))),
                Err(e) => errors.push(e),
            }
        } else {
            let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
            files.push((root, path.clone()));
        }
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (root, file) in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(source) => {
                errors.push(LoadError::Io { path: file.display().to_string(), source });
                continue;
            }
        };
        let group = group_of(&root, &file);
        match Scenario::from_toml(&text, &file, &group) {
            Ok(s) => {
                if let Some(first) = names.get(&s.name) {
                    errors.push(LoadError::Duplicate {
                        name: s.name.clone(),
                        first: first.clone(),
                        second: file.display().to_string(),
                    });
                    continue;
                }
                names.insert(s.name.clone(), file.display().to_string());
                scenarios.push(s);
            }
            Err(e) => errors.push(e.into()),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// The folder of `file` relative to the root it was found under (`common`), or the
/// file's own folder name when given directly.
fn group_of(root: &Path, file: &Path) -> String {
    let dir = file.parent().unwrap_or(Path::new(""));
    let relative = dir.strip_prefix(root).ok().filter(|r| !r.as_os_str().is_empty());
    let shown = match relative {
        Some(r) => r.to_path_buf(),
        None => dir.file_name().map(PathBuf::from).unwrap_or_default(),
    };
    shown.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|source| LoadError::Io { path: d.display().to_string(), source })?;
        for entry in entries {
            let entry =
                entry.map_err(|source| LoadError::Io { path: d.display().to_string(), source })?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml(text, Path::new("x.toml"), "common")
    }

    const HEAD: &str =
        "name = \"x\"\ndescription = \"d\"\nsource = \"s\"\nvendors = [\"redfish\"]\n";

    /// Durations read as fixed amounts or offsets from the device's timeouts.
    #[test]
    fn durations_parse_fixed_and_relative() {
        assert_eq!(parse_duration("90s").unwrap(), DurationExpr::fixed(90));
        assert_eq!(parse_duration("1h30m").unwrap(), DurationExpr::fixed(5400));
        let d = parse_duration("idle_timeout + 1s").unwrap();
        assert_eq!(d, DurationExpr { base: DurationBase::IdleTimeout, offset_secs: 1 });
        assert_eq!(d.to_string(), "idle_timeout + 1s");
        let d = parse_duration("max_lifetime-1m").unwrap();
        assert_eq!(d, DurationExpr { base: DurationBase::MaxLifetime, offset_secs: -60 });
        assert_eq!(
            d.resolve(None, Some(Duration::from_secs(3600))).unwrap(),
            Duration::from_secs(3540)
        );
        assert!(d.resolve(None, None).unwrap_err().contains("no maximum session lifetime"));
        assert_eq!(parse_duration("1h 30min").unwrap(), DurationExpr::fixed(5400));
        for bad in ["", "5", "3y", "1M", "1.5s", "500ms", "idle_timeout * 2", "idle_timeout + "] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let why = |text| parse_duration(text).unwrap_err();
        assert!(why("5").contains("time unit needed, for example 5sec"), "{}", why("5"));
        assert!(why("3y").contains("\"y\" is a month or year"), "{}", why("3y"));
        assert!(why("500ms").contains("whole seconds"), "{}", why("500ms"));
        assert!(why("2 fortnights").contains("unknown time unit \"fortnights\""));
    }

    /// Counts are absolute, relative to the start, or relative to the table size.
    #[test]
    fn counts_parse_three_ways() {
        let c = |v: toml::Value| parse_count(&v);
        assert_eq!(c(toml::Value::Integer(2)).unwrap(), CountExpr::Absolute(2));
        assert_eq!(c("+1".into()).unwrap(), CountExpr::Relative(1));
        assert_eq!(c("+0".into()).unwrap(), CountExpr::Relative(0));
        assert_eq!(c("table_size".into()).unwrap(), CountExpr::TableSize(0));
        assert_eq!(c("table_size - 1".into()).unwrap(), CountExpr::TableSize(-1));
        assert!(c("two".into()).is_err());
        assert!(c(toml::Value::Integer(-1)).is_err());
    }

    /// A step's line is the line it starts on, in inline and table form.
    #[test]
    fn steps_know_their_line_and_text() {
        let text = format!("{HEAD}steps = [\n  {{ login = \"a\" }},\n  {{ logout = \"a\" }},\n]\n");
        let s = parse(&text).unwrap();
        assert_eq!(s.steps[0].line, 6);
        assert_eq!(s.steps[1].line, 7);
        assert_eq!(s.steps[1].text, "{ logout = \"a\" }");
        let text = format!("{HEAD}[[steps]]\nlogin = \"a\"\n\n[[steps]]\nlogout = \"a\"\n");
        let s = parse(&text).unwrap();
        assert_eq!(s.steps[1].line, 8);
    }

    /// Misspelt keys, two actions in a step, options of another action and unknown
    /// sessions are each refused with the step's line.
    #[test]
    fn bad_steps_are_refused_with_their_line() {
        let cases = [
            ("{ logn = \"a\" }", "unknown field `logn`"),
            ("{ login = \"a\", logout = \"a\" }", "this one has login and logout"),
            ("{ logout = \"b\" }", "session \"b\" is not opened"),
            ("{ login = \"a\", keep_alive = [] }", "`login` takes user, password"),
            ("{ wait = \"5y\" }", "\"y\" is a month or year"),
            ("{ login = \"a\", user = \"root\" }", "as users they create"),
        ];
        for (step, want) in cases {
            let text = format!("{HEAD}steps = [\n  {{ login = \"z\" }},\n  {step},\n]\n");
            let err = parse(&text).unwrap_err();
            assert_eq!(err.position.map(|p| p.0), Some(7), "{step}: {err}");
            assert!(err.to_string().contains(want), "{step}: {err}");
        }
    }

    /// Filling the table or restarting needs `destructive = true`.
    #[test]
    fn destructive_steps_need_the_flag() {
        let text = format!("{HEAD}steps = [{{ restart = true }}]\n");
        assert!(parse(&text).unwrap_err().message.contains("destructive = true"));
        let text = format!("{HEAD}destructive = true\nsteps = [{{ restart = true }}]\n");
        assert!(parse(&text).is_ok());
    }

    /// Matchers are tables with one known key; other values compare exactly.
    #[test]
    fn matchers_parse() {
        let v: toml::Value =
            toml::from_str::<toml::Table>("m = { ends_with = \"x\" }").unwrap()["m"].clone();
        assert_eq!(parse_matcher(&v).unwrap(), Matcher::EndsWith("x".to_string()));
        assert!(Matcher::EndsWith("x".into()).matches(Some(&serde_json::json!("ax"))));
        assert!(Matcher::Present(false).matches(None));
        assert!(!Matcher::Equals(serde_json::json!(1)).matches(Some(&serde_json::json!("1"))));
    }
}
