//! SEMPv2 config and monitor views of the broker's objects beyond sessions: message VPNs,
//! and in each VPN its client usernames, client profiles, ACL profiles and queues. The
//! objects and their rules are in [`super::models`]; this module parses, checks the
//! access level, calls the model and renders.
//!
//! | URI (under `/SEMP/v2/config` and `/SEMP/v2/monitor`) | Methods | Access level |
//! |---|---|---|
//! | `/msgVpns` | GET (`count`, `cursor`, `where`, `select`); config: POST | read-only; read-write |
//! | `/msgVpns/{msgVpnName}` | GET; config: PATCH, PUT, DELETE | read-only; read-write |
//! | `/msgVpns/{msgVpnName}/{queues,clientUsernames,clientProfiles,aclProfiles}` | GET (paged); config: POST | read-only; read-write |
//! | `/msgVpns/{msgVpnName}/{collection}/{name}` | GET; config: PATCH, PUT, DELETE | read-only; read-write |
//! | `/about/user/msgVpns`, `/about/user/msgVpns/{msgVpnName}` | GET | none |
//!
//! The SEMP reference (in the docstrings of Solace's generated client `solace-semp-config`
//! 9.8.0.12, [P]) asks `vpn/read-only` to read these objects, `vpn/read-write` to write
//! queues, client usernames and ACL profiles, and `global/read-write` to create Message
//! VPNs and client profiles; this broker's users have global access levels only, so a
//! read needs `read-only` and a write `read-write`. `about/user/msgVpns` needs
//! `global/none`.
//!
//! Errors ([P] SEMP Error Handling, <https://docs.solace.com/Admin/SEMP/SEMP-Error-Handling.htm>):
//! a missing object or VPN is code 6 `NOT_FOUND`; a bad attribute value or an unknown
//! attribute code 11; a built-in object or a profile in use that cannot be deleted code
//! 89 `NOT_ALLOWED`; a duplicate and a create without its name are the profile's
//! `already_exists` and `missing_attribute` (defaults code 10 `ALREADY_EXISTS` and code 228
//! `MISSING_PARAMETER`, the codes of Solace's own error table in
//! <https://github.com/SolaceProducts/solace-broker-mcp/blob/65fe9bf534e1ef7a71213549578c096c4928917b/internal/tools/errors.go>).
//!
//! The monitor view is the config view without write-only attributes, plus a few
//! read-only counters of the monitor API (a VPN's `state`, `msgSpoolMsgCount`,
//! `msgSpoolUsage`; a queue's `durable`, `msgSpoolUsage`, `spooledMsgCount`,
//! `txUnackedMsgCount`, `virtualRouter`; a client username's `dynamic`): no messages flow
//! through this broker, so the counters stay at zero.

use axum::extract::rejection::PathRejection;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::auth::{AccessLevel, Principal};
use super::errors::SempError;
use super::models::{Key, Kind, ModelError, Object, SempObjects, Stored, Written, VPN_CHILDREN};
use super::routes::Ctx;
use super::wire::{self, Api, LinkPaths, ListParams, Page, ReqInfo, SempJson};
use super::SolaceSettings;
use crate::vendors::routing::{get, Param, Routes};

type Answer = Result<Response, SempError>;

fn ok(body: &Value) -> Answer {
    Ok(wire::json_response(StatusCode::OK, body))
}

/// Adds the object routes to the Solace routes (before the step around them).
pub fn routes(r: Routes) -> Routes {
    let mut r = r;
    for api in [Api::Monitor, Api::Config] {
        let b = api.base();
        r = r
            .route(&format!("{b}/about/user/msgVpns"), get(about_user_vpns))
            .route(&format!("{b}/about/user/msgVpns/{{vpn}}"), get(about_user_vpn));
    }
    let m = Api::Monitor.base();
    let c = Api::Config.base();
    r.route(&format!("{m}/msgVpns"), get(list_vpns))
        .route(&format!("{m}/msgVpns/{{vpn}}"), get(get_vpn))
        .route(&format!("{m}/msgVpns/{{vpn}}/{{coll}}"), get(list_children))
        .route(&format!("{m}/msgVpns/{{vpn}}/{{coll}}/{{name}}"), get(get_child))
        .route(&format!("{c}/msgVpns"), get(list_vpns).post(create_vpn))
        .route(
            &format!("{c}/msgVpns/{{vpn}}"),
            get(get_vpn).patch(patch_vpn).put(put_vpn).delete(delete_vpn),
        )
        .route(&format!("{c}/msgVpns/{{vpn}}/{{coll}}"), get(list_children).post(create_child))
        .route(
            &format!("{c}/msgVpns/{{vpn}}/{{coll}}/{{name}}"),
            get(get_child).patch(patch_child).put(put_child).delete(delete_child),
        )
}

