//! The Dell attributes this emulator knows, read and written against the engine.
//!
//! Redfish names them `Group.Index.Name` (`WebServer.1.Timeout`, `Users.2.Password`) in
//! `/redfish/v1/Managers/iDRAC.Embedded.1/Attributes`; racadm names them
//! `iDRAC.Group[.Index].Name` (`iDRAC.WebServer.Timeout`, `iDRAC.Users.2.Password`).
//! Both end up here, so a change through one is seen through the other.
//!
//! - `<Group>.1.Timeout`: the idle timeout of the group's session types
//!   ([`crate::session::SessionStore::set_idle_timeout`]); per the RACADM reference a
//!   change takes effect at the next login (`timeout_change_applies_to_existing = false`).
//! - `<Group>.1.MaxSessions` (`MaxNumberOfSessions` for the web server): the limit of the
//!   pool holding the group's session types; read-only here.
//! - `Users.<slot>.UserName|Password|Privilege|Enable`: accounts by slot. iDRAC numbers
//!   its 16 user slots; slot 1 is reserved, the profile's accounts take 2, 3, ... and
//!   accounts created elsewhere (the control API) take the next free slot. The slot map
//!   is a device setting (`idrac.user_slots`), so a reset forgets it.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{IdracSettings, GUI, RACADM, REDFISH, SSH_TYPE, VIRTUAL_CONSOLE, VNC};
use crate::clock::Now;
use crate::device::Device;
use crate::session::Account;

/// Slots 1 to 16, as on every iDRAC.
pub const SLOTS: std::ops::RangeInclusive<u32> = 1..=16;
const RESERVED_SLOT: u32 = 1;
const SLOT_SETTING: &str = "idrac.user_slots";

/// A group of session settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// `WebServer`: Redfish and GUI sessions.
    WebServer,
    /// `SSH`.
    Ssh,
    /// `Racadm` (remote racadm).
    Racadm,
    /// `VirtualConsole`.
    VirtualConsole,
    /// `VNCServer`.
    Vnc,
}

impl Group {
    /// Every group, in the order listings show them.
    pub const ALL: [Group; 5] =
        [Group::Racadm, Group::Ssh, Group::VirtualConsole, Group::Vnc, Group::WebServer];

    /// Its Dell name.
    pub fn name(self) -> &'static str {
        match self {
            Group::WebServer => "WebServer",
            Group::Ssh => "SSH",
            Group::Racadm => "Racadm",
            Group::VirtualConsole => "VirtualConsole",
            Group::Vnc => "VNCServer",
        }
    }

    /// The engine session types its settings apply to.
    pub fn session_types(self) -> &'static [&'static str] {
        match self {
            Group::WebServer => &[REDFISH, GUI],
            Group::Ssh => &[SSH_TYPE],
            Group::Racadm => &[RACADM],
            Group::VirtualConsole => &[VIRTUAL_CONSOLE],
            Group::Vnc => &[VNC],
        }
    }

    /// The name of its session limit.
    pub fn max_name(self) -> &'static str {
        match self {
            Group::WebServer => "MaxNumberOfSessions",
            _ => "MaxSessions",
        }
    }

    fn range(self, s: &IdracSettings) -> [u64; 2] {
        let t = &s.timeouts;
        match self {
            Group::WebServer => t.web_server,
            Group::Ssh => t.ssh,
            Group::Racadm => t.racadm,
            Group::VirtualConsole => t.virtual_console,
            Group::Vnc => t.vnc,
        }
    }

    fn parse(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name().eq_ignore_ascii_case(name))
    }
}

/// A field of a user slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserField {
    /// `UserName`: setting it on a free slot creates a disabled account without
    /// password; setting it to "" deletes the account.
    UserName,
    /// `Password` (write-only).
    Password,
    /// `Privilege`: 0x1ff Administrator, 0x1f3 Operator, 0x1 ReadOnly, 0 none.
    Privilege,
    /// `Enable`: `Enabled` or `Disabled`.
    Enable,
}

impl UserField {
    const ALL: [UserField; 4] =
        [UserField::Enable, UserField::Password, UserField::Privilege, UserField::UserName];

    fn name(self) -> &'static str {
        match self {
            UserField::UserName => "UserName",
            UserField::Password => "Password",
            UserField::Privilege => "Privilege",
            UserField::Enable => "Enable",
        }
    }
}

