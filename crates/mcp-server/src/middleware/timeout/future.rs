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
        // Boxed: allocated only when armed, and the future (which every outer layer's future
        // holds and moves while the stack is built) stays small.
        sleep: Option<Pin<Box<Sleep>>>,
        expiry: Option<Expiry>,
    }
}

/// What a request that runs out of time is answered with.
struct Expiry {
    limit: Duration,
    id: RequestId,
    revision: ProtocolVersion,
    cancel: CancellationToken,
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("limit", &self.expiry.as_ref().map(|e| e.limit))
            .finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn unlimited(inner: F) -> Self {
        Self {
            inner,
            sleep: None,
            expiry: None,
        }
    }

    pub(super) fn limited(
        inner: F,
        limit: Duration,
        id: RequestId,
        revision: ProtocolVersion,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            inner,
            sleep: None,
            expiry: Some(Expiry {
                limit,
                id,
                revision,
                cancel,
            }),
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
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        if this.sleep.is_none() {
            let Some(expiry) = this.expiry.as_ref() else {
                return Poll::Pending;
            };
            // Armed at the first poll that did not answer: that poll came right after the call,
            // so the limit is counted from (nearly) the start without reading the clock then.
            *this.sleep = Some(Box::pin(tokio::time::sleep(expiry.limit)));
        }
        let Some(sleep) = this.sleep.as_mut() else {
            return Poll::Pending;
        };
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let Some(expiry) = this.expiry.take() else {
            return Poll::Pending;
        };
        // Tell the handler (and whatever it spawned) to stop; dropping this future drops it.
        expiry.cancel.cancel();
        tracing::debug!(id = %expiry.id, limit = ?expiry.limit, "request timed out");
        Poll::Ready(Ok(McpResponse::refused(
            expiry.id,
            expiry.revision,
            Refusal::TimedOut {
                after: expiry.limit,
            },
        )))
    }
}
