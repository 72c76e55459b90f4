//! Mockups in DMTF's format (DSP2043, as DMTF's Redfish-Mockup-Creator writes them and
//! Redfish-Mockup-Server reads them) loaded into a [`Tree`].
//!
//! A mockup is a directory tree with one `index.json` per resource, its path the
//! resource's URI. In the *tall* form (the default of both DMTF tools) the directory
//! holds `redfish/index.json` and `redfish/v1/...`; in the *short* form (`-S`) it starts
//! at the service root, `index.json` being `/redfish/v1/`. Both are recognised.
//!
//! A `headers.json` beside an `index.json` (the Creator's `--Headers`, `{"GET":
//! {"Header": "value"}}`) is served as DMTF's Redfish-Mockup-Server `-X` serves it, with
//! the personality first: its headers are added to GET answers of the document where the
//! personality sets none of the same name, leaving out framing, session and time headers
//! ([`super::capture::UNCAPTURED_HEADERS`]); its `Allow` without `PATCH` makes the
//! document read-only; its `ETag` is the document's ETag while the document is unchanged.
//!
//! Documents keep their properties; `@odata.id` is the file's URI when the document
//! lacks one. Every top-level property but the identifying ones (`@odata.*`, `Id`,
//! `Actions`, `Links`, `Members`) may be PATCHed (unless `headers.json` says otherwise),
//! and `#ComputerSystem.Reset` works as in the default trees, with the profile's
//! `[tree.power]`; other actions answer `ActionNotSupported`. Changes live in memory
//! until the device is reset. Bodies are served as JSON equal to the files (not byte for
//! byte: keys come out sorted); a document with an `@odata.etag` serves it, and the same
//! tag in its `ETag` header, until it changes; one without gets none added.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Tree, WRITABLE_ANNOTATION};

/// A problem with one file of a mockup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockupError {
    /// The file (or the directory, when the layout is wrong).
    pub path: PathBuf,
    /// The line, for JSON that does not parse.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for MockupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}: line {line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

fn error(path: &Path, line: Option<usize>, message: impl Into<String>) -> MockupError {
    MockupError { path: path.to_path_buf(), line, message: message.into() }
}

/// The directory whose `index.json` is `/redfish/v1/`, and the form found.
fn service_root_dir(dir: &Path) -> Result<(PathBuf, &'static str), MockupError> {
    let tall = dir.join("redfish").join("v1");
    if tall.join("index.json").is_file() {
        return Ok((tall, "tall"));
    }
    if dir.join("index.json").is_file() {
        return Ok((dir.to_path_buf(), "short"));
    }
    Err(error(
        dir,
        None,
        "not a mockup: neither redfish/v1/index.json (tall form) nor index.json (short form)",
    ))
}

fn collect(dir: &Path, uri: &str, out: &mut Vec<(PathBuf, String)>) -> Result<(), MockupError> {
    let entries = std::fs::read_dir(dir).map_err(|e| error(dir, None, e.to_string()))?;
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    if dir.join("index.json").is_file() {
        out.push((dir.join("index.json"), uri.to_string()));
    }
    for child in children.into_iter().filter(|c| c.is_dir()) {
        let name = child.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        collect(&child, &format!("{uri}/{name}"), out)?;
    }
    Ok(())
}

