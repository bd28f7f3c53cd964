//! One cache shape for derived figures (public aggregates, the index, forecasts, public
//! figures): values kept by key for a time, dropped at once when this process writes,
//! and computed by one caller at a time, so concurrent requests wait for one computation.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Computed values by key, each with when it was computed.
pub(crate) struct Memo<K, V> {
    values: RwLock<HashMap<K, (Instant, Arc<V>)>>,
    /// Held while a value is computed.
    computing: Mutex<()>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self {
            values: RwLock::new(HashMap::new()),
            computing: Mutex::new(()),
        }
    }
}

impl<K: Eq + Hash, V> Memo<K, V> {
    /// The value of `key` if it was computed less than `ttl` ago, else `compute`'s (kept
    /// for the next callers). Only one computation runs at a time; callers arriving
    /// meanwhile wait and then take its value.
    pub(crate) fn get_or_compute<E>(
        &self,
        key: K,
        ttl: Duration,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let fresh = |key: &K| {
            self.values
                .read()
                .ok()
                .and_then(|g| g.get(key).cloned())
                .filter(|(at, _)| at.elapsed() < ttl)
                .map(|(_, v)| v)
        };
        if let Some(v) = fresh(&key) {
            return Ok(v);
        }
        let _one_at_a_time = self.computing.lock();
        if let Some(v) = fresh(&key) {
            return Ok(v);
        }
        let v = Arc::new(compute()?);
        if let Ok(mut g) = self.values.write() {
            g.insert(key, (Instant::now(), v.clone()));
        }
        Ok(v)
    }

    /// Drops every value (the data they were computed from changed).
    pub(crate) fn clear(&self) {
        if let Ok(mut g) = self.values.write() {
            g.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn computes_once_within_the_ttl_and_again_after_clear() {
        let memo: Memo<&str, u32> = Memo::default();
        let calls = Cell::new(0);
        let compute = || -> Result<u32, ()> {
            calls.set(calls.get() + 1);
            Ok(calls.get())
        };
        let ttl = Duration::from_secs(60);
        assert_eq!(*memo.get_or_compute("a", ttl, compute).unwrap(), 1);
        assert_eq!(*memo.get_or_compute("a", ttl, compute).unwrap(), 1);
        assert_eq!(*memo.get_or_compute("b", ttl, compute).unwrap(), 2);
        memo.clear();
        assert_eq!(*memo.get_or_compute("a", ttl, compute).unwrap(), 3);
        assert_eq!(
            *memo.get_or_compute("a", Duration::ZERO, compute).unwrap(),
            4
        );
        assert!(memo
            .get_or_compute("c", ttl, || Err::<u32, _>("no"))
            .is_err());
        assert_eq!(calls.get(), 4);
    }
}
