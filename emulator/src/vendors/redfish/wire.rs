//! Request bodies in, resource bodies out.
//!
//! Request side: [`JsonObject`] reads a capped, JSON-typed body into an object and answers
//! 413/415/400 in the Redfish envelope; [`Props`] takes properties out of it and collects
//! every problem (missing, wrong type, unknown, read-only) into one 400.
//! Response side: one function per resource, and the URIs and `@odata.type`s they use.

use std::borrow::Cow;
use std::future::Future;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::future::{ready, Either};
use futures_util::FutureExt as _;
use serde_json::{json, Map, Value};

use super::auth::{Privilege, ROLES};
use super::errors::{base, Message, RedfishError};
use super::routes::Ctx;
use super::SESSION_TYPE;
use crate::clock::Now;
use crate::session::{Account, Session};
use crate::vendors::http::{BodyRefused, Finished, KeptAnswer, Rendered};

/// The service root.
pub const ROOT: &str = "/redfish/v1";
/// The SessionService.
pub const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
/// The Sessions collection (also `Links.Sessions` of the service root).
pub const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
/// The AccountService.
pub const ACCOUNT_SERVICE: &str = "/redfish/v1/AccountService";
/// The Accounts collection.
pub const ACCOUNTS: &str = "/redfish/v1/AccountService/Accounts";
/// The Roles collection.
pub const ROLES_URI: &str = "/redfish/v1/AccountService/Roles";
/// The Managers collection.
pub const MANAGERS: &str = "/redfish/v1/Managers";

/// `@odata.type` of each resource this service serves.
pub mod types {
    /// The service root.
    pub const SERVICE_ROOT: &str = "#ServiceRoot.v1_15_0.ServiceRoot";
    /// SessionService without a maximum lifetime.
    pub const SESSION_SERVICE: &str = "#SessionService.v1_1_0.SessionService";
    /// SessionService with `AbsoluteSessionTimeout` (schema release 2024.4).
    pub const SESSION_SERVICE_ABSOLUTE: &str = "#SessionService.v1_2_0.SessionService";
    /// The Sessions collection.
    pub const SESSION_COLLECTION: &str = "#SessionCollection.SessionCollection";
    /// A session without `ExpirationTime`.
    pub const SESSION: &str = "#Session.v1_7_0.Session";
    /// A session with `ExpirationTime` (schema release 2024.4).
    pub const SESSION_EXPIRING: &str = "#Session.v1_8_0.Session";
    /// The AccountService.
    pub const ACCOUNT_SERVICE: &str = "#AccountService.v1_15_0.AccountService";
    /// The Accounts collection.
    pub const ACCOUNT_COLLECTION: &str = "#ManagerAccountCollection.ManagerAccountCollection";
    /// An account.
    pub const ACCOUNT: &str = "#ManagerAccount.v1_7_0.ManagerAccount";
    /// The Roles collection.
    pub const ROLE_COLLECTION: &str = "#RoleCollection.RoleCollection";
    /// A role.
    pub const ROLE: &str = "#Role.v1_3_0.Role";
    /// The Managers collection.
    pub const MANAGER_COLLECTION: &str = "#ManagerCollection.ManagerCollection";
    /// A manager.
    pub const MANAGER: &str = "#Manager.v1_16_0.Manager";
}

/// `Allow` values, in the order the router registers the methods (so a 405's `Allow`
/// matches the one on GET).
pub mod allow {
    /// Read-only resources.
    pub const GET: &str = "GET,HEAD";
    /// Readable and patchable.
    pub const GET_PATCH: &str = "GET,HEAD,PATCH";
    /// Collections that accept POST.
    pub const GET_POST: &str = "GET,HEAD,POST";
    /// Sessions.
    pub const GET_DELETE: &str = "GET,HEAD,DELETE";
    /// Accounts.
    pub const GET_PATCH_DELETE: &str = "GET,HEAD,PATCH,DELETE";
}

// ----- URIs -----

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    push_segment(&mut out, raw);
    out
}

