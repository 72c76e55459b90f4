//! Wall-time measurement for reports.
//!
//! The workspace forbids reading the system clock outside `emulator/src/clock.rs`, so
//! that emulated time stays injectable. Timing a run against a real device is the
//! harness's edge, where wall time is the thing measured: this is the one place in the
//! conformance crate that reads it. Nothing here decides an outcome; waits on real
//! devices use `tokio::time::sleep`, and emulated targets move a virtual clock.

use std::time::{Duration, Instant};

/// Measures the wall time since it was started.
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts measuring.
    #[allow(clippy::disallowed_methods)] // The harness's edge; see the module comment.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Wall time since start.
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// The wall time now, as RFC 3339 in UTC to the second (`2026-11-30T13:47:07Z`): when a
/// run started, for reports.
#[allow(clippy::disallowed_methods)] // The harness's edge; see the module comment.
pub fn wall_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
