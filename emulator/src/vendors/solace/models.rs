//! The broker's configuration objects beyond sessions: message VPNs and, in each, client
//! usernames, client profiles, ACL profiles and queues.
//!
//! This is device state, not session state: it lives in the device
//! ([`crate::device::Device::model`]), goes back to what a broker ships on the
//! control API's reset, and knows nothing of HTTP. [`super::objects`] translates SEMPv2
//! requests into calls on it and renders what it returns.
//!
//! What it follows, from the SEMP API reference that Solace's generated Python client
//! `solace-semp-config` 9.8.0.12 (SEMP API 2.19) carries in its docstrings, [P]:
//! - the attribute names, types, enumerations and defaults of `MsgVpn`, `MsgVpnQueue`,
//!   `MsgVpnClientUsername`, `MsgVpnClientProfile` and `MsgVpnAclProfile` (only a subset of
//!   the Message VPN's and the Client Profile's attributes is served; every attribute of
//!   the other three is, except the `event*Threshold` objects);
//! - POST creates from the collection, "any attribute missing from the request will be set
//!   to its default value"; PATCH leaves missing attributes unchanged; PUT creates the
//!   object if it does not exist and sets missing attributes to their defaults, except
//!   write-only ones (note 4 of the reference); the identifying attributes are required on
//!   a create and appear in the URI;
//! - `password` of a client username is write-only: "absent from a GET".
//!
//! What it assumes ([I]): a new Message VPN comes with a `default` client username,
//! client profile and ACL profile; the `default` VPN and those `default` and `#`-named
//! objects cannot be deleted; an ACL or client profile that a client username uses cannot
//! be deleted (the SEMP error page's code 89 "A Delete request is prohibited due to an
//! existing child object"); a client username may only name profiles that exist.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde_json::{json, Map, Value};

/// The kinds of object served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A Message VPN (`/msgVpns/{msgVpnName}`).
    MsgVpn,
    /// A queue of a VPN (`/msgVpns/{msgVpnName}/queues/{queueName}`).
    Queue,
    /// A client username of a VPN.
    ClientUsername,
    /// A client profile of a VPN.
    ClientProfile,
    /// An ACL profile of a VPN.
    AclProfile,
}

/// The kinds that live inside a Message VPN, in the order links list them.
pub const VPN_CHILDREN: [Kind; 4] =
    [Kind::AclProfile, Kind::ClientProfile, Kind::ClientUsername, Kind::Queue];

impl Kind {
    /// The collection's path segment.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::MsgVpn => "msgVpns",
            Kind::Queue => "queues",
            Kind::ClientUsername => "clientUsernames",
            Kind::ClientProfile => "clientProfiles",
            Kind::AclProfile => "aclProfiles",
        }
    }

    /// The kind whose collection is called `segment` inside a VPN.
    pub fn of_child_collection(segment: &str) -> Option<Kind> {
        VPN_CHILDREN.into_iter().find(|k| k.collection() == segment)
    }

    /// The attribute that names an object of this kind (besides `msgVpnName`).
    pub fn id_attr(self) -> &'static str {
        match self {
            Kind::MsgVpn => "msgVpnName",
            Kind::Queue => "queueName",
            Kind::ClientUsername => "clientUsername",
            Kind::ClientProfile => "clientProfileName",
            Kind::AclProfile => "aclProfileName",
        }
    }

    /// The object's name in the SEMP reference ("Create a Queue object").
    pub fn noun(self) -> &'static str {
        match self {
            Kind::MsgVpn => "Message VPN",
            Kind::Queue => "Queue",
            Kind::ClientUsername => "Client Username",
            Kind::ClientProfile => "Client Profile",
            Kind::AclProfile => "ACL Profile",
        }
    }

    /// Its non-identifying attributes.
    pub fn attrs(self) -> &'static [Attr] {
        match self {
            Kind::MsgVpn => MSG_VPN,
            Kind::Queue => QUEUE,
            Kind::ClientUsername => CLIENT_USERNAME,
            Kind::ClientProfile => CLIENT_PROFILE,
            Kind::AclProfile => ACL_PROFILE,
        }
    }
}

