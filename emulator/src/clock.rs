//! Time for the emulator: real, or virtual and moved by hand.
//!
//! This is the only module that reads the system clock (clippy's `disallowed-methods`
//! enforces it). Everything else takes a [`Now`] — a monotonic reading and the wall time
//! that goes with it — so wire timestamps and deadlines always move together, and a
//! virtual clock can jump 30 days forward in one call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::watch;

/// The real monotonic time that socket timeouts count in (HTTP header and idle
/// timeouts, SSH login grace, log rate limits): those belong to the emulator's servers,
/// not to a device, so the virtual clock does not move them. tokio's clock, so a test
/// may pause it.
#[allow(clippy::disallowed_methods)] // the one place that reads the system clock
pub fn socket_now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// One reading of a clock: monotonic time since the clock's origin, and wall time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Time since the clock's origin; never goes backwards. Deadlines are kept in it.
    pub mono: Duration,
    /// The wall time that goes with `mono`; what wire timestamps show.
    pub utc: DateTime<Utc>,
}

impl Now {
    /// A reading `secs` seconds after a fixed origin (2026-01-01T00:00:00Z): for tests
    /// that pass time explicitly.
    pub fn at_secs(secs: u64) -> Now {
        let origin = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("valid date");
        Now::from_origin(origin, Duration::from_secs(secs))
    }

    fn from_origin(origin: DateTime<Utc>, mono: Duration) -> Now {
        let delta = chrono::Duration::from_std(mono).unwrap_or(chrono::Duration::MAX);
        Now { mono, utc: origin.checked_add_signed(delta).unwrap_or(origin) }
    }

    /// This reading moved forward by `d`.
    pub fn plus(self, d: Duration) -> Now {
        let delta = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        Now { mono: self.mono + d, utc: self.utc.checked_add_signed(delta).unwrap_or(self.utc) }
    }

    /// The wall time at monotonic instant `mono`, read against this reading.
    pub fn utc_at(self, mono: Duration) -> DateTime<Utc> {
        let signed = if mono >= self.mono {
            chrono::Duration::from_std(mono - self.mono).unwrap_or(chrono::Duration::MAX)
        } else {
            -chrono::Duration::from_std(self.mono - mono).unwrap_or(chrono::Duration::MAX)
        };
        self.utc.checked_add_signed(signed).unwrap_or(self.utc)
    }
}

/// Which kind of clock a device runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// The machine's clock.
    Real,
    /// Starts at the machine's time and moves only when advanced.
    Virtual,
}

impl std::str::FromStr for ClockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "real" => Ok(ClockMode::Real),
            "virtual" => Ok(ClockMode::Virtual),
            other => Err(format!("unknown clock mode {other:?}: expected `real` or `virtual`")),
        }
    }
}

/// Why the clock cannot be moved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdvanceError {
    /// A real clock moves only by itself.
    #[error(
        "the clock is real: only a virtual clock can be advanced (start with --clock virtual)"
    )]
    NotVirtual,
    /// The virtual clock cannot represent the time asked for (about 584 years past its
    /// start): it is refused rather than stopped short, which would freeze every expiry.
    #[error(
        "the virtual clock cannot move {asked_secs} s further: it stands {elapsed_secs} s past \
         its start and reaches at most {max_secs} s (POST /_sessionlab/reset does not rewind \
         it; restart the emulator)"
    )]
    OutOfRange {
        /// Seconds the clock already moved.
        elapsed_secs: u64,
        /// Seconds asked for.
        asked_secs: u64,
        /// The furthest the clock can be, in seconds past its start.
        max_secs: u64,
    },
}

/// Real time spent on one piece of work (a request's handling, for its log line): not
/// the device's time, which a virtual clock may hold still or move by days meanwhile.
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    #[allow(clippy::disallowed_methods)] // the one place that reads the system clock
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Real time since [`Stopwatch::start`].
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A cheap-to-clone handle on a real or virtual clock. Clones share one time.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    origin: Instant,
    origin_utc: DateTime<Utc>,
    /// `Some` for a virtual clock: nanoseconds advanced since the origin.
    offset_nanos: Option<AtomicU64>,
    /// Bumped on every advance so reapers can re-check their deadlines.
    changed: watch::Sender<u64>,
}