/// One attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    /// `<Group>.1.Timeout`.
    Timeout(Group),
    /// `VirtualConsole.1.TimeoutEnable`: whether the virtual console's timeout applies.
    TimeoutEnable,
    /// `<Group>.1.MaxSessions` / `WebServer.1.MaxNumberOfSessions`.
    MaxSessions(Group),
    /// `Users.<slot>.<field>`.
    User(u32, UserField),
}

impl Attr {
    /// Its Redfish name (`WebServer.1.Timeout`).
    pub fn redfish_name(self) -> String {
        match self {
            Attr::Timeout(g) => format!("{}.1.Timeout", g.name()),
            Attr::TimeoutEnable => "VirtualConsole.1.TimeoutEnable".to_string(),
            Attr::MaxSessions(g) => format!("{}.1.{}", g.name(), g.max_name()),
            Attr::User(slot, f) => format!("Users.{slot}.{}", f.name()),
        }
    }

    /// The group key racadm prints (`iDRAC.Embedded.1#WebServer.1`).
    pub fn racadm_key(self) -> String {
        match self {
            Attr::Timeout(g) | Attr::MaxSessions(g) => format!("iDRAC.Embedded.1#{}.1", g.name()),
            Attr::TimeoutEnable => "iDRAC.Embedded.1#VirtualConsole.1".to_string(),
            Attr::User(slot, _) => format!("iDRAC.Embedded.1#Users.{slot}"),
        }
    }

    /// The attribute's own name (`Timeout`).
    pub fn short_name(self) -> &'static str {
        match self {
            Attr::Timeout(_) => "Timeout",
            Attr::TimeoutEnable => "TimeoutEnable",
            Attr::MaxSessions(g) => g.max_name(),
            Attr::User(_, f) => f.name(),
        }
    }

    /// Whether it can only be read.
    pub fn read_only(self) -> bool {
        matches!(self, Attr::MaxSessions(_))
    }

    /// Whether it can only be written.
    pub fn write_only(self) -> bool {
        matches!(self, Attr::User(_, UserField::Password))
    }

    /// Parses a Redfish name (`WebServer.1.Timeout`).
    pub fn parse_redfish(name: &str) -> Option<Attr> {
        let mut parts = name.split('.');
        let (group, index, field) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Attr::from_parts(group, index, field)
    }

    fn from_parts(group: &str, index: &str, field: &str) -> Option<Attr> {
        if group.eq_ignore_ascii_case("Users") {
            let slot: u32 = index.parse().ok().filter(|s| SLOTS.contains(s))?;
            let field =
                UserField::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(field))?;
            return Some(Attr::User(slot, field));
        }
        let group = Group::parse(group)?;
        if index != "1" {
            return None;
        }
        if field.eq_ignore_ascii_case("Timeout") {
            Some(Attr::Timeout(group))
        } else if field.eq_ignore_ascii_case("TimeoutEnable") && group == Group::VirtualConsole {
            Some(Attr::TimeoutEnable)
        } else if field.eq_ignore_ascii_case(group.max_name()) {
            Some(Attr::MaxSessions(group))
        } else {
            None
        }
    }

    /// Every attribute of a group, in name order.
    pub fn of_group(group: Group) -> Vec<Attr> {
        let mut attrs = vec![Attr::MaxSessions(group), Attr::Timeout(group)];
        if group == Group::VirtualConsole {
            attrs.push(Attr::TimeoutEnable);
        }
        attrs
    }

    /// Every attribute of a user slot, in name order.
    pub fn of_slot(slot: u32) -> Vec<Attr> {
        UserField::ALL.into_iter().map(|f| Attr::User(slot, f)).collect()
    }
}

/// What racadm asked for: one attribute or a whole group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One attribute.
    One(Attr),
    /// A group: all of its attributes.
    Group(Vec<Attr>),
}

