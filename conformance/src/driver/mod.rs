//! Drivers: one per vendor protocol. A driver turns the abstract steps of a scenario
//! (log in, log out, use a session, count sessions, change a password, ...) into wire
//! calls and classifies the answers (accepted, refused because the table is full, bad
//! credentials, token rejected). It says which steps it can do: a step it cannot do
//! makes the scenario NOT-TESTED, never FAIL.
//!
//! Drivers speak only the wire. Every call returns the [`Exchange`] it is based on, so
//! a failing step can show what was sent and what came back.

pub mod bigip;
pub mod idrac;
pub mod ilo;
pub mod redfish;
pub mod solace;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;

/// A boxed, sendable future: the driver trait is object-safe so the runner can hold a
/// `Box<dyn Driver>` chosen at run time.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A user name and password. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl Credentials {
    /// Credentials for `user`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials { user: user.into(), password: password.into() }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// An open session as the client sees it. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionHandle {
    /// The id the device gave it.
    pub id: String,
    /// Its URI (or whatever the protocol uses to address it).
    pub uri: String,
    /// The user it belongs to.
    pub user: String,
    /// The secret sent with later requests.
    pub token: String,
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionHandle")
            .field("id", &self.id)
            .field("uri", &self.uri)
            .field("user", &self.user)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// One request and what came back, for reports. Secrets are redacted: tokens in
/// headers, and request bodies (which may carry passwords) are not recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// `METHOD URL`.
    pub request: String,
    /// The status, if an answer came.
    pub status: Option<u16>,
    /// Response headers (lower-case names; secrets redacted).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The start of the response body; without a status, why no answer came
    /// (connection refused, TLS, timeout).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
}

/// How much of a body a report keeps.
pub const BODY_EXCERPT: usize = 400;

impl Exchange {
    /// An exchange that got no answer, and why.
    pub fn failed(request: String, why: String) -> Exchange {
        Exchange { request, body: why, ..Exchange::default() }
    }

    /// `503 from POST /path: {"error": ...}`, on one line.
    pub fn summary(&self) -> String {
        match self.status {
            None => format!("no answer to {}: {}", self.request, self.body),
            Some(status) => {
                let reason = reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                let mut out = format!("{status} {reason} from {}", self.request);
                if !self.body.is_empty() {
                    out.push_str(": ");
                    out.push_str(&self.body);
                }
                out
            }
        }
    }
}

/// Cuts `body` to an excerpt on one line.
pub fn excerpt(body: &str) -> String {
    let flat: String =
        body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(BODY_EXCERPT).collect();
    if body.chars().count() > BODY_EXCERPT && flat.chars().count() == BODY_EXCERPT {
        format!("{flat}...")
    } else {
        flat
    }
}

/// Why a driver call did not give an answer the runner can judge.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// The driver (or the device) cannot do this: the scenario is NOT-TESTED.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// No answer (connection refused, TLS, timeout).
    #[error("{}", .0.summary())]
    Transport(Exchange),
    /// An answer the driver cannot classify for this call.
    #[error("{expected}; got {}", exchange.summary())]
    Unexpected {
        /// What the call needed.
        expected: String,
        /// What came back.
        exchange: Exchange,
    },
}

impl DriverError {
    /// The exchange behind it, if any.
    pub fn exchange(&self) -> Option<&Exchange> {
        match self {
            DriverError::Unsupported(_) => None,
            DriverError::Transport(e) | DriverError::Unexpected { exchange: e, .. } => Some(e),
        }
    }
}

/// A driver call's result together with the exchange it is read from.
#[derive(Clone, Debug)]
pub struct Answer<T> {
    /// The classified result.
    pub value: T,
    /// The exchange.
    pub exchange: Exchange,
}

/// A session in a device's listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its id (or URI): unique among the sessions listed.
    pub id: String,
    /// Its user, where the listing names it.
    pub user: Option<String>,
}

/// What became of a login.
#[derive(Clone, Debug)]
pub enum LoginOutcome {
    /// A session.
    Accepted(SessionHandle),
    /// Refused because the session table is full.
    RefusedFull,
    /// Refused because of the credentials.
    BadCredentials,
    /// Something else, described.
    Other(String),
}

/// What became of a logout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// The device ended the session.
    LoggedOut,
    /// The token was already rejected.
    AlreadyInvalid,
    /// Something else, described.
    Other(String),
}

