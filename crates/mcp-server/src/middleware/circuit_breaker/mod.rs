//! Stops calling a tool that keeps failing, and lets it recover.
//!
//! Each tool has its own breaker (a layer on the whole server keeps one per tool; only
//! `tools/call` of a tool the server has goes through one):
//!
//! - **closed**: calls run. A call that fails (a tool result with `isError: true`, an internal
//!   error -32603, or a timeout from a [`TimeoutLayer`](super::TimeoutLayer) inside this one)
//!   is counted; [`CircuitBreakerConfig::failure_threshold`] failures within
//!   [`CircuitBreakerConfig::window`] open the breaker.
//! - **open**: calls are refused at once, without running the tool, for
//!   [`CircuitBreakerConfig::open_for`].
//! - **half-open**: then up to [`CircuitBreakerConfig::half_open_probes`] calls at a time go
//!   through as probes; one failure opens the breaker again,
//!   [`CircuitBreakerConfig::success_threshold`] successes close it.
//!
//! Invalid arguments, unknown tools, cancelled calls and refusals by other layers count
//! neither way: they say nothing about the tool's health.
//!
//! **Refuses with** [`Refusal::CircuitOpen`](super::Refusal::CircuitOpen): JSON-RPC -31503 with
//! `data.reason = "circuit_open"`, `data.tool` and `data.retryAfterSecs`; HTTP 503 with
//! `Retry-After`.
//!
//! ```
//! use std::time::Duration;
//! use mcp_server::middleware::{CircuitBreakerConfig, CircuitBreakerLayer, CircuitState};
//! use mcp_server::{Authentication, Router, Server, Tool, ToolError};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let breaker = CircuitBreakerLayer::new(CircuitBreakerConfig {
//!     failure_threshold: 2,
//!     open_for: Duration::from_secs(30),
//!     ..CircuitBreakerConfig::default()
//! });
//! let flaky = Tool::new("flaky").handler(|| async { Err::<String, _>(ToolError::failed("down")) });
//! let server = Server::new("s", "1.0.0", Router::new().tool(flaky)).layer(breaker.clone());
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"flaky",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! for _ in 0..2 {
//!     server.handle_message(call, Authentication::None).await; // isError: true, counted
//! }
//! assert_eq!(breaker.state("flaky"), Some(CircuitState::Open));
//! let reply = server.handle_message(call, Authentication::None).await.unwrap();
//! let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
//! assert_eq!(reply["error"]["code"], -31503);
//! assert_eq!(reply["error"]["data"]["reason"], "circuit_open");
//! # }
//! ```

mod future;
pub(crate) mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::{CircuitBreakerConfig, CircuitBreakerLayer, CircuitState};
pub use service::CircuitBreaker;
