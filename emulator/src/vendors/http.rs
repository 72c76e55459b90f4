//! HTTP pieces every personality reads the same way: Basic credentials, who the client
//! is, whether the listener that took the request speaks TLS, and the request log line.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{header, Extensions, HeaderMap, HeaderName, HeaderValue, Uri};
use base64::Engine as _;

use crate::peer::ClientProcesses;
use crate::session::ClientInfo;

/// `Basic <base64(user:password)>` into its parts (the password may hold colons);
/// `None` for anything else, never a guess. `value` is a header's text, which is visible
/// ASCII, so spaces are ASCII: it is read byte by byte (every Basic request's path).
pub fn parse_basic(value: &str) -> Option<Basic> {
    let value = value.trim_ascii();
    let space = value.bytes().position(|b| b == b' ')?;
    let (scheme, encoded) = (&value[..space], &value[space + 1..]);
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii()).ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let text = String::from_utf8(decoded).ok()?;
    Some(Basic { text, colon })
}

/// Basic credentials, decoded once into one string. Its `Debug` never shows the
/// password.
#[derive(Clone, PartialEq, Eq)]
pub struct Basic {
    /// `user:password`, as decoded.
    text: String,
    /// Where the first colon is.
    colon: usize,
}

impl Basic {
    /// The user name: everything before the first colon.
    pub fn user(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The password: everything after it.
    pub fn password(&self) -> &str {
        &self.text[self.colon + 1..]
    }
}

impl std::fmt::Debug for Basic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basic").field("user", &self.user()).finish_non_exhaustive()
    }
}

/// The first value of a request's header `name`, as [`HeaderMap::get`] gives it, found by
/// looking through the request's headers in turn. A request carries a handful of
/// headers, and comparing their names costs less than hashing `name` for the map's
/// lookup: a token GET's `X-Auth-Token` costs 105 instructions so, 213 in the map, and a
/// request makes two to five such lookups. A request of many headers is looked up in the
/// map.
pub fn request_header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    /// Past this many headers the map's lookup costs less.
    const LOOKED_THROUGH: usize = 16;
    if headers.len() > LOOKED_THROUGH {
        return headers.get(name);
    }
    headers.iter().find(|(each, _)| *each == name).map(|(_, value)| value)
}

/// The `Content-Type` of an answer that is JSON (`application/json...`), to relabel in
/// place with a personality's own (iLO's and iDRAC's `application/json; charset=utf-8`,
/// say) or to tell a JSON answer from the rest: one lookup. `None` for any other answer,
/// which keeps its own.
pub fn json_content_type(headers: &mut HeaderMap) -> Option<&mut HeaderValue> {
    headers.get_mut(header::CONTENT_TYPE).filter(|v| v.as_bytes().starts_with(b"application/json"))
}

/// What the listener knows of the connection a request arrived on. The listener makes it
/// once per connection and runs all of the connection's work inside
/// [`Connection::serve`], where every request on it finds it ([`Connection::with`]):
/// carried in each request's extensions instead, it cost every request a map allocated
/// for it, a boxed entry and their freeing (about 600 instructions, 3-4% of a request's
/// work over sockets). A request called without a listener (a test calling a router)
/// may carry one in its extensions, which comes first. Handlers read it through
/// [`client_info`] and [`ListenerScheme::of`]; the device's service adds its context
/// ([`DeviceContext`]).
#[derive(Clone, Debug)]
pub struct Connection {
    /// The client's address.
    pub peer: SocketAddr,
    /// The scheme of the listener that accepted the connection.
    pub scheme: ListenerScheme,
    /// In hygiene mode, names the local process behind the connection.
    pub processes: Option<ClientProcesses>,
    /// The context of the device answering, once its service has put it in: the first
    /// request's device, which is every request's, since a connection is served by one
    /// device's service.
    device: std::sync::OnceLock<DeviceContext>,
}

tokio::task_local! {
    /// The connection whose task is running ([`Connection::serve`]), boxed: the task's
    /// every poll swaps it in and out.
    static CURRENT: Box<Connection>;
}

impl Connection {
    /// A connection from `peer` to a listener of `scheme`, without process lookup.
    pub fn new(peer: SocketAddr, scheme: ListenerScheme) -> Connection {
        Connection::looked_up(peer, scheme, None)
    }

    /// A connection from `peer` to a listener of `scheme`, whose local process
    /// `processes` names (hygiene mode).
    pub fn looked_up(
        peer: SocketAddr,
        scheme: ListenerScheme,
        processes: Option<ClientProcesses>,
    ) -> Connection {
        Connection { peer, scheme, processes, device: std::sync::OnceLock::new() }
    }

    /// `work` (all of a connection's serving: reading, calling the service, writing) with
    /// this as the connection its requests came on.
    pub fn serve<F: std::future::Future>(
        self,
        work: F,
    ) -> impl std::future::Future<Output = F::Output> {
        CURRENT.scope(Box::new(self), work)
    }

    /// `f` of the connection a request came on: the one its `extensions` carry, else the
    /// one being served ([`Connection::serve`]); none when the service is called without
    /// a listener.
    pub fn with<R>(extensions: &Extensions, f: impl FnOnce(Option<&Connection>) -> R) -> R {
        match extensions.get::<Connection>() {
            Some(connection) => f(Some(connection)),
            None => Connection::current(f),
        }
    }

    /// `f` of the connection being served, if any.
    fn current<R>(f: impl FnOnce(Option<&Connection>) -> R) -> R {
        if CURRENT.try_with(|_| ()).is_ok() {
            CURRENT.with(|connection| f(Some(connection)))
        } else {
            f(None)
        }
    }
}

