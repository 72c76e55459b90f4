//! iLO's resource bodies and URIs.
//!
//! Shapes follow the captures in ilo-idrac.md 1.1 to 1.4 (service root of iLO 5 v2.55 and
//! iLO 4 v2.54, the session member and collection of iLO 5 and 6); every `@odata.id`
//! ends in `/` when the profile says so. Objects are serialised with sorted keys, as iLO
//! sends them. `@odata.etag` (and the `ETag` header) is `W/"XXXXXXXX"`: eight upper-case
//! hex digits, here a hash of the body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{IdleTimeoutProperty, IloSettings, InfiniteMinutes, LocationScheme};
use crate::clock::Now;
use crate::session::Session;
use crate::vendors::http::{BodyMemo, ListenerScheme, ReadyBody};
use crate::vendors::redfish::routes::Ctx;
use crate::vendors::redfish::wire::{json_response, segment, service_uuid, Prerendered};

/// The service root.
pub const ROOT: &str = "/redfish/v1";
/// The SessionService.
pub const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
/// The Sessions collection.
pub const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
/// The Sessions collection's alias (HPE's TFA examples POST to it).
pub const SESSIONS_ALIAS: &str = "/redfish/v1/Sessions";
/// The AccountService.
pub const ACCOUNT_SERVICE: &str = "/redfish/v1/AccountService";
/// The Managers collection.
pub const MANAGERS: &str = "/redfish/v1/Managers";
/// The JSON schema collection of iLO 5 and 6 (ilo-idrac.md 1.1 [C]: root `JsonSchemas`).
pub const JSON_SCHEMAS: &str = "/redfish/v1/JsonSchemas";
/// The JSON schema collection of iLO 4 (its v2.54 root links `JsonSchemas` and
/// `links.Schemas` to `/redfish/v1/Schemas/`).
pub const SCHEMAS_ILO4: &str = "/redfish/v1/Schemas";
/// The message registry collection (root `Registries` on iLO 4, 5 and 6).
pub const REGISTRIES: &str = "/redfish/v1/Registries";

/// `path` as the device writes it: with the trailing slash when the profile says so.
pub fn uri(ilo: &IloSettings, path: &str) -> String {
    let path = path.trim_end_matches('/');
    if ilo.trailing_slash {
        format!("{path}/")
    } else {
        path.to_string()
    }
}

/// Where the JSON schema collection is: `/redfish/v1/Schemas` on iLO 4 (legacy links),
/// `/redfish/v1/JsonSchemas` on iLO 5 and 6.
pub fn schemas_path(ilo: &IloSettings) -> &'static str {
    if ilo.legacy_links {
        SCHEMAS_ILO4
    } else {
        JSON_SCHEMAS
    }
}

/// A session's URI.
pub fn session_uri(ilo: &IloSettings, id: &str) -> String {
    uri(ilo, &format!("{SESSIONS}/{}", segment(id)))
}

/// The manager's URI.
pub fn manager_uri(ctx: &Ctx, ilo: &IloSettings) -> String {
    uri(ilo, &format!("{MANAGERS}/{}", segment(&ctx.settings.manager_id)))
}

/// iLO 4's NetworkService URI.
pub fn network_service_uri(ctx: &Ctx, ilo: &IloSettings) -> String {
    uri(ilo, &format!("{MANAGERS}/{}/NetworkService", segment(&ctx.settings.manager_id)))
}

fn link(uri: &str) -> Value {
    json!({ "@odata.id": uri })
}

fn href(uri: &str) -> Value {
    json!({ "href": uri })
}

/// A wire timestamp: UTC, whole seconds, `Z` (ilo-idrac.md 1.3 [C]).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `@odata.context` for an `@odata.type` such as `#Session.v1_0_0.Session`:
/// `/redfish/v1/$metadata#Session.Session` (iLO 4: `/redfish/v1/$metadata#Session`).
fn context(ilo: &IloSettings, odata_type: &str) -> String {
    let name = odata_type.rsplit('.').next().unwrap_or(odata_type).trim_start_matches('#');
    if ilo.legacy_links {
        format!("/redfish/v1/$metadata#{name}")
    } else {
        format!("/redfish/v1/$metadata#{name}.{name}")
    }
}

