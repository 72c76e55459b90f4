//! BIG-IP configuration beyond sessions: the system objects tools read to learn what they
//! talk to, and the LTM objects automation creates and deletes most.
//!
//! | URI | Methods |
//! |---|---|
//! | `/mgmt/tm/sys/clock` | GET (the device's clock, virtual or real) |
//! | `/mgmt/tm/sys/hardware` | GET |
//! | `/mgmt/tm/sys/global-settings` | GET, PATCH |
//! | `/mgmt/tm/cm/device`, `/mgmt/tm/cm/device/{name}` | GET |
//! | `/mgmt/tm/sys/software/volume`, `.../volume/{name}` | GET |
//! | `/mgmt/tm/ltm/{virtual,pool,node}` | GET, POST |
//! | `/mgmt/tm/ltm/{virtual,pool,node}/~Partition~name` | GET, PUT, PATCH, DELETE |
//! | `/mgmt/tm/ltm/pool/~P~name/members` | GET, POST |
//! | `/mgmt/tm/ltm/pool/~P~name/members/~P~addr:port` | GET, PUT, PATCH, DELETE |
//!
//! Everything sits behind the personality's authentication ([`Principal`]); writes need a
//! role in `[bigip.objects] write_roles`. The state is an [`Ltm`] model kept by the
//! device ([`crate::device::Device::model`]), so the control API's reset brings back the
//! profile's state (no LTM objects) and a device restart keeps the configuration, as
//! a real BIG-IP keeps its configuration across a reboot.
//!
//! Shapes follow F5's iControl REST reference and public captures: collections are
//! `{"kind": "tm:ltm:pool:poolcollectionstate", "selfLink": "https://localhost/mgmt/tm/ltm/
//! pool?ver=<version>", "items": [...]}` (no `items` when empty, as f5-sdk's
//! `get_collection` expects: `if 'items' in self.__dict__`); objects start with `kind`,
//! `name`, `partition`, `fullPath`, `generation` and `selfLink`, then their properties in
//! alphabetical order. Errors of the configuration layer (mcpd) have their own envelope,
//! `{"code": 404, "message": "01020036:3: The requested Pool (/Common/p1) was not found.",
//! "errorStack": [], "apiError": 3}` ([C] public captures of BIG-IP 12-16), unlike the
//! REST framework's `:resterrorresponse` envelope that authentication errors keep.
//! `generation` is the device's configuration generation at an object's last change.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::auth::Principal;
use super::errors::RestError;
use super::routes::Ctx;
use super::wire::{self, JsonObject, ORIGIN};
use super::{fill, BigipSettings};
use crate::device::Device;
use crate::vendors::http::Rendered;
use crate::vendors::routing::{get, Param, Routes};

// ----- settings -----

/// Texts of configuration errors (profile `[bigip.objects.messages]`). Placeholders:
/// `{label}` (`Pool`, `Virtual Server`, `Node`, `Pool Member`), `{path}` (the full path),
/// `{partition}`, `{property}`, `{value}`, `{item}` (`ltm/pool`), `{name}`, `{user}`,
/// `{pool}`, `{virtual}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectMessages {
    /// 404: no such virtual server, pool or node ([C] `01020036:3: The requested Pool
    /// (/Common/my-pool) was not found.`).
    pub not_found: String,
    /// 404: no such pool member ([C] `Object not found - /Common/wrong:80`, apiError 1).
    pub member_not_found: String,
    /// 409: the object exists ([C] `01020066:3: The requested value list
    /// (/Common/my-datagroup) already exists in partition Common.`).
    pub exists: String,
    /// 400: a property the object does not have.
    pub unexpected_property: String,
    /// 400: a property with a value of the wrong type or outside its list.
    pub bad_value: String,
    /// 400: a missing or unusable object name.
    pub bad_name: String,
    /// 400: the partition (folder) does not exist.
    pub folder_not_found: String,
    /// 400: a pool that a virtual server uses cannot be deleted.
    pub pool_in_use: String,
    /// 400: a node that a pool member uses cannot be deleted.
    pub node_in_use: String,
    /// 400: a reference to an object that does not exist (a virtual server's `pool`).
    pub missing_reference: String,
}

impl Default for ObjectMessages {
    fn default() -> Self {
        ObjectMessages {
            not_found: "01020036:3: The requested {label} ({path}) was not found.".to_string(),
            member_not_found: "Object not found - {path}".to_string(),
            exists: "01020066:3: The requested {label} ({path}) already exists in partition \
                     {partition}."
                .to_string(),
            unexpected_property: "Found unexpected json pair at configuration item /{item}/. \
                                  The json pair is \"{property}\":{value}."
                .to_string(),
            bad_value: "Invalid value {value} for property \"{property}\" of {label} ({path})."
                .to_string(),
            bad_name: "Invalid {label} name: {name}".to_string(),
            folder_not_found: "01020036:3: The requested folder (/{partition}) was not found."
                .to_string(),
            pool_in_use: "01070265:3: The Pool ({path}) cannot be deleted because it is in use \
                          by a Virtual Server ({virtual})."
                .to_string(),
            node_in_use: "01070110:3: Node address '{path}' is referenced by a member of pool \
                          '{pool}'."
                .to_string(),
            missing_reference: "01020036:3: The requested {label} ({path}) was not found."
                .to_string(),
        }
    }
}

/// What the system objects show and who may change LTM objects (profile
/// `[bigip.objects]`). The defaults are illustrative values written for sessionlab, not
/// a real device's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectSettings {
    /// `sys global-settings hostname`, and the name of the device in `cm device`.
    pub hostname: String,
    /// `marketingName` (`BIG-IP Virtual Edition`).
    pub marketing_name: String,
    /// `platformId` (`Z100` is Virtual Edition).
    pub platform: String,
    /// `bigipChassisSerialNum`.
    pub chassis_serial: String,
    /// `chassisId` of `cm device`.
    pub chassis_id: String,
    /// `baseMac`.
    pub base_mac: String,
    /// `managementIp`.
    pub management_ip: String,
    /// `timeZone` of `cm device`.
    pub time_zone: String,
    /// The boot volume's name (`HD1.1`).
    pub volume: String,
    /// Partitions (administrative folders) objects may be created in.
    pub partitions: Vec<String>,
    /// Roles that may create, change and delete LTM objects and change global settings.
    pub write_roles: Vec<String>,
    /// Error texts.
    pub messages: ObjectMessages,
}

impl Default for ObjectSettings {
    fn default() -> Self {
        ObjectSettings {
            hostname: "bigip1.sessionlab.test".to_string(),
            marketing_name: "BIG-IP Virtual Edition".to_string(),
            platform: "Z100".to_string(),
            chassis_serial: "00000000-0000-0000-0000-5e5510000001".to_string(),
            chassis_id: "00000000-0000-0000-0000-5e5510000001".to_string(),
            base_mac: "52:54:00:5e:55:01".to_string(),
            management_ip: "192.0.2.245".to_string(),
            time_zone: "America/Los_Angeles".to_string(),
            volume: "HD1.1".to_string(),
            partitions: vec!["Common".to_string()],
            write_roles: vec![
                "admin".to_string(),
                "resource-admin".to_string(),
                "manager".to_string(),
            ],
            messages: ObjectMessages::default(),
        }
    }
}

// ----- kinds of object -----

/// The LTM object kinds served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `ltm virtual`.
    Virtual,
    /// `ltm pool`.
    Pool,
    /// `ltm node`.
    Node,
    /// `ltm pool members` (a pool's subcollection).
    Member,
}

/// `loadBalancingMode` values (F5 iControl REST reference, `ltm pool`).
const LB_MODES: &[&str] = &[
    "dynamic-ratio-member",
    "dynamic-ratio-node",
    "fastest-app-response",
    "fastest-node",
    "least-connections-member",
    "least-connections-node",
    "least-sessions",
    "observed-member",
    "observed-node",
    "predictive-member",
    "predictive-node",
    "ratio-least-connections-member",
    "ratio-least-connections-node",
    "ratio-member",
    "ratio-node",
    "ratio-session",
    "round-robin",
    "weighted-least-connections-member",
    "weighted-least-connections-node",
];

/// Keys a body may carry that the device sets itself: tolerated when they agree with the
/// object (f5-sdk's `update()` PUTs back everything it loaded).
const IDENTITY: &[&str] = &["kind", "name", "partition", "subPath", "fullPath", "generation"];
/// Read-only keys ignored whatever their value (links the device computes).
const COMPUTED: &[&str] =
    &["selfLink", "membersReference", "policiesReference", "profilesReference", "ephemeral"];

