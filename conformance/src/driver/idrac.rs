//! The Dell iDRAC driver (iDRAC8, iDRAC9, iDRAC10): Redfish with Dell's session
//! collection paths, error bodies, attributes and account slots
//! (`shared/vendors/ilo-idrac.md` Part 2).
//!
//! | Step | Wire |
//! | --- | --- |
//! | login | `POST` `Links.Sessions` of the service root (`/redfish/v1/Sessions` before RedfishVersion 1.6, `/redfish/v1/SessionService/Sessions` after) with `{"UserName", "Password"}`; 201 with `X-Auth-Token` and `Location` |
//! | refused: table full | any answer whose body names `RAC0218` (503 captured), or a 503 |
//! | refused: credentials | 401 (`SYS415`) |
//! | logout | `DELETE` the session's URI with its own token: 200 (iDRAC9) or 204 (iDRAC10) |
//! | use, expect_valid/invalid | `GET /redfish/v1/SessionService` with the token: 200 valid, 401 invalid |
//! | count | the Sessions collection (types by `SessionType`: `redfish` is `Redfish`, `gui` is `WebUI`) |
//! | idle timeout | read `SessionService.SessionTimeout`; set `WebServer.1.Timeout` through `PATCH /redfish/v1/Managers/iDRAC.Embedded.1/Attributes` (60..10800 s) |
//! | max lifetime | none: iDRAC sessions have only a sliding idle timeout |
//! | users | account slots `/redfish/v1/AccountService/Accounts/{1..16}`: create by PATCHing a free slot (`UserName`, `Password`, `RoleId`, `Enabled`), `Password` to change, `UserName: ""` to delete |
//! | restart | `Manager.Reset` of `iDRAC.Embedded.1`, then poll the service root |
//! | admin delete | `DELETE` the session's URI as an administrator |
//!
//! Administrative calls use HTTP Basic with the target's credentials. iDRAC10 from
//! 1.30.10.50 refuses Basic ("Unadvertised", `AccessDenied`); the driver then logs in
//! for each administrative call and logs out after it. Such a call needs a web-server
//! slot: with the table full it is reported as not supported (NOT-TESTED), so scenarios
//! that count a full table should count `via` one of their sessions.
//!
//! SSH (racadm) steps are not driven here: the emulator's own tests cover them with
//! OpenSSH (`emulator/tests/idrac_ssh.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use super::redfish;
use super::{
    expect_success, is_success, json_of, Answer, Auth, BoxFuture, Capability, Credentials, Driver,
    DriverConfig, DriverError, Exchange, Http, LoginOutcome, LogoutOutcome, RawCall, Reply,
    SessionHandle, TokenState,
};

/// `WebServer.1.Timeout` lower bound (RACADM reference: 60-10800).
const MIN_WEB_TIMEOUT: Duration = Duration::from_secs(60);
/// The manager and its attributes.
const ATTRIBUTES: &str = "/redfish/v1/Managers/iDRAC.Embedded.1/Attributes";
const MANAGER_RESET: &str = "/redfish/v1/Managers/iDRAC.Embedded.1/Actions/Manager.Reset";
const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
const ACCOUNTS: &str = "/redfish/v1/AccountService/Accounts";

/// How administrative calls authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AdminAuth {
    /// HTTP Basic (iDRAC8, iDRAC9).
    Basic,
    /// A session per call (iDRAC10 with Basic unadvertised).
    Session,
}

/// The iDRAC driver.
#[derive(Debug)]
pub struct IdracDriver {
    http: Http,
    config: DriverConfig,
    /// `Links.Sessions` of the service root.
    sessions: Mutex<String>,
    admin: Mutex<AdminAuth>,
    /// Slot URIs by user name, learnt from creation or lookup.
    slots: Mutex<HashMap<String, String>>,
}

/// Whether an answer says the session table is full: iDRAC's `RAC0218` (503).
fn names_table_full(reply: &Reply) -> bool {
    reply.status == 503
        || reply.json.as_ref().is_some_and(|j| j.to_string().contains("RAC0218"))
        || reply.exchange.body.contains("RAC0218")
}

/// The Redfish `SessionType` of an engine-style type name a scenario may use.
fn redfish_session_type(wanted: &str) -> String {
    match wanted.to_ascii_lowercase().as_str() {
        "redfish" => "Redfish".to_string(),
        "gui" | "web" | "webui" => "WebUI".to_string(),
        "virtual-console" | "kvm" | "kvmip" => "KVMIP".to_string(),
        _ => wanted.to_string(),
    }
}

