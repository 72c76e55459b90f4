//! racadm over SSH (russh).
//!
//! The handler only connects wire and engine:
//! - **Password login** opens an `ssh` session in the engine
//!   ([`crate::session::SessionStore::login`]); the connection holds it for its lifetime
//!   and ends it (reason `logout`) when it closes. A full SSH pool refuses the login
//!   ([`super::SshPoolFull`]).
//! - **exec** (`ssh root@idrac racadm getssninfo`) runs one racadm line, then sends the
//!   output, the exit status, EOF and close.
//! - **shell** gives the `racadm>>` prompt; each line is a racadm command (with or
//!   without the `racadm` word), `exit` leaves. With a pty the server echoes and writes
//!   `\r\n`.
//! - **Idle timeout and closing from elsewhere.** Every request renews the session
//!   (sliding `SSH.Timeout`). A watcher per connection closes the connection once its
//!   session is gone, whoever ended it: the idle timeout (checked whenever the virtual
//!   clock moves, and a few times a second), `closessn`, `racreset`, the control API.
//! - **Before login** a connection has the fleet's SSH login grace time (real time, like
//!   OpenSSH's `LoginGraceTime`) to authenticate, then it is closed; every connection
//!   counts against the device's connection cap ([`crate::listener::Gate`]).
//!
//! The host key is Ed25519, derived from the device name and the profile's
//! `ssh.host_key_seed`, so clients see the same key at every start.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::PrivateKey;
use russh::server::{Auth, Msg, Session as SshSession};
use russh::{Channel, ChannelId, Disconnect, MethodKind, MethodSet, SshId};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::racadm::{self, Caller, CliOutput};
use super::{IdracSettings, SshPoolFull, SSH_TYPE};
use crate::device::{Device, DeviceHandle};
use crate::listener::Admitted;
use crate::session::{ClientInfo, EndReason, LoginError, LoginRequest, Session};

/// How often a connection checks that its session is still open, besides every move
/// of the virtual clock (catches `closessn` from another connection and real-time idle
/// timeouts).
const WATCH_INTERVAL: Duration = Duration::from_millis(200);

/// Starts one SSH connection of `device` on an accepted stream (the fleet's
/// [`crate::listener::SshConnect`]; the listener, its own or shared by a fleet, admits
/// it under the device's connection cap). The russh configuration (banner, host key) is
/// made on the device's first SSH connection and kept with its object models.
pub fn connect(
    device: DeviceHandle,
    stream: TcpStream,
    peer: SocketAddr,
    grace: Duration,
    shutdown: watch::Receiver<bool>,
    admitted: Admitted,
) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    let config = device.model(|d| {
        tracing::debug!(device = d.name(), key = %host_key(d).public_key().fingerprint(Default::default()), "idrac: SSH serving");
        SshConfig(Arc::new(config(d)))
    });
    Box::pin(connection(device, config.0.clone(), stream, peer, grace, shutdown, admitted))
}

/// A device's russh configuration, kept as one of its models.
struct SshConfig(Arc<russh::server::Config>);

/// The russh configuration of a device: its banner and host key, password
/// authentication only, no delay on rejections, and no inactivity timeout of russh's own
/// (the engine's SSH timeout decides).
pub fn config(device: &Device) -> russh::server::Config {
    let settings = IdracSettings::of(device);
    russh::server::Config {
        server_id: SshId::Standard(settings.ssh.banner.clone().into()),
        methods: MethodSet::from(&[MethodKind::Password][..]),
        auth_rejection_time: Duration::ZERO,
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key(device)],
        inactivity_timeout: None,
        nodelay: true,
        ..Default::default()
    }
}