impl Clock {
    /// The machine's clock.
    pub fn real() -> Clock {
        Clock::build(None, None)
    }

    /// A virtual clock that starts at the machine's current time.
    pub fn virtual_now() -> Clock {
        Clock::build(None, Some(AtomicU64::new(0)))
    }

    /// A virtual clock that starts at `start`.
    pub fn virtual_at(start: DateTime<Utc>) -> Clock {
        Clock::build(Some(start), Some(AtomicU64::new(0)))
    }

    /// A clock of the given mode.
    pub fn new(mode: ClockMode) -> Clock {
        match mode {
            ClockMode::Real => Clock::real(),
            ClockMode::Virtual => Clock::virtual_now(),
        }
    }

    #[allow(clippy::disallowed_methods)] // the one place that reads the system clock
    fn build(start: Option<DateTime<Utc>>, offset_nanos: Option<AtomicU64>) -> Clock {
        let (changed, _) = watch::channel(0);
        Clock {
            inner: Arc::new(Inner {
                origin: Instant::now(),
                origin_utc: start.unwrap_or_else(Utc::now),
                offset_nanos,
                changed,
            }),
        }
    }

    /// Real or virtual.
    pub fn mode(&self) -> ClockMode {
        if self.inner.offset_nanos.is_some() {
            ClockMode::Virtual
        } else {
            ClockMode::Real
        }
    }

    /// The current reading.
    #[allow(clippy::disallowed_methods)] // the one place that reads the system clock
    pub fn now(&self) -> Now {
        match &self.inner.offset_nanos {
            Some(offset) => Now::from_origin(
                self.inner.origin_utc,
                Duration::from_nanos(offset.load(Ordering::SeqCst)),
            ),
            None => Now { mono: self.inner.origin.elapsed(), utc: Utc::now() },
        }
    }

    /// The Unix second the clock reads now, as `now().utc.timestamp()` gives it but
    /// without building the reading's date (what a cache of one value per second keys
    /// on: the `Date` of every answer).
    #[allow(clippy::disallowed_methods)] // the one place that reads the system clock
    pub fn unix_second(&self) -> i64 {
        let origin = self.inner.origin_utc;
        match &self.inner.offset_nanos {
            Some(offset) => {
                let nanos =
                    u64::from(origin.timestamp_subsec_nanos()) + offset.load(Ordering::SeqCst);
                let seconds = i64::try_from(nanos / 1_000_000_000).unwrap_or(i64::MAX);
                origin.timestamp().saturating_add(seconds)
            }
            None => Utc::now().timestamp(),
        }
    }

