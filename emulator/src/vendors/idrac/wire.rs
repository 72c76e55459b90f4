//! iDRAC resource bodies.
//!
//! iDRAC serialises JSON compactly with the keys of every object in byte order (every
//! captured body shows it: `@Message.ExtendedInfo` before `@odata.context` before
//! `ClientOriginIPAddress`), so bodies are built as [`Value`]s and written with
//! [`to_sorted_string`], whatever `serde_json`'s map ordering is.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::{IdracSettings, SessionPaths};
use crate::session::Session;

/// The service root.
pub const ROOT: &str = "/redfish/v1";
/// The SessionService.
pub const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
/// The Sessions collection before RedfishVersion 1.6.
pub const LEGACY_SESSIONS: &str = "/redfish/v1/Sessions";
/// The Sessions collection from RedfishVersion 1.6.
pub const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
/// The one manager's id.
pub const MANAGER_ID: &str = "iDRAC.Embedded.1";
/// The Managers collection.
pub const MANAGERS: &str = "/redfish/v1/Managers";
/// The manager.
pub const MANAGER: &str = "/redfish/v1/Managers/iDRAC.Embedded.1";
/// The Dell attributes of the manager.
pub const ATTRIBUTES: &str = "/redfish/v1/Managers/iDRAC.Embedded.1/Attributes";
/// The same attributes under the path iDRAC9 5.10 showed them.
pub const DELL_ATTRIBUTES: &str =
    "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellAttributes/iDRAC.Embedded.1";
/// `Manager.Reset`.
pub const MANAGER_RESET: &str = "/redfish/v1/Managers/iDRAC.Embedded.1/Actions/Manager.Reset";
/// The AccountService.
pub const ACCOUNT_SERVICE: &str = "/redfish/v1/AccountService";
/// The Accounts collection (members are slots 1 to 16).
pub const ACCOUNTS: &str = "/redfish/v1/AccountService/Accounts";
/// The Roles collection.
pub const ROLES: &str = "/redfish/v1/AccountService/Roles";
/// The OData service document.
pub const ODATA: &str = "/redfish/v1/odata";
/// The OData metadata document.
pub const METADATA: &str = "/redfish/v1/$metadata";

