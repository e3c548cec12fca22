//! Puts the caller's principal into the request, and refuses requests without one.
//!
//! The transport establishes who is calling ([`Authentication`](crate::Authentication)): the
//! Streamable HTTP endpoint with its authenticator
//! ([`HttpOptions::auth`](crate::http::HttpOptions::auth)), stdio and sockets from
//! [`ServerOptions::local_principal`](crate::ServerOptions::local_principal). This layer makes
//! it the request's principal ([`McpRequest::principal`](crate::McpRequest::principal)), which
//! later layers key on and handlers read from their context (`ctx.principal()`, or the
//! `Arc<Principal>` extractor).
//!
//! A principal the transport established is the request's already; this layer adds the policy
//! for requests without one. Over HTTP with `HttpOptions::auth` (and no `allow_anonymous`) the
//! endpoint refuses those itself, so the layer matters on stdio, sockets and WebSocket, and
//! for anonymous access.
//!
//! - [`AuthLayer::required()`](AuthLayer::required): a request without a principal is refused.
//! - [`AuthLayer::optional()`](AuthLayer::optional): it gets the anonymous principal
//!   (`Principal::anonymous()`, no permissions) instead.
//!
//! Credentials that were presented and failed are refused either way.
//!
//! **Refuses with** [`Refusal::Unauthenticated`](super::Refusal::Unauthenticated): JSON-RPC
//! -31401 on stdio; on HTTP the endpoint answers 401 with `WWW-Authenticate: Bearer
//! resource_metadata=..., scope=...` (an authenticator that is down: -31503 / 503).
//!
//! ```
//! use mcp_server::middleware::AuthLayer;
//! use mcp_server::{Authentication, Router, Server, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let server = Server::new("s", "1.0.0", Router::new().tool(Tool::new("hi").handler(|| async { "hello" })))
//!     .layer(AuthLayer::required());
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hi",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! let reply = server.handle_message(call, Authentication::None).await.unwrap();
//! let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
//! assert_eq!(reply["error"]["code"], -31401);
//! # }
//! ```

mod layer;
mod service;

pub use super::gate::GateFuture as ResponseFuture;
pub use layer::AuthLayer;
pub use service::Auth;
