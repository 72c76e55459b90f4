//! A personality's routes: axum's router, and beside it a table of the same handlers that
//! answers most requests without it.
//!
//! axum routes a request by matching its path in the router's tree, writing the match's
//! parameter list into the request (an empty one for a path without parameters), copying
//! the route's boxed service and calling it through three more futures, one of which sets
//! `Content-Length`: about 1,700 instructions of a token GET that did 12,100 in all, and
//! about 1,400 more for a path with a parameter, whose names and values it keeps in
//! reference-counted strings before `Path` copies them out. [`Routes`] keeps each fixed
//! path's handlers by method, found with one hash of the path, and calls the handler
//! itself, setting `Content-Length` as axum would. A path with parameters whose segments
//! it can match itself (each parameter a whole segment) it matches segment by segment and
//! hands the handler the decoded parameters, which [`Param`] takes as axum's `Path` would.
//! A path no route serves (a Redfish resource tree's document) costs axum a second match,
//! against its fallback's catch-all, and the same calls again: a
//! [`Routes::direct_fallback`] is called without the router for a path that matches no
//! route. Everything the table cannot be sure of goes to the router, which holds every
//! route too: `HEAD`, methods a path does not take, a path two routes match, an empty or
//! undecodable parameter, a catch-all, a fallback through the router, an axum router
//! merged in. The two answer alike by construction, and `direct_answers_are_the_routers`
//! and `any_path_is_answered_as_the_router_answers` below check it. (One exception: a
//! finished answer without `Content-Length` gets it from the router's route before
//! hyper's `Connection` header, and from hyper after it here; see [`with_length`].)

use std::sync::Arc;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method};
use axum::response::Response;
use axum::routing::MethodRouter;
use axum::Router;
use futures_util::future::{BoxFuture, Either};
use futures_util::FutureExt;

/// One handler, called as axum's route would call it, its future boxed as axum boxes it.
type Call = Arc<dyn Fn(Request) -> BoxFuture<'static, Response> + Send + Sync>;

/// The handlers of one path by method: `get(a).post(b)`, as axum's [`MethodRouter`]
/// writes them, kept both ways.
#[derive(Clone)]
pub struct Methods {
    router: MethodRouter,
    calls: Vec<(Method, Call)>,
}

impl std::fmt::Debug for Methods {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let methods: Vec<&Method> = self.calls.iter().map(|(method, _)| method).collect();
        f.debug_struct("Methods").field("methods", &methods).finish()
    }
}

/// What an axum handler must be to be called directly: an `async fn` handler (axum boxes
/// the future of every one).
pub trait Direct<T>: Handler<T, (), Future = BoxFuture<'static, Response>> {}

impl<T, H: Handler<T, (), Future = BoxFuture<'static, Response>>> Direct<T> for H {}

fn call<T: 'static>(handler: impl Direct<T>) -> Call {
    Arc::new(move |req| handler.clone().call(req, ()))
}

macro_rules! methods {
    ($($(#[$doc:meta])* $name:ident $method:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<H: Direct<T>, T: 'static>(handler: H) -> Methods {
                Methods {
                    router: axum::routing::$name(handler.clone()),
                    calls: vec![(Method::$method, call(handler))],
                }
            }
        )*

        impl Methods {
            $(
                $(#[$doc])*
                pub fn $name<H: Direct<T>, T: 'static>(mut self, handler: H) -> Methods {
                    // axum refuses a method set twice, so `calls` has each once.
                    self.router = self.router.$name(handler.clone());
                    self.calls.push((Method::$method, call(handler)));
                    self
                }
            )*
        }
    };
}

methods! {
    /// `GET` (and, through the router, `HEAD`) answered by `handler`.
    get GET;
    /// `POST` answered by `handler`.
    post POST;
    /// `PUT` answered by `handler`.
    put PUT;
    /// `PATCH` answered by `handler`.
    patch PATCH;
    /// `DELETE` answered by `handler`.
    delete DELETE;
}