/// An Oem block's `@odata.context` and `@odata.type` (iLO 4's Oem blocks carry the
/// type only, and the legacy `Type`).
fn oem_block(ilo: &IloSettings, odata_type: &str) -> Map<String, Value> {
    let mut block = Map::new();
    block.insert("@odata.type".to_string(), json!(odata_type));
    if ilo.legacy_links {
        block.insert("Type".to_string(), json!(legacy_type(odata_type)));
    } else {
        block.insert("@odata.context".to_string(), json!(context(ilo, odata_type)));
    }
    block
}

/// `#ServiceRoot.1.0.0.ServiceRoot` as iLO 4's legacy `Type`: `ServiceRoot.1.0.0`.
fn legacy_type(odata_type: &str) -> String {
    let trimmed = odata_type.trim_start_matches('#');
    match trimmed.rsplit_once('.') {
        Some((head, _)) => head.to_string(),
        None => trimmed.to_string(),
    }
}

fn oem(ilo: &IloSettings, block: Map<String, Value>) -> Value {
    let mut oem = Map::new();
    oem.insert(ilo.oem.clone(), Value::Object(block));
    Value::Object(oem)
}

/// A resource's weak ETag: FNV-1a over its serialised body, as eight upper-case hex digits.
pub fn etag(body: &Value) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let hash =
        bytes.iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193));
    format!("W/\"{hash:08X}\"")
}

/// [`resource`]'s body, its `@odata.etag` added, rendered once to be served many times.
pub fn rendered_resource(mut body: Value) -> Prerendered {
    let tag = etag(&body);
    body["@odata.etag"] = json!(tag);
    let mut rendered = Prerendered::of(&body);
    rendered.etag = HeaderValue::from_str(&tag).ok();
    rendered
}

/// A GET answer: the body with its `@odata.etag`, and the same `ETag` header.
pub fn resource(allow: &'static str, mut body: Value) -> Response {
    let tag = etag(&body);
    body["@odata.etag"] = json!(tag);
    let mut response = json_response(StatusCode::OK, allow, &body);
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The absolute URL of `path` on this device, as iLO writes `Location`: the scheme and
/// host the client addressed (ilo-idrac.md 1.2 [C]: `https://172.16.50.99/redfish/...`).
pub fn absolute(
    ilo: &IloSettings,
    listener: ListenerScheme,
    headers: &HeaderMap,
    path: &str,
) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = match ilo.location_scheme {
        LocationScheme::Https => "https",
        LocationScheme::Http => "http",
        LocationScheme::Auto => listener.as_str(),
    };
    format!("{scheme}://{host}{path}")
}

// ----- trailing slashes -----

/// Whether an `@odata.id` (or `Location`) is a `/redfish` path iLO would end in `/`.
fn wants_slash(link: &str) -> bool {
    let path = match link.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => link,
    };
    path.starts_with("/redfish/") && !path.ends_with('/') && !path.contains(['#', '?'])
}

/// Appends `/` to every `@odata.id` under `/redfish` in `value`; whether any changed.
fn slash_links(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(link) if key == "@odata.id" && wants_slash(link) => {
                        link.push('/');
                        changed = true;
                    }
                    _ => changed |= slash_links(item),
                }
            }
            changed
        }
        Value::Array(items) => {
            items.iter_mut().fold(false, |changed, item| slash_links(item) | changed)
        }
        _ => false,
    }
}