/// The device's Ed25519 host key, derived from its name and `ssh.host_key_seed`.
pub fn host_key(device: &Device) -> PrivateKey {
    let settings = IdracSettings::of(device);
    let material =
        format!("sessionlab idrac host key\0{}\0{}", settings.ssh.host_key_seed, device.name());
    let mut seed = [0u8; 32];
    for (i, chunk) in seed.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&fnv1a(material.as_bytes(), i as u64).to_be_bytes());
    }
    let mut secret = [0u8; 32];
    ChaCha20Rng::from_seed(seed).fill_bytes(&mut secret);
    PrivateKey::from(Ed25519Keypair::from_seed(&secret))
}

fn fnv1a(bytes: &[u8], salt: u64) -> u64 {
    let start = 0xcbf2_9ce4_8422_2325_u64 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    bytes.iter().fold(start, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// The engine session a connection holds, once its password was accepted.
type Held = Arc<Mutex<Option<Session>>>;

fn held(slot: &Held) -> Option<Session> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Ends the held session (reason `logout`) if it is still open.
fn release(device: &Device, slot: &Held) {
    if let Some(session) = slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
        if device.store.end(&session.id, EndReason::Logout, device.now()).is_ok() {
            tracing::info!(session = %session.id, user = %session.user, "idrac: SSH logout");
        }
    }
}

async fn connection(
    device: DeviceHandle,
    config: Arc<russh::server::Config>,
    stream: TcpStream,
    peer: SocketAddr,
    grace: Duration,
    mut shutdown: watch::Receiver<bool>,
    _admitted: Admitted,
) {
    let slot: Held = Arc::default();
    let handler =
        Handler { device: device.clone(), peer, slot: slot.clone(), channels: HashMap::new() };
    let login_by = crate::clock::socket_now() + grace;
    let (stream, kill) = Killable::new(stream);
    // A client that never sends its version line would hold the socket here for ever.
    let started =
        tokio::time::timeout_at(login_by, russh::server::run_stream(config, stream, handler));
    let running = match started.await {
        Ok(Ok(running)) => running,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "idrac: SSH handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!(client = %peer.ip(), "idrac: SSH connection closed, no login within the grace time");
            return;
        }
    };
    let handle = running.handle();
    tokio::pin!(running);
    let mut clock = device.clock().subscribe();
    let mut clock_alive = true;
    loop {
        let stopping = tokio::select! {
            _ = &mut running => break,
            _ = shutdown.wait_for(|stop| *stop) => true,
            changed = clock.changed(), if clock_alive => {
                clock_alive = changed.is_ok();
                false
            }
            () = tokio::time::sleep(WATCH_INTERVAL) => false,
        };
        if stopping {
            let _ = handle
                .disconnect(Disconnect::ByApplication, "shutting down".into(), String::new())
                .await;
            break;
        }
        let Some(session) = held(&slot) else {
            if crate::clock::socket_now() >= login_by {
                tracing::info!(client = %peer.ip(), "idrac: SSH connection closed, no login within the grace time");
                let _ = handle
                    .disconnect(
                        Disconnect::ByApplication,
                        "Login grace time exceeded".into(),
                        String::new(),
                    )
                    .await;
                // Mid key exchange russh may not act on the disconnect: cut the socket.
                if tokio::time::timeout(Duration::from_millis(500), &mut running).await.is_err() {
                    kill.kill();
                    let _ = tokio::time::timeout(Duration::from_secs(5), &mut running).await;
                }
                break;
            }
            continue;
        };
        if device.store.get(&session.id, device.now()).is_none() {
            tracing::info!(session = %session.id, "idrac: SSH session ended, closing the connection");
            let _ = handle
                .disconnect(Disconnect::ByApplication, "Session closed".into(), String::new())
                .await;
            let _ = tokio::time::timeout(Duration::from_secs(5), &mut running).await;
            break;
        }
    }
    release(&device, &slot);
}

/// A stream that can be cut from outside: once killed, reads and writes fail, so the
/// SSH session task that owns it ends whatever state its protocol is in.
struct Killable {
    inner: TcpStream,
    switch: Arc<KillSwitch>,
}

