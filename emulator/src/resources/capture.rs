//! `sessionlab-emulator capture`: a live Redfish service's tree, written as a mockup in
//! DMTF's format (the tall form, as DMTF's Redfish-Mockup-Creator writes it:
//! `redfish/index.json`, `redfish/v1/index.json`, one `index.json` per resource and, with
//! headers on, a `headers.json` of the form `{"GET": {"Header": "value"}}` beside it).
//!
//! The walk goes through one session: the Sessions collection is found from the service
//! root (`Links.Sessions`, DSP0266 "Service root"), the session is created with a POST and
//! used through `X-Auth-Token`, and it is deleted at the end whatever happened — success,
//! an error, or the `cancel` future (Ctrl-C) completing. Besides that POST and DELETE the
//! service sees GETs only: the capture never writes to the device. It follows `@odata.id`,
//! `@Redfish.ActionInfo` and `Members@odata.nextLink` breadth-first under `/redfish/v1`
//! on the service's own origin (a link to another host is never followed: it would carry
//! the token), merges a paged collection's pages into one document, and stops at
//! `max_resources`.
//!
//! What is written differs from what was read in three documented ways:
//! - sessions are live state, not inventory: the Sessions collection is written with no
//!   members, and no session resource (the capture's own included) is read or written;
//! - string values of properties named like secrets (passwords, pass phrases, tokens,
//!   keys other than public ones, secrets, SNMP community strings) are written as `null`,
//!   as Redfish itself reports a password;
//! - `headers.json` leaves out framing, session and time headers (`Connection`,
//!   `Content-Length`, `Transfer-Encoding`, `Date`, `Set-Cookie`, `X-Auth-Token`, ...).
//!
//! Property order is kept as the service sent it, with four-space indentation as the
//! Creator writes it.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Headers never written to (nor served from) `headers.json`: framing and connection
/// headers (what DMTF's Redfish-Mockup-Server also refuses to replay), and headers about
/// the session, the request or the time rather than the resource.
pub const UNCAPTURED_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "content-length",
    "transfer-encoding",
    "content-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "date",
    "set-cookie",
    "x-auth-token",
    "authorization",
    "www-authenticate",
    "location",
];

/// How to capture.
#[derive(Clone)]
pub struct CaptureOptions {
    /// The service's URL (`https://10.0.0.5`, `http://127.0.0.1:8000`); a path is ignored.
    pub url: String,
    /// The user to log in as.
    pub user: String,
    /// Its password (never logged).
    pub password: String,
    /// The directory to write; created, and refused unless empty.
    pub out: PathBuf,
    /// Accept a certificate that does not verify (self-signed BMC certificates).
    pub insecure: bool,
    /// Stop after this many resources.
    pub max_resources: usize,
    /// Per-request timeout (the logout gets at most ten seconds of it).
    pub timeout: Duration,
    /// Write `headers.json` beside each `index.json`.
    pub headers: bool,
}

impl fmt::Debug for CaptureOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureOptions")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("out", &self.out)
            .field("insecure", &self.insecure)
            .field("max_resources", &self.max_resources)
            .field("timeout", &self.timeout)
            .field("headers", &self.headers)
            .finish()
    }
}

/// What a capture did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Resources written under `/redfish/v1` (as `check` counts them; `/redfish` is
    /// written too).
    pub resources: usize,
    /// Links that did not answer 200 with JSON: (path, why).
    pub skipped: Vec<(String, String)>,
    /// String values written as `null` because their property looks secret.
    pub redacted: usize,
    /// Whether the walk stopped at `max_resources` with links left to follow.
    pub truncated: bool,
    /// Where the session was created (its members are not captured).
    pub sessions_collection: String,
}

