//! `sessionlab-emulator`: serves emulated devices and the control API.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use emulator::clock::ClockMode;
use emulator::fleet::{DeviceSpec, Fleet, FleetConfig, FleetFile};
use emulator::profile::{ConfigError, Profile};
use emulator::tls::TlsSetup;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Emulates the management-session stores of BMCs, load balancers and brokers.
///
/// With no subcommand it serves a fleet on 127.0.0.1 — by default one device per
/// embedded profile — and prints a table of devices with their URLs and credentials.
/// The control API (clock, sessions, users, events, hygiene) is under /_sessionlab/.
#[derive(Parser, Debug)]
#[command(name = "sessionlab-emulator", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Fleet file (TOML) listing the devices to serve.
    #[arg(long, env = "SESSIONLAB_FLEET", conflicts_with = "profile")]
    fleet: Option<PathBuf>,
    /// Serve one device of this profile (embedded name or file); repeatable.
    #[arg(long, env = "SESSIONLAB_PROFILE", value_delimiter = ',')]
    profile: Vec<String>,
    /// Address of the control API and of every device that has no address of its own
    /// (fleet files give devices addresses). Loopback unless you mean otherwise.
    #[arg(long, env = "SESSIONLAB_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Serve the devices through sockets shared by the fleet, one per port on this
    /// address (repeatable; 0.0.0.0 is the wildcard: one socket per port for the whole
    /// fleet, however many devices), each connection going to the device whose address it
    /// arrived at; connections to other addresses are closed. Without it each device has
    /// sockets of its own. Overrides the fleet file's `shared_bind`.
    #[arg(long, env = "SESSIONLAB_SHARED_BIND", value_delimiter = ',')]
    shared_bind: Vec<IpAddr>,
    /// Port of the first device; the next ones follow it. 0 lets the OS choose.
    #[arg(long, env = "SESSIONLAB_BASE_PORT", default_value_t = 0)]
    base_port: u16,
    /// SSH port of the first device that serves SSH (iDRAC); the next ones follow it.
    /// 0 lets the OS choose.
    #[arg(long, env = "SESSIONLAB_SSH_BASE_PORT", default_value_t = 0)]
    ssh_base_port: u16,
    /// Port of the control API.
    #[arg(long, env = "SESSIONLAB_CONTROL_PORT", default_value_t = 7780)]
    control_port: u16,
    /// `virtual` (the default: time moves only through POST /_sessionlab/clock/advance)
    /// or `real`.
    #[arg(long, env = "SESSIONLAB_CLOCK")]
    clock: Option<ClockMode>,
    /// Seed that makes every token and session id reproducible.
    #[arg(long, env = "SESSIONLAB_SEED")]
    seed: Option<u64>,
    /// Serve devices over HTTPS with a self-signed certificate made at start.
    #[arg(long, env = "SESSIONLAB_TLS", value_parser = emulator::flags::boolish)]
    tls: bool,
    /// PEM certificate chain for --tls instead of a self-signed one.
    #[arg(long, env = "SESSIONLAB_CERT", requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key that goes with --cert.
    #[arg(long, env = "SESSIONLAB_KEY", requires = "cert")]
    key: Option<PathBuf>,
    /// Seconds a stop (SIGINT, SIGTERM) waits for open connections before closing them:
    /// a client holding a half-sent request cannot keep the emulator running.
    #[arg(long, env = "SESSIONLAB_DRAIN_SECS", default_value_t = 5.0, value_parser = parse_drain)]
    drain_secs: f64,
    /// Seconds a client has to send a request head (from connecting, or from the first
    /// byte of a kept-alive connection's next request); a stalled body gets as long.
    #[arg(long, env = "SESSIONLAB_HEADER_TIMEOUT_SECS", default_value_t = 20.0, value_parser = parse_timeout)]
    header_timeout_secs: f64,
    /// Seconds an idle keep-alive connection may wait for its next request.
    #[arg(long, env = "SESSIONLAB_IDLE_TIMEOUT_SECS", default_value_t = 60.0, value_parser = parse_timeout)]
    idle_timeout_secs: f64,
    /// Most connections one device holds at once (HTTP and SSH together); more are
    /// closed and logged. 0: no cap. The control API has its own count.
    #[arg(long, env = "SESSIONLAB_MAX_CONNECTIONS", default_value_t = 256)]
    max_connections: usize,
    /// Seconds an SSH connection has to log in before it is closed.
    #[arg(long, env = "SESSIONLAB_SSH_LOGIN_GRACE_SECS", default_value_t = 120.0, value_parser = parse_timeout)]
    ssh_login_grace_secs: f64,
    /// MiB that the event logs of all devices may hold together; a busy device drops
    /// its oldest events when the fleet has no room left. 0: no fleet-wide bound (each
    /// device keeps up to 100,000 events).
    #[arg(long, env = "SESSIONLAB_EVENT_BUDGET_MB", default_value_t = 256)]
    event_budget_mb: usize,
}

