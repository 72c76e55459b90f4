//! Serving connections: timeouts on silent, half-sent and idle HTTP connections, a cap on
//! a device's open connections, and a bounded drain at stop.
//!
//! A client that opens a socket and says nothing, stops halfway through its headers, or
//! keeps an idle keep-alive connection forever must not hold a descriptor for ever: with
//! a 1,024-descriptor limit, about a thousand of them made every device and the control
//! API unreachable. Here every HTTP connection is watched:
//! - a new connection has [`ConnectionLimits::header_timeout`] to send a whole request
//!   head;
//! - a kept-alive connection may wait [`ConnectionLimits::idle_timeout`] for its next
//!   request, then has the header timeout from its first byte;
//! - a request body that stalls for the header timeout ends the request (400);
//! - a device accepts at most [`ConnectionLimits::max_connections`] connections at once
//!   (HTTP and SSH together); more are closed at once and logged, at most one line per
//!   [`REFUSAL_LOG_INTERVAL`] per device with how many were refused.
//!
//! These are socket timeouts of the emulator's web server, in real time (tokio's timer),
//! not device settings tied to sessions: session timeouts stay on the device clock.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use std::future::Future as _;

use crate::vendors::http::{App, Connection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Default time a client has to send a request head: BIG-IP's httpd
/// `requestHeaderTimeout` (20 s, `shared/vendors/bigip-solace.md` 1.9), also Apache's
/// `RequestReadTimeout header=20`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// Default time an idle keep-alive connection may wait for its next request.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on a device's open connections (HTTP and SSH together).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default time an SSH connection has to authenticate (OpenSSH's `LoginGraceTime`).
pub const DEFAULT_SSH_LOGIN_GRACE: Duration = Duration::from_secs(120);
/// At most one "connection cap reached" line per device this often.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Limits on client connections, for every device of a fleet and the control API.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionLimits {
    /// Time to send a whole request head (from accept, or from the first byte of a
    /// kept-alive connection's next request), and the longest a request body may stall.
    pub header_timeout: Duration,
    /// Time a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Open connections per device, HTTP and SSH together (`None`: no cap). The control
    /// API has its own count, so it stays reachable while a device is full.
    pub max_connections: Option<usize>,
    /// Time an SSH connection has to authenticate; after login the device's own SSH idle
    /// timeout (on the device clock) applies.
    pub ssh_login_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: Some(DEFAULT_MAX_CONNECTIONS),
            ssh_login_grace: DEFAULT_SSH_LOGIN_GRACE,
        }
    }
}

/// Admission to one device (or the control API): counts its open connections and
/// refuses those over the cap, with a rate-limited log line. Clones share the count.
#[derive(Clone, Debug)]
pub struct Gate {
    name: Arc<str>,
    slots: Option<Arc<Semaphore>>,
    max: usize,
    refusals: Arc<Refusals>,
    limits: Arc<ConnectionLimits>,
}

#[derive(Debug, Default)]
struct Refusals {
    total: AtomicU64,
    /// When a line was last logged, and how many were refused since.
    log: Mutex<(Option<Instant>, u64)>,
}

/// A connection's place under its device's cap; freed when dropped.
#[derive(Debug)]
pub struct Admitted {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Gate {
    /// A gate for `name` (a device, or "control API") under `limits`.
    pub fn new(name: &str, limits: ConnectionLimits) -> Gate {
        let max = limits.max_connections.unwrap_or(0);
        Gate {
            name: name.into(),
            slots: limits.max_connections.map(|n| Arc::new(Semaphore::new(n))),
            max,
            refusals: Arc::default(),
            limits: Arc::new(limits),
        }
    }

    /// The limits this gate applies.
    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    /// A place for a new connection from `peer`, or `None` when the device is at its cap
    /// (the caller closes the connection).
    pub fn admit(&self, peer: SocketAddr) -> Option<Admitted> {
        let Some(slots) = &self.slots else { return Some(Admitted { _permit: None }) };
        match slots.clone().try_acquire_owned() {
            Ok(permit) => Some(Admitted { _permit: Some(permit) }),
            Err(_) => {
                self.refused(peer);
                None
            }
        }
    }

