//! Middleware: tower layers over the MCP service.
//!
//! Every transport (stdio and sockets, Streamable HTTP, HTTP+SSE, WebSocket) turns each
//! JSON-RPC request into an [`McpRequest`](crate::McpRequest) and runs it through the server's
//! service: the layers added with [`Server::layer`](crate::Server::layer), then the
//! dispatcher. A layer sees the method, the revision, the [`Target`](crate::Target) (tool name
//! and arguments, resource URI, prompt name), the principal and the cancellation token, and
//! answers with an [`McpResponse`](crate::McpResponse) or passes the request on. The same
//! layers wrap one tool with [`ToolRoute::layer`](crate::ToolRoute::layer); a tool's layers
//! run inside the server's.
//!
//! Refusals are typed ([`Refusal`]) and reach the client as JSON-RPC errors with the [`code`]s
//! below; the Streamable HTTP endpoint also answers with the matching status and headers.
//!
//! # Order matters
//!
//! Layers run outermost first. The order this crate's stacks use (and
//! [`ProductionLayer`] builds), with what each refuses with:
//!
//! | # | layer | refuses with | why here |
//! |---|---|---|---|
//! | 1 | [`TraceLayer`] | — | its span covers everything, refusals included |
//! | 2 | [`MetricsLayer`] | — | counts every request, refusals by reason |
//! | 3 | [`AuthLayer`] | -31401 / 401 (+ `WWW-Authenticate`) | everything after it keys on the principal |
//! | 4 | [`RateLimitLayer`] | -31429 / 429 (+ `Retry-After`) | per principal; before any work, even a forbidden call spends quota |
//! | 5 | [`PermissionLayer`] | -31403 / 403 (+ `insufficient_scope`) | before the cache: a caller never reads what it may not call |
//! | 6 | [`CacheLayer`] | — | keyed by authorization scope; a hit skips everything below |
//! | 7 | [`ConcurrencyLimitLayer`] | -31503 / 503 (with `max_wait`) | bounds handlers actually running, not cache hits |
//! | 8 | [`CircuitBreakerLayer`] | -31503 / 503 (+ `Retry-After`) | outside the timeout, so a timeout counts as a failure |
//! | 9 | [`TimeoutLayer`] | -31504 / 504 | closest to the handler it stops |
//!
//! Swapping two of them changes what the server does: a cache before authentication answers
//! unauthenticated callers; a breaker inside the timeout never sees the timeouts; a rate limit
//! before authentication has no principal to key on. Build the stack in one
//! `Server::layer(ServiceBuilder::new()...)` call (first listed runs first, boxed once), with
//! the [`ServiceBuilderExt`] methods, or take [`ProductionLayer`].
//!
//! ```
//! use std::time::Duration;
//! use mcp_server::mcp_auth::rate_limit::{Quota, RateLimiter};
//! use mcp_server::middleware::{CircuitBreakerConfig, Metrics, ServiceBuilderExt};
//! use mcp_server::{Router, Server};
//! use tower::ServiceBuilder;
//!
//! let metrics = Metrics::new();
//! let server = Server::new("s", "1.0.0", Router::new()).layer(
//!     ServiceBuilder::new()
//!         .mcp_trace()
//!         .mcp_metrics(metrics.clone())
//!         .mcp_require_auth()
//!         .mcp_rate_limit(RateLimiter::new(Quota::per_minute(100).unwrap()))
//!         .mcp_permissions()
//!         .mcp_cache(Duration::from_secs(60))
//!         .mcp_concurrency_limit(64)
//!         .mcp_circuit_breaker(CircuitBreakerConfig::default())
//!         .mcp_timeout(Duration::from_secs(30)),
//! );
//! # drop(server);
//! ```
//!
//! # Writing a layer
//!
//! A layer is a plain tower [`Layer`](tower::Layer) whose service takes an
//! [`McpRequest`](crate::McpRequest) and answers an [`McpResponse`](crate::McpResponse). To
//! refuse, answer [`McpRequest::refuse`](crate::McpRequest::refuse) (or
//! [`McpRequest::error`](crate::McpRequest::error) for another JSON-RPC error) without calling
//! the inner service; to pass values to later layers and to the handler, put them in
//! [`McpRequest::extensions_mut`](crate::McpRequest::extensions_mut). Keep `poll_ready`
//! delegating, and do not hold a lock across an `.await`.
//!
//! ```
//! use std::task::{Context, Poll};
//! use mcp_server::middleware::{Refusal};
//! use mcp_server::{McpRequest, McpResponse, Router, Server, Target};
//! use tower::{Layer, Service};
//!
//! /// Refuses tools whose name starts with `internal_`.
//! #[derive(Clone)]
//! struct HideInternal<S>(S);
//!
//! impl<S: Service<McpRequest, Response = McpResponse>> Service<McpRequest> for HideInternal<S>
//! where
//!     S::Future: Send + 'static,
//! {
//!     type Response = McpResponse;
//!     type Error = S::Error;
//!     type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<McpResponse, S::Error>> + Send>>;
//!
//!     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
//!         self.0.poll_ready(cx)
//!     }
//!
//!     fn call(&mut self, request: McpRequest) -> Self::Future {
//!         if let Target::Tool { name, .. } = request.target() {
//!             if name.starts_with("internal_") {
//!                 let refusal = Refusal::Forbidden { required: vec!["internal".into()], scopes: vec![] };
//!                 let response = request.refuse(refusal);
//!                 return Box::pin(async move { Ok(response) });
//!             }
//!         }
//!         Box::pin(self.0.call(request))
//!     }
//! }
//!
//! let server = Server::new("s", "1.0.0", Router::new())
//!     .layer(tower::layer::layer_fn(HideInternal));
//! # drop(server);
//! ```
//!
//! A real layer names its future instead of boxing it (see this module's layers:
//! `mod.rs`, `layer.rs`, `service.rs`, `future.rs`, as in tower-http).

