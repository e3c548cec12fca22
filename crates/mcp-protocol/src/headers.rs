//! The 2026-07-28 Streamable HTTP header codec: `Mcp-Method`, `Mcp-Name`, `Mcp-Param-{Name}`
//! values with the `=?base64?...?=` rule, and the `x-mcp-header` schema annotations that tell a
//! client which tool arguments to mirror into headers.
//!
//! ```
//! use mcp_protocol::headers::{decode_value, encode_value, param_matches};
//!
//! assert_eq!(encode_value("us-west1"), "us-west1");
//! assert_eq!(encode_value("Zürich"), "=?base64?WsO8cmljaA==?=");
//! assert_eq!(decode_value("=?base64?WsO8cmljaA==?=").unwrap(), "Zürich");
//! assert!(param_matches("42.0", &serde_json::json!(42)).unwrap());
//! ```

use std::borrow::Cow;
use std::collections::HashSet;

use base64::Engine as _;
use serde_json::Value;

use crate::JsonObject;
use crate::types::Tool;

/// `MCP-Protocol-Version`: the revision of this request (every POST).
pub const PROTOCOL_VERSION: &str = "MCP-Protocol-Version";
/// `Mcp-Method`: the JSON-RPC method of this request (2026-07-28).
pub const METHOD: &str = "Mcp-Method";
/// `Mcp-Name`: `params.name` or `params.uri` of `tools/call`, `prompts/get`, `resources/read`
/// (and `params.taskId` of the tasks extension's methods).
pub const NAME: &str = "Mcp-Name";
/// The prefix of headers mirroring `x-mcp-header` arguments.
pub const PARAM_PREFIX: &str = "Mcp-Param-";
/// `Mcp-Session-Id` (legacy Streamable HTTP sessions).
pub const SESSION_ID: &str = "Mcp-Session-Id";
/// `Last-Event-ID` (legacy SSE resumption).
pub const LAST_EVENT_ID: &str = "Last-Event-ID";

const SENTINEL_START: &str = "=?base64?";
const SENTINEL_END: &str = "?=";
/// The largest integer an `x-mcp-header` argument may carry: 2^53 - 1.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A header value that cannot be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderValueError {
    /// The value holds characters a header may not carry unencoded.
    #[error("header value holds characters that must be base64-encoded")]
    InvalidChars,
    /// The `=?base64?...?=` payload is not valid base64 of UTF-8.
    #[error("invalid base64 header value")]
    InvalidBase64,
    /// The argument is not a string, integer or boolean.
    #[error("only strings, integers and booleans can travel in headers")]
    UnsupportedType,
    /// An integer beyond ±(2^53 - 1).
    #[error("integer outside the safe range ±(2^53 - 1)")]
    IntegerOutOfRange,
}

fn is_safe_char(c: char) -> bool {
    matches!(c, '\t' | ' '..='~')
}

fn looks_like_sentinel(s: &str) -> bool {
    s.starts_with(SENTINEL_START)
        && s.ends_with(SENTINEL_END)
        && s.len() >= SENTINEL_START.len() + SENTINEL_END.len()
}

/// Encodes a string for `Mcp-Name` or `Mcp-Param-*`: as-is when it is plain ASCII without
/// leading or trailing whitespace and does not look like the sentinel; otherwise base64 of its
/// UTF-8 inside `=?base64?...?=`.
pub fn encode_value(value: &str) -> Cow<'_, str> {
    let plain = value.chars().all(is_safe_char)
        && !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !looks_like_sentinel(value);
    if plain {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!(
            "{SENTINEL_START}{}{SENTINEL_END}",
            base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
        ))
    }
}

/// Decodes a received `Mcp-Name` or `Mcp-Param-*` value.
pub fn decode_value(value: &str) -> Result<Cow<'_, str>, HeaderValueError> {
    if looks_like_sentinel(value) {
        let payload = &value[SENTINEL_START.len()..value.len() - SENTINEL_END.len()];
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map_err(|_| HeaderValueError::InvalidBase64)?;
        return String::from_utf8(bytes)
            .map(Cow::Owned)
            .map_err(|_| HeaderValueError::InvalidBase64);
    }
    if value.chars().all(is_safe_char) {
        Ok(Cow::Borrowed(value))
    } else {
        Err(HeaderValueError::InvalidChars)
    }
}

/// The header value for a tool argument: strings encoded as [`encode_value`] says, integers in
/// decimal, booleans as `true`/`false`; `None` for `null` (the header is omitted).
pub fn encode_param(value: &Value) -> Result<Option<String>, HeaderValueError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(encode_value(s).into_owned())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Number(n) => match n.as_i64() {
            Some(i) if i.abs() <= MAX_SAFE_INTEGER => Ok(Some(i.to_string())),
            Some(_) => Err(HeaderValueError::IntegerOutOfRange),
            None if n.is_u64() => Err(HeaderValueError::IntegerOutOfRange),
            None => Err(HeaderValueError::UnsupportedType),
        },
        _ => Err(HeaderValueError::UnsupportedType),
    }
}