/// Appends `raw` to `out`, percent-encoded as [`segment`] writes it (`%2F`, upper-case).
fn push_segment(out: &mut String, raw: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// `collection/segment`: a member's URI, written into room for all of it (a login writes
/// its session's twice).
fn member_uri(collection: &str, id: &str) -> String {
    let mut uri = String::with_capacity(collection.len() + 1 + id.len());
    uri.push_str(collection);
    uri.push('/');
    push_segment(&mut uri, id);
    uri
}

/// A session's URI.
pub fn session_uri(id: &str) -> String {
    member_uri(SESSIONS, id)
}

/// An account's URI: accounts are named by their user name.
pub fn account_uri(user: &str) -> String {
    member_uri(ACCOUNTS, user)
}

/// A role's URI.
pub fn role_uri(role: &str) -> String {
    member_uri(ROLES_URI, role)
}

/// The manager's URI.
pub fn manager_uri(id: &str) -> String {
    member_uri(MANAGERS, id)
}

/// Target of the manager's `#Manager.Reset` action.
pub fn manager_reset_uri(id: &str) -> String {
    format!("{}/Actions/Manager.Reset", manager_uri(id))
}

fn link(uri: &str) -> Value {
    json!({ "@odata.id": uri })
}

/// `at` as RFC 3339 to the second with a numeric offset (`2026-12-01T23:22:34+00:00`),
/// as chrono's `to_rfc3339_opts(SecondsFormat::Secs, false)` writes it: digit by digit
/// for a four-digit year (every login writes one or two), through chrono otherwise.
fn timestamp(at: DateTime<Utc>) -> String {
    use chrono::{Datelike as _, Timelike as _};
    let year = at.year();
    // chrono writes a leap second as :60, and a year past four digits with a sign.
    if !(0..=9999).contains(&year) || at.nanosecond() >= 1_000_000_000 {
        return at.to_rfc3339_opts(SecondsFormat::Secs, false);
    }
    let mut text = String::with_capacity(25);
    push_digits(&mut text, year as u32, 4);
    for (separator, n) in [('-', at.month()), ('-', at.day()), ('T', at.hour())] {
        text.push(separator);
        push_digits(&mut text, n, 2);
    }
    for n in [at.minute(), at.second()] {
        text.push(':');
        push_digits(&mut text, n, 2);
    }
    text.push_str("+00:00");
    text
}

/// `n`'s last `width` decimal digits, zeros in front.
fn push_digits(text: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        text.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

// ----- responses -----

/// The JSON schema an answer's body conforms to, named as DMTF publishes it: the
/// versioned namespace of its `@odata.type` (`Session.v1_7_0`), or the bare type for an
/// unversioned one (`SessionCollection`). JSON answers carry it as a response extension;
/// the last middleware turns it into `Link: <...>; rel=describedby` where the profile
/// asks for one (DSP0266 Link header). Shared, not copied: a document rendered once hands
/// its schema to every answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedBy(pub std::sync::Arc<str>);

impl DescribedBy {
    /// The schema of `body`, from its `@odata.type` (`#Namespace.Type`).
    pub fn of(body: &Value) -> Option<DescribedBy> {
        DescribedBy::of_type(body.get("@odata.type")?.as_str()?)
    }

    /// The schema an `@odata.type` (`#Namespace.Type`) names.
    pub fn of_type(odata_type: &str) -> Option<DescribedBy> {
        let (namespace, name) = odata_type.strip_prefix('#')?.rsplit_once('.')?;
        let unversioned = namespace == name;
        let schema = if unversioned { name } else { namespace };
        (!schema.is_empty()).then(|| DescribedBy(schema.into()))
    }

    /// The `Link` header value: `template` with `{schema}` replaced; `None` when the
    /// template is empty (the profile sends no `Link`).
    pub fn link(&self, template: &str) -> Option<HeaderValue> {
        if template.is_empty() {
            return None;
        }
        HeaderValue::from_str(&template.replace("{schema}", &self.0)).ok()
    }
}

/// Headers a Redfish-family answer can carry: Content-Type, Allow, ETag and Location
/// from the handler; OData-Version, Server, Cache-Control, Link and WWW-Authenticate from
/// [`super::routes::finish`]; a personality's own; Content-Length.
const HEADER_ROOM: usize = 12;

/// `headers` moved into a map with room for every header an answer can carry, for a head
/// kept and copied into answer after answer: a copy keeps the map's index table, so a
/// header added to a copy does not rehash it (its list of entries, made to its length,
/// would still grow). A kept head holds `Date`'s place
/// ([`crate::vendors::http::date_slot`]), so the answer path adds none.
pub fn roomy(headers: HeaderMap) -> HeaderMap {
    let mut roomy = HeaderMap::with_capacity(HEADER_ROOM);
    roomy.extend(headers);
    roomy
}

/// A response with room for every header the answer path adds, so its header map is
/// allocated once rather than grown twice (an empty map allocates on its first insert and
/// again past six headers). For documents and logins, which pass six; an error or an
/// empty answer rarely does, and is cheaper left to grow.
pub fn with_room(body: Body) -> Response {
    let mut response = Response::new(body);
    *response.headers_mut() = HeaderMap::with_capacity(HEADER_ROOM);
    response
}

/// A JSON answer, carrying its [`DescribedBy`].
pub fn json_body(status: StatusCode, body: &Value) -> Response {
    let json = serde_json::to_vec(body).unwrap_or_default();
    json_bytes(status, json.into(), DescribedBy::of(body))
}

/// A JSON answer already written, carrying `schema`.
pub fn json_bytes(
    status: StatusCode,
    json: axum::body::Bytes,
    schema: Option<DescribedBy>,
) -> Response {
    let mut response = with_room(Body::from(json));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(schema) = schema {
        response.extensions_mut().insert(schema);
    }
    response
}

/// A JSON body rendered once and served many times: its bytes, its [`DescribedBy`] (or,
/// once [`Prerendered::linked`], its `Link` header) and, where the personality tags
/// documents, its ETag.
#[derive(Clone, Debug)]
pub struct Prerendered {
    /// The JSON, and its `Content-Length`.
    body: Rendered,
    /// The schema its `@odata.type` names, for the last step to make its `Link` from.
    pub schema: Option<DescribedBy>,
    /// The `ETag` header, if the answer carries one.
    pub etag: Option<HeaderValue>,
    /// The `Link` header, made when the document was rendered.
    pub link: Option<HeaderValue>,
    /// Its answer as [`Prerendered::kept`] keeps it, made at its first answer (so the
    /// fields above are set before a document is first served), with the `Allow` it was
    /// made with.
    kept: std::sync::OnceLock<(Option<&'static str>, Option<KeptAnswer>)>,
}

impl Prerendered {
    /// `body` rendered (compact JSON, as [`json_body`] writes it).
    pub fn of(body: &Value) -> Prerendered {
        Prerendered::new(serde_json::to_vec(body).unwrap_or_default().into(), DescribedBy::of(body))
    }

    /// The JSON `body`, its `@odata.type` naming `schema`.
    pub fn new(body: axum::body::Bytes, schema: Option<DescribedBy>) -> Prerendered {
        Prerendered {
            body: Rendered::new(body),
            schema,
            etag: None,
            link: None,
            kept: std::sync::OnceLock::new(),
        }
    }

    /// With its `Link` header made now from its schema by `link` (the personality's
    /// template), so that serving it sets the header directly instead of handing the
    /// schema to the last step, which looks the header up per answer. For documents
    /// that only reads are answered with: the last step links nothing else.
    pub fn linked(mut self, link: impl FnOnce(&DescribedBy) -> Option<HeaderValue>) -> Self {
        self.link = self.schema.take().and_then(|schema| link(&schema));
        self
    }

    /// The answer, as [`json_response`] gives it for the same body (as [`json_body`]
    /// without `allow`), with the `Content-Length` the router would add.
    pub fn response(&self, status: StatusCode, allow: Option<&'static str>) -> Response {
        self.answer(status, self.headers(allow))
    }

    /// The 200 answer to a read of a document kept and answered again and again: the
    /// answer [`Prerendered::response`] gives, finished by `last` (the personality's last
    /// step), made at the document's first answer and copied after ([`KeptAnswer`]). The
    /// answer path adds only `Date`. Another `Allow` than the first answer's makes the
    /// answer anew. For a [`Prerendered::linked`] document: one that still carries its
    /// schema is answered as [`Prerendered::response`] does, for the last step to link.
    pub fn kept(&self, allow: Option<&'static str>, last: impl Fn(&mut Response)) -> Response {
        if self.schema.is_some() {
            return self.response(StatusCode::OK, allow);
        }
        let finished = || {
            let mut answer = self.response(StatusCode::OK, allow);
            last(&mut answer);
            answer
        };
        match self.kept.get_or_init(|| (allow, KeptAnswer::of(finished()))) {
            (first, Some(kept)) if *first == allow => kept.answer(),
            _ => Finished::mark(finished()),
        }
    }

    fn answer(&self, status: StatusCode, headers: HeaderMap) -> Response {
        let mut response = Response::new(Body::from(self.body.bytes().clone()));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        if let Some(schema) = &self.schema {
            response.extensions_mut().insert(schema.clone());
        }
        response
    }

    /// The answer's headers, with room for those the answer path adds ([`with_room`]).
    fn headers(&self, allow: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(HEADER_ROOM);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(allow) = allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(etag) = &self.etag {
            headers.insert(header::ETAG, etag.clone());
        }
        if let Some(link) = &self.link {
            headers.insert(header::LINK, link.clone());
        }
        // Last, where the router would have put it.
        headers.insert(header::CONTENT_LENGTH, self.body.length().clone());
        headers
    }
}

/// A JSON answer with an `Allow` header (every GET/HEAD answer carries one).
pub fn json_response(status: StatusCode, allow: &'static str, body: &Value) -> Response {
    let mut response = json_body(status, body);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// An answer without a body.
pub fn empty_response(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// A body that only carries messages (`@Message.ExtendedInfo`), e.g. for a 200 action.
pub fn messages_body(ctx: &Ctx, messages: &[Message]) -> Value {
    let info: Vec<Value> = messages.iter().map(|m| m.render(ctx.registry())).collect();
    json!({ "@Message.ExtendedInfo": info })
}

// ----- ETags -----

/// An account's ETag, derived from its version: `W/"<version>"`.
pub fn account_etag(account: &Account) -> String {
    format!("W/\"{}\"", account.version)
}

fn etag_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty())
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// Whether the `If-Match` header (if any) lets a change to a resource with `etag`
/// through. Tags compare on their opaque part, so `W/"3"` and `"3"` match.
pub fn if_match_passes(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_MATCH).iter().all(|value| {
        let Ok(value) = value.to_str() else { return false };
        etag_list(value).any(|t| t == "*" || opaque(t) == opaque(etag))
    })
}

/// Whether `If-None-Match` names `etag` (a GET may then answer 304).
pub fn if_none_match_hits(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.to_str().is_ok_and(|v| etag_list(v).any(|t| t == "*" || opaque(t) == opaque(etag)))
    })
}

// ----- resources -----

/// `GET /redfish`.
pub fn versions() -> Value {
    json!({ "v1": "/redfish/v1/" })
}

/// A stable UUID for the device, derived from its name.
pub fn service_uuid(name: &str) -> String {
    let hash = |seed: u64| {
        name.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    };
    let high = hash(0xcbf2_9ce4_8422_2325).to_be_bytes();
    let low = hash(0x8422_2325_cbf2_9ce4).to_be_bytes();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high);
    bytes[8..].copy_from_slice(&low);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// The service root.
pub fn service_root(ctx: &Ctx) -> Value {
    json!({
        "@odata.id": ROOT,
        "@odata.type": types::SERVICE_ROOT,
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": ctx.settings.redfish_version,
        "UUID": service_uuid(ctx.device.name()),
        "SessionService": link(SESSION_SERVICE),
        "AccountService": link(ACCOUNT_SERVICE),
        "Managers": link(MANAGERS),
        "Links": { "Sessions": link(SESSIONS) },
    })
}

/// The OData service document (`/redfish/v1/odata`).
pub fn odata_service_document() -> Value {
    let entry = |name: &str, url: &str| json!({ "name": name, "kind": "Singleton", "url": url });
    json!({
        "@odata.context": "/redfish/v1/$metadata",
        "value": [
            entry("Service", "/redfish/v1/"),
            entry("SessionService", SESSION_SERVICE),
            entry("Sessions", SESSIONS),
            entry("AccountService", ACCOUNT_SERVICE),
            entry("Managers", MANAGERS),
        ],
    })
}

/// The OData metadata document (`/redfish/v1/$metadata`): references to the DMTF schemas
/// served and the `Service` entity container.
pub fn metadata_xml() -> String {
    let namespaces = [
        ("ServiceRoot", "ServiceRoot.v1_15_0"),
        ("SessionService", "SessionService.v1_2_0"),
        ("SessionCollection", ""),
        ("Session", "Session.v1_8_0"),
        ("AccountService", "AccountService.v1_15_0"),
        ("ManagerAccountCollection", ""),
        ("ManagerAccount", "ManagerAccount.v1_7_0"),
        ("RoleCollection", ""),
        ("Role", "Role.v1_3_0"),
        ("ManagerCollection", ""),
        ("Manager", "Manager.v1_16_0"),
        ("Message", "Message.v1_1_1"),
    ];
    metadata_document("http://redfish.dmtf.org/schemas/v1/", &namespaces)
}

/// An OData metadata document (`$metadata`): one `edmx:Reference` per schema, at
/// `reference_base` + `{schema}_v1.xml`, including the schema's namespace and its
/// versioned namespace (when not empty), and the `Service` entity container.
pub fn metadata_document(reference_base: &str, schemas: &[(&str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n",
    );
    for (schema, versioned) in schemas {
        xml.push_str(&format!(
            "  <edmx:Reference Uri=\"{reference_base}{schema}_v1.xml\">\n    \
             <edmx:Include Namespace=\"{schema}\"/>\n"
        ));
        if !versioned.is_empty() {
            xml.push_str(&format!("    <edmx:Include Namespace=\"{versioned}\"/>\n"));
        }
        xml.push_str("  </edmx:Reference>\n");
    }
    xml.push_str(
        "  <edmx:DataServices>\n    \
         <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n      \
         <EntityContainer Name=\"Service\" Extends=\"ServiceRoot.v1_0_0.ServiceContainer\"/>\n    \
         </Schema>\n  \
         </edmx:DataServices>\n\
         </edmx:Edmx>\n",
    );
    xml
}

/// The idle timeout that `SessionTimeout` shows, in seconds (0 = none).
pub fn session_timeout_secs(ctx: &Ctx) -> u64 {
    ctx.device.store.with_policy(|p| p.idle_timeout_for(SESSION_TYPE).map_or(0, |d| d.as_secs()))
}

/// What the SessionService shows of the device: the idle timeout and the maximum
/// lifetime, in seconds (0: none).
pub fn session_service_state(ctx: &Ctx) -> crate::vendors::http::DocumentState {
    ctx.device.store.with_policy(|p| {
        let timeout = p.idle_timeout_for(SESSION_TYPE).map_or(0, |d| d.as_secs());
        (timeout, p.max_lifetime().map_or(0, |d| d.as_secs()))
    })
}

/// The SessionService. A profile with a maximum lifetime shows it as
/// `AbsoluteSessionTimeout` (schema release 2024.4).
pub fn session_service(ctx: &Ctx) -> Value {
    let max_lifetime = ctx.device.store.with_policy(|p| p.max_lifetime());
    let mut body = json!({
        "@odata.id": SESSION_SERVICE,
        "@odata.type": types::SESSION_SERVICE,
        "Id": "SessionService",
        "Name": "Session Service",
        "Description": "Session Service",
        "ServiceEnabled": true,
        "SessionTimeout": session_timeout_secs(ctx),
        "Status": { "State": "Enabled", "Health": "OK" },
        "Sessions": link(SESSIONS),
    });
    if let Some(lifetime) = max_lifetime {
        body["@odata.type"] = json!(types::SESSION_SERVICE_ABSOLUTE);
        body["AbsoluteSessionTimeout"] = json!(lifetime.as_secs());
        body["AbsoluteSessionTimeoutEnabled"] = json!(true);
    }
    body
}

/// The `SessionType` enumeration value for an engine session type.
pub fn session_type_name(session_type: &str) -> &'static str {
    match session_type {
        "redfish" | "redfish-basic" => "Redfish",
        "web" | "webui" | "gui" => "WebUI",
        "ssh" | "telnet" | "serial" | "cli" => "ManagerConsole",
        "ipmi" => "IPMI",
        "kvm" | "kvmip" => "KVMIP",
        "virtual-media" => "VirtualMedia",
        _ => "OEM",
    }
}

/// A session resource; never shows the token, and `Password` is null as the schema
/// requires. Written straight to JSON (a login answers with one every time), in the order
/// every other body here has: a [`Map`] keeps its keys sorted, so the fields are declared
/// sorted too. The derived `Serialize` is the reference; [`SessionBody::response`] writes
/// the same bytes by hand ([`SessionBody::write_json`]).
#[derive(serde::Serialize)]
pub struct SessionBody<'a> {
    /// Messages for the client (`PasswordChangeRequired` on a login that needs one).
    #[serde(rename = "@Message.ExtendedInfo", skip_serializing_if = "Option::is_none")]
    pub messages: Option<Value>,
    #[serde(rename = "@odata.id")]
    uri: String,
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    #[serde(rename = "ClientOriginIPAddress", skip_serializing_if = "Option::is_none")]
    client_addr: Option<&'a str>,
    #[serde(rename = "CreatedTime")]
    created: String,
    #[serde(rename = "Description")]
    description: &'static str,
    #[serde(rename = "ExpirationTime", skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    #[serde(rename = "Id")]
    id: &'a str,
    #[serde(rename = "Name")]
    name: &'static str,
    #[serde(rename = "Password")]
    password: (),
    #[serde(rename = "SessionType")]
    session_type: &'static str,
    #[serde(rename = "UserName")]
    user: &'a str,
}

