//! The F5 BIG-IP driver: iControl REST tokens and iControl SOAP `System.Session`, for the
//! emulator's `bigip*` profiles and real BIG-IPs (bigip-solace.md Part 1 and the
//! `System::Session` seed).
//!
//! | Step | Wire |
//! | --- | --- |
//! | login (`rest-token`, the default) | `POST /mgmt/shared/authn/login` `{"username", "password", "loginProviderName": "tmos"}`; 200 with `token.token` |
//! | login (`soap`) | SOAP `System.Session.get_session_identifier` with HTTP Basic; the id is the session |
//! | logout | `DELETE /mgmt/shared/authz/tokens/<token>` with the token itself; a SOAP session has no logout (see below) |
//! | use, expect_valid/invalid | `GET /mgmt/tm/sys/version` with `X-F5-Auth-Token`: 200 valid, 401 invalid; SOAP: `get_session_timeout` with `X-iControl-Session`: answer valid, fault invalid |
//! | count | `GET /mgmt/shared/authz/tokens`: the caller's own tokens (a user sees only theirs) |
//! | idle timeout | SOAP `get_/set_session_timeout` (the device's only idle timeout; REST tokens expire a fixed time after creation) |
//! | users | `/mgmt/tm/auth/user`: POST `{name, password, partitionAccess}`, PATCH `password`, DELETE |
//!
//! A login refused with 400 `... has reached maximum active login tokens` is "table
//! full" (per user, 100; bigip-solace.md 1.4); a SOAP fault that names a maximum is too.
//!
//! Not supported: restart (a reboot is not a session operation), admin delete (only a
//! token's owner may delete it: F5-TOKMGMT), auth-config change, maximum lifetime (each
//! token has its own absolute timeout, read from the token itself).
//!
//! SOAP sessions cannot be logged out: iControl has no such call, and sessions end by
//! idling out (`set_session_timeout`). The driver's logout of a SOAP session rolls back
//! nothing and only forgets it, answering "logged out" so the runner's cleanup does not
//! count it as left behind; scenarios must not expect a SOAP session to be invalid after
//! a logout.
//!
//! Raw requests to `/iControl/iControlPortal.cgi` take the SOAP envelope as a string
//! `body`, sent as `text/xml`; the answer is given to `expect_json` as
//! `{"response", "return", "faultcode", "faultstring"}`, read from the XML. With a SOAP
//! session as `via`, the request carries that session's user (HTTP Basic) and its id in
//! `X-iControl-Session`.
//!
//! Tokens never reach reports: a token session's id is a hash of the token, and the
//! token is replaced by `[token]` in every recorded request line and body.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{
    credentials_answer, excerpt, expect_success, logout_outcome, token_state, Answer, Auth,
    BoxFuture, Capability, Credentials, Driver, DriverConfig, DriverError, Exchange, Http, Listed,
    LoginOutcome, LogoutOutcome, RawCall, Reply, SessionHandle, TokenState,
};

/// The login worker.
const LOGIN: &str = "/mgmt/shared/authn/login";
/// The token collection.
const TOKENS: &str = "/mgmt/shared/authz/tokens";
/// A cheap authenticated resource.
const VERSION: &str = "/mgmt/tm/sys/version";
/// Local users.
const USERS: &str = "/mgmt/tm/auth/user";
/// The SOAP portal; a SOAP session's `uri`.
pub const PORTAL: &str = "/iControl/iControlPortal.cgi";
/// Session type of REST tokens.
pub const REST_TOKEN: &str = "rest-token";
/// Session type of SOAP sessions.
pub const SOAP: &str = "soap";

/// Session types the harness cannot end over the wire: iControl SOAP has no logout, so
/// its sessions (the user's default one, and ids from `get_session_identifier`) stay
/// until they idle out. A leak check after a scenario should not count them.
pub const SESSIONS_WITHOUT_LOGOUT: &[&str] = &[SOAP];