/// Writes `value` as compact JSON with every object's keys in byte order.
pub fn to_sorted_string(value: &Value) -> String {
    let mut out = String::new();
    write_sorted(value, &mut out);
    out
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_sorted(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn link(uri: &str) -> Value {
    json!({ "@odata.id": uri })
}

fn context(fragment: &str) -> String {
    format!("/redfish/v1/$metadata#{fragment}")
}

/// A wall time in the device's zone, as iDRAC writes `CreatedTime` (`-05:00`, never `Z`).
pub fn local_time(settings: &IdracSettings, at: DateTime<Utc>) -> String {
    at.with_timezone(&settings.utc_offset.0).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The collection URI that the service root links and that member URIs use.
pub fn sessions_uri(settings: &IdracSettings) -> &'static str {
    match settings.sessions {
        SessionPaths::Legacy => LEGACY_SESSIONS,
        SessionPaths::Both | SessionPaths::Current => SESSIONS,
    }
}

/// A session's URI.
pub fn session_uri(settings: &IdracSettings, id: &str) -> String {
    format!("{}/{}", sessions_uri(settings), crate::vendors::redfish::wire::segment(id))
}

/// One iDRAC message object: the eight properties every captured message carries.
pub fn message(id: &str, text: &str, args: &[String], resolution: &str, severity: &str) -> Value {
    json!({
        "Message": text,
        "MessageArgs": args,
        "MessageArgs@odata.count": args.len(),
        "MessageId": id,
        "RelatedProperties": [],
        "RelatedProperties@odata.count": 0,
        "Resolution": resolution,
        "Severity": severity,
    })
}

/// `Created` then `SYS414`: the `@Message.ExtendedInfo` of a login answer.
pub fn created_messages(settings: &IdracSettings) -> Value {
    let m = &settings.messages;
    json!([
        message(&m.created, "The resource has been created successfully.", &[], "None.", "OK"),
        message(
            &m.sys414,
            "A new resource is successfully created.",
            &[],
            "No response action is required.",
            "Informational"
        ),
    ])
}

/// The Base registry's `Success`.
pub fn success_message(settings: &IdracSettings) -> Value {
    message(
        &format!("{}.Success", settings.messages.base_registry),
        "The request completed successfully.",
        &[],
        "None",
        "OK",
    )
}

/// iDRAC's `SYS413`, which follows `Success` on attribute changes.
pub fn sys413_message(settings: &IdracSettings) -> Value {
    message(
        &format!("{}.SYS413", settings.messages.idrac_registry),
        "The operation successfully completed.",
        &[],
        "No response action is required.",
        "Informational",
    )
}

/// The `SessionType` value of an engine session type.
pub fn session_type_name(session_type: &str) -> &'static str {
    match session_type {
        super::REDFISH | super::REDFISH_BASIC => "Redfish",
        super::GUI => "WebUI",
        super::VIRTUAL_CONSOLE => "KVMIP",
        super::SSH_TYPE | super::RACADM => "ManagerConsole",
        _ => "OEM",
    }
}

/// A session resource (the login answer adds `@Message.ExtendedInfo`).
pub fn session(settings: &IdracSettings, session: &Session) -> Value {
    let mut body = json!({
        "@odata.context": context("Session.Session"),
        "@odata.id": session_uri(settings, &session.id),
        "@odata.type": settings.session_odata_type,
        "CreatedTime": local_time(settings, session.created_at),
        "Description": "User Session",
        "Id": session.id,
        "Name": "User Session",
        "Password": null,
        "SessionType": session_type_name(&session.session_type),
        "UserName": session.user,
    });
    if let Some(addr) = &session.client.addr {
        body["ClientOriginIPAddress"] = json!(addr);
    }
    body
}

/// The Sessions collection at `uri`.
pub fn session_collection(settings: &IdracSettings, uri: &str, sessions: &[Session]) -> Value {
    let members: Vec<Value> =
        sessions.iter().map(|s| link(&session_uri(settings, &s.id))).collect();
    json!({
        "@odata.context": context("SessionCollection.SessionCollection"),
        "@odata.id": uri,
        "@odata.type": "#SessionCollection.SessionCollection",
        "Description": "Session Collection",
        "Members": members,
        "Members@odata.count": members.len(),
        "Name": "Session Collection",
    })
}

/// The SessionService; `SessionTimeout` is the web-server timeout.
pub fn session_service(settings: &IdracSettings, timeout_secs: u64) -> Value {
    json!({
        "@odata.context": context("SessionService.SessionService"),
        "@odata.id": SESSION_SERVICE,
        "@odata.type": settings.session_service_odata_type,
        "Description": "Session Service",
        "Id": "SessionService",
        "Name": "Session Service",
        "ServiceEnabled": true,
        "SessionTimeout": timeout_secs,
        "Sessions": link(sessions_uri(settings)),
    })
}

/// The service root.
pub fn service_root(settings: &IdracSettings, device_name: &str) -> Value {
    json!({
        "@odata.context": context("ServiceRoot.ServiceRoot"),
        "@odata.id": ROOT,
        "@odata.type": "#ServiceRoot.v1_6_0.ServiceRoot",
        "AccountService": link(ACCOUNT_SERVICE),
        "Description": "Root Service",
        "Id": "RootService",
        "Links": { "Sessions": link(sessions_uri(settings)) },
        "Managers": link(MANAGERS),
        "Name": "Root Service",
        "Product": "Integrated Dell Remote Access Controller",
        "RedfishVersion": settings.redfish_version,
        "SessionService": link(SESSION_SERVICE),
        "UUID": crate::vendors::redfish::wire::service_uuid(device_name),
        "Vendor": "Dell",
    })
}

/// `GET /redfish`.
pub fn versions() -> Value {
    json!({ "v1": "/redfish/v1/" })
}

/// The Managers collection.
pub fn manager_collection() -> Value {
    json!({
        "@odata.context": context("ManagerCollection.ManagerCollection"),
        "@odata.id": MANAGERS,
        "@odata.type": "#ManagerCollection.ManagerCollection",
        "Description": "BMC",
        "Members": [link(MANAGER)],
        "Members@odata.count": 1,
        "Name": "Manager",
    })
}

/// The Dell attribute resources, as iDRAC9 5.10 links them from the manager (ilo-idrac.md
/// `ISERVER` UriManagers.md \[C\]): the iDRAC's own (served from the engine's
/// settings), the system's and the Lifecycle Controller's (served from the tree).
pub const DELL_ATTRIBUTE_SETS: [&str; 3] = [
    DELL_ATTRIBUTES,
    "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellAttributes/System.Embedded.1",
    "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellAttributes/LifecycleController.Embedded.1",
];

/// The Dell job queue.
pub const DELL_JOBS: &str = "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/Jobs";

/// The manager, with `Manager.Reset`, its pools as Redfish shows them and the session
/// services the profile publishes (`CommandShell`, ...). `served` says
/// whether the device serves a path, so the manager links only what resolves:
/// `Links.Oem.Dell.DellAttributes` is an array with its `@odata.count`, as iDRAC9 5.10
/// shows it, with `Jobs` beside it.
pub fn manager(
    device_name: &str,
    settings: &super::IdracSettings,
    served: impl Fn(&str) -> bool,
) -> Value {
    let attribute_sets: Vec<Value> = DELL_ATTRIBUTE_SETS
        .iter()
        .filter(|uri| **uri == DELL_ATTRIBUTES || served(uri))
        .map(|uri| link(uri))
        .collect();
    let mut dell_links = json!({
        "@odata.type": "#DellOem.v1_2_0.DellOemLinks",
        "DellAttributes@odata.count": attribute_sets.len(),
        "DellAttributes": attribute_sets,
    });
    if served(DELL_JOBS) {
        dell_links["Jobs"] = link(DELL_JOBS);
    }
    let mut links = json!({ "Oem": { "Dell": dell_links } });
    for (name, uri) in [
        ("ManagerForServers", "/redfish/v1/Systems/System.Embedded.1"),
        ("ManagerForChassis", "/redfish/v1/Chassis/System.Embedded.1"),
    ] {
        if served(uri) {
            links[name] = json!([link(uri)]);
            links[format!("{name}@odata.count")] = json!(1);
        }
    }
    let mut body = json!({
        "@odata.context": context("Manager.Manager"),
        "@odata.id": MANAGER,
        "@odata.type": "#Manager.v1_9_0.Manager",
        "Actions": {
            "#Manager.Reset": {
                "ResetType@Redfish.AllowableValues": ["GracefulRestart"],
                "target": MANAGER_RESET,
            }
        },
        "Description": "BMC",
        "Id": MANAGER_ID,
        "ManagerType": "BMC",
        "Model": "Integrated Dell Remote Access Controller",
        "Name": "Manager",
        "Status": { "Health": "OK", "State": "Enabled" },
        "UUID": crate::vendors::redfish::wire::service_uuid(device_name),
        "Links": links,
    });
    let services = [
        ("CommandShell", &settings.command_shell),
        ("GraphicalConsole", &settings.graphical_console),
        ("SerialConsole", &settings.serial_console),
    ];
    for (name, service) in services {
        if let Some(service) = service {
            let mut block = json!({
                "ConnectTypesSupported": service.connect_types,
                "MaxConcurrentSessions": service.max_sessions,
            });
            if let Some(enabled) = service.service_enabled {
                block["ServiceEnabled"] = json!(enabled);
            }
            body[name] = block;
        }
    }
    body
}

/// The Dell attributes resource at `uri`.
pub fn attributes(uri: &str, attributes: serde_json::Map<String, Value>) -> Value {
    json!({
        "@odata.context": context("DellAttributes.DellAttributes"),
        "@odata.id": uri,
        "@odata.type": "#DellAttributes.v1_0_0.DellAttributes",
        "AttributeRegistry": "ManagerAttributeRegistry.v1_0_0",
        "Attributes": attributes,
        "Description": "This schema provides the oem attributes",
        "Id": "iDRACAttributes",
        "Name": "OEMAttributeRegistry",
    })
}

/// The AccountService.
pub fn account_service() -> Value {
    json!({
        "@odata.context": context("AccountService.AccountService"),
        "@odata.id": ACCOUNT_SERVICE,
        "@odata.type": "#AccountService.v1_5_0.AccountService",
        "Accounts": link(ACCOUNTS),
        "Description": "BMC User Accounts",
        "Id": "AccountService",
        "Name": "Account Service",
        "Roles": link(ROLES),
        "ServiceEnabled": true,
    })
}

/// A role's URI.
pub fn role_uri(id: &str) -> String {
    format!("{ROLES}/{}", crate::vendors::redfish::wire::segment(id))
}

/// The Roles collection: the profile's predefined roles, in its order.
pub fn role_collection(settings: &IdracSettings) -> Value {
    let members: Vec<Value> = settings.roles.ids.iter().map(|id| link(&role_uri(id))).collect();
    json!({
        "@odata.context": context("RoleCollection.RoleCollection"),
        "@odata.id": ROLES,
        "@odata.type": "#RoleCollection.RoleCollection",
        "Description": "Roles Collection",
        "Members": members,
        "Members@odata.count": members.len(),
        "Name": "Roles Collection",
    })
}

/// One predefined role, as Dell's mockups show it; `None` for an id the profile lacks.
pub fn role(settings: &IdracSettings, id: &str) -> Option<Value> {
    let id = settings.roles.ids.iter().find(|r| *r == id)?;
    let (users, components) = if settings.roles.legacy_privilege_names {
        ("ConfigureUser", "ConfigureComponent")
    } else {
        ("ConfigureUsers", "ConfigureComponents")
    };
    let (privileges, description): (Vec<&str>, String) = match id.as_str() {
        "Administrator" => (
            vec!["Login", "ConfigureManager", users, components, "ConfigureSelf"],
            "Administrator User Role".to_string(),
        ),
        "Operator" => {
            (vec!["Login", components, "ConfigureSelf"], "Operator User Role".to_string())
        }
        "ReadOnly" => (vec!["Login"], "ReadOnly User Role".to_string()),
        "None" => (vec![], "User Role None".to_string()),
        other => (vec![], format!("{other} User Role")),
    };
    Some(json!({
        "@odata.context": context("Role.Role"),
        "@odata.id": role_uri(id),
        "@odata.type": settings.roles.odata_type,
        "AssignedPrivileges": privileges,
        "AssignedPrivileges@odata.count": privileges.len(),
        "Description": description,
        "Id": id,
        "IsPredefined": true,
        "Name": "User Role",
    }))
}

/// The OData service document: a `Singleton` for each service the device serves, in the
/// order of Dell's mockups.
pub fn odata_service_document() -> Value {
    let entry = |name: &str, url: &str| json!({ "kind": "Singleton", "name": name, "url": url });
    json!({
        "@odata.context": METADATA,
        "value": [
            entry("Service", ROOT),
            entry("Managers", MANAGERS),
            entry("AccountService", ACCOUNT_SERVICE),
            entry("SessionService", SESSION_SERVICE),
        ],
    })
}

/// `Namespace.vX_Y_Z` of an `@odata.type` such as `#Session.v1_6_0.Session` (none for an
/// unversioned one).
fn versioned_namespace(odata_type: &str) -> Option<&str> {
    let (namespace, _) = odata_type.trim_start_matches('#').rsplit_once('.')?;
    namespace.contains(".v").then_some(namespace)
}

/// The OData metadata document: a reference to the device's own copy of each schema it
/// serves (`/redfish/v1/Schemas/<Name>_v1.xml`, as Dell's mockups reference them), with
/// the versions the device's resources use, and the `Service` entity container.
pub fn metadata_xml(settings: &IdracSettings) -> String {
    let schemas: [(&str, &str); 13] = [
        ("ServiceRoot", "#ServiceRoot.v1_6_0.ServiceRoot"),
        ("SessionService", &settings.session_service_odata_type),
        ("SessionCollection", ""),
        ("Session", &settings.session_odata_type),
        ("AccountService", "#AccountService.v1_5_0.AccountService"),
        ("ManagerAccountCollection", ""),
        ("ManagerAccount", "#ManagerAccount.v1_4_0.ManagerAccount"),
        ("RoleCollection", ""),
        ("Role", &settings.roles.odata_type),
        ("ManagerCollection", ""),
        ("Manager", "#Manager.v1_9_0.Manager"),
        ("Message", "#Message.v1_0_0.Message"),
        ("DellAttributes", "#DellAttributes.v1_0_0.DellAttributes"),
    ];
    let namespaces: Vec<(&str, &str)> = schemas
        .iter()
        .map(|(schema, odata_type)| (*schema, versioned_namespace(odata_type).unwrap_or("")))
        .collect();
    crate::vendors::redfish::wire::metadata_document("/redfish/v1/Schemas/", &namespaces)
}

/// An account slot's URI.
pub fn account_uri(slot: u32) -> String {
    format!("{ACCOUNTS}/{slot}")
}

/// The Accounts collection: every slot.
pub fn account_collection(slots: impl Iterator<Item = u32>) -> Value {
    let members: Vec<Value> = slots.map(|s| link(&account_uri(s))).collect();
    json!({
        "@odata.context": context("ManagerAccountCollection.ManagerAccountCollection"),
        "@odata.id": ACCOUNTS,
        "@odata.type": "#ManagerAccountCollection.ManagerAccountCollection",
        "Description": "BMC User Accounts Collection",
        "Members": members,
        "Members@odata.count": members.len(),
        "Name": "Accounts Collection",
    })
}

/// One account slot (`user` is empty for a free slot).
pub fn account(slot: u32, user: &str, role: &str, enabled: bool) -> Value {
    json!({
        "@odata.context": context("ManagerAccount.ManagerAccount"),
        "@odata.id": account_uri(slot),
        "@odata.type": "#ManagerAccount.v1_4_0.ManagerAccount",
        "Description": "User Account",
        "Enabled": enabled,
        "Id": slot.to_string(),
        "Locked": false,
        "Name": "User Account",
        "Password": null,
        "RoleId": role,
        "UserName": user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys come out in byte order at every depth, as in every iDRAC capture.
    #[test]
    fn objects_are_written_with_sorted_keys() {
        let v = json!({"b": 1, "@x": {"z": [ {"b": 2, "a": 1} ], "A": null}, "a": "é"});
        assert_eq!(to_sorted_string(&v), r#"{"@x":{"A":null,"z":[{"a":1,"b":2}]},"a":"é","b":1}"#);
    }

    /// serde_json writes the same, so the resource tree's written documents are iDRAC's
    /// as they are: this fails if serde_json's maps ever keep insertion order instead.
    #[test]
    fn serde_json_writes_keys_in_byte_order_too() {
        let mut map = serde_json::Map::new();
        for key in ["b", "@x", "a", "Z", "é"] {
            map.insert(key.to_string(), json!({"y": 1, "x": [2, {"d": 3, "c": 4}]}));
        }
        let v = Value::Object(map);
        assert_eq!(serde_json::to_string(&v).unwrap(), to_sorted_string(&v));
    }

    /// `CreatedTime` carries the device's offset, not `Z` (ilo-idrac.md 2.2, \[C\]).
    #[test]
    fn created_time_uses_the_device_offset() {
        let settings = IdracSettings {
            utc_offset: super::super::UtcOffset::parse("-05:00").unwrap(),
            ..IdracSettings::default()
        };
        let at = DateTime::parse_from_rfc3339("2024-07-16T18:59:10Z").unwrap().to_utc();
        assert_eq!(local_time(&settings, at), "2024-07-16T13:59:10-05:00");
    }
}
