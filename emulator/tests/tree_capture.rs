//! `sessionlab-emulator capture` (issue 11 item 4) against emulated devices on port 0:
//!
//! - a capture of every Redfish-family profile, served back as a mockup behind the same
//!   profile's session store, answers every captured path identically (round trip);
//! - the capture logs out: on success, on a refused walk, and on SIGINT (a subprocess
//!   interrupted mid-walk), with no session left on the device's control API;
//! - bad input gets a clear error: unreachable, wrong password, not Redfish, output
//!   directory not empty;
//! - a fleet device names a mockup relative to the fleet file, and `check` validates it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use emulator::fleet::{Fleet, FleetConfig, FleetFile};
use emulator::profile::Profile;
use emulator::resources::capture::{self, CaptureOptions, Summary};
use emulator::EmulatedDevice;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Every Redfish-family profile.
const PROFILES: [&str; 7] = ["redfish", "ilo4", "ilo5", "ilo6", "idrac8", "idrac9", "idrac10"];

/// Headers compared in the round trip (besides status and body).
const COMPARED_HEADERS: [&str; 7] =
    ["content-type", "etag", "allow", "odata-version", "link", "cache-control", "server"];

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sessionlab-capture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn options(device: &EmulatedDevice, out: &Path) -> CaptureOptions {
    let (user, password) = device.credentials();
    CaptureOptions {
        url: device.url(),
        user,
        password,
        out: out.to_path_buf(),
        insecure: false,
        max_resources: 10_000,
        timeout: Duration::from_secs(20),
        headers: true,
    }
}

/// Open sessions on the first device, as the control API reports them.
async fn open_sessions(control: &str) -> u64 {
    let devices: Value = http()
        .get(format!("{control}/_sessionlab/devices"))
        .send()
        .await
        .expect("control API")
        .json()
        .await
        .expect("JSON");
    devices["devices"][0]["sessions"]["total"].as_u64().expect("sessions.total")
}