/// The client's address (when served by a listener) and `User-Agent`, and the local
/// process behind the connection when the listener looks it up (hygiene mode).
pub fn client_info(extensions: &Extensions, headers: &HeaderMap) -> ClientInfo {
    let (addr, process) = Connection::with(extensions, |connection| match connection {
        Some(c) => (Some(ip_text(c.peer.ip())), c.processes.as_ref().and_then(|p| p.find(c.peer))),
        None => (None, None),
    });
    ClientInfo {
        addr,
        user_agent: request_header(headers, &header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        process,
    }
}

/// An address as `to_string` writes it; IPv4 (every loopback client) digit by digit,
/// without the formatting machinery, since every login and refusal records it.
fn ip_text(ip: std::net::IpAddr) -> String {
    let std::net::IpAddr::V4(v4) = ip else { return ip.to_string() };
    let mut text = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

/// The scheme of the listener that accepted a request. The listener keeps it in each
/// connection it serves ([`Connection::serve`]), so a personality writes absolute URIs
/// (`Location`, SEMP links) with the scheme the client really used, whatever the port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListenerScheme {
    /// Plain HTTP (also what a router sees when it is called without a listener).
    #[default]
    Http,
    /// HTTP over TLS.
    Https,
}

impl ListenerScheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerScheme::Http => "http",
            ListenerScheme::Https => "https",
        }
    }

    /// The scheme of the [`Connection`] a request came on (plain HTTP without one).
    pub fn of(extensions: &Extensions) -> ListenerScheme {
        Connection::with(extensions, |c| c.map_or_else(ListenerScheme::default, |c| c.scheme))
    }
}

/// A request's path, kept by a last step for when the answer comes back: a shared copy of
/// the path and query (one reference count), where a clone of the whole URI copies each
/// of its parts. It reads as [`Uri::path`] does for every form of request target.
#[derive(Clone, Debug)]
pub struct KeptPath(Option<PathAndQuery>);

impl KeptPath {
    /// `uri`'s path, kept.
    pub fn of(uri: &Uri) -> KeptPath {
        KeptPath(uri.path_and_query().cloned())
    }

    /// The path, as [`Uri::path`] gives it.
    pub fn as_str(&self) -> &str {
        self.0.as_ref().map_or("", PathAndQuery::path)
    }
}

/// The URI a request was sent with, kept by [`reroute`] when a personality's path rules
/// route the request by another.
#[derive(Clone, Debug)]
pub struct SentUri(pub Uri);

impl SentUri {
    /// The URI `request` was sent with: the one kept when it was rerouted, else its own.
    pub fn of(request: &axum::extract::Request) -> &Uri {
        request.extensions().get::<SentUri>().map_or_else(|| request.uri(), |SentUri(uri)| uri)
    }
}

/// Routes `request` by the path `route` gives for the path as sent, the query kept: the
/// one place where a personality's path rules (a trailing slash ignored, case-insensitive
/// segments, an alias) apply before routing, in the personality's step ([`around`]),
/// rather than as extra routes per path. Handlers still see the path as sent in
/// [`SentUri`]; a request routed by its own path (nearly every one) is left untouched.
pub fn reroute<F>(request: &mut axum::extract::Request, route: &F)
where
    F: Fn(&str) -> std::borrow::Cow<'_, str>,
{
    let std::borrow::Cow::Owned(routed) = route(request.uri().path()) else { return };
    let rebuilt = match request.uri().query() {
        Some(query) => format!("{routed}?{query}"),
        None => routed,
    };
    let mut parts = request.uri().clone().into_parts();
    let Ok(pq) = rebuilt.parse() else { return };
    parts.path_and_query = Some(pq);
    let Ok(uri) = Uri::from_parts(parts) else { return };
    let sent = std::mem::replace(request.uri_mut(), uri);
    if request.extensions().get::<SentUri>().is_none() {
        request.extensions_mut().insert(SentUri(sent));
    }
}

/// Under `prefix`, a path with one trailing slash routes as the path without it
/// (`/mgmt/tm/sys/` as `/mgmt/tm/sys`); two slashes, or paths elsewhere, stay as sent.
/// Devices answer both forms and clients use both (f5-sdk ends every URI in `/`; the
/// generated SEMP clients ask for the Broker at `/SEMP/v2/config/`).
pub fn one_trailing_slash_ignored<'a>(path: &'a str, prefix: &str) -> std::borrow::Cow<'a, str> {
    match path.strip_suffix('/') {
        Some(trimmed) if trimmed.starts_with(prefix) && !trimmed.ends_with('/') => {
            std::borrow::Cow::Owned(trimmed.to_string())
        }
        _ => std::borrow::Cow::Borrowed(path),
    }
}

/// What the layer every personality shares needs: who its log lines are about (the
/// personality and the device) and the device's clock, for the `Date` header.
#[derive(Clone, Debug)]
pub struct RequestLog {
    /// `redfish`, `ilo`, `idrac`, `bigip`, `solace`.
    pub personality: &'static str,
    /// The device's name.
    pub device: std::sync::Arc<str>,
    /// The device's clock.
    pub clock: crate::clock::Clock,
}

impl RequestLog {
    /// The layer's state for `device`, served as `personality`.
    pub fn new(personality: &'static str, device: &str, clock: crate::clock::Clock) -> RequestLog {
        RequestLog { personality, device: std::sync::Arc::from(device), clock }
    }

    /// The `Date` header for the device's clock now.
    fn date(&self) -> Option<HeaderValue> {
        date_header(&self.clock)
    }
}

thread_local! {
    /// The last `Date` this worker wrote, by the second it names: every answer in that
    /// second carries the same value, so it is formatted once. Kept per thread, not per
    /// device, so two workers answering one device share no lock and no counter (clocks
    /// moved apart only cost a formatting when a thread's devices alternate).
    static LAST_DATE: std::cell::RefCell<Option<(i64, HeaderValue)>> =
        const { std::cell::RefCell::new(None) };
}

/// The `Date` header naming the second `clock` reads. Within a second it already named,
/// only the second is read (no date is built).
fn date_header(clock: &crate::clock::Clock) -> Option<HeaderValue> {
    let second = clock.unix_second();
    LAST_DATE.with_borrow_mut(|last| match last {
        Some((at, value)) if *at == second => Some(value.clone()),
        _ => {
            let utc = clock.now().utc;
            let value = HeaderValue::from_str(&http_date(utc)?).ok()?;
            *last = Some((utc.timestamp(), value.clone()));
            Some(value)
        }
    })
}

/// An IMF-fixdate (RFC 9110 5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, by `httpdate`
/// (hyper's own formatter). `None` outside what the format can carry (before 1970, after
/// 9999), which a virtual clock moved only forward from the machine's time never reaches.
pub fn http_date(t: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let secs = u64::try_from(t.timestamp()).ok().filter(|s| *s < 253_402_300_800)?;
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    Some(httpdate::fmt_http_date(at))
}

