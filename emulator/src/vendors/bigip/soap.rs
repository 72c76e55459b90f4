//! The iControl SOAP portal (`POST /iControl/iControlPortal.cgi`, SOAP 1.1 over HTTP
//! Basic) and the `System.Session` interface, after the seed document (`SOAP-SEED`,
//! `System::Session`) and bigip-solace.md 1.8.
//!
//! Sessions are `soap` sessions on the device's store:
//! - a request without an id runs in the user's *default* session, keyed by user name;
//!   once it has idled out it is silently recreated with default values;
//! - `get_session_identifier` opens an *explicit* session and returns its id (a long);
//!   later requests name it in the SOAP header element `session` or the HTTP header
//!   `X-iControl-Session`, the SOAP header winning when both are sent; an expired or
//!   unknown explicit id is an error;
//! - both kinds count against `maximum_sessions` (a pool of the `soap` type; 0 removes
//!   it: unlimited) and idle out after the global `session_timeout` (the `soap` idle
//!   timeout; 0 means each session serves one request);
//! - with force sessions on, a request without an id is refused with "Could not find the
//!   iControl session for <user>", except `get_session_identifier` itself;
//! - a session holds at most one open transaction and its active folder; a transaction
//!   that is inactive (no request in its session) for the session's transaction timeout
//!   lapses on the device clock: the engine logs an `expired` event at its deadline, and
//!   `submit_transaction` / `rollback_transaction` then answer a fault and close it.
//!
//! XML is read with quick-xml's namespace-aware reader. Anything unreadable, a DTD while
//! DTD processing is off ("parsing aborted", SOAP-SEED set_dtd_processing_state) or an
//! unknown method gets a SOAP fault; nothing panics. With DTD processing on, the internal
//! subset's general entities are expanded, bounded ([`DtdLimits`]): no external or
//! parameter entities, a few levels of nesting, and a budget of expanded text per
//! request, so an entity bomb is a fault, not a hang.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::auth::Client;
use super::errors::{RestError, SoapFault, XML_CONTENT_TYPE};
use super::routes::Ctx;
use super::wire::read_body;
use super::{
    fill, BasicFailureBody, FaultText, DTD_PROCESSING_SETTING, FORCE_SESSIONS_SETTING,
    SOAP_SESSION_TYPE,
};
use crate::session::{
    Account, ClientInfo, EndReason, LoginError, LoginRequest, Pool, Session, SessionSetup,
    UpdateError,
};
use crate::vendors::http::parse_basic;

/// The portal's path.
pub const PORTAL: &str = "/iControl/iControlPortal.cgi";
/// SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Namespace prefix of every iControl interface (`urn:iControl:System/Session`).
pub const ICONTROL_NS: &str = "urn:iControl:";
/// The interface this module implements.
pub const SESSION_INTERFACE: &str = "System/Session";
/// `System.SystemInfo`, for its `get_version` (the usual connection check).
pub const SYSTEM_INFO_INTERFACE: &str = "System/SystemInfo";
/// Name of the pool that holds the SOAP session limit when a profile has none.
pub const POOL_NAME: &str = "icontrol-soap";

/// Session attribute: this is the user's default session.
pub const ATTR_DEFAULT: &str = "bigip.soap.default";
/// Session attribute: a transaction is open ([`TX_OPEN`]) or lapsed ([`TX_EXPIRED`]).
pub const ATTR_TRANSACTION: &str = "bigip.soap.transaction";
/// Session attribute: this session's transaction timeout in seconds, once set.
pub const ATTR_TRANSACTION_TIMEOUT: &str = "bigip.soap.transaction_timeout";
/// [`ATTR_TRANSACTION`] of an open transaction.
pub const TX_OPEN: &str = "open";
/// [`ATTR_TRANSACTION`] of a transaction that was inactive past the transaction timeout:
/// "effectively unusable after that point" (SOAP-SEED set_transaction_timeout).
pub const TX_EXPIRED: &str = "expired";
/// Session attribute: the active folder.
pub const ATTR_FOLDER: &str = "bigip.soap.folder";
/// Session attribute: recursive query is on (`set_recursive_query_state`).
pub const ATTR_RECURSIVE: &str = "bigip.soap.recursive_query";
/// Session attribute: the returned path (`set_returned_path`), once set.
pub const ATTR_RETURNED_PATH: &str = "bigip.soap.returned_path";
/// The `System.Session.ReturnedPath` values a client may set.
pub const RETURNED_PATHS: [&str; 3] = ["PATH_FULL", "PATH_RELATIVE", "PATH_BARE"];

