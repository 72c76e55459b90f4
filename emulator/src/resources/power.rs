//! `#ComputerSystem.Reset`: the hook that turns a system on and off.
//!
//! The allowed `ResetType`s are the document's own `ResetType@Redfish.AllowableValues`
//! (data, per vendor); what a reset does to `PowerState` is DSP0266's reading of each
//! type. A graceful shutdown takes [`PowerSettings::graceful_shutdown_secs`] on the device
//! clock: the document shows [`PowerSettings::shutting_down_state`] meanwhile, then `Off`.
//! Whether a reset that asks for the state the system is already in (`On` when on,
//! `ForceOff` when off, a restart when off) is refused is a vendor trait
//! ([`PowerSettings::refuse_same_state`]: iLO answers `InvalidOperationForSystemState`,
//! iDRAC `PSU501`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{key, value_arg, ActionHook, ActionOutcome, Problem, Transition, Tree, TreeError};
use crate::clock::Now;

/// The name of the action this hook serves.
pub const RESET_ACTION: &str = "#ComputerSystem.Reset";

/// Every `ResetType` of DSP0266's `ResetType` enumeration this hook understands; used
/// when a document lists no allowable values.
pub const RESET_TYPES: [&str; 9] = [
    "On",
    "ForceOn",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
    "PowerCycle",
    "PushPowerButton",
    "Nmi",
];

/// What a system reset does on this device (`[tree.power]` of a profile).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerSettings {
    /// Seconds a graceful shutdown (and a press of the power button on a running system)
    /// takes before `PowerState` is `Off`; 0: at once.
    pub graceful_shutdown_secs: u64,
    /// `PowerState` shown while a graceful shutdown runs (`PoweringOff`, or `On` on
    /// services that report the host's state only once it is off).
    pub shutting_down_state: String,
    /// Whether a reset that asks for the current state is refused
    /// ([`TreeError::InvalidState`]) rather than accepted as a no-op.
    pub refuse_same_state: bool,
    /// `Status.State` while the system is off (Dell: `StandbyOffline`); empty: `Status`
    /// is left alone. Back to `Enabled` when it comes on.
    pub off_status_state: String,
    /// Other documents whose `PowerState` follows the system's (its chassis), by
    /// `@odata.id`.
    pub mirrors: Vec<String>,
}

impl Default for PowerSettings {
    fn default() -> Self {
        PowerSettings {
            graceful_shutdown_secs: 30,
            shutting_down_state: "PoweringOff".to_string(),
            refuse_same_state: false,
            off_status_state: String::new(),
            mirrors: Vec::new(),
        }
    }
}

/// The `#ComputerSystem.Reset` hook.
#[derive(Clone, Debug)]
pub struct ResetHook {
    /// The device's rules.
    pub settings: PowerSettings,
}

const ACTION: &str = "ComputerSystem.Reset";
const PARAMETER: &str = "ResetType";

