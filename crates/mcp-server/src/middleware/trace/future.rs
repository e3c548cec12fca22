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
        traced: Traced,
    }
}

/// A request's span, and when it started if anyone listens.
pub(crate) struct Traced {
    pub(crate) span: Span,
    // `None` when no subscriber listens: nothing to time.
    started: Option<Instant>,
}

impl Traced {
    pub(crate) fn new(span: Span) -> Self {
        let started = (!span.is_disabled()).then(Instant::now);
        Self { span, started }
    }

    /// Records how the request ended on its span.
    pub(crate) fn finish<E>(&self, out: &Result<McpResponse, E>) {
        let Some(started) = self.started else {
            return;
        };
        let outcome = match out {
            Ok(response) => response.outcome().as_str(),
            Err(_) => "error",
        };
        self.span.record("outcome", outcome);
        self.span
            .record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
        if let Ok(Some(refusal)) = out.as_ref().map(McpResponse::refusal) {
            tracing::info!(reason = refusal.reason(), "request refused");
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("span", &self.traced.span)
            .finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, span: Span) -> Self {
        Self {
            inner,
            traced: Traced::new(span),
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
        let _entered = this.traced.span.enter();
        let out = std::task::ready!(this.inner.poll(cx));
        this.traced.finish(&out);
        Poll::Ready(out)
    }
}