/// Bounds on DTD processing: what a request's internal subset may declare and expand to.
#[derive(Clone, Copy, Debug)]
pub struct DtdLimits {
    /// General entities one request may declare.
    pub max_entities: usize,
    /// Characters of one entity's replacement text.
    pub max_value_chars: usize,
    /// Entity references nested inside entity values.
    pub max_depth: usize,
    /// Characters all expansions of one request may produce together.
    pub max_expanded_chars: usize,
}

/// The limits the portal applies.
pub const DTD_LIMITS: DtdLimits =
    DtdLimits { max_entities: 64, max_value_chars: 4096, max_depth: 4, max_expanded_chars: 65_536 };

/// A parsed SOAP request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Call {
    /// The interface, from the method element's namespace (`System/Session`).
    pub interface: String,
    /// The method (`get_session_identifier`).
    pub method: String,
    /// Parameters by element name, their text content.
    pub params: BTreeMap<String, String>,
    /// The SOAP header element `session`, if sent.
    pub header_session: Option<String>,
}

/// What a method returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Return {
    /// Nothing.
    Void,
    /// `y:long`.
    Long(i64),
    /// `y:string`.
    Str(String),
    /// `Common.EnabledState`.
    State(bool),
    /// `System.Session.ReturnedPath`.
    Path(String),
}

// ----- rendering -----

/// The iControl response envelope around `body`, in the layout of captured answers
/// (prefixes `E`, `A`, `s`, `y`, `iControl`, one attribute per line; [C] code index).
pub fn envelope(body: &str) -> String {
    format!(
        "<E:Envelope\nxmlns:E=\"{SOAP_ENV}\"\nxmlns:A=\"http://schemas.xmlsoap.org/soap/encoding/\"\n\
         xmlns:s=\"http://www.w3.org/2001/XMLSchema-instance\"\n\
         xmlns:y=\"http://www.w3.org/2001/XMLSchema\"\nxmlns:iControl=\"urn:iControl\"\n\
         E:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">\n<E:Body>\n{body}\n\
         </E:Body>\n</E:Envelope>"
    )
}

/// The answer to `method` of `interface`.
pub fn response_xml(interface: &str, method: &str, value: &Return) -> String {
    let open = format!("<m:{method}Response\nxmlns:m=\"{ICONTROL_NS}{interface}\">");
    let close = format!("</m:{method}Response>");
    let ret = |ty: &str, text: &str| {
        format!("\n<return\ns:type=\"{ty}\">{}</return>\n", quick_xml::escape::escape(text))
    };
    let inner = match value {
        Return::Void => String::new(),
        Return::Long(n) => ret("y:long", &n.to_string()),
        Return::Str(s) => ret("y:string", s),
        Return::State(on) => ret(
            "iControl:Common.EnabledState",
            if *on { "STATE_ENABLED" } else { "STATE_DISABLED" },
        ),
        Return::Path(p) => ret("iControl:System.Session.ReturnedPath", p),
    };
    envelope(&format!("{open}{inner}{close}"))
}

fn xml_response(xml: String) -> Response {
    let mut response = Response::new(Body::from(xml));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE));
    response
}

// ----- parsing -----

fn unreadable(detail: impl std::fmt::Display) -> SoapFault {
    SoapFault::client(format!("XML parse error: {detail}"))
}

/// Reads a SOAP 1.1 request with DTD processing off: a DTD is "parsing aborted".
pub fn parse(xml: &str) -> Result<Call, SoapFault> {
    parse_with(xml, false)
}

fn parsing_aborted(why: &str) -> SoapFault {
    SoapFault::client(format!("parsing aborted: {why}"))
}

/// The general entities of a DOCTYPE's internal subset (`<!ENTITY name "value">`),
/// within [`DTD_LIMITS`]; external and parameter entities are refused, never fetched.
fn entities(doctype: &str) -> Result<BTreeMap<String, String>, SoapFault> {
    let mut found = BTreeMap::new();
    let mut rest = doctype;
    while let Some(at) = rest.find("<!ENTITY") {
        rest = rest[at + "<!ENTITY".len()..].trim_start();
        if rest.starts_with('%') {
            return Err(parsing_aborted("parameter entities are not processed"));
        }
        let name_end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "_-.:".contains(c)) {
            return Err(parsing_aborted("malformed entity declaration"));
        }
        rest = rest[name_end..].trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return Err(parsing_aborted("external entities are not processed"));
        };
        let close = rest[1..].find(quote).ok_or_else(|| parsing_aborted("unterminated entity"))?;
        let value = &rest[1..1 + close];
        if value.chars().count() > DTD_LIMITS.max_value_chars {
            return Err(parsing_aborted("entity value too long"));
        }
        // The first declaration of a name binds (XML 1.0, 4.2).
        found.entry(name.to_string()).or_insert_with(|| value.to_string());
        if found.len() > DTD_LIMITS.max_entities {
            return Err(parsing_aborted("too many entities"));
        }
        rest = &rest[1 + close + 1..];
    }
    Ok(found)
}

