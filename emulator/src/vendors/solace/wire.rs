//! SEMPv2 bodies: the response envelopes, the objects this personality serves, paging and
//! the `count`, `cursor`, `select` and `where` query parameters, and request bodies.
//!
//! Envelopes (bigip-solace.md 2.5, [P]): `{"data": {...} | [...], "links": {...} | [...],
//! "meta": {"request": {"method", "uri"}, "responseCode": 200, "count": N, "paging":
//! {"cursorQuery", "nextPageUri"}}}`. Query parameters follow the SEMP description in
//! `SEMP221` ("Common Query Parameters", [P]): `count` defaults to 10 and is at least 1;
//! `cursor` is opaque; `select` keeps or (with `-`) drops attributes, `*` is a wildcard and
//! every name must match an attribute; `where` is a comma-separated list of
//! `attribute OP value` with `OP` one of `== != < > <= >=` and `*` a wildcard in strings.

use std::future::Future;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use futures_util::future::{ready, Either};
use futures_util::FutureExt as _;
use serde_json::{json, Map, Value};

use super::errors::SempError;
use super::routes::Ctx;
use super::SolaceSettings;
use crate::clock::Now;
use crate::session::Session;
use crate::vendors::http::{BodyRefused, ListenerScheme};

/// The three public SEMPv2 APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `/SEMP/v2/monitor`.
    Monitor,
    /// `/SEMP/v2/config`.
    Config,
    /// `/SEMP/v2/action`.
    Action,
}

impl Api {
    /// The base path of the API.
    pub fn base(self) -> &'static str {
        match self {
            Api::Monitor => "/SEMP/v2/monitor",
            Api::Config => "/SEMP/v2/config",
            Api::Action => "/SEMP/v2/action",
        }
    }
}

/// Base path of the private config API (local users, the broker's auth type).
pub const PRIVATE_CONFIG: &str = "/SEMP/v2/__private_config__";

/// Base path of the private action API (renaming a local user).
pub const PRIVATE_ACTION: &str = "/SEMP/v2/__private_action__";

// ----- the request -----

/// What `meta.request` and every link need to know about the request. The router's step
/// hands one to every handler (in [`Authorized`](super::auth::Authorized)), and each
/// handler takes a copy: it is shared, so a copy is a reference count, not four strings.
#[derive(Clone, Debug)]
pub struct ReqInfo(std::sync::Arc<RequestFacts>);

impl std::ops::Deref for ReqInfo {
    type Target = RequestFacts;

    fn deref(&self) -> &RequestFacts {
        &self.0
    }
}

/// The facts a [`ReqInfo`] shares.
#[derive(Debug)]
pub struct RequestFacts {
    /// HTTP method.
    pub method: String,
    /// The path as sent (percent-encoded).
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// `http://host:port` when URIs are absolute, else empty.
    pub base: String,
}

impl ReqInfo {
    /// The request described by its method, URI and headers.
    pub fn new(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        listener: ListenerScheme,
        settings: &SolaceSettings,
    ) -> Self {
        let base = if settings.absolute_uris {
            let host = uri
                .authority()
                .map(|a| a.as_str())
                .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
                .unwrap_or("localhost");
            // Pieces pushed rather than `format!`ed: every request builds this.
            let scheme = listener.as_str();
            let mut base = String::with_capacity(scheme.len() + 3 + host.len());
            base.push_str(scheme);
            base.push_str("://");
            base.push_str(host);
            base
        } else {
            String::new()
        };
        ReqInfo(std::sync::Arc::new(RequestFacts {
            method: method.as_str().to_string(),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            base,
        }))
    }

    /// `meta.request.uri`: the request's URI (absolute when the profile says so).
    pub fn uri(&self) -> String {
        match &self.query {
            Some(q) => format!("{}{}?{q}", self.base, self.path),
            None => format!("{}{}", self.base, self.path),
        }
    }

