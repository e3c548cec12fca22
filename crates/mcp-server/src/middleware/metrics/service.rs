use std::task::{Context, Poll};
use tower::Service;

use super::future::Record;
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
        let record = Record::start(&self.metrics, &request);
        ResponseFuture::new(self.inner.call(request), record)
    }
}
