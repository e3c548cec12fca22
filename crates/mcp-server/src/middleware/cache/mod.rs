//! Stores tool results and answers identical calls from the store.
//!
//! [`CacheLayer::new(default_ttl)`](CacheLayer::new) caches the results of:
//!
//! - tools that declare a TTL with [`Tool::cache_ttl`](crate::Tool::cache_ttl) (for that TTL);
//! - tools annotated read-only ([`Tool::read_only`](crate::Tool::read_only)), for
//!   `default_ttl` (or what [`CacheLayer::tool`] sets for one tool).
//!
//! Other tools are never cached. Only complete, successful results are stored: not tool
//! errors, not `input_required` rounds, not calls that carry `inputResponses` or
//! `requestState`.
//!
//! **The key** is the tool, its arguments in canonical form (object keys sorted, so key order
//! does not matter), the protocol revision (results are serialized per revision) and the
//! caller's authorization scope: the principal's authentication method and id, its
//! permissions and its OAuth scopes. Two principals never share an entry; a token with other
//! scopes does not either. [`Partition::Shared`] drops the principal from the key, for tools
//! whose result depends on nothing but their arguments.
//!
//! **Single flight**: concurrent identical calls run the tool once; the others wait and get
//! the same result (a call that waits and is then cancelled simply stops waiting). Responses
//! carry [`CacheStatus`](crate::CacheStatus) (`Hit`: the handler did not run for this call),
//! which the [`MetricsLayer`](super::MetricsLayer) counts.
//!
//! **Refuses nothing.** Put it after authentication and permissions (so a refused caller
//! never reads an entry) and before the handler.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::Duration;
//! use mcp_server::middleware::CacheLayer;
//! use mcp_server::{Authentication, Router, Server, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let runs = Arc::new(AtomicUsize::new(0));
//! let counted = runs.clone();
//! let tool = Tool::new("lookup").cache_ttl(Duration::from_secs(60)).handler(move || {
//!     counted.fetch_add(1, Ordering::SeqCst);
//!     async { "42" }
//! });
//! let server = Server::new("s", "1.0.0", Router::new().tool(tool))
//!     .layer(CacheLayer::new(Duration::from_secs(300)));
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! for _ in 0..3 {
//!     server.handle_message(call, Authentication::None).await.unwrap();
//! }
//! assert_eq!(runs.load(Ordering::SeqCst), 1);
//! # }
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::{CacheLayer, Partition};
pub use service::Cache;