impl Kind {
    /// The collection's URI.
    pub fn uri(self) -> &'static str {
        match self {
            Kind::Virtual => "/mgmt/tm/ltm/virtual",
            Kind::Pool => "/mgmt/tm/ltm/pool",
            Kind::Node => "/mgmt/tm/ltm/node",
            Kind::Member => "/mgmt/tm/ltm/pool/{pool}/members",
        }
    }

    /// `kind` of one object.
    pub fn kind(self) -> &'static str {
        match self {
            Kind::Virtual => "tm:ltm:virtual:virtualstate",
            Kind::Pool => "tm:ltm:pool:poolstate",
            Kind::Node => "tm:ltm:node:nodestate",
            Kind::Member => "tm:ltm:pool:members:membersstate",
        }
    }

    /// `kind` of the collection.
    pub fn collection_kind(self) -> &'static str {
        match self {
            Kind::Virtual => "tm:ltm:virtual:virtualcollectionstate",
            Kind::Pool => "tm:ltm:pool:poolcollectionstate",
            Kind::Node => "tm:ltm:node:nodecollectionstate",
            Kind::Member => "tm:ltm:pool:members:memberscollectionstate",
        }
    }

    /// How mcpd names the kind in messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Virtual => "Virtual Server",
            Kind::Pool => "Pool",
            Kind::Node => "Node",
            Kind::Member => "Pool Member",
        }
    }

    fn item(self) -> &'static str {
        match self {
            Kind::Virtual => "ltm/virtual",
            Kind::Pool => "ltm/pool",
            Kind::Node => "ltm/node",
            Kind::Member => "ltm/pool/members",
        }
    }

    /// The properties a new object shows, with their default values (F5 iControl REST
    /// reference; public GET captures of 11.5-16.1 show these keys and values).
    fn defaults(self) -> Map<String, Value> {
        let value = match self {
            Kind::Virtual => json!({
                "addressStatus": "yes", "autoLasthop": "default", "cmpEnabled": "yes",
                "connectionLimit": 0, "destination": "/Common/0.0.0.0:0", "enabled": true,
                "evictionProtected": "disabled", "gtmScore": 0, "ipProtocol": "tcp",
                "mask": "255.255.255.255", "mirror": "disabled", "mobileAppTunnel": "disabled",
                "nat64": "disabled", "rateLimit": "disabled", "rateLimitDstMask": 0,
                "rateLimitMode": "object", "rateLimitSrcMask": 0,
                "serviceDownImmediateAction": "none", "source": "0.0.0.0/0",
                "sourceAddressTranslation": { "type": "none" }, "sourcePort": "preserve",
                "synCookieStatus": "not-activated", "translateAddress": "enabled",
                "translatePort": "enabled", "vlansDisabled": true
            }),
            Kind::Pool => json!({
                "allowNat": "yes", "allowSnat": "yes", "ignorePersistedWeight": "disabled",
                "ipTosToClient": "pass-through", "ipTosToServer": "pass-through",
                "linkQosToClient": "pass-through", "linkQosToServer": "pass-through",
                "loadBalancingMode": "round-robin", "minActiveMembers": 0, "minUpMembers": 0,
                "minUpMembersAction": "failover", "minUpMembersChecking": "disabled",
                "queueDepthLimit": 0, "queueOnConnectionLimit": "disabled", "queueTimeLimit": 0,
                "reselectTries": 0, "serviceDownAction": "none", "slowRampTime": 10
            }),
            Kind::Node => json!({
                "address": "", "connectionLimit": 0, "dynamicRatio": 1, "ephemeral": "false",
                "fqdn": { "addressFamily": "ipv4", "autopopulate": "disabled",
                          "downInterval": 5, "interval": "3600" },
                "logging": "disabled", "monitor": "default", "rateLimit": "disabled",
                "ratio": 1, "session": "user-enabled", "state": "unchecked"
            }),
            Kind::Member => json!({
                "address": "", "connectionLimit": 0, "dynamicRatio": 1, "ephemeral": "false",
                "fqdn": { "autopopulate": "disabled" }, "inheritProfile": "enabled",
                "logging": "disabled", "monitor": "default", "priorityGroup": 0,
                "rateLimit": "disabled", "ratio": 1, "session": "user-enabled",
                "state": "unchecked"
            }),
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// Properties accepted but shown only once set.
    fn optional(self) -> &'static [&'static str] {
        match self {
            Kind::Virtual => &[
                "description",
                "pool",
                "profiles",
                "rules",
                "persist",
                "fallbackPersistence",
                "vlans",
                "vlansEnabled",
                "disabled",
                "policies",
                "securityLogProfiles",
                "lastHopPool",
                "metadata",
                "sourceAddressTranslation",
                "creationTime",
                "lastModifiedTime",
                "clonePools",
                "ipIntelligencePolicy",
                "trafficGroup",
            ],
            Kind::Pool => &["description", "monitor", "members", "metadata", "profiles"],
            Kind::Node => &["description", "metadata"],
            Kind::Member => &["description", "metadata"],
        }
    }
}

// ----- names -----

/// An object's name as a path segment gives it: `~Common~web`, `~Common~app~web` (with a
/// subPath), or a bare `web` in `/Common`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// `Common`.
    pub partition: String,
    /// The folder under the partition (an iApp's `app.app`), if any.
    pub sub_path: Option<String>,
    /// `web`.
    pub name: String,
}

impl Name {
    /// Parses a path segment (`~P~name`, `~P~sub~name`) or a full path (`/P/name`).
    pub fn parse(raw: &str) -> Option<Name> {
        let (sep, rest) = match raw.chars().next() {
            Some('~') => ('~', &raw[1..]),
            Some('/') => ('/', &raw[1..]),
            _ => {
                return (!raw.is_empty()).then(|| Name {
                    partition: "Common".to_string(),
                    sub_path: None,
                    name: raw.to_string(),
                })
            }
        };
        let mut parts = rest.split(sep);
        let parts = [parts.next(), parts.next(), parts.next(), parts.next()];
        let name = |partition: &str, sub: Option<&str>, name: &str| {
            (!partition.is_empty() && !name.is_empty() && sub.is_none_or(|s| !s.is_empty())).then(
                || Name {
                    partition: partition.to_string(),
                    sub_path: sub.map(str::to_string),
                    name: name.to_string(),
                },
            )
        };
        match parts {
            [Some(p), Some(n), None, None] => name(p, None, n),
            [Some(p), Some(s), Some(n), None] => name(p, Some(s), n),
            _ => None,
        }
    }

    /// The full path of the name `raw` parses to ([`Name::parse`], then
    /// [`Name::full_path`]), made without the name's parts: what a GET looks its object up
    /// by. A segment's separators become slashes, as its parts hold none; a full path is
    /// its own. One allocation where parsing made three and the full path a fourth.
    pub fn parse_full_path(raw: &str) -> Option<String> {
        let sep = match raw.as_bytes().first() {
            Some(&sep @ (b'~' | b'/')) => sep,
            Some(_) => {
                let mut path = String::with_capacity("/Common/".len() + raw.len());
                path.push_str("/Common/");
                path.push_str(raw);
                return Some(path);
            }
            None => return None,
        };
        // The parts between separators, none empty: a byte loop, as `split`'s searcher
        // costs more than these few bytes.
        let (mut parts, mut previous) = (1, sep);
        for &byte in &raw.as_bytes()[1..] {
            if byte == sep {
                if previous == sep {
                    return None;
                }
                parts += 1;
            }
            previous = byte;
        }
        if previous == sep || !(2..=3).contains(&parts) {
            return None;
        }
        let mut path = String::with_capacity(raw.len());
        path.extend(raw.chars().map(|c| if c == '~' && sep == b'~' { '/' } else { c }));
        Some(path)
    }

    /// `/Common/web` or `/Common/app/web`.
    pub fn full_path(&self) -> String {
        // Pieces pushed rather than `format!`ed: every object request makes its path.
        let sub = self.sub_path.as_deref();
        let len = self.partition.len() + sub.map_or(0, |s| s.len() + 1) + self.name.len() + 2;
        let mut path = String::with_capacity(len);
        path.push('/');
        path.push_str(&self.partition);
        if let Some(sub) = sub {
            path.push('/');
            path.push_str(sub);
        }
        path.push('/');
        path.push_str(&self.name);
        path
    }

