//! Many devices in one process, plus the control API. Each device has an address (its
//! own, or the bind address) and ports; it is served either through sockets of its own,
//! or through sockets the fleet shares, one per port, that route each connection to the
//! device whose address it arrived at.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::clock::{Clock, ClockMode};
use crate::device::{Device, DeviceHandle};
use crate::listener::{
    serve, serve_http, ConnectionLimits, Gate, HttpService, MakeApp, Routing, Service, SshService,
};
use crate::peer::ClientProcesses;
use crate::profile::{ConfigError, Profile};
use crate::tls::TlsSetup;
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
    /// Addresses for the devices that name none, as a range in CIDR notation
    /// (`"127.1.0.0/16"`): each takes the next free address of the range in file order,
    /// from the one after the range's network address.
    #[serde(default)]
    pub addresses: Option<String>,
    /// Serve the fleet through one socket per port bound to each of these addresses
    /// (`["0.0.0.0"]`: the wildcard, one socket per port for the whole fleet), each
    /// connection going to the device at the address it arrived at (overridden by
    /// `--shared-bind`). Empty (the default): a socket of its own per device.
    #[serde(default)]
    pub shared_bind: Vec<IpAddr>,
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
    /// The device's own address, e.g. `"127.1.0.5"` (with `count` > 1 the first; the
    /// next devices take the addresses that follow). Unset: the next address of the
    /// fleet's `addresses`, or else the bind address (`--bind`).
    #[serde(default)]
    pub address: Option<IpAddr>,
    /// Port to listen on; 0 (the default) lets the OS choose.
    #[serde(default)]
    pub port: u16,
    /// SSH port for personalities that serve SSH (iDRAC); 0 lets the OS choose.
    #[serde(default)]
    pub ssh_port: u16,
    /// Serve this device over HTTPS (overrides the fleet-wide `--tls`).
    #[serde(default)]
    pub tls: Option<bool>,
    /// How many devices of this kind (ports must then be 0 unless the devices have
    /// addresses of their own).
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

/// The most devices that share one address (the bind address): each needs ports of its
/// own, and one address has about 64,000.
pub const MAX_DEVICES_PER_ADDRESS: usize = 50_000;

/// The most devices one fleet may describe (devices at addresses of their own; about
/// 2 KiB each idle).
pub const MAX_FLEET_DEVICES: usize = 1_000_000;

/// A range of addresses in CIDR notation, e.g. `127.1.0.0/16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressRange {
    /// The range's network address.
    pub network: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
}

impl std::str::FromStr for AddressRange {
    type Err = String;
    fn from_str(text: &str) -> Result<AddressRange, String> {
        let bad = || format!("{text:?} is not an address range like \"127.1.0.0/16\"");
        let (address, prefix) = text.trim().split_once('/').ok_or_else(bad)?;
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(format!("{text:?}: the prefix length is at most {bits}"));
        }
        let mask = if prefix == 0 { 0 } else { u128::MAX << (u32::from(bits - prefix)) };
        let network =
            from_number(address, to_number(address) & (mask & max_of(address))).ok_or_else(bad)?;
        Ok(AddressRange { network, prefix })
    }
}

impl std::fmt::Display for AddressRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl AddressRange {
    /// How many addresses devices may take: all but the network address (a /32 or
    /// /128 is that one address).
    pub fn hosts(&self) -> u128 {
        let bits = if self.network.is_ipv4() { 32 } else { 128 };
        let size = 1u128.checked_shl(u32::from(bits - self.prefix)).unwrap_or(u128::MAX);
        if size == 1 {
            1
        } else {
            size - 1
        }
    }

    /// The `i`-th address devices may take (from 0).
    pub fn host(&self, i: u128) -> Option<IpAddr> {
        if i >= self.hosts() {
            return None;
        }
        let skip = u128::from(self.hosts() > 1);
        from_number(self.network, to_number(self.network).checked_add(i + skip)?)
    }

    /// Whether `address` is in the range.
    pub fn contains(&self, address: IpAddr) -> bool {
        let bits = if self.network.is_ipv4() { 32 } else { 128 };
        let size = 1u128.checked_shl(u32::from(bits - self.prefix)).unwrap_or(u128::MAX);
        let (n, net) = (to_number(address), to_number(self.network));
        address.is_ipv4() == self.network.is_ipv4() && n >= net && n - net < size
    }
}

