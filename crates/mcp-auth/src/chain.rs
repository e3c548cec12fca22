//! Several authenticators tried in order.

use std::sync::Arc;

use crate::authenticator::{AuthRequest, Authenticator, BoxFuture};
use crate::credential::refuse_query_credentials;
use crate::error::AuthError;
use crate::principal::Principal;

/// Tries authenticators in order.
///
/// - The first one that authenticates wins.
/// - [`AuthError::MissingCredentials`] (the request carries nothing that one understands) moves
///   on to the next.
/// - Any other error stops the chain: credentials were presented and are bad, and trying them
///   elsewhere would only give an attacker more chances (and a slower, noisier refusal).
/// - When every authenticator found nothing, the chain answers
///   [`AuthError::MissingCredentials`], or the anonymous principal if one was set with
///   [`allow_anonymous`](Self::allow_anonymous).
///
/// Order matters where two authenticators read the same header: a JWT authenticator passes on
/// bearer tokens that are not JWTs, while static-token, introspection and bearer-accepting
/// API-key authenticators claim every bearer token, so at most one of those goes last.
///
/// ```
/// use std::sync::Arc;
/// use mcp_auth::{ApiKeyAuthenticator, AuthChain, AuthError, AuthMethod, AuthRequest,
///     Authenticator, BearerTokenAuthenticator, Principal};
///
/// let chain = AuthChain::new()
///     .with(ApiKeyAuthenticator::new()
///         .key("key-0123456789abcdef", Principal::new("svc", AuthMethod::ApiKey)).unwrap())
///     .with(BearerTokenAuthenticator::new()
///         .token("tok-0123456789abcdef", Principal::new("ui", AuthMethod::Bearer)).unwrap());
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let mut headers = http::HeaderMap::new();
/// headers.insert("authorization", "Bearer tok-0123456789abcdef".parse().unwrap());
/// assert_eq!(rt.block_on(chain.authenticate(AuthRequest::from_headers(&headers))).unwrap().id, "ui");
/// headers.clear();
/// assert_eq!(rt.block_on(chain.authenticate(AuthRequest::from_headers(&headers))),
///     Err(AuthError::MissingCredentials));
/// ```
#[derive(Debug, Clone, Default)]
pub struct AuthChain {
    authenticators: Vec<Arc<dyn Authenticator>>,
    anonymous: Option<Arc<Principal>>,
}

impl AuthChain {
    /// An empty chain (refuses everything until authenticators are added).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an authenticator.
    pub fn with(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticators.push(Arc::new(authenticator));
        self
    }

    /// Appends a shared authenticator.
    pub fn with_shared(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticators.push(authenticator);
        self
    }

    /// Answers requests without credentials with this principal instead of refusing them.
    /// Requests with bad credentials are still refused.
    pub fn allow_anonymous(mut self, principal: Principal) -> Self {
        self.anonymous = Some(Arc::new(principal));
        self
    }

    /// How many authenticators the chain holds.
    pub fn len(&self) -> usize {
        self.authenticators.len()
    }

    /// Whether the chain holds no authenticator.
    pub fn is_empty(&self) -> bool {
        self.authenticators.is_empty()
    }

    async fn run(&self, request: AuthRequest<'_>) -> Result<Arc<Principal>, AuthError> {
        refuse_query_credentials(request.uri)?;
        for authenticator in &self.authenticators {
            match authenticator.authenticate(request).await {
                Err(AuthError::MissingCredentials) => {}
                outcome => return outcome,
            }
        }
        self.anonymous.clone().ok_or(AuthError::MissingCredentials)
    }
}

impl Authenticator for AuthChain {
    fn authenticate<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Arc<Principal>, AuthError>> {
        Box::pin(self.run(request))
    }
}
