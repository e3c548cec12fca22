//! MCP servers: a [`Router`] of tools, resources, templates, prompts and completions, served in
//! both protocol eras — the legacy `initialize` family (2024-11-05 to 2025-11-25) and the
//! stateless 2026-07-28 — over any framed byte stream (stdio, TCP, Unix sockets, in-memory).
//!
//! Handlers never see the era: the same function answers a legacy session and a modern
//! stateless request; asking the client for input ([`Client`]) is a real server-to-client
//! request in legacy and an `input_required` round trip in 2026-07-28.
//!
//! ```no_run
//! use mcp_server::{Args, Router, Server, Tool};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Echo { text: String }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let router = Router::new()
//!         .tool(Tool::new("echo").description("Echoes text").handler(|Args(a): Args<Echo>| async move { a.text }));
//!     Server::new("echo-server", "1.0.0", router).serve_stdio().await
//! }
//! ```
//!
//! Three ways in, as in the original SDK: [`Server::new`] with a router (the one-liner above),
//! [`Server::with_options`] for full control, and the [`McpServer`] trait for a type that sets up
//! its own routes.

mod context;
mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod middleware;
mod request;
mod request_state;
pub mod router;
mod serve;
mod server;
mod service;
pub mod tasks;

pub use context::{Client, Extensions, Logger, Outbox, Progress, RequestContext, SessionHandle};
pub use error::ToolError;
/// Attribute macros: `#[tool]` on an async fn adds `<fn>_tool()`, its [`ToolRoute`]; `#[tools]` on
/// an impl block adds `tool_routes()` and `router()` for its methods marked `#[tool]`.
pub use mcp_macros::{tool, tools};
pub use request::{
    Authentication, CacheStatus, ListFilter, ListKind, Listed, McpRequest, McpResponse, Outcome,
    Target,
};
pub use router::ToolStack;
pub use router::{
    Args, Change, CompleteWith, Completer, CompletionRequest, FromToolCall, IntoPromptResult,
    IntoToolResult, Json, Prompt, PromptRequest, PromptRoute, RawArgs, Resource, ResourceRequest,
    ResourceRoute, ResourceTemplate, Router, SchemaDialect, TemplateRoute, Tool, ToolCall,
    ToolHandler, ToolRoute, schema_for,
};
pub use server::{LocalPrincipal, McpServer, McpService, Server, ServerOptions};
pub use tasks::LongRunning;

/// Re-exported: the principal, its permissions and the authenticator seam.
pub use mcp_auth;

/// Re-exported so handler code needs one dependency for cancellation.
pub use tokio_util::sync::CancellationToken;
