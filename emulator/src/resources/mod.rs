//! Device state beyond sessions: a vendor-neutral tree of JSON resources.
//!
//! A [`Tree`] maps paths to documents (`@odata.id` → JSON body). It knows nothing of HTTP,
//! authentication or vendors; the Redfish-family personalities hand it the requests their
//! route tables do not serve themselves and render its answers in their own envelopes.
//!
//! - documents by path, found with or without a trailing slash (and, when the tree says
//!   so, whatever the case of the path);
//! - a weak ETag per document, derived from its content, so it changes whenever the
//!   document does;
//! - each document's GET answer (written JSON, ETag) made once per change of the
//!   document and kept until the next ([`Tree::served`]), every change going through one
//!   method that drops it;
//! - merge-PATCH (RFC 7396) limited to the properties a document declares writable, with
//!   every problem reported at once and nothing changed unless all of it is acceptable;
//! - actions as hooks: a document's `Actions."#Name".target` is served by the
//!   [`ActionHook`] registered for `#Name` ([`power::ResetHook`] for `#ComputerSystem.Reset`);
//! - timed transitions (a graceful shutdown ends some seconds later): applied when the
//!   device clock passes them, at the next observation, so nothing reads a stale state
//!   and no task is needed.
//!
//! Every call takes `now` explicitly. The tree lives in the device
//! ([`crate::device::Device::resources`]) and is rebuilt from the profile on reset;
//! default trees are data (`fixtures/trees/*.json`, see [`defaults`]), and a profile may
//! serve a mockup in DMTF's format instead ([`mockup`]), such as one [`capture`] wrote
//! from a live service.
//!
//! The `$expand` query (DSP0266 query parameters) is vendor-neutral too: [`ExpandSettings`]
//! says which forms a profile takes, [`ExpandSettings::check`] reads the query, and
//! [`expand_with`] replaces the links of a document with the documents they name, fetched
//! by the caller (a personality fetches through its own router, so every resource expands,
//! wherever it is served).

pub mod capture;
pub mod defaults;
pub mod mockup;
pub mod power;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Now;

pub use defaults::TreeSettings;

/// The private annotation of a template document that lists its writable properties
/// (`"Boot/BootSourceOverrideTarget"` for a nested one); removed when the tree is built.
pub const WRITABLE_ANNOTATION: &str = "@sessionlab.writable";

/// The path a tree files a document under: no trailing slash, and lower case when the
/// tree ignores case.
fn key(path: &str, case_insensitive: bool) -> String {
    lookup_key(path, case_insensitive).into_owned()
}

/// [`key`], borrowed from `path` where it is a piece of it (a lookup on every request
/// the tree answers makes no copy unless the path must be lowered).
fn lookup_key(path: &str, case_insensitive: bool) -> std::borrow::Cow<'_, str> {
    let trimmed = path.split('?').next().unwrap_or(path);
    let trimmed = if trimmed.len() > 1 { trimmed.trim_end_matches('/') } else { trimmed };
    if case_insensitive && trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(trimmed)
    }
}

/// A document's weak ETag: FNV-1a over its serialised body, eight upper-case hex digits
/// (`W/"02C2D1BB"`, the shape iLO captures show; any opaque tag satisfies DSP0266).
pub fn etag_of(body: &Value) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let hash =
        bytes.iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193));
    format!("W/\"{hash:08X}\"")
}

/// One document of the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    /// The body as served (without `@odata.etag`; see [`Tree::get`]).
    pub body: Value,
    /// Properties a PATCH may change, as `/`-separated paths; empty: not patchable.
    pub writable: Vec<String>,
    /// The ETag a captured document came with, served while its content is unchanged.
    pub captured_etag: Option<CapturedEtag>,
    /// Headers a mockup's `headers.json` gives the document, added to its GET answers
    /// where the personality sets none of the same name.
    pub headers: Vec<(String, String)>,
}

/// The ETag a document came with (its `@odata.etag`, or a mockup's `headers.json`
/// `ETag`): served as long as the document is as it came, after which the tree derives
/// one from the content like any other, so a PATCH or a reset still changes it.
#[derive(Clone, Debug, PartialEq)]
pub struct CapturedEtag {
    /// The tag, e.g. `W/"5F3A"`.
    pub tag: String,
    /// [`etag_of`] the body it came with.
    pub content: String,
    /// Whether the body carried it as `@odata.etag` (and so serves it there).
    pub in_body: bool,
}

impl Doc {
    /// The document's current ETag.
    pub fn etag(&self) -> String {
        let derived = etag_of(&self.body);
        match &self.captured_etag {
            Some(c) if c.content == derived => c.tag.clone(),
            _ => derived,
        }
    }
}

/// What a hook did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionOutcome {
    /// Whether the document changed (now or through a scheduled transition).
    pub changed: bool,
}

/// Why a PATCH or an action was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// No document (or action target) at this path.
    NotFound,
    /// The document takes no PATCH.
    NotPatchable,
    /// `If-Match` named another version.
    PreconditionFailed,
    /// The request body had nothing to act upon.
    NoOperation,
    /// The body's problems, all of them.
    Invalid(Vec<Problem>),
    /// The action is not implemented by this tree.
    ActionNotSupported(String),
    /// The action cannot be done in the resource's current state (power is already off).
    InvalidState {
        /// The action's name (`ComputerSystem.Reset`).
        action: String,
        /// The requested value (`ForceOff`).
        requested: String,
        /// The state that forbids it (`Off`).
        state: String,
    },
}

