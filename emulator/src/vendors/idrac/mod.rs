//! Dell iDRAC 8, 9 and 10: Redfish sessions, session-type pools, and racadm over SSH.
//!
//! The evidence is Part 2 of `shared/vendors/ilo-idrac.md` and seed 002 (the shell
//! tooling that runs `racadm getssninfo` / `racadm closessn` over SSH). Every number and
//! every text that differs between generations is a knob of [`IdracSettings`]; the
//! profiles (`fixtures/profiles/idrac*.toml`) say which values are verified and which
//! are assumed.
//!
//! - [`routes`]: the Redfish [`Router`] (sessions at the path the RedfishVersion implies,
//!   the Dell attributes resource, accounts by slot, `Manager.Reset`);
//! - [`wire`]: resource bodies, serialised with sorted keys as iDRAC does;
//! - [`errors`]: iDRAC's error bodies, the captured ones byte for byte;
//! - [`attributes`]: the Dell attributes (`iDRAC.WebServer.Timeout`, `iDRAC.Users.2.Password`,
//!   ...) shared by Redfish and racadm;
//! - [`racadm`]: the racadm subcommands, one module each, as plain functions of the device;
//! - [`ssh`]: the russh server that runs racadm (exec and the `racadm>>` shell).
//!
//! Session state lives only in the engine: each SSH connection holds one `ssh` session
//! for its lifetime, each Redfish login one `redfish` session; GUI, virtual console, VNC
//! and remote-racadm sessions are opened through the control API.

pub mod attributes;
pub mod errors;
pub mod racadm;
pub mod remote;
pub mod routes;
pub mod ssh;
pub mod tree;
pub mod wire;

use std::collections::BTreeMap;

use axum::Router;
use chrono::FixedOffset;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::device::DeviceHandle;

/// Session type of a Redfish login (the standard personality's).
pub const REDFISH: &str = super::redfish::SESSION_TYPE;
/// Session type of the one-request sessions behind HTTP Basic requests.
pub const REDFISH_BASIC: &str = super::redfish::BASIC_SESSION_TYPE;
/// Session type of a web GUI login (opened through the control API).
pub const GUI: &str = "gui";
/// Session type of an SSH connection.
pub const SSH_TYPE: &str = "ssh";
/// Session type of a remote racadm session (opened through the control API).
pub const RACADM: &str = "racadm";
/// Session type of a virtual console (opened through the control API).
pub const VIRTUAL_CONSOLE: &str = "virtual-console";
/// Session type of a VNC session (opened through the control API).
pub const VNC: &str = "vnc";
/// Session type of an out-of-band IPMI (RMCP+) session (opened through the control API).
pub const IPMI: &str = "ipmi";

/// One `{ConnectTypesSupported, MaxConcurrentSessions}` block of the Manager resource
/// (`CommandShell`, `GraphicalConsole`, `SerialConsole`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerService {
    /// `ConnectTypesSupported`.
    pub connect_types: Vec<String>,
    /// `MaxConcurrentSessions`.
    pub max_sessions: u64,
    /// `ServiceEnabled`, when the capture shows it.
    #[serde(default)]
    pub service_enabled: Option<bool>,
}

/// Where the Sessions collection is served (ilo-idrac.md 2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionPaths {
    /// RedfishVersion before 1.6: only `/redfish/v1/Sessions`; any request to
    /// `/redfish/v1/SessionService/Sessions` gets 405 (iDRAC8).
    Legacy,
    /// RedfishVersion 1.6 and later: `/redfish/v1/SessionService/Sessions`, and the old
    /// path still served (iDRAC9).
    Both,
    /// Only `/redfish/v1/SessionService/Sessions`.
    Current,
}

/// What a login POST that carries an `Authorization` header gets (ilo-idrac.md 2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginAuthorization {
    /// The header is ignored and the login proceeds.
    Ignore,
    /// `IDRAC.x.SYS468` (iDRAC9 7.00.60), with status `sys468_status`.
    Sys468,
    /// 415 with the non-array ExtendedInfo `GeneralError` body (iDRAC9 5.x and 6.x).
    UnsupportedMediaType,
}

