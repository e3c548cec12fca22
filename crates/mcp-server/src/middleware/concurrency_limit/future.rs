use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::sync::OwnedSemaphorePermit;

use crate::request::McpResponse;

type Waiting<E> = Pin<Box<dyn Future<Output = Result<McpResponse, E>> + Send>>;

pin_project! {
    /// The future of [`ConcurrencyLimit`](super::ConcurrencyLimit): the request running with
    /// its place, or (only when none was free) waiting for one.
    pub struct ResponseFuture<F, E> {
        #[pin]
        state: State<F, E>,
    }
}

pin_project! {
    #[project = Projected]
    enum State<F, E> {
        // Running, holding its place until it answers.
        Running {
            #[pin]
            inner: F,
            place: Option<OwnedSemaphorePermit>,
        },
        // Waiting for a place, then running.
        Waiting {
            waiting: Waiting<E>,
        },
    }
}

impl<F, E> std::fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.state {
            State::Running { .. } => "ResponseFuture::Running",
            State::Waiting { .. } => "ResponseFuture::Waiting",
        })
    }
}

impl<F, E> ResponseFuture<F, E> {
    pub(super) fn running(inner: F, place: OwnedSemaphorePermit) -> Self {
        Self {
            state: State::Running {
                inner,
                place: Some(place),
            },
        }
    }

    pub(super) fn waiting(waiting: Waiting<E>) -> Self {
        Self {
            state: State::Waiting { waiting },
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
            Projected::Running { inner, place } => {
                let out = std::task::ready!(inner.poll(cx));
                place.take();
                Poll::Ready(out)
            }
            Projected::Waiting { waiting } => waiting.as_mut().poll(cx),
        }
    }
}