fn to_number(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn max_of(address: IpAddr) -> u128 {
    if address.is_ipv4() {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    }
}

/// The address of the same family as `like` with number `n`, if it fits.
fn from_number(like: IpAddr, n: u128) -> Option<IpAddr> {
    match like {
        IpAddr::V4(_) => u32::try_from(n).ok().map(|n| IpAddr::V4(n.into())),
        IpAddr::V6(_) => Some(IpAddr::V6(n.into())),
    }
}

/// `address` + `i`, if it stays within its family.
fn address_after(address: IpAddr, i: usize) -> Option<IpAddr> {
    from_number(address, to_number(address).checked_add(i as u128)?)
}

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
        let range = match &file.addresses {
            Some(text) => Some(text.parse::<AddressRange>().map_err(|message| {
                ConfigError::Invalid { origin: format!("{origin}, addresses"), message }
            })?),
            None => None,
        };
        let mut names = std::collections::BTreeSet::new();
        let mut ports: std::collections::BTreeMap<u16, &str> = std::collections::BTreeMap::new();
        let mut total: usize = 0;
        let mut on_bind_address: usize = 0;
        for d in &file.devices {
            let name = d.name.get_ref();
            if d.count == 0 {
                return Err(invalid(d, format!("device {name:?}: count must be 1 or more")));
            }
            let own_address = d.address.is_some() || range.is_some();
            if !own_address {
                on_bind_address = on_bind_address.saturating_add(d.count);
                if on_bind_address > MAX_DEVICES_PER_ADDRESS {
                    return Err(invalid(
                        d,
                        format!(
                            "device {name:?}: the fleet reaches {on_bind_address} devices on \
                             one address; at most {MAX_DEVICES_PER_ADDRESS} fit (each needs \
                             ports of its own): give them addresses (`address`, or the \
                             fleet's `addresses`)"
                        ),
                    ));
                }
            }
            total = total.saturating_add(d.count);
            if total > MAX_FLEET_DEVICES {
                return Err(invalid(
                    d,
                    format!(
                        "device {name:?}: the fleet reaches {total} devices; at most \
                         {MAX_FLEET_DEVICES} fit"
                    ),
                ));
            }
            if d.count > 1 && !own_address && (d.port != 0 || d.ssh_port != 0) {
                return Err(invalid(
                    d,
                    format!(
                        "device {name:?}: with count > 1 the port must be 0, unless the \
                         devices have addresses of their own"
                    ),
                ));
            }
            if d.port != 0 && d.port == d.ssh_port {
                return Err(invalid(
                    d,
                    format!("device {name:?}: port {} is already taken by itself", d.port),
                ));
            }
            if let Some(first) = d.address {
                if address_after(first, d.count - 1).is_none() {
                    return Err(invalid(
                        d,
                        format!(
                            "device {name:?}: {} addresses from {first} run past the last one",
                            d.count
                        ),
                    ));
                }
            }
            if !names.insert(name.clone()) {
                return Err(invalid(d, format!("device {name:?} is listed twice")));
            }
            if own_address {
                continue;
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
        file.addresses_of(range).map_err(|(i, message)| invalid(&file.devices[i], message))?;
        Ok(file)
    }

    /// Each device's own address, in fleet order (`None`: the bind address): explicit
    /// ones first, then the range's free addresses in order. An error names the index of
    /// the entry at fault.
    fn addresses_of(
        &self,
        range: Option<AddressRange>,
    ) -> Result<Vec<Option<IpAddr>>, (usize, String)> {
        let mut taken: std::collections::HashMap<IpAddr, usize> = std::collections::HashMap::new();
        for (i, d) in self.devices.iter().enumerate() {
            let Some(first) = d.address else { continue };
            for k in 0..d.count {
                let address = address_after(first, k).ok_or_else(|| {
                    (i, format!("device {:?}: addresses run past the last one", d.name.get_ref()))
                })?;
                if let Some(other) = taken.insert(address, i) {
                    let other = self.devices[other].name.get_ref();
                    return Err((
                        i,
                        format!(
                            "device {:?}: address {address} is already taken by {other:?}",
                            d.name.get_ref()
                        ),
                    ));
                }
            }
        }
        let mut next: u128 = 0;
        let mut out = Vec::with_capacity(self.devices.iter().map(|d| d.count).sum());
        for (i, d) in self.devices.iter().enumerate() {
            for k in 0..d.count {
                let address = match (d.address, range) {
                    (Some(first), _) => address_after(first, k),
                    (None, Some(range)) => loop {
                        let Some(candidate) = range.host(next) else {
                            return Err((
                                i,
                                format!(
                                    "device {:?}: the fleet's addresses {range} have no free \
                                     address left ({} in all)",
                                    d.name.get_ref(),
                                    range.hosts()
                                ),
                            ));
                        };
                        next += 1;
                        if !taken.contains_key(&candidate) {
                            break Some(candidate);
                        }
                    },
                    (None, None) => None,
                };
                out.push(address);
            }
        }
        Ok(out)
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
        let range = self.addresses.as_deref().and_then(|r| r.parse::<AddressRange>().ok());
        let addresses = self.addresses_of(range).map_err(|(i, message)| {
            (&self.devices[i], ConfigError::Invalid { origin: "addresses".to_string(), message })
        })?;
        let mut addresses = addresses.into_iter();
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
                    address: addresses.next().flatten(),
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
    /// Its own address (`None`: the fleet's bind address).
    pub address: Option<IpAddr>,
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
            address: None,
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
    /// Address of the devices that have none of their own, and of the control API
    /// (127.0.0.1 unless asked otherwise).
    pub bind: IpAddr,
    /// Serve the devices through sockets shared by the fleet: one per port on each of
    /// these addresses (the wildcard `0.0.0.0` for the whole fleet), each connection
    /// going to the device whose address it arrived at. Empty (the default): every
    /// device has sockets of its own on its address.
    pub shared_bind: Vec<IpAddr>,
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
            shared_bind: Vec::new(),
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
    /// Where it listens: its address and port.
    pub addr: SocketAddr,
    /// Where its SSH service listens, for personalities that have one.
    pub ssh_addr: Option<SocketAddr>,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Whether it is served through sockets shared by the fleet (routed by address)
    /// rather than sockets of its own.
    pub shared: bool,
    /// Its connection count and cap (HTTP and SSH together).
    pub gate: Gate,
}

impl RunningDevice {
    /// Its base URL, e.g. `http://127.0.0.1:40123`, or `https://127.1.0.5` on the
    /// scheme's own port (443, 80), which some clients want without a port.
    pub fn url(&self) -> String {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        if self.addr.port() == default_port {
            match self.addr.ip() {
                IpAddr::V4(ip) => format!("{}://{ip}", self.scheme),
                IpAddr::V6(ip) => format!("{}://[{ip}]", self.scheme),
            }
        } else {
            format!("{}://{}", self.scheme, self.addr)
        }
    }
}

/// What the control API and the reaper share.
#[derive(Debug)]
pub struct FleetState {
    /// The fleet's one clock.
    pub clock: Clock,
    /// The devices, in start order.
    pub devices: Vec<RunningDevice>,
    /// Device positions by name.
    by_name: HashMap<Arc<str>, usize>,
}

impl FleetState {
    /// A device by name.
    pub fn device(&self, name: &str) -> Option<&RunningDevice> {
        self.by_name.get(name).map(|i| &self.devices[*i])
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
    #[error("cannot listen on {addr} for {what}: {source}{}", bind_hint(*addr, source))]
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
    /// Two devices cannot be told apart, or a device cannot be reached, through the
    /// fleet's shared sockets.
    #[error("shared sockets: {0}")]
    Shared(String),
}

/// A hint for a bind error users can act on.
fn bind_hint(addr: SocketAddr, source: &std::io::Error) -> &'static str {
    match source.kind() {
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
            " (ports below 1024 need root or CAP_NET_BIND_SERVICE, e.g. `sudo setcap \
             cap_net_bind_service=+ep $(which sessionlab-emulator)`; or use ports above 1024)"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            " (the address is not on this machine; 127.0.0.0/8 is, on Linux)"
        }
        _ => "",
    }
}

/// The fleet's event logs together hold about this much by default (256 MiB): a
/// 1,000-device fleet under churn would otherwise keep 100,000 events (20-26 MB) each.
pub const DEFAULT_EVENT_BUDGET: usize = 256 << 20;

/// How long a stop waits for open connections by default.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);

/// A device's HTTP service, made when its first connection arrives: an idle device of a
/// large fleet holds none. The routes are its profile's, built when the first device of
/// the profile is asked and shared by every device of it ([`crate::vendors::shared`]).
struct DeviceApp {
    device: DeviceHandle,
    profile: Arc<std::sync::OnceLock<crate::vendors::http::Shared>>,
    app: std::sync::OnceLock<crate::vendors::http::App>,
}

impl MakeApp for DeviceApp {
    fn app(&self) -> crate::vendors::http::App {
        let app = self.app.get_or_init(|| {
            let shared = self.profile.get_or_init(|| crate::vendors::shared(&self.device));
            crate::vendors::app_in(shared, self.device.clone())
        });
        app.clone()
    }
}

/// The services of the shared sockets, by port, then by the devices' addresses. Port 0
/// (any) is two ports: one the OS picks for HTTP, one for SSH (the `bool`: SSH at port
/// 0); a fixed port serves whichever each address has there.
type SharedTable = std::collections::BTreeMap<(u16, bool), HashMap<IpAddr, (Service, String)>>;

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
        let shared = !config.shared_bind.is_empty();
        let mut self_signed = None;
        let mut devices = Vec::with_capacity(config.devices.len());
        let mut tasks = Vec::with_capacity(if shared { 8 } else { config.devices.len() + 2 });
        let mut table = SharedTable::new();
        let mut by_name = HashMap::with_capacity(config.devices.len());
        // The service of each profile, by the profile the devices share.
        let mut services: HashMap<*const Profile, Arc<std::sync::OnceLock<_>>> = HashMap::new();
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
            let scheme = if tls.is_some() { "https" } else { "http" };
            let address = spec.address.unwrap_or(config.bind);
            let gate = Gate::new(&spec.name, config.limits.clone());
            let http = Service::Http(HttpService {
                app: Arc::new(DeviceApp {
                    device: device.clone(),
                    profile: services.entry(Arc::as_ptr(&spec.profile)).or_default().clone(),
                    app: std::sync::OnceLock::new(),
                }),
                tls: tls.map(|t| tokio_rustls::TlsAcceptor::from(t.get_inner())),
                gate: gate.clone(),
                processes: spec.client_processes.then(ClientProcesses::new),
            });
            let ssh = crate::vendors::ssh_service(&device).map(|connect| {
                Service::Ssh(SshService { device: device.clone(), connect, gate: gate.clone() })
            });
            let (addr, ssh_addr) = if shared {
                let addr = SocketAddr::new(address, spec.port);
                share(&mut table, addr, http, &spec.name)?;
                let ssh_addr = match ssh {
                    Some(ssh) => {
                        let at = SocketAddr::new(address, spec.ssh_port);
                        share(&mut table, at, ssh, &format!("{} (SSH)", spec.name))?;
                        Some(at)
                    }
                    None => None,
                };
                (addr, ssh_addr)
            } else {
                let (listener, addr) = bind(SocketAddr::new(address, spec.port), &spec.name)?;
                tasks.push(serve(listener, Routing::One(http), config.drain, shutdown.subscribe()));
                let ssh_addr = match ssh {
                    Some(ssh) => {
                        let what = format!("{} (SSH)", spec.name);
                        let (listener, at) = bind(SocketAddr::new(address, spec.ssh_port), &what)?;
                        tasks.push(serve(
                            listener,
                            Routing::One(ssh),
                            config.drain,
                            shutdown.subscribe(),
                        ));
                        Some(at)
                    }
                    None => None,
                };
                (addr, ssh_addr)
            };
            by_name.insert(Arc::from(spec.name.as_str()), devices.len());
            devices.push(RunningDevice { device, addr, ssh_addr, scheme, shared, gate });
        }
        if shared {
            let ports = bind_shared(&config.shared_bind, table, config.drain, &shutdown)?;
            for d in &mut devices {
                d.addr.set_port(ports.resolve(d.addr.port(), false));
                if let Some(ssh) = &mut d.ssh_addr {
                    ssh.set_port(ports.resolve(ssh.port(), true));
                }
            }
            tasks.extend(ports.tasks);
        }
        let state = Arc::new(FleetState { clock: clock.clone(), devices, by_name });
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

