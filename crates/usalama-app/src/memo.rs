//! One cache shape for derived figures (public aggregates, the index, forecasts, public
//! figures): values kept by key for a time, dropped at once when this process writes,
//! and computed by one caller at a time, so concurrent requests wait for one computation.
//!
//! A value is kept for its time-to-live or for [`KEEP_PER_COMPUTE`] times as long as it
//! took to compute, whichever is longer: the time-to-live only bounds how stale a figure
//! may grow when another process writes to the store (this one's writes drop it at once),
//! and a figure that takes a minute to compute over a large store must not be computed
//! again every minute, which would keep a core busy for nothing.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Keys a memo holds at most; it is emptied when full (keys such as list filters come
/// from requests, so their number must stay bounded).
const MAX_KEYS: usize = 1024;

/// How many times its computing time a value is kept at least (so recomputing expired
/// values takes at most about a tenth of a core).
const KEEP_PER_COMPUTE: u32 = 10;

/// A computed value with when it was computed and how long that took.
struct Kept<V> {
    at: Instant,
    took: Duration,
    value: Arc<V>,
}

impl<V> Clone for Kept<V> {
    fn clone(&self) -> Self {
        Self {
            at: self.at,
            took: self.took,
            value: self.value.clone(),
        }
    }
}

impl<V> Kept<V> {
    /// Whether the value may still be served as current, given the time-to-live.
    fn fresh(&self, ttl: Duration) -> bool {
        self.at.elapsed() < ttl.max(self.took.saturating_mul(KEEP_PER_COMPUTE))
    }
}

/// Computed values by key, each with when it was computed.
pub(crate) struct Memo<K, V> {
    values: RwLock<HashMap<K, Kept<V>>>,
    /// Held while a value is computed.
    computing: Mutex<()>,
    /// Bumped by every `clear`: a value computed across a write is not kept.
    generation: std::sync::atomic::AtomicU64,
    /// Set while a refresh started by [`Memo::get_or_refresh`] runs.
    refreshing: Arc<AtomicBool>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self {
            values: RwLock::new(HashMap::new()),
            computing: Mutex::new(()),
            generation: Default::default(),
            refreshing: Arc::default(),
        }
    }
}

impl<K: Eq + Hash, V> Memo<K, V> {
    /// The value of `key` if it was computed less than `ttl` ago (or less than
    /// [`KEEP_PER_COMPUTE`] times its computing time), else `compute`'s (kept for the next
    /// callers). Only one computation runs at a time. Callers arriving
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
            Some(k) if k.fresh(ttl) => return Ok(k.value),
            Some(k) => Some(k.value),
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
        if let Some(k) = kept(&key) {
            if k.fresh(ttl) {
                return Ok(k.value);
            }
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let started = Instant::now();
        let v = Arc::new(compute()?);
        let took = started.elapsed();
        if let Ok(mut g) = self.values.write() {
            // A write during the computation (a `clear`, which takes the same lock) may
            // not be in `v`: it is returned to this caller but not kept.
            if self.generation.load(std::sync::atomic::Ordering::SeqCst) != generation {
                return Ok(v);
            }
            if g.len() >= MAX_KEYS && !g.contains_key(&key) {
                g.clear();
            }
            g.insert(
                key,
                Kept {
                    at: Instant::now(),
                    took,
                    value: v.clone(),
                },
            );
        }
        Ok(v)
    }

