use std::sync::Arc;

use mcp_auth::Principal;
use tower::Layer;

use super::Auth;

/// Makes the transport's principal the request's; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct AuthLayer {
    /// Given to requests without a principal; `None`: they are refused.
    pub(super) anonymous: Option<Arc<Principal>>,
}

impl AuthLayer {
    /// Requests without a principal are refused (-31401 / HTTP 401).
    pub fn required() -> Self {
        Self { anonymous: None }
    }

    /// Requests without a principal get the anonymous one (no permissions).
    pub fn optional() -> Self {
        Self::with_anonymous(Principal::anonymous())
    }

    /// Requests without a principal get `principal` (for example an anonymous principal with
    /// read permissions).
    pub fn with_anonymous(principal: Principal) -> Self {
        Self {
            anonymous: Some(Arc::new(principal)),
        }
    }
}

impl AuthLayer {
    /// Authenticates `request` as this layer's service does.
    pub(crate) fn authenticate(
        &self,
        request: &mut crate::request::McpRequest,
    ) -> Result<(), crate::middleware::Refusal> {
        super::service::authenticate(self.anonymous.as_ref(), request)
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            layer: self.clone(),
        }
    }
}
