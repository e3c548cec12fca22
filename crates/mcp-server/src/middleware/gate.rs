//! The future shared by the layers that pass a request on or refuse it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::request::McpResponse;

pin_project! {
    /// The future of a layer that either passes a request on or refuses it before it goes
    /// further ([`Auth`](super::auth::Auth), [`Permission`](super::permission::Permission),
    /// [`RateLimit`](super::rate_limit::RateLimit)): the inner service's future, or the refusal.
    pub struct GateFuture<F> {
        #[pin]
        inner: Option<F>,
        // Boxed: refusals are rare, and every layer around this one carries the future inline.
        refused: Option<Box<McpResponse>>,
    }
}

impl<F> std::fmt::Debug for GateFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateFuture")
            .field("refused", &self.refused.is_some())
            .finish_non_exhaustive()
    }
}

impl<F> GateFuture<F> {
    pub(crate) fn passed(inner: F) -> Self {
        Self {
            inner: Some(inner),
            refused: None,
        }
    }

    pub(crate) fn refused(response: McpResponse) -> Self {
        Self {
            inner: None,
            refused: Some(Box::new(response)),
        }
    }
}

impl<F, E> Future for GateFuture<F>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            Some(inner) => inner.poll(cx),
            None => match this.refused.take() {
                Some(response) => Poll::Ready(Ok(*response)),
                None => Poll::Pending,
            },
        }
    }
}
