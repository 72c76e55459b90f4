//! HPE iLO 4, 5 and 6: the DMTF Redfish service with HPE's session resources.
//!
//! The evidence is Part 1 of `shared/vendors/ilo-idrac.md` and seed 000 (HPE's "Managing
//! iLO sessions with Redfish"). Every value that differs between generations, and every
//! behaviour the evidence leaves open, is a knob of [`IloSettings`] (`[ilo]`) or of the
//! shared [`crate::vendors::redfish::RedfishSettings`] (`[redfish]`: Base registry,
//! `Server` header, status of `SessionLimitExceeded`); the profiles
//! (`fixtures/profiles/ilo*.toml`) say which values are verified and which are assumed.
//!
//! The personality is the standard Redfish router ([`crate::vendors::redfish::routes`])
//! with iLO's handlers for the session resources, the service root, the manager and the
//! account deletion, and iLO's envelope for every error:
//!
//! - [`routes`]: the router (aliases, `/rest/v1` on iLO 4, case-insensitive paths) and
//!   the iLO handlers;
//! - [`wire`]: iLO's resource bodies (`Oem.Hpe` / `Oem.Hp`, trailing slashes, `@odata.etag`);
//! - [`errors`]: iLO's ExtendedInfo envelope, used for errors and for the bodies of
//!   successful logins, logouts and actions alike.
//!
//! Sessions live only in the engine: a Redfish login opens a `redfish` session, each HTTP
//! Basic request a one-request `redfish-basic` session that is listed while it runs, and
//! Web UI, SSH or Remote Console sessions are opened through the control API with the
//! session types of [`IloSettings::user_tags`].

pub mod errors;
pub mod routes;
pub mod wire;

use std::collections::BTreeMap;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// Session type of a Redfish login (`UserTag` "REST" on iLO 5 and 6).
pub const REDFISH: &str = super::redfish::SESSION_TYPE;
/// Session type of the one-request session behind an HTTP Basic request.
pub const REDFISH_BASIC: &str = super::redfish::BASIC_SESSION_TYPE;
/// Session type of a Web UI login (opened through the control API).
pub const WEB: &str = "web";
/// Session type of an SSH connection (opened through the control API).
pub const SSH: &str = "ssh";
/// Session type of a Remote Console (opened through the control API).
pub const REMOTE_CONSOLE: &str = "remote-console";

/// What the body of a successful login is (ilo-idrac.md 1.2: [P] ExtendedInfo `Created`
/// on iLO 4 and 5, [P] the Session resource in HPE's iLO 6 TFA example, [U] in general).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginBody {
    /// iLO's ExtendedInfo envelope with `Base.x.Created`.
    Created,
    /// The new session resource (with `MySession: true` and `Privileges`).
    Session,
}

/// Where the idle timeout of web and REST sessions is set, besides
/// `SessionService.SessionTimeout` (ilo-idrac.md 1.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdleTimeoutProperty {
    /// `Oem.<oem>.IdleConnectionTimeoutMinutes` on `/redfish/v1/Managers/1/` (iLO 5, 6).
    ManagerOem,
    /// `SessionTimeoutMinutes` on `/redfish/v1/Managers/1/NetworkService/` (iLO 4).
    NetworkService,
}

/// How an infinite idle timeout shows in minutes properties (ilo-idrac.md 1.8 [U]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InfiniteMinutes {
    /// `null` (the documented allowed values of `IdleConnectionTimeoutMinutes` list `Null`).
    Null,
    /// `0` (iLO 4's `SessionTimeoutMinutes`: "A zero value indicates infinite timeout").
    Zero,
}

/// Which scheme the absolute `Location` of a new session carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocationScheme {
    /// The scheme of the listener the client reached: `https` on a TLS listener (as on
    /// every real iLO), `http` on a plain one, whatever the port.
    Auto,
    /// Always `https`.
    Https,
    /// Always `http`.
    Http,
}