/// The type of an attribute's value.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// A string.
    Str,
    /// `true` or `false`.
    Bool,
    /// A non-negative integer.
    Int,
    /// One of these strings.
    Enum(&'static [&'static str]),
}

/// An attribute's default, what POST and PUT set when the request leaves it out.
#[derive(Clone, Copy, Debug)]
pub enum Init {
    /// A string.
    S(&'static str),
    /// A boolean.
    B(bool),
    /// An integer.
    I(i64),
    /// Write-only (a password): stored, never shown, left alone by a PUT without it.
    WriteOnly(&'static str),
}

impl Init {
    fn value(self) -> Value {
        match self {
            Init::S(s) | Init::WriteOnly(s) => json!(s),
            Init::B(b) => json!(b),
            Init::I(i) => json!(i),
        }
    }
}

/// One attribute of an object.
#[derive(Clone, Copy, Debug)]
pub struct Attr {
    /// Its name on the wire.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Its default.
    pub default: Init,
}

impl Attr {
    /// Whether a GET leaves it out.
    pub fn write_only(&self) -> bool {
        matches!(self.default, Init::WriteOnly(_))
    }
}

const fn a(name: &'static str, ty: Ty, default: Init) -> Attr {
    Attr { name, ty, default }
}

use Init::{B, I, S};
use Ty::{Bool, Int, Str};

const ALLOW: Ty = Ty::Enum(&["allow", "disallow"]);

/// `MsgVpn`: a subset (the attributes whose defaults do not vary by platform).
const MSG_VPN: &[Attr] = &[
    a("alias", Str, S("")),
    a("authenticationBasicEnabled", Bool, B(true)),
    a("authenticationBasicProfileName", Str, S("default")),
    a("authenticationBasicType", Ty::Enum(&["internal", "ldap", "radius", "none"]), S("radius")),
    a("authenticationClientCertEnabled", Bool, B(false)),
    a("authenticationOauthEnabled", Bool, B(false)),
    a("authorizationType", Ty::Enum(&["ldap", "internal"]), S("internal")),
    a("dmrEnabled", Bool, B(false)),
    a("enabled", Bool, B(false)),
    a("maxEgressFlowCount", Int, I(16000)),
    a("maxEndpointCount", Int, I(16000)),
    a("maxIngressFlowCount", Int, I(16000)),
    a("maxMsgSpoolUsage", Int, I(0)),
    a("replicationEnabled", Bool, B(false)),
    a("serviceMqttPlainTextEnabled", Bool, B(false)),
    a("serviceRestIncomingPlainTextEnabled", Bool, B(false)),
    a("serviceSmfPlainTextEnabled", Bool, B(true)),
    a("serviceSmfTlsEnabled", Bool, B(true)),
];

/// `MsgVpnQueue`: every attribute but the event thresholds.
const QUEUE: &[Attr] = &[
    a("accessType", Ty::Enum(&["exclusive", "non-exclusive"]), S("exclusive")),
    a("consumerAckPropagationEnabled", Bool, B(true)),
    a("deadMsgQueue", Str, S("#DEAD_MSG_QUEUE")),
    a("deliveryCountEnabled", Bool, B(false)),
    a("egressEnabled", Bool, B(false)),
    a("ingressEnabled", Bool, B(false)),
    a("maxBindCount", Int, I(1000)),
    a("maxDeliveredUnackedMsgsPerFlow", Int, I(10000)),
    a("maxMsgSize", Int, I(10_000_000)),
    a("maxMsgSpoolUsage", Int, I(4000)),
    a("maxRedeliveryCount", Int, I(0)),
    a("maxTtl", Int, I(0)),
    a("owner", Str, S("")),
    a(
        "permission",
        Ty::Enum(&["no-access", "read-only", "consume", "modify-topic", "delete"]),
        S("no-access"),
    ),
    a("redeliveryEnabled", Bool, B(true)),
    a("rejectLowPriorityMsgEnabled", Bool, B(false)),
    a("rejectLowPriorityMsgLimit", Int, I(0)),
    a(
        "rejectMsgToSenderOnDiscardBehavior",
        Ty::Enum(&["always", "when-queue-enabled", "never"]),
        S("when-queue-enabled"),
    ),
    a("respectMsgPriorityEnabled", Bool, B(false)),
    a("respectTtlEnabled", Bool, B(false)),
];

/// `MsgVpnClientUsername`: every attribute.
const CLIENT_USERNAME: &[Attr] = &[
    a("aclProfileName", Str, S("default")),
    a("clientProfileName", Str, S("default")),
    a("enabled", Bool, B(false)),
    a("guaranteedEndpointPermissionOverrideEnabled", Bool, B(false)),
    a("password", Str, Init::WriteOnly("")),
    a("subscriptionManagerEnabled", Bool, B(false)),
];

/// `MsgVpnClientProfile`: a subset (the attributes whose defaults do not vary by
/// platform).
const CLIENT_PROFILE: &[Attr] = &[
    a("allowBridgeConnectionsEnabled", Bool, B(false)),
    a("allowGuaranteedEndpointCreateEnabled", Bool, B(false)),
    a("allowGuaranteedMsgReceiveEnabled", Bool, B(false)),
    a("allowGuaranteedMsgSendEnabled", Bool, B(false)),
    a("allowSharedSubscriptionsEnabled", Bool, B(false)),
    a("allowTransactedSessionsEnabled", Bool, B(false)),
    a("compressionEnabled", Bool, B(true)),
    a("elidingEnabled", Bool, B(false)),
    a("maxEgressFlowCount", Int, I(16000)),
    a("maxEndpointCountPerClientUsername", Int, I(16000)),
    a("maxIngressFlowCount", Int, I(16000)),
    a("maxTransactedSessionCount", Int, I(10)),
    a("rejectMsgToSenderOnNoSubscriptionMatchEnabled", Bool, B(false)),
    a("replicationAllowClientConnectWhenStandbyEnabled", Bool, B(false)),
    a("tlsAllowDowngradeToPlainTextEnabled", Bool, B(true)),
];

/// `MsgVpnAclProfile`: every attribute.
const ACL_PROFILE: &[Attr] = &[
    a("clientConnectDefaultAction", ALLOW, S("disallow")),
    a("publishTopicDefaultAction", ALLOW, S("disallow")),
    a("subscribeShareNameDefaultAction", ALLOW, S("allow")),
    a("subscribeTopicDefaultAction", ALLOW, S("disallow")),
];

/// Longest object name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// Why a request on the objects failed; [`super::objects`] maps each to a SEMP error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// The object or its VPN does not exist.
    NotFound(String),
    /// An object of that name exists already.
    AlreadyExists(String),
    /// A required (identifying) attribute is missing.
    Missing(String),
    /// An attribute is unknown, of the wrong type, or has a bad value.
    Invalid(String),
    /// The broker's configuration does not allow it (a delete of a built-in object or of
    /// a profile in use).
    NotAllowed(String),
}

/// An object's attributes, identifying ones included.
pub type Object = Map<String, Value>;

/// An object as the broker keeps it: its attributes and, from the first GET of each API
/// on, what that API's GETs write of it. An object is replaced whole on every change,
/// never changed in place, so what is written of it is never stale.
#[derive(Debug)]
pub struct Stored {
    attrs: Object,
    /// By API: the monitor API's, then the config API's.
    written: [OnceLock<Written>; 2],
}

/// What an API's GETs write of an object, the same for every request: its `data`, and
/// its `links` as the paths they name on the broker, in key order (a request adds its
/// base to each).
#[derive(Debug, Default)]
pub struct Written {
    /// The `data`, as serde_json writes it.
    pub data: bytes::Bytes,
    /// Each link's key and path.
    pub links: super::wire::LinkPaths,
}

impl Stored {
    fn new(attrs: Object) -> Arc<Stored> {
        Arc::new(Stored { attrs, written: Default::default() })
    }

