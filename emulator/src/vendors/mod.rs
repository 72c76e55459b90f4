//! Wire personalities. Each translates its protocol onto the session engine and renders
//! the engine's outcomes in the vendor's exact format; none keeps session state.

pub mod bigip;
pub mod http;
pub mod idrac;
pub mod ilo;
pub mod redfish;
pub mod solace;

use axum::Router;

use crate::device::DeviceHandle;
use crate::profile::Vendor;

/// The session types a personality opens over its own wires (logins, SSH, SOAP); a
/// profile adds those of its pools, per-type timeouts and `session_types`
/// ([`crate::profile::Profile::session_types`]).
pub fn wire_session_types(vendor: Vendor) -> &'static [&'static str] {
    match vendor {
        Vendor::Redfish | Vendor::Ilo => &[redfish::SESSION_TYPE, redfish::BASIC_SESSION_TYPE],
        Vendor::Bigip => &[bigip::TOKEN_SESSION_TYPE, bigip::SOAP_SESSION_TYPE],
        Vendor::Solace => &[solace::SESSION_TYPE],
        Vendor::Idrac => &[
            idrac::REDFISH,
            idrac::REDFISH_BASIC,
            idrac::GUI,
            idrac::SSH_TYPE,
            idrac::RACADM,
            idrac::VIRTUAL_CONSOLE,
            idrac::VNC,
            idrac::IPMI,
        ],
    }
}

/// The account roles a personality knows; a profile's own accounts may add more.
pub fn roles(vendor: Vendor) -> &'static [&'static str] {
    match vendor {
        Vendor::Redfish | Vendor::Ilo | Vendor::Idrac => &["Administrator", "Operator", "ReadOnly"],
        // BIG-IP user roles (tmsh `auth user ... partition-access ... role`).
        Vendor::Bigip => &[
            "acceleration-policy-editor",
            "admin",
            "application-editor",
            "auditor",
            "certificate-manager",
            "firewall-manager",
            "fraud-protection-manager",
            "guest",
            "irule-manager",
            "manager",
            "no-access",
            "operator",
            "resource-admin",
            "user-manager",
            "web-application-security-administrator",
            "web-application-security-editor",
        ],
        // SEMP global access levels.
        Vendor::Solace => &["admin", "none", "read-only", "read-write"],
    }
}

/// The router that serves `device` in its profile's personality.
pub fn router(device: DeviceHandle) -> Router {
    let clock = device.clock().clone();
    let personality = match device.profile().vendor {
        Vendor::Redfish => redfish::router(device),
        Vendor::Bigip => bigip::router(device),
        Vendor::Solace => solace::router(device),
        Vendor::Ilo => ilo::router(device),
        Vendor::Idrac => idrac::router(device),
    };
    personality.layer(axum::middleware::map_response(move |response| {
        let now = clock.now();
        async move { with_device_date(response, now) }
    }))
}

/// Stamps the `Date` header with the device's clock, so a client comparing `Date` with
/// the expiry times in bodies sees one timeline when the virtual clock has moved (hyper
/// would otherwise write the machine's time).
fn with_device_date(
    mut response: axum::response::Response,
    now: crate::clock::Now,
) -> axum::response::Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(&http_date(now.utc)) {
        response.headers_mut().insert(axum::http::header::DATE, value);
    }
    response
}

/// An IMF-fixdate (RFC 9110 5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, written field
/// by field: it runs on every response, and chrono's format strings are parsed each time.
fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month0() as usize],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Serves SSH for a device on a bound listener until `shutdown` turns true.
pub type SshServe = fn(
    DeviceHandle,
    tokio::net::TcpListener,
    tokio::sync::watch::Receiver<bool>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The SSH service of a personality that has one (iDRAC's racadm).
pub fn ssh_service(device: &DeviceHandle) -> Option<SshServe> {
    ssh_service_of(device.profile().vendor)
}

/// The SSH service of a personality, if it has one.
pub fn ssh_service_of(vendor: Vendor) -> Option<SshServe> {
    match vendor {
        Vendor::Idrac => idrac::SSH,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    /// RFC 9110's own example of an IMF-fixdate.
    #[test]
    fn http_dates_are_imf_fixdates() {
        let t = chrono::Utc.with_ymd_and_hms(1994, 11, 6, 8, 49, 37).unwrap();
        assert_eq!(super::http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