fn parse(path: &Path) -> Result<Value, MockupError> {
    let text = std::fs::read_to_string(path).map_err(|e| error(path, None, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| error(path, Some(e.line()), e.to_string()))
}

/// Every problem of the mockup at `dir` (empty when it loads), and the number of
/// documents it holds.
pub fn check(dir: &Path) -> (usize, Vec<MockupError>) {
    let (root, _) = match service_root_dir(dir) {
        Ok(found) => found,
        Err(e) => return (0, vec![e]),
    };
    let mut files = Vec::new();
    if let Err(e) = collect(&root, "/redfish/v1", &mut files) {
        return (0, vec![e]);
    }
    let mut problems = Vec::new();
    for (path, _) in &files {
        match parse(path) {
            Ok(Value::Object(_)) => {}
            Ok(_) => problems.push(error(path, None, "a resource must be a JSON object")),
            Err(e) => problems.push(e),
        }
        let headers = path.with_file_name("headers.json");
        if headers.is_file() {
            if let Err(e) = parse(&headers).and_then(|v| captured_headers(&headers, &v)) {
                problems.push(e);
            }
        }
    }
    (files.len(), problems)
}

/// The GET headers of a `headers.json` (`{"GET": {"Header": "value"}}`), names in lower
/// case, without those never served from a mockup.
fn captured_headers(path: &Path, doc: &Value) -> Result<Vec<(String, String)>, MockupError> {
    let Some(map) = doc.as_object() else {
        return Err(error(path, None, "headers.json must be a JSON object"));
    };
    let Some(get) = map.get("GET") else { return Ok(Vec::new()) };
    let Some(get) = get.as_object() else {
        return Err(error(path, None, "headers.json: \"GET\" must be an object of headers"));
    };
    let mut out = Vec::new();
    for (name, value) in get {
        let Some(value) = value.as_str() else {
            return Err(error(
                path,
                None,
                format!("headers.json: header {name:?} must be a string"),
            ));
        };
        let lower = name.to_ascii_lowercase();
        let valid = axum::http::HeaderName::from_bytes(lower.as_bytes()).is_ok()
            && axum::http::HeaderValue::from_str(value).is_ok();
        if !valid {
            return Err(error(path, None, format!("headers.json: {name:?} is not a valid header")));
        }
        if !super::capture::UNCAPTURED_HEADERS.contains(&lower.as_str()) {
            out.push((lower, value.to_string()));
        }
    }
    Ok(out)
}

/// The properties a mockup document may not be PATCHed on.
const IDENTIFYING: [&str; 5] = ["Id", "Actions", "Links", "Members", "Members@odata.count"];

/// Loads the mockup at `dir` into a tree (no `@odata.etag` added); `settings` gives the
/// case rule and what a system reset does.
pub fn load(dir: &Path, settings: &super::TreeSettings) -> Result<Tree, MockupError> {
    let (root, _) = service_root_dir(dir)?;
    let mut files = Vec::new();
    collect(&root, "/redfish/v1", &mut files)?;
    let hooks = super::defaults::hooks(settings);
    let mut tree = Tree::new(settings.case_insensitive_paths);
    tree.set_annotate_etag(false);
    for (path, uri) in files {
        let mut doc = parse(&path)?;
        let Some(map) = doc.as_object_mut() else {
            return Err(error(&path, None, "a resource must be a JSON object"));
        };
        if !map.contains_key("@odata.id") {
            map.insert("@odata.id".to_string(), Value::String(uri));
        }
        let headers_file = path.with_file_name("headers.json");
        let mut headers = if headers_file.is_file() {
            captured_headers(&headers_file, &parse(&headers_file)?)?
        } else {
            Vec::new()
        };
        let read_only = headers.iter().any(|(n, v)| {
            n == "allow" && !v.split(',').any(|m| m.trim().eq_ignore_ascii_case("PATCH"))
        });
        let writable: Vec<Value> = map
            .keys()
            .filter(|k| {
                !read_only
                    && !k.starts_with('@')
                    && !k.contains('@')
                    && !IDENTIFYING.contains(&k.as_str())
            })
            .map(|k| Value::String(k.clone()))
            .collect();
        map.insert(WRITABLE_ANNOTATION.to_string(), Value::Array(writable));
        let id = map.get("@odata.id").and_then(Value::as_str).unwrap_or_default().to_string();
        let etag = headers.iter().find(|(n, _)| n == "etag").map(|(_, v)| v.clone());
        // The ETag and Allow are the tree's to serve (they follow the document's changes).
        headers.retain(|(n, _)| n != "etag" && n != "allow");
        tree.insert(doc, &hooks).map_err(|e| error(&path, None, e))?;
        tree.set_captured(&id, etag, headers);
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Now;
    use crate::resources::power::PowerSettings;
    use serde_json::json;

    fn settings() -> crate::resources::TreeSettings {
        crate::resources::TreeSettings {
            template: String::new(),
            mockup: None,
            case_insensitive_paths: false,
            vars: Default::default(),
            power: PowerSettings::default(),
            omit: Vec::new(),
            expand: Default::default(),
        }
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sessionlab-mockup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const SYSTEM: &str = r##"{
  "@odata.id": "/redfish/v1/Systems/sys1",
  "Id": "sys1",
  "AssetTag": "",
  "PowerState": "On",
  "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/sys1/Actions/ComputerSystem.Reset"}}
}"##;

    /// The tall form (DMTF's default) loads, PATCH and reset take effect in memory.
    #[test]
    fn tall_mockup_loads_and_changes_in_memory() {
        let dir = scratch("tall");
        write(&dir, "redfish/index.json", r#"{"v1": "/redfish/v1/"}"#);
        write(
            &dir,
            "redfish/v1/index.json",
            r#"{"@odata.id": "/redfish/v1/", "Systems": {"@odata.id": "/redfish/v1/Systems"}}"#,
        );
        write(
            &dir,
            "redfish/v1/Systems/index.json",
            r#"{"Members": [{"@odata.id": "/redfish/v1/Systems/sys1"}]}"#,
        );
        write(&dir, "redfish/v1/Systems/sys1/index.json", SYSTEM);
        write(&dir, "redfish/v1/Systems/sys1/headers.json", r#"{"GET": {"Allow": "GET, PATCH"}}"#);
        assert_eq!(check(&dir), (3, vec![]));
        let mut tree = load(&dir, &settings()).unwrap();
        let now = Now::at_secs(0);
        let (collection, _) = tree.get("/redfish/v1/Systems", now).unwrap();
        assert_eq!(collection["@odata.id"], "/redfish/v1/Systems", "derived from the path");
        let (doc, _) = tree.get("/redfish/v1/Systems/sys1", now).unwrap();
        assert_eq!(doc, serde_json::from_str::<Value>(SYSTEM).unwrap(), "served as the file says");
        let patch = json!({"AssetTag": "x"});
        tree.patch("/redfish/v1/Systems/sys1", patch.as_object().unwrap(), |_| true, now).unwrap();
        let reset = json!({"ResetType": "ForceOff"});
        let target = "/redfish/v1/Systems/sys1/Actions/ComputerSystem.Reset";
        tree.invoke(target, reset.as_object().unwrap(), now).unwrap();
        let (doc, _) = tree.get("/redfish/v1/Systems/sys1", now).unwrap();
        assert_eq!(
            (doc["AssetTag"].as_str(), doc["PowerState"].as_str()),
            (Some("x"), Some("Off"))
        );
        let id = json!({"Id": "other"});
        assert!(tree
            .patch("/redfish/v1/Systems/sys1", id.as_object().unwrap(), |_| true, now)
            .is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The short form starts at the service root.
    #[test]
    fn short_mockup_loads() {
        let dir = scratch("short");
        write(&dir, "index.json", r#"{"@odata.id": "/redfish/v1/"}"#);
        write(&dir, "Systems/sys1/index.json", SYSTEM);
        let tree = load(&dir, &settings()).unwrap();
        assert_eq!(tree.ids(), ["/redfish/v1/", "/redfish/v1/Systems/sys1"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `check` names every malformed file with its line, and a directory that is no
    /// mockup.
    #[test]
    fn check_names_files_and_lines() {
        let dir = scratch("bad");
        write(&dir, "redfish/v1/index.json", "{\"@odata.id\": \"/redfish/v1/\"}");
        write(&dir, "redfish/v1/Systems/index.json", "{\n  \"Members\": [\n  }\n");
        write(&dir, "redfish/v1/Chassis/index.json", "[1, 2]");
        let (count, problems) = check(&dir);
        assert_eq!(count, 3);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{text:?}");
        assert!(text.iter().any(|t| t.contains("Systems/index.json: line 3:")), "{text:?}");
        assert!(text
            .iter()
            .any(|t| t.contains("Chassis/index.json: a resource must be a JSON object")));
        assert!(load(&dir, &settings()).is_err());
        write(&dir, "redfish/v1/headers.json", r#"{"GET": {"Allow": ["GET"]}}"#);
        let (_, problems) = check(&dir);
        assert!(
            problems.iter().any(|p| p.to_string().contains("header \"Allow\" must be a string")),
            "{problems:?}"
        );
        let empty = scratch("empty");
        let (_, problems) = check(&empty);
        assert!(problems[0].message.contains("not a mockup"), "{problems:?}");
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&empty);
    }
}
