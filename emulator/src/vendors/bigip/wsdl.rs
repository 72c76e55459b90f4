//! The WSDL documents of the iControl SOAP interfaces the portal implements, served at
//! `GET /iControl/iControlPortal.cgi?WSDL=<Module>.<Interface>` (bigip-solace.md 1.8 [P]:
//! bigsuds fetches `?WSDL=System.Session` before any call and has no local-WSDL option).
//!
//! [`INTERFACES`] is the one table of what the portal answers: [`super::soap`] accepts
//! exactly these methods, and the WSDL describes exactly these. Signatures follow F5's
//! iControl SOAP reference (`System::Session`, the seed document; parameter names and
//! types as F5's published interface definitions give them: `long set_session_timeout(
//! long timeout)`, `set_active_folder(String folder)`, `Common.EnabledState state`, ...).
//! The layout is F5's: `definitions` in `urn:iControl`, messages
//! `<Module>.<Interface>.<method>Request`/`Response` with a `return` part, one port type
//! and an RPC/encoded SOAP binding whose operations have `soapAction` and body namespace
//! `urn:iControl:<Module>/<Interface>`, and a service with one port.
//!
//! The service's `soap:address` is the portal of the device that served the document:
//! the listener's scheme and the request's `Host` (so a SOAP client that keeps the WSDL's
//! address calls back the same port), unless the profile sets `bigip.wsdl_location`.

use axum::body::Body;
use axum::extract::{Query, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::escape;

use super::auth::Client;
use super::errors::{RestError, XML_CONTENT_TYPE};
use super::routes::Ctx;
use super::soap::{basic_account, PORTAL};
use crate::vendors::http::ListenerScheme;

/// The XML Schema type of a parameter or return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XsdType {
    /// `xsd:long`.
    Long,
    /// `xsd:string`.
    Str,
    /// `tns:Common.EnabledState` (`STATE_DISABLED`, `STATE_ENABLED`).
    EnabledState,
    /// `tns:System.Session.ReturnedPath` (`PATH_UNKNOWN`, `PATH_FULL`, `PATH_RELATIVE`,
    /// `PATH_BARE`, as F5's iControl assembly generated from the WSDL lists them).
    ReturnedPath,
}

impl XsdType {
    fn qname(self) -> &'static str {
        match self {
            XsdType::Long => "xsd:long",
            XsdType::Str => "xsd:string",
            XsdType::EnabledState => "tns:Common.EnabledState",
            XsdType::ReturnedPath => "tns:System.Session.ReturnedPath",
        }
    }
}

/// One method: its name, parameters, return type and a one-line description.
#[derive(Clone, Copy, Debug)]
pub struct Method {
    /// The operation name (`get_session_identifier`).
    pub name: &'static str,
    /// Parameters in order: element name and type.
    pub params: &'static [(&'static str, XsdType)],
    /// The `return` part, if the method returns a value.
    pub returns: Option<XsdType>,
    /// What it does.
    pub doc: &'static str,
}

/// One iControl interface.
#[derive(Clone, Copy, Debug)]
pub struct Interface {
    /// `Module.Interface`, as in `?WSDL=` (`System.Session`).
    pub name: &'static str,
    /// What it is.
    pub doc: &'static str,
    /// Its methods.
    pub methods: &'static [Method],
}

impl Interface {
    /// `Module/Interface`, the suffix of its namespace `urn:iControl:System/Session`.
    pub fn path(&self) -> String {
        self.name.replacen('.', "/", 1)
    }

    /// The method called `name`, if the interface has it.
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }
}

const fn m(
    name: &'static str,
    params: &'static [(&'static str, XsdType)],
    returns: Option<XsdType>,
    doc: &'static str,
) -> Method {
    Method { name, params, returns, doc }
}

use XsdType::{EnabledState, Long, ReturnedPath, Str};

