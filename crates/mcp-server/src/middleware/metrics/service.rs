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
        let method = request.method().to_owned();
        // Only names the router knows: a made-up name must not become a label.
        let tool = request.tool().map(|t| t.name.clone()).unwrap_or_default();
        let in_flight = self
            .metrics
            .inner
            .in_flight
            .with_label_values(&[method.as_str()]);
        in_flight.inc();
        ResponseFuture::new(
            self.inner.call(request),
            self.metrics.clone(),
            method,
            tool,
            in_flight,
            Instant::now(),
        )
    }
}
