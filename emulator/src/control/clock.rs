//! `GET /clock` and `POST /clock/advance`: read and move the fleet's clock.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::Json;
use super::views::rfc3339;
use crate::clock::{AdvanceError, ClockMode, Now};
use crate::fleet::FleetState;

/// The longest single advance: 100 years, far past any session lifetime.
pub(super) const MAX_ADVANCE_SECS: f64 = 100.0 * 365.25 * 86_400.0;

/// The clock as the control API shows it.
#[derive(Debug, Serialize)]
pub struct ClockView {
    mode: ClockMode,
    now: String,
    monotonic_secs: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    advanced_secs: Option<f64>,
}

impl ClockView {
    fn new(mode: ClockMode, now: Now) -> ClockView {
        ClockView {
            mode,
            now: rfc3339(now.utc),
            monotonic_secs: now.mono.as_secs_f64(),
            advanced_secs: None,
        }
    }
}

/// `GET /_sessionlab/clock`.
pub async fn get(State(fleet): State<Arc<FleetState>>) -> Json<ClockView> {
    Json(ClockView::new(fleet.clock.mode(), fleet.clock.now()))
}

/// How far to move the clock: `seconds` (a number) or `duration` (`"30d"`, `"1h30m"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    #[serde(default)]
    seconds: Option<f64>,
    #[serde(default)]
    duration: Option<String>,
}

impl Advance {
    fn duration(&self) -> Result<Duration, ApiError> {
        let secs = match (&self.seconds, &self.duration) {
            (Some(secs), None) => *secs,
            (None, Some(text)) => parse_duration(text).map_err(ApiError::bad_field)?,
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_field("give `seconds` or `duration`, not both"))
            }
            (None, None) => return Err(ApiError::bad_field(
                "missing `seconds` (a number) or `duration` (such as \"30d\", \"15m\", \"90s\")",
            )),
        };
        if !(secs > 0.0 && secs <= MAX_ADVANCE_SECS) {
            let why = format!("more than 0 and at most {MAX_ADVANCE_SECS}, not {secs}");
            return Err(ApiError::bad_field(format!("seconds to advance must be {why}")));
        }
        Duration::try_from_secs_f64(secs).map_err(|e| ApiError::bad_field(e.to_string()))
    }
}

/// `POST /_sessionlab/clock/advance`: moves a virtual clock, then ends on every device
/// what expired meanwhile. A real clock answers 409.
pub async fn advance(
    State(fleet): State<Arc<FleetState>>,
    Json(body): Json<Advance>,
) -> Result<Json<ClockView>, ApiError> {
    let by = body.duration()?;
    let now = fleet.clock.advance(by).map_err(|e| match e {
        AdvanceError::NotVirtual => {
            ApiError::new(StatusCode::CONFLICT, "clock-not-virtual", e.to_string())
                .with_details(serde_json::json!({ "mode": ClockMode::Real }))
        }
        AdvanceError::OutOfRange { .. } => {
            ApiError::new(StatusCode::CONFLICT, "clock-out-of-range", e.to_string())
        }
    })?;
    fleet.sweep_all();
    tracing::info!(seconds = by.as_secs_f64(), "virtual clock advanced");
    Ok(Json(ClockView {
        advanced_secs: Some(by.as_secs_f64()),
        ..ClockView::new(ClockMode::Virtual, now)
    }))
}

/// Parses `"30d"`, `"15m"`, `"90s"`, `"1h30m"`, `"1.5h"` (humantime's units) into seconds.
pub(super) fn parse_duration(text: &str) -> Result<f64, String> {
    let bad = |why: &str| {
        let form = "write numbers with units (s, m, h, d, w) such as \"30d\" or \"1h30m\"";
        format!("bad duration {text:?}: {why}; {form}")
    };
    let d = humantime::parse_duration(text.trim()).map_err(|e| bad(&e.to_string()))?;
    refuse_calendar_units(text).map_err(|why| bad(&why))?;
    if d.is_zero() {
        return Err(bad("it must be longer than zero"));
    }
    Ok(d.as_secs_f64())
}

/// Months and years have no fixed length (humantime counts 30.44 and 365.25 days), and
/// `"1M"` (a month) is too easily meant as a minute: both are refused.
fn refuse_calendar_units(text: &str) -> Result<(), String> {
    let calendar = ["M", "month", "months", "y", "yr", "yrs", "year", "years"];
    let mut units = text.split(|c: char| !c.is_alphabetic()).filter(|u| !u.is_empty());
    match units.find(|u| calendar.contains(u)) {
        Some(unit) => Err(format!(
            "{unit:?} is a month or year, which has no fixed length (a minute is \"m\")"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Durations read as a sum of number-unit pairs.
    #[test]
    fn durations_parse_as_sums_of_units() {
        assert_eq!(parse_duration("90s"), Ok(90.0));
        assert_eq!(parse_duration("15m"), Ok(900.0));
        assert_eq!(parse_duration("30d"), Ok(2_592_000.0));
        assert_eq!(parse_duration("1d12h"), Ok(129_600.0));
        assert_eq!(parse_duration(" 2w "), Ok(1_209_600.0));
        assert_eq!(parse_duration("1h 30min"), Ok(5400.0));
        assert_eq!(parse_duration("1.5s"), Ok(1.5));
    }

    /// Anything else is refused with a message that shows the expected form.
    #[test]
    fn bad_durations_are_refused() {
        for bad in ["", "0s", "30", "d", "5y", "1M", "-3s", "99999999999999999999s"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("such as"), "{bad}: {err}");
        }
        let err = parse_duration("30").unwrap_err();
        assert!(err.contains("time unit needed"), "{err}");
        let err = parse_duration("1M").unwrap_err();
        assert!(err.contains("\"M\" is a month or year"), "{err}");
    }

    /// The body takes exactly one of `seconds` and `duration`, and a positive amount.
    #[test]
    fn advance_body_needs_one_positive_amount() {
        let advance = |seconds, duration: Option<&str>| {
            Advance { seconds, duration: duration.map(str::to_string) }.duration()
        };
        assert_eq!(advance(Some(1.5), None).unwrap(), Duration::from_millis(1500));
        assert_eq!(advance(None, Some("1m")).unwrap(), Duration::from_secs(60));
        for (seconds, duration) in [
            (None, None),
            (Some(1.0), Some("1m")),
            (Some(0.0), None),
            (Some(-1.0), None),
            (Some(f64::NAN), None),
            (Some(1e300), None),
        ] {
            assert_eq!(advance(seconds, duration).unwrap_err().code(), "bad-field");
        }
    }
}