/// Every method answered by `handler`, always through the router.
pub fn any<H: Handler<T, ()>, T: 'static>(handler: H) -> Methods {
    Methods { router: axum::routing::any(handler), calls: Vec::new() }
}

/// The fixed paths' handlers, by path then method.
type Fixed = std::collections::HashMap<Box<str>, Vec<(Method, Call)>, foldhash::fast::RandomState>;

/// A path with parameters (`/a/{id}/b`) and its handlers by method.
#[derive(Clone)]
struct Pattern {
    /// The path as written, which names the route when another adds methods to it.
    path: Box<str>,
    /// The segments from the first parameter on (`{id}`, `b`), each `None` for a
    /// parameter; `None` for a path the table does not match itself (a catch-all
    /// `{*rest}`, a parameter that is part of a segment): a path that starts like it goes
    /// to the router.
    segments: Option<Vec<Option<Box<str>>>>,
    calls: Vec<(Method, Call)>,
}

/// What a path with parameters starts with, up to its first parameter (`/a/` of
/// `/a/{id}`).
fn prefix_of(path: &str) -> &str {
    &path[..path.find('{').unwrap_or(path.len())]
}

impl Pattern {
    fn new(path: &str) -> Pattern {
        let prefix = prefix_of(path);
        let whole = prefix.ends_with('/');
        let segments = path[prefix.len()..]
            .split('/')
            .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if !name.is_empty() && !name.contains(['{', '}', '*']) => Some(None),
                Some(_) => None,
                None if segment.contains(['{', '}']) => None,
                None => Some(Some(segment.into())),
            })
            .collect::<Option<Vec<_>>>()
            .filter(|_| whole);
        Pattern { path: path.into(), segments, calls: Vec::new() }
    }

    /// Whether a path whose `rest` follows this pattern's prefix, and holds `slashes`
    /// slashes, matches: `Some(true)` or `Some(false)`, `None` when only the router can
    /// tell. A parameter matches one whole segment; an empty one is the router's to judge
    /// (axum's router takes it in the middle of a path, not at its end).
    fn matches(&self, rest: &str, slashes: usize) -> Option<bool> {
        let segments = self.segments.as_ref()?;
        if segments.len() != slashes + 1 {
            return Some(false);
        }
        let mut rest = rest;
        for segment in segments {
            let (value, after) = first_segment(rest);
            match segment {
                None if value.is_empty() => return None,
                Some(literal) if **literal != *value => return Some(false),
                _ => {}
            }
            rest = after;
        }
        Some(true)
    }

    /// The parameters in the `rest` of a path this pattern [`Pattern::matches`],
    /// percent-decoded as axum's `Path` decodes them; `None` if one is not UTF-8 once
    /// decoded (the router's extractor then rejects it as it does).
    fn parameters(&self, rest: &str) -> Option<Matched> {
        let segments = self.segments.as_ref()?;
        let mut values = Vec::with_capacity(segments.iter().filter(|s| s.is_none()).count());
        let mut rest = rest;
        for segment in segments {
            let (value, after) = first_segment(rest);
            if segment.is_none() {
                values.push(match value.contains('%') {
                    true => percent_encoding::percent_decode_str(value).decode_utf8().ok()?.into(),
                    false => value.to_string(),
                });
            }
            rest = after;
        }
        Some(Matched(values))
    }
}

/// `path`'s first segment and what follows the slash after it (a byte search: `split`'s
/// searcher costs more than these short segments).
fn first_segment(path: &str) -> (&str, &str) {
    match path.bytes().position(|b| b == b'/') {
        Some(at) => (&path[..at], &path[at + 1..]),
        None => (path, ""),
    }
}

/// The paths with parameters that start alike, up to their first parameter: a path is
/// compared with each prefix once (a Redfish route is served with and without a trailing
/// slash, two paths with one prefix).
#[derive(Clone)]
struct Group {
    prefix: Box<str>,
    patterns: Vec<Pattern>,
}

