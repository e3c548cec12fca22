//! What a layer answers when it refuses a request.

use std::time::Duration;

use mcp_auth::AuthError;
use mcp_protocol::McpError;
use mcp_protocol::error::ErrorObject;
use serde_json::{Map, Value, json};

/// The JSON-RPC codes of refusals.
///
/// They sit outside `-32768..=-32000`, where the MCP specification asks application errors to
/// be, and each is `-31000` minus the HTTP status the Streamable HTTP endpoint answers with, so
/// both sides read the same way (the first four are `mcp_auth::jsonrpc_code`'s). Every refusal
/// carries `data.reason` (see [`Refusal::reason`]).
pub mod code {
    /// No principal, or credentials that failed (HTTP 401).
    pub const UNAUTHENTICATED: i64 = mcp_auth::jsonrpc_code::UNAUTHENTICATED;
    /// The principal lacks a permission or scope the target requires (HTTP 403).
    /// `data.required` lists everything required (permissions, then scopes), `data.scopes`
    /// the OAuth scopes among them.
    pub const FORBIDDEN: i64 = mcp_auth::jsonrpc_code::FORBIDDEN;
    /// Over a rate limit (HTTP 429). `data.retryAfterSecs` says when to retry.
    pub const RATE_LIMITED: i64 = mcp_auth::jsonrpc_code::RATE_LIMITED;
    /// The tool's circuit is open, the server is at its concurrency limit, or a component
    /// authentication needs is down (HTTP 503). `data.retryAfterSecs` when known.
    pub const UNAVAILABLE: i64 = mcp_auth::jsonrpc_code::UNAVAILABLE;
    /// The request did not finish within its time limit (HTTP 504).
    pub const TIMED_OUT: i64 = -31504;
}

/// The category of a [`Refusal`], as the original SDK's error hierarchy named them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// Who is calling is not established.
    Authentication,
    /// The caller may not do this.
    Authorization,
    /// The caller is over its quota.
    RateLimited,
    /// The server will not run it now (open circuit, overload, authentication backend down).
    Unavailable,
    /// It took too long.
    Timeout,
}