/// One step of progress, for the caller to show.
#[derive(Clone, Debug)]
pub enum Progress {
    /// Logged in; the walk starts.
    LoggedIn {
        /// The session's URI (never its token).
        session: String,
    },
    /// A resource was read.
    Resource {
        /// Its path.
        path: String,
        /// Resources read so far.
        done: usize,
        /// Links waiting.
        queued: usize,
    },
    /// A link was skipped.
    Skipped {
        /// Its path.
        path: String,
        /// Why.
        why: String,
    },
    /// The session was deleted.
    LoggedOut,
}

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The URL is unusable.
    #[error("{0}")]
    BadUrl(String),
    /// The output directory is unusable.
    #[error("{0}")]
    Output(String),
    /// The service could not be reached.
    #[error("cannot reach {url}: {cause}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why, with its causes.
        cause: String,
    },
    /// The service does not answer as a Redfish service.
    #[error("{url} does not look like a Redfish service: {why}")]
    NotRedfish {
        /// The URL.
        url: String,
        /// What it answered.
        why: String,
    },
    /// The login was refused.
    #[error("login as {user:?} refused: HTTP {status}{message}")]
    LoginRefused {
        /// The user.
        user: String,
        /// The status.
        status: u16,
        /// The service's message, when it gave one (with a leading separator).
        message: String,
    },
    /// A request failed during the walk.
    #[error("GET {path}: {cause}")]
    Walk {
        /// The path.
        path: String,
        /// Why.
        cause: String,
    },
    /// The `cancel` future completed (Ctrl-C).
    #[error("interrupted; the mockup in {0} is incomplete")]
    Interrupted(String),
    /// The capture finished (or failed) but the session could not be deleted.
    #[error("{first}; and the session {session} could not be deleted ({cause}): delete it on the device")]
    LogoutFailed {
        /// The capture's own outcome.
        first: String,
        /// The session's URI.
        session: String,
        /// Why.
        cause: String,
    },
}

/// An error and its causes on one line (reqwest keeps the useful part in `source`).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

// ---------------------------------------------------------------------------------------
// JSON that keeps the service's property order.

/// A JSON value whose objects keep their order (serde_json's `Value` sorts them here).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null`.
    Null,
    /// `true`, `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object, in document order.
    Object(Vec<(String, Node)>),
}

impl Node {
    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Object(items) => items.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn set(&mut self, key: &str, value: Node) {
        if let Node::Object(items) = self {
            match items.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => items.push((key.to_string(), value)),
            }
        }
    }

    fn remove(&mut self, key: &str) {
        if let Node::Object(items) = self {
            items.retain(|(k, _)| k != key);
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Node::Null, Node::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut items: Vec<(String, Node)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            // A repeated key keeps its last value, as serde_json does.
            items.retain(|(existing, _)| *existing != k);
            items.push((k, v));
        }
        Ok(Node::Object(items))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(v) => s.serialize_str(v),
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(items) => {
                let mut map = s.serialize_map(Some(items.len()))?;
                for (k, v) in items {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// `node` as the Creator writes it (Python's `json.dump(indent=4, separators=(",", ": "))`):
/// four-space indentation, no final newline.
pub fn pretty(node: &Node) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serialising a tree of owned values into a Vec cannot fail.
    let _ = node.serialize(&mut ser);
    out
}

// ---------------------------------------------------------------------------------------
// Links and secrets.

/// Whether a property of this name holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n.starts_with('@') || n.contains("@odata") || n.contains("@redfish") {
        return false;
    }
    if n.starts_with("public") {
        return false;
    }
    ["password", "passphrase", "secret", "token", "communitystring", "privatekey"]
        .iter()
        .any(|word| n.contains(word))
        || n.ends_with("key")
}

/// Replaces the string values of secret-looking properties with `null`; returns how many.
pub fn redact(node: &mut Node) -> usize {
    match node {
        Node::Object(items) => {
            let mut count = 0;
            for (k, v) in items.iter_mut() {
                if looks_secret(k) && matches!(v, Node::String(_)) {
                    *v = Node::Null;
                    count += 1;
                } else if looks_secret(k)
                    && matches!(v, Node::Array(a) if a.iter().all(|i| matches!(i, Node::String(_))) && !a.is_empty())
                {
                    *v = Node::Array(Vec::new());
                    count += 1;
                } else {
                    count += redact(v);
                }
            }
            count
        }
        Node::Array(items) => items.iter_mut().map(redact).sum(),
        _ => 0,
    }
}

/// Every link of `node` worth following, as the Creator follows them: `@odata.id`,
/// `@Redfish.ActionInfo` and `Uri` (a schema or registry file the service hosts); paging
/// is handled by the walk.
fn links(node: &Node, out: &mut Vec<String>) {
    match node {
        Node::Object(items) => {
            for (k, v) in items {
                match (k.as_str(), v) {
                    ("@odata.id" | "@Redfish.ActionInfo" | "Uri", Node::String(s)) => {
                        out.push(s.clone())
                    }
                    (_, Node::Object(_) | Node::Array(_)) => links(v, out),
                    _ => {}
                }
            }
        }
        Node::Array(items) => items.iter().for_each(|i| links(i, out)),
        _ => {}
    }
}

