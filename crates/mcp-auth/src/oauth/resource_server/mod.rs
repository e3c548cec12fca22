//! Building blocks of an OAuth 2.1 resource server (no HTTP server here: `mcp-server` serves
//! the metadata and sends the challenges).
//!
//! ```
//! use mcp_auth::oauth::resource_server::{
//!     BearerChallenge, MetadataLocations, ProtectedResourceMetadata, canonical_resource_uri,
//! };
//!
//! let resource = canonical_resource_uri("HTTPS://MCP.Example.com:443/mcp/").unwrap();
//! assert_eq!(resource, "https://mcp.example.com/mcp");
//!
//! let locations = MetadataLocations::for_resource(&resource).unwrap();
//! assert_eq!(locations.path_inserted_path, "/.well-known/oauth-protected-resource/mcp");
//!
//! let metadata = ProtectedResourceMetadata::new(&resource, ["https://auth.example.com"])
//!     .with_scopes_supported(["mcp:tools", "mcp:resources"]);
//! assert_eq!(serde_json::to_value(&metadata).unwrap()["resource"], "https://mcp.example.com/mcp");
//!
//! let challenge = BearerChallenge::unauthorized(&locations.path_inserted, ["mcp:tools"], false);
//! assert_eq!(
//!     challenge.to_string(),
//!     r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools""#
//! );
//! ```

mod challenge;
mod metadata;
mod resource_uri;

pub use challenge::{BearerChallenge, BearerError};
pub use metadata::ProtectedResourceMetadata;
pub use resource_uri::{
    MetadataLocations, PROTECTED_RESOURCE_WELL_KNOWN, canonical_resource_uri, same_resource,
};
