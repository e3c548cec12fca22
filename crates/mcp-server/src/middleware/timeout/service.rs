use std::task::{Context, Poll};

use tower::Service;

use super::future::Deadline;
use super::layer::Limits;
use super::{ResponseFuture, TimeoutLayer};
use crate::request::{McpRequest, McpResponse, Target};

/// The service of [`TimeoutLayer`](super::TimeoutLayer).
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    pub(super) inner: S,
    pub(super) layer: TimeoutLayer,
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
        let deadline = self.layer.deadline(&request);
        ResponseFuture::new(self.inner.call(request), deadline)
    }
}

/// `request`'s time limit: its tool's, else the default; none for a subscription stream.
pub(super) fn deadline(limits: &Limits, request: &McpRequest) -> Option<Deadline> {
    if request.method() == "subscriptions/listen" {
        return None;
    }
    let limit = match request.target() {
        Target::Tool { name, .. } => limits.tools.get(name).copied(),
        _ => None,
    }
    .unwrap_or(limits.default);
    Some(Deadline::new(
        limit,
        request.id().clone(),
        request.revision(),
        request.cancellation().clone(),
    ))
}