// ----- helpers -----

/// The API a path belongs to (only config and monitor reach here).
fn api_of(req: &ReqInfo) -> Api {
    if req.path.starts_with(Api::Config.base()) {
        Api::Config
    } else {
        Api::Monitor
    }
}

/// The path parameters, decoded; a segment that does not decode is a parse error.
fn params<T>(path: Result<Param<T>, PathRejection>) -> Result<T, SempError> {
    path.map(|Param(p)| p)
        .map_err(|_| SempError::parse_error("The request URI could not be decoded"))
}

/// The kind of a collection segment inside a VPN; any other segment names nothing served.
fn child_kind(coll: &str, req: &ReqInfo) -> Result<Kind, SempError> {
    Kind::of_child_collection(coll).ok_or_else(|| SempError::no_such_path(&req.path))
}

/// The SEMP error of a model error.
fn semp_error(settings: &SolaceSettings, error: ModelError) -> SempError {
    match error {
        ModelError::NotFound(d) => SempError::not_found(d),
        ModelError::Invalid(d) => SempError::invalid_parameter(settings, d),
        ModelError::NotAllowed(d) => SempError::not_allowed(d),
        ModelError::AlreadyExists(d) => {
            let mut e = SempError::from_spec(&settings.already_exists);
            e.description = d;
            e
        }
        ModelError::Missing(d) => {
            let mut e = SempError::from_spec(&settings.missing_attribute);
            e.description = d;
            e
        }
    }
}

/// `/SEMP/v2/<api>/msgVpns/<vpn>[/<collection>/<name>]`.
fn object_path(api: Api, key: &Key<'_>) -> String {
    // Pieces pushed rather than `format!`ed: every object GET links the object.
    let mut path = String::with_capacity(64);
    path.push_str(api.base());
    path.push_str("/msgVpns/");
    path.push_str(&wire::encode(key.vpn));
    if key.kind != Kind::MsgVpn {
        path.push('/');
        path.push_str(key.kind.collection());
        path.push('/');
        path.push_str(&wire::encode(key.name));
    }
    path
}

