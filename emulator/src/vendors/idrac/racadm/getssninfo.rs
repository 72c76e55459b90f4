//! `racadm getssninfo [-u USER] [-A]`: the session table.
//!
//! Layout measured on the captured output (ilo-idrac.md 2.6, \[C\]):
//!
//! ```text
//! SSNID Type              User                                          IP Address Login Date/Time
//! ---------------------------------------------------------------------------
//! 9     SSH               root                                        10.67.51.164 12/02/2017 08:29:31
//! ```
//!
//! SSNID left-aligned in 6 columns, Type left-aligned in 18, User from column 24, the IP
//! right-aligned to end at column 80, one space, `MM/DD/YYYY HH:MM:SS` in the device's
//! local time; a rule of 75 dashes. A field too wide for its column keeps one space after
//! it (assumed: the capture has no such row). `-A` prints every field double-quoted and
//! space-separated, without header (Dell's guide).

use serde_json::json;

use super::parse::Options;
use super::{CliOutput, Usage};
use crate::clock::Now;
use crate::device::Device;
use crate::session::Session;
use crate::vendors::idrac::IdracSettings;

/// Column where the IP address ends.
const IP_END: usize = 80;
/// The rule under the header.
const RULE_WIDTH: usize = 75;
/// What the IP column shows for a session without a known client address.
const NO_ADDRESS: &str = "0.0.0.0";

/// `getssninfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetSsnInfo {
    /// `-u USER`: only this user's sessions.
    pub user: Option<String>,
    /// `-A`: no header, quoted fields.
    pub api: bool,
}

impl GetSsnInfo {
    /// Reads `[-u USER] [-A]`.
    pub fn parse(args: &[String]) -> Result<GetSsnInfo, Usage> {
        let o = Options::read(args, "A", "u")?;
        if !o.positional.is_empty() {
            return Err(Usage);
        }
        Ok(GetSsnInfo { user: o.value('u').map(str::to_string), api: o.has('A') })
    }

    /// Lists the open sessions, oldest first.
    pub fn apply(&self, device: &Device, now: Now) -> CliOutput {
        let settings = IdracSettings::of(device);
        let sessions: Vec<Session> = device
            .store
            .list(now)
            .into_iter()
            .filter(|s| !s.one_request)
            .filter(|s| self.user.as_ref().is_none_or(|u| *u == s.user))
            .collect();
        let mut out = String::new();
        if !self.api {
            out.push_str(&row("SSNID", "Type", "User", "IP Address", "Login Date/Time"));
            out.push_str(&"-".repeat(RULE_WIDTH));
            out.push('\n');
        }
        for s in &sessions {
            let id = ssnid(device, s);
            let kind = type_label(&settings, &s.session_type);
            let ip = s.client.addr.as_deref().unwrap_or(NO_ADDRESS);
            let when = s
                .created_at
                .with_timezone(&settings.utc_offset.0)
                .format("%m/%d/%Y %H:%M:%S")
                .to_string();
            if self.api {
                out.push_str(&format!("\"{id}\" \"{kind}\" \"{}\" \"{ip}\" \"{when}\"\n", s.user));
            } else {
                out.push_str(&row(&id, &kind, &s.user, ip, &when));
            }
        }
        CliOutput::ok(out)
    }
}

/// One line of the table.
fn row(id: &str, kind: &str, user: &str, ip: &str, when: &str) -> String {
    let mut line = pad(id, 6);
    line.push_str(&pad(kind, 18));
    line.push_str(user);
    let used = line.chars().count() + ip.chars().count();
    let gap = IP_END.saturating_sub(used).max(1);
    line.push_str(&" ".repeat(gap));
    line.push_str(ip);
    line.push(' ');
    line.push_str(when);
    line.push('\n');
    line
}

/// Left-aligned in `width`, with at least one space after.
fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n).max(1)))
}

/// The Type column for an engine session type.
pub fn type_label(settings: &IdracSettings, session_type: &str) -> String {
    settings
        .racadm
        .type_labels
        .get(session_type)
        .cloned()
        .unwrap_or_else(|| session_type.to_ascii_uppercase())
}

const SSNID_SETTING: &str = "idrac.ssnids";

/// The SSNID racadm shows for a session: its id, or with `numeric_ids` (profiles whose
/// ids are UUIDs) a number given to it the first time racadm sees it.
pub fn ssnid(device: &Device, session: &Session) -> String {
    let settings = IdracSettings::of(device);
    if !settings.racadm.numeric_ids || session.id.bytes().all(|b| b.is_ascii_digit()) {
        return session.id.clone();
    }
    let mut map = numbers(device);
    if let Some(n) = map.get(&session.id) {
        return n.to_string();
    }
    let next = device.setting("idrac.next_ssnid").and_then(|v| v.as_u64()).unwrap_or(1);
    // Forget the numbers of sessions that ended.
    let live: Vec<String> = device.store.list(device.now()).into_iter().map(|s| s.id).collect();
    map.retain(|id, _| live.contains(id));
    map.insert(session.id.clone(), next);
    device.set_setting(SSNID_SETTING, json!(map));
    device.set_setting("idrac.next_ssnid", json!(next + 1));
    next.to_string()
}

fn numbers(device: &Device) -> std::collections::BTreeMap<String, u64> {
    device.setting(SSNID_SETTING).and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

/// The session an SSNID names, among the open ones.
pub fn session_of(device: &Device, now: Now, id: &str) -> Option<Session> {
    let sessions = device.store.list(now);
    sessions.into_iter().filter(|s| !s.one_request).find(|s| ssnid(device, s) == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header and a row land on the captured columns (ilo-idrac.md 2.6, \[C\]).
    #[test]
    fn rows_match_the_captured_columns() {
        assert_eq!(
            row("SSNID", "Type", "User", "IP Address", "Login Date/Time"),
            "SSNID Type              User                                          IP Address Login Date/Time\n"
        );
        assert_eq!(
            row("2", "Virtual Console", "root", "10.67.124.128", "12/01/2017 15:05:42"),
            "2     Virtual Console   root                                       10.67.124.128 12/01/2017 15:05:42\n"
        );
        assert_eq!(
            row("9", "SSH", "root", "10.67.51.164", "12/02/2017 08:29:31"),
            "9     SSH               root                                        10.67.51.164 12/02/2017 08:29:31\n"
        );
    }

    /// Over-wide fields keep a separating space, so the seed's regex still splits them.
    #[test]
    fn wide_fields_keep_a_space() {
        let line = row("132562", "SSH", &"u".repeat(70), "10.0.0.1", "01/01/2026 00:00:00");
        assert!(line.starts_with("132562 SSH "), "{line}");
        assert!(line.contains(&format!("{} 10.0.0.1 01/01", "u".repeat(70))), "{line}");
    }
}
