use std::task::{Context, Poll};

use mcp_auth::rate_limit::RateLimiter;
use tower::Service;

use super::{RateLimitLayer, ResponseFuture};
use crate::middleware::Refusal;
use crate::request::{McpRequest, McpResponse};

/// The service of [`RateLimitLayer`](super::RateLimitLayer).
#[derive(Debug, Clone)]
pub struct RateLimit<S> {
    pub(super) inner: S,
    pub(super) layer: RateLimitLayer,
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
        match self.layer.check(&request) {
            Ok(()) => ResponseFuture::passed(self.inner.call(request)),
            Err(refusal) => ResponseFuture::refused(request.refuse(refusal)),
        }
    }
}

/// Spends one call of `request`'s quota (calls of tools, resources, prompts and completions
/// only, unless `all_methods`); refuses when there is none left.
pub(super) fn check(
    limiter: &RateLimiter,
    all_methods: bool,
    request: &McpRequest,
) -> Result<(), Refusal> {
    let counted = all_methods
        || matches!(
            request.method(),
            "tools/call" | "resources/read" | "prompts/get" | "completion/complete"
        );
    if !counted {
        return Ok(());
    }
    let principal = request
        .principal()
        .map(|p| p.id.as_str())
        .unwrap_or_default();
    // Only names the router knows: a made-up name must not get a bucket of its own.
    let tool = request.tool().map(|t| t.name.as_str());
    limiter.check(principal, tool).map_err(|e| {
        tracing::debug!(principal, ?tool, "rate limited");
        Refusal::from(e)
    })
}
