//! The control API keeps to its OpenAPI document (`emulator/openapi.json`, served at
//! `/_sessionlab/openapi.json`): every answer of every operation, on a device of every
//! vendor, validates against the schema the document gives for its path, method and
//! status; every example in the document validates against its schema; and bodies the
//! server refuses with 400 are refused by the schema too, so a client generated from the
//! document cannot send them. Validation is JSON Schema draft 4, the dialect of OpenAPI
//! 3.0 (`nullable` translated). Nothing here sleeps: time moves through clock/advance.

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use reqwest::Method;
use serde_json::{json, Value};

fn doc() -> Value {
    serde_json::from_str(emulator::control::OPENAPI).expect("the document is JSON")
}

/// OpenAPI 3.0's schema object as JSON Schema draft 4: `nullable: true` adds `null` to
/// the type.
fn draft4(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut out: serde_json::Map<String, Value> =
                o.iter().map(|(k, v)| (k.clone(), draft4(v))).collect();
            if out.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".to_string(), json!([t, "null"]));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(draft4).collect()),
        other => other.clone(),
    }
}

/// A validator for `schema`, with the document's components to resolve `$ref`s in.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({ "allOf": [draft4(schema)], "components": draft4(&doc["components"]) });
    jsonschema::draft4::new(&root).unwrap_or_else(|e| panic!("unusable schema {schema}: {e}"))
}