    /// What `api` (monitor or config) writes of the object: `write`'s, once.
    pub fn written(
        &self,
        api: super::wire::Api,
        write: impl FnOnce(&Object) -> Written,
    ) -> &Written {
        let slot = &self.written[usize::from(api == super::wire::Api::Config)];
        slot.get_or_init(|| write(&self.attrs))
    }
}

impl std::ops::Deref for Stored {
    type Target = Object;

    fn deref(&self) -> &Object {
        &self.attrs
    }
}

#[derive(Clone, Debug)]
struct Vpn {
    attrs: Arc<Stored>,
    children: BTreeMap<Kind, BTreeMap<String, Arc<Stored>>>,
}

/// Where an object is: its kind, its VPN and its name (for a VPN, its own name twice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key<'a> {
    /// The kind.
    pub kind: Kind,
    /// The Message VPN.
    pub vpn: &'a str,
    /// The object's name.
    pub name: &'a str,
}

/// The objects of one broker.
#[derive(Clone, Debug)]
pub struct Broker {
    vpns: BTreeMap<String, Vpn>,
}

/// The defaults of `kind` with the identifying attributes.
fn defaults(kind: Kind, vpn: &str, name: &str) -> Object {
    let mut object: Object =
        kind.attrs().iter().map(|a| (a.name.to_string(), a.default.value())).collect();
    object.insert("msgVpnName".to_string(), json!(vpn));
    object.insert(kind.id_attr().to_string(), json!(name));
    object
}

