//! Why authorizing with an OAuth authorization server failed.

use super::http::HttpClientError;

/// The category of an [`OAuthClientError`], in the terms of the SDK's error hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthClientErrorKind {
    /// A server could not be reached or did not answer in time.
    Transport,
    /// The metadata needed to authorize could not be found.
    Discovery,
    /// A server's answer failed a check that protects the user (a resource or issuer that
    /// does not match, a missing PKCE method, a wrong `state` or `iss`): never retried.
    Validation,
    /// The authorization server or the user refused (an error on the callback, a refused
    /// registration or token request).
    Authorization,
    /// No way to obtain a client identity for the authorization server.
    Registration,
    /// The credential store failed.
    Store,
    /// Waiting for the user's authorization took too long.
    Timeout,
}

/// Why authorizing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthClientError {
    /// The client was configured with something it cannot use.
    #[error("invalid OAuth client configuration: {0}")]
    Config(String),
    /// An HTTP exchange with a metadata, registration or token endpoint failed.
    #[error(transparent)]
    Http(#[from] HttpClientError),
    /// No protected-resource metadata and no authorization server could be found.
    #[error("authorization discovery failed: {0}")]
    Discovery(String),
    /// A metadata document could not be read.
    #[error("invalid metadata at {url}: {reason}")]
    InvalidMetadata {
        /// Where the document came from.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The protected-resource metadata names a resource other than the server being called
    /// (RFC 9728 section 3.3): a token obtained for it could be replayed elsewhere.
    #[error("the protected-resource metadata names {found:?}, not the server {expected:?}")]
    ResourceMismatch {
        /// The MCP server's URL.
        expected: String,
        /// The `resource` of the metadata.
        found: String,
    },
    /// The authorization server metadata names another issuer than the one it was fetched for
    /// (RFC 8414 section 3.3).
    #[error("the authorization server metadata names the issuer {found:?}, not {expected:?}")]
    IssuerMismatch {
        /// The issuer the metadata URL was built from.
        expected: String,
        /// The `issuer` of the document.
        found: String,
    },
    /// The authorization server does not advertise PKCE with S256.
    #[error("the authorization server {issuer} does not advertise PKCE with S256")]
    PkceNotSupported {
        /// The authorization server.
        issuer: String,
    },
    /// No pre-registered client, no usable Client ID Metadata Document and no registration
    /// endpoint for this authorization server.
    #[error("no way to register with the authorization server {issuer}: {reason}")]
    NoRegistration {
        /// The authorization server.
        issuer: String,
        /// What was missing.
        reason: String,
    },
    /// Dynamic client registration was refused.
    #[error("client registration at {issuer} failed: {reason}")]
    Registration {
        /// The authorization server.
        issuer: String,
        /// The server's error, or what was wrong with its answer.
        reason: String,
    },
    /// The callback's `state` is not the one sent.
    #[error("the authorization response's state does not match the request")]
    StateMismatch,
    /// The authorization server advertises the `iss` response parameter (RFC 9207) but the
    /// callback has none.
    #[error("the authorization response lacks the iss parameter its server advertises")]
    IssMissing,
    /// The callback's `iss` is not the issuer the request went to (RFC 9207): a mix-up
    /// attack, or a misconfigured server. The response is discarded unread.
    #[error("the authorization response comes from {found:?}, not {expected:?}")]
    IssMismatch {
        /// The issuer the authorization request went to.
        expected: String,
        /// The `iss` of the callback.
        found: String,
    },
    /// The authorization server answered the authorization request with an error.
    #[error("authorization refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    AuthorizationDenied {
        /// The OAuth error code (`access_denied`, ...).
        error: String,
        /// The server's description.
        description: Option<String>,
    },
    /// The callback carries neither a code nor an error.
    #[error("the authorization response carries no code")]
    MissingCode,
    /// The token endpoint refused or answered something unusable.
    #[error("token request failed: {0}")]
    Token(String),
    /// The redirect handler failed.
    #[error("redirect handler: {0}")]
    Redirect(String),
    /// Waiting for the authorization callback took longer than allowed.
    #[error("no authorization callback within {0:?}")]
    CallbackTimeout(std::time::Duration),
    /// The server asked for more scopes again after as many step-ups as allowed.
    #[error("the server still refuses the scopes {scopes:?} after {attempts} step-up attempts")]
    StepUpLimit {
        /// The scopes last requested.
        scopes: String,
        /// The step-ups made for them.
        attempts: u32,
    },
    /// The credential store failed.
    #[error("credential store: {0}")]
    Store(String),
}

impl OAuthClientError {
    /// The category.
    pub fn kind(&self) -> OAuthClientErrorKind {
        use OAuthClientErrorKind as K;
        match self {
            Self::Http(HttpClientError::Timeout { .. }) => K::Timeout,
            Self::Http(_) => K::Transport,
            Self::Config(_) | Self::Discovery(_) | Self::InvalidMetadata { .. } => K::Discovery,
            Self::ResourceMismatch { .. }
            | Self::IssuerMismatch { .. }
            | Self::PkceNotSupported { .. }
            | Self::StateMismatch
            | Self::IssMissing
            | Self::IssMismatch { .. } => K::Validation,
            Self::AuthorizationDenied { .. }
            | Self::MissingCode
            | Self::Token(_)
            | Self::Redirect(_)
            | Self::StepUpLimit { .. } => K::Authorization,
            Self::NoRegistration { .. } | Self::Registration { .. } => K::Registration,
            Self::CallbackTimeout(_) => K::Timeout,
            Self::Store(_) => K::Store,
        }
    }

    /// Whether trying again later may succeed: transport failures and timeouts, not refusals
    /// or failed checks.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            OAuthClientErrorKind::Transport | OAuthClientErrorKind::Timeout
        )
    }

    /// The HTTP status a server in front of this client would answer with: 401 for a
    /// failed authorization, 502 when an upstream server failed, 504 for a timeout.
    pub fn http_status(&self) -> http::StatusCode {
        match self.kind() {
            OAuthClientErrorKind::Transport | OAuthClientErrorKind::Discovery => {
                http::StatusCode::BAD_GATEWAY
            }
            OAuthClientErrorKind::Timeout => http::StatusCode::GATEWAY_TIMEOUT,
            OAuthClientErrorKind::Store => http::StatusCode::INTERNAL_SERVER_ERROR,
            _ => http::StatusCode::UNAUTHORIZED,
        }
    }
}