/// A device's HTTP service as the listener calls it: each request answered by one
/// call, without the routing passes an outer [`axum::Router`] would add. Cheap to clone
/// (one shared pointer); [`App::into_router`] gives the same service as a router.
#[derive(Clone)]
pub struct App(Arc<dyn Fn(axum::extract::Request) -> Answering + Send + Sync>);

/// The answer an [`App`] is working on: the personality's future and, once it is ready,
/// the shared step's last touches ([`finished`]). Those ride along as a field rather than
/// in a future of their own, which would be one more allocation per request.
pub struct Answering {
    answer: std::pin::Pin<Box<dyn std::future::Future<Output = axum::response::Response> + Send>>,
    stamp: Option<Stamp>,
}

impl Answering {
    /// `answer`, boxed.
    pub fn new(
        answer: impl std::future::Future<Output = axum::response::Response> + Send + 'static,
    ) -> Answering {
        Answering { answer: Box::pin(answer), stamp: None }
    }
}

impl std::future::Future for Answering {
    type Output = axum::response::Response;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<axum::response::Response> {
        let mut response = std::task::ready!(self.answer.as_mut().poll(cx));
        if let Some(stamp) = self.stamp.take() {
            stamp.apply(&mut response);
        }
        std::task::Poll::Ready(response)
    }
}

impl App {
    /// Answers `req`.
    pub fn call(&self, req: axum::extract::Request) -> Answering {
        (self.0)(req)
    }

    /// A router's service as an app.
    pub fn of_router(router: axum::Router) -> App {
        let inner = Inner(crate::vendors::routing::Routes::from(router));
        App(Arc::new(move |req| Answering::new(inner.run(req))))
    }

    /// The app as a router (what tests and the expander's document fetches call).
    pub fn into_router(self) -> axum::Router {
        axum::Router::new().fallback_service(self)
    }
}

/// A personality's service for one profile: its routes and steps, built once and shared
/// by every device of the profile (a router is most of a touched device's memory). Each
/// device joins through [`Shared::serve`]: its context goes into every request it answers
/// ([`DeviceContext`]), where the personality's handlers and steps find it.
#[derive(Clone)]
pub struct Shared {
    app: App,
    /// Makes each device's context, once per device.
    context: Arc<dyn Fn(crate::device::DeviceHandle) -> DeviceContext + Send + Sync>,
}

impl Shared {
    /// `app`, served to each device with the context `context` makes for it (one per
    /// device, shared by its requests: read back with [`DeviceContext::get`]).
    pub fn new<C, F>(app: App, context: F) -> Shared
    where
        C: Send + Sync + 'static,
        F: Fn(crate::device::DeviceHandle) -> C + Send + Sync + 'static,
    {
        let context = move |device| DeviceContext(Arc::new(context(device)));
        Shared { app, context: Arc::new(context) }
    }

    /// The service as `device` answers: the shared routes, with the device's context,
    /// inside the step every personality shares ([`finished`], with `log`). One call per
    /// request does both.
    pub fn serve(&self, device: crate::device::DeviceHandle, log: RequestLog) -> App {
        stamped(self.app.clone(), log, Some((self.context)(device)))
    }
}

/// The context of the device a request came to, as its service put it in
/// ([`Shared::serve`]): in the request's [`Connection`] (the one it carries, else the one
/// being served), or on its own in the request's extensions when it came without a
/// listener (a test calling the router, say) or when the connection being served already
/// holds another device's context.
#[derive(Clone)]
pub struct DeviceContext(Arc<dyn std::any::Any + Send + Sync>);

impl DeviceContext {
    /// `f` of the context a request carries, if any: its own connection's (in
    /// `extensions`), then one of its own, then the connection being served's.
    pub fn with<R>(extensions: &Extensions, f: impl FnOnce(Option<&DeviceContext>) -> R) -> R {
        let carried = match extensions.get::<Connection>() {
            Some(connection) => connection.device.get(),
            None => None,
        };
        match carried.or_else(|| extensions.get::<DeviceContext>()) {
            Some(context) => f(Some(context)),
            None => Connection::current(|c| f(c.and_then(|c| c.device.get()))),
        }
    }

    /// The personality's context (a `C`) that a request carries, if any.
    pub fn of<C: Clone + 'static>(extensions: &Extensions) -> Option<C> {
        DeviceContext::with(extensions, |context| context?.get::<C>().cloned())
    }

    /// The context, when it is a `C` (the personality's own context type).
    pub fn get<C: 'static>(&self) -> Option<&C> {
        self.0.downcast_ref()
    }

    /// Puts the context where a request's handlers find it: in the connection its
    /// `extensions` carry, else in the connection being served (the first request of a
    /// connection puts it there for all of them), else in `extensions` on its own.
    pub fn attach(&self, extensions: &mut Extensions) {
        if let Some(connection) = extensions.get_mut::<Connection>() {
            connection.device = std::sync::OnceLock::from(self.clone());
            return;
        }
        let joined = Connection::current(|connection| {
            connection
                .is_some_and(|c| Arc::ptr_eq(&c.device.get_or_init(|| self.clone()).0, &self.0))
        });
        if !joined {
            extensions.insert(self.clone());
        }
    }
}

impl std::fmt::Debug for DeviceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceContext")
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("App")
    }
}

impl tower::Service<axum::extract::Request> for App {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::extract::Request) -> Self::Future {
        let answer = App::call(self, req);
        Box::pin(async move { Ok(answer.await) })
    }
}

/// `personality` inside the step every personality shares, once per request:
/// - the `Date` header from the device's clock, so a client comparing `Date` with the
///   expiry times in bodies sees one timeline when the virtual clock has moved (hyper
///   would otherwise write the machine's time);
/// - one debug line per request: device, method, path, status and the real time the
///   answer took. Only the path is logged: the query may carry credentials, and no
///   header (`Authorization`, `X-Auth-Token`, cookies) or body is. The path comes from
///   the client, so its control characters are escaped. Nothing of it is gathered when
///   debug lines are off.
pub fn finished(personality: App, log: RequestLog) -> App {
    stamped(personality, log, None)
}

