use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use pin_project_lite::pin_project;
use tracing::Span;

use crate::request::McpResponse;

pin_project! {
    /// The future of [`Trace`](super::Trace): the request, polled inside its span.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        started: Instant,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, span: Span) -> Self {
        Self {
            inner,
            span,
            started: Instant::now(),
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
        let _entered = this.span.enter();
        let out = std::task::ready!(this.inner.poll(cx));
        let outcome = match &out {
            Ok(response) => response.outcome().as_str(),
            Err(_) => "error",
        };
        this.span.record("outcome", outcome);
        this.span
            .record("duration_ms", this.started.elapsed().as_secs_f64() * 1000.0);
        if let Ok(Some(refusal)) = out.as_ref().map(McpResponse::refusal) {
            tracing::info!(reason = refusal.reason(), "request refused");
        }
        Poll::Ready(out)
    }
}