/// One problem of a PATCH body or of an action's parameters, named as the Base registry
/// names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// `PropertyUnknown`.
    PropertyUnknown(String),
    /// `PropertyNotWritable`.
    PropertyNotWritable(String),
    /// `PropertyValueTypeError` (value, property).
    PropertyValueTypeError(String, String),
    /// `PropertyValueNotInList` (value, property).
    PropertyValueNotInList(String, String),
    /// `ActionParameterMissing` (action, parameter).
    ActionParameterMissing(String, String),
    /// `ActionParameterUnknown` (action, parameter).
    ActionParameterUnknown(String, String),
    /// `ActionParameterValueNotInList` (value, parameter, action).
    ActionParameterValueNotInList(String, String, String),
    /// `ActionParameterValueTypeError` (value, parameter, action).
    ActionParameterValueTypeError(String, String, String),
}

/// A value as a message argument: strings as they are, anything else as JSON.
pub fn value_arg(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What runs when a client POSTs to an action's target.
pub trait ActionHook: Send + Sync {
    /// Runs the action on the document at `path` with `params` (annotations removed).
    /// The hook changes the tree through `tree` (documents, scheduled transitions).
    fn invoke(
        &self,
        tree: &mut Tree,
        path: &str,
        params: &Map<String, Value>,
        now: Now,
    ) -> Result<ActionOutcome, TreeError>;
}

#[derive(Clone)]
struct Action {
    /// The document the action belongs to (its key).
    resource: String,
    /// `ComputerSystem.Reset`.
    name: String,
    hook: Option<Arc<dyn ActionHook>>,
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Action")
            .field("resource", &self.resource)
            .field("name", &self.name)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

/// A change scheduled on the device clock: `patch` is merged into the document at
/// `path` once `at` has passed, unless cancelled.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// Device-clock instant (monotonic) at which it applies.
    pub at: Duration,
    /// The document's key.
    pub path: String,
    /// A merge patch.
    pub patch: Value,
    /// Transitions of one kind on one document replace each other (`power`).
    pub kind: String,
}

/// What a path of the tree names ([`Tree::find`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    /// A document.
    Document {
        /// Whether it takes PATCH (it has writable properties).
        patchable: bool,
        /// As its GETs answer it, when it was found to be read.
        served: Option<Arc<Served>>,
    },
    /// An action's target.
    Action,
}

/// The hooks a tree may attach to action names.
pub type Hooks = BTreeMap<String, Arc<dyn ActionHook>>;

/// A document as a GET answers it: its body written as JSON (with `@odata.etag` where the
/// tree annotates), its ETag and the headers a mockup gave it. Written by the first GET
/// after the document changes and shared by every GET until the next change, so a
/// document read again and again is neither copied nor written, nor its ETag hashed, per
/// request ([`Tree::served`]).
#[derive(Debug, PartialEq)]
pub struct Served {
    /// The body, compact, keys in byte order (serde_json's `Map` keeps them so).
    pub json: bytes::Bytes,
    /// Its ETag.
    pub etag: String,
    /// The headers a mockup gives the document (empty for templates).
    pub headers: Vec<(String, String)>,
    /// Its `@odata.type`, if it has one.
    pub odata_type: Option<String>,
    /// Whether the document takes PATCH (it has writable properties).
    pub patchable: bool,
    /// Its GET answer, finished by the personality at its first answer (a device has one
    /// personality) and copied into every answer after: its headers, ETag and
    /// `Content-Length` among them, are not made again per request.
    pub kept: std::sync::OnceLock<Option<crate::vendors::http::KeptAnswer>>,
}

/// A tree of documents.
#[derive(Clone, Default)]
pub struct Tree {
    docs: BTreeMap<String, Doc>,
    /// Each document read since it last changed, as its GETs answer it (by key). Every
    /// change to a document goes through [`Tree::changing`] or [`Tree::insert`], which drop
    /// its entry.
    served: crate::session::HashMap<String, Arc<Served>>,
    actions: BTreeMap<String, Action>,
    pending: Vec<Transition>,
    case_insensitive: bool,
    /// Whether GET answers carry `@odata.etag` in the body as well as the header.
    annotate_etag: bool,
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tree")
            .field("documents", &self.docs.len())
            .field("actions", &self.actions)
            .field("pending", &self.pending)
            .finish()
    }
}

impl Tree {
    /// An empty tree; `case_insensitive` makes lookups ignore the case of paths.
    pub fn new(case_insensitive: bool) -> Tree {
        Tree { case_insensitive, annotate_etag: true, ..Tree::default() }
    }

    /// Whether GET answers carry `@odata.etag` in the body as well as the header (they do
    /// unless told otherwise).
    pub fn set_annotate_etag(&mut self, annotate: bool) {
        self.annotate_etag = annotate;
        self.served.clear();
    }