/// iLO writes every `@odata.id` with a trailing `/` (ilo-idrac.md 1.1 [C]): the answers
/// of the standard personality's resources (accounts, roles, the Managers collection)
/// get theirs here, in the envelope's last word, and so does a relative `Location`, when
/// the profile says so (`json`: whether the answer is JSON). The same body always comes
/// out the same, so it is reworked once (`memo`). Every answer the emulator makes is
/// complete when its handler returns, so this waits for nothing; a body still to come
/// would be reworked as it is read, and sent without a `Content-Length` (its length is
/// not known until then).
pub(super) fn with_trailing_slashes(memo: &Arc<BodyMemo>, response: &mut Response, json: bool) {
    let headers = response.headers_mut();
    if let Some(location) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
        if wants_slash(location) {
            if let Ok(value) = HeaderValue::from_str(&format!("{location}/")) {
                headers.insert(header::LOCATION, value);
            }
        }
    }
    if !json {
        return;
    }
    let body = std::mem::take(response.body_mut());
    let bytes = match crate::vendors::http::ready_body(body) {
        ReadyBody::Whole(bytes) => bytes,
        ReadyBody::Failed => return,
        ReadyBody::Later(body) => {
            response.headers_mut().remove(header::CONTENT_LENGTH);
            let memo = memo.clone();
            let slashed = async move {
                let bytes = crate::vendors::http::whole_body(body).await.unwrap_or_default();
                let slashed = memo.changed(&bytes, slash_body).unwrap_or(bytes);
                Ok::<_, std::convert::Infallible>(slashed)
            };
            *response.body_mut() =
                axum::body::Body::from_stream(futures_util::stream::once(slashed));
            return;
        }
    };
    let body = match memo.changed(&bytes, slash_body) {
        Some(slashed) => {
            response.headers_mut().remove(header::CONTENT_LENGTH);
            slashed
        }
        None => bytes,
    };
    *response.body_mut() = axum::body::Body::from(body);
}

/// `body` with a `/` after every `@odata.id` under `/redfish` that lacks one; `None` when
/// none does (or the body is not JSON).
fn slash_body(body: &Bytes) -> Option<Bytes> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    if !slash_links(&mut value) {
        return None;
    }
    serde_json::to_vec(&value).ok().map(Bytes::from)
}

// ----- the service root -----

/// The service root (ilo-idrac.md 1.1 [C]: iLO 5 v2.55; iLO 4 v2.54 with `legacy_links`).
pub fn service_root(ctx: &Ctx, ilo: &IloSettings, now: Now) -> Value {
    let name = ctx.device.name();
    let mut sessions = json!({
        "CertCommonName": name,
        "KerberosEnabled": false,
        "LDAPAuthLicenced": true,
        "LDAPEnabled": false,
        "LocalLoginEnabled": true,
        "LoginFailureDelay": ilo.login_failure_delay_secs,
        "LoginHint": {
            "Hint": "POST to /Sessions to login using the following JSON object:",
            "HintPOSTData": { "Password": "password", "UserName": "username" }
        },
        "SecurityOverride": false,
        "ServerName": name,
    });
    let manager = json!({
        "DefaultLanguage": "en",
        "FQDN": null,
        "HostName": name,
        "Languages": [{
            "Language": "en",
            "TranslationName": "English",
            "Version": ilo.firmware_version,
        }],
        "ManagerFirmwareVersion": ilo.firmware_version,
        "ManagerType": ilo.manager_type,
    });
    let mut ext = oem_block(ilo, &ilo.service_ext_odata_type);
    ext.insert("Manager".to_string(), json!([manager]));
    let mut body = json!({
        "@odata.context": context(ilo, &ilo.service_root_odata_type),
        "@odata.id": uri(ilo, ROOT),
        "@odata.type": ilo.service_root_odata_type,
        "AccountService": link(&uri(ilo, ACCOUNT_SERVICE)),
        "JsonSchemas": link(&uri(ilo, schemas_path(ilo))),
        "Managers": link(&uri(ilo, MANAGERS)),
        "Name": ilo.service_root_name,
        "Registries": link(&uri(ilo, REGISTRIES)),
        "RedfishVersion": ctx.settings.redfish_version,
        "SessionService": link(&uri(ilo, SESSION_SERVICE)),
        "UUID": service_uuid(name),
    });
    if ilo.legacy_links {
        body["Id"] = json!("v1");
        body["ServiceVersion"] = json!("1.0.0");
        body["Time"] = json!(timestamp(now.utc));
        body["Type"] = json!(legacy_type(&ilo.service_root_odata_type));
        body["links"] = json!({
            "AccountService": href(&uri(ilo, ACCOUNT_SERVICE)),
            "Managers": href(&uri(ilo, MANAGERS)),
            "Registries": href(&uri(ilo, REGISTRIES)),
            "Schemas": href(&uri(ilo, SCHEMAS_ILO4)),
            "SessionService": href(&uri(ilo, SESSION_SERVICE)),
            "Sessions": href(&uri(ilo, SESSIONS)),
            "self": href(&uri(ilo, ROOT)),
        });
    } else {
        sessions["CertificateLoginEnabled"] = json!(false);
        ext.insert("Time".to_string(), json!(timestamp(now.utc)));
        body["Id"] = json!("RootService");
        body["Links"] = json!({ "Sessions": link(&uri(ilo, SESSIONS)) });
        body["Vendor"] = json!("HPE");
        if !ilo.product.is_empty() {
            body["Product"] = json!(ilo.product);
        }
    }
    ext.insert("Sessions".to_string(), sessions);
    body["Oem"] = oem(ilo, ext);
    body
}