fn with(mut object: Object, changes: &[(&str, Value)]) -> Object {
    for (name, value) in changes {
        object.insert((*name).to_string(), value.clone());
    }
    object
}

/// Whether `name` is one the broker creates itself and will not delete.
fn built_in(name: &str) -> bool {
    name == "default" || name.starts_with('#')
}

impl Broker {
    /// What a broker ships: the `default` Message VPN, enabled, with its `default` client
    /// username, client profile and ACL profile, and the broker's own `#client-username`,
    /// `#client-profile` and `#acl-profile` ([I]: the values of these built-in objects
    /// are not documented; the defaults let clients connect and use guaranteed
    /// messaging, as the software broker's quick start does).
    pub fn shipped() -> Broker {
        let mut broker = Broker { vpns: BTreeMap::new() };
        let vpn = "default";
        let attrs = with(
            defaults(Kind::MsgVpn, vpn, vpn),
            &[("enabled", json!(true)), ("authenticationBasicType", json!("none"))],
        );
        broker
            .vpns
            .insert(vpn.to_string(), Vpn { attrs: Stored::new(attrs), children: BTreeMap::new() });
        let allow_all: Vec<(&str, Value)> =
            ACL_PROFILE.iter().map(|a| (a.name, json!("allow"))).collect();
        let guaranteed: Vec<(&str, Value)> = [
            "allowBridgeConnectionsEnabled",
            "allowGuaranteedEndpointCreateEnabled",
            "allowGuaranteedMsgReceiveEnabled",
            "allowGuaranteedMsgSendEnabled",
            "allowSharedSubscriptionsEnabled",
            "allowTransactedSessionsEnabled",
        ]
        .into_iter()
        .map(|n| (n, json!(true)))
        .collect();
        let acl = |name: &str| with(defaults(Kind::AclProfile, vpn, name), &allow_all);
        let profile = |name: &str| with(defaults(Kind::ClientProfile, vpn, name), &guaranteed);
        let username = |name: &str, acl: &str, profile: &str, enabled: bool| {
            with(
                defaults(Kind::ClientUsername, vpn, name),
                &[
                    ("aclProfileName", json!(acl)),
                    ("clientProfileName", json!(profile)),
                    ("enabled", json!(enabled)),
                ],
            )
        };
        let mut put = |kind: Kind, object: Object| {
            let name = object[kind.id_attr()].as_str().unwrap_or_default().to_string();
            if let Some(v) = broker.vpns.get_mut(vpn) {
                v.children.entry(kind).or_default().insert(name, Stored::new(object));
            }
        };
        put(Kind::AclProfile, acl("#acl-profile"));
        put(Kind::AclProfile, acl("default"));
        put(Kind::ClientProfile, profile("#client-profile"));
        put(Kind::ClientProfile, profile("default"));
        put(
            Kind::ClientUsername,
            username("#client-username", "#acl-profile", "#client-profile", false),
        );
        put(Kind::ClientUsername, username("default", "default", "default", true));
        broker
    }

    /// The names of every VPN, sorted.
    pub fn vpn_names(&self) -> Vec<String> {
        self.vpns.keys().cloned().collect()
    }