/// Parses a racadm name: `iDRAC.WebServer.Timeout`, `iDRAC.WebServer.1.Timeout`,
/// `iDRAC.WebServer`, `iDRAC.Users.2.Password`, `iDRAC.Users.2` (case-insensitive).
pub fn parse_racadm(name: &str) -> Option<Target> {
    let parts: Vec<&str> = name.split('.').collect();
    let (fqdd, rest) = parts.split_first()?;
    if !fqdd.eq_ignore_ascii_case("iDRAC") {
        return None;
    }
    match rest {
        [group] => Group::parse(group).map(|g| Target::Group(Attr::of_group(g))),
        [group, index] if group.eq_ignore_ascii_case("Users") => {
            let slot: u32 = index.parse().ok().filter(|s| SLOTS.contains(s))?;
            Some(Target::Group(Attr::of_slot(slot)))
        }
        [group, index] if *index == "1" => {
            Group::parse(group).map(|g| Target::Group(Attr::of_group(g)))
        }
        [group, field] => Attr::from_parts(group, "1", field).map(Target::One),
        [group, index, field] => Attr::from_parts(group, index, field).map(Target::One),
        _ => None,
    }
}

/// Why a value was not set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetError {
    /// The attribute can only be read.
    ReadOnly,
    /// The value is out of range or of the wrong form.
    Invalid(String),
}

/// A JSON value as the text racadm would have typed.
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "Enabled" } else { "Disabled" }.to_string()),
        _ => None,
    }
}

// ----- user slots -----

/// The slot map: slot number to account name, brought up to date with the accounts.
pub fn slots(device: &Device) -> BTreeMap<u32, String> {
    let accounts: Vec<Account> = device.store.accounts();
    let exists = |user: &str| accounts.iter().any(|a| a.user == user);
    let mut map: BTreeMap<u32, String> = device
        .setting(SLOT_SETTING)
        .and_then(|v| serde_json::from_value::<BTreeMap<u32, String>>(v).ok())
        .unwrap_or_default();
    let before = map.clone();
    map.retain(|_, user| exists(user));
    // Profile order first (root is slot 2), then anything else by name.
    let mut wanted: Vec<String> =
        device.profile().accounts.iter().map(|a| a.user.clone()).filter(|u| exists(u)).collect();
    for a in &accounts {
        if !wanted.contains(&a.user) {
            wanted.push(a.user.clone());
        }
    }
    for user in wanted {
        if map.values().any(|u| *u == user) {
            continue;
        }
        if let Some(free) = SLOTS.filter(|s| *s != RESERVED_SLOT).find(|s| !map.contains_key(s)) {
            map.insert(free, user);
        }
    }
    if map != before {
        device.set_setting(SLOT_SETTING, json!(map));
    }
    map
}

fn set_slots(device: &Device, map: &BTreeMap<u32, String>) {
    device.set_setting(SLOT_SETTING, json!(map));
}

/// The slot of `user`, if it has one.
pub fn slot_of(device: &Device, user: &str) -> Option<u32> {
    slots(device).into_iter().find(|(_, u)| u == user).map(|(s, _)| s)
}

fn privilege_of(role: &str) -> u32 {
    match role {
        "Administrator" => 0x1ff,
        "Operator" => 0x1f3,
        "ReadOnly" => 0x1,
        _ => 0,
    }
}

fn role_of(privilege: u32) -> &'static str {
    match privilege {
        0x1ff => "Administrator",
        0x1f3 => "Operator",
        0x1 => "ReadOnly",
        _ => "None",
    }
}

/// The Redfish `RoleId` of an account slot (`None` for a free slot).
pub fn role_id(account: Option<&Account>) -> &str {
    account.map_or("None", |a| a.role.as_str())
}

// ----- reading -----

const VC_TIMEOUT: &str = "idrac.virtual_console_timeout";
const VC_ENABLED: &str = "idrac.virtual_console_timeout_enable";

fn vc_timeout(device: &Device) -> u64 {
    device
        .setting(VC_TIMEOUT)
        .and_then(|v| v.as_u64())
        .unwrap_or(IdracSettings::of(device).timeouts.virtual_console_timeout)
}

fn vc_enabled(device: &Device) -> bool {
    device
        .setting(VC_ENABLED)
        .and_then(|v| v.as_bool())
        .unwrap_or(IdracSettings::of(device).timeouts.virtual_console_enabled)
}

fn timeout_secs(device: &Device, group: Group) -> u64 {
    if group == Group::VirtualConsole {
        return vc_timeout(device);
    }
    let first = group.session_types()[0];
    device.store.with_policy(|policy| policy.idle_timeout_for(first).map_or(0, |d| d.as_secs()))
}

