//! The iDRAC7/8 legacy racadm names of the session settings: `racadm getconfig -g
//! cfgSessionManagement [-o OBJECT]` and `racadm config -g cfgSessionManagement -o OBJECT
//! VALUE` (Dell's RACADM Command Line Reference Guide for iDRAC7/8, group
//! `cfgSessionManagement`). Each object is another name for an attribute of
//! [`crate::vendors::idrac::attributes`], so the two spellings stay one setting, with the
//! same ranges ("legal values") and the same rule that a timeout applies at the next
//! login. Profiles turn them on with `[idrac.racadm] legacy_config`.

use super::{Caller, CliOutput, Usage};
use crate::clock::Now;
use crate::device::Device;
use crate::vendors::idrac::attributes::{self, Attr, Group, SetError};
use crate::vendors::idrac::IdracSettings;
use crate::vendors::redfish::auth::Privilege;

/// The legacy group.
pub const GROUP: &str = "cfgSessionManagement";

/// The group's objects in `getconfig` order (assumed: Dell's example lists the console
/// maximum first), with the attribute each one names.
pub const OBJECTS: [(&str, Attr); 4] = [
    ("cfgSsnMgtConsRedirMaxSessions", Attr::MaxSessions(Group::VirtualConsole)),
    ("cfgSsnMgtWebserverTimeout", Attr::Timeout(Group::WebServer)),
    ("cfgSsnMgtSshIdleTimeout", Attr::Timeout(Group::Ssh)),
    ("cfgSsnMgtRacadmTimeout", Attr::Timeout(Group::Racadm)),
];

fn object(name: &str) -> Option<(&'static str, Attr)> {
    OBJECTS.iter().copied().find(|(n, _)| n.eq_ignore_ascii_case(name))
}

fn read_group(o: &super::parse::Options) -> Result<(), Usage> {
    match o.value('g') {
        Some(g) if g.eq_ignore_ascii_case(GROUP) => Ok(()),
        _ => Err(Usage),
    }
}

/// `getconfig -g cfgSessionManagement [-o OBJECT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetConfig {
    /// `-o OBJECT`: only this object.
    pub object: Option<String>,
}

impl GetConfig {
    /// Reads `-g GROUP [-o OBJECT]`.
    pub fn parse(args: &[String]) -> Result<GetConfig, Usage> {
        let o = super::parse::Options::read(args, "", "go")?;
        read_group(&o)?;
        if !o.positional.is_empty() {
            return Err(Usage);
        }
        Ok(GetConfig { object: o.value('o').map(str::to_string) })
    }

    /// Prints `object=value` lines.
    pub fn apply(&self, device: &Device) -> CliOutput {
        let settings = IdracSettings::of(device);
        let objects: Vec<(&str, Attr)> = match &self.object {
            Some(name) => match object(name) {
                Some(found) => vec![found],
                None => return CliOutput::error(&settings, &settings.racadm.invalid_attribute),
            },
            None => OBJECTS.to_vec(),
        };
        let mut out = String::new();
        for (name, attr) in objects {
            out.push_str(&format!("{name}={}\n", attributes::get_text(device, attr)));
        }
        CliOutput::ok(out)
    }
}

/// `config -g cfgSessionManagement -o OBJECT VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The object as typed.
    pub object: String,
    /// The value as typed.
    pub value: String,
}

impl Config {
    /// Reads `-g GROUP -o OBJECT VALUE`.
    pub fn parse(args: &[String]) -> Result<Config, Usage> {
        let o = super::parse::Options::read(args, "", "go")?;
        read_group(&o)?;
        match (o.value('o'), o.positional.as_slice()) {
            (Some(object), [value]) => {
                Ok(Config { object: object.to_string(), value: value.clone() })
            }
            _ => Err(Usage),
        }
    }

    /// Sets the object's attribute; administrators only.
    pub fn apply(&self, device: &Device, now: Now, caller: &Caller<'_>) -> CliOutput {
        let settings = IdracSettings::of(device);
        let texts = &settings.racadm;
        let Some((_, attr)) = object(&self.object) else {
            return CliOutput::error(&settings, &texts.invalid_attribute);
        };
        if !caller.has(device, Privilege::ConfigureManager) {
            return CliOutput::error(&settings, &texts.not_permitted);
        }
        match attributes::set(device, attr, &self.value, now) {
            Ok(()) => CliOutput::ok(format!("{}\n", texts.modified)),
            Err(SetError::ReadOnly) => CliOutput::error(&settings, &texts.read_only),
            Err(SetError::Invalid(_)) => CliOutput::error(&settings, &texts.invalid_value),
        }
    }
}