    /// Like [`Memo::get_or_compute`], except when only an expired value is kept for `key`
    /// (its time ran out; a write drops it instead): every caller then gets it at once, and
    /// the first starts `refresh` on a thread of its own (one refresh at a time), so no
    /// visitor waits for a recomputation over a large store after a quiet spell. `refresh`
    /// should compute the value again through `get_or_compute` for the same key.
    pub(crate) fn get_or_refresh<E>(
        &self,
        key: K,
        ttl: Duration,
        compute: impl FnOnce() -> Result<V, E>,
        refresh: impl FnOnce() + Send + 'static,
    ) -> Result<Arc<V>, E> {
        let kept = self.values.read().ok().and_then(|g| g.get(&key).cloned());
        if let Some(k) = kept {
            if k.fresh(ttl) {
                return Ok(k.value);
            }
            if !self.refreshing.swap(true, Ordering::SeqCst) {
                let flag = Done(self.refreshing.clone());
                let started = std::thread::Builder::new()
                    .name("usalama-refresh".into())
                    .spawn(move || {
                        let _done = flag;
                        refresh();
                    });
                if started.is_err() {
                    // No thread to be had: this caller computes, as `get_or_compute` does.
                    self.refreshing.store(false, Ordering::SeqCst);
                    return self.get_or_compute(key, ttl, compute);
                }
            }
            return Ok(k.value);
        }
        self.get_or_compute(key, ttl, compute)
    }

    /// Drops every value (the data they were computed from changed).
    pub(crate) fn clear(&self) {
        let mut g = self.values.write().unwrap_or_else(|p| p.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        g.clear();
    }
}

/// Clears a memo's refreshing flag when the refresh ends, even by a panic.
struct Done(Arc<AtomicBool>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_slow_value_is_kept_for_ten_times_its_computing_time() {
        let memo: Memo<&str, u32> = Memo::default();
        let ttl = Duration::from_millis(1);
        let slow = || -> Result<u32, ()> {
            std::thread::sleep(Duration::from_millis(50));
            Ok(1)
        };
        assert_eq!(*memo.get_or_compute("a", ttl, slow).unwrap(), 1);
        // Well past the time-to-live, within ten times the 50 ms it took.
        std::thread::sleep(Duration::from_millis(20));
        let again = || -> Result<u32, ()> { Ok(2) };
        assert_eq!(*memo.get_or_compute("a", ttl, again).unwrap(), 1);
        // A write drops it all the same.
        memo.clear();
        assert_eq!(*memo.get_or_compute("a", ttl, again).unwrap(), 2);
        // A quick value expires with its time-to-live.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            *memo.get_or_compute("a", ttl, || Ok::<_, ()>(3)).unwrap(),
            3
        );
    }

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
        // (Past ten times the computing time too.)
        std::thread::sleep(Duration::from_millis(2));
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
    fn an_expired_value_is_served_at_once_and_refreshed_on_a_thread() {
        let memo: Arc<Memo<&str, u32>> = Arc::default();
        let ttl = Duration::from_millis(1);
        let never = || -> Result<u32, ()> { panic!("the caller must not compute") };
        assert_eq!(
            *memo.get_or_compute("a", ttl, || Ok::<_, ()>(1)).unwrap(),
            1
        );
        std::thread::sleep(Duration::from_millis(5));
        let (tx, rx) = std::sync::mpsc::channel();
        let (m, t) = (memo.clone(), tx);
        let refresh = move || {
            let v = m.get_or_compute("a", ttl, || Ok::<_, ()>(2));
            t.send(*v.unwrap()).unwrap();
        };
        assert_eq!(*memo.get_or_refresh("a", ttl, never, refresh).unwrap(), 1);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 2);
        // The refreshed value is served from now on.
        assert_eq!(
            *memo
                .get_or_refresh("a", Duration::from_secs(60), never, || ())
                .unwrap(),
            2
        );
        // The flag is cleared when the refresh's thread ends.
        let cleared = (0..1000).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !memo.refreshing.load(Ordering::SeqCst)
        });
        assert!(cleared);
        // While a refresh runs, others get the kept value and start no second one.
        std::thread::sleep(Duration::from_millis(5));
        memo.refreshing.store(true, Ordering::SeqCst);
        let second = || panic!("a second refresh must not start");
        assert_eq!(*memo.get_or_refresh("a", ttl, never, second).unwrap(), 2);
        memo.refreshing.store(false, Ordering::SeqCst);
        // A write drops the value: the caller computes, nothing runs in the background.
        memo.clear();
        let v = memo.get_or_refresh("a", ttl, || Ok::<_, ()>(3), || panic!("no refresh"));
        assert_eq!(*v.unwrap(), 3);
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