impl IdracDriver {
    /// A driver for the iDRAC at `config.url`.
    pub fn new(config: DriverConfig) -> Result<IdracDriver, String> {
        Ok(IdracDriver {
            http: Http::new(&config.url, config.insecure)?,
            config,
            sessions: Mutex::new("/redfish/v1/SessionService/Sessions".to_string()),
            admin: Mutex::new(AdminAuth::Basic),
            slots: Mutex::new(HashMap::new()),
        })
    }

    fn sessions_uri(&self) -> String {
        self.sessions.lock().expect("sessions lock").clone()
    }

    fn admin_auth(&self) -> AdminAuth {
        *self.admin.lock().expect("admin lock")
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<Reply, DriverError> {
        match auth {
            // A session without a token stands for a client with no credentials at all.
            Auth::None => self.http.send(method, path, &[], None, body).await,
            Auth::Session(s) if s.token.is_empty() => {
                self.http.send(method, path, &[], None, body).await
            }
            Auth::Session(s) => {
                let headers = [("X-Auth-Token".to_string(), s.token.clone())];
                self.http.send(method, path, &headers, None, body).await
            }
            Auth::Admin => self.as_admin(method, path, &[], body).await,
        }
    }

    /// An administrative call: HTTP Basic while the device accepts it; once it answers
    /// Basic with 401 (iDRAC10: Basic unadvertised), a session per call from then on.
    async fn as_admin(
        &self,
        method: &str,
        path: &str,
        extra: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Reply, DriverError> {
        self.as_admin_seen(method, path, extra, body).await.map(|(reply, _)| reply)
    }

    /// [`IdracDriver::as_admin`], with the URI of the session the call ran in, if it
    /// needed one (a listing must not count it).
    async fn as_admin_seen(
        &self,
        method: &str,
        path: &str,
        extra: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(Reply, Option<String>), DriverError> {
        if self.admin_auth() == AdminAuth::Session {
            return self.as_admin_session(method, path, extra, body).await;
        }
        let reply = self.http.send(method, path, extra, Some(&self.config.admin), body).await?;
        if reply.status != 401 {
            return Ok((reply, None));
        }
        match self.as_admin_session(method, path, extra, body).await {
            Ok(via_session) => {
                tracing::info!("idrac: HTTP Basic refused; administrative calls use sessions");
                *self.admin.lock().expect("admin lock") = AdminAuth::Session;
                Ok(via_session)
            }
            // The credentials themselves are refused: the Basic answer says it.
            Err(DriverError::Unexpected { .. }) => Ok((reply, None)),
            Err(e) => Err(e),
        }
    }

    /// One administrative call inside its own session (Basic refused); the session is
    /// logged out after the call.
    async fn as_admin_session(
        &self,
        method: &str,
        path: &str,
        extra: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(Reply, Option<String>), DriverError> {
        let login = self.post_login(&self.config.admin).await?;
        let session = match login.value {
            LoginOutcome::Accepted(s) => s,
            LoginOutcome::RefusedFull => {
                return Err(DriverError::Unsupported(
                    "this iDRAC refuses HTTP Basic and its session table is full, so an \
                     administrative call has no session to run in (count via a session)"
                        .to_string(),
                ))
            }
            _ => {
                return Err(DriverError::Unexpected {
                    expected: "expected an administrator session for an administrative call"
                        .to_string(),
                    exchange: login.exchange,
                })
            }
        };
        let token = [("X-Auth-Token".to_string(), session.token.clone())];
        let mut headers = token.to_vec();
        headers.extend(extra.iter().cloned());
        let result = self.http.send(method, path, &headers, None, body).await;
        let _ = self.http.send("DELETE", &session.uri, &token, None, None).await;
        result.map(|reply| (reply, Some(session.uri)))
    }

    fn handle(&self, reply: &Reply, user: &str) -> Option<SessionHandle> {
        let token = reply.header("x-auth-token")?;
        let uri = redfish::session_location(&self.http, reply)?;
        let id = redfish::session_id(reply, &uri);
        Some(SessionHandle { id, uri, user: user.to_string(), token: token.to_string() })
    }

    async fn post_login(
        &self,
        credentials: &Credentials,
    ) -> Result<Answer<LoginOutcome>, DriverError> {
        let body = json!({ "UserName": credentials.user, "Password": credentials.password });
        let reply = self.http.send("POST", &self.sessions_uri(), &[], None, Some(&body)).await?;
        let value = if is_success(reply.status) {
            match self.handle(&reply, &credentials.user) {
                Some(h) => LoginOutcome::Accepted(h),
                None => LoginOutcome::Other(
                    "the login succeeded without X-Auth-Token or Location".to_string(),
                ),
            }
        } else {
            redfish::refused_login(reply.status, names_table_full(&reply))
        };
        Ok(Answer { value, exchange: reply.exchange })
    }

    /// The slot URI of `user`: remembered, else found by reading the slots.
    async fn slot_of(&self, user: &str) -> Result<Option<String>, DriverError> {
        if let Some(uri) = self.slots.lock().expect("slots lock").get(user) {
            return Ok(Some(uri.clone()));
        }
        for (uri, name) in self.read_slots().await? {
            if name == user {
                self.slots.lock().expect("slots lock").insert(user.to_string(), uri.clone());
                return Ok(Some(uri));
            }
        }
        Ok(None)
    }

    /// Every slot with its user name ("" when free), slot 1 (reserved) left out.
    async fn read_slots(&self) -> Result<Vec<(String, String)>, DriverError> {
        let reply = expect_success(
            self.send("GET", ACCOUNTS, Auth::Admin, None).await?,
            "listing the account slots",
        )?;
        let body = json_of(&reply, "the Accounts collection")?;
        let mut out = Vec::new();
        for uri in redfish::members(&body) {
            if uri.trim_end_matches('/').ends_with("/1") {
                continue;
            }
            let one = self.send("GET", &uri, Auth::Admin, None).await?;
            let name = one
                .json
                .as_ref()
                .and_then(|j| j.get("UserName"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            out.push((uri, name));
        }
        Ok(out)
    }
}

impl Driver for IdracDriver {
    fn vendor(&self) -> &'static str {
        "idrac"
    }

    fn supports(&self, capability: Capability) -> Result<(), String> {
        match capability {
            Capability::AuthConfig => {
                Err("iDRAC has no documented call that changes the authentication configuration"
                    .to_string())
            }
            _ => Ok(()),
        }
    }

    fn min_idle_timeout(&self) -> Option<Duration> {
        Some(MIN_WEB_TIMEOUT)
    }

    fn probe(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let (root, exchange) = redfish::read_service_root(&self.http, "/redfish/v1").await?;
            if let Some(s) = redfish::link(&root, "/Links/Sessions") {
                *self.sessions.lock().expect("sessions lock") = s;
            }
            Ok(exchange)
        })
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<Answer<bool>, DriverError>> {
        Box::pin(async move {
            let basic =
                redfish::check_basic(&self.http, &self.config.admin, SESSION_SERVICE).await?;
            if basic.value {
                return Ok(basic);
            }
            // Basic refused: iDRAC10 may have it unadvertised. One session login tells
            // whether the credentials are good.
            let login = self.post_login(&self.config.admin).await?;
            match login.value {
                LoginOutcome::Accepted(s) => {
                    let _ = redfish::logout_session(&self.http, &s).await;
                    *self.admin.lock().expect("admin lock") = AdminAuth::Session;
                    Ok(Answer { value: true, exchange: login.exchange })
                }
                LoginOutcome::BadCredentials => {
                    Ok(Answer { value: false, exchange: login.exchange })
                }
                _ => Err(DriverError::Unexpected {
                    expected: "expected a session login to tell whether the credentials are \
                               good (HTTP Basic was refused)"
                        .to_string(),
                    exchange: login.exchange,
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
                        "the iDRAC driver opens Redfish sessions only, not {t:?} (GUI, SSH and \
                         console sessions need their own protocols)"
                    )));
                }
            }
            self.post_login(credentials).await
        })
    }

    fn logout<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<LogoutOutcome>, DriverError>> {
        Box::pin(redfish::logout_session(&self.http, session))
    }

    fn check<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<TokenState>, DriverError>> {
        Box::pin(redfish::check_session(&self.http, SESSION_SERVICE, session))
    }

    fn count<'a>(
        &'a self,
        session_type: Option<&'a str>,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<usize>, DriverError>> {
        Box::pin(async move {
            let (reply, own) = match auth {
                Auth::Admin => self.as_admin_seen("GET", &self.sessions_uri(), &[], None).await?,
                other => (self.send("GET", &self.sessions_uri(), other, None).await?, None),
            };
            let (mut members, exchange) = redfish::listed_sessions(reply)?;
            // The session an administrative listing ran in is not one of the device's.
            if let Some(own) = own {
                members.retain(|m| *m != own);
            }
            let Some(wanted) = session_type else {
                return Ok(Answer { value: members.len(), exchange });
            };
            let wanted = redfish_session_type(wanted);
            let mut n = 0;
            for member in &members {
                if redfish::has_session_type(self.send("GET", member, auth, None).await?, &wanted)?
                {
                    n += 1;
                }
            }
            Ok(Answer { value: n, exchange })
        })
    }

    fn idle_timeout(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            let reply = self.send("GET", SESSION_SERVICE, Auth::Admin, None).await?;
            let (body, exchange) = redfish::session_service_body(reply)?;
            redfish::session_timeout(&body, exchange)
        })
    }

    fn set_idle_timeout(&self, timeout: Duration) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let body = json!({ "Attributes": { "WebServer.1.Timeout": timeout.as_secs() } });
            let reply = self.send("PATCH", ATTRIBUTES, Auth::Admin, Some(&body)).await?;
            Ok(expect_success(reply, "PATCHing WebServer.1.Timeout")?.exchange)
        })
    }

    fn max_lifetime(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            // ilo-idrac.md 2.5: a sliding idle timeout and no absolute lifetime.
            let reply = self.send("GET", SESSION_SERVICE, Auth::Admin, None).await?;
            Ok(Answer { value: None, exchange: reply.exchange })
        })
    }

    fn create_user<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
        role: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let slots = self.read_slots().await?;
            let Some((uri, _)) = slots.into_iter().find(|(_, name)| name.is_empty()) else {
                return Err(DriverError::Unsupported("no free account slot".to_string()));
            };
            let body =
                json!({ "UserName": user, "Password": password, "RoleId": role, "Enabled": true });
            let reply = expect_success(
                self.send("PATCH", &uri, Auth::Admin, Some(&body)).await?,
                &format!("creating the account {user:?} in {uri}"),
            )?;
            self.slots.lock().expect("slots lock").insert(user.to_string(), uri);
            Ok(reply.exchange)
        })
    }

    fn change_password<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let uri = self.slot_of(user).await?.ok_or_else(|| {
                DriverError::Unsupported(format!("no account slot holds {user:?}"))
            })?;
            let body = json!({ "Password": password });
            let reply = self.send("PATCH", &uri, Auth::Admin, Some(&body)).await?;
            Ok(expect_success(reply, &format!("changing the password of {user:?}"))?.exchange)
        })
    }

    fn delete_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let uri = self.slot_of(user).await?.ok_or_else(|| {
                DriverError::Unsupported(format!("no account slot holds {user:?}"))
            })?;
            let body = json!({ "UserName": "" });
            let reply = expect_success(
                self.send("PATCH", &uri, Auth::Admin, Some(&body)).await?,
                &format!("clearing the slot of {user:?}"),
            )?;
            self.slots.lock().expect("slots lock").remove(user);
            Ok(reply.exchange)
        })
    }

    fn restart(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let body = json!({ "ResetType": "GracefulRestart" });
            let reply = expect_success(
                self.send("POST", MANAGER_RESET, Auth::Admin, Some(&body)).await?,
                "Manager.Reset",
            )?;
            redfish::wait_after_reset(&self.http, &self.config).await?;
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
        // A raw `auth = "basic"` request sends HTTP Basic whatever the device thinks of
        // it: the scenario is checking the wire.
        Box::pin(redfish::send_raw(&self.http, &self.config.admin, call))
    }

    fn session_ids<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<String>>, DriverError>> {
        Box::pin(async move {
            let (reply, own) = match auth {
                Auth::Admin => self.as_admin_seen("GET", &self.sessions_uri(), &[], None).await?,
                other => (self.send("GET", &self.sessions_uri(), other, None).await?, None),
            };
            let (mut members, exchange) = redfish::listed_sessions(reply)?;
            // The session an administrative listing ran in is not one of the device's.
            if let Some(own) = own {
                members.retain(|m| *m != own);
            }
            Ok(Answer { value: members, exchange })
        })
    }

    fn adopt(&self, call: &RawCall<'_>, reply: &Reply, user: &str) -> Option<SessionHandle> {
        if !redfish::is_successful_post(call, reply) {
            return None;
        }
        self.handle(reply, user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scenario session types map onto iDRAC's `SessionType` values.
    #[test]
    fn session_types_map_to_redfish_names() {
        assert_eq!(redfish_session_type("redfish"), "Redfish");
        assert_eq!(redfish_session_type("gui"), "WebUI");
        assert_eq!(redfish_session_type("OEM"), "OEM");
    }
}
