//! Device profiles: every number and quirk of a device, as TOML.
//!
//! Profiles live in `fixtures/profiles/` and are also embedded in the binary, so the
//! default fleet needs no files. Unknown fields are rejected so typos surface at load.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::session::{Account, Policy};

/// Which wire personality serves a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// A standard DMTF Redfish service (DSP0266).
    Redfish,
    /// F5 BIG-IP: iControl REST tokens and iControl SOAP System.Session.
    Bigip,
    /// Solace PubSub+ broker: SEMPv2 sessions.
    Solace,
    /// HPE iLO 4, 5, 6: Redfish with HPE's session resources.
    Ilo,
    /// Dell iDRAC 8, 9, 10: Redfish, session-type pools, racadm over SSH.
    Idrac,
}

impl Vendor {
    /// The name profiles and the control API use (`redfish`, `bigip`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Redfish => "redfish",
            Vendor::Bigip => "bigip",
            Vendor::Solace => "solace",
            Vendor::Ilo => "ilo",
            Vendor::Idrac => "idrac",
        }
    }
}

/// One device profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name, used on the command line (`--profile redfish`).
    pub name: String,
    /// Wire personality.
    pub vendor: Vendor,
    /// One line about the device this profile emulates.
    #[serde(default)]
    pub description: String,
    /// Session rules.
    #[serde(default)]
    pub session: Policy,
    /// Local accounts present at start and after a reset.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Knobs whose default is assumed (evidence [I] or [U]), with why that default.
    #[serde(default)]
    pub assumed: BTreeMap<String, String>,
    /// Knobs backed by evidence, with its source.
    #[serde(default)]
    pub verified: BTreeMap<String, String>,
    /// Settings of the DMTF Redfish personality.
    #[serde(default)]
    pub redfish: Option<crate::vendors::redfish::RedfishSettings>,
    /// Settings of the F5 BIG-IP personality.
    #[serde(default)]
    pub bigip: Option<crate::vendors::bigip::BigipSettings>,
    /// Settings of the Solace PubSub+ personality.
    #[serde(default)]
    pub solace: Option<crate::vendors::solace::SolaceSettings>,
    /// Settings of the HPE iLO personality.
    #[serde(default)]
    pub ilo: Option<crate::vendors::ilo::IloSettings>,
    /// Settings of the Dell iDRAC personality.
    #[serde(default)]
    pub idrac: Option<crate::vendors::idrac::IdracSettings>,
    /// The device's resource tree beyond sessions (systems, chassis), Redfish family.
    #[serde(default)]
    pub tree: Option<crate::resources::TreeSettings>,
}

/// A profile or fleet file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped fields.
    #[error("{origin}: {message}")]
    Parse {
        /// File path or embedded profile name.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Well-formed but inconsistent.
    #[error("{origin}: {message}")]
    Invalid {
        /// File path or embedded profile name.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// No embedded profile and no file by that name.
    #[error("unknown profile {name:?}: not a file, and the embedded profiles are {known}")]
    UnknownProfile {
        /// What was asked for.
        name: String,
        /// The embedded names, comma-separated.
        known: String,
    },
}

/// The profiles compiled into the binary: (name, TOML).
pub const EMBEDDED: &[(&str, &str)] = &[
    ("redfish", include_str!("../../fixtures/profiles/redfish.toml")),
    ("bigip15", include_str!("../../fixtures/profiles/bigip15.toml")),
    ("bigip17", include_str!("../../fixtures/profiles/bigip17.toml")),
    ("bigip17-1-2", include_str!("../../fixtures/profiles/bigip17-1-2.toml")),
    ("solace-appliance", include_str!("../../fixtures/profiles/solace-appliance.toml")),
    ("solace-software-100", include_str!("../../fixtures/profiles/solace-software-100.toml")),
    ("solace-software-1000", include_str!("../../fixtures/profiles/solace-software-1000.toml")),
    ("ilo4", include_str!("../../fixtures/profiles/ilo4.toml")),
    ("ilo5", include_str!("../../fixtures/profiles/ilo5.toml")),
    ("ilo6", include_str!("../../fixtures/profiles/ilo6.toml")),
    ("idrac8", include_str!("../../fixtures/profiles/idrac8.toml")),
    ("idrac9", include_str!("../../fixtures/profiles/idrac9.toml")),
    ("idrac10", include_str!("../../fixtures/profiles/idrac10.toml")),
];

/// A TOML error as `line L, column C: message`, without the excerpt of the file the
/// parser would quote: a fleet may name any file as a profile, and an error must not
/// print another file's content.
pub fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = match error.message().trim_end() {
        // The parser gives no message for input that breaks off (`a = ` at the end).
        "" => "invalid TOML here (an unfinished value, string, array or table?)",
        m => m,
    };
    match error.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    }
}

