use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use pin_project_lite::pin_project;

use std::sync::Arc;

use super::Metrics;
use super::layer::Series;
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::router::ToolRoute;

pin_project! {
    /// The future of [`MetricsService`](super::MetricsService).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        record: Option<Record>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before answering (the client went away): counted as cancelled.
            if let Some(record) = this.project().record.take() {
                record.finish(Outcome::Cancelled, None);
            }
        }
    }
}

/// What is recorded when the request ends.
pub(crate) struct Record {
    metrics: Metrics,
    method: &'static str,
    tool: Option<Arc<ToolRoute>>,
    series: Arc<Series>,
    started: Instant,
}

impl Record {
    /// Starts recording `request` into `metrics`: it is in flight from now.
    pub(crate) fn start(metrics: &Metrics, request: &McpRequest) -> Self {
        // Labels without allocating: the method is one of the static names, the tool its route.
        let method = request.params.method();
        // Only names the router knows: a made-up name must not become a label.
        let tool = request.tool.clone();
        let series = metrics.inner.series(
            method,
            tool.as_ref().map_or("", |t| t.definition.name.as_str()),
        );
        series.in_flight.inc();
        Self {
            metrics: metrics.clone(),
            method,
            tool,
            series,
            started: Instant::now(),
        }
    }

    /// Records how the request ended.
    pub(crate) fn finish(self, outcome: Outcome, response: Option<&McpResponse>) {
        let c = &self.metrics.inner;
        self.series.in_flight.dec();
        let tool = self
            .tool
            .as_ref()
            .map_or("", |t| t.definition.name.as_str());
        self.series
            .duration
            .observe(self.started.elapsed().as_secs_f64());
        if outcome == Outcome::Success {
            self.series.succeeded.inc();
        } else {
            c.requests
                .with_label_values(&[self.method, tool, outcome.as_str()])
                .inc();
        }
        if let Some(refusal) = response.and_then(McpResponse::refusal) {
            c.refusals.with_label_values(&[refusal.reason()]).inc();
        }
        if let Some(status) = response.and_then(McpResponse::cache_status) {
            c.cache.with_label_values(&[tool, status.as_str()]).inc();
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, record: Record) -> Self {
        Self {
            inner,
            record: Some(record),
        }
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        if let Some(record) = this.record.take() {
            match &out {
                Ok(response) => record.finish(response.outcome(), Some(response)),
                Err(_) => record.finish(Outcome::Error, None),
            }
        }
        Poll::Ready(out)
    }
}