    fn vpn(&self, name: &str) -> Result<&Vpn, ModelError> {
        self.vpns.get(name).ok_or_else(|| vpn_not_found(name))
    }

    fn vpn_mut(&mut self, name: &str) -> Result<&mut Vpn, ModelError> {
        self.vpns.get_mut(name).ok_or_else(|| vpn_not_found(name))
    }

    /// Every object of `kind` (in VPN `vpn` for the kinds inside one), sorted by name.
    pub fn list(&self, kind: Kind, vpn: &str) -> Result<Vec<Object>, ModelError> {
        if kind == Kind::MsgVpn {
            return Ok(self.vpns.values().map(|v| v.attrs.attrs.clone()).collect());
        }
        let vpn = self.vpn(vpn)?;
        let objects = vpn.children.get(&kind).map(|c| c.values().map(|o| o.attrs.clone()));
        Ok(objects.map(Iterator::collect).unwrap_or_default())
    }

    /// One object.
    pub fn get(&self, key: &Key<'_>) -> Result<Arc<Stored>, ModelError> {
        let vpn = self.vpn(key.vpn)?;
        if key.kind == Kind::MsgVpn {
            return Ok(vpn.attrs.clone());
        }
        vpn.children
            .get(&key.kind)
            .and_then(|c| c.get(key.name))
            .cloned()
            .ok_or_else(|| not_found(key))
    }

    /// POST on a collection: creates the object the body names, with defaults for what it
    /// leaves out. `vpn` is the VPN of the URI (ignored for a VPN).
    pub fn create(
        &mut self,
        kind: Kind,
        vpn: &str,
        body: &Object,
    ) -> Result<Arc<Stored>, ModelError> {
        let name = match body.get(kind.id_attr()) {
            None => {
                return Err(ModelError::Missing(format!(
                    "Problem with {}: the attribute is required to create a {} object",
                    kind.id_attr(),
                    kind.noun()
                )))
            }
            Some(value) => name_value(kind.id_attr(), value)?,
        };
        let vpn = if kind == Kind::MsgVpn { name.as_str() } else { vpn };
        let key = Key { kind, vpn, name: &name };
        let changes = checked(&key, body)?;
        if kind == Kind::MsgVpn {
            if self.vpns.contains_key(&name) {
                return Err(already_exists(&key));
            }
        } else if self.vpn(vpn)?.children.get(&kind).is_some_and(|c| c.contains_key(&name)) {
            return Err(already_exists(&key));
        }
        let mut object = defaults(kind, vpn, &name);
        object.extend(changes);
        self.insert(&key, object)
    }

    /// PUT on an object: replaces it (creating it first when it does not exist); missing
    /// attributes go back to their defaults, write-only ones excepted (note 4).
    pub fn replace(&mut self, key: &Key<'_>, body: &Object) -> Result<Arc<Stored>, ModelError> {
        let changes = checked(key, body)?;
        if key.kind != Kind::MsgVpn {
            self.vpn(key.vpn)?;
        }
        let mut object = defaults(key.kind, key.vpn, key.name);
        if let Ok(old) = self.get(key) {
            for attr in key.kind.attrs().iter().filter(|a| a.write_only()) {
                if let Some(value) = old.get(attr.name) {
                    object.insert(attr.name.to_string(), value.clone());
                }
            }
        }
        object.extend(changes);
        self.insert(key, object)
    }

    /// PATCH on an object: changes what the body names, nothing else.
    pub fn update(&mut self, key: &Key<'_>, body: &Object) -> Result<Arc<Stored>, ModelError> {
        let mut object = self.get(key)?.attrs.clone();
        let changes = checked(key, body)?;
        object.extend(changes);
        self.insert(key, object)
    }

