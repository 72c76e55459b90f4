//! Many devices in one process, each on its own listener, plus the control API.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::clock::{Clock, ClockMode};
use crate::device::{Device, DeviceHandle};
use crate::listener::serve_http;
use crate::listener::{ConnectionLimits, Gate};
use crate::peer::ClientProcesses;
use crate::profile::{ConfigError, Profile};
use crate::tls::TlsSetup;
use crate::vendors::http::ListenerScheme;
use axum_server::tls_rustls::RustlsConfig;

/// A fleet file: which devices to run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// Seed for reproducible tokens and ids (overridden by `--seed`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Clock mode (overridden by `--clock`).
    #[serde(default)]
    pub clock: Option<ClockMode>,
    /// The devices.
    #[serde(default, rename = "device")]
    pub devices: Vec<FleetEntry>,
}

/// One `[[device]]` of a fleet file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetEntry {
    /// Device name; with `count` > 1 the devices are named `NAME-1`, `NAME-2`, ...
    /// (spanned, so errors can name its line).
    pub name: toml::Spanned<String>,
    /// An embedded profile name, or a profile file path (relative to the fleet file).
    pub profile: toml::Spanned<String>,
    /// Port to listen on; 0 (the default) lets the OS choose.
    #[serde(default)]
    pub port: u16,
    /// SSH port for personalities that serve SSH (iDRAC); 0 lets the OS choose.
    #[serde(default)]
    pub ssh_port: u16,
    /// Serve this device over HTTPS (overrides the fleet-wide `--tls`).
    #[serde(default)]
    pub tls: Option<bool>,
    /// How many devices of this kind (ports must then be 0).
    #[serde(default = "one")]
    pub count: usize,
    /// A mockup directory in DMTF's format (relative to the fleet file) that the device
    /// serves instead of its profile's default tree, behind the profile's sessions; the
    /// profile must have a `[tree]` (the Redfish family).
    #[serde(default)]
    pub mockup: Option<std::path::PathBuf>,
}

fn one() -> usize {
    1
}

/// The most devices one fleet may describe: each needs at least one listening socket of
/// its own, and one address has about 64,000 ports.
pub const MAX_FLEET_DEVICES: usize = 50_000;

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

