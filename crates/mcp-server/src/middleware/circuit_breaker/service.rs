use std::sync::Arc;
use std::task::{Context, Poll};

use tower::Service;

use super::ResponseFuture;
use super::layer::Breakers;
use crate::request::{McpRequest, McpResponse};

/// The service of [`CircuitBreakerLayer`](super::CircuitBreakerLayer).
#[derive(Debug, Clone)]
pub struct CircuitBreaker<S> {
    pub(super) inner: S,
    pub(super) breakers: Arc<Breakers>,
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
        // Only calls of tools the server has: unknown names must not grow the table.
        let Some(tool) = request.tool() else {
            return ResponseFuture::passed(self.inner.call(request));
        };
        match self.breakers.admit(&tool.name) {
            Ok(admission) => ResponseFuture::admitted(self.inner.call(request), admission),
            Err(refusal) => ResponseFuture::refused(request.refuse(refusal)),
        }
    }
}
