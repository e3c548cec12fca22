//! Stops requests that run too long.
//!
//! [`TimeoutLayer::new(limit)`](TimeoutLayer::new) gives every request `limit` to answer, and
//! [`TimeoutLayer::tool`] sets another limit for one tool. `subscriptions/listen` is exempt: it
//! is meant to stay open.
//!
//! **Refuses with** [`Refusal::TimedOut`](super::Refusal::TimedOut): JSON-RPC -31504, HTTP 504.
//! When time is up the handler is dropped and the request's cancellation token fires, so work
//! the handler spawned can stop too.
//!
//! Unlike `tower::timeout::Timeout`, it answers in MCP (a typed refusal the client can read)
//! rather than failing the service with an error, and it cancels the request.
//!
//! ```
//! use std::time::Duration;
//! use mcp_server::middleware::TimeoutLayer;
//! use mcp_server::{Authentication, Router, Server, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let router = Router::new().tool(Tool::new("slow").handler(|| async {
//!     tokio::time::sleep(Duration::from_secs(60)).await;
//!     "done"
//! }));
//! let server = Server::new("s", "1.0.0", router)
//!     .layer(TimeoutLayer::new(Duration::from_secs(30)).tool("slow", Duration::from_millis(50)));
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! let reply = server.handle_message(call, Authentication::None).await.unwrap();
//! let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
//! assert_eq!(reply["error"]["code"], -31504);
//! # }
//! ```

pub(crate) mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::TimeoutLayer;
pub use service::Timeout;