impl Profile {
    /// Parses and validates a profile; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Profile, ConfigError> {
        let profile: Profile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: toml_error(text, &e),
        })?;
        let problems = profile.problems();
        if problems.is_empty() {
            Ok(profile)
        } else {
            Err(ConfigError::Invalid { origin: origin.to_string(), message: problems.join("; ") })
        }
    }

    /// An embedded profile by name.
    pub fn embedded(name: &str) -> Result<Profile, ConfigError> {
        let (_, text) = EMBEDDED.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            ConfigError::UnknownProfile { name: name.to_string(), known: embedded_names() }
        })?;
        Profile::from_toml(text, &format!("embedded profile {name}"))
    }

    /// A profile file, or an embedded profile when no file has that name.
    pub fn load(name_or_path: &str) -> Result<Profile, ConfigError> {
        let path = Path::new(name_or_path);
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Io { path: name_or_path.to_string(), source })?;
            Profile::from_toml(&text, name_or_path)
        } else {
            Profile::embedded(name_or_path)
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = self.session.problems();
        if self.name.trim().is_empty() {
            problems.push("name must not be empty".to_string());
        }
        let mut users = std::collections::BTreeSet::new();
        for account in &self.accounts {
            if !users.insert(account.user.as_str()) {
                problems.push(format!("account {:?} is listed twice", account.user));
            }
        }
        if self.accounts.is_empty() {
            problems.push("at least one account is needed to log in".to_string());
        }
        if let Some(tree) = &self.tree {
            problems.extend(crate::resources::defaults::problems(tree));
        }
        problems
    }

    /// Every session type this device has, sorted: its personality's wire types, its
    /// `session_types`, and the types its pools and per-type settings name.
    pub fn session_types(&self) -> Vec<String> {
        let p = &self.session;
        let mut types: std::collections::BTreeSet<String> =
            crate::vendors::wire_session_types(self.vendor).iter().map(|t| t.to_string()).collect();
        types.extend(p.session_types.iter().cloned());
        types.extend(p.pools.iter().flat_map(|pool| pool.types.iter().cloned()));
        types.extend(p.idle_timeout_by_type.keys().cloned());
        types.extend(p.sliding_by_type.keys().cloned());
        types.extend(p.per_user_types.iter().cloned());
        types.extend(p.ghost_types.iter().cloned());
        types.into_iter().collect()
    }

    /// Every role an account of this device may have, sorted: its personality's and
    /// those of the profile's accounts.
    pub fn roles(&self) -> Vec<String> {
        let mut roles: std::collections::BTreeSet<String> =
            crate::vendors::roles(self.vendor).iter().map(|r| r.to_string()).collect();
        roles.extend(self.accounts.iter().map(|a| a.role.clone()));
        roles.into_iter().collect()
    }

    /// The first account: the one printed in the fleet table and used by default.
    pub fn default_account(&self) -> &Account {
        &self.accounts[0]
    }
}

