//! What can go wrong when calling a server.

use std::time::Duration;

use mcp_protocol::{ErrorObject, McpError};

/// The JSON-RPC codes with which servers built on this SDK refuse a request (its middleware:
/// `mcp_server::middleware::code`, `mcp_auth::jsonrpc_code`): `-31000` minus the HTTP status.
mod refusal {
    pub(super) const UNAUTHENTICATED: i64 = -31401;
    pub(super) const FORBIDDEN: i64 = -31403;
    pub(super) const RATE_LIMITED: i64 = -31429;
    pub(super) const UNAVAILABLE: i64 = -31503;
    pub(super) const TIMED_OUT: i64 = -31504;
}

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
    /// The server wants credentials (HTTP 401, or a refusal with code -31401).
    Authentication,
    /// The credentials do not allow this (HTTP 403, or -31403).
    Authorization,
    /// Too many requests (HTTP 429, or -31429); see [`ClientError::retry_after`].
    RateLimited,
    /// A tool ran and reported failure (`isError: true`); the multi-server client's calls
    /// return it as an error.
    Tool,
    /// A server configuration cannot be used (bad file, unset `${VAR}`, unknown transport, a
    /// URL that cannot be used).
    Configuration,
    /// The client refused to send: the server's circuit breaker is open, or the connection
    /// pool had no room in time. Also the server's own refusal (-31503: its circuit for the
    /// tool is open, it is at its concurrency limit).
    Unavailable,
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
    /// The connection cannot be set up as given: a URL or header that cannot be used. Of kind
    /// [`ErrorKind::Configuration`], not retryable. (Over HTTP the same arrives as
    /// [`ClientError::Http`] with `HttpError::InvalidUrl`, also of kind `Configuration`.)
    #[error("configuration: {0}")]
    Configuration(String),
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
                refusal::UNAUTHENTICATED => ErrorKind::Authentication,
                refusal::FORBIDDEN => ErrorKind::Authorization,
                refusal::RATE_LIMITED => ErrorKind::RateLimited,
                refusal::UNAVAILABLE => ErrorKind::Unavailable,
                refusal::TIMED_OUT => ErrorKind::Timeout,
                _ => ErrorKind::Protocol,
            },
            Self::Protocol(_) | Self::Incompatible(_) | Self::TooManyInputRounds(_) => {
                ErrorKind::Protocol
            }
            Self::TaskCancelled(_) => ErrorKind::Cancelled,
            Self::Configuration(_)
            | Self::Http(mcp_transport::http_client::HttpError::InvalidUrl(_)) => {
                ErrorKind::Configuration
            }
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
    /// 5xx), and a server's refusals that pass with time: over its rate limit, unavailable
    /// (open circuit, overload), timed out.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retryable(),
            Self::Server(e) => matches!(
                e.code,
                refusal::RATE_LIMITED | refusal::UNAVAILABLE | refusal::TIMED_OUT
            ),
            #[cfg(feature = "tls")]
            Self::Tls(_) => false,
            _ => matches!(self.kind(), ErrorKind::Transport | ErrorKind::Timeout),
        }
    }

    /// How long the server asked the caller to wait before trying again, when it said so:
    /// `data.retryAfterSecs` of a refusal (rate limited, unavailable).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Server(e) => e
                .data
                .as_ref()?
                .get("retryAfterSecs")?
                .as_u64()
                .map(Duration::from_secs),
            _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(code: i64, data: serde_json::Value) -> ClientError {
        ClientError::Server(ErrorObject {
            code,
            message: "refused".into(),
            data: Some(data),
        })
    }

    #[test]
    fn a_servers_refusals_have_their_own_kinds_and_the_passing_ones_are_retryable() {
        let cases = [
            (-31401, ErrorKind::Authentication, false),
            (-31403, ErrorKind::Authorization, false),
            (-31429, ErrorKind::RateLimited, true),
            (-31503, ErrorKind::Unavailable, true),
            (-31504, ErrorKind::Timeout, true),
            (-32602, ErrorKind::Validation, false),
            (-32603, ErrorKind::Server, false),
        ];
        for (code, kind, retryable) in cases {
            let e = refusal(code, json!({"reason": "x"}));
            assert_eq!((e.kind(), e.is_retryable()), (kind, retryable), "{code}");
        }
    }

    #[test]
    fn retry_after_is_read_from_the_refusal() {
        let e = refusal(
            -31429,
            json!({"reason": "rate_limited", "retryAfterSecs": 7}),
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(refusal(-31429, json!({})).retry_after(), None);
        assert_eq!(ClientError::Transport("x".into()).retry_after(), None);
    }

    #[test]
    fn a_url_that_cannot_be_used_is_a_configuration_error() {
        let http = ClientError::Http(mcp_transport::http_client::HttpError::InvalidUrl(
            "ftp://x".into(),
        ));
        let ws = ClientError::Configuration("ftp://x: not ws or wss".into());
        for e in [http, ws] {
            assert_eq!(
                (e.kind(), e.is_retryable()),
                (ErrorKind::Configuration, false)
            );
        }
    }
}
