//! `racadm set NAME VALUE`: changes one attribute. A timeout applies from the next login
//! (RACADM reference: "Changes to idle time out settings take effect at the next
//! login"); a password change or a deletion (`UserName` set to "") ends the user's
//! sessions per the profile. Success prints `Object value modified successfully`
//! (assumed, the iDRAC9 text).

use super::{Caller, CliOutput, Usage};
use crate::clock::Now;
use crate::device::Device;
use crate::vendors::idrac::attributes::{self, Attr, SetError, Target, UserField};
use crate::vendors::idrac::IdracSettings;
use crate::vendors::redfish::auth::Privilege;

/// `set`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    /// The name as typed.
    pub name: String,
    /// The value as typed.
    pub value: String,
}

impl Set {
    /// Reads `NAME VALUE`.
    pub fn parse(args: &[String]) -> Result<Set, Usage> {
        match args {
            [name, value] if !name.starts_with('-') => {
                Ok(Set { name: name.clone(), value: value.clone() })
            }
            _ => Err(Usage),
        }
    }

    /// Sets it. Administrators may set anything; other users only their own password.
    pub fn apply(&self, device: &Device, now: Now, caller: &Caller<'_>) -> CliOutput {
        let settings = IdracSettings::of(device);
        let texts = &settings.racadm;
        let attr = match attributes::parse_racadm(&self.name) {
            Some(Target::One(attr)) => attr,
            Some(Target::Group(_)) => return CliOutput::error(&settings, &texts.invalid_syntax),
            None => return CliOutput::error(&settings, &texts.invalid_attribute),
        };
        let own_password = matches!(attr, Attr::User(slot, UserField::Password)
            if attributes::slot_of(device, caller.user) == Some(slot));
        let needed =
            if own_password { Privilege::ConfigureSelf } else { Privilege::ConfigureManager };
        if !caller.has(device, needed) {
            return CliOutput::error(&settings, &texts.not_permitted);
        }
        match attributes::set(device, attr, &self.value, now) {
            Ok(()) => CliOutput::ok(format!("{}\n", texts.modified)),
            Err(SetError::ReadOnly) => CliOutput::error(&settings, &texts.read_only),
            Err(SetError::Invalid(_)) => CliOutput::error(&settings, &texts.invalid_value),
        }
    }
}
