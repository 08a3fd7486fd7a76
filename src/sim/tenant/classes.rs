//! `ActiveSyncDeviceClass` objects: one per (DeviceType, DeviceModel) seen in the tenant. Like
//! Exchange, a class outlives its devices (the service cleans classes up on its own schedule).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::sim::rng::SplitMix64;

/// One device class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeviceClass {
    pub(crate) device_type: &'static str,
    pub(crate) model: &'static str,
    pub(crate) guid: Uuid,
    /// When a device of this class last appeared.
    pub(crate) last_update: DateTime<Utc>,
}

impl DeviceClass {
    /// `Name` and `Identity`: `<DeviceType>§<DeviceModel>`.
    pub(crate) fn name(&self) -> String {
        format!("{}\u{a7}{}", self.device_type, self.model)
    }
}

/// The classes of a tenant, ordered by (DeviceType, DeviceModel).
#[derive(Debug, Default)]
pub(crate) struct Classes {
    seed: u64,
    map: BTreeMap<(&'static str, &'static str), DeviceClass>,
}

impl Classes {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            map: BTreeMap::new(),
        }
    }

    /// Records that a device of this class appeared at `when` (GUIDs depend only on the seed and
    /// the class, so they do not depend on the order devices arrive in).
    pub(crate) fn seen(
        &mut self,
        device_type: &'static str,
        model: &'static str,
        when: DateTime<Utc>,
    ) {
        let seed = self.seed;
        let class = self.map.entry((device_type, model)).or_insert_with(|| {
            let label = format!("class|{device_type}|{model}");
            DeviceClass {
                device_type,
                model,
                guid: SplitMix64::derive(seed, &label).guid(),
                last_update: when,
            }
        });
        class.last_update = class.last_update.max(when);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &DeviceClass> + '_ {
        self.map.values()
    }
}
