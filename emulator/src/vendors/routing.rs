//! A personality's routes: axum's router, and beside it the handlers of the fixed paths
//! (those without a `{parameter}`) and of the paths no route serves, which answer without
//! it.
//!
//! axum routes a request by matching its path in the router's tree, writing the match's
//! parameter list into the request (an empty one for a path without parameters), copying
//! the route's boxed service and calling it through three more futures, one of which sets
//! `Content-Length`: about 1,700 instructions of a token GET that did 12,100 in all. A
//! fixed path's handler needs none of it, so [`Routes`] keeps each fixed path's handlers
//! by method, found with one hash of the path, and calls the handler itself, setting
//! `Content-Length` as axum would. A path no route serves (a Redfish resource tree's
//! document) costs axum a second match, against its fallback's catch-all, and the same
//! calls again: a [`Routes::direct_fallback`] is called without the router for a path
//! that cannot match a route, neither fixed nor starting like a path with parameters.
//! Everything else (what may match a path with parameters, `HEAD`, methods a path does
//! not serve, a fallback through the router) goes to the router, which holds every route
//! too: the two answer alike by construction, and `direct_answers_are_the_routers` below
//! checks it.

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

/// What [`Routes`] knows of its router's routes.
#[derive(Clone, Default)]
struct Table {
    /// The fixed paths' handlers.
    fixed: Fixed,
    /// What each path with parameters starts with, up to its first parameter (`/a/` of
    /// `/a/{id}`): a path that starts with none of these and is not fixed matches no route.
    parameter_prefixes: Vec<Box<str>>,
    /// The fallback, when it can answer without the router.
    fallback: Option<Call>,
    /// Whether the router holds routes not listed here (merged from an axum router): then
    /// no path is known to be the fallback's.
    opaque: bool,
}

impl Table {
    /// Adds what `path` starts with up to its first parameter, once.
    fn add_prefix_of(&mut self, path: &str) {
        let prefix = &path[..path.find('{').unwrap_or(path.len())];
        if !self.parameter_prefixes.iter().any(|p| **p == *prefix) {
            self.parameter_prefixes.push(prefix.into());
        }
    }

    /// The handler that answers `method` on `path` without the router, if any: the fixed
    /// path's, or the fallback's for a path that cannot match a route (not for `HEAD` or
    /// `CONNECT`, whose answers the router shapes). A path that starts like a path with
    /// parameters goes to the router, which matches it or falls back itself: matching it
    /// here too would cost what the router's match costs, twice for the routes with
    /// parameters.
    fn direct(&self, method: &Method, path: &str) -> Option<&Call> {
        if let Some(calls) = self.fixed.get(path) {
            return calls.iter().find(|(m, _)| m == method).map(|(_, call)| call);
        }
        let fallback = self.fallback.as_ref()?;
        let unmatched = !self.opaque
            && method != Method::HEAD
            && method != Method::CONNECT
            && !self.parameter_prefixes.iter().any(|p| path.starts_with(&**p));
        unmatched.then_some(fallback)
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
        f.debug_struct("Routes")
            .field("fixed", &fixed)
            .field("parameter_prefixes", &self.table.parameter_prefixes)
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
            table.add_prefix_of(path);
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
        for prefix in &other.table.parameter_prefixes {
            table.add_prefix_of(prefix);
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
        req: Request,
    ) -> impl std::future::Future<Output = Response> + Send + 'static {
        match self.table.direct(req.method(), req.uri().path()) {
            Some(call) => Either::Left(call(req).map(with_length)),
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
/// body tells its size, before the steps around the router add their headers.
fn with_length(mut response: Response) -> Response {
    use axum::body::HttpBody;
    if !response.headers().contains_key(header::CONTENT_LENGTH) {
        if let Some(size) = response.body().size_hint().exact() {
            response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
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

    /// The same routes with the fallback through the router or called directly.
    fn routes(direct_fallback: bool) -> Routes {
        let routes = Routes::new()
            .route("/things", get(hello).post(created))
            .route("/things/{id}", get(hello))
            .route("/stream", get(streamed))
            .merge(
                Routes::new().route("/stream", delete(missing)).route("/all/{*rest}", any(hello)),
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

    /// A fixed path's handler, and the fallback for a path no route serves, answer exactly
    /// as axum's router would: status, headers in order (`Content-Length` where the route
    /// sets it), body.
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
    }

    /// What [`direct_answers_are_the_routers`] asks: fixed paths by every method, paths
    /// with parameters, paths no route serves, `HEAD`, a trailing slash.
    const ASKED: [(&str, &str); 16] = [
        ("GET", "/things"),
        ("POST", "/things"),
        ("HEAD", "/things"),
        ("PUT", "/things"),
        ("GET", "/things/7"),
        ("GET", "/stream"),
        ("DELETE", "/stream"),
        ("GET", "/nowhere"),
        ("POST", "/nowhere"),
        ("HEAD", "/nowhere"),
        ("GET", "/things/"),
        ("GET", "/things/7/8"),
        ("PATCH", "/all/a/b"),
        ("GET", "/all"),
        ("DELETE", "/nowhere/else"),
        ("PUT", "/"),
    ];

    /// Which handlers answer without the router: a fixed path's for its methods, a direct
    /// fallback's for paths that start like no path with parameters, none once an axum
    /// router is merged in or for a fallback through the router.
    #[test]
    fn direct_handlers_are_found_by_method_and_path() {
        let routes = Routes::new()
            .route("/a", get(hello))
            .route("/a", post(created))
            .route("/a/{id}", get(hello))
            .direct_fallback(missing);
        let direct = |method, path| routes.table.direct(&method, path).is_some();
        assert!(direct(Method::GET, "/a") && direct(Method::POST, "/a"));
        assert!(!direct(Method::PUT, "/a") && !direct(Method::HEAD, "/a"));
        assert!(!direct(Method::GET, "/a/1") && !direct(Method::GET, "/a/1/2"));
        assert!(direct(Method::GET, "/b") && direct(Method::DELETE, "/a2"));
        assert!(!direct(Method::HEAD, "/b"));
        let opaque = routes.merge(Router::new().route("/c", axum::routing::get(hello)));
        assert!(opaque.table.direct(&Method::GET, "/b").is_none());
        assert!(opaque.table.direct(&Method::GET, "/a").is_some());
        let through = Routes::new().direct_fallback(missing).fallback(missing);
        assert!(through.table.direct(&Method::GET, "/b").is_none());
        assert_eq!(
            format!("{opaque:?}"),
            r#"Routes { fixed: ["/a"], parameter_prefixes: ["/a/"], fallback: true, opaque: true }"#
        );
    }
}