impl ResetHook {
    fn allowed(doc: &Value) -> Vec<String> {
        let listed = doc["Actions"][RESET_ACTION]["ResetType@Redfish.AllowableValues"].as_array();
        match listed {
            Some(values) => values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            None => RESET_TYPES.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    fn reset_type(doc: &Value, params: &Map<String, Value>) -> Result<String, TreeError> {
        let mut problems = Vec::new();
        for name in params.keys().filter(|k| *k != PARAMETER) {
            problems.push(Problem::ActionParameterUnknown(ACTION.into(), name.clone()));
        }
        let value = match params.get(PARAMETER) {
            None => {
                problems.push(Problem::ActionParameterMissing(ACTION.into(), PARAMETER.into()));
                None
            }
            Some(Value::String(s)) if Self::allowed(doc).contains(s) => Some(s.clone()),
            Some(Value::String(s)) => {
                problems.push(Problem::ActionParameterValueNotInList(
                    s.clone(),
                    PARAMETER.into(),
                    ACTION.into(),
                ));
                None
            }
            Some(other) => {
                problems.push(Problem::ActionParameterValueTypeError(
                    value_arg(other),
                    PARAMETER.into(),
                    ACTION.into(),
                ));
                None
            }
        };
        match value {
            Some(v) if problems.is_empty() => Ok(v),
            _ => Err(TreeError::Invalid(problems)),
        }
    }

    /// The patch that shows `state` on the system (and its `Status.State`).
    fn state_patch(&self, state: &str, on_system: bool) -> Value {
        let mut patch = json!({ "PowerState": state });
        if on_system && !self.settings.off_status_state.is_empty() {
            let status =
                if state == "Off" { self.settings.off_status_state.as_str() } else { "Enabled" };
            patch["Status"] = json!({ "State": status });
        }
        patch
    }

    fn targets(&self, tree: &Tree, path: &str) -> Vec<(String, bool)> {
        let mut out = vec![(path.to_string(), true)];
        for mirror in &self.settings.mirrors {
            let k = key(mirror, tree.case_insensitive);
            if tree.doc(&k).is_some() {
                out.push((k, false));
            }
        }
        out
    }

    fn set_now(&self, tree: &mut Tree, path: &str, state: &str) {
        for (target, is_system) in self.targets(tree, path) {
            tree.cancel(&target, "power");
            if let Some(doc) = tree.doc_mut(&target) {
                super::merge(&mut doc.body, &self.state_patch(state, is_system));
            }
        }
    }

    fn shut_down_gracefully(&self, tree: &mut Tree, path: &str, now: Now) {
        let secs = self.settings.graceful_shutdown_secs;
        if secs == 0 {
            self.set_now(tree, path, "Off");
            return;
        }
        let at = now.mono + Duration::from_secs(secs);
        for (target, is_system) in self.targets(tree, path) {
            if let Some(doc) = tree.doc_mut(&target) {
                let during = json!({ "PowerState": self.settings.shutting_down_state });
                super::merge(&mut doc.body, &during);
            }
            tree.schedule(Transition {
                at,
                path: target,
                patch: self.state_patch("Off", is_system),
                kind: "power".to_string(),
            });
        }
    }
}

impl ActionHook for ResetHook {
    fn invoke(
        &self,
        tree: &mut Tree,
        path: &str,
        params: &Map<String, Value>,
        now: Now,
    ) -> Result<ActionOutcome, TreeError> {
        let doc = tree.doc(path).ok_or(TreeError::NotFound)?.body.clone();
        let reset_type = Self::reset_type(&doc, params)?;
        let state = doc["PowerState"].as_str().unwrap_or("On").to_string();
        let shutting_down = tree.pending().iter().any(|t| t.path == path && t.kind == "power");
        let off = state == "Off";
        let refuse = |tree_state: &str| {
            Err(TreeError::InvalidState {
                action: ACTION.to_string(),
                requested: reset_type.clone(),
                state: tree_state.to_string(),
            })
        };
        let same_state = match reset_type.as_str() {
            "On" | "ForceOn" => !off && !shutting_down,
            "ForceOff" | "GracefulShutdown" | "GracefulRestart" | "ForceRestart" | "Nmi" => off,
            _ => false,
        };
        if same_state {
            if self.settings.refuse_same_state {
                return refuse(&state);
            }
            return Ok(ActionOutcome { changed: false });
        }
        match reset_type.as_str() {
            "On" | "ForceOn" => self.set_now(tree, path, "On"),
            "ForceOff" => self.set_now(tree, path, "Off"),
            "GracefulShutdown" if shutting_down => return Ok(ActionOutcome { changed: false }),
            "GracefulShutdown" => self.shut_down_gracefully(tree, path, now),
            "PushPowerButton" if off => self.set_now(tree, path, "On"),
            "PushPowerButton" => self.shut_down_gracefully(tree, path, now),
            // A restart or power cycle ends with the system on; a pending shutdown is void.
            "GracefulRestart" | "ForceRestart" | "PowerCycle" => self.set_now(tree, path, "On"),
            // Nmi: a diagnostic interrupt, no change of power state.
            _ => return Ok(ActionOutcome { changed: false }),
        }
        Ok(ActionOutcome { changed: true })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::resources::Hooks;

    const SYSTEM: &str = "/redfish/v1/Systems/1";
    const TARGET: &str = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset";

    fn tree(settings: PowerSettings) -> Tree {
        let mut hooks = Hooks::new();
        hooks.insert(RESET_ACTION.to_string(), Arc::new(ResetHook { settings }));
        let mut t = Tree::new(false);
        t.insert(
            json!({
                "@odata.id": SYSTEM,
                "PowerState": "On",
                "Status": { "State": "Enabled", "Health": "OK" },
                "Actions": { RESET_ACTION: {
                    "target": TARGET,
                    "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "PushPowerButton", "Nmi"],
                }},
            }),
            &hooks,
        )
        .unwrap();
        t.insert(json!({ "@odata.id": "/redfish/v1/Chassis/1", "PowerState": "On" }), &hooks)
            .unwrap();
        t
    }

    fn reset(t: &mut Tree, kind: &str, secs: u64) -> Result<ActionOutcome, TreeError> {
        let params = json!({ "ResetType": kind });
        t.invoke(TARGET, params.as_object().unwrap(), Now::at_secs(secs))
    }

    fn power(t: &mut Tree, path: &str, secs: u64) -> String {
        t.get(path, Now::at_secs(secs)).unwrap().0["PowerState"].as_str().unwrap().to_string()
    }

    /// A graceful shutdown takes the profile's seconds on the device clock, and the
    /// chassis follows.
    #[test]
    fn graceful_shutdown_takes_its_time() {
        let settings = PowerSettings {
            graceful_shutdown_secs: 45,
            mirrors: vec!["/redfish/v1/Chassis/1/".into()],
            off_status_state: "StandbyOffline".into(),
            ..PowerSettings::default()
        };
        let mut t = tree(settings);
        assert_eq!(reset(&mut t, "GracefulShutdown", 100), Ok(ActionOutcome { changed: true }));
        assert_eq!(power(&mut t, SYSTEM, 100), "PoweringOff");
        assert_eq!(power(&mut t, SYSTEM, 144), "PoweringOff");
        assert_eq!(power(&mut t, SYSTEM, 145), "Off");
        assert_eq!(power(&mut t, "/redfish/v1/Chassis/1", 145), "Off");
        assert_eq!(
            t.get(SYSTEM, Now::at_secs(145)).unwrap().0["Status"]["State"],
            "StandbyOffline"
        );
        assert_eq!(reset(&mut t, "On", 146), Ok(ActionOutcome { changed: true }));
        assert_eq!(power(&mut t, SYSTEM, 146), "On");
        assert_eq!(t.get(SYSTEM, Now::at_secs(146)).unwrap().0["Status"]["State"], "Enabled");
    }

    /// ForceOff during a graceful shutdown is at once, and the pending Off is dropped.
    #[test]
    fn force_off_overrides_a_pending_shutdown() {
        let mut t = tree(PowerSettings::default());
        reset(&mut t, "GracefulShutdown", 0).unwrap();
        reset(&mut t, "ForceOff", 1).unwrap();
        assert_eq!(power(&mut t, SYSTEM, 1), "Off");
        assert!(t.pending().is_empty());
        reset(&mut t, "On", 2).unwrap();
        assert_eq!(power(&mut t, SYSTEM, 100), "On");
    }

    /// A vendor that refuses same-state resets says which state forbids it; one that
    /// does not accepts them without change.
    #[test]
    fn same_state_resets() {
        let mut strict =
            tree(PowerSettings { refuse_same_state: true, ..PowerSettings::default() });
        assert_eq!(
            reset(&mut strict, "On", 0),
            Err(TreeError::InvalidState {
                action: "ComputerSystem.Reset".into(),
                requested: "On".into(),
                state: "On".into()
            })
        );
        reset(&mut strict, "ForceOff", 0).unwrap();
        assert!(matches!(
            reset(&mut strict, "ForceRestart", 0),
            Err(TreeError::InvalidState { .. })
        ));
        let mut lenient = tree(PowerSettings::default());
        assert_eq!(reset(&mut lenient, "On", 0), Ok(ActionOutcome { changed: false }));
    }

    /// Only the document's allowable values, only `ResetType`.
    #[test]
    fn parameters_are_checked() {
        let mut t = tree(PowerSettings::default());
        let Err(TreeError::Invalid(p)) = reset(&mut t, "PowerCycle", 0) else { panic!() };
        assert_eq!(
            p,
            [Problem::ActionParameterValueNotInList(
                "PowerCycle".into(),
                "ResetType".into(),
                "ComputerSystem.Reset".into()
            )]
        );
        let params = json!({ "ResetType": 1, "Force": true });
        let Err(TreeError::Invalid(p)) =
            t.invoke(TARGET, params.as_object().unwrap(), Now::at_secs(0))
        else {
            panic!()
        };
        assert_eq!(p.len(), 2);
        let Err(TreeError::Invalid(p)) = t.invoke(TARGET, &Map::new(), Now::at_secs(0)) else {
            panic!()
        };
        assert_eq!(
            p,
            [Problem::ActionParameterMissing("ComputerSystem.Reset".into(), "ResetType".into())]
        );
        assert_eq!(power(&mut t, SYSTEM, 0), "On");
    }

    /// The power button turns an off system on at once, a running one off gracefully.
    #[test]
    fn push_power_button_toggles() {
        let mut t = tree(PowerSettings { graceful_shutdown_secs: 10, ..PowerSettings::default() });
        reset(&mut t, "PushPowerButton", 0).unwrap();
        assert_eq!(power(&mut t, SYSTEM, 10), "Off");
        reset(&mut t, "PushPowerButton", 11).unwrap();
        assert_eq!(power(&mut t, SYSTEM, 11), "On");
    }
}
