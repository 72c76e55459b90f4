//! Wire personalities. Each translates its protocol onto the session engine and renders
//! the engine's outcomes in the vendor's exact format; none keeps session state.

pub mod bigip;
pub mod http;
pub mod idrac;
pub mod ilo;
pub mod redfish;
pub mod routing;
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

/// The router that serves `device` in its profile's personality, with the step every
/// personality shares ([`http::finished`]: `Date` and the request log line).
pub fn router(device: DeviceHandle) -> Router {
    app(device).into_router()
}

/// [`router`] as the listener calls it: one call per request, no outer routing pass.
pub fn app(device: DeviceHandle) -> http::App {
    app_in(&shared(&device), device)
}

/// The service of `device`'s profile in its personality, which every device of the
/// profile can share ([`app_in`]): the routes are built once.
pub fn shared(device: &crate::device::Device) -> http::Shared {
    match device.profile().vendor {
        Vendor::Redfish => redfish::routes::shared(device),
        Vendor::Bigip => bigip::routes::shared(device),
        Vendor::Solace => solace::routes::shared(device),
        Vendor::Ilo => ilo::routes::shared(device),
        Vendor::Idrac => idrac::routes::shared(device),
    }
}

/// [`app`] for `device` through `shared`, the service of its profile ([`shared`]).
pub fn app_in(shared: &http::Shared, device: DeviceHandle) -> http::App {
    let vendor = device.profile().vendor;
    let log =
        http::RequestLog::new(personality_name(vendor), device.name(), device.clock().clone());
    shared.serve(device, log)
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
        assert_eq!(super::http::http_date(t).as_deref(), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
    }
}