/// `System.Session` as the portal implements it (SOAP-SEED; methods the portal does not
/// implement are left out rather than described and then refused).
pub const SYSTEM_SESSION: Interface = Interface {
    name: "System.Session",
    doc: "The Session interface allows you to manage iControl sessions.",
    methods: &[
        m("get_session_identifier", &[], Some(Long), "Gets a new session identifier."),
        m("set_session_timeout", &[("timeout", Long)], None, "Sets the session timeout."),
        m("get_session_timeout", &[], Some(Long), "Gets the session timeout."),
        m(
            "set_maximum_sessions",
            &[("sessions", Long)],
            None,
            "Sets the maximum number of concurrent user sessions.",
        ),
        m("get_maximum_sessions", &[], Some(Long), "Gets the maximum number of user sessions."),
        m(
            "set_force_sessions_state",
            &[("state", EnabledState)],
            None,
            "Sets whether non-default iControl SOAP sessions must be established first.",
        ),
        m(
            "get_force_sessions_state",
            &[],
            Some(EnabledState),
            "Gets whether non-default iControl SOAP sessions must be established first.",
        ),
        m("start_transaction", &[], Some(Long), "Start an iControl transaction."),
        m("submit_transaction", &[], None, "Submit the transaction for execution."),
        m("rollback_transaction", &[], None, "Roll back the transaction."),
        m("set_transaction_timeout", &[("timeout", Long)], None, "Sets the transaction timeout."),
        m("get_transaction_timeout", &[], Some(Long), "Gets the transaction timeout."),
        m("set_active_folder", &[("folder", Str)], None, "Sets the active folder."),
        m("get_active_folder", &[], Some(Str), "Gets the active folder."),
        m(
            "set_dtd_processing_state",
            &[("state", EnabledState)],
            None,
            "Sets whether future iControl SOAP requests with DTDs are processed.",
        ),
        m(
            "get_dtd_processing_state",
            &[],
            Some(EnabledState),
            "Gets whether future iControl SOAP requests with DTDs are processed.",
        ),
        m(
            "set_recursive_query_state",
            &[("state", EnabledState)],
            None,
            "Sets the state to recursively query the contents of the active folder.",
        ),
        m(
            "get_recursive_query_state",
            &[],
            Some(EnabledState),
            "Gets the state to recursively query the contents of the active folder.",
        ),
        m(
            "set_returned_path",
            &[("path", ReturnedPath)],
            None,
            "Sets the type of path information returned with object names.",
        ),
        m(
            "get_returned_path",
            &[],
            Some(ReturnedPath),
            "Gets the type of path information returned with object names.",
        ),
        m("get_version", &[], Some(Str), "Gets the version information for this interface."),
    ],
};

/// `System.SystemInfo`, of which the portal implements `get_version` (the usual
/// connection check).
pub const SYSTEM_INFO: Interface = Interface {
    name: "System.SystemInfo",
    doc: "The SystemInfo interface enables you to query identifying attributes of the system.",
    methods: &[m(
        "get_version",
        &[],
        Some(Str),
        "Gets the version information for this interface.",
    )],
};

/// Every interface the portal answers.
pub const INTERFACES: [Interface; 2] = [SYSTEM_SESSION, SYSTEM_INFO];

/// The interface whose namespace suffix is `path` (`System/Session`).
pub fn by_path(path: &str) -> Option<&'static Interface> {
    INTERFACES.iter().find(|i| i.path() == path)
}

/// The interface named `name` in `?WSDL=` (`System.Session`).
pub fn by_name(name: &str) -> Option<&'static Interface> {
    INTERFACES.iter().find(|i| i.name == name)
}

const ENABLED_STATE_TYPE: &str = "\t\t<xsd:simpleType name=\"Common.EnabledState\">\n\
\t\t\t<xsd:restriction base=\"xsd:string\">\n\
\t\t\t\t<xsd:enumeration value=\"STATE_DISABLED\"/>\n\
\t\t\t\t<xsd:enumeration value=\"STATE_ENABLED\"/>\n\
\t\t\t</xsd:restriction>\n\
\t\t</xsd:simpleType>\n";