pub mod auth;
#[cfg(feature = "cache")]
pub mod cache;
pub mod circuit_breaker;
pub mod concurrency_limit;
mod gate;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod permission;
#[cfg(all(feature = "cache", feature = "metrics", feature = "rate-limit"))]
pub mod production;
#[cfg(feature = "rate-limit")]
pub mod rate_limit;
mod refusal;
pub mod timeout;
pub mod trace;

pub use auth::AuthLayer;
#[cfg(feature = "cache")]
pub use cache::CacheLayer;
pub use circuit_breaker::{CircuitBreakerConfig, CircuitBreakerLayer, CircuitState};
pub use concurrency_limit::ConcurrencyLimitLayer;
#[cfg(feature = "metrics")]
pub use metrics::{Metrics, MetricsLayer};
pub use permission::PermissionLayer;
#[cfg(all(feature = "cache", feature = "metrics", feature = "rate-limit"))]
pub use production::ProductionLayer;
#[cfg(feature = "rate-limit")]
pub use rate_limit::RateLimitLayer;
pub use refusal::{Refusal, RefusalKind, code};
pub use timeout::TimeoutLayer;
pub use trace::{TraceContext, TraceLayer};

use std::time::Duration;

use tower::ServiceBuilder;

/// The service that was made ready, to go with a request into a boxed future (tower's
/// contract: the instance polled ready is the one called); a clone stays behind.
pub(crate) fn take_ready<S: Clone>(inner: &mut S) -> S {
    let clone = inner.clone();
    std::mem::replace(inner, clone)
}
use tower::layer::util::Stack;

