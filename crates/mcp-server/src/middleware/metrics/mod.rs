//! Prometheus metrics of every request.
//!
//! [`Metrics`] holds the collectors (in its own registry, or one the application gives);
//! [`MetricsLayer::new(metrics)`](MetricsLayer::new) records into them; the HTTP endpoint
//! serves them at `/metrics` in the Prometheus text format when
//! [`HttpOptions::metrics`](crate::http::HttpOptions::metrics) is set, and
//! [`Metrics::render`] gives the same text anywhere else.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `mcp_requests_total` | counter | `method`, `tool`, `outcome` ([`Outcome::as_str`](crate::Outcome::as_str)) |
//! | `mcp_request_duration_seconds` | histogram | `method`, `tool` |
//! | `mcp_requests_in_flight` | gauge | `method` |
//! | `mcp_refusals_total` | counter | `reason` ([`Refusal::reason`](super::Refusal::reason)) |
//! | `mcp_cache_requests_total` | counter | `tool`, `result` (`hit`, `miss`) |
//! | `mcp_sessions` | gauge | `transport` (`streamable_http`, `http_sse`, `connection`); set by the HTTP endpoint when scraped |
//!
//! `tool` is the tool's name for `tools/call` of a tool the server has, and empty otherwise,
//! so a client cannot grow the label set by calling made-up names. Put the layer outermost (or
//! just inside the [`TraceLayer`](super::TraceLayer)) so it also counts what later layers
//! refuse.
//!
//! **Refuses nothing.**
//!
//! ```
//! use mcp_server::middleware::{Metrics, MetricsLayer};
//! use mcp_server::{Authentication, Router, Server, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let metrics = Metrics::new();
//! let server = Server::new("s", "1.0.0", Router::new().tool(Tool::new("hi").handler(|| async { "hello" })))
//!     .layer(MetricsLayer::new(metrics.clone()));
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hi",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! server.handle_message(call, Authentication::None).await;
//! let text = metrics.render();
//! assert!(text.contains(r#"mcp_requests_total{method="tools/call",outcome="success",tool="hi"} 1"#));
//! # }
//! ```

pub(crate) mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::{Metrics, MetricsLayer};
pub use service::MetricsService;
