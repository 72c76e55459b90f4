//! Targets: what the scenarios run against.
//!
//! - `emulated:PROFILE`: an emulated device started in this process on 127.0.0.1 with a
//!   virtual clock (a profile name or a profile file). Each scenario gets its own device,
//!   so scenarios run in parallel and `wait` is instant.
//! - `http(s)://HOST:PORT` with `--vendor`, `--user`, `--password` (and `--insecure` for
//!   self-signed certificates): a real device. Waits are real and bounded by
//!   `--max-wait`; destructive scenarios need `--allow-destructive`.
//! - the same with `--control URL`: a device of an emulator running as a separate
//!   process. The control API advances its virtual clock, so waits are instant again,
//!   and tells the vendor and profile.

use std::sync::Arc;
use std::time::Duration;

use emulator::profile::Profile;
use emulator::EmulatedDevice;

use crate::control::{ClockMode, Control};
use crate::driver::{self, Credentials, Driver, DriverConfig};

/// A target that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

/// What the user asked for on the command line.
#[derive(Clone, Debug, Default)]
pub struct TargetOptions {
    /// `emulated:PROFILE` or a device URL.
    pub target: String,
    /// Vendor (driver) of a URL target.
    pub vendor: Option<String>,
    /// The profile a URL target is expected to follow (its documented numbers: table
    /// size). For `emulated:` targets the profile is in the target itself.
    pub profile: Option<String>,
    /// User (default for emulated targets: the profile's first account).
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Accept invalid TLS certificates.
    pub insecure: bool,
    /// Control API of an emulator running as a separate process.
    pub control: Option<String>,
    /// Device name in that emulator (default: the one serving the target URL).
    pub device: Option<String>,
    /// Seed for the tokens and ids of emulated devices.
    pub seed: Option<u64>,
    /// How long a real device may take to come back after a restart.
    pub restart_timeout: Duration,
}

/// A resolved target description; [`TargetSpec::connect`] makes a [`Target`] from it
/// (for `emulated:` targets, a new device each time).
#[derive(Clone, Debug)]
pub struct TargetSpec {
    label: String,
    vendor: String,
    profile: Option<Arc<Profile>>,
    credentials: Credentials,
    kind: SpecKind,
    restart_timeout: Duration,
}

#[derive(Clone, Debug)]
enum SpecKind {
    Embedded { seed: Option<u64> },
    Remote { url: String, insecure: bool, control: Option<(Control, String)>, clock: ClockMode },
}

/// How time passes on a target.
#[derive(Clone, Debug)]
pub enum TimeSource {
    /// A virtual clock moved through this control API.
    Virtual(Control),
    /// Real time.
    Real,
}

/// A connected target: a driver for it, and what the runner knows about it.
pub struct Target {
    /// How reports name it (`emulated:redfish`, the URL).
    pub label: String,
    /// The device's base URL.
    pub url: String,
    /// Vendor (driver name).
    pub vendor: String,
    /// The profile it is expected to follow, if known.
    pub profile: Option<Arc<Profile>>,
    /// The target's own credentials.
    pub credentials: Credentials,
    /// The emulator's control API and the device's name there, if emulated.
    pub control: Option<(Control, String)>,
    /// How `wait` passes time.
    pub time: TimeSource,
    /// The driver.
    pub driver: Box<dyn Driver>,
    /// Whether this device was started for this target alone (nobody else uses it).
    pub private: bool,
    _device: Option<EmulatedDevice>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("label", &self.label)
            .field("url", &self.url)
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

/// The vendor (driver name) of a profile: `redfish`.
pub fn vendor_name(profile: &Profile) -> String {
    serde_json::to_value(profile.vendor)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{:?}", profile.vendor).to_lowercase())
}

impl TargetSpec {
    /// Resolves the options: loads profiles, asks the control API (if any) about the
    /// device, checks that a driver exists. Does not touch a real device.
    pub async fn resolve(opts: &TargetOptions) -> Result<TargetSpec, TargetError> {
        let err = |m: String| TargetError(m);
        if let Some(name) = opts.target.strip_prefix("emulated:") {
            if opts.control.is_some() {
                return Err(err(
                    "--control is for an emulator running as a separate process; an emulated: target starts its own".to_string(),
                ));
            }
            let profile = Profile::load(name).map_err(|e| err(e.to_string()))?;
            let vendor = vendor_name(&profile);
            if let Some(v) = &opts.vendor {
                if *v != vendor {
                    return Err(err(format!(
                        "--vendor {v} does not match profile {:?}, whose vendor is {vendor}",
                        profile.name
                    )));
                }
            }
            let account = profile.default_account();
            let credentials = Credentials::new(
                opts.user.clone().unwrap_or_else(|| account.user.clone()),
                opts.password.clone().unwrap_or_else(|| account.password.clone()),
            );
            check_vendor(&vendor)?;
            return Ok(TargetSpec {
                label: format!("emulated:{}", profile.name),
                vendor,
                profile: Some(Arc::new(profile)),
                credentials,
                kind: SpecKind::Embedded { seed: opts.seed },
                restart_timeout: opts.restart_timeout,
            });
        }
        let url = opts.target.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(err(format!(
                "--target {:?}: give emulated:PROFILE or an http(s)://HOST:PORT URL",
                opts.target
            )));
        }
        let mut profile = match &opts.profile {
            Some(p) => Some(Arc::new(Profile::load(p).map_err(|e| err(e.to_string()))?)),
            None => None,
        };
        let mut vendor = opts.vendor.clone();
        let mut control = None;
        let mut clock = ClockMode::Real;
        if let Some(base) = &opts.control {
            let c = Control::new(base).map_err(err)?;
            let device = c
                .find_device(Some(&url), opts.device.as_deref())
                .await
                .map_err(|e| err(e.to_string()))?;
            clock = c.clock_mode().await.map_err(|e| err(e.to_string()))?;
            match &vendor {
                Some(v) if *v != device.vendor => {
                    return Err(err(format!(
                        "--vendor {v}, but the emulator says device {:?} is {}",
                        device.name, device.vendor
                    )))
                }
                _ => vendor = Some(device.vendor.clone()),
            }
            if profile.is_none() {
                profile = Profile::load(&device.profile).ok().map(Arc::new);
            }
            control = Some((c, device.name));
        }
        let vendor = vendor.ok_or_else(|| {
            err(format!(
                "--vendor is needed for a device URL (one of: {})",
                driver::VENDORS.join(", ")
            ))
        })?;
        check_vendor(&vendor)?;
        let default_account =
            profile.as_ref().filter(|_| control.is_some()).map(|p| p.default_account().clone());
        let user = opts
            .user
            .clone()
            .or_else(|| default_account.as_ref().map(|a| a.user.clone()))
            .ok_or_else(|| err("--user is needed for a device URL".to_string()))?;
        let password = opts
            .password
            .clone()
            .or_else(|| default_account.as_ref().map(|a| a.password.clone()))
            .ok_or_else(|| err("--password is needed for a device URL".to_string()))?;
        Ok(TargetSpec {
            label: url.clone(),
            vendor,
            profile,
            credentials: Credentials::new(user, password),
            kind: SpecKind::Remote { url, insecure: opts.insecure, control, clock },
            restart_timeout: opts.restart_timeout,
        })
    }