// ----- schemas and registries -----

/// The schema type name of an `@odata.type` (`#HpeiLOSession.v2_1_0.HpeiLOSession` gives
/// `HpeiLOSession`).
fn type_name(odata_type: &str) -> &str {
    odata_type.rsplit('.').next().unwrap_or(odata_type).trim_start_matches('#')
}

/// The schemas of the resources this device serves, one `JsonSchemaFile` each, sorted.
pub fn schema_names(ilo: &IloSettings) -> Vec<String> {
    let mut names: Vec<String> = [
        ilo.service_root_odata_type.as_str(),
        ilo.service_ext_odata_type.as_str(),
        ilo.session_service_odata_type.as_str(),
        ilo.session_odata_type.as_str(),
        ilo.oem_session_odata_type.as_str(),
        ilo.sessions_summary_odata_type.as_str(),
        ilo.manager_odata_type.as_str(),
        "#SessionCollection.SessionCollection",
        "#AccountService.AccountService",
        "#ManagerAccount.ManagerAccount",
        "#ManagerAccountCollection.ManagerAccountCollection",
        "#Role.Role",
        "#RoleCollection.RoleCollection",
        "#ManagerCollection.ManagerCollection",
        "#JsonSchemaFile.JsonSchemaFile",
        "#JsonSchemaFileCollection.JsonSchemaFileCollection",
        "#MessageRegistryFile.MessageRegistryFile",
        "#MessageRegistryFileCollection.MessageRegistryFileCollection",
    ]
    .iter()
    .map(|t| type_name(t).to_string())
    .collect();
    if ilo.idle_timeout_property == IdleTimeoutProperty::NetworkService {
        names.push(type_name(&ilo.network_service_odata_type).to_string());
    }
    names.sort();
    names.dedup();
    names
}

/// `@odata.type` of a schema or registry file: `v1_0_4` (HPE's iLO 6 definitions), and
/// iLO 4's Redfish 1.0 spelling `#X.1.0.0.X` (as its v2.54 root writes its types).
fn file_type(ilo: &IloSettings, name: &str) -> String {
    if ilo.legacy_links {
        format!("#{name}.1.0.0.{name}")
    } else {
        format!("#{name}.v1_0_4.{name}")
    }
}

/// Adds iLO 4's legacy `Type` next to `@odata.type`.
fn legacy_typed(ilo: &IloSettings, mut body: Value) -> Value {
    if ilo.legacy_links {
        if let Some(t) = body["@odata.type"].as_str().map(legacy_type) {
            body["Type"] = json!(t);
        }
    }
    body
}

/// A collection of `members` (each a full document): links only, or the documents
/// themselves when the request asked for `$expand=.` (the iLO 5 root advertises
/// `ProtocolFeaturesSupported.ExpandQuery` with one level, and HPE's library reads these
/// two collections with `?$expand=.`).
fn file_collection(
    ilo: &IloSettings,
    path: &str,
    odata_type: &str,
    description: &str,
    name: &str,
    members: Vec<Value>,
    expand: bool,
) -> Value {
    let members: Vec<Value> = if expand {
        members
    } else {
        members.iter().map(|m| json!({ "@odata.id": m["@odata.id"] })).collect()
    };
    legacy_typed(
        ilo,
        json!({
            "@odata.context": context(ilo, odata_type),
            "@odata.id": uri(ilo, path),
            "@odata.type": odata_type,
            "Description": description,
            "Members": members,
            "Members@odata.count": members.len(),
            "Name": name,
        }),
    )
}