/// The body of the 503 a login gets when its pool is full (ilo-idrac.md 2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableFullBody {
    /// `IDRAC.2.1.RAC0218` with the registry's resolution (iDRAC9, 2020 firmware).
    Rac0218V2020,
    /// `IDRAC.2.4.RAC0218` with the long resolution and its missing space (2022 report).
    Rac0218V2022,
}

/// What an unauthenticated or dead-token request gets (ilo-idrac.md 2.2, 2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unauthorized {
    /// JSON 401 with the `AccessDenied` message (iDRAC9 capture shape).
    AccessDenied,
    /// 401 with `Content-Type: text/html` and an empty body (iDRAC8 capture).
    EmptyHtml,
}

/// The body of a successful logout (ilo-idrac.md 2.3: \[U\] on iDRAC9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogoutBody {
    /// No body.
    None,
    /// `@Message.ExtendedInfo` with the Base registry's `Success`.
    Success,
}

/// What an SSH login gets when the SSH pool is full (no evidence: assumed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SshPoolFull {
    /// The connection is closed right after the password check.
    Disconnect,
    /// The password is refused, as if it were wrong (the client asks again).
    RejectPassword,
}

/// A UTC offset such as `-05:00`, the device's time zone on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcOffset(pub FixedOffset);

impl UtcOffset {
    /// `+00:00`.
    pub fn utc() -> UtcOffset {
        UtcOffset(FixedOffset::east_opt(0).expect("zero offset"))
    }

