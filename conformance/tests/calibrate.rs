//! `calibrate` against emulated devices (issue 17). Each embedded profile is served with
//! the knobs calibrate measures changed to unusual values (through a fleet file naming
//! the changed profile), so the written profile can only reproduce them by measuring:
//! it must, and the scenario library must give the same verdicts on the changed device
//! and on one served from the written profile. Waits use the devices' virtual clocks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conformance::calibrate::{self, CalibrateError, CalibrateOptions, Calibration};
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario;
use conformance::target::{TargetOptions, TargetSpec};
use emulator::fleet::FleetFile;
use emulator::profile::{Profile, Vendor};
use emulator::session::UserChange;
use emulator::EmulatedDevice;
use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sessionlab-calibrate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn login_type(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Redfish | Vendor::Ilo | Vendor::Idrac => "redfish",
        Vendor::Bigip => "rest-token",
        Vendor::Solace => "semp",
    }
}

/// The knobs calibrate measures on `p`, changed to values no embedded profile has.
/// Returns the names of those changed.
fn make_unusual(p: &mut Profile) -> Vec<&'static str> {
    let lt = login_type(p.vendor);
    let s = &mut p.session;
    let mut changed = Vec::new();
    if let Some(pool) = s.pools.iter_mut().find(|pool| pool.types.iter().any(|t| t == lt)) {
        pool.limit = if pool.limit == 7 { 6 } else { 7 };
        changed.push("limit");
    } else if s.max_total.is_some() {
        s.max_total = Some(7);
        changed.push("limit");
    }
    match s.idle_timeout_by_type.get_mut(lt) {
        Some(t) => *t = 1380,
        None => s.idle_timeout_secs = 1380,
    }
    changed.push("idle");
    match s.sliding_by_type.get_mut(lt) {
        Some(b) => *b = !*b,
        None => s.sliding = !s.sliding,
    }
    changed.push("sliding");
    s.on_password_change = match s.on_password_change {
        UserChange::Keep => UserChange::EndUserSessions,
        UserChange::EndUserSessions => UserChange::Keep,
    };
    changed.push("password");
    // Observable only where Basic requests count against the table the logins fill.
    if matches!(p.vendor, Vendor::Redfish | Vendor::Ilo) {
        s.one_request_sessions_count = !s.one_request_sessions_count;
        changed.push("basic");
    }
    if let Some(i) = p.ilo.as_mut().filter(|i| i.command_shell_max_sessions > 0) {
        i.command_shell_max_sessions = 5;
        changed.push("shell");
    }
    if let Some(r) = p.redfish.as_mut() {
        r.session_limit_status = 429;
        changed.push("status");
    }
    if let Some(sol) = p.solace.as_mut() {
        sol.session_limit.http_status = 503;
        changed.push("status");
    }
    changed
}

/// The value of each changed knob, as text, for comparing two profiles.
fn knobs(p: &Profile) -> BTreeMap<&'static str, String> {
    let lt = login_type(p.vendor);
    let s = &p.session;
    let limit = s
        .pools
        .iter()
        .find(|pool| pool.types.iter().any(|t| t == lt))
        .map(|pool| pool.limit)
        .or(s.max_total);
    let mut k = BTreeMap::new();
    k.insert("limit", format!("{limit:?}"));
    k.insert("idle", format!("{:?}", s.idle_timeout_for(lt)));
    k.insert("sliding", s.sliding_for(lt).to_string());
    k.insert("password", format!("{:?}", s.on_password_change));
    k.insert("basic", s.one_request_sessions_count.to_string());
    let status = match (&p.redfish, &p.solace) {
        (Some(r), _) => r.session_limit_status,
        (_, Some(sol)) => sol.session_limit.http_status,
        _ => 0,
    };
    k.insert("status", status.to_string());
    k.insert("shell", format!("{:?}", p.ilo.as_ref().map(|i| i.command_shell_max_sessions)));
    k
}

/// Serves `profile` as a fleet file naming it would: written to a file, loaded through
/// the fleet.
async fn serve_through_fleet(dir: &Path, profile: &Profile) -> (EmulatedDevice, PathBuf) {
    let path = dir.join("device.toml");
    std::fs::write(&path, calibrate::profile_toml(profile).unwrap()).unwrap();
    let fleet = dir.join("fleet.toml");
    std::fs::write(
        &fleet,
        "clock = \"virtual\"\n[[device]]\nname = \"dut\"\nprofile = \"device.toml\"\nport = 0\n",
    )
    .unwrap();
    let (_, specs) = FleetFile::load(&fleet).unwrap();
    let served = (*specs[0].profile).clone();
    (EmulatedDevice::start_with(served, Some(7)).await.unwrap(), path)
}