/// Whether a token is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// Accepted.
    Valid,
    /// Rejected as not (or no longer) valid.
    Invalid,
    /// Neither, described.
    Other(String),
}

/// Whose credentials a driver call carries.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// None.
    None,
    /// The target's own credentials, in the protocol's stateless form (HTTP Basic for
    /// Redfish): administrative calls use this.
    Admin,
    /// A session's token.
    Session(&'a SessionHandle),
}

/// Things a scenario step may need from a driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Log in, log out and check a token.
    Sessions,
    /// Log in with a particular session type.
    SessionType,
    /// Count the sessions on the device.
    Count,
    /// Count the sessions of one type.
    CountByType,
    /// Read and change the idle timeout.
    IdleTimeout,
    /// Read the maximum session lifetime.
    MaxLifetime,
    /// Create, change and delete accounts.
    Users,
    /// Change the authentication configuration.
    AuthConfig,
    /// Restart the device.
    Restart,
    /// End another client's session as an administrator.
    AdminDelete,
    /// Send raw requests.
    Raw,
}

/// A raw request, with placeholders already filled in.
#[derive(Clone, Debug)]
pub struct RawCall<'a> {
    /// HTTP method.
    pub method: String,
    /// Path (or absolute URL).
    pub path: String,
    /// Credentials.
    pub auth: Auth<'a>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
}

/// A whole answer to a raw request.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status.
    pub status: u16,
    /// Headers, lower-case names, unredacted (the runner matches on them).
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<serde_json::Value>,
    /// The redacted record for reports.
    pub exchange: Exchange,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// Whether a status is a success (2xx).
pub(crate) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A successful answer, or `Unexpected` saying what was wanted.
pub(crate) fn expect_success(reply: Reply, what: &str) -> Result<Reply, DriverError> {
    expect_success_hinted(reply, what, "")
}

/// [`expect_success`] with a `hint` after the expectation (why it may have failed).
pub(crate) fn expect_success_hinted(
    reply: Reply,
    what: &str,
    hint: &str,
) -> Result<Reply, DriverError> {
    if is_success(reply.status) {
        Ok(reply)
    } else {
        Err(DriverError::Unexpected {
            expected: format!("expected {what} to succeed (2xx){hint}"),
            exchange: reply.exchange,
        })
    }
}

/// The answer's body as JSON, or `Unexpected` saying what was wanted.
pub(crate) fn json_of(reply: &Reply, what: &str) -> Result<serde_json::Value, DriverError> {
    reply.json.clone().ok_or_else(|| DriverError::Unexpected {
        expected: format!("expected {what} as JSON"),
        exchange: reply.exchange.clone(),
    })
}

/// A token check's answer read the common way: 200 valid, 401 invalid.
pub(crate) fn token_state(status: u16) -> TokenState {
    match status {
        200 => TokenState::Valid,
        401 => TokenState::Invalid,
        s => TokenState::Other(format!("status {s}")),
    }
}

/// A logout's answer read the common way: 2xx logged out, 401 already invalid.
pub(crate) fn logout_outcome(status: u16) -> LogoutOutcome {
    match status {
        s if is_success(s) => LogoutOutcome::LoggedOut,
        401 => LogoutOutcome::AlreadyInvalid,
        s => LogoutOutcome::Other(format!("status {s}")),
    }
}

/// A credentials check's answer: 200 good, 401 refused, anything else `Unexpected`.
pub(crate) fn credentials_answer(
    reply: Reply,
    expected: impl Into<String>,
) -> Result<Answer<bool>, DriverError> {
    match reply.status {
        200 => Ok(Answer { value: true, exchange: reply.exchange }),
        401 => Ok(Answer { value: false, exchange: reply.exchange }),
        _ => Err(DriverError::Unexpected { expected: expected.into(), exchange: reply.exchange }),
    }
}

/// A vendor protocol. Object-safe: the runner holds a `Box<dyn Driver>`.
pub trait Driver: Send + Sync {
    /// The vendor name scenarios use (`redfish`).
    fn vendor(&self) -> &'static str;

    /// `Ok` if the driver can do what `capability` names on this device, else why not.
    fn supports(&self, capability: Capability) -> Result<(), String>;

    /// The shortest idle timeout the device accepts (for shortening real waits).
    fn min_idle_timeout(&self) -> Option<Duration>;

    /// Checks that the device answers and discovers what later calls need. Uses no
    /// credentials.
    fn probe(&self) -> BoxFuture<'_, Result<Exchange, DriverError>>;