impl FleetFile {
    /// Parses a fleet file; `origin` names it in errors, with the line of the device at
    /// fault. Counts and fixed ports are checked before anything is allocated, so a file
    /// that cannot be served fails here, not at start.
    pub fn from_toml(text: &str, origin: &str) -> Result<FleetFile, ConfigError> {
        let file: FleetFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: crate::profile::toml_error(text, &e),
        })?;
        let invalid = |d: &FleetEntry, message: String| ConfigError::Invalid {
            origin: format!("{origin}, line {}", line_of(text, d.name.span().start)),
            message,
        };
        if file.devices.is_empty() {
            return Err(ConfigError::Invalid {
                origin: origin.to_string(),
                message: "a fleet needs at least one [[device]]".to_string(),
            });
        }
        let mut names = std::collections::BTreeSet::new();
        let mut ports: std::collections::BTreeMap<u16, &str> = std::collections::BTreeMap::new();
        let mut total: usize = 0;
        for d in &file.devices {
            let name = d.name.get_ref();
            if d.count == 0 {
                return Err(invalid(d, format!("device {name:?}: count must be 1 or more")));
            }
            total = total.saturating_add(d.count);
            if total > MAX_FLEET_DEVICES {
                return Err(invalid(
                    d,
                    format!(
                        "device {name:?}: the fleet reaches {total} devices; at most \
                         {MAX_FLEET_DEVICES} fit (each needs ports of its own)"
                    ),
                ));
            }
            if d.count > 1 && (d.port != 0 || d.ssh_port != 0) {
                return Err(invalid(
                    d,
                    format!("device {name:?}: with count > 1 the port must be 0"),
                ));
            }
            if !names.insert(name.clone()) {
                return Err(invalid(d, format!("device {name:?} is listed twice")));
            }
            for port in [d.port, d.ssh_port].into_iter().filter(|p| *p != 0) {
                if let Some(other) = ports.insert(port, name) {
                    let whose =
                        if other == name { "itself".to_string() } else { format!("{other:?}") };
                    return Err(invalid(
                        d,
                        format!("device {name:?}: port {port} is already taken by {whose}"),
                    ));
                }
            }
        }
        Ok(file)
    }

    /// Reads a fleet file and resolves its profiles.
    pub fn load(path: &std::path::Path) -> Result<(FleetFile, Vec<DeviceSpec>), ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: origin.clone(), source })?;
        let file = FleetFile::from_toml(&text, &origin)?;
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        let specs = file.specs(dir).map_err(|(entry, e)| ConfigError::Invalid {
            origin: format!("{origin}, line {}", line_of(&text, entry.profile.span().start)),
            message: format!("device {:?}: {e}", entry.name.get_ref()),
        })?;
        Ok((file, specs))
    }

    /// The devices this file describes; profile paths are relative to `dir`. An error
    /// names the entry whose profile could not be loaded.
    pub fn specs(
        &self,
        dir: &std::path::Path,
    ) -> Result<Vec<DeviceSpec>, (&FleetEntry, ConfigError)> {
        let mut specs = Vec::new();
        for entry in &self.devices {
            let wanted = entry.profile.get_ref();
            let relative = dir.join(wanted);
            let profile = if relative.is_file() {
                Profile::load(&relative.display().to_string())
            } else {
                Profile::load(wanted)
            }
            .map_err(|e| (entry, e))?;
            let profile = match &entry.mockup {
                Some(mockup) => with_mockup(profile, &dir.join(mockup)).map_err(|e| (entry, e))?,
                None => profile,
            };
            let profile = Arc::new(profile);
            for i in 1..=entry.count {
                let name = entry.name.get_ref();
                let name = if entry.count == 1 { name.clone() } else { format!("{name}-{i}") };
                specs.push(DeviceSpec {
                    port: entry.port,
                    ssh_port: entry.ssh_port,
                    tls: entry.tls,
                    ..DeviceSpec::new(&name, profile.clone())
                });
            }
        }
        Ok(specs)
    }
}

/// `profile` serving the mockup at `dir`, checked: every malformed file is named.
fn with_mockup(mut profile: Profile, dir: &std::path::Path) -> Result<Profile, ConfigError> {
    let origin = "mockup".to_string();
    let Some(tree) = profile.tree.as_mut() else {
        return Err(ConfigError::Invalid {
            origin,
            message: format!(
                "profile {:?} has no resource tree: a mockup needs a Redfish-family profile \
                 (redfish, ilo4-ilo6, idrac8-idrac10)",
                profile.name
            ),
        });
    };
    let (_, problems) = crate::resources::mockup::check(dir);
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(ConfigError::Invalid { origin, message: text.join("; ") });
    }
    tree.mockup = Some(dir.to_path_buf());
    Ok(profile)
}

/// A device to start.
#[derive(Clone, Debug)]
pub struct DeviceSpec {
    /// Its name.
    pub name: String,
    /// Its profile.
    pub profile: Arc<Profile>,
    /// Its port (0: any).
    pub port: u16,
    /// Its SSH port, for personalities that serve SSH (0: any).
    pub ssh_port: u16,
    /// HTTPS for this device; `None` follows the fleet.
    pub tls: Option<bool>,
    /// Name the local process behind each client connection (hygiene mode; Linux: a read
    /// of `/proc/net/tcp` per request that records its client, a bounded scan of `/proc`
    /// once per new connection): see [`crate::peer`].
    pub client_processes: bool,
}

impl DeviceSpec {
    /// A device on any free port, following the fleet's TLS setting.
    pub fn new(name: &str, profile: Arc<Profile>) -> DeviceSpec {
        DeviceSpec {
            name: name.to_string(),
            profile,
            port: 0,
            ssh_port: 0,
            tls: None,
            client_processes: false,
        }
    }

    /// One device per embedded profile: the default fleet.
    pub fn default_fleet() -> Result<Vec<DeviceSpec>, ConfigError> {
        crate::profile::EMBEDDED
            .iter()
            .map(|(name, _)| Ok(DeviceSpec::new(name, Arc::new(Profile::embedded(name)?))))
            .collect()
    }
}

