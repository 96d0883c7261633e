//! A short-lived in-memory cache for what every shopper reads the same way: listing pages,
//! search results, product pages and the home page's lists.
//!
//! Entries live for [`READ_TTL`] by default (`CATALOG_CACHE_SECS`; zero turns the cache off,
//! which benchmarks use to measure the queries themselves). A change made through this instance's [`crate::Catalog`]
//! drops every entry at once ([`ReadCache::invalidate`]); so does a change made by another
//! instance sharing a PostgreSQL database, which signals it ([`crate::Catalog::follow_changes`]),
//! with the TTL as the safety net should a signal be lost. Sales do not signal, so stock
//! figures on these pages can be up to the TTL behind; the cart and checkout always read
//! stock from the database.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a cached read is served unless configured otherwise.
pub const READ_TTL: Duration = Duration::from_secs(10);

/// Entries kept per cache; beyond this the least used are dropped.
const CAPACITY: u64 = 4_096;

/// Values by key, each for a fixed time. Concurrent reads of a missing key load it once
/// (single flight): when a popular listing expires, one query runs and the other requests
/// wait for its answer instead of all running the same query.
pub(crate) struct ReadCache<V> {
    /// Bumped by every invalidation and part of every key, so a load that started before an
    /// invalidation is never served after it.
    generation: AtomicU64,
    /// `None` when caching is off: every read loads.
    entries: Option<moka::future::Cache<(u64, String), Arc<V>>>,
}

impl<V: Send + Sync + 'static> ReadCache<V> {
    /// A cache whose entries live for `ttl`; a zero `ttl` caches nothing.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: (!ttl.is_zero()).then(|| {
                moka::future::Cache::builder()
                    .max_capacity(CAPACITY)
                    .time_to_live(ttl)
                    .build()
            }),
        }
    }
}

impl<V> std::fmt::Debug for ReadCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("entries", &self.entries.as_ref().map(|e| e.entry_count()))
            .finish()
    }
}

impl<V: Send + Sync + 'static> ReadCache<V> {
    /// The cached value for `key`, or the result of `load` (cached when it succeeds). While
    /// one caller loads a key, others asking for it wait for that load. A failed load is not
    /// kept: its caller gets the error, and a caller that waited on it loads for itself.
    pub(crate) async fn get_or_load<E, Fut>(
        &self,
        key: String,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<V>, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let Some(entries) = &self.entries else {
            return load().await.map(Arc::new);
        };
        let generation = self.generation.load(Ordering::SeqCst);
        let mut load = Some(load);
        let mut failure = None;
        let found = entries
            .optionally_get_with((generation, key), async {
                let load = load.take()?;
                match load().await {
                    Ok(value) => Some(Arc::new(value)),
                    Err(e) => {
                        failure = Some(e);
                        None
                    }
                }
            })
            .await;
        match (found, failure, load) {
            (Some(value), _, _) => Ok(value),
            (None, Some(e), _) => Err(e),
            // Another caller's load of this key failed while this one waited on it.
            (None, None, Some(load)) => load().await.map(Arc::new),
            (None, None, None) => unreachable!("a load that neither failed nor succeeded"),
        }
    }

    /// Drops every entry; loads already running are not served afterwards.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_from_cache_until_invalidated() {
        let cache = ReadCache::<u32>::new(READ_TTL);
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
        let cache = ReadCache::<u32>::new(READ_TTL);
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

    #[tokio::test]
    async fn concurrent_reads_of_a_missing_key_load_it_once() {
        let cache = Arc::new(ReadCache::<u32>::new(READ_TTL));
        let loads = Arc::new(AtomicU64::new(0));
        let readers = (0..32).map(|_| {
            let (cache, loads) = (cache.clone(), loads.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load("listing".into(), || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, ()>(42)
                    })
                    .await
            })
        });
        for reader in readers {
            assert_eq!(*reader.await.unwrap().unwrap(), 42);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one query for 32 readers");
    }

    #[tokio::test]
    async fn a_zero_ttl_loads_every_time() {
        let cache = ReadCache::<u32>::new(Duration::ZERO);
        let loads = AtomicU64::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(7)
        };
        cache.get_or_load("a".into(), load).await.unwrap();
        cache.get_or_load("a".into(), load).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }
}