    /// Adds (or replaces) the document at its `@odata.id`. Its
    /// [`WRITABLE_ANNOTATION`] becomes its writable list; its `Actions` targets are served
    /// by the hook of the same name in `hooks` (actions without one answer
    /// [`TreeError::ActionNotSupported`]). A body without `@odata.id` is refused.
    pub fn insert(&mut self, mut body: Value, hooks: &Hooks) -> Result<(), String> {
        let Some(map) = body.as_object_mut() else {
            return Err("a document must be a JSON object".to_string());
        };
        let writable = match map.remove(WRITABLE_ANNOTATION) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
            }
            Some(_) => return Err(format!("{WRITABLE_ANNOTATION} must be a list of names")),
        };
        let Some(id) = map.get("@odata.id").and_then(Value::as_str).map(str::to_string) else {
            return Err("a document needs an @odata.id".to_string());
        };
        let path = key(&id, self.case_insensitive);
        let captured_tag = match map.remove("@odata.etag") {
            Some(Value::String(tag)) => Some(tag),
            _ => None,
        };
        if let Some(Value::Object(actions)) = map.get("Actions") {
            for (name, action) in actions {
                let Some(target) = action.get("target").and_then(Value::as_str) else { continue };
                let Some(short) = name.strip_prefix('#') else { continue };
                self.actions.insert(
                    key(target, self.case_insensitive),
                    Action {
                        resource: path.clone(),
                        name: short.to_string(),
                        hook: hooks.get(name).cloned(),
                    },
                );
            }
        }
        let captured_etag =
            captured_tag.map(|tag| CapturedEtag { tag, content: etag_of(&body), in_body: true });
        self.served.remove(&path);
        self.docs.insert(path, Doc { body, writable, captured_etag, headers: Vec::new() });
        Ok(())
    }

    /// Gives the document at `path` the ETag it was captured with (a mockup's
    /// `headers.json`), unless its body carried one; and headers to add to its GET
    /// answers. Returns whether the document exists.
    pub fn set_captured(
        &mut self,
        path: &str,
        etag: Option<String>,
        headers: Vec<(String, String)>,
    ) -> bool {
        let Some(doc) = self.changing(&key(path, self.case_insensitive)) else {
            return false;
        };
        if let (Some(tag), None) = (etag, &doc.captured_etag) {
            doc.captured_etag =
                Some(CapturedEtag { tag, content: etag_of(&doc.body), in_body: false });
        }
        doc.headers = headers;
        true
    }

    /// The number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the tree has no document.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Every document's `@odata.id`, in path order.
    pub fn ids(&self) -> Vec<String> {
        self.docs
            .values()
            .filter_map(|d| d.body.get("@odata.id").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    /// Whether `path` names a document or an action target.
    pub fn serves(&self, path: &str) -> bool {
        let k = lookup_key(path, self.case_insensitive);
        self.docs.contains_key(k.as_ref()) || self.actions.contains_key(k.as_ref())
    }

    /// What `path` names at `now`, if anything: an action target, or a document and, when
    /// `read`, the document as its GETs answer it ([`Tree::served`]). One lookup for every
    /// request the tree answers, and for a document read before and unchanged since, the
    /// only one.
    pub fn find(&mut self, path: &str, now: Now, read: bool) -> Option<Found> {
        self.settle(now);
        let k = lookup_key(path, self.case_insensitive);
        if let Some(served) = self.served.get(k.as_ref()).filter(|_| read) {
            let patchable = served.patchable;
            return Some(Found::Document { patchable, served: Some(served.clone()) });
        }
        if self.actions.contains_key(k.as_ref()) {
            return Some(Found::Action);
        }
        let doc = self.docs.get(k.as_ref())?;
        let patchable = !doc.writable.is_empty();
        let served = read.then(|| self.write(k.into_owned()));
        Some(Found::Document { patchable, served: served.flatten() })
    }

    /// Applies every transition whose time has come, oldest first.
    pub fn settle(&mut self, now: Now) {
        if self.pending.iter().all(|t| t.at > now.mono) {
            return;
        }
        let mut due: Vec<Transition> = Vec::new();
        self.pending.retain(|t| {
            if t.at <= now.mono {
                due.push(t.clone());
                false
            } else {
                true
            }
        });
        due.sort_by_key(|t| t.at);
        for t in due {
            if let Some(doc) = self.changing(&t.path) {
                merge(&mut doc.body, &t.patch);
            }
        }
    }

    /// Schedules `transition`, replacing any pending one of the same kind on the same
    /// document.
    pub fn schedule(&mut self, transition: Transition) {
        self.cancel(&transition.path, &transition.kind);
        self.pending.push(transition);
    }

    /// Drops pending transitions of `kind` on the document `path` (its key).
    pub fn cancel(&mut self, path: &str, kind: &str) {
        self.pending.retain(|t| !(t.path == path && t.kind == kind));
    }

    /// Pending transitions, for inspection.
    pub fn pending(&self) -> &[Transition] {
        &self.pending
    }

    /// The document at `path` as it stands at `now`, with its ETag; `@odata.etag` is in
    /// the body when the tree annotates.
    pub fn get(&mut self, path: &str, now: Now) -> Option<(Value, String)> {
        self.settle(now);
        let k = key(path, self.case_insensitive);
        let etag = match self.served.get(&k) {
            Some(served) => served.etag.clone(),
            None => self.docs.get(&k)?.etag(),
        };
        let doc = self.docs.get(&k)?;
        Some((self.annotated(doc, &etag), etag))
    }

    /// The document at `path` as it stands at `now`, as its GETs answer it: written once
    /// per change of the document, the same [`Served`] after.
    pub fn served(&mut self, path: &str, now: Now) -> Option<Arc<Served>> {
        match self.find(path, now, true)? {
            Found::Document { served, .. } => served,
            Found::Action => None,
        }
    }

    /// The document with key `k` written for its GETs, and kept until it changes.
    fn write(&mut self, k: String) -> Option<Arc<Served>> {
        let doc = self.docs.get(&k)?;
        let etag = doc.etag();
        let body = self.annotated(doc, &etag);
        let served = Served {
            json: serde_json::to_vec(&body).unwrap_or_default().into(),
            etag,
            headers: doc.headers.clone(),
            odata_type: body.get("@odata.type").and_then(Value::as_str).map(str::to_string),
            patchable: !doc.writable.is_empty(),
            kept: std::sync::OnceLock::new(),
        };
        let served = Arc::new(served);
        self.served.insert(k, served.clone());
        Some(served)
    }

    /// `doc`'s body, with `@odata.etag` (its ETag `etag`) when the tree annotates.
    fn annotated(&self, doc: &Doc, etag: &str) -> Value {
        let mut body = doc.body.clone();
        if self.annotate_etag || doc.captured_etag.as_ref().is_some_and(|c| c.in_body) {
            if let Some(map) = body.as_object_mut() {
                map.insert("@odata.etag".to_string(), Value::String(etag.to_string()));
            }
        }
        body
    }

    /// The document with key `k`, to change: what its GETs answered is dropped.
    fn changing(&mut self, k: &str) -> Option<&mut Doc> {
        self.served.remove(k);
        self.docs.get_mut(k)
    }

    /// The document by its key, for hooks (no transition is applied). Taken as changed.
    pub fn doc_mut(&mut self, path: &str) -> Option<&mut Doc> {
        self.changing(path)
    }

    /// The document by its key, for hooks.
    pub fn doc(&self, path: &str) -> Option<&Doc> {
        self.docs.get(path)
    }

    /// A merge-PATCH of the document at `path`: `precondition` sees the current ETag
    /// (the caller's `If-Match` check) before anything is checked or changed; every
    /// property must be writable, of the current value's JSON type and, where the
    /// document lists `<Property>@Redfish.AllowableValues`, one of them. All problems
    /// are reported together and nothing changes unless there are none. Returns the
    /// document as [`Tree::get`] would.
    pub fn patch(
        &mut self,
        path: &str,
        body: &Map<String, Value>,
        precondition: impl FnOnce(&str) -> bool,
        now: Now,
    ) -> Result<(Value, String), TreeError> {
        self.settle(now);
        let k = key(path, self.case_insensitive);
        let doc = self.docs.get(&k).ok_or(TreeError::NotFound)?;
        if doc.writable.is_empty() {
            return Err(TreeError::NotPatchable);
        }
        if !precondition(&doc.etag()) {
            return Err(TreeError::PreconditionFailed);
        }
        let patch = strip_annotations(body);
        if patch.is_empty() {
            return Err(TreeError::NoOperation);
        }
        let mut problems = Vec::new();
        check_patch(&doc.body, &doc.writable, &patch, "", &mut problems);
        if !problems.is_empty() {
            return Err(TreeError::Invalid(problems));
        }
        if let Some(doc) = self.changing(&k) {
            merge(&mut doc.body, &Value::Object(patch));
        }
        self.get(path, now).ok_or(TreeError::NotFound)
    }

    /// Runs the action whose target is `path`.
    pub fn invoke(
        &mut self,
        path: &str,
        params: &Map<String, Value>,
        now: Now,
    ) -> Result<ActionOutcome, TreeError> {
        self.settle(now);
        let action = self
            .actions
            .get(&key(path, self.case_insensitive))
            .cloned()
            .ok_or(TreeError::NotFound)?;
        let Some(hook) = action.hook else {
            return Err(TreeError::ActionNotSupported(action.name));
        };
        let params = strip_annotations(params);
        hook.invoke(self, &action.resource, &params, now)
    }
}

fn strip_annotations(body: &Map<String, Value>) -> Map<String, Value> {
    body.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn same_type(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::String(_), Value::String(_))
            | (Value::Bool(_), Value::Bool(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::Object(_), Value::Object(_))
            | (Value::Array(_), Value::Array(_))
            | (Value::Null, _)
            | (_, Value::Null)
    )
}

fn check_patch(
    current: &Value,
    writable: &[String],
    patch: &Map<String, Value>,
    prefix: &str,
    problems: &mut Vec<Problem>,
) {
    for (name, value) in patch {
        if name.contains('@') {
            continue;
        }
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        let existing = current.get(name);
        let is_writable = writable.contains(&path);
        let has_writable_child = writable.iter().any(|w| w.starts_with(&format!("{path}/")));
        match (existing, value) {
            (None, _) => problems.push(Problem::PropertyUnknown(path)),
            (Some(Value::Object(_)), Value::Object(inner)) if has_writable_child => {
                check_patch(&current[name.as_str()], writable, inner, &path, problems);
            }
            (Some(_), _) if !is_writable => problems.push(Problem::PropertyNotWritable(path)),
            (Some(old), new) if !same_type(old, new) => {
                problems.push(Problem::PropertyValueTypeError(value_arg(new), path));
            }
            (Some(_), Value::String(s)) => {
                let allowed = current.get(format!("{name}@Redfish.AllowableValues"));
                if let Some(Value::Array(list)) = allowed {
                    if !list.iter().any(|v| v.as_str() == Some(s)) {
                        problems.push(Problem::PropertyValueNotInList(s.clone(), path));
                    }
                }
            }
            _ => {}
        }
    }
}

/// RFC 7396 merge: objects merge key by key, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (k, v) in patch {
            if v.is_null() {
                map.remove(k);
            } else {
                merge(map.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The top-level collections of `tree` (`/redfish/v1/Systems`, ...) as (name, `@odata.id`):
/// what a service root links.
pub fn root_collections(tree: &Tree) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for id in tree.ids() {
        let rest = id.strip_prefix("/redfish/v1/").unwrap_or("").trim_end_matches('/');
        // The OData service document (a capture holds it) sits at a fixed URI that no
        // service root links (DSP0266).
        if !rest.is_empty() && !rest.contains('/') && rest != "odata" {
            out.push((rest.to_string(), id));
        }
    }
    out
}

/// Adds the device tree's top-level collections (`Systems`, `Chassis`) to a service root
/// `body`, as `{"@odata.id"}` links and, when the root has iLO 4's legacy `links`
/// object, as `links.<name>.href` too; and `ProtocolFeaturesSupported.ExpandQuery` when
/// the profile takes `$expand` and says so ([`ExpandSettings::advertise`]).
pub fn link_service_root(device: &crate::device::Device, body: &mut Value) {
    let collections = root_collections(&device.resources().lock());
    let Some(map) = body.as_object_mut() else { return };
    if let Some(expand) = device.profile().tree.as_ref().map(|t| &t.expand) {
        if expand.supported() && expand.advertise {
            let features =
                map.entry("ProtocolFeaturesSupported").or_insert_with(|| Value::Object(Map::new()));
            if let Some(features) = features.as_object_mut() {
                features.insert("ExpandQuery".to_string(), expand.expand_query());
            }
        }
    }
    fn linked_ids(value: &Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("@odata.id", Value::String(id)) => {
                            out.insert(id.trim_end_matches('/').to_string());
                        }
                        _ => linked_ids(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| linked_ids(v, out)),
            _ => {}
        }
    }
    let trimmed = |id: &str| id.trim_end_matches('/').to_string();
    let mut linked = std::collections::BTreeSet::new();
    linked_ids(&Value::Object(map.clone()), &mut linked);
    // The root's own id is not a collection link.
    linked.remove("/redfish/v1");
    for (name, id) in collections {
        let mut link = Map::new();
        link.insert("@odata.id".to_string(), Value::String(id.clone()));
        if map.contains_key(&name) || linked.contains(&trimmed(&id)) {
            // The personality's own link (SessionService, Managers, iLO's JsonSchemas
            // naming /redfish/v1/Schemas/, iDRAC 8's Links.Sessions) wins over a
            // mockup's.
            continue;
        }
        map.insert(name.clone(), Value::Object(link));
        if let Some(Value::Object(legacy)) = map.get_mut("links") {
            let mut href = Map::new();
            href.insert("href".to_string(), Value::String(id));
            legacy.insert(name, Value::Object(href));
        }
    }
}

/// Sets a manager `body`'s `FirmwareVersion` to the profile's
/// `[tree.vars] manager_firmware`, when it has one.
pub fn set_manager_firmware(profile: &crate::profile::Profile, body: &mut Value) {
    let firmware = profile.tree.as_ref().and_then(|t| t.vars.get("manager_firmware"));
    if let (Some(Value::String(version)), Some(map)) = (firmware, body.as_object_mut()) {
        map.insert("FirmwareVersion".to_string(), Value::String(version.clone()));
    }
}

// ----- $expand -----

/// Which forms of `$expand` a service takes (`[tree.expand]`), as its service root's
/// `ProtocolFeaturesSupported.ExpandQuery` says (DSP0266 query parameters; ServiceRoot
/// schema `Expand`). A profile that takes none answers every `$expand` with
/// `unsupported_status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpandSettings {
    /// `*`: every hyperlink (`ExpandAll`).
    pub expand_all: bool,
    /// `.`: hyperlinks outside `Links` (`NoLinks`).
    pub no_links: bool,
    /// `~`: hyperlinks inside `Links` (`Links`).
    pub links: bool,
    /// `($levels=N)` (`Levels`).
    pub levels: bool,
    /// The largest `$levels` (`MaxLevels`).
    pub max_levels: u32,
    /// Whether the service root shows `ProtocolFeaturesSupported` (a schema before
    /// ServiceRoot 1.3 has no such property).
    pub advertise: bool,
    /// Status of the answer to a form the service does not take: DSP0266 "501 Not
    /// Implemented ... for any unsupported query parameters that start with `$`".
    pub unsupported_status: u16,
}

