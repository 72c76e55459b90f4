//! Default trees: templates as data, filled in from a profile's `[tree]` section.
//!
//! A template (`fixtures/trees/<name>.json`, embedded in the binary) is a JSON array of
//! documents. Strings and object keys may hold `${var}` placeholders: a string that is
//! exactly `"${var}"` becomes the variable's value whatever its JSON type (a number, a
//! list), any other occurrence is replaced by its text. Variables come from the
//! profile's `[tree.vars]`, plus `device` (the device's name) and `system_uuid` (a
//! stable UUID derived from it). A placeholder without a variable is a profile error,
//! reported when the profile loads.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::power::{PowerSettings, ResetHook, RESET_ACTION};
use super::{Hooks, Tree};

/// The embedded templates: (name, JSON).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("redfish", include_str!("../../../fixtures/trees/redfish.json")),
    ("ilo", include_str!("../../../fixtures/trees/ilo.json")),
    ("idrac", include_str!("../../../fixtures/trees/idrac.json")),
];

/// A profile's `[tree]`: which template, its variables, and the rules of its actions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeSettings {
    /// The embedded template (`redfish`, `ilo`, `idrac`); ignored with `mockup`.
    #[serde(default)]
    pub template: String,
    /// A mockup directory in DMTF's format to serve instead of the template (a path,
    /// relative to the working directory): the user's own firmware's tree behind the
    /// personality's sessions ([`super::mockup`]).
    #[serde(default)]
    pub mockup: Option<std::path::PathBuf>,
    /// Whether paths match whatever their case (iLO: HPE writes `/redfish/v1/systems/1/`).
    #[serde(default)]
    pub case_insensitive_paths: bool,
    /// The template's variables.
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    /// What `#ComputerSystem.Reset` does.
    #[serde(default)]
    pub power: PowerSettings,
    /// Documents of the template this profile does not serve (by `@odata.id`): what a
    /// generation's firmware lacks (iDRAC8 has no `DellSoftwareInventory`). Each must name
    /// a document of the template.
    #[serde(default)]
    pub omit: Vec<String>,
    /// Which forms of the `$expand` query the service takes (DSP0266 query parameters),
    /// and what it answers to the others.
    #[serde(default)]
    pub expand: super::ExpandSettings,
}

/// A stable UUID for a device's computer system, derived from its name (not the
/// service's UUID: a BMC and its host have different ones).
pub fn system_uuid(name: &str) -> String {
    let hash = |seed: u64| {
        name.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hash(0x5e55_1011_ab00_0001).to_be_bytes());
    bytes[8..].copy_from_slice(&hash(0x0000_ab00_1011_5e55).to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

fn template(name: &str) -> Result<Vec<Value>, String> {
    let (_, text) = TEMPLATES.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        let known: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
        format!("unknown tree template {name:?} (known: {})", known.join(", "))
    })?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(docs)) => Ok(docs),
        Ok(_) => Err(format!("tree template {name}: not a JSON array of documents")),
        Err(e) => Err(format!("tree template {name}: line {}: {e}", e.line())),
    }
}

