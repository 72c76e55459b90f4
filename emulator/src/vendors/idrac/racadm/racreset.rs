//! `racadm racreset [soft|hard]`: the iDRAC restarts, so every session ends (reason
//! `restart`), the caller's own included; the SSH service then closes its connection.

use super::{Caller, CliOutput, Usage};
use crate::device::Device;
use crate::vendors::idrac::IdracSettings;
use crate::vendors::redfish::auth::Privilege;

/// `racreset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RacReset;

impl RacReset {
    /// Reads an optional `soft` or `hard` (older racadm's reset types).
    pub fn parse(args: &[String]) -> Result<RacReset, Usage> {
        match args {
            [] => Ok(RacReset),
            [kind] if kind.eq_ignore_ascii_case("soft") || kind.eq_ignore_ascii_case("hard") => {
                Ok(RacReset)
            }
            _ => Err(Usage),
        }
    }

    /// Restarts the device.
    pub fn apply(&self, device: &Device, caller: &Caller<'_>) -> CliOutput {
        let settings = IdracSettings::of(device);
        if !caller.has(device, Privilege::ConfigureManager) {
            return CliOutput::error(&settings, &settings.racadm.not_permitted);
        }
        let ended = device.restart();
        tracing::info!(by = caller.user, ended = ended.len(), "racadm: racreset");
        CliOutput::ok(format!("{}\n", settings.racadm.racreset))
    }
}