    /// Parses `+HH:MM` / `-HH:MM` (or `Z`).
    pub fn parse(text: &str) -> Result<UtcOffset, String> {
        let bad = || format!("invalid UTC offset {text:?}: expected +HH:MM or -HH:MM");
        if text == "Z" {
            return Ok(UtcOffset::utc());
        }
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, &text[1..]),
            Some(b'-') => (-1, &text[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: i32 = h.parse().map_err(|_| bad())?;
        let m: i32 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(UtcOffset).ok_or_else(bad)
    }
}

impl Serialize for UtcOffset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for UtcOffset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        UtcOffset::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Message ids and envelope codes, per firmware (`[idrac.messages]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Messages {
    /// Base registry prefix of Base messages the evidence gives no id for
    /// (`Success`, `ResourceMissingAtURI`, `PropertyUnknown`, ...).
    pub base_registry: String,
    /// iDRAC registry prefix of iDRAC messages the evidence gives no id for (`SYS402`,
    /// `SYS413`).
    pub idrac_registry: String,
    /// `code` of the error envelope when no captured one applies.
    pub general_error_code: String,
    /// First message of a login answer.
    pub created: String,
    /// Second message of a login answer.
    pub sys414: String,
    /// Bad credentials on login.
    pub sys415: String,
    /// `code` of the SYS415 envelope.
    pub sys415_code: String,
    /// `Authorization` header on the login POST.
    pub sys468: String,
    /// `code` of the SYS468 envelope.
    pub sys468_code: String,
    /// `message` of the SYS468 envelope (this capture ends with a period).
    pub sys468_message: String,
    /// `MessageId` of the 401 `AccessDenied` message.
    pub access_denied: String,
    /// `code` of the 401 `AccessDenied` envelope.
    pub access_denied_code: String,
}

impl Default for Messages {
    fn default() -> Self {
        Messages {
            base_registry: "Base.1.12".to_string(),
            idrac_registry: "IDRAC.2.9".to_string(),
            general_error_code: "Base.1.12.GeneralError".to_string(),
            created: "Base.1.12.Created".to_string(),
            sys414: "IDRAC.2.9.SYS414".to_string(),
            sys415: "IDRAC.2.9.SYS415".to_string(),
            sys415_code: "Base.1.12.GeneralError".to_string(),
            sys468: "IDRAC.2.9.SYS468".to_string(),
            sys468_code: "Base.1.8.GeneralError".to_string(),
            sys468_message: "A general error has occurred. See ExtendedInfo for more information."
                .to_string(),
            access_denied: "Base.1.2.AccessDenied".to_string(),
            access_denied_code: "Base.1.0.GeneralError".to_string(),
        }
    }
}

/// Ranges of the timeout attributes, in seconds (`[idrac.timeouts]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutRanges {
    /// `WebServer.1.Timeout` (and `SessionService.SessionTimeout`).
    pub web_server: [u64; 2],
    /// `SSH.1.Timeout`.
    pub ssh: [u64; 2],
    /// `Racadm.1.Timeout`.
    pub racadm: [u64; 2],
    /// `VirtualConsole.1.Timeout`.
    pub virtual_console: [u64; 2],
    /// `VNCServer.1.Timeout`.
    pub vnc: [u64; 2],
    /// Whether 0 (no idle timeout) is accepted besides the range ("To disable the idle
    /// time out property for a connection, set this property to 0").
    pub zero_disables: bool,
    /// `VirtualConsole.1.Timeout` as configured; it applies only while
    /// `virtual_console_enabled` (`VirtualConsole.1.TimeoutEnable`) is on, so the
    /// profile's `idle_timeout_by_type.virtual-console` must agree (0 when off).
    pub virtual_console_timeout: u64,
    /// `VirtualConsole.1.TimeoutEnable` at start.
    pub virtual_console_enabled: bool,
}

impl Default for TimeoutRanges {
    fn default() -> Self {
        TimeoutRanges {
            web_server: [60, 10_800],
            ssh: [60, 10_800],
            racadm: [10, 1920],
            virtual_console: [60, 10_800],
            vnc: [60, 10_800],
            zero_disables: true,
            virtual_console_timeout: 1800,
            virtual_console_enabled: false,
        }
    }
}

/// The SSH service (`[idrac.ssh]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshSettings {
    /// The identification string the server sends (`SSH-2.0-...`).
    pub banner: String,
    /// Mixed with the device name to derive the Ed25519 host key, so a device keeps its
    /// key across starts; change it to give a device a new key.
    pub host_key_seed: String,
    /// What a login gets when the SSH pool is full.
    pub pool_full: SshPoolFull,
    /// The interactive shell's prompt.
    pub prompt: String,
}

impl Default for SshSettings {
    fn default() -> Self {
        SshSettings {
            banner: "SSH-2.0-OpenSSH_8.0".to_string(),
            host_key_seed: "sessionlab".to_string(),
            pool_full: SshPoolFull::Disconnect,
            prompt: "racadm>>".to_string(),
        }
    }
}

/// racadm's texts and layout choices (`[idrac.racadm]`). `{id}` and `{user}` are
/// replaced in the texts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RacadmSettings {
    /// `getssninfo` Type column by engine session type; other types show upper-cased.
    pub type_labels: BTreeMap<String, String>,
    /// Show numbers in SSNID even when session ids are UUIDs (each session gets a
    /// number on first sight), so `closessn -i N` and numeric parsers keep working.
    pub numeric_ids: bool,
    /// `closessn -i` success.
    pub closed: String,
    /// `closessn` on the executing session.
    pub own_session: String,
    /// `closessn -a` success.
    pub closed_all: String,
    /// `closessn -u` success.
    pub closed_user: String,
    /// `closessn -i` with an id that is not open.
    pub no_such_session: String,
    /// `closessn -u` for a user without (other) sessions.
    pub no_user_sessions: String,
    /// `set` success.
    pub modified: String,
    /// `set` with a value outside the attribute's range or type.
    pub invalid_value: String,
    /// `get`/`set` of an attribute that does not exist.
    pub invalid_attribute: String,
    /// `set` of a read-only attribute.
    pub read_only: String,
    /// `racreset` success.
    pub racreset: String,
    /// A subcommand racadm does not know (`{cmd}` is replaced).
    pub unknown_subcommand: String,
    /// Wrong options or arguments.
    pub invalid_syntax: String,
    /// The caller's role may not run this subcommand.
    pub not_permitted: String,
    /// Exit status of a failed subcommand.
    pub error_exit: u32,
    /// Whether error texts go to standard error (else standard output).
    pub errors_on_stderr: bool,
    /// Whether the iDRAC7/8 legacy `getconfig` / `config -g cfgSessionManagement` names
    /// are served (besides `get` / `set`).
    pub legacy_config: bool,
}

