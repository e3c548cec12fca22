//! Error codes of every revision, the JSON-RPC error object, and typed protocol errors.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ProtocolVersion;
use crate::types::{ClientCapabilities, ElicitRequestUrlParams};
use crate::version::UnsupportedVersion;

/// Every JSON-RPC error code the MCP revisions name.
pub mod code {
    /// Invalid JSON was received (JSON-RPC 2.0).
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON sent is not a valid request object (JSON-RPC 2.0).
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist or its capability was not advertised (JSON-RPC 2.0).
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters; also unknown tools and prompts, bad cursors, missing `_meta`
    /// fields, and (2026-07-28) unknown resources (JSON-RPC 2.0).
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error (JSON-RPC 2.0).
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Resource not found: 2025-11-25 and earlier only; 2026-07-28 uses [`INVALID_PARAMS`].
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// URL elicitation required (`data.elicitations`): 2025-11-25 only.
    pub const URL_ELICITATION_REQUIRED: i64 = -32042;
    /// HTTP headers missing, malformed or not matching the body (2026-07-28).
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request needs a client capability the client did not declare (2026-07-28).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
    /// The request's protocol version is not supported (2026-07-28).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
    /// Lowest code of the range JSON-RPC reserves for implementation-defined server errors.
    pub const SERVER_ERROR_RANGE_START: i64 = -32099;
    /// Highest code of the range JSON-RPC reserves for implementation-defined server errors.
    pub const SERVER_ERROR_RANGE_END: i64 = -32000;
    /// Lowest code MCP reserves for itself (2026-07-28): implementations must not invent codes in
    /// `-32099..=-32020`.
    pub const MCP_RESERVED_START: i64 = -32099;
    /// Highest code MCP reserves for itself (2026-07-28).
    pub const MCP_RESERVED_END: i64 = -32020;

    /// The standard message for a code, or `None` for codes without one.
    pub fn default_message(code: i64) -> Option<&'static str> {
        Some(match code {
            PARSE_ERROR => "Parse error",
            INVALID_REQUEST => "Invalid Request",
            METHOD_NOT_FOUND => "Method not found",
            INVALID_PARAMS => "Invalid params",
            INTERNAL_ERROR => "Internal error",
            RESOURCE_NOT_FOUND => "Resource not found",
            URL_ELICITATION_REQUIRED => "URL elicitation required",
            HEADER_MISMATCH => "Header mismatch",
            MISSING_REQUIRED_CLIENT_CAPABILITY => "Missing required client capability",
            UNSUPPORTED_PROTOCOL_VERSION => "Unsupported protocol version",
            _ => return None,
        })
    }
}

/// A JSON-RPC error object: `{code, message, data?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code; see [`code`].
    pub code: i64,
    /// A short description.
    pub message: String,
    /// Additional information, shaped by the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and message and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data`.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl std::fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// The `data` of a -32021 error: the capabilities the request needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingCapabilityData {
    /// The capabilities the client must declare for this request.
    #[serde(rename = "requiredCapabilities")]
    pub required_capabilities: ClientCapabilities,
}

/// The `data` of a -32042 error (2025-11-25): the URL elicitations the client must complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlElicitationRequiredData {
    /// The elicitations to show the user.
    pub elicitations: Vec<ElicitRequestUrlParams>,
}