async fn login(client: &reqwest::Client, device: &EmulatedDevice) -> (String, String) {
    let root: Value = client
        .get(format!("{}/redfish/v1/", device.url()))
        .send()
        .await
        .expect("root")
        .json()
        .await
        .expect("JSON");
    let sessions = capture::sessions_collection(&root);
    let (user, password) = device.credentials();
    let reply = client
        .post(format!("{}{sessions}", device.url()))
        .json(&json!({ "UserName": user, "Password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(reply.status(), StatusCode::CREATED);
    let token = reply.headers()["x-auth-token"].to_str().expect("token").to_string();
    (token, sessions)
}

/// The URI of every `index.json` of a capture: its `@odata.id`, or its directory.
fn captured_uris(dir: &Path) -> Vec<String> {
    fn visit(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let index = dir.join("index.json");
        if index.is_file() {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&index).expect("read"))
                .expect("JSON");
            out.push(doc["@odata.id"].as_str().map_or_else(|| rel.to_string(), str::to_string));
        }
        let mut children: Vec<_> =
            std::fs::read_dir(dir).expect("dir").filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children.into_iter().filter(|c| c.is_dir()) {
            let name = child.file_name().expect("name").to_string_lossy().into_owned();
            visit(&child, &format!("{rel}/{name}"), out);
        }
    }
    let mut out = Vec::new();
    visit(dir, "", &mut out);
    out
}

struct Answer {
    status: StatusCode,
    headers: BTreeMap<&'static str, String>,
    body: Value,
}

async fn answer(client: &reqwest::Client, base: &str, uri: &str, token: &str) -> Answer {
    let reply =
        client.get(format!("{base}{uri}")).header("X-Auth-Token", token).send().await.expect("GET");
    let status = reply.status();
    let headers = COMPARED_HEADERS
        .iter()
        .filter_map(|h| reply.headers().get(*h).map(|v| (*h, v.to_str().unwrap_or("").to_string())))
        .collect();
    let body = reply.json().await.unwrap_or(Value::Null);
    Answer { status, headers, body }
}

async fn capture_of(device: &EmulatedDevice, out: &Path) -> Summary {
    capture::capture(&options(device, out), |_| {}, std::future::pending()).await.expect("capture")
}

/// issue 11 Tests: a capture of an emulated device served back as a mockup answers every
/// captured path identically — status, body, ETag, Allow, Link and the other resource
/// headers. Documented exception: the Sessions collection (and its members), which both
/// devices serve live, each listing its own reader's session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_round_trips_every_redfish_profile() {
    let client = http();
    let mut figures = Vec::new();
    for name in PROFILES {
        let original =
            EmulatedDevice::start_with(Profile::embedded(name).expect("profile"), Some(11))
                .await
                .expect("device");
        let dir = scratch(&format!("round-{name}"));
        let summary = capture_of(&original, &dir).await;
        // The iLO personalities link the schema and registry files HPE serves
        // (`Location[].Uri`) without serving them: a known gap, not a capture problem.
        let dangling: Vec<_> = summary
            .skipped
            .iter()
            .filter(|(path, _)| {
                !path.starts_with("/redfish/v1/SchemaStore/")
                    && !path.starts_with("/redfish/v1/RegistryStore/")
            })
            .collect();
        assert!(dangling.is_empty(), "{name}: dangling links {dangling:?}");
        assert!(!summary.truncated, "{name}");
        assert_eq!(open_sessions(&original.control()).await, 0, "{name}: the capture logged out");
        let (count, problems) = emulator::resources::mockup::check(&dir);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        assert_eq!(count, summary.resources, "{name}");

        let mut profile = Profile::embedded(name).expect("profile");
        profile.tree.as_mut().expect("a Redfish-family tree").mockup = Some(dir.clone());
        let replay = EmulatedDevice::start_with(profile, Some(11)).await.expect("mockup device");

        // Both clocks are virtual and still: one advance makes them show the same time
        // (service roots and managers show it).
        let behind = replay.clock().now().utc - original.clock().now().utc;
        original.advance(behind.to_std().expect("the replay started later")).expect("advance");
        let (token_a, sessions) = login(&client, &original).await;
        let (token_b, _) = login(&client, &replay).await;
        let sessions = sessions.trim_end_matches('/').to_string();
        let uris = captured_uris(&dir);
        assert_eq!(uris.len(), summary.resources + 1, "{name}: and /redfish");
        let mut compared = 0;
        for uri in &uris {
            if uri.trim_end_matches('/') == sessions {
                continue;
            }
            let a = answer(&client, &original.url(), uri, &token_a).await;
            let b = answer(&client, &replay.url(), uri, &token_b).await;
            assert_eq!(a.status, StatusCode::OK, "{name} {uri}");
            assert_eq!(a.status, b.status, "{name} {uri}");
            assert_eq!(a.body, b.body, "{name} {uri}: body");
            assert_eq!(a.headers, b.headers, "{name} {uri}: headers");
            compared += 1;
        }
        figures.push(format!("{name}: {} resources, {compared} compared", summary.resources));
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("{}", figures.join("\n"));
}

/// The capture writes the DMTF tall form with headers.json, leaves out the sessions
/// (the Sessions collection has no members) and writes the accounts' passwords as null.
#[tokio::test]
async fn capture_writes_the_tall_form_without_sessions_or_secrets() {
    let device =
        EmulatedDevice::start(Profile::embedded("ilo5").expect("profile")).await.expect("device");
    let dir = scratch("tall");
    let summary = capture_of(&device, &dir).await;
    assert!(dir.join("redfish/index.json").is_file());
    assert!(dir.join("redfish/v1/index.json").is_file());
    let headers: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("redfish/v1/Systems/1/headers.json")).expect("headers"),
    )
    .expect("JSON");
    assert!(headers["GET"]["etag"].is_string(), "{headers}");
    assert!(headers["GET"].get("date").is_none() && headers["GET"].get("x-auth-token").is_none());
    let sessions: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("redfish/v1/SessionService/Sessions/index.json"))
            .expect("sessions"),
    )
    .expect("JSON");
    assert_eq!(sessions["Members"], json!([]));
    assert_eq!(sessions["Members@odata.count"], 0);
    assert!(!sessions.to_string().contains("Administrator0"), "no link to the own session");
    let session_dirs = std::fs::read_dir(dir.join("redfish/v1/SessionService/Sessions"))
        .expect("dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count();
    assert_eq!(session_dirs, 0, "no session resource is written");
    let account: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("redfish/v1/AccountService/Accounts/Administrator/index.json"),
        )
        .expect("account"),
    )
    .expect("JSON");
    assert_eq!(account["Password"], Value::Null);
    assert!(summary.redacted >= 1);
    let readme = std::fs::read_to_string(dir.join("README")).expect("README");
    assert!(readme.contains("sessionlab-emulator capture") && !readme.contains("sessionlab\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Over HTTPS a self-signed certificate is refused with a hint at `--insecure`, which
/// then captures; neither attempt leaves a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_over_tls_needs_insecure_for_a_self_signed_certificate() {
    let mut start = EmulatedDevice::options(Profile::embedded("ilo6").expect("profile"));
    start.tls = true;
    let device = start.start().await.expect("device");
    let dir = scratch("tls");
    let mut strict = options(&device, &dir);
    let refused = capture::capture(&strict, |_| {}, std::future::pending())
        .await
        .expect_err("an unverified certificate is refused");
    assert!(refused.to_string().contains("--insecure"), "{refused}");
    strict.insecure = true;
    let _ = std::fs::remove_dir_all(&dir);
    let summary = capture::capture(&strict, |_| {}, std::future::pending()).await.expect("capture");
    assert!(summary.resources > 30, "{summary:?}");
    assert_eq!(open_sessions(&device.control()).await, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TCP proxy to `target` that holds the first authenticated GET forever (the walk
/// hangs there) and forwards everything else.
async fn stalling_proxy(target: std::net::SocketAddr) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stalled = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let stalled = stalled.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let Ok(server) = tokio::net::TcpStream::connect(target).await else { return };
                let (mut server_read, mut server_write) = server.into_split();
                let (mut client_read, mut client_write) = client.split();
                let down = async {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                };
                let up = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let text = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                        if text.starts_with("get ")
                            && text.contains("x-auth-token")
                            && !stalled.swap(true, Ordering::SeqCst)
                        {
                            std::future::pending::<()>().await;
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                tokio::join!(down, up);
            });
        }
    });
    addr
}