/// iLO settings of a profile (`[ilo]`). The defaults are those of iLO 5 (v2.55).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IloSettings {
    /// Key of every Oem block: `Hpe` (iLO 5, 6) or `Hp` (iLO 4).
    pub oem: String,
    /// `ManagerType` in the service root's Oem `Manager` list ("iLO 5").
    pub manager_type: String,
    /// `ManagerFirmwareVersion` ("2.55").
    pub firmware_version: String,
    /// `Product` of the service root (empty: none).
    pub product: String,
    /// `@odata.type` of the service root.
    pub service_root_odata_type: String,
    /// `Name` of the service root.
    pub service_root_name: String,
    /// `@odata.type` of the service root's Oem block (`HpeiLOServiceExt`).
    pub service_ext_odata_type: String,
    /// iLO 4's service root: legacy `Type` and `links.<name>.href` instead of
    /// `Links.Sessions` (captured on iLO 4 v2.54).
    pub legacy_links: bool,
    /// `@odata.type` of a session.
    pub session_odata_type: String,
    /// `@odata.type` of a session's Oem block (`HpeiLOSession`).
    pub oem_session_odata_type: String,
    /// `@odata.type` of the Sessions collection's Oem block (`HpeiLOSessionsSummary`).
    pub sessions_summary_odata_type: String,
    /// `@odata.type` of the SessionService.
    pub session_service_odata_type: String,
    /// Whether the SessionService shows `SessionTimeout` (absent on iLO 5 v2.55, added in
    /// iLO 6 v1.40); it can be PATCHed either way.
    pub session_service_shows_timeout: bool,
    /// `@odata.type` of the manager.
    pub manager_odata_type: String,
    /// `@odata.type` of iLO 4's NetworkService.
    pub network_service_odata_type: String,
    /// Prefix of the iLO registry's message ids (`iLO.2.13` gives
    /// `iLO.2.13.UnauthorizedLoginAttempt`).
    pub ilo_registry: String,
    /// `code` of the envelope.
    pub error_code: String,
    /// `message` of the envelope.
    pub error_message: String,
    /// Spelling of the message id key in `@Message.ExtendedInfo`: `MessageId` (iLO 5, 6)
    /// or `MessageID` (iLO 4).
    pub message_id_key: String,
    /// iLO 4: the envelope also carries top-level `Messages` (with `MessageID`) and
    /// `"Type": "ExtendedError.1.0.0"`.
    pub legacy_error_fields: bool,
    /// `ETag` header of every ExtendedInfo answer (captured identical on a 2018 iLO 5
    /// login and a 2023 iLO 6 401); empty: none.
    pub extended_info_etag: String,
    /// Body of a successful login.
    pub login_body: LoginBody,
    /// `Oem.<oem>.Sessions.LoginFailureDelay` of the service root, and the seconds a
    /// failed login waits before it is answered (0 in tests).
    pub login_failure_delay_secs: u64,
    /// Status of `UnauthorizedLoginAttempt` (ilo-idrac.md 1.6: [U], presumably 401).
    pub bad_login_status: u16,
    /// Where the idle timeout is set besides `SessionService.SessionTimeout`.
    pub idle_timeout_property: IdleTimeoutProperty,
    /// The idle timeouts, in minutes, the minutes property accepts (besides infinite).
    pub idle_timeout_minutes: Vec<u64>,
    /// How infinite shows in the minutes property.
    pub infinite_minutes: InfiniteMinutes,
    /// `UserTag` of each session type; types not listed show [`IloSettings::unknown_user_tag`].
    pub user_tags: BTreeMap<String, String>,
    /// `UserTag` of session types missing from [`IloSettings::user_tags`].
    pub unknown_user_tag: String,
    /// `UserType` of local accounts.
    pub user_type: String,
    /// The privilege names of a session's `Privileges` block, in iLO's spelling.
    pub privileges: Vec<String>,
    /// `Content-Type` of every JSON answer.
    pub content_type: String,
    /// Headers added to every answer (`X-Frame-Options`, ...).
    pub headers: BTreeMap<String, String>,
    /// Whether `@odata.id`s and `Location` end in `/`.
    pub trailing_slash: bool,
    /// iLO 4: `/rest/v1/...` is served as `/redfish/v1/...` and `/rest/v1/Sessions` as the
    /// Sessions collection.
    pub rest_v1_alias: bool,
    /// iLO 5 and later: every `/rest/v1/x` answers `308 Permanent Redirect` to
    /// `/redfish/v1/x/` (HPE's "Adapting from iLO 4" guide: "For iLO 5 all accesses of
    /// the /rest/v1/x URI pattern result in HTTP 308 redirect to /redfish/v1/x/").
    /// iLOrest probes `/rest/v1` before every login. Ignored with `rest_v1_alias`.
    pub rest_v1_redirect: bool,
    /// Whether the fixed segments of paths match whatever their case
    /// (`/redfish/v1/sessionservice/sessions/`, as HPE's own examples write them).
    pub case_insensitive_paths: bool,
    /// Scheme of the absolute `Location` of a new session.
    pub location_scheme: LocationScheme,
    /// `CommandShell.MaxConcurrentSessions` of the manager (0: not shown).
    pub command_shell_max_sessions: u32,
    /// `GraphicalConsole.MaxConcurrentSessions` of the manager (0: not shown).
    pub graphical_console_max_sessions: u32,
    /// `SerialConsole.MaxConcurrentSessions` of the manager (0: not shown).
    pub serial_console_max_sessions: u32,
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