fn errors(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    validator(doc, schema)
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// The response schema for `template` (a path of the document), `method` and `status`.
fn response_schema(doc: &Value, template: &str, method: &str, status: u16) -> Value {
    let op = &doc["paths"][template][method];
    assert!(op.is_object(), "the document has no {method} {template}");
    let mut response = op["responses"][status.to_string()].clone();
    assert!(response.is_object(), "{method} {template} documents no {status} answer");
    if let Some(r) = response["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        response = doc["components"]["responses"][name].clone();
    }
    response["content"]["application/json"]["schema"].clone()
}

fn request_schema(doc: &Value, template: &str, method: &str) -> Value {
    doc["paths"][template][method]["requestBody"]["content"]["application/json"]["schema"].clone()
}

struct Api {
    device: EmulatedDevice,
    client: reqwest::Client,
    doc: Value,
    checked: usize,
}

impl Api {
    async fn start(profile: &str) -> Api {
        let device = EmulatedDevice::start(Profile::embedded(profile).unwrap()).await.unwrap();
        Api { device, client: reqwest::Client::new(), doc: doc(), checked: 0 }
    }

    fn name(&self) -> String {
        self.device.device().name().to_string()
    }

    /// Calls `path` (`template` with its parameters filled in) and checks the answer
    /// against the document; returns the status and body.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method.clone(), format!("{}/_sessionlab{path}", self.device.control()));
        if let Some(body) = &body {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: {status} not JSON ({e}): {text}"));
        let m = method.as_str().to_lowercase();
        let schema = response_schema(&self.doc, template, &m, status);
        let problems = errors(&self.doc, &schema, &value);
        assert!(
            problems.is_empty(),
            "{method} {path} answered {status} outside the document:\n{}\n{value:#}",
            problems.join("\n")
        );
        self.checked += 1;
        (status, value)
    }

    /// `GET /metrics`: text in the content type the document names, not JSON.
    async fn metrics(&mut self) {
        let op = &self.doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
        let documented = op.as_object().and_then(|c| c.keys().next().cloned()).unwrap_or_default();
        let url = format!("{}/_sessionlab/metrics", self.device.control());
        let resp = self.client.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"].to_str().unwrap(), documented);
        let text = resp.text().await.unwrap();
        assert!(text.contains("# TYPE sessionlab_sessions_open gauge"), "{text}");
        assert!(text.ends_with("# EOF\n"));
        self.checked += 1;
    }

    async fn get(&mut self, template: &str, path: &str) -> (u16, Value) {
        self.call(Method::GET, template, path, None).await
    }
}

/// Every operation, on a device of each vendor, answers as the document says: success
/// and error answers alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_openapi_document() {
    for profile in ["redfish", "ilo5", "idrac9", "bigip17", "solace-appliance"] {
        let mut api = Api::start(profile).await;
        let name = api.name();
        let dev = format!("/devices/{name}");
        let user = Profile::embedded(profile).unwrap().default_account().user.clone();
        api.get("/", "/").await;
        api.get("/index.json", "/index.json").await;
        api.metrics().await;
        api.get("/health", "/health").await;
        api.get("/clock", "/clock").await;
        api.get("/devices", "/devices").await;
        api.get("/devices/{name}", &dev).await;
        api.get("/devices/{name}", "/devices/no-such-device").await;
        let types: Vec<String> = {
            let (_, d) = api.get("/devices/{name}", &dev).await;
            d["sessions"]["by_type"]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        let session_type = types.first().cloned().unwrap_or_else(|| "web".to_string());
        let open = |session_type: String| json!({"user": user, "session_type": session_type, "client_addr": "192.0.2.10"});
        let sessions = format!("{dev}/sessions");
        let (mut status, mut created) = api
            .call(Method::POST, "/devices/{name}/sessions", &sessions, Some(open(session_type)))
            .await;
        // A type the profile does not know is refused with the valid ones: open one of those.
        if let Some(valid) = created.pointer("/error/details/valid_session_types/0") {
            let valid = valid.as_str().unwrap_or_default().to_string();
            (status, created) = api
                .call(Method::POST, "/devices/{name}/sessions", &sessions, Some(open(valid)))
                .await;
        }
        assert_eq!(status, 201, "{created}");
        api.get("/devices/{name}/sessions", &format!("{dev}/sessions")).await;
        if let Some(id) = created["id"].as_str() {
            let one = format!("{dev}/sessions/{id}");
            api.get("/devices/{name}/sessions/{id}", &one).await;
            api.call(Method::DELETE, "/devices/{name}/sessions/{id}", &one, None).await;
            api.call(Method::DELETE, "/devices/{name}/sessions/{id}", &one, None).await;
        }
        api.call(
            Method::POST,
            "/devices/{name}/sessions",
            &format!("{dev}/sessions"),
            Some(json!({"user": user})),
        )
        .await;
        api.get("/devices/{name}/users", &format!("{dev}/users")).await;
        api.get("/devices/{name}/users/{user}", &format!("{dev}/users/{user}")).await;
        api.get("/devices/{name}/users/{user}", &format!("{dev}/users/nobody-here")).await;
        let role = {
            let (_, u) =
                api.get("/devices/{name}/users/{user}", &format!("{dev}/users/{user}")).await;
            u["role"].as_str().unwrap_or("Operator").to_string()
        };
        api.call(
            Method::POST,
            "/devices/{name}/users",
            &format!("{dev}/users"),
            Some(json!({"user": "oa-user", "password": "Pw-12345", "role": role})),
        )
        .await;
        api.call(
            Method::PUT,
            "/devices/{name}/users/{user}/password",
            &format!("{dev}/users/oa-user/password"),
            Some(json!({"password": "Pw-67890"})),
        )
        .await;
        api.call(
            Method::DELETE,
            "/devices/{name}/users/{user}",
            &format!("{dev}/users/oa-user"),
            None,
        )
        .await;
        api.get("/devices/{name}/events", &format!("{dev}/events")).await;
        api.get("/devices/{name}/events", &format!("{dev}/events?reason=no-such-reason")).await;
        api.get("/devices/{name}/hygiene", &format!("{dev}/hygiene")).await;
        api.get("/hygiene", "/hygiene").await;
        api.call(Method::POST, "/clock/advance", "/clock/advance", Some(json!({"seconds": 60})))
            .await;
        api.call(Method::POST, "/clock/advance", "/clock/advance", Some(json!({"duration": "1h"})))
            .await;
        api.call(Method::POST, "/clock/advance", "/clock/advance", Some(json!({}))).await;
        api.call(Method::POST, "/devices/{name}/auth-config", &format!("{dev}/auth-config"), None)
            .await;
        api.call(Method::POST, "/devices/{name}/restart", &format!("{dev}/restart"), None).await;
        api.call(Method::DELETE, "/devices/{name}/sessions", &format!("{dev}/sessions"), None)
            .await;
        api.call(Method::POST, "/devices/{name}/reset", &format!("{dev}/reset"), None).await;
        api.call(Method::POST, "/reset", "/reset", None).await;
        assert!(api.checked >= 30, "{profile}: {} answers checked", api.checked);
    }
}

/// Every example in the document is valid against the schema it illustrates.
#[test]
fn examples_in_the_document_are_valid() {
    let doc = doc();
    let mut seen = 0;
    fn walk(doc: &Value, v: &Value, at: &str, seen: &mut usize) {
        match v {
            Value::Object(o) => {
                if let Some(example) = o.get("example") {
                    let mut schema = v.clone();
                    schema.as_object_mut().unwrap().remove("example");
                    // An example beside a schema describes that schema; beside a media
                    // type, the media type's schema.
                    let schema = o.get("schema").cloned().unwrap_or(schema);
                    let problems = errors(doc, &schema, example);
                    assert!(problems.is_empty(), "example at {at} is invalid: {problems:?}");
                    *seen += 1;
                }
                for (k, v) in o {
                    walk(doc, v, &format!("{at}/{k}"), seen);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(doc, v, &format!("{at}/{i}"), seen);
                }
            }
            _ => {}
        }
    }
    walk(&doc, &doc, "#", &mut seen);
    assert!(seen >= 5, "{seen} examples");
}

/// Bodies the server refuses (400, or 404 for an unknown empty user) are refused by the document's schema too: a
/// generated client cannot send them. Among them: an empty user or session type, and a
/// clock advance with neither or both of `seconds` and `duration` (exactly one of).
#[tokio::test]
async fn bodies_the_server_refuses_are_invalid_in_the_document() {
    let mut api = Api::start("redfish").await;
    let doc = doc();
    let cases: [(&str, &str, &str, Value); 7] = [
        (
            "/devices/{name}/sessions",
            "/devices/redfish/sessions",
            "post",
            json!({"user": "", "session_type": "redfish"}),
        ),
        (
            "/devices/{name}/sessions",
            "/devices/redfish/sessions",
            "post",
            json!({"user": "admin", "session_type": ""}),
        ),
        (
            "/devices/{name}/users",
            "/devices/redfish/users",
            "post",
            json!({"user": "", "password": "x", "role": "Operator"}),
        ),
        ("/clock/advance", "/clock/advance", "post", json!({})),
        ("/clock/advance", "/clock/advance", "post", json!({"seconds": 1, "duration": "1s"})),
        ("/clock/advance", "/clock/advance", "post", json!({"seconds": 0})),
        ("/clock/advance", "/clock/advance", "post", json!({"duration": "soon"})),
    ];
    for (template, path, method, body) in cases {
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let (status, answer) = api.call(m, template, path, Some(body.clone())).await;
        // 400, or 404 for an empty user name: no account has it.
        assert!(status == 400 || status == 404, "{path} {body}: {status} {answer}");
        let schema = request_schema(&doc, template, method);
        assert!(
            !errors(&doc, &schema, &body).is_empty(),
            "{method} {template}: the document accepts {body}, which the server refuses: {answer}"
        );
    }
    // And the good ones pass both.
    let schema = request_schema(&doc, "/clock/advance", "post");
    for body in
        [json!({"seconds": 1.5}), json!({"duration": "30d"}), json!({"duration": "1h 30min"})]
    {
        assert!(errors(&doc, &schema, &body).is_empty(), "{body}");
    }
}
