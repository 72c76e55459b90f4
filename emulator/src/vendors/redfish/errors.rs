//! The Redfish error envelope (DSP0266 "Error responses") and the Base registry messages
//! this personality uses.
//!
//! Message texts, severities and resolutions are copied from DMTF's `Base.1.18.0.json`
//! (Redfish-Publications). The registry prefix on the wire (`Base.1.18`) is a profile
//! setting ([`super::RedfishSettings::base_registry`]), so a [`RedfishError`] is built
//! without it and rendered by the router's last middleware, which knows the device's
//! settings. Rendered on its own (without that middleware) it uses
//! [`DEFAULT_BASE_REGISTRY`], so an error is never a bare status.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The registry prefix used when no settings are at hand:
/// `RegistryName.MajorVersion.MinorVersion` as DSP0266 forms a `MessageId`.
pub const DEFAULT_BASE_REGISTRY: &str = "Base.1.18";

/// `@odata.type` of every message object.
pub const MESSAGE_ODATA_TYPE: &str = "#Message.v1_1_1.Message";

/// One message of the Base registry with its arguments.
#[derive(Clone, Debug, Eq)]
pub struct Message {
    /// The message key ("NoValidSession"); the `MessageId` is `<registry>.<key>`.
    pub key: &'static str,
    /// The registry's text, with `%1`, `%2`... placeholders.
    pub template: &'static str,
    /// `Critical`, `Warning` or `OK`.
    pub severity: &'static str,
    /// The registry's resolution.
    pub resolution: &'static str,
    /// The arguments, in order.
    pub args: Vec<String>,
    /// JSON pointers of the properties concerned (`#/Password`).
    pub related_properties: Vec<String>,
}

impl PartialEq for Message {
    /// Field by field, the registry's texts by address before content: one message's
    /// texts are the same `&'static` strings of its registry entry, and comparing their
    /// bytes (two hundred or more) was most of finding an error's kept body.
    fn eq(&self, other: &Message) -> bool {
        fn same(a: &str, b: &str) -> bool {
            std::ptr::eq(a, b) || a == b
        }
        self.key == other.key
            && self.args == other.args
            && self.related_properties == other.related_properties
            && same(self.template, other.template)
            && same(self.severity, other.severity)
            && same(self.resolution, other.resolution)
    }
}

impl Message {
    /// A message of the Base registry with its texts and arguments.
    pub(crate) fn new(
        key: &'static str,
        template: &'static str,
        severity: &'static str,
        resolution: &'static str,
        args: Vec<String>,
    ) -> Message {
        Message { key, template, severity, resolution, args, related_properties: Vec::new() }
    }

    /// The same message about `property` (adds `RelatedProperties`).
    pub fn about(mut self, property: &str) -> Message {
        self.related_properties.push(format!("#/{property}"));
        self
    }

    /// The `MessageId` under `registry` (e.g. `Base.1.18.NoValidSession`).
    pub fn id(&self, registry: &str) -> String {
        format!("{registry}.{}", self.key)
    }

    /// The text with its arguments filled in.
    pub fn text(&self) -> String {
        let mut out = self.template.to_string();
        // Highest index first so `%1` does not eat the start of `%10`.
        for (i, arg) in self.args.iter().enumerate().rev() {
            out = out.replace(&format!("%{}", i + 1), arg);
        }
        out
    }

    /// The message object (`#Message.v1_1_1.Message`) as it appears in
    /// `@Message.ExtendedInfo`.
    pub fn render(&self, registry: &str) -> Value {
        let mut object = json!({
            "@odata.type": MESSAGE_ODATA_TYPE,
            "MessageId": self.id(registry),
            "Message": self.text(),
            "MessageArgs": self.args,
            "MessageSeverity": self.severity,
            "Severity": self.severity,
            "Resolution": self.resolution,
        });
        if !self.related_properties.is_empty() {
            object["RelatedProperties"] = json!(self.related_properties);
        }
        object
    }
}

/// Constructors for the Base registry messages (texts of `Base.1.18.0`).
pub mod base {
    use super::Message;

    fn m(
        key: &'static str,
        template: &'static str,
        severity: &'static str,
        resolution: &'static str,
        args: Vec<String>,
    ) -> Message {
        Message::new(key, template, severity, resolution, args)
    }