/// [`finished`] around `personality`, putting the device's `context` in each request when
/// there is one ([`Shared::serve`]).
fn stamped(personality: App, log: RequestLog, context: Option<DeviceContext>) -> App {
    let log = Arc::new(log);
    App(Arc::new(move |mut req: axum::extract::Request| {
        if let Some(context) = &context {
            context.attach(req.extensions_mut());
        }
        let line = tracing::enabled!(tracing::Level::DEBUG).then(|| {
            let path = crate::flags::escape_controls(req.uri().path()).into_owned();
            (req.method().clone(), path, crate::clock::Stopwatch::start())
        });
        let mut answering = personality.call(req);
        if answering.stamp.is_some() {
            answering = Answering::new(answering);
        }
        answering.stamp = Some(Stamp { log: log.clone(), line });
        answering
    }))
}

/// Keeps `Date`'s place at the end of `headers`, a head made once and copied into answer
/// after answer: the shared step writes each answer's `Date` over it (and takes it out
/// when it has none to write), so the copy holds every header it will carry. A copy of a
/// header map has no room for one more entry, and adding `Date` to it would grow it.
pub fn date_slot(headers: &mut HeaderMap) {
    headers.insert(header::DATE, HeaderValue::from_static(""));
}

/// How an answer the personality's last step has already finished (a [`KeptAnswer`],
/// finished once when it was kept) is told, for the last step to hand it on as it is: its
/// head holds `Date`'s place ([`date_slot`]). No handler writes `Date` (the shared step
/// does, after the last step) and a mockup's captured headers never carry it, so before
/// the shared step only a finished answer holds it. (A mark among the answer's extensions
/// cost each answer an allocation.)
#[derive(Clone, Copy, Debug)]
pub struct Finished;

impl Finished {
    /// `answer`, finished, marked so.
    pub fn mark(mut answer: axum::response::Response) -> axum::response::Response {
        date_slot(answer.headers_mut());
        answer
    }

    /// Whether `answer` is finished.
    pub fn is(answer: &axum::response::Response) -> bool {
        answer.headers().contains_key(header::DATE)
    }
}

/// An answer finished once by the personality's last step and copied into answer after
/// answer: a kept document's GET. Its head ends in `Date`'s place ([`date_slot`]), so a
/// copy is complete but for the `Date` written over it, and is [`Finished`].
#[derive(Clone, Debug, PartialEq)]
pub struct KeptAnswer {
    status: axum::http::StatusCode,
    head: HeaderMap,
    body: Bytes,
}

impl KeptAnswer {
    /// The answer `kept` holds: `finished()`, a finished answer, kept at the first call and
    /// copied at every call after. An answer whose body is not whole when it is made is not
    /// kept: `finished()` answers every call then. Either way marked [`Finished`].
    pub fn served(
        kept: &std::sync::OnceLock<Option<KeptAnswer>>,
        finished: impl Fn() -> axum::response::Response,
    ) -> axum::response::Response {
        match kept.get_or_init(|| KeptAnswer::of(finished())) {
            Some(kept) => kept.answer(),
            None => Finished::mark(finished()),
        }
    }

    /// `answer`, finished, kept; `None` when its body is not whole.
    pub fn of(answer: axum::response::Response) -> Option<KeptAnswer> {
        let (parts, body) = answer.into_parts();
        let ReadyBody::Whole(body) = ready_body(body) else { return None };
        let mut head = parts.headers;
        date_slot(&mut head);
        Some(KeptAnswer { status: parts.status, head, body })
    }

    /// A copy of the answer (its head's `Date` place marks it [`Finished`]).
    pub fn answer(&self) -> axum::response::Response {
        let mut answer = axum::response::Response::new(axum::body::Body::from(self.body.clone()));
        *answer.status_mut() = self.status;
        *answer.headers_mut() = self.head.clone();
        answer
    }
}

/// What [`finished`] adds to an answer once it is ready.
struct Stamp {
    log: Arc<RequestLog>,
    /// The method, the escaped path and the time taken, when debug lines are on.
    line: Option<(axum::http::Method, String, crate::clock::Stopwatch)>,
}

impl Stamp {
    fn apply(self, response: &mut axum::response::Response) {
        let Stamp { log, line } = self;
        match log.date() {
            Some(date) => response.headers_mut().insert(header::DATE, date),
            None => response.headers_mut().remove(header::DATE),
        };
        if let Some((method, path, watch)) = line {
            let micros = watch.elapsed().as_micros();
            tracing::debug!(
                device = %log.device,
                %method,
                path,
                status = response.status().as_u16(),
                duration = %format_args!("{}.{:03}ms", micros / 1000, micros % 1000),
                "{}: request",
                log.personality,
            );
        }
    }
}

/// The service behind a step of [`around`]: what `next.run` is to an axum middleware.
#[derive(Clone)]
pub struct Inner(crate::vendors::routing::Routes);

impl Inner {
    /// Answers `req`: a future holding the routes' call and nothing else. (An `async`
    /// function or block keeps what it was given beside what it awaits, here a second
    /// request.)
    pub fn run(
        &self,
        req: axum::extract::Request,
    ) -> impl std::future::Future<Output = axum::response::Response> + Send + 'static {
        self.0.call(req)
    }
}

/// `routes` inside `step`, which sees every request and answers it, usually by asking
/// the routes ([`Inner::run`]) and finishing what they answered: a personality's last
/// word on headers and error envelopes.
///
/// Unlike an axum middleware layered on the router (`Router::layer`), which wraps each
/// route and copies the stack of layers below it on every request, this wraps the whole
/// router once: a request pays one boxed future per step. The step borrows its state
/// and the router, and its future takes what it keeps.
pub fn around<S, F, Fut>(
    routes: impl Into<crate::vendors::routing::Routes>,
    state: S,
    step: F,
) -> App
where
    S: Send + Sync + 'static,
    F: Fn(&S, axum::extract::Request, &Inner) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = axum::response::Response> + Send + 'static,
{
    let inner = Inner(routes.into().ready());
    App(Arc::new(move |req| Answering::new(step(&state, req, &inner))))
}

