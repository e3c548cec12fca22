//! Per-principal (and per-tool) rate limits, on governor.
//!
//! [`RateLimitLayer::new(limiter)`](RateLimitLayer::new) checks each request against an
//! [`mcp_auth::rate_limit::RateLimiter`]: a default [`Quota`](mcp_auth::rate_limit::Quota)
//! with its burst, quotas of their own for some principals or tools, and (with
//! `RateLimiter::per_tool(true)`) a separate bucket per principal and tool. The key is the
//! request's principal (so put the layer after the [`AuthLayer`](super::AuthLayer); requests
//! without one share the bucket of the empty id) and, for `tools/call` of a tool the server
//! has, the tool's name.
//!
//! By default the requests that run a handler count: `tools/call`, `resources/read`,
//! `prompts/get` and `completion/complete`; the handshake, lists and pings do not, so a client
//! that reconnects does not spend its quota on them. [`RateLimitLayer::all_methods`] counts
//! every request.
//!
//! **Refuses with** [`Refusal::RateLimited`](super::Refusal::RateLimited): JSON-RPC -31429
//! with `data.retryAfterSecs`; HTTP 429 with `Retry-After`.
//!
//! ```
//! use std::sync::Arc;
//! use mcp_server::mcp_auth::rate_limit::{Quota, RateLimiter};
//! use mcp_server::middleware::RateLimitLayer;
//! use mcp_server::{Authentication, Router, Server, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let limiter = RateLimiter::new(Quota::per_minute(2).unwrap());
//! let server = Server::new("s", "1.0.0", Router::new().tool(Tool::new("hi").handler(|| async { "hello" })))
//!     .layer(RateLimitLayer::new(limiter));
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hi",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! for _ in 0..2 {
//!     server.handle_message(call, Authentication::None).await;
//! }
//! let reply = server.handle_message(call, Authentication::None).await.unwrap();
//! let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
//! assert_eq!(reply["error"]["code"], -31429);
//! assert!(reply["error"]["data"]["retryAfterSecs"].as_u64().unwrap() >= 1);
//! # }
//! ```

mod layer;
mod service;

pub use super::gate::GateFuture as ResponseFuture;
pub use layer::RateLimitLayer;
pub use service::RateLimit;
