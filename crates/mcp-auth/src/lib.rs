//! Authentication and authorization for MCP servers and clients.
//!
//! An [`Authenticator`] turns the credentials a transport received (HTTP headers; never tool
//! arguments) into a [`Principal`]: who is calling, with which [`Permissions`], OAuth scopes and
//! claims. Servers check the [`Requirement`] each tool, resource and prompt declares; failures are
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
//!
//! # Features
//!
//! Everything light is always on: API keys, static bearer tokens, the chain, roles,
//! requirements, scope mapping and the OAuth resource-server building blocks. Heavier pieces:
//!
//! | feature | what it adds | pulls in |
//! | --- | --- | --- |
//! | `jwt` | `jwt::JwtAuthenticator` with keys given in code | jsonwebtoken (RustCrypto backend) |
//! | `jwks` | keys from a JWKS URL, cached and refreshed (`jwt::JwksSource`) | `jwt`, `fetch`, moka |
//! | `introspection` | RFC 7662 introspection of opaque tokens | `fetch`, moka |
//! | `fetch` | the small HTTP client behind JWKS and introspection, connector pluggable | hyper, hyper-util, tokio |
//! | `basic` | HTTP Basic against Argon2id password hashes | argon2, tokio |
//! | `rate-limit` | per-principal and per-tool quotas | governor |
//! | `oauth-client` | the OAuth 2.1 client (`oauth::client`): discovery, PKCE, registration, tokens, the transport's credentials hook | `fetch`, oauth2, mcp-transport |
//! | `test-util` | test keys, token builders, a local JWKS/HTTP server | `jwt`, `jwks` |
//!
//! See `docs/auth.md` in the repository for the design and the attacks each part defends
//! against.

mod api_key;
mod authenticator;
mod bearer;
mod chain;
mod credential;
mod error;
mod permission;
mod principal;
mod requirement;
mod roles;
mod scope;
mod secret_table;

pub mod oauth;

#[cfg(feature = "basic")]
pub mod basic;
#[cfg(feature = "fetch")]
pub mod fetch;
#[cfg(feature = "introspection")]
pub mod introspection;
#[cfg(feature = "jwt")]
pub mod jwt;
#[cfg(feature = "rate-limit")]
pub mod rate_limit;
#[cfg(feature = "test-util")]
pub mod test_util;

pub use api_key::{API_KEY_HEADER, ApiKeyAuthenticator, ApiKeyConfig};
pub use authenticator::{AuthRequest, Authenticator, BoxFuture};
pub use bearer::{BearerTokenAuthenticator, BearerTokenConfig};
pub use chain::AuthChain;
pub use credential::{
    DEFAULT_MAX_CREDENTIAL_LEN, authorization_credential, header_credential,
    refuse_query_credentials,
};
pub use error::{AuthError, AuthErrorKind, ConfigError, jsonrpc_code};
pub use permission::{Permissions, permission_covers};
pub use principal::{AuthMethod, Principal};
pub use requirement::{
    PROMPT_GET, RESOURCE_READ, RESOURCE_SUBSCRIBE, Requirement, TOOL_CALL, filter_allowed,
};
pub use roles::Roles;
pub use scope::ScopeMap;
pub use secret_table::sha256_hex;
