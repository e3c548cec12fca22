use std::sync::Arc;
use std::task::{Context, Poll};

use mcp_auth::rate_limit::RateLimiter;
use tower::Service;

use super::ResponseFuture;
use crate::middleware::Refusal;
use crate::request::{McpRequest, McpResponse};

/// The service of [`RateLimitLayer`](super::RateLimitLayer).
#[derive(Debug, Clone)]
pub struct RateLimit<S> {
    pub(super) inner: S,
    pub(super) limiter: Arc<RateLimiter>,
    pub(super) all_methods: bool,
}

impl<S> Service<McpRequest> for RateLimit<S>
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
        let counted = self.all_methods
            || matches!(
                request.method(),
                "tools/call" | "resources/read" | "prompts/get" | "completion/complete"
            );
        if counted {
            let principal = request
                .principal()
                .map(|p| p.id.as_str())
                .unwrap_or_default();
            // Only names the router knows: a made-up name must not get a bucket of its own.
            let tool = request.tool().map(|t| t.name.as_str());
            if let Err(e) = self.limiter.check(principal, tool) {
                tracing::debug!(principal, ?tool, "rate limited");
                return ResponseFuture::refused(request.refuse(Refusal::from(e)));
            }
        }
        ResponseFuture::passed(self.inner.call(request))
    }
}