impl SessionBody<'_> {
    /// The answer, as [`json_body`] (or [`json_response`] with `allow`) gives it.
    pub fn response(&self, status: StatusCode, allow: Option<&'static str>) -> Response {
        // Room for the whole body at once: a session's is 300-450 bytes.
        let mut body = Vec::with_capacity(512);
        self.write_json(&mut body);
        Prerendered::new(body.into(), DescribedBy::of_type(self.odata_type)).response(status, allow)
    }

    /// The bytes the derived `Serialize` writes, written by hand: serde_json escapes every
    /// key and value byte by byte, which was half of a login's answer. The keys and the
    /// fixed values need no escaping and are copied; a value from the session is escaped
    /// by serde_json itself when it holds a byte that needs it. A test holds the two equal.
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        if let Some(messages) = &self.messages {
            out.extend_from_slice(b"\"@Message.ExtendedInfo\":");
            // Writing into a vector cannot fail.
            let _ = serde_json::to_writer(&mut *out, messages);
            out.push(b',');
        }
        out.extend_from_slice(b"\"@odata.id\":");
        json_string(out, &self.uri);
        out.extend_from_slice(b",\"@odata.type\":");
        fixed_string(out, self.odata_type);
        if let Some(addr) = self.client_addr {
            out.extend_from_slice(b",\"ClientOriginIPAddress\":");
            json_string(out, addr);
        }
        out.extend_from_slice(b",\"CreatedTime\":");
        json_string(out, &self.created);
        out.extend_from_slice(b",\"Description\":");
        fixed_string(out, self.description);
        if let Some(expires) = &self.expires {
            out.extend_from_slice(b",\"ExpirationTime\":");
            json_string(out, expires);
        }
        out.extend_from_slice(b",\"Id\":");
        json_string(out, self.id);
        out.extend_from_slice(b",\"Name\":");
        fixed_string(out, self.name);
        out.extend_from_slice(b",\"Password\":null,\"SessionType\":");
        fixed_string(out, self.session_type);
        out.extend_from_slice(b",\"UserName\":");
        json_string(out, self.user);
        out.push(b'}');
    }
}