/// Appends the replacement text of `&name;` to `out`, expanding references inside it,
/// within the depth and the request's remaining `budget` of characters.
fn expand(
    name: &str,
    entities: &BTreeMap<String, String>,
    depth: usize,
    budget: &mut usize,
    out: &mut String,
) -> Result<(), SoapFault> {
    let predefined = match name {
        "lt" => Some("<"),
        "gt" => Some(">"),
        "amp" => Some("&"),
        "quot" => Some("\""),
        "apos" => Some("'"),
        _ => None,
    };
    if let Some(text) = predefined {
        return push(text, budget, out);
    }
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse().ok(),
        };
        let c =
            code.and_then(char::from_u32).ok_or_else(|| unreadable("bad character reference"))?;
        return push(&c.to_string(), budget, out);
    }
    let value =
        entities.get(name).ok_or_else(|| unreadable(format!("undefined entity &{name};")))?;
    if depth >= DTD_LIMITS.max_depth {
        return Err(parsing_aborted("entities nested too deeply"));
    }
    let mut rest = value.as_str();
    while let Some(amp) = rest.find('&') {
        push(&rest[..amp], budget, out)?;
        let semi = rest[amp..].find(';').ok_or_else(|| unreadable("unterminated reference"))?;
        expand(&rest[amp + 1..amp + semi], entities, depth + 1, budget, out)?;
        rest = &rest[amp + semi + 1..];
    }
    push(rest, budget, out)
}

/// Appends expanded text, within the request's remaining budget.
fn push(text: &str, budget: &mut usize, out: &mut String) -> Result<(), SoapFault> {
    let n = text.chars().count();
    if n > *budget {
        return Err(parsing_aborted("entity expansion limit exceeded"));
    }
    *budget -= n;
    out.push_str(text);
    Ok(())
}

/// Reads a SOAP 1.1 request: the `session` header element, the method element (first
/// child of `Body`, its namespace naming the interface) and its parameters. With `dtd`
/// off a DOCTYPE is "parsing aborted"; on, its internal entities are expanded, bounded.
pub fn parse_with(xml: &str, dtd: bool) -> Result<Call, SoapFault> {
    let mut reader = NsReader::from_str(xml);
    let mut declared: BTreeMap<String, String> = BTreeMap::new();
    let mut budget = DTD_LIMITS.max_expanded_chars;
    let mut call = Call::default();
    // Local names of the open elements, outermost first.
    let mut stack: Vec<String> = Vec::new();
    let mut seen_envelope = false;
    let mut seen_method = false;
    let mut text = String::new();
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(unreadable)?;
        let namespace = match &ns {
            ResolveResult::Bound(n) => Some(String::from_utf8_lossy(n.as_ref()).into_owned()),
            _ => None,
        };
        match event {
            Event::DocType(ref d) if dtd && stack.is_empty() && !seen_envelope => {
                let text = d.decode().map_err(unreadable)?;
                declared = entities(&text)?;
            }
            Event::DocType(_) => return Err(SoapFault::client("parsing aborted")),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let depth = stack.len();
                match depth {
                    0 => {
                        if name != "Envelope" || namespace.as_deref() != Some(SOAP_ENV) {
                            return Err(SoapFault::client(
                                "Not a SOAP 1.1 request: the root must be Envelope in \
                                 http://schemas.xmlsoap.org/soap/envelope/",
                            ));
                        }
                        seen_envelope = true;
                    }
                    2 if stack[1] == "Body" && !seen_method => {
                        let ns = namespace.unwrap_or_default();
                        call.interface = ns.strip_prefix(ICONTROL_NS).unwrap_or(&ns).to_string();
                        if call.interface == ns {
                            call.interface = format!("?{ns}");
                        }
                        call.method = name.clone();
                        seen_method = true;
                    }
                    _ => {}
                }
                text.clear();
                if matches!(event, Event::Start(_)) {
                    stack.push(name);
                } else {
                    close(&mut call, &stack, &name, "");
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                close(&mut call, &stack, &name, text.trim());
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml_content().map_err(unreadable)?),
            Event::CData(t) => text.push_str(&t.decode().map_err(unreadable)?),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(unreadable)? {
                    Some(c) => c.to_string(),
                    None if dtd => {
                        let name = r.decode().map_err(unreadable)?;
                        let mut out = String::new();
                        expand(&name, &declared, 0, &mut budget, &mut out)?;
                        out
                    }
                    None => {
                        let name = r.decode().map_err(unreadable)?;
                        quick_xml::escape::unescape(&format!("&{name};"))
                            .map_err(unreadable)?
                            .into_owned()
                    }
                };
                text.push_str(&resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(unreadable(format!(
            "unexpected end of document inside <{}>",
            stack.join("><")
        )));
    }
    if !seen_envelope || !seen_method {
        return Err(SoapFault::client("No method element in the SOAP Body"));
    }
    Ok(call)
}

/// Records an element that just closed: a header `session`, or a method parameter.
fn close(call: &mut Call, stack: &[String], name: &str, text: &str) {
    match stack.len() {
        2 if stack[1] == "Header" && name == "session" => {
            call.header_session = Some(text.to_string());
        }
        3 if stack[1] == "Body" => {
            call.params.insert(name.to_string(), text.to_string());
        }
        _ => {}
    }
}

// ----- the portal -----

/// `POST /iControl/iControlPortal.cgi`.
pub async fn portal(ctx: Ctx, Client(client): Client, req: Request) -> Response {
    let account = match basic_account(&ctx, req.headers(), &client) {
        Ok(account) => account,
        Err(error) => return error.into_response(),
    };
    let http_session = req
        .headers()
        .get("x-icontrol-session")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string());
    let bytes = match read_body(req, &ctx).await {
        Ok(bytes) => bytes,
        Err(error) if error.status == StatusCode::PAYLOAD_TOO_LARGE => {
            let mut fault = SoapFault::client(error.message);
            fault.status = StatusCode::PAYLOAD_TOO_LARGE;
            return fault.into_response();
        }
        Err(_) => return unreadable("the request body could not be read").into_response(),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return unreadable("the request is not UTF-8").into_response();
    };
    let call = match parse_with(text, dtd_processing(&ctx)) {
        Ok(call) => call,
        Err(fault) => return fault.into_response(),
    };
    let explicit = call.header_session.clone().or(http_session).filter(|s| !s.is_empty());
    match handle(&ctx, &account, &call, explicit.as_deref(), client) {
        Ok(value) => xml_response(response_xml(&call.interface, &call.method, &value)),
        Err(fault) => fault.into_response(),
    }
}