#[derive(Default)]
struct KillSwitch {
    killed: std::sync::atomic::AtomicBool,
    reader: Mutex<Option<std::task::Waker>>,
}

impl KillSwitch {
    fn kill(&self) {
        self.killed.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(waker) = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take() {
            waker.wake();
        }
    }

    fn check(&self) -> std::io::Result<()> {
        if self.killed.load(std::sync::atomic::Ordering::SeqCst) {
            Err(std::io::ErrorKind::ConnectionAborted.into())
        } else {
            Ok(())
        }
    }
}

impl Killable {
    fn new(inner: TcpStream) -> (Killable, Arc<KillSwitch>) {
        let switch = Arc::new(KillSwitch::default());
        (Killable { inner, switch: switch.clone() }, switch)
    }
}

impl tokio::io::AsyncRead for Killable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.switch.check()?;
        *self.switch.reader.lock().unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Killable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.switch.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One channel's state.
#[derive(Debug, Default)]
struct Chan {
    /// The client asked for a pty: echo input, write `\r\n`.
    pty: bool,
    /// The shell is running on it.
    shell: bool,
    /// The line being typed.
    line: Vec<u8>,
    /// The last byte was `\r` (so a following `\n` is the same line end).
    after_cr: bool,
}

/// The per-connection handler.
struct Handler {
    device: DeviceHandle,
    peer: SocketAddr,
    slot: Held,
    channels: HashMap<ChannelId, Chan>,
}

impl Drop for Handler {
    fn drop(&mut self) {
        release(&self.device, &self.slot);
    }
}

impl Handler {
    fn settings(&self) -> IdracSettings {
        IdracSettings::of(&self.device).into_owned()
    }

    /// Renews the session's idle timer; `false` once it has ended.
    fn touch(&self) -> bool {
        match held(&self.slot) {
            Some(session) => {
                self.device.store.authenticate(session.token.as_str(), self.device.now()).is_ok()
            }
            None => false,
        }
    }

    fn run(&self, line: &str) -> CliOutput {
        let session = held(&self.slot);
        let user = session.as_ref().map_or(String::new(), |s| s.user.as_str().to_owned());
        let caller = Caller { session: session.as_ref().map(|s| s.id.as_str()), user: &user };
        racadm::run(&self.device, self.device.now(), &caller, line)
    }

    fn send(
        &self,
        channel: ChannelId,
        out: &CliOutput,
        pty: bool,
        session: &mut SshSession,
    ) -> Result<(), russh::Error> {
        // With a pty there is one terminal stream: standard error goes into it, and
        // lines end with \r\n as a terminal driver would write them.
        if pty {
            let text = format!("{}{}", out.stdout, out.stderr).replace('\n', "\r\n");
            if !text.is_empty() {
                session.data(channel, text.into_bytes())?;
            }
            return Ok(());
        }
        if !out.stdout.is_empty() {
            session.data(channel, out.stdout.clone().into_bytes())?;
        }
        if !out.stderr.is_empty() {
            session.extended_data(channel, 1, out.stderr.clone().into_bytes())?;
        }
        Ok(())
    }

    fn finish(channel: ChannelId, exit: u32, session: &mut SshSession) -> Result<(), russh::Error> {
        session.exit_status_request(channel, exit)?;
        session.eof(channel)?;
        session.close(channel)
    }

    fn prompt(&self, channel: ChannelId, session: &mut SshSession) -> Result<(), russh::Error> {
        session.data(channel, self.settings().ssh.prompt.into_bytes())
    }

    /// One line typed at the `racadm>>` prompt.
    fn shell_line(
        &mut self,
        channel: ChannelId,
        line: &str,
        session: &mut SshSession,
    ) -> Result<(), russh::Error> {
        let pty = self.channels.get(&channel).is_some_and(|c| c.pty);
        let words = line.trim();
        if ["exit", "quit", "logout"].contains(&words) {
            return Self::finish(channel, 0, session);
        }
        if !words.is_empty() {
            let out = self.run(words);
            self.send(channel, &out, pty, session)?;
        }
        if self.touch() {
            self.prompt(channel, session)?;
        }
        Ok(())
    }
}