impl Default for ExpandSettings {
    fn default() -> Self {
        ExpandSettings {
            expand_all: false,
            no_links: false,
            links: false,
            levels: false,
            max_levels: 0,
            advertise: true,
            unsupported_status: 501,
        }
    }
}

/// Which hyperlinks an `$expand` follows (DSP0266 "Use the $expand query parameter").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpandKind {
    /// `*`: all of them.
    All,
    /// `.`: subordinate ones, outside any `Links` property.
    Subordinate,
    /// `~`: dependent ones, inside `Links`.
    Dependent,
}

/// A readable `$expand`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpandQuery {
    /// What it follows.
    pub kind: ExpandKind,
    /// How many levels (1 unless `$levels` says).
    pub levels: u32,
}

/// Why an `$expand` is not served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandRefusal {
    /// The service does not take this form (or no `$expand` at all): `unsupported_status`.
    Unsupported {
        /// The value as sent.
        value: String,
        /// The status the profile gives it.
        status: u16,
    },
    /// Not `*`, `.` or `~` with an optional `($levels=N)`: 400.
    Malformed {
        /// The value as sent.
        value: String,
    },
    /// `$levels` outside 1..=`max_levels`: 400.
    LevelsOutOfRange {
        /// The `$levels` value as sent.
        value: String,
        /// `max_levels`.
        max: u32,
    },
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `$expand` in a raw query string (percent-encoding undone), if present.
pub fn expand_param(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(name) == "$expand").then(|| percent_decode(value))
    })
}

