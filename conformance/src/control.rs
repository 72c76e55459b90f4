//! A client of the emulator's control API (`/_sessionlab/`), for what the wire protocol
//! of a device has no way to do: move a virtual clock, change the authentication
//! configuration, list every session for a hygiene report.
//!
//! Only emulated targets have one. The harness never needs it to judge a device; it
//! makes waits instant and lets the runner check that it left nothing behind.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A control API call that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("control API {request}: {message}")]
pub struct ControlError {
    /// `METHOD path`.
    pub request: String,
    /// What went wrong (status and the API's own error message).
    pub message: String,
}

/// A device in the fleet, as `GET /_sessionlab/devices` lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct DeviceInfo {
    /// Its name in the fleet.
    pub name: String,
    /// Its profile's name.
    pub profile: String,
    /// Its vendor (wire personality).
    pub vendor: String,
    /// Its base URL.
    pub url: String,
}

/// The local process that held a client's end of the connection when it logged in, as
/// an emulator that was asked to find it reports it (`client_process`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
pub struct ClientProcess {
    /// Process id.
    pub pid: u32,
    /// Its name (`comm`), e.g. `python3`.
    pub name: String,
    /// Its command line.
    #[serde(default)]
    pub cmdline: Vec<String>,
}

/// An open session as the control API shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct SessionInfo {
    /// Id.
    pub id: String,
    /// User.
    pub user: String,
    /// Session type.
    pub session_type: String,
    /// Client address.
    #[serde(default)]
    pub client_addr: Option<String>,
    /// Client User-Agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The local process that logged in, when the emulator names it.
    #[serde(default)]
    pub client_process: Option<ClientProcess>,
    /// Created (RFC 3339).
    pub created: String,
    /// Last used (RFC 3339).
    pub last_used: String,
    /// Requests made with it, when the emulator counts them.
    #[serde(default)]
    pub requests: Option<u64>,
    /// A one-request (Basic-auth) session.
    #[serde(default)]
    pub one_request: bool,
}

/// A login refused because a limit was reached, from the event log.
#[derive(Clone, Debug, Deserialize)]
pub struct RefusedLogin {
    /// Position in the log.
    pub seq: u64,
    /// When.
    pub at: String,
    /// User.
    pub user: String,
    /// Session type.
    pub session_type: String,
    /// Client address.
    #[serde(default)]
    pub client_addr: Option<String>,
    /// User-Agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The local process that tried, when the emulator names it.
    #[serde(default)]
    pub client_process: Option<ClientProcess>,
}

/// The clock's mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// Moves only when advanced.
    Virtual,
    /// Follows real time.
    Real,
}

