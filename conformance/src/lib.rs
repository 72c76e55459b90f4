//! sessionlab's conformance harness: drives a device, real or emulated, through
//! scenarios that encode its documented session behaviour, and reports what holds.
//!
//! The layers, from the outside in:
//! - [`scenario`]: scenario files (TOML, unknown fields rejected) of abstract steps;
//! - [`target`]: what to run against — `emulated:PROFILE` (started in-process), a real
//!   device URL, or a device of an emulator running elsewhere (`--control`);
//! - [`runner`]: runs scenarios, judges each step, and always cleans up after itself;
//! - [`ledger`]: what the runner must undo, recorded before it acts, and the stop signal
//!   that ends a run early without losing any of it;
//! - [`driver`]: one per vendor protocol, turning steps into wire calls;
//! - [`report`]: PASS / FAIL / WARN / NOT-TESTED as text, JSON or JUnit XML;
//! - [`hygiene`]: runs a client's command against an emulated device and reports the
//!   sessions it left open.
//!
//! The harness speaks only the wire. It uses the emulator crate to start embedded
//! targets, and an emulator's control API ([`control`]) only for what a device's own
//! protocol cannot do (moving a virtual clock, listing every session for hygiene).

pub mod calibrate;
pub mod control;
pub mod driver;
pub mod hygiene;
pub mod junit;
pub mod ledger;
pub mod report;
pub mod runner;
pub mod scenario;
mod stopwatch;
pub mod target;

pub use stopwatch::Stopwatch;
