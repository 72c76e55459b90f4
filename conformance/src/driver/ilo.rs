//! The HPE iLO driver (iLO 4, 5, 6): the Redfish driver with iLO's differences.
//!
//! | Step | Wire (where it differs from [`super::redfish`]) |
//! | --- | --- |
//! | login, logout, use, users, restart, admin delete, raw | as the Redfish driver (the absolute `Location` is read as a path) |
//! | count | `GET` the Sessions collection; with the target's credentials (HTTP Basic) iLO lists the request's own one-request session too (ilo-idrac.md 1.7), so the member at `Oem.Hpe.Links.MySession` is not counted |
//! | count by type | not supported: iLO sessions carry an `Oem.Hpe.UserTag`, not a `SessionType` |
//! | idle timeout | `SessionService.SessionTimeout` when shown; else `Oem.Hpe.IdleConnectionTimeoutMinutes` of `/redfish/v1/Managers/1/` (iLO 5, 6; `null` is infinite); else `SessionTimeoutMinutes` of `/redfish/v1/Managers/1/NetworkService/` (iLO 4; 0 is infinite) |
//! | set idle timeout | `PATCH` `SessionService.SessionTimeout` in seconds (15, 30, 60 or 120 minutes; 1.8) |
//!
//! A full table refuses HTTP Basic requests too (each holds a slot while it runs): when a
//! scenario fills the table, its administrative steps must go `via` a session it holds.
//! The idle timeout cannot be read then either, so the driver remembers the last one it
//! read or set, and reads it once after the first successful login.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use super::redfish::{self, RedfishDriver};
use super::{
    expect_success, is_success, json_of, Answer, Auth, BoxFuture, Capability, Credentials, Driver,
    DriverConfig, DriverError, Exchange, LoginOutcome, LogoutOutcome, RawCall, Reply,
    SessionHandle, TokenState,
};

/// The shortest idle timeout iLO accepts: 15 minutes (ilo-idrac.md 1.8 [P]).
const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

const SESSIONS: &str = "/redfish/v1/SessionService/Sessions/";
const SESSION_SERVICE: &str = "/redfish/v1/SessionService/";
const MANAGER: &str = "/redfish/v1/Managers/1/";
const NETWORK_SERVICE: &str = "/redfish/v1/Managers/1/NetworkService/";

/// The iLO driver.
#[derive(Debug)]
pub struct IloDriver {
    inner: RedfishDriver,
    /// The idle timeout last read or set (`Some(None)`: infinite).
    idle: Mutex<Option<Option<Duration>>>,
}

impl IloDriver {
    /// A driver for the iLO at `config.url`.
    pub fn new(config: DriverConfig) -> Result<IloDriver, String> {
        Ok(IloDriver { inner: RedfishDriver::new(config)?, idle: Mutex::new(None) })
    }

    async fn read(&self, path: &str, what: &str) -> Result<(Value, Exchange), DriverError> {
        let reply = self.inner.send("GET", path, Auth::Admin, None).await?;
        let reply = expect_success(reply, &format!("reading {what}"))?;
        Ok((json_of(&reply, what)?, reply.exchange))
    }
}

impl IloDriver {
    /// Reads the idle timeout from wherever this generation shows it, and remembers it.
    async fn read_idle_timeout(&self) -> Result<Answer<Option<Duration>>, DriverError> {
        let answer = async {
            let (service, exchange) = self.read(SESSION_SERVICE, "the SessionService").await?;
            if let Some(secs) = service.get("SessionTimeout").and_then(Value::as_u64) {
                return Ok(Answer { value: (secs > 0).then(|| Duration::from_secs(secs)), exchange });
            }
            let (manager, exchange) = self.read(MANAGER, "the manager").await?;
            if let Some(value) = oem(&manager, &["IdleConnectionTimeoutMinutes"]).and_then(minutes) {
                return Ok(Answer { value, exchange });
            }
            let (network, exchange) = self.read(NETWORK_SERVICE, "the NetworkService").await?;
            match network.get("SessionTimeoutMinutes").and_then(minutes) {
                Some(value) => Ok(Answer { value, exchange }),
                None => Err(DriverError::Unexpected {
                    expected: "expected SessionService.SessionTimeout, the manager's IdleConnectionTimeoutMinutes or the NetworkService's SessionTimeoutMinutes".to_string(),
                    exchange,
                }),
            }
        }
        .await?;
        *self.idle.lock().expect("idle lock") = Some(answer.value);
        Ok(answer)
    }
}