/// A protocol error with its typed data; converts to and from an [`ErrorObject`].
///
/// ```
/// use mcp_protocol::{McpError, ProtocolVersion};
///
/// let err = McpError::ResourceNotFound { uri: "file:///x".into() };
/// assert_eq!(err.to_error_object(ProtocolVersion::V2025_11_25).code, -32002);
/// assert_eq!(err.to_error_object(ProtocolVersion::V2026_07_28).code, -32602);
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The input was not JSON (-32700).
    #[error("parse error: {0}")]
    Parse(String),
    /// The input was JSON but not a valid JSON-RPC message (-32600).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Unknown method, or one whose capability was not advertised (-32601).
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// Invalid parameters (-32602).
    #[error("invalid params: {message}")]
    InvalidParams {
        /// What was wrong.
        message: String,
        /// Optional detail.
        data: Option<Value>,
    },
    /// Internal error (-32603).
    #[error("internal error: {0}")]
    Internal(String),
    /// The resource does not exist (-32002 legacy, -32602 in 2026-07-28; `data.uri`).
    #[error("resource not found: {uri}")]
    ResourceNotFound {
        /// The URI that was asked for.
        uri: String,
    },
    /// HTTP headers missing or not matching the body (-32020).
    #[error("header mismatch: {0}")]
    HeaderMismatch(String),
    /// A client capability the request needs was not declared (-32021).
    #[error("missing required client capability")]
    MissingRequiredClientCapability(Box<MissingCapabilityData>),
    /// The requested protocol version is not supported (-32022).
    #[error("unsupported protocol version {:?}", .0.requested)]
    UnsupportedProtocolVersion(UnsupportedVersion),
    /// The client must complete URL elicitations first (-32042, 2025-11-25 only).
    #[error("URL elicitation required")]
    UrlElicitationRequired(Box<UrlElicitationRequiredData>),
    /// Any other code.
    #[error("{0}")]
    Other(ErrorObject),
}

