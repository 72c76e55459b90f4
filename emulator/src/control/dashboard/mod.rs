//! The dashboard: the fleet and each device's sessions in a browser (issue 16).
//!
//! Server-rendered HTML, complete without JavaScript (read-only views need none; the
//! buttons are plain form POSTs that redirect back). A small embedded script refreshes
//! the marked regions every second, so bars rise while a script leaks sessions. The
//! stylesheet and script are compiled into the binary: nothing is fetched from elsewhere.
//!
//! | Method | Path (under `/_sessionlab/`) | What |
//! | --- | --- | --- |
//! | GET | `` (browsers: `Accept: text/html`) | the fleet |
//! | GET | `ui/devices/{name}` | one device: limits, sessions, events, clock |
//! | POST | `ui/devices/{name}/sessions/{id}/delete` | end a session (`admin-delete`) |
//! | POST | `ui/devices/{name}/reset` | the device back to its profile |
//! | POST | `ui/reset` | every device back to its profile |
//! | POST | `ui/clock/advance` | move the virtual clock (`by`: `60s`, `30m`, `1d`) |
//! | GET | `ui/dashboard.css`, `ui/dashboard.js` | the embedded assets |

pub mod html;

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::Path;
use super::views::rfc3339;
use crate::clock::{AdvanceError, ClockMode, Now};
use crate::fleet::{FleetState, RunningDevice};
use crate::session::{
    CounterSnapshot, EndReason, Event, EventKind, LimitScope, LimitUsage, RefusalReason, Session,
};
use html::{esc, path_segment};

/// Usage from this percentage of a limit shows as a warning.
///
/// The thresholds are those of the session monitors operators write for Dell iDRAC in
/// "Dell iDRAC Session Management & Troubleshooting Guide 2025"
/// (<https://support.tools/idrac-session-management-troubleshooting-guide-2025/>): its
/// threshold check falls back to `WARNING_THRESHOLD_GUI=60` and `CRITICAL_THRESHOLD_GUI=80`
/// (percent of the maximum), and its HTML dashboard colours a bar warning from 60 % and
/// critical from 80 %.
pub const WARNING_PERCENT: usize = 60;

/// Usage from this percentage of a limit shows as critical (see [`WARNING_PERCENT`]).
pub const CRITICAL_PERCENT: usize = 80;

/// How many events a device page shows, newest first.
const EVENTS_SHOWN: usize = 200;

const CSS: &str = include_str!("dashboard.css");
const JS: &str = include_str!("dashboard.js");

/// The prefix of every dashboard page.
const UI: &str = "/_sessionlab/ui";

/// How full a limit is, by the thresholds above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Below the warning threshold.
    Ok,
    /// At or past [`WARNING_PERCENT`].
    Warning,
    /// At or past [`CRITICAL_PERCENT`].
    Critical,
}

impl Level {
    /// The level of `used` out of `limit` (a limit of 0 is always critical: nothing fits).
    pub fn of(used: usize, limit: usize) -> Level {
        let percent = used.saturating_mul(100);
        if percent >= CRITICAL_PERCENT.saturating_mul(limit) {
            Level::Critical
        } else if percent >= WARNING_PERCENT.saturating_mul(limit) {
            Level::Warning
        } else {
            Level::Ok
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// Where a device answers, as the device table shows it: its base URL. The one place the
/// dashboard reads a device's address.
pub fn device_address(d: &RunningDevice) -> String {
    d.url()
}

/// Whether the client prefers HTML to JSON (a browser), from its `Accept` header.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let q = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let media = parts.next()?.trim();
                (media.eq_ignore_ascii_case(wanted)).then(|| {
                    parts
                        .find_map(|p| {
                            p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())
                        })
                        .unwrap_or(1.0)
                })
            })
            .fold(None, |best: Option<f32>, q| Some(best.map_or(q, |b| b.max(q))))
    };
    match (q("text/html"), q("application/json")) {
        (Some(html), Some(json)) => html > json,
        (Some(html), None) => html > 0.0,
        _ => false,
    }
}

