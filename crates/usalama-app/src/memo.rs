//! One cache shape for derived figures (public aggregates, the index, forecasts, public
//! figures): values kept by key for a time, dropped at once when this process writes,
//! and computed by one caller at a time, so concurrent requests wait for one computation.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Keys a memo holds at most; it is emptied when full (keys such as list filters come
/// from requests, so their number must stay bounded).
const MAX_KEYS: usize = 1024;

/// Computed values by key, each with when it was computed.
pub(crate) struct Memo<K, V> {
    values: RwLock<HashMap<K, (Instant, Arc<V>)>>,
    /// Held while a value is computed.
    computing: Mutex<()>,
    /// Bumped by every `clear`: a value computed across a write is not kept.
    generation: std::sync::atomic::AtomicU64,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self {
            values: RwLock::new(HashMap::new()),
            computing: Mutex::new(()),
            generation: Default::default(),
        }
    }
}

impl<K: Eq + Hash, V> Memo<K, V> {
    /// The value of `key` if it was computed less than `ttl` ago, else `compute`'s (kept
    /// for the next callers). Only one computation runs at a time. Callers arriving
    /// meanwhile wait for it when no value is kept for `key` (none yet, or dropped by a
    /// write: a write is always seen); when an older value is kept (only its time ran
    /// out: another instance may have written), they take that value at once instead of
    /// queueing behind the one caller that computes the new one, so that a recomputation
    /// over a large store never holds up every request.
    pub(crate) fn get_or_compute<E>(
        &self,
        key: K,
        ttl: Duration,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let kept = |key: &K| self.values.read().ok().and_then(|g| g.get(key).cloned());
        let stale = match kept(&key) {
            Some((at, v)) if at.elapsed() < ttl => return Ok(v),
            Some((_, v)) => Some(v),
            None => None,
        };
        let _one_at_a_time = match (stale, self.computing.try_lock()) {
            (_, Ok(g)) => g,
            (_, Err(std::sync::TryLockError::Poisoned(p))) => p.into_inner(),
            (Some(v), Err(std::sync::TryLockError::WouldBlock)) => return Ok(v),
            (None, Err(std::sync::TryLockError::WouldBlock)) => {
                self.computing.lock().unwrap_or_else(|p| p.into_inner())
            }
        };
        if let Some((at, v)) = kept(&key) {
            if at.elapsed() < ttl {
                return Ok(v);
            }
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let v = Arc::new(compute()?);
        if let Ok(mut g) = self.values.write() {
            // A write during the computation (a `clear`, which takes the same lock) may
            // not be in `v`: it is returned to this caller but not kept.
            if self.generation.load(std::sync::atomic::Ordering::SeqCst) != generation {
                return Ok(v);
            }
            if g.len() >= MAX_KEYS && !g.contains_key(&key) {
                g.clear();
            }
            g.insert(key, (Instant::now(), v.clone()));
        }
        Ok(v)
    }

    /// Drops every value (the data they were computed from changed).
    pub(crate) fn clear(&self) {
        let mut g = self.values.write().unwrap_or_else(|p| p.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        g.clear();
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

    #[test]
    fn a_value_computed_across_a_write_is_not_kept() {
        let memo: Memo<&str, u32> = Memo::default();
        let ttl = Duration::from_secs(60);
        let v = memo
            .get_or_compute("a", ttl, || {
                memo.clear();
                Ok::<_, ()>(1)
            })
            .unwrap();
        assert_eq!(*v, 1);
        assert_eq!(
            *memo.get_or_compute("a", ttl, || Ok::<_, ()>(2)).unwrap(),
            2
        );
    }

    #[test]
    fn an_expired_value_is_served_while_another_caller_computes() {
        let memo: Memo<&str, u32> = Memo::default();
        let ttl = Duration::from_millis(1);
        assert_eq!(
            *memo.get_or_compute("a", ttl, || Ok::<_, ()>(1)).unwrap(),
            1
        );
        std::thread::sleep(Duration::from_millis(5));
        // Someone is computing: the expired value is served without waiting.
        let busy = memo.computing.lock().unwrap();
        let v = memo
            .get_or_compute("a", ttl, || -> Result<u32, ()> {
                panic!("must not compute")
            })
            .unwrap();
        assert_eq!(*v, 1);
        drop(busy);
        assert_eq!(
            *memo.get_or_compute("a", ttl, || Ok::<_, ()>(2)).unwrap(),
            2
        );
        // After a write (clear) nothing older is served: the caller computes.
        memo.clear();
        let ttl = Duration::from_secs(60);
        assert_eq!(
            *memo.get_or_compute("a", ttl, || Ok::<_, ()>(3)).unwrap(),
            3
        );
        assert_eq!(
            *memo.get_or_compute("a", ttl, || Ok::<_, ()>(4)).unwrap(),
            3
        );
    }
}