impl Default for IloSettings {
    fn default() -> Self {
        IloSettings {
            oem: "Hpe".to_string(),
            manager_type: "iLO 5".to_string(),
            firmware_version: "2.55".to_string(),
            product: "ProLiant DL360 Gen10 Plus".to_string(),
            service_root_odata_type: "#ServiceRoot.v1_5_1.ServiceRoot".to_string(),
            service_root_name: "HPE RESTful Root Service".to_string(),
            service_ext_odata_type: "#HpeiLOServiceExt.v2_3_0.HpeiLOServiceExt".to_string(),
            legacy_links: false,
            session_odata_type: "#Session.v1_0_0.Session".to_string(),
            oem_session_odata_type: "#HpeiLOSession.v2_1_0.HpeiLOSession".to_string(),
            sessions_summary_odata_type: "#HpeiLOSessionsSummary.v2_0_0.HpeiLOSessionsSummary"
                .to_string(),
            session_service_odata_type: "#SessionService.v1_0_0.SessionService".to_string(),
            session_service_shows_timeout: false,
            manager_odata_type: "#Manager.v1_5_1.Manager".to_string(),
            network_service_odata_type: "#ManagerNetworkProtocol.1.0.0.ManagerNetworkProtocol"
                .to_string(),
            ilo_registry: "iLO.2.13".to_string(),
            error_code: "iLO.0.10.ExtendedInfo".to_string(),
            error_message: "See @Message.ExtendedInfo for more information.".to_string(),
            message_id_key: "MessageId".to_string(),
            legacy_error_fields: false,
            extended_info_etag: "W/\"02C2D1BB\"".to_string(),
            login_body: LoginBody::Created,
            login_failure_delay_secs: 0,
            bad_login_status: 401,
            idle_timeout_property: IdleTimeoutProperty::ManagerOem,
            idle_timeout_minutes: vec![15, 30, 60, 120],
            infinite_minutes: InfiniteMinutes::Null,
            user_tags: map(&[
                (REDFISH, "REST"),
                (REDFISH_BASIC, "REST"),
                (WEB, "Web UI"),
                (SSH, "SSH"),
                (REMOTE_CONSOLE, "Remote Console"),
            ]),
            unknown_user_tag: "Unknown".to_string(),
            user_type: "Local".to_string(),
            privileges: strings(&[
                "HostBIOSConfigPriv",
                "HostNICConfigPriv",
                "HostStorageConfigPriv",
                "LoginPriv",
                "RemoteConsolePriv",
                "SystemRecoveryConfigPriv",
                "UserConfigPriv",
                "VirtualMediaPriv",
                "VirtualPowerAndResetPriv",
                "iLOConfigPriv",
            ]),
            content_type: "application/json; charset=utf-8".to_string(),
            headers: map(&[("X-Frame-Options", "sameorigin")]),
            trailing_slash: true,
            rest_v1_alias: false,
            rest_v1_redirect: true,
            case_insensitive_paths: true,
            location_scheme: LocationScheme::Auto,
            command_shell_max_sessions: 9,
            graphical_console_max_sessions: 10,
            serial_console_max_sessions: 13,
        }
    }
}

impl IloSettings {
    /// The settings of `device`'s profile (the iLO 5 defaults when it has no `[ilo]`).
    pub fn of(device: &crate::device::Device) -> IloSettings {
        device.profile().ilo.clone().unwrap_or_default()
    }

    /// `UserTag` of a session type.
    pub fn user_tag(&self, session_type: &str) -> &str {
        self.user_tags.get(session_type).map_or(self.unknown_user_tag.as_str(), String::as_str)
    }
}

/// The iLO router for a device.
pub fn router(device: DeviceHandle) -> Router {
    routes::app(device).into_router()
}
