//! One emulated device: a profile, its accounts and settings, and its session store.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::clock::{Clock, Now};
use crate::profile::Profile;
use crate::resources::Resources;
use crate::session::{IdGenerator, Session, SessionStore};

/// A shared handle on a device; vendor routers and the control API hold these.
pub type DeviceHandle = Arc<Device>;

/// One emulated device. Its session rules and state live in [`Device::store`]; vendor
/// modules only translate wire requests into calls on it.
#[derive(Debug)]
pub struct Device {
    name: Arc<str>,
    profile: Arc<Profile>,
    clock: Clock,
    seed: Option<u64>,
    /// Device settings that are not session rules (a broker's auth type, a load
    /// balancer's force-sessions state), by name; back to empty on reset.
    settings: Mutex<BTreeMap<String, serde_json::Value>>,
    /// The session table and accounts.
    pub store: SessionStore,
    /// Systems, chassis and their power state: the profile's tree (built at first use),
    /// back to it on reset.
    resources: Resources,
    /// Object models with rules of their own (BIG-IP LTM objects, a Solace broker's
    /// message VPNs and queues), one per type: built
    /// from the profile on first use, dropped on reset so the next use rebuilds them.
    /// A device has one or two, so they are looked through rather than hashed for (a
    /// `HashMap` of `TypeId`s cost each object request about 150 instructions to hash).
    models: Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>,
}

impl Device {
    /// A device in its profile's initial state. With a seed its tokens and ids are
    /// reproducible (each device derives its own stream from the seed and its name).
    pub fn new(name: &str, profile: Arc<Profile>, clock: Clock, seed: Option<u64>) -> Device {
        let store = SessionStore::new(
            profile.session.clone(),
            profile.accounts.clone(),
            id_generator(name, &profile, seed),
        );
        let name: Arc<str> = Arc::from(name);
        Device {
            name: name.clone(),
            profile: profile.clone(),
            clock,
            seed,
            settings: Mutex::new(BTreeMap::new()),
            store,
            resources: Resources::lazy(profile, name),
            models: Mutex::new(Vec::new()),
        }
    }

    /// A device handle.
    pub fn handle(
        name: &str,
        profile: Arc<Profile>,
        clock: Clock,
        seed: Option<u64>,
    ) -> DeviceHandle {
        Arc::new(Device::new(name, profile, clock, seed))
    }

    /// The device's name in the fleet.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The profile it was built from.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The clock it runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current time on the device's clock.
    pub fn now(&self) -> Now {
        self.clock.now()
    }

    /// A device setting, if it was set since the last reset.
    pub fn setting(&self, key: &str) -> Option<serde_json::Value> {
        self.lock_settings().get(key).cloned()
    }

    /// Sets a device setting.
    pub fn set_setting(&self, key: &str, value: serde_json::Value) {
        self.lock_settings().insert(key.to_string(), value);
    }

    /// Every setting set since the last reset.
    pub fn settings(&self) -> BTreeMap<String, serde_json::Value> {
        self.lock_settings().clone()
    }

    fn lock_settings(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, serde_json::Value>> {
        self.settings.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The device's resource tree (systems, chassis, power state).
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The device's object model of type `T`, built by `build` from the device (its
    /// profile) the first time it is asked for since the start or the last reset. Vendor
    /// modules keep their object rules in `T` and their state here, never in a router.
    pub fn model<T: Any + Send + Sync>(&self, build: impl FnOnce(&Device) -> T) -> Arc<T> {
        let mut models = self.models.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let kept = models.iter().find(|(id, _)| *id == TypeId::of::<T>());
        if let Some(model) = kept.and_then(|(_, model)| model.clone().downcast().ok()) {
            return model;
        }
        let model = Arc::new(build(self));
        models.push((TypeId::of::<T>(), model.clone()));
        model
    }

    /// Back to the profile: accounts, settings, resource tree, broker objects, object
    /// models (BIG-IP LTM, Solace broker objects), no sessions, an empty event log.
    pub fn reset(&self) {
        self.lock_settings().clear();
        self.models.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
        self.resources.reset();
        self.store.reset(
            self.profile.session.clone(),
            self.profile.accounts.clone(),
            id_generator(&self.name, &self.profile, self.seed),
        );
    }

    /// The device restarts: every session ends with reason `restart`.
    pub fn restart(&self) -> Vec<Session> {
        self.store.restart(self.now())
    }
}

fn id_generator(name: &str, profile: &Profile, seed: Option<u64>) -> IdGenerator {
    let start = profile.session.id_counter_start;
    match seed {
        Some(seed) => IdGenerator::seeded(seed ^ fnv1a(name.as_bytes()), start),
        None => IdGenerator::from_entropy(start),
    }
}

/// A stable 64-bit hash (FNV-1a), so a seed gives the same ids across runs and builds.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}