const RETURNED_PATH_TYPE: &str = "\t\t<xsd:simpleType name=\"System.Session.ReturnedPath\">\n\
\t\t\t<xsd:restriction base=\"xsd:string\">\n\
\t\t\t\t<xsd:enumeration value=\"PATH_UNKNOWN\"/>\n\
\t\t\t\t<xsd:enumeration value=\"PATH_FULL\"/>\n\
\t\t\t\t<xsd:enumeration value=\"PATH_RELATIVE\"/>\n\
\t\t\t\t<xsd:enumeration value=\"PATH_BARE\"/>\n\
\t\t\t</xsd:restriction>\n\
\t\t</xsd:simpleType>\n";

/// Whether any method of `interface` takes or returns `ty`.
fn uses(interface: &Interface, ty: XsdType) -> bool {
    interface
        .methods
        .iter()
        .any(|m| m.returns == Some(ty) || m.params.iter().any(|(_, t)| *t == ty))
}

/// The WSDL of `interface`, whose service lives at `location`.
pub fn document(interface: &Interface, location: &str) -> String {
    let name = interface.name;
    let ns = format!("urn:iControl:{}", interface.path());
    let uses_enabled_state = uses(interface, EnabledState);
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" ?>\n");
    out.push_str(&format!(
        "<definitions name=\"{name}\"\n\ttargetNamespace=\"urn:iControl\"\n\
         \txmlns:tns=\"urn:iControl\"\n\txmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"\n\
         \txmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\"\n\
         \txmlns=\"http://schemas.xmlsoap.org/wsdl/\">\n\n"
    ));
    out.push_str(
        "<types>\n\t<xsd:schema targetNamespace='urn:iControl'\n\
         \t\txmlns='http://www.w3.org/2001/XMLSchema'\n\
         \t\txmlns:SOAP-ENC='http://schemas.xmlsoap.org/soap/encoding/'\n\
         \t\txmlns:wsdl='http://schemas.xmlsoap.org/wsdl/'>\n",
    );
    if uses_enabled_state {
        out.push_str(ENABLED_STATE_TYPE);
    }
    if uses(interface, ReturnedPath) {
        out.push_str(RETURNED_PATH_TYPE);
    }
    out.push_str("\t</xsd:schema>\n</types>\n\n");
    for method in interface.methods {
        let op = method.name;
        out.push_str(&format!("<message name=\"{name}.{op}Request\">\n"));
        for (param, ty) in method.params {
            out.push_str(&format!("\t<part name=\"{param}\" type=\"{}\"/>\n", ty.qname()));
        }
        out.push_str(&format!("</message>\n<message name=\"{name}.{op}Response\">\n"));
        if let Some(ty) = method.returns {
            out.push_str(&format!("\t<part name=\"return\" type=\"{}\"/>\n", ty.qname()));
        }
        out.push_str("</message>\n\n");
    }
    out.push_str(&format!("<portType name=\"{name}PortType\">\n"));
    for method in interface.methods {
        let op = method.name;
        out.push_str(&format!(
            "\t<operation name=\"{op}\">\n\t\t<documentation>{}</documentation>\n\
             \t\t<input message=\"tns:{name}.{op}Request\"/>\n\
             \t\t<output message=\"tns:{name}.{op}Response\"/>\n\t</operation>\n",
            escape(method.doc)
        ));
    }
    out.push_str("</portType>\n\n");
    let body = format!(
        "<soap:body\n\t\t\t\tuse=\"encoded\"\n\t\t\t\tnamespace=\"{ns}\"\n\
         \t\t\t\tencodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"/>"
    );
    out.push_str(&format!(
        "<binding name=\"{name}Binding\" type=\"tns:{name}PortType\">\n\
         \t<soap:binding style=\"rpc\" transport=\"http://schemas.xmlsoap.org/soap/http\"/>\n"
    ));
    for method in interface.methods {
        out.push_str(&format!(
            "\t<operation name=\"{}\">\n\t\t<soap:operation soapAction=\"{ns}\"/>\n\
             \t\t<input>\n\t\t\t{body}\n\t\t</input>\n\t\t<output>\n\t\t\t{body}\n\t\t</output>\n\
             \t</operation>\n",
            method.name
        ));
    }
    out.push_str("</binding>\n\n");
    out.push_str(&format!(
        "<service name=\"{name}\">\n\t<documentation>{}</documentation>\n\
         \t<port name=\"{name}Port\" binding=\"tns:{name}Binding\">\n\
         \t\t<soap:address location=\"{}\"/>\n\t</port>\n</service>\n</definitions>\n",
        escape(interface.doc),
        escape(location)
    ));
    out
}