/// Seconds for a flag: a finite number up to `max`, above 0 unless `zero_ok`.
fn seconds(text: &str, zero_ok: bool, max: f64) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (secs > 0.0 || zero_ok && secs == 0.0) && secs <= max => {
            Ok(secs)
        }
        _ => {
            let range = if zero_ok { "from 0 to" } else { "above 0 and up to" };
            Err(format!("give seconds {range} {max}, e.g. 5 or 0.5"))
        }
    }
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    seconds(text, false, 86_400.0)
}

fn parse_drain(text: &str) -> Result<f64, String> {
    seconds(text, true, 3600.0)
}

fn parse_request_timeout(text: &str) -> Result<f64, String> {
    seconds(text, false, 3600.0)
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a profile or fleet file, or a mockup directory (DMTF format), and say
    /// what is wrong, with its file and line.
    Check {
        /// The TOML file, or the mockup directory.
        file: PathBuf,
    },
    /// Exit 0 when the control API on this machine answers (for container health checks).
    Healthcheck {
        /// Port of the control API.
        #[arg(long, env = "SESSIONLAB_CONTROL_PORT", default_value_t = 7780)]
        control_port: u16,
        /// Address the emulator binds (probed there; a wildcard address is probed on
        /// loopback).
        #[arg(long, env = "SESSIONLAB_BIND", default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
    /// List the embedded profiles.
    Profiles,
    /// Walk a live Redfish service's resource tree through one session and write it as a
    /// mockup in DMTF's format (serve it with a profile's or fleet device's `mockup`).
    ///
    /// GETs only, besides the session's own POST and DELETE; the session is deleted
    /// whatever happens, Ctrl-C included. Secret-looking values (passwords, tokens,
    /// keys) are written as null and the Sessions collection without members.
    /// Progress goes to stderr.
    Capture(CaptureArgs),
}

#[derive(clap::Args, Debug)]
struct CaptureArgs {
    /// The service's URL with its scheme, e.g. https://10.0.0.5 or http://127.0.0.1:8000.
    url: String,
    /// The user to log in as.
    #[arg(long, short = 'u', env = "SESSIONLAB_USER")]
    user: String,
    /// Its password; prefer the environment variable, which stays out of shell history.
    #[arg(long, short = 'p', env = "SESSIONLAB_PASSWORD", hide_env_values = true)]
    password: String,
    /// The directory to write (created; refused unless empty).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// Accept a TLS certificate that does not verify (a BMC's self-signed one).
    #[arg(long, env = "SESSIONLAB_INSECURE", value_parser = emulator::flags::boolish)]
    insecure: bool,
    /// Stop after this many resources (the mockup says it is truncated).
    #[arg(long, default_value_t = 20_000)]
    max_resources: usize,
    /// Seconds each request may take.
    #[arg(long, default_value_t = 30.0, value_parser = parse_request_timeout)]
    timeout: f64,
    /// Do not write headers.json beside each index.json.
    #[arg(long)]
    no_headers: bool,
    /// Print only warnings and the closing line.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check { file }) => check(&file),
        Some(Command::Profiles) => {
            print!("{}", emulator::tables::profiles());
            ExitCode::SUCCESS
        }
        Some(Command::Healthcheck { control_port, bind }) => {
            runtime().block_on(healthcheck(bind, control_port))
        }
        Some(Command::Capture(args)) => runtime().block_on(capture(args)),
        None => runtime().block_on(serve(cli.serve)),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap_or_else(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        std::process::exit(1)
    })
}