/// Puts `service` at `addr` in the shared table; two services at one address and port
/// cannot be told apart.
fn share(
    table: &mut SharedTable,
    addr: SocketAddr,
    service: Service,
    what: &str,
) -> Result<(), StartError> {
    let any_ssh = addr.port() == 0 && matches!(service, Service::Ssh(_));
    let at = table.entry((addr.port(), any_ssh)).or_default();
    let ip = addr.ip().to_canonical();
    if let Some((_, other)) = at.get(&ip) {
        let port =
            if addr.port() == 0 { "any port (0)".to_string() } else { addr.port().to_string() };
        return Err(StartError::Shared(format!(
            "{other} and {what} are both at {ip} on {port}: a shared socket tells devices \
             apart by address, so give them addresses of their own (`address`, or the \
             fleet's `addresses`) or different ports"
        )));
    }
    at.insert(ip, (service, what.to_string()));
    Ok(())
}

/// The shared sockets once bound: the ports the OS chose for port 0 (HTTP, SSH), and
/// their tasks.
struct SharedPorts {
    any: [Option<u16>; 2],
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SharedPorts {
    fn resolve(&self, port: u16, ssh: bool) -> u16 {
        if port == 0 {
            self.any[usize::from(ssh)].unwrap_or(0)
        } else {
            port
        }
    }
}

/// Binds one socket per port of `table` on each address of `bind_to` and serves it.
/// Devices on port 0 share one port chosen by the OS at the first address.
fn bind_shared(
    bind_to: &[IpAddr],
    table: SharedTable,
    drain: Duration,
    shutdown: &watch::Sender<bool>,
) -> Result<SharedPorts, StartError> {
    let covered = |ip: &IpAddr| {
        bind_to.iter().any(|b| b.is_unspecified() && b.is_ipv4() == ip.is_ipv4() || b == ip)
            || bind_to.iter().any(|b| matches!(b, IpAddr::V6(v6) if v6.is_unspecified()))
    };
    for ((port, _), services) in &table {
        if let Some((ip, (_, what))) = services.iter().find(|(ip, _)| !covered(ip)) {
            let shown: Vec<String> = bind_to.iter().map(ToString::to_string).collect();
            return Err(StartError::Shared(format!(
                "{what} at {ip} port {port} is on none of the shared sockets' addresses ({}); \
                 bind the wildcard (0.0.0.0) or add its address",
                shown.join(", ")
            )));
        }
    }
    let mut out = SharedPorts { any: [None, None], tasks: Vec::new() };
    for ((port, any_ssh), services) in table {
        let mut services: HashMap<IpAddr, Service> =
            services.into_iter().map(|(ip, (service, _))| (ip, service)).collect();
        let mut port = port;
        for (i, ip) in bind_to.iter().enumerate() {
            let what = "shared socket".to_string();
            let (listener, bound) = bind(SocketAddr::new(*ip, port), &what)?;
            if port == 0 {
                port = bound.port();
                out.any[usize::from(any_ssh)] = Some(port);
            }
            let routing = Routing::ByAddress(if i + 1 == bind_to.len() {
                std::mem::take(&mut services)
            } else {
                services.clone()
            });
            out.tasks.push(serve(listener, routing, drain, shutdown.subscribe()));
        }
    }
    Ok(out)
}

/// Binds `addr` and returns the listener with the address it really got (port 0 resolved).
/// A port the OS picks is bound without `SO_REUSEADDR` (which std sets): with it, Linux's
/// search for a free port slows with every socket already bound (12,000 binds of port 0
/// took 5.6 s with it, 0.2 s without), and a port picked at random is never one to reuse.
fn bind(addr: SocketAddr, what: &str) -> Result<(std::net::TcpListener, SocketAddr), StartError> {
    let err = |source| StartError::Bind { addr, what: what.to_string(), source };
    let listener = if addr.port() == 0 {
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .map_err(err)?;
        socket.bind(addr).map_err(err)?;
        socket.listen(1024).map_err(err)?.into_std().map_err(err)?
    } else {
        std::net::TcpListener::bind(addr).map_err(err)?
    };
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

#[cfg(test)]
mod tests {
    use super::AddressRange;

    /// A range is normalised to its network address; devices take the addresses after
    /// it, up to the last; a /32 is its one address.
    #[test]
    fn address_ranges_hand_out_their_addresses_in_order() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("address");
        let r: AddressRange = "127.1.0.9/16".parse().expect("range");
        assert_eq!(r.to_string(), "127.1.0.0/16");
        assert_eq!(r.hosts(), 65_535);
        assert_eq!(r.host(0), Some(ip("127.1.0.1")));
        assert_eq!(r.host(65_534), Some(ip("127.1.255.255")));
        assert_eq!(r.host(65_535), None);
        assert!(r.contains(ip("127.1.2.3")) && !r.contains(ip("127.2.0.0")));
        let one: AddressRange = "127.0.0.5/32".parse().expect("range");
        assert_eq!((one.hosts(), one.host(0)), (1, Some(ip("127.0.0.5"))));
        let all: AddressRange = "127.0.0.0/8".parse().expect("range");
        assert_eq!(all.host(99_999), Some(ip("127.1.134.160")));
        assert!("::1/128".parse::<AddressRange>().is_ok());
        assert!("127.0.0.1/33".parse::<AddressRange>().unwrap_err().contains("at most 32"));
        assert!("127.0.0.1".parse::<AddressRange>().is_err());
        assert!("lo/8".parse::<AddressRange>().is_err());
    }
}