    /// `Success`: the request completed successfully.
    pub fn success() -> Message {
        m("Success", "The request completed successfully.", "OK", "None.", vec![])
    }

    /// `Created`: a create operation succeeded.
    pub fn created() -> Message {
        m("Created", "The resource was created successfully.", "OK", "None.", vec![])
    }

    /// `SessionTerminated`: a DELETE ended a session.
    pub fn session_terminated() -> Message {
        m("SessionTerminated", "The session was successfully terminated.", "OK", "None.", vec![])
    }

    /// `GeneralError`: the envelope's code when it carries several messages.
    pub fn general_error() -> Message {
        m(
            "GeneralError",
            "A general error has occurred.  See Resolution for information on how to resolve \
             the error, or @Message.ExtendedInfo if Resolution is not provided.",
            "Critical",
            "None.",
            vec![],
        )
    }

    /// `NoValidSession`: missing, bad or dead credentials (never says which).
    pub fn no_valid_session() -> Message {
        m(
            "NoValidSession",
            "There is no valid session established with the implementation.",
            "Critical",
            "Establish a session before attempting any operations.",
            vec![],
        )
    }

    /// `SessionLimitExceeded`: the session table is full.
    pub fn session_limit_exceeded() -> Message {
        m(
            "SessionLimitExceeded",
            "The session establishment failed due to the number of simultaneous sessions \
             exceeding the limit of the implementation.",
            "Critical",
            "Reduce the number of other sessions before trying to establish the session or \
             increase the limit of simultaneous sessions, if supported.",
            vec![],
        )
    }

    /// `InsufficientPrivilege`: the role lacks a privilege the operation needs.
    pub fn insufficient_privilege() -> Message {
        m(
            "InsufficientPrivilege",
            "There are insufficient privileges for the account or credentials associated \
             with the current session to perform the requested operation.",
            "Critical",
            "Either abandon the operation or change the associated access rights and \
             resubmit the request if the operation failed.",
            vec![],
        )
    }

    /// `PasswordChangeRequired`: the account must PATCH its password at `account_uri`.
    pub fn password_change_required(account_uri: &str) -> Message {
        m(
            "PasswordChangeRequired",
            "The password provided for this account must be changed before access is \
             granted.  PATCH the Password property for this account located at the target \
             URI '%1' to complete this process.",
            "Critical",
            "Change the password for this account using a PATCH to the Password property at \
             the URI provided.",
            vec![account_uri.to_string()],
        )
    }

    /// `ResourceNotFound`: no `%1` named `%2`.
    pub fn resource_not_found(schema: &str, id: &str) -> Message {
        m(
            "ResourceNotFound",
            "The requested resource of type %1 named '%2' was not found.",
            "Critical",
            "Provide a valid resource identifier and resubmit the request.",
            vec![schema.to_string(), id.to_string()],
        )
    }

    /// `ResourceMissingAtURI`: nothing is served at this URI.
    pub fn resource_missing_at_uri(uri: &str) -> Message {
        m(
            "ResourceMissingAtURI",
            "The resource at the URI '%1' was not found.",
            "Critical",
            "Place a valid resource at the URI or correct the URI and resubmit the request.",
            vec![uri.to_string()],
        )
    }

    /// `ResourceAlreadyExists`: a create collided with an existing resource.
    pub fn resource_already_exists(schema: &str, property: &str, value: &str) -> Message {
        m(
            "ResourceAlreadyExists",
            "The requested resource of type %1 with the property %2 with the value '%3' \
             already exists.",
            "Critical",
            "Do not repeat the create operation as the resource was already created.",
            vec![schema.to_string(), property.to_string(), value.to_string()],
        )
        .about(property)
    }

    /// `OperationNotAllowed`: the HTTP method is not allowed here (with 405).
    pub fn operation_not_allowed() -> Message {
        m(
            "OperationNotAllowed",
            "The HTTP method is not allowed on this resource.",
            "Critical",
            "None.",
            vec![],
        )
    }

    /// `MalformedJSON`: the body does not parse.
    pub fn malformed_json() -> Message {
        m(
            "MalformedJSON",
            "The request body submitted was malformed JSON and could not be parsed by the \
             receiving service.",
            "Critical",
            "Ensure that the request body is valid JSON and resubmit the request.",
            vec![],
        )
    }