/// The web-server timeout, which `SessionService.SessionTimeout` shows.
pub fn web_server_timeout(device: &Device) -> u64 {
    timeout_secs(device, Group::WebServer)
}

fn max_sessions(device: &Device, group: Group) -> Option<usize> {
    let first = group.session_types()[0];
    device.store.with_policy(|policy| {
        policy.pools.iter().find(|p| p.types.iter().any(|t| t == first)).map(|p| p.limit)
    })
}

/// An attribute's value as Redfish shows it (`null` for the password).
pub fn get(device: &Device, attr: Attr) -> Value {
    match attr {
        Attr::Timeout(g) => json!(timeout_secs(device, g)),
        Attr::TimeoutEnable => json!(if vc_enabled(device) { "Enabled" } else { "Disabled" }),
        Attr::MaxSessions(g) => max_sessions(device, g).map_or(Value::Null, |n| json!(n)),
        Attr::User(slot, field) => {
            let user = slots(device).get(&slot).cloned();
            let account = user.as_deref().and_then(|u| device.store.account(u));
            match field {
                UserField::UserName => json!(user.unwrap_or_default()),
                UserField::Password => Value::Null,
                UserField::Privilege => json!(account.map_or(0, |a| privilege_of(&a.role))),
                UserField::Enable => {
                    let on = account.is_some_and(|a| a.enabled);
                    json!(if on { "Enabled" } else { "Disabled" })
                }
            }
        }
    }
}

/// An attribute's value as racadm prints it after `Name=`.
pub fn get_text(device: &Device, attr: Attr) -> String {
    match (attr, get(device, attr)) {
        (Attr::User(_, UserField::Privilege), Value::Number(n)) => {
            format!("0x{:x}", n.as_u64().unwrap_or(0))
        }
        (_, Value::String(s)) => s,
        (_, Value::Null) => String::new(),
        (_, other) => other.to_string(),
    }
}

/// Every attribute, for the Redfish resource.
pub fn all(device: &Device) -> Map<String, Value> {
    let mut map = Map::new();
    for group in Group::ALL {
        for attr in Attr::of_group(group) {
            map.insert(attr.redfish_name(), get(device, attr));
        }
    }
    for slot in SLOTS {
        for attr in Attr::of_slot(slot) {
            map.insert(attr.redfish_name(), get(device, attr));
        }
    }
    map
}

// ----- writing -----

/// Sets an attribute from its text form; engine effects follow the profile (a password
/// change or deletion ends the user's sessions by default).
pub fn set(device: &Device, attr: Attr, text: &str, now: Now) -> Result<(), SetError> {
    let settings = IdracSettings::of(device);
    match attr {
        Attr::MaxSessions(_) => Err(SetError::ReadOnly),
        Attr::Timeout(group) => {
            let secs: u64 = text.trim().parse().map_err(|_| SetError::Invalid(text.into()))?;
            let [min, max] = group.range(&settings);
            let zero_ok = secs == 0 && settings.timeouts.zero_disables;
            if !zero_ok && !(min..=max).contains(&secs) {
                return Err(SetError::Invalid(text.into()));
            }
            if group == Group::VirtualConsole {
                device.set_setting(VC_TIMEOUT, json!(secs));
                if !vc_enabled(device) {
                    return Ok(());
                }
            }
            for t in group.session_types() {
                device.store.set_idle_timeout(Some(t), secs, now);
            }
            tracing::info!(group = group.name(), secs, "idrac: timeout changed");
            Ok(())
        }
        Attr::TimeoutEnable => {
            let on = match text.trim().to_ascii_lowercase().as_str() {
                "enabled" | "1" | "true" => true,
                "disabled" | "0" | "false" => false,
                _ => return Err(SetError::Invalid(text.into())),
            };
            device.set_setting(VC_ENABLED, json!(on));
            let secs = if on { vc_timeout(device) } else { 0 };
            device.store.set_idle_timeout(Some(super::VIRTUAL_CONSOLE), secs, now);
            Ok(())
        }
        Attr::User(slot, field) => set_user(device, slot, field, text, now),
    }
}