/// What a dashboard page may load and run: its own script and stylesheet only (no inline
/// script, so markup that slipped past escaping could not run), its own forms.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::VARY, "Accept"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// A page around `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · sessionlab</title>
<link rel="stylesheet" href="{UI}/dashboard.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<h1>sessionlab</h1>
<nav aria-label="Dashboard"><a href="/_sessionlab/">Fleet</a><a href="/_sessionlab/metrics">Metrics</a><a href="/_sessionlab/index.json">API index</a><a href="/_sessionlab/openapi.json">OpenAPI</a></nav>
</header>
<main id="main">
{body}
<p class="live-ctl" id="live-ctl" hidden><label><input type="checkbox" id="live" checked> Live updates every second</label> <span id="live-status"></span></p>
</main>
<script src="{UI}/dashboard.js" defer></script>
</body>
</html>
"##,
        title = esc(title),
    )
}

/// An error page with a way back.
fn error_page(status: StatusCode, title: &str, message: &str, back: &str) -> Response {
    let body = format!(
        "<h2>{}</h2>\n<p role=\"alert\">{}</p>\n<p><a href=\"{}\">Back</a></p>",
        esc(title),
        esc(message),
        esc(back)
    );
    html_response(status, page(title, &body))
}

fn not_found(name: &str) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "No such device",
        &format!("There is no device called {name:?} in this fleet."),
        "/_sessionlab/",
    )
}

fn device_url(name: &str) -> String {
    format!("{UI}/devices/{}", path_segment(name))
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        esc(&rfc3339(t)),
        esc(&t.format("%Y-%m-%d %H:%M:%S").to_string())
    )
}

/// Seconds from `now` until `at` (0 when past).
fn secs_until(now: Now, at: chrono::DateTime<chrono::Utc>) -> u64 {
    u64::try_from((at - now.utc).num_seconds()).unwrap_or(0)
}

/// The name of a limit for people.
fn limit_name(scope: &LimitScope) -> String {
    match scope {
        LimitScope::Total => "all sessions".to_string(),
        LimitScope::Pool(name) => name.clone(),
        LimitScope::User(user) => format!("user {user}"),
    }
}

/// One bar: `used` of `limit`, coloured by level, with its numbers in text and ARIA.
fn bar(out: &mut String, label: &str, title: &str, used: usize, limit: usize) {
    let level = Level::of(used, limit);
    // A limit of 0 holds nothing: shown full.
    let percent = used.saturating_mul(100).checked_div(limit).unwrap_or(100);
    let width = percent.min(100);
    let _ = write!(
        out,
        "<div class=\"bar {level}\" title=\"{title}\">\
<span class=\"name\">{label}</span>\
<div class=\"track\" role=\"meter\" aria-label=\"{label}\" aria-valuemin=\"0\" aria-valuemax=\"{limit}\" aria-valuenow=\"{used}\" aria-valuetext=\"{used} of {limit} ({percent}%, {level})\">\
<div class=\"fill\" style=\"width:{width}%\"></div></div>\
<span class=\"value\"><span class=\"used\">{used}</span> / {limit} <span class=\"level\">{level}</span></span></div>",
        level = level.as_str(),
        label = esc(label),
        title = esc(title),
    );
}

/// The bars of every limit the device has; types no limit holds are listed as such.
fn bars(usage: &[LimitUsage], counts: &crate::session::Counts) -> String {
    let mut out = String::from("<div class=\"bars\">");
    for u in usage {
        let types =
            if u.types.is_empty() { "every session type".to_string() } else { u.types.join(", ") };
        let title = format!("{}: {types}", limit_name(&u.scope));
        bar(&mut out, &limit_name(&u.scope), &title, u.used, u.limit);
    }
    if usage.is_empty() {
        let _ = write!(out, "<span class=\"muted\">no session limit; {} open</span>", counts.total);
    }
    out.push_str("</div>");
    out
}

fn refused_total(c: &CounterSnapshot) -> u64 {
    c.refused.values().sum()
}

