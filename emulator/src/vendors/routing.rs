//! A personality's routes: axum's router, and beside it the handlers of the fixed paths
//! (those without a `{parameter}`), which answer without it.
//!
//! axum routes a request by matching its path in the router's tree, writing the match's
//! (empty) parameter list into the request, copying the route's boxed service and calling
//! it through two more futures that set `Content-Length`: about 1,500 instructions of a
//! token GET that does 12,000 in all. A fixed path's handler needs none of it, so
//! [`Routes`] keeps each fixed path's handlers by method, found with one hash of the path,
//! and calls the handler itself, setting `Content-Length` as axum would. Everything else
//! (paths with parameters, `HEAD`, methods a path does not serve, the fallbacks) goes to
//! the router, which holds every route too: the two answer alike by construction, and
//! `a_fixed_path_answers_as_the_router_would` below checks it.

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

/// A personality's routes: built like an axum [`Router`] (`Routes::new().route(path,
/// get(a).post(b))`), served by [`crate::vendors::http::around`].
#[derive(Clone, Default)]
pub struct Routes {
    router: Router,
    fixed: Arc<Fixed>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut paths: Vec<&str> = self.fixed.keys().map(|path| &**path).collect();
        paths.sort_unstable();
        f.debug_struct("Routes").field("fixed", &paths).finish()
    }
}

impl Routes {
    /// No routes.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Serves `path` with `methods` (panics, as axum does, on a path served twice).
    pub fn route(mut self, path: &str, methods: Methods) -> Routes {
        self.router = self.router.route(path, methods.router);
        if !path.contains('{') {
            Arc::make_mut(&mut self.fixed).insert(path.into(), methods.calls);
        }
        self
    }

    /// Adds `other`'s routes (panics, as axum does, on a path both serve).
    pub fn merge(mut self, other: impl Into<Routes>) -> Routes {
        let other = other.into();
        self.router = self.router.merge(other.router);
        let fixed = Arc::make_mut(&mut self.fixed);
        fixed.extend(other.fixed.iter().map(|(path, calls)| (path.clone(), calls.clone())));
        self
    }

    /// Answers the paths no route serves with `handler`.
    pub fn fallback<H: Handler<T, ()>, T: 'static>(mut self, handler: H) -> Routes {
        self.router = self.router.fallback(handler);
        self
    }

    /// Answers the methods a served path does not take with `handler`.
    pub fn method_not_allowed_fallback<H: Handler<T, ()>, T: 'static>(
        mut self,
        handler: H,
    ) -> Routes {
        self.router = self.router.method_not_allowed_fallback(handler);
        self
    }

    /// The same routes, every one answered through the router (what the fixed paths'
    /// answers are checked against).
    pub fn through_router(self) -> Routes {
        Routes { router: self.router, fixed: Arc::default() }
    }

    /// Answers `req`: its fixed path's handler when it has one for the method, otherwise
    /// the router. A router is always ready, and its call holds no reference to it.
    pub fn call(
        &self,
        req: Request,
    ) -> impl std::future::Future<Output = Response> + Send + 'static {
        let fixed = self.fixed.get(req.uri().path()).and_then(|calls| {
            calls.iter().find(|(method, _)| method == req.method()).map(|(_, call)| call)
        });
        match fixed {
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
        Routes { router: self.router.with_state(()), fixed: self.fixed }
    }
}

impl From<Router> for Routes {
    /// `router`'s routes, every one answered through it.
    fn from(router: Router) -> Routes {
        Routes { router, fixed: Arc::default() }
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

    fn routes() -> Routes {
        Routes::new()
            .route("/things", get(hello).post(created))
            .route("/things/{id}", get(hello))
            .route("/stream", get(streamed).delete(missing))
            .fallback(missing)
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

    /// A fixed path's handler answers exactly as axum's router would: status, headers in
    /// order (`Content-Length` where the route sets it), body.
    #[tokio::test]
    async fn a_fixed_path_answers_as_the_router_would() {
        let direct = routes();
        let routed = routes().through_router();
        let asked = [
            ("GET", "/things"),
            ("POST", "/things"),
            ("HEAD", "/things"),
            ("PUT", "/things"),
            ("GET", "/things/7"),
            ("GET", "/stream"),
            ("DELETE", "/stream"),
            ("GET", "/nowhere"),
            ("GET", "/things/"),
        ];
        for (method, path) in asked {
            assert_eq!(
                answer(&direct, method, path).await,
                answer(&routed, method, path).await,
                "{method} {path}"
            );
        }
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
    }

    /// Only paths without parameters are kept beside the router.
    #[test]
    fn only_fixed_paths_are_kept_beside_the_router() {
        let routes =
            Routes::new().route("/a", get(hello).post(created)).route("/a/{id}", get(hello));
        assert_eq!(format!("{routes:?}"), r#"Routes { fixed: ["/a"] }"#);
        let methods: Vec<&Method> = routes.fixed["/a"].iter().map(|(m, _)| m).collect();
        assert_eq!(methods, [Method::GET, Method::POST]);
    }
}