    /// Checks the target's own credentials once, before any scenario runs, so a wrong
    /// password costs one failed attempt and not one per scenario.
    fn check_credentials(&self) -> BoxFuture<'_, Result<Answer<bool>, DriverError>>;

    /// Logs in.
    fn login<'a>(
        &'a self,
        credentials: &'a Credentials,
        session_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Answer<LoginOutcome>, DriverError>>;

    /// The session logs itself out.
    fn logout<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<LogoutOutcome>, DriverError>>;

    /// An authenticated request with the session's token: is it accepted?
    fn check<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<TokenState>, DriverError>>;

    /// Sessions open on the device (of one type, if given).
    fn count<'a>(
        &'a self,
        session_type: Option<&'a str>,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<usize>, DriverError>>;

    /// The ids (or URIs) of the sessions open on the device, so the runner can tell the
    /// sessions that appeared during a scenario from those that were already there (and
    /// may end meanwhile). Drivers that cannot list them say so; the runner then
    /// compares counts.
    fn session_ids<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<String>>, DriverError>> {
        let _ = auth;
        Box::pin(async {
            Err(DriverError::Unsupported(format!(
                "the {} driver does not list session ids",
                self.vendor()
            )))
        })
    }

    /// The sessions open on the device with their users where the listing names them
    /// (BIG-IP tokens, Solace sessions), so a relative count can leave out the sessions
    /// of users the scenario never used. Without users, the ids of [`Driver::session_ids`].
    fn session_list<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<Listed>>, DriverError>> {
        Box::pin(async move {
            let a = self.session_ids(auth).await?;
            let value = a.value.into_iter().map(|id| Listed { id, user: None }).collect();
            Ok(Answer { value, exchange: a.exchange })
        })
    }

    /// The idle timeout new sessions get (`None`: sessions never idle out).
    fn idle_timeout(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>>;

    /// Sets the idle timeout.
    fn set_idle_timeout(&self, timeout: Duration) -> BoxFuture<'_, Result<Exchange, DriverError>>;

    /// The maximum session lifetime (`None`: the device has none, or does not say).
    fn max_lifetime(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>>;

    /// Creates an account.
    fn create_user<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
        role: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>>;

    /// Changes an account's password.
    fn change_password<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>>;

    /// Deletes an account.
    fn delete_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Exchange, DriverError>>;

    /// Changes the authentication configuration, if the protocol has a way.
    fn change_auth_config(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async {
            Err(DriverError::Unsupported(format!(
                "the {} driver has no wire call that changes the authentication configuration",
                self.vendor()
            )))
        })
    }

    /// Restarts the device and returns once it answers again.
    fn restart(&self) -> BoxFuture<'_, Result<Exchange, DriverError>>;

    /// An administrator ends another session.
    fn admin_delete<'a>(
        &'a self,
        session: &'a SessionHandle,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>>;

    /// Session types this protocol cannot end over the wire (they only time out); the
    /// runner's leak check does not count them.
    fn sessions_without_logout(&self) -> &'static [&'static str] {
        &[]
    }

    /// Sends a raw request.
    fn raw<'a>(&'a self, call: RawCall<'a>) -> BoxFuture<'a, Result<Reply, DriverError>>;

    /// The session a raw request created, if it was a successful login, so the runner
    /// can log it out later.
    fn adopt(&self, call: &RawCall<'_>, reply: &Reply, user: &str) -> Option<SessionHandle>;
}

/// Settings every driver gets.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// The device's base URL.
    pub url: String,
    /// The target's credentials (for administrative calls).
    pub admin: Credentials,
    /// Accept invalid TLS certificates.
    pub insecure: bool,
    /// How long to let a restarting device go down before polling it (0 on emulators).
    pub restart_grace: Duration,
    /// How long a restart may take before the device must answer again.
    pub restart_timeout: Duration,
}

/// The vendors with a driver.
pub const VENDORS: &[&str] = &["redfish", "bigip", "idrac", "ilo", "solace"];

/// The driver for `vendor`.
pub fn for_vendor(vendor: &str, config: DriverConfig) -> Result<Box<dyn Driver>, String> {
    match vendor {
        "redfish" => Ok(Box::new(redfish::RedfishDriver::new(config)?)),
        "bigip" => Ok(Box::new(bigip::BigipDriver::new(config)?)),
        "idrac" => Ok(Box::new(idrac::IdracDriver::new(config)?)),
        "ilo" => Ok(Box::new(ilo::IloDriver::new(config)?)),
        "solace" => Ok(Box::new(solace::SolaceDriver::new(config)?)),
        other => Err(format!(
            "no driver for vendor {other:?}; drivers exist for: {}",
            VENDORS.join(", ")
        )),
    }
}