    /// Connections refused at the cap since start.
    pub fn refused_total(&self) -> u64 {
        self.refusals.total.load(Ordering::Relaxed)
    }

    fn refused(&self, peer: SocketAddr) {
        self.refusals.total.fetch_add(1, Ordering::Relaxed);
        let mut log = self.refusals.log.lock().unwrap_or_else(|p| p.into_inner());
        log.1 += 1;
        let now = crate::clock::socket_now();
        if log.0.is_none_or(|last| now.duration_since(last) >= REFUSAL_LOG_INTERVAL) {
            tracing::warn!(
                device = %self.name,
                max_connections = self.max,
                refused = log.1,
                last_client = %peer.ip(),
                "connection cap reached: new connections are closed until others end"
            );
            *log = (Some(now), 0);
        }
    }
}

/// What a connection has been doing, for its watchdog.
#[derive(Debug)]
struct Activity {
    state: Mutex<ActivityState>,
    /// How long a kept-alive connection may wait for its next request.
    idle_timeout: Duration,
    /// Told when a request ends with the next deadline earlier than the watchdog's.
    changed: tokio::sync::Notify,
}

#[derive(Debug)]
struct ActivityState {
    /// Requests being answered.
    in_flight: usize,
    /// Requests answered so far.
    served: u64,
    /// When the connection last started waiting for a request (accept, or a response).
    waiting_since: Instant,
    /// The first byte read since then, if any.
    first_byte: Option<Instant>,
    /// When the watchdog wakes next. A request that ends with a later deadline does not
    /// wake it (most requests: the idle deadline only moves forward); it finds the new
    /// deadline when it wakes and sleeps again.
    armed: Option<Instant>,
}

impl Activity {
    fn new(idle_timeout: Duration) -> Arc<Activity> {
        Arc::new(Activity {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                served: 0,
                waiting_since: crate::clock::socket_now(),
                first_byte: None,
                armed: None,
            }),
            idle_timeout,
            changed: tokio::sync::Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) {
        let mut s = self.lock();
        if s.in_flight == 0 && s.first_byte.is_none() {
            s.first_byte = Some(crate::clock::socket_now());
        }
    }

    fn begin(&self) {
        self.lock().in_flight += 1;
    }

    fn end(&self) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.served += 1;
        if s.in_flight == 0 {
            let now = crate::clock::socket_now();
            s.waiting_since = now;
            s.first_byte = None;
            if s.armed.is_some_and(|armed| armed <= now + self.idle_timeout) {
                return;
            }
        }
        drop(s);
        self.changed.notify_one();
    }

    /// [`ActivityState::deadline`], under the lock.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, &'static str)> {
        self.lock().deadline(limits)
    }

    /// The watchdog's next wake: the deadline, or a header timeout from now while a
    /// request is being answered; remembered so that a request's end wakes it only when
    /// it must come earlier.
    fn arm(&self, limits: &ConnectionLimits) -> Instant {
        let mut s = self.lock();
        let wake = s
            .deadline(limits)
            .map_or_else(|| crate::clock::socket_now() + limits.header_timeout, |(due, _)| due);
        s.armed = Some(wake);
        wake
    }
}

impl ActivityState {
    /// When the connection is to be closed unless something happens, and why; `None`
    /// while a request is being answered.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, &'static str)> {
        if self.in_flight > 0 {
            return None;
        }
        Some(match self.first_byte {
            Some(first) => (first + limits.header_timeout, "request head not complete"),
            None if self.served == 0 => {
                (self.waiting_since + limits.header_timeout, "no request on a new connection")
            }
            None => (self.waiting_since + limits.idle_timeout, "keep-alive connection idle"),
        })
    }
}

/// A stream that tells its [`Activity`] when bytes arrive.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request body that fails when no data arrives for `stall` (a half-sent body).
/// A wait is timed from when the handler finds no data: a handler that reads late is not
/// refused for the client's sake, and a body that is all there when read (a GET's empty
/// one, a small JSON login) reads no clock and makes no timer.
struct StallLimited {
    inner: Incoming,
    stall: Duration,
    /// Whether the last poll found no data: the wait it began is on the timer.
    waiting: bool,
    /// Made at the first wait, and set again at each new one.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl StallLimited {
    fn new(inner: Incoming, stall: Duration) -> StallLimited {
        StallLimited { inner, stall, waiting: false, timer: None }
    }
}