/// The portal's page without `?WSDL=`: a link to each interface's WSDL, in the form
/// bigsuds reads (`/iControl/iControlPortal.cgi\?WSDL=([^"]+)"`, `get_wsdls`).
pub fn index() -> String {
    let mut out = String::from(
        "<html>\n<head><title>iControl Portal</title></head>\n<body>\n<h1>iControl WSDLs</h1>\n<ul>\n",
    );
    for interface in &INTERFACES {
        out.push_str(&format!("<li><a href=\"{PORTAL}?WSDL={0}\">{0}</a></li>\n", interface.name));
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}

/// Whether `host` is a plain `host[:port]` (or bracketed IPv6) fit for a URL.
fn plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

/// Where the portal that served `req` is: the profile's `wsdl_location`, else the
/// listener's scheme, the request's `Host` (or URI authority) and the portal's path.
pub fn location(ctx: &Ctx, req: &Request) -> String {
    if !ctx.settings.wsdl_location.is_empty() {
        return ctx.settings.wsdl_location.clone();
    }
    let scheme = ListenerScheme::of(req.extensions()).as_str();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .filter(|h| plain_host(h))
        .unwrap_or("localhost");
    format!("{scheme}://{host}{PORTAL}")
}

/// `GET /iControl/iControlPortal.cgi[?WSDL=<Interface>]` with HTTP Basic: the WSDL of an
/// implemented interface, the index without `WSDL`, and 404 for an interface the
/// emulator does not implement (naming the ones it does). No session is opened.
pub async fn wsdl(
    ctx: Ctx,
    Client(client): Client,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
    req: Request,
) -> Response {
    if let Err(error) = basic_account(&ctx, req.headers(), &client) {
        return error.into_response();
    }
    let wanted = query.iter().find(|(k, _)| k.eq_ignore_ascii_case("wsdl")).map(|(_, v)| v);
    let (text, content_type) = match wanted {
        None => (index(), "text/html; charset=utf-8"),
        Some(name) => match by_name(name) {
            Some(interface) => (document(interface, &location(&ctx, &req)), XML_CONTENT_TYPE),
            None => {
                let served: Vec<&str> = INTERFACES.iter().map(|i| i.name).collect();
                let message = crate::vendors::bigip::fill(
                    &ctx.settings.messages.wsdl_not_found,
                    &[("interface", name), ("served", &served.join(", "))],
                );
                return RestError::new(StatusCode::NOT_FOUND, message).into_response();
            }
        },
    };
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every interface's namespace suffix maps back to it.
    #[test]
    fn interfaces_are_found_by_name_and_path() {
        for interface in &INTERFACES {
            assert_eq!(by_name(interface.name).map(|i| i.name), Some(interface.name));
            assert_eq!(by_path(&interface.path()).map(|i| i.name), Some(interface.name));
        }
        assert_eq!(SYSTEM_SESSION.path(), "System/Session");
        assert!(by_name("LocalLB.Pool").is_none());
    }

    /// Hosts that could break out of the attribute are not used.
    #[test]
    fn only_plain_hosts_make_the_address() {
        assert!(plain_host("127.0.0.1:9201"));
        assert!(plain_host("[::1]:443"));
        assert!(!plain_host("a\"b"));
        assert!(!plain_host("a/b"));
        assert!(!plain_host(""));
    }
}