/// The MCP layers as [`ServiceBuilder`] methods, in the spirit of tower-http's
/// `ServiceBuilderExt`. Call them in the documented order ([module docs](self)).
pub trait ServiceBuilderExt<L>: Sized {
    /// Adds a [`TraceLayer`].
    fn mcp_trace(self) -> ServiceBuilder<Stack<TraceLayer, L>>;
    /// Adds a [`MetricsLayer`] recording into `metrics`.
    #[cfg(feature = "metrics")]
    fn mcp_metrics(self, metrics: Metrics) -> ServiceBuilder<Stack<MetricsLayer, L>>;
    /// Adds [`AuthLayer::required`].
    fn mcp_require_auth(self) -> ServiceBuilder<Stack<AuthLayer, L>>;
    /// Adds [`AuthLayer::optional`].
    fn mcp_optional_auth(self) -> ServiceBuilder<Stack<AuthLayer, L>>;
    /// Adds a [`RateLimitLayer`] with `limiter`.
    #[cfg(feature = "rate-limit")]
    fn mcp_rate_limit(
        self,
        limiter: mcp_auth::rate_limit::RateLimiter,
    ) -> ServiceBuilder<Stack<RateLimitLayer, L>>;
    /// Adds a [`PermissionLayer`].
    fn mcp_permissions(self) -> ServiceBuilder<Stack<PermissionLayer, L>>;
    /// Adds a [`CacheLayer`] with `default_ttl` for read-only tools.
    #[cfg(feature = "cache")]
    fn mcp_cache(self, default_ttl: Duration) -> ServiceBuilder<Stack<CacheLayer, L>>;
    /// Adds a [`ConcurrencyLimitLayer`] of `max`.
    fn mcp_concurrency_limit(self, max: usize) -> ServiceBuilder<Stack<ConcurrencyLimitLayer, L>>;
    /// Adds a [`CircuitBreakerLayer`] with `config`.
    fn mcp_circuit_breaker(
        self,
        config: CircuitBreakerConfig,
    ) -> ServiceBuilder<Stack<CircuitBreakerLayer, L>>;
    /// Adds a [`TimeoutLayer`] of `limit`.
    fn mcp_timeout(self, limit: Duration) -> ServiceBuilder<Stack<TimeoutLayer, L>>;
}

impl<L> ServiceBuilderExt<L> for ServiceBuilder<L> {
    fn mcp_trace(self) -> ServiceBuilder<Stack<TraceLayer, L>> {
        self.layer(TraceLayer::new())
    }
    #[cfg(feature = "metrics")]
    fn mcp_metrics(self, metrics: Metrics) -> ServiceBuilder<Stack<MetricsLayer, L>> {
        self.layer(MetricsLayer::new(metrics))
    }
    fn mcp_require_auth(self) -> ServiceBuilder<Stack<AuthLayer, L>> {
        self.layer(AuthLayer::required())
    }
    fn mcp_optional_auth(self) -> ServiceBuilder<Stack<AuthLayer, L>> {
        self.layer(AuthLayer::optional())
    }
    #[cfg(feature = "rate-limit")]
    fn mcp_rate_limit(
        self,
        limiter: mcp_auth::rate_limit::RateLimiter,
    ) -> ServiceBuilder<Stack<RateLimitLayer, L>> {
        self.layer(RateLimitLayer::new(limiter))
    }
    fn mcp_permissions(self) -> ServiceBuilder<Stack<PermissionLayer, L>> {
        self.layer(PermissionLayer::new())
    }
    #[cfg(feature = "cache")]
    fn mcp_cache(self, default_ttl: Duration) -> ServiceBuilder<Stack<CacheLayer, L>> {
        self.layer(CacheLayer::new(default_ttl))
    }
    fn mcp_concurrency_limit(self, max: usize) -> ServiceBuilder<Stack<ConcurrencyLimitLayer, L>> {
        self.layer(ConcurrencyLimitLayer::new(max))
    }
    fn mcp_circuit_breaker(
        self,
        config: CircuitBreakerConfig,
    ) -> ServiceBuilder<Stack<CircuitBreakerLayer, L>> {
        self.layer(CircuitBreakerLayer::new(config))
    }
    fn mcp_timeout(self, limit: Duration) -> ServiceBuilder<Stack<TimeoutLayer, L>> {
        self.layer(TimeoutLayer::new(limit))
    }
}
