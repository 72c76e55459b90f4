//! racadm as the iDRAC SSH service runs it, called directly on a device with a fixed
//! virtual clock (2017-12-01 20:05:42 UTC, the device at -05:00) and a seed, so the text
//! is stable. Layout and texts are pinned with insta (`tests/snapshots/idrac_racadm__*`).
//!
//! Evidence: `shared/vendors/ilo-idrac.md` 2.5-2.7 and seed 002; each test cites its clause.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::session::{ClientInfo, EndReason, EventKind, LoginRequest, Session};
use emulator::vendors::idrac::racadm::{self, Caller, CliOutput};

fn device(profile: &str) -> DeviceHandle {
    let profile = Arc::new(Profile::embedded(profile).expect("embedded profile"));
    let start = chrono::Utc.with_ymd_and_hms(2017, 12, 1, 20, 5, 42).single().expect("date");
    Device::handle(&profile.name.clone(), profile, Clock::virtual_at(start), Some(7))
}

fn open(dev: &Device, user: &str, kind: &str, addr: &str) -> Session {
    let client = ClientInfo { addr: Some(addr.to_string()), user_agent: None, process: None };
    dev.store.open_for(user, kind, client, dev.now()).expect("slot free")
}

fn advance(dev: &Device, secs: u64) {
    dev.clock().advance(Duration::from_secs(secs)).expect("virtual clock");
}

/// Runs `line` as `user` from inside session `own`.
fn run(dev: &Device, own: Option<&Session>, line: &str) -> CliOutput {
    let user = own.map_or("root", |s| s.user.as_str());
    let caller = Caller { session: own.map(|s| s.id.as_str()), user };
    racadm::run(dev, dev.now(), &caller, line)
}

/// The three sessions of the 2017 capture, at their login times (local -05:00):
/// a virtual console, a GUI session and the SSH session that runs racadm.
fn captured_table(dev: &Device) -> (Session, Session, Session) {
    let console = open(dev, "root", "virtual-console", "10.67.124.128");
    advance(dev, 17 * 3600 + 20 * 60 + 25); // 12/02/2017 08:26:07
    let gui = open(dev, "root", "gui", "10.67.125.24");
    advance(dev, 3 * 60 + 24); // 08:29:31
    let ssh = open(dev, "root", "ssh", "10.67.51.164");
    (console, gui, ssh)
}

/// ilo-idrac.md 2.6 [C]: `getssninfo` prints the header, a 75-dash rule and one row per
/// session with SSNID in 6 columns, Type in 18, User from column 24, the IP ending at
/// column 80 and `MM/DD/YYYY HH:MM:SS`; rows reproduce the captured ones.
#[test]
fn getssninfo_prints_the_captured_layout() {
    let dev = device("idrac9");
    let (_, _, ssh) = captured_table(&dev);
    let out = run(&dev, Some(&ssh), "racadm getssninfo");
    assert_eq!(out.exit, 0);
    assert_eq!(out.stderr, "");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "SSNID Type              User                                          IP Address Login Date/Time"
    );
    assert_eq!(lines[1], "-".repeat(75));
    assert_eq!(
        lines[2],
        "1     Virtual Console   root                                       10.67.124.128 12/01/2017 15:05:42"
    );
    assert_eq!(
        lines[3],
        "2     GUI               root                                        10.67.125.24 12/02/2017 08:26:07"
    );
    assert_eq!(
        lines[4],
        "3     SSH               root                                        10.67.51.164 12/02/2017 08:29:31"
    );
    insta::assert_snapshot!("getssninfo", out.stdout);
}