/// The value of `Oem.<any>.<name>`: iLO 5 and 6 write `Oem.Hpe`, iLO 4 `Oem.Hp`.
fn oem<'a>(body: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let blocks = body.get("Oem")?.as_object()?;
    blocks.values().find_map(|block| path.iter().try_fold(block, |v, key| v.get(*key)))
}

fn minutes(value: &Value) -> Option<Option<Duration>> {
    match value {
        Value::Null => Some(None),
        v => v.as_u64().map(|m| (m > 0).then(|| Duration::from_secs(m * 60))),
    }
}

impl Driver for IloDriver {
    fn vendor(&self) -> &'static str {
        "ilo"
    }

    fn supports(&self, capability: Capability) -> Result<(), String> {
        match capability {
            Capability::AuthConfig => Err(
                "iLO has no single wire call that changes the authentication configuration"
                    .to_string(),
            ),
            Capability::CountByType => Err(
                "iLO sessions carry an Oem UserTag, not a Redfish SessionType; counting by type is not supported"
                    .to_string(),
            ),
            other => self.inner.supports(other),
        }
    }

    fn min_idle_timeout(&self) -> Option<Duration> {
        Some(MIN_IDLE_TIMEOUT)
    }

    fn probe(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        self.inner.probe()
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<Answer<bool>, DriverError>> {
        self.inner.check_credentials()
    }

    fn login<'a>(
        &'a self,
        credentials: &'a Credentials,
        session_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Answer<LoginOutcome>, DriverError>> {
        Box::pin(async move {
            let answer = self.inner.login(credentials, session_type).await?;
            let unknown = self.idle.lock().expect("idle lock").is_none();
            if unknown && matches!(answer.value, LoginOutcome::Accepted(_)) {
                // Best effort: a full table would refuse this read later.
                let _ = self.read_idle_timeout().await;
            }
            Ok(answer)
        })
    }

    fn logout<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<LogoutOutcome>, DriverError>> {
        self.inner.logout(session)
    }

    fn check<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<TokenState>, DriverError>> {
        self.inner.check(session)
    }

    fn count<'a>(
        &'a self,
        session_type: Option<&'a str>,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<usize>, DriverError>> {
        Box::pin(async move {
            if let Some(t) = session_type {
                return Err(DriverError::Unsupported(format!(
                    "counting {t:?} sessions: iLO sessions have a UserTag, not a SessionType"
                )));
            }
            let reply = self.inner.send("GET", SESSIONS, auth, None).await?;
            let body = match (reply.status, &reply.json) {
                (200, Some(body)) => body.clone(),
                _ => {
                    return Err(DriverError::Unexpected {
                        expected: "expected the Sessions collection (200, JSON)".to_string(),
                        exchange: reply.exchange,
                    })
                }
            };
            let members = redfish::members(&body);
            let declared = body.get("Members@odata.count").and_then(Value::as_u64);
            if declared != u64::try_from(members.len()).ok() {
                return Err(DriverError::Unexpected {
                    expected: format!(
                        "expected Members@odata.count to equal the {} members listed",
                        members.len()
                    ),
                    exchange: reply.exchange,
                });
            }
            let mine = oem(&body, &["Links", "MySession", "@odata.id"]).and_then(Value::as_str);
            let own_transient =
                matches!(auth, Auth::Admin) && mine.is_some_and(|m| members.iter().any(|x| x == m));
            let value = members.len() - usize::from(own_transient);
            Ok(Answer { value, exchange: reply.exchange })
        })
    }

    fn idle_timeout(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            match self.read_idle_timeout().await {
                Ok(answer) => Ok(answer),
                Err(e) => {
                    let full =
                        e.exchange().is_some_and(|x| x.body.contains("SessionLimitExceeded"));
                    match (full, *self.idle.lock().expect("idle lock")) {
                        (true, Some(value)) => Ok(Answer {
                            value,
                            exchange: e.exchange().cloned().unwrap_or_default(),
                        }),
                        _ => Err(e),
                    }
                }
            }
        })
    }

    fn set_idle_timeout(&self, timeout: Duration) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let body = json!({ "SessionTimeout": timeout.as_secs() });
            let reply = self.inner.send("PATCH", SESSION_SERVICE, Auth::Admin, Some(&body)).await?;
            if is_success(reply.status) {
                let value = (timeout.as_secs() > 0).then_some(timeout);
                *self.idle.lock().expect("idle lock") = Some(value);
                Ok(reply.exchange)
            } else {
                Err(DriverError::Unexpected {
                    expected: "expected PATCHing SessionService.SessionTimeout to succeed (iLO accepts 15, 30, 60 or 120 minutes)".to_string(),
                    exchange: reply.exchange,
                })
            }
        })
    }

    fn max_lifetime(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        self.inner.max_lifetime()
    }

    fn create_user<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
        role: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        self.inner.create_user(user, password, role)
    }

    fn change_password<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        self.inner.change_password(user, password)
    }

    fn delete_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        self.inner.delete_user(user)
    }

    fn restart(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        self.inner.restart()
    }

    fn admin_delete<'a>(
        &'a self,
        session: &'a SessionHandle,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        self.inner.admin_delete(session, auth)
    }

    fn raw<'a>(&'a self, call: RawCall<'a>) -> BoxFuture<'a, Result<Reply, DriverError>> {
        self.inner.raw(call)
    }

    fn session_ids<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<String>>, DriverError>> {
        Box::pin(async move {
            let reply = self.inner.send("GET", SESSIONS, auth, None).await?;
            let body = match (reply.status, &reply.json) {
                (200, Some(body)) => body.clone(),
                _ => {
                    return Err(DriverError::Unexpected {
                        expected: "expected the Sessions collection (200, JSON)".to_string(),
                        exchange: reply.exchange,
                    })
                }
            };
            let mut members = redfish::members(&body);
            // A Basic request's own one-request session is not one of the device's.
            if matches!(auth, Auth::Admin) {
                if let Some(mine) =
                    oem(&body, &["Links", "MySession", "@odata.id"]).and_then(Value::as_str)
                {
                    members.retain(|m| m != mine);
                }
            }
            Ok(Answer { value: members, exchange: reply.exchange })
        })
    }

    fn adopt(&self, call: &RawCall<'_>, reply: &Reply, user: &str) -> Option<SessionHandle> {
        self.inner.adopt(call, reply, user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oem values are found under whichever vendor key the generation writes.
    #[test]
    fn oem_values_are_found_under_hp_or_hpe() {
        let ilo5 = json!({"Oem": {"Hpe": {"IdleConnectionTimeoutMinutes": 30}}});
        let ilo4 = json!({"Oem": {"Hp": {"Links": {"MySession": {"@odata.id": "/x/"}}}}});
        assert_eq!(oem(&ilo5, &["IdleConnectionTimeoutMinutes"]), Some(&json!(30)));
        assert_eq!(oem(&ilo4, &["Links", "MySession", "@odata.id"]), Some(&json!("/x/")));
        assert_eq!(minutes(&json!(null)), Some(None));
        assert_eq!(minutes(&json!(15)), Some(Some(Duration::from_secs(900))));
    }
}