    /// `~Common~web`, the form links use.
    pub fn segment(&self) -> String {
        self.full_path().replace('/', "~")
    }
}

/// A name that can go in a path and a message: printable, no separators or spaces.
fn usable_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| !c.is_control() && !c.is_whitespace() && !"/~?#\"\\".contains(c))
}

// ----- the model -----

#[derive(Clone, Debug)]
struct Obj {
    id: Name,
    generation: u64,
    attrs: Map<String, Value>,
    /// A pool's members, by full path.
    members: BTreeMap<String, Obj>,
    /// The body a plain GET of the object writes (no `$select`, members not expanded),
    /// with the generation it was written at. Every change of an object gives it a new
    /// generation, so a body of another generation is stale and written again.
    written: Option<(u64, Rendered)>,
}

impl Obj {
    fn new(id: Name, generation: u64, attrs: Map<String, Value>) -> Obj {
        Obj { id, generation, attrs, members: BTreeMap::new(), written: None }
    }
}

#[derive(Debug, Default)]
struct Config {
    generation: u64,
    virtuals: BTreeMap<String, Obj>,
    pools: BTreeMap<String, Obj>,
    nodes: BTreeMap<String, Obj>,
    global: Map<String, Value>,
}

impl Config {
    fn table(&mut self, kind: Kind) -> &mut BTreeMap<String, Obj> {
        match kind {
            Kind::Virtual => &mut self.virtuals,
            Kind::Pool | Kind::Member => &mut self.pools,
            Kind::Node => &mut self.nodes,
        }
    }

    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }
}

/// One device's configuration objects: LTM virtual servers, pools (with members) and
/// nodes, and the writable system global settings. Built from the profile; the device
/// drops it on reset.
#[derive(Debug)]
pub struct Ltm {
    config: Mutex<Config>,
}

/// A configuration error, in mcpd's envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpError {
    /// HTTP status and `code`.
    pub status: StatusCode,
    /// `message`.
    pub message: String,
    /// `apiError` (3 for mcpd's `01020036`-style errors, 1 otherwise, as captured).
    pub api_error: u32,
}

impl McpError {
    fn new(status: StatusCode, message: String, api_error: u32) -> McpError {
        McpError { status, message, api_error }
    }

    fn bad_request(message: String) -> McpError {
        let api_error = if mcpd_coded(&message) { 3 } else { 1 };
        McpError::new(StatusCode::BAD_REQUEST, message, api_error)
    }
}

/// Whether a message starts with mcpd's `01020036:3:` code.
fn mcpd_coded(message: &str) -> bool {
    message.len() > 11
        && message.as_bytes()[8] == b':'
        && message[..8].bytes().all(|b| b.is_ascii_hexdigit())
}

impl IntoResponse for McpError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Envelope<'a> {
            code: u16,
            message: &'a str,
            error_stack: [(); 0],
            api_error: u32,
        }
        let body = Envelope {
            code: self.status.as_u16(),
            message: &self.message,
            error_stack: [],
            api_error: self.api_error,
        };
        wire::json(self.status, &body)
    }
}

/// What a write does with the properties the body leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    /// POST: a new object from the defaults.
    Create,
    /// PATCH: only the properties given change.
    Patch,
    /// PUT: the properties not given go back to their defaults ([I] F5's iControl REST
    /// user guide: PUT replaces the object's configuration, PATCH merges).
    Put,
}

struct Msg<'a> {
    settings: &'a ObjectSettings,
}

impl Msg<'_> {
    fn not_found(&self, kind: Kind, path: &str) -> McpError {
        if kind == Kind::Member {
            let message = fill(&self.settings.messages.member_not_found, &[("path", path)]);
            return McpError::new(StatusCode::NOT_FOUND, message, 1);
        }
        let message =
            fill(&self.settings.messages.not_found, &[("label", kind.label()), ("path", path)]);
        McpError::new(StatusCode::NOT_FOUND, message, 3)
    }

    fn exists(&self, kind: Kind, id: &Name) -> McpError {
        let message = fill(
            &self.settings.messages.exists,
            &[("label", kind.label()), ("path", &id.full_path()), ("partition", &id.partition)],
        );
        McpError::new(StatusCode::CONFLICT, message, 3)
    }

    fn unexpected(&self, kind: Kind, property: &str, value: &Value) -> McpError {
        McpError::bad_request(fill(
            &self.settings.messages.unexpected_property,
            &[("item", kind.item()), ("property", property), ("value", &value.to_string())],
        ))
    }

    fn bad_value(&self, kind: Kind, path: &str, property: &str, value: &Value) -> McpError {
        McpError::bad_request(fill(
            &self.settings.messages.bad_value,
            &[
                ("label", kind.label()),
                ("path", path),
                ("property", property),
                ("value", &value.to_string()),
            ],
        ))
    }

    fn bad_name(&self, kind: Kind, name: &str) -> McpError {
        McpError::bad_request(fill(
            &self.settings.messages.bad_name,
            &[("label", kind.label()), ("name", name)],
        ))
    }

    fn folder(&self, partition: &str) -> McpError {
        McpError::bad_request(fill(
            &self.settings.messages.folder_not_found,
            &[("partition", partition)],
        ))
    }
}

/// The value `value` as the type of `default`: numbers may come as digit strings and
/// strings as numbers (tmsh reads both); anything else must have the default's type.
fn coerce(default: &Value, value: &Value) -> Option<Value> {
    match (default, value) {
        (Value::Number(_), Value::Number(n)) if n.is_u64() || n.is_i64() => Some(value.clone()),
        (Value::Number(_), Value::String(s)) => s.parse::<u64>().ok().map(Value::from),
        (Value::String(_), Value::String(_)) => Some(value.clone()),
        (Value::String(_), Value::Number(n)) => Some(Value::from(n.to_string())),
        (Value::Bool(_), Value::Bool(_)) => Some(value.clone()),
        (Value::Object(_), Value::Object(_)) => Some(value.clone()),
        (Value::Array(_), Value::Array(_)) => Some(value.clone()),
        _ => None,
    }
}

/// A reference to another object, with the partition added when the value has none
/// (`p1` → `/Common/p1`, as the device shows it).
fn qualify(value: &str, partition: &str) -> String {
    if value.starts_with('/') {
        value.to_string()
    } else {
        format!("/{partition}/{value}")
    }
}

/// The node and port of a member name: `10.0.0.1:80`, `web1:http`, `2001:db8::1.80`.
fn split_member(name: &str) -> Option<(&str, &str)> {
    let (node, port) =
        if name.matches(':').count() > 1 { name.rsplit_once('.')? } else { name.rsplit_once(':')? };
    (!node.is_empty() && !port.is_empty()).then_some((node, port))
}

fn is_ip(address: &str) -> bool {
    let bare = address.split('%').next().unwrap_or(address);
    bare.parse::<std::net::IpAddr>().is_ok()
}

impl Ltm {
    /// The configuration of a new (or reset) device: no LTM objects, the profile's global
    /// settings.
    pub fn new(device: &Device) -> Ltm {
        let settings = device.profile().bigip.clone().unwrap_or_default();
        let config = Config { global: global_defaults(&settings.objects), ..Config::default() };
        Ltm { config: Mutex::new(config) }
    }