/// HTTP Basic for the portal (and its WSDLs): a 401 with a Basic challenge without
/// credentials, httpd's 401 page for wrong ones when the profile says so.
pub fn basic_account(
    ctx: &Ctx,
    headers: &axum::http::HeaderMap,
    client: &ClientInfo,
) -> Result<Account, RestError> {
    let refused = || {
        let mut e =
            RestError::unauthorized(ctx.settings.messages.basic_failed.clone()).with_challenge();
        e.html = ctx.settings.basic_failure_body == BasicFailureBody::ApacheHtml;
        e
    };
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic)
        .ok_or_else(refused)?;
    let (user, password) = (basic.user(), basic.password());
    let request =
        LoginRequest { user, password, session_type: SOAP_SESSION_TYPE, client: client.clone() };
    ctx.device.store.check_credentials(&request, ctx.now()).map_err(|_| {
        tracing::info!(user = %user, "bigip: SOAP Basic credentials refused");
        refused()
    })
}

/// Whether the portal knows this method: those of [`super::wsdl::INTERFACES`], the
/// same table the WSDLs are written from.
fn known(call: &Call) -> bool {
    super::wsdl::by_path(&call.interface).is_some_and(|i| i.method(&call.method).is_some())
}

struct Faults<'a> {
    ctx: &'a Ctx,
    call: &'a Call,
    user: &'a str,
}

impl Faults<'_> {
    fn make(&self, text: &FaultText, args: &[(&str, &str)]) -> SoapFault {
        let mut all = vec![("user", self.user), ("method", self.call.method.as_str())];
        all.extend_from_slice(args);
        SoapFault::icontrol(
            &self.call.interface,
            &self.call.method,
            &text.exception,
            text.primary_error_code,
            &fill(&text.error_string, &all),
        )
    }

    fn of(&self) -> &super::SoapFaults {
        &self.ctx.settings.soap_faults
    }

    fn max_sessions(&self) -> SoapFault {
        let limit = soap_limit(self.ctx).to_string();
        self.make(&self.of().max_sessions, &[("limit", &limit)])
    }

    fn invalid(&self, arg: &str) -> SoapFault {
        self.make(&self.of().invalid_argument, &[("arg", arg)])
    }
}

/// The SOAP session limit in force (0: unlimited).
fn soap_limit(ctx: &Ctx) -> usize {
    ctx.device
        .store
        .policy()
        .pools
        .iter()
        .find(|p| p.types.iter().any(|t| t == SOAP_SESSION_TYPE))
        .map_or(0, |p| p.limit)
}