    /// Moves a virtual clock forward by `by` and wakes everything waiting on a deadline.
    pub fn advance(&self, by: Duration) -> Result<Now, AdvanceError> {
        let offset = self.inner.offset_nanos.as_ref().ok_or(AdvanceError::NotVirtual)?;
        let origin = self.inner.origin_utc;
        // The furthest representable reading: the nanosecond counter's end, or chrono's.
        let fits = |nanos: u64| {
            let d = Duration::from_nanos(nanos);
            chrono::Duration::from_std(d).ok().and_then(|d| origin.checked_add_signed(d)).is_some()
        };
        let asked = u64::try_from(by.as_nanos()).ok();
        offset
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                asked.and_then(|a| o.checked_add(a)).filter(|n| fits(*n))
            })
            .map_err(|elapsed| AdvanceError::OutOfRange {
                elapsed_secs: elapsed / 1_000_000_000,
                asked_secs: by.as_secs(),
                max_secs: u64::MAX / 1_000_000_000,
            })?;
        self.inner.changed.send_modify(|generation| *generation += 1);
        Ok(self.now())
    }

    /// How far a virtual clock has been advanced in all (zero for a real clock).
    pub fn offset(&self) -> Duration {
        self.inner
            .offset_nanos
            .as_ref()
            .map_or(Duration::ZERO, |o| Duration::from_nanos(o.load(Ordering::SeqCst)))
    }

    /// A receiver that changes whenever the clock is advanced (never, for a real clock).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A virtual clock moves only when advanced, and wall and monotonic time move together.
    #[test]
    fn virtual_clock_moves_only_when_advanced() {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let clock = Clock::virtual_at(start);
        let a = clock.now();
        assert_eq!(a.utc, start);
        assert_eq!(clock.now(), a);
        let b = clock.advance(Duration::from_secs(30 * 86_400)).unwrap();
        assert_eq!(b.mono - a.mono, Duration::from_secs(30 * 86_400));
        assert_eq!(b.utc, Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap());
    }

    /// The clock's Unix second is its reading's, across second boundaries and from an
    /// origin between two seconds.
    #[test]
    fn unix_second_is_the_readings_second() {
        let origin =
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::from_millis(700);
        for clock in
            [Clock::virtual_at(origin), Clock::virtual_at(origin - Duration::from_millis(700))]
        {
            for step in [0, 299, 1, 999_999_999, 86_400_000_000_000] {
                clock.advance(Duration::from_nanos(step)).unwrap();
                assert_eq!(clock.unix_second(), clock.now().utc.timestamp(), "after {step} ns");
            }
        }
        let real = Clock::real();
        let (before, second, after) = (real.now().utc, real.unix_second(), real.now().utc);
        assert!((before.timestamp()..=after.timestamp()).contains(&second));
    }

    /// Advancing a real clock is refused, never silently ignored.
    #[test]
    fn real_clock_refuses_advance() {
        assert_eq!(Clock::real().advance(Duration::from_secs(1)), Err(AdvanceError::NotVirtual));
    }

    /// Issue 13 (reliability): past what the virtual clock can represent (about 584
    /// years), an advance is refused and the clock stays where it was; it never saturates
    /// silently, which would stop every expiry.
    #[test]
    fn an_advance_past_the_representable_is_refused_not_saturated() {
        let clock = Clock::virtual_at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let century = Duration::from_secs(100 * 365 * 86_400);
        for _ in 0..5 {
            clock.advance(century).unwrap();
        }
        let before = clock.now();
        let refused = clock.advance(century).unwrap_err();
        assert!(matches!(refused, AdvanceError::OutOfRange { .. }), "{refused:?}");
        assert_eq!(clock.now(), before);
        assert!(refused.to_string().contains("cannot move"), "{refused}");
        // A smaller step still fits.
        assert!(clock.advance(Duration::from_secs(86_400)).is_ok());
        assert_eq!(clock.advance(Duration::MAX).map(|_| ()), Err(refused_like(&clock)));
    }

    fn refused_like(clock: &Clock) -> AdvanceError {
        let elapsed = clock.now().mono.as_secs();
        AdvanceError::OutOfRange {
            elapsed_secs: elapsed,
            asked_secs: Duration::MAX.as_secs(),
            max_secs: u64::MAX / 1_000_000_000,
        }
    }

    /// Advancing notifies subscribers so reapers re-check their deadlines.
    #[test]
    fn advance_notifies_subscribers() {
        let clock = Clock::virtual_now();
        let rx = clock.subscribe();
        assert!(!rx.has_changed().unwrap());
        clock.advance(Duration::from_secs(1)).unwrap();
        assert!(rx.has_changed().unwrap());
    }

    #[test]
    fn utc_at_maps_monotonic_instants_to_wall_time() {
        let now = Now::at_secs(100);
        assert_eq!(now.utc_at(Duration::from_secs(40)), Now::at_secs(40).utc);
        assert_eq!(now.utc_at(Duration::from_secs(160)), Now::at_secs(160).utc);
    }
}
