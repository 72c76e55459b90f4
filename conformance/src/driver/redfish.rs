//! The Redfish driver (DMTF DSP0266), for any Redfish service: the `redfish` profile of
//! the emulator, and real BMCs.
//!
//! | Step | Wire |
//! | --- | --- |
//! | login | `POST` the Sessions collection (`Links.Sessions` of the service root) with `{"UserName", "Password"}`; 201 with `X-Auth-Token` and `Location` |
//! | logout | `DELETE` the session's URI with its own token |
//! | use, expect_valid/invalid | `GET` the SessionService with the token: 200 valid, 401 invalid |
//! | count | `GET` the Sessions collection: `Members@odata.count` (per type: each member's `SessionType`) |
//! | idle timeout | `SessionService.SessionTimeout` (GET, PATCH; 30..86400 s) |
//! | max lifetime | `SessionService.AbsoluteSessionTimeout` when `AbsoluteSessionTimeoutEnabled` (schema 2024.4) |
//! | users | `AccountService/Accounts`: POST `{UserName, Password, RoleId}`, PATCH `Password`, DELETE |
//! | restart | `Manager.Reset` of the first manager, then poll the service root |
//! | admin delete | `DELETE` the session's URI with the administrator's credentials |
//!
//! Administrative calls use HTTP Basic with the target's credentials: DSP0266 says Basic
//! never requires creating a session, so they do not disturb session counts.
//! A refusal is "table full" when its body names `SessionLimitExceeded`, whatever the
//! status (the registry gives it none: 503 on OpenBMC and iDRAC, 403 on older XCC).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use super::{
    credentials_answer, expect_success, is_success, json_of, logout_outcome, token_state, Answer,
    Auth, BoxFuture, Capability, Credentials, Driver, DriverConfig, DriverError, Exchange, Http,
    LoginOutcome, LogoutOutcome, RawCall, Reply, SessionHandle, TokenState,
};

/// `SessionService.SessionTimeout` bounds (DSP0266 SessionService schema).
const MIN_SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// URIs found by following links from the service root.
#[derive(Clone, Debug)]
struct Links {
    sessions: String,
    session_service: String,
    account_service: String,
    managers: String,
}

impl Default for Links {
    fn default() -> Self {
        Links {
            sessions: "/redfish/v1/SessionService/Sessions".to_string(),
            session_service: "/redfish/v1/SessionService".to_string(),
            account_service: "/redfish/v1/AccountService".to_string(),
            managers: "/redfish/v1/Managers".to_string(),
        }
    }
}

/// The Redfish driver.
#[derive(Debug)]
pub struct RedfishDriver {
    http: Http,
    config: DriverConfig,
    links: Mutex<Links>,
    /// Account URIs by user name, learnt from creation or lookup.
    accounts: Mutex<HashMap<String, String>>,
}

/// `Some(id)` of a JSON `{"@odata.id": id}` link.
pub(crate) fn link(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(|l| l.get("@odata.id")).and_then(Value::as_str).map(str::to_string)
}

