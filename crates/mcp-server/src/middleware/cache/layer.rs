use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_protocol::ProtocolVersion;
use tower::Layer;

use super::Cache;

/// Whose calls share cache entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Partition {
    /// Each authorization scope (principal, its permissions and scopes) has its own entries
    /// (the default).
    #[default]
    PerPrincipal,
    /// Every caller shares the entries: only for tools whose result depends on their
    /// arguments alone.
    Shared,
}

/// Caches tool results; see the [module docs](super). Clones share the store.
#[derive(Clone)]
pub struct CacheLayer {
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for CacheLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheLayer")
            .field("default_ttl", &self.shared.default_ttl)
            .field("partition", &self.shared.partition)
            .field("entries", &self.shared.store.entry_count())
            .finish_non_exhaustive()
    }
}

/// The store: results by key.
pub(super) type Store = moka::future::Cache<String, Entry>;

pub(super) struct Shared {
    pub(super) store: Store,
    pub(super) default_ttl: Duration,
    pub(super) tools: HashMap<String, Duration>,
    pub(super) partition: Partition,
}

/// A stored result: the serialized `result` member, for the revision in the key.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) json: Bytes,
    pub(super) revision: ProtocolVersion,
    pub(super) ttl: Duration,
}

/// Each entry lives for its tool's TTL.
struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The default bound on what the store holds: 64 MiB of results.
const DEFAULT_MAX_BYTES: u64 = 64 << 20;

impl CacheLayer {
    /// Caches tools that declare a TTL for that long, and read-only tools for `default_ttl`
    /// (zero: only tools that declare one).
    pub fn new(default_ttl: Duration) -> Self {
        Self::build(
            default_ttl,
            HashMap::new(),
            Partition::default(),
            DEFAULT_MAX_BYTES,
        )
    }

    fn build(
        default_ttl: Duration,
        tools: HashMap<String, Duration>,
        partition: Partition,
        max_bytes: u64,
    ) -> Self {
        let store = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, entry: &Entry| {
                u32::try_from(key.len() + entry.json.len()).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        Self {
            shared: Arc::new(Shared {
                store,
                default_ttl,
                tools,
                partition,
            }),
        }
    }

    fn rebuild(
        self,
        change: impl FnOnce(&mut HashMap<String, Duration>, &mut Partition, &mut u64),
    ) -> Self {
        let mut tools = self.shared.tools.clone();
        let mut partition = self.shared.partition;
        let mut max_bytes = self
            .shared
            .store
            .policy()
            .max_capacity()
            .unwrap_or(DEFAULT_MAX_BYTES);
        change(&mut tools, &mut partition, &mut max_bytes);
        Self::build(self.shared.default_ttl, tools, partition, max_bytes)
    }

    /// Caches the read-only tool `name` for `ttl` instead of the default (a tool's own
    /// [`Tool::cache_ttl`](crate::Tool::cache_ttl) still wins).
    #[must_use]
    pub fn tool(self, name: impl Into<String>, ttl: Duration) -> Self {
        self.rebuild(|tools, _, _| {
            tools.insert(name.into(), ttl);
        })
    }

    /// Whose calls share entries (default [`Partition::PerPrincipal`]).
    #[must_use]
    pub fn partition(self, partition: Partition) -> Self {
        self.rebuild(|_, p, _| *p = partition)
    }

    /// The most the store holds, in bytes of keys and results (default 64 MiB); the least
    /// recently used entries go first.
    #[must_use]
    pub fn max_bytes(self, bytes: u64) -> Self {
        self.rebuild(|_, _, m| *m = bytes)
    }

    /// Drops every entry (after data the tools read has changed).
    pub fn clear(&self) {
        self.shared.store.invalidate_all();
    }

    /// How many entries are stored (approximate: moka counts lazily).
    pub fn entry_count(&self) -> u64 {
        self.shared.store.entry_count()
    }
}

impl CacheLayer {
    /// The TTL and key of `request` when its result may be cached.
    pub(crate) fn cacheable(
        &self,
        request: &crate::request::McpRequest,
    ) -> Option<(Duration, String)> {
        self.shared.cacheable(request)
    }

    /// Answers a cacheable `request` from the store, or with `run` (once for identical
    /// requests meanwhile), storing a success.
    pub(crate) fn through<F, Fut, E>(
        &self,
        ttl: Duration,
        key: String,
        request: crate::request::McpRequest,
        run: F,
    ) -> impl Future<Output = crate::request::McpResponse> + use<F, Fut, E>
    where
        F: FnOnce(crate::request::McpRequest) -> Fut,
        Fut: Future<Output = Result<crate::request::McpResponse, E>>,
        E: Into<tower::BoxError>,
    {
        super::service::through(self.shared.store.clone(), ttl, key, request, run)
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = Cache<S>;

    fn layer(&self, inner: S) -> Cache<S> {
        Cache {
            inner,
            layer: self.clone(),
        }
    }
}