impl McpError {
    /// Invalid params with a message and no data.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::InvalidParams {
            message: message.into(),
            data: None,
        }
    }

    /// The code this error carries in `revision`.
    pub fn code(&self, revision: ProtocolVersion) -> i64 {
        match self {
            Self::Parse(_) => code::PARSE_ERROR,
            Self::InvalidRequest(_) => code::INVALID_REQUEST,
            Self::MethodNotFound(_) => code::METHOD_NOT_FOUND,
            Self::InvalidParams { .. } => code::INVALID_PARAMS,
            Self::Internal(_) => code::INTERNAL_ERROR,
            Self::ResourceNotFound { .. } => revision.resource_not_found_code(),
            Self::HeaderMismatch(_) => code::HEADER_MISMATCH,
            Self::MissingRequiredClientCapability(_) => code::MISSING_REQUIRED_CLIENT_CAPABILITY,
            Self::UnsupportedProtocolVersion(_) => {
                if revision.is_modern() {
                    code::UNSUPPORTED_PROTOCOL_VERSION
                } else {
                    code::INVALID_PARAMS
                }
            }
            Self::UrlElicitationRequired(_) => code::URL_ELICITATION_REQUIRED,
            Self::Other(e) => e.code,
        }
    }

    /// The error object to send to a peer speaking `revision`.
    pub fn to_error_object(&self, revision: ProtocolVersion) -> ErrorObject {
        let code = self.code(revision);
        let message = match self {
            Self::Parse(m)
            | Self::InvalidRequest(m)
            | Self::Internal(m)
            | Self::HeaderMismatch(m)
            | Self::InvalidParams { message: m, .. } => m.clone(),
            Self::MethodNotFound(method) => format!("Method not found: {method}"),
            Self::ResourceNotFound { uri } => format!("Resource not found: {uri}"),
            Self::Other(e) => e.message.clone(),
            _ => code::default_message(code).unwrap_or("Error").to_owned(),
        };
        // Typed data is serialized in the shape of the revision it is sent to.
        let data = crate::wire::with_revision(revision, || match self {
            Self::InvalidParams { data, .. } => data.clone(),
            Self::ResourceNotFound { uri } => Some(serde_json::json!({ "uri": uri })),
            Self::MissingRequiredClientCapability(d) => serde_json::to_value(d).ok(),
            Self::UnsupportedProtocolVersion(d) => serde_json::to_value(d).ok(),
            Self::UrlElicitationRequired(d) => serde_json::to_value(d).ok(),
            Self::Other(e) => e.data.clone(),
            _ => None,
        });
        ErrorObject {
            code,
            message,
            data,
        }
    }

    /// Reads a received error object into its typed form. Codes whose data does not have the
    /// expected shape stay [`McpError::Other`], so nothing is lost.
    pub fn from_error_object(e: ErrorObject) -> Self {
        fn typed<T: serde::de::DeserializeOwned>(data: &Option<Value>) -> Option<T> {
            data.as_ref().and_then(|d| T::deserialize(d).ok())
        }
        match e.code {
            code::PARSE_ERROR => Self::Parse(e.message),
            code::INVALID_REQUEST => Self::InvalidRequest(e.message),
            code::METHOD_NOT_FOUND => Self::MethodNotFound(e.message),
            code::INTERNAL_ERROR => Self::Internal(e.message),
            code::HEADER_MISMATCH => Self::HeaderMismatch(e.message),
            code::RESOURCE_NOT_FOUND => match e
                .data
                .as_ref()
                .and_then(|d| d.get("uri"))
                .and_then(Value::as_str)
            {
                Some(uri) => Self::ResourceNotFound {
                    uri: uri.to_owned(),
                },
                None => Self::Other(e),
            },
            code::MISSING_REQUIRED_CLIENT_CAPABILITY => match typed(&e.data) {
                Some(d) => Self::MissingRequiredClientCapability(Box::new(d)),
                None => Self::Other(e),
            },
            code::UNSUPPORTED_PROTOCOL_VERSION => match typed(&e.data) {
                Some(d) => Self::UnsupportedProtocolVersion(d),
                None => Self::Other(e),
            },
            code::URL_ELICITATION_REQUIRED => match typed(&e.data) {
                Some(d) => Self::UrlElicitationRequired(Box::new(d)),
                None => Self::Other(e),
            },
            code::INVALID_PARAMS => {
                if let Some(d) = typed::<UnsupportedVersion>(&e.data) {
                    Self::UnsupportedProtocolVersion(d)
                } else {
                    Self::InvalidParams {
                        message: e.message,
                        data: e.data,
                    }
                }
            }
            _ => Self::Other(e),
        }
    }

    /// Whether this error is one that only a modern (2026-07-28) server sends. A dual-era client
    /// probing with `server/discover` treats these as "the server is modern".
    pub fn is_modern_signal(code: i64) -> bool {
        matches!(
            code,
            code::HEADER_MISMATCH
                | code::MISSING_REQUIRED_CLIENT_CAPABILITY
                | code::UNSUPPORTED_PROTOCOL_VERSION
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_typed_errors() {
        let errors = [
            McpError::ResourceNotFound {
                uri: "a://b".into(),
            },
            McpError::UnsupportedProtocolVersion(UnsupportedVersion {
                supported: vec!["2026-07-28".into()],
                requested: "1999-01-01".into(),
            }),
            McpError::MissingRequiredClientCapability(Box::new(MissingCapabilityData {
                required_capabilities: ClientCapabilities {
                    sampling: Some(Default::default()),
                    ..Default::default()
                },
            })),
            McpError::HeaderMismatch("Mcp-Name".into()),
        ];
        for e in errors {
            let obj = e.to_error_object(ProtocolVersion::V2025_11_25);
            let back = McpError::from_error_object(obj);
            assert_eq!(
                back.code(ProtocolVersion::V2025_11_25),
                e.code(ProtocolVersion::V2025_11_25)
            );
            assert!(
                matches!(
                    (&e, &back),
                    (McpError::HeaderMismatch(_), McpError::HeaderMismatch(_))
                ) || back == e,
                "{e:?} -> {back:?}"
            );
        }
    }

    #[test]
    fn missing_capability_data_shape() {
        let e = McpError::MissingRequiredClientCapability(Box::new(MissingCapabilityData {
            required_capabilities: ClientCapabilities {
                sampling: Some(Default::default()),
                ..Default::default()
            },
        }));
        let obj = e.to_error_object(ProtocolVersion::V2026_07_28);
        assert_eq!(obj.code, -32021);
        assert_eq!(
            obj.data.unwrap(),
            serde_json::json!({"requiredCapabilities": {"sampling": {}}})
        );
    }

    #[test]
    fn unsupported_version_code_per_era() {
        let e = McpError::UnsupportedProtocolVersion(UnsupportedVersion {
            supported: vec![],
            requested: "x".into(),
        });
        assert_eq!(e.code(ProtocolVersion::V2026_07_28), -32022);
        assert_eq!(e.code(ProtocolVersion::V2025_11_25), -32602);
    }
}
