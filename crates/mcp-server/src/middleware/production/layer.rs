use std::time::Duration;

use mcp_auth::rate_limit::RateLimiter;
use tower::Layer;

use super::Production;
use crate::middleware::{
    AuthLayer, CacheLayer, CircuitBreakerConfig, CircuitBreakerLayer, ConcurrencyLimitLayer,
    Metrics, PermissionLayer, RateLimitLayer, TimeoutLayer,
};

/// The whole middleware stack with production defaults; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct ProductionLayer {
    pub(super) trace: bool,
    pub(super) metrics: Option<Metrics>,
    pub(super) auth: Option<AuthLayer>,
    pub(super) rate_limit: Option<RateLimitLayer>,
    pub(super) permissions: Option<PermissionLayer>,
    permissions_set: bool,
    pub(super) cache: Option<CacheLayer>,
    pub(super) concurrency: Option<ConcurrencyLimitLayer>,
    pub(super) breaker: Option<CircuitBreakerLayer>,
    pub(super) timeout: Option<TimeoutLayer>,
}

impl Default for ProductionLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ProductionLayer {
    /// The defaults: tracing, metrics, the cache (300 s), circuit breakers and a 300 s
    /// timeout; no authentication, rate limit or concurrency limit.
    pub fn new() -> Self {
        Self {
            trace: true,
            metrics: Some(Metrics::new()),
            auth: None,
            rate_limit: None,
            permissions: None,
            permissions_set: false,
            cache: Some(CacheLayer::new(Duration::from_secs(300))),
            concurrency: None,
            breaker: Some(CircuitBreakerLayer::new(CircuitBreakerConfig::default())),
            timeout: Some(TimeoutLayer::new(Duration::from_secs(300))),
        }
    }

    /// Without the tracing span.
    #[must_use]
    pub fn without_trace(mut self) -> Self {
        self.trace = false;
        self
    }

    /// Records into `metrics` (for example ones the HTTP endpoint serves at `/metrics`).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Without metrics.
    #[must_use]
    pub fn without_metrics(mut self) -> Self {
        self.metrics = None;
        self
    }

    /// The metrics recorded into, to serve or render.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref()
    }

    /// Refuses requests without a principal ([`AuthLayer::required`]), and checks
    /// permissions unless [`ProductionLayer::without_permissions`].
    #[must_use]
    pub fn require_auth(self) -> Self {
        self.auth(AuthLayer::required())
    }

    /// Authentication as `layer` says (for example [`AuthLayer::optional`]), and permissions
    /// unless [`ProductionLayer::without_permissions`].
    #[must_use]
    pub fn auth(mut self, layer: AuthLayer) -> Self {
        self.auth = Some(layer);
        if !self.permissions_set {
            self.permissions = Some(PermissionLayer::new());
        }
        self
    }

    /// Rate limits with `limiter`.
    #[must_use]
    pub fn rate_limit(mut self, limiter: RateLimiter) -> Self {
        self.rate_limit = Some(RateLimitLayer::new(limiter));
        self
    }

    /// Permissions as `layer` says.
    #[must_use]
    pub fn permissions(mut self, layer: PermissionLayer) -> Self {
        self.permissions = Some(layer);
        self.permissions_set = true;
        self
    }

    /// Without the permission check.
    #[must_use]
    pub fn without_permissions(mut self) -> Self {
        self.permissions = None;
        self.permissions_set = true;
        self
    }

    /// Caches read-only tools for `ttl` (tools that declare a TTL keep theirs).
    #[must_use]
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache = Some(CacheLayer::new(ttl));
        self
    }

    /// The cache as `layer` says.
    #[must_use]
    pub fn cache(mut self, layer: CacheLayer) -> Self {
        self.cache = Some(layer);
        self
    }

    /// Without the cache.
    #[must_use]
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// At most `max` requests at once; more wait.
    #[must_use]
    pub fn max_concurrency(mut self, max: usize) -> Self {
        self.concurrency = Some(ConcurrencyLimitLayer::new(max));
        self
    }

    /// Circuit breakers with `config`.
    #[must_use]
    pub fn circuit_breaker(mut self, config: CircuitBreakerConfig) -> Self {
        self.breaker = Some(CircuitBreakerLayer::new(config));
        self
    }

    /// Without circuit breakers.
    #[must_use]
    pub fn without_circuit_breaker(mut self) -> Self {
        self.breaker = None;
        self
    }

    /// The circuit breakers, to read their states (for a readiness check).
    pub fn circuit_breakers(&self) -> Option<&CircuitBreakerLayer> {
        self.breaker.as_ref()
    }

    /// Every request gets `limit`.
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(TimeoutLayer::new(limit));
        self
    }

    /// Without a time limit.
    #[must_use]
    pub fn without_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }
}

impl<S> Layer<S> for ProductionLayer {
    type Service = Production<S>;

    fn layer(&self, inner: S) -> Production<S> {
        Production::new(std::sync::Arc::new(self.clone()), inner)
    }
}
