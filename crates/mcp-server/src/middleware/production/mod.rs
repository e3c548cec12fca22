//! The whole stack in one layer, with the original SDK's `MCPServer(...)` knobs.
//!
//! [`ProductionLayer::new()`](ProductionLayer::new) is, outermost first:
//!
//! | layer | default | original knob |
//! |---|---|---|
//! | [`TraceLayer`](super::TraceLayer) | on | — |
//! | [`MetricsLayer`](super::MetricsLayer) | on, a new [`Metrics`](super::Metrics) | `enable_metrics=True` |
//! | [`AuthLayer`](super::AuthLayer) | off; [`ProductionLayer::require_auth`] | `auth_provider` |
//! | [`RateLimitLayer`](super::RateLimitLayer) | off; [`ProductionLayer::rate_limit`] | `rate_limit_config` |
//! | [`PermissionLayer`](super::PermissionLayer) | on when auth is | (`PermissionManager`) |
//! | [`CacheLayer`](super::CacheLayer) | on, read-only and `cache_ttl` tools, 300 s | `enable_cache=True, cache_ttl=300` |
//! | [`ConcurrencyLimitLayer`](super::ConcurrencyLimitLayer) | off; [`ProductionLayer::max_concurrency`] | — |
//! | [`CircuitBreakerLayer`](super::CircuitBreakerLayer) | on, 5 failures in 60 s, open 60 s, 3 successes | `circuit_breaker_config` |
//! | [`TimeoutLayer`](super::TimeoutLayer) | on, 300 s | — |
//!
//! Each knob turns a layer on, off or reconfigures it; a layer that is off costs a branch, not
//! a box. The order is the one [`middleware`](super) documents: authentication before the rate
//! limit (keyed by principal) before permissions before the cache (keyed by authorization
//! scope) before the breaker and the timeout (whose expiry the breaker counts as a failure).
//!
//! **Refuses with** what its layers refuse with.
//!
//! ```
//! use std::time::Duration;
//! use mcp_server::mcp_auth::rate_limit::{Quota, RateLimiter};
//! use mcp_server::middleware::ProductionLayer;
//! use mcp_server::{Router, Server};
//!
//! let production = ProductionLayer::new()
//!     .require_auth()
//!     .rate_limit(RateLimiter::new(Quota::per_minute(100).unwrap()))
//!     .cache_ttl(Duration::from_secs(60));
//! let metrics = production.metrics().cloned().unwrap();
//! let server = Server::new("s", "1.0.0", Router::new()).layer(production);
//! # drop((server, metrics));
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::ProductionLayer;
pub use service::Production;
