use std::sync::Arc;
use std::task::{Context, Poll};

use tower::Service;

use super::ResponseFuture;
use super::layer::Limits;
use crate::request::{McpRequest, McpResponse, Target};

/// The service of [`TimeoutLayer`](super::TimeoutLayer).
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    pub(super) inner: S,
    pub(super) limits: Arc<Limits>,
}

impl<S> Service<McpRequest> for Timeout<S>
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
        if request.method() == "subscriptions/listen" {
            return ResponseFuture::unlimited(self.inner.call(request));
        }
        let limit = match request.target() {
            Target::Tool { name, .. } => self.limits.tools.get(name).copied(),
            _ => None,
        }
        .unwrap_or(self.limits.default);
        let (id, revision) = (request.id().clone(), request.revision());
        let cancel = request.cancellation().clone();
        ResponseFuture::limited(self.inner.call(request), limit, id, revision, cancel)
    }
}
