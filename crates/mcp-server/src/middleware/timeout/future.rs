use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use mcp_protocol::ProtocolVersion;
use mcp_protocol::jsonrpc::RequestId;
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;

use crate::middleware::Refusal;
use crate::request::McpResponse;

pin_project! {
    /// The future of [`Timeout`](super::Timeout). The timer is armed only if the request does
    /// not answer on its first poll (most cheap calls do), so they never touch the timer wheel.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        deadline: Option<Deadline>,
    }
}

/// A request's time limit, and what the request is answered with when it runs out.
pub(crate) struct Deadline {
    // Boxed: allocated only when armed, and the future (which every outer layer's future
    // holds and moves while the stack is built) stays small.
    sleep: Option<Pin<Box<Sleep>>>,
    limit: Duration,
    id: RequestId,
    revision: ProtocolVersion,
    cancel: CancellationToken,
}

impl Deadline {
    pub(super) fn new(
        limit: Duration,
        id: RequestId,
        revision: ProtocolVersion,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            sleep: None,
            limit,
            id,
            revision,
            cancel,
        }
    }

    /// Polled after the request did not answer: ready with the refusal once the limit has
    /// passed, after telling the handler (and whatever it spawned) to stop.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<McpResponse> {
        // Armed at the first poll that did not answer: that poll came right after the call,
        // so the limit is counted from (nearly) the start without reading the clock then.
        let limit = self.limit;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        std::task::ready!(sleep.as_mut().poll(cx));
        self.cancel.cancel();
        tracing::debug!(id = %self.id, limit = ?self.limit, "request timed out");
        Poll::Ready(McpResponse::refused(
            self.id.clone(),
            self.revision,
            Refusal::TimedOut { after: self.limit },
        ))
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("limit", &self.deadline.as_ref().map(|d| d.limit))
            .finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, deadline: Option<Deadline>) -> Self {
        Self { inner, deadline }
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        let Some(deadline) = this.deadline.as_mut() else {
            return Poll::Pending;
        };
        let refusal = std::task::ready!(deadline.poll_expired(cx));
        *this.deadline = None;
        Poll::Ready(Ok(refusal))
    }
}
