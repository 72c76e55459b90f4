//! Benchmarks: throughput of one device, and the size and start time of a mixed fleet.
//!
//! ```text
//! cargo run --release -p emulator --example bench -- all
//! cargo run --release -p emulator --example bench -- throughput --seconds 3 --rounds 3
//! cargo run --release -p emulator --example bench -- throughput --only bigip
//! cargo run --release -p emulator --example bench -- fleet --devices 10000 --sessions 10
//! cargo run --release -p emulator --example bench -- cpu --requests 200000
//! # 100,000 devices at 127.1.0.1.. on one shared socket per port; the wildcard is bound,
//! # so run it where only loopback is up (a network namespace of its own, as root):
//! unshare -n sh -c 'ip link set lo up; target/release/examples/bench fleet \
//!     --devices 100000 --addresses 127.0.0.0/8 --shared-bind 0.0.0.0'
//! ```
//!
//! The fleet mixes the profiles of `--profiles` (default: redfish, ilo5, idrac9, bigip17,
//! solace-software-100) in turn. It prints the start time, the resident memory idle, with
//! `--sessions` sessions on every device, and after an authenticated GET to the last
//! device (over HTTP: login, GET, logout), the size of an event, and with `--touch-all`
//! the memory once every device has answered a GET (every router built).
//!
//! Throughput measures each case (token GETs on every personality, a Basic GET, the
//! login + GET + logout cycle, a refused login) as a ratio to a bare axum route serving
//! the same bytes in the same run (see `bench/throughput.rs`), with wrk when it is
//! installed (`apt-get install wrk`) and a built-in keep-alive client otherwise. Figures
//! are printed, never asserted: tests do not time things.
//!
//! `cpu` (not part of `all`) calls each case's device service in process, without sockets:
//! µs of CPU per request on one worker, on two workers sharing the device, and on two
//! workers with a device each (what sharing one device between cores costs). With
//! `--one-worker` it measures the first alone, answered in the measuring task: the
//! figure to count instructions of under callgrind when two builds are close.
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time on purpose

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use emulator::fleet::{AddressRange, DeviceSpec, Fleet, FleetConfig, RunningDevice};
use emulator::profile::{Profile, Vendor};
use emulator::session::{ClientInfo, LoginRequest};

#[path = "bench/throughput.rs"]
mod throughput;

/// The same allocator as `sessionlab-emulator`, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONCURRENCY: usize = 16;

#[derive(Debug)]
struct Args {
    what: String,
    /// Seconds per throughput measurement.
    seconds: u64,
    /// Throughput rounds (bare and device alternated).
    rounds: usize,
    /// Only the throughput cases whose name contains this.
    only: Option<String>,
    devices: usize,
    sessions: usize,
    profiles: Vec<String>,
    addresses: Option<String>,
    shared_bind: Vec<std::net::IpAddr>,
    touch_all: bool,
    /// Requests per figure of `cpu`.
    requests: u32,
    /// `cpu` measures one column only: requests answered in the measuring task.
    one_worker: bool,
}

