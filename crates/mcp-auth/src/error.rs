//! Why a request was refused.

/// The category of an [`AuthError`], as the original SDK's error hierarchy named them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// Who is calling could not be established (HTTP 401).
    Authentication,
    /// The caller is known but may not do this (HTTP 403).
    Authorization,
    /// The caller went over its quota (HTTP 429).
    RateLimited,
    /// A component the check needs (JWKS endpoint, introspection endpoint) failed (HTTP 503).
    Unavailable,
}

/// A refused or failed authentication or authorization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carried no credentials the authenticator understands.
    #[error("authentication required")]
    MissingCredentials,
    /// Credentials were presented but are not valid (wrong key, bad signature, wrong audience,
    /// ...). The reason is for logs; clients see only that the token is invalid.
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),
    /// The token has expired.
    #[error("the token has expired")]
    Expired,
    /// The principal lacks what the operation requires.
    #[error("insufficient permission: {required:?} required")]
    Forbidden {
        /// Every permission (or scope) the operation needs.
        required: Vec<String>,
    },
    /// Over quota; retry after this many seconds.
    #[error("rate limited; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request would be accepted.
        retry_after_secs: u64,
    },
    /// A component needed for the check is unavailable.
    #[error("authentication unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// The category.
    pub fn kind(&self) -> AuthErrorKind {
        match self {
            Self::MissingCredentials | Self::InvalidCredentials(_) | Self::Expired => {
                AuthErrorKind::Authentication
            }
            Self::Forbidden { .. } => AuthErrorKind::Authorization,
            Self::RateLimited { .. } => AuthErrorKind::RateLimited,
            Self::Unavailable(_) => AuthErrorKind::Unavailable,
        }
    }

    /// The HTTP status a transport answers with.
    pub fn http_status(&self) -> http::StatusCode {
        match self.kind() {
            AuthErrorKind::Authentication => http::StatusCode::UNAUTHORIZED,
            AuthErrorKind::Authorization => http::StatusCode::FORBIDDEN,
            AuthErrorKind::RateLimited => http::StatusCode::TOO_MANY_REQUESTS,
            AuthErrorKind::Unavailable => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable(_))
    }
}
