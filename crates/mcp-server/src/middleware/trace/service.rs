use std::task::{Context, Poll};

use tower::Service;
use tracing::Span;

use super::{ResponseFuture, TraceContext};
use crate::request::{McpRequest, McpResponse};

/// The service of [`TraceLayer`](super::TraceLayer).
#[derive(Debug, Clone)]
pub struct Trace<S> {
    pub(super) inner: S,
}

impl<S> Service<McpRequest> for Trace<S>
where
    S: Service<McpRequest, Response = McpResponse>,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: McpRequest) -> Self::Future {
        let span = open(&mut request);
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        ResponseFuture::new(future, span)
    }
}

/// Opens `request`'s span (carrying the W3C trace context from its `_meta`) and puts that
/// context in its extensions, for later layers and the handler.
pub(crate) fn open(request: &mut McpRequest) -> Span {
    let context = {
        let meta = request.meta();
        TraceContext::from_meta(
            meta.and_then(|m| m.traceparent.as_deref()),
            meta.and_then(|m| m.tracestate.as_deref()),
        )
    };
    let tool = request.tool().map(|t| t.name.as_str()).unwrap_or_default();
    let principal = request
        .principal()
        .map(|p| p.id.as_str())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "mcp.request",
        rpc.method = %request.method(),
        rpc.request_id = %request.id(),
        mcp.tool = tool,
        enduser.id = principal,
        trace_id = context.trace_id(),
        span_id = context.span_id(),
        parent_span_id = context.parent_id().unwrap_or_default(),
        outcome = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    request.extensions_mut().insert(context);
    span
}
