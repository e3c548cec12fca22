use std::sync::Arc;

use mcp_auth::rate_limit::RateLimiter;
use tower::Layer;

use super::RateLimit;

/// Checks requests against a [`RateLimiter`]; see the [module docs](super). Clones share the
/// limiter's buckets.
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    pub(super) limiter: Arc<RateLimiter>,
    pub(super) all_methods: bool,
}

impl RateLimitLayer {
    /// Limits with `limiter`.
    pub fn new(limiter: RateLimiter) -> Self {
        Self::shared(Arc::new(limiter))
    }

    /// Limits with a limiter shared with other code (the same buckets).
    pub fn shared(limiter: Arc<RateLimiter>) -> Self {
        Self {
            limiter,
            all_methods: false,
        }
    }

    /// Counts every request, not only those that run a handler.
    #[must_use]
    pub fn all_methods(mut self) -> Self {
        self.all_methods = true;
        self
    }
}

impl RateLimitLayer {
    /// Spends `request`'s quota as this layer's service does.
    pub(crate) fn check(
        &self,
        request: &crate::request::McpRequest,
    ) -> Result<(), crate::middleware::Refusal> {
        super::service::check(&self.limiter, self.all_methods, request)
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            layer: self.clone(),
        }
    }
}