/// Removes from `node` every link object (`{"@odata.id": ...}`), as a property or an
/// array item, that names a resource under `prefix`.
fn drop_links_under(node: &mut Node, prefix: &str, origin: &reqwest::Url) {
    let names_it = |n: &Node| {
        matches!(n, Node::Object(_))
            && n.get("@odata.id")
                .and_then(Node::as_str)
                .and_then(|l| local_path(l, origin))
                .is_some_and(|p| visit_key(&p).starts_with(prefix))
    };
    match node {
        Node::Object(items) => {
            items.retain(|(_, v)| !names_it(v));
            items.iter_mut().for_each(|(_, v)| drop_links_under(v, prefix, origin));
        }
        Node::Array(items) => {
            items.retain(|v| !names_it(v));
            items.iter_mut().for_each(|v| drop_links_under(v, prefix, origin));
        }
        _ => {}
    }
}

/// The path a link names on the service at `origin` (`scheme://host:port`), without its
/// fragment and query; `None` when it leaves the service or `/redfish/v1`.
fn local_path(link: &str, origin: &reqwest::Url) -> Option<String> {
    let url = origin.join(link).ok()?;
    if url.origin() != origin.origin() {
        return None;
    }
    let path = url.path().to_string();
    (path == "/redfish/v1" || path.starts_with("/redfish/v1/")).then_some(path)
}

/// The OData service document (DSP0266 "OData service document"); optional.
const ODATA: &str = "/redfish/v1/odata";