fn summary_refused(c: &CounterSnapshot) -> String {
    let mut by_reason: Vec<(RefusalReason, u64)> = Vec::new();
    for ((_, reason), n) in &c.refused {
        match by_reason.iter_mut().find(|(r, _)| r == reason) {
            Some((_, total)) => *total += n,
            None => by_reason.push((*reason, *n)),
        }
    }
    if by_reason.is_empty() {
        return "0".to_string();
    }
    let parts: Vec<String> = by_reason.iter().map(|(r, n)| format!("{} {n}", r.as_str())).collect();
    format!("{} ({})", refused_total(c), parts.join(", "))
}

fn summary_ended(c: &CounterSnapshot) -> String {
    let mut by_reason: Vec<(&str, u64)> = Vec::new();
    for ((_, reason), n) in &c.ended {
        match by_reason.iter_mut().find(|(r, _)| r == reason) {
            Some((_, total)) => *total += n,
            None => by_reason.push((reason, *n)),
        }
    }
    if by_reason.is_empty() {
        return "0".to_string();
    }
    let total: u64 = by_reason.iter().map(|(_, n)| n).sum();
    let parts: Vec<String> = by_reason
        .iter()
        .map(|(r, n)| format!("<span class=\"reason-{r}\">{r} {n}</span>", r = esc(r)))
        .collect();
    format!("{total} ({})", parts.join(", "))
}

/// The clock panel: time, advance buttons (1 min, the idle timeout, 1 day, free), reset.
fn clock_panel(fleet: &FleetState, back: &str, idle: Option<u64>, reset_action: &str) -> String {
    let now = fleet.clock.now();
    let virtual_clock = fleet.clock.mode() == ClockMode::Virtual;
    let disabled = if virtual_clock { "" } else { " disabled aria-describedby=\"clock-why\"" };
    let mut out = String::from(
        "<section class=\"panel\" aria-labelledby=\"clock-h\"><h2 id=\"clock-h\">Clock</h2>",
    );
    let advanced = html::human_secs(fleet.clock.offset().as_secs());
    let _ = write!(
        out,
        "<p>Device time: <strong data-live=\"clock-now\">{}</strong> <span class=\"muted\">({})</span></p>",
        time(now.utc),
        if virtual_clock {
            format!("virtual clock, advanced {advanced} in all")
        } else {
            "real clock".to_string()
        }
    );
    if !virtual_clock {
        out.push_str(
            "<p class=\"note\" id=\"clock-why\">The emulator runs on the real clock (started with \
<code>--clock real</code>), so time cannot be moved from here. Start it with \
<code>--clock virtual</code> (the default) to advance time.</p>",
        );
    }
    let back = esc(back);
    let _ = write!(
        out,
        "<form class=\"inline\" method=\"post\" action=\"{UI}/clock/advance\">\
<input type=\"hidden\" name=\"back\" value=\"{back}\">\
<button name=\"by\" value=\"1m\"{disabled}>Advance 1 min</button>"
    );
    if let Some(idle) = idle.filter(|s| *s > 0) {
        let _ = write!(
            out,
            "<button name=\"by\" value=\"{}\" id=\"advance-idle\"{disabled}>Advance {} (idle timeout)</button>",
            html::duration_arg(idle),
            html::human_secs(idle)
        );
    }
    let _ = write!(
        out,
        "<button name=\"by\" value=\"1d\"{disabled}>Advance 1 day</button></form>\
<form class=\"inline\" method=\"post\" action=\"{UI}/clock/advance\">\
<input type=\"hidden\" name=\"back\" value=\"{back}\">\
<label for=\"advance-by\">Advance by</label>\
<input type=\"text\" id=\"advance-by\" name=\"by\" required placeholder=\"90s, 15m, 1h30m, 30d\" aria-describedby=\"advance-help\"{disabled}>\
<button{disabled}>Advance</button></form>\
<span class=\"note\" id=\"advance-help\">numbers with units s, m, h, d, w</span>\
<div><form class=\"inline\" method=\"post\" action=\"{reset}\">\
<button class=\"danger\">{label}</button></form></div>\
<p class=\"note\">A reset ends every session and clears the event log and counters; the clock itself only ever moves forward.</p></section>",
        reset = esc(reset_action),
        label = if reset_action.ends_with("/ui/reset") { "Reset all devices" } else { "Reset this device" },
    );
    out
}

