//! The Solace PubSub+ driver (SEMPv2 sessions), for the emulator's `solace-*` profiles
//! and real appliance and software brokers.
//!
//! The rules are in Part 2 of `shared/vendors/bigip-solace.md` and the seed document
//! `shared/seeds/003_8e2f3587e4fa89dc.txt`. A broker has no login endpoint: the first
//! request with HTTP Basic credentials opens a session and its answer sets the `Session`
//! cookie; the cookie alone authenticates later requests.
//!
//! | Step | Wire |
//! | --- | --- |
//! | login | `GET /SEMP/v2/monitor/about/user` with Basic: 200 with `Set-Cookie: Session=...` and `data.sessionId`; 529 is "table full" |
//! | logout | `PUT /SEMP/v2/action/about/user/logout` with `{}` and the cookie |
//! | use, expect_valid/invalid | `GET /SEMP/v2/monitor/about/user` with only the cookie: 200 valid, 401 invalid |
//! | count | `GET /SEMP/v2/monitor/sessions` (`meta.count`, else every page) |
//! | idle timeout, max lifetime | `serviceSempSessionIdleTimeout` and `serviceSempSessionMaxLifetime` (minutes) of `/SEMP/v2/config` |
//! | users | `/SEMP/v2/__private_config__/usernames`: POST, PATCH `password`, DELETE (private API) |
//! | auth config | the emulator's management auth type on `/SEMP/v2/__private_config__`, changed and put back |
//! | admin delete | `PUT /SEMP/v2/action/sessions/{user},{id}/delete` with `{}` |
//! | restart | none: SEMPv2 has no call that restarts a broker |
//!
//! Administrative calls use HTTP Basic with the target's credentials. On a broker every
//! such request opens a session, so the driver logs each one out again at once (and a
//! session count read that way leaves out the session the count itself opened). When the
//! table is full a Basic request gets 529: scenarios read counts `via` a session then.

use std::time::Duration;

use serde_json::{json, Value};

use super::{
    credentials_answer, expect_success_hinted, json_of, logout_outcome, token_state, Answer, Auth,
    BoxFuture, Capability, Credentials, Driver, DriverConfig, DriverError, Exchange, Http, Listed,
    LoginOutcome, LogoutOutcome, RawCall, Reply, SessionHandle, TokenState,
};

/// The session cookie (bigip-solace.md 2.1, [P]).
const COOKIE: &str = "Session";

/// Who am I: every session's `about/user`.
const ABOUT_USER: &str = "/SEMP/v2/monitor/about/user";

/// Logout (bigip-solace.md 2.4, [P]).
const LOGOUT: &str = "/SEMP/v2/action/about/user/logout";

/// The sessions collection of the monitor API.
const SESSIONS: &str = "/SEMP/v2/monitor/sessions";

/// The Broker object holding both session timeouts.
const CONFIG: &str = "/SEMP/v2/config";

/// Local management users (private API).
const USERNAMES: &str = "/SEMP/v2/__private_config__/usernames";

/// The private config Broker object where the emulator keeps the management auth type.
const PRIVATE_CONFIG: &str = "/SEMP/v2/__private_config__";

/// The emulator's attribute holding the management auth type (see its profiles).
const AUTH_TYPE: &str = "cliAuthType";

const IDLE_TIMEOUT: &str = "serviceSempSessionIdleTimeout";
const MAX_LIFETIME: &str = "serviceSempSessionMaxLifetime";

