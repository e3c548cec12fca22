//! Authentication and authorization for MCP servers and clients.
//!
//! An [`Authenticator`] turns the credentials a transport received (HTTP headers; never tool
//! arguments) into a [`Principal`]: who is calling, with which [`Permissions`], OAuth scopes and
//! claims. Servers check the permissions each tool, resource and prompt declares; failures are
//! [`AuthError`]s that carry their HTTP status and JSON-RPC code.
//!
//! ```
//! use mcp_auth::{AuthMethod, Principal};
//!
//! let alice = Principal::new("alice", AuthMethod::ApiKey).with_permissions(["tools.*", "resources.read"]);
//! assert!(alice.allows("tools.call"));
//! assert!(alice.allows("resources.read.docs"));
//! assert!(!alice.allows("prompts.get"));
//! ```

mod authenticator;
mod error;
pub mod oauth;
mod permission;
mod principal;

pub use authenticator::{AuthRequest, Authenticator, BoxFuture};
pub use error::{AuthError, AuthErrorKind};
pub use permission::{Permissions, permission_covers};
pub use principal::{AuthMethod, Principal};
