//! OAuth 2.1 as MCP uses it.
//!
//! - [`client`] (feature `oauth-client`): the client side: discovery of the protected resource
//!   and its authorization server, PKCE, registration, tokens, refresh and step-up, plugged
//!   into the HTTP transport's credentials hook.

#[cfg(feature = "oauth-client")]
pub mod client;
