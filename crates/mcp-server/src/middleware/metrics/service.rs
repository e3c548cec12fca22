use std::task::{Context, Poll};
use std::time::Instant;

use tower::Service;

use super::{Metrics, ResponseFuture};
use crate::request::{McpRequest, McpResponse};

/// The service of [`MetricsLayer`](super::MetricsLayer).
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    pub(super) inner: S,
    pub(super) metrics: Metrics,
}

impl<S> Service<McpRequest> for MetricsService<S>
where
    S: Service<McpRequest, Response = McpResponse>,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        // Labels without allocating: the method is one of the static names, the tool its route.
        let method = request.params.method();
        // Only names the router knows: a made-up name must not become a label.
        let tool = request.tool.clone();
        let series = self.metrics.inner.series(
            method,
            tool.as_ref().map_or("", |t| t.definition.name.as_str()),
        );
        series.in_flight.inc();
        ResponseFuture::new(
            self.inner.call(request),
            self.metrics.clone(),
            method,
            tool,
            series,
            Instant::now(),
        )
    }
}
