//! `GET /_sessionlab/metrics`: every device's sessions for Prometheus.
//!
//! Written by the Prometheus project's own Rust client (`prometheus-client`) in the
//! OpenMetrics text format, the standardised form of the Prometheus text exposition
//! format that Prometheus asks for first when it scrapes
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>). Names follow
//! <https://prometheus.io/docs/practices/naming/>: a `sessionlab_` prefix, snake_case
//! labels (`device`, `vendor`, `session_type`, `pool`, `reason`), `_total` on counters,
//! seconds as the unit of time.
//!
//! Counters come from the session engine's running totals, not from the bounded event
//! log, so they never go down while the device lives; a device reset starts them again
//! at zero (Prometheus reads that as a counter reset).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::clock::ClockMode;
use crate::fleet::{FleetState, RunningDevice};
use crate::session::{CounterSnapshot, LimitScope};

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What one device contributes, read in one pass so the scrape is consistent per device.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceSample {
    /// Device name.
    pub device: String,
    /// Its vendor (`redfish`, `idrac`, ...).
    pub vendor: String,
    /// Per session type: open sessions and the smallest limit that holds the type.
    pub types: Vec<(String, usize, Option<usize>)>,
    /// Per pool (and `total` for a device-wide limit): used and limit.
    pub pools: Vec<(String, usize, usize)>,
    /// Running totals.
    pub counters: CounterSnapshot,
    /// Events the bounded log dropped.
    pub events_dropped: u64,
}

impl DeviceSample {
    /// Reads a running device.
    pub fn read(d: &RunningDevice) -> DeviceSample {
        let device = &d.device;
        let now = device.now();
        let store = &device.store;
        let counters = store.counters(now);
        let counts = store.counts(now);
        let usage = store.usage(now);
        let policy = store.policy();
        let mut names: BTreeSet<String> = device.profile().session_types().into_iter().collect();
        names.extend(counts.by_type.keys().cloned());
        names.extend(counters.accepted.keys().cloned());
        let types = names
            .into_iter()
            .map(|t| {
                let open = counts.by_type.get(&t).copied().unwrap_or(0);
                let limit = policy.limit_for(&t);
                (t, open, limit)
            })
            .collect();
        let pools = usage
            .into_iter()
            .filter_map(|u| match u.scope {
                LimitScope::Pool(name) => Some((name, u.used, u.limit)),
                LimitScope::Total => Some(("total".to_string(), u.used, u.limit)),
                LimitScope::User(_) => None,
            })
            .collect();
        DeviceSample {
            device: device.name().to_string(),
            vendor: device.profile().vendor.as_str().to_string(),
            types,
            pools,
            counters,
            events_dropped: store.events_dropped(),
        }
    }
}

/// Everything one scrape shows.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetSample {
    /// Whether the clock is virtual.
    pub virtual_clock: bool,
    /// How far the virtual clock has been advanced, in seconds.
    pub clock_offset_secs: f64,
    /// The devices, in start order.
    pub devices: Vec<DeviceSample>,
}

impl FleetSample {
    /// Reads the fleet.
    pub fn read(fleet: &FleetState) -> FleetSample {
        FleetSample {
            virtual_clock: fleet.clock.mode() == ClockMode::Virtual,
            clock_offset_secs: fleet.clock.offset().as_secs_f64(),
            devices: fleet.devices.iter().map(DeviceSample::read).collect(),
        }
    }

    /// The exposition, in the OpenMetrics text format.
    pub fn render(self) -> Result<String, std::fmt::Error> {
        let mut registry = Registry::with_prefix("sessionlab");
        registry.register_collector(Box::new(self));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry)?;
        Ok(text)
    }
}

type Labels<'a> = Vec<(&'static str, &'a str)>;

fn device_labels(d: &DeviceSample) -> Labels<'_> {
    vec![("device", d.device.as_str()), ("vendor", d.vendor.as_str())]
}

fn with<'a>(mut labels: Labels<'a>, more: &[(&'static str, &'a str)]) -> Labels<'a> {
    labels.extend_from_slice(more);
    labels
}

