use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::OwnedSemaphorePermit;
use tower::Service;

use super::ProductionLayer;
use super::future::{Body, ResponseFuture};
use crate::middleware::metrics::future::Record;
use crate::middleware::trace::future::Traced;
use crate::middleware::trace::service as trace;
use crate::middleware::{Refusal, take_ready};
use crate::request::{McpRequest, McpResponse};

/// The service of [`ProductionLayer`](super::ProductionLayer): the layers that are on, run in
/// the documented order by one service with one future (not one nested in another per layer),
/// so a request pays for what its layers do and not for the nesting; clones share the layers.
#[derive(Clone)]
pub struct Production<S> {
    layers: Arc<ProductionLayer>,
    inner: S,
}

impl<S> std::fmt::Debug for Production<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Production")
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

impl<S> Production<S> {
    pub(super) fn new(layers: Arc<ProductionLayer>, inner: S) -> Self {
        Self { layers, inner }
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
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: McpRequest) -> Self::Future {
        if !self.layers.trace {
            return ResponseFuture::new(self.run(request), None);
        }
        let span = trace::open(&mut request);
        let body = span.in_scope(|| self.run(request));
        ResponseFuture::new(body, Some(Traced::new(span)))
    }
}

impl<S> Production<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send + 'static,
{
    /// What runs inside the span: metrics, authentication, the rate limit, permissions, then
    /// the cache and what is below it.
    fn run(&mut self, mut request: McpRequest) -> Body<S::Future, S::Error> {
        let layers = &*self.layers;
        let record = layers.metrics.as_ref().map(|m| Record::start(m, &request));
        if let Err(refusal) = gates(layers, &mut request) {
            return Body::answered(request.refuse(refusal), record);
        }
        if let Some((cache, (ttl, key))) = layers
            .cache
            .as_ref()
            .and_then(|cache| Some((cache, cache.cacheable(&request)?)))
        {
            let layers = self.layers.clone();
            let mut inner = take_ready(&mut self.inner);
            let cached = cache.through(ttl, key, request, move |request| {
                below_cache(&layers, &mut inner, request, None)
            });
            return Body::boxed(Box::pin(async move { Ok(cached.await) }), record);
        }
        below_cache(&self.layers, &mut self.inner, request, record)
    }
}

/// Authentication, the rate limit and permissions: each passes the request or refuses it.
fn gates(layers: &ProductionLayer, request: &mut McpRequest) -> Result<(), Refusal> {
    if let Some(auth) = &layers.auth {
        auth.authenticate(request)?;
    }
    if let Some(limit) = &layers.rate_limit {
        limit.check(request)?;
    }
    if let Some(permissions) = &layers.permissions {
        permissions.check(request)?;
    }
    Ok(())
}

/// The concurrency limit, then the breaker, the timeout and the inner service; `record` goes
/// with the request.
fn below_cache<S>(
    layers: &Arc<ProductionLayer>,
    inner: &mut S,
    request: McpRequest,
    record: Option<Record>,
) -> Body<S::Future, S::Error>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    let Some(limit) = &layers.concurrency else {
        return tail(layers, inner, request, None, record);
    };
    // A place free now: no allocation, no waiting.
    if let Some(place) = limit.try_place() {
        return tail(layers, inner, request, Some(place), record);
    }
    let layers = layers.clone();
    let limit = limit.clone();
    let mut inner = take_ready(inner);
    let waiting = Box::pin(async move {
        match limit.wait_for_place(&request).await {
            Ok(place) => tail(&layers, &mut inner, request, Some(place), None).await,
            Err(answer) => Ok(answer),
        }
    });
    Body::boxed(waiting, record)
}

/// The breaker, the timeout and the inner service; the call holds `place` until it answers.
fn tail<S>(
    layers: &ProductionLayer,
    inner: &mut S,
    request: McpRequest,
    place: Option<OwnedSemaphorePermit>,
    record: Option<Record>,
) -> Body<S::Future, S::Error>
where
    S: Service<McpRequest, Response = McpResponse>,
{
    let admission = match layers.breaker.as_ref().map(|b| b.admit(&request)) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(admission))) => Some(admission),
        Some(Err(refusal)) => return Body::answered(request.refuse(refusal), record),
    };
    let deadline = layers.timeout.as_ref().and_then(|t| t.deadline(&request));
    Body::running(inner.call(request), place, admission, deadline, record)
}