fn set_user(
    device: &Device,
    slot: u32,
    field: UserField,
    text: &str,
    now: Now,
) -> Result<(), SetError> {
    let invalid = || SetError::Invalid(text.to_string());
    if slot == RESERVED_SLOT {
        return Err(SetError::ReadOnly);
    }
    let mut map = slots(device);
    let store = &device.store;
    let current = map.get(&slot).cloned();
    match (field, current) {
        (UserField::UserName, None) if text.is_empty() => Ok(()),
        (UserField::UserName, None) => {
            let mut account = Account::new(text, "", "None");
            account.enabled = false;
            store.add_account(account).map_err(|_| invalid())?;
            map.insert(slot, text.to_string());
            set_slots(device, &map);
            Ok(())
        }
        (UserField::UserName, Some(user)) if text.is_empty() => {
            let (_, ended) = store.delete_account(&user, now).map_err(|_| invalid())?;
            map.remove(&slot);
            set_slots(device, &map);
            tracing::info!(user = %user, ended = ended.len(), "idrac: user deleted");
            Ok(())
        }
        (UserField::UserName, Some(user)) if user == text => Ok(()),
        (UserField::UserName, Some(user)) => {
            // A rename: the old account goes (its sessions per the profile), the new
            // name keeps its password, role and state.
            let old = store.account(&user).ok_or_else(invalid)?;
            if store.account(text).is_some() {
                return Err(invalid());
            }
            let mut renamed = Account::new(text, &old.password, &old.role);
            renamed.enabled = old.enabled;
            store.add_account(renamed).map_err(|_| invalid())?;
            let _ = store.delete_account(&user, now);
            map.insert(slot, text.to_string());
            set_slots(device, &map);
            Ok(())
        }
        (_, None) => Err(invalid()),
        (UserField::Password, Some(user)) => {
            if text.is_empty() {
                return Err(invalid());
            }
            let (_, ended) = store.change_password(&user, text, now).map_err(|_| invalid())?;
            tracing::info!(user = %user, ended = ended.len(), "idrac: password changed");
            Ok(())
        }
        (UserField::Privilege, Some(user)) => {
            let t = text.trim();
            let value = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => t.parse(),
            }
            .map_err(|_| invalid())?;
            let update = crate::session::AccountUpdate {
                role: Some(role_of(value).to_string()),
                ..Default::default()
            };
            store.update_account(&user, &update).map_err(|_| invalid())?;
            Ok(())
        }
        (UserField::Enable, Some(user)) => {
            let enabled = match text.trim().to_ascii_lowercase().as_str() {
                "enabled" | "1" | "true" => true,
                "disabled" | "0" | "false" => false,
                _ => return Err(invalid()),
            };
            let update =
                crate::session::AccountUpdate { enabled: Some(enabled), ..Default::default() };
            store.update_account(&user, &update).map_err(|_| invalid())?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// racadm accepts the group index or leaves it out, in any case.
    #[test]
    fn racadm_names_parse_with_or_without_index() {
        let one = Some(Target::One(Attr::Timeout(Group::WebServer)));
        assert_eq!(parse_racadm("iDRAC.WebServer.Timeout"), one);
        assert_eq!(parse_racadm("idrac.webserver.1.timeout"), one);
        assert_eq!(
            parse_racadm("iDRAC.Users.2.Password"),
            Some(Target::One(Attr::User(2, UserField::Password)))
        );
        assert!(matches!(parse_racadm("iDRAC.SSH"), Some(Target::Group(_))));
        assert_eq!(parse_racadm("iDRAC.Users.17.Password"), None);
        assert_eq!(parse_racadm("BIOS.WebServer.Timeout"), None);
        assert_eq!(parse_racadm("iDRAC.WebServer.Nope"), None);
    }

    /// Redfish names are `Group.Index.Name`.
    #[test]
    fn redfish_names_round_trip() {
        for attr in [
            Attr::Timeout(Group::Vnc),
            Attr::MaxSessions(Group::WebServer),
            Attr::User(3, UserField::Enable),
        ] {
            assert_eq!(Attr::parse_redfish(&attr.redfish_name()), Some(attr));
        }
        assert_eq!(
            Attr::MaxSessions(Group::WebServer).redfish_name(),
            "WebServer.1.MaxNumberOfSessions"
        );
    }
}