/// Whether a received header value matches the body's value: strings exactly, integers
/// numerically (`42.0` equals `42`), booleans as `true`/`false`.
pub fn param_matches(header: &str, body: &Value) -> Result<bool, HeaderValueError> {
    let decoded = decode_value(header)?;
    Ok(match body {
        Value::String(s) => *s == decoded,
        Value::Bool(b) => decoded == if *b { "true" } else { "false" },
        Value::Number(n) => match (decoded.trim().parse::<f64>(), n.as_f64()) {
            (Ok(h), Some(b)) => h == b,
            _ => false,
        },
        _ => false,
    })
}

/// The value `Mcp-Name` must carry for a request, if its method has one.
pub fn name_for(method: &str, params: &Value) -> Option<String> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The primitive type an `x-mcp-header` argument has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderParamType {
    /// A string.
    String,
    /// An integer within ±(2^53 - 1).
    Integer,
    /// A boolean.
    Boolean,
}

/// One tool argument mirrored into an `Mcp-Param-{name}` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderParam {
    /// The `{name}` part of the header.
    pub name: String,
    /// The chain of `properties` keys from the schema root to the argument.
    pub path: Vec<String>,
    /// The argument's type.
    pub kind: HeaderParamType,
}

impl HeaderParam {
    /// The full header name, `Mcp-Param-{name}`.
    pub fn header_name(&self) -> String {
        format!("{PARAM_PREFIX}{}", self.name)
    }

    /// The argument's value in `arguments`, if present.
    pub fn value_in<'a>(&self, arguments: &'a JsonObject) -> Option<&'a Value> {
        let (first, rest) = self.path.split_first()?;
        rest.iter().try_fold(arguments.get(first)?, |v, k| v.get(k))
    }
}