/// The BIG-IP driver.
#[derive(Debug)]
pub struct BigipDriver {
    http: Http,
    soap: reqwest::Client,
    config: DriverConfig,
    /// Passwords of the users that logged in, for SOAP calls in their sessions.
    passwords: Mutex<HashMap<String, String>>,
}

/// A short, non-secret name for a token: FNV-1a of it.
fn token_id(token: &str) -> String {
    let hash = token
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("token-{:08x}", hash & 0xffff_ffff)
}

fn is_soap(session: &SessionHandle) -> bool {
    session.uri == PORTAL
}

/// Replaces `secret` in the recorded request line and body.
fn redact(mut exchange: Exchange, secret: &str) -> Exchange {
    if !secret.is_empty() {
        exchange.request = exchange.request.replace(secret, "[token]");
        exchange.body = exchange.body.replace(secret, "[token]");
    }
    exchange
}

/// Replaces every token named in a JSON body (`token`, `name`, `selfLink` of token items).
fn redact_tokens_in(mut exchange: Exchange, json: Option<&Value>) -> Exchange {
    let mut tokens = Vec::new();
    collect_tokens(json, &mut tokens);
    for t in tokens {
        exchange = redact(exchange, &t);
    }
    exchange
}

fn collect_tokens(json: Option<&Value>, out: &mut Vec<String>) {
    match json {
        Some(Value::Object(o)) => {
            if let Some(Value::String(t)) = o.get("token") {
                out.push(t.clone());
            }
            for v in o.values() {
                collect_tokens(Some(v), out);
            }
        }
        Some(Value::Array(a)) => a.iter().for_each(|v| collect_tokens(Some(v), out)),
        _ => {}
    }
}

