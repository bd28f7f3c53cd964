//! Pages of events recently listed, kept briefly so that many callers opening the same list
//! (the first page of the events page or of `GET /api/v1/events`, with the same filter and
//! the same visibility) cost one query, not one each.
//!
//! What keeps it correct: the key is the whole query, visibility and cursor included (the
//! caller's visibility is looked up on every request, so a share or an organisation change
//! shows at once); every write through this process bumps the cache's generation and
//! empties it, and a page computed while a write happened is not kept (so a write is always
//! seen by the next request); writes by another process (a command-line import into the
//! store a server is using) show within [`PAGE_TTL`]. Unlike [`crate::memo::Memo`], callers
//! of different keys never wait for one another: a page is cheap enough to compute
//! concurrently, and lists are asked with many filters.
//!
//! When a kept page's time runs out (no write since: only another process's writes could
//! be missing), one caller reads it again while the others are served the kept page
//! meanwhile, so that the many callers of a busy list do not all read it again at once
//! every [`PAGE_TTL`] (which made them all wait for one another on a busy server). After a
//! write nothing older is served: every caller reads the page again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long a listed page is reused when nothing is written through this process.
pub(crate) const PAGE_TTL: Duration = Duration::from_secs(5);

/// Pages kept at most; the oldest is dropped when full (keys come from requests).
const MAX_PAGES: usize = 64;

/// The largest page kept (larger ones are rare and would make the cache's memory grow).
pub(crate) const MAX_CACHED_LIMIT: u32 = 100;

/// A kept value with when and in which generation it was computed.
type Kept<V> = (Instant, u64, Arc<V>);

/// Values by key, each with when and in which generation it was computed.
pub(crate) struct PageCache<V> {
    generation: AtomicU64,
    pages: RwLock<HashMap<String, Kept<V>>>,
    /// Keys whose expired page one caller is reading again.
    refreshing: Mutex<HashSet<String>>,
}

/// Takes a key out of the set of pages being read again when its caller is done (also on
/// an error or a panic, so that a failed refresh never leaves a page stale for good).
struct Refreshing<'a> {
    set: &'a Mutex<HashSet<String>>,
    key: String,
}

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&self.key);
    }
}

impl<V> Default for PageCache<V> {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            pages: RwLock::new(HashMap::new()),
            refreshing: Mutex::new(HashSet::new()),
        }
    }
}

impl<V> PageCache<V> {
    /// The value of `key` if computed less than `ttl` ago with no write since, else
    /// `compute`'s, kept unless a write happened while it was computed. When only the time
    /// of a kept value ran out and another caller is already computing it again, that
    /// kept value is returned at once.
    pub(crate) fn get_or_compute<E>(
        &self,
        key: String,
        ttl: Duration,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let generation = self.generation.load(Ordering::SeqCst);
        let kept = self.pages.read().ok().and_then(|m| m.get(&key).cloned());
        let mut _refreshing = None;
        if let Some((at, g, v)) = kept {
            if g == generation {
                if at.elapsed() < ttl {
                    return Ok(v);
                }
                // Expired with no write since: one caller reads it again, the others are
                // served the kept page meanwhile.
                let mut set = self.refreshing.lock().unwrap_or_else(|p| p.into_inner());
                if set.contains(&key) {
                    return Ok(v);
                }
                set.insert(key.clone());
                _refreshing = Some(Refreshing {
                    set: &self.refreshing,
                    key: key.clone(),
                });
            }
        }
        let v = Arc::new(compute()?);
        if let Ok(mut m) = self.pages.write() {
            // Checked under the lock that `clear` also takes: a write that began after the
            // computation started has bumped the generation, and its page is not kept.
            if self.generation.load(Ordering::SeqCst) == generation {
                if m.len() >= MAX_PAGES && !m.contains_key(&key) {
                    let oldest = m.iter().min_by_key(|(_, (at, _, _))| *at);
                    if let Some(k) = oldest.map(|(k, _)| k.clone()) {
                        m.remove(&k);
                    }
                }
                m.insert(key, (Instant::now(), generation, v.clone()));
            }
        }
        Ok(v)
    }

    /// Drops every page and refuses pages being computed (events were written).
    pub(crate) fn clear(&self) {
        let mut m = self.pages.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        m.clear();
    }