/// The name of `object` of `kind`.
fn name_of(kind: Kind, object: &Object) -> String {
    object.get(kind.id_attr()).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// An object as the API shows it: write-only attributes left out, the monitor API's
/// counters added; and its links.
fn render(req: &ReqInfo, api: Api, kind: Kind, object: &Object) -> (Value, Value) {
    (data_of(api, kind, object), links_of(req, api, kind, object))
}

/// The `data` of `object` as `api` shows it: write-only attributes left out, and the
/// monitor API's own.
fn data_of(api: Api, kind: Kind, object: &Object) -> Value {
    let mut data = object.clone();
    for attr in kind.attrs().iter().filter(|a| a.write_only()) {
        data.remove(attr.name);
    }
    if api == Api::Monitor {
        let flag = |name: &str| data.get(name).and_then(Value::as_bool).unwrap_or(false);
        let extras: Vec<(&str, Value)> = match kind {
            Kind::MsgVpn => vec![
                ("msgSpoolMsgCount", json!(0)),
                ("msgSpoolUsage", json!(0)),
                ("state", json!(if flag("enabled") { "up" } else { "down" })),
            ],
            Kind::Queue => vec![
                ("durable", json!(true)),
                ("msgSpoolUsage", json!(0)),
                ("spooledMsgCount", json!(0)),
                ("txUnackedMsgCount", json!(0)),
                ("virtualRouter", json!("primary")),
            ],
            Kind::ClientUsername => vec![("dynamic", json!(false))],
            Kind::ClientProfile | Kind::AclProfile => Vec::new(),
        };
        for (name, value) in extras {
            data.insert(name.to_string(), value);
        }
    }
    Value::Object(data)
}

/// The `links` of `object` as `req` reaches it through `api`.
fn links_of(req: &ReqInfo, api: Api, kind: Kind, object: &Object) -> Value {
    let links = link_paths(api, kind, object).into_iter();
    Value::Object(links.map(|(key, path)| (key, Value::String(req.link(&path)))).collect())
}

/// The `links` of `object` through `api`, each key with the path it names on the broker
/// (a request adds its base), in key order as serde_json writes a map's.
fn link_paths(api: Api, kind: Kind, object: &Object) -> Vec<(String, String)> {
    let text = |attr: &str| object.get(attr).and_then(Value::as_str).unwrap_or_default();
    let key = Key { kind, vpn: text("msgVpnName"), name: text(kind.id_attr()) };
    let path = object_path(api, &key);
    let mut links = Vec::with_capacity(VPN_CHILDREN.len() + 1);
    if kind == Kind::MsgVpn {
        // Pieces pushed rather than `format!`ed: every GET of a VPN links its children.
        for child in VPN_CHILDREN {
            let coll = child.collection();
            let mut name = String::with_capacity(coll.len() + 3);
            name.push_str(coll);
            name.push_str("Uri");
            let mut child_path = String::with_capacity(path.len() + 1 + coll.len());
            child_path.push_str(&path);
            child_path.push('/');
            child_path.push_str(coll);
            links.push((name, child_path));
        }
    }
    links.push(("uri".to_string(), path));
    links.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    links
}

/// One page of `objects` (sorted by name), filtered by `where`, `select` applied.
fn page(
    objects: Vec<Object>,
    kind: Kind,
    params: &ListParams,
    settings: &SolaceSettings,
    render_one: impl Fn(&Object) -> (Value, Value),
) -> Result<Page, SempError> {
    // Objects are ordered by name alone: a cursor's position is always 0.
    wire::page_of(&objects, |o| (0, name_of(kind, o)), params, settings, render_one)
}

/// A collection answer for `kind` (in `vpn` for the kinds inside one).
fn collection(ctx: &Ctx, req: &ReqInfo, kind: Kind, vpn: &str) -> Answer {
    let api = api_of(req);
    let params = ListParams::parse(&req.params(), &ctx.settings)?;
    let objects = objects_of(&ctx.device)
        .with(|b| b.list(kind, vpn))
        .map_err(|e| semp_error(&ctx.settings, e))?;
    let page = page(objects, kind, &params, &ctx.settings, |o| render(req, api, kind, o))?;
    ok(&wire::collection_body(req, page, &params))
}

/// An object answer.
fn object_answer(ctx: &Ctx, req: &ReqInfo, kind: Kind, object: &Stored) -> Answer {
    let api = api_of(req);
    match wire::Select::parse(&req.params(), &ctx.settings)? {
        // The object's `data` and link paths are written once per change of it
        // ([`Stored::written`]).
        None => {
            let write = |attrs: &Object| Written {
                data: serde_json::to_vec(&data_of(api, kind, attrs)).unwrap_or_default().into(),
                links: LinkPaths::new(link_paths(api, kind, attrs)),
            };
            let written = object.written(api, write);
            let body = wire::object_body_written(req, &written.data, &written.links);
            Ok(wire::json_bytes_response(StatusCode::OK, body))
        }
        Some(select) => {
            let (data, links) = render(req, api, kind, object);
            ok(&wire::object_body(req, select.apply(&data, &ctx.settings)?, links))
        }
    }
}

/// The device's broker objects: built as a broker ships them on first use, and again
/// after a reset (which drops every object model of the device).
fn objects_of(device: &crate::device::Device) -> std::sync::Arc<SempObjects> {
    device.model(|_| SempObjects::default())
}

fn read(ctx: &Ctx, p: &Principal, req: &ReqInfo, key: &Key<'_>) -> Answer {
    p.require(ctx, AccessLevel::ReadOnly)?;
    let object =
        objects_of(&ctx.device).with(|b| b.get(key)).map_err(|e| semp_error(&ctx.settings, e))?;
    object_answer(ctx, req, key.kind, &object)
}

#[derive(Clone, Copy, Debug)]
enum Write {
    Patch,
    Put,
}

fn write(
    ctx: &Ctx,
    p: &Principal,
    req: &ReqInfo,
    key: &Key<'_>,
    how: Write,
    body: &Object,
) -> Answer {
    p.require(ctx, AccessLevel::ReadWrite)?;
    let object = objects_of(&ctx.device)
        .with(|b| match how {
            Write::Patch => b.update(key, body),
            Write::Put => b.replace(key, body),
        })
        .map_err(|e| semp_error(&ctx.settings, e))?;
    tracing::info!(
        by = %p.user, kind = key.kind.noun(), vpn = %key.vpn, name = %key.name, how = ?how,
        "solace: object written"
    );
    object_answer(ctx, req, key.kind, &object)
}

fn create(ctx: &Ctx, p: &Principal, req: &ReqInfo, kind: Kind, vpn: &str, body: &Object) -> Answer {
    p.require(ctx, AccessLevel::ReadWrite)?;
    let object = objects_of(&ctx.device)
        .with(|b| b.create(kind, vpn, body))
        .map_err(|e| semp_error(&ctx.settings, e))?;
    tracing::info!(
        by = %p.user, kind = kind.noun(), vpn = %vpn, name = %name_of(kind, &object),
        "solace: object created"
    );
    object_answer(ctx, req, kind, &object)
}

fn delete(ctx: &Ctx, p: &Principal, req: &ReqInfo, key: &Key<'_>) -> Answer {
    p.require(ctx, AccessLevel::ReadWrite)?;
    objects_of(&ctx.device).with(|b| b.delete(key)).map_err(|e| semp_error(&ctx.settings, e))?;
    tracing::info!(
        by = %p.user, kind = key.kind.noun(), vpn = %key.vpn, name = %key.name,
        "solace: object deleted"
    );
    ok(&wire::meta_only(req))
}

fn vpn_key(vpn: &str) -> Key<'_> {
    Key { kind: Kind::MsgVpn, vpn, name: vpn }
}

