//! What can go wrong when calling a server.

use std::time::Duration;

use mcp_protocol::{ErrorObject, McpError};

/// The categories errors fall into, for retry and reporting decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection failed or closed.
    Transport,
    /// The request took too long.
    Timeout,
    /// The caller cancelled.
    Cancelled,
    /// The server answered with a JSON-RPC error about the request itself.
    Validation,
    /// A resource was not found.
    Resource,
    /// The peers do not speak a common protocol, or a message broke the protocol.
    Protocol,
    /// The server failed internally.
    Server,
    /// The server wants credentials (HTTP 401).
    Authentication,
    /// The credentials do not allow this (HTTP 403).
    Authorization,
    /// Too many requests (HTTP 429).
    RateLimited,
}

/// An error from a client call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The connection failed or closed; pending requests fail with this at once.
    #[error("transport: {0}")]
    Transport(String),
    /// No answer in time. The request was cancelled at the server.
    #[error("{method} timed out after {after:?}")]
    Timeout {
        /// The method.
        method: String,
        /// How long the client waited.
        after: Duration,
    },
    /// The server answered with a JSON-RPC error (kept as sent; see [`ClientError::mcp_error`]).
    #[error("server error: {0}")]
    Server(ErrorObject),
    /// The server's answer broke the protocol (a result that does not parse, ...).
    #[error("protocol: {0}")]
    Protocol(String),
    /// No protocol revision in common.
    #[error("incompatible server: {0}")]
    Incompatible(String),
    /// An HTTP exchange gave no JSON-RPC answer (an error status, an oversized body, ...).
    #[error("http: {0}")]
    Http(mcp_transport::http_client::HttpError),
    /// The server kept asking for input past the configured number of rounds.
    #[error("the server asked for input {0} times; giving up")]
    TooManyInputRounds(usize),
    /// The task running the call was cancelled (tasks extension): by `tasks/cancel` from
    /// someone holding its id, or by the server.
    #[error("the task {0} was cancelled")]
    TaskCancelled(String),
    /// TLS failed (`https://`, `wss://`): an untrusted certificate, one for another host, a
    /// server that does not speak TLS, unusable TLS options. Of kind
    /// [`ErrorKind::Transport`] but not retryable.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(mcp_transport::tls::TlsError),
}

impl ClientError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Transport(_) => ErrorKind::Transport,
            #[cfg(feature = "tls")]
            Self::Tls(_) => ErrorKind::Transport,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Server(e) => match e.code {
                mcp_protocol::error::code::RESOURCE_NOT_FOUND => ErrorKind::Resource,
                mcp_protocol::error::code::INVALID_PARAMS
                    if e.data.as_ref().is_some_and(|d| d.get("uri").is_some()) =>
                {
                    ErrorKind::Resource
                }
                mcp_protocol::error::code::INVALID_PARAMS
                | mcp_protocol::error::code::METHOD_NOT_FOUND
                | mcp_protocol::error::code::INVALID_REQUEST => ErrorKind::Validation,
                mcp_protocol::error::code::INTERNAL_ERROR => ErrorKind::Server,
                _ => ErrorKind::Protocol,
            },
            Self::Protocol(_) | Self::Incompatible(_) | Self::TooManyInputRounds(_) => {
                ErrorKind::Protocol
            }
            Self::TaskCancelled(_) => ErrorKind::Cancelled,
            Self::Http(e) => match e.status() {
                Some(401) => ErrorKind::Authentication,
                Some(403) => ErrorKind::Authorization,
                Some(429) => ErrorKind::RateLimited,
                Some(408) => ErrorKind::Timeout,
                Some(s) if s >= 500 => ErrorKind::Server,
                Some(_) => ErrorKind::Protocol,
                None if e.is_retryable() => ErrorKind::Transport,
                None => ErrorKind::Protocol,
            },
        }
    }

    /// Whether trying again may succeed: transport failures and timeouts (over HTTP also 429 and
    /// 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retryable(),
            #[cfg(feature = "tls")]
            Self::Tls(_) => false,
            _ => matches!(self.kind(), ErrorKind::Transport | ErrorKind::Timeout),
        }
    }

    /// The JSON-RPC code, for server errors.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Server(e) => Some(e.code),
            _ => None,
        }
    }

    /// The server error in its typed form.
    pub fn mcp_error(&self) -> Option<McpError> {
        match self {
            Self::Server(e) => Some(McpError::from_error_object(e.clone())),
            _ => None,
        }
    }
}
