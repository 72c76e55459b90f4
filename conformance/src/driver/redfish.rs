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
    Answer, Auth, BoxFuture, Capability, Credentials, Driver, DriverConfig, DriverError, Exchange,
    Http, LoginOutcome, LogoutOutcome, RawCall, Reply, SessionHandle, TokenState,
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
fn link(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(|l| l.get("@odata.id")).and_then(Value::as_str).map(str::to_string)
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Whether a body or its headers name `SessionLimitExceeded`.
fn names_session_limit(reply: &Reply) -> bool {
    reply.json.as_ref().is_some_and(|j| j.to_string().contains("SessionLimitExceeded"))
        || reply.exchange.body.contains("SessionLimitExceeded")
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

    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<Reply, DriverError> {
        let (headers, basic) = match auth {
            Auth::None => (Vec::new(), None),
            Auth::Admin => (Vec::new(), Some(&self.config.admin)),
            Auth::Session(s) => (vec![("X-Auth-Token".to_string(), s.token.clone())], None),
        };
        self.http.send(method, path, &headers, basic, body).await
    }

    /// A successful answer, or `Unexpected` saying what was wanted.
    fn expect_success(reply: Reply, what: &str) -> Result<Reply, DriverError> {
        if is_success(reply.status) {
            Ok(reply)
        } else {
            Err(DriverError::Unexpected {
                expected: format!("expected {what} to succeed (2xx)"),
                exchange: reply.exchange,
            })
        }
    }

    fn json_of(reply: &Reply, what: &str) -> Result<Value, DriverError> {
        reply.json.clone().ok_or_else(|| DriverError::Unexpected {
            expected: format!("expected {what} as JSON"),
            exchange: reply.exchange.clone(),
        })
    }

    async fn session_service(&self) -> Result<(Value, Exchange), DriverError> {
        let uri = self.links().session_service;
        let reply = Self::expect_success(
            self.send("GET", &uri, Auth::Admin, None).await?,
            "reading the SessionService",
        )?;
        Ok((Self::json_of(&reply, "the SessionService")?, reply.exchange))
    }

    async fn accounts_uri(&self) -> Result<String, DriverError> {
        let service = self.links().account_service;
        let reply = Self::expect_success(
            self.send("GET", &service, Auth::Admin, None).await?,
            "reading the AccountService",
        )?;
        let body = Self::json_of(&reply, "the AccountService")?;
        Ok(link(&body, "/Accounts").unwrap_or_else(|| format!("{service}/Accounts")))
    }

    /// The URI of `user`'s account: remembered from creation, else found by listing.
    async fn account_uri(&self, user: &str) -> Result<String, DriverError> {
        if let Some(uri) = self.accounts.lock().expect("accounts lock").get(user) {
            return Ok(uri.clone());
        }
        let collection = self.accounts_uri().await?;
        let reply = Self::expect_success(
            self.send("GET", &collection, Auth::Admin, None).await?,
            "listing the accounts",
        )?;
        let body = Self::json_of(&reply, "the Accounts collection")?;
        let members: Vec<String> = body
            .get("Members")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(|l| l.get("@odata.id").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        for uri in members {
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

    /// Polls the service root until it answers 200, within the restart timeout.
    async fn wait_until_up(&self) -> Result<Exchange, DriverError> {
        let tries = (self.config.restart_timeout.as_secs() / 2).max(1);
        let mut last = None;
        for attempt in 0..tries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            match self.send("GET", "/redfish/v1/", Auth::None, None).await {
                Ok(reply) if reply.status == 200 => return Ok(reply.exchange),
                Ok(reply) => last = Some(DriverError::Transport(reply.exchange)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| DriverError::Unsupported("no restart poll".to_string())))
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
            let reply = self.send("GET", "/redfish/v1/", Auth::None, None).await?;
            if reply.status != 200 {
                return Err(DriverError::Unexpected {
                    expected:
                        "expected the service root /redfish/v1/ to answer 200 without credentials"
                            .to_string(),
                    exchange: reply.exchange,
                });
            }
            let root = Self::json_of(&reply, "the service root")?;
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
            Ok(reply.exchange)
        })
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<Answer<bool>, DriverError>> {
        Box::pin(async move {
            let uri = self.links().session_service;
            let reply = self.send("GET", &uri, Auth::Admin, None).await?;
            match reply.status {
                200 => Ok(Answer { value: true, exchange: reply.exchange }),
                401 => Ok(Answer { value: false, exchange: reply.exchange }),
                _ => Err(DriverError::Unexpected {
                    expected: "expected 200 (or 401) reading the SessionService with HTTP Basic"
                        .to_string(),
                    exchange: reply.exchange,
                }),
            }
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
                match (reply.header("x-auth-token"), self.session_location(&reply)) {
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
            } else if names_session_limit(&reply) {
                LoginOutcome::RefusedFull
            } else if reply.status == 401 {
                LoginOutcome::BadCredentials
            } else {
                LoginOutcome::Other(format!("status {}", reply.status))
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
        Box::pin(async move {
            let reply = self.send("DELETE", &session.uri, Auth::Session(session), None).await?;
            let value = match reply.status {
                s if is_success(s) => LogoutOutcome::LoggedOut,
                401 => LogoutOutcome::AlreadyInvalid,
                s => LogoutOutcome::Other(format!("status {s}")),
            };
            Ok(Answer { value, exchange: reply.exchange })
        })
    }

    fn check<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<TokenState>, DriverError>> {
        Box::pin(async move {
            let uri = self.links().session_service;
            let reply = self.send("GET", &uri, Auth::Session(session), None).await?;
            let value = match reply.status {
                200 => TokenState::Valid,
                401 => TokenState::Invalid,
                s => TokenState::Other(format!("status {s}")),
            };
            Ok(Answer { value, exchange: reply.exchange })
        })
    }

    fn count<'a>(
        &'a self,
        session_type: Option<&'a str>,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<usize>, DriverError>> {
        Box::pin(async move {
            let uri = self.links().sessions;
            let reply = Self::expect_success(
                self.send("GET", &uri, auth, None).await?,
                "listing the Sessions collection",
            )?;
            let body = Self::json_of(&reply, "the Sessions collection")?;
            let members: Vec<String> = body
                .get("Members")
                .and_then(Value::as_array)
                .map(|m| {
                    m.iter()
                        .filter_map(|l| l.get("@odata.id").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let declared = body.get("Members@odata.count").and_then(Value::as_u64);
            let declared = usize::try_from(declared.unwrap_or(u64::MAX)).ok();
            if declared != Some(members.len()) {
                return Err(DriverError::Unexpected {
                    expected: format!(
                        "expected Members@odata.count to equal the {} members listed",
                        members.len()
                    ),
                    exchange: reply.exchange,
                });
            }
            let Some(wanted) = session_type else {
                return Ok(Answer { value: members.len(), exchange: reply.exchange });
            };
            let mut n = 0;
            for member in &members {
                let one = self.send("GET", member, auth, None).await?;
                // A session that ended between the listing and this read is not counted.
                if one.status == 404 {
                    continue;
                }
                let one = Self::expect_success(one, "reading a session")?;
                let kind =
                    one.json.as_ref().and_then(|j| j.get("SessionType")).and_then(Value::as_str);
                if kind.is_some_and(|k| k.eq_ignore_ascii_case(wanted)) {
                    n += 1;
                }
            }
            Ok(Answer { value: n, exchange: reply.exchange })
        })
    }

    fn idle_timeout(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            let (body, exchange) = self.session_service().await?;
            let secs = body.get("SessionTimeout").and_then(Value::as_u64).ok_or_else(|| {
                DriverError::Unexpected {
                    expected: "expected SessionService.SessionTimeout (seconds)".to_string(),
                    exchange: exchange.clone(),
                }
            })?;
            Ok(Answer { value: (secs > 0).then(|| Duration::from_secs(secs)), exchange })
        })
    }

    fn set_idle_timeout(&self, timeout: Duration) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let uri = self.links().session_service;
            let body = json!({ "SessionTimeout": timeout.as_secs() });
            let reply = self.send("PATCH", &uri, Auth::Admin, Some(&body)).await?;
            Ok(Self::expect_success(reply, "PATCHing SessionService.SessionTimeout")?.exchange)
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
            let reply = Self::expect_success(
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
            Ok(Self::expect_success(reply, &format!("changing the password of {user:?}"))?.exchange)
        })
    }

    fn delete_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let uri = self.account_uri(user).await?;
            let reply = Self::expect_success(
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
            let reply = Self::expect_success(
                self.send("GET", &managers, Auth::Admin, None).await?,
                "listing the Managers",
            )?;
            let body = Self::json_of(&reply, "the Managers collection")?;
            let first = link(&body, "/Members/0").ok_or_else(|| DriverError::Unexpected {
                expected: "expected at least one manager".to_string(),
                exchange: reply.exchange.clone(),
            })?;
            let manager = Self::expect_success(
                self.send("GET", &first, Auth::Admin, None).await?,
                "reading the manager",
            )?;
            let manager_body = Self::json_of(&manager, "the manager")?;
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
            let reply = Self::expect_success(
                self.send("POST", &target, Auth::Admin, Some(&body)).await?,
                "Manager.Reset",
            )?;
            if !self.config.restart_grace.is_zero() {
                tokio::time::sleep(self.config.restart_grace).await;
            }
            self.wait_until_up().await?;
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
            Ok(Self::expect_success(reply, "deleting the session as an administrator")?.exchange)
        })
    }

    fn raw<'a>(&'a self, call: RawCall<'a>) -> BoxFuture<'a, Result<Reply, DriverError>> {
        Box::pin(async move {
            let (mut headers, basic) = match call.auth {
                Auth::None => (Vec::new(), None),
                Auth::Admin => (Vec::new(), Some(&self.config.admin)),
                Auth::Session(s) => (vec![("X-Auth-Token".to_string(), s.token.clone())], None),
            };
            headers.extend(call.headers.iter().cloned());
            self.http.send(&call.method, &call.path, &headers, basic, call.body.as_ref()).await
        })
    }

    fn adopt(&self, call: &RawCall<'_>, reply: &Reply, user: &str) -> Option<SessionHandle> {
        if call.method != "POST" || !is_success(reply.status) {
            return None;
        }
        let token = reply.header("x-auth-token")?;
        let location = self.session_location(reply)?;
        Some(SessionHandle {
            id: session_id(reply, &location),
            uri: location,
            user: user.to_string(),
            token: token.to_string(),
        })
    }
}

impl RedfishDriver {
    /// The new session's URI: `Location`, else the body's `@odata.id`.
    fn session_location(&self, reply: &Reply) -> Option<String> {
        reply.header("location").map(|l| self.http.path_of(l)).or_else(|| {
            reply
                .json
                .as_ref()
                .and_then(|j| j.get("@odata.id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    }
}

/// The session's `Id` from the body, else the last segment of its URI.
fn session_id(reply: &Reply, location: &str) -> String {
    reply
        .json
        .as_ref()
        .and_then(|j| j.get("Id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            location.trim_end_matches('/').rsplit('/').next().unwrap_or(location).to_string()
        })
}