// ----- Message VPNs -----

async fn list_vpns(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    p.require(&ctx, AccessLevel::ReadOnly)?;
    collection(&ctx, &req, Kind::MsgVpn, "")
}

async fn get_vpn(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<String>, PathRejection>,
) -> Answer {
    let vpn = params(path)?;
    read(&ctx, &p, &req, &vpn_key(&vpn))
}

async fn create_vpn(ctx: Ctx, p: Principal, req: ReqInfo, SempJson(body): SempJson) -> Answer {
    create(&ctx, &p, &req, Kind::MsgVpn, "", &body)
}

async fn patch_vpn(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<String>, PathRejection>,
    SempJson(body): SempJson,
) -> Answer {
    let vpn = params(path)?;
    write(&ctx, &p, &req, &vpn_key(&vpn), Write::Patch, &body)
}

async fn put_vpn(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<String>, PathRejection>,
    SempJson(body): SempJson,
) -> Answer {
    let vpn = params(path)?;
    write(&ctx, &p, &req, &vpn_key(&vpn), Write::Put, &body)
}

async fn delete_vpn(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<String>, PathRejection>,
) -> Answer {
    let vpn = params(path)?;
    delete(&ctx, &p, &req, &vpn_key(&vpn))
}

// ----- objects inside a VPN -----

async fn list_children(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<(String, String)>, PathRejection>,
) -> Answer {
    let (vpn, coll) = params(path)?;
    let kind = child_kind(&coll, &req)?;
    p.require(&ctx, AccessLevel::ReadOnly)?;
    collection(&ctx, &req, kind, &vpn)
}

async fn get_child(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<(String, String, String)>, PathRejection>,
) -> Answer {
    let (vpn, coll, name) = params(path)?;
    let kind = child_kind(&coll, &req)?;
    read(&ctx, &p, &req, &Key { kind, vpn: &vpn, name: &name })
}

async fn create_child(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<(String, String)>, PathRejection>,
    SempJson(body): SempJson,
) -> Answer {
    let (vpn, coll) = params(path)?;
    let kind = child_kind(&coll, &req)?;
    create(&ctx, &p, &req, kind, &vpn, &body)
}

async fn patch_child(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<(String, String, String)>, PathRejection>,
    SempJson(body): SempJson,
) -> Answer {
    let (vpn, coll, name) = params(path)?;
    let kind = child_kind(&coll, &req)?;
    write(&ctx, &p, &req, &Key { kind, vpn: &vpn, name: &name }, Write::Patch, &body)
}