    /// A link to `path` on this broker.
    pub fn link(&self, path: &str) -> String {
        let mut link = String::with_capacity(self.base.len() + path.len());
        link.push_str(&self.base);
        link.push_str(path);
        link
    }

    /// `meta.request`.
    pub fn meta_request(&self) -> Value {
        json!({ "method": self.method, "uri": self.uri() })
    }

    /// The query parameters, decoded.
    pub fn params(&self) -> Params {
        Params::parse(self.query.as_deref().unwrap_or(""))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReqInfo {
    type Rejection = SempError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<super::auth::Authorized>()
            .map(|authorized| authorized.info.clone())
            .ok_or_else(|| SempError::internal("the request was not described"))
    }
}

// ----- envelopes -----

/// An object response: `data`, `links`, `meta`.
pub fn object_body(req: &ReqInfo, data: Value, links: Value) -> Value {
    json!({
        "data": data,
        "links": links,
        "meta": { "request": req.meta_request(), "responseCode": 200 },
    })
}

/// An object's `links` as the paths they name on the broker (a request adds its base to
/// each), in key order, and whether JSON escapes nothing in their keys and paths: worked
/// out once, where they are kept ([`super::models::Written`]).
#[derive(Debug, Default)]
pub struct LinkPaths {
    links: Vec<(String, String)>,
    plain: bool,
}

impl LinkPaths {
    /// `links`, each key with its path, in key order.
    pub fn new(links: Vec<(String, String)>) -> LinkPaths {
        let plain = links.iter().all(|(key, path)| plain(key) && plain(path));
        LinkPaths { links, plain }
    }
}

/// [`object_body`] with `data` already written and the links as paths: the bytes
/// serde_json writes for the whole (its objects' keys in byte order: `data`, `links`,
/// `meta`). The links and `meta` are written straight from the request's facts, with no
/// JSON values made for them.
pub fn object_body_written(req: &ReqInfo, data: &[u8], links: &LinkPaths) -> Bytes {
    let base = &req.base;
    let links_len: usize =
        links.links.iter().map(|(k, p)| k.len() + base.len() + p.len() + 6).sum();
    let uri_len = base.len() + req.path.len() + req.query.as_ref().map_or(0, |q| q.len() + 1);
    let mut out = Vec::with_capacity(data.len() + links_len + uri_len + 96);
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(data);
    out.extend_from_slice(b",\"links\":{");
    // Nothing to escape, the usual case: the pieces are copied without looking at them.
    let copied = links.plain && plain(base);
    for (i, (key, path)) in links.links.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if copied {
            for piece in ["\"", key, "\":\"", base, path, "\""] {
                out.extend_from_slice(piece.as_bytes());
            }
        } else {
            push_json_str(&mut out, &[key]);
            out.push(b':');
            push_json_str(&mut out, &[base, path]);
        }
    }
    out.extend_from_slice(b"},\"meta\":{\"request\":{\"method\":");
    push_json_str(&mut out, &[&req.method]);
    out.extend_from_slice(b",\"uri\":");
    match &req.query {
        Some(q) => push_json_str(&mut out, &[base, &req.path, "?", q]),
        None => push_json_str(&mut out, &[base, &req.path]),
    }
    out.extend_from_slice(b"},\"responseCode\":200}}");
    out.into()
}

/// `pieces` joined, as the JSON string serde_json writes for them: copied as they are
/// when nothing in them needs escaping (the usual case for paths and hosts), else
/// escaped by serde_json itself.
fn push_json_str(out: &mut Vec<u8>, pieces: &[&str]) {
    if pieces.iter().all(|p| plain(p)) {
        out.push(b'"');
        for piece in pieces {
            out.extend_from_slice(piece.as_bytes());
        }
        out.push(b'"');
    } else {
        // Writing into a vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, &pieces.concat());
    }
}