/// The `@odata.id` of each entry of a collection's `Members`.
pub(crate) fn members(body: &Value) -> Vec<String> {
    body.get("Members")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(|l| l.get("@odata.id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a body or its headers name `SessionLimitExceeded`.
fn names_session_limit(reply: &Reply) -> bool {
    reply.json.as_ref().is_some_and(|j| j.to_string().contains("SessionLimitExceeded"))
        || reply.exchange.body.contains("SessionLimitExceeded")
}

/// The headers and HTTP Basic credentials a Redfish request carries for `auth`: the
/// session's `X-Auth-Token`, or Basic with `admin`.
pub(crate) fn auth_headers<'c>(
    auth: Auth<'_>,
    admin: &'c Credentials,
) -> (Vec<(String, String)>, Option<&'c Credentials>) {
    match auth {
        Auth::None => (Vec::new(), None),
        Auth::Admin => (Vec::new(), Some(admin)),
        // A session without a token stands for a client with no credentials at all.
        Auth::Session(s) if s.token.is_empty() => (Vec::new(), None),
        Auth::Session(s) => (vec![("X-Auth-Token".to_string(), s.token.clone())], None),
    }
}

/// Reads the service root at `path` without credentials: it must answer 200 with JSON.
pub(crate) async fn read_service_root(
    http: &Http,
    path: &str,
) -> Result<(Value, Exchange), DriverError> {
    let reply = http.send("GET", path, &[], None, None).await?;
    if reply.status != 200 {
        return Err(DriverError::Unexpected {
            expected: format!("expected the service root {path} to answer 200 without credentials"),
            exchange: reply.exchange,
        });
    }
    let root = json_of(&reply, "the service root")?;
    Ok((root, reply.exchange))
}

/// Whether the SessionService at `uri` accepts `admin` with HTTP Basic (200 yes, 401 no).
pub(crate) async fn check_basic(
    http: &Http,
    admin: &Credentials,
    uri: &str,
) -> Result<Answer<bool>, DriverError> {
    let reply = http.send("GET", uri, &[], Some(admin), None).await?;
    credentials_answer(reply, "expected 200 (or 401) reading the SessionService with HTTP Basic")
}

/// The session logs itself out: `DELETE` its URI with its own token.
pub(crate) async fn logout_session(
    http: &Http,
    session: &SessionHandle,
) -> Result<Answer<LogoutOutcome>, DriverError> {
    let headers = [("X-Auth-Token".to_string(), session.token.clone())];
    let reply = http.send("DELETE", &session.uri, &headers, None, None).await?;
    Ok(Answer { value: logout_outcome(reply.status), exchange: reply.exchange })
}

/// Whether the session's token is accepted: `GET` the SessionService at `uri` with it.
pub(crate) async fn check_session(
    http: &Http,
    uri: &str,
    session: &SessionHandle,
) -> Result<Answer<TokenState>, DriverError> {
    let (headers, _) = auth_headers(Auth::Session(session), &Credentials::new("", ""));
    let reply = http.send("GET", uri, &headers, None, None).await?;
    Ok(Answer { value: token_state(reply.status), exchange: reply.exchange })
}

/// A login that did not succeed: table full, bad credentials, or something else.
pub(crate) fn refused_login(status: u16, table_full: bool) -> LoginOutcome {
    if table_full {
        LoginOutcome::RefusedFull
    } else if status == 401 {
        LoginOutcome::BadCredentials
    } else {
        LoginOutcome::Other(format!("status {status}"))
    }
}

/// The members of a Sessions collection listing, checked against
/// `Members@odata.count`, with the listing's exchange.
pub(crate) fn listed_sessions(reply: Reply) -> Result<(Vec<String>, Exchange), DriverError> {
    let reply = expect_success(reply, "listing the Sessions collection")?;
    let body = json_of(&reply, "the Sessions collection")?;
    let members = members(&body);
    let declared = body.get("Members@odata.count").and_then(Value::as_u64);
    if declared.and_then(|n| usize::try_from(n).ok()) != Some(members.len()) {
        return Err(DriverError::Unexpected {
            expected: format!(
                "expected Members@odata.count to equal the {} members listed",
                members.len()
            ),
            exchange: reply.exchange,
        });
    }
    Ok((members, reply.exchange))
}

/// Whether one session read from the collection has the `SessionType` `wanted`. A
/// session that ended between the listing and this read (404) does not.
pub(crate) fn has_session_type(one: Reply, wanted: &str) -> Result<bool, DriverError> {
    if one.status == 404 {
        return Ok(false);
    }
    let one = expect_success(one, "reading a session")?;
    let kind = one.json.as_ref().and_then(|j| j.get("SessionType")).and_then(Value::as_str);
    Ok(kind.is_some_and(|k| k.eq_ignore_ascii_case(wanted)))
}

/// The SessionService's body from an administrative `GET` of it.
pub(crate) fn session_service_body(reply: Reply) -> Result<(Value, Exchange), DriverError> {
    let reply = expect_success(reply, "reading the SessionService")?;
    Ok((json_of(&reply, "the SessionService")?, reply.exchange))
}

/// `SessionService.SessionTimeout` (0: none).
pub(crate) fn session_timeout(
    body: &Value,
    exchange: Exchange,
) -> Result<Answer<Option<Duration>>, DriverError> {
    let secs = body.get("SessionTimeout").and_then(Value::as_u64).ok_or_else(|| {
        DriverError::Unexpected {
            expected: "expected SessionService.SessionTimeout (seconds)".to_string(),
            exchange: exchange.clone(),
        }
    })?;
    Ok(Answer { value: (secs > 0).then(|| Duration::from_secs(secs)), exchange })
}

/// After a `Manager.Reset`: lets the device go down for the restart grace, then polls
/// the service root until it answers 200, within the restart timeout.
pub(crate) async fn wait_after_reset(
    http: &Http,
    config: &DriverConfig,
) -> Result<Exchange, DriverError> {
    if !config.restart_grace.is_zero() {
        tokio::time::sleep(config.restart_grace).await;
    }
    let tries = (config.restart_timeout.as_secs() / 2).max(1);
    let mut last = None;
    for attempt in 0..tries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        match http.send("GET", "/redfish/v1/", &[], None, None).await {
            Ok(reply) if reply.status == 200 => return Ok(reply.exchange),
            Ok(reply) => last = Some(DriverError::Transport(reply.exchange)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| DriverError::Unsupported("no restart poll".to_string())))
}

/// A raw request with Redfish credentials (`auth = "basic"` sends HTTP Basic with `admin`).
pub(crate) async fn send_raw(
    http: &Http,
    admin: &Credentials,
    call: RawCall<'_>,
) -> Result<Reply, DriverError> {
    let (mut headers, basic) = auth_headers(call.auth, admin);
    headers.extend(call.headers.iter().cloned());
    http.send(&call.method, &call.path, &headers, basic, call.body.as_ref()).await
}

/// Whether a raw request was a successful `POST` (a login, if it gave a token).
pub(crate) fn is_successful_post(call: &RawCall<'_>, reply: &Reply) -> bool {
    call.method == "POST" && is_success(reply.status)
}

/// The new session's URI: `Location`, else the body's `@odata.id`.
pub(crate) fn session_location(http: &Http, reply: &Reply) -> Option<String> {
    reply.header("location").map(|l| http.path_of(l)).or_else(|| {
        reply
            .json
            .as_ref()
            .and_then(|j| j.get("@odata.id"))
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

/// The session's `Id` from the body, if it has one.
pub(crate) fn body_id(reply: &Reply) -> Option<String> {
    reply.json.as_ref().and_then(|j| j.get("Id")).and_then(Value::as_str).map(str::to_string)
}

impl RedfishDriver {
    /// A driver for the service at `config.url`.
    pub fn new(config: DriverConfig) -> Result<RedfishDriver, String> {
        Ok(RedfishDriver {
            http: Http::new(&config.url, config.insecure)?,
            config,
            links: Mutex::new(Links::default()),
            accounts: Mutex::new(HashMap::new()),
        })
    }

    fn links(&self) -> Links {
        self.links.lock().expect("links lock").clone()
    }

    /// A request with `auth`: the session's token, or HTTP Basic for the administrator.
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<Reply, DriverError> {
        let (headers, basic) = auth_headers(auth, &self.config.admin);
        self.http.send(method, path, &headers, basic, body).await
    }

    async fn session_service(&self) -> Result<(Value, Exchange), DriverError> {
        let uri = self.links().session_service;
        session_service_body(self.send("GET", &uri, Auth::Admin, None).await?)
    }

    async fn accounts_uri(&self) -> Result<String, DriverError> {
        let service = self.links().account_service;
        let reply = expect_success(
            self.send("GET", &service, Auth::Admin, None).await?,
            "reading the AccountService",
        )?;
        let body = json_of(&reply, "the AccountService")?;
        Ok(link(&body, "/Accounts").unwrap_or_else(|| format!("{service}/Accounts")))
    }

    /// The URI of `user`'s account: remembered from creation, else found by listing.
    async fn account_uri(&self, user: &str) -> Result<String, DriverError> {
        if let Some(uri) = self.accounts.lock().expect("accounts lock").get(user) {
            return Ok(uri.clone());
        }
        let collection = self.accounts_uri().await?;
        let reply = expect_success(
            self.send("GET", &collection, Auth::Admin, None).await?,
            "listing the accounts",
        )?;
        let body = json_of(&reply, "the Accounts collection")?;
        for uri in members(&body) {
            let account = self.send("GET", &uri, Auth::Admin, None).await?;
            if account.json.as_ref().and_then(|j| j.get("UserName")).and_then(Value::as_str)
                == Some(user)
            {
                self.accounts.lock().expect("accounts lock").insert(user.to_string(), uri.clone());
                return Ok(uri);
            }
        }
        Err(DriverError::Unexpected {
            expected: format!("expected an account named {user:?} in {collection}"),
            exchange: reply.exchange,
        })
    }
}

impl Driver for RedfishDriver {
    fn vendor(&self) -> &'static str {
        "redfish"
    }

    fn supports(&self, capability: Capability) -> Result<(), String> {
        match capability {
            Capability::AuthConfig => {
                Err("DSP0266 has no standard call that changes the authentication configuration"
                    .to_string())
            }
            _ => Ok(()),
        }
    }

    fn min_idle_timeout(&self) -> Option<Duration> {
        Some(MIN_SESSION_TIMEOUT)
    }

    fn probe(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let (root, exchange) = read_service_root(&self.http, "/redfish/v1/").await?;
            let mut links = self.links.lock().expect("links lock");
            if let Some(s) = link(&root, "/Links/Sessions") {
                links.sessions = s;
            }
            if let Some(s) = link(&root, "/SessionService") {
                links.session_service = s;
            }
            if let Some(s) = link(&root, "/AccountService") {
                links.account_service = s;
            }
            if let Some(s) = link(&root, "/Managers") {
                links.managers = s;
            }
            Ok(exchange)
        })
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<Answer<bool>, DriverError>> {
        Box::pin(async move {
            let uri = self.links().session_service;
            check_basic(&self.http, &self.config.admin, &uri).await
        })
    }

    fn login<'a>(
        &'a self,
        credentials: &'a Credentials,
        session_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Answer<LoginOutcome>, DriverError>> {
        Box::pin(async move {
            if let Some(t) = session_type {
                if !t.eq_ignore_ascii_case("redfish") {
                    return Err(DriverError::Unsupported(format!(
                        "a Redfish login opens a \"redfish\" session, not {t:?}"
                    )));
                }
            }
            let uri = self.links().sessions;
            let body = json!({ "UserName": credentials.user, "Password": credentials.password });
            let reply = self.send("POST", &uri, Auth::None, Some(&body)).await?;
            let value = if is_success(reply.status) {
                match (reply.header("x-auth-token"), session_location(&self.http, &reply)) {
                    (Some(token), Some(location)) => LoginOutcome::Accepted(SessionHandle {
                        id: session_id(&reply, &location),
                        uri: location,
                        user: credentials.user.clone(),
                        token: token.to_string(),
                    }),
                    (None, _) => LoginOutcome::Other(
                        "the login succeeded without an X-Auth-Token header".to_string(),
                    ),
                    (Some(_), None) => LoginOutcome::Other(
                        "the login succeeded without a Location header".to_string(),
                    ),
                }
            } else {
                refused_login(reply.status, names_session_limit(&reply))
            };
            // A login that succeeded without what the driver needs still opened a
            // session; adopt it if possible so it gets logged out.
            Ok(Answer { value, exchange: reply.exchange })
        })
    }

    fn logout<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<LogoutOutcome>, DriverError>> {
        Box::pin(logout_session(&self.http, session))
    }

    fn check<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<TokenState>, DriverError>> {
        Box::pin(async move {
            let uri = self.links().session_service;
            check_session(&self.http, &uri, session).await
        })
    }

    fn count<'a>(
        &'a self,
        session_type: Option<&'a str>,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<usize>, DriverError>> {
        Box::pin(async move {
            let uri = self.links().sessions;
            let (members, exchange) = listed_sessions(self.send("GET", &uri, auth, None).await?)?;
            let Some(wanted) = session_type else {
                return Ok(Answer { value: members.len(), exchange });
            };
            let mut n = 0;
            for member in &members {
                if has_session_type(self.send("GET", member, auth, None).await?, wanted)? {
                    n += 1;
                }
            }
            Ok(Answer { value: n, exchange })
        })
    }

    fn idle_timeout(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            let (body, exchange) = self.session_service().await?;
            session_timeout(&body, exchange)
        })
    }

    fn set_idle_timeout(&self, timeout: Duration) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let uri = self.links().session_service;
            let body = json!({ "SessionTimeout": timeout.as_secs() });
            let reply = self.send("PATCH", &uri, Auth::Admin, Some(&body)).await?;
            Ok(expect_success(reply, "PATCHing SessionService.SessionTimeout")?.exchange)
        })
    }

    fn max_lifetime(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            let (body, exchange) = self.session_service().await?;
            let enabled =
                body.get("AbsoluteSessionTimeoutEnabled").and_then(Value::as_bool).unwrap_or(false);
            let secs = body.get("AbsoluteSessionTimeout").and_then(Value::as_u64).unwrap_or(0);
            let value = (enabled && secs > 0).then(|| Duration::from_secs(secs));
            Ok(Answer { value, exchange })
        })
    }

    fn create_user<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
        role: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let collection = self.accounts_uri().await?;
            let body =
                json!({ "UserName": user, "Password": password, "RoleId": role, "Enabled": true });
            let reply = expect_success(
                self.send("POST", &collection, Auth::Admin, Some(&body)).await?,
                &format!("creating the account {user:?}"),
            )?;
            let uri = reply
                .header("location")
                .map(|l| self.http.path_of(l))
                .or_else(|| reply.json.as_ref().and_then(|j| link(j, "")));
            if let Some(uri) = uri {
                self.accounts.lock().expect("accounts lock").insert(user.to_string(), uri);
            }
            Ok(reply.exchange)
        })
    }

    fn change_password<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let uri = self.account_uri(user).await?;
            let body = json!({ "Password": password });
            let reply = self.send("PATCH", &uri, Auth::Admin, Some(&body)).await?;
            Ok(expect_success(reply, &format!("changing the password of {user:?}"))?.exchange)
        })
    }

    fn delete_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let uri = self.account_uri(user).await?;
            let reply = expect_success(
                self.send("DELETE", &uri, Auth::Admin, None).await?,
                &format!("deleting the account {user:?}"),
            )?;
            self.accounts.lock().expect("accounts lock").remove(user);
            Ok(reply.exchange)
        })
    }

    fn restart(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let managers = self.links().managers;
            let reply = expect_success(
                self.send("GET", &managers, Auth::Admin, None).await?,
                "listing the Managers",
            )?;
            let body = json_of(&reply, "the Managers collection")?;
            let first = link(&body, "/Members/0").ok_or_else(|| DriverError::Unexpected {
                expected: "expected at least one manager".to_string(),
                exchange: reply.exchange.clone(),
            })?;
            let manager = expect_success(
                self.send("GET", &first, Auth::Admin, None).await?,
                "reading the manager",
            )?;
            let manager_body = json_of(&manager, "the manager")?;
            let action = manager_body.pointer("/Actions/#Manager.Reset");
            let target = action
                .and_then(|a| a.get("target"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{first}/Actions/Manager.Reset"));
            let allowed: Vec<&str> = action
                .and_then(|a| a.get("ResetType@Redfish.AllowableValues"))
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let kind = ["GracefulRestart", "ForceRestart"]
                .into_iter()
                .find(|k| allowed.is_empty() || allowed.contains(k))
                .or_else(|| allowed.first().copied())
                .unwrap_or("GracefulRestart");
            let body = json!({ "ResetType": kind });
            let reply = expect_success(
                self.send("POST", &target, Auth::Admin, Some(&body)).await?,
                "Manager.Reset",
            )?;
            wait_after_reset(&self.http, &self.config).await?;
            Ok(reply.exchange)
        })
    }

    fn admin_delete<'a>(
        &'a self,
        session: &'a SessionHandle,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let reply = self.send("DELETE", &session.uri, auth, None).await?;
            Ok(expect_success(reply, "deleting the session as an administrator")?.exchange)
        })
    }

    fn raw<'a>(&'a self, call: RawCall<'a>) -> BoxFuture<'a, Result<Reply, DriverError>> {
        Box::pin(send_raw(&self.http, &self.config.admin, call))
    }

    fn session_ids<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<String>>, DriverError>> {
        Box::pin(async move {
            let uri = self.links().sessions;
            let (members, exchange) = listed_sessions(self.send("GET", &uri, auth, None).await?)?;
            Ok(Answer { value: members, exchange })
        })
    }

    fn adopt(&self, call: &RawCall<'_>, reply: &Reply, user: &str) -> Option<SessionHandle> {
        if !is_successful_post(call, reply) {
            return None;
        }
        let token = reply.header("x-auth-token")?;
        let location = session_location(&self.http, reply)?;
        Some(SessionHandle {
            id: session_id(reply, &location),
            uri: location,
            user: user.to_string(),
            token: token.to_string(),
        })
    }
}

/// The session's `Id` from the body, else the last segment of its URI.
pub(crate) fn session_id(reply: &Reply, location: &str) -> String {
    body_id(reply).unwrap_or_else(|| {
        location.trim_end_matches('/').rsplit('/').next().unwrap_or(location).to_string()
    })
}