/// `GET /_sessionlab/` for a browser: the fleet.
pub fn fleet_page(fleet: &FleetState) -> Response {
    let mut rows = String::new();
    for d in &fleet.devices {
        let device = &d.device;
        let now = device.now();
        let usage = device.store.usage(now);
        let counts = device.store.counts(now);
        let counters = device.store.counters(now);
        let profile = device.profile();
        let ssh = d
            .ssh_addr
            .map(|a| format!("<br><span class=\"muted\">SSH {a}</span>"))
            .unwrap_or_default();
        let _ = write!(
            rows,
            "<tr><th scope=\"row\"><a href=\"{href}\">{name}</a></th><td>{vendor}<br><span class=\"muted\">{profile}</span></td>\
<td class=\"mono\">{address}{ssh}</td><td class=\"num\">{open}</td><td>{bars}</td><td class=\"refused\">{refused}</td><td>{ended}</td></tr>",
            href = esc(&device_url(device.name())),
            name = esc(device.name()),
            vendor = esc(profile.vendor.as_str()),
            profile = esc(&profile.name),
            address = esc(&device_address(d)),
            open = counts.total,
            bars = bars(&usage, &counts),
            refused = summary_refused(&counters),
            ended = summary_ended(&counters),
        );
    }
    let body = format!(
        "{clock}\
<section aria-labelledby=\"fleet-h\"><h2 id=\"fleet-h\">Devices</h2>\
<p class=\"note\">Bars turn <strong>warning</strong> at {WARNING_PERCENT}% of a limit and <strong>critical</strong> at {CRITICAL_PERCENT}%, as operators' session monitors do.</p>\
<div data-live=\"fleet\"><table><caption class=\"muted\">Open sessions against each limit</caption>\
<thead><tr><th scope=\"col\">Device</th><th scope=\"col\">Vendor</th><th scope=\"col\">Address</th><th scope=\"col\" class=\"num\">Open</th>\
<th scope=\"col\">Limits</th><th scope=\"col\">Logins refused</th><th scope=\"col\">Sessions ended</th></tr></thead>\
<tbody>{rows}</tbody></table></div></section>",
        clock = clock_panel(fleet, "/_sessionlab/", None, &format!("{UI}/reset")),
    );
    html_response(StatusCode::OK, page("Fleet", &body))
}

/// The idle timeout the device page offers to jump by: the longest of its open sessions,
/// else the longest its policy gives any type.
fn idle_to_offer(sessions: &[Session], policy: &crate::session::Policy) -> Option<u64> {
    let open = sessions.iter().filter_map(|s| s.idle_timeout).map(|d| d.as_secs()).max();
    open.or_else(|| {
        std::iter::once(policy.idle_timeout_secs)
            .chain(policy.idle_timeout_by_type.values().copied())
            .max()
    })
    .filter(|s| *s > 0)
}