/// Whether JSON escapes nothing in `text`: no `"`, `\` or control character. Eight bytes
/// are looked at together (a byte at a time, writing a Message VPN's links and `meta`
/// took 5,000 instructions; a word at a time, 3,000): in a word `w`,
/// `(w - 0x2020..20) & !w & 0x8080..80` is not zero when some byte is below 0x20, and
/// `w ^ 0x2222..22` has a zero byte when some byte is `"`.
fn plain(text: &str) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS != 0;
    let has = |w: u64, b: u8| below(w ^ (ONES * u64::from(b)), 1);
    let mut words = text.as_bytes().chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if below(w, 0x20) || has(w, b'"') || has(w, b'\\') {
            return false;
        }
    }
    words.remainder().iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// `SempMetaOnlyResponse`: an action's answer, or a DELETE's.
pub fn meta_only(req: &ReqInfo) -> Value {
    json!({ "meta": { "request": req.meta_request(), "responseCode": 200 } })
}

/// One page of a collection.
#[derive(Debug)]
pub struct Page {
    /// The objects of this page, `select` applied.
    pub data: Vec<Value>,
    /// Their links.
    pub links: Vec<Value>,
    /// How many objects matched `where`, over all pages.
    pub count: usize,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

/// A collection response: `data` and `links` arrays, `meta.count`, and `meta.paging`
/// when more objects remain.
pub fn collection_body(req: &ReqInfo, page: Page, params: &ListParams) -> Value {
    let mut meta = json!({
        "count": page.count,
        "request": req.meta_request(),
        "responseCode": 200,
    });
    if let Some(cursor) = page.next {
        meta["paging"] = json!({
            "cursorQuery": cursor,
            "nextPageUri": req.link(&format!("{}?{}", req.path, params.next_query(&cursor))),
        });
    }
    json!({ "data": page.data, "links": page.links, "meta": meta })
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes_response(status, serde_json::to_vec(body).unwrap_or_default().into())
}

/// [`json_response`] for a body already written.
pub fn json_bytes_response(status: StatusCode, body: axum::body::Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// [`json_response`] for a body rendered before, with its `Content-Length`.
pub fn rendered_response(status: StatusCode, body: &crate::vendors::http::Rendered) -> Response {
    let mut response = json_bytes_response(status, body.bytes().clone());
    response.headers_mut().insert(header::CONTENT_LENGTH, body.length().clone());
    response
}

/// Whole seconds since the Unix epoch (SEMP times are int32 Unix seconds [P]).
pub fn unix(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp()
}

// ----- objects -----

/// Percent-encodes one identifier for a URI (everything but unreserved characters).
pub fn encode(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/SEMP/v2/<api>/sessions/<user>,<id>`: the comma stays unescaped (SEMP-API-Protocol:
/// "any comma in the resource identifier must not be escaped", [P]).
pub fn session_path(api: Api, session: &Session) -> String {
    format!("{}/sessions/{},{}", api.base(), encode(&session.user), encode(&session.id))
}

/// A monitor-API `Session`: every field int32 or string, exactly these four
/// (bigip-solace.md 2.4, [P]).
pub fn monitor_session(session: &Session) -> Value {
    json!({
        "createTime": unix(session.created_at),
        "lastActivityTime": unix(session.last_used_at),
        "sessionId": session.id,
        "sessionUsername": session.user,
    })
}

/// An action-API `Session`: only its identifying attributes (bigip-solace.md 2.4, [P]).
pub fn action_session(session: &Session) -> Value {
    json!({ "sessionId": session.id, "sessionUsername": session.user })
}

/// The links of a session object.
pub fn session_links(req: &ReqInfo, api: Api, session: &Session, action_links: bool) -> Value {
    let path = session_path(api, session);
    if api == Api::Action && action_links {
        json!({ "deleteUri": req.link(&format!("{path}/delete")), "uri": req.link(&path) })
    } else {
        json!({ "uri": req.link(&path) })
    }
}

/// `AboutUser` (bigip-solace.md 2.4, [P]). The session fields appear only when a session
/// is active for the request; Bearer requests have none.
pub fn about_user(user: &str, level: &str, session: Option<&Session>, now: Now) -> Value {
    let mut data = json!({
        "globalAccessLevel": level,
        "sessionActive": session.is_some(),
        "username": user,
    });
    if let Some(s) = session {
        data["sessionId"] = json!(s.id);
        data["sessionCreateTime"] = json!(unix(s.created_at));
        data["sessionCurrentTime"] = json!(unix(now.utc));
        if let Some(at) = s.idle_expires_at(now) {
            data["sessionIdleExpiryTime"] = json!(unix(at));
        }
        if let Some(at) = s.hard_expires_at(now) {
            data["sessionHardExpiryTime"] = json!(unix(at));
        }
    }
    data
}

/// A local management user of the private config API. The password is write-only.
pub fn username(user: &str, level: &str) -> Value {
    json!({ "globalAccessLevel": level, "userName": user })
}

// ----- query parameters -----

/// Decoded query parameters, in order.
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=2` (`+` is a space, `%XX` a byte).
    pub fn parse(query: &str) -> Params {
        Params(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The first value of `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `select`: attributes kept, then attributes dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Select {
    keep: Vec<String>,
    drop: Vec<String>,
}

impl Select {
    /// Parses the comma-separated lists of every `select` parameter; `None` when absent.
    pub fn parse(params: &Params, settings: &SolaceSettings) -> Result<Option<Select>, SempError> {
        let values = params.all("select");
        if values.is_empty() {
            return Ok(None);
        }
        let mut select = Select::default();
        for name in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
            if name.is_empty() {
                continue;
            }
            match name.strip_prefix('-') {
                Some(dropped) => select.drop.push(dropped.to_string()),
                None if !select.drop.is_empty() => {
                    return Err(SempError::invalid_parameter(
                        settings,
                        "Attributes prefaced by '-' must follow all other attributes in select",
                    ));
                }
                None => select.keep.push(name.to_string()),
            }
        }
        Ok(Some(select))
    }

    /// Applies it to one object; every name must match at least one attribute.
    pub fn apply(&self, object: &Value, settings: &SolaceSettings) -> Result<Value, SempError> {
        let Some(map) = object.as_object() else { return Ok(object.clone()) };
        for name in self.keep.iter().chain(&self.drop) {
            if !map.keys().any(|k| wildcard(name, k)) {
                return Err(SempError::invalid_parameter(
                    settings,
                    format!("Invalid select attribute {name}"),
                ));
            }
        }
        let kept: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| self.keep.is_empty() && !self.drop.is_empty() || self.keeps(k))
            .filter(|(k, _)| !self.drop.iter().any(|d| wildcard(d, k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Value::Object(kept))
    }

    fn keeps(&self, key: &str) -> bool {
        self.keep.iter().any(|p| wildcard(p, key))
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// One `where` expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    attribute: String,
    op: &'static str,
    value: String,
}

impl Condition {
    fn parse(text: &str, settings: &SolaceSettings) -> Result<Condition, SempError> {
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if let Some((attribute, value)) = text.split_once(op) {
                let attribute = attribute.trim();
                if !attribute.is_empty() {
                    return Ok(Condition {
                        attribute: attribute.to_string(),
                        op,
                        value: value.trim().to_string(),
                    });
                }
            }
        }
        Err(SempError::invalid_parameter(settings, format!("Invalid where expression {text}")))
    }

    /// Whether `object` satisfies it.
    pub fn holds(&self, object: &Value, settings: &SolaceSettings) -> Result<bool, SempError> {
        let bad = || {
            SempError::invalid_parameter(
                settings,
                format!("Invalid where attribute {}", self.attribute),
            )
        };
        let value = object.get(&self.attribute).ok_or_else(bad)?;
        let ordering = match value {
            Value::Number(n) => {
                let (Some(have), Ok(want)) = (n.as_f64(), self.value.parse::<f64>()) else {
                    return Err(bad());
                };
                have.partial_cmp(&want)
            }
            Value::Bool(b) => Some(b.to_string().cmp(&self.value)),
            Value::String(s) => match self.op {
                "==" => return Ok(wildcard(&self.value, s)),
                "!=" => return Ok(!wildcard(&self.value, s)),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        };
        let Some(ordering) = ordering else { return Ok(false) };
        Ok(match self.op {
            "==" => ordering.is_eq(),
            "!=" => !ordering.is_eq(),
            "<" => ordering.is_lt(),
            ">" => ordering.is_gt(),
            "<=" => ordering.is_le(),
            _ => ordering.is_ge(),
        })
    }
}

/// The parameters of a collection request.
#[derive(Clone, Debug)]
pub struct ListParams {
    /// Page size.
    pub count: usize,
    /// Where the page starts: after this (creation instant in nanoseconds, id).
    pub after: Option<(u128, String)>,
    /// Every `where` condition.
    pub conditions: Vec<Condition>,
    /// `select`.
    pub select: Option<Select>,
    /// The raw `where` and `select` values, for `nextPageUri`.
    raw: Vec<(String, String)>,
}

impl ListParams {
    /// Reads `count`, `cursor`, `where` and `select`.
    pub fn parse(params: &Params, settings: &SolaceSettings) -> Result<ListParams, SempError> {
        let count = match params.first("count") {
            None => 10,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    return Err(SempError::invalid_parameter(
                        settings,
                        format!("Invalid count {text}: the minimum is 1"),
                    ));
                }
            },
        };
        let count = count.min(settings.max_page_count.max(1));
        let after = match params.first("cursor") {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
                SempError::invalid_parameter(settings, format!("Invalid cursor {cursor}"))
            })?),
        };
        let conditions = params
            .all("where")
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|e| !e.trim().is_empty())
            .map(|e| Condition::parse(e, settings))
            .collect::<Result<Vec<_>, _>>()?;
        let select = Select::parse(params, settings)?;
        let raw = params.0.iter().filter(|(k, _)| k == "where" || k == "select").cloned().collect();
        Ok(ListParams { count, after, conditions, select, raw })
    }

    /// The query of the next page.
    fn next_query(&self, cursor: &str) -> String {
        let mut parts = vec![format!("count={}", self.count), format!("cursor={cursor}")];
        for (k, v) in &self.raw {
            parts.push(format!("{k}={}", encode_query(v)));
        }
        parts.join("&")
    }
}

fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,*=!<>".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An opaque cursor: the position after the object at `(position, id)`, base64url, as
/// [`ListParams`] reads it back into [`ListParams::after`].
pub fn encode_position_cursor(position: u128, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{position}:{id}"))
}

fn decode_cursor(cursor: &str) -> Option<(u128, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (nanos, id) = text.split_once(':')?;
    Some((nanos.parse().ok()?, id.to_string()))
}

/// One page of `sessions` (oldest first, in creation order), filtered by `where`,
/// rendered by `render`, with `select` applied.
pub fn page_of_sessions(
    mut sessions: Vec<Session>,
    params: &ListParams,
    settings: &SolaceSettings,
    render: impl Fn(&Session) -> (Value, Value),
) -> Result<Page, SempError> {
    sessions.sort_by(|a, b| (a.created_mono, &a.id).cmp(&(b.created_mono, &b.id)));
    page_of(&sessions, |s| (s.created_mono.as_nanos(), s.id.clone()), params, settings, render)
}

/// One page of `items`, which are in the order of their `position` (the key a cursor
/// holds): filtered by `where`, rendered by `render`, with `select` applied, starting
/// after the request's cursor.
pub fn page_of<T>(
    items: &[T],
    position: impl Fn(&T) -> (u128, String),
    params: &ListParams,
    settings: &SolaceSettings,
    render: impl Fn(&T) -> (Value, Value),
) -> Result<Page, SempError> {
    let mut matching = Vec::new();
    for item in items {
        let (data, links) = render(item);
        let mut keep = true;
        for condition in &params.conditions {
            keep &= condition.holds(&data, settings)?;
        }
        if keep {
            matching.push((item, data, links));
        }
    }
    let count = matching.len();
    let start = match &params.after {
        None => 0,
        Some(after) => {
            matching.iter().position(|(i, _, _)| &position(i) > after).unwrap_or(matching.len())
        }
    };
    let end = (start + params.count).min(matching.len());
    let next = (end < matching.len() && end > start).then(|| {
        let (at, id) = position(matching[end - 1].0);
        encode_position_cursor(at, &id)
    });
    let mut data = Vec::with_capacity(end - start);
    let mut links = Vec::with_capacity(end - start);
    for (_, object, link) in &matching[start..end] {
        data.push(match &params.select {
            Some(select) => select.apply(object, settings)?,
            None => object.clone(),
        });
        links.push(link.clone());
    }
    Ok(Page { data, links, count, next })
}

/// Applies an object request's `select`, if any.
pub fn select_object(
    object: Value,
    params: &Params,
    settings: &SolaceSettings,
) -> Result<Value, SempError> {
    match Select::parse(params, settings)? {
        Some(select) => select.apply(&object, settings),
        None => Ok(object),
    }
}

// ----- request bodies -----

/// A request body that is a JSON object. An empty body reads as `{}`; a body past
/// [`SolaceSettings::max_body_bytes`], malformed JSON or JSON that is not an object is a
/// `PARSE_ERROR` (code 27: "an error in ... the JSON content of the payload", [P]).
#[derive(Clone, Debug)]
pub struct SempJson(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for SempJson {
    type Rejection = SempError;

    /// The future keeps only the body's reading, not the request (see
    /// [`crate::vendors::http::limited_body`]).
    fn from_request(req: Request, _: &S) -> impl Future<Output = Result<Self, SempError>> {
        let Some(ctx) = Ctx::of(req.extensions()) else {
            return Either::Left(ready(Err(super::routes::no_context())));
        };
        let limit = ctx.settings.max_body_bytes;
        let reading = crate::vendors::http::limited_body(req, limit);
        Either::Right(reading.map(move |read| match read {
            Ok(bytes) => json_object(&bytes),
            Err(BodyRefused::TooLarge) => Err(SempError::parse_error(format!(
                "The request body is larger than {limit} bytes"
            ))),
            Err(BodyRefused::Unreadable) => {
                Err(SempError::parse_error("The request body could not be read"))
            }
        }))
    }
}

/// A request body as a [`SempJson`]: blank reads as `{}`.
fn json_object(bytes: &[u8]) -> Result<SempJson, SempError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(SempJson(Map::new()));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(SempJson(map)),
        Ok(_) => Err(SempError::parse_error("The request body must be a JSON object")),
        Err(e) => Err(SempError::parse_error(format!(
            "Invalid JSON at line {} column {}",
            e.line(),
            e.column()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SolaceSettings {
        SolaceSettings::default()
    }

    /// An object's body put together around its written `data` is byte for byte what
    /// serde_json writes for the whole body: with absolute links and with relative ones,
    /// with and without a query, and with characters JSON escapes in the host, the path
    /// and the links.
    #[test]
    fn a_body_around_written_data_is_what_serde_json_writes() {
        let data = json!({"msgVpnName": "default", "b": [1, {"z": "\u{e9}\"", "a": null}], "a": 1});
        let plain_links = [
            ("aclProfilesUri".to_string(), "/SEMP/v2/config/msgVpns/default/aclProfiles".into()),
            ("uri".to_string(), "/SEMP/v2/config/msgVpns/default".to_string()),
        ];
        let escaped_links = [("a\"".to_string(), "/x".to_string()), ("uri".into(), "/\\".into())];
        let as_value = |req: &ReqInfo, links: &[(String, String)]| {
            Value::Object(links.iter().map(|(k, p)| (k.clone(), json!(req.link(p)))).collect())
        };
        let hosts = ["h:8080", "h\"q\\:1"];
        let uris = ["/SEMP/v2/config/msgVpns/default?count=1", "/SEMP/v2/config/msgVpns/d%22\\"];
        let cases = [true, false].into_iter().flat_map(|absolute| {
            hosts.into_iter().flat_map(move |host| uris.map(|uri| (absolute, host, uri)))
        });
        for (absolute, host, uri) in cases {
            let s = SolaceSettings { absolute_uris: absolute, ..settings() };
            let uri: Uri = uri.parse().unwrap();
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            let req = ReqInfo::new(&Method::GET, &uri, &headers, ListenerScheme::Http, &s);
            let written = serde_json::to_vec(&data).unwrap();
            for links in [&plain_links, &escaped_links] {
                let whole = object_body(&req, data.clone(), as_value(&req, links));
                let paths = LinkPaths::new(links.to_vec());
                let body = object_body_written(&req, &written, &paths);
                assert_eq!(body, serde_json::to_vec(&whole).unwrap());
            }
        }
    }

    /// Eight bytes at a time, `plain` finds every byte JSON escapes wherever it is, and
    /// passes every other ASCII byte and characters of more than one byte.
    #[test]
    fn plain_finds_every_byte_json_escapes() {
        for len in 1..=19 {
            for at in 0..len {
                for b in 0..0x80u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = b;
                    let text = String::from_utf8(text).unwrap();
                    let escapes = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(plain(&text), !escapes, "{b:#04x} at {at} of {len}");
                }
            }
        }
        assert!(plain("/SEMP/v2/config/msgVpns/\u{e9}t\u{e9}-\u{1F600}"));
        assert!(!plain("\u{e9}\u{e9}\u{e9}\u{e9}\""));
    }

    /// SEMP221 "where": `==` on strings with `*` wildcards, and numeric comparisons.
    #[test]
    fn where_conditions_match_strings_and_numbers() {
        let s = settings();
        let object = json!({"sessionUsername": "admin", "createTime": 100});
        let holds = |e: &str| Condition::parse(e, &s).unwrap().holds(&object, &s).unwrap();
        assert!(holds("sessionUsername==admin"));
        assert!(holds("sessionUsername==adm*"));
        assert!(!holds("sessionUsername!=admin"));
        assert!(holds("createTime>=100"));
        assert!(!holds("createTime<100"));
        assert!(Condition::parse("nothing", &s).is_err());
        assert!(Condition::parse("nope==1", &s).unwrap().holds(&object, &s).is_err());
    }

    /// SEMP221 "select": kept names, dropped names after them, wildcards, and every
    /// name must match an attribute.
    #[test]
    fn select_keeps_and_drops() {
        let s = settings();
        let object = json!({"sessionId": "1", "sessionUsername": "a", "createTime": 5});
        let apply =
            |q: &str| Select::parse(&Params::parse(q), &s).unwrap().unwrap().apply(&object, &s);
        assert_eq!(apply("select=sessionId").unwrap(), json!({"sessionId": "1"}));
        assert_eq!(apply("select=session*,-sessionId").unwrap(), json!({"sessionUsername": "a"}));
        assert_eq!(apply("select=-session*").unwrap(), json!({"createTime": 5}));
        assert_eq!(apply("select=").unwrap(), json!({}));
        assert!(apply("select=bogus").is_err());
        assert!(Select::parse(&Params::parse("select=-a,b"), &s).is_err());
    }

    /// Query strings decode `%XX` and `+`.
    #[test]
    fn params_decode() {
        let p = Params::parse("where=sessionUsername%3D%3Dadmin&select=a,b&x=1+2&bad=%zz");
        assert_eq!(p.first("where"), Some("sessionUsername==admin"));
        assert_eq!(p.first("x"), Some("1 2"));
        assert_eq!(p.first("bad"), Some("%zz"));
        assert_eq!(p.all("select"), vec!["a,b"]);
    }

    /// Wildcards anchor at both ends.
    #[test]
    fn wildcards_anchor() {
        assert!(wildcard("a*c", "abc"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*c", "abcd"));
        assert!(wildcard("a*b*c", "axxbyyc"));
        assert!(!wildcard("ab*ba", "aba"));
    }
}