/// Why a request body was not read ([`limited_body`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRefused {
    /// Longer than the limit, by its declared `Content-Length` or as it arrived.
    TooLarge,
    /// The body failed while it was read (the client went away, or stalled).
    Unreadable,
}

/// `req`'s body, at most `limit` bytes: a declared `Content-Length` past the limit is
/// refused before anything is read, and a body that grows past it as it is read.
///
/// The headers are read when this is called, and the future keeps only the body: a
/// handler awaiting it (a login, boxed by axum on every request) holds a few dozen bytes
/// across the wait instead of the whole request.
pub fn limited_body(
    req: axum::extract::Request,
    limit: usize,
) -> impl std::future::Future<Output = Result<Bytes, BodyRefused>> + Send + 'static {
    use futures_util::future::{ready, Either};
    use futures_util::FutureExt as _;
    let declared = request_header(req.headers(), &header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Either::Left(ready(Err(BodyRefused::TooLarge)));
    }
    let reading = whole_body(http_body_util::Limited::new(req.into_body(), limit));
    Either::Right(reading.map(|read| {
        read.map_err(|e| match e.downcast_ref::<http_body_util::LengthLimitError>() {
            Some(_) => BodyRefused::TooLarge,
            None => BodyRefused::Unreadable,
        })
    }))
}

/// All of `body`, as collecting it gives it. A body of one piece (what every handler here
/// answers with, and what a small request body over the wire usually is) is handed back
/// as that piece, without the buffering that collecting a body of many pieces needs (which
/// is boxed, so that the future of the usual case stays small). Wrap `body` in
/// [`http_body_util::Limited`] to bound it.
pub async fn whole_body<B>(mut body: B) -> Result<Bytes, B::Error>
where
    B: axum::body::HttpBody<Data = Bytes> + Unpin,
{
    use http_body_util::BodyExt as _;
    let first = match body.frame().await.transpose()? {
        None => return Ok(Bytes::new()),
        Some(frame) => frame.into_data().unwrap_or_default(),
    };
    if axum::body::HttpBody::is_end_stream(&body) {
        return Ok(first);
    }
    let rest = Box::pin(body.collect()).await?.to_bytes();
    let mut all = Vec::with_capacity(first.len() + rest.len());
    all.extend_from_slice(&first);
    all.extend_from_slice(&rest);
    Ok(Bytes::from(all))
}

/// What [`ready_body`] found in an answer's body.
pub enum ReadyBody {
    /// All of it, read without waiting: every answer the emulator makes is one piece (or
    /// none), complete when its handler returns.
    Whole(Bytes),
    /// A body with more to come, handed back to be read as it comes (what was read first
    /// still in front).
    Later(axum::body::Body),
    /// A body that failed as it was read.
    Failed,
}

/// All of `body` if it is complete now, read without waiting: a step that reworks an
/// answer's body needs no future of its own for the answers the emulator makes.
pub fn ready_body(mut body: axum::body::Body) -> ReadyBody {
    use axum::body::HttpBody as _;
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(&mut body).poll_frame(&mut cx) {
        std::task::Poll::Pending => ReadyBody::Later(body),
        std::task::Poll::Ready(None) => ReadyBody::Whole(Bytes::new()),
        std::task::Poll::Ready(Some(Err(_))) => ReadyBody::Failed,
        std::task::Poll::Ready(Some(Ok(frame))) => {
            let frame = if body.is_end_stream() {
                match frame.into_data() {
                    Ok(data) => return ReadyBody::Whole(data),
                    Err(frame) => frame,
                }
            } else {
                frame
            };
            ReadyBody::Later(axum::body::Body::new(Prepended { first: Some(frame), rest: body }))
        }
    }
}

/// A body whose first frame was already read: that frame, then the rest.
struct Prepended {
    first: Option<hyper::body::Frame<Bytes>>,
    rest: axum::body::Body,
}

impl axum::body::HttpBody for Prepended {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        match self.first.take() {
            Some(frame) => std::task::Poll::Ready(Some(Ok(frame))),
            None => std::pin::Pin::new(&mut self.rest).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.rest.is_end_stream()
    }
}

/// The empty body of an answer whose body a later step writes (an error a router's last
/// step renders in the device's envelope). Its length is not known yet, so axum's router
/// does not give it a `Content-Length` of 0 that the step would only take off again.
pub fn unwritten_body() -> axum::body::Body {
    axum::body::Body::new(Unwritten)
}

/// See [`unwritten_body`]: nothing, of a length the size hint does not tell.
struct Unwritten;

impl axum::body::HttpBody for Unwritten {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }
}

/// A body rendered once and served many times, with its `Content-Length` made with it:
/// axum's router gives an answer without one a length it formats into a new allocation
/// each time. Set where the router would set it (after the handler's own headers), it
/// leaves the bytes on the wire as they were.
#[derive(Clone, Debug)]
pub struct Rendered {
    bytes: Bytes,
    length: HeaderValue,
}

impl Rendered {
    /// `bytes`, measured.
    pub fn new(bytes: Bytes) -> Rendered {
        let length = HeaderValue::from(bytes.len());
        Rendered { bytes, length }
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Its `Content-Length`.
    pub fn length(&self) -> &HeaderValue {
        &self.length
    }
}

/// The last few results of reworking an answer's body, kept by the body they came from,
/// so an answer that comes out the same request after request (a service document) is
/// reworked once, not per request. Bodies that differ each time (they carry a
/// timestamp) only cycle through the few places.
#[derive(Debug, Default)]
pub struct BodyMemo {
    /// Each body, and what reworking it gave (`None`: nothing to change).
    entries: std::sync::Mutex<std::collections::VecDeque<(Bytes, Option<Bytes>)>>,
}

impl BodyMemo {
    /// How many bodies are remembered.
    const PLACES: usize = 8;