/// A fixed text of the code's own (a type, a name) as a JSON string: none holds a byte
/// that JSON escapes, so it is copied without looking.
fn fixed_string(out: &mut Vec<u8>, text: &'static str) {
    debug_assert!(!needs_escape(text), "{text:?}");
    quoted(out, text);
}

/// `text` between quotes, as it is: for a text with nothing JSON escapes.
fn quoted(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Whether serde_json escapes something in `text` (a quote, a backslash, a control
/// character); it writes every other character as it is, DEL and non-ASCII included.
fn needs_escape(text: &str) -> bool {
    // Every byte is looked at, without stopping at the first found: a loop with no exit
    // is one the compiler checks sixteen bytes at a time.
    text.bytes().fold(false, |found, b| found | (b < 0x20) | (b == b'"') | (b == b'\\'))
}

/// `text` as a JSON string, as serde_json writes it: copied as it is unless it holds a
/// byte serde_json escapes (a quote, a backslash, a control character), which serde_json
/// then writes itself.
fn json_string(out: &mut Vec<u8>, text: &str) {
    if !needs_escape(text) {
        quoted(out, text);
    } else {
        // Writing into a vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// The resource of `session` at `now`.
pub fn session(session: &Session, now: Now) -> SessionBody<'_> {
    let expires = session.hard_expires_at(now);
    SessionBody {
        messages: None,
        uri: session_uri(&session.id),
        odata_type: if expires.is_some() { types::SESSION_EXPIRING } else { types::SESSION },
        client_addr: session.client.addr.as_deref(),
        created: timestamp(session.created_at),
        description: "Manager User Session",
        expires: expires.map(timestamp),
        id: &session.id,
        name: "User Session",
        password: (),
        session_type: session_type_name(&session.session_type),
        user: &session.user,
    }
}

fn collection(uri: &str, odata_type: &str, name: &str, members: Vec<String>) -> Value {
    let members: Vec<Value> = members.iter().map(|m| link(m)).collect();
    json!({
        "@odata.id": uri,
        "@odata.type": odata_type,
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

/// The Sessions collection.
pub fn session_collection(sessions: &[Session]) -> Value {
    let members = sessions.iter().map(|s| session_uri(&s.id)).collect();
    collection(SESSIONS, types::SESSION_COLLECTION, "Session Collection", members)
}

/// The AccountService.
pub fn account_service() -> Value {
    json!({
        "@odata.id": ACCOUNT_SERVICE,
        "@odata.type": types::ACCOUNT_SERVICE,
        "Id": "AccountService",
        "Name": "Account Service",
        "Description": "Account Service",
        "ServiceEnabled": true,
        "Status": { "State": "Enabled", "Health": "OK" },
        "HTTPBasicAuth": "Enabled",
        "LocalAccountAuth": "Enabled",
        "Accounts": link(ACCOUNTS),
        "Roles": link(ROLES_URI),
    })
}

/// The Accounts collection, listing these accounts.
pub fn account_collection(users: &[String]) -> Value {
    let members = users.iter().map(|u| account_uri(u)).collect();
    collection(ACCOUNTS, types::ACCOUNT_COLLECTION, "Accounts Collection", members)
}

/// An account; `Password` is null and `@odata.etag` matches the `ETag` header.
pub fn account(account: &Account) -> Value {
    json!({
        "@odata.id": account_uri(&account.user),
        "@odata.type": types::ACCOUNT,
        "@odata.etag": account_etag(account),
        "Id": account.user,
        "Name": "User Account",
        "Description": "User Account",
        "UserName": account.user,
        "Password": null,
        "RoleId": account.role,
        "Enabled": account.enabled,
        "Locked": false,
        "PasswordChangeRequired": account.password_change_required,
        "AccountTypes": ["Redfish"],
        "Links": { "Role": link(&role_uri(&account.role)) },
    })
}

/// The Roles collection.
pub fn role_collection() -> Value {
    let members = ROLES.iter().map(|(name, _)| role_uri(name)).collect();
    collection(ROLES_URI, types::ROLE_COLLECTION, "Roles Collection", members)
}

/// A standard role with its fixed privileges, or `None` when there is no such role.
pub fn role(id: &str) -> Option<Value> {
    let (name, privileges) = ROLES.iter().find(|(name, _)| *name == id)?;
    let privileges: Vec<&str> = privileges.iter().map(|p: &Privilege| p.as_str()).collect();
    Some(json!({
        "@odata.id": role_uri(name),
        "@odata.type": types::ROLE,
        "Id": name,
        "Name": format!("{name} Role"),
        "Description": format!("{name} User Role"),
        "RoleId": name,
        "IsPredefined": true,
        "AssignedPrivileges": privileges,
        "OemPrivileges": [],
    }))
}

/// The Managers collection.
pub fn manager_collection(ctx: &Ctx) -> Value {
    let members = vec![manager_uri(&ctx.settings.manager_id)];
    collection(MANAGERS, types::MANAGER_COLLECTION, "Manager Collection", members)
}

/// The allowed `ResetType`s of `#Manager.Reset`.
pub const RESET_TYPES: [&str; 2] = ["GracefulRestart", "ForceRestart"];

/// The manager, with its `#Manager.Reset` action.
pub fn manager(ctx: &Ctx) -> Value {
    let id = &ctx.settings.manager_id;
    json!({
        "@odata.id": manager_uri(id),
        "@odata.type": types::MANAGER,
        "Id": id,
        "Name": "Manager",
        "Description": "Baseboard Management Controller",
        "ManagerType": "BMC",
        "UUID": service_uuid(ctx.device.name()),
        "Status": { "State": "Enabled", "Health": "OK" },
        "Actions": {
            "#Manager.Reset": {
                "target": manager_reset_uri(id),
                "ResetType@Redfish.AllowableValues": RESET_TYPES,
            }
        },
    })
}

// ----- request bodies -----

/// A request body that must be a JSON object. Rejections: 415 `HeaderInvalid` for a
/// Content-Type other than `application/json`, 413 `PayloadTooLarge` past
/// [`super::RedfishSettings::max_body_bytes`], 400 `MalformedJSON` when it does not
/// parse, 400 `UnrecognizedRequestBody` when it is JSON but not an object.
#[derive(Clone, Debug)]
pub struct JsonObject(pub Map<String, Value>);

/// Like [`JsonObject`], but an empty body reads as `{}` (actions without parameters).
#[derive(Clone, Debug)]
pub struct OptionalJsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = RedfishError;

    fn from_request(req: Request, _: &S) -> impl Future<Output = Result<Self, RedfishError>> {
        read_object(req, false).map(|read| read.map(JsonObject))
    }
}

impl<S: Send + Sync> FromRequest<S> for OptionalJsonObject {
    type Rejection = RedfishError;

    fn from_request(req: Request, _: &S) -> impl Future<Output = Result<Self, RedfishError>> {
        read_object(req, true).map(|read| read.map(OptionalJsonObject))
    }
}

fn payload_too_large() -> RedfishError {
    RedfishError::new(StatusCode::PAYLOAD_TOO_LARGE, base::payload_too_large())
}

/// A JSON request body's bytes, its media type and size checked as for [`JsonObject`]
/// but not yet parsed (a handler with a fast path for the common body parses it itself).
#[derive(Clone, Debug)]
pub struct JsonBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = RedfishError;

    fn from_request(req: Request, _: &S) -> impl Future<Output = Result<Self, RedfishError>> {
        read_bytes(req).map(|read| read.map(JsonBytes))
    }
}

/// `UserName` and `Password` of a login body. A body of exactly those two strings, neither
/// escaped, is read as it is ([`plain_credentials`]); any other body (escapes,
/// annotations, unknown or missing properties, wrong types, malformed JSON) goes through
/// [`Props`], which answers it as before: the plain reading accepts only bodies that
/// [`Props`] reads to the same two strings. The plain reading borrows them from the body.
pub fn credentials(bytes: &[u8]) -> Result<(Cow<'_, str>, Cow<'_, str>), RedfishError> {
    match plain_credentials(bytes) {
        Some((user, password)) => Ok((Cow::Borrowed(user), Cow::Borrowed(password))),
        None => credentials_by_props(bytes).map(|(user, pw)| (Cow::Owned(user), Cow::Owned(pw))),
    }
}

/// A login body of `UserName` and `Password`, each once and in either order, both strings
/// without escapes, JSON whitespace around any token: what clients send. Read without a
/// parser (serde_json's took about 1,270 instructions of each login); `None` for any other
/// body.
fn plain_credentials(body: &[u8]) -> Option<(&str, &str)> {
    // Checked as UTF-8 once, whole; then read byte by byte, every cut beside an ASCII byte.
    let mut body = Reading { text: std::str::from_utf8(body).ok()?, at: 0 };
    let (mut user, mut password) = (None, None);
    body.token(b'{')?;
    for member in 0..2 {
        if member == 1 {
            body.token(b',')?;
        }
        let key = body.plain_string()?;
        body.token(b':')?;
        let value = body.plain_string()?;
        let slot = match key {
            "UserName" => &mut user,
            "Password" => &mut password,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    body.token(b'}')?;
    body.whitespace();
    (body.at == body.text.len()).then_some((user?, password?))
}

/// A body being read by [`plain_credentials`]: its text, and how far it is read.
struct Reading<'a> {
    text: &'a str,
    at: usize,
}

/// The bytes a plain JSON string stops at: its closing quote, an escape, or a control
/// character (which JSON forbids unescaped).
const STOPS_A_STRING: [bool; 256] = {
    let mut stops = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        stops[byte] = true;
        byte += 1;
    }
    stops[b'"' as usize] = true;
    stops[b'\\' as usize] = true;
    stops
};

impl<'a> Reading<'a> {
    /// The next byte, if any.
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Skips JSON's whitespace (space, tab, line feed, carriage return: not form feed).
    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// `byte` (ASCII) after any whitespace, read.
    fn token(&mut self, byte: u8) -> Option<()> {
        self.whitespace();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A JSON string after any whitespace, read, if it has no escape and no control
    /// character.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.token(b'"')?;
        let start = self.at;
        while !STOPS_A_STRING[usize::from(self.peek()?)] {
            self.at += 1;
        }
        if self.peek()? != b'"' {
            return None;
        }
        let string = self.text.get(start..self.at)?;
        self.at += 1;
        Some(string)
    }
}

/// `UserName` and `Password` of a login body as the property reader reads them (the
/// answer the fast path of [`credentials`] must agree with).
fn credentials_by_props(bytes: &[u8]) -> Result<(String, String), RedfishError> {
    let mut props = Props::new(parse_object(bytes, false)?);
    let user = props.string("UserName", true);
    let password = props.secret("Password", true);
    props.finish()?;
    user.zip(password).ok_or_else(RedfishError::internal)
}

fn read_object(
    req: Request,
    empty_is_object: bool,
) -> impl Future<Output = Result<Map<String, Value>, RedfishError>> + Send + 'static {
    read_bytes(req).map(move |read| parse_object(&read?, empty_is_object))
}

/// `req`'s body, its media type and size checked. What the headers tell is checked when
/// this is called, and the future keeps only the body's reading (see
/// [`crate::vendors::http::limited_body`]), not the request.
fn read_bytes(
    req: Request,
) -> impl Future<Output = Result<axum::body::Bytes, RedfishError>> + Send + 'static {
    let reading = match checked_body(req) {
        Ok(reading) => reading,
        Err(error) => return Either::Left(ready(Err(error))),
    };
    Either::Right(reading.map(|read| {
        read.map_err(|refused| match refused {
            BodyRefused::TooLarge => payload_too_large(),
            BodyRefused::Unreadable => {
                RedfishError::bad_request(vec![base::unrecognized_request_body()])
            }
        })
    }))
}

/// [`read_bytes`]'s checks of the headers, and the body's reading when they pass.
fn checked_body(
    req: Request,
) -> Result<impl Future<Output = Result<axum::body::Bytes, BodyRefused>>, RedfishError> {
    let ctx = Ctx::of(req.extensions()).ok_or_else(RedfishError::internal)?;
    if let Some(content_type) =
        crate::vendors::http::request_header(req.headers(), &header::CONTENT_TYPE)
    {
        let text = content_type.to_str().unwrap_or("");
        // What clients send, told at once; anything else is cut at its parameters.
        let json = text == "application/json"
            || text.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json");
        if !json {
            return Err(RedfishError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                base::header_invalid(&format!("Content-Type: {text}")),
            ));
        }
    }
    Ok(crate::vendors::http::limited_body(req, ctx.settings.max_body_bytes))
}

fn parse_object(bytes: &[u8], empty_is_object: bool) -> Result<Map<String, Value>, RedfishError> {
    if empty_is_object && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(RedfishError::bad_request(vec![base::unrecognized_request_body()])),
        Err(_) => Err(RedfishError::bad_request(vec![base::malformed_json()])),
    }
}

