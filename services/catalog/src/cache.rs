//! A short-lived in-memory cache for what every shopper reads the same way: listing pages,
//! search results, product pages and the home page's lists.
//!
//! Entries live for [`READ_TTL`]. A change made through this instance's [`crate::Catalog`]
//! drops every entry at once ([`ReadCache::invalidate`]); changes made by another instance
//! sharing the database show here within the TTL. Stock figures on these pages can therefore
//! be that much behind; the cart and checkout always read stock from the database.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cached read is served.
pub const READ_TTL: Duration = Duration::from_secs(10);

/// Entries kept per cache; beyond this the oldest are dropped.
const CAPACITY: usize = 4_096;

struct Entry<V> {
    stored: Instant,
    generation: u64,
    value: Arc<V>,
}

/// Values by key, each for [`READ_TTL`].
pub(crate) struct ReadCache<V> {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V> Default for ReadCache<V> {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> std::fmt::Debug for ReadCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("ReadCache").field("entries", &len).finish()
    }
}

impl<V> ReadCache<V> {
    /// The cached value for `key`, or the result of `load` (cached when it succeeds and no
    /// invalidation happened while it ran).
    pub(crate) async fn get_or_load<E, Fut>(
        &self,
        key: String,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<V>, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Ok(entries) = self.entries.lock()
            && let Some(entry) = entries.get(&key)
            && entry.generation == generation
            && entry.stored.elapsed() < READ_TTL
        {
            return Ok(entry.value.clone());
        }
        let value = Arc::new(load().await?);
        if let Ok(mut entries) = self.entries.lock()
            && self.generation.load(Ordering::SeqCst) == generation
        {
            if entries.len() >= CAPACITY {
                entries.retain(|_, e| e.generation == generation && e.stored.elapsed() < READ_TTL);
                if entries.len() >= CAPACITY {
                    // Still full of fresh entries: start over rather than scan for the oldest.
                    entries.clear();
                }
            }
            entries.insert(
                key,
                Entry {
                    stored: Instant::now(),
                    generation,
                    value: value.clone(),
                },
            );
        }
        Ok(value)
    }

    /// Drops every entry; loads already running are not stored.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_from_cache_until_invalidated() {
        let cache = ReadCache::<u32>::default();
        let loads = AtomicU64::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(7)
        };
        assert_eq!(*cache.get_or_load("a".into(), load).await.unwrap(), 7);
        assert_eq!(*cache.get_or_load("a".into(), load).await.unwrap(), 7);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        cache.invalidate();
        cache.get_or_load("a".into(), load).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failures_and_loads_overtaken_by_an_invalidation_are_not_kept() {
        let cache = ReadCache::<u32>::default();
        assert!(
            cache
                .get_or_load("a".into(), || async { Err::<u32, _>("down") })
                .await
                .is_err()
        );
        let value = cache
            .get_or_load("a".into(), || async {
                cache.invalidate();
                Ok::<_, ()>(1)
            })
            .await
            .unwrap();
        assert_eq!(*value, 1);
        let again = cache
            .get_or_load("a".into(), || async { Ok::<_, ()>(2) })
            .await
            .unwrap();
        assert_eq!(
            *again, 2,
            "the load overtaken by the invalidation was not stored"
        );
    }
}