/// Casts a count to the gauge's integer type (counts never come near `i64::MAX`).
fn gauge(n: usize) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Collector for FleetSample {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let devices = &self.devices;

        let mut m = encoder.encode_descriptor(
            "sessions_open",
            "Open sessions by device and session type.",
            None,
            MetricType::Gauge,
        )?;
        for d in devices {
            for (t, open, _) in &d.types {
                gauge(*open)
                    .encode(m.encode_family(&with(device_labels(d), &[("session_type", t)]))?)?;
            }
        }

        let mut m = encoder.encode_descriptor(
            "sessions_limit",
            "The smallest limit a session of this type is held to (its pool's or the device-wide one); absent when none. Types of one pool share it: see sessionlab_pool_sessions_open.",
            None,
            MetricType::Gauge,
        )?;
        for d in devices {
            for (t, _, limit) in &d.types {
                if let Some(limit) = limit {
                    gauge(*limit).encode(
                        m.encode_family(&with(device_labels(d), &[("session_type", t)]))?,
                    )?;
                }
            }
        }

        let mut m = encoder.encode_descriptor(
            "pool_sessions_open",
            "Sessions counted against a limit: each pool of session types, and the pool named total for the device-wide limit.",
            None,
            MetricType::Gauge,
        )?;
        for d in devices {
            for (pool, used, _) in &d.pools {
                gauge(*used)
                    .encode(m.encode_family(&with(device_labels(d), &[("pool", pool)]))?)?;
            }
        }

        let mut m = encoder.encode_descriptor(
            "pool_sessions_limit",
            "The size of each limit: each pool of session types, and the pool named total for the device-wide limit.",
            None,
            MetricType::Gauge,
        )?;
        for d in devices {
            for (pool, _, limit) in &d.pools {
                gauge(*limit)
                    .encode(m.encode_family(&with(device_labels(d), &[("pool", pool)]))?)?;
            }
        }

        let mut m = encoder.encode_descriptor(
            "logins_accepted",
            "Sessions opened (logins accepted, one-request Basic-auth sessions included) since the device started or was reset.",
            None,
            MetricType::Counter,
        )?;
        for d in devices {
            for (t, n) in &d.counters.accepted {
                ConstCounter::new(*n)
                    .encode(m.encode_family(&with(device_labels(d), &[("session_type", t)]))?)?;
            }
        }

        let mut m = encoder.encode_descriptor(
            "logins_refused",
            "Logins refused since the device started or was reset, by reason: bad-credentials, total-limit, pool-limit, user-limit.",
            None,
            MetricType::Counter,
        )?;
        for d in devices {
            for ((t, reason), n) in &d.counters.refused {
                let labels =
                    with(device_labels(d), &[("session_type", t), ("reason", reason.as_str())]);
                ConstCounter::new(*n).encode(m.encode_family(&labels)?)?;
            }
        }

        let mut m = encoder.encode_descriptor(
            "sessions_ended",
            "Sessions ended since the device started or was reset, by end reason (logout, idle-timeout, max-lifetime, admin-delete, ...).",
            None,
            MetricType::Counter,
        )?;
        for d in devices {
            for ((t, reason), n) in &d.counters.ended {
                let labels = with(device_labels(d), &[("session_type", t), ("reason", reason)]);
                ConstCounter::new(*n).encode(m.encode_family(&labels)?)?;
            }
        }

        let mut m = encoder.encode_descriptor(
            "events_dropped",
            "Events the device's bounded event log dropped (the counters above are unaffected).",
            None,
            MetricType::Counter,
        )?;
        for d in devices {
            ConstCounter::new(d.events_dropped).encode(m.encode_family(&device_labels(d))?)?;
        }

        let m = encoder.encode_descriptor(
            "clock_virtual",
            "1 when the emulator runs on the virtual clock (time moves only when advanced), 0 on the real clock.",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(i64::from(self.virtual_clock)).encode(m)?;

        let m = encoder.encode_descriptor(
            "clock_offset",
            "How far the virtual clock has been advanced in all (0 on the real clock).",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        ConstGauge::new(self.clock_offset_secs).encode(m)?;
        Ok(())
    }
}

/// `GET /_sessionlab/metrics`.
pub async fn get(State(fleet): State<Arc<FleetState>>) -> axum::response::Response {
    match FleetSample::read(&fleet).render() {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => super::error::ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "metrics-encoding",
            "the metrics could not be written",
        )
        .into_response(),
    }
}