/// The timeouts are whole minutes, at least 1 (bigip-solace.md 2.3, [P]).
const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest page of sessions a broker serves ("The maximum number of objects that can
/// be returned in a single page is 100", SEMP 10.26.4 private action spec).
const PAGE: usize = 100;

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Caller<'a> {
    /// No credentials.
    Nobody,
    /// HTTP Basic with the target's credentials (opens a session).
    Basic,
    /// A session's cookie.
    Cookie(&'a str),
}

/// The Solace driver.
#[derive(Debug)]
pub struct SolaceDriver {
    http: Http,
    config: DriverConfig,
}

/// The `Session` cookie an answer sets, if any.
fn set_cookie(reply: &Reply) -> Option<String> {
    let value = reply.header("set-cookie")?;
    value
        .split([',', ';'])
        .map(str::trim)
        .find_map(|part| part.strip_prefix(&format!("{COOKIE}=")).map(str::to_string))
        .filter(|v| !v.is_empty())
}

/// Percent-encodes one identifier for a path (unreserved characters stay).
fn encode(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `{user},{id}` with the comma unescaped (SEMP-API-Protocol, [P]).
fn session_key(user: &str, id: &str) -> String {
    format!("{},{}", encode(user), encode(id))
}

/// A scenario role (Redfish names are accepted) as a SEMP global access level.
#[allow(clippy::result_large_err)] // `DriverError` is the trait's error type, large or not
fn access_level(role: &str) -> Result<&'static str, DriverError> {
    match role.to_ascii_lowercase().as_str() {
        "readonly" | "read-only" => Ok("read-only"),
        "operator" | "read-write" => Ok("read-write"),
        "administrator" | "admin" => Ok("admin"),
        "none" | "noaccess" => Ok("none"),
        other => Err(DriverError::Unsupported(format!(
            "role {other:?} has no SEMP global access level (admin, read-write, read-only, none)"
        ))),
    }
}

impl SolaceDriver {
    /// A driver for the broker at `config.url`.
    pub fn new(config: DriverConfig) -> Result<SolaceDriver, String> {
        Ok(SolaceDriver { http: Http::new(&config.url, config.insecure)?, config })
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        caller: Caller<'_>,
        extra: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Reply, DriverError> {
        let mut headers = extra.to_vec();
        let basic = match caller {
            Caller::Nobody => None,
            Caller::Basic => Some(&self.config.admin),
            // A session without a token stands for a client with no credentials at all.
            Caller::Cookie("") => None,
            Caller::Cookie(token) => {
                headers.push(("Cookie".to_string(), format!("{COOKIE}={token}")));
                None
            }
        };
        self.http.send(method, path, &headers, basic, body).await
    }

    /// Ends the session an administrative Basic request opened, if it opened one.
    async fn close(&self, opened: Option<String>) {
        if let Some(token) = opened {
            let _ = self.send("PUT", LOGOUT, Caller::Cookie(&token), &[], Some(&json!({}))).await;
        }
    }

    /// An administrative request: with the session's cookie, or with Basic (the session it
    /// opens is logged out at once).
    async fn admin(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<Reply, DriverError> {
        match auth {
            Auth::Session(s) => self.send(method, path, Caller::Cookie(&s.token), &[], body).await,
            Auth::None => self.send(method, path, Caller::Nobody, &[], body).await,
            Auth::Admin => {
                let reply = self.send(method, path, Caller::Basic, &[], body).await?;
                self.close(set_cookie(&reply)).await;
                Ok(reply)
            }
        }
    }

    /// A successful answer, or `Unexpected` saying what was wanted.
    #[allow(clippy::result_large_err)] // `DriverError` is the trait's error type, large or not
    fn expect_success(reply: Reply, what: &str) -> Result<Reply, DriverError> {
        let hint = if reply.status == 529 {
            " (529: no SEMP session slot is free for the administrative request; read it `via` a session)"
        } else {
            ""
        };
        expect_success_hinted(reply, what, hint)
    }

    #[allow(clippy::result_large_err)] // `DriverError` is the trait's error type, large or not
    fn data(reply: &Reply, what: &str) -> Result<Value, DriverError> {
        reply.json.as_ref().and_then(|j| j.get("data")).cloned().ok_or_else(|| {
            DriverError::Unexpected {
                expected: format!("expected {what} in a SEMP envelope (`data`)"),
                exchange: reply.exchange.clone(),
            }
        })
    }

    /// A timeout attribute of the config Broker object, in minutes.
    async fn broker_minutes(&self, name: &str) -> Result<Answer<Option<Duration>>, DriverError> {
        let reply = Self::expect_success(
            self.admin("GET", CONFIG, Auth::Admin, None).await?,
            "reading the Broker object",
        )?;
        let data = Self::data(&reply, "the Broker object")?;
        let minutes =
            data.get(name).and_then(Value::as_u64).ok_or_else(|| DriverError::Unexpected {
                expected: format!("expected {name} (minutes) in the Broker object"),
                exchange: reply.exchange.clone(),
            })?;
        Ok(Answer {
            value: (minutes > 0).then(|| Duration::from_secs(minutes * 60)),
            exchange: reply.exchange,
        })
    }

    /// Counts the sessions listed with `caller`, following `nextPageUri`.
    async fn count_with(&self, caller: Caller<'_>) -> Result<(usize, Exchange), DriverError> {
        let mut path = format!("{SESSIONS}?count={PAGE}&select=sessionId");
        let mut total = 0;
        let mut first: Option<Exchange> = None;
        for _ in 0..1000 {
            let reply = Self::expect_success(
                self.send("GET", &path, caller, &[], None).await?,
                "listing the sessions",
            )?;
            let body = json_of(&reply, "the sessions listing")?;
            let exchange = first.get_or_insert_with(|| reply.exchange.clone()).clone();
            if let Some(n) = body.pointer("/meta/count").and_then(Value::as_u64) {
                return Ok((usize::try_from(n).unwrap_or(usize::MAX), exchange));
            }
            total += body.get("data").and_then(Value::as_array).map_or(0, Vec::len);
            match body.pointer("/meta/paging/nextPageUri").and_then(Value::as_str) {
                Some(next) => path = self.http.path_of(next),
                None => return Ok((total, exchange)),
            }
        }
        Err(DriverError::Unexpected {
            expected: "expected the sessions listing to end within 1000 pages".to_string(),
            exchange: first.unwrap_or_default(),
        })
    }

    /// The sessions listed with `caller`, following `nextPageUri`: each as
    /// `user,sessionId` (a session is named by both, as in its URI) with its user.
    async fn list_with(&self, caller: Caller<'_>) -> Result<(Vec<Listed>, Exchange), DriverError> {
        let mut path = format!("{SESSIONS}?count={PAGE}&select=sessionId,sessionUsername");
        let mut listed = Vec::new();
        let mut first: Option<Exchange> = None;
        for _ in 0..1000 {
            let reply = Self::expect_success(
                self.send("GET", &path, caller, &[], None).await?,
                "listing the sessions",
            )?;
            let body = json_of(&reply, "the sessions listing")?;
            let exchange = first.get_or_insert_with(|| reply.exchange.clone()).clone();
            let data = body.get("data").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
            for item in data {
                let text = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or_default();
                let (user, id) = (text("sessionUsername"), text("sessionId"));
                listed.push(Listed {
                    id: format!("{user},{id}"),
                    user: (!user.is_empty()).then(|| user.to_string()),
                });
            }
            match body.pointer("/meta/paging/nextPageUri").and_then(Value::as_str) {
                Some(next) => path = self.http.path_of(next),
                None => return Ok((listed, exchange)),
            }
        }
        Err(DriverError::Unexpected {
            expected: "expected the sessions listing to end within 1000 pages".to_string(),
            exchange: first.unwrap_or_default(),
        })
    }

    async fn private_broker(&self) -> Result<Reply, DriverError> {
        self.admin("GET", PRIVATE_CONFIG, Auth::Admin, None).await
    }
}

impl Driver for SolaceDriver {
    fn vendor(&self) -> &'static str {
        "solace"
    }

    fn supports(&self, capability: Capability) -> Result<(), String> {
        match capability {
            Capability::SessionType | Capability::CountByType => {
                Err("a Solace broker has one kind of SEMP session".to_string())
            }
            Capability::Restart => Err(
                "SEMPv2 has no call that restarts a broker (a restart ends every session: https://docs.solace.com/Admin/Broker-Manager/PubSub-Manager-Sessions.htm)"
                    .to_string(),
            ),
            _ => Ok(()),
        }
    }

    fn min_idle_timeout(&self) -> Option<Duration> {
        Some(MIN_IDLE_TIMEOUT)
    }

    fn probe(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let reply =
                self.send("GET", "/SEMP/v2/monitor/about/api", Caller::Nobody, &[], None).await?;
            let semp = reply.json.as_ref().is_some_and(|j| j.get("meta").is_some());
            if (reply.status == 200 || reply.status == 401) && semp {
                Ok(reply.exchange)
            } else {
                Err(DriverError::Unexpected {
                    expected: "expected /SEMP/v2/monitor/about/api to answer with a SEMP envelope (200, or 401 without credentials)".to_string(),
                    exchange: reply.exchange,
                })
            }
        })
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<Answer<bool>, DriverError>> {
        Box::pin(async move {
            let reply = self.admin("GET", ABOUT_USER, Auth::Admin, None).await?;
            credentials_answer(
                reply,
                format!("expected 200 (or 401) from {ABOUT_USER} with HTTP Basic"),
            )
        })
    }

    fn login<'a>(
        &'a self,
        credentials: &'a Credentials,
        session_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Answer<LoginOutcome>, DriverError>> {
        Box::pin(async move {
            if let Some(t) = session_type {
                return Err(DriverError::Unsupported(format!(
                    "a Solace broker has one kind of SEMP session, not {t:?}"
                )));
            }
            let reply = self.http.send("GET", ABOUT_USER, &[], Some(credentials), None).await?;
            let value = match reply.status {
                200 => {
                    let id = reply
                        .json
                        .as_ref()
                        .and_then(|j| j.pointer("/data/sessionId"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    match (set_cookie(&reply), id) {
                        (Some(token), Some(id)) => LoginOutcome::Accepted(SessionHandle {
                            uri: format!("{SESSIONS}/{}", session_key(&credentials.user, &id)),
                            id,
                            user: credentials.user.clone(),
                            token,
                        }),
                        (None, _) => LoginOutcome::Other(
                            "the first Basic request succeeded without setting the Session cookie"
                                .to_string(),
                        ),
                        (Some(token), None) => {
                            // A session without a visible id still has to be logged out.
                            self.close(Some(token)).await;
                            LoginOutcome::Other(
                                "about/user answered without data.sessionId".to_string(),
                            )
                        }
                    }
                }
                529 => LoginOutcome::RefusedFull,
                401 => LoginOutcome::BadCredentials,
                s => LoginOutcome::Other(format!("status {s}")),
            };
            Ok(Answer { value, exchange: reply.exchange })
        })
    }

    fn logout<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<LogoutOutcome>, DriverError>> {
        Box::pin(async move {
            let reply = self
                .send("PUT", LOGOUT, Caller::Cookie(&session.token), &[], Some(&json!({})))
                .await?;
            Ok(Answer { value: logout_outcome(reply.status), exchange: reply.exchange })
        })
    }

    fn check<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<TokenState>, DriverError>> {
        Box::pin(async move {
            let reply =
                self.send("GET", ABOUT_USER, Caller::Cookie(&session.token), &[], None).await?;
            Ok(Answer { value: token_state(reply.status), exchange: reply.exchange })
        })
    }

    fn count<'a>(
        &'a self,
        session_type: Option<&'a str>,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<usize>, DriverError>> {
        Box::pin(async move {
            if let Some(t) = session_type {
                return Err(DriverError::Unsupported(format!(
                    "a Solace broker has one kind of SEMP session, not {t:?}"
                )));
            }
            match auth {
                Auth::Session(s) => {
                    let (n, exchange) = self.count_with(Caller::Cookie(&s.token)).await?;
                    Ok(Answer { value: n, exchange })
                }
                Auth::None => {
                    let (n, exchange) = self.count_with(Caller::Nobody).await?;
                    Ok(Answer { value: n, exchange })
                }
                Auth::Admin => {
                    // The first page opens a session with Basic; later pages and the
                    // logout use its cookie, and the count leaves it out.
                    let first = Self::expect_success(
                        self.send(
                            "GET",
                            &format!("{SESSIONS}?count=1&select=sessionId"),
                            Caller::Basic,
                            &[],
                            None,
                        )
                        .await?,
                        "listing the sessions",
                    )?;
                    let opened = set_cookie(&first);
                    let result = match &opened {
                        Some(token) => self.count_with(Caller::Cookie(token)).await,
                        None => self.count_with(Caller::Basic).await,
                    };
                    self.close(opened.clone()).await;
                    let (n, _) = result?;
                    let own = usize::from(opened.is_some());
                    Ok(Answer { value: n.saturating_sub(own), exchange: first.exchange })
                }
            }
        })
    }

    fn session_ids<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<String>>, DriverError>> {
        Box::pin(async move {
            let a = self.session_list(auth).await?;
            Ok(Answer { value: a.value.into_iter().map(|l| l.id).collect(), exchange: a.exchange })
        })
    }

    /// The sessions with their users. Listed as the administrator, the session the
    /// listing itself opens (its Basic request) is left out: `AboutUser` names it.
    fn session_list<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<Listed>>, DriverError>> {
        Box::pin(async move {
            let caller = match auth {
                Auth::Session(s) => Caller::Cookie(&s.token),
                Auth::None => Caller::Nobody,
                Auth::Admin => Caller::Basic,
            };
            if !matches!(auth, Auth::Admin) {
                let (value, exchange) = self.list_with(caller).await?;
                return Ok(Answer { value, exchange });
            }
            let about = Self::expect_success(
                self.send(
                    "GET",
                    &format!("{ABOUT_USER}?select=sessionId,username"),
                    caller,
                    &[],
                    None,
                )
                .await?,
                "reading the administrator's own session",
            )?;
            let opened = set_cookie(&about);
            let own = opened.as_ref().and_then(|_| {
                let data = about.json.as_ref()?.get("data")?;
                let user = data.get("username")?.as_str()?;
                let id = data.get("sessionId")?.as_str()?;
                Some(format!("{user},{id}"))
            });
            let result = match &opened {
                Some(token) => self.list_with(Caller::Cookie(token)).await,
                None => self.list_with(Caller::Basic).await,
            };
            self.close(opened).await;
            let (mut value, _) = result?;
            value.retain(|l| Some(&l.id) != own.as_ref());
            Ok(Answer { value, exchange: about.exchange })
        })
    }

    fn idle_timeout(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(self.broker_minutes(IDLE_TIMEOUT))
    }

    fn set_idle_timeout(&self, timeout: Duration) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let minutes = timeout.as_secs().div_ceil(60).max(1);
            let body = json!({ IDLE_TIMEOUT: minutes });
            let reply = self.admin("PATCH", CONFIG, Auth::Admin, Some(&body)).await?;
            Ok(Self::expect_success(reply, &format!("PATCHing {IDLE_TIMEOUT}"))?.exchange)
        })
    }

    fn max_lifetime(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(self.broker_minutes(MAX_LIFETIME))
    }

    fn create_user<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
        role: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let level = access_level(role)?;
            let body =
                json!({ "userName": user, "password": password, "globalAccessLevel": level });
            let reply = self.admin("POST", USERNAMES, Auth::Admin, Some(&body)).await?;
            Ok(Self::expect_success(reply, &format!("creating the user {user:?}"))?.exchange)
        })
    }

    fn change_password<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let body = json!({ "password": password });
            let path = format!("{USERNAMES}/{}", encode(user));
            let reply = self.admin("PATCH", &path, Auth::Admin, Some(&body)).await?;
            Ok(Self::expect_success(reply, &format!("changing the password of {user:?}"))?.exchange)
        })
    }

    fn delete_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let path = format!("{USERNAMES}/{}", encode(user));
            let reply = self.admin("DELETE", &path, Auth::Admin, None).await?;
            Ok(Self::expect_success(reply, &format!("deleting the user {user:?}"))?.exchange)
        })
    }

    /// Changes the management auth type and puts it back: each change ends every
    /// session (seed 003). Where the broker does not expose the attribute (its name is
    /// not public) this is unsupported.
    fn change_auth_config(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let reply = self.private_broker().await?;
            let current = reply
                .json
                .as_ref()
                .and_then(|j| j.pointer(&format!("/data/{AUTH_TYPE}")))
                .and_then(Value::as_str)
                .map(str::to_string);
            let Some(current) = current.filter(|_| reply.status == 200) else {
                return Err(DriverError::Unsupported(format!(
                    "the broker shows no {AUTH_TYPE} on {PRIVATE_CONFIG}; the SEMP attribute for the management auth type is not public"
                )));
            };
            let other = if current == "ldap" { "internal" } else { "ldap" };
            let changed = Self::expect_success(
                self.admin(
                    "PATCH",
                    PRIVATE_CONFIG,
                    Auth::Admin,
                    Some(&json!({ AUTH_TYPE: other })),
                )
                .await?,
                &format!("changing {AUTH_TYPE} to {other}"),
            )?;
            Self::expect_success(
                self.admin(
                    "PATCH",
                    PRIVATE_CONFIG,
                    Auth::Admin,
                    Some(&json!({ AUTH_TYPE: current })),
                )
                .await?,
                &format!("putting {AUTH_TYPE} back to {current}"),
            )?;
            Ok(changed.exchange)
        })
    }

    fn restart(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async {
            Err(DriverError::Unsupported("SEMPv2 has no call that restarts a broker".to_string()))
        })
    }

    fn admin_delete<'a>(
        &'a self,
        session: &'a SessionHandle,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let path = format!(
                "/SEMP/v2/action/sessions/{}/delete",
                session_key(&session.user, &session.id)
            );
            let reply = self.admin("PUT", &path, auth, Some(&json!({}))).await?;
            Ok(Self::expect_success(reply, "deleting the session as an administrator")?.exchange)
        })
    }

    fn raw<'a>(&'a self, call: RawCall<'a>) -> BoxFuture<'a, Result<Reply, DriverError>> {
        Box::pin(async move {
            let caller = match call.auth {
                Auth::None => Caller::Nobody,
                Auth::Admin => Caller::Basic,
                Auth::Session(s) => Caller::Cookie(&s.token),
            };
            self.send(&call.method, &call.path, caller, &call.headers, call.body.as_ref()).await
        })
    }

    /// Any answer that sets the `Session` cookie opened a session (every first Basic
    /// request does), so the runner logs it out later.
    fn adopt(&self, _call: &RawCall<'_>, reply: &Reply, user: &str) -> Option<SessionHandle> {
        let token = set_cookie(reply)?;
        let id = reply
            .json
            .as_ref()
            .and_then(|j| j.pointer("/data/sessionId"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let uri = id
            .as_ref()
            .map(|id| format!("{SESSIONS}/{}", session_key(user, id)))
            .unwrap_or_default();
        Some(SessionHandle {
            id: id.unwrap_or_else(|| "(set by a raw request)".to_string()),
            uri,
            user: user.to_string(),
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bigip-solace.md 2.4: session URIs keep the comma between user and id unescaped.
    #[test]
    fn session_keys_keep_the_comma() {
        assert_eq!(session_key("admin", "0a1b"), "admin,0a1b");
        assert_eq!(session_key("a b", "x,y"), "a%20b,x%2Cy");
    }

    /// Scenario roles map onto SEMP global access levels.
    #[test]
    fn roles_map_to_access_levels() {
        assert_eq!(access_level("ReadOnly").unwrap(), "read-only");
        assert_eq!(access_level("Operator").unwrap(), "read-write");
        assert_eq!(access_level("Administrator").unwrap(), "admin");
        assert!(access_level("Wizard").is_err());
    }
}