    /// `work(body)`, remembered: the reworked body, or `None` where `work` found nothing
    /// to change (the caller keeps the body it has, and need not compare the two).
    pub fn changed(
        &self,
        body: &Bytes,
        work: impl FnOnce(&Bytes) -> Option<Bytes>,
    ) -> Option<Bytes> {
        let lock = || self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A body served from a cache is the very bytes kept here (the same buffer, which
        // this memo keeps alive and nothing can change): known without reading it.
        let same = |from: &Bytes| {
            (from.as_ptr() == body.as_ptr() && from.len() == body.len()) || from == body
        };
        if let Some((_, done)) = lock().iter().find(|(from, _)| same(from)) {
            return done.clone();
        }
        let done = work(body);
        let mut entries = lock();
        if entries.len() == BodyMemo::PLACES {
            entries.pop_front();
        }
        entries.push_back((body.clone(), done.clone()));
        done
    }
}

/// Documents rendered once per state of what they show, by name: a document that changes
/// only when the device does (a session service, a version) is rendered by the first
/// request after each change and served as rendered until the next. Every request reads
/// the state afresh (`state`: what the document shows of the device), so no answer is
/// ever staler than the device.
#[derive(Debug)]
pub struct Documents<V> {
    /// Hashed with the engine's fast hasher: a GET of a document looks its name up once.
    kept: std::sync::Mutex<crate::session::HashMap<&'static str, (DocumentState, V)>>,
}

/// What a document shows of the device's state (a timeout and a lifetime, say).
pub type DocumentState = (u64, u64);

impl<V> Default for Documents<V> {
    fn default() -> Self {
        Documents { kept: Default::default() }
    }
}

impl<V: Clone> Documents<V> {
    /// The document `name` for `state`: as rendered before for the same state, or
    /// rendered now by `render` and kept.
    pub fn get_or(
        &self,
        name: &'static str,
        state: DocumentState,
        render: impl FnOnce() -> V,
    ) -> V {
        let lock = || self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((kept, rendered)) = lock().get(name) {
            if *kept == state {
                return rendered.clone();
            }
        }
        let rendered = render();
        lock().insert(name, (state, rendered.clone()));
        rendered
    }
}

/// Extracts [`ClientInfo`] for handlers that log in.
#[derive(Clone, Debug)]
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client_info(&parts.extensions, &parts.headers)))
    }
}

/// A handler's argument: the scheme of the listener that took the request.
impl<S: Send + Sync> FromRequestParts<S> for ListenerScheme {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ListenerScheme::of(&parts.extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's header is found as the map's lookup finds it: its first value, for
    /// standard and other names, among few headers and many, and none when it is absent.
    #[test]
    fn a_request_header_is_the_one_the_maps_lookup_finds() {
        let odata = HeaderName::from_static("odata-version");
        let token = HeaderName::from_static("x-auth-token");
        let names = [header::HOST, header::CONTENT_TYPE, header::USER_AGENT, odata, token];
        for padding in [0, 3, 20] {
            let mut headers = HeaderMap::new();
            for i in 0..padding {
                let name = HeaderName::try_from(format!("x-padding-{i}")).unwrap();
                headers.insert(name, HeaderValue::from_static("p"));
            }
            headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1"));
            headers.append(header::USER_AGENT, HeaderValue::from_static("first"));
            headers.append(header::USER_AGENT, HeaderValue::from_static("second"));
            headers.insert("OData-Version", HeaderValue::from_static("4.0"));
            for name in &names {
                assert_eq!(
                    request_header(&headers, name),
                    headers.get(name),
                    "{name} of {padding}"
                );
            }
            assert_eq!(request_header(&headers, &header::USER_AGENT).unwrap(), "first");
            assert_eq!(request_header(&headers, &names[3]).unwrap(), "4.0");
            assert_eq!(request_header(&headers, &header::CONTENT_TYPE), None);
        }
    }

    /// A request routed by another path keeps the URI it was sent with, query and all;
    /// one routed by its own path is left as it came, with nothing added.
    #[test]
    fn a_rerouted_request_keeps_the_uri_it_was_sent_with() {
        fn trimmed(path: &str) -> std::borrow::Cow<'_, str> {
            one_trailing_slash_ignored(path, "/SEMP/")
        }
        let mut request = axum::extract::Request::new(axum::body::Body::empty());
        *request.uri_mut() = "/SEMP/v2/config/?select=msgVpnName".parse().unwrap();
        reroute(&mut request, &trimmed);
        assert_eq!(request.uri(), "/SEMP/v2/config?select=msgVpnName");
        assert_eq!(SentUri::of(&request), "/SEMP/v2/config/?select=msgVpnName");
        let mut request = axum::extract::Request::new(axum::body::Body::empty());
        *request.uri_mut() = "/SEMP/v2/config".parse().unwrap();
        reroute(&mut request, &trimmed);
        assert_eq!(request.uri(), "/SEMP/v2/config");
        assert!(request.extensions().get::<SentUri>().is_none());
        assert_eq!(SentUri::of(&request), "/SEMP/v2/config");
    }

    /// The router gives an empty body a `Content-Length: 0`, and an unwritten one none: a
    /// pending error's last step has nothing to take off.
    #[tokio::test]
    async fn the_router_gives_an_unwritten_body_no_length() {
        use tower::ServiceExt as _;
        let router = axum::Router::new()
            .route("/empty", axum::routing::get(|| async { axum::body::Body::empty() }))
            .route("/unwritten", axum::routing::get(|| async { unwritten_body() }));
        for (path, expected) in [("/empty", Some("0")), ("/unwritten", None)] {
            let request = axum::extract::Request::get(path).body(axum::body::Body::empty());
            let answer = router.clone().oneshot(request.unwrap()).await.unwrap();
            let header = answer.headers().get(header::CONTENT_LENGTH);
            assert_eq!(header.map(|v| v.to_str().unwrap()), expected, "{path}");
            assert_eq!(whole_body(answer.into_body()).await.unwrap(), "", "{path}");
        }
    }

    /// A body sent in pieces, one per poll.
    struct Pieces(std::collections::VecDeque<&'static str>);

    impl axum::body::HttpBody for Pieces {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            let piece = self.0.pop_front().map(|p| Ok(hyper::body::Frame::data(Bytes::from(p))));
            std::task::Poll::Ready(piece)
        }
    }

