//! `_meta`: the metadata object on requests, results, notifications and many types.
//!
//! Reserved keys are typed fields of [`Meta`]; every other key lives in [`Meta::extra`] and must
//! follow the spec's key syntax: an optional prefix of dot-separated labels followed by `/`, then a
//! name. Prefixes whose second label is `modelcontextprotocol` or `mcp` are reserved for the
//! protocol and cannot be set through [`Meta::insert`].
//!
//! ```
//! use mcp_protocol::meta::{Meta, validate_key};
//! use mcp_protocol::ProtocolVersion;
//!
//! let mut meta = Meta::default();
//! meta.protocol_version = Some(ProtocolVersion::V2026_07_28.as_str().into());
//! meta.insert("com.example/trace-level", serde_json::json!(2)).unwrap();
//! assert!(meta.insert("io.modelcontextprotocol/custom", serde_json::json!(1)).is_err());
//! assert!(validate_key("-bad").is_err());
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::JsonObject;
use crate::jsonrpc::RequestId;
use crate::types::{ClientCapabilities, Implementation, LoggingLevel};

/// The reserved key names.
pub mod key {
    /// Opt-in to progress notifications for a request.
    pub const PROGRESS_TOKEN: &str = "progressToken";
    /// The protocol version of a modern request.
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// The client capabilities of a modern request.
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// The client's implementation info on a modern request.
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// The log level a modern request opts into.
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// The server's implementation info on a modern result.
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// The id of the `subscriptions/listen` request a notification belongs to.
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    /// The task a message relates to (2025-11-25 experimental tasks).
    pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
    /// W3C trace context `traceparent`.
    pub const TRACEPARENT: &str = "traceparent";
    /// W3C trace context `tracestate`.
    pub const TRACESTATE: &str = "tracestate";
    /// W3C baggage.
    pub const BAGGAGE: &str = "baggage";
}

/// A progress token: a string or an integer, unique among the sender's active requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum ProgressToken {
    /// An integer token.
    Number(i64),
    /// A string token.
    String(String),
}

impl<'de> Deserialize<'de> for ProgressToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Same shape as a request id; reuse its visitor rather than an untagged derive.
        RequestId::deserialize(d).map(Self::from)
    }
}

impl From<RequestId> for ProgressToken {
    fn from(id: RequestId) -> Self {
        match id {
            RequestId::Number(n) => Self::Number(n),
            RequestId::String(s) => Self::String(s),
        }
    }
}

/// The task a message relates to (2025-11-25 experimental tasks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedTask {
    /// The task id.
    #[serde(rename = "taskId")]
    pub task_id: String,
}

/// A `_meta` object with its reserved keys typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Meta {
    /// `progressToken`: opt in to progress notifications.
    #[serde(
        rename = "progressToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_token: Option<ProgressToken>,
    /// `io.modelcontextprotocol/protocolVersion` (modern requests; required there). Kept as the
    /// string sent so that an unknown version can be reported back as it was asked for.
    #[serde(
        rename = "io.modelcontextprotocol/protocolVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub protocol_version: Option<String>,
    /// `io.modelcontextprotocol/clientCapabilities` (modern requests; required there).
    #[serde(
        rename = "io.modelcontextprotocol/clientCapabilities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_capabilities: Option<Box<ClientCapabilities>>,
    /// `io.modelcontextprotocol/clientInfo` (modern requests; recommended).
    #[serde(
        rename = "io.modelcontextprotocol/clientInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_info: Option<Box<Implementation>>,
    /// `io.modelcontextprotocol/logLevel` (modern requests; opt-in logging).
    #[serde(
        rename = "io.modelcontextprotocol/logLevel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub log_level: Option<LoggingLevel>,
    /// `io.modelcontextprotocol/serverInfo` (modern results).
    #[serde(
        rename = "io.modelcontextprotocol/serverInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub server_info: Option<Box<Implementation>>,
    /// `io.modelcontextprotocol/subscriptionId` (notifications on a listen stream, and its final result).
    #[serde(
        rename = "io.modelcontextprotocol/subscriptionId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subscription_id: Option<RequestId>,
    /// `io.modelcontextprotocol/related-task` (2025-11-25 experimental tasks).
    #[serde(
        rename = "io.modelcontextprotocol/related-task",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub related_task: Option<RelatedTask>,
    /// W3C `traceparent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// W3C `tracestate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// W3C `baggage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baggage: Option<String>,
    /// Every other key, as received.
    #[serde(flatten)]
    pub extra: JsonObject,
}

// Written by hand rather than derived: a derived `flatten` buffers every key before sorting it
// out, and `_meta` is on the hot path of every modern request.
impl<'de> Deserialize<'de> for Meta {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Meta;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a _meta object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Meta, A::Error> {
                let mut meta = Meta::default();
                while let Some(crate::types::MapKey(k)) =
                    map.next_key::<crate::types::MapKey<'de>>()?
                {
                    match &*k {
                        key::PROGRESS_TOKEN => meta.progress_token = Some(map.next_value()?),
                        key::PROTOCOL_VERSION => meta.protocol_version = Some(map.next_value()?),
                        key::CLIENT_CAPABILITIES => {
                            meta.client_capabilities = Some(map.next_value()?)
                        }
                        key::CLIENT_INFO => meta.client_info = Some(map.next_value()?),
                        key::LOG_LEVEL => meta.log_level = Some(map.next_value()?),
                        key::SERVER_INFO => meta.server_info = Some(map.next_value()?),
                        key::SUBSCRIPTION_ID => meta.subscription_id = Some(map.next_value()?),
                        key::RELATED_TASK => meta.related_task = Some(map.next_value()?),
                        key::TRACEPARENT => meta.traceparent = Some(map.next_value()?),
                        key::TRACESTATE => meta.tracestate = Some(map.next_value()?),
                        key::BAGGAGE => meta.baggage = Some(map.next_value()?),
                        _ => {
                            let v = map.next_value()?;
                            meta.extra.insert(k.into_owned(), v);
                        }
                    }
                }
                Ok(meta)
            }
        }
        d.deserialize_map(V)
    }
}

