//! racadm: the iDRAC command line, as the SSH service runs it.
//!
//! Shaped like mini-redis's `cmd/`: [`parse`] turns a command line into words, each
//! subcommand is one module with a struct, `parse(args)` and `apply(device, now, caller)
//! -> CliOutput`, and [`Command`] routes on the subcommand's name. An unknown subcommand
//! is a value ([`Command::Unknown`]) that prints racadm's error, never a crash.
//!
//! | Subcommand | Evidence |
//! |---|---|
//! | `getssninfo [-u USER] [-A]` | layout measured on a capture (ilo-idrac.md 2.6, \[C\]) |
//! | `closessn -i ID \| -a \| -u USER` | `Session N closed successfully.` and the own-session refusal \[C\]; other texts assumed |
//! | `get NAME`, `set NAME VALUE` | timeouts and user attributes (see [`super::attributes`]) |
//! | `racreset` | every session ends |
//! | `getconfig -g cfgSessionManagement [-o OBJ]`, `config -g cfgSessionManagement -o OBJ V` | iDRAC7/8 legacy names of the timeouts, when the profile has `legacy_config` (Dell's RACADM reference) |
//!
//! Texts that no source gives are knobs of [`super::RacadmSettings`].

mod closessn;
mod config;
mod get;
mod getssninfo;
pub mod parse;
mod racreset;
mod set;

use std::borrow::Cow;

pub use closessn::CloseSsn;
pub use config::{Config, GetConfig};
pub use get::Get;
pub use getssninfo::{ssnid, GetSsnInfo};
pub use racreset::RacReset;
pub use set::Set;

use super::IdracSettings;
use crate::clock::Now;
use crate::device::Device;
use crate::vendors::redfish::auth::{role_privileges, Privilege};

/// What a racadm run prints and returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status.
    pub exit: u32,
}

impl CliOutput {
    /// Success with this output.
    pub fn ok(stdout: impl Into<String>) -> CliOutput {
        CliOutput { stdout: stdout.into(), stderr: String::new(), exit: 0 }
    }

    /// Failure with this text, on standard error or standard output per the profile.
    pub fn error(settings: &IdracSettings, text: &str) -> CliOutput {
        let line = format!("{text}\n");
        let r = &settings.racadm;
        if r.errors_on_stderr {
            CliOutput { stdout: String::new(), stderr: line, exit: r.error_exit }
        } else {
            CliOutput { stdout: line, stderr: String::new(), exit: r.error_exit }
        }
    }
}

/// Who runs the command: the session it runs in (closessn must not close it) and the
/// account (for privileges).
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    /// The executing session's id, if it runs in one.
    pub session: Option<&'a str>,
    /// The account name.
    pub user: &'a str,
}

impl Caller<'_> {
    /// Whether the caller's role holds `privilege`.
    pub fn has(&self, device: &Device, privilege: Privilege) -> bool {
        device
            .store
            .account(self.user)
            .is_some_and(|a| role_privileges(&a.role).contains(&privilege))
    }
}

/// A command line that does not fit its subcommand's synopsis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage;

/// One parsed subcommand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `getssninfo`.
    GetSsnInfo(GetSsnInfo),
    /// `closessn`.
    CloseSsn(CloseSsn),
    /// `get`.
    Get(Get),
    /// `set`.
    Set(Set),
    /// `racreset`.
    RacReset(RacReset),
    /// `getconfig` (legacy, iDRAC7/8).
    GetConfig(GetConfig),
    /// `config` (legacy, iDRAC7/8).
    Config(Config),
    /// No subcommand: the short help.
    Help,
    /// A subcommand racadm does not have.
    Unknown(String),
    /// A known subcommand with bad options or arguments.
    BadSyntax(String),
}

impl Command {
    /// Routes on the subcommand name (case-insensitive, as racadm is).
    pub fn parse(argv: &[String]) -> Command {
        let Some((name, args)) = argv.split_first() else { return Command::Help };
        let lower = name.to_ascii_lowercase();
        let parsed = match lower.as_str() {
            "getssninfo" => GetSsnInfo::parse(args).map(Command::GetSsnInfo),
            "closessn" => CloseSsn::parse(args).map(Command::CloseSsn),
            "get" => Get::parse(args).map(Command::Get),
            "set" => Set::parse(args).map(Command::Set),
            "racreset" => RacReset::parse(args).map(Command::RacReset),
            "getconfig" => GetConfig::parse(args).map(Command::GetConfig),
            "config" => Config::parse(args).map(Command::Config),
            "help" | "-h" | "--help" => Ok(Command::Help),
            _ => return Command::Unknown(name.clone()),
        };
        parsed.unwrap_or(Command::BadSyntax(lower))
    }

    /// Runs it against the device.
    pub fn apply(&self, device: &Device, now: Now, caller: &Caller<'_>) -> CliOutput {
        let settings: Cow<'_, IdracSettings> = IdracSettings::of(device);
        match self {
            Command::GetSsnInfo(c) => c.apply(device, now),
            Command::CloseSsn(c) => c.apply(device, now, caller),
            Command::Get(c) => c.apply(device),
            Command::Set(c) => c.apply(device, now, caller),
            Command::RacReset(c) => c.apply(device, caller),
            Command::GetConfig(_) | Command::Config(_) if !settings.racadm.legacy_config => {
                let name = if matches!(self, Command::Config(_)) { "config" } else { "getconfig" };
                let text = settings.racadm.unknown_subcommand.replace("{cmd}", name);
                CliOutput::error(&settings, &text)
            }
            Command::GetConfig(c) => c.apply(device),
            Command::Config(c) => c.apply(device, now, caller),
            Command::Help => CliOutput::ok(HELP),
            Command::Unknown(name) => {
                let text = settings.racadm.unknown_subcommand.replace("{cmd}", name);
                CliOutput::error(&settings, &text)
            }
            Command::BadSyntax(_) => CliOutput::error(&settings, &settings.racadm.invalid_syntax),
        }
    }
}

/// The short help `racadm` prints without a subcommand.
pub const HELP: &str = "\
RACADM usage syntax:

 racadm <subcommand> <options>

Supported subcommands:

closessn              -- close a session
get                   -- display the value of RAC configuration properties
getssninfo            -- display session information
racreset              -- perform a RAC reset operation
set                   -- modify the value of RAC configuration properties
";

/// Runs one command line (`racadm getssninfo`, or `getssninfo` as the `racadm>>` shell
/// takes it).
pub fn run(device: &Device, now: Now, caller: &Caller<'_>, line: &str) -> CliOutput {
    let settings = IdracSettings::of(device);
    let Ok(mut words) = parse::split(line) else {
        return CliOutput::error(&settings, &settings.racadm.invalid_syntax);
    };
    if words.first().is_some_and(|w| w.eq_ignore_ascii_case("racadm")) {
        words.remove(0);
    }
    // The subcommand only: its arguments may carry a password (`set ...Password x`).
    let subcommand = words.first().map(|w| crate::flags::escape_controls(w).into_owned());
    tracing::debug!(
        user = %crate::flags::escape_controls(caller.user),
        subcommand = subcommand.as_deref().unwrap_or(""),
        "racadm"
    );
    let command = Command::parse(&words);
    command.apply(device, now, caller)
}
