//! Issue 15: a fleet at its devices' own loopback addresses, served through sockets the
//! fleet shares (one per port), each connection going to the device whose address it
//! arrived at. Linux routes all of 127.0.0.0/8 to `lo`, so 127.77.0.x needs no setup.
//!
//! The shared sockets here bind the devices' addresses (and one address no device has),
//! never the wildcard: tests listen on loopback only. The routing is the same code a
//! wildcard socket runs.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use emulator::fleet::{DeviceSpec, Fleet, FleetConfig, StartError};
use emulator::profile::Profile;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Bound on any one network wait.
const PATIENCE: Duration = Duration::from_secs(30);

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 77, 0, last))
}

fn spec(name: &str, profile: &str, last: u8) -> DeviceSpec {
    let mut spec = DeviceSpec::new(name, Arc::new(Profile::embedded(profile).expect("profile")));
    spec.address = Some(ip(last));
    spec
}

/// Two Redfish devices and an iDRAC at 127.77.0.1-3, sharing sockets bound to their
/// addresses and to 127.77.0.9, where no device is.
async fn fleet() -> Fleet {
    let specs = vec![spec("a", "redfish", 1), spec("b", "redfish", 2), spec("c", "idrac9", 3)];
    let mut config = FleetConfig::new(specs);
    config.shared_bind = vec![ip(1), ip(2), ip(3), ip(9)];
    Fleet::start(config).await.expect("fleet starts")
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let answer = client
        .post(format!("{base}/redfish/v1/SessionService/Sessions"))
        .json(&serde_json::json!({"UserName": "admin", "Password": "sessionlab"}))
        .send()
        .await
        .expect("login answers");
    assert_eq!(answer.status(), 201, "login on {base}");
    answer.headers()["x-auth-token"].to_str().expect("token").to_string()
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> u16 {
    client.get(url).header("X-Auth-Token", token).send().await.expect("answers").status().as_u16()
}

/// Each device answers at its own address on the one shared port, with its own sessions:
/// a token made on one device is unknown on the other.
#[tokio::test]
async fn devices_on_one_shared_port_answer_their_own_sessions() {
    let fleet = fleet().await;
    let [a, b, c] = fleet.devices() else { panic!("three devices") };
    assert_eq!(a.addr, SocketAddr::new(ip(1), a.addr.port()));
    assert_eq!(a.addr.port(), b.addr.port(), "one shared port for HTTP");
    assert_eq!(b.addr.port(), c.addr.port());
    assert!(a.shared && b.shared && c.shared);
    let account = a.device.profile().default_account();
    assert_eq!((account.user.as_str(), account.password.as_str()), ("admin", "sessionlab"));

    let client = reqwest::Client::new();
    let token = login(&client, &a.url()).await;
    let service = "/redfish/v1/SessionService";
    assert_eq!(get(&client, &format!("{}{service}", a.url()), &token).await, 200);
    assert_eq!(get(&client, &format!("{}{service}", b.url()), &token).await, 401);
    let now = fleet.clock().now();
    assert_eq!(a.device.store.counts(now).total, 1);
    assert_eq!(b.device.store.counts(now).total, 0);

    let other = login(&client, &b.url()).await;
    assert_ne!(token, other);
    assert_eq!(get(&client, &format!("{}{service}", b.url()), &other).await, 200);
    assert_eq!(get(&client, &format!("{}{service}", a.url()), &other).await, 401);
}

/// A connection to an address no device has is closed without an answer, and the
/// shared socket goes on serving the others.
#[tokio::test]
async fn a_connection_to_an_address_without_a_device_is_closed() {
    let fleet = fleet().await;
    let port = fleet.devices()[0].addr.port();
    let mut stray = tokio::net::TcpStream::connect((ip(9), port)).await.expect("connects");
    let _ = stray.write_all(b"GET /redfish/v1/ HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stray.read_to_end(&mut answer)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "closed without an answer: {:?}",
        String::from_utf8_lossy(&answer)
    );
    let root = reqwest::get(format!("{}/redfish/v1/", fleet.devices()[1].url())).await.unwrap();
    assert_eq!(root.status(), 200);
}

/// The control API shows each device's address and how it is served.
#[tokio::test]
async fn the_control_api_shows_addresses() {
    let fleet = fleet().await;
    let list: serde_json::Value =
        reqwest::get(format!("{}/_sessionlab/devices", fleet.control_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let devices = list["devices"].as_array().expect("devices");
    let shown: Vec<(&str, &str, &str)> = devices
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap(),
                d["address"].as_str().unwrap(),
                d["sockets"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("a", "127.77.0.1", "shared"),
            ("b", "127.77.0.2", "shared"),
            ("c", "127.77.0.3", "shared")
        ]
    );
    let port = fleet.devices()[0].addr.port();
    assert_eq!(devices[1]["url"], format!("http://127.77.0.2:{port}"));
    let ssh = fleet.devices()[2].ssh_addr.expect("the iDRAC serves SSH");
    assert_eq!(devices[2]["ssh"], ssh.to_string());
    let one: serde_json::Value =
        reqwest::get(format!("{}/_sessionlab/devices/c", fleet.control_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(one["address"], "127.77.0.3");
}

/// SSH is routed the same way: two iDRACs share one SSH port, and a racadm login over
/// SSH opens its session on the device at the address the client dialled, not the other.
#[tokio::test]
async fn ssh_on_one_shared_port_reaches_the_device_at_its_address() {
    let have = |p: &str| std::process::Command::new(p).arg("-V").output().is_ok();
    if !(have("ssh") && have("sshpass")) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "ssh and sshpass are missing in CI");
        eprintln!("SKIP: needs ssh and sshpass (apt-get install -y openssh-client sshpass)");
        return;
    }
    let specs = vec![spec("x", "idrac9", 11), spec("y", "idrac9", 12)];
    let mut config = FleetConfig::new(specs);
    config.shared_bind = vec![ip(11), ip(12)];
    let fleet = Fleet::start(config).await.expect("fleet starts");
    let [x, y] = fleet.devices() else { panic!("two devices") };
    let (xs, ys) = (x.ssh_addr.expect("ssh"), y.ssh_addr.expect("ssh"));
    assert_eq!(xs.port(), ys.port(), "one shared SSH port");
    assert_ne!(xs.port(), x.addr.port(), "SSH and HTTP on ports of their own");
    let account = y.device.profile().default_account().clone();
    let out = tokio::process::Command::new("sshpass")
        .args(["-p", &account.password, "ssh", "-F", "/dev/null"])
        .args(["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
        .args(["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"])
        .args(["-o", "PreferredAuthentications=password,keyboard-interactive"])
        .args(["-p", &ys.port().to_string(), &format!("{}@{}", account.user, ys.ip())])
        .arg("racadm getssninfo")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PATIENCE, out).await.expect("in time").expect("ssh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("SSH"), "y lists the SSH session it holds: {stdout}");
    let now = fleet.clock().now();
    let ssh_logins = |d: &emulator::fleet::RunningDevice| {
        d.device.store.events(now).iter().filter(|e| e.session_type == "ssh").count()
    };
    assert!(ssh_logins(y) >= 1, "y logged the SSH session");
    assert_eq!(ssh_logins(x), 0, "x saw nothing");
}

/// Devices at addresses of their own can also have sockets of their own (the default),
/// and a device on the scheme's own port shows a URL without it.
#[tokio::test]
async fn devices_at_addresses_can_have_sockets_of_their_own() {
    let fleet = Fleet::start(FleetConfig::new(vec![spec("own", "redfish", 21)]))
        .await
        .expect("fleet starts");
    let d = &fleet.devices()[0];
    assert!(!d.shared);
    assert_eq!(d.addr.ip(), ip(21));
    assert!(d.url().starts_with("http://127.77.0.21:"), "{}", d.url());
    let root = reqwest::get(format!("{}/redfish/v1/", d.url())).await.unwrap();
    assert_eq!(root.status(), 200);
}

/// Two devices a shared socket cannot tell apart, or a device at an address no shared
/// socket covers, are refused at start with a message that says what to do.
#[tokio::test]
async fn shared_sockets_refuse_devices_they_cannot_route() {
    let mut config = FleetConfig::new(vec![spec("p", "redfish", 31), spec("q", "redfish", 31)]);
    config.shared_bind = vec![ip(31)];
    let err = Fleet::start(config).await.expect_err("same address and port");
    assert!(matches!(err, StartError::Shared(_)), "{err}");
    assert!(err.to_string().contains("p and q are both at 127.77.0.31"), "{err}");

    let mut config = FleetConfig::new(vec![spec("r", "redfish", 32)]);
    config.shared_bind = vec![ip(33)];
    let err = Fleet::start(config).await.expect_err("not covered");
    assert!(err.to_string().contains("r at 127.77.0.32"), "{err}");
    assert!(err.to_string().contains("none of the shared sockets' addresses"), "{err}");
}

/// DMTF's python-redfish-library against two devices at their addresses on one shared
/// port: a session on each, each device listing only its own, one device's token
/// refused by the other, both logged out. Needs the `main` client venv
/// (`ci/clients/setup.sh`, `$SESSIONLAB_CLIENTS_DIR`); without it the test says so and
/// passes, except under `CI=true`.
#[tokio::test]
async fn python_redfish_library_keeps_two_devices_on_one_port_apart() {
    const SCRIPT: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
import redfish, requests
a_url, b_url, user, password = sys.argv[1:5]
a = redfish.redfish_client(base_url=a_url, username=user, password=password)
b = redfish.redfish_client(base_url=b_url, username=user, password=password)
a.login(auth="session")
b.login(auth="session")
try:
    listed = [len(c.get("/redfish/v1/SessionService/Sessions").dict["Members"]) for c in (a, b)]
    crossed = requests.get(b_url + "/redfish/v1/SessionService",
                           headers={"X-Auth-Token": a.get_session_key()}).status_code
finally:
    a.logout()
    b.logout()
print(json.dumps({"listed": listed, "crossed": crossed}))
"#;
    let python = common::clients_dir().join("main/bin/python");
    if !python.is_file() {
        assert!(!common::strict(), "CI=true and the client venv is missing: {}", python.display());
        eprintln!("SKIPPED: {} is missing (run ci/clients/setup.sh)", python.display());
        return;
    }
    let mut config = FleetConfig::new(vec![spec("a", "redfish", 41), spec("b", "redfish", 42)]);
    config.shared_bind = vec![ip(41), ip(42)];
    let fleet = Fleet::start(config).await.expect("fleet starts");
    let [a, b] = fleet.devices() else { panic!("two devices") };
    let out = tokio::process::Command::new(python)
        .args(["-c", SCRIPT, &a.url(), &b.url(), "admin", "sessionlab"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PATIENCE, out).await.expect("in time").expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("JSON line");
    assert_eq!(result["listed"], serde_json::json!([1, 1]), "each device lists its own session");
    assert_eq!(result["crossed"], 401, "a's token is unknown on b");
    let now = fleet.clock().now();
    for d in [a, b] {
        assert_eq!(d.device.store.counts(now).total, 0, "{} logged out", d.device.name());
        let created = d.device.store.events(now).iter().filter(|e| e.session_id.is_some()).count();
        assert_eq!(created, 2, "{}: one session created and ended", d.device.name());
    }
}
