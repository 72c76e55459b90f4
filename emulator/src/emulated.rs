//! The library API for tests: one emulated device on 127.0.0.1, ready when returned.

use std::time::Duration;

use crate::clock::{AdvanceError, Clock, Now};
use crate::device::DeviceHandle;
use crate::fleet::{DeviceSpec, Fleet, FleetConfig, StartError};
use crate::profile::Profile;

/// How to start an [`EmulatedDevice`]; made by [`EmulatedDevice::options`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeviceOptions {
    /// The device's profile.
    pub profile: Profile,
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate made at start.
    pub tls: bool,
    /// Seed that makes tokens and ids reproducible.
    pub seed: Option<u64>,
    /// Name the local process behind each login (client information for hygiene
    /// reports; Linux only, a bounded look into `/proc`): see [`crate::peer`].
    pub client_processes: bool,
    /// Connection timeouts and cap (header, idle keep-alive, SSH login grace, at most
    /// so many connections at once); tests set them to milliseconds.
    pub limits: crate::listener::ConnectionLimits,
}

impl DeviceOptions {
    /// Starts the device; returns once its port accepts.
    pub async fn start(self) -> Result<EmulatedDevice, StartError> {
        let mut spec = DeviceSpec::new(&self.profile.name.clone(), self.profile.into());
        spec.port = self.port;
        spec.tls = Some(self.tls);
        spec.client_processes = self.client_processes;
        let mut config = FleetConfig::new(vec![spec]);
        config.seed = self.seed;
        config.limits = self.limits;
        Ok(EmulatedDevice { fleet: Fleet::start(config).await? })
    }
}

/// One device with a virtual clock and its control API, on port 0 of 127.0.0.1.
/// Dropping it stops both listeners.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use emulator::{EmulatedDevice, profile::Profile};
/// let bmc = EmulatedDevice::start(Profile::embedded("redfish")?).await?;
/// println!("{} (control {})", bmc.url(), bmc.control());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EmulatedDevice {
    fleet: Fleet,
}

impl EmulatedDevice {
    /// Starts a device from `profile`.
    pub async fn start(profile: Profile) -> Result<EmulatedDevice, StartError> {
        EmulatedDevice::start_with(profile, None).await
    }

    /// Starts a device whose tokens and ids follow `seed`.
    pub async fn start_with(
        profile: Profile,
        seed: Option<u64>,
    ) -> Result<EmulatedDevice, StartError> {
        let mut options = EmulatedDevice::options(profile);
        options.seed = seed;
        options.start().await
    }

    /// Options for a device of `profile` (port, TLS, seed), started with
    /// [`DeviceOptions::start`]:
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use emulator::{EmulatedDevice, profile::Profile};
    /// let mut options = EmulatedDevice::options(Profile::embedded("ilo5")?);
    /// options.tls = true;     // a self-signed certificate made at start
    /// options.port = 8443;
    /// let ilo = options.start().await?;
    /// assert!(ilo.url().starts_with("https://"));
    /// # Ok(()) }
    /// ```
    pub fn options(profile: Profile) -> DeviceOptions {
        DeviceOptions {
            profile,
            port: 0,
            tls: false,
            seed: None,
            client_processes: false,
            limits: crate::listener::ConnectionLimits::default(),
        }
    }

    /// The device's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        self.fleet.devices()[0].url()
    }

    /// Where the device's SSH service listens, for personalities that have one.
    pub fn ssh_addr(&self) -> Option<std::net::SocketAddr> {
        self.fleet.devices()[0].ssh_addr
    }

    /// The control API's base URL.
    pub fn control(&self) -> String {
        self.fleet.control_url()
    }

    /// How many connections the device refused at its connection cap.
    pub fn connections_refused(&self) -> u64 {
        self.fleet.devices()[0].gate.refused_total()
    }

    /// The device itself, for assertions on its store.
    pub fn device(&self) -> &DeviceHandle {
        &self.fleet.devices()[0].device
    }

    /// The first account of the profile: (user, password).
    pub fn credentials(&self) -> (String, String) {
        let account = self.device().profile().default_account();
        (account.user.clone(), account.password.clone())
    }

    /// The device's clock.
    pub fn clock(&self) -> &Clock {
        self.fleet.clock()
    }

    /// Moves the virtual clock and ends what expired, as `POST /_sessionlab/clock/advance` does.
    pub fn advance(&self, by: Duration) -> Result<Now, AdvanceError> {
        let now = self.fleet.clock().advance(by)?;
        self.fleet.state().sweep_all();
        Ok(now)
    }
}
