use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::request::McpResponse;

type Cached<E> = Pin<Box<dyn Future<Output = Result<McpResponse, E>> + Send>>;

pin_project! {
    /// The future of [`Cache`](super::Cache): the call passed through untouched, or (only for
    /// a cacheable call) looked up, shared or run and stored.
    pub struct ResponseFuture<F, E> {
        #[pin]
        state: State<F, E>,
    }
}

pin_project! {
    #[project = Projected]
    enum State<F, E> {
        Passed {
            #[pin]
            inner: F,
        },
        Cached {
            cached: Cached<E>,
        },
    }
}

impl<F, E> std::fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.state {
            State::Passed { .. } => "ResponseFuture::Passed",
            State::Cached { .. } => "ResponseFuture::Cached",
        })
    }
}

impl<F, E> ResponseFuture<F, E> {
    pub(super) fn passed(inner: F) -> Self {
        Self {
            state: State::Passed { inner },
        }
    }

    pub(super) fn cached(cached: Cached<E>) -> Self {
        Self {
            state: State::Cached { cached },
        }
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Projected::Passed { inner } => inner.poll(cx),
            Projected::Cached { cached } => cached.as_mut().poll(cx),
        }
    }
}
