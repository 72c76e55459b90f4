//! Benchmarks: throughput of one device, and the size and start time of a 1,000-device fleet.
//!
//! ```text
//! cargo run --release -p emulator --example bench -- all
//! cargo run --release -p emulator --example bench -- throughput --seconds 3 --rounds 3
//! cargo run --release -p emulator --example bench -- throughput --only bigip
//! cargo run --release -p emulator --example bench -- fleet --devices 1000 --sessions 10
//! ```
//!
//! Throughput measures each case (token GETs on every personality, a Basic GET, the
//! login + GET + logout cycle, a refused login) as a ratio to a bare axum route serving
//! the same bytes in the same run (see `bench/throughput.rs`), with wrk when it is
//! installed (`apt-get install wrk`) and a built-in keep-alive client otherwise. Figures
//! are printed, never asserted: tests do not time things.
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time on purpose

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use emulator::fleet::{DeviceSpec, Fleet, FleetConfig};
use emulator::profile::Profile;
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
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { what: "all".into(), seconds: 3, rounds: 3, only: None, devices: 1000, sessions: 10 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a whole number"))
        };
        match a.as_str() {
            "all" | "throughput" | "fleet" => args.what = a,
            "--seconds" => args.seconds = number("--seconds")?.max(1),
            "--rounds" => args.rounds = number("--rounds")?.max(1) as usize,
            "--only" => args.only = Some(it.next().ok_or("--only needs a case name")?),
            "--devices" => args.devices = number("--devices")? as usize,
            "--sessions" => args.sessions = number("--sessions")? as usize,
            "-h" | "--help" => {
                return Err(
                    "usage: bench [all|throughput|fleet] [--seconds N] [--rounds N] [--only CASE] \
                 [--devices N] [--sessions N]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
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
        };
        throughput::run(&options).await;
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
    let profile = Arc::new(Profile::embedded("redfish").expect("embedded profile"));
    let specs: Vec<DeviceSpec> =
        (0..args.devices).map(|i| DeviceSpec::new(&format!("bmc-{i}"), profile.clone())).collect();
    let before = rss_kib();
    let started = Instant::now();
    let fleet = Fleet::start(FleetConfig::new(specs)).await.expect("fleet starts");
    let start_time = started.elapsed();
    let account = profile.default_account();
    let now = fleet.clock().now();
    for d in fleet.devices() {
        for _ in 0..args.sessions {
            d.device
                .store
                .login(
                    &LoginRequest {
                        user: &account.user,
                        password: &account.password,
                        session_type: "redfish",
                        client: ClientInfo {
                            addr: Some("127.0.0.1".into()),
                            user_agent: Some("bench".into()),
                            process: None,
                        },
                    },
                    now,
                )
                .expect("login");
        }
    }
    // Every device must serve: one unauthenticated GET of the service root each.
    let client = reqwest::Client::new();
    let served = Arc::new(AtomicU64::new(0));
    let urls: Vec<String> =
        fleet.devices().iter().map(|d| format!("{}/redfish/v1/", d.url())).collect();
    let chunks: Vec<Vec<String>> =
        urls.chunks(urls.len().div_ceil(CONCURRENCY).max(1)).map(<[String]>::to_vec).collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let (client, served) = (client.clone(), served.clone());
        tasks.push(tokio::spawn(async move {
            for url in chunk {
                if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                    served.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let after = rss_kib();
    println!("== fleet of {} devices, {} sessions each", args.devices, args.sessions);
    println!(
        "start time (bind + serve every listener):  {:>8.0} ms",
        start_time.as_secs_f64() * 1000.0
    );
    println!("devices that answered a GET:               {:>8}", served.load(Ordering::Relaxed));
    println!("resident memory of the process:            {:>8.1} MB", after as f64 / 1024.0);
    println!(
        "  of which the fleet (after - before):     {:>8.1} MB",
        after.saturating_sub(before) as f64 / 1024.0
    );
    fleet.shutdown().await;
}
