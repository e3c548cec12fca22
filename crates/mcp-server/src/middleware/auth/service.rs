use std::sync::Arc;
use std::task::{Context, Poll};

use mcp_auth::{AuthError, Principal};
use tower::Service;

use super::{AuthLayer, ResponseFuture};
use crate::middleware::Refusal;
use crate::request::{Authentication, McpRequest, McpResponse};

/// The service of [`AuthLayer`](super::AuthLayer).
#[derive(Debug, Clone)]
pub struct Auth<S> {
    pub(super) inner: S,
    pub(super) layer: AuthLayer,
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
        match self.layer.authenticate(&mut request) {
            Ok(()) => ResponseFuture::passed(self.inner.call(request)),
            Err(refusal) => ResponseFuture::refused(request.refuse(refusal)),
        }
    }
}

/// Puts the request's principal (the one the transport established, else `anonymous`) in
/// the request; refuses a request without one.
pub(super) fn authenticate(
    anonymous: Option<&Arc<Principal>>,
    request: &mut McpRequest,
) -> Result<(), Refusal> {
    let principal = match request.authentication() {
        Authentication::Principal(p) => p.clone(),
        Authentication::Failed(e) => return Err(Refusal::Unauthenticated(e.clone())),
        Authentication::None => match anonymous {
            Some(anonymous) => anonymous.clone(),
            None => return Err(Refusal::Unauthenticated(AuthError::MissingCredentials)),
        },
    };
    // The request's span (a `TraceLayer` outside this one) names who is calling.
    tracing::Span::current().record("enduser.id", principal.id.as_str());
    request.set_principal(principal);
    Ok(())
}