/// One `JsonSchemaFile` (ilo-idrac.md 1.1: the root links `JsonSchemas`; the document's
/// properties are those of HPE's iLO 6 JsonSchemaFile.v1_0_4 resource definition, and the
/// schema store URIs `/redfish/v1/SchemaStore/en/<Type>.json/` those of HPE's iLOrest
/// debug log of an iLO 5; the texts are assumed).
pub fn json_schema_file(ilo: &IloSettings, name: &str) -> Value {
    let odata_type = file_type(ilo, "JsonSchemaFile");
    let odata_type = odata_type.as_str();
    legacy_typed(
        ilo,
        json!({
            "@odata.context": context(ilo, odata_type),
            "@odata.id": uri(ilo, &format!("{}/{}", schemas_path(ilo), segment(name))),
            "@odata.type": odata_type,
            "Description": format!("{name} Schema File Location"),
            "Id": name,
            "Languages": ["en"],
            "Location": [{
                "Language": "en",
                "Uri": uri(ilo, &format!("/redfish/v1/SchemaStore/en/{}.json", segment(name))),
            }],
            "Name": format!("{name} Schema File"),
            "Schema": format!("#{name}.{name}"),
        }),
    )
}

/// The JSON schema collection: one file per schema of [`schema_names`].
pub fn json_schema_collection(ilo: &IloSettings, expand: bool) -> Value {
    let members = schema_names(ilo).iter().map(|n| json_schema_file(ilo, n)).collect();
    let odata_type = "#JsonSchemaFileCollection.JsonSchemaFileCollection";
    let path = schemas_path(ilo);
    file_collection(
        ilo,
        path,
        odata_type,
        "Schema Repository",
        "Schema File Repository",
        members,
        expand,
    )
}

/// The registries this device's messages come from: `(Id, Registry)` of `Base` (the
/// profile's Base registry) and `iLO` (its iLO registry), with the patch version `.0`.
pub fn registries(ctx: &Ctx, ilo: &IloSettings) -> Vec<(&'static str, String)> {
    vec![("Base", format!("{}.0", ctx.registry())), ("iLO", format!("{}.0", ilo.ilo_registry))]
}

/// One `MessageRegistryFile` (ilo-idrac.md 1.1: the root links `Registries`; shape
/// captured on iLO 5 v2.55, ISERVER UriRegistries.md).
pub fn registry_file(ilo: &IloSettings, id: &str, registry: &str) -> Value {
    let odata_type = file_type(ilo, "MessageRegistryFile");
    let odata_type = odata_type.as_str();
    legacy_typed(
        ilo,
        json!({
            "@odata.context": context(ilo, odata_type),
            "@odata.id": uri(ilo, &format!("{REGISTRIES}/{}", segment(id))),
            "@odata.type": odata_type,
            "Description": format!("Registry Definition File for {id}"),
            "Id": id,
            "Languages": ["en"],
            "Location": [{
                "Language": "en",
                "Uri": uri(ilo, &format!("/redfish/v1/RegistryStore/registries/en/{}.json", segment(id))),
            }],
            "Name": format!("{id} Message Registry File"),
            "Registry": registry,
        }),
    )
}

/// The registry collection (captured on iLO 5 v2.55: Description "Registry Repository",
/// Name "Registry File Repository"), with the registries of [`registries`].
pub fn registry_collection(ctx: &Ctx, ilo: &IloSettings, expand: bool) -> Value {
    let members = registries(ctx, ilo).iter().map(|(id, r)| registry_file(ilo, id, r)).collect();
    let odata_type = "#MessageRegistryFileCollection.MessageRegistryFileCollection";
    let (description, name) = ("Registry Repository", "Registry File Repository");
    file_collection(ilo, REGISTRIES, odata_type, description, name, members, expand)
}

