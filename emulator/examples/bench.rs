//! Benchmarks: throughput of one device, and the size and start time of a 1,000-device fleet.
//!
//! ```text
//! cargo run --release -p emulator --example bench -- all
//! cargo run --release -p emulator --example bench -- throughput --seconds 10
//! cargo run --release -p emulator --example bench -- fleet --devices 1000 --sessions 10
//! ```
//!
//! Throughput compares authenticated GETs on a device with a bare axum route serving the
//! same path and a body of the same size, in the same run, with `wrk -t2 -c16` when wrk is
//! installed (`apt-get install wrk`) and a built-in keep-alive client otherwise. Figures
//! are printed, never asserted: tests do not time things.
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time on purpose

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use emulator::fleet::{DeviceSpec, Fleet, FleetConfig};
use emulator::profile::Profile;
use emulator::session::{ClientInfo, LoginRequest};
use emulator::EmulatedDevice;

/// The same allocator as `sessionlab-emulator`, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PATH: &str = "/redfish/v1/SessionService";
const CONCURRENCY: usize = 16;

#[derive(Debug)]
struct Args {
    what: String,
    seconds: u64,
    devices: usize,
    sessions: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { what: "all".into(), seconds: 10, devices: 1000, sessions: 10 };
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
            "--devices" => args.devices = number("--devices")? as usize,
            "--sessions" => args.sessions = number("--sessions")? as usize,
            "-h" | "--help" => return Err(
                "usage: bench [all|throughput|fleet] [--seconds N] [--devices N] [--sessions N]"
                    .into(),
            ),
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
        throughput(&args).await;
    }
}

async fn throughput(args: &Args) {
    let mut profile = Profile::embedded("redfish").expect("embedded profile");
    profile.session.max_total = Some(100_000);
    let device = EmulatedDevice::start(profile).await.expect("device starts");
    let (user, password) = device.credentials();
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/redfish/v1/SessionService/Sessions", device.url()))
        .json(&serde_json::json!({"UserName": user, "Password": password}))
        .send()
        .await
        .expect("login");
    let token = login.headers()["x-auth-token"].to_str().unwrap().to_string();
    let device_url = format!("{}{PATH}", device.url());
    let sample = client.get(&device_url).header("X-Auth-Token", &token).send().await.unwrap();
    assert!(sample.status().is_success(), "authenticated GET answers {}", sample.status());
    let body = sample.bytes().await.unwrap();

    let bare = bare_route(body.to_vec()).await;
    let bare_url = format!("http://{bare}{PATH}");
    let tool = if which("wrk") { "wrk -t2 -c16" } else { "built-in client, 16 connections" };
    println!("== throughput ({tool}, {} s each, {} byte body)", args.seconds, body.len());
    let bare_rps = get_rate(&bare_url, None, args.seconds).await;
    println!("bare axum route GET {PATH}:        {bare_rps:>10.0} req/s");
    let device_rps = get_rate(&device_url, Some(&token), args.seconds).await;
    println!("device, X-Auth-Token GET {PATH}:   {device_rps:>10.0} req/s");
    println!(
        "ratio device / bare:                               {:>10.1} %",
        100.0 * device_rps / bare_rps
    );

    let cycles = login_cycles(&device, args.seconds).await;
    println!("login + GET + logout cycles ({CONCURRENCY} clients):     {cycles:>10.0} cycles/s");
}

/// A bare axum route serving `body` at the same path: the ceiling for this machine.
async fn bare_route(body: Vec<u8>) -> SocketAddr {
    let body = bytes_static(body);
    let app = axum::Router::new().route(
        PATH,
        axum::routing::get(move || async move {
            ([("content-type", "application/json"), ("odata-version", "4.0")], body)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn bytes_static(body: Vec<u8>) -> &'static [u8] {
    Box::leak(body.into_boxed_slice())
}

fn which(tool: &str) -> bool {
    std::process::Command::new(tool).arg("--version").output().is_ok()
}

async fn get_rate(url: &str, token: Option<&str>, seconds: u64) -> f64 {
    if which("wrk") {
        let mut cmd = tokio::process::Command::new("wrk");
        cmd.args(["-t2", "-c16", &format!("-d{seconds}s")]);
        if let Some(t) = token {
            cmd.args(["-H", &format!("X-Auth-Token: {t}")]);
        }
        let out = cmd.arg(url).output().await.expect("wrk runs");
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("Non-2xx") {
            eprintln!("warning: wrk saw non-2xx answers:\n{text}");
        }
        return text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0);
    }
    let client = reqwest::Client::new();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, count, url, token) =
            (client.clone(), count.clone(), url.to_string(), token.map(str::to_string));
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let mut req = client.get(&url);
                if let Some(t) = &token {
                    req = req.header("X-Auth-Token", t);
                }
                if let Ok(r) = req.send().await {
                    let _ = r.bytes().await;
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    count.load(Ordering::Relaxed) as f64 / seconds as f64
}

async fn login_cycles(device: &EmulatedDevice, seconds: u64) -> f64 {
    let (user, password) = device.credentials();
    let client = reqwest::Client::new();
    let count = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let base = device.url();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, count, failures, base, user, password) = (
            client.clone(),
            count.clone(),
            failures.clone(),
            base.clone(),
            user.clone(),
            password.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let ok = async {
                    let login = client
                        .post(format!("{base}/redfish/v1/SessionService/Sessions"))
                        .json(&serde_json::json!({"UserName": user, "Password": password}))
                        .send()
                        .await
                        .ok()?;
                    let token = login.headers().get("x-auth-token")?.to_str().ok()?.to_string();
                    let location = login.headers().get("location")?.to_str().ok()?.to_string();
                    let _ = login.bytes().await;
                    let get = client
                        .get(format!("{base}{PATH}"))
                        .header("X-Auth-Token", &token)
                        .send()
                        .await
                        .ok()?;
                    let _ = get.bytes().await;
                    let uri = if location.starts_with("http") {
                        location
                    } else {
                        format!("{base}{location}")
                    };
                    let out =
                        client.delete(uri).header("X-Auth-Token", &token).send().await.ok()?;
                    out.status().is_success().then_some(())
                }
                .await;
                match ok {
                    Some(()) => count.fetch_add(1, Ordering::Relaxed),
                    None => failures.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        eprintln!("warning: {failed} cycles failed");
    }
    count.load(Ordering::Relaxed) as f64 / seconds as f64
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
