//! Issue 16: the dashboard in a real browser. Headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs) driven by Selenium from the `monitor`
//! virtual environment of `ci/clients/setup.sh`:
//!
//! 1. the device page is open while a leaking client (plain HTTP logins that never log
//!    out) fills the Redfish table, and the live updates show the bar rise to 16 of 16,
//!    the sessions with their User-Agent, and the refused 17th login;
//! 2. the fleet page shows the device's bar as critical;
//! 3. the "advance by the idle timeout" button is clicked, and the page shows every
//!    session ended by `idle-timeout`.
//!
//! Screenshots are kept under `target/artifacts/` (`dashboard.png` is the one README
//! shows, from `docs/dashboard.png`). Without the browser, its driver or the venv the
//! test says SKIPPED and passes, except under `CI=true`, where it fails. The browser
//! waits for the page's own once-a-second refresh; the emulator's time moves only through
//! the virtual clock.

mod common;

use std::path::{Path, PathBuf};

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use serde_json::Value;
use tokio::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

const SCRIPT: &str = r#"
import json, os, sys, urllib.error, urllib.request
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

device_url, control, out_dir, chromium, chromedriver = sys.argv[1:6]
page = control + "/_sessionlab/ui/devices/redfish"
opts = webdriver.ChromeOptions()
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--no-proxy-server", "--window-size=1400,1150", "--lang=en-US"):
    opts.add_argument(arg)
opts.binary_location = chromium
driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def login():
    req = urllib.request.Request(
        device_url + "/redfish/v1/SessionService/Sessions",
        data=json.dumps({"UserName": "admin", "Password": "sessionlab"}).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "leaky-script/1.0"},
        method="POST")
    try:
        return http.open(req).status
    except urllib.error.HTTPError as e:
        return e.code

def wait(what, check):
    def probe(d):
        try:
            return check(d)
        except StaleElementReferenceException:
            return False
    try:
        WebDriverWait(driver, 20, poll_frequency=0.2).until(probe)
    except Exception:
        driver.save_screenshot(os.path.join(out_dir, "dashboard-failed.png"))
        raise AssertionError("the page never showed " + what)

def steady(read):
    # The page replaces its live parts once a second: an element found just before a
    # refresh is stale when read. Read again, from a fresh find.
    for _ in range(20):
        try:
            return read()
        except StaleElementReferenceException:
            continue
    raise AssertionError("the page kept changing under a read")

def text(css):
    return steady(lambda: driver.find_element(By.CSS_SELECTOR, css).text)

def session_rows():
    rows = driver.find_elements(By.CSS_SELECTOR, '[data-live="sessions"] tbody tr')
    return len(rows), sorted({r.find_elements(By.CSS_SELECTOR, "td.ua")[0].text for r in rows})

result = {}
try:
    driver.get(page)
    assert "No open sessions." in text('[data-live="sessions"]'), "an empty table first"
    statuses = [login() for _ in range(17)]
    result["statuses"] = statuses
    # The live update (no reload) shows the bar rise to 16 of 16 and the refusal.
    wait("a full bar", lambda d: d.find_element(
        By.CSS_SELECTOR, '[data-live="limits"] [role="meter"]').get_attribute("aria-valuenow") == "16")
    wait("the refused login", lambda d: "total-limit 1" in text('[data-live="limits"] .refused'))
    result["bar"] = text('[data-live="limits"] .bar .value')
    result["bar_class"] = steady(lambda: driver.find_element(
        By.CSS_SELECTOR, '[data-live="limits"] .bar').get_attribute("class"))
    result["rows"], result["agents"] = steady(session_rows)
    driver.save_screenshot(os.path.join(out_dir, "dashboard.png"))

    driver.get(control + "/_sessionlab/")
    result["fleet_bar"] = text("table .bar.critical .value")
    driver.save_screenshot(os.path.join(out_dir, "dashboard-fleet.png"))

    driver.get(page)
    button = driver.find_element(By.ID, "advance-idle")
    result["button"] = button.text
    button.click()
    wait("the sessions gone", lambda d: "No open sessions." in text('[data-live="sessions"]'))
    result["idle_endings"] = steady(lambda: len(driver.find_elements(
        By.CSS_SELECTOR, '[data-live="events"] tbody td span.reason-idle-timeout')))
    result["ended"] = text('[data-live="limits"] .ended')
    result["bar_after"] = text('[data-live="limits"] .bar .value')
    driver.save_screenshot(os.path.join(out_dir, "dashboard-expired.png"))
finally:
    driver.quit()
print(json.dumps(result))
"#;

/// The venv's python, or why the browser test cannot run (a failure under CI).
fn python() -> Option<PathBuf> {
    let python = common::clients_dir().join("monitor/bin/python");
    let missing: Vec<String> = [python.as_path(), Path::new(CHROMIUM), Path::new(CHROMEDRIVER)]
        .iter()
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Some(python);
    }
    let why = format!(
        "missing {}: .ci/run installs chromium and chromium-driver (apt) and ci/clients/setup.sh the venv",
        missing.join(", ")
    );
    assert!(!common::strict(), "CI=true and the browser test cannot run: {why}");
    println!("SKIPPED the dashboard in headless Chromium: {why}");
    eprintln!("SKIPPED the dashboard in headless Chromium: {why}");
    None
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("artifacts")
}

/// Fill the table, watch it in the browser, advance from the page, watch it empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_leak_filling_and_expiring_in_chromium() {
    let Some(python) = python() else { return };
    let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
    let out = artifacts();
    std::fs::create_dir_all(&out).expect("target/artifacts");
    let mut cmd = Command::new(&python);
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg(device.url())
        .arg(device.control())
        .arg(&out)
        .arg(CHROMIUM)
        .arg(CHROMEDRIVER)
        // Selenium must not look for a browser or driver of its own on the network.
        .env("SE_OFFLINE", "true");
    for proxy in
        ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
    {
        cmd.env_remove(proxy);
    }
    let run = cmd.output().await.expect("python runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the browser run failed (screenshots in {})\nstdout: {stdout}\nstderr: {stderr}",
        out.display()
    );
    let result: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the JSON line");
    let mut statuses = vec![201; 16];
    statuses.push(503);
    assert_eq!(result["statuses"], serde_json::json!(statuses), "{result}");
    assert_eq!(result["bar"], "16 / 16 critical", "{result}");
    assert!(result["bar_class"].as_str().unwrap().contains("critical"), "{result}");
    assert_eq!(result["rows"], 16, "{result}");
    assert_eq!(result["agents"], serde_json::json!(["leaky-script/1.0"]), "{result}");
    assert_eq!(result["fleet_bar"], "16 / 16 critical", "{result}");
    assert_eq!(result["button"], "Advance 30m (idle timeout)", "{result}");
    assert_eq!(result["idle_endings"], 16, "{result}");
    assert_eq!(result["ended"], "16 (idle-timeout 16)", "{result}");
    assert_eq!(result["bar_after"], "0 / 16 ok", "{result}");
    assert!(out.join("dashboard.png").is_file());
    let dev = device.device();
    assert!(dev.store.list(dev.now()).is_empty());
}