/// The global SOAP session timeout in seconds (0: one request per session).
fn soap_timeout(ctx: &Ctx) -> u64 {
    let policy = ctx.device.store.policy();
    policy.idle_timeout_by_type.get(SOAP_SESSION_TYPE).copied().unwrap_or(policy.idle_timeout_secs)
}

/// Whether SOAP requests with DTDs are processed (`iControl.DTDParsing`).
fn dtd_processing(ctx: &Ctx) -> bool {
    ctx.device
        .setting(DTD_PROCESSING_SETTING)
        .and_then(|v| v.as_bool())
        .unwrap_or(ctx.settings.dtd_processing)
}

fn force_sessions(ctx: &Ctx) -> bool {
    ctx.device
        .setting(FORCE_SESSIONS_SETTING)
        .and_then(|v| v.as_bool())
        .unwrap_or(ctx.settings.force_sessions)
}

/// What a new SOAP session starts with: the default folder, and whether it is the
/// user's default session. Given as it opens, so a delete racing the open never leaves a
/// session without them.
fn setup(ctx: &Ctx, default: bool) -> SessionSetup {
    let setup = SessionSetup::new().attr(ATTR_FOLDER, ctx.settings.default_folder.as_str());
    if default {
        setup.attr(ATTR_DEFAULT, "1")
    } else {
        setup
    }
}

/// Maps a refused SOAP session open onto its fault.
fn refused(f: &Faults<'_>, error: LoginError) -> SoapFault {
    match error {
        LoginError::LimitReached { .. } => {
            tracing::info!(user = %f.user, "bigip: SOAP session refused, maximum reached");
            f.max_sessions()
        }
        _ => f.make(&f.of().no_session, &[]),
    }
}

/// Opens a SOAP session for `user`, with the default folder.
fn open(
    ctx: &Ctx,
    f: &Faults<'_>,
    client: ClientInfo,
    default: bool,
) -> Result<Session, SoapFault> {
    let store = &ctx.device.store;
    store
        .open_for_with(f.user, SOAP_SESSION_TYPE, client, &setup(ctx, default), ctx.now())
        .map_err(|e| refused(f, e))
}

/// The session a request runs in: the explicit one it names, or the user's default
/// session (created if it has none). `None` only for `get_session_identifier` under
/// force sessions.
fn resolve(
    ctx: &Ctx,
    f: &Faults<'_>,
    explicit: Option<&str>,
    client: ClientInfo,
) -> Result<Option<Session>, SoapFault> {
    let store = &ctx.device.store;
    let now = ctx.now();
    if let Some(raw) = explicit {
        let not_found = || f.make(&f.of().session_not_found, &[("id", raw)]);
        let id = raw.parse::<u64>().map_err(|_| not_found())?.to_string();
        let session = store
            .get(&id, now)
            .filter(|s| {
                s.session_type == SOAP_SESSION_TYPE
                    && s.user == f.user
                    && !s.attrs.contains_key(ATTR_DEFAULT)
            })
            .ok_or_else(not_found)?;
        let touched = store.authenticate(session.token.as_str(), now).map_err(|_| not_found())?;
        return Ok(Some(Session::clone(&touched)));
    }
    if force_sessions(ctx) {
        if f.call.interface == SESSION_INTERFACE && f.call.method == "get_session_identifier" {
            return Ok(None);
        }
        return Err(f.make(&f.of().no_session, &[]));
    }
    // The user's default session, used, or opened: one engine step, so two first
    // requests at once share one session as on the device.
    let is_default = |s: &Session| s.attrs.contains_key(ATTR_DEFAULT);
    store
        .use_or_open_for(f.user, SOAP_SESSION_TYPE, is_default, client, &setup(ctx, true), now)
        .map(Some)
        .map_err(|e| refused(f, e))
}

fn parse_long(f: &Faults<'_>, name: &str) -> Result<i64, SoapFault> {
    f.call
        .params
        .get(name)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .ok_or_else(|| f.invalid(name))
}

/// A `Common.EnabledState` parameter `state`.
fn parse_state(f: &Faults<'_>) -> Result<bool, SoapFault> {
    match f.call.params.get("state").map(|s| s.trim()) {
        Some("STATE_ENABLED") => Ok(true),
        Some("STATE_DISABLED") => Ok(false),
        _ => Err(f.invalid("state")),
    }
}

fn require_admin(ctx: &Ctx, f: &Faults<'_>, account: &Account) -> Result<(), SoapFault> {
    if ctx.settings.is_admin_role(&account.role) {
        Ok(())
    } else {
        Err(f.make(&f.of().access_denied, &[]))
    }
}