impl hyper::body::Body for StallLimited {
    type Data = hyper::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            self.waiting = false;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if !self.waiting {
            self.waiting = true;
            let due = crate::clock::socket_now() + self.stall;
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(due),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(due))),
            }
        }
        match self.timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Some(Err("request body stalled".into()))),
            _ => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Builds a device's service when its first connection arrives, so a fleet's idle devices
/// hold none (a fleet shares each profile's routes among its devices, and builds them
/// when the first of them is asked).
pub trait MakeApp: Send + Sync + 'static {
    /// The service (cheap to clone once built).
    fn app(&self) -> App;
}

impl MakeApp for App {
    fn app(&self) -> App {
        self.clone()
    }
}

/// A device's HTTP service: its routes, TLS and connection gate.
#[derive(Clone)]
pub struct HttpService {
    /// The service, made on first use.
    pub app: Arc<dyn MakeApp>,
    /// TLS, for HTTPS devices.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// The device's connection count and cap.
    pub gate: Gate,
    /// Names the local process behind each request's connection (hygiene mode): kept in
    /// each connection's [`Connection`], served around its task, when set.
    pub processes: Option<crate::peer::ClientProcesses>,
}

/// Starts one SSH connection of a device on an accepted stream: (device, stream, client,
/// login grace time, shutdown, its place under the device's cap).
pub type SshConnect = fn(
    crate::device::DeviceHandle,
    tokio::net::TcpStream,
    SocketAddr,
    Duration,
    watch::Receiver<bool>,
    Admitted,
) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A device's SSH service.
#[derive(Clone)]
pub struct SshService {
    /// The device.
    pub device: crate::device::DeviceHandle,
    /// Its personality's SSH connection handler.
    pub connect: SshConnect,
    /// The device's connection count and cap (shared with its HTTP service).
    pub gate: Gate,
}

/// What a connection is served by.
#[derive(Clone)]
pub enum Service {
    /// HTTP or HTTPS.
    Http(HttpService),
    /// SSH.
    Ssh(SshService),
}

/// Where a listening socket sends its connections.
pub enum Routing {
    /// Every connection to one service: a socket of the device's own.
    One(Service),
    /// To the service of the device whose address the connection arrived at (its local
    /// address): one socket shared by a fleet, bound to the wildcard address or to some
    /// of the devices' addresses. A connection to an address no device has is closed.
    ByAddress(HashMap<IpAddr, Service>),
}

impl Routing {
    fn service(&self, local: Option<SocketAddr>) -> Option<&Service> {
        match self {
            Routing::One(service) => Some(service),
            Routing::ByAddress(table) => table.get(&local?.ip().to_canonical()),
        }
    }
}

/// Serves `app` on `listener` (over TLS with `tls`) until `shutdown` turns true; then
/// open connections get `drain` to finish and the rest are closed, so a stop always ends.
pub fn serve_http(
    listener: std::net::TcpListener,
    app: axum::Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    gate: Gate,
    drain: Duration,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let app = App::of_router(app);
    let service = Service::Http(HttpService { app: Arc::new(app), tls, gate, processes: None });
    serve(listener, Routing::One(service), drain, shutdown)
}

