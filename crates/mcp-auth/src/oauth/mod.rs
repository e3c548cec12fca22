//! OAuth 2.1 as the MCP authorization spec uses it.
//!
//! - [`resource_server`]: what an MCP server needs to be an OAuth resource server: RFC 9728
//!   protected-resource metadata and where to serve it, the canonical resource URI
//!   (RFC 8707) that token audiences are checked against, and `WWW-Authenticate` challenges
//!   for 401 and 403. Token validation itself is `jwt` (self-contained JWT access tokens,
//!   feature `jwt`) or `introspection` (opaque tokens, feature `introspection`).
//! - [`client`] (feature `oauth-client`): the client side: discovery of the protected resource
//!   and its authorization server, PKCE, registration, tokens, refresh and step-up, plugged
//!   into the HTTP transport's credentials hook.

#[cfg(feature = "oauth-client")]
pub mod client;
pub mod resource_server;