/// Why a tool's `x-mcp-header` annotations are invalid; a client on Streamable HTTP must drop
/// such a tool from its `tools/list` result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XMcpHeaderError {
    /// The annotation is not a non-empty string of RFC 9110 token characters.
    #[error("x-mcp-header {0:?} is not a valid header name token")]
    InvalidName(String),
    /// Two annotations name the same header, ignoring case.
    #[error("x-mcp-header {0:?} appears more than once (case-insensitively)")]
    Duplicate(String),
    /// The annotated property is not a string, integer or boolean.
    #[error("x-mcp-header {0:?} annotates a property that is not a string, integer or boolean")]
    UnsupportedType(String),
    /// The annotation is not reachable from the root through `properties` alone.
    #[error("x-mcp-header found at {0}, which is not reachable through `properties` alone")]
    Unreachable(String),
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn header_type(schema: &JsonObject) -> Option<HeaderParamType> {
    let one = |t: &str| match t {
        "string" => Some(HeaderParamType::String),
        "integer" => Some(HeaderParamType::Integer),
        "boolean" => Some(HeaderParamType::Boolean),
        _ => None,
    };
    match schema.get("type")? {
        Value::String(t) => one(t),
        Value::Array(ts) => {
            let mut non_null = ts.iter().filter_map(Value::as_str).filter(|t| *t != "null");
            match (non_null.next(), non_null.next()) {
                (Some(t), None) => one(t),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Reads and checks the `x-mcp-header` annotations of an input schema.
pub fn header_params(input_schema: &JsonObject) -> Result<Vec<HeaderParam>, XMcpHeaderError> {
    let mut found = Vec::new();
    walk(input_schema, &mut Vec::new(), true, "#", &mut found)?;
    let mut seen = HashSet::new();
    for p in &found {
        if !seen.insert(p.name.to_ascii_lowercase()) {
            return Err(XMcpHeaderError::Duplicate(p.name.clone()));
        }
    }
    Ok(found)
}

/// Reads and checks the `x-mcp-header` annotations of a tool.
pub fn tool_header_params(tool: &Tool) -> Result<Vec<HeaderParam>, XMcpHeaderError> {
    header_params(&tool.input_schema)
}

/// Walks a schema. `reachable` says whether `schema` is the root or reached from it through
/// `properties` alone; `path` is that chain of property names.
fn walk(
    schema: &JsonObject,
    path: &mut Vec<String>,
    reachable: bool,
    pointer: &str,
    found: &mut Vec<HeaderParam>,
) -> Result<(), XMcpHeaderError> {
    if let Some(annotation) = schema.get("x-mcp-header") {
        // The root is not a property: an annotation there is misplaced too.
        if !reachable || path.is_empty() {
            return Err(XMcpHeaderError::Unreachable(pointer.to_owned()));
        }
        let name = annotation.as_str().unwrap_or_default();
        if name.is_empty() || !name.chars().all(is_tchar) {
            return Err(XMcpHeaderError::InvalidName(annotation.to_string()));
        }
        let kind =
            header_type(schema).ok_or_else(|| XMcpHeaderError::UnsupportedType(name.to_owned()))?;
        found.push(HeaderParam {
            name: name.to_owned(),
            path: path.clone(),
            kind,
        });
    }
    for (key, value) in schema {
        match (key.as_str(), value) {
            ("properties", Value::Object(props)) => {
                for (prop, sub) in props {
                    if let Value::Object(sub) = sub {
                        path.push(prop.clone());
                        let r = walk(
                            sub,
                            path,
                            reachable,
                            &format!("{pointer}/properties/{prop}"),
                            found,
                        );
                        path.pop();
                        r?;
                    }
                }
            }
            // Constants and examples are data, not schemas.
            ("const" | "enum" | "default" | "examples" | "x-mcp-header", _) => {}
            (_, Value::Object(sub)) => walk(sub, path, false, &format!("{pointer}/{key}"), found)?,
            (_, Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(sub) = item {
                        walk(sub, path, false, &format!("{pointer}/{key}/{i}"), found)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The `Mcp-Param-*` headers a client must send for a `tools/call` with `arguments`.
pub fn param_headers(
    params: &[HeaderParam],
    arguments: &JsonObject,
) -> Result<Vec<(String, String)>, HeaderValueError> {
    let mut out = Vec::new();
    for p in params {
        if let Some(v) = p.value_in(arguments)
            && let Some(encoded) = encode_param(v)?
        {
            out.push((p.header_name(), encoded));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(encode_value("plain value"), "plain value");
        assert_eq!(
            encode_value(" lead"),
            format!(
                "=?base64?{}?=",
                base64::engine::general_purpose::STANDARD.encode(" lead")
            )
        );
        assert!(encode_value("trail\t").starts_with("=?base64?"));
        assert!(encode_value("a\nb").starts_with("=?base64?"));
        let sentinel_like = "=?base64?abc?=";
        let enc = encode_value(sentinel_like);
        assert_ne!(enc, sentinel_like);
        assert_eq!(decode_value(&enc).unwrap(), sentinel_like);
        for s in ["", "Zürich", "日本", " x ", "tab\there", "=?base64??="] {
            assert_eq!(decode_value(&encode_value(s)).unwrap(), s, "{s:?}");
        }
        assert_eq!(
            decode_value("=?base64?!!!?="),
            Err(HeaderValueError::InvalidBase64)
        );
        assert_eq!(decode_value("a\u{7f}"), Err(HeaderValueError::InvalidChars));
    }

    #[test]
    fn params() {
        assert_eq!(encode_param(&json!(null)).unwrap(), None);
        assert_eq!(encode_param(&json!(true)).unwrap().as_deref(), Some("true"));
        assert_eq!(encode_param(&json!(-7)).unwrap().as_deref(), Some("-7"));
        assert_eq!(
            encode_param(&json!(9007199254740992_i64)),
            Err(HeaderValueError::IntegerOutOfRange)
        );
        assert_eq!(
            encode_param(&json!(1.5)),
            Err(HeaderValueError::UnsupportedType)
        );
        assert_eq!(
            encode_param(&json!([1])),
            Err(HeaderValueError::UnsupportedType)
        );
        assert!(param_matches("42", &json!(42)).unwrap());
        assert!(!param_matches("43", &json!(42)).unwrap());
        assert!(param_matches("false", &json!(false)).unwrap());
        assert!(!param_matches("42", &json!("x")).unwrap());
    }

    #[test]
    fn annotations() {
        let schema = obj(json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "opts": {"type": "object", "properties": {"dry": {"type": "boolean", "x-mcp-header": "Dry-Run"}}},
                "n": {"type": ["integer", "null"], "x-mcp-header": "N"}
            }
        }));
        let params = header_params(&schema).unwrap();
        assert_eq!(params.len(), 3);
        let args = obj(json!({"region": "eu", "opts": {"dry": true}, "n": null}));
        let headers = param_headers(&params, &args).unwrap();
        assert!(headers.contains(&("Mcp-Param-Region".into(), "eu".into())));
        assert!(headers.contains(&("Mcp-Param-Dry-Run".into(), "true".into())));
        assert_eq!(headers.len(), 2);
    }

    #[test]
    fn invalid_annotations() {
        let bad = [
            json!({"type": "object", "properties": {"a": {"type": "number", "x-mcp-header": "A"}}}),
            json!({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": ""}}}),
            json!({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "a b"}}}),
            json!({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "X"}, "b": {"type": "string", "x-mcp-header": "x"}}}),
            json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}}),
            json!({"type": "object", "anyOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]}),
            json!({"type": "object", "$defs": {"d": {"type": "string", "x-mcp-header": "A"}}}),
            json!({"type": "object", "x-mcp-header": "Root"}),
        ];
        for schema in bad {
            assert!(header_params(&obj(schema.clone())).is_err(), "{schema}");
        }
    }
}
