use std::task::{Context, Poll};

use tower::Service;

use super::ResponseFuture;
use super::future::OptionalFuture;
use crate::middleware::auth::Auth;
use crate::middleware::cache::Cache;
use crate::middleware::circuit_breaker::CircuitBreaker;
use crate::middleware::concurrency_limit::ConcurrencyLimit;
use crate::middleware::metrics::MetricsService;
use crate::middleware::permission::Permission;
use crate::middleware::rate_limit::RateLimit;
use crate::middleware::timeout::Timeout;
use crate::middleware::trace::Trace;
use crate::request::{McpRequest, McpResponse};

/// A layer that is on or off.
#[derive(Debug, Clone)]
pub(super) enum Optional<A, B> {
    On(A),
    Off(B),
}

impl<A, B, E> Service<McpRequest> for Optional<A, B>
where
    A: Service<McpRequest, Response = McpResponse, Error = E>,
    B: Service<McpRequest, Response = McpResponse, Error = E>,
{
    type Response = McpResponse;
    type Error = E;
    type Future = OptionalFuture<A::Future, B::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        match self {
            Self::On(a) => a.poll_ready(cx),
            Self::Off(b) => b.poll_ready(cx),
        }
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        match self {
            Self::On(a) => OptionalFuture::on(a.call(request)),
            Self::Off(b) => OptionalFuture::off(b.call(request)),
        }
    }
}

type On<L, S> = Optional<L, S>;
type T0<S> = On<Timeout<S>, S>;
type T1<S> = On<CircuitBreaker<T0<S>>, T0<S>>;
type T2<S> = On<ConcurrencyLimit<T1<S>>, T1<S>>;
type T3<S> = On<Cache<T2<S>>, T2<S>>;
type T4<S> = On<Permission<T3<S>>, T3<S>>;
type T5<S> = On<RateLimit<T4<S>>, T4<S>>;
type T6<S> = On<Auth<T5<S>>, T5<S>>;
type T7<S> = On<MetricsService<T6<S>>, T6<S>>;
/// The stack, outermost last in the aliases: trace, metrics, auth, rate limit, permissions,
/// cache, concurrency limit, circuit breaker, timeout.
pub(super) type Stack<S> = On<Trace<T7<S>>, T7<S>>;

/// The service of [`ProductionLayer`](super::ProductionLayer).
#[derive(Clone)]
pub struct Production<S> {
    pub(super) stack: Stack<S>,
}

impl<S> std::fmt::Debug for Production<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Production").finish_non_exhaustive()
    }
}

impl<S> Service<McpRequest> for Production<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send + 'static,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.stack.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        ResponseFuture::new(self.stack.call(request))
    }
}