/// A value as a message argument: strings as they are, anything else as JSON.
pub fn value_arg(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The properties of a request body, taken one by one. Problems are collected, and
/// [`Props::finish`] answers them all in one 400 (with `PropertyUnknown` for whatever
/// was not taken). OData annotations (`@odata.id`, ...) are ignored.
#[derive(Debug)]
pub struct Props {
    map: Map<String, Value>,
    errors: Vec<Message>,
}

impl Props {
    /// The properties of `body`, annotations left out.
    pub fn new(body: Map<String, Value>) -> Props {
        let map = body.into_iter().filter(|(k, _)| !k.starts_with('@')).collect();
        Props { map, errors: Vec::new() }
    }

    /// No properties (after annotations were left out).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Records a problem.
    pub fn error(&mut self, message: Message) {
        self.errors.push(message);
    }

    fn take(&mut self, name: &str, required: bool) -> Option<Value> {
        let value = self.map.remove(name);
        if value.is_none() && required {
            self.errors.push(base::property_missing(name));
        }
        value
    }

    /// A property's raw value, taken out (a personality validates it itself).
    pub fn value(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name)
    }

    /// A string property.
    pub fn string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.take(name, required)? {
            Value::String(s) => Some(s),
            other => {
                self.errors.push(base::property_value_type_error(&value_arg(&other), name));
                None
            }
        }
    }

    /// A string property whose value must never be echoed (a password): a wrong type is
    /// `PropertyValueError`, which names the property only.
    pub fn secret(&mut self, name: &str, required: bool) -> Option<String> {
        match self.take(name, required)? {
            Value::String(s) => Some(s),
            _ => {
                self.errors.push(base::property_value_error(name));
                None
            }
        }
    }

    /// A boolean property.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.take(name, false)? {
            Value::Bool(b) => Some(b),
            other => {
                self.errors.push(base::property_value_type_error(&value_arg(&other), name));
                None
            }
        }
    }

    /// An integer property (a JSON number without fraction).
    pub fn integer(&mut self, name: &str) -> Option<i128> {
        let value = self.take(name, false)?;
        let int = value.as_i64().map(i128::from).or_else(|| value.as_u64().map(i128::from));
        if int.is_none() {
            self.errors.push(base::property_value_type_error(&value_arg(&value), name));
        }
        int
    }

    /// Properties of the resource that cannot be written.
    pub fn read_only(&mut self, names: &[&str]) {
        for name in names {
            if self.map.remove(*name).is_some() {
                self.errors.push(base::property_not_writable(name));
            }
        }
    }

    /// 400 with every problem, `PropertyUnknown` for each property not taken.
    pub fn finish(mut self) -> Result<(), RedfishError> {
        let unknown: Vec<String> = self.map.keys().cloned().collect();
        for name in unknown {
            self.errors.push(base::property_unknown(&name));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(RedfishError::bad_request(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{ClientInfo, Token};
    use std::sync::Arc;
    use std::time::Duration;

    /// DSP0266 Session resource: the typed session body writes exactly the bytes the
    /// value tree would (same properties, same sorted order, same escaping), with and
    /// without its optional properties.
    #[test]
    fn session_body_is_written_as_its_value_tree_would_be() {
        let now = Now::at_secs(90);
        let plain = Session {
            id: "4f\"1".into(),
            token: Token::from("t"),
            user: "ad\u{e9}min \"x\"".into(),
            role: "Administrator".into(),
            session_type: "redfish".into(),
            client: Arc::new(ClientInfo::default()),
            one_request: false,
            created_mono: Duration::from_secs(30),
            created_at: Now::at_secs(30).utc,
            last_used_mono: Duration::from_secs(30),
            last_used_at: Now::at_secs(30).utc,
            idle_timeout: None,
            max_lifetime: None,
            sliding: true,
            requests: 0,
            attrs: Default::default(),
        };
        let full = Session {
            client: Arc::new(ClientInfo { addr: Some("127.0.0.9".into()), ..Default::default() }),
            max_lifetime: Some(Duration::from_secs(3600)),
            ..plain.clone()
        };
        // Every kind of byte serde_json treats apart: quotes, backslashes, control
        // characters (short escapes and \u00XX), DEL and non-ASCII (written as they are).
        let odd = Session {
            id: "\t\n\r\u{8}\u{c}\u{1}\u{1f}\u{7f}/\u{2028}\u{e9}\u{1F600}".into(),
            user: "ad\"min\"".into(),
            client: Arc::new(ClientInfo { addr: Some("::1\\".into()), ..Default::default() }),
            ..full.clone()
        };
        let cases = [(&plain, false), (&full, false), (&full, true), (&odd, false), (&odd, true)];
        for (session, with_messages) in cases {
            let mut body = super::session(session, now);
            if with_messages {
                body.messages = Some(json!([{ "MessageId": "Base.1.18.PasswordChangeRequired" }]));
            }
            let written = serde_json::to_vec(&body).expect("writes");
            let mut by_hand = Vec::new();
            body.write_json(&mut by_hand);
            assert_eq!(String::from_utf8_lossy(&by_hand), String::from_utf8_lossy(&written));
            let tree: Value = serde_json::from_slice(&written).expect("reads back");
            assert_eq!(written, serde_json::to_vec(&tree).expect("writes"), "{tree}");
            assert_eq!(tree["Password"], Value::Null);
            assert_eq!(tree["UserName"], session.user.as_str());
            assert_eq!(tree.get("ExpirationTime").is_some(), session.max_lifetime.is_some());
            assert_eq!(tree.get("ClientOriginIPAddress").is_some(), session.client.addr.is_some());
            assert_eq!(tree.get("@Message.ExtendedInfo").is_some(), with_messages);
        }
        let full_body = super::session(&full, now);
        let answer = full_body.response(StatusCode::OK, Some(allow::GET_DELETE));
        let schema = answer.extensions().get::<DescribedBy>().expect("schema");
        assert_eq!(&*schema.0, "Session.v1_8_0");
    }

    /// Session times read as chrono's RFC 3339 writer gives them (`CreatedTime`,
    /// `ExpirationTime`), four-digit years digit by digit and the rest through chrono.
    #[test]
    fn timestamps_read_as_chronos_rfc3339() {
        use chrono::TimeZone as _;
        let chrono_text = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, false);
        let mut at = Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).single().expect("year 0");
        let end = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single().expect("year 9999");
        while at < end {
            assert_eq!(timestamp(at), chrono_text(at));
            // A prime number of seconds: every field takes many values on the way.
            at += chrono::Duration::seconds(7_919_993);
        }
        let edges = [
            end,
            Utc.timestamp_opt(0, 0).single().expect("epoch"),
            Utc.timestamp_opt(1_780_000_000, 999_999_999).single().expect("nanos"),
            Utc.with_ymd_and_hms(-1, 6, 1, 12, 0, 0).single().expect("year -1"),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).single().expect("year 10000"),
            Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 59).single().expect("before a leap")
                + chrono::Duration::nanoseconds(999_999_999),
        ];
        for at in edges {
            assert_eq!(timestamp(at), chrono_text(at));
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("a leap second")
            .and_utc();
        assert_eq!(timestamp(leap), chrono_text(leap));
    }

    /// Member URIs percent-encode their last segment as `format!("%{b:02X}")` does.
    #[test]
    fn member_uris_percent_encode_every_byte_as_format_does() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        for id in [every_ascii.as_str(), "admin", "", "caf\u{e9} \u{1F600}/x"] {
            let expected: String = id
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            assert_eq!(segment(id), expected);
            assert_eq!(session_uri(id), format!("{SESSIONS}/{expected}"));
        }
    }

    /// A document rendered with its link carries the `Link` header itself and leaves the
    /// last step nothing to look up; one rendered without carries its schema instead.
    #[test]
    fn a_linked_document_carries_its_link_header() {
        let body = json!({ "@odata.type": "#SessionService.v1_1_8.SessionService" });
        let plain = Prerendered::of(&body);
        let answer = plain.response(StatusCode::OK, None);
        assert!(answer.headers().get(header::LINK).is_none());
        assert_eq!(answer.extensions().get::<DescribedBy>(), plain.schema.as_ref());
        let template = "</redfish/v1/Schemas/{schema}.json>; rel=describedby";
        let linked = plain.clone().linked(|schema| schema.link(template));
        assert_eq!(linked.body.bytes(), plain.body.bytes());
        let answer = linked.response(StatusCode::OK, Some(allow::GET_PATCH));
        assert_eq!(
            answer.headers()[header::LINK],
            "</redfish/v1/Schemas/SessionService.v1_1_8.json>; rel=describedby"
        );
        assert!(answer.extensions().get::<DescribedBy>().is_none());
    }

    /// A kept document answers as it was finished at its first answer, by the last step:
    /// the same headers, in the same order, and the same body as one answered afresh and
    /// finished, then `Date`'s place, for the `Allow` it was first answered with and for
    /// any other; marked so the last step does not finish it again.
    #[test]
    fn a_kept_document_answers_as_a_fresh_one_finished() {
        let body = json!({ "@odata.type": "#SessionService.v1_1_8.SessionService" });
        let template = "</redfish/v1/Schemas/{schema}.json>; rel=describedby";
        let mut kept = Prerendered::of(&body).linked(|schema| schema.link(template));
        kept.etag = Some(HeaderValue::from_static("W/\"0123ABCD\""));
        let last = |answer: &mut Response| {
            let headers = answer.headers_mut();
            headers.insert(super::super::ODATA_VERSION, HeaderValue::from_static("4.0"));
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            headers.remove(header::CONTENT_LENGTH);
            *answer.body_mut() = Body::from(r#"{"finished":true}"#);
        };
        let headers = |answer: &Response| -> Vec<(String, String)> {
            let pairs = answer.headers().iter();
            pairs.map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string())).collect()
        };
        let bytes = |answer: Response| match crate::vendors::http::ready_body(answer.into_body()) {
            crate::vendors::http::ReadyBody::Whole(bytes) => bytes,
            _ => panic!("a prerendered body is whole"),
        };
        for allow in [Some(allow::GET_PATCH), Some(allow::GET_PATCH), None, Some(allow::GET)] {
            let mut fresh = kept.response(StatusCode::OK, allow);
            last(&mut fresh);
            let answer = kept.kept(allow, last);
            let mut expected = headers(&fresh);
            expected.push(("date".to_string(), String::new()));
            assert_eq!(headers(&answer), expected, "{allow:?}");
            assert_eq!(answer.status(), fresh.status());
            assert!(Finished::is(&answer));
            assert_eq!(bytes(answer), bytes(fresh));
        }
        assert_eq!(kept.kept.get().map(|(allow, _)| *allow), Some(Some(allow::GET_PATCH)));
    }

    /// A document that still carries its schema is left for the last step to finish (and
    /// link): kept answers say they are finished only when they are.
    #[test]
    fn an_unlinked_kept_document_is_left_to_the_last_step() {
        let body = json!({ "@odata.type": "#SessionService.v1_1_8.SessionService" });
        let plain = Prerendered::of(&body);
        let answer = plain.kept(Some(allow::GET), |_| panic!("the last step's own"));
        assert!(!Finished::is(&answer));
        assert_eq!(answer.extensions().get::<DescribedBy>(), plain.schema.as_ref());
    }

    /// The property reader's two strings, as [`credentials`] gives them.
    fn by_props(bytes: &[u8]) -> Result<(Cow<'_, str>, Cow<'_, str>), RedfishError> {
        super::credentials_by_props(bytes).map(|(user, pw)| (Cow::Owned(user), Cow::Owned(pw)))
    }

    /// The login body's fast path reads every body exactly as the property reader does:
    /// the same two strings, or the same 400.
    #[test]
    fn credentials_read_every_body_as_the_property_reader_does() {
        let bodies = [
            r#"{"UserName":"admin","Password":"pw"}"#,
            r#" {"Password":"p\"w\u00e9","UserName":"ad\nmin"} "#,
            r#"{"UserName":"admin","Password":"pw","UserName":"root"}"#,
            r##"{"UserName":"admin","Password":"pw","@odata.type":"#Session.v1_0_0.Session"}"##,
            r#"{"UserName":"admin","Password":"pw","Oem":{}}"#,
            r#"{"UserName":"admin"}"#,
            r#"{"UserName":1,"Password":"pw"}"#,
            r#"{"UserName":"admin","Password":null}"#,
            r#"{"UserName":"admin","Password":"pw"} x"#,
            r#"{"UserName":"admin","Password":"pw""#,
            r#"["admin","pw"]"#,
            r#" ["admin","pw"]"#,
            "",
            "{}",
            "\r\n{ \"Password\" :\t\"p,w:é\" , \"UserName\":\"\" }\n",
            "{\"UserName\":\"admin\",\u{c}\"Password\":\"pw\"}",
            "{\"UserName\":\"ad\u{1}min\",\"Password\":\"pw\"}",
            r#"{"UserName":"admin","Password":"pw",}"#,
            r#"{"UserName":"admin","Password":"pw","Password":"pw"}"#,
            r#"{"UserName":"a","b":"Password":"pw"}"#,
            r#"{"UserName":"admin","Password":"p\w"}"#,
            r#"{"UserName":"admin" "Password":"pw"}"#,
            r#"{"UserName":"admin","Password":"pw"}}"#,
            r#"{"UserName":"admin","Password":pw}"#,
            // What clients send: compact, Python's spacing, pretty-printed, either order.
            r#"{"UserName": "admin", "Password": "pw"}"#,
            r#"{"Password":"pw","UserName":"admin"}"#,
            "{\n  \"UserName\" : \"admin\",\n  \"Password\" : \"p w\u{e9}\u{1F600}\"\n}\n",
            r#"{"Username":"admin","Password":"pw"}"#,
            r#"{"UserName":"admin","UserName":"pw"}"#,
            r#"{"UserName":"admin","Password":"pw"} {}"#,
            r#"{"UserName":"","Password":""}"#,
        ];
        for body in bodies {
            assert_eq!(credentials(body.as_bytes()), by_props(body.as_bytes()), "{body}");
        }
        assert_eq!(credentials(bodies[0].as_bytes()), Ok(("admin".into(), "pw".into())));
        let latin1 = b"{\"UserName\":\"admin\",\"Password\":\"p\xe9\"}";
        assert_eq!(credentials(latin1), by_props(latin1));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Bodies put together from the pieces of a login body, valid JSON or not, read
        /// the same through the fast path as through the property reader.
        #[test]
        fn credentials_read_any_body_as_the_property_reader_does(
            members in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["UserName", "Password", "Password", "Oem", "a:b"]),
                    proptest::collection::vec(
                        proptest::sample::select(vec!['a', 'é', ' ', ',', ':', '"', '\\', '\u{1}', '\t']),
                        0..4,
                    ),
                    proptest::sample::select(vec!["", " ", "\t", "\u{c}", "\n "]),
                ),
                0..4,
            ),
            close in proptest::sample::select(vec!["}", "}", "}", "", "}}", ",}"]),
        ) {
            let body = members
                .iter()
                .map(|(name, value, space)| {
                    let value: String = value.iter().collect();
                    format!("{space}\"{name}\"{space}:\"{value}\"")
                })
                .collect::<Vec<_>>()
                .join(",");
            let body = format!("{{{body}{close}");
            proptest::prop_assert_eq!(credentials(body.as_bytes()), by_props(body.as_bytes()), "{}", body);
        }
    }

    /// Segments keep unreserved characters and encode the rest.
    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("admin"), "admin");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
        assert_eq!(account_uri("ops.team"), "/redfish/v1/AccountService/Accounts/ops.team");
    }

    /// If-Match passes on the same opaque tag or `*`, fails on a stale one.
    #[test]
    fn if_match_compares_opaque_tags() {
        let mut headers = HeaderMap::new();
        assert!(if_match_passes(&headers, "W/\"3\""));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"3\""));
        assert!(if_match_passes(&headers, "W/\"3\""));
        assert!(!if_match_passes(&headers, "W/\"4\""));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"1\", \"4\""));
        assert!(if_match_passes(&headers, "W/\"4\""));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert!(if_match_passes(&headers, "W/\"9\""));
    }

    /// Props collect every problem and name leftovers as unknown.
    #[test]
    fn props_collect_problems() {
        let body = json!({"A": 1, "B": "x", "@odata.id": "/x", "C": true});
        let Value::Object(map) = body else { unreachable!() };
        let mut props = Props::new(map);
        assert_eq!(props.string("A", false), None);
        assert_eq!(props.string("B", true), Some("x".into()));
        assert_eq!(props.string("D", true), None);
        let err = props.finish().unwrap_err();
        assert_eq!(err.keys(), ["PropertyValueTypeError", "PropertyMissing", "PropertyUnknown"]);
    }

    /// The schema named by a Link header is the versioned namespace of `@odata.type`, or
    /// the bare type of a collection (DSP0266 Link header: "If the referenced JSON schema
    /// is a versioned schema, it shall match the version contained in ... @odata.type").
    #[test]
    fn described_by_follows_the_odata_type() {
        let of = |t: &str| DescribedBy::of(&json!({ "@odata.type": t })).map(|d| d.0);
        assert_eq!(of("#Session.v1_7_0.Session").as_deref(), Some("Session.v1_7_0"));
        assert_eq!(
            of("#SessionCollection.SessionCollection").as_deref(),
            Some("SessionCollection")
        );
        assert_eq!(of("Session"), None);
        assert_eq!(DescribedBy::of(&json!({ "v1": "/redfish/v1/" })), None);
        let link = DescribedBy("Role.v1_3_0".into())
            .link("<http://redfish.dmtf.org/schemas/v1/{schema}.json>; rel=describedby");
        assert_eq!(
            link.as_ref().and_then(|v| v.to_str().ok()),
            Some("<http://redfish.dmtf.org/schemas/v1/Role.v1_3_0.json>; rel=describedby")
        );
        assert_eq!(DescribedBy("Role".into()).link(""), None);
    }

    /// The metadata document has an EntityContainer.
    #[test]
    fn metadata_has_an_entity_container() {
        assert!(metadata_xml().contains("<EntityContainer Name=\"Service\""));
    }
}