impl Default for RacadmSettings {
    fn default() -> Self {
        let labels = [
            (GUI, "GUI"),
            (SSH_TYPE, "SSH"),
            (RACADM, "RACADM"),
            (VIRTUAL_CONSOLE, "Virtual Console"),
            (VNC, "VNC"),
            (IPMI, "IPMI"),
            (REDFISH, "REDFISH"),
            (REDFISH_BASIC, "REDFISH"),
        ];
        RacadmSettings {
            type_labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            numeric_ids: false,
            closed: "Session {id} closed successfully.".to_string(),
            own_session: "Closing the executing session is not permitted.".to_string(),
            closed_all: "All sessions closed successfully.".to_string(),
            closed_user: "All sessions of user {user} closed successfully.".to_string(),
            no_such_session: "ERROR: Invalid session ID: {id}".to_string(),
            no_user_sessions: "ERROR: No sessions found for user {user}.".to_string(),
            modified: "Object value modified successfully".to_string(),
            invalid_value: "ERROR: RAC947: Invalid object value specified.".to_string(),
            invalid_attribute: "ERROR: Invalid Attribute".to_string(),
            read_only: "ERROR: The specified object is read-only.".to_string(),
            racreset: "RAC reset operation initiated successfully. It may take a few minutes \
                       for the RAC to come online again."
                .to_string(),
            unknown_subcommand: "ERROR: Invalid subcommand specified.".to_string(),
            invalid_syntax: "ERROR: Invalid syntax.".to_string(),
            not_permitted: "ERROR: The user does not have the privilege to run this command."
                .to_string(),
            error_exit: 1,
            errors_on_stderr: true,
            legacy_config: false,
        }
    }
}

/// The predefined roles (`[idrac.roles]`), served at `/redfish/v1/AccountService/Roles`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolesSettings {
    /// The role ids, in the collection's order: `Administrator`, `Operator`, `ReadOnly`
    /// and, up to iDRAC9, `None`.
    pub ids: Vec<String>,
    /// `@odata.type` of a role.
    pub odata_type: String,
    /// Spell two privileges as the 2017 iDRAC8/iDRAC9 3.x mockups do (`ConfigureUser`,
    /// `ConfigureComponent`) instead of DSP0266's `ConfigureUsers`, `ConfigureComponents`.
    pub legacy_privilege_names: bool,
}

impl Default for RolesSettings {
    fn default() -> Self {
        RolesSettings {
            ids: ["Administrator", "Operator", "ReadOnly", "None"].map(String::from).to_vec(),
            odata_type: "#Role.v1_0_2.Role".to_string(),
            legacy_privilege_names: false,
        }
    }
}

