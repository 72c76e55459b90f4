//! `racadm get NAME`: one attribute or a whole group, as
//!
//! ```text
//! [Key=iDRAC.Embedded.1#WebServer.1]
//! Timeout=1800
//! ```
//!
//! (the iDRAC9 racadm `get` layout; assumed, no capture in the evidence). The password
//! is write-only and shows as `Password=******** (Write-Only)`.

use super::{CliOutput, Usage};
use crate::device::Device;
use crate::vendors::idrac::attributes::{self, Attr, Target};
use crate::vendors::idrac::IdracSettings;

/// `get`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Get {
    /// The name as typed.
    pub name: String,
}

impl Get {
    /// Reads `NAME`.
    pub fn parse(args: &[String]) -> Result<Get, Usage> {
        match args {
            [name] if !name.starts_with('-') => Ok(Get { name: name.clone() }),
            _ => Err(Usage),
        }
    }

    /// Prints the attribute or group.
    pub fn apply(&self, device: &Device) -> CliOutput {
        let settings = IdracSettings::of(device);
        let attrs = match attributes::parse_racadm(&self.name) {
            Some(Target::One(attr)) => vec![attr],
            Some(Target::Group(attrs)) => attrs,
            None => return CliOutput::error(&settings, &settings.racadm.invalid_attribute),
        };
        let mut out = format!("[Key={}]\n", attrs[0].racadm_key());
        for attr in attrs {
            out.push_str(&line(device, attr));
        }
        CliOutput::ok(out)
    }
}

fn line(device: &Device, attr: Attr) -> String {
    if attr.write_only() {
        format!("{}=******** (Write-Only)\n", attr.short_name())
    } else {
        format!("{}={}\n", attr.short_name(), attributes::get_text(device, attr))
    }
}