fn fill_text(text: &str, vars: &BTreeMap<String, Value>, missing: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match vars.get(name) {
            Some(Value::String(s)) => out.push_str(s),
            Some(other) => out.push_str(&other.to_string()),
            None => missing.push(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn fill(value: &Value, vars: &BTreeMap<String, Value>, missing: &mut Vec<String>) -> Value {
    match value {
        Value::String(s) => {
            let whole = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'));
            match whole.filter(|n| !n.contains('}')).and_then(|n| vars.get(n)) {
                Some(v) => v.clone(),
                None => Value::String(fill_text(s, vars, missing)),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, vars, missing)).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(fill_text(k, vars, missing), fill(v, vars, missing));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The hooks every default tree gets.
pub fn hooks(settings: &TreeSettings) -> Hooks {
    let mut hooks = Hooks::new();
    hooks.insert(
        RESET_ACTION.to_string(),
        Arc::new(ResetHook { settings: settings.power.clone() }) as Arc<dyn super::ActionHook>,
    );
    hooks
}

/// The tree of `settings` for the device `device`.
pub fn build(settings: &TreeSettings, device: &str) -> Result<Tree, String> {
    if let Some(dir) = &settings.mockup {
        return super::mockup::load(dir, settings).map_err(|e| format!("mockup {e}"));
    }
    let mut vars = settings.vars.clone();
    vars.entry("device".to_string()).or_insert_with(|| Value::String(device.to_string()));
    vars.entry("system_uuid".to_string()).or_insert_with(|| Value::String(system_uuid(device)));
    let mut missing = Vec::new();
    let mut docs: Vec<Value> =
        template(&settings.template)?.iter().map(|d| fill(d, &vars, &mut missing)).collect();
    let id_of = |d: &Value| d.get("@odata.id").and_then(Value::as_str).map(str::to_string);
    for omitted in &settings.omit {
        if !docs.iter().any(|d| id_of(d).as_deref() == Some(omitted.as_str())) {
            return Err(format!(
                "tree template {} has no document {omitted:?} to omit",
                settings.template
            ));
        }
    }
    docs.retain(|d| id_of(d).is_none_or(|id| !settings.omit.contains(&id)));
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Err(format!(
            "tree template {} needs variables the profile's [tree.vars] does not give: {}",
            settings.template,
            missing.join(", ")
        ));
    }
    let hooks = hooks(settings);
    let mut tree = Tree::new(settings.case_insensitive_paths);
    for doc in docs {
        tree.insert(doc, &hooks)
            .map_err(|e| format!("tree template {}: {e}", settings.template))?;
    }
    Ok(tree)
}

/// The tree a profile's device starts with: its `[tree]`, or none.
pub fn for_profile(profile: &crate::profile::Profile, device: &str) -> Tree {
    match &profile.tree {
        Some(settings) => build(settings, device).unwrap_or_else(|e| {
            // Profiles are validated at load (`Profile::from_toml`), so this is a bug.
            tracing::error!(profile = %profile.name, "{e}");
            Tree::new(false)
        }),
        None => Tree::new(false),
    }
}

/// Problems of a profile's `[tree]`, for profile validation.
pub fn problems(settings: &TreeSettings) -> Vec<String> {
    match build(settings, "check") {
        Ok(_) => Vec::new(),
        Err(e) => vec![format!("[tree]: {e}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whole-string placeholders keep the variable's type; others are text; keys too.
    #[test]
    fn placeholders_fill_strings_keys_and_values() {
        let vars: BTreeMap<String, Value> = [
            ("oem".to_string(), json!("Hpe")),
            ("count".to_string(), json!(2)),
            ("list".to_string(), json!(["On", "ForceOff"])),
        ]
        .into_iter()
        .collect();
        let mut missing = Vec::new();
        let doc = json!({"Oem": {"${oem}": {"n": "${count}", "t": "x${count}y", "l": "${list}", "u": "${nope}"}}});
        let out = fill(&doc, &vars, &mut missing);
        assert_eq!(
            out,
            json!({"Oem": {"Hpe": {"n": 2, "t": "x2y", "l": ["On", "ForceOff"], "u": ""}}})
        );
        assert_eq!(missing, ["nope"]);
    }

    /// Every embedded template parses as a list of documents.
    #[test]
    fn templates_parse() {
        for (name, _) in TEMPLATES {
            assert!(!template(name).unwrap().is_empty(), "{name}");
        }
    }

    /// A template needing a variable the profile lacks is a clear error.
    #[test]
    fn missing_variables_are_named() {
        let settings = TreeSettings {
            template: "ilo".into(),
            mockup: None,
            case_insensitive_paths: false,
            vars: BTreeMap::new(),
            power: PowerSettings::default(),
            omit: Vec::new(),
            expand: Default::default(),
        };
        let err = build(&settings, "x").unwrap_err();
        assert!(err.contains("[tree.vars]") && err.contains("oem"), "{err}");
    }
}