// ----- SessionService -----

/// The idle timeout of web and REST sessions, in seconds (0 = infinite).
pub fn idle_timeout_secs(ctx: &Ctx) -> u64 {
    ctx.device.store.with_policy(|p| p.idle_timeout_for(super::REDFISH).map_or(0, |d| d.as_secs()))
}

/// The idle timeout as a minutes property shows it.
pub fn idle_minutes(ctx: &Ctx, ilo: &IloSettings) -> Value {
    match (idle_timeout_secs(ctx), ilo.infinite_minutes) {
        (0, InfiniteMinutes::Null) => Value::Null,
        (0, InfiniteMinutes::Zero) => json!(0),
        (secs, _) => json!(secs / 60),
    }
}

/// The SessionService (ilo-idrac.md 1.1 [C]: iLO 5 v2.55).
pub fn session_service(ctx: &Ctx, ilo: &IloSettings) -> Value {
    let mut body = json!({
        "@odata.context": context(ilo, &ilo.session_service_odata_type),
        "@odata.id": uri(ilo, SESSION_SERVICE),
        "@odata.type": ilo.session_service_odata_type,
        "Description": "Session Service",
        "Id": "SessionService",
        "Name": "Session Service",
        "ServiceEnabled": true,
        "Sessions": link(&uri(ilo, SESSIONS)),
        "Status": { "Health": "OK", "State": "Enabled" },
    });
    if ilo.session_service_shows_timeout {
        body["SessionTimeout"] = json!(idle_timeout_secs(ctx));
    }
    body
}

// ----- sessions -----

/// Whether a role holds an iLO privilege (ilo-idrac.md 1.3 shows an administrator's
/// block; the operator and read-only mappings are assumed from iLO's predefined roles).
fn role_has(role: &str, privilege: &str) -> bool {
    match role {
        "Administrator" => true,
        "Operator" => {
            !matches!(privilege, "UserConfigPriv" | "iLOConfigPriv" | "SystemRecoveryConfigPriv")
        }
        _ => privilege == "LoginPriv",
    }
}

/// A session member (ilo-idrac.md 1.3 [C][P]). `viewer` is the id of the requester's own
/// session: only that one shows `MySession: true` and `Privileges`.
pub fn session(ctx: &Ctx, ilo: &IloSettings, session: &Session, viewer: &str, now: Now) -> Value {
    let mine = session.id == viewer;
    let mut block = oem_block(ilo, &ilo.oem_session_odata_type);
    block.insert("AccessTime".to_string(), json!(timestamp(session.last_used_at)));
    block.insert("LoginTime".to_string(), json!(timestamp(session.created_at)));
    block.insert("MySession".to_string(), json!(mine));
    if mine {
        let role = ctx
            .device
            .store
            .account(&session.user)
            .map_or_else(|| session.role.as_str().to_owned(), |a| a.role);
        let privileges: Map<String, Value> =
            ilo.privileges.iter().map(|p| (p.clone(), json!(role_has(&role, p)))).collect();
        block.insert("Privileges".to_string(), Value::Object(privileges));
    }
    if let Some(expires) = session.idle_expires_at(now) {
        block.insert("UserExpires".to_string(), json!(timestamp(expires)));
    }
    block.insert("UserIP".to_string(), json!(session.client.addr.clone().unwrap_or_default()));
    block.insert("UserTag".to_string(), json!(ilo.user_tag(&session.session_type)));
    block.insert("UserType".to_string(), json!(ilo.user_type));
    json!({
        "@odata.context": context(ilo, &ilo.session_odata_type),
        "@odata.id": session_uri(ilo, &session.id),
        "@odata.type": ilo.session_odata_type,
        "Description": "Manager User Session",
        "Id": session.id,
        "Name": "User Session",
        "Oem": oem(ilo, block),
        "UserName": session.user,
    })
}