    fn lock(&self) -> MutexGuard<'_, Config> {
        self.config.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writable `sys global-settings` properties and their values on a new device.
fn global_defaults(settings: &ObjectSettings) -> Map<String, Value> {
    match json!({
        "consoleInactivityTimeout": 0, "customAddr": "none",
        "failsafeAction": "go-offline-restart-tm", "guiAudit": "disabled",
        "guiSecurityBanner": "enabled",
        "guiSecurityBannerText": "Welcome to the BIG-IP Configuration Utility.",
        "guiSetup": "disabled", "hostAddrMode": "management", "hostname": settings.hostname,
        "lcdDisplay": "enabled", "ledLocator": "disabled", "mgmtDhcp": "enabled",
        "netReboot": "disabled", "passwordPrompt": "Password", "quietBoot": "enabled",
        "usernamePrompt": "Username"
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Applies `body` to `attrs` of the object `id` of `kind`: every property checked before
/// anything changes. `members` (a pool's) is returned for the caller to apply.
fn apply(
    msg: &Msg<'_>,
    kind: Kind,
    id: &Name,
    attrs: &mut Map<String, Value>,
    body: &Map<String, Value>,
    write: Write,
) -> Result<Option<Value>, McpError> {
    let path = id.full_path();
    let defaults = kind.defaults();
    let mut next = if write == Write::Put {
        let mut fresh = defaults.clone();
        for keep in ["address"] {
            if let Some(v) = attrs.get(keep) {
                fresh.insert(keep.to_string(), v.clone());
            }
        }
        fresh
    } else {
        attrs.clone()
    };
    let mut members = None;
    for (key, value) in body {
        let key = key.as_str();
        if COMPUTED.contains(&key) {
            continue;
        }
        if IDENTITY.contains(&key) {
            let current = match key {
                "name" => Some(Value::from(id.name.as_str())),
                "partition" => Some(Value::from(id.partition.as_str())),
                "subPath" => id.sub_path.as_deref().map(Value::from),
                "fullPath" => Some(Value::from(path.as_str())),
                _ => None,
            };
            let agrees = match (&current, value) {
                (None, _) => true,
                (Some(Value::String(c)), Value::String(v)) => {
                    c == v || (key == "partition" && c == v.trim_start_matches('/'))
                }
                _ => false,
            };
            if !agrees {
                return Err(msg.bad_value(kind, &path, key, value));
            }
            continue;
        }
        if key == "address" && matches!(kind, Kind::Node | Kind::Member) && write != Write::Create {
            if attrs.get("address") != Some(value) {
                return Err(msg.bad_value(kind, &path, key, value));
            }
            continue;
        }
        if let Some((on, off)) = flag_pair(kind, key) {
            // BIG-IP shows one of a pair of flags (`enabled` or `disabled`, `vlansEnabled`
            // or `vlansDisabled`), always `true`; setting one clears the other.
            let Value::Bool(set) = value else {
                return Err(msg.bad_value(kind, &path, key, value));
            };
            let (shown, cleared) = if (key == on) == *set { (on, off) } else { (off, on) };
            next.remove(cleared);
            next.insert(shown.to_string(), Value::Bool(true));
            continue;
        }
        if key == "members" && kind == Kind::Pool {
            if !value.is_array() {
                return Err(msg.bad_value(kind, &path, key, value));
            }
            members = Some(value.clone());
            continue;
        }
        let checked = match defaults.get(key) {
            Some(default) => {
                coerce(default, value).ok_or_else(|| msg.bad_value(kind, &path, key, value))?
            }
            None if kind.optional().contains(&key) => value.clone(),
            None => return Err(msg.unexpected(kind, key, value)),
        };
        let checked = match (key, &checked) {
            ("loadBalancingMode", Value::String(m)) if !LB_MODES.contains(&m.as_str()) => {
                return Err(msg.bad_value(kind, &path, key, value))
            }
            ("pool" | "destination", Value::String(s)) if kind == Kind::Virtual => {
                if s.is_empty() || s == "none" {
                    checked
                } else {
                    Value::from(qualify(s, &id.partition))
                }
            }
            _ => checked,
        };
        next.insert(key.to_string(), checked);
    }
    *attrs = next;
    Ok(members)
}

/// The pair of flags `key` belongs to, `(on, off)`.
fn flag_pair(kind: Kind, key: &str) -> Option<(&'static str, &'static str)> {
    match (kind, key) {
        (Kind::Virtual, "enabled" | "disabled") => Some(("enabled", "disabled")),
        (Kind::Virtual, "vlansEnabled" | "vlansDisabled") => {
            Some(("vlansEnabled", "vlansDisabled"))
        }
        _ => None,
    }
}

/// The identity a POST body names: `name` (or a full path in it), `partition`, `subPath`.
fn identity(msg: &Msg<'_>, kind: Kind, body: &Map<String, Value>) -> Result<Name, McpError> {
    let text = |key: &str| -> Result<Option<&str>, McpError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(msg.bad_name(kind, &other.to_string())),
        }
    };
    let raw = text("name")?.unwrap_or("");
    let id = if raw.starts_with('/') {
        Name::parse(raw).ok_or_else(|| msg.bad_name(kind, raw))?
    } else {
        Name {
            partition: text("partition")?.unwrap_or("Common").trim_start_matches('/').to_string(),
            sub_path: text("subPath")?.map(str::to_string),
            name: raw.to_string(),
        }
    };
    let parts = [Some(&id.partition), id.sub_path.as_ref(), Some(&id.name)];
    if !parts.into_iter().flatten().all(|p| usable_name(p)) {
        return Err(msg.bad_name(kind, raw));
    }
    if !msg.settings.partitions.contains(&id.partition) {
        return Err(msg.folder(&id.partition));
    }
    Ok(id)
}

impl Ltm {
    fn create(
        &self,
        settings: &ObjectSettings,
        kind: Kind,
        pool: Option<&Name>,
        body: &Map<String, Value>,
    ) -> Result<Obj, McpError> {
        let msg = Msg { settings };
        let id = identity(&msg, kind, body)?;
        let mut config = self.lock();
        let path = id.full_path();
        if let Some(pool) = pool {
            let pool_path = pool.full_path();
            let Some(existing) = config.pools.get(&pool_path) else {
                return Err(msg.not_found(Kind::Pool, &pool_path));
            };
            if existing.members.contains_key(&path) {
                return Err(msg.exists(kind, &id));
            }
            let mut staged = config.pools.clone();
            let mut nodes = config.nodes.clone();
            let generation = config.generation + 1;
            let member = new_member(&msg, &id, body, &mut nodes, generation)?;
            if let Some(p) = staged.get_mut(&pool_path) {
                p.members.insert(path, member.clone());
            }
            config.generation = generation;
            config.pools = staged;
            config.nodes = nodes;
            return Ok(member);
        }
        if config.table(kind).contains_key(&path) {
            return Err(msg.exists(kind, &id));
        }
        let mut attrs = kind.defaults();
        let members = apply(&msg, kind, &id, &mut attrs, body, Write::Create)?;
        if kind == Kind::Node {
            // A node's address is an IP address (with an optional `%<route domain>`); a
            // node named by its address needs no `address`, as in tmsh.
            let address = match attrs.get("address").and_then(Value::as_str) {
                Some("") | None => id.name.clone(),
                Some(given) => given.to_string(),
            };
            if !is_ip(&address) {
                let value = body.get("address").cloned().unwrap_or(Value::Null);
                return Err(msg.bad_value(kind, &path, "address", &value));
            }
            attrs.insert("address".to_string(), Value::from(address));
        }
        check_references(&msg, &config, kind, &attrs)?;
        let generation = config.generation + 1;
        let mut obj = Obj::new(id.clone(), generation, attrs);
        let mut nodes = config.nodes.clone();
        if let Some(members) = members {
            obj.members = new_members(&msg, &id, &members, &mut nodes, generation)?;
        }
        config.generation = generation;
        config.nodes = nodes;
        config.table(kind).insert(path, obj.clone());
        Ok(obj)
    }

    fn update(
        &self,
        settings: &ObjectSettings,
        kind: Kind,
        pool: Option<&Name>,
        id: &Name,
        body: &Map<String, Value>,
        write: Write,
    ) -> Result<Obj, McpError> {
        let msg = Msg { settings };
        let mut config = self.lock();
        let path = id.full_path();
        let current = lookup(&msg, &mut config, kind, pool, id)?;
        let mut attrs = current.attrs.clone();
        let members = apply(&msg, kind, id, &mut attrs, body, write)?;
        check_references(&msg, &config, kind, &attrs)?;
        let generation = config.generation + 1;
        let mut obj = Obj { generation, attrs, written: None, ..current };
        let mut nodes = config.nodes.clone();
        if let Some(members) = members {
            obj.members = new_members(&msg, id, &members, &mut nodes, generation)?;
        }
        config.generation = generation;
        config.nodes = nodes;
        match pool {
            Some(pool) => {
                if let Some(p) = config.pools.get_mut(&pool.full_path()) {
                    p.members.insert(path, obj.clone());
                }
            }
            None => {
                config.table(kind).insert(path, obj.clone());
            }
        }
        Ok(obj)
    }

    fn delete(
        &self,
        settings: &ObjectSettings,
        kind: Kind,
        pool: Option<&Name>,
        id: &Name,
    ) -> Result<(), McpError> {
        let msg = Msg { settings };
        let mut config = self.lock();
        let path = id.full_path();
        lookup(&msg, &mut config, kind, pool, id)?;
        let in_use = |template: &str, user: (&str, &str)| {
            McpError::bad_request(fill(template, &[("path", &path), user]))
        };
        match kind {
            Kind::Pool => {
                if let Some(vs) = config
                    .virtuals
                    .values()
                    .find(|v| v.attrs.get("pool").and_then(Value::as_str) == Some(&path))
                {
                    let virtual_path = vs.id.full_path();
                    return Err(in_use(&settings.messages.pool_in_use, ("virtual", &virtual_path)));
                }
            }
            Kind::Node => {
                if let Some(p) = config
                    .pools
                    .values()
                    .find(|p| p.members.values().any(|m| member_node(&m.id) == path))
                {
                    let pool_path = p.id.full_path();
                    return Err(in_use(&settings.messages.node_in_use, ("pool", &pool_path)));
                }
            }
            Kind::Virtual | Kind::Member => {}
        }
        config.generation += 1;
        match pool {
            Some(pool) => {
                if let Some(p) = config.pools.get_mut(&pool.full_path()) {
                    p.members.remove(&path);
                }
            }
            None => {
                config.table(kind).remove(&path);
            }
        }
        Ok(())
    }

    /// `answer` of the object at `path` (its full path), read where it is kept (not
    /// copied out first).
    fn read<R>(
        &self,
        settings: &ObjectSettings,
        kind: Kind,
        pool: Option<&Name>,
        path: &str,
        answer: impl FnOnce(&Obj) -> R,
    ) -> Result<R, McpError> {
        Ok(answer(lookup_mut(&Msg { settings }, &mut self.lock(), kind, pool, path)?))
    }

    /// The body a plain GET of the object at `path` (its full path) writes: kept with the
    /// object from its first GET until it changes, and written by `write` when there is
    /// none.
    fn written(
        &self,
        settings: &ObjectSettings,
        kind: Kind,
        pool: Option<&Name>,
        path: &str,
        write: impl FnOnce(&Obj) -> Vec<u8>,
    ) -> Result<Rendered, McpError> {
        let mut config = self.lock();
        let obj = lookup_mut(&Msg { settings }, &mut config, kind, pool, path)?;
        match &obj.written {
            Some((generation, body)) if *generation == obj.generation => Ok(body.clone()),
            _ => {
                let body = Rendered::new(write(obj).into());
                obj.written = Some((obj.generation, body.clone()));
                Ok(body)
            }
        }
    }

    /// `answer` of every object of the collection, read where they are kept.
    fn read_all<R>(
        &self,
        settings: &ObjectSettings,
        kind: Kind,
        pool: Option<&Name>,
        answer: impl FnOnce(Vec<&Obj>) -> R,
    ) -> Result<R, McpError> {
        let mut config = self.lock();
        match pool {
            Some(pool) => {
                let path = pool.full_path();
                let p = config
                    .pools
                    .get(&path)
                    .ok_or_else(|| Msg { settings }.not_found(Kind::Pool, &path))?;
                Ok(answer(p.members.values().collect()))
            }
            None => Ok(answer(config.table(kind).values().collect())),
        }
    }
}

fn lookup(
    msg: &Msg<'_>,
    config: &mut Config,
    kind: Kind,
    pool: Option<&Name>,
    id: &Name,
) -> Result<Obj, McpError> {
    lookup_mut(msg, config, kind, pool, &id.full_path()).cloned()
}

/// [`lookup`] without the copy: the object where it is kept.
fn lookup_mut<'c>(
    msg: &Msg<'_>,
    config: &'c mut Config,
    kind: Kind,
    pool: Option<&Name>,
    path: &str,
) -> Result<&'c mut Obj, McpError> {
    let table = match (kind, pool) {
        (Kind::Member, Some(pool)) => {
            let pool_path = pool.full_path();
            &mut config
                .pools
                .get_mut(&pool_path)
                .ok_or_else(|| msg.not_found(Kind::Pool, &pool_path))?
                .members
        }
        (Kind::Virtual, _) => &mut config.virtuals,
        (Kind::Node, _) => &mut config.nodes,
        _ => &mut config.pools,
    };
    table.get_mut(path).ok_or_else(|| msg.not_found(kind, path))
}