    /// A body comes out whole, whether it is one piece, several or none.
    #[tokio::test]
    async fn a_body_comes_out_whole_however_it_was_sent() {
        let one = axum::body::Body::from("{\"@odata.id\":\"/redfish/v1\"}");
        assert_eq!(whole_body(one).await.unwrap(), "{\"@odata.id\":\"/redfish/v1\"}");
        let several = axum::body::Body::new(Pieces(["{\"a\":", "", "1}"].into()));
        assert_eq!(whole_body(several).await.unwrap(), "{\"a\":1}");
        assert_eq!(whole_body(axum::body::Body::empty()).await.unwrap(), "");
        let none = axum::body::Body::new(Pieces(Default::default()));
        assert_eq!(whole_body(none).await.unwrap(), "");
    }

    /// A body of one piece, or none, is read at once; one in pieces comes back whole when
    /// read on, and one still to come comes back unread.
    #[tokio::test]
    async fn a_ready_body_is_read_at_once_and_any_other_comes_back_whole() {
        let one = ready_body(axum::body::Body::from("{\"a\":1}"));
        assert!(matches!(one, ReadyBody::Whole(bytes) if bytes == "{\"a\":1}"));
        assert!(
            matches!(ready_body(axum::body::Body::empty()), ReadyBody::Whole(b) if b.is_empty())
        );
        let several = axum::body::Body::new(Pieces(["{\"a\":", "", "1}"].into()));
        let ReadyBody::Later(rest) = ready_body(several) else { panic!("read at once") };
        assert_eq!(whole_body(rest).await.unwrap(), "{\"a\":1}");
        let (sender, mut waiting) = tokio::sync::mpsc::channel::<Result<Bytes, axum::Error>>(1);
        let stream = futures_util::stream::poll_fn(move |cx| waiting.poll_recv(cx));
        let ReadyBody::Later(rest) = ready_body(axum::body::Body::from_stream(stream)) else {
            panic!("a body still to come was read")
        };
        sender.send(Ok(Bytes::from("late"))).await.unwrap();
        drop(sender);
        assert_eq!(whole_body(rest).await.unwrap(), "late");
        let failing = futures_util::stream::iter([Err::<Bytes, _>(axum::Error::new("broken"))]);
        assert!(matches!(ready_body(axum::body::Body::from_stream(failing)), ReadyBody::Failed));
    }

    /// A device's context rides in the request's connection when it carries one (one
    /// extension for both), on its own otherwise, and reads back only as its own type.
    #[test]
    fn a_device_context_rides_in_the_connection_when_there_is_one() {
        let context = DeviceContext(Arc::new(7_u32));
        let mut listened = Extensions::new();
        listened.insert(Connection::new(([127, 0, 0, 1], 4242).into(), ListenerScheme::Https));
        context.attach(&mut listened);
        assert_eq!(listened.len(), 1);
        assert!(Connection::with(&listened, |c| c.is_some_and(|c| c.device.get().is_some())));
        let mut bare = Extensions::new();
        context.attach(&mut bare);
        for extensions in [&listened, &bare] {
            assert_eq!(DeviceContext::of::<u32>(extensions), Some(7));
            assert_eq!(DeviceContext::of::<u64>(extensions), None);
        }
        assert!(DeviceContext::of::<u32>(&Extensions::new()).is_none());
        assert_eq!(ListenerScheme::of(&listened), ListenerScheme::Https);
        assert_eq!(ListenerScheme::of(&bare), ListenerScheme::Http);
    }

    /// Requests on a connection being served find it, and the device's context its first
    /// request put in it, with no extension of their own; a second device's context on the
    /// same connection goes in the request, and one the request carries comes first.
    #[tokio::test]
    async fn requests_on_a_served_connection_find_it_without_extensions() {
        let peer: SocketAddr = ([127, 0, 0, 9], 5151).into();
        let connection = Connection::looked_up(peer, ListenerScheme::Https, None);
        let (first, other) = (DeviceContext(Arc::new(7_u32)), DeviceContext(Arc::new(8_u32)));
        connection
            .serve(async {
                let mut request = Extensions::new();
                first.attach(&mut request);
                assert_eq!(request.len(), 0, "the context went into the connection");
                let next = Extensions::new();
                assert_eq!(DeviceContext::of::<u32>(&next), Some(7));
                assert_eq!(ListenerScheme::of(&next), ListenerScheme::Https);
                let client = client_info(&next, &HeaderMap::new());
                assert_eq!(client.addr.as_deref(), Some("127.0.0.9"));
                let mut elsewhere = Extensions::new();
                other.attach(&mut elsewhere);
                assert_eq!(DeviceContext::of::<u32>(&elsewhere), Some(8));
                assert_eq!(DeviceContext::of::<u32>(&next), Some(7));
                let mut carried = Extensions::new();
                carried.insert(Connection::new(([10, 0, 0, 1], 1).into(), ListenerScheme::Http));
                assert_eq!(ListenerScheme::of(&carried), ListenerScheme::Http);
                assert_eq!(DeviceContext::of::<u32>(&carried), Some(7));
            })
            .await;
        assert_eq!(DeviceContext::of::<u32>(&Extensions::new()), None);
        assert_eq!(client_info(&Extensions::new(), &HeaderMap::new()).addr, None);
    }

    /// A kept path reads as the URI's own for every form of request target: origin,
    /// absolute (with and without a path), authority (`CONNECT`) and asterisk.
    #[test]
    fn a_kept_path_reads_as_the_uris_path() {
        for target in
            ["/redfish/v1/Systems?$expand=.", "/", "http://h:1/a/b?q", "http://h:1", "h:443", "*"]
        {
            let uri: Uri = target.parse().expect("a request target");
            assert_eq!(KeptPath::of(&uri).as_str(), uri.path(), "{target}");
        }
    }

    /// `Date` names the second asked for, when a worker's answers alternate between
    /// clocks a day apart and when one clock moves on by a second.
    #[test]
    fn date_names_each_clocks_own_second() {
        use chrono::TimeZone as _;
        let at = |s| chrono::Utc.timestamp_opt(s, 0).single().expect("in range");
        let text = |clock: &crate::clock::Clock| {
            date_header(clock).expect("a date").to_str().expect("ASCII").to_string()
        };
        let one = crate::clock::Clock::virtual_at(at(1_780_000_000));
        let other = crate::clock::Clock::virtual_at(at(1_780_000_000 + 86_400));
        for _ in 0..2 {
            assert_eq!(text(&one), "Thu, 28 May 2026 20:26:40 GMT");
            assert_eq!(text(&other), "Fri, 29 May 2026 20:26:40 GMT");
        }
        one.advance(std::time::Duration::from_millis(999)).expect("virtual");
        assert_eq!(text(&one), "Thu, 28 May 2026 20:26:40 GMT");
        one.advance(std::time::Duration::from_millis(1)).expect("virtual");
        assert_eq!(text(&one), "Thu, 28 May 2026 20:26:41 GMT");
    }