/// The text of the first `<tag ...>TEXT</tag>` (any prefix), unescaped.
fn element_text(xml: &str, local: &str) -> Option<String> {
    let mut from = 0;
    while let Some(at) = xml[from..].find('<').map(|i| from + i) {
        let rest = &xml[at + 1..];
        let name_end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        let name = &rest[..name_end];
        let bare = name.rsplit(':').next().unwrap_or(name);
        if bare == local && !name.starts_with('/') {
            let open_end = at + 1 + rest.find('>')?;
            if xml[..open_end].ends_with('/') {
                return Some(String::new());
            }
            let close = xml[open_end + 1..].find(&format!("</{name}>"))?;
            return Some(unescape(&xml[open_end + 1..open_end + 1 + close]));
        }
        from = at + 1;
    }
    None
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The local name of the first element in the SOAP `Body` (the `...Response`).
fn response_name(xml: &str) -> Option<String> {
    let body = xml.find(":Body>").or_else(|| xml.find("<Body>"))?;
    let rest = &xml[body..];
    let open = rest[1..].find('<')? + 1;
    let tag = &rest[open + 1..];
    let end = tag.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    let name = &tag[..end];
    Some(name.rsplit(':').next().unwrap_or(name).to_string())
}

/// A SOAP answer as JSON for `expect_json`.
pub fn soap_json(xml: &str) -> Value {
    let mut out = Map::new();
    for (key, value) in [
        ("response", response_name(xml)),
        ("return", element_text(xml, "return")),
        ("faultcode", element_text(xml, "faultcode")),
        ("faultstring", element_text(xml, "faultstring")),
    ] {
        if let Some(v) = value {
            out.insert(key.to_string(), Value::String(v));
        }
    }
    Value::Object(out)
}

/// A `System.Session` request envelope.
pub fn session_call(method: &str, params: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope \
         xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:s=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:y=\"http://www.w3.org/2001/XMLSchema\"><SOAP-ENV:Body>\
         <m:{method} xmlns:m=\"urn:iControl:System/Session\">{params}</m:{method}>\
         </SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

/// BIG-IP role for a role name a scenario may use (the harness defaults to `ReadOnly`).
fn role(name: &str) -> &str {
    match name {
        "ReadOnly" | "readonly" => "guest",
        "Operator" => "operator",
        "Administrator" => "admin",
        other => other,
    }
}

impl BigipDriver {
    /// A driver for the device at `config.url`.
    pub fn new(config: DriverConfig) -> Result<BigipDriver, String> {
        let soap = reqwest::Client::builder()
            .user_agent(super::user_agent())
            .danger_accept_invalid_certs(config.insecure)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut passwords = HashMap::new();
        passwords.insert(config.admin.user.clone(), config.admin.password.clone());
        Ok(BigipDriver {
            http: Http::new(&config.url, config.insecure)?,
            soap,
            config,
            passwords: Mutex::new(passwords),
        })
    }

    fn password_of(&self, user: &str) -> Option<String> {
        self.passwords.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(user).cloned()
    }

    fn remember_password(&self, c: &Credentials) {
        self.passwords
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(c.user.clone(), c.password.clone());
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        extra: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Reply, DriverError> {
        let (mut headers, basic) = match auth {
            Auth::None => (Vec::new(), None),
            Auth::Admin => (Vec::new(), Some(&self.config.admin)),
            // A session without a token stands for a client with no credentials at all.
            Auth::Session(s) if s.token.is_empty() => (Vec::new(), None),
            Auth::Session(s) => (vec![("X-F5-Auth-Token".to_string(), s.token.clone())], None),
        };
        headers.extend(extra.iter().cloned());
        let token = match auth {
            Auth::Session(s) => s.token.clone(),
            _ => String::new(),
        };
        let mut reply = match self.http.send(method, path, &headers, basic, body).await {
            Ok(reply) => reply,
            Err(DriverError::Transport(e)) => {
                return Err(DriverError::Transport(redact(e, &token)));
            }
            Err(e) => return Err(e),
        };
        reply.exchange = redact(reply.exchange, &token);
        reply.exchange = redact_tokens_in(reply.exchange, reply.json.as_ref());
        Ok(reply)
    }

    /// A SOAP call to the portal as `who`, in session `id` if given.
    async fn soap_send(
        &self,
        who: &Credentials,
        id: Option<&str>,
        extra: &[(String, String)],
        xml: &str,
    ) -> Result<Reply, DriverError> {
        let url = self.http.url(PORTAL);
        let request_line = format!("POST {PORTAL}");
        let mut req = self
            .soap
            .post(&url)
            .basic_auth(&who.user, Some(&who.password))
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(xml.to_string());
        if let Some(id) = id {
            req = req.header("X-iControl-Session", id);
        }
        for (k, v) in extra {
            req = req.header(k.as_str(), v.as_str());
        }
        let transport = |e: reqwest::Error| {
            DriverError::Transport(Exchange::failed(request_line.clone(), e.to_string()))
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let mut headers = BTreeMap::new();
        for (name, value) in resp.headers() {
            let name = name.as_str().to_ascii_lowercase();
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers.insert(name, value);
        }
        let shown = headers
            .iter()
            .map(|(k, v)| {
                let v =
                    if super::is_secret_header(k) { "[redacted]".to_string() } else { v.clone() };
                (k.clone(), v)
            })
            .collect();
        let text = resp.text().await.map_err(transport)?;
        let json = serde_json::from_str::<Value>(&text).ok().or_else(|| Some(soap_json(&text)));
        Ok(Reply {
            status,
            headers,
            json,
            exchange: Exchange {
                request: request_line,
                status: Some(status),
                headers: shown,
                body: excerpt(&text),
            },
        })
    }

    fn session_credentials(&self, session: &SessionHandle) -> Result<Credentials, DriverError> {
        let password = self.password_of(&session.user).ok_or_else(|| {
            DriverError::Unsupported(format!(
                "no password known for {:?}, whose SOAP session this is",
                session.user
            ))
        })?;
        Ok(Credentials::new(session.user.clone(), password))
    }

    /// The SOAP `return` of an answer, or `Unexpected`.
    fn soap_return(reply: &Reply, what: &str) -> Result<String, DriverError> {
        let value = reply.json.as_ref().and_then(|j| j.get("return")).and_then(Value::as_str);
        match value {
            Some(v) if reply.status == 200 => Ok(v.to_string()),
            _ => Err(DriverError::Unexpected {
                expected: format!("expected {what} to return a value"),
                exchange: reply.exchange.clone(),
            }),
        }
    }

    async fn rest_login(&self, c: &Credentials) -> Result<Answer<LoginOutcome>, DriverError> {
        let body =
            json!({ "username": c.user, "password": c.password, "loginProviderName": "tmos" });
        let reply = self.send("POST", LOGIN, Auth::None, &[], Some(&body)).await?;
        let message = reply.json.as_ref().and_then(|j| j.get("message")).and_then(Value::as_str);
        let value = match reply.status {
            200 => match reply
                .json
                .as_ref()
                .and_then(|j| j.pointer("/token/token"))
                .and_then(Value::as_str)
            {
                Some(token) => LoginOutcome::Accepted(SessionHandle {
                    id: token_id(token),
                    uri: format!("{TOKENS}/{token}"),
                    user: c.user.clone(),
                    token: token.to_string(),
                }),
                None => {
                    LoginOutcome::Other("the login answered 200 without token.token".to_string())
                }
            },
            400 if message.is_some_and(|m| m.contains("maximum active login tokens")) => {
                LoginOutcome::RefusedFull
            }
            401 => LoginOutcome::BadCredentials,
            s => LoginOutcome::Other(format!("status {s}")),
        };
        Ok(Answer { value, exchange: reply.exchange })
    }

    async fn soap_login(&self, c: &Credentials) -> Result<Answer<LoginOutcome>, DriverError> {
        let reply =
            self.soap_send(c, None, &[], &session_call("get_session_identifier", "")).await?;
        let fault = reply.json.as_ref().and_then(|j| j.get("faultstring")).and_then(Value::as_str);
        let value = match (reply.status, fault) {
            (200, _) => match Self::soap_return(&reply, "get_session_identifier") {
                Ok(id) => LoginOutcome::Accepted(SessionHandle {
                    id: id.clone(),
                    uri: PORTAL.to_string(),
                    user: c.user.clone(),
                    token: id,
                }),
                Err(_) => LoginOutcome::Other("no session id in the answer".to_string()),
            },
            (401, _) => LoginOutcome::BadCredentials,
            (_, Some(f)) if f.to_ascii_lowercase().contains("maximum") => LoginOutcome::RefusedFull,
            (s, _) => LoginOutcome::Other(format!("status {s}")),
        };
        Ok(Answer { value, exchange: reply.exchange })
    }
}

impl Driver for BigipDriver {
    fn sessions_without_logout(&self) -> &'static [&'static str] {
        SESSIONS_WITHOUT_LOGOUT
    }

    fn vendor(&self) -> &'static str {
        "bigip"
    }

    fn supports(&self, capability: Capability) -> Result<(), String> {
        match capability {
            Capability::AuthConfig => {
                Err("iControl has no call that changes the authentication configuration and \
                     is documented to affect sessions"
                    .to_string())
            }
            Capability::Restart => {
                Err("the BIG-IP driver does not reboot devices; restjavad restarts are raw requests"
                    .to_string())
            }
            Capability::AdminDelete => Err(
                "only a token's owner may delete it (F5-TOKMGMT); an administrator's DELETE is a 400"
                    .to_string(),
            ),
            Capability::MaxLifetime => Err(
                "each REST token has its own absolute timeout; BIG-IP has no device-wide maximum \
                 lifetime"
                    .to_string(),
            ),
            _ => Ok(()),
        }
    }

    fn min_idle_timeout(&self) -> Option<Duration> {
        // The SOAP timeout is global: shortening it on a real device would end other
        // clients' sessions, so the runner is not invited to.
        None
    }

    fn probe(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let reply = self.send("GET", VERSION, Auth::None, &[], None).await?;
            let envelope = reply.json.as_ref().and_then(|j| j.get("code")).is_some();
            if reply.status == 200 || (reply.status == 401 && envelope) {
                Ok(reply.exchange)
            } else {
                Err(DriverError::Unexpected {
                    expected: format!(
                        "expected {VERSION} to answer 401 with the iControl REST error envelope \
                         without credentials"
                    ),
                    exchange: reply.exchange,
                })
            }
        })
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<Answer<bool>, DriverError>> {
        Box::pin(async move {
            let reply = self.send("GET", VERSION, Auth::Admin, &[], None).await?;
            credentials_answer(
                reply,
                format!("expected 200 (or 401) reading {VERSION} with HTTP Basic"),
            )
        })
    }

    fn login<'a>(
        &'a self,
        credentials: &'a Credentials,
        session_type: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Answer<LoginOutcome>, DriverError>> {
        Box::pin(async move {
            self.remember_password(credentials);
            match session_type {
                None => self.rest_login(credentials).await,
                Some(t) if t.eq_ignore_ascii_case(REST_TOKEN) || t.eq_ignore_ascii_case("rest") => {
                    self.rest_login(credentials).await
                }
                Some(t) if t.eq_ignore_ascii_case(SOAP) => self.soap_login(credentials).await,
                Some(t) => Err(DriverError::Unsupported(format!(
                    "BIG-IP sessions are \"rest-token\" or \"soap\", not {t:?}"
                ))),
            }
        })
    }

    fn logout<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<LogoutOutcome>, DriverError>> {
        Box::pin(async move {
            if is_soap(session) {
                let exchange = Exchange {
                    request: format!(
                        "(no wire call: iControl SOAP has no logout; session {})",
                        session.id
                    ),
                    ..Exchange::default()
                };
                return Ok(Answer { value: LogoutOutcome::LoggedOut, exchange });
            }
            let reply =
                self.send("DELETE", &session.uri, Auth::Session(session), &[], None).await?;
            let value = match reply.status {
                404 => LogoutOutcome::AlreadyInvalid,
                s => logout_outcome(s),
            };
            Ok(Answer { value, exchange: reply.exchange })
        })
    }

    fn check<'a>(
        &'a self,
        session: &'a SessionHandle,
    ) -> BoxFuture<'a, Result<Answer<TokenState>, DriverError>> {
        Box::pin(async move {
            if is_soap(session) {
                let who = self.session_credentials(session)?;
                let xml = session_call("get_session_timeout", "");
                let reply = self.soap_send(&who, Some(&session.id), &[], &xml).await?;
                let value = match reply.status {
                    200 => TokenState::Valid,
                    500 => TokenState::Invalid,
                    s => TokenState::Other(format!("status {s}")),
                };
                return Ok(Answer { value, exchange: reply.exchange });
            }
            let reply = self.send("GET", VERSION, Auth::Session(session), &[], None).await?;
            Ok(Answer { value: token_state(reply.status), exchange: reply.exchange })
        })
    }

    fn count<'a>(
        &'a self,
        session_type: Option<&'a str>,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<usize>, DriverError>> {
        Box::pin(async move {
            if let Some(t) = session_type.filter(|t| !t.eq_ignore_ascii_case(REST_TOKEN)) {
                return Err(DriverError::Unsupported(format!(
                    "BIG-IP lists only REST tokens, not {t:?} sessions"
                )));
            }
            let a = self.session_list(auth).await?;
            Ok(Answer { value: a.value.len(), exchange: a.exchange })
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

    /// The REST tokens, each by its `name` with its `userName`.
    fn session_list<'a>(
        &'a self,
        auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Answer<Vec<Listed>>, DriverError>> {
        Box::pin(async move {
            let reply = expect_success(
                self.send("GET", TOKENS, auth, &[], None).await?,
                "listing the tokens",
            )?;
            let items = reply.json.as_ref().and_then(|j| j.get("items")).and_then(Value::as_array);
            let Some(items) = items else {
                return Err(DriverError::Unexpected {
                    expected: "expected the token collection to have items".to_string(),
                    exchange: reply.exchange,
                });
            };
            let text =
                |item: &Value, key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
            let value = items
                .iter()
                .enumerate()
                .map(|(i, item)| Listed {
                    // A token without a name still counts, under a name of its own.
                    id: text(item, "name")
                        .or_else(|| text(item, "token"))
                        .unwrap_or_else(|| format!("#{i}")),
                    user: text(item, "userName"),
                })
                .collect();
            Ok(Answer { value, exchange: reply.exchange })
        })
    }

    fn idle_timeout(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            let xml = session_call("get_session_timeout", "");
            let reply = self.soap_send(&self.config.admin, None, &[], &xml).await?;
            let text = Self::soap_return(&reply, "get_session_timeout")?;
            let secs = text.trim().parse::<u64>().map_err(|_| DriverError::Unexpected {
                expected: "expected get_session_timeout to return seconds".to_string(),
                exchange: reply.exchange.clone(),
            })?;
            Ok(Answer {
                value: (secs > 0).then(|| Duration::from_secs(secs)),
                exchange: reply.exchange,
            })
        })
    }

    fn set_idle_timeout(&self, timeout: Duration) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let params = format!("<timeout>{}</timeout>", timeout.as_secs());
            let xml = session_call("set_session_timeout", &params);
            let reply = self.soap_send(&self.config.admin, None, &[], &xml).await?;
            Ok(expect_success(reply, "set_session_timeout")?.exchange)
        })
    }

    fn max_lifetime(&self) -> BoxFuture<'_, Result<Answer<Option<Duration>>, DriverError>> {
        Box::pin(async move {
            Err(DriverError::Unsupported(
                "BIG-IP has no device-wide maximum session lifetime".to_string(),
            ))
        })
    }

    fn create_user<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let body = json!({
                "name": user,
                "password": password,
                "partitionAccess": [{ "name": "all-partitions", "role": role(role_name) }],
            });
            let reply = self.send("POST", USERS, Auth::Admin, &[], Some(&body)).await?;
            self.remember_password(&Credentials::new(user, password));
            Ok(expect_success(reply, &format!("creating the user {user:?}"))?.exchange)
        })
    }

    fn change_password<'a>(
        &'a self,
        user: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let body = json!({ "password": password });
            let path = format!("{USERS}/{user}");
            let reply = self.send("PATCH", &path, Auth::Admin, &[], Some(&body)).await?;
            let exchange =
                expect_success(reply, &format!("changing the password of {user:?}"))?.exchange;
            self.remember_password(&Credentials::new(user, password));
            Ok(exchange)
        })
    }

    fn delete_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            let path = format!("{USERS}/{user}");
            let reply = self.send("DELETE", &path, Auth::Admin, &[], None).await?;
            Ok(expect_success(reply, &format!("deleting the user {user:?}"))?.exchange)
        })
    }

    fn restart(&self) -> BoxFuture<'_, Result<Exchange, DriverError>> {
        Box::pin(async move {
            Err(DriverError::Unsupported("the BIG-IP driver does not reboot devices".to_string()))
        })
    }

    fn admin_delete<'a>(
        &'a self,
        _session: &'a SessionHandle,
        _auth: Auth<'a>,
    ) -> BoxFuture<'a, Result<Exchange, DriverError>> {
        Box::pin(async move {
            Err(DriverError::Unsupported(
                "only a token's owner may delete it on BIG-IP (F5-TOKMGMT)".to_string(),
            ))
        })
    }

    fn raw<'a>(&'a self, call: RawCall<'a>) -> BoxFuture<'a, Result<Reply, DriverError>> {
        Box::pin(async move {
            let path = call.path.split('?').next().unwrap_or(&call.path);
            let xml = match &call.body {
                Some(Value::String(xml)) if path == PORTAL => Some(xml.clone()),
                _ => None,
            };
            if let Some(xml) = xml {
                let (who, id) = match call.auth {
                    Auth::Session(s) if is_soap(s) => {
                        (self.session_credentials(s)?, Some(s.id.clone()))
                    }
                    Auth::Admin => (self.config.admin.clone(), None),
                    _ => (Credentials::new("", ""), None),
                };
                return self.soap_send(&who, id.as_deref(), &call.headers, &xml).await;
            }
            self.send(&call.method, &call.path, call.auth, &call.headers, call.body.as_ref()).await
        })
    }

    fn adopt(&self, call: &RawCall<'_>, reply: &Reply, user: &str) -> Option<SessionHandle> {
        if call.method != "POST" || reply.status != 200 {
            return None;
        }
        let path = call.path.split('?').next().unwrap_or(&call.path);
        let json = reply.json.as_ref()?;
        if path.ends_with(LOGIN) {
            let token = json.pointer("/token/token")?.as_str()?;
            let user = json.get("username").and_then(Value::as_str).unwrap_or(user);
            return Some(SessionHandle {
                id: token_id(token),
                uri: format!("{TOKENS}/{token}"),
                user: user.to_string(),
                token: token.to_string(),
            });
        }
        if path == PORTAL
            && json.get("response").and_then(Value::as_str)
                == Some("get_session_identifierResponse")
        {
            let id = json.get("return")?.as_str()?.to_string();
            let user = match call.auth {
                Auth::Session(s) => s.user.clone(),
                _ => self.config.admin.user.clone(),
            };
            return Some(SessionHandle {
                id: id.clone(),
                uri: PORTAL.to_string(),
                user,
                token: id,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOAP answers are read into the fields scenarios match on.
    #[test]
    fn soap_answers_become_json() {
        let ok = "<E:Envelope\nxmlns:E=\"http://schemas.xmlsoap.org/soap/envelope/\">\n<E:Body>\n\
                  <m:get_session_identifierResponse\nxmlns:m=\"urn:iControl:System/Session\">\n\
                  <return\ns:type=\"y:long\">14</return>\n</m:get_session_identifierResponse>\n\
                  </E:Body>\n</E:Envelope>";
        assert_eq!(
            soap_json(ok),
            json!({ "response": "get_session_identifierResponse", "return": "14" })
        );
        let fault = "<E:Envelope xmlns:E=\"x\">\n<E:Body>\n<E:Fault>\n<faultcode>E:Server</faultcode>\n\
                     <faultstring>Exception: Common::OperationFailed\n\terror_string : a &lt;b&gt;</faultstring>\n\
                     </E:Fault>\n</E:Body>\n</E:Envelope>";
        let j = soap_json(fault);
        assert_eq!(j["response"], "Fault");
        assert_eq!(j["faultcode"], "E:Server");
        assert_eq!(j["faultstring"], "Exception: Common::OperationFailed\n\terror_string : a <b>");
        let void = "<E:Body>\n<m:start_transactionResponse\nxmlns:m=\"u\"></m:start_transactionResponse>\n</E:Body>";
        assert_eq!(soap_json(void), json!({ "response": "start_transactionResponse" }));
    }

    /// Tokens never show in reports.
    #[test]
    fn tokens_are_redacted_from_exchanges() {
        let e = Exchange {
            request: "DELETE /mgmt/shared/authz/tokens/ABCDEFGHIJKLMNOPQRSTUVWXYZ".to_string(),
            body: "{\"token\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"}".to_string(),
            ..Exchange::default()
        };
        let json: Value = serde_json::from_str(&e.body).unwrap();
        let r = redact_tokens_in(e, Some(&json));
        assert!(!r.request.contains("ABCDEFGHIJ") && !r.body.contains("ABCDEFGHIJ"), "{r:?}");
        assert!(token_id("ABCDEFGHIJKLMNOPQRSTUVWXYZ").starts_with("token-"));
    }
}