/// A virtual server's `pool` must name a pool that exists.
fn check_references(
    msg: &Msg<'_>,
    config: &Config,
    kind: Kind,
    attrs: &Map<String, Value>,
) -> Result<(), McpError> {
    if kind != Kind::Virtual {
        return Ok(());
    }
    match attrs.get("pool").and_then(Value::as_str) {
        Some(pool) if !pool.is_empty() && pool != "none" && !config.pools.contains_key(pool) => {
            Err(McpError::bad_request(fill(
                &msg.settings.messages.missing_reference,
                &[("label", Kind::Pool.label()), ("path", pool)],
            )))
        }
        _ => Ok(()),
    }
}

/// The node a member stands on: `/Common/10.0.0.1` for `/Common/10.0.0.1:80`.
fn member_node(id: &Name) -> String {
    let node = split_member(&id.name).map_or(id.name.as_str(), |(node, _)| node);
    Name { partition: id.partition.clone(), sub_path: None, name: node.to_string() }.full_path()
}

/// A new member `id` from `body`; its node is created when it is an address that has
/// none (a BIG-IP creates the node with the member).
fn new_member(
    msg: &Msg<'_>,
    id: &Name,
    body: &Map<String, Value>,
    nodes: &mut BTreeMap<String, Obj>,
    generation: u64,
) -> Result<Obj, McpError> {
    let kind = Kind::Member;
    let Some((node_name, _port)) = split_member(&id.name) else {
        return Err(msg.bad_name(kind, &id.name));
    };
    let node_path = member_node(id);
    let address = match nodes.get(&node_path) {
        Some(node) => node.attrs.get("address").cloned().unwrap_or(Value::from(node_name)),
        None => {
            let given = body.get("address").and_then(Value::as_str).unwrap_or(node_name);
            if !is_ip(given) {
                return Err(msg.not_found(Kind::Node, &node_path));
            }
            let node_id =
                Name { partition: id.partition.clone(), sub_path: None, name: node_name.into() };
            let mut attrs = Kind::Node.defaults();
            attrs.insert("address".to_string(), Value::from(given));
            nodes.insert(node_path, Obj::new(node_id, generation, attrs));
            Value::from(given)
        }
    };
    let mut attrs = kind.defaults();
    let mut body = body.clone();
    body.remove("address");
    apply(msg, kind, id, &mut attrs, &body, Write::Create)?;
    attrs.insert("address".to_string(), address);
    Ok(Obj::new(id.clone(), generation, attrs))
}

/// A pool's `members` as a POST or PUT gives them: names or objects with `name`.
fn new_members(
    msg: &Msg<'_>,
    pool: &Name,
    members: &Value,
    nodes: &mut BTreeMap<String, Obj>,
    generation: u64,
) -> Result<BTreeMap<String, Obj>, McpError> {
    let mut out = BTreeMap::new();
    for member in members.as_array().into_iter().flatten() {
        let body = match member {
            Value::String(name) => {
                Map::from_iter([("name".to_string(), Value::from(name.clone()))])
            }
            Value::Object(map) => map.clone(),
            other => return Err(msg.bad_value(Kind::Pool, &pool.full_path(), "members", other)),
        };
        let mut body = body;
        if !body.contains_key("partition")
            && !body.get("name").and_then(Value::as_str).is_some_and(|n| n.starts_with('/'))
        {
            body.insert("partition".to_string(), Value::from(pool.partition.as_str()));
        }
        let id = identity(msg, Kind::Member, &body)?;
        let member = new_member(msg, &id, &body, nodes, generation)?;
        out.insert(id.full_path(), member);
    }
    Ok(out)
}

// ----- rendering -----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Reference<'a> {
    link: String,
    is_subcollection: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<ObjectBody<'a>>>,
}

/// One object, keys in the device's order: identity first, then properties A-Z, then
/// subcollection references.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectBody<'a> {
    kind: &'static str,
    name: &'a str,
    partition: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_path: Option<&'a str>,
    full_path: String,
    generation: u64,
    self_link: String,
    #[serde(flatten)]
    attrs: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    members_reference: Option<Reference<'a>>,
}

/// The link of an object: its collection's URI plus `~Partition~name`.
fn object_uri(kind: Kind, pool: Option<&Name>, id: &Name) -> String {
    let base = match pool {
        Some(pool) => kind.uri().replace("{pool}", &pool.segment()),
        None => kind.uri().to_string(),
    };
    format!("{base}/{}", id.segment())
}