    /// Checks references and stores `object` at `key`.
    fn insert(&mut self, key: &Key<'_>, object: Object) -> Result<Arc<Stored>, ModelError> {
        if key.kind == Kind::ClientUsername {
            for (attr, kind) in
                [("aclProfileName", Kind::AclProfile), ("clientProfileName", Kind::ClientProfile)]
            {
                let wanted = object.get(attr).and_then(Value::as_str).unwrap_or_default();
                let exists =
                    self.vpn(key.vpn)?.children.get(&kind).is_some_and(|c| c.contains_key(wanted));
                if !exists {
                    return Err(ModelError::NotFound(format!(
                        "Could not find match for {attr} {wanted} in msgVpnName {}",
                        key.vpn
                    )));
                }
            }
        }
        let object = Stored::new(object);
        if key.kind == Kind::MsgVpn {
            match self.vpns.get_mut(key.name) {
                Some(vpn) => vpn.attrs = object.clone(),
                None => {
                    let mut vpn = Vpn { attrs: object.clone(), children: BTreeMap::new() };
                    // [I] a new VPN comes with its `default` profiles and username.
                    for kind in [Kind::AclProfile, Kind::ClientProfile, Kind::ClientUsername] {
                        vpn.children.entry(kind).or_default().insert(
                            "default".to_string(),
                            Stored::new(defaults(kind, key.name, "default")),
                        );
                    }
                    self.vpns.insert(key.name.to_string(), vpn);
                }
            }
        } else {
            self.vpn_mut(key.vpn)?
                .children
                .entry(key.kind)
                .or_default()
                .insert(key.name.to_string(), object.clone());
        }
        Ok(object)
    }

    /// DELETE on an object. A VPN goes with everything in it.
    pub fn delete(&mut self, key: &Key<'_>) -> Result<(), ModelError> {
        self.get(key)?;
        if built_in(key.name) {
            return Err(ModelError::NotAllowed(format!(
                "The {} {} is built in and cannot be deleted",
                key.kind.noun(),
                key.name
            )));
        }
        if key.kind == Kind::MsgVpn {
            self.vpns.remove(key.name);
            return Ok(());
        }
        let vpn = self.vpn_mut(key.vpn)?;
        let user_attr = match key.kind {
            Kind::AclProfile => Some("aclProfileName"),
            Kind::ClientProfile => Some("clientProfileName"),
            _ => None,
        };
        if let Some(attr) = user_attr {
            let users = vpn.children.get(&Kind::ClientUsername);
            if let Some(user) = users.and_then(|u| {
                u.values().find(|o| o.get(attr).and_then(Value::as_str) == Some(key.name))
            }) {
                let user = user.get("clientUsername").and_then(Value::as_str).unwrap_or_default();
                return Err(ModelError::NotAllowed(format!(
                    "The {} {} is used by Client Username {user}",
                    key.kind.noun(),
                    key.name
                )));
            }
        }
        if let Some(children) = vpn.children.get_mut(&key.kind) {
            children.remove(key.name);
        }
        Ok(())
    }
}

fn vpn_not_found(vpn: &str) -> ModelError {
    ModelError::NotFound(format!("Could not find match for msgVpnName {vpn}"))
}

fn not_found(key: &Key<'_>) -> ModelError {
    ModelError::NotFound(format!(
        "Could not find match for msgVpnName {} and {} {}",
        key.vpn,
        key.kind.id_attr(),
        key.name
    ))
}

fn already_exists(key: &Key<'_>) -> ModelError {
    if key.kind == Kind::MsgVpn {
        ModelError::AlreadyExists(format!("Message VPN {} already exists", key.name))
    } else {
        ModelError::AlreadyExists(format!(
            "{} {} already exists in Message VPN {}",
            key.kind.noun(),
            key.name,
            key.vpn
        ))
    }
}

/// An object name: a non-empty string of at most [`MAX_NAME_LEN`] bytes without control
/// characters.
fn name_value(attr: &str, value: &Value) -> Result<String, ModelError> {
    let bad = |why: &str| ModelError::Invalid(format!("Problem with {attr}: {why}"));
    let name = value.as_str().ok_or_else(|| bad("a string is required"))?;
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(bad(&format!("the name is longer than {MAX_NAME_LEN} bytes")));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("the name contains a control character"));
    }
    Ok(name.to_string())
}

