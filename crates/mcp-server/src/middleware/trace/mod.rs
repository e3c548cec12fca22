//! A tracing span per request, carrying the W3C trace context from `_meta`.
//!
//! [`TraceLayer::new()`](TraceLayer::new) opens an `INFO` span `mcp.request` around each
//! request, with the fields `rpc.method`, `rpc.request_id`, `mcp.tool`, `enduser.id` (the
//! principal, once an [`AuthLayer`](super::AuthLayer) outside this layer set it), `trace_id`,
//! `span_id`, `parent_span_id` and, when it ends, `outcome` and `duration_ms`. Everything the
//! handler logs happens inside it.
//!
//! The trace context comes from the request's `_meta`: `traceparent` (W3C Trace Context,
//! `00-<trace id>-<parent id>-<flags>`) and `tracestate`. A request without a valid
//! `traceparent` starts a new trace. The request gets a span id of its own, and the
//! [`TraceContext`] goes into the request's extensions, so a handler that calls further
//! services propagates it with [`TraceContext::traceparent`]:
//!
//! ```
//! use mcp_server::middleware::TraceContext;
//! use mcp_server::{RequestContext, Tool};
//!
//! let tool = Tool::new("fetch").handler(|ctx: RequestContext| async move {
//!     let traceparent = ctx.extensions().get::<TraceContext>().map(TraceContext::traceparent);
//!     // ... send `traceparent` with the outgoing call ...
//!     traceparent.unwrap_or_default()
//! });
//! # drop(tool);
//! ```
//!
//! **Refuses nothing.** Put it outermost, so refusals by other layers are traced too.
//!
//! ```
//! use mcp_server::middleware::{TraceContext, TraceLayer};
//! use mcp_server::{Authentication, RequestContext, Router, Server, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let tool = Tool::new("trace_id").handler(|ctx: RequestContext| async move {
//!     ctx.extensions().get::<TraceContext>().map(|t| t.trace_id().to_owned()).unwrap_or_default()
//! });
//! let server = Server::new("s", "1.0.0", Router::new().tool(tool)).layer(TraceLayer::new());
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"trace_id",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{},
//!              "traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}"#;
//! let reply = server.handle_message(call, Authentication::None).await.unwrap();
//! let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
//! assert_eq!(reply["result"]["content"][0]["text"], "4bf92f3577b34da6a3ce929d0e0e4736");
//! # }
//! ```

pub(crate) mod future;
mod layer;
pub(crate) mod service;

pub use future::ResponseFuture;
pub use layer::{TraceContext, TraceLayer};
pub use service::Trace;