/// Serves the connections of `listener` as `routing` says until `shutdown` turns true;
/// then open connections get `drain` to finish and the rest are closed.
pub fn serve(
    listener: std::net::TcpListener,
    routing: Routing,
    drain: Duration,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => {
                tracing::error!(error = %e, "listener stopped");
                return;
            }
        };
        let mut strays = Strays::default();
        let mut connections = tokio::task::JoinSet::new();
        let mut stop = shutdown.clone();
        loop {
            let mut backoff = false;
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let local = stream.local_addr().ok();
                        let Some(service) = routing.service(local) else {
                            strays.closed(local, peer);
                            drop(stream);
                            continue;
                        };
                        match service {
                            Service::Http(http) => {
                                let Some(admitted) = http.gate.admit(peer) else {
                                    drop(stream);
                                    continue;
                                };
                                let _ = stream.set_nodelay(true);
                                connections.spawn(connection(
                                    stream,
                                    peer,
                                    http.clone(),
                                    shutdown.clone(),
                                    admitted,
                                ));
                            }
                            Service::Ssh(ssh) => {
                                let Some(admitted) = ssh.gate.admit(peer) else {
                                    drop(stream);
                                    continue;
                                };
                                let grace = ssh.gate.limits().ssh_login_grace;
                                connections.spawn((ssh.connect)(
                                    ssh.device.clone(),
                                    stream,
                                    peer,
                                    grace,
                                    shutdown.clone(),
                                    admitted,
                                ));
                            }
                        }
                    }
                    Err(e) => {
                        // Out of descriptors (EMFILE) or a connection reset before accept:
                        // wait a little rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        backoff = true;
                    }
                },
            }
            if backoff {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        drop(listener);
        let drained =
            tokio::time::timeout(drain, async { while connections.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            tracing::warn!(
                drain_secs = drain.as_secs_f64(),
                open = connections.len(),
                "connections still open after the drain time; closing them"
            );
            connections.shutdown().await;
        }
    })
}

/// Connections a shared socket closed because no device has the address they arrived
/// at: logged at most once per [`REFUSAL_LOG_INTERVAL`] with how many.
#[derive(Default)]
struct Strays {
    last: Option<Instant>,
    since: u64,
}

impl Strays {
    fn closed(&mut self, local: Option<SocketAddr>, peer: SocketAddr) {
        self.since += 1;
        let now = crate::clock::socket_now();
        if self.last.is_none_or(|last| now.duration_since(last) >= REFUSAL_LOG_INTERVAL) {
            tracing::warn!(
                address = %local.map_or_else(|| "unknown".to_string(), |a| a.to_string()),
                client = %peer.ip(),
                closed = self.since,
                "connection to an address no device has: closed"
            );
            self.last = Some(now);
            self.since = 0;
        }
    }
}