    /// `UnrecognizedRequestBody`: valid JSON, but not an object.
    pub fn unrecognized_request_body() -> Message {
        m(
            "UnrecognizedRequestBody",
            "The service detected a malformed request body that it was unable to interpret.",
            "Warning",
            "Correct the request body and resubmit the request if it failed.",
            vec![],
        )
    }

    /// `NoOperation`: nothing in the body to act upon.
    pub fn no_operation() -> Message {
        m(
            "NoOperation",
            "The request body submitted contain no data to act upon and no changes to the \
             resource took place.",
            "Warning",
            "Add properties in the JSON object and resubmit the request.",
            vec![],
        )
    }

    /// `PayloadTooLarge`: the body is over the service's cap.
    pub fn payload_too_large() -> Message {
        m(
            "PayloadTooLarge",
            "The supplied payload exceeds the maximum size supported by the service.",
            "Critical",
            "Check that the supplied payload is correct and supported by this service.",
            vec![],
        )
    }

    /// `HeaderInvalid`: a request header the service cannot accept (`%1` is the full
    /// header, name and value).
    pub fn header_invalid(header: &str) -> Message {
        m(
            "HeaderInvalid",
            "Header '%1' is invalid.",
            "Critical",
            "Resubmit the request with a valid request header.",
            vec![header.to_string()],
        )
    }

    /// `PreconditionFailed`: a stale `If-Match`.
    pub fn precondition_failed() -> Message {
        m(
            "PreconditionFailed",
            "The ETag supplied did not match the ETag required to change this resource.",
            "Critical",
            "Try the operation again using the appropriate ETag.",
            vec![],
        )
    }

    /// `PropertyMissing`: a required property is absent.
    pub fn property_missing(property: &str) -> Message {
        m(
            "PropertyMissing",
            "The property %1 is a required property and must be included in the request.",
            "Warning",
            "Ensure that the property is in the request body and has a valid value and \
             resubmit the request if the operation failed.",
            vec![property.to_string()],
        )
        .about(property)
    }

    /// `PropertyUnknown`: not a property of this resource.
    pub fn property_unknown(property: &str) -> Message {
        m(
            "PropertyUnknown",
            "The property %1 is not in the list of valid properties for the resource.",
            "Warning",
            "Remove the unknown property from the request body and resubmit the request if \
             the operation failed.",
            vec![property.to_string()],
        )
        .about(property)
    }

    /// `PropertyNotWritable`: a read-only property was given a value.
    pub fn property_not_writable(property: &str) -> Message {
        m(
            "PropertyNotWritable",
            "The property %1 is a read-only property and cannot be assigned a value.",
            "Warning",
            "Remove the property from the request body and resubmit the request if the \
             operation failed.",
            vec![property.to_string()],
        )
        .about(property)
    }

    /// `PropertyValueTypeError`: the value has the wrong JSON type.
    pub fn property_value_type_error(value: &str, property: &str) -> Message {
        m(
            "PropertyValueTypeError",
            "The value '%1' for the property %2 is not a type that the property can accept.",
            "Warning",
            "Correct the value for the property in the request body and resubmit the request \
             if the operation failed.",
            vec![value.to_string(), property.to_string()],
        )
        .about(property)
    }

    /// `PropertyValueError`: an invalid value that must not be echoed (passwords).
    pub fn property_value_error(property: &str) -> Message {
        m(
            "PropertyValueError",
            "The value provided for the property %1 is not valid.",
            "Warning",
            "Correct the value for the property in the request body and resubmit the request \
             if the operation failed.",
            vec![property.to_string()],
        )
        .about(property)
    }

    /// `PropertyValueFormatError`: right type, unusable format.
    pub fn property_value_format_error(value: &str, property: &str) -> Message {
        m(
            "PropertyValueFormatError",
            "The value '%1' for the property %2 is not a format that the property can accept.",
            "Warning",
            "Correct the value for the property in the request body and resubmit the request \
             if the operation failed.",
            vec![value.to_string(), property.to_string()],
        )
        .about(property)
    }

    /// `PropertyValueNotInList`: not one of the allowed values.
    pub fn property_value_not_in_list(value: &str, property: &str) -> Message {
        m(
            "PropertyValueNotInList",
            "The value '%1' for the property %2 is not in the list of acceptable values.",
            "Warning",
            "Choose a value from the enumeration list that the implementation can support \
             and resubmit the request if the operation failed.",
            vec![value.to_string(), property.to_string()],
        )
        .about(property)
    }