fn render<'a>(
    kind: Kind,
    pool: Option<&Name>,
    obj: &'a Obj,
    version: &str,
    expand: bool,
) -> ObjectBody<'a> {
    let uri = object_uri(kind, pool, &obj.id);
    let members_reference = (kind == Kind::Pool).then(|| Reference {
        link: format!("{ORIGIN}{uri}/members?ver={version}"),
        is_subcollection: true,
        items: expand.then(|| {
            obj.members
                .values()
                .map(|m| render(Kind::Member, Some(&obj.id), m, version, false))
                .collect()
        }),
    });
    ObjectBody {
        kind: kind.kind(),
        name: &obj.id.name,
        partition: &obj.id.partition,
        sub_path: obj.id.sub_path.as_deref(),
        full_path: obj.id.full_path(),
        generation: obj.generation,
        self_link: format!("{ORIGIN}{uri}?ver={version}"),
        attrs: &obj.attrs,
        members_reference,
    }
}

/// Query arguments the device reads: `$select`, `$filter=partition eq P`,
/// `expandSubcollections=true`; others (`ver`, `$top`, `options`) are tolerated.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(rename = "$select")]
    select: Option<String>,
    #[serde(rename = "$filter")]
    filter: Option<String>,
    #[serde(rename = "expandSubcollections")]
    expand: Option<String>,
}

/// Read as axum's `Query` reads it (its rejection, which the last step renders, for a
/// query it cannot read); a request without a query, what automation nearly always sends,
/// skips the parser.
impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = QueryRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, QueryRejection> {
        match parts.uri.query() {
            None => Ok(Params::default()),
            Some(_) => Query::try_from_uri(&parts.uri).map(|Query(params)| params),
        }
    }
}

impl Params {
    fn expand(&self) -> bool {
        self.expand.as_deref() == Some("true")
    }

    /// The partition a `$filter=partition eq P` asks for.
    fn partition(&self) -> Option<&str> {
        let filter = self.filter.as_deref()?.trim();
        let rest = filter.strip_prefix("partition")?.trim_start();
        Some(rest.strip_prefix("eq")?.trim())
    }

    /// The body, with only the `$select`ed keys when there is a `$select`.
    fn selected<'a>(&self, body: ObjectBody<'a>) -> Item<'a> {
        let Some(select) = &self.select else {
            return Item::Full(Box::new(body));
        };
        let keys: Vec<&str> = select.split(',').map(str::trim).collect();
        match serde_json::to_value(body) {
            Ok(Value::Object(map)) => Item::Selected(
                map.into_iter().filter(|(k, _)| keys.contains(&k.as_str())).collect(),
            ),
            _ => Item::Selected(Map::new()),
        }
    }
}

/// An object as a GET shows it: whole, in the device's key order, or the `$select`ed keys.
#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Full(Box<ObjectBody<'a>>),
    Selected(Map<String, Value>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CollectionBody<'a> {
    kind: &'static str,
    self_link: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    items: Vec<Item<'a>>,
}

// ----- handlers -----

/// Why a request is refused: by the REST framework (authorisation) or by mcpd.
#[derive(Debug)]
enum Refusal {
    Rest(RestError),
    Mcp(McpError),
}

impl From<RestError> for Refusal {
    fn from(e: RestError) -> Refusal {
        Refusal::Rest(e)
    }
}

impl From<McpError> for Refusal {
    fn from(e: McpError) -> Refusal {
        Refusal::Mcp(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Rest(e) => e.into_response(),
            Refusal::Mcp(e) => e.into_response(),
        }
    }
}

type Answer = Result<Response, Refusal>;

fn model(ctx: &Ctx) -> std::sync::Arc<Ltm> {
    ctx.device.model(Ltm::new)
}

fn objects(ctx: &Ctx) -> &ObjectSettings {
    &ctx.settings.objects
}

/// 401 `forbidden` unless the caller's role may change the configuration.
fn require_writer(ctx: &Ctx, p: &Principal, method: &str, path: &str) -> Result<(), RestError> {
    if objects(ctx).write_roles.contains(&p.role) {
        return Ok(());
    }
    Err(RestError::unauthorized(fill(
        &ctx.settings.messages.forbidden,
        &[("user", &p.user), ("path", path), ("method", method)],
    )))
}

fn segment_name(raw: &str) -> Result<Name, McpError> {
    Name::parse(raw).ok_or_else(|| segment_not_found(raw))
}

/// The full path of the object a path segment names ([`Name::parse_full_path`]), or
/// [`segment_name`]'s refusal.
fn segment_path(raw: &str) -> Result<String, McpError> {
    Name::parse_full_path(raw).ok_or_else(|| segment_not_found(raw))
}

fn segment_not_found(raw: &str) -> McpError {
    McpError::new(StatusCode::NOT_FOUND, format!("Object not found - {raw}"), 1)
}

async fn list(kind: Kind, ctx: Ctx, pool: Option<String>, params: Params) -> Answer {
    let pool = pool.as_deref().map(segment_name).transpose()?;
    let v = &ctx.settings.version;
    let base = match &pool {
        Some(pool) => kind.uri().replace("{pool}", &pool.segment()),
        None => kind.uri().to_string(),
    };
    // Rendered and written where the objects are kept, without copying them out.
    let answer = |objects: Vec<&Obj>| {
        let items = objects
            .into_iter()
            .filter(|o| params.partition().is_none_or(|p| o.id.partition == p))
            .map(|o| params.selected(render(kind, pool.as_ref(), o, v, params.expand())))
            .collect();
        let body = CollectionBody {
            kind: kind.collection_kind(),
            self_link: format!("{ORIGIN}{base}?ver={v}"),
            items,
        };
        wire::ok(&body)
    };
    Ok(model(&ctx).read_all(objects(&ctx), kind, pool.as_ref(), answer)?)
}

async fn read(kind: Kind, ctx: Ctx, pool: Option<String>, name: String, params: Params) -> Answer {
    let pool = pool.as_deref().map(segment_name).transpose()?;
    let path = segment_path(&name)?;
    let v = &ctx.settings.version;
    if params.select.is_none() && !params.expand() {
        // The GET automation makes most: written once per change of the object.
        let write = |obj: &Obj| {
            serde_json::to_vec(&render(kind, pool.as_ref(), obj, v, false)).unwrap_or_default()
        };
        let body = model(&ctx).written(objects(&ctx), kind, pool.as_ref(), &path, write)?;
        return Ok(wire::ok_rendered(&body));
    }
    // Rendered and written where the object is kept, without copying it out.
    let answer = |obj: &Obj| {
        let body = render(kind, pool.as_ref(), obj, v, params.expand());
        wire::ok(&params.selected(body))
    };
    Ok(model(&ctx).read(objects(&ctx), kind, pool.as_ref(), &path, answer)?)
}

async fn create(
    kind: Kind,
    ctx: Ctx,
    p: Principal,
    pool: Option<String>,
    body: Map<String, Value>,
) -> Answer {
    let pool = pool.as_deref().map(segment_name).transpose()?;
    require_writer(&ctx, &p, "POST", kind.uri())?;
    let obj = model(&ctx).create(objects(&ctx), kind, pool.as_ref(), &body)?;
    tracing::info!(by = %p.user, kind = kind.label(), path = ?obj.id.full_path(), "bigip: created");
    Ok(wire::ok(&render(kind, pool.as_ref(), &obj, &ctx.settings.version, false)))
}

async fn write(
    kind: Kind,
    write: Write,
    ctx: Ctx,
    p: Principal,
    pool: Option<String>,
    name: String,
    body: Map<String, Value>,
) -> Answer {
    let pool = pool.as_deref().map(segment_name).transpose()?;
    let id = segment_name(&name)?;
    let method = if write == Write::Put { "PUT" } else { "PATCH" };
    require_writer(&ctx, &p, method, &object_uri(kind, pool.as_ref(), &id))?;
    let obj = model(&ctx).update(objects(&ctx), kind, pool.as_ref(), &id, &body, write)?;
    tracing::info!(by = %p.user, kind = kind.label(), path = ?obj.id.full_path(), %method, "bigip: changed");
    Ok(wire::ok(&render(kind, pool.as_ref(), &obj, &ctx.settings.version, false)))
}

