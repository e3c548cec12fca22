//! Bounds how many requests run at once.
//!
//! [`ConcurrencyLimitLayer::new(max)`](ConcurrencyLimitLayer::new) lets `max` requests through
//! at a time; the others wait for a place, for as long as the client waits (a request
//! cancelled while waiting gets no response and never runs). With
//! [`ConcurrencyLimitLayer::max_wait`] a request that waited that long is refused instead.
//! On one tool ([`ToolRoute::layer`](crate::ToolRoute::layer)) it bounds that tool's calls
//! only.
//!
//! **Refuses with** [`Refusal::Overloaded`](super::Refusal::Overloaded) (JSON-RPC -31503, HTTP
//! 503 with `Retry-After: 1`), and only when `max_wait` is set.
//!
//! Unlike `tower::limit::ConcurrencyLimit`, the wait happens per request (it sees the request's
//! cancellation) rather than in `poll_ready`, and a bounded wait is answered in MCP.
//!
//! ```
//! use std::time::Duration;
//! use mcp_server::middleware::ConcurrencyLimitLayer;
//! use mcp_server::{Authentication, Router, Server, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (release, wait) = tokio::sync::watch::channel(false);
//! let tool = Tool::new("gate")
//!     .handler(move || {
//!         let mut wait = wait.clone();
//!         async move {
//!             let _ = wait.wait_for(|open| *open).await;
//!             "through"
//!         }
//!     })
//!     .layer(ConcurrencyLimitLayer::new(1).max_wait(Duration::from_millis(20)));
//! let server = Server::new("s", "1.0.0", Router::new().tool(tool));
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"gate",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! let first = tokio::spawn({
//!     let server = server.clone();
//!     async move { server.handle_message(call, Authentication::None).await }
//! });
//! tokio::task::yield_now().await;
//! // The first call holds the only place: the second waits 20 ms and is refused.
//! let second = server.handle_message(call, Authentication::None).await.unwrap();
//! let second: serde_json::Value = serde_json::from_slice(&second).unwrap();
//! assert_eq!(second["error"]["code"], -31503);
//! release.send(true).unwrap();
//! assert!(first.await.unwrap().is_some());
//! # }
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::ConcurrencyLimitLayer;
pub use service::ConcurrencyLimit;