/// The HTTP client every driver uses: one connection pool, the harness's User-Agent,
/// no automatic redirects (a scenario may want to see them), optional invalid
/// certificates.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    base: String,
}

/// The product part of the User-Agent the harness sends.
pub const USER_AGENT: &str = concat!("sessionlab-conformance/", env!("CARGO_PKG_VERSION"));

/// The User-Agent this run of the harness sends: [`USER_AGENT`] and a number drawn at
/// start, so that a sweep of a device's sessions finds this run's own sessions and not
/// another client's (nor another harness run's).
pub fn user_agent() -> &'static str {
    static AGENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        // RandomState's keys come from the operating system's randomness.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        format!("{USER_AGENT} (run {:016x})", h.finish())
    })
}

/// Header names whose values never reach a report.
const SECRET_HEADERS: &[&str] =
    &["x-auth-token", "set-cookie", "authorization", "x-f5-auth-token", "cookie"];

/// Whether a header's value is a secret that reports must not show.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str())
}

impl Http {
    /// A client for the device at `base` (`http(s)://host:port`).
    pub fn new(base: &str, insecure: bool) -> Result<Http, String> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent())
            .danger_accept_invalid_certs(insecure)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Http { client, base: base.trim_end_matches('/').to_string() })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `path` resolved against the base (absolute URLs are kept).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    /// The path of `location` if it is on this device (absolute or relative).
    pub fn path_of(&self, location: &str) -> String {
        location.strip_prefix(&self.base).map(str::to_string).unwrap_or_else(|| {
            match location.split_once("://") {
                Some((_, rest)) => {
                    rest.find('/').map_or("/".to_string(), |i| rest[i..].to_string())
                }
                None => location.to_string(),
            }
        })
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        basic: Option<&Credentials>,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, DriverError> {
        let url = self.url(path);
        let shown = format!("{method} {}", self.path_of(&url));
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| {
            DriverError::Transport(Exchange::failed(shown.clone(), format!("bad method: {e}")))
        })?;
        let mut req = self.client.request(method_value, &url);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(c) = basic {
            req = req.basic_auth(&c.user, Some(&c.password));
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let transport = |e: reqwest::Error| {
            DriverError::Transport(Exchange::failed(shown.clone(), error_chain(&e)))
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let mut all = BTreeMap::new();
        let mut shown_headers = BTreeMap::new();
        for (name, value) in resp.headers() {
            let name = name.as_str().to_ascii_lowercase();
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let redacted = if SECRET_HEADERS.contains(&name.as_str()) {
                "[redacted]".to_string()
            } else {
                value.clone()
            };
            shown_headers
                .entry(name.clone())
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(&redacted);
                })
                .or_insert(redacted);
            all.entry(name)
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        let text = String::from_utf8_lossy(&bytes);
        let json = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
        Ok(Reply {
            status,
            headers: all,
            json,
            exchange: Exchange {
                request: shown,
                status: Some(status),
                headers: shown_headers,
                body: excerpt(&text),
            },
        })
    }
}

/// An error with its causes, on one line (reqwest hides the useful part in `source`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies are cut and flattened for reports.
    #[test]
    fn excerpts_are_short_and_flat() {
        assert_eq!(excerpt("{\n  \"a\": 1\n}"), "{ \"a\": 1 }");
        let long = "x".repeat(1000);
        assert_eq!(excerpt(&long).len(), BODY_EXCERPT + 3);
    }

    /// Secrets never show in `Debug`.
    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::new("admin", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        let s = SessionHandle {
            id: "1".into(),
            uri: "/s/1".into(),
            user: "admin".into(),
            token: "deadbeef".into(),
        };
        assert!(!format!("{s:?}").contains("deadbeef"));
    }

    /// Locations are read as paths whether absolute or relative.
    #[test]
    fn locations_become_paths() {
        let h = Http::new("http://127.0.0.1:1", false).unwrap();
        assert_eq!(h.path_of("http://127.0.0.1:1/redfish/v1/x"), "/redfish/v1/x");
        assert_eq!(h.path_of("/redfish/v1/x"), "/redfish/v1/x");
        assert_eq!(h.path_of("https://other:8443/a"), "/a");
    }
}