async fn put_child(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<(String, String, String)>, PathRejection>,
    SempJson(body): SempJson,
) -> Answer {
    let (vpn, coll, name) = params(path)?;
    let kind = child_kind(&coll, &req)?;
    write(&ctx, &p, &req, &Key { kind, vpn: &vpn, name: &name }, Write::Put, &body)
}

async fn delete_child(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<(String, String, String)>, PathRejection>,
) -> Answer {
    let (vpn, coll, name) = params(path)?;
    let kind = child_kind(&coll, &req)?;
    delete(&ctx, &p, &req, &Key { kind, vpn: &vpn, name: &name })
}

// ----- about/user/msgVpns -----

/// The user's access level in every VPN: this broker's users have global levels only, so
/// an `admin` or `read-write` user reads `read-write`, a `read-only` one `read-only`, and
/// a user of level `none` `none` (`AboutUserMsgVpn.accessLevel` takes `none`,
/// `read-only`, `read-write`, [P]).
fn vpn_access(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::Admin | AccessLevel::ReadWrite => "read-write",
        AccessLevel::ReadOnly => "read-only",
        AccessLevel::None => "none",
    }
}

fn about_user_vpn_object(req: &ReqInfo, vpn: &str, access: &str) -> (Value, Value) {
    let base = api_of(req).base();
    (
        json!({ "accessLevel": access, "msgVpnName": vpn }),
        json!({ "uri": req.link(&format!("{base}/about/user/msgVpns/{}", wire::encode(vpn))) }),
    )
}

/// `GET /SEMP/v2/{config,monitor}/about/user/msgVpns` (`global/none`, since 2.8, [P]).
async fn about_user_vpns(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    let access = vpn_access(p.level());
    let params = ListParams::parse(&req.params(), &ctx.settings)?;
    let names = objects_of(&ctx.device).with(|b| b.vpn_names());
    let objects: Vec<Object> = names
        .iter()
        .map(|n| {
            let mut o = Object::new();
            o.insert("msgVpnName".to_string(), json!(n));
            o
        })
        .collect();
    let page = page(objects, Kind::MsgVpn, &params, &ctx.settings, |o| {
        about_user_vpn_object(&req, &name_of(Kind::MsgVpn, o), access)
    })?;
    ok(&wire::collection_body(&req, page, &params))
}

/// `GET /SEMP/v2/{config,monitor}/about/user/msgVpns/{msgVpnName}`.
async fn about_user_vpn(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    path: Result<Param<String>, PathRejection>,
) -> Answer {
    let vpn = params(path)?;
    let exists = objects_of(&ctx.device).with(|b| b.get(&vpn_key(&vpn)).is_ok());
    if !exists {
        return Err(SempError::not_found(format!("Could not find match for msgVpnName {vpn}")));
    }
    let (data, links) = about_user_vpn_object(&req, &vpn, vpn_access(p.level()));
    let data = wire::select_object(data, &req.params(), &ctx.settings)?;
    ok(&wire::object_body(&req, data, links))
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};

    use super::*;
    use crate::vendors::http::ListenerScheme;

    /// A GET of an object writes the bytes serde_json writes for the body made of values,
    /// for every API and a VPN (whose links name its children) as well as a queue.
    #[test]
    fn an_object_get_writes_what_serde_json_writes() {
        let vpn = json!({"msgVpnName": "v 1", "enabled": true, "maxMsgSpoolUsage": 0});
        let queue = json!({"msgVpnName": "v 1", "queueName": "q/1", "egressEnabled": false});
        let settings = SolaceSettings::default();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("broker:8080"));
        for (kind, object) in [(Kind::MsgVpn, vpn), (Kind::Queue, queue)] {
            let Value::Object(object) = object else { unreachable!("objects are maps") };
            for api in [Api::Config, Api::Monitor, Api::Action] {
                let uri: Uri = format!("{}/msgVpns/v%201", api.base()).parse().unwrap();
                let req =
                    ReqInfo::new(&Method::GET, &uri, &headers, ListenerScheme::Http, &settings);
                let (data, links) = render(&req, api, kind, &object);
                let whole = serde_json::to_vec(&wire::object_body(&req, data.clone(), links));
                let data = serde_json::to_vec(&data).unwrap();
                let paths = LinkPaths::new(link_paths(api, kind, &object));
                let written = wire::object_body_written(&req, &data, &paths);
                assert_eq!(written, whole.unwrap(), "{kind:?} through {api:?}");
            }
        }
    }
}