/// The non-identifying attributes of a request body, checked against the kind's attributes;
/// identifying attributes may appear and must then match the object's.
fn checked(key: &Key<'_>, body: &Object) -> Result<Object, ModelError> {
    let mut out = Object::new();
    for (name, value) in body {
        if name == "msgVpnName" || name == key.kind.id_attr() {
            let expected = if name == "msgVpnName" { key.vpn } else { key.name };
            let given = name_value(name, value)?;
            if given != expected {
                return Err(ModelError::Invalid(format!(
                    "Problem with {name}: {given} does not match the URI's {expected}"
                )));
            }
            continue;
        }
        let Some(attr) = key.kind.attrs().iter().find(|a| a.name == name) else {
            return Err(ModelError::Invalid(format!(
                "Unknown attribute {name} for a {} object",
                key.kind.noun()
            )));
        };
        let bad = |why: String| ModelError::Invalid(format!("Problem with {name}: {why}"));
        match attr.ty {
            Ty::Str if !value.is_string() => return Err(bad(format!("{value} is not a string"))),
            Ty::Bool if !value.is_boolean() => {
                return Err(bad(format!("{value} is not true or false")))
            }
            Ty::Int if value.as_u64().is_none() => {
                return Err(bad(format!("{value} is not a non-negative integer")))
            }
            Ty::Enum(allowed) if !value.as_str().is_some_and(|v| allowed.contains(&v)) => {
                return Err(bad(format!("{value} is not one of {}", allowed.join(", "))))
            }
            _ => {}
        }
        out.insert(name.clone(), value.clone());
    }
    Ok(out)
}

/// A device's broker objects: empty until first used, then what a broker ships, and back
/// to that on reset.
#[derive(Debug, Default)]
pub struct SempObjects {
    broker: Mutex<Option<Broker>>,
}

