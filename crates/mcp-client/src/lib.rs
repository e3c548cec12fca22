//! A dual-era MCP client: connects to any MCP server, legacy (`initialize`, up to 2025-11-25) or
//! modern (stateless 2026-07-28), over Streamable HTTP ([`Client::connect_http`]; `https://` with
//! the default feature `tls`, see `TlsOptions`), over any framed
//! transport, or as a child process.
//!
//! Connecting probes `server/discover`; on any answer that is not a modern one, or on silence,
//! it falls back to `initialize`. Many requests may be in flight at once; each has a timeout;
//! dropping a call's future cancels it at the server. The server's questions (sampling,
//! elicitation, roots) are answered by [`Handlers`], as JSON-RPC requests from a legacy server
//! and as `input_required` rounds from a modern one.
//!
//! Tasks (the 2026-07-28 extension `io.modelcontextprotocol/tasks`) are opt-in:
//! with [`ClientOptions::tasks`] set, every request declares the extension, and a tool call the
//! server answers with a task is polled (`tasks/get`, every `pollIntervalMs`) until it ends;
//! its input requests are answered by the [`Handlers`] through `tasks/update`; the call's
//! result is the task's, a failed task is [`ClientError::Server`], a cancelled one
//! [`ClientError::TaskCancelled`]. Dropping the call, or `max_total_timeout` passing, cancels
//! the task (`tasks/cancel`). [`Client::get_task`], [`Client::update_task`] and
//! [`Client::cancel_task`] work on a task by id.
//!
//! ```no_run
//! use mcp_client::{Client, ClientOptions};
//! use mcp_transport::child::ChildSpec;
//!
//! # async fn demo() -> Result<(), mcp_client::ClientError> {
//! let client = Client::spawn(&ChildSpec::new("my-mcp-server", ["--stdio"]), ClientOptions::default()).await?;
//! for tool in client.list_tools().await? {
//!     println!("{}", tool.name);
//! }
//! let result = client.call_tool("echo", serde_json::json!({"text": "hi"})).await?;
//! println!("{:?}", result.content);
//! client.close().await;
//! # Ok(())
//! # }
//! ```

mod client;
pub mod config;
mod error;
mod handlers;
mod http;
mod tasks;
#[cfg(feature = "ws")]
mod ws;

pub use client::{
    CallOptions, Client, ClientOptions, EraPreference, ServerSession, StructuredCheck,
    Subscription, error_object,
};
pub use error::{ClientError, ErrorKind};
pub use handlers::Handlers;
pub use mcp_transport::http_client::{Credentials, HttpClientOptions, HttpError};
#[cfg(feature = "tls")]
pub use mcp_transport::tls::{TlsError, TlsOptions, TrustedRoots};
#[cfg(feature = "ws")]
pub use mcp_transport::ws_client::{WsClientOptions, WsError};