/// What [`Routes`] knows of its router's routes.
#[derive(Clone, Default)]
struct Table {
    /// The fixed paths' handlers.
    fixed: Fixed,
    /// The paths with parameters: a path that is not fixed and matches none of these
    /// matches no route.
    groups: Vec<Group>,
    /// The fallback, when it can answer without the router.
    fallback: Option<Call>,
    /// Whether the router holds routes not listed here (merged from an axum router): then
    /// only the fixed paths are known to be matched as listed.
    opaque: bool,
}

/// A handler that answers without the router, with the parameters it matched if its path
/// has any.
type Found<'a> = (&'a Call, Option<Matched>);

impl Table {
    /// Adds `calls` to the route of the path with parameters `path`.
    fn add_pattern(&mut self, path: &str, calls: impl IntoIterator<Item = (Method, Call)>) {
        let prefix = prefix_of(path);
        let group = match self.groups.iter().position(|g| *g.prefix == *prefix) {
            Some(at) => &mut self.groups[at],
            None => {
                self.groups.push(Group { prefix: prefix.into(), patterns: Vec::new() });
                self.groups.last_mut().expect("just pushed")
            }
        };
        let pattern = match group.patterns.iter().position(|p| *p.path == *path) {
            Some(at) => &mut group.patterns[at],
            None => {
                group.patterns.push(Pattern::new(path));
                group.patterns.last_mut().expect("just pushed")
            }
        };
        pattern.calls.extend(calls);
    }

    /// The paths with parameters, in the order they were added by prefix.
    fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.groups.iter().flat_map(|group| &group.patterns)
    }

    /// The handler that answers `method` on `path` without the router, if any: the fixed
    /// path's; a path with parameters' when `path` matches exactly one and its parameters
    /// decode; the fallback's for a path that matches no route (not for `HEAD` or
    /// `CONNECT`, whose answers the router shapes). Whatever the table cannot be sure of
    /// (two paths with parameters that match, a catch-all, an axum router merged in) goes
    /// to the router.
    fn direct(&self, method: &Method, path: &str) -> Option<Found<'_>> {
        if let Some(calls) = self.fixed.get(path) {
            return by_method(calls, method).map(|call| (call, None));
        }
        if self.opaque {
            return None;
        }
        let mut matched = None;
        for group in &self.groups {
            let Some(rest) = path.strip_prefix(&*group.prefix) else { continue };
            let slashes = rest.bytes().filter(|&b| b == b'/').count();
            for pattern in &group.patterns {
                if pattern.matches(rest, slashes)? {
                    if matched.is_some() {
                        return None;
                    }
                    matched = Some((pattern, rest));
                }
            }
        }
        match matched {
            Some((pattern, rest)) => {
                let call = by_method(&pattern.calls, method)?;
                Some((call, Some(pattern.parameters(rest)?)))
            }
            None => {
                let routed = method == Method::HEAD || method == Method::CONNECT;
                self.fallback.as_ref().filter(|_| !routed).map(|call| (call, None))
            }
        }
    }
}

/// The handler for `method` among `calls`.
fn by_method<'a>(calls: &'a [(Method, Call)], method: &Method) -> Option<&'a Call> {
    calls.iter().find(|(m, _)| m == method).map(|(_, call)| call)
}

/// The parameters of a path the table matched itself, in the path's order, for [`Param`].
#[derive(Clone, Debug)]
struct Matched(Vec<String>);

/// The parameters of a path with parameters, percent-decoded: what axum's [`Path`] gives,
/// for a path the table matched itself as well as one the router matched. `T` is a
/// `String` for one parameter, a tuple of them for two or three. It is taken once per
/// request (a second `Param` in one handler finds the router's parameters only).
///
/// [`Path`]: axum::extract::Path
#[derive(Clone, Debug)]
pub struct Param<T>(pub T);

/// What a [`Param`] holds, made from the parameters in order.
pub trait FromParameters: Sized {
    /// `None` when `values` are not as many as `Self` takes.
    fn from_parameters(values: Vec<String>) -> Option<Self>;
}