/// A request a layer refused, typed. It reaches the client as a JSON-RPC error with one of the
/// [`code`]s, and over HTTP with the matching status (and `WWW-Authenticate` or `Retry-After`).
///
/// ```
/// use std::time::Duration;
/// use mcp_server::middleware::{Refusal, code};
///
/// let refusal = Refusal::RateLimited { retry_after: Duration::from_secs(12) };
/// assert_eq!(refusal.code(), code::RATE_LIMITED);
/// assert_eq!(refusal.http_status(), 429);
/// assert!(refusal.is_retryable());
/// let error = refusal.to_error_object();
/// assert_eq!(error.data.unwrap()["retryAfterSecs"], 12);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No principal, or the transport's credentials failed.
    #[error("{}", .0.public_message())]
    Unauthenticated(AuthError),
    /// The principal lacks what the target requires.
    #[error("forbidden: requires {}", required.join(", "))]
    Forbidden {
        /// Everything needed: the permissions, then the scopes.
        required: Vec<String>,
        /// Every OAuth scope needed (for the `insufficient_scope` challenge).
        scopes: Vec<String>,
    },
    /// Over a rate limit.
    #[error("rate limited: retry after {} s", ceil_secs(*retry_after))]
    RateLimited {
        /// When a request would be accepted.
        retry_after: Duration,
    },
    /// The tool's circuit breaker is open: it failed too often; it is tried again after
    /// `retry_after`.
    #[error("circuit open for tool {tool}: retry after {} s", ceil_secs(*retry_after))]
    CircuitOpen {
        /// The tool.
        tool: String,
        /// When the breaker lets a probe through.
        retry_after: Duration,
    },
    /// At the concurrency limit for longer than the layer waits.
    #[error("overloaded: too many requests in progress")]
    Overloaded,
    /// The request did not finish in time (it was stopped).
    #[error("timed out after {} ms", .after.as_millis())]
    TimedOut {
        /// The limit.
        after: Duration,
    },
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Refusal {
    /// The category.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::Unauthenticated(AuthError::Unavailable(_)) => RefusalKind::Unavailable,
            Self::Unauthenticated(AuthError::RateLimited { .. }) => RefusalKind::RateLimited,
            Self::Unauthenticated(AuthError::Forbidden { .. }) | Self::Forbidden { .. } => {
                RefusalKind::Authorization
            }
            Self::Unauthenticated(_) => RefusalKind::Authentication,
            Self::RateLimited { .. } => RefusalKind::RateLimited,
            Self::CircuitOpen { .. } | Self::Overloaded => RefusalKind::Unavailable,
            Self::TimedOut { .. } => RefusalKind::Timeout,
        }
    }

    /// The short label in `data.reason` and in the metrics: `unauthenticated`, `forbidden`,
    /// `rate_limited`, `circuit_open`, `overloaded`, `timed_out`, `auth_unavailable`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unauthenticated(AuthError::Unavailable(_)) => "auth_unavailable",
            Self::Unauthenticated(AuthError::RateLimited { .. }) | Self::RateLimited { .. } => {
                "rate_limited"
            }
            Self::Unauthenticated(AuthError::Forbidden { .. }) | Self::Forbidden { .. } => {
                "forbidden"
            }
            Self::Unauthenticated(_) => "unauthenticated",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::Overloaded => "overloaded",
            Self::TimedOut { .. } => "timed_out",
        }
    }

    /// The HTTP status the Streamable HTTP endpoint answers with.
    pub fn http_status(&self) -> u16 {
        match self.kind() {
            RefusalKind::Authentication => 401,
            RefusalKind::Authorization => 403,
            RefusalKind::RateLimited => 429,
            RefusalKind::Unavailable => 503,
            RefusalKind::Timeout => 504,
        }
    }

    /// The JSON-RPC code (see [`code`]).
    pub fn code(&self) -> i64 {
        -31000 - i64::from(self.http_status())
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            RefusalKind::RateLimited | RefusalKind::Unavailable | RefusalKind::Timeout
        )
    }

    /// When to retry, when the layer knows.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::CircuitOpen { retry_after, .. } => {
                Some(*retry_after)
            }
            Self::Unauthenticated(AuthError::RateLimited { retry_after_secs }) => {
                Some(Duration::from_secs(*retry_after_secs))
            }
            Self::Overloaded => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// The JSON-RPC error object.
    pub fn to_error_object(&self) -> ErrorObject {
        let mut data = Map::new();
        data.insert("reason".into(), Value::from(self.reason()));
        if let Some(after) = self.retry_after() {
            data.insert("retryAfterSecs".into(), Value::from(ceil_secs(after)));
        }
        match self {
            Self::Forbidden { required, scopes } => {
                data.insert("required".into(), json!(required));
                data.insert("scopes".into(), json!(scopes));
            }
            Self::Unauthenticated(AuthError::Forbidden { required }) => {
                data.insert("required".into(), json!(required));
            }
            Self::CircuitOpen { tool, .. } => {
                data.insert("tool".into(), Value::from(tool.as_str()));
            }
            _ => {}
        }
        ErrorObject::new(self.code(), self.to_string()).with_data(Value::Object(data))
    }

    /// As a protocol error.
    pub fn to_mcp_error(&self) -> McpError {
        McpError::Other(self.to_error_object())
    }

    /// Reads a refusal back from a JSON-RPC error (what a client got); `None` for other errors.
    pub fn from_error_object(error: &ErrorObject) -> Option<Self> {
        let data = error.data.as_ref();
        let retry_after = || {
            Duration::from_secs(
                data.and_then(|d| d.get("retryAfterSecs"))
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
            )
        };
        let strings = |key: &str| -> Vec<String> {
            data.and_then(|d| d.get(key))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let reason = data.and_then(|d| d.get("reason")).and_then(Value::as_str);
        Some(match (error.code, reason) {
            (code::UNAUTHENTICATED, _) => {
                Self::Unauthenticated(AuthError::InvalidCredentials(error.message.clone()))
            }
            (code::FORBIDDEN, _) => Self::Forbidden {
                required: strings("required"),
                scopes: strings("scopes"),
            },
            (code::RATE_LIMITED, _) => Self::RateLimited {
                retry_after: retry_after(),
            },
            (code::UNAVAILABLE, Some("circuit_open")) => Self::CircuitOpen {
                tool: data
                    .and_then(|d| d.get("tool"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                retry_after: retry_after(),
            },
            (code::UNAVAILABLE, Some("auth_unavailable")) => {
                Self::Unauthenticated(AuthError::Unavailable(error.message.clone()))
            }
            (code::UNAVAILABLE, _) => Self::Overloaded,
            (code::TIMED_OUT, _) => Self::TimedOut {
                after: Duration::ZERO,
            },
            _ => return None,
        })
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Forbidden { required } => Self::Forbidden {
                required,
                scopes: Vec::new(),
            },
            AuthError::RateLimited { retry_after_secs } => Self::RateLimited {
                retry_after: Duration::from_secs(retry_after_secs),
            },
            other => Self::Unauthenticated(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_status() {
        let cases = [
            (
                Refusal::Unauthenticated(AuthError::MissingCredentials),
                401,
                code::UNAUTHENTICATED,
            ),
            (
                Refusal::Forbidden {
                    required: vec!["tools.call.x".into()],
                    scopes: vec![],
                },
                403,
                code::FORBIDDEN,
            ),
            (
                Refusal::RateLimited {
                    retry_after: Duration::from_millis(1500),
                },
                429,
                code::RATE_LIMITED,
            ),
            (
                Refusal::CircuitOpen {
                    tool: "t".into(),
                    retry_after: Duration::from_secs(3),
                },
                503,
                code::UNAVAILABLE,
            ),
            (Refusal::Overloaded, 503, code::UNAVAILABLE),
            (
                Refusal::TimedOut {
                    after: Duration::from_secs(1),
                },
                504,
                code::TIMED_OUT,
            ),
        ];
        for (refusal, status, code) in cases {
            assert_eq!(refusal.http_status(), status, "{refusal}");
            assert_eq!(refusal.code(), code, "{refusal}");
            let object = refusal.to_error_object();
            assert_eq!(object.code, code);
            let back = Refusal::from_error_object(&object).expect("a refusal");
            assert_eq!(back.reason(), refusal.reason());
        }
    }

    #[test]
    fn invalid_credentials_do_not_leak_the_reason() {
        let r = Refusal::Unauthenticated(AuthError::InvalidCredentials(
            "signature does not verify with key k1".into(),
        ));
        assert!(!r.to_string().contains("k1"));
        assert_eq!(r.reason(), "unauthenticated");
    }

    #[test]
    fn retry_after_rounds_up() {
        let r = Refusal::RateLimited {
            retry_after: Duration::from_millis(1200),
        };
        assert_eq!(r.to_error_object().data.unwrap()["retryAfterSecs"], 2);
    }
}