impl ExpandSettings {
    /// Whether the service takes any form of `$expand`.
    pub fn supported(&self) -> bool {
        self.expand_all || self.no_links || self.links
    }

    /// `ProtocolFeaturesSupported.ExpandQuery` as the service root shows it.
    pub fn expand_query(&self) -> Value {
        serde_json::json!({
            "ExpandAll": self.expand_all,
            "Levels": self.levels,
            "Links": self.links,
            "MaxLevels": self.max_levels,
            "NoLinks": self.no_links,
        })
    }

    /// Reads `value` (the `$expand` of a request): what to expand, or why not.
    pub fn check(&self, value: &str) -> Result<ExpandQuery, ExpandRefusal> {
        let unsupported = || ExpandRefusal::Unsupported {
            value: value.to_string(),
            status: self.unsupported_status,
        };
        let malformed = || ExpandRefusal::Malformed { value: value.to_string() };
        let trimmed = value.trim();
        let (head, options) = match trimmed.split_once('(') {
            Some((head, rest)) => (head, Some(rest.strip_suffix(')').ok_or_else(malformed)?)),
            None => (trimmed, None),
        };
        let kind = match head {
            "*" => ExpandKind::All,
            "." => ExpandKind::Subordinate,
            "~" => ExpandKind::Dependent,
            _ => return Err(malformed()),
        };
        let levels = match options {
            None => None,
            Some(options) => {
                let (name, n) = options.split_once('=').ok_or_else(malformed)?;
                if name.trim() != "$levels" {
                    return Err(malformed());
                }
                Some(n.trim().to_string())
            }
        };
        let taken = match kind {
            ExpandKind::All => self.expand_all,
            ExpandKind::Subordinate => self.no_links,
            ExpandKind::Dependent => self.links,
        };
        if !taken || (levels.is_some() && !self.levels) {
            return Err(unsupported());
        }
        let levels = match levels {
            None => 1,
            Some(text) => {
                let n: u32 = text.parse().map_err(|_| malformed())?;
                if n == 0 || n > self.max_levels.max(1) {
                    return Err(ExpandRefusal::LevelsOutOfRange {
                        value: text,
                        max: self.max_levels.max(1),
                    });
                }
                n
            }
        };
        Ok(ExpandQuery { kind, levels })
    }
}