fn check(file: &std::path::Path) -> ExitCode {
    if file.is_dir() {
        return check_mockup(file);
    }
    let outcome = std::fs::read_to_string(file)
        .map_err(|source| ConfigError::Io { path: file.display().to_string(), source })
        .and_then(|text| {
            let is_fleet = toml::from_str::<toml::Table>(&text)
                .map(|t| t.contains_key("device"))
                .unwrap_or(false);
            if is_fleet {
                let (_, specs) = FleetFile::load(file)?;
                Ok(format!("fleet with {} devices", specs.len()))
            } else {
                let p = Profile::from_toml(&text, &file.display().to_string())?;
                Ok(format!(
                    "profile {:?} ({}, {} accounts)",
                    p.name,
                    p.vendor.as_str(),
                    p.accounts.len()
                ))
            }
        });
    match outcome {
        Ok(what) => {
            println!("ok: {}: {what}", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `check DIR`: every unreadable file of a mockup, named with its line.
fn check_mockup(dir: &std::path::Path) -> ExitCode {
    let (count, problems) = emulator::resources::mockup::check(dir);
    if problems.is_empty() {
        println!("ok: {}: mockup with {count} resources", dir.display());
        return ExitCode::SUCCESS;
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    ExitCode::from(2)
}

async fn capture(args: CaptureArgs) -> ExitCode {
    use emulator::resources::capture::{self, CaptureError, CaptureOptions, Progress};
    let options = CaptureOptions {
        url: args.url,
        user: args.user,
        password: args.password,
        out: args.output,
        insecure: args.insecure,
        max_resources: args.max_resources,
        timeout: std::time::Duration::from_secs_f64(args.timeout),
        headers: !args.no_headers,
    };
    // The handlers are in place before the login, so a Ctrl-C at any moment after it
    // reaches the walk, which then logs out (a default SIGINT would end the process with
    // the session open).
    let cancel = interrupted();
    let quiet = args.quiet;
    let progress = |step: Progress| match step {
        Progress::LoggedIn { session } if !quiet => eprintln!("logged in: session {session}"),
        Progress::Resource { path, done, queued } if !quiet => {
            eprintln!("[{done} read, {queued} queued] {path}")
        }
        Progress::Skipped { path, why } => eprintln!("warning: skipped {path}: {why}"),
        Progress::LoggedOut if !quiet => eprintln!("logged out"),
        _ => {}
    };
    match capture::capture(&options, progress, cancel).await {
        Ok(summary) => {
            if summary.truncated {
                eprintln!(
                    "warning: stopped at --max-resources {}; links were left unread",
                    options.max_resources
                );
            }
            println!(
                "captured {} resources into {} ({} skipped, {} secret values redacted)",
                summary.resources,
                options.out.display(),
                summary.skipped.len(),
                summary.redacted
            );
            ExitCode::SUCCESS
        }
        Err(e @ CaptureError::Interrupted(_)) => {
            eprintln!("error: {e}; the session was deleted");
            ExitCode::from(130)
        }
        Err(e @ (CaptureError::BadUrl(_) | CaptureError::Output(_))) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn healthcheck(bind: std::net::IpAddr, port: u16) -> ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A wildcard bind answers on loopback too; any other address only on itself.
    let addr = match bind {
        std::net::IpAddr::V4(a) if a.is_unspecified() => {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        }
        std::net::IpAddr::V6(a) if a.is_unspecified() => {
            std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        }
        other => other,
    };
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect((addr, port)).await?;
        stream
            .write_all(
                b"GET /_sessionlab/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer.starts_with(b"HTTP/1.1 200"))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), probe).await {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => {
            eprintln!("unhealthy: the control API on {addr} port {port} did not answer 200");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("unhealthy: control API on {addr} port {port}: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("unhealthy: control API on {addr} port {port} did not answer within 5 s");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    init_tracing();
    let config = match fleet_config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Before binding: a large fleet needs more than the common 1,024 descriptors.
    let descriptors = emulator::listener::raise_descriptor_limit();
    let fleet = match Fleet::start(config).await {
        Ok(fleet) => fleet,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_table(&fleet);
    tracing::info!(devices = fleet.devices().len(), control = %fleet.control_url(), "serving");
    match descriptors {
        Some((old, new)) if new > old => {
            tracing::info!(from = old, to = new, "raised the open-descriptor limit");
        }
        Some((_, soft)) => tracing::debug!(limit = soft, "open-descriptor limit"),
        None => {}
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    fleet.shutdown().await;
    ExitCode::SUCCESS
}

fn fleet_config(args: &ServeArgs) -> Result<FleetConfig, ConfigError> {
    let (file, mut specs) = match &args.fleet {
        Some(path) => {
            let (file, specs) = FleetFile::load(path)?;
            (Some(file), specs)
        }
        None if args.profile.is_empty() => (None, DeviceSpec::default_fleet()?),
        None => {
            let mut specs = Vec::new();
            for name in &args.profile {
                let profile = Profile::load(name)?;
                let taken =
                    specs.iter().filter(|s: &&DeviceSpec| s.profile.name == profile.name).count();
                let device = if taken == 0 {
                    profile.name.clone()
                } else {
                    format!("{}-{}", profile.name, taken + 1)
                };
                specs.push(DeviceSpec::new(&device, Arc::new(profile)));
            }
            (None, specs)
        }
    };
    if args.base_port != 0 {
        for (i, spec) in specs.iter_mut().enumerate() {
            let port = u16::try_from(usize::from(args.base_port) + i).map_err(|_| {
                ConfigError::Invalid {
                    origin: "--base-port".to_string(),
                    message: format!("{} devices do not fit above port {}", i + 1, args.base_port),
                }
            })?;
            spec.port = port;
        }
    }
    if args.ssh_base_port != 0 {
        let with_ssh = specs
            .iter_mut()
            .filter(|s| emulator::vendors::ssh_service_of(s.profile.vendor).is_some());
        for (i, spec) in with_ssh.enumerate() {
            spec.ssh_port = u16::try_from(usize::from(args.ssh_base_port) + i).map_err(|_| {
                ConfigError::Invalid {
                    origin: "--ssh-base-port".to_string(),
                    message: format!(
                        "{} devices do not fit above port {}",
                        i + 1,
                        args.ssh_base_port
                    ),
                }
            })?;
        }
    }
    let mut config = FleetConfig::new(specs);
    config.bind = args.bind;
    config.shared_bind = if args.shared_bind.is_empty() {
        file.as_ref().map(|f| f.shared_bind.clone()).unwrap_or_default()
    } else {
        args.shared_bind.clone()
    };
    config.control_port = args.control_port;
    config.clock = args.clock.or(file.as_ref().and_then(|f| f.clock)).unwrap_or(ClockMode::Virtual);
    config.seed = args.seed.or(file.as_ref().and_then(|f| f.seed));
    config.drain = std::time::Duration::from_secs_f64(args.drain_secs);
    let mut limits = emulator::listener::ConnectionLimits::default();
    limits.header_timeout = std::time::Duration::from_secs_f64(args.header_timeout_secs);
    limits.idle_timeout = std::time::Duration::from_secs_f64(args.idle_timeout_secs);
    limits.max_connections = (args.max_connections > 0).then_some(args.max_connections);
    limits.ssh_login_grace = std::time::Duration::from_secs_f64(args.ssh_login_grace_secs);
    config.limits = limits;
    config.event_budget =
        (args.event_budget_mb > 0).then(|| args.event_budget_mb.saturating_mul(1 << 20));
    config.tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(TlsSetup::Files { cert: cert.clone(), key: key.clone() }),
        _ if args.tls => Some(TlsSetup::SelfSigned),
        _ => None,
    };
    Ok(config)
}

fn print_table(fleet: &Fleet) {
    let rows: Vec<_> = fleet.devices().iter().map(emulator::tables::DeviceRow::of).collect();
    print!("{}", emulator::tables::devices(&rows));
    let mode = match fleet.clock().mode() {
        ClockMode::Virtual => "virtual (POST /_sessionlab/clock/advance moves it)",
        ClockMode::Real => "real",
    };
    println!();
    println!(
        "control API: {}/_sessionlab/  (OpenAPI: /_sessionlab/openapi.json)",
        fleet.control_url()
    );
    println!("dashboard:   {}/_sessionlab/  (open it in a browser)", fleet.control_url());
    println!("metrics:     {}/_sessionlab/metrics", fleet.control_url());
    println!("clock:       {mode}");
    if fleet.devices().first().is_some_and(|d| d.shared) {
        println!("sockets:     shared by the fleet, one per port; each connection goes to the device at its address");
    }
}

fn init_tracing() {
    use tracing_subscriber::field::MakeExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // Field values come from clients (user names, paths): control characters are escaped,
    // so a name with a newline cannot forge a log line, nor an escape sequence colour the
    // terminal.
    let fields = tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let raw = format!("{value:?}");
        let text = emulator::flags::escape_controls(&raw);
        if field.name() == "message" {
            write!(w, "{text}")
        } else {
            write!(w, "{}={text}", field.name())
        }
    })
    .delimited(" ");
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .fmt_fields(fields)
        .init();
}

/// SIGINT or SIGTERM, with the handlers installed now (not at the first poll, as
/// `tokio::signal::ctrl_c` does).
fn interrupted() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {},
                        _ = term.recv() => {},
                    }
                }
                _ => shutdown_signal().await,
            }
        }
    }
    #[cfg(not(unix))]
    shutdown_signal()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
