//! What a multi-server call can fail with: always typed, always naming the server.

use std::time::Duration;

use mcp_protocol::types::CallToolResult;

use crate::config::ConfigError;
use crate::{ClientError, ErrorKind};

/// An error of the multi-server client. `kind()` gives its category and `is_retryable()`
/// whether trying again later may succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MultiError {
    /// Connecting or the request failed (see the [`ClientError`]).
    #[error("server {server:?}: {source}")]
    Client {
        /// The server's name.
        server: String,
        /// What went wrong.
        #[source]
        source: ClientError,
    },
    /// The tool ran and reported failure (`isError: true`). Retryable only when the server
    /// marked the result so (`"_meta": {"retryable": true}`).
    #[error("server {server:?}: tool {tool:?} failed: {message}")]
    Tool {
        /// The server's name.
        server: String,
        /// The tool.
        tool: String,
        /// The text of the result's content.
        message: String,
        /// The whole result, content and structured content included.
        result: Box<CallToolResult>,
        /// Whether the server marked the failure as worth retrying.
        retryable: bool,
    },
    /// The server's circuit breaker is open: nothing was sent.
    #[error("server {server:?}: circuit breaker open; calls resume in {retry_after:?}")]
    CircuitOpen {
        /// The server's name.
        server: String,
        /// How long until the breaker lets a probe through (zero: probes are in flight).
        retry_after: Duration,
    },
    /// The pool was full of busy connections for the whole acquire timeout.
    #[error("server {server:?}: no room in the connection pool after {waited:?}")]
    PoolExhausted {
        /// The server's name.
        server: String,
        /// How long the call waited.
        waited: Duration,
    },
    /// A configuration cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The metrics could not be registered (a name already taken in the registry).
    #[error("registering the metrics failed: {0}")]
    Metrics(String),
    /// The multi-server client was closed.
    #[error("the multi-server client is closed")]
    Closed,
}

impl MultiError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Client { source, .. } => source.kind(),
            Self::Tool { .. } => ErrorKind::Tool,
            Self::CircuitOpen { .. } | Self::PoolExhausted { .. } | Self::Closed => {
                ErrorKind::Unavailable
            }
            Self::Config(_) | Self::Metrics(_) => ErrorKind::Configuration,
        }
    }

    /// Whether trying again (later) may succeed: retryable client errors (transport,
    /// timeouts, 429, 5xx), tool failures the server marked retryable, an open breaker and a
    /// full pool.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Client { source, .. } => source.is_retryable(),
            Self::Tool { retryable, .. } => *retryable,
            Self::CircuitOpen { .. } | Self::PoolExhausted { .. } => true,
            Self::Config(_) | Self::Metrics(_) | Self::Closed => false,
        }
    }

    /// How long to wait before trying again, when known: the server's `retryAfterSecs`, or
    /// until an open breaker lets calls through.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Client { source, .. } => source.retry_after(),
            Self::CircuitOpen { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The server the error is about.
    pub fn server(&self) -> Option<&str> {
        match self {
            Self::Client { server, .. }
            | Self::Tool { server, .. }
            | Self::CircuitOpen { server, .. }
            | Self::PoolExhausted { server, .. } => Some(server),
            Self::Config(_) | Self::Metrics(_) | Self::Closed => None,
        }
    }

    /// The JSON-RPC code, for errors the server answered.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Client { source, .. } => source.code(),
            _ => None,
        }
    }

    /// The client error underneath, if any.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            Self::Client { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The label of a kind in the `failures_total` metric.
pub(crate) fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Transport => "transport",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Validation => "validation",
        ErrorKind::Resource => "resource",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Server => "server",
        ErrorKind::Authentication => "authentication",
        ErrorKind::Authorization => "authorization",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Tool => "tool",
        ErrorKind::Configuration => "configuration",
        ErrorKind::Unavailable => "unavailable",
    }
}