/// iDRAC settings of a profile (`[idrac]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdracSettings {
    /// `RedfishVersion` in the service root.
    pub redfish_version: String,
    /// Where the Sessions collection is served.
    pub sessions: SessionPaths,
    /// `Server` header on every answer (empty: none).
    pub server_header: String,
    /// `Content-Type` of JSON answers.
    pub content_type: String,
    /// The device's UTC offset: `CreatedTime` and racadm dates are local time.
    pub utc_offset: UtcOffset,
    /// `@odata.type` of a session.
    pub session_odata_type: String,
    /// `@odata.type` of the SessionService.
    pub session_service_odata_type: String,
    /// Message ids and envelope codes.
    pub messages: Messages,
    /// What a login POST carrying `Authorization` gets.
    pub login_authorization: LoginAuthorization,
    /// Status of the SYS468 answer.
    pub sys468_status: u16,
    /// Body of the 503 when a pool is full.
    pub table_full_body: TableFullBody,
    /// Status when a pool is full.
    pub table_full_status: u16,
    /// Answer to an unauthenticated or dead-token request.
    pub unauthorized: Unauthorized,
    /// Whether HTTP Basic credentials are accepted on resources (iDRAC10 1.30.10.50 and
    /// later: "Unadvertised", answered with `AccessDenied`).
    pub basic_auth: bool,
    /// Status of a successful logout.
    pub logout_status: u16,
    /// Body of a successful logout with status 200.
    pub logout_body: LogoutBody,
    /// Engine session types the Redfish Sessions collection lists (others exist only in
    /// `getssninfo`).
    pub listed_session_types: Vec<String>,
    /// The `Link` header of GET and HEAD answers that name their JSON schema; `{schema}`
    /// becomes `Session.v1_6_0`, `SessionCollection`, ... (empty: no `Link`).
    pub describedby: String,
    /// Whether a POST to `.../Sessions/Members` logs in as a POST to the collection does
    /// (DSP0266 POST (create): both forms).
    pub members_post: bool,
    /// The predefined roles.
    pub roles: RolesSettings,
    /// Ranges of the timeout attributes.
    pub timeouts: TimeoutRanges,
    /// The SSH service.
    pub ssh: SshSettings,
    /// racadm.
    pub racadm: RacadmSettings,
    /// The Manager's `CommandShell` (absent: not shown).
    pub command_shell: Option<ManagerService>,
    /// The Manager's `GraphicalConsole` (absent: not shown).
    pub graphical_console: Option<ManagerService>,
    /// The Manager's `SerialConsole` (absent: not shown).
    pub serial_console: Option<ManagerService>,
}

impl Default for IdracSettings {
    fn default() -> Self {
        IdracSettings {
            redfish_version: "1.11.0".to_string(),
            sessions: SessionPaths::Both,
            server_header: "Apache".to_string(),
            content_type: "application/json;odata.metadata=minimal;charset=utf-8".to_string(),
            utc_offset: UtcOffset::utc(),
            session_odata_type: "#Session.v1_6_0.Session".to_string(),
            session_service_odata_type: "#SessionService.v1_1_8.SessionService".to_string(),
            messages: Messages::default(),
            login_authorization: LoginAuthorization::Sys468,
            sys468_status: 400,
            table_full_body: TableFullBody::Rac0218V2022,
            table_full_status: 503,
            unauthorized: Unauthorized::AccessDenied,
            basic_auth: true,
            logout_status: 200,
            logout_body: LogoutBody::Success,
            listed_session_types: vec![REDFISH.to_string(), GUI.to_string()],
            describedby: "</redfish/v1/Schemas/{schema}.json>;rel=describedby".to_string(),
            members_post: true,
            roles: RolesSettings::default(),
            timeouts: TimeoutRanges::default(),
            ssh: SshSettings::default(),
            racadm: RacadmSettings::default(),
            command_shell: None,
            graphical_console: None,
            serial_console: None,
        }
    }
}

impl IdracSettings {
    /// The settings of `device`'s profile (defaults when it has no `[idrac]`).
    pub fn of(device: &crate::device::Device) -> std::borrow::Cow<'_, IdracSettings> {
        match &device.profile().idrac {
            Some(settings) => std::borrow::Cow::Borrowed(settings),
            None => std::borrow::Cow::Owned(IdracSettings::default()),
        }
    }
}

/// The SSH service (racadm over SSH).
pub const SSH: Option<crate::listener::SshConnect> = Some(ssh::connect);

/// The iDRAC router for a device.
pub fn router(device: DeviceHandle) -> Router {
    routes::app(device).into_router()
}