/// DELETE: 200 with an empty body.
async fn remove(kind: Kind, ctx: Ctx, p: Principal, pool: Option<String>, name: String) -> Answer {
    let pool = pool.as_deref().map(segment_name).transpose()?;
    let id = segment_name(&name)?;
    require_writer(&ctx, &p, "DELETE", &object_uri(kind, pool.as_ref(), &id))?;
    model(&ctx).delete(objects(&ctx), kind, pool.as_ref(), &id)?;
    tracing::info!(by = %p.user, kind = kind.label(), path = ?id.full_path(), "bigip: deleted");
    Ok(Response::new(Body::empty()))
}

/// The routes of the configuration objects, merged into the personality's router.
pub fn routes() -> Routes {
    let mut router = Routes::new()
        .route("/mgmt/tm/sys/clock", get(clock))
        .route("/mgmt/tm/sys/hardware", get(hardware))
        .route("/mgmt/tm/sys/global-settings", get(global_settings).patch(patch_global_settings))
        .route("/mgmt/tm/cm/device", get(cm_devices))
        .route("/mgmt/tm/cm/device/{name}", get(cm_device))
        .route("/mgmt/tm/sys/software/volume", get(volumes))
        .route("/mgmt/tm/sys/software/volume/{name}", get(volume));
    for kind in [Kind::Virtual, Kind::Pool, Kind::Node] {
        router = router
            .route(
                kind.uri(),
                get(move |ctx: Ctx, _p: Principal, q: Params| list(kind, ctx, None, q)).post(
                    move |ctx: Ctx, p: Principal, JsonObject(body): JsonObject| {
                        create(kind, ctx, p, None, body)
                    },
                ),
            )
            .route(
                &format!("{}/{{name}}", kind.uri()),
                get(move |ctx: Ctx, _p: Principal, Param(name): Param<String>, q: Params| {
                    read(kind, ctx, None, name, q)
                })
                .patch(
                    move |ctx: Ctx,
                          p: Principal,
                          Param(name): Param<String>,
                          JsonObject(body): JsonObject| {
                        write(kind, Write::Patch, ctx, p, None, name, body)
                    },
                )
                .put(
                    move |ctx: Ctx,
                          p: Principal,
                          Param(name): Param<String>,
                          JsonObject(body): JsonObject| {
                        write(kind, Write::Put, ctx, p, None, name, body)
                    },
                )
                .delete(
                    move |ctx: Ctx, p: Principal, Param(name): Param<String>| {
                        remove(kind, ctx, p, None, name)
                    },
                ),
            );
    }
    let m = Kind::Member;
    router
        .route(
            "/mgmt/tm/ltm/pool/{pool}/members",
            get(move |ctx: Ctx, _p: Principal, Param(pool): Param<String>, q: Params| {
                list(m, ctx, Some(pool), q)
            })
            .post(
                move |ctx: Ctx,
                      p: Principal,
                      Param(pool): Param<String>,
                      JsonObject(body): JsonObject| {
                    create(m, ctx, p, Some(pool), body)
                },
            ),
        )
        .route(
            "/mgmt/tm/ltm/pool/{pool}/members/{name}",
            get(
                move |ctx: Ctx,
                      _p: Principal,
                      Param((pool, name)): Param<(String, String)>,
                      q: Params| read(m, ctx, Some(pool), name, q),
            )
            .patch(
                move |ctx: Ctx,
                      p: Principal,
                      Param((pool, name)): Param<(String, String)>,
                      JsonObject(body): JsonObject| {
                    write(m, Write::Patch, ctx, p, Some(pool), name, body)
                },
            )
            .put(
                move |ctx: Ctx,
                      p: Principal,
                      Param((pool, name)): Param<(String, String)>,
                      JsonObject(body): JsonObject| {
                    write(m, Write::Put, ctx, p, Some(pool), name, body)
                },
            )
            .delete(
                move |ctx: Ctx, p: Principal, Param((pool, name)): Param<(String, String)>| {
                    remove(m, ctx, p, Some(pool), name)
                },
            ),
        )
}

// ----- system objects -----

/// `{"description": value}`, the leaf of iControl REST stats.
fn d(value: impl Into<Value>) -> Value {
    json!({ "description": value.into() })
}

/// A stats body (`kind`, `selfLink`, `entries`), keys in the device's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Stats {
    kind: &'static str,
    self_link: String,
    entries: Value,
}

/// `entries` with one nested stats object at `link`.
fn nested(link: &str, entries: Value) -> Value {
    let mut map = Map::new();
    map.insert(link.to_string(), json!({ "nestedStats": { "entries": entries } }));
    Value::Object(map)
}

/// `GET /mgmt/tm/sys/clock`: `fullDate` on the device's clock (UTC, whole seconds, as
/// captured: `2018-06-05T13:38:33Z`).
async fn clock(ctx: Ctx, _p: Principal) -> Answer {
    let now = ctx.now().utc.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let base = "/mgmt/tm/sys/clock";
    Ok(wire::ok(&Stats {
        kind: "tm:sys:clock:clockstats",
        self_link: format!("{ORIGIN}{base}?ver={}", ctx.settings.version),
        entries: nested(&format!("{ORIGIN}{base}/0"), json!({ "fullDate": d(now) })),
    }))
}

/// `GET /mgmt/tm/sys/hardware`: the platform and system-info stats f5-ansible's
/// `bigip_device_info` reads (illustrative values from `[bigip.objects]`).
async fn hardware(ctx: Ctx, _p: Principal) -> Answer {
    let o = objects(&ctx);
    let base = format!("{ORIGIN}/mgmt/tm/sys/hardware");
    let platform = nested(
        &format!("{base}/platform/0"),
        json!({
            "baseMac": d(o.base_mac.as_str()), "biosRev": d(""),
            "marketingName": d(o.marketing_name.as_str()), "pvaVersion": d("0"),
        }),
    );
    let system_info = nested(
        &format!("{base}/system-info/0"),
        json!({
            "bigipChassisSerialNum": d(o.chassis_serial.as_str()),
            "hostBoardPartRevNum": d(""), "hostBoardSerialNum": d(""),
            "platform": d(o.platform.as_str()), "switchBoardPartRevNum": d(""),
            "switchBoardSerialNum": d(""),
        }),
    );
    let mut entries = Map::new();
    entries.insert(format!("{base}/platform"), json!({ "nestedStats": { "entries": platform } }));
    entries.insert(
        format!("{base}/system-info"),
        json!({ "nestedStats": { "entries": system_info } }),
    );
    Ok(wire::ok(&Stats {
        kind: "tm:sys:hardware:hardwarestats",
        self_link: format!("{base}?ver={}", ctx.settings.version),
        entries: Value::Object(entries),
    }))
}

/// A system object: identity keys first (those it has), then its properties A-Z.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Singleton {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partition: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation: Option<u64>,
    self_link: String,
    #[serde(flatten)]
    attrs: Map<String, Value>,
}

fn object_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn global_body(ctx: &Ctx, config: &Config) -> Singleton {
    Singleton {
        kind: "tm:sys:global-settings:global-settingsstate",
        name: None,
        partition: None,
        full_path: None,
        generation: None,
        self_link: format!("{ORIGIN}/mgmt/tm/sys/global-settings?ver={}", ctx.settings.version),
        attrs: config.global.clone(),
    }
}

async fn global_settings(ctx: Ctx, _p: Principal) -> Answer {
    let ltm = model(&ctx);
    let config = ltm.lock();
    Ok(wire::ok(&global_body(&ctx, &config)))
}

/// `PATCH /mgmt/tm/sys/global-settings` (f5-ansible `bigip_hostname` changes `hostname`
/// here): known properties only, each with its type.
async fn patch_global_settings(ctx: Ctx, p: Principal, JsonObject(body): JsonObject) -> Answer {
    let path = "/mgmt/tm/sys/global-settings";
    require_writer(&ctx, &p, "PATCH", path)?;
    let msg = Msg { settings: objects(&ctx) };
    let ltm = model(&ctx);
    let mut config = ltm.lock();
    let mut next = config.global.clone();
    for (key, value) in &body {
        if matches!(key.as_str(), "kind" | "selfLink" | "generation") {
            continue;
        }
        let Some(default) = config.global.get(key) else {
            return Err(Refusal::Mcp(McpError::bad_request(fill(
                &msg.settings.messages.unexpected_property,
                &[
                    ("item", "sys/global-settings"),
                    ("property", key),
                    ("value", &value.to_string()),
                ],
            ))));
        };
        let checked = coerce(default, value).ok_or_else(|| {
            Refusal::Mcp(McpError::bad_request(fill(
                &msg.settings.messages.bad_value,
                &[
                    ("label", "global-settings"),
                    ("path", "global-settings"),
                    ("property", key),
                    ("value", &value.to_string()),
                ],
            )))
        })?;
        next.insert(key.clone(), checked);
    }
    config.global = next;
    config.next_generation();
    tracing::info!(by = %p.user, "bigip: global settings changed");
    Ok(wire::ok(&global_body(&ctx, &config)))
}