impl SempObjects {
    /// Runs `f` on the broker's objects (never across an `.await`).
    pub fn with<R>(&self, f: impl FnOnce(&mut Broker) -> R) -> R {
        let mut guard = self.lock();
        f(guard.get_or_insert_with(Broker::shipped))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Broker>> {
        self.broker.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Object {
        value.as_object().cloned().unwrap_or_default()
    }

    /// What a GET wrote of an object lasts until the object changes, each API's apart: a
    /// change stores a new object, which the next GET writes afresh.
    #[test]
    fn written_data_lasts_until_the_object_changes() {
        use super::super::wire::{Api, LinkPaths};
        let mut b = Broker::shipped();
        b.create(Kind::Queue, "default", &body(json!({"queueName": "q"}))).unwrap();
        let write = |o: &Object| Written {
            data: serde_json::to_vec(o).unwrap().into(),
            links: LinkPaths::new(vec![("uri".into(), format!("/{}", o["queueName"]))]),
        };
        let data = |b: &Broker, api, write: &dyn Fn(&Object) -> Written| {
            let object = b.get(&queue("q")).unwrap();
            let data = object.written(api, write).data.clone();
            String::from_utf8_lossy(&data).into_owned()
        };
        let first = data(&b, Api::Config, &write);
        let again = data(&b, Api::Config, &|_| unreachable!());
        assert_eq!(first, again);
        let monitor = |_: &Object| Written { data: "m".into(), ..Written::default() };
        assert_eq!(data(&b, Api::Monitor, &monitor), "m");
        b.update(&queue("q"), &body(json!({"egressEnabled": true}))).unwrap();
        assert!(data(&b, Api::Config, &write).contains(r#""egressEnabled":true"#));
        b.replace(&queue("q"), &body(json!({}))).unwrap();
        assert!(data(&b, Api::Config, &write).contains(r#""egressEnabled":false"#));
    }

    fn queue<'a>(name: &'a str) -> Key<'a> {
        Key { kind: Kind::Queue, vpn: "default", name }
    }

    /// SEMP reference (POST): missing attributes take their defaults; a second create of
    /// the same name is refused.
    #[test]
    fn create_sets_defaults_and_refuses_a_duplicate() {
        let mut b = Broker::shipped();
        let q = b.create(Kind::Queue, "default", &body(json!({"queueName": "q"}))).unwrap();
        assert_eq!(q["accessType"], json!("exclusive"));
        assert_eq!(q["msgVpnName"], json!("default"));
        let again = b.create(Kind::Queue, "default", &body(json!({"queueName": "q"})));
        assert!(matches!(again, Err(ModelError::AlreadyExists(_))));
    }

    /// SEMP reference: PATCH leaves missing attributes alone, PUT resets them (but keeps a
    /// write-only password, note 4) and creates a missing object (note 5).
    #[test]
    fn patch_keeps_and_put_resets() {
        let mut b = Broker::shipped();
        b.create(Kind::Queue, "default", &body(json!({"queueName": "q", "maxTtl": 5}))).unwrap();
        let patched = b.update(&queue("q"), &body(json!({"egressEnabled": true}))).unwrap();
        assert_eq!(patched["maxTtl"], json!(5));
        let put = b.replace(&queue("q"), &body(json!({"ingressEnabled": true}))).unwrap();
        assert_eq!(put["maxTtl"], json!(0));
        assert_eq!(put["egressEnabled"], json!(false));
        assert!(b.replace(&queue("new"), &body(json!({}))).is_ok());
        let user = Key { kind: Kind::ClientUsername, vpn: "default", name: "u" };
        b.replace(&user, &body(json!({"password": "secret"}))).unwrap();
        let again = b.replace(&user, &body(json!({"enabled": true}))).unwrap();
        assert_eq!(again["password"], json!("secret"));
    }

    /// Bad bodies: unknown attributes, wrong types and values outside an enumeration are
    /// refused; a create without its identifying attribute is a missing parameter.
    #[test]
    fn bad_bodies_are_refused() {
        let mut b = Broker::shipped();
        let create = |b: &mut Broker, v: Value| b.create(Kind::Queue, "default", &body(v));
        assert!(matches!(create(&mut b, json!({})), Err(ModelError::Missing(_))));
        assert!(matches!(create(&mut b, json!({"queueName": ""})), Err(ModelError::Invalid(_))));
        for bad in [
            json!({"queueName": "q", "bogus": 1}),
            json!({"queueName": "q", "maxTtl": -1}),
            json!({"queueName": "q", "egressEnabled": "yes"}),
            json!({"queueName": "q", "accessType": "shared"}),
            json!({"queueName": "q", "msgVpnName": "other"}),
        ] {
            assert!(matches!(create(&mut b, bad), Err(ModelError::Invalid(_))));
        }
        assert!(matches!(
            b.create(Kind::Queue, "nope", &body(json!({"queueName": "q"}))),
            Err(ModelError::NotFound(_))
        ));
    }

    /// [I] built-in objects and profiles in use cannot be deleted; a deleted VPN takes its
    /// objects with it.
    #[test]
    fn deletes_respect_built_ins_and_references() {
        let mut b = Broker::shipped();
        let vpn = Key { kind: Kind::MsgVpn, vpn: "default", name: "default" };
        assert!(matches!(b.delete(&vpn), Err(ModelError::NotAllowed(_))));
        b.create(Kind::MsgVpn, "", &body(json!({"msgVpnName": "v"}))).unwrap();
        b.create(Kind::AclProfile, "v", &body(json!({"aclProfileName": "acl"}))).unwrap();
        b.create(
            Kind::ClientUsername,
            "v",
            &body(json!({"clientUsername": "u", "aclProfileName": "acl"})),
        )
        .unwrap();
        let acl = Key { kind: Kind::AclProfile, vpn: "v", name: "acl" };
        assert!(matches!(b.delete(&acl), Err(ModelError::NotAllowed(_))));
        let user = Key { kind: Kind::ClientUsername, vpn: "v", name: "u" };
        b.delete(&user).unwrap();
        b.delete(&acl).unwrap();
        b.delete(&Key { kind: Kind::MsgVpn, vpn: "v", name: "v" }).unwrap();
        assert_eq!(b.vpn_names(), vec!["default".to_string()]);
    }

    /// A client username may only name profiles that exist in its VPN.
    #[test]
    fn a_client_username_needs_existing_profiles() {
        let mut b = Broker::shipped();
        let made = b.create(
            Kind::ClientUsername,
            "default",
            &body(json!({"clientUsername": "u", "clientProfileName": "missing"})),
        );
        assert!(matches!(made, Err(ModelError::NotFound(_))));
    }
}