/// The key a path is visited under: no trailing slash.
fn visit_key(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The directory of `path` under `out`, refusing segments that would leave it.
fn dir_of(out: &Path, path: &str) -> Result<PathBuf, String> {
    let mut dir = out.to_path_buf();
    for segment in path.trim_matches('/').split('/') {
        if segment.is_empty() {
            continue;
        }
        if segment == "." || segment == ".." || segment.contains(['\\', '\0']) {
            return Err(format!("unsafe path segment {segment:?}"));
        }
        dir.push(segment);
    }
    Ok(dir)
}

// ---------------------------------------------------------------------------------------
// The walk.

struct Client {
    http: reqwest::Client,
    origin: reqwest::Url,
    token: Option<String>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    is_json: bool,
}

impl Client {
    async fn send(&self, method: reqwest::Method, path: &str) -> Result<Reply, String> {
        self.send_body(method, path, None).await
    }

    async fn send_body(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, String> {
        let url = self.origin.join(path).map_err(|e| e.to_string())?;
        let mut request = self.http.request(method, url).header("Accept", "application/json");
        if let Some(token) = &self.token {
            request = request.header("X-Auth-Token", token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| chain(&e))?;
        let status = response.status().as_u16();
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
                Some((_, existing)) => {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
                None => headers.push((name.as_str().to_string(), value)),
            }
        }
        let is_json = headers.iter().any(|(n, v)| n == "content-type" && v.contains("json"));
        let body = response.bytes().await.map_err(|e| chain(&e))?.to_vec();
        Ok(Reply { status, headers, body, is_json })
    }
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The service's own message from an error body, for the user.
fn error_message(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return String::new() };
    let error = &value["error"];
    let text = error["@Message.ExtendedInfo"][0]["Message"]
        .as_str()
        // iLO's message is "See @Message.ExtendedInfo ...": its MessageId says more.
        .or_else(|| error["@Message.ExtendedInfo"][0]["MessageId"].as_str())
        .or_else(|| error["message"].as_str());
    text.map(|t| format!(": {t}")).unwrap_or_default()
}

fn prepare_output(out: &Path) -> Result<(), CaptureError> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| {
            CaptureError::Output(format!("cannot read output directory {}: {e}", out.display()))
        })?;
        if entries.next().is_some() {
            return Err(CaptureError::Output(format!(
                "output directory {} is not empty; give a new or empty directory",
                out.display()
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| {
        CaptureError::Output(format!("cannot create output directory {}: {e}", out.display()))
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The origin of `url`: its scheme, host and port (a path is ignored).
pub fn parse_origin(url: &str) -> Result<reqwest::Url, CaptureError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        CaptureError::BadUrl(format!(
            "{url:?} is not a URL ({e}); give one with its scheme, e.g. https://10.0.0.5"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(CaptureError::BadUrl(format!(
            "{url:?}: give an http:// or https:// URL with a host, e.g. https://10.0.0.5"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(CaptureError::BadUrl(
            "the URL holds credentials: give them with --user and --password instead".to_string(),
        ));
    }
    let mut origin = parsed;
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    Ok(origin)
}

/// Captures the service described by `options` into `options.out`, reporting progress
/// to `progress`; stops (and logs out) when `cancel` completes.
pub async fn capture(
    options: &CaptureOptions,
    mut progress: impl FnMut(Progress),
    cancel: impl Future<Output = ()>,
) -> Result<Summary, CaptureError> {
    let origin = parse_origin(&options.url)?;
    let created = !options.out.exists();
    prepare_output(&options.out)?;
    let result = capture_into(options, origin, &mut progress, cancel).await;
    if result.is_err() && created {
        // Nothing was captured (a refused login, an unreachable service): no empty
        // directory is left behind. `remove_dir` leaves a directory that holds anything.
        let _ = std::fs::remove_dir(&options.out);
    }
    result
}

async fn capture_into(
    options: &CaptureOptions,
    origin: reqwest::Url,
    mut progress: impl FnMut(Progress),
    cancel: impl Future<Output = ()>,
) -> Result<Summary, CaptureError> {
    let shown = origin.as_str().trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(options.insecure)
        // A redirect would carry the token wherever it points: none is followed.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(options.timeout)
        .user_agent(concat!("sessionlab-capture/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CaptureError::BadUrl(chain(&e)))?;
    let mut client = Client { http, origin, token: None };

    // The service root answers without authentication (DSP0266 "Service root").
    let root = client.send(reqwest::Method::GET, "/redfish/v1/").await.map_err(|cause| {
        let hint = if cause.contains("certificate") && !options.insecure {
            " (a self-signed certificate? add --insecure)"
        } else {
            ""
        };
        CaptureError::Unreachable { url: shown.clone(), cause: format!("{cause}{hint}") }
    })?;
    let not_redfish = |why: String| CaptureError::NotRedfish { url: shown.clone(), why };
    if root.status != 200 {
        return Err(not_redfish(format!("GET /redfish/v1/ answered HTTP {}", root.status)));
    }
    let root_doc: serde_json::Value = serde_json::from_slice(&root.body)
        .map_err(|_| not_redfish("GET /redfish/v1/ did not answer JSON".to_string()))?;
    if !root_doc.is_object()
        || (root_doc.get("@odata.id").is_none() && root_doc.get("RedfishVersion").is_none())
    {
        return Err(not_redfish(
            "GET /redfish/v1/ answered JSON without @odata.id or RedfishVersion".to_string(),
        ));
    }
    let sessions = sessions_collection(&root_doc);

    // One session.
    let credentials = serde_json::json!({"UserName": options.user, "Password": options.password});
    let login = client
        .send_body(reqwest::Method::POST, &sessions, Some(&credentials))
        .await
        .map_err(|cause| CaptureError::Unreachable { url: shown.clone(), cause })?;
    if login.status != 201 && login.status != 200 {
        return Err(CaptureError::LoginRefused {
            user: options.user.clone(),
            status: login.status,
            message: error_message(&login.body),
        });
    }
    let Some(token) = header(&login, "x-auth-token").map(str::to_string) else {
        return Err(not_redfish(format!("the login at {sessions} answered no X-Auth-Token")));
    };
    let session = header(&login, "location")
        .and_then(|l| client.origin.join(l).ok())
        .map(|u| u.path().to_string())
        .or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&login.body)
                .ok()
                .and_then(|b| b["@odata.id"].as_str().map(str::to_string))
        });
    client.token = Some(token);
    let Some(session) = session else {
        // Without its URI the session cannot be deleted: say so rather than walk.
        return Err(not_redfish(format!(
            "the login at {sessions} answered neither Location nor @odata.id; \
             the session it opened must be deleted on the device"
        )));
    };
    progress(Progress::LoggedIn { session: session.clone() });

    let mut summary = Summary { sessions_collection: sessions.clone(), ..Summary::default() };
    let outcome = tokio::select! {
        r = walk(&client, options, &sessions, &mut summary, &mut progress) => r,
        () = cancel => Err(CaptureError::Interrupted(options.out.display().to_string())),
    };

    // Always log out.
    let logout = tokio::time::timeout(
        options.timeout.min(Duration::from_secs(10)),
        client.send(reqwest::Method::DELETE, &session),
    )
    .await;
    let logout = match logout {
        Ok(Ok(reply)) if (200..300).contains(&reply.status) => Ok(()),
        Ok(Ok(reply)) => Err(format!("HTTP {}{}", reply.status, error_message(&reply.body))),
        Ok(Err(cause)) => Err(cause),
        Err(_) => Err("no answer in time".to_string()),
    };
    match (outcome, logout) {
        (outcome, Ok(())) => {
            progress(Progress::LoggedOut);
            let summary_written = outcome.map(|()| summary)?;
            write_readme(options, &shown, &summary_written)?;
            Ok(summary_written)
        }
        (outcome, Err(cause)) => Err(CaptureError::LogoutFailed {
            first: match outcome {
                Ok(()) => "the capture is complete".to_string(),
                Err(e) => e.to_string(),
            },
            session,
            cause,
        }),
    }
}

/// Where sessions are created: the root's `Links.Sessions` (DSP0266), iLO 4's legacy
/// `links.Sessions.href`, or `SessionService` + `/Sessions` in the root's slash style.
pub fn sessions_collection(root: &serde_json::Value) -> String {
    if let Some(link) = root["Links"]["Sessions"]["@odata.id"].as_str() {
        return link.to_string();
    }
    if let Some(link) = root["links"]["Sessions"]["href"].as_str() {
        return link.to_string();
    }
    match root["SessionService"]["@odata.id"].as_str() {
        Some(service) if service.ends_with('/') => format!("{service}Sessions/"),
        Some(service) => format!("{service}/Sessions"),
        None => "/redfish/v1/SessionService/Sessions".to_string(),
    }
}

fn write_readme(
    options: &CaptureOptions,
    shown: &str,
    summary: &Summary,
) -> Result<(), CaptureError> {
    let now = crate::clock::Clock::new(crate::clock::ClockMode::Real).now().utc;
    let mut text = format!(
        "Redfish service captured by sessionlab-emulator capture, version {}\n\
         Created: {}\nService: {shown}\nUser: {}\nResources: {}\n",
        env!("CARGO_PKG_VERSION"),
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        options.user,
        summary.resources,
    );
    text.push_str(&format!(
        "Sessions: {} is written without members (sessions are live state)\n",
        summary.sessions_collection
    ));
    text.push_str(&format!(
        "Redacted: {} secret-looking string values written as null\n",
        summary.redacted
    ));
    if summary.truncated {
        text.push_str(&format!(
            "Truncated: the walk stopped at {} resources with links left\n",
            options.max_resources
        ));
    }
    for (path, why) in &summary.skipped {
        text.push_str(&format!("Skipped: {path}: {why}\n"));
    }
    write_file(&options.out.join("README"), text.as_bytes()).map_err(CaptureError::Output)
}

/// A GET during the walk: `Ok(None)` for an answer that is not a JSON document (noted as
/// skipped), an error when the session is gone or the service unreachable.
async fn fetch(
    client: &Client,
    path: &str,
    summary: &mut Summary,
    progress: &mut impl FnMut(Progress),
) -> Result<Option<(Node, Vec<(String, String)>)>, CaptureError> {
    let reply = client
        .send(reqwest::Method::GET, path)
        .await
        .map_err(|cause| CaptureError::Walk { path: path.to_string(), cause })?;
    let why = match reply.status {
        200 if reply.is_json => match serde_json::from_slice::<Node>(&reply.body) {
            Ok(node @ Node::Object(_)) => return Ok(Some((node, reply.headers))),
            Ok(_) => "a JSON value that is not an object".to_string(),
            Err(e) => format!("unreadable JSON ({e})"),
        },
        200 => "not JSON".to_string(),
        401 => {
            return Err(CaptureError::Walk {
                path: path.to_string(),
                cause: "HTTP 401: the session ended during the capture".to_string(),
            })
        }
        status => format!("HTTP {status}{}", error_message(&reply.body)),
    };
    summary.skipped.push((path.to_string(), why.clone()));
    progress(Progress::Skipped { path: path.to_string(), why });
    Ok(None)
}

async fn walk(
    client: &Client,
    options: &CaptureOptions,
    sessions: &str,
    summary: &mut Summary,
    progress: &mut impl FnMut(Progress),
) -> Result<(), CaptureError> {
    let out = &options.out;
    let sessions_key = visit_key(&local_path(sessions, &client.origin).unwrap_or_default());
    let write = |path: &str, node: &Node, headers: &[(String, String)]| {
        let dir = dir_of(out, path)
            .map_err(|cause| CaptureError::Walk { path: path.to_string(), cause })?;
        let fail =
            |cause: String| CaptureError::Output(format!("cannot write the mockup: {cause}"));
        write_file(&dir.join("index.json"), &pretty(node)).map_err(fail)?;
        if options.headers {
            let kept: Vec<(String, Node)> = headers
                .iter()
                .filter(|(n, _)| !UNCAPTURED_HEADERS.contains(&n.as_str()))
                .map(|(n, v)| (n.clone(), Node::String(v.clone())))
                .collect();
            if !kept.is_empty() {
                let doc = Node::Object(vec![("GET".to_string(), Node::Object(kept))]);
                write_file(&dir.join("headers.json"), &pretty(&doc)).map_err(fail)?;
            }
        }
        Ok::<(), CaptureError>(())
    };

    // `/redfish` (the version document) makes the mockup the tall form DMTF's tools read
    // by default. The OData service document and $metadata are optional (DSP0266): taken
    // when served, as the Creator takes them, without a warning when not. (sessionlab
    // serves its personality's own $metadata, whatever the mockup holds.)
    if let Some((node, headers)) = fetch(client, "/redfish", summary, progress).await? {
        write("/redfish", &node, &headers)?;
    }
    if let Ok(reply) = client.send(reqwest::Method::GET, "/redfish/v1/$metadata").await {
        let xml = header(&reply, "content-type").is_some_and(|t| t.contains("xml"));
        if reply.status == 200 && xml {
            let dir = dir_of(out, "/redfish/v1/$metadata").map_err(CaptureError::Output)?;
            write_file(&dir.join("index.xml"), &reply.body).map_err(CaptureError::Output)?;
        }
    }

    let mut queue: VecDeque<String> = VecDeque::from(["/redfish/v1/".to_string()]);
    let mut seen: HashSet<String> = HashSet::from([visit_key("/redfish/v1/"), visit_key(ODATA)]);
    let mut odata_pending = true;
    let mut done = 0usize;
    // The OData service document last, once the walk is done.
    while let Some(path) =
        queue.pop_front().or_else(|| std::mem::take(&mut odata_pending).then(|| ODATA.to_string()))
    {
        if done >= options.max_resources {
            summary.truncated = true;
            break;
        }
        let fetched = if path == ODATA {
            let reply = client.send(reqwest::Method::GET, ODATA).await;
            match reply {
                Ok(r) if r.status == 200 && r.is_json => {
                    serde_json::from_slice::<Node>(&r.body).ok().map(|n| (n, r.headers))
                }
                _ => None,
            }
        } else {
            fetch(client, &path, summary, progress).await?
        };
        let Some((mut node, headers)) = fetched else {
            continue;
        };
        done += 1;
        let is_sessions = visit_key(&path) == sessions_key;
        // Pages of a collection become one document.
        let mut pages = 0;
        let mut seen_pages = BTreeSet::new();
        while let Some(next) = node.get("Members@odata.nextLink").and_then(Node::as_str) {
            let next = next.to_string();
            node.remove("Members@odata.nextLink");
            let Some(next_path) = client.origin.join(&next).ok().filter(|u| {
                u.origin() == client.origin.origin() && u.path().starts_with("/redfish/v1")
            }) else {
                break;
            };
            let next_path = match next_path.query() {
                Some(q) => format!("{}?{q}", next_path.path()),
                None => next_path.path().to_string(),
            };
            if is_sessions || pages >= 10_000 || !seen_pages.insert(next_path.clone()) {
                break;
            }
            pages += 1;
            let Some((page, _)) = fetch(client, &next_path, summary, progress).await? else {
                break;
            };
            if let Some(Node::Array(more)) = page.get("Members").cloned() {
                if let Some(Node::Array(members)) = node.get_mut("Members") {
                    members.extend(more);
                }
            }
            if let Some(link) = page.get("Members@odata.nextLink") {
                node.set("Members@odata.nextLink", link.clone());
            }
        }
        if pages > 0 {
            if let Some(Node::Array(members)) = node.get("Members") {
                let count = Node::Number(members.len().into());
                node.set("Members@odata.count", count);
            }
        }
        if is_sessions {
            // Sessions are live state: none is captured, the capture's own included.
            node.set("Members", Node::Array(Vec::new()));
            if node.get("Members@odata.count").is_some() {
                node.set("Members@odata.count", Node::Number(0.into()));
            }
        }
        // Links to sessions (iLO's `Oem.Hpe.Links.MySession`) would dangle in the mockup.
        drop_links_under(&mut node, &format!("{sessions_key}/"), &client.origin);
        let mut found = Vec::new();
        links(&node, &mut found);
        for link in found {
            let Some(next) = local_path(&link, &client.origin) else { continue };
            let key = visit_key(&next);
            if key.starts_with(&format!("{sessions_key}/")) {
                // A session (the capture's own, linked from iLO's root): live state.
                continue;
            }
            if seen.insert(key) {
                queue.push_back(next);
            }
        }
        summary.redacted += redact(&mut node);
        write(&path, &node, &headers)?;
        summary.resources += 1;
        progress(Progress::Resource { path, done, queued: queue.len() });
    }
    if !queue.is_empty() {
        summary.truncated = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Property order survives a read and a write, with the Creator's indentation.
    #[test]
    fn order_and_indentation_are_kept() {
        let node: Node =
            serde_json::from_str(r#"{"b": 1, "a": [true, null, 1.5], "c": {"z": "x", "y": -2}}"#)
                .unwrap();
        let text = String::from_utf8(pretty(&node)).unwrap();
        assert_eq!(
            text,
            "{\n    \"b\": 1,\n    \"a\": [\n        true,\n        null,\n        1.5\n    ],\n    \"c\": {\n        \"z\": \"x\",\n        \"y\": -2\n    }\n}"
        );
    }

    /// Passwords, tokens, keys and community strings are written as null; links,
    /// public keys and annotations are kept.
    #[test]
    fn secrets_are_redacted() {
        let mut node: Node = serde_json::from_str(
            r#"{"Password": "p", "UserName": "u", "Token": "t", "AuthenticationKey": "k",
                "PublicKey": "ssh-rsa AAA", "Keys": {"@odata.id": "/redfish/v1/KeyService/Keys"},
                "CommunityStrings": [{"CommunityString": "public", "Name": "c"}],
                "Password@Redfish.AllowableValues": ["x"], "SessionTimeout": 30}"#,
        )
        .unwrap();
        assert_eq!(redact(&mut node), 4);
        let text = String::from_utf8(pretty(&node)).unwrap();
        for kept in ["\"u\"", "ssh-rsa AAA", "/redfish/v1/KeyService/Keys", "\"c\"", "30"] {
            assert!(text.contains(kept), "{kept} in {text}");
        }
        for gone in ["\"p\"", "\"t\"", "\"k\"", "\"public\""] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
    }

    /// Only paths under /redfish/v1 on the service's own origin are followed.
    #[test]
    fn links_stay_on_the_service() {
        let origin = parse_origin("https://10.0.0.5:8443/redfish/v1").unwrap();
        assert_eq!(
            local_path("/redfish/v1/Systems/1/", &origin).as_deref(),
            Some("/redfish/v1/Systems/1/")
        );
        assert_eq!(
            local_path("/redfish/v1/Chassis/1/Power#/PowerSupplies/0", &origin).as_deref(),
            Some("/redfish/v1/Chassis/1/Power")
        );
        assert_eq!(local_path("https://evil.example/redfish/v1/", &origin), None);
        assert_eq!(local_path("/redfish/v1x", &origin), None);
        assert_eq!(local_path("/other", &origin), None);
        assert!(dir_of(Path::new("/tmp/m"), "/redfish/v1/../../etc").is_err());
        assert!(parse_origin("10.0.0.5").is_err());
        assert!(parse_origin("https://root:calvin@10.0.0.5").is_err());
    }
}
