//! `racadm closessn -i ID | -a | -u USER`: ends sessions (reason `admin-delete`).
//!
//! Dell's guide: it needs the Administrator permission, `-i` "Cannot close the current
//! session", `-a` "ends all the sessions other than the current session". Captured texts
//! (\[C\]): `Session 2 closed successfully.` and `Closing the executing session is not
//! permitted.`; the texts for `-a`, `-u` and an unknown id are knobs (assumed).

use super::getssninfo::session_of;
use super::parse::Options;
use super::{Caller, CliOutput, Usage};
use crate::clock::Now;
use crate::device::Device;
use crate::session::EndReason;
use crate::vendors::idrac::IdracSettings;
use crate::vendors::redfish::auth::Privilege;

/// Which sessions to close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseSsn {
    /// `-i ID`.
    Id(String),
    /// `-a`.
    All,
    /// `-u USER`.
    User(String),
}

impl CloseSsn {
    /// Reads exactly one of `-i ID`, `-a`, `-u USER`.
    pub fn parse(args: &[String]) -> Result<CloseSsn, Usage> {
        let o = Options::read(args, "a", "iu")?;
        if !o.positional.is_empty() || o.given.len() != 1 {
            return Err(Usage);
        }
        if o.has('a') {
            Ok(CloseSsn::All)
        } else if let Some(id) = o.value('i') {
            Ok(CloseSsn::Id(id.to_string()))
        } else {
            o.value('u').map(|u| CloseSsn::User(u.to_string())).ok_or(Usage)
        }
    }

    /// Ends the sessions asked for, never the caller's own.
    pub fn apply(&self, device: &Device, now: Now, caller: &Caller<'_>) -> CliOutput {
        let settings = IdracSettings::of(device);
        let texts = &settings.racadm;
        if !caller.has(device, Privilege::ConfigureManager) {
            return CliOutput::error(&settings, &texts.not_permitted);
        }
        let own = |id: &str| caller.session == Some(id);
        match self {
            CloseSsn::Id(ssnid) => {
                let Some(target) = session_of(device, now, ssnid) else {
                    return CliOutput::error(
                        &settings,
                        &texts.no_such_session.replace("{id}", ssnid),
                    );
                };
                if own(&target.id) {
                    return CliOutput::error(&settings, &texts.own_session);
                }
                if device.store.end(&target.id, EndReason::AdminDelete, now).is_err() {
                    return CliOutput::error(
                        &settings,
                        &texts.no_such_session.replace("{id}", ssnid),
                    );
                }
                tracing::info!(by = caller.user, session = %target.id, "racadm: closessn -i");
                CliOutput::ok(format!("{}\n", texts.closed.replace("{id}", ssnid)))
            }
            CloseSsn::All => {
                let ended = end_where(device, now, |s| !own(&s.id));
                tracing::info!(by = caller.user, ended, "racadm: closessn -a");
                CliOutput::ok(format!("{}\n", texts.closed_all))
            }
            CloseSsn::User(user) => {
                let ended = end_where(device, now, |s| s.user == *user && !own(&s.id));
                tracing::info!(by = caller.user, user = %user, ended, "racadm: closessn -u");
                if ended == 0 {
                    return CliOutput::error(
                        &settings,
                        &texts.no_user_sessions.replace("{user}", user),
                    );
                }
                CliOutput::ok(format!("{}\n", texts.closed_user.replace("{user}", user)))
            }
        }
    }
}

fn end_where(device: &Device, now: Now, pick: impl Fn(&crate::session::Session) -> bool) -> usize {
    device
        .store
        .list(now)
        .into_iter()
        .filter(|s| !s.one_request && pick(s))
        .filter(|s| device.store.end(&s.id, EndReason::AdminDelete, now).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    /// Exactly one of `-i`, `-a`, `-u`.
    #[test]
    fn exactly_one_selector() {
        assert_eq!(CloseSsn::parse(&words("-i 7")), Ok(CloseSsn::Id("7".into())));
        assert_eq!(CloseSsn::parse(&words("-a")), Ok(CloseSsn::All));
        assert_eq!(CloseSsn::parse(&words("-u root")), Ok(CloseSsn::User("root".into())));
        for bad in ["", "-a -i 3", "7", "-i", "-x"] {
            assert_eq!(CloseSsn::parse(&words(bad)), Err(Usage), "{bad:?}");
        }
    }
}