/// The one `cm device` (this device); its `hostname` follows global-settings, its name
/// stays the one it was set up with.
fn cm_device_body(ctx: &Ctx, hostname: &str) -> Singleton {
    let o = objects(ctx);
    let s: &BigipSettings = &ctx.settings;
    let name = &o.hostname;
    let attrs = json!({
        "activeModules": ["BIG-IP, VE Lab|SESSIONLAB-ILLUSTRATIVE|LTM"],
        "baseMac": o.base_mac, "build": s.build, "cert": "/Common/dtdi.crt",
        "chassisId": o.chassis_id, "chassisType": "individual", "configsyncIp": "none",
        "edition": s.edition, "failoverState": "active", "haCapacity": 0,
        "hostname": hostname, "key": "/Common/dtdi.key", "managementIp": o.management_ip,
        "marketingName": o.marketing_name, "mirrorIp": "any6", "mirrorSecondaryIp": "any6",
        "multicastIp": "any6", "multicastPort": 0, "platformId": o.platform,
        "product": "BIG-IP", "selfDevice": "true", "timeZone": o.time_zone,
        "version": s.version,
    });
    Singleton {
        kind: "tm:cm:device:devicestate",
        name: Some(name.clone()),
        partition: Some("Common"),
        full_path: Some(format!("/Common/{name}")),
        generation: Some(1),
        self_link: format!("{ORIGIN}/mgmt/tm/cm/device/~Common~{name}?ver={}", s.version),
        attrs: object_map(attrs),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SystemCollection {
    kind: &'static str,
    self_link: String,
    items: Vec<Singleton>,
}

fn hostname(ctx: &Ctx) -> String {
    let ltm = model(ctx);
    let config = ltm.lock();
    config.global.get("hostname").and_then(Value::as_str).unwrap_or_default().to_string()
}

async fn cm_devices(ctx: Ctx, _p: Principal) -> Answer {
    Ok(wire::ok(&SystemCollection {
        kind: "tm:cm:device:devicecollectionstate",
        self_link: format!("{ORIGIN}/mgmt/tm/cm/device?ver={}", ctx.settings.version),
        items: vec![cm_device_body(&ctx, &hostname(&ctx))],
    }))
}

async fn cm_device(ctx: Ctx, _p: Principal, Param(name): Param<String>) -> Answer {
    let id = segment_name(&name)?;
    if id.partition != "Common" || id.sub_path.is_some() || id.name != objects(&ctx).hostname {
        let message = fill(
            &objects(&ctx).messages.not_found,
            &[("label", "device"), ("path", &id.full_path())],
        );
        return Err(Refusal::Mcp(McpError::new(StatusCode::NOT_FOUND, message, 3)));
    }
    Ok(wire::ok(&cm_device_body(&ctx, &hostname(&ctx))))
}

fn volume_body(ctx: &Ctx) -> Singleton {
    let s: &BigipSettings = &ctx.settings;
    let name = &objects(ctx).volume;
    let attrs = json!({
        "active": true, "basebuild": s.build, "build": s.build,
        "media": [{ "defaultBootLocation": true, "media": "hd", "name": name, "size": "default" }],
        "product": "BIG-IP", "status": "complete", "version": s.version,
    });
    Singleton {
        kind: "tm:sys:software:volume:volumestate",
        name: Some(name.clone()),
        partition: None,
        full_path: Some(name.clone()),
        generation: Some(1),
        self_link: format!("{ORIGIN}/mgmt/tm/sys/software/volume/{name}?ver={}", s.version),
        attrs: object_map(attrs),
    }
}

async fn volumes(ctx: Ctx, _p: Principal) -> Answer {
    Ok(wire::ok(&SystemCollection {
        kind: "tm:sys:software:volume:volumecollectionstate",
        self_link: format!("{ORIGIN}/mgmt/tm/sys/software/volume?ver={}", ctx.settings.version),
        items: vec![volume_body(&ctx)],
    }))
}

async fn volume(ctx: Ctx, _p: Principal, Param(name): Param<String>) -> Answer {
    if name != objects(&ctx).volume {
        let message =
            fill(&objects(&ctx).messages.not_found, &[("label", "volume"), ("path", &name)]);
        return Err(Refusal::Mcp(McpError::new(StatusCode::NOT_FOUND, message, 3)));
    }
    Ok(wire::ok(&volume_body(&ctx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A GET's lookup path is the parsed name's full path, for every segment, well
        /// formed or not: partitions, folders, bare names, full paths, empty parts, too many.
        #[test]
        fn a_segments_full_path_is_its_parsed_names(
            lead in "[~/]?",
            parts in proptest::collection::vec("[ab\u{e9}~/]{0,2}", 0..6),
            sep in "[~/]",
        ) {
            let raw = format!("{lead}{}", parts.join(&sep));
            proptest::prop_assert_eq!(
                Name::parse_full_path(&raw),
                Name::parse(&raw).map(|name| name.full_path()),
                "{:?}", raw
            );
        }
    }

    /// `~Common~web`, `~Common~app~web` and a bare `web` name objects as the iControl REST
    /// reference's partition/name addressing does.
    #[test]
    fn names_parse_partition_subpath_and_bare_forms() {
        let n = Name::parse("~Common~web").unwrap();
        assert_eq!((n.partition.as_str(), n.name.as_str()), ("Common", "web"));
        assert_eq!(Name::parse("~Tenant~app~web").unwrap().full_path(), "/Tenant/app/web");
        assert_eq!(Name::parse("web").unwrap().full_path(), "/Common/web");
        assert_eq!(Name::parse("/Common/web").unwrap().segment(), "~Common~web");
        assert!(Name::parse("~Common~").is_none());
        assert!(Name::parse("~a~b~c~d").is_none());
        assert!(Name::parse("~Common").is_none());
        assert!(Name::parse("~a~~b").is_none(), "an empty subPath");
    }

    /// Member names are `address:port`, or `address.port` for IPv6 (tmsh's forms).
    #[test]
    fn member_names_split_into_node_and_port() {
        assert_eq!(split_member("10.0.0.1:80"), Some(("10.0.0.1", "80")));
        assert_eq!(split_member("2001:db8::1.443"), Some(("2001:db8::1", "443")));
        assert_eq!(split_member("web1:http"), Some(("web1", "http")));
        assert_eq!(split_member("10.0.0.1"), None);
    }

    /// The query is read as axum's `Query` reads it: the same arguments, the same refusal
    /// of one it cannot read, and none when the request has no query.
    #[tokio::test]
    async fn params_read_as_axum_query_reads_them() {
        let read = |uri: &str| {
            let (mut parts, ()) = axum::http::Request::get(uri).body(()).unwrap().into_parts();
            async move { Params::from_request_parts(&mut parts, &()).await }
        };
        let plain = read("/mgmt/tm/ltm/pool").await.unwrap();
        assert_eq!((plain.select, plain.filter, plain.expand), (None, None, None));
        let asked = read("/mgmt/tm/ltm/pool?$select=name&expandSubcollections=true&ver=17.1.1");
        let asked = asked.await.unwrap();
        assert_eq!(asked.select.as_deref(), Some("name"));
        assert!(asked.expand());
        let uri: axum::http::Uri = "/mgmt/tm/ltm/pool?$select=a&$select=b".parse().unwrap();
        let refused = read("/mgmt/tm/ltm/pool?$select=a&$select=b").await.unwrap_err();
        let axum_refused = Query::<Params>::try_from_uri(&uri).unwrap_err();
        assert_eq!(refused.status(), axum_refused.status());
        assert_eq!(refused.body_text(), axum_refused.body_text());
    }

    /// mcpd's numbered messages carry apiError 3; others 1 (public captures).
    #[test]
    fn numbered_messages_are_mcpd_errors() {
        assert!(mcpd_coded("01020036:3: The requested Pool (/Common/p) was not found."));
        assert!(!mcpd_coded("Object not found - /Common/wrong:80"));
    }
}