/// A duration in the largest whole unit: `30 d`, `10 h`, `20 min`, `45 s`.
fn span(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// One Markdown table row per profile: its session types, limits and timeouts, as the
/// README shows them (a test keeps the README's copy equal to this).
pub fn session_table(profiles: &[Profile]) -> String {
    let code = |t: &str| format!("`{t}`");
    let mut out = String::from(
        "| profile | session types | limits | idle timeout | fixed end |\n|---|---|---|---|---|\n",
    );
    for profile in profiles {
        let p = &profile.session;
        let types: Vec<String> = profile.session_types().iter().map(|t| code(t)).collect();
        let mut limits = Vec::new();
        if let Some(total) = p.max_total {
            limits.push(format!("{total} in all"));
        }
        for pool in &p.pools {
            let members: Vec<String> = pool.types.iter().map(|t| code(t)).collect();
            limits.push(format!("{} {} ({})", code(&pool.name), pool.limit, members.join(", ")));
        }
        if let Some(per_user) = p.max_per_user {
            let mut rule = format!("{per_user} per user");
            if !p.per_user_types.is_empty() {
                let only: Vec<String> = p.per_user_types.iter().map(|t| code(t)).collect();
                rule.push_str(&format!(" of {}", only.join(", ")));
            }
            if !p.per_user_exempt.is_empty() {
                let exempt: Vec<String> = p.per_user_exempt.iter().map(|u| code(u)).collect();
                rule.push_str(&format!(", {} exempt", exempt.join(", ")));
            }
            limits.push(rule);
        }
        if limits.is_empty() {
            limits.push("none".to_string());
        }
        // Sliding idle timeouts, then timeouts use does not renew (fixed ends).
        let (mut idle, mut fixed) = (Vec::new(), Vec::new());
        let default = p.idle_timeout_secs;
        let typed: Vec<&String> = p.idle_timeout_by_type.keys().collect();
        if default > 0 {
            let others = if typed.is_empty() { String::new() } else { " (other types)".into() };
            if p.sliding {
                idle.push(format!("{}{others}", span(default)));
            } else {
                fixed.push(format!("{} from creation{others}", span(default)));
            }
        }
        for (t, secs) in &p.idle_timeout_by_type {
            let text = if *secs == 0 { "none".to_string() } else { span(*secs) };
            if p.sliding_for(t) || *secs == 0 {
                idle.push(format!("{} {text}", code(t)));
            } else {
                fixed.push(format!("{} {text} from creation", code(t)));
            }
        }
        if p.max_lifetime_secs > 0 {
            fixed.push(format!("{} lifetime", span(p.max_lifetime_secs)));
        }
        let join = |v: Vec<String>| if v.is_empty() { "none".to_string() } else { v.join("; ") };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            profile.name,
            types.join(", "),
            limits.join("; "),
            join(idle),
            join(fixed)
        ));
    }
    out
}

/// The names of the embedded profiles, comma-separated.
pub fn embedded_names() -> String {
    EMBEDDED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every embedded profile parses and validates.
    #[test]
    fn embedded_profiles_load() {
        for (name, _) in EMBEDDED {
            let p = Profile::embedded(name).unwrap();
            assert_eq!(&p.name, name);
        }
    }

    /// A misspelt field is an error naming the line, not a silent default.
    #[test]
    fn unknown_fields_are_rejected_with_their_line() {
        let text = "name = \"x\"\nvendor = \"redfish\"\n[session]\nmax_totl = 3\n";
        let err = Profile::from_toml(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("max_totl"), "{err}");
    }

    /// Issue 13 (reliability): a parse error names the line and column but never quotes
    /// the file, which may be any file a fleet names.
    #[test]
    fn parse_errors_do_not_echo_the_file() {
        let text = "root:x:0:0:secret-looking-line\n";
        let err = Profile::from_toml(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        assert!(!err.contains("secret-looking-line"), "{err}");
    }

    /// An unknown profile name lists the embedded ones.
    #[test]
    fn unknown_profile_lists_known_names() {
        let err = Profile::load("no-such-profile").unwrap_err().to_string();
        assert!(err.contains("redfish"), "{err}");
    }
}
