//! Exit codes and the error report: what went wrong, as a code a script can branch on and a
//! message (or, with `--format json`, a JSON line) on stderr.
//!
//! Codes 3, 4 and 5 mean what they mean for the MCP Inspector's CLI, so scripts written for one
//! read the other.

use mcp_auth::jsonrpc_code;
use mcp_client::{ClientError, ErrorKind};
use serde_json::{Value, json};

/// Why `mcp` exits; the discriminant is the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Done.
    Ok = 0,
    /// A failure none of the others names: the server answered an HTTP error without a JSON-RPC
    /// one (5xx, 429), writing the output failed, ...
    Failed = 1,
    /// Bad command line or input: an unknown flag, an argument the tool's schema does not take,
    /// invalid JSON, an unknown server name, an unreadable config file.
    Usage = 2,
    /// The server wants credentials, or refused the ones given (HTTP 401 or 403).
    AuthRequired = 3,
    /// The server could not be reached or started, or the connection broke.
    Unreachable = 4,
    /// The tool ran and reported failure (`isError: true`); its result is printed.
    ToolError = 5,
    /// The server answered with a JSON-RPC error (unknown tool, invalid params, resource not
    /// found, ...) or broke the protocol, or no protocol revision is shared.
    Protocol = 6,
    /// No answer within `--timeout`; the request was cancelled at the server.
    Timeout = 7,
    /// Over the server's rate limit (HTTP 429, or JSON-RPC -31429): try again later (the JSON
    /// report carries the server's `retryAfterSecs` when it gave one).
    RateLimited = 8,
    /// Interrupted (Ctrl-C or SIGTERM): the call in flight was cancelled at the server and a
    /// stdio server was shut down. 128 + SIGINT, as shells report it.
    Interrupted = 130,
}

impl Exit {
    /// The short name in the JSON error report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "error",
            Self::Usage => "usage",
            Self::AuthRequired => "auth_required",
            Self::Unreachable => "unreachable",
            Self::ToolError => "tool_error",
            Self::Protocol => "protocol",
            Self::Timeout => "timeout",
            Self::RateLimited => "rate_limited",
            Self::Interrupted => "interrupted",
        }
    }

    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// A failure on its way to stderr and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The exit code.
    pub(crate) exit: Exit,
    /// What to tell the user.
    pub(crate) message: String,
    /// Details for the JSON report (`status`, `jsonrpcCode`, `data`, `kind`).
    pub(crate) details: serde_json::Map<String, Value>,
}

impl Failure {
    /// A failure with a message and no details.
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            details: serde_json::Map::new(),
        }
    }

    /// A usage error.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// The report as one JSON object: `{"error": {"code", "exitCode", "message", ...}}`.
    pub(crate) fn to_json(&self) -> Value {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), json!(self.exit.name()));
        error.insert("exitCode".into(), json!(self.exit.code()));
        error.insert("message".into(), json!(self.message));
        error.extend(self.details.clone());
        json!({ "error": error })
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        let kind = e.kind();
        let exit = match (kind, e.code()) {
            // The auth layers' JSON-RPC codes (stdio, or a body that carries one).
            (_, Some(jsonrpc_code::UNAUTHENTICATED | jsonrpc_code::FORBIDDEN)) => {
                Exit::AuthRequired
            }
            (_, Some(jsonrpc_code::RATE_LIMITED)) | (ErrorKind::RateLimited, _) => {
                Exit::RateLimited
            }
            (_, Some(jsonrpc_code::UNAVAILABLE)) => Exit::Failed,
            (ErrorKind::Authentication | ErrorKind::Authorization, _) => Exit::AuthRequired,
            (ErrorKind::Transport, _) => Exit::Unreachable,
            (ErrorKind::Timeout, _) => Exit::Timeout,
            (ErrorKind::Cancelled, _) => Exit::Interrupted,
            (ErrorKind::Validation | ErrorKind::Resource | ErrorKind::Protocol, _) => {
                Exit::Protocol
            }
            // A JSON-RPC error is the server's answer about the request; an HTTP 5xx without
            // one is a failure of the server or its proxy.
            (ErrorKind::Server, Some(_)) => Exit::Protocol,
            _ => Exit::Failed,
        };
        let mut message = e.to_string();
        if e.code() == Some(mcp_protocol::error::code::MISSING_REQUIRED_CLIENT_CAPABILITY) {
            // A 2026-07-28 server names what it needed; say how to give it.
            message.push_str(" (give --sampling-command to offer sampling, --root to offer roots)");
        }
        let mut failure = Self::new(exit, message);
        failure
            .details
            .insert("kind".into(), json!(format!("{kind:?}").to_lowercase()));
        if let ClientError::Http(h) = &e
            && let Some(status) = h.status()
        {
            failure.details.insert("status".into(), json!(status));
        }
        if let Some(object) = mcp_client::error_object(&e) {
            failure
                .details
                .insert("jsonrpcCode".into(), json!(object.code));
            if let Some(data) = &object.data {
                failure.details.insert("data".into(), data.clone());
            }
        }
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_map_to_their_codes() {
        let unreachable = ClientError::Transport("could not reach the server".into());
        assert_eq!(Failure::from(unreachable).exit, Exit::Unreachable);
        let auth = ClientError::Http(mcp_client::HttpError::Status {
            status: 401,
            body: String::new(),
            www_authenticate: Some("Bearer".into()),
        });
        let report = Failure::from(auth);
        assert_eq!(report.exit, Exit::AuthRequired);
        assert_eq!(report.to_json()["error"]["status"], 401);
        assert_eq!(report.to_json()["error"]["exitCode"], 3);
        let unknown_tool = ClientError::Server(mcp_protocol::ErrorObject {
            code: -32602,
            message: "Unknown tool: nope".into(),
            data: None,
        });
        let report = Failure::from(unknown_tool);
        assert_eq!(report.exit, Exit::Protocol);
        assert_eq!(report.to_json()["error"]["jsonrpcCode"], -32602);
        let limited = ClientError::Server(mcp_protocol::ErrorObject {
            code: -31429,
            message: "Rate limited".into(),
            data: Some(serde_json::json!({"retryAfterSecs": 3})),
        });
        let report = Failure::from(limited);
        assert_eq!(report.exit, Exit::RateLimited);
        assert_eq!(report.to_json()["error"]["data"]["retryAfterSecs"], 3);
        let refused = ClientError::Server(mcp_protocol::ErrorObject {
            code: -31403,
            message: "Forbidden".into(),
            data: None,
        });
        assert_eq!(Failure::from(refused).exit, Exit::AuthRequired);
        let late = ClientError::Timeout {
            method: "tools/call".into(),
            after: std::time::Duration::from_secs(1),
        };
        assert_eq!(Failure::from(late).exit, Exit::Timeout);
    }
}