/// ilo-idrac.md 2.6 [P]: `-A` prints no header and every field double-quoted and
/// space-separated (`"43584" "SSH" "root" "192.168.0.10" "04/07/2016 12:00:34"`).
#[test]
fn getssninfo_a_quotes_every_field_without_header() {
    let dev = device("idrac9");
    let (_, _, ssh) = captured_table(&dev);
    let out = run(&dev, Some(&ssh), "getssninfo -A");
    assert_eq!(
        out.stdout.lines().nth(2),
        Some(r#""3" "SSH" "root" "10.67.51.164" "12/02/2017 08:29:31""#)
    );
    insta::assert_snapshot!("getssninfo_a", out.stdout);
}

/// ilo-idrac.md 2.6 [P]: `-u <username>` shows only that user's sessions.
#[test]
fn getssninfo_u_shows_one_users_sessions() {
    let dev = device("idrac9");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    open(&dev, "operator", "gui", "192.0.2.2");
    let out = run(&dev, Some(&ssh), "racadm getssninfo -u operator");
    insta::assert_snapshot!("getssninfo_u", out.stdout);
    assert!(!out.stdout.contains("192.0.2.1"));
}

/// Redfish logins are sessions too: they show in getssninfo with the profile's label
/// (Part 3.6 [U]: assumed `REDFISH`).
#[test]
fn getssninfo_shows_redfish_sessions_with_their_label() {
    let dev = device("idrac9");
    let client = ClientInfo { addr: Some("198.51.100.7".into()), user_agent: None, process: None };
    let req = LoginRequest { user: "root", password: "calvin", session_type: "redfish", client };
    dev.store.login(&req, dev.now()).expect("login");
    let out = run(&dev, None, "getssninfo");
    assert!(out
        .stdout
        .lines()
        .nth(2)
        .is_some_and(|l| l.starts_with("1     REDFISH           root")));
}

/// ilo-idrac.md 2.6 [C]: `racadm closessn -i 2` prints `Session 2 closed successfully.`
/// and the session ends (reason admin-delete).
#[test]
fn closessn_i_closes_the_session_with_the_captured_text() {
    let dev = device("idrac9");
    let (_, gui, ssh) = captured_table(&dev);
    let out = run(&dev, Some(&ssh), "racadm closessn -i 2");
    assert_eq!(out, CliOutput::ok("Session 2 closed successfully.\n"));
    assert!(dev.store.get(&gui.id, dev.now()).is_none());
    let ended = dev
        .store
        .events(dev.now())
        .into_iter()
        .rev()
        .find(|e| e.session_id.as_deref() == Some(&gui.id));
    assert_eq!(ended.map(|e| e.kind), Some(EventKind::Ended { reason: EndReason::AdminDelete }));
}

/// ilo-idrac.md 2.6 [C]: closing your own session prints `Closing the executing session
/// is not permitted.`, fails, and leaves it open.
#[test]
fn closessn_refuses_the_executing_session() {
    let dev = device("idrac9");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    let out = run(&dev, Some(&ssh), &format!("closessn -i {}", ssh.id));
    assert_eq!(out.stderr, "Closing the executing session is not permitted.\n");
    assert_eq!(out.stdout, "");
    assert_ne!(out.exit, 0);
    assert!(dev.store.get(&ssh.id, dev.now()).is_some());
}

/// ilo-idrac.md 2.6 [P]: `-a` "ends all the sessions other than the current session";
/// its text is a knob (Part 3.6 [U]).
#[test]
fn closessn_a_closes_all_other_sessions() {
    let dev = device("idrac9");
    let (_, _, ssh) = captured_table(&dev);
    open(&dev, "operator", "redfish", "192.0.2.9");
    let out = run(&dev, Some(&ssh), "closessn -a");
    assert_eq!(out.exit, 0);
    insta::assert_snapshot!("closessn_a", out.stdout);
    let left: Vec<String> = dev.store.list(dev.now()).into_iter().map(|s| s.id).collect();
    assert_eq!(left, vec![ssh.id.clone()]);
}

/// ilo-idrac.md 2.6 [P]: `-u <username>` closes that user's sessions (not the caller's own).
#[test]
fn closessn_u_closes_one_users_sessions() {
    let dev = device("idrac9");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    let gui = open(&dev, "root", "gui", "192.0.2.1");
    let other = open(&dev, "operator", "gui", "192.0.2.2");
    let out = run(&dev, Some(&ssh), "closessn -u root");
    insta::assert_snapshot!("closessn_u", out.stdout);
    assert!(dev.store.get(&gui.id, dev.now()).is_none());
    assert!(dev.store.get(&ssh.id, dev.now()).is_some());
    assert!(dev.store.get(&other.id, dev.now()).is_some());
    let none = run(&dev, Some(&ssh), "closessn -u nobody");
    assert_ne!(none.exit, 0);
}

/// Dell's guide: closessn needs the Administrator permission.
#[test]
fn closessn_needs_an_administrator() {
    let dev = device("idrac9");
    let own = open(&dev, "readonly", "ssh", "192.0.2.1");
    let gui = open(&dev, "root", "gui", "192.0.2.2");
    let out = run(&dev, Some(&own), &format!("closessn -i {}", gui.id));
    assert_ne!(out.exit, 0);
    assert!(dev.store.get(&gui.id, dev.now()).is_some());
}

/// Wrong usage and unknown subcommands get racadm-style errors and a non-zero exit,
/// never a dropped connection (texts: knobs, Part 3.6 [U]).
#[test]
fn bad_commands_get_racadm_errors() {
    let dev = device("idrac9");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    let mut shown = String::new();
    for line in [
        "racadm frobnicate",
        "racadm closessn",
        "racadm closessn -i 99",
        "racadm closessn -a -i 1",
        "racadm getssninfo -x",
        "racadm get iDRAC.Nope.Timeout",
        "racadm set iDRAC.WebServer.Timeout",
        "racadm set iDRAC.WebServer.MaxNumberOfSessions 9",
        "racadm get 'unterminated",
    ] {
        let out = run(&dev, Some(&ssh), line);
        assert_eq!(out.exit, 1, "{line}");
        assert_eq!(out.stdout, "", "{line}");
        shown.push_str(&format!("$ {line}\n{}", out.stderr));
    }
    insta::assert_snapshot!("errors", shown);
}

/// `racadm` alone prints its usage; `help` too.
#[test]
fn racadm_alone_prints_usage() {
    let dev = device("idrac9");
    let out = run(&dev, None, "racadm");
    assert_eq!(out.exit, 0);
    assert!(out.stdout.starts_with("RACADM usage syntax:"));
}

/// ilo-idrac.md 2.5 [P][C]: the timeouts are attributes (`iDRAC.WebServer.Timeout`
/// default 1800, legal 60-10800; `Racadm.Timeout` 60; SSH 1800); a change applies at the
/// next login, not to sessions already open.
#[test]
fn set_timeout_applies_at_the_next_login() {
    let dev = device("idrac9");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    let before = open(&dev, "root", "gui", "192.0.2.2");
    let get = run(&dev, Some(&ssh), "racadm get iDRAC.WebServer");
    insta::assert_snapshot!("get_webserver", get.stdout);
    assert_eq!(
        run(&dev, Some(&ssh), "get iDRAC.Racadm.Timeout").stdout,
        "[Key=iDRAC.Embedded.1#Racadm.1]\nTimeout=60\n"
    );
    assert_eq!(
        run(&dev, Some(&ssh), "get iDRAC.SSH.1.Timeout").stdout,
        "[Key=iDRAC.Embedded.1#SSH.1]\nTimeout=1800\n"
    );
    let set = run(&dev, Some(&ssh), "racadm set iDRAC.WebServer.Timeout 600");
    assert_eq!(set, CliOutput::ok("Object value modified successfully\n"));
    assert_eq!(
        run(&dev, Some(&ssh), "get iDRAC.WebServer.Timeout").stdout,
        "[Key=iDRAC.Embedded.1#WebServer.1]\nTimeout=600\n"
    );
    let after = open(&dev, "root", "gui", "192.0.2.3");
    advance(&dev, 601);
    assert!(dev.store.get(&after.id, dev.now()).is_none(), "the new session has the new timeout");
    assert!(dev.store.get(&before.id, dev.now()).is_some(), "the old one keeps 1800 s");
    for bad in ["59", "10801", "ten"] {
        let out = run(&dev, Some(&ssh), &format!("set iDRAC.WebServer.Timeout {bad}"));
        assert_eq!(out.exit, 1, "{bad}");
    }
    assert_eq!(
        run(&dev, Some(&ssh), "set iDRAC.Racadm.Timeout 10").exit,
        0,
        "racadm's range is 10-1920"
    );
}

/// ilo-idrac.md 2.7 [U] → knob `on_password_change`, default (assumed): a password set
/// through `iDRAC.Users.N.Password` ends that user's sessions; the new password logs in.
#[test]
fn set_user_password_ends_that_users_sessions() {
    let dev = device("idrac9");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    let op = open(&dev, "operator", "gui", "192.0.2.2");
    let slot = run(&dev, Some(&ssh), "get iDRAC.Users.3.UserName");
    assert_eq!(slot.stdout, "[Key=iDRAC.Embedded.1#Users.3]\nUserName=operator\n");
    let out = run(&dev, Some(&ssh), "racadm set iDRAC.Users.3.Password n3w-pass");
    assert_eq!(out.exit, 0);
    assert!(dev.store.get(&op.id, dev.now()).is_none());
    assert!(dev.store.get(&ssh.id, dev.now()).is_some());
    let req = LoginRequest {
        user: "operator",
        password: "n3w-pass",
        session_type: "gui",
        client: ClientInfo::default(),
    };
    dev.store.login(&req, dev.now()).expect("new password works");
}

/// ilo-idrac.md 2.7 [U] → knob `on_user_delete`: clearing a slot's `UserName` deletes the
/// account and ends its sessions.
#[test]
fn clearing_a_user_name_deletes_the_account() {
    let dev = device("idrac9");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    let op = open(&dev, "operator", "gui", "192.0.2.2");
    assert_eq!(run(&dev, Some(&ssh), "set iDRAC.Users.3.UserName \"\"").exit, 0);
    assert!(dev.store.account("operator").is_none());
    assert!(dev.store.get(&op.id, dev.now()).is_none());
}

/// A user who is not an administrator may set only their own password.
#[test]
fn non_administrators_set_only_their_own_password() {
    let dev = device("idrac9");
    let own = open(&dev, "operator", "ssh", "192.0.2.1");
    assert_ne!(run(&dev, Some(&own), "set iDRAC.WebServer.Timeout 600").exit, 0);
    assert_ne!(run(&dev, Some(&own), "set iDRAC.Users.2.Password x").exit, 0);
    assert_eq!(run(&dev, Some(&own), "set iDRAC.Users.3.Password mine").exit, 0);
}

/// `racreset` restarts the iDRAC: every session ends (reason restart), the caller's too.
#[test]
fn racreset_ends_every_session() {
    let dev = device("idrac9");
    let (_, _, ssh) = captured_table(&dev);
    let out = run(&dev, Some(&ssh), "racadm racreset");
    assert_eq!(out.exit, 0);
    insta::assert_snapshot!("racreset", out.stdout);
    assert_eq!(dev.store.counts(dev.now()).total, 0);
    let last = dev.store.events(dev.now()).pop().expect("events");
    assert_eq!(last.kind, EventKind::Ended { reason: EndReason::Restart });
}

/// iDRAC10 session ids are UUIDs (ilo-idrac.md 2.2, [I]); with `numeric_ids` (assumed)
/// getssninfo still shows numbers, and `closessn -i N` closes the session shown as N.
#[test]
fn idrac10_shows_numbers_for_uuid_sessions() {
    let dev = device("idrac10");
    let ssh = open(&dev, "root", "ssh", "192.0.2.1");
    let gui = open(&dev, "root", "gui", "192.0.2.2");
    assert!(uuid::Uuid::parse_str(&gui.id).is_ok(), "{}", gui.id);
    let table = run(&dev, Some(&ssh), "getssninfo");
    let ids: Vec<&str> =
        table.stdout.lines().skip(2).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(
        run(&dev, Some(&ssh), "closessn -i 2"),
        CliOutput::ok("Session 2 closed successfully.\n")
    );
    assert!(dev.store.get(&gui.id, dev.now()).is_none());
    assert_eq!(
        run(&dev, Some(&ssh), "closessn -i 1").stderr,
        "Closing the executing session is not permitted.\n"
    );
}

/// Dell's RACADM reference for iDRAC7/8, group cfgSessionManagement: the legacy names of
/// the session timeouts read and write the same settings, within the legal ranges
/// (webserver 60-10800, racadm 10-1920), on idrac8 only.
#[test]
fn idrac8_legacy_session_management_names() {
    let dev = device("idrac8");
    let all = run(&dev, None, "racadm getconfig -g cfgSessionManagement");
    assert_eq!(all.exit, 0, "{all:?}");
    insta::assert_snapshot!("idrac8_getconfig_cfgsessionmanagement", all.stdout);
    let set =
        run(&dev, None, "racadm config -g cfgSessionManagement -o cfgSsnMgtWebserverTimeout 1200");
    assert_eq!((set.exit, set.stdout.as_str()), (0, "Object value modified successfully\n"));
    let one =
        run(&dev, None, "racadm getconfig -g cfgSessionManagement -o cfgSsnMgtWebserverTimeout");
    assert_eq!(one.stdout, "cfgSsnMgtWebserverTimeout=1200\n");
    let modern = run(&dev, None, "racadm get iDRAC.WebServer.Timeout");
    assert!(modern.stdout.contains("Timeout=1200"), "{modern:?}");
    for (object, value) in [("cfgSsnMgtWebserverTimeout", "59"), ("cfgSsnMgtRacadmTimeout", "1921")]
    {
        let out =
            run(&dev, None, &format!("racadm config -g cfgSessionManagement -o {object} {value}"));
        assert_ne!(out.exit, 0, "{object}={value} accepted: {out:?}");
    }
    let racadm =
        run(&dev, None, "racadm config -g cfgSessionManagement -o cfgSsnMgtRacadmTimeout 1920");
    assert_eq!(racadm.exit, 0, "{racadm:?}");
    let later = device("idrac9");
    let refused = run(&later, None, "racadm getconfig -g cfgSessionManagement");
    assert_ne!(refused.exit, 0, "idrac9 has no legacy names: {refused:?}");
}