/// The capture logs out on Ctrl-C: a subprocess interrupted with SIGINT while its walk
/// waits on the device exits 130 and leaves no session (control API).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_logs_out_on_ctrl_c() {
    use tokio::io::AsyncBufReadExt;
    let device =
        EmulatedDevice::start(Profile::embedded("idrac9").expect("profile")).await.expect("device");
    let target: std::net::SocketAddr =
        device.url().trim_start_matches("http://").parse().expect("address");
    let proxy = stalling_proxy(target).await;
    let dir = scratch("sigint");
    let (user, password) = device.credentials();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sessionlab-emulator"))
        .args(["capture", &format!("http://{proxy}"), "--user", &user, "-o"])
        .arg(&dir)
        .env("SESSIONLAB_PASSWORD", &password)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("capture starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the capture logs in")
            .expect("stderr")
            .unwrap_or_else(|| panic!("the capture ended early: {seen:?}"));
        let logged_in = line.starts_with("logged in");
        seen.push(line);
        if logged_in {
            break;
        }
    }
    assert_eq!(open_sessions(&device.control()).await, 1, "the capture's session is open");
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the capture ends")
        .expect("status");
    while let Ok(Some(line)) = lines.next_line().await {
        seen.push(line);
    }
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    assert!(seen.iter().any(|l| l.contains("interrupted")), "{seen:#?}");
    assert!(!seen.iter().any(|l| l.contains(&password)), "no secret in the output");
    assert_eq!(open_sessions(&device.control()).await, 0, "logged out: {seen:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn run_capture(args: &[&str], password: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sessionlab-emulator"))
        .arg("capture")
        .args(args)
        .env("SESSIONLAB_PASSWORD", password)
        .output()
        .expect("runs")
}