    /// `PropertyValueOutOfRange`: a number outside the supported range.
    pub fn property_value_out_of_range(value: &str, property: &str) -> Message {
        m(
            "PropertyValueOutOfRange",
            "The value '%1' for the property %2 is not in the supported range of acceptable \
             values.",
            "Warning",
            "Correct the value for the property in the request body and resubmit the request \
             if the operation failed.",
            vec![value.to_string(), property.to_string()],
        )
        .about(property)
    }

    /// `ActionParameterUnknown`: an action got a parameter it does not know.
    pub fn action_parameter_unknown(action: &str, parameter: &str) -> Message {
        m(
            "ActionParameterUnknown",
            "The action %1 was submitted with the invalid parameter %2.",
            "Warning",
            "Correct the invalid action parameter and resubmit the request if the operation \
             failed.",
            vec![action.to_string(), parameter.to_string()],
        )
    }

    /// `ActionParameterValueNotInList`: an action parameter value not allowed.
    pub fn action_parameter_value_not_in_list(
        value: &str,
        parameter: &str,
        action: &str,
    ) -> Message {
        m(
            "ActionParameterValueNotInList",
            "The value '%1' for the parameter %2 in the action %3 is not in the list of \
             acceptable values.",
            "Warning",
            "Choose a value from the enumeration list that the implementation can support \
             and resubmit the request if the operation failed.",
            vec![value.to_string(), parameter.to_string(), action.to_string()],
        )
    }

    /// `ActionParameterValueTypeError`: an action parameter of the wrong type.
    pub fn action_parameter_value_type_error(
        value: &str,
        parameter: &str,
        action: &str,
    ) -> Message {
        m(
            "ActionParameterValueTypeError",
            "The value '%1' for the parameter %2 in the action %3 is not a type that the \
             parameter can accept.",
            "Warning",
            "Correct the value for the parameter in the request body and resubmit the \
             request if the operation failed.",
            vec![value.to_string(), parameter.to_string(), action.to_string()],
        )
    }

    /// `InternalError`: the service failed but is still operational.
    pub fn internal_error() -> Message {
        m(
            "InternalError",
            "The request failed due to an internal service error.  The service is still \
             operational.",
            "Critical",
            "Resubmit the request.  If the problem persists, consider resetting the service.",
            vec![],
        )
    }
}

/// An error answer: a status, extra headers and one or more Base registry messages.
/// Its response body is the DSP0266 envelope:
/// `{"error": {"code", "message", "@Message.ExtendedInfo": [...]}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedfishError {
    /// HTTP status.
    pub status: StatusCode,
    /// The messages, the first being the main one.
    pub messages: Vec<Message>,
    /// Headers to add (e.g. `WWW-Authenticate`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Attached to every error response so the router's last middleware can render the
/// envelope with the device's registry prefix.
#[derive(Clone, Debug)]
pub struct PendingError(pub RedfishError);

impl RedfishError {
    /// An error with one message.
    pub fn new(status: StatusCode, message: Message) -> RedfishError {
        RedfishError { status, messages: vec![message], headers: Vec::new() }
    }

    /// An error with several messages (e.g. every bad property of a PATCH).
    pub fn many(status: StatusCode, messages: Vec<Message>) -> RedfishError {
        RedfishError { status, messages, headers: Vec::new() }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> RedfishError {
        self.headers.push((name, value));
        self
    }

    /// 401 `NoValidSession`. The router adds `WWW-Authenticate` to every 401.
    pub fn unauthorized() -> RedfishError {
        RedfishError::new(StatusCode::UNAUTHORIZED, base::no_valid_session())
    }

    /// 403 `InsufficientPrivilege`.
    pub fn insufficient_privilege() -> RedfishError {
        RedfishError::new(StatusCode::FORBIDDEN, base::insufficient_privilege())
    }

    /// 403 `PasswordChangeRequired` pointing at the account to PATCH.
    pub fn password_change_required(account_uri: &str) -> RedfishError {
        RedfishError::new(StatusCode::FORBIDDEN, base::password_change_required(account_uri))
    }

    /// 404 `ResourceNotFound` for a member of a known collection.
    pub fn not_found(schema: &str, id: &str) -> RedfishError {
        RedfishError::new(StatusCode::NOT_FOUND, base::resource_not_found(schema, id))
    }

    /// 404 `ResourceMissingAtURI` for a path the service does not serve.
    pub fn missing_uri(uri: &str) -> RedfishError {
        RedfishError::new(StatusCode::NOT_FOUND, base::resource_missing_at_uri(uri))
    }

    /// 405 `OperationNotAllowed` (the router adds `Allow`).
    pub fn method_not_allowed() -> RedfishError {
        RedfishError::new(StatusCode::METHOD_NOT_ALLOWED, base::operation_not_allowed())
    }

    /// 400 with these messages.
    pub fn bad_request(messages: Vec<Message>) -> RedfishError {
        RedfishError::many(StatusCode::BAD_REQUEST, messages)
    }

    /// 412 `PreconditionFailed`.
    pub fn precondition_failed() -> RedfishError {
        RedfishError::new(StatusCode::PRECONDITION_FAILED, base::precondition_failed())
    }

    /// 500 `InternalError`.
    pub fn internal() -> RedfishError {
        RedfishError::new(StatusCode::INTERNAL_SERVER_ERROR, base::internal_error())
    }

    /// The message keys, for logs (never arguments: they may echo request values).
    pub fn keys(&self) -> Vec<&'static str> {
        self.messages.iter().map(|m| m.key).collect()
    }

