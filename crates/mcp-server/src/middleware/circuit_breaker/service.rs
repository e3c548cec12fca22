use std::task::{Context, Poll};

use tower::Service;

use super::CircuitBreakerLayer;
use super::ResponseFuture;
use crate::request::{McpRequest, McpResponse};

/// The service of [`CircuitBreakerLayer`](super::CircuitBreakerLayer).
#[derive(Debug, Clone)]
pub struct CircuitBreaker<S> {
    pub(super) inner: S,
    pub(super) breakers: CircuitBreakerLayer,
}

impl<S> Service<McpRequest> for CircuitBreaker<S>
where
    S: Service<McpRequest, Response = McpResponse>,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        match self.breakers.admit(&request) {
            Ok(Some(admission)) => ResponseFuture::admitted(self.inner.call(request), admission),
            Ok(None) => ResponseFuture::passed(self.inner.call(request)),
            Err(refusal) => ResponseFuture::refused(request.refuse(refusal)),
        }
    }
}