/// Clear errors for an unreachable URL, a refused login, a service that is not Redfish,
/// an output directory in use, and a URL without its scheme; none leaves a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_errors_are_clear() {
    let device = EmulatedDevice::start(Profile::embedded("redfish").expect("profile"))
        .await
        .expect("device");
    let (user, password) = device.credentials();
    let dir = scratch("errors");
    let out = dir.to_str().expect("utf-8").to_string();
    let free =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let cases: Vec<(Vec<String>, &str, i32, &str)> = vec![
        (
            vec![format!("http://{free}"), "-u".into(), user.clone(), "-o".into(), out.clone()],
            password.as_str(),
            1,
            "cannot reach",
        ),
        (
            vec![device.url(), "-u".into(), user.clone(), "-o".into(), out.clone()],
            "wrong",
            1,
            "login as \"admin\" refused: HTTP 401",
        ),
        (
            vec![device.control(), "-u".into(), user.clone(), "-o".into(), out.clone()],
            password.as_str(),
            1,
            "does not look like a Redfish service",
        ),
        (
            vec!["127.0.0.1:1".into(), "-u".into(), user.clone(), "-o".into(), out.clone()],
            password.as_str(),
            2,
            "with its scheme",
        ),
    ];
    for (args, secret, code, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = tokio::task::spawn_blocking({
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let secret = secret.to_string();
            move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_capture(&args, &secret)
            }
        })
        .await
        .expect("join");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains(secret), "{stderr}");
        assert!(!dir.exists(), "{args:?}: no empty directory is left behind");
    }
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("keep"), "x").expect("write");
    let output = tokio::task::spawn_blocking({
        let (url, user, out, password) =
            (device.url(), user.clone(), out.clone(), password.clone());
        move || run_capture(&[&url, "-u", &user, "-o", &out], &password)
    })
    .await
    .expect("join");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));
    assert_eq!(open_sessions(&device.control()).await, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fleet device names a mockup relative to the fleet file: `check` validates it (a
/// malformed file named with its line, a profile without a tree refused) and the fleet
/// serves it behind the profile's sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_device_serves_a_mockup_beside_the_fleet_file() {
    let source =
        EmulatedDevice::start(Profile::embedded("idrac9").expect("profile")).await.expect("device");
    let dir = scratch("fleet");
    capture_of(&source, &dir.join("captures/r740")).await;
    let fleet = dir.join("fleet.toml");
    std::fs::write(
        &fleet,
        "[[device]]\nname = \"lab-r740\"\nprofile = \"idrac9\"\nmockup = \"captures/r740\"\n",
    )
    .expect("write");
    let check = |file: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sessionlab-emulator"))
            .arg("check")
            .arg(file)
            .output()
            .expect("runs")
    };
    let ok = check(&fleet);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    let (_, specs) = FleetFile::load(&fleet).expect("fleet loads");
    let running = Fleet::start(FleetConfig::new(specs)).await.expect("fleet starts");
    let url = running.devices()[0].url();
    let client = http();
    let system = format!("{url}/redfish/v1/Systems/System.Embedded.1");
    assert_eq!(client.get(&system).send().await.expect("GET").status(), StatusCode::UNAUTHORIZED);
    let served = client.get(&system).basic_auth("root", Some("calvin")).send().await.expect("GET");
    assert_eq!(served.status(), StatusCode::OK);
    let captured: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("captures/r740/redfish/v1/Systems/System.Embedded.1/index.json"),
        )
        .expect("captured"),
    )
    .expect("JSON");
    assert_eq!(served.json::<Value>().await.expect("JSON"), captured);
    drop(running);

    std::fs::write(
        dir.join("captures/r740/redfish/v1/Systems/index.json"),
        "{\n  \"Members\": [\n",
    )
    .expect("write");
    let bad = check(&fleet);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("fleet.toml, line 3") && stderr.contains("lab-r740"), "{stderr}");
    assert!(stderr.contains("Systems/index.json: line 3"), "{stderr}");

    std::fs::write(
        &fleet,
        "[[device]]\nname = \"lb\"\nprofile = \"bigip17\"\nmockup = \"captures/r740\"\n",
    )
    .expect("write");
    let refused = check(&fleet);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no resource tree"));
    let _ = std::fs::remove_dir_all(&dir);
}