const USAGE: &str = "usage: bench [all|throughput|fleet|cpu] [--seconds N] [--rounds N] \
    [--only CASE] [--requests N] [--one-worker] [--devices N] [--sessions N] [--profiles a,b,..] [--addresses CIDR] [--shared-bind ADDR] [--touch-all]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        what: "all".into(),
        seconds: 3,
        rounds: 3,
        only: None,
        devices: 1000,
        sessions: 10,
        profiles: ["redfish", "ilo5", "idrac9", "bigip17", "solace-software-100"]
            .map(String::from)
            .to_vec(),
        addresses: None,
        shared_bind: Vec::new(),
        touch_all: false,
        requests: 200_000,
        one_worker: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a whole number"))
        };
        match a.as_str() {
            "all" | "throughput" | "fleet" | "cpu" => args.what = a,
            "--requests" => {
                let n = number("--requests")?.clamp(1_000, u64::from(u32::MAX));
                args.requests = u32::try_from(n).unwrap_or(u32::MAX);
            }
            "--seconds" => args.seconds = number("--seconds")?.max(1),
            "--rounds" => args.rounds = number("--rounds")?.max(1) as usize,
            "--only" => args.only = Some(it.next().ok_or("--only needs a case name")?),
            "--devices" => args.devices = number("--devices")? as usize,
            "--sessions" => args.sessions = number("--sessions")? as usize,
            "--profiles" => {
                let list = it.next().ok_or("--profiles needs names, e.g. redfish,ilo5")?;
                args.profiles = list.split(',').map(str::to_string).collect();
            }
            "--addresses" => {
                args.addresses = Some(it.next().ok_or("--addresses needs a range")?);
            }
            "--shared-bind" => {
                let a = it.next().ok_or("--shared-bind needs an address")?;
                args.shared_bind.push(a.parse().map_err(|_| format!("{a:?} is no address"))?);
            }
            "--touch-all" => args.touch_all = true,
            "--one-worker" => args.one_worker = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if let Some(only) = &args.only {
        if !throughput::case_names().any(|name| name.contains(only.as_str())) {
            let names: Vec<&str> = throughput::case_names().collect();
            return Err(format!(
                "--only {only:?} is part of no case's name; the cases:\n  {}",
                names.join("\n  ")
            ));
        }
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if args.what == "fleet" || args.what == "all" {
        fleet(&args).await;
    }
    if args.what == "throughput" || args.what == "all" {
        let options = throughput::Options {
            seconds: args.seconds,
            rounds: args.rounds,
            only: args.only.clone(),
            one_worker: false,
        };
        throughput::run(&options).await;
    }
    if args.what == "cpu" {
        let options = throughput::Options {
            seconds: args.seconds,
            rounds: args.rounds,
            only: args.only.clone(),
            one_worker: args.one_worker,
        };
        throughput::cpu(&options, args.requests).await;
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn fleet(args: &Args) {
    emulator::listener::raise_descriptor_limit();
    let range: Option<AddressRange> = args.addresses.as_deref().map(|r| {
        r.parse().unwrap_or_else(|e| {
            eprintln!("--addresses: {e}");
            std::process::exit(2)
        })
    });
    let profiles: Vec<Arc<Profile>> = args
        .profiles
        .iter()
        .map(|name| {
            Arc::new(Profile::load(name).unwrap_or_else(|e| {
                eprintln!("--profiles: {e}");
                std::process::exit(2)
            }))
        })
        .collect();
    let before = rss_kib();
    let started = Instant::now();
    let specs: Vec<DeviceSpec> = (0..args.devices)
        .map(|i| {
            let profile = &profiles[i % profiles.len()];
            let mut spec = DeviceSpec::new(&format!("{}-{i}", profile.name), profile.clone());
            spec.address = range.and_then(|r| r.host(i as u128));
            spec
        })
        .collect();
    let mut config = FleetConfig::new(specs);
    config.shared_bind = args.shared_bind.clone();
    let fleet = Fleet::start(config).await.unwrap_or_else(|e| {
        eprintln!("the fleet does not start: {e}");
        std::process::exit(1)
    });
    let start_time = started.elapsed();
    let idle = rss_kib();
    let sockets = if args.shared_bind.is_empty() {
        "a socket of its own per device (and per SSH service)"
    } else {
        "one shared socket per port"
    };
    println!("== fleet of {} devices ({}), {sockets}", args.devices, args.profiles.join(", "));
    println!("start time (devices + bind + serve):        {:>8.0} ms", ms(start_time));
    println!(
        "resident memory idle (fleet only):          {:>8.1} MiB  ({:.1} KiB per device)",
        mib(idle.saturating_sub(before)),
        idle.saturating_sub(before) as f64 / args.devices.max(1) as f64
    );

    // Sessions on every device, through the engine.
    let now = fleet.clock().now();
    let mut opened = 0usize;
    for d in fleet.devices() {
        let account = d.device.profile().default_account();
        let session_type = emulator::vendors::wire_session_types(d.device.profile().vendor)[0];
        for _ in 0..args.sessions {
            let login = d.device.store.login(
                &LoginRequest {
                    user: &account.user,
                    password: &account.password,
                    session_type,
                    client: ClientInfo {
                        addr: Some("127.0.0.1".into()),
                        user_agent: Some("bench".into()),
                        process: None,
                    },
                },
                now,
            );
            opened += usize::from(login.is_ok());
        }
    }
    let with_sessions = rss_kib();
    println!(
        "with {opened} sessions:                       {:>8.1} MiB  ({:.0} bytes per session, events included)",
        mib(with_sessions.saturating_sub(before)),
        (with_sessions.saturating_sub(idle) * 1024) as f64 / opened.max(1) as f64
    );
    let (events, bytes) = fleet.devices().iter().fold((0usize, 0usize), |(n, b), d| {
        let m = d.device.store.events_memory();
        (n + m.kept, b + m.bytes)
    });
    println!(
        "events logged: {events}, {:.0} bytes each (size_of Event {} bytes)",
        bytes as f64 / events.max(1) as f64,
        std::mem::size_of::<emulator::session::Event>()
    );

    // An authenticated GET to the last device: login, GET, logout over the wire.
    let last = fleet.devices().last().expect("a device");
    let client =
        reqwest::Client::builder().danger_accept_invalid_certs(true).build().expect("client");
    let asked = Instant::now();
    let answer = authenticated_get(&client, last).await;
    println!(
        "authenticated GET to the last device {} ({}):  {answer} in {:.1} ms",
        last.device.name(),
        last.url(),
        ms(asked.elapsed())
    );
    let after_get = rss_kib();
    println!(
        "resident memory after it:                   {:>8.1} MiB",
        mib(after_get.saturating_sub(before))
    );

    if args.touch_all {
        // No idle connections kept: 100,000 of them would hold as many descriptors.
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        let served = Arc::new(AtomicU64::new(0));
        let urls: Vec<String> = fleet.devices().iter().map(|d| d.url()).collect();
        let chunks: Vec<Vec<String>> =
            urls.chunks(urls.len().div_ceil(CONCURRENCY).max(1)).map(<[String]>::to_vec).collect();
        let touched = Instant::now();
        let mut tasks = Vec::new();
        for chunk in chunks {
            let (client, served) = (client.clone(), served.clone());
            tasks.push(tokio::spawn(async move {
                for url in chunk {
                    if client.get(&url).send().await.is_ok_and(|r| r.status().as_u16() < 500) {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let touched_rss = rss_kib();
        println!(
            "every device answered a GET ({} of them, {:.0} ms): {:>8.1} MiB  ({:.1} KiB per device)",
            served.load(Ordering::Relaxed),
            ms(touched.elapsed()),
            mib(touched_rss.saturating_sub(before)),
            touched_rss.saturating_sub(before) as f64 / args.devices.max(1) as f64
        );
    }
    fleet.shutdown().await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Logs in on the device in its own wire protocol, GETs a resource with the session, and
/// logs out; the status of the GET, or what failed.
async fn authenticated_get(client: &reqwest::Client, d: &RunningDevice) -> String {
    let account = d.device.profile().default_account();
    let base = d.url();
    let (user, password) = (account.user.as_str(), account.password.as_str());
    let result: Result<u16, String> = async {
        match d.device.profile().vendor {
            Vendor::Bigip => {
                let login = client
                    .post(format!("{base}/mgmt/shared/authn/login"))
                    .json(&serde_json::json!({"username": user, "password": password, "loginProviderName": "tmos"}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let body: serde_json::Value = login.json().await.map_err(|e| e.to_string())?;
                let token = body["token"]["token"].as_str().ok_or("no token")?.to_string();
                let get = client
                    .get(format!("{base}/mgmt/tm/sys/version"))
                    .header("X-F5-Auth-Token", &token)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = get.status().as_u16();
                let _ = client
                    .delete(format!("{base}/mgmt/shared/authz/tokens/{token}"))
                    .header("X-F5-Auth-Token", &token)
                    .send()
                    .await;
                Ok(status)
            }
            Vendor::Solace => {
                let get = client
                    .get(format!("{base}/SEMP/v2/monitor/sessions"))
                    .basic_auth(user, Some(password))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(get.status().as_u16())
            }
            Vendor::Redfish | Vendor::Ilo | Vendor::Idrac => {
                let login = client
                    .post(format!("{base}/redfish/v1/SessionService/Sessions"))
                    .json(&serde_json::json!({"UserName": user, "Password": password}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let token = login
                    .headers()
                    .get("x-auth-token")
                    .and_then(|t| t.to_str().ok())
                    .ok_or_else(|| format!("login answered {}", login.status()))?
                    .to_string();
                let location = login
                    .headers()
                    .get("location")
                    .and_then(|t| t.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let get = client
                    .get(format!("{base}/redfish/v1/Systems"))
                    .header("X-Auth-Token", &token)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = get.status().as_u16();
                let uri =
                    if location.starts_with("http") { location } else { format!("{base}{location}") };
                let _ = client.delete(uri).header("X-Auth-Token", &token).send().await;
                Ok(status)
            }
        }
    }
    .await;
    match result {
        Ok(status) => format!("HTTP {status}"),
        Err(e) => format!("failed: {e}"),
    }
}