/// How to start a fleet.
#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// The devices.
    pub devices: Vec<DeviceSpec>,
    /// Address every listener binds (127.0.0.1 unless asked otherwise).
    pub bind: IpAddr,
    /// Control API port (0: any).
    pub control_port: u16,
    /// Clock mode.
    pub clock: ClockMode,
    /// Seed for reproducible tokens and ids.
    pub seed: Option<u64>,
    /// Serve devices over HTTPS.
    pub tls: Option<TlsSetup>,
    /// How long a stop waits for open connections (a client may hold a half-sent request
    /// forever) before closing them.
    pub drain: Duration,
    /// Connection timeouts and the per-device connection cap.
    pub limits: ConnectionLimits,
    /// Memory for all the devices' event logs together, in bytes (`None`: each device
    /// keeps its own 100,000 entries whatever the fleet's size).
    pub event_budget: Option<usize>,
}

impl FleetConfig {
    /// Devices on 127.0.0.1 with a virtual clock, no seed, plain HTTP.
    pub fn new(devices: Vec<DeviceSpec>) -> FleetConfig {
        FleetConfig {
            devices,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            control_port: 0,
            clock: ClockMode::Virtual,
            seed: None,
            tls: None,
            drain: DEFAULT_DRAIN,
            limits: ConnectionLimits::default(),
            event_budget: Some(DEFAULT_EVENT_BUDGET),
        }
    }
}

/// A device that is serving.
#[derive(Clone, Debug)]
pub struct RunningDevice {
    /// The device.
    pub device: DeviceHandle,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its SSH service listens, for personalities that have one.
    pub ssh_addr: Option<SocketAddr>,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Its connection count and cap (HTTP and SSH together).
    pub gate: Gate,
}

impl RunningDevice {
    /// Its base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }
}

/// What the control API and the reaper share.
#[derive(Debug)]
pub struct FleetState {
    /// The fleet's one clock.
    pub clock: Clock,
    /// The devices, in start order.
    pub devices: Vec<RunningDevice>,
}

impl FleetState {
    /// A device by name.
    pub fn device(&self, name: &str) -> Option<&RunningDevice> {
        self.devices.iter().find(|d| d.device.name() == name)
    }

    /// Ends what has expired on every device (after the clock moved).
    pub fn sweep_all(&self) {
        let now = self.clock.now();
        for d in &self.devices {
            d.device.store.sweep(now);
        }
    }
}

/// Errors starting a fleet.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not bind.
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Device name or "control API".
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// TLS could not be set up.
    #[error("TLS: {0}")]
    Tls(String),
}

/// The fleet's event logs together hold about this much by default (256 MiB): a
/// 1,000-device fleet under churn would otherwise keep 100,000 events (20-26 MB) each.
pub const DEFAULT_EVENT_BUDGET: usize = 256 << 20;

/// How long a stop waits for open connections by default.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);