/// A control API client.
#[derive(Clone, Debug)]
pub struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    /// A client for the control API at `base` (`http://127.0.0.1:7780`; a trailing
    /// `/_sessionlab` is accepted).
    pub fn new(base: &str) -> Result<Control, String> {
        let base = base.trim_end_matches('/');
        let base = base.strip_suffix("/_sessionlab").unwrap_or(base).to_string();
        let http = reqwest::Client::builder()
            .user_agent(super::driver::user_agent())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Control { http, base })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ControlError> {
        let url = format!("{}/_sessionlab/{path}", self.base);
        let request = format!("{method} /_sessionlab/{path}");
        let err = |message: String| ControlError { request: request.clone(), message };
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| err(e.to_string()))?;
        let mut req = self.http.request(m, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| err(format!("no answer from {url}: {e}")))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| err(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            Ok(value)
        } else {
            let message = value
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            Err(err(format!("{status}: {message}")))
        }
    }

    fn parse<T: for<'de> Deserialize<'de>>(value: Value, request: &str) -> Result<T, ControlError> {
        serde_json::from_value(value).map_err(|e| ControlError {
            request: request.to_string(),
            message: format!("unexpected answer: {e}"),
        })
    }

    /// `GET health`.
    pub async fn health(&self) -> Result<(), ControlError> {
        self.call("GET", "health", None).await.map(|_| ())
    }

    /// `GET devices`.
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>, ControlError> {
        let v = self.call("GET", "devices", None).await?;
        Self::parse(v.get("devices").cloned().unwrap_or(Value::Null), "GET devices")
    }

    /// The device serving `url` (same URL, else same port), or the one named `name`.
    pub async fn find_device(
        &self,
        url: Option<&str>,
        name: Option<&str>,
    ) -> Result<DeviceInfo, ControlError> {
        let devices = self.devices().await?;
        let not_found = |message: String| ControlError { request: "GET devices".into(), message };
        if let Some(name) = name {
            return devices
                .into_iter()
                .find(|d| d.name == name)
                .ok_or_else(|| not_found(format!("the emulator has no device named {name:?}")));
        }
        let Some(url) = url else {
            return match devices.len() {
                1 => Ok(devices.into_iter().next().expect("one")),
                n => Err(not_found(format!(
                    "the emulator serves {n} devices; say which with --device NAME or --target URL"
                ))),
            };
        };
        let url = url.trim_end_matches('/');
        if let Some(d) = devices.iter().find(|d| d.url.trim_end_matches('/') == url) {
            return Ok(d.clone());
        }
        let port = |u: &str| u.rsplit(':').next().map(|p| p.trim_end_matches('/').to_string());
        let by_port: Vec<&DeviceInfo> =
            devices.iter().filter(|d| port(&d.url) == port(url)).collect();
        match by_port.as_slice() {
            [one] => Ok((*one).clone()),
            _ => Err(not_found(format!(
                "no device of the emulator at {} serves {url}; it serves {}",
                self.base,
                devices.iter().map(|d| d.url.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// `GET clock`: the clock's mode.
    pub async fn clock_mode(&self) -> Result<ClockMode, ControlError> {
        let v = self.call("GET", "clock", None).await?;
        Ok(match v.get("mode").and_then(Value::as_str) {
            Some("virtual") => ClockMode::Virtual,
            _ => ClockMode::Real,
        })
    }

    /// `POST clock/advance`.
    pub async fn advance(&self, by: Duration) -> Result<(), ControlError> {
        if by.is_zero() {
            return Ok(());
        }
        self.call("POST", "clock/advance", Some(json!({ "seconds": by.as_secs_f64() })))
            .await
            .map(|_| ())
    }

    /// `GET devices/{name}/sessions`.
    pub async fn sessions(&self, device: &str) -> Result<Vec<SessionInfo>, ControlError> {
        let path = format!("devices/{device}/sessions");
        let v = self.call("GET", &path, None).await?;
        Self::parse(v.get("sessions").cloned().unwrap_or(Value::Null), &format!("GET {path}"))
    }

    /// `POST devices/{name}/auth-config`: how many sessions it ended.
    pub async fn change_auth_config(&self, device: &str) -> Result<Value, ControlError> {
        self.call("POST", &format!("devices/{device}/auth-config"), Some(json!({}))).await
    }

    /// `POST devices/{name}/restart`: the device restarts; every session ends.
    pub async fn restart(&self, device: &str) -> Result<Value, ControlError> {
        self.call("POST", &format!("devices/{device}/restart"), Some(json!({}))).await
    }

    /// `DELETE devices/{name}/sessions/{id}`.
    pub async fn admin_delete(&self, device: &str, id: &str) -> Result<(), ControlError> {
        self.call("DELETE", &format!("devices/{device}/sessions/{id}"), None).await.map(|_| ())
    }

    /// Logins refused because a limit was reached, after event `after` (`None`: all).
    pub async fn refused(
        &self,
        device: &str,
        after: Option<u64>,
    ) -> Result<Vec<RefusedLogin>, ControlError> {
        let mut path = format!("devices/{device}/events?event=refused");
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        let v = self.call("GET", &path, None).await?;
        Self::parse(v.get("events").cloned().unwrap_or(Value::Null), &format!("GET {path}"))
    }

    /// The sequence number of the device's latest event (0 when none).
    pub async fn last_event(&self, device: &str) -> Result<u64, ControlError> {
        let v = self.call("GET", &format!("devices/{device}/events"), None).await?;
        Ok(v.get("events")
            .and_then(Value::as_array)
            .and_then(|e| e.last())
            .and_then(|e| e.get("seq"))
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }

    /// `GET devices/{name}/hygiene`, as the emulator gives it.
    pub async fn hygiene(&self, device: &str) -> Result<Value, ControlError> {
        self.call("GET", &format!("devices/{device}/hygiene"), None).await
    }
}
