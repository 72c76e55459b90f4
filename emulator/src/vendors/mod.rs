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
    let vendor = device.profile().vendor;
    let log = http::RequestLog {
        personality: personality_name(vendor),
        device: std::sync::Arc::from(device.name()),
    };
    let personality = match vendor {
        Vendor::Redfish => redfish::router(device),
        Vendor::Bigip => bigip::router(device),
        Vendor::Solace => solace::router(device),
        Vendor::Ilo => ilo::router(device),
        Vendor::Idrac => idrac::router(device),
    };
    personality
        .layer(axum::middleware::map_response(move |response| {
            let now = clock.now();
            async move { with_device_date(response, now) }
        }))
        .layer(axum::middleware::from_fn_with_state(log, http::log_request))
}

/// The name request log lines give a personality.
fn personality_name(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Redfish => "redfish",
        Vendor::Bigip => "bigip",
        Vendor::Solace => "solace",
        Vendor::Ilo => "ilo",
        Vendor::Idrac => "idrac",
    }
}

/// Stamps the `Date` header with the device's clock, so a client comparing `Date` with
/// the expiry times in bodies sees one timeline when the virtual clock has moved (hyper
/// would otherwise write the machine's time).
fn with_device_date(
    mut response: axum::response::Response,
    now: crate::clock::Now,
) -> axum::response::Response {
    if let Some(Ok(value)) = http_date(now.utc).map(|d| axum::http::HeaderValue::from_str(&d)) {
        response.headers_mut().insert(axum::http::header::DATE, value);
    }
    response
}

/// An IMF-fixdate (RFC 9110 5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, by `httpdate`
/// (hyper's own formatter). `None` outside what the format can carry (before 1970, after
/// 9999), which a virtual clock moved only forward from the machine's time never reaches.
fn http_date(t: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let secs = u64::try_from(t.timestamp()).ok().filter(|s| *s < 253_402_300_800)?;
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    Some(httpdate::fmt_http_date(at))
}

/// The SSH service of a personality that has one (iDRAC's racadm): what starts each
/// connection a listener accepts for the device.
pub fn ssh_service(device: &DeviceHandle) -> Option<crate::listener::SshConnect> {
    ssh_service_of(device.profile().vendor)
}

/// The SSH service of a personality, if it has one.
pub fn ssh_service_of(vendor: Vendor) -> Option<crate::listener::SshConnect> {
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
        assert_eq!(super::http_date(t).as_deref(), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
    }
}