/// A running fleet. Dropping it stops every listener.
#[derive(Debug)]
pub struct Fleet {
    state: Arc<FleetState>,
    control_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Fleet {
    /// Binds every listener, starts serving and returns once each port accepts.
    pub async fn start(config: FleetConfig) -> Result<Fleet, StartError> {
        let clock = Clock::new(config.clock);
        let (shutdown, _) = watch::channel(false);
        let fleet_tls = match &config.tls {
            Some(setup) => Some(setup.server_config().map_err(StartError::Tls)?),
            None => None,
        };
        let events = config
            .event_budget
            .map(|bytes| crate::session::EventBudget::new(bytes, config.devices.len()));
        let mut self_signed = None;
        let mut devices = Vec::with_capacity(config.devices.len());
        let mut tasks = Vec::with_capacity(config.devices.len() + 2);
        for spec in &config.devices {
            let device =
                Device::handle(&spec.name, spec.profile.clone(), clock.clone(), config.seed);
            if let Some(budget) = &events {
                device.store.share_event_budget(budget.clone());
            }
            let tls = match (spec.tls, &fleet_tls) {
                (Some(false), _) | (None, None) => None,
                (_, Some(fleet)) => Some(fleet.clone()),
                (Some(true), None) => Some(match &self_signed {
                    Some(made) => RustlsConfig::clone(made),
                    None => {
                        let made = TlsSetup::SelfSigned.server_config().map_err(StartError::Tls)?;
                        self_signed.insert(made).clone()
                    }
                }),
            };
            let (listener, addr) = bind(SocketAddr::new(config.bind, spec.port), &spec.name)?;
            let app = crate::vendors::router(device.clone());
            let scheme = if tls.is_some() { "https" } else { "http" };
            let app = app.layer(axum::Extension(if tls.is_some() {
                ListenerScheme::Https
            } else {
                ListenerScheme::Http
            }));
            let app = if spec.client_processes {
                app.layer(axum::Extension(ClientProcesses::new()))
            } else {
                app
            };
            let gate = Gate::new(&spec.name, config.limits.clone());
            let tls = tls.map(|t| t.get_inner());
            let drain = config.drain;
            tasks.push(serve_http(listener, app, tls, gate.clone(), drain, shutdown.subscribe()));
            let ssh_addr = match crate::vendors::ssh_service(&device) {
                Some(serve_ssh) => {
                    let what = format!("{} (SSH)", spec.name);
                    let (listener, addr) =
                        bind(SocketAddr::new(config.bind, spec.ssh_port), &what)?;
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .map_err(|source| StartError::Bind { addr, what, source })?;
                    tasks.push(tokio::spawn(serve_ssh(
                        device.clone(),
                        listener,
                        gate.clone(),
                        shutdown.subscribe(),
                    )));
                    Some(addr)
                }
                None => None,
            };
            devices.push(RunningDevice { device, addr, ssh_addr, scheme, gate });
        }
        let state = Arc::new(FleetState { clock: clock.clone(), devices });
        let (control_listener, control_addr) =
            bind(SocketAddr::new(config.bind, config.control_port), "control API")?;
        // The control API counts its own connections: a device at its cap does not
        // shut it out.
        tasks.push(serve_http(
            control_listener,
            crate::control::router(state.clone()),
            None,
            Gate::new("control API", config.limits.clone()),
            config.drain,
            shutdown.subscribe(),
        ));
        tasks.push(tokio::spawn(reaper(state.clone(), shutdown.subscribe())));
        Ok(Fleet { state, control_addr, shutdown, tasks })
    }

    /// The shared state (devices, clock).
    pub fn state(&self) -> &Arc<FleetState> {
        &self.state
    }

    /// The devices, in start order.
    pub fn devices(&self) -> &[RunningDevice] {
        &self.state.devices
    }

    /// The fleet's clock.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// The control API's base URL, e.g. `http://127.0.0.1:40100`.
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr)
    }

    /// Stops serving and waits for the listeners to close (open connections get a
    /// few seconds to finish).
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Binds `addr` and returns the listener with the address it really got (port 0 resolved).
fn bind(addr: SocketAddr, what: &str) -> Result<(std::net::TcpListener, SocketAddr), StartError> {
    let err = |source| StartError::Bind { addr, what: what.to_string(), source };
    let listener = std::net::TcpListener::bind(addr).map_err(err)?;
    listener.set_nonblocking(true).map_err(err)?;
    let bound = listener.local_addr().map_err(err)?;
    Ok((listener, bound))
}

/// Ends expired sessions on every device so their events are logged on time even when
/// nobody looks. A virtual clock wakes it on every advance; a real one at the next
/// deadline (or every second, whichever is sooner).
async fn reaper(state: Arc<FleetState>, mut shutdown: watch::Receiver<bool>) {
    let mut advanced = state.clock.subscribe();
    loop {
        state.sweep_all();
        let wait = match state.clock.mode() {
            ClockMode::Virtual => None,
            ClockMode::Real => {
                let now = state.clock.now().mono;
                let next =
                    state.devices.iter().filter_map(|d| d.device.store.next_deadline()).min();
                Some(
                    next.map_or(Duration::from_secs(1), |n| n.saturating_sub(now))
                        .min(Duration::from_secs(1)),
                )
            }
        };
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            changed = advanced.changed() => if changed.is_err() { return },
            () = sleep_or_forever(wait) => {}
        }
    }
}

async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