    /// How reports name the target.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its vendor.
    pub fn vendor(&self) -> &str {
        &self.vendor
    }

    /// The profile it follows, if known.
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_deref()
    }

    /// Whether every connect starts a fresh emulated device (scenarios may then run in
    /// parallel).
    pub fn is_embedded(&self) -> bool {
        matches!(self.kind, SpecKind::Embedded { .. })
    }

    /// Whether it is a real device (no control API): destructive scenarios need
    /// `--allow-destructive`, and bad-password attempts cost.
    pub fn is_real_device(&self) -> bool {
        matches!(self.kind, SpecKind::Remote { control: None, .. })
    }

    /// A connected target. For `emulated:` targets this starts a new device.
    pub async fn connect(&self) -> Result<Target, TargetError> {
        let err = |m: String| TargetError(m);
        let (url, insecure, control, time, private, device) = match &self.kind {
            SpecKind::Embedded { seed } => {
                let profile = self.profile.as_deref().expect("emulated targets have a profile");
                let device = EmulatedDevice::start_with(profile.clone(), *seed)
                    .await
                    .map_err(|e| err(format!("cannot start the emulated device: {e}")))?;
                let c = Control::new(&device.control()).map_err(err)?;
                let name = device.device().name().to_string();
                (
                    device.url(),
                    false,
                    Some((c.clone(), name)),
                    TimeSource::Virtual(c),
                    true,
                    Some(device),
                )
            }
            SpecKind::Remote { url, insecure, control, clock } => {
                let time = match (control, clock) {
                    (Some((c, _)), ClockMode::Virtual) => TimeSource::Virtual(c.clone()),
                    _ => TimeSource::Real,
                };
                (url.clone(), *insecure, control.clone(), time, false, None)
            }
        };
        let emulated = control.is_some();
        let driver = driver::for_vendor(
            &self.vendor,
            DriverConfig {
                url: url.clone(),
                admin: self.credentials.clone(),
                insecure,
                restart_grace: if emulated { Duration::ZERO } else { Duration::from_secs(15) },
                restart_timeout: if emulated {
                    Duration::from_secs(10)
                } else {
                    self.restart_timeout
                },
            },
        )
        .map_err(err)?;
        Ok(Target {
            label: self.label.clone(),
            url,
            vendor: self.vendor.clone(),
            profile: self.profile.clone(),
            credentials: self.credentials.clone(),
            control,
            time,
            driver,
            private,
            _device: device,
        })
    }
}

fn check_vendor(vendor: &str) -> Result<(), TargetError> {
    if driver::VENDORS.contains(&vendor) {
        Ok(())
    } else {
        Err(TargetError(format!(
            "no driver for vendor {vendor:?}; drivers exist for: {}",
            driver::VENDORS.join(", ")
        )))
    }
}

impl Target {
    /// The profile's name, if known.
    pub fn profile_name(&self) -> Option<&str> {
        self.profile.as_deref().map(|p| p.name.as_str())
    }

    /// The profile's session table size, if known.
    pub fn table_size(&self) -> Option<usize> {
        self.profile.as_deref().and_then(|p| p.session.max_total)
    }
}