/// The URI of a reference object: one whose only property is `@odata.id`.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get("@odata.id").and_then(Value::as_str),
        _ => None,
    }
}

/// Replaces, `levels` deep, every reference of `doc` that `kind` follows with the
/// document `fetch` gives for its URI (left as it is when `fetch` gives none: a link the
/// requester may not read, or that leads nowhere). References under annotations
/// (`@Redfish.Settings`) and to `doc` itself are never followed. The expanded documents
/// are expanded in turn while levels remain.
pub fn expand_with(
    doc: &mut Value,
    kind: ExpandKind,
    levels: u32,
    fetch: &mut dyn FnMut(&str) -> Option<Value>,
) {
    if levels == 0 {
        return;
    }
    let own = doc.get("@odata.id").and_then(Value::as_str).map(str::to_string);
    walk_links(doc, kind, false, own.as_deref(), levels, fetch);
}

fn walk_links(
    value: &mut Value,
    kind: ExpandKind,
    in_links: bool,
    own: Option<&str>,
    levels: u32,
    fetch: &mut dyn FnMut(&str) -> Option<Value>,
) {
    if let Some(uri) = reference(value) {
        let follow = match kind {
            ExpandKind::All => true,
            ExpandKind::Subordinate => !in_links,
            ExpandKind::Dependent => in_links,
        };
        if follow && Some(uri) != own {
            if let Some(mut target) = fetch(uri) {
                expand_with(&mut target, kind, levels - 1, fetch);
                *value = target;
            }
        }
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key.contains('@') {
                    continue;
                }
                walk_links(child, kind, in_links || key == "Links", own, levels, fetch);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk_links(item, kind, in_links, own, levels, fetch);
            }
        }
        _ => {}
    }
}

/// A device's tree behind a lock, rebuilt from the profile on reset. A tree made from a
/// profile is built when first used (an untouched device of a large fleet holds none),
/// and again on first use after a reset.
#[derive(Debug)]
pub struct Resources {
    tree: Mutex<Tree>,
    /// The profile and device name the tree is built from, for a lazy tree.
    source: Option<(std::sync::Arc<crate::profile::Profile>, std::sync::Arc<str>)>,
    /// Whether `tree` holds the device's tree (false: build it at the next lock).
    built: std::sync::atomic::AtomicBool,
}

impl Resources {
    /// A store holding `tree`.
    pub fn new(tree: Tree) -> Resources {
        Resources { tree: Mutex::new(tree), source: None, built: true.into() }
    }

    /// A store whose tree is `profile`'s default (or mockup) tree for device `name`,
    /// built at its first use.
    pub fn lazy(
        profile: std::sync::Arc<crate::profile::Profile>,
        name: std::sync::Arc<str>,
    ) -> Resources {
        Resources {
            tree: Mutex::new(Tree::new(false)),
            source: Some((profile, name)),
            built: false.into(),
        }
    }