    /// How many pages are kept (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pages.read().map(|m| m.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn reuses_a_page_until_a_write_or_its_time_runs_out() {
        let cache: PageCache<u32> = PageCache::default();
        let calls = Cell::new(0);
        let compute = || -> Result<u32, ()> {
            calls.set(calls.get() + 1);
            Ok(calls.get())
        };
        let ttl = Duration::from_secs(60);
        assert_eq!(*cache.get_or_compute("a".into(), ttl, compute).unwrap(), 1);
        assert_eq!(*cache.get_or_compute("a".into(), ttl, compute).unwrap(), 1);
        assert_eq!(*cache.get_or_compute("b".into(), ttl, compute).unwrap(), 2);
        cache.clear();
        assert_eq!(*cache.get_or_compute("a".into(), ttl, compute).unwrap(), 3);
        assert_eq!(
            *cache
                .get_or_compute("a".into(), Duration::ZERO, compute)
                .unwrap(),
            4
        );
        assert!(cache
            .get_or_compute("c".into(), ttl, || Err::<u32, _>("no"))
            .is_err());
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn a_page_computed_during_a_write_is_not_kept() {
        let cache: PageCache<u32> = PageCache::default();
        let ttl = Duration::from_secs(60);
        // The write lands while the page is being read from the store.
        let v = cache
            .get_or_compute("a".into(), ttl, || {
                cache.clear();
                Ok::<_, ()>(1)
            })
            .unwrap();
        assert_eq!(*v, 1, "the caller still gets what it read");
        assert_eq!(cache.len(), 0);
        assert_eq!(
            *cache
                .get_or_compute("a".into(), ttl, || Ok::<_, ()>(2))
                .unwrap(),
            2,
            "the next caller reads again"
        );
    }

    #[test]
    fn an_expired_page_is_served_while_one_caller_reads_it_again() {
        let cache: PageCache<u32> = PageCache::default();
        let ttl = Duration::from_millis(20);
        assert_eq!(
            *cache
                .get_or_compute("a".into(), ttl, || Ok::<_, ()>(1))
                .unwrap(),
            1
        );
        std::thread::sleep(Duration::from_millis(30));
        // The caller that refreshes sees, while it reads, the others served the old page.
        let seen_meanwhile = Cell::new(0);
        let v = cache
            .get_or_compute("a".into(), ttl, || {
                let other = cache
                    .get_or_compute("a".into(), ttl, || -> Result<u32, ()> {
                        panic!("a second caller must not read it again")
                    })
                    .unwrap();
                seen_meanwhile.set(*other);
                Ok::<_, ()>(2)
            })
            .unwrap();
        assert_eq!((*v, seen_meanwhile.get()), (2, 1));
        assert_eq!(
            *cache
                .get_or_compute("a".into(), ttl, || Ok::<_, ()>(9))
                .unwrap(),
            2,
            "the new page is kept"
        );
        // A failed refresh lets the next caller try again.
        std::thread::sleep(Duration::from_millis(30));
        assert!(cache
            .get_or_compute("a".into(), ttl, || Err::<u32, _>("down"))
            .is_err());
        assert_eq!(
            *cache
                .get_or_compute("a".into(), ttl, || Ok::<_, ()>(3))
                .unwrap(),
            3
        );
        // After a write nothing older is served, even while another caller reads.
        cache.clear();
        let v = cache
            .get_or_compute("a".into(), ttl, || {
                let other = cache
                    .get_or_compute("a".into(), ttl, || Ok::<_, ()>(5))
                    .unwrap();
                assert_eq!(*other, 5, "the second caller read the page itself");
                Ok::<_, ()>(4)
            })
            .unwrap();
        assert_eq!(*v, 4);
    }

    #[test]
    fn holds_a_bounded_number_of_pages() {
        let cache: PageCache<usize> = PageCache::default();
        let ttl = Duration::from_secs(60);
        for i in 0..MAX_PAGES + 10 {
            cache
                .get_or_compute(i.to_string(), ttl, || Ok::<_, ()>(i))
                .unwrap();
        }
        assert_eq!(cache.len(), MAX_PAGES);
        // The newest is kept, the oldest went.
        let again = cache
            .get_or_compute((MAX_PAGES + 9).to_string(), ttl, || Ok::<_, ()>(0))
            .unwrap();
        assert_eq!(*again, MAX_PAGES + 9);
        let first = cache
            .get_or_compute("0".into(), ttl, || Ok::<_, ()>(999))
            .unwrap();
        assert_eq!(*first, 999);
    }
}