    /// The envelope under `registry`. With one message, `code` and `message` are that
    /// message's id and text; with several, `GeneralError`'s.
    pub fn envelope(&self, registry: &str) -> Value {
        let main = match self.messages.as_slice() {
            [only] => only.clone(),
            _ => base::general_error(),
        };
        let info: Vec<Value> = self.messages.iter().map(|m| m.render(registry)).collect();
        json!({
            "error": {
                "code": main.id(registry),
                "message": main.text(),
                "@Message.ExtendedInfo": info,
            }
        })
    }

    /// The full response, rendered under `registry`.
    pub fn to_response(&self, registry: &str) -> Response {
        let body = serde_json::to_vec(&self.envelope(registry)).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers
            .insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response.extensions_mut().insert(PendingError(self.clone()));
        response
    }
}

impl IntoResponse for RedfishError {
    /// The status with the error attached, and nothing else yet: every Redfish-family
    /// router's last step renders the body under the device's registry and in the
    /// personality's envelope, and sets its `Content-Type` and the error's own headers
    /// ([`super::routes::finish`]; iDRAC's answers in its own envelope), so each is done
    /// once. Use [`RedfishError::to_response`] for a whole answer outside a router.
    fn into_response(self) -> Response {
        let mut response = Response::new(crate::vendors::http::unwritten_body());
        *response.status_mut() = self.status;
        response.extensions_mut().insert(PendingError(self));
        response
    }
}

impl From<Message> for RedfishError {
    /// A lone message as a 400.
    fn from(message: Message) -> RedfishError {
        RedfishError::bad_request(vec![message])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments fill their placeholders, `%1` never eating the start of `%10`.
    #[test]
    fn message_text_fills_arguments() {
        let m = base::property_value_out_of_range("5", "SessionTimeout");
        assert_eq!(
            m.text(),
            "The value '5' for the property SessionTimeout is not in the supported range of \
             acceptable values."
        );
        assert_eq!(m.id("Base.1.18"), "Base.1.18.PropertyValueOutOfRange");
    }

    /// Messages are equal by content, whether or not their texts are the same strings.
    #[test]
    fn messages_compare_by_content() {
        let kept = base::session_limit_exceeded();
        let copy = |text: &str| -> &'static str { Box::leak(text.to_string().into_boxed_str()) };
        let mut other = kept.clone();
        other.template = copy(kept.template);
        other.resolution = copy(kept.resolution);
        assert_eq!(kept, other);
        other.resolution = copy("Another resolution.");
        assert_ne!(kept, other);
        let mut argued = kept.clone();
        argued.args.push("x".into());
        assert_ne!(kept, argued);
    }

    /// Several messages make a GeneralError envelope listing each of them.
    #[test]
    fn several_messages_make_a_general_error() {
        let e = RedfishError::bad_request(vec![
            base::property_unknown("A"),
            base::property_unknown("B"),
        ]);
        let v = e.envelope("Base.1.18");
        assert_eq!(v["error"]["code"], "Base.1.18.GeneralError");
        assert_eq!(v["error"]["@Message.ExtendedInfo"].as_array().map(Vec::len), Some(2));
    }
}
