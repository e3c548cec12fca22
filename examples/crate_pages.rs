//! The crate pages (`docs/crates/*.md`) as documentation of this library, so that
//! `cargo test -p mcp-examples --doc` compiles and runs the code they show and the pages stay
//! true as the crates change. Nothing else lives here.

#[doc = include_str!("../docs/crates/mcp-protocol.md")]
pub mod mcp_protocol_page {}

#[doc = include_str!("../docs/crates/mcp-transport.md")]
pub mod mcp_transport_page {}

#[doc = include_str!("../docs/crates/mcp-auth.md")]
pub mod mcp_auth_page {}

#[doc = include_str!("../docs/crates/mcp-client.md")]
pub mod mcp_client_page {}

#[doc = include_str!("../docs/crates/mcp-server.md")]
pub mod mcp_server_page {}

#[doc = include_str!("../docs/crates/mcp-macros.md")]
pub mod mcp_macros_page {}

#[doc = include_str!("../docs/crates/mcp-cli.md")]
pub mod mcp_cli_page {}
