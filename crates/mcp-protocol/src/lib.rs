//! Wire types of every Model Context Protocol revision.
//!
//! `mcp-protocol` is the bottom layer of the SDK: JSON-RPC messages, the typed params and results
//! of every method of every revision (2024-11-05 to 2026-07-28), error codes, `_meta`, and the
//! 2026-07-28 HTTP header codec. It has no async runtime and does no I/O.
//!
//! - [`jsonrpc`]: parse bytes once into a [`jsonrpc::Message`], keeping `params`/`result` raw
//!   until the typed target is known; bad input is classified as -32700 or -32600.
//! - [`types`]: params and results, serialized for any revision with [`ForRevision`].
//! - [`methods`]: one marker type per method, tying its name to its params and result, and which
//!   revisions have it.
//! - [`ProtocolVersion`], [`Era`] and the negotiation helpers.
//! - [`error`]: every error code as a constant and [`McpError`] with typed `data`.
//! - [`meta`]: `_meta` with its reserved keys typed and key syntax checked.
//! - [`headers`]: `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*` values and `x-mcp-header` rules.
//!
//! ```
//! use mcp_protocol::jsonrpc::{self, Message, Response};
//! use mcp_protocol::types::{CallToolRequestParams, CallToolResult};
//! use mcp_protocol::{ForRevision, ProtocolVersion};
//!
//! let Message::Request(req) = jsonrpc::parse(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#).unwrap() else { unreachable!() };
//! let params: CallToolRequestParams = req.params_as().unwrap();
//! let text = params.arguments.as_ref().and_then(|a| a["text"].as_str()).unwrap_or_default();
//! let response = Response::new(req.id, CallToolResult::text(text));
//! let legacy = serde_json::to_string(&ForRevision::new(&response, ProtocolVersion::V2025_06_18)).unwrap();
//! assert_eq!(legacy, r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}}"#);
//! ```

pub mod error;
pub mod headers;
pub mod jsonrpc;
pub mod meta;
pub mod methods;
pub mod types;
mod version;
pub mod wire;

pub use error::{ErrorObject, McpError};
pub use version::{
    Era, Negotiated, ProtocolVersion, UnknownVersion, UnsupportedVersion, negotiate_legacy,
    negotiate_modern, pick_mutual,
};
pub use wire::{ForRevision, to_value_for, to_vec_for};

/// A JSON object, as used for schemas, arguments and other open-ended data.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;