impl russh::server::Handler for Handler {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if held(&self.slot).is_some() {
            return Ok(Auth::Accept);
        }
        let client =
            ClientInfo { addr: Some(self.peer.ip().to_string()), user_agent: None, process: None };
        let request = LoginRequest { user, password, session_type: SSH_TYPE, client };
        match self.device.store.login(&request, self.device.now()) {
            Ok(session) => {
                tracing::info!(user, session = %session.id, "idrac: SSH login");
                *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
                Ok(Auth::Accept)
            }
            Err(LoginError::LimitReached { scope, .. }) => {
                tracing::info!(user, %scope, "idrac: SSH login refused, pool full");
                match self.settings().ssh.pool_full {
                    SshPoolFull::RejectPassword => Ok(Auth::reject()),
                    SshPoolFull::Disconnect => Err(russh::Error::Disconnect),
                }
            }
            Err(_) => {
                tracing::info!(user, "idrac: SSH password refused");
                Ok(Auth::reject())
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), Chan::default());
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.channels.entry(channel).or_default().pty = true;
        session.channel_success(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.touch();
        session.channel_success(channel)?;
        let line = String::from_utf8_lossy(data).into_owned();
        let pty = self.channels.get(&channel).is_some_and(|c| c.pty);
        let out = self.run(&line);
        self.send(channel, &out, pty, session)?;
        Self::finish(channel, out.exit, session)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.touch();
        self.channels.entry(channel).or_default().shell = true;
        session.channel_success(channel)?;
        self.prompt(channel, session)
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if !self.channels.get(&channel).is_some_and(|c| c.shell) {
            return Ok(());
        }
        self.touch();
        for &byte in data {
            let Some(chan) = self.channels.get_mut(&channel) else { return Ok(()) };
            let pty = chan.pty;
            match byte {
                b'\n' if chan.after_cr => chan.after_cr = false,
                b'\r' | b'\n' => {
                    chan.after_cr = byte == b'\r';
                    let line =
                        String::from_utf8_lossy(&std::mem::take(&mut chan.line)).into_owned();
                    if pty {
                        session.data(channel, b"\r\n".to_vec())?;
                    }
                    self.shell_line(channel, &line, session)?;
                }
                0x7f | 0x08 => {
                    chan.after_cr = false;
                    if chan.line.pop().is_some() && pty {
                        session.data(channel, b"\x08 \x08".to_vec())?;
                    }
                }
                0x03 => {
                    chan.after_cr = false;
                    chan.line.clear();
                    if pty {
                        session.data(channel, b"^C\r\n".to_vec())?;
                    }
                    self.prompt(channel, session)?;
                }
                0x04 => {
                    chan.after_cr = false;
                    if chan.line.is_empty() {
                        if pty {
                            session.data(channel, b"\r\n".to_vec())?;
                        }
                        return Self::finish(channel, 0, session);
                    }
                }
                _ => {
                    chan.after_cr = false;
                    chan.line.push(byte);
                    if pty {
                        session.data(channel, vec![byte])?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        // Input ended (a script piped into the shell): run what is left, then leave.
        let pending = self
            .channels
            .get_mut(&channel)
            .filter(|c| c.shell)
            .map(|c| std::mem::take(&mut c.line));
        if let Some(rest) = pending {
            let line = String::from_utf8_lossy(&rest).into_owned();
            if !line.trim().is_empty() {
                let out = self.run(line.trim());
                let pty = self.channels.get(&channel).is_some_and(|c| c.pty);
                self.send(channel, &out, pty, session)?;
            }
            return Self::finish(channel, 0, session);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        Ok(())
    }
}
