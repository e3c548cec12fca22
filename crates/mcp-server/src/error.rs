//! Errors of handlers and of the server.

use mcp_protocol::McpError;

/// What a tool, prompt or resource handler can fail with.
///
/// For tools, [`ToolError::Failed`] becomes a result with `isError: true` that the model reads;
/// [`ToolError::Protocol`] becomes a JSON-RPC error. Prompt and resource handlers answer every
/// variant with a JSON-RPC error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The handler failed; the message is shown to the model.
    #[error("{0}")]
    Failed(String),
    /// A protocol error to return as-is (unknown resource, bad params, ...).
    #[error(transparent)]
    Protocol(#[from] McpError),
    /// The handler asked the client for input that has not arrived yet (2026-07-28
    /// multi-round-trip). Returned by [`crate::Client`] methods; propagate it with `?` and the
    /// server answers `input_required`, then runs the handler again with the answers.
    #[error("input required from the client")]
    InputRequired,
    /// The request was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl ToolError {
    /// A failure with a message for the model.
    pub fn failed(message: impl std::fmt::Display) -> Self {
        Self::Failed(message.to_string())
    }
}

impl From<String> for ToolError {
    fn from(s: String) -> Self {
        Self::Failed(s)
    }
}

impl From<&str> for ToolError {
    fn from(s: &str) -> Self {
        Self::Failed(s.to_owned())
    }
}

impl From<serde_json::Error> for ToolError {
    fn from(e: serde_json::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        Self::Failed(e.to_string())
    }
}