    /// An app finished twice keeps both steps: each logs its line, and the outer one's
    /// clock names the `Date`.
    #[test]
    fn an_app_finished_twice_keeps_both_steps() {
        use chrono::TimeZone as _;
        #[derive(Clone, Default)]
        struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let day = |d| chrono::Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).single().unwrap();
        let router = axum::Router::new().route("/x", axum::routing::get(|| async { "x" }));
        let inner = RequestLog::new("redfish", "inner", crate::clock::Clock::virtual_at(day(1)));
        let outer = RequestLog::new("redfish", "outer", crate::clock::Clock::virtual_at(day(2)));
        let app = finished(finished(App::of_router(router), inner), outer);
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let response = tracing::subscriber::with_default(subscriber, || {
            let request = axum::extract::Request::get("/x").body(axum::body::Body::empty());
            runtime.block_on(app.call(request.unwrap()))
        });
        assert_eq!(response.headers()[header::DATE], "Fri, 02 Jan 2026 00:00:00 GMT");
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("device=inner") && text.contains("device=outer"), "{text}");
    }

    /// A kept head's `Date` place is written with the device's date where it stands, and
    /// taken out when the clock names no date HTTP can write (past the year 9999).
    #[tokio::test]
    async fn a_date_slot_is_written_in_place_or_taken_out() {
        use chrono::TimeZone as _;
        let kept = || async {
            let mut response = axum::response::Response::new(axum::body::Body::empty());
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            date_slot(headers);
            headers.insert(header::SERVER, HeaderValue::from_static("after"));
            response
        };
        let router = axum::Router::new().route("/x", axum::routing::get(kept));
        let names = |response: &axum::response::Response| -> Vec<String> {
            response.headers().keys().map(|name| name.to_string()).collect()
        };
        let at = chrono::Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single().unwrap();
        let clock = crate::clock::Clock::virtual_at(at);
        let app = finished(App::of_router(router), RequestLog::new("redfish", "d", clock.clone()));
        let get = || axum::extract::Request::get("/x").body(axum::body::Body::empty()).unwrap();
        let response = app.call(get()).await;
        assert_eq!(names(&response), ["content-length", "date", "server"]);
        assert_eq!(response.headers()[header::DATE], "Fri, 31 Dec 9999 23:59:59 GMT");
        clock.advance(std::time::Duration::from_secs(1)).expect("virtual");
        let response = app.call(get()).await;
        assert_eq!(names(&response), ["content-length", "server"]);
    }

    /// A bound holds whether the body is one piece or several, and a body at the bound is
    /// whole.
    #[tokio::test]
    async fn a_limited_body_over_its_bound_is_refused_however_it_was_sent() {
        use http_body_util::{LengthLimitError, Limited};
        let over = |e: axum::BoxError| e.downcast_ref::<LengthLimitError>().is_some();
        let one = axum::body::Body::from("0123456789");
        assert!(over(whole_body(Limited::new(one, 9)).await.unwrap_err()));
        let several = axum::body::Body::new(Pieces(["01234", "56789"].into()));
        assert!(over(whole_body(Limited::new(several, 9)).await.unwrap_err()));
        let several = axum::body::Body::new(Pieces(["01234", "56789"].into()));
        assert_eq!(whole_body(Limited::new(several, 10)).await.unwrap(), "0123456789");
    }

    /// Client addresses read as `to_string` writes them (events and session bodies show
    /// them), IPv4 digit by digit and IPv6 as before.
    #[test]
    fn client_addresses_read_as_std_writes_them() {
        let samples = ["127.0.0.1", "0.0.0.0", "10.9.99.100", "255.255.255.255", "127.1.0.5"];
        for text in samples.into_iter().chain(["::1", "::ffff:127.0.0.1", "fe80::1"]) {
            let ip: std::net::IpAddr = text.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
        for octet in 0..=255u8 {
            let ip = std::net::IpAddr::from([octet, 255 - octet, octet / 3, 7]);
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    /// One trailing slash under the prefix is dropped; two, or one elsewhere, are not.
    #[test]
    fn one_trailing_slash_is_ignored_under_the_prefix() {
        for (sent, routed) in [
            ("/SEMP/v2/config/", "/SEMP/v2/config"),
            ("/SEMP/v2/config//", "/SEMP/v2/config//"),
            ("/SEMP/", "/SEMP/"),
            ("/other/", "/other/"),
            ("/SEMP/v2/config", "/SEMP/v2/config"),
        ] {
            assert_eq!(one_trailing_slash_ignored(sent, "/SEMP/"), routed, "{sent}");
        }
    }

    /// Only a JSON answer's `Content-Type` is handed out to relabel.
    #[test]
    fn only_json_answers_are_relabelled() {
        let mut headers = HeaderMap::new();
        assert!(json_content_type(&mut headers).is_none());
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        assert!(json_content_type(&mut headers).is_none());
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(json_content_type(&mut headers).unwrap(), "application/json");
    }

    /// Basic credentials decode (the password may hold a colon); anything else is refused.
    #[test]
    fn basic_header_parses_or_is_refused() {
        let basic = parse_basic("Basic YWRtaW46c2Vzc2lvbjpsYWI=").unwrap(); // admin:session:lab
        assert_eq!((basic.user(), basic.password()), ("admin", "session:lab"));
        assert!(!format!("{basic:?}").contains("session:lab"), "no password in Debug");
        let spaced = parse_basic("  basic   YWRtaW46c2Vzc2lvbjpsYWI= ").unwrap();
        assert_eq!((spaced.user(), spaced.password()), ("admin", "session:lab"));
        for bad in [
            "Basic",
            "Basic !!!",
            "Bearer YWRtaW46eA==",
            "Basic YWRtaW4=",
            "",
            "Basic/YWRtaW46eA==",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad}");
        }
    }
}