    /// The tree, locked (never hold it across an `.await`).
    pub fn lock(&self) -> MutexGuard<'_, Tree> {
        use std::sync::atomic::Ordering;
        let mut tree = self.tree.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !self.built.load(Ordering::Acquire) {
            if let Some((profile, name)) = &self.source {
                *tree = defaults::for_profile(profile, name);
            }
            self.built.store(true, Ordering::Release);
        }
        tree
    }

    /// Replaces the tree (a device reset).
    pub fn replace(&self, tree: Tree) {
        *self.lock() = tree;
    }

    /// Back to the profile's tree: a lazy tree is dropped and built again at its next
    /// use; a tree given whole is kept.
    pub fn reset(&self) {
        use std::sync::atomic::Ordering;
        if self.source.is_some() {
            let mut tree = self.tree.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *tree = Tree::new(false);
            self.built.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn system(id: &str) -> Value {
        json!({
            "@odata.id": id,
            "Id": "1",
            "AssetTag": "",
            "IndicatorLED": "Off",
            "IndicatorLED@Redfish.AllowableValues": ["Lit", "Blinking", "Off"],
            "PowerState": "On",
            "Boot": { "BootSourceOverrideTarget": "None", "BootSourceOverrideEnabled": "Disabled" },
            WRITABLE_ANNOTATION: ["AssetTag", "IndicatorLED", "Boot/BootSourceOverrideTarget"],
        })
    }

    fn tree() -> Tree {
        let mut t = Tree::new(false);
        t.insert(system("/redfish/v1/Systems/1/"), &Hooks::new()).unwrap();
        t
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    /// Documents are found with and without their trailing slash; the annotation is gone.
    #[test]
    fn lookup_ignores_trailing_slash() {
        let mut t = tree();
        let now = Now::at_secs(0);
        let (a, tag) = t.get("/redfish/v1/Systems/1", now).unwrap();
        let (b, _) = t.get("/redfish/v1/Systems/1/", now).unwrap();
        assert_eq!(a, b);
        assert_eq!(a["@odata.etag"], json!(tag));
        assert!(a.get(WRITABLE_ANNOTATION).is_none());
        let found = t.find("/redfish/v1/Systems/1/", now, false);
        assert_eq!(found, Some(Found::Document { patchable: true, served: None }));
        assert!(t.get("/redfish/v1/systems/1", now).is_none());
        let mut ci = Tree::new(true);
        ci.insert(system("/redfish/v1/Systems/1/"), &Hooks::new()).unwrap();
        assert!(ci.get("/REDFISH/v1/systems/1", now).is_some());
    }

    /// A PATCH changes the ETag; a stale If-Match changes nothing.
    #[test]
    fn patch_with_if_match() {
        let mut t = tree();
        let now = Now::at_secs(0);
        let (_, before) = t.get("/redfish/v1/Systems/1", now).unwrap();
        let body = obj(json!({"AssetTag": "rack-7"}));
        let (after, tag) = t.patch("/redfish/v1/Systems/1", &body, |e| e == before, now).unwrap();
        assert_eq!(after["AssetTag"], "rack-7");
        assert_ne!(tag, before);
        let stale =
            t.patch("/redfish/v1/Systems/1", &obj(json!({"AssetTag": "x"})), |e| e == before, now);
        assert_eq!(stale, Err(TreeError::PreconditionFailed));
        assert_eq!(t.get("/redfish/v1/Systems/1", now).unwrap().0["AssetTag"], "rack-7");
    }

    /// Every problem at once, and nothing changes.
    #[test]
    fn patch_reports_every_problem() {
        let mut t = tree();
        let now = Now::at_secs(0);
        let body = obj(json!({
            "AssetTag": 5,
            "PowerState": "Off",
            "Nope": 1,
            "IndicatorLED": "Purple",
            "Boot": { "BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once" },
            "@odata.etag": "ignored",
        }));
        let err = t.patch("/redfish/v1/Systems/1", &body, |_| true, now).unwrap_err();
        let TreeError::Invalid(problems) = err else { panic!("{err:?}") };
        assert!(problems.contains(&Problem::PropertyValueTypeError("5".into(), "AssetTag".into())));
        assert!(problems.contains(&Problem::PropertyNotWritable("PowerState".into())));
        assert!(problems.contains(&Problem::PropertyUnknown("Nope".into())));
        assert!(problems
            .contains(&Problem::PropertyValueNotInList("Purple".into(), "IndicatorLED".into())));
        assert!(problems
            .contains(&Problem::PropertyNotWritable("Boot/BootSourceOverrideEnabled".into())));
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert_eq!(
            t.get("/redfish/v1/Systems/1", now).unwrap().0["Boot"]["BootSourceOverrideTarget"],
            "None"
        );
    }

    /// A nested writable property merges without touching its siblings.
    #[test]
    fn nested_merge() {
        let mut t = tree();
        let now = Now::at_secs(0);
        let body = obj(json!({"Boot": {"BootSourceOverrideTarget": "Pxe"}}));
        let (doc, _) = t.patch("/redfish/v1/Systems/1", &body, |_| true, now).unwrap();
        assert_eq!(
            doc["Boot"],
            json!({"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Disabled"})
        );
    }

    /// A document is written once for its GETs and shared until it changes: by a PATCH,
    /// a transition, a hook, a captured ETag or the annotation setting. What is written
    /// is what `get` reads.
    #[test]
    fn a_document_is_written_once_until_it_changes() {
        let mut t = tree();
        let path = "/redfish/v1/Systems/1";
        let now = Now::at_secs(0);
        let agrees = |t: &mut Tree, served: &Served| {
            let (body, etag) = t.get(path, now).unwrap();
            assert_eq!(served.json, serde_json::to_vec(&body).unwrap());
            assert_eq!((served.etag.as_str(), served.odata_type.as_deref()), (etag.as_str(), None));
        };
        let first = t.served(path, now).unwrap();
        agrees(&mut t, &first);
        assert!(Arc::ptr_eq(&first, &t.served("/redfish/v1/Systems/1/", now).unwrap()));
        let patch = obj(json!({"AssetTag": "rack-7"}));
        t.patch(path, &patch, |_| true, now).unwrap();
        let patched = t.served(path, now).unwrap();
        assert_ne!(patched.etag, first.etag);
        agrees(&mut t, &patched);
        let k = key(path, false);
        t.schedule(Transition {
            at: Duration::from_secs(30),
            path: k.clone(),
            patch: json!({"PowerState": "Off"}),
            kind: "power".into(),
        });
        assert!(Arc::ptr_eq(&patched, &t.served(path, Now::at_secs(29)).unwrap()));
        let settled = t.served(path, Now::at_secs(30)).unwrap();
        assert!(String::from_utf8_lossy(&settled.json).contains(r#""PowerState":"Off""#));
        merge(&mut t.doc_mut(&k).unwrap().body, &json!({"PowerState": "On"}));
        let hooked = t.served(path, now).unwrap();
        assert!(String::from_utf8_lossy(&hooked.json).contains(r#""PowerState":"On""#));
        assert!(t.set_captured(
            path,
            Some("\"captured\"".into()),
            vec![("X-A".into(), "b".into())]
        ));
        let captured = t.served(path, now).unwrap();
        assert_eq!((captured.etag.as_str(), captured.headers.len()), ("\"captured\"", 1));
        t.set_annotate_etag(false);
        let plain = t.served(path, now).unwrap();
        assert!(!String::from_utf8_lossy(&plain.json).contains("@odata.etag"));
        agrees(&mut t, &plain);
        t.insert(system("/redfish/v1/Systems/1/"), &Hooks::new()).unwrap();
        assert!(String::from_utf8_lossy(&t.served(path, now).unwrap().json).contains(r#""On""#));
        assert!(t.served("/redfish/v1/Systems/2", now).is_none());
    }

    /// Transitions apply when the clock passes them, not before.
    #[test]
    fn transitions_apply_on_time() {
        let mut t = tree();
        let k = key("/redfish/v1/Systems/1/", false);
        t.schedule(Transition {
            at: Duration::from_secs(30),
            path: k,
            patch: json!({"PowerState": "Off"}),
            kind: "power".into(),
        });
        assert_eq!(t.get("/redfish/v1/Systems/1", Now::at_secs(29)).unwrap().0["PowerState"], "On");
        assert_eq!(
            t.get("/redfish/v1/Systems/1", Now::at_secs(30)).unwrap().0["PowerState"],
            "Off"
        );
        assert!(t.pending().is_empty());
    }

    /// RFC 7396: null removes, objects merge, scalars replace.
    #[test]
    fn merge_follows_rfc7396() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "d": 3});
        merge(&mut v, &json!({"a": {"b": null, "e": 4}, "d": [1]}));
        assert_eq!(v, json!({"a": {"c": 2, "e": 4}, "d": [1]}));
    }

    /// An action without a hook is reported as unsupported, an unknown target as missing.
    #[test]
    fn actions_without_hooks() {
        let mut t = Tree::new(false);
        let doc = json!({
            "@odata.id": "/redfish/v1/Systems/1",
            "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"}},
        });
        t.insert(doc, &Hooks::new()).unwrap();
        let now = Now::at_secs(0);
        let target = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset/";
        assert_eq!(t.find(target, now, true), Some(Found::Action));
        let Some(Found::Document { patchable: false, served: Some(served) }) =
            t.find("/redfish/v1/Systems/1", now, true)
        else {
            panic!("a document that takes no PATCH");
        };
        assert!(!served.patchable);
        assert_eq!(t.find("/redfish/v1/Systems/2", now, true), None);
        assert_eq!(
            t.invoke("/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", &Map::new(), now),
            Err(TreeError::ActionNotSupported("ComputerSystem.Reset".into()))
        );
        assert_eq!(t.invoke("/nope", &Map::new(), now), Err(TreeError::NotFound));
    }

    fn expand_settings(all: bool, no_links: bool, links: bool, max: u32) -> ExpandSettings {
        ExpandSettings {
            expand_all: all,
            no_links,
            links,
            levels: true,
            max_levels: max,
            ..ExpandSettings::default()
        }
    }

    /// DSP0266 query parameters: `*`, `.`, `~` with `($levels=N)`, percent-encoded or not.
    #[test]
    fn expand_values_parse() {
        assert_eq!(expand_param("a=1&$expand=*($levels=1)").as_deref(), Some("*($levels=1)"));
        assert_eq!(
            expand_param("%24expand=%2A%28%24levels%3D1%29").as_deref(),
            Some("*($levels=1)")
        );
        assert_eq!(expand_param("$select=Id"), None);
        let s = expand_settings(true, true, true, 2);
        let q = |kind, levels| Ok(ExpandQuery { kind, levels });
        assert_eq!(s.check("*"), q(ExpandKind::All, 1));
        assert_eq!(s.check("."), q(ExpandKind::Subordinate, 1));
        assert_eq!(s.check("~($levels=2)"), q(ExpandKind::Dependent, 2));
        assert_eq!(s.check("Members"), Err(ExpandRefusal::Malformed { value: "Members".into() }));
        assert_eq!(
            s.check(".($top=1)"),
            Err(ExpandRefusal::Malformed { value: ".($top=1)".into() })
        );
        assert_eq!(
            s.check("*($levels=3)"),
            Err(ExpandRefusal::LevelsOutOfRange { value: "3".into(), max: 2 })
        );
    }

    /// A form the profile does not take is refused with its status (501 by default).
    #[test]
    fn unsupported_expand_forms_are_refused() {
        let ilo = expand_settings(false, true, false, 1);
        let refused = Err(ExpandRefusal::Unsupported { value: "*".into(), status: 501 });
        assert_eq!(ilo.check("*"), refused);
        assert!(ilo.check(".($levels=1)").is_ok());
        let none = ExpandSettings::default();
        assert!(!none.supported());
        assert!(matches!(none.check("."), Err(ExpandRefusal::Unsupported { status: 501, .. })));
    }

    fn linked_doc() -> Value {
        json!({
            "@odata.id": "/c",
            "Members": [{"@odata.id": "/c/1"}, {"@odata.id": "/c/2"}],
            "Links": {"ManagedBy": [{"@odata.id": "/m"}]},
            "@Redfish.Settings": {"SettingsObject": {"@odata.id": "/c/settings"}},
            "Self": {"@odata.id": "/c"},
        })
    }

    fn fetch_from(uri: &str) -> Option<Value> {
        match uri {
            "/c/1" => {
                Some(json!({"@odata.id": "/c/1", "Id": "1", "Child": {"@odata.id": "/c/1/x"}}))
            }
            "/c/2" => None,
            "/m" => Some(json!({"@odata.id": "/m", "Id": "m"})),
            "/c/1/x" => Some(json!({"@odata.id": "/c/1/x", "Id": "x"})),
            other => panic!("not expected to be fetched: {other}"),
        }
    }

    /// `.` follows links outside `Links`, `~` those inside, `*` both; annotations, the
    /// document itself and unreadable links stay links.
    #[test]
    fn expand_follows_the_links_its_kind_names() {
        let mut sub = linked_doc();
        expand_with(&mut sub, ExpandKind::Subordinate, 1, &mut fetch_from);
        assert_eq!(sub["Members"][0]["Id"], "1");
        assert_eq!(sub["Members"][0]["Child"], json!({"@odata.id": "/c/1/x"}));
        assert_eq!(sub["Members"][1], json!({"@odata.id": "/c/2"}));
        assert_eq!(sub["Links"]["ManagedBy"][0], json!({"@odata.id": "/m"}));
        assert_eq!(sub["Self"], json!({"@odata.id": "/c"}));
        assert_eq!(sub["@Redfish.Settings"], linked_doc()["@Redfish.Settings"]);
        let mut dep = linked_doc();
        expand_with(&mut dep, ExpandKind::Dependent, 1, &mut fetch_from);
        assert_eq!(dep["Links"]["ManagedBy"][0]["Id"], "m");
        assert_eq!(dep["Members"][0], json!({"@odata.id": "/c/1"}));
        let mut all = linked_doc();
        expand_with(&mut all, ExpandKind::All, 2, &mut fetch_from);
        assert_eq!(all["Links"]["ManagedBy"][0]["Id"], "m");
        assert_eq!(all["Members"][0]["Child"]["Id"], "x");
    }
}
