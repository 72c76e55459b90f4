//! sessionlab's emulator: faithful fakes of the management-session stores of BMCs,
//! load balancers and message brokers, served over their real protocols.
//!
//! The layers, from the inside out:
//! - [`clock`]: real or virtual time; the only code that reads the system clock;
//! - [`session`]: the vendor-neutral session engine (limits, timeouts, invalidation, events);
//! - [`profile`]: device profiles (TOML) that carry every number and quirk;
//! - [`device`]: one emulated device, profile + accounts + session store + resource tree;
//! - [`resources`]: the device's JSON resources beyond sessions (systems, chassis, power);
//! - [`vendors`]: wire personalities that translate a protocol onto the engine;
//! - [`fleet`] and [`control`]: many devices with their listeners, and the `/_sessionlab/` API;
//! - [`listener`]: connection timeouts, caps and the bounded drain of every listener;
//! - [`peer`]: which local process is on the other end of a connection (hygiene mode).

pub mod clock;
pub mod control;
pub mod device;
mod emulated;
pub mod flags;
pub mod fleet;
pub mod listener;
pub mod peer;
pub mod profile;
pub mod resources;
pub mod session;
pub mod tables;
pub mod tls;
pub mod vendors;
pub use emulated::{DeviceOptions, EmulatedDevice};
