use std::sync::Arc;
use std::task::{Context, Poll};

use mcp_auth::{AuthError, Principal};
use tower::Service;

use super::ResponseFuture;
use crate::middleware::Refusal;
use crate::request::{Authentication, McpRequest, McpResponse};

/// The service of [`AuthLayer`](super::AuthLayer).
#[derive(Debug, Clone)]
pub struct Auth<S> {
    pub(super) inner: S,
    pub(super) anonymous: Option<Arc<Principal>>,
}

impl<S> Service<McpRequest> for Auth<S>
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
        let principal = match request.authentication() {
            Authentication::Principal(p) => p.clone(),
            Authentication::Failed(e) => {
                let refusal = Refusal::Unauthenticated(e.clone());
                return ResponseFuture::refused(request.refuse(refusal));
            }
            Authentication::None => match &self.anonymous {
                Some(anonymous) => anonymous.clone(),
                None => {
                    let refusal = Refusal::Unauthenticated(AuthError::MissingCredentials);
                    return ResponseFuture::refused(request.refuse(refusal));
                }
            },
        };
        // The request's span (a `TraceLayer` outside this one) names who is calling.
        tracing::Span::current().record("enduser.id", principal.id.as_str());
        request.set_principal(principal);
        ResponseFuture::passed(self.inner.call(request))
    }
}
