//! JSON-RPC 2.0 messages: parsed once, with `params` and `result` kept raw until the typed target
//! is known.
//!
//! ```
//! use mcp_protocol::jsonrpc::{parse, Message};
//! use mcp_protocol::types::CallToolRequestParams;
//!
//! let line = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#;
//! let Message::Request(req) = parse(line).unwrap() else { panic!() };
//! assert_eq!(req.method, "tools/call");
//! let params: CallToolRequestParams = req.params_as().unwrap();
//! assert_eq!(params.name, "echo");
//!
//! let err = parse(b"{not json").unwrap_err();
//! assert_eq!(err.code(), -32700);
//! let err = parse(br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).unwrap_err();
//! assert_eq!(err.code(), -32600);
//! ```

mod parse;

use std::borrow::Cow;
use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::{ErrorObject, McpError, code};

pub use parse::{DEFAULT_MAX_DEPTH, Incoming, MessageError, ParseOptions, parse, parse_with};

/// The JSON-RPC version string every message carries.
pub const JSONRPC_VERSION: &str = "2.0";

/// A request id: an integer or a string, never null.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => serializer.serialize_i64(*n),
            Self::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or string request id")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v)
                    .map(RequestId::Number)
                    .map_err(|_| E::custom("request id out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<RequestId, E> {
                Ok(RequestId::String(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Raw JSON kept as it arrived.
pub type Raw = Box<RawValue>;

/// A request: it expects exactly one response with the same id.
#[derive(Debug, Clone)]
pub struct Request<P = Raw> {
    /// The id the response will carry.
    pub id: RequestId,
    /// The method name.
    pub method: Cow<'static, str>,
    /// The parameters, if any.
    pub params: Option<P>,
}

/// A notification: no id, no response.
#[derive(Debug, Clone)]
pub struct Notification<P = Raw> {
    /// The method name.
    pub method: Cow<'static, str>,
    /// The parameters, if any.
    pub params: Option<P>,
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Response<R = Raw> {
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result.
    pub result: R,
}

/// An error response. The id is absent only when the request's id could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorResponse {
    /// The id of the request this answers, if it could be read.
    pub id: Option<RequestId>,
    /// The error.
    pub error: ErrorObject,
}

/// Any JSON-RPC message, with raw params and results.
#[derive(Debug, Clone)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A successful response.
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
}

impl Message {
    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Request(r) => Some(&r.method),
            Self::Notification(n) => Some(&n.method),
            _ => None,
        }
    }

    /// The id of a request or response.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Self::Request(r) => Some(&r.id),
            Self::Response(r) => Some(&r.id),
            Self::Error(e) => e.id.as_ref(),
            Self::Notification(_) => None,
        }
    }
}

fn deserialize_params<T: serde::de::DeserializeOwned>(
    params: Option<&RawValue>,
) -> Result<T, McpError> {
    let text = params.map_or("{}", RawValue::get);
    // MCP params are always objects; serde's derived readers would also take positional arrays.
    if !text.starts_with('{') {
        return Err(McpError::invalid_params("params must be an object"));
    }
    serde_json::from_str(text).map_err(|e| McpError::invalid_params(format!("invalid params: {e}")))
}

impl Request {
    /// Deserializes the params into `T`; absent params read as `{}`. Failure is -32602.
    pub fn params_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, McpError> {
        deserialize_params(self.params.as_deref())
    }
}

impl Notification {
    /// Deserializes the params into `T`; absent params read as `{}`. Failure is -32602.
    pub fn params_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, McpError> {
        deserialize_params(self.params.as_deref())
    }
}

impl Response {
    /// Deserializes the result into `T`.
    pub fn result_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.result.get())
    }
}

impl<P> Request<P> {
    /// A request with params.
    pub fn new(id: impl Into<RequestId>, method: impl Into<Cow<'static, str>>, params: P) -> Self {
        Self {
            id: id.into(),
            method: method.into(),
            params: Some(params),
        }
    }
}

impl<P> Notification<P> {
    /// A notification with params.
    pub fn new(method: impl Into<Cow<'static, str>>, params: P) -> Self {
        Self {
            method: method.into(),
            params: Some(params),
        }
    }
}

impl<R> Response<R> {
    /// A response.
    pub fn new(id: RequestId, result: R) -> Self {
        Self { id, result }
    }
}

impl ErrorResponse {
    /// An error response for `id`.
    pub fn new(id: Option<RequestId>, error: ErrorObject) -> Self {
        Self { id, error }
    }

    /// An error response with one of the standard codes and its default message.
    pub fn from_code(id: Option<RequestId>, code: i64) -> Self {
        let message = code::default_message(code).unwrap_or("Error");
        Self::new(id, ErrorObject::new(code, message))
    }
}

impl<P: Serialize> Serialize for Request<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3 + usize::from(self.params.is_some())))?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("method", &self.method)?;
        if let Some(params) = &self.params {
            map.serialize_entry("params", params)?;
        }
        map.end()
    }
}

impl<P: Serialize> Serialize for Notification<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2 + usize::from(self.params.is_some())))?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        map.serialize_entry("method", &self.method)?;
        if let Some(params) = &self.params {
            map.serialize_entry("params", params)?;
        }
        map.end()
    }
}

impl<R: Serialize> Serialize for Response<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("result", &self.result)?;
        map.end()
    }
}

impl Serialize for ErrorResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        // JSON-RPC 2.0 asks for `"id": null` when the id could not be read; MCP's schema makes
        // `id` optional. `null` satisfies both readings for every peer we have met.
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("error", &self.error)?;
        map.end()
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Request(r) => r.serialize(serializer),
            Self::Notification(n) => n.serialize(serializer),
            Self::Response(r) => r.serialize(serializer),
            Self::Error(e) => e.serialize(serializer),
        }
    }
}