/// The Sessions collection (ilo-idrac.md 1.4 [C][P]): every session of every user, oldest
/// first, and `Links.MySession` to the requester's own.
pub fn session_collection(ilo: &IloSettings, sessions: &[Session], viewer: &str) -> Value {
    let members: Vec<Value> = sessions.iter().map(|s| link(&session_uri(ilo, &s.id))).collect();
    let mut block = oem_block(ilo, &ilo.sessions_summary_odata_type);
    block.insert("Links".to_string(), json!({ "MySession": link(&session_uri(ilo, viewer)) }));
    json!({
        "@odata.context": context(ilo, "#SessionCollection.SessionCollection"),
        "@odata.id": uri(ilo, SESSIONS),
        "@odata.type": "#SessionCollection.SessionCollection",
        "Description": "Manager User Sessions",
        "Name": "Sessions",
        "Oem": oem(ilo, block),
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

// ----- the manager -----

/// The manager `/redfish/v1/Managers/1/` with the per-service maxima of ilo-idrac.md 1.9
/// [C] and, on iLO 5 and 6, `Oem.Hpe.IdleConnectionTimeoutMinutes` (1.8 [P][C]).
pub fn manager(ctx: &Ctx, ilo: &IloSettings) -> Value {
    let id = &ctx.settings.manager_id;
    let version = format!("{} v{}", ilo.manager_type, ilo.firmware_version);
    let mut block = Map::new();
    block.insert("Firmware".to_string(), json!({ "Current": { "VersionString": version } }));
    let mut body = json!({
        "@odata.context": context(ilo, &ilo.manager_odata_type),
        "@odata.id": manager_uri(ctx, ilo),
        "@odata.type": ilo.manager_odata_type,
        "Actions": {
            "#Manager.Reset": {
                "target": uri(ilo, &format!("{MANAGERS}/{}/Actions/Manager.Reset", segment(id))),
            }
        },
        "FirmwareVersion": version,
        "Id": id,
        "ManagerType": "BMC",
        "Name": "Manager",
        "Status": { "Health": "OK", "State": "Enabled" },
        "UUID": service_uuid(ctx.device.name()),
    });
    match ilo.idle_timeout_property {
        IdleTimeoutProperty::ManagerOem => {
            block.insert("IdleConnectionTimeoutMinutes".to_string(), idle_minutes(ctx, ilo));
        }
        IdleTimeoutProperty::NetworkService => {
            body["NetworkProtocol"] = link(&network_service_uri(ctx, ilo));
        }
    }
    body["Oem"] = oem(ilo, block);
    let services = [
        ("CommandShell", ilo.command_shell_max_sessions, json!(["SSH", "Oem"])),
        ("GraphicalConsole", ilo.graphical_console_max_sessions, json!(["KVMIP"])),
        ("SerialConsole", ilo.serial_console_max_sessions, json!(["SSH", "IPMI", "Oem"])),
    ];
    for (name, max, types) in services {
        if max > 0 {
            body[name] = json!({ "ConnectTypesSupported": types, "MaxConcurrentSessions": max });
        }
    }
    body
}

/// iLO 4's NetworkService with `SessionTimeoutMinutes` (ilo-idrac.md 1.8 [P]).
pub fn network_service(ctx: &Ctx, ilo: &IloSettings) -> Value {
    let minutes = match idle_timeout_secs(ctx) {
        0 => json!(0),
        secs => json!(secs / 60),
    };
    let mut body = json!({
        "@odata.context": context(ilo, &ilo.network_service_odata_type),
        "@odata.id": network_service_uri(ctx, ilo),
        "@odata.type": ilo.network_service_odata_type,
        "HTTP": { "Port": 80, "ProtocolEnabled": true },
        "HTTPS": { "Port": 443, "ProtocolEnabled": true },
        "Id": "NetworkService",
        "Name": "Manager Network Service",
        "SessionTimeoutMinutes": minutes,
        "Status": { "Health": "OK", "State": "Enabled" },
    });
    if ilo.legacy_links {
        body["Type"] = json!(legacy_type(&ilo.network_service_odata_type));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Links get their trailing `/` whether the answer's body is one piece or comes in
    /// several (ilo-idrac.md 1.1 [C]); a body with nothing to change keeps its length.
    #[tokio::test]
    async fn links_are_slashed_in_a_body_of_one_piece_or_several() {
        let memo = Arc::new(BodyMemo::default());
        // An answer as a handler makes it: JSON, its length declared.
        let answer = |body: axum::body::Body, length: usize| {
            let mut response = Response::new(body);
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            response
        };
        let slashed_answer = |mut response: Response| {
            with_trailing_slashes(&memo, &mut response, true);
            response
        };
        let read = |response: Response| async move {
            let length = response.headers().get(header::CONTENT_LENGTH).cloned();
            let body = crate::vendors::http::whole_body(response.into_body()).await.unwrap();
            (body, length)
        };
        let sent = r#"{"@odata.id":"/redfish/v1/Systems"}"#;
        let slashed = r#"{"@odata.id":"/redfish/v1/Systems/"}"#;
        let one = axum::body::Body::from(sent);
        let one = slashed_answer(answer(one, sent.len()));
        assert_eq!(read(one).await, (Bytes::from(slashed), None));
        let pieces = [&sent[..10], &sent[10..]].map(Ok::<_, std::convert::Infallible>);
        let several = axum::body::Body::from_stream(futures_util::stream::iter(pieces));
        let several = slashed_answer(answer(several, sent.len()));
        assert_eq!(read(several).await, (Bytes::from(slashed), None));
        let done = axum::body::Body::from(slashed);
        let done = slashed_answer(answer(done, slashed.len()));
        assert_eq!(
            read(done).await,
            (Bytes::from(slashed), Some(HeaderValue::from(slashed.len())))
        );
    }

    /// iLO writes UTC timestamps to the second with a `Z` (ilo-idrac.md 1.3 [C]).
    #[test]
    fn timestamps_are_utc_seconds_with_z() {
        let at = DateTime::from_timestamp(0x5b6d_a206, 0).expect("valid");
        assert_eq!(timestamp(at), "2018-08-10T14:32:38Z");
    }

    /// `@odata.context` is derived from `@odata.type` the way the captures show it.
    #[test]
    fn contexts_follow_types() {
        let ilo = IloSettings::default();
        assert_eq!(
            context(&ilo, "#Session.v1_0_0.Session"),
            "/redfish/v1/$metadata#Session.Session"
        );
        assert_eq!(
            context(&ilo, "#HpeiLOSessionsSummary.v2_0_0.HpeiLOSessionsSummary"),
            "/redfish/v1/$metadata#HpeiLOSessionsSummary.HpeiLOSessionsSummary"
        );
        assert_eq!(legacy_type("#ServiceRoot.1.0.0.ServiceRoot"), "ServiceRoot.1.0.0");
    }

    /// ETags are weak, eight upper-case hex digits (ilo-idrac.md 1.2 [C]: `W/"02C2D1BB"`).
    #[test]
    fn etags_have_ilo_shape() {
        let tag = etag(&json!({"a": 1}));
        assert!(tag.starts_with("W/\"") && tag.ends_with('"') && tag.len() == 12, "{tag}");
        assert!(tag[3..11].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }

    /// `Location` is absolute, with the listener's scheme whatever the port (a client
    /// that follows it must reach the same listener) and the host the client sent.
    #[test]
    fn location_scheme_follows_listener() {
        let ilo = IloSettings::default();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1"));
        assert_eq!(absolute(&ilo, ListenerScheme::Https, &h, "/x/"), "https://127.0.0.1/x/");
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8443"));
        assert_eq!(absolute(&ilo, ListenerScheme::Https, &h, "/x/"), "https://127.0.0.1:8443/x/");
        h.insert(header::HOST, HeaderValue::from_static("[::1]:8080"));
        assert_eq!(absolute(&ilo, ListenerScheme::Http, &h, "/x/"), "http://[::1]:8080/x/");
        let forced =
            IloSettings { location_scheme: LocationScheme::Https, ..IloSettings::default() };
        assert_eq!(absolute(&forced, ListenerScheme::Http, &h, "/x/"), "https://[::1]:8080/x/");
    }
}