impl FromParameters for String {
    fn from_parameters(values: Vec<String>) -> Option<Self> {
        let [a]: [String; 1] = values.try_into().ok()?;
        Some(a)
    }
}

impl FromParameters for (String, String) {
    fn from_parameters(values: Vec<String>) -> Option<Self> {
        let [a, b]: [String; 2] = values.try_into().ok()?;
        Some((a, b))
    }
}

impl FromParameters for (String, String, String) {
    fn from_parameters(values: Vec<String>) -> Option<Self> {
        let [a, b, c]: [String; 3] = values.try_into().ok()?;
        Some((a, b, c))
    }
}

impl<S, T> axum::extract::FromRequestParts<S> for Param<T>
where
    S: Send + Sync,
    T: FromParameters + serde::de::DeserializeOwned + Send,
{
    type Rejection = axum::extract::rejection::PathRejection;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        if let Some(Matched(values)) = parts.extensions.remove::<Matched>() {
            if let Some(value) = T::from_parameters(values) {
                return Ok(Param(value));
            }
        }
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Param(value))
    }
}

/// A personality's routes: built like an axum [`Router`] (`Routes::new().route(path,
/// get(a).post(b))`), served by [`crate::vendors::http::around`].
#[derive(Clone, Default)]
pub struct Routes {
    router: Router,
    table: Arc<Table>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut fixed: Vec<&str> = self.table.fixed.keys().map(|path| &**path).collect();
        fixed.sort_unstable();
        let patterns: Vec<&str> = self.table.patterns().map(|p| &*p.path).collect();
        f.debug_struct("Routes")
            .field("fixed", &fixed)
            .field("patterns", &patterns)
            .field("fallback", &self.table.fallback.is_some())
            .field("opaque", &self.table.opaque)
            .finish()
    }
}

impl Routes {
    /// No routes.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Serves `path` with `methods` (panics, as axum does, on a method served twice).
    pub fn route(mut self, path: &str, methods: Methods) -> Routes {
        self.router = self.router.route(path, methods.router);
        let table = Arc::make_mut(&mut self.table);
        if path.contains('{') {
            table.add_pattern(path, methods.calls);
        } else {
            table.fixed.entry(path.into()).or_default().extend(methods.calls);
        }
        self
    }

    /// Adds `other`'s routes (panics, as axum does, on a method both serve on one path or
    /// two fallbacks).
    pub fn merge(mut self, other: impl Into<Routes>) -> Routes {
        let other = other.into();
        self.router = self.router.merge(other.router);
        let table = Arc::make_mut(&mut self.table);
        for (path, calls) in &other.table.fixed {
            table.fixed.entry(path.clone()).or_default().extend(calls.iter().cloned());
        }
        for pattern in other.table.patterns() {
            table.add_pattern(&pattern.path, pattern.calls.iter().cloned());
        }
        table.fallback = table.fallback.take().or_else(|| other.table.fallback.clone());
        table.opaque |= other.table.opaque;
        self
    }

