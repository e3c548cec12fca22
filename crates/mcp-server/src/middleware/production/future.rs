use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower::Service;

use super::service::Stack;
use crate::request::{McpRequest, McpResponse};

pin_project! {
    /// The future of a layer that is on or off.
    pub(super) struct OptionalFuture<A, B> {
        #[pin]
        state: State<A, B>,
    }
}

pin_project! {
    #[project = Projected]
    enum State<A, B> {
        On { #[pin] future: A },
        Off { #[pin] future: B },
    }
}

impl<A, B> OptionalFuture<A, B> {
    pub(super) fn on(future: A) -> Self {
        Self {
            state: State::On { future },
        }
    }

    pub(super) fn off(future: B) -> Self {
        Self {
            state: State::Off { future },
        }
    }
}

impl<A, B, T> Future for OptionalFuture<A, B>
where
    A: Future<Output = T>,
    B: Future<Output = T>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.project().state.project() {
            Projected::On { future } => future.poll(cx),
            Projected::Off { future } => future.poll(cx),
        }
    }
}

type StackFuture<S> = <Stack<S> as Service<McpRequest>>::Future;

pin_project! {
    /// The future of [`Production`](super::Production).
    pub struct ResponseFuture<S>
    where
        S: Service<McpRequest, Response = McpResponse>,
        S: Clone,
        S: Send,
        S: 'static,
        S::Future: Send,
        S::Future: 'static,
        S::Error: Into<tower::BoxError>,
        S::Error: Send,
        S::Error: 'static,
    {
        #[pin]
        inner: StackFuture<S>,
    }
}

impl<S> std::fmt::Debug for ResponseFuture<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send + 'static,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S> ResponseFuture<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send + 'static,
{
    pub(super) fn new(inner: StackFuture<S>) -> Self {
        Self { inner }
    }
}

impl<S> Future for ResponseFuture<S>
where
    S: Service<McpRequest, Response = McpResponse> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send + 'static,
{
    type Output = Result<McpResponse, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}