/// One HTTP connection: TLS handshake (within the header timeout), then HTTP/1.1 with
/// its watchdog. The device's router is made here on its first connection.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    service: HttpService,
    shutdown: watch::Receiver<bool>,
    _admitted: Admitted,
) {
    let app = service.app.app();
    let limits = service.gate.limits.clone();
    let scheme = match service.tls {
        Some(_) => crate::vendors::http::ListenerScheme::Https,
        None => crate::vendors::http::ListenerScheme::Http,
    };
    let connection = Connection::looked_up(peer, scheme, service.processes);
    let activity = Activity::new(limits.idle_timeout);
    let signal = Arc::new(Signal::default());
    // The watchdog is a task of its own, so a request costs the connection nothing but
    // an atomic load; it ends with the connection.
    let _watchdog = AbortOnDrop(tokio::spawn(watchdog(
        activity.clone(),
        signal.clone(),
        limits.clone(),
        shutdown,
        peer,
    )));
    let watched = Watched { inner: stream, activity: activity.clone() };
    match service.tls {
        Some(acceptor) => {
            let handshake = tokio::time::timeout(limits.header_timeout, acceptor.accept(watched));
            match handshake.await {
                Ok(Ok(stream)) => {
                    connection.serve(http(stream, app, activity, &limits, &signal)).await;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(client = %peer.ip(), "TLS handshake timed out"),
            }
        }
        None => connection.serve(http(watched, app, activity, &limits, &signal)).await,
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a connection's watchdog asks of it, and how it wakes the connection to see.
#[derive(Debug, Default)]
struct Signal {
    /// 0 (serve on), [`Signal::GRACEFUL`] or [`Signal::CLOSE`]; only ever raised.
    state: std::sync::atomic::AtomicU8,
    /// The connection's task, woken when the state is raised.
    waker: Mutex<Option<std::task::Waker>>,
}

impl Signal {
    /// Finish the request in flight, then close (the emulator stops).
    const GRACEFUL: u8 = 1;
    /// Close now (a timeout).
    const CLOSE: u8 = 2;

    fn raise(&self, to: u8) {
        self.state.fetch_max(to, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            waker.wake_by_ref();
        }
    }

    /// Remembers the connection's waker (once: a task's waker does not change).
    fn register(&self, seen: &mut Option<std::task::Waker>, cx: &Context<'_>) {
        if !seen.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            let waker = cx.waker().clone();
            *self.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(waker.clone());
            *seen = Some(waker);
        }
    }
}

/// Watches one connection: closes it when a deadline of [`ActivityState::deadline`]
/// passes, and asks it to finish gracefully when the emulator stops.
async fn watchdog(
    activity: Arc<Activity>,
    signal: Arc<Signal>,
    limits: Arc<ConnectionLimits>,
    mut shutdown: watch::Receiver<bool>,
    peer: SocketAddr,
) {
    let mut stopping = false;
    loop {
        let wake = activity.arm(&limits);
        tokio::select! {
            _ = shutdown.wait_for(|s| *s), if !stopping => {
                stopping = true;
                signal.raise(Signal::GRACEFUL);
            }
            () = activity.changed.notified() => {}
            () = tokio::time::sleep_until(wake) => {
                if let Some((due, why)) = activity.deadline(&limits) {
                    if due <= crate::clock::socket_now() {
                        tracing::debug!(client = %peer.ip(), why, "closing the connection");
                        signal.raise(Signal::CLOSE);
                        return;
                    }
                }
            }
        }
    }
}

/// Serves HTTP/1.1 on `stream`, inside its [`Connection::serve`]: the requests find their
/// connection there rather than in an extension each.
async fn http<S>(
    stream: S,
    app: App,
    activity: Arc<Activity>,
    limits: &ConnectionLimits,
    signal: &Signal,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let stall = limits.header_timeout;
    let tracked = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let activity = tracked.clone();
        activity.begin();
        let answer = app.call(request.map(|body| Body::new(StallLimited::new(body, stall))));
        async move {
            let response = answer.await;
            activity.end();
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut seen = None;
    let mut graceful = false;
    let served = std::future::poll_fn(|cx| {
        signal.register(&mut seen, cx);
        match signal.state.load(Ordering::SeqCst) {
            Signal::CLOSE => return Poll::Ready(Ok(())),
            Signal::GRACEFUL if !graceful => {
                graceful = true;
                conn.as_mut().graceful_shutdown();
            }
            _ => {}
        }
        conn.as_mut().poll(cx)
    })
    .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Raises the soft limit on open descriptors to the hard limit, so a fleet is not cut
/// off at the common 1,024; returns (old soft, new soft). Unix only; elsewhere `None`.
pub fn raise_descriptor_limit() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use nix::sys::resource::{getrlimit, setrlimit, Resource};
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
        if soft >= hard {
            return Some((soft, soft));
        }
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => Some((soft, hard)),
            Err(e) => {
                tracing::warn!(error = %e, soft, hard, "cannot raise the descriptor limit");
                Some((soft, soft))
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13 item 3 (the common 1,024-descriptor soft limit): after the raise the soft
    /// limit is the hard one.
    #[cfg(unix)]
    #[test]
    fn the_soft_descriptor_limit_is_raised_to_the_hard_limit() {
        use nix::sys::resource::{getrlimit, Resource};
        let (_, new) = raise_descriptor_limit().expect("unix");
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
        assert_eq!((soft, new), (hard, hard));
    }

    /// The cap counts places and frees them when a connection ends.
    #[tokio::test]
    async fn a_gate_admits_up_to_its_cap_and_frees_places() {
        let limits = ConnectionLimits { max_connections: Some(2), ..ConnectionLimits::default() };
        let gate = Gate::new("d", limits);
        let peer: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        let a = gate.admit(peer).expect("first");
        let _b = gate.admit(peer).expect("second");
        assert!(gate.admit(peer).is_none());
        drop(a);
        assert!(gate.admit(peer).is_some());
        assert_eq!(gate.refused_total(), 1);
    }
}
