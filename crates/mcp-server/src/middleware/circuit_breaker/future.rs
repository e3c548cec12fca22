use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::layer::Admission;
use crate::request::McpResponse;

pin_project! {
    /// The future of [`CircuitBreaker`](super::CircuitBreaker).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<F>,
        // Boxed: refusals are rare, and every layer around this one carries the future inline.
        refused: Option<Box<McpResponse>>,
        admission: Option<Admission>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before the call finished: free its probe, count nothing.
            if let Some(admission) = this.project().admission.take() {
                admission.abandon();
            }
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("refused", &self.refused.is_some())
            .finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn passed(inner: F) -> Self {
        Self {
            inner: Some(inner),
            refused: None,
            admission: None,
        }
    }

    pub(super) fn admitted(inner: F, admission: Admission) -> Self {
        Self {
            inner: Some(inner),
            refused: None,
            admission: Some(admission),
        }
    }

    pub(super) fn refused(response: McpResponse) -> Self {
        Self {
            inner: None,
            refused: Some(Box::new(response)),
            admission: None,
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
        let Some(inner) = this.inner.as_pin_mut() else {
            return match this.refused.take() {
                Some(response) => Poll::Ready(Ok(*response)),
                None => Poll::Pending,
            };
        };
        let out = std::task::ready!(inner.poll(cx));
        if let Some(admission) = this.admission.take() {
            match &out {
                Ok(response) => admission.finish(response),
                Err(_) => admission.abandon(),
            }
        }
        Poll::Ready(out)
    }
}