fn sessions_table(name: &str, sessions: &[Session], now: Now) -> String {
    if sessions.is_empty() {
        return "<p class=\"muted\">No open sessions.</p>".to_string();
    }
    let mut out = String::from(
        "<table><caption class=\"muted\">Open sessions, oldest first</caption><thead><tr>\
<th scope=\"col\">Session</th><th scope=\"col\">User</th><th scope=\"col\">Type</th><th scope=\"col\">Client address</th>\
<th scope=\"col\">User-Agent</th><th scope=\"col\">Created</th><th scope=\"col\">Last used</th>\
<th scope=\"col\">Idle expiry in</th><th scope=\"col\">Lifetime ends in</th><th scope=\"col\" class=\"num\">Requests</th>\
<th scope=\"col\"><span class=\"muted\">Action</span></th></tr></thead><tbody>",
    );
    for s in sessions {
        let idle = s
            .idle_expires_at(now)
            .map_or("never".to_string(), |at| html::human_secs(secs_until(now, at)));
        let hard = s
            .hard_expires_at(now)
            .map_or("never".to_string(), |at| html::human_secs(secs_until(now, at)));
        let action =
            format!("{UI}/devices/{}/sessions/{}/delete", path_segment(name), path_segment(&s.id));
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{id}</td><td>{user}</td><td>{kind}{one}</td><td class=\"mono\">{addr}</td><td class=\"ua\">{ua}</td>\
<td>{created}</td><td>{used}</td><td>{idle}</td><td>{hard}</td><td class=\"num\">{requests}</td>\
<td><form method=\"post\" action=\"{action}\"><button class=\"danger\" aria-label=\"Delete session {id} of {user}\">Delete</button></form></td></tr>",
            id = esc(&s.id),
            user = esc(&s.user),
            kind = esc(&s.session_type),
            one = if s.one_request { " <span class=\"muted\">(one request)</span>" } else { "" },
            addr = esc(s.client.addr.as_deref().unwrap_or("")),
            ua = esc(s.client.user_agent.as_deref().unwrap_or("")),
            created = time(s.created_at),
            used = time(s.last_used_at),
            requests = s.requests,
            action = esc(&action),
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn event_row(out: &mut String, e: &Event) {
    let (kind, detail) = match &e.kind {
        EventKind::Created => ("created", String::new()),
        EventKind::Ended { reason } => {
            ("ended", format!("<span class=\"reason-{r}\">{r}</span>", r = esc(reason.as_str())))
        }
        EventKind::Refused { limit } => ("refused", format!("limit: {}", esc(&limit_name(limit)))),
        EventKind::LoginFailed => ("login-failed", "bad credentials".to_string()),
        EventKind::Expired { what } => ("expired", esc(what)),
    };
    let _ = write!(
        out,
        "<tr><td>{at}</td><td class=\"event-{kind}\">{kind}</td><td>{detail}</td><td class=\"mono\">{id}</td>\
<td>{user}</td><td>{t}</td><td class=\"mono\">{addr}</td><td class=\"ua\">{ua}</td></tr>",
        at = time(e.at),
        id = esc(e.session_id.as_deref().unwrap_or("")),
        user = esc(&e.user),
        t = esc(&e.session_type),
        addr = esc(e.client_addr.as_deref().unwrap_or("")),
        ua = esc(e.user_agent.as_deref().unwrap_or("")),
    );
}

fn events_table(events: &[Event], dropped: u64) -> String {
    if events.is_empty() {
        return "<p class=\"muted\">No events yet.</p>".to_string();
    }
    let shown = events.len().min(EVENTS_SHOWN);
    let mut out = format!(
        "<p class=\"note\">The last {shown} of {} events kept, newest first{}.</p>\
<table><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Event</th><th scope=\"col\">Reason</th>\
<th scope=\"col\">Session</th><th scope=\"col\">User</th><th scope=\"col\">Type</th><th scope=\"col\">Client address</th>\
<th scope=\"col\">User-Agent</th></tr></thead><tbody>",
        events.len(),
        if dropped > 0 { format!(" ({dropped} older ones dropped by the log's bound)") } else { String::new() },
    );
    for e in events.iter().rev().take(EVENTS_SHOWN) {
        event_row(&mut out, e);
    }
    out.push_str("</tbody></table>");
    out
}

/// `GET /_sessionlab/ui/devices/{name}`.
pub async fn device_page(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Response {
    let Some(d) = fleet.device(&name) else { return not_found(&name) };
    let device = &d.device;
    let now = device.now();
    let store = &device.store;
    let sessions = store.list(now);
    let usage = store.usage(now);
    let counts = store.counts(now);
    let counters = store.counters(now);
    let events = store.events(now);
    let dropped = store.events_dropped();
    let policy = store.policy();
    let profile = device.profile();
    let accepted: u64 = counters.accepted.values().sum();
    let ssh =
        d.ssh_addr.map(|a| format!(" · SSH <span class=\"mono\">{a}</span>")).unwrap_or_default();
    let body = format!(
        "<h2 id=\"device-h\">{name} <span class=\"muted\">{vendor} · {profile}</span></h2>\
<p>Address <span class=\"mono\">{address}</span>{ssh} · <a href=\"/_sessionlab/\">back to the fleet</a></p>\
{clock}\
<section aria-labelledby=\"limits-h\"><h2 id=\"limits-h\">Limits</h2><div data-live=\"limits\">{bars}\
<p>Logins accepted: <strong class=\"accepted\">{accepted}</strong> · refused: <strong class=\"refused\">{refused}</strong> · sessions ended: <strong class=\"ended\">{ended}</strong></p></div></section>\
<section aria-labelledby=\"sessions-h\"><h2 id=\"sessions-h\">Open sessions</h2><div data-live=\"sessions\">{sessions}</div></section>\
<section aria-labelledby=\"events-h\"><h2 id=\"events-h\">Event timeline</h2><div data-live=\"events\">{events}</div></section>",
        name = esc(device.name()),
        vendor = esc(profile.vendor.as_str()),
        profile = esc(&profile.name),
        address = esc(&device_address(d)),
        clock = clock_panel(
            &fleet,
            &device_url(device.name()),
            idle_to_offer(&sessions, &policy),
            &format!("{}/reset", device_url(device.name())),
        ),
        bars = bars(&usage, &counts),
        refused = summary_refused(&counters),
        ended = summary_ended(&counters),
        sessions = sessions_table(device.name(), &sessions, now),
        events = events_table(&events, dropped),
    );
    html_response(StatusCode::OK, page(device.name(), &body))
}

/// Refuses a form POST that a page of another site sent (cross-site request forgery):
/// browsers name the page's origin in `Origin`, which must be this server's own.
fn cross_site(headers: &HeaderMap) -> Option<Response> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let foreign_origin = origin.is_some_and(|o| {
        let authority = o.split_once("://").map_or("", |(_, rest)| rest);
        authority.is_empty() || !authority.eq_ignore_ascii_case(host)
    });
    (foreign_origin || site == Some("cross-site")).then(|| {
        error_page(
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was sent from another site's page; the dashboard accepts its own forms only.",
            "/_sessionlab/",
        )
    })
}

/// Where to go after a form: a dashboard path given in `back`, else the fleet.
fn back_to(back: Option<&str>) -> String {
    match back {
        Some(b)
            if (b == "/_sessionlab/" || b.starts_with("/_sessionlab/ui/"))
                && !b.contains("//")
                && !b.contains('\\')
                && !b.chars().any(char::is_control) =>
        {
            b.to_string()
        }
        _ => "/_sessionlab/".to_string(),
    }
}

/// The advance form.
#[derive(Debug, Deserialize)]
pub struct AdvanceForm {
    by: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /_sessionlab/ui/clock/advance`: moves the virtual clock, then back to the page.
pub async fn advance(
    State(fleet): State<Arc<FleetState>>,
    headers: HeaderMap,
    form: Result<Form<AdvanceForm>, FormRejection>,
) -> Response {
    if let Some(refused) = cross_site(&headers) {
        return refused;
    }
    let Form(form) = match form {
        Ok(form) => form,
        Err(e) => {
            return error_page(StatusCode::BAD_REQUEST, "Bad form", &e.body_text(), "/_sessionlab/")
        }
    };
    let back = back_to(form.back.as_deref());
    let secs = match super::clock::parse_duration(&form.by) {
        Ok(secs) => secs,
        Err(why) => {
            return error_page(StatusCode::BAD_REQUEST, "Cannot advance the clock", &why, &back)
        }
    };
    let by = match std::time::Duration::try_from_secs_f64(secs) {
        Ok(by) if secs <= super::clock::MAX_ADVANCE_SECS => by,
        _ => {
            let why = format!("at most {} seconds at once", super::clock::MAX_ADVANCE_SECS);
            return error_page(StatusCode::BAD_REQUEST, "Cannot advance the clock", &why, &back);
        }
    };
    match fleet.clock.advance(by) {
        Ok(_) => {
            fleet.sweep_all();
            tracing::info!(seconds = by.as_secs_f64(), "virtual clock advanced from the dashboard");
            Redirect::to(&back).into_response()
        }
        Err(e @ AdvanceError::NotVirtual) => error_page(
            StatusCode::CONFLICT,
            "The clock is real",
            &format!("{e}: the emulator was started with --clock real; start it with --clock virtual to move time."),
            &back,
        ),
        Err(e) => error_page(StatusCode::CONFLICT, "Cannot advance the clock", &e.to_string(), &back),
    }
}

/// `POST /_sessionlab/ui/devices/{name}/sessions/{id}/delete`: ends the session with
/// reason `admin-delete`, then back to the device page.
pub async fn delete_session(
    State(fleet): State<Arc<FleetState>>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = cross_site(&headers) {
        return refused;
    }
    let Some(d) = fleet.device(&name) else { return not_found(&name) };
    let back = device_url(&name);
    match d.device.store.end(&id, EndReason::AdminDelete, d.device.now()) {
        Ok(_) => {
            tracing::info!(device = %name, session = %id, "session deleted from the dashboard");
            Redirect::to(&back).into_response()
        }
        Err(_) => error_page(
            StatusCode::NOT_FOUND,
            "No such session",
            &format!("Session {id:?} is not open on {name:?}: it may have ended already."),
            &back,
        ),
    }
}

/// `POST /_sessionlab/ui/devices/{name}/reset`.
pub async fn reset_device(
    State(fleet): State<Arc<FleetState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    if let Some(refused) = cross_site(&headers) {
        return refused;
    }
    let Some(d) = fleet.device(&name) else { return not_found(&name) };
    d.device.reset();
    tracing::info!(device = %name, "device reset from the dashboard");
    Redirect::to(&device_url(&name)).into_response()
}

/// `POST /_sessionlab/ui/reset`.
pub async fn reset_all(State(fleet): State<Arc<FleetState>>, headers: HeaderMap) -> Response {
    if let Some(refused) = cross_site(&headers) {
        return refused;
    }
    for d in &fleet.devices {
        d.device.reset();
    }
    tracing::info!(devices = fleet.devices.len(), "fleet reset from the dashboard");
    Redirect::to("/_sessionlab/").into_response()
}

/// `GET /_sessionlab/ui/dashboard.css`.
pub async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], CSS)
}

/// `GET /_sessionlab/ui/dashboard.js`.
pub async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        JS,
    )
}

/// Any other path under `ui/`: an HTML 404.
pub async fn ui_not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such dashboard page.",
        "/_sessionlab/",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The thresholds of seed 002's monitors: warning from 60 %, critical from 80 %.
    #[test]
    fn levels_follow_the_monitors_thresholds() {
        assert_eq!(Level::of(0, 10), Level::Ok);
        assert_eq!(Level::of(5, 10), Level::Ok);
        assert_eq!(Level::of(6, 10), Level::Warning);
        assert_eq!(Level::of(7, 10), Level::Warning);
        assert_eq!(Level::of(8, 10), Level::Critical);
        assert_eq!(Level::of(16, 16), Level::Critical);
        // 9 of 16 is 56 %, 10 of 16 is 62.5 %, 13 of 16 is 81 %.
        assert_eq!(Level::of(9, 16), Level::Ok);
        assert_eq!(Level::of(10, 16), Level::Warning);
        assert_eq!(Level::of(12, 16), Level::Warning);
        assert_eq!(Level::of(13, 16), Level::Critical);
        assert_eq!(Level::of(0, 0), Level::Critical);
    }

    /// Browsers get HTML; curl, reqwest and JSON clients keep the JSON index.
    #[test]
    fn accept_negotiation() {
        let with = |accept: Option<&str>| {
            let mut h = HeaderMap::new();
            if let Some(a) = accept {
                h.insert(header::ACCEPT, a.parse().unwrap());
            }
            wants_html(&h)
        };
        assert!(with(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
        )));
        assert!(with(Some("text/html")));
        assert!(!with(None));
        assert!(!with(Some("*/*")));
        assert!(!with(Some("application/json")));
        assert!(!with(Some("application/json, text/html;q=0.5")));
        assert!(!with(Some("text/html;q=0")));
    }

    /// Redirects stay on the dashboard.
    #[test]
    fn back_links_stay_on_the_dashboard() {
        assert_eq!(
            back_to(Some("/_sessionlab/ui/devices/redfish")),
            "/_sessionlab/ui/devices/redfish"
        );
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/_sessionlab/ui//x",
            "/other",
            "/_sessionlab/ui/\\x",
        ] {
            assert_eq!(back_to(Some(evil)), "/_sessionlab/", "{evil}");
        }
        assert_eq!(back_to(None), "/_sessionlab/");
    }
}
