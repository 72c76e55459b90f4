//! Connection limits (issue 13 item 3): silent, half-sent and idle connections are
//! closed, a device holds at most so many connections, and the control API stays
//! reachable when a device is full. Every device is on port 0 of 127.0.0.1 with its
//! timeouts set to milliseconds through the library API; each wait below is a bound on
//! how long a close may take, never a claim about speed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use emulator::listener::ConnectionLimits;
use emulator::profile::Profile;
use emulator::EmulatedDevice;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the emulator to close a connection before failing.
const BOUND: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(200);
const LONG: Duration = Duration::from_secs(600);

async fn device(profile: &str, change: impl FnOnce(&mut ConnectionLimits)) -> EmulatedDevice {
    let mut options = EmulatedDevice::options(Profile::embedded(profile).expect("profile"));
    let mut limits = ConnectionLimits::default();
    limits.header_timeout = LONG;
    limits.idle_timeout = LONG;
    limits.ssh_login_grace = LONG;
    change(&mut limits);
    options.limits = limits;
    options.start().await.expect("device starts")
}

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Reads until the peer closes the connection (or resets it); `Err` if it is still open
/// after `BOUND`. Returns what was read.
async fn closed_within_bound(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut seen = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    match tokio::time::timeout(BOUND, read_all).await {
        Ok(()) => Ok(seen),
        Err(_) => {
            Err(format!("still open after {BOUND:?}; read {:?}", String::from_utf8_lossy(&seen)))
        }
    }
}

/// Reads one HTTP response with a `Content-Length` body; returns its head.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf))
            .await
            .expect("answer within the bound")
            .expect("read");
        assert!(n > 0, "closed before the response ended: {:?}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return text[..end].to_string();
            }
        }
    }
}

/// Issue 13 item 3 (half-sent requests stay open for ever): a request head that stops
/// halfway is closed after the header timeout.
#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let d = device("redfish", |l| l.header_timeout = SHORT).await;
    let mut stream = TcpStream::connect(addr(&d.url())).await.expect("connect");
    stream.write_all(b"GET /redfish/v1 HTTP/1.1\r\nHost: x\r\nUser-Ag").await.expect("write");
    closed_within_bound(&mut stream).await.expect("closed");
}

/// Issue 13 item 3 (silent connections stay open for ever): a connection that never
/// sends a byte is closed after the header timeout.
#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let d = device("redfish", |l| l.header_timeout = SHORT).await;
    let mut stream = TcpStream::connect(addr(&d.url())).await.expect("connect");
    closed_within_bound(&mut stream).await.expect("closed");
}

/// Issue 13 item 3 (idle keep-alive connections stay open for ever): after a response,
/// a kept-alive connection that sends nothing more is closed after the idle timeout,
/// even when the header timeout is long.
#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let d = device("redfish", |l| l.idle_timeout = SHORT).await;
    let mut stream = TcpStream::connect(addr(&d.url())).await.expect("connect");
    for _ in 0..2 {
        stream.write_all(b"GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let head = read_response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    let rest = closed_within_bound(&mut stream).await.expect("closed");
    assert!(rest.is_empty(), "nothing more is sent: {:?}", String::from_utf8_lossy(&rest));
}

/// Issue 13 item 3 (a client can hold a request open by never finishing its body): a
/// body that stalls for the header timeout ends the request; the connection does not
/// stay open.
#[tokio::test]
async fn a_stalled_request_body_does_not_hold_the_connection() {
    let d = device("redfish", |l| l.header_timeout = SHORT).await;
    let mut stream = TcpStream::connect(addr(&d.url())).await.expect("connect");
    stream
        .write_all(
            b"POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"UserName\":",
        )
        .await
        .expect("write");
    let answer = closed_within_bound(&mut stream).await.expect("closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(d.device().store.list(d.device().now()).is_empty(), "no session was opened");
}

/// A `tracing` writer into a shared buffer, to read the log lines a test caused.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// Issue 13 item 3 (1,100 idle sockets made every device and the control API
/// unreachable): a device at its connection cap closes the next connection at once and
/// logs it once; the control API still answers; a freed place is usable again.
#[tokio::test]
async fn connections_over_the_cap_are_closed_and_logged_and_the_control_api_answers() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let d = device("redfish", |l| l.max_connections = Some(2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr(&d.url())).await.expect("connect");
        s.write_all(b"GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    for _ in 0..3 {
        let mut over = TcpStream::connect(addr(&d.url())).await.expect("connect (backlog)");
        let _ = over.write_all(b"GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let answer = closed_within_bound(&mut over).await.expect("closed at the cap");
        assert!(
            answer.is_empty(),
            "no answer over the cap: {:?}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert_eq!(d.connections_refused(), 3);
    let text = logs.text();
    assert_eq!(text.matches("connection cap reached").count(), 1, "one line per interval: {text}");
    assert!(text.contains("max_connections=2"), "{text}");

    let health =
        reqwest::get(format!("{}/_sessionlab/health", d.control())).await.expect("control");
    assert_eq!(health.status(), 200);

    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        // The freed place is returned when the server notices the close.
        let mut s = TcpStream::connect(addr(&d.url())).await.expect("connect");
        s.write_all(b"GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let mut first = [0u8; 12];
        let got = tokio::time::timeout(BOUND, s.read_exact(&mut first)).await.expect("bounded");
        if got.is_ok() {
            again = Some(first);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(&again.expect("a place freed"), b"HTTP/1.1 200");
}

/// Issue 13 item 3 (pre-auth SSH connections stay open for ever; OpenSSH's
/// `LoginGraceTime`): an SSH connection that never logs in is closed after the grace
/// time.
#[tokio::test]
async fn an_ssh_connection_that_never_logs_in_is_closed_after_the_grace_time() {
    let d = device("idrac9", |l| l.ssh_login_grace = SHORT).await;
    let ssh = d.ssh_addr().expect("iDRAC serves SSH");
    let mut silent = TcpStream::connect(ssh).await.expect("connect");
    let banner = closed_within_bound(&mut silent).await.expect("closed");
    assert!(banner.starts_with(b"SSH-2.0-"), "{:?}", String::from_utf8_lossy(&banner));

    let mut versioned = TcpStream::connect(ssh).await.expect("connect");
    versioned.write_all(b"SSH-2.0-sessionlab_test\r\n").await.expect("write");
    closed_within_bound(&mut versioned).await.expect("closed after the version line too");
    assert!(d.device().store.list(d.device().now()).is_empty());
}

/// Issue 13 item 3: SSH connections count against the device's cap with HTTP ones.
#[tokio::test]
async fn ssh_connections_count_against_the_device_cap() {
    let d = device("idrac9", |l| l.max_connections = Some(1)).await;
    let ssh = d.ssh_addr().expect("iDRAC serves SSH");
    let mut first = TcpStream::connect(ssh).await.expect("connect");
    let mut banner = [0u8; 8];
    first.read_exact(&mut banner).await.expect("banner");
    assert_eq!(&banner, b"SSH-2.0-");
    let mut http = TcpStream::connect(addr(&d.url())).await.expect("connect (backlog)");
    let _ = http.write_all(b"GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let answer = closed_within_bound(&mut http).await.expect("closed at the cap");
    assert!(answer.is_empty());
    assert_eq!(d.connections_refused(), 1);
}