    /// Answers the paths no route serves with `handler`, through the router.
    pub fn fallback<H: Handler<T, ()>, T: 'static>(mut self, handler: H) -> Routes {
        self.router = self.router.fallback(handler);
        Arc::make_mut(&mut self.table).fallback = None;
        self
    }

    /// Answers the paths no route serves with `handler`, called without the router for a
    /// path that cannot match a route ([`Table::direct`]). For a fallback that answers
    /// much (a Redfish resource tree): every path that is not fixed is then compared with
    /// the prefixes of the paths with parameters, which those paths pay on top of the
    /// router's match.
    pub fn direct_fallback<H: Direct<T>, T: 'static>(mut self, handler: H) -> Routes {
        self.router = self.router.fallback(handler.clone());
        Arc::make_mut(&mut self.table).fallback = Some(call(handler));
        self
    }

    /// Answers the methods a served path does not take with `handler` (always through the
    /// router).
    pub fn method_not_allowed_fallback<H: Handler<T, ()>, T: 'static>(
        mut self,
        handler: H,
    ) -> Routes {
        self.router = self.router.method_not_allowed_fallback(handler);
        self
    }

    /// The same routes, every one answered through the router (what the direct answers
    /// are checked against).
    #[cfg(test)]
    fn through_router(self) -> Routes {
        Routes::from(self.router)
    }

    /// Answers `req`: without the router when a handler can ([`Table::direct`]),
    /// otherwise through it. A router is always ready, and its call holds no reference to
    /// it.
    pub fn call(
        &self,
        mut req: Request,
    ) -> impl std::future::Future<Output = Response> + Send + 'static {
        match self.table.direct(req.method(), req.uri().path()) {
            Some((call, matched)) => {
                if let Some(matched) = matched {
                    req.extensions_mut().insert(matched);
                }
                Either::Left(call(req).map(with_length))
            }
            None => {
                let call = tower::Service::call(&mut self.router.clone(), req);
                Either::Right(call.map(|Ok(response)| response))
            }
        }
    }

    /// Makes each handler's route once (a router still waiting for its state would make it
    /// again on every request).
    pub(crate) fn ready(self) -> Routes {
        Routes { router: self.router.with_state(()), table: self.table }
    }
}

impl From<Router> for Routes {
    /// `router`'s routes, every one answered through it.
    fn from(router: Router) -> Routes {
        Routes { router, table: Arc::new(Table { opaque: true, ..Table::default() }) }
    }
}