impl Meta {
    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets a non-reserved key after checking its syntax.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: Value,
    ) -> Result<Option<Value>, MetaKeyError> {
        let key = key.into();
        validate_key(&key)?;
        if is_reserved(&key) || KNOWN_UNPREFIXED.contains(&key.as_str()) {
            return Err(MetaKeyError::Reserved(key));
        }
        Ok(self.extra.insert(key, value))
    }

    /// Checks the syntax of every non-reserved key.
    pub fn validate(&self) -> Result<(), MetaKeyError> {
        self.extra.keys().try_for_each(|k| validate_key(k))
    }

    /// The W3C trace context, when `traceparent` is set.
    pub fn trace_context(&self) -> Option<TraceContext<'_>> {
        self.traceparent.as_deref().map(|traceparent| TraceContext {
            traceparent,
            tracestate: self.tracestate.as_deref(),
            baggage: self.baggage.as_deref(),
        })
    }
}

/// W3C trace context carried in `_meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext<'a> {
    /// `traceparent`.
    pub traceparent: &'a str,
    /// `tracestate`.
    pub tracestate: Option<&'a str>,
    /// `baggage`.
    pub baggage: Option<&'a str>,
}

const KNOWN_UNPREFIXED: [&str; 4] = [
    key::PROGRESS_TOKEN,
    key::TRACEPARENT,
    key::TRACESTATE,
    key::BAGGAGE,
];

/// A `_meta` key that breaks the spec's syntax rules or is reserved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaKeyError {
    /// A prefix label is empty, starts with a non-letter, ends with a non-alphanumeric, or holds
    /// characters other than letters, digits and hyphens.
    #[error("invalid _meta key prefix in {0:?}")]
    InvalidPrefix(String),
    /// The name does not start and end with an alphanumeric, or holds characters other than
    /// alphanumerics, `-`, `_` and `.`.
    #[error("invalid _meta key name in {0:?}")]
    InvalidName(String),
    /// The key is reserved for the protocol; use the typed field of [`Meta`].
    #[error("_meta key {0:?} is reserved for the protocol")]
    Reserved(String),
}

/// Checks a `_meta` key against the spec's syntax. An empty name is allowed, as the spec says.
pub fn validate_key(key: &str) -> Result<(), MetaKeyError> {
    let (prefix, name) = match key.rfind('/') {
        Some(i) => (Some(&key[..i]), &key[i + 1..]),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !prefix.split('.').all(valid_label)
    {
        return Err(MetaKeyError::InvalidPrefix(key.to_owned()));
    }
    if !valid_name(name) {
        return Err(MetaKeyError::InvalidName(key.to_owned()));
    }
    Ok(())
}

fn valid_label(label: &str) -> bool {
    let b = label.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphabetic()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        }
        _ => false,
    }
}

fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    match (b.first(), b.last()) {
        (None, _) | (_, None) => true,
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
    }
}

/// Whether a key's prefix is reserved for the protocol: its second label is
/// `modelcontextprotocol` or `mcp` (`io.modelcontextprotocol/`, `dev.mcp/`, ...).
pub fn is_reserved(key: &str) -> bool {
    let Some(i) = key.rfind('/') else {
        return false;
    };
    matches!(
        key[..i].split('.').nth(1),
        Some("modelcontextprotocol" | "mcp")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_syntax() {
        for ok in [
            "a",
            "x1",
            "a.b-c_d",
            "com.example/k",
            "io.modelcontextprotocol/protocolVersion",
            "a-b.c2/",
            "traceparent",
            "",
        ] {
            assert!(validate_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "-a",
            "a-",
            "1x/k",
            "a..b/k",
            "a./k",
            "com.example/-k",
            "com.exa_mple/k",
            "a b",
            "/k",
            "é",
        ] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reserved_prefixes() {
        assert!(is_reserved("io.modelcontextprotocol/x"));
        assert!(is_reserved("dev.mcp/x"));
        assert!(is_reserved("tools.mcp.example/x"));
        assert!(!is_reserved("com.example.mcp/x"));
        assert!(!is_reserved("mcp/x"));
        assert!(!is_reserved("progressToken"));
    }

    #[test]
    fn typed_round_trip() {
        let json = serde_json::json!({
            "progressToken": 5,
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"sampling": {}},
            "io.modelcontextprotocol/logLevel": "info",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "com.example/x": [1, 2]
        });
        let meta: Meta = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(meta.progress_token, Some(ProgressToken::Number(5)));
        assert!(
            meta.client_capabilities
                .as_ref()
                .unwrap()
                .sampling
                .is_some()
        );
        assert_eq!(meta.extra.len(), 1);
        assert!(meta.trace_context().is_some());
        assert_eq!(serde_json::to_value(&meta).unwrap(), json);
    }
}
