//! Checks what each tool, resource and prompt requires of the principal, and shows a principal
//! only what it may use.
//!
//! A route declares its requirement with `requires(Requirement)` ([`ToolRoute::requires`],
//! [`ResourceRoute::requires`], [`TemplateRoute::requires`], [`PromptRoute::requires`]): the
//! permissions (with the hierarchy and wildcards of
//! [`Permissions`](mcp_auth::Permissions)) and OAuth scopes a principal needs. A route that
//! declares nothing requires, by convention, `tools.call.<name>`, `resources.read.<name>`
//! (the resource's or template's `name`), `resources.subscribe.<name>` or `prompts.get.<name>`
//! ([`Undeclared::Convention`], the default); [`Undeclared::Allow`] lets any authenticated
//! principal use them instead.
//!
//! - `tools/call`, `resources/read`, `resources/subscribe`, `prompts/get` and
//!   `completion/complete` (for the prompt or template it completes) are refused when the
//!   principal lacks the requirement.
//! - `tools/list`, `resources/list`, `resources/templates/list` and `prompts/list` leave out
//!   what the principal may not use (pages stay full: the dispatcher filters while paging).
//! - Names the server does not have pass through, to be answered "unknown" by the dispatcher.
//!
//! It needs the principal: put it after the [`AuthLayer`](super::AuthLayer).
//!
//! **Refuses with** [`Refusal::Forbidden`](super::Refusal::Forbidden): JSON-RPC -31403 with
//! `data.required` (everything the target requires, not only what is missing) and
//! `data.scopes`; on HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope",
//! scope="..."` naming every scope needed. Without a principal: -31401 / 401.
//!
//! [`ToolRoute::requires`]: crate::ToolRoute::requires
//! [`ResourceRoute::requires`]: crate::ResourceRoute::requires
//! [`TemplateRoute::requires`]: crate::TemplateRoute::requires
//! [`PromptRoute::requires`]: crate::PromptRoute::requires
//!
//! ```
//! use std::sync::Arc;
//! use mcp_server::mcp_auth::{AuthMethod, Principal, Requirement};
//! use mcp_server::middleware::{AuthLayer, PermissionLayer};
//! use mcp_server::{Authentication, Router, Server, Tool};
//! use tower::ServiceBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let router = Router::new()
//!     .tool(Tool::new("search").handler(|| async { "found" }))
//!     .tool(Tool::new("delete").handler(|| async { "gone" }).requires(Requirement::permission("admin")));
//! let server = Server::new("s", "1.0.0", router)
//!     .layer(ServiceBuilder::new().layer(AuthLayer::required()).layer(PermissionLayer::new()));
//! let reader = Authentication::Principal(Arc::new(
//!     Principal::new("reader", AuthMethod::ApiKey).with_permissions(["tools.call.search"]),
//! ));
//! let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete",
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! let reply = server.handle_message(call, reader.clone()).await.unwrap();
//! let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
//! assert_eq!(reply["error"]["code"], -31403);
//! assert_eq!(reply["error"]["data"]["required"][0], "admin");
//!
//! let list = br#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//! let reply = server.handle_message(list, reader).await.unwrap();
//! let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
//! assert_eq!(reply["result"]["tools"].as_array().unwrap().len(), 1); // only `search`
//! # }
//! ```

mod layer;
mod service;

pub use super::gate::GateFuture as ResponseFuture;
pub use layer::{PermissionLayer, Undeclared};
pub use service::Permission;