/// `response` with the `Content-Length` axum's route sets on an answer without one whose
/// body tells its size, before the steps around the router add their headers. A finished
/// answer ([`crate::vendors::http::Finished`]) without one is left to hyper, which writes
/// the length after every header, its own `Connection` included. So an error answered
/// where it is made ([`crate::vendors::redfish::routes::Ctx::error_response`]) is
/// written as when the last step rendered it from an `Err`, whose body's size was not
/// known here, and its head, copied at its length, is not grown to take the length
/// (about 500 instructions). (The other finished answers without a length are iLO
/// documents whose links were given trailing slashes; they are written the same way.)
fn with_length(mut response: Response) -> Response {
    use axum::body::HttpBody;
    if !response.headers().contains_key(header::CONTENT_LENGTH) {
        if let Some(size) = response.body().size_hint().exact() {
            if crate::vendors::http::Finished::is(&response) {
                return response;
            }
            response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::rejection::PathRejection;
    use axum::http::StatusCode;
    use http_body_util::BodyExt;

    async fn hello() -> &'static str {
        "hello"
    }

    async fn created(
        body: String,
    ) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
        (StatusCode::CREATED, [(header::LOCATION, "/things/1")], body)
    }

    async fn streamed() -> Response {
        let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("a"), Ok("b")]);
        Response::new(Body::from_stream(chunks))
    }

    async fn missing() -> StatusCode {
        StatusCode::NOT_FOUND
    }

    async fn one(Param(id): Param<String>) -> String {
        format!("one {id}")
    }

    async fn two(Param((id, part)): Param<(String, String)>) -> String {
        format!("two {id} {part}")
    }

    async fn checked(param: Result<Param<String>, PathRejection>) -> String {
        match param {
            Ok(Param(id)) => format!("checked {id}"),
            Err(rejection) => format!("rejected {rejection}"),
        }
    }

    /// The same routes with the fallback through the router or called directly.
    fn routes(direct_fallback: bool) -> Routes {
        let routes = Routes::new()
            .route("/things", get(hello).post(created))
            .route("/things/{id}", get(one))
            .route("/things/{id}/parts", get(hello))
            .route("/things/{id}/{part}", get(two).put(two))
            .route("/things/{id}/parts/{part}", get(two))
            .route("/checked/{id}", get(checked))
            .route("/any/{id}", any(one))
            .route("/stream", get(streamed))
            .merge(
                Routes::new()
                    .route("/stream", delete(missing))
                    .route("/things/{id}", delete(one))
                    .route("/all/{*rest}", any(hello)),
            );
        match direct_fallback {
            true => routes.direct_fallback(created),
            false => routes.fallback(missing),
        }
        .ready()
    }

    async fn answer(
        routes: &Routes,
        method: &str,
        path: &str,
    ) -> (StatusCode, Vec<String>, Vec<u8>) {
        let req = Request::builder().method(method).uri(path).body(Body::from("sent")).unwrap();
        let (parts, body) = routes.call(req).await.into_parts();
        let head = parts.headers.iter().map(|(n, v)| format!("{n}: {v:?}")).collect();
        (parts.status, head, body.collect().await.unwrap().to_bytes().to_vec())
    }

    /// A fixed path's handler, a path with parameters' with the parameters it matched, and
    /// the fallback for a path no route serves, answer exactly as axum's router would:
    /// status, headers in order (`Content-Length` where the route sets it), body.
    #[tokio::test]
    async fn direct_answers_are_the_routers() {
        for direct_fallback in [false, true] {
            let direct = routes(direct_fallback);
            let routed = routes(direct_fallback).through_router();
            for (method, path) in ASKED {
                assert_eq!(
                    answer(&direct, method, path).await,
                    answer(&routed, method, path).await,
                    "{method} {path}, direct fallback: {direct_fallback}"
                );
            }
        }
        let direct = routes(true);
        let (status, head, body) = answer(&direct, "POST", "/things").await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            head,
            [
                "content-type: \"text/plain; charset=utf-8\"",
                "location: \"/things/1\"",
                "content-length: \"4\""
            ]
        );
        assert_eq!(body, b"sent");
        assert_eq!(answer(&direct, "GET", "/nowhere").await.0, StatusCode::CREATED);
        assert_eq!(answer(&direct, "GET", "/things/a%20b").await.2, b"one a b");
        assert_eq!(answer(&direct, "PUT", "/things/7/8").await.2, b"two 7 8");
        assert_eq!(answer(&direct, "GET", "/checked/%FF").await.0, StatusCode::OK);
    }

    /// What [`direct_answers_are_the_routers`] asks: fixed paths by every method, paths
    /// with parameters (decoded, undecodable, empty, matching two routes, a catch-all),
    /// paths no route serves, `HEAD`, trailing slashes.
    const ASKED: [(&str, &str); 36] = [
        ("GET", "/things"),
        ("POST", "/things"),
        ("HEAD", "/things"),
        ("PUT", "/things"),
        ("GET", "/things/7"),
        ("DELETE", "/things/7"),
        ("HEAD", "/things/7"),
        ("PATCH", "/things/7"),
        ("GET", "/things/a%20b"),
        ("GET", "/things/%C3%A9t%C3%A9"),
        ("GET", "/things/%FF"),
        ("GET", "/things/~Common~web"),
        ("GET", "/things/7/parts"),
        ("PUT", "/things/7/parts"),
        ("GET", "/things/7/8"),
        ("PUT", "/things/7/8"),
        ("GET", "/things/7/parts/9"),
        ("GET", "/things/7/%FF"),
        ("GET", "/things//8"),
        ("GET", "/things/7/"),
        ("GET", "/things/7/8/9/10"),
        ("GET", "/checked/%FF"),
        ("GET", "/checked/ok"),
        ("DELETE", "/any/1"),
        ("HEAD", "/any/1"),
        ("GET", "/stream"),
        ("DELETE", "/stream"),
        ("GET", "/nowhere"),
        ("POST", "/nowhere"),
        ("HEAD", "/nowhere"),
        ("GET", "/things/"),
        ("PATCH", "/all/a/b"),
        ("GET", "/all"),
        ("GET", "/all/"),
        ("DELETE", "/nowhere/else"),
        ("PUT", "/"),
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// Any path made of the routes' words, parameters and odd segments is answered by
        /// the table as by axum's router, by every method.
        #[test]
        fn any_path_is_answered_as_the_router_answers(
            segments in proptest::collection::vec(
                proptest::sample::select(
                    &["things", "parts", "7", "", "%41", "%FF", "all", "any", "checked", "a b"][..],
                ),
                0..5,
            ),
            method in proptest::sample::select(&["GET", "PUT", "DELETE", "HEAD", "POST"][..]),
            direct_fallback: bool,
        ) {
            let path = format!("/{}", segments.join("/")).replace(' ', "%20");
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let (direct, routed) = runtime.block_on(async {
                let direct = routes(direct_fallback);
                let routed = routes(direct_fallback).through_router();
                (answer(&direct, method, &path).await, answer(&routed, method, &path).await)
            });
            proptest::prop_assert_eq!(direct, routed, "{} {}", method, path);
        }
    }

    /// Which handlers answer without the router: a fixed path's for its methods, a path
    /// with parameters' when it alone matches and its parameters decode, a direct
    /// fallback's for paths that match no route; none once an axum router is merged in
    /// (but the fixed paths'), for a catch-all, or for a fallback through the router.
    #[test]
    fn direct_handlers_are_found_by_method_and_path() {
        let routes = Routes::new()
            .route("/a", get(hello))
            .route("/a", post(created))
            .route("/a/{id}", get(one))
            .route("/a/{id}/{part}", get(two))
            .route("/a/{id}/b", get(hello))
            .route("/c/{*rest}", get(hello))
            .route("/d/x{id}", get(one))
            .direct_fallback(missing);
        let direct = |method, path| routes.table.direct(&method, path).map(|(_, m)| m);
        let parameters = |path| match direct(Method::GET, path) {
            Some(Some(Matched(values))) => Some(values),
            _ => None,
        };
        assert!(matches!(direct(Method::GET, "/a"), Some(None)));
        assert!(matches!(direct(Method::POST, "/a"), Some(None)));
        assert!(direct(Method::PUT, "/a").is_none() && direct(Method::HEAD, "/a").is_none());
        assert_eq!(parameters("/a/1"), Some(vec!["1".to_string()]));
        assert_eq!(parameters("/a/%C3%A9/2"), Some(vec!["\u{e9}".to_string(), "2".to_string()]));
        assert!(direct(Method::POST, "/a/1").is_none(), "a method the path does not take");
        assert!(direct(Method::HEAD, "/a/1").is_none());
        assert!(direct(Method::GET, "/a/%FF").is_none(), "not UTF-8 once decoded");
        assert!(direct(Method::GET, "/a/1/b").is_none(), "two paths match");
        assert!(direct(Method::GET, "/c/1").is_none() && direct(Method::GET, "/d/x1").is_none());
        assert!(matches!(direct(Method::GET, "/a/1/2/3"), Some(None)), "the fallback's");
        assert!(direct(Method::GET, "/a//2").is_none(), "an empty parameter");
        assert!(direct(Method::GET, "/a/").is_none());
        assert!(matches!(direct(Method::GET, "/b"), Some(None)));
        assert!(matches!(direct(Method::DELETE, "/a2"), Some(None)));
        assert!(direct(Method::HEAD, "/b").is_none());
        let opaque = routes.merge(Router::new().route("/e", axum::routing::get(hello)));
        assert!(opaque.table.direct(&Method::GET, "/b").is_none());
        assert!(opaque.table.direct(&Method::GET, "/a/1").is_none());
        assert!(opaque.table.direct(&Method::GET, "/a").is_some());
        let through = Routes::new().direct_fallback(missing).fallback(missing);
        assert!(through.table.direct(&Method::GET, "/b").is_none());
        assert_eq!(
            format!("{opaque:?}"),
            "Routes { fixed: [\"/a\"], patterns: [\"/a/{id}\", \"/a/{id}/{part}\", \
             \"/a/{id}/b\", \"/c/{*rest}\", \"/d/x{id}\"], fallback: true, opaque: true }"
        );
    }
}