/// Runs one call for `account` and returns its value, or the fault to send.
pub fn handle(
    ctx: &Ctx,
    account: &Account,
    call: &Call,
    explicit: Option<&str>,
    client: ClientInfo,
) -> Result<Return, SoapFault> {
    if !known(call) {
        return Err(SoapFault::client(format!(
            "Method '{}' not implemented: method name or namespace not recognized",
            call.method
        )));
    }
    let f = Faults { ctx, call, user: &account.user };
    let session = resolve(ctx, &f, explicit, client.clone())?;
    let result = run(ctx, &f, account, session.as_ref(), client);
    // A zero timeout: every session serves one request (SOAP-SEED set_session_timeout).
    if let Some(s) = &session {
        if soap_timeout(ctx) == 0 {
            ctx.device.store.end(&s.id, EndReason::RequestEnd, ctx.now()).ok();
        }
    }
    result
}

fn run(
    ctx: &Ctx,
    f: &Faults<'_>,
    account: &Account,
    session: Option<&Session>,
    client: ClientInfo,
) -> Result<Return, SoapFault> {
    let store = &ctx.device.store;
    let now = ctx.now();
    let version = format!("BIG-IP_v{}", ctx.settings.version);
    if f.call.interface == SYSTEM_INFO_INTERFACE {
        return Ok(Return::Str(version));
    }
    let attr = |key: &str, value: Option<&str>| -> Result<(), SoapFault> {
        let s = session.ok_or_else(|| f.make(&f.of().no_session, &[]))?;
        store
            .set_session_attr(&s.id, key, value, now)
            .map(|_| ())
            .map_err(|_| f.make(&f.of().session_not_found, &[("id", &s.id)]))
    };
    let transaction = session.and_then(|s| s.attrs.get(ATTR_TRANSACTION)).map(String::as_str);
    let transaction_timeout = session
        .and_then(|s| s.attrs.get(ATTR_TRANSACTION_TIMEOUT))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(ctx.settings.transaction_timeout_secs);
    match f.call.method.as_str() {
        "get_session_identifier" => {
            let s = open(ctx, f, client, false)?;
            tracing::info!(user = %account.user, session = %s.id, "bigip: SOAP session identifier issued");
            Ok(Return::Long(s.id.parse().unwrap_or(0)))
        }
        "get_maximum_sessions" => Ok(Return::Long(soap_limit(ctx) as i64)),
        "set_maximum_sessions" => {
            require_admin(ctx, f, account)?;
            let n = parse_long(f, "sessions")?;
            let n = usize::try_from(n).map_err(|_| f.invalid("sessions"))?;
            // In one step: a concurrent set_session_timeout must not be undone.
            store.update_policy(now, |policy| {
                let name = policy
                    .pools
                    .iter()
                    .find(|p| p.types.iter().any(|t| t == SOAP_SESSION_TYPE))
                    .map_or_else(|| POOL_NAME.to_string(), |p| p.name.clone());
                policy.pools.retain(|p| !p.types.iter().any(|t| t == SOAP_SESSION_TYPE));
                if n > 0 {
                    policy.pools.push(Pool {
                        name,
                        types: vec![SOAP_SESSION_TYPE.to_string()],
                        limit: n,
                    });
                }
            });
            tracing::info!(by = %account.user, sessions = n, "bigip: SOAP maximum sessions set");
            Ok(Return::Void)
        }
        "get_session_timeout" => Ok(Return::Long(soap_timeout(ctx) as i64)),
        "set_session_timeout" => {
            require_admin(ctx, f, account)?;
            let secs =
                u64::try_from(parse_long(f, "timeout")?).map_err(|_| f.invalid("timeout"))?;
            store.set_idle_timeout(Some(SOAP_SESSION_TYPE), secs, now);
            tracing::info!(by = %account.user, secs, "bigip: SOAP session timeout set");
            Ok(Return::Void)
        }
        "get_force_sessions_state" => Ok(Return::State(force_sessions(ctx))),
        "get_dtd_processing_state" => Ok(Return::State(dtd_processing(ctx))),
        "set_dtd_processing_state" => {
            require_admin(ctx, f, account)?;
            let on = parse_state(f)?;
            ctx.device.set_setting(DTD_PROCESSING_SETTING, serde_json::Value::Bool(on));
            tracing::info!(by = %account.user, on, "bigip: SOAP DTD processing set");
            Ok(Return::Void)
        }
        "get_recursive_query_state" => {
            Ok(Return::State(session.is_some_and(|s| s.attrs.contains_key(ATTR_RECURSIVE))))
        }
        "set_recursive_query_state" => {
            let on = parse_state(f)?;
            attr(ATTR_RECURSIVE, on.then_some("1"))?;
            Ok(Return::Void)
        }
        "get_returned_path" => Ok(Return::Path(
            session
                .and_then(|s| s.attrs.get(ATTR_RETURNED_PATH).cloned())
                .unwrap_or_else(|| ctx.settings.returned_path.clone()),
        )),
        "set_returned_path" => {
            let path = f.call.params.get("path").map(|s| s.trim());
            let path =
                path.filter(|p| RETURNED_PATHS.contains(p)).ok_or_else(|| f.invalid("path"))?;
            attr(ATTR_RETURNED_PATH, Some(path))?;
            Ok(Return::Void)
        }
        "set_force_sessions_state" => {
            require_admin(ctx, f, account)?;
            let on = parse_state(f)?;
            ctx.device.set_setting(FORCE_SESSIONS_SETTING, serde_json::Value::Bool(on));
            tracing::info!(by = %account.user, on, "bigip: SOAP force sessions set");
            Ok(Return::Void)
        }
        "start_transaction" => {
            let s = session.ok_or_else(|| f.make(&f.of().no_session, &[]))?;
            // One engine step decides: of two starts racing on one session, one opens the
            // transaction and the other is refused, never both accepted.
            store
                .update_session(&s.id, now, |current| {
                    match current.attrs.get(ATTR_TRANSACTION).map(String::as_str) {
                        Some(TX_OPEN) => Err(()),
                        _ => Ok(SessionSetup::new().attr(ATTR_TRANSACTION, TX_OPEN)),
                    }
                })
                .map_err(|e| match e {
                    UpdateError::Refused(()) => f.make(&f.of().transaction_open, &[]),
                    UpdateError::NoSuchSession(_) => {
                        f.make(&f.of().session_not_found, &[("id", &s.id)])
                    }
                })?;
            if transaction_timeout == 0 {
                return Ok(Return::Void);
            }
            store
                .set_session_attr_lapsing(
                    &s.id,
                    ATTR_TRANSACTION,
                    TX_OPEN,
                    std::time::Duration::from_secs(transaction_timeout),
                    TX_EXPIRED,
                    "transaction",
                    now,
                )
                .map_err(|_| f.make(&f.of().session_not_found, &[("id", &s.id)]))?;
            Ok(Return::Void)
        }
        "submit_transaction" | "rollback_transaction" => match transaction {
            None => Err(f.make(&f.of().no_transaction, &[])),
            Some(TX_EXPIRED) => {
                attr(ATTR_TRANSACTION, None)?;
                tracing::info!(user = %account.user, "bigip: SOAP transaction had expired");
                let timeout = transaction_timeout.to_string();
                Err(f.make(&f.of().transaction_expired, &[("timeout", &timeout)]))
            }
            Some(_) => {
                attr(ATTR_TRANSACTION, None)?;
                Ok(Return::Void)
            }
        },
        "get_active_folder" => Ok(Return::Str(
            session
                .and_then(|s| s.attrs.get(ATTR_FOLDER).cloned())
                .unwrap_or_else(|| ctx.settings.default_folder.clone()),
        )),
        "set_active_folder" => {
            let folder = f.call.params.get("folder").filter(|v| v.starts_with('/'));
            let folder = folder.ok_or_else(|| f.invalid("folder"))?;
            attr(ATTR_FOLDER, Some(folder))?;
            Ok(Return::Void)
        }
        "get_transaction_timeout" => {
            Ok(Return::Long(i64::try_from(transaction_timeout).unwrap_or(i64::MAX)))
        }
        "set_transaction_timeout" => {
            let secs = parse_long(f, "timeout")?;
            if secs < 0 {
                return Err(f.invalid("timeout"));
            }
            attr(ATTR_TRANSACTION_TIMEOUT, Some(&secs.to_string()))?;
            Ok(Return::Void)
        }
        "get_version" => Ok(Return::Str(version)),
        _ => Err(SoapFault::client(format!(
            "Method '{}' not implemented: method name or namespace not recognized",
            f.call.method
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(header: &str, body: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV}\">\
             <SOAP-ENV:Header>{header}</SOAP-ENV:Header><SOAP-ENV:Body>{body}</SOAP-ENV:Body>\
             </SOAP-ENV:Envelope>"
        )
    }

    /// The method's namespace names the interface; the SOAP header `session` is read
    /// (SOAP-SEED get_session_identifier: "The SOAP header element is named session").
    #[test]
    fn parses_method_interface_params_and_session_header() {
        let xml = request(
            "<session xmlns=\"urn:iControl\" SOAP-ENV:mustUnderstand=\"0\">14</session>",
            "<m:set_session_timeout xmlns:m=\"urn:iControl:System/Session\">\
             <timeout>1&#x32;0</timeout></m:set_session_timeout>",
        );
        let call = parse(&xml).unwrap();
        assert_eq!(call.interface, "System/Session");
        assert_eq!(call.method, "set_session_timeout");
        assert_eq!(call.params.get("timeout").map(String::as_str), Some("120"));
        assert_eq!(call.header_session.as_deref(), Some("14"));
    }

    /// Broken XML, DTDs, foreign roots and empty bodies are faults, never panics.
    #[test]
    fn unreadable_requests_are_client_faults() {
        let cases = [
            String::new(),
            "<".to_string(),
            "not xml at all".to_string(),
            "<a><b></a>".to_string(),
            format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{}", request("", "<m:x xmlns:m=\"urn:iControl:A/B\"/>")),
            request("", ""),
            request("", "<m:x xmlns:m=\"urn:iControl:A/B\">&unknown;</m:x>"),
            format!("<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV}\"><SOAP-ENV:Body><m:x xmlns:m=\"urn:iControl:A/B\">"),
            "<Envelope><Body><x/></Body></Envelope>".to_string(),
        ];
        for xml in cases {
            let fault = parse(&xml).expect_err(&xml);
            assert_eq!(fault.code, "Client", "{xml}");
        }
    }

    /// SOAP-SEED set_dtd_processing_state: with DTD processing on, a request's internal
    /// entities are expanded; external and parameter entities are never processed.
    #[test]
    fn dtd_processing_expands_internal_entities_only() {
        let body = "<m:set_active_folder xmlns:m=\"urn:iControl:System/Session\">\
                    <folder>&p;/&n;</folder></m:set_active_folder>";
        let xml = format!(
            "<!DOCTYPE x [<!ENTITY p \"/Common\"><!ENTITY n \"app&amp;&q;\"><!ENTITY q 'x'>]>{}",
            request("", body)
        );
        assert_eq!(parse(&xml).unwrap_err().string, "parsing aborted");
        let call = parse_with(&xml, true).unwrap();
        assert_eq!(call.params.get("folder").map(String::as_str), Some("/Common/app&x"));
        for (decl, why) in [
            ("<!ENTITY p SYSTEM \"file:///etc/passwd\">", "external entities"),
            ("<!ENTITY % p \"x\">", "parameter entities"),
        ] {
            let xml = format!("<!DOCTYPE x [{decl}]>{}", request("", body));
            let fault = parse_with(&xml, true).unwrap_err();
            assert!(fault.string.contains(why), "{}", fault.string);
        }
    }

    /// Entity expansion is bounded: a "billion laughs" document is a fault, not a hang.
    #[test]
    fn entity_bombs_are_faults() {
        let mut decls = String::from("<!ENTITY a0 \"lol\">");
        for i in 1..10 {
            let refs = format!("&a{};", i - 1).repeat(10);
            decls.push_str(&format!("<!ENTITY a{i} \"{refs}\">"));
        }
        let body = "<m:set_active_folder xmlns:m=\"urn:iControl:System/Session\">\
                    <folder>&a9;</folder></m:set_active_folder>";
        let xml = format!("<!DOCTYPE x [{decls}]>{}", request("", body));
        let fault = parse_with(&xml, true).unwrap_err();
        assert!(fault.string.starts_with("parsing aborted"), "{}", fault.string);
        // Wide rather than deep: one level, but past the expansion budget.
        let wide = format!("<!ENTITY w \"{}\">", "x".repeat(4000));
        let refs = "&w;".repeat(20);
        let body = format!(
            "<m:set_active_folder xmlns:m=\"urn:iControl:System/Session\">\
             <folder>{refs}</folder></m:set_active_folder>"
        );
        let xml = format!("<!DOCTYPE x [{wide}]>{}", request("", &body));
        let fault = parse_with(&xml, true).unwrap_err();
        assert!(fault.string.contains("expansion limit"), "{}", fault.string);
    }

    /// Void answers are an empty response element; values carry their `s:type` ([C]
    /// iControl answers in the code index).
    #[test]
    fn responses_use_the_icontrol_envelope() {
        let void = response_xml("System/Session", "start_transaction", &Return::Void);
        assert!(
            void.starts_with("<E:Envelope\nxmlns:E=\"http://schemas.xmlsoap.org/soap/envelope/\"")
        );
        assert!(void.contains("<m:start_transactionResponse\nxmlns:m=\"urn:iControl:System/Session\"></m:start_transactionResponse>"));
        let long = response_xml("System/Session", "get_session_identifier", &Return::Long(14));
        assert!(long.contains("<return\ns:type=\"y:long\">14</return>"));
    }
}
