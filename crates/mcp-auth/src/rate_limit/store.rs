//! A governor state store with a bound on its keys.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{NotKeyed, StateStore};

/// A rate-limit key, or the shared bucket of keys that found the store full.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum BucketKey<K> {
    Key(K),
    Overflow,
}

/// Holds at most about `max_keys` buckets (concurrent first uses may overshoot by the number
/// of threads). A new key that finds the store full shares one overflow bucket with every
/// other such key: memory stays bounded and the newcomers stay limited (together, so more
/// strictly), while keys already tracked keep their own state. The owner empties the store of
/// idle keys (`retain_recent`) to make room.
#[derive(Debug)]
pub(crate) struct BoundedStore<K: Hash + Eq + Clone> {
    /// Keys are principal ids and tool names, hashed on every check: a randomly seeded fast
    /// hash instead of SipHash.
    map: DashMapStateStore<BucketKey<K>, foldhash::quality::RandomState>,
    max_keys: usize,
    /// Set when a newcomer was sent to the overflow bucket: the owner's cue to sweep. (Counting
    /// the table locks every shard, so only newcomers do it, never a tracked key's check.)
    turned_away: Arc<AtomicBool>,
}

impl<K: Hash + Eq + Clone> BoundedStore<K> {
    pub(crate) fn new(max_keys: usize, turned_away: Arc<AtomicBool>) -> Self {
        Self {
            map: DashMapStateStore::with_hasher(foldhash::quality::RandomState::default()),
            max_keys: max_keys.max(1),
            turned_away,
        }
    }
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = BucketKey<K>;

    fn measure_and_replace<T, F, E>(&self, key: &Self::Key, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // A tracked key: one lookup, and its bucket updated in place.
        if let Some(state) = self.map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        // A newcomer: its own bucket while there is room, else the shared overflow one.
        let key = if self.map.len() >= self.max_keys {
            self.turned_away.store(true, Ordering::Relaxed);
            &BucketKey::Overflow
        } else {
            key
        };
        self.map.measure_and_replace(key, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<BucketKey<K>> for BoundedStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&self.map, drop_below);
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&self.map);
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
