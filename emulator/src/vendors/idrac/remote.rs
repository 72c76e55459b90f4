//! Remote racadm over HTTPS, the protocol `racadm -r HOST` speaks (ilo-idrac.md 2.6,
//! \[C\] from b4ldr's racadm client): `POST /cgi-bin/login` with
//! `<LOGIN><REQ><USERNAME>..</USERNAME><PASSWORD>..</PASSWORD></REQ></LOGIN>` answers a
//! `<SID>` (0 on failure) and `<STATENAME>OK</STATENAME>`; `POST /cgi-bin/exec` with
//! `<EXEC><REQ><CMDINPUT>racadm ...</CMDINPUT>...` runs the same racadm commands as SSH
//! and answers `<CMDRC>` and `<CMDOUTPUT>`; `POST /cgi-bin/logout` ends the session.
//!
//! Each login is a `racadm` session in the engine, so it fills the RACADM pool over the
//! wire. How exec names its session is not in the evidence: the login sets a cookie
//! `sid=<token>` and exec and logout read it (assumed). So are the failure `<RC>` codes.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::escape;

use super::racadm::{self, Caller};
use super::RACADM;
use crate::session::{EndReason, LoginError, LoginRequest};
use crate::vendors::redfish::auth::Client;
use crate::vendors::redfish::routes::Ctx;

/// The text of the first `<tag>` element of `xml`, unescaped; `None` when absent.
fn element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    quick_xml::escape::unescape(&xml[start..end]).ok().map(|s| s.into_owned())
}

fn xml(body: String, cookie: Option<String>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, value);
    }
    response
}

fn login_reply(rc: &str, sid: &str, state: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><LOGIN><RESP><RC>{rc}</RC><SID>{sid}</SID>\
         <STATENAME>{state}</STATENAME></RESP></LOGIN>"
    )
}

/// The `sid` cookie of a request.
fn sid_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("sid="))
        .map(str::to_string)
        .next()
}

/// `POST /cgi-bin/login`.
pub async fn login(ctx: Ctx, Client(client): Client, body: String) -> Response {
    let (Some(user), Some(password)) = (element(&body, "USERNAME"), element(&body, "PASSWORD"))
    else {
        return xml(login_reply("0x140004", "0", "INVALID_REQUEST"), None);
    };
    let request = LoginRequest { user: &user, password: &password, session_type: RACADM, client };
    match ctx.device.store.login(&request, ctx.now()) {
        Ok(session) => {
            tracing::info!(user = %user, session = %session.id, "idrac: remote racadm login");
            let cookie = format!("sid={}; path=/cgi-bin; Secure; HttpOnly", session.token.as_str());
            xml(login_reply("0x0", &session.id, "OK"), Some(cookie))
        }
        Err(LoginError::LimitReached { .. }) => {
            tracing::info!(user = %user, "idrac: remote racadm login refused, RACADM pool full");
            xml(login_reply("0x140005", "0", "SESSION_LIMIT"), None)
        }
        Err(_) => xml(login_reply("0x140004", "0", "LOGIN_FAILED"), None),
    }
}

fn exec_reply(rc: &str, cmdrc: u32, output: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><EXEC><RESP><RC>{rc}</RC><CMDRC>0x{cmdrc:x}</CMDRC>\
         <CMDOUTPUT>{}</CMDOUTPUT></RESP></EXEC>",
        escape(output)
    )
}

/// `POST /cgi-bin/exec`: one racadm command in the cookie's session.
pub async fn exec(ctx: Ctx, headers: HeaderMap, body: String) -> Response {
    let now = ctx.now();
    let session = sid_cookie(&headers).and_then(|t| ctx.device.store.authenticate(&t, now).ok());
    let Some(session) = session.filter(|s| s.session_type == RACADM) else {
        return xml(exec_reply("0x140004", 1, "ERROR: No valid session.\n"), None);
    };
    let Some(line) = element(&body, "CMDINPUT") else {
        return xml(exec_reply("0x140004", 1, "ERROR: Invalid syntax.\n"), None);
    };
    let caller = Caller { session: Some(&session.id), user: &session.user };
    let out = racadm::run(&ctx.device, now, &caller, &line);
    xml(exec_reply("0x0", out.exit, &format!("{}{}", out.stdout, out.stderr)), None)
}

/// `POST /cgi-bin/logout`.
pub async fn logout(ctx: Ctx, headers: HeaderMap) -> Response {
    let now = ctx.now();
    let session = sid_cookie(&headers).and_then(|t| ctx.device.store.peek(&t, now).ok());
    if let Some(s) = session.filter(|s| s.session_type == RACADM) {
        ctx.device.store.end(&s.id, EndReason::Logout, now).ok();
    }
    xml("<?xml version=\"1.0\"?><LOGOUT><RESP><RC>0x0</RC></RESP></LOGOUT>".to_string(), None)
}