fn options(device: &EmulatedDevice, vendor: Vendor, dir: &Path) -> CalibrateOptions {
    let (user, password) = device.credentials();
    CalibrateOptions {
        target: TargetOptions {
            target: device.url(),
            vendor: Some(vendor.as_str().to_string()),
            user: Some(user),
            password: Some(password),
            control: Some(device.control()),
            restart_timeout: Duration::from_secs(10),
            ..TargetOptions::default()
        },
        base: None,
        name: None,
        allow_destructive: true,
        max_wait: Duration::ZERO,
        fill_limit: 40,
        capture: None,
        output: dir.join("calibrated.toml"),
        force: false,
        date: "2026-11-30".to_string(),
    }
}

async fn control_get(device: &EmulatedDevice, path: &str) -> Value {
    let name = device.device().name().to_string();
    reqwest::get(format!("{}/_sessionlab/devices/{name}/{path}", device.control()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn events(device: &EmulatedDevice, kind: &str) -> usize {
    control_get(device, &format!("events?event={kind}")).await["events"]
        .as_array()
        .map_or(0, Vec::len)
}

/// Nothing calibrate made is left: no session, no account beyond the profile's.
async fn assert_clean(device: &EmulatedDevice, accounts: usize) {
    let sessions = control_get(device, "sessions").await;
    assert_eq!(sessions["sessions"].as_array().map_or(0, Vec::len), 0, "left open: {sessions}");
    let users = control_get(device, "users").await;
    assert_eq!(users["users"].as_array().map_or(0, Vec::len), accounts, "accounts: {users}");
}

fn quiet(_: &str) {}

async fn verdicts(profile_file: &Path) -> BTreeMap<String, String> {
    let scenarios =
        scenario::load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")]).unwrap();
    let spec = TargetSpec::resolve(&TargetOptions {
        target: format!("emulated:{}", profile_file.display()),
        seed: Some(7),
        restart_timeout: Duration::from_secs(10),
        ..TargetOptions::default()
    })
    .await
    .unwrap();
    let opts = RunOptions { jobs: 4, ..RunOptions::default() };
    let report =
        runner::run(&spec, &scenarios, &opts, Progress::Quiet, std::future::pending()).await;
    report.results.iter().map(|r| (r.id.clone(), r.verdict.as_str().to_string())).collect()
}

async fn calibrates(name: &str) {
    let dir = scratch(name);
    let mut unusual = Profile::embedded(name).unwrap();
    let changed = make_unusual(&mut unusual);
    // The device's own password must never reach the file.
    unusual.accounts[0].password = "Device-0wn-Secret".to_string();
    let accounts = unusual.accounts.len();
    let (device, original_file) = serve_through_fleet(&dir, &unusual).await;
    let mut opts = options(&device, unusual.vendor, &dir);
    if name == "solace-software-1000" {
        // The software scales differ only in the table size, which this test changes:
        // nothing on the wire tells them apart, so the base is named (--base).
        opts.base = Some(name.to_string());
    }
    let c: Calibration = calibrate::calibrate(&opts, &quiet, std::future::pending())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(c.base, name, "the nearest embedded profile");
    assert_clean(&device, accounts).await;

    let text = std::fs::read_to_string(&opts.output).unwrap();
    let written = Profile::from_toml(&text, "calibrated.toml").unwrap();
    let (want, got) = (knobs(&unusual), knobs(&written));
    for knob in &changed {
        assert_eq!(
            got[knob],
            want[knob],
            "{name}: knob {knob} was not measured\n{}",
            c.summary(&opts.output)
        );
    }
    let (was, now) = (knobs(&Profile::embedded(name).unwrap()), &got);
    assert!(changed.iter().any(|k| was[k] != now[k]), "{name}: nothing differs from the base");
    for k in &c.measured {
        if k.key == "tree.mockup" {
            continue;
        }
        let note = &written.verified[&k.key];
        assert!(
            note.starts_with("measured on") || note.starts_with("stated by the API on"),
            "{note}"
        );
        assert!(!written.assumed.contains_key(&k.key), "{} is still assumed", k.key);
    }
    assert!(text.contains("# ---- calibration summary ----"), "{text}");
    // No secret of the device and no address in the file.
    assert!(!text.contains("Device-0wn-Secret"), "the device's password is in the file");
    let port = device.url().rsplit(':').next().unwrap().to_string();
    assert!(!text.contains(&format!("127.0.0.1:{port}")), "the device's address is in the file");
    assert!(!text.to_ascii_lowercase().contains("x-auth-token: ") || text.contains("[redacted]"));

    let (before, after) = (verdicts(&original_file).await, verdicts(&opts.output).await);
    assert!(!before.is_empty());
    assert_eq!(
        before, after,
        "{name}: verdicts differ between the device and its calibrated profile"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

macro_rules! calibrate_each {
    ($($test:ident => $profile:literal),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            calibrates($profile).await;
        }
    )*};
}

calibrate_each! {
    calibrates_redfish => "redfish",
    calibrates_ilo4 => "ilo4",
    calibrates_ilo5 => "ilo5",
    calibrates_ilo6 => "ilo6",
    calibrates_idrac8 => "idrac8",
    calibrates_idrac9 => "idrac9",
    calibrates_idrac10 => "idrac10",
    calibrates_bigip15 => "bigip15",
    calibrates_bigip17 => "bigip17",
    calibrates_bigip17_1_2 => "bigip17-1-2",
    calibrates_solace_appliance => "solace-appliance",
    calibrates_solace_software_100 => "solace-software-100",
    calibrates_solace_software_1000 => "solace-software-1000",
}

#[tokio::test]
async fn an_unreachable_target_is_an_error_and_writes_nothing() {
    let dir = scratch("unreachable");
    let output = dir.join("out.toml");
    let opts = CalibrateOptions {
        target: TargetOptions {
            target: "http://127.0.0.1:1".to_string(),
            vendor: Some("redfish".to_string()),
            user: Some("root".to_string()),
            password: Some("secret".to_string()),
            ..TargetOptions::default()
        },
        base: None,
        name: None,
        allow_destructive: false,
        max_wait: Duration::ZERO,
        fill_limit: 10,
        capture: None,
        output: output.clone(),
        force: false,
        date: "2026-11-30".to_string(),
    };
    let e = calibrate::calibrate(&opts, &quiet, std::future::pending()).await.unwrap_err();
    assert!(matches!(e, CalibrateError::Device(_)), "{e:?}");
    assert!(e.to_string().contains("cannot reach"), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
    assert!(!output.exists());
}

#[tokio::test]
async fn a_bad_password_costs_exactly_one_attempt() {
    let dir = scratch("badpw");
    let device = EmulatedDevice::start(Profile::embedded("ilo5").unwrap()).await.unwrap();
    let mut opts = options(&device, Vendor::Ilo, &dir);
    opts.target.password = Some("wrong-password".to_string());
    let e = calibrate::calibrate(&opts, &quiet, std::future::pending()).await.unwrap_err();
    assert!(matches!(e, CalibrateError::BadPassword(_)), "{e:?}");
    assert!(!e.to_string().contains("wrong-password"), "{e}");
    assert_eq!(events(&device, "login-failed").await, 1);
    assert!(!opts.output.exists());
    assert_clean(&device, 3).await;
}

#[tokio::test]
async fn without_the_flag_no_behaviour_probe_runs() {
    let dir = scratch("readonly");
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let mut opts = options(&device, Vendor::Redfish, &dir);
    opts.allow_destructive = false;
    let lines = std::sync::Mutex::new(Vec::new());
    let say = |l: &str| lines.lock().unwrap().push(l.to_string());
    let c = calibrate::calibrate(&opts, &say, std::future::pending()).await.unwrap();
    // Nothing filled the table, no account was made, the clock did not move.
    assert_eq!(events(&device, "refused").await, 0);
    assert_eq!(events(&device, "expired").await, 0);
    assert_clean(&device, 3).await;
    let said = lines.lock().unwrap().join("\n");
    assert!(!said.contains("about to"), "{said}");
    let inherited: BTreeMap<_, _> =
        c.inherited.iter().map(|k| (k.key.as_str(), k.note.as_str())).collect();
    for key in
        ["session.max_total", "session.on_password_change", "session.one_request_sessions_count"]
    {
        assert!(inherited[key].contains("--allow-destructive"), "{key}: {inherited:?}");
    }
    // What the API states is still read: the idle timeout is stated by SessionService.
    let idle = c.measured.iter().find(|k| k.key == "session.idle_timeout_secs").unwrap();
    assert_eq!(idle.note, "1800 s");
}

#[tokio::test]
async fn an_existing_output_needs_force() {
    let dir = scratch("exists");
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let mut opts = options(&device, Vendor::Redfish, &dir);
    opts.allow_destructive = false;
    std::fs::write(&opts.output, "keep me\n").unwrap();
    let e = calibrate::calibrate(&opts, &quiet, std::future::pending()).await.unwrap_err();
    assert!(matches!(e, CalibrateError::Usage(_)), "{e:?}");
    assert!(e.to_string().contains("--force"), "{e}");
    assert_eq!(std::fs::read_to_string(&opts.output).unwrap(), "keep me\n");
    // Refused before anything was sent.
    assert_eq!(events(&device, "created").await, 0);
    assert_eq!(events(&device, "login-failed").await, 0);
    opts.force = true;
    calibrate::calibrate(&opts, &quiet, std::future::pending()).await.unwrap();
    assert!(Profile::load(opts.output.to_str().unwrap()).is_ok());
}

#[tokio::test]
async fn the_cli_refuses_an_existing_output_with_status_2() {
    let dir = scratch("cli");
    let output = dir.join("out.toml");
    std::fs::write(&output, "x").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sessionlab-conformance"))
        .args(["calibrate", "--target", "emulated:redfish", "-o"])
        .arg(&output)
        .env_remove("SESSIONLAB_CONTROL_URL")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
}

#[tokio::test]
async fn without_a_virtual_clock_it_waits_no_longer_than_max_wait() {
    // A device reached by URL alone (no control API): real time. With --max-wait 0 the
    // idle probe does not wait; the timeout the API states is recorded as stated.
    let dir = scratch("realclock");
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let mut opts = options(&device, Vendor::Redfish, &dir);
    opts.target.control = None;
    let c = calibrate::calibrate(&opts, &quiet, std::future::pending()).await.unwrap();
    let idle = c.measured.iter().find(|k| k.key == "session.idle_timeout_secs").unwrap();
    assert_eq!(idle.note, "1800 s");
    let written = Profile::load(opts.output.to_str().unwrap()).unwrap();
    assert!(written.verified["session.idle_timeout_secs"].starts_with("stated by the API"));
    let sliding = c.inherited.iter().find(|k| k.key == "session.sliding").unwrap();
    assert!(sliding.note.contains("--max-wait"), "{}", sliding.note);
    // The limit is still measured by behaviour, and everything is undone.
    assert!(c.measured.iter().any(|k| k.key == "session.max_total" && k.note == "16"));
    assert_eq!(events(&device, "expired").await, 0);
    assert_clean(&device, 3).await;
}

#[tokio::test]
async fn an_interrupt_mid_fill_cleans_up_and_writes_nothing() {
    let dir = scratch("interrupt");
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let opts = options(&device, Vendor::Redfish, &dir);
    let filling = tokio::sync::Notify::new();
    let say = |l: &str| {
        if l.starts_with("about to fill") {
            filling.notify_one();
        }
    };
    let e = calibrate::calibrate(&opts, &say, filling.notified()).await.unwrap_err();
    assert!(matches!(&e, CalibrateError::Interrupted(p) if p.is_empty()), "{e:?}");
    assert!(!opts.output.exists());
    assert_clean(&device, 3).await;
}

#[tokio::test]
async fn a_capture_becomes_the_profiles_mockup() {
    let dir = scratch("capture");
    let device = EmulatedDevice::start(Profile::embedded("idrac9").unwrap()).await.unwrap();
    let mut opts = options(&device, Vendor::Idrac, &dir);
    opts.allow_destructive = false;
    opts.capture = Some(dir.join("mockup"));
    calibrate::calibrate(&opts, &quiet, std::future::pending()).await.unwrap();
    let written = Profile::load(opts.output.to_str().unwrap()).unwrap();
    assert_eq!(
        written.tree.as_ref().unwrap().mockup.as_deref(),
        Some(dir.join("mockup").as_path())
    );
    assert!(dir.join("mockup/redfish/v1/index.json").is_file());
    // The emulator serves the written profile with the captured tree.
    let served = EmulatedDevice::start(written).await.unwrap();
    let root: Value =
        reqwest::get(format!("{}/redfish/v1/", served.url())).await.unwrap().json().await.unwrap();
    let captured: Value =
        serde_json::from_slice(&std::fs::read(dir.join("mockup/redfish/v1/index.json")).unwrap())
            .unwrap();
    assert_eq!(root["RedfishVersion"], captured["RedfishVersion"], "{root}");
    assert_clean(&device, 3).await;
}
