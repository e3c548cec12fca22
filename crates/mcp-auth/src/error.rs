//! Why a request was refused, and why a configuration was.

/// The JSON-RPC error codes for refusals on transports without HTTP status codes (stdio,
/// WebSocket messages).
///
/// MCP reserves `-32020..=-32099` for the spec and asks applications to stay outside
/// `-32768..=-32000`, and no revision names codes for authentication, so these sit just outside
/// that range and end in the HTTP status they stand for: `-31000 - status`.
pub mod jsonrpc_code {
    /// Authentication required or failed (HTTP 401).
    pub const UNAUTHENTICATED: i64 = -31401;
    /// The principal may not do this (HTTP 403).
    pub const FORBIDDEN: i64 = -31403;
    /// Over quota (HTTP 429); `data.retryAfterSecs` says when to retry.
    pub const RATE_LIMITED: i64 = -31429;
    /// A component the check needs is unavailable (HTTP 503).
    pub const UNAVAILABLE: i64 = -31503;
}

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

    /// The JSON-RPC error code a transport without HTTP statuses answers with (see
    /// [`jsonrpc_code`]).
    ///
    /// ```
    /// use mcp_auth::AuthError;
    /// assert_eq!(AuthError::RateLimited { retry_after_secs: 3 }.jsonrpc_code(), -31429);
    /// assert_eq!(AuthError::Expired.jsonrpc_code(), -31401);
    /// ```
    pub fn jsonrpc_code(&self) -> i64 {
        match self.kind() {
            AuthErrorKind::Authentication => jsonrpc_code::UNAUTHENTICATED,
            AuthErrorKind::Authorization => jsonrpc_code::FORBIDDEN,
            AuthErrorKind::RateLimited => jsonrpc_code::RATE_LIMITED,
            AuthErrorKind::Unavailable => jsonrpc_code::UNAVAILABLE,
        }
    }

    /// The JSON-RPC error `data`: `{"retryAfterSecs": n}` for [`RateLimited`](Self::RateLimited),
    /// `{"required": [...]}` for [`Forbidden`](Self::Forbidden), nothing otherwise.
    pub fn jsonrpc_data(&self) -> Option<serde_json::Value> {
        match self {
            Self::RateLimited { retry_after_secs } => {
                Some(serde_json::json!({ "retryAfterSecs": retry_after_secs }))
            }
            Self::Forbidden { required } => Some(serde_json::json!({ "required": required })),
            _ => None,
        }
    }

    /// How long to wait before retrying, for [`RateLimited`](Self::RateLimited).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::RateLimited { retry_after_secs } => {
                Some(std::time::Duration::from_secs(*retry_after_secs))
            }
            _ => None,
        }
    }

    /// A message safe to show the caller: the same for every invalid credential, so a refusal
    /// does not tell an attacker which check failed (the [`Display`](std::fmt::Display) form,
    /// with the reason, is for the server's logs).
    ///
    /// ```
    /// use mcp_auth::AuthError;
    /// let e = AuthError::InvalidCredentials("signature does not verify".into());
    /// assert_eq!(e.public_message(), "invalid credentials");
    /// ```
    pub fn public_message(&self) -> String {
        match self {
            Self::MissingCredentials => "authentication required".to_owned(),
            Self::InvalidCredentials(_) => "invalid credentials".to_owned(),
            Self::Expired => "the token has expired".to_owned(),
            Self::Forbidden { .. } | Self::RateLimited { .. } => self.to_string(),
            Self::Unavailable(_) => "authentication is temporarily unavailable".to_owned(),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Self::InvalidCredentials(reason.into())
    }
}

/// A configuration an authenticator, a role table or a rate limiter refused at construction
/// (a weak API key, a malformed hash, a key whose algorithm does not fit it, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid auth configuration: {0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
