//! One-pass classification of incoming bytes into JSON-RPC messages.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{ErrorResponse, Message, Notification, Request, RequestId, Response};
use crate::error::{ErrorObject, McpError, code};

/// The default limit on nesting of arrays and objects in one message.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// How [`parse_with`] treats its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// The deepest nesting of arrays and objects accepted. Deeper input is refused as a parse
    /// error (-32700): the parser stops at the limit, so it cannot vouch for the rest. Values
    /// above 127 are capped there by `serde_json`'s own recursion limit.
    pub max_depth: usize,
    /// Whether a top-level array (a JSON-RPC batch) is accepted. Only the 2025-03-26 revision
    /// allows batches; with `false` a batch is refused as -32600.
    pub allow_batch: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
            allow_batch: false,
        }
    }
}

/// What one frame of input held.
#[derive(Debug)]
pub enum Incoming {
    /// One message.
    Single(Message),
    /// A batch (2025-03-26 only): each element classified on its own, in order.
    Batch(Vec<Result<Message, MessageError>>),
}

/// Input that is not a valid message, with the id to answer with when it could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageError {
    /// The id of the offending request, when it could be read.
    pub id: Option<RequestId>,
    /// What was wrong: [`McpError::Parse`] (-32700) or [`McpError::InvalidRequest`] (-32600).
    pub error: McpError,
}

impl MessageError {
    fn parse(message: impl Into<String>) -> Self {
        Self {
            id: None,
            error: McpError::Parse(message.into()),
        }
    }

    fn invalid(id: Option<RequestId>, message: impl Into<String>) -> Self {
        Self {
            id,
            error: McpError::InvalidRequest(message.into()),
        }
    }

    /// The JSON-RPC code: -32700 or -32600.
    pub fn code(&self) -> i64 {
        match self.error {
            McpError::Parse(_) => code::PARSE_ERROR,
            _ => code::INVALID_REQUEST,
        }
    }

    /// The error response to send back.
    pub fn to_response(&self) -> ErrorResponse {
        let message = match &self.error {
            McpError::Parse(m) => format!("Parse error: {m}"),
            McpError::InvalidRequest(m) => format!("Invalid Request: {m}"),
            other => other.to_string(),
        };
        ErrorResponse::new(self.id.clone(), ErrorObject::new(self.code(), message))
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for MessageError {}

/// Parses one message with the default options (no batches, depth limit 64).
pub fn parse(input: &[u8]) -> Result<Message, MessageError> {
    match parse_with(input, &ParseOptions::default())? {
        Incoming::Single(m) => Ok(m),
        Incoming::Batch(_) => Err(MessageError::invalid(None, "batches are not allowed")),
    }
}

/// Parses one frame of input: a message, or (when allowed) a batch.
///
/// Not JSON (including invalid UTF-8 and nesting past the limit) is -32700; JSON that is not a
/// valid message is -32600. Duplicate envelope members (`id`, `method`, ...) are -32600.
pub fn parse_with(input: &[u8], options: &ParseOptions) -> Result<Incoming, MessageError> {
    // serde_json skips strings it does not keep without checking their UTF-8; checking the whole
    // input first (fast: it vectorizes) makes every invalid byte a parse error, wherever it is.
    let input = std::str::from_utf8(input)
        .map_err(|e| MessageError::parse(format!("invalid UTF-8: {e}")))?;
    check_depth(input.as_bytes(), options.max_depth)?;
    let top: Top<'_> =
        serde_json::from_str(input).map_err(|e| MessageError::parse(e.to_string()))?;
    match top {
        Top::Object(env) => env.classify().map(Incoming::Single),
        Top::Array(items) => {
            if !options.allow_batch {
                return Err(MessageError::invalid(
                    None,
                    "batches are only allowed in protocol revision 2025-03-26",
                ));
            }
            if items.is_empty() {
                return Err(MessageError::invalid(None, "empty batch"));
            }
            Ok(Incoming::Batch(
                items
                    .into_iter()
                    .map(|raw| match serde_json::from_str::<Top<'_>>(raw.get()) {
                        Ok(Top::Object(env)) => env.classify(),
                        Ok(_) => Err(MessageError::invalid(
                            None,
                            "batch element is not an object",
                        )),
                        Err(e) => Err(MessageError::parse(e.to_string())),
                    })
                    .collect(),
            ))
        }
        Top::Other => Err(MessageError::invalid(
            None,
            "a message must be a JSON object",
        )),
    }
}

/// Refuses input nested deeper than `max`, without parsing it.
fn check_depth(input: &[u8], max: usize) -> Result<(), MessageError> {
    // Fast path: with no more opening brackets in all than the limit, no nesting can pass it.
    // `{` is 0x7B and `[` is 0x5B: they differ only in bit 0x20, so one mask finds both, and
    // byte-wide counters over chunks of 255 let the compiler vectorize the count. The exact scan
    // below only runs for bracket-heavy input.
    let openers: usize = input
        .chunks(255)
        .map(|chunk| {
            usize::from(
                chunk
                    .iter()
                    .fold(0u8, |n, &b| n.wrapping_add(u8::from(b | 0x20 == b'{'))),
            )
        })
        .sum();
    if openers <= max {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in input {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(MessageError::parse(format!(
                        "nesting deeper than {max} levels"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

enum Top<'a> {
    Object(Envelope<'a>),
    Array(Vec<&'a RawValue>),
    Other,
}

#[derive(Default)]
struct Envelope<'a> {
    jsonrpc: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    method: Option<&'a RawValue>,
    params: Option<&'a RawValue>,
    result: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
    duplicate: Option<&'static str>,
}

enum Field {
    Jsonrpc,
    Id,
    Method,
    Params,
    Result,
    Error,
    Other,
}

impl<'de> de::Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "jsonrpc" => Field::Jsonrpc,
                    "id" => Field::Id,
                    "method" => Field::Method,
                    "params" => Field::Params,
                    "result" => Field::Result,
                    "error" => Field::Error,
                    _ => Field::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de: 'a, 'a> de::Deserialize<'de> for Top<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Top<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'a>, A::Error> {
                let mut env = Envelope::default();
                while let Some(field) = map.next_key::<Field>()? {
                    let (slot, name) = match field {
                        Field::Jsonrpc => (&mut env.jsonrpc, "jsonrpc"),
                        Field::Id => (&mut env.id, "id"),
                        Field::Method => (&mut env.method, "method"),
                        Field::Params => (&mut env.params, "params"),
                        Field::Result => (&mut env.result, "result"),
                        Field::Error => (&mut env.error, "error"),
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    let value = map.next_value::<&'de RawValue>()?;
                    if slot.replace(value).is_some() && env.duplicate.is_none() {
                        env.duplicate = Some(name);
                    }
                }
                Ok(Top::Object(env))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top<'a>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(Top::Array(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Top<'a>, E> {
                Ok(Top::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Top<'a>, E> {
                Ok(Top::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Top<'a>, E> {
                Ok(Top::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Top<'a>, E> {
                Ok(Top::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Top<'a>, E> {
                Ok(Top::Other)
            }
            fn visit_unit<E>(self) -> Result<Top<'a>, E> {
                Ok(Top::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

enum IdState {
    Missing,
    Null,
    Valid(RequestId),
    Invalid(&'static str),
}

/// The contents of a JSON string token, without a second parse when it has no escapes.
fn read_string(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(text).ok()
    } else {
        Some(inner.to_owned())
    }
}

fn read_id(raw: Option<&RawValue>) -> IdState {
    let Some(raw) = raw else {
        return IdState::Missing;
    };
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => match read_string(raw) {
            Some(s) => IdState::Valid(RequestId::String(s)),
            None => IdState::Invalid("id is not a valid string"),
        },
        Some(b'n') => IdState::Null,
        Some(b'-' | b'0'..=b'9') => match text.parse::<i64>() {
            Ok(n) => IdState::Valid(RequestId::Number(n)),
            Err(_) if text.bytes().all(|b| b == b'-' || b.is_ascii_digit()) => {
                IdState::Invalid("integer id out of the 64-bit range")
            }
            Err(_) => IdState::Invalid("id must be an integer or a string, not a fraction"),
        },
        _ => IdState::Invalid("id must be an integer or a string"),
    }
}

fn is_structured(raw: &RawValue) -> bool {
    matches!(raw.get().as_bytes().first(), Some(b'{' | b'['))
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

impl Envelope<'_> {
    fn classify(self) -> Result<Message, MessageError> {
        let id = read_id(self.id);
        let id_for_error = match &id {
            IdState::Valid(id) => Some(id.clone()),
            _ => None,
        };
        let invalid = |msg: &str| Err(MessageError::invalid(id_for_error.clone(), msg));
        if let Some(name) = self.duplicate {
            return invalid(&format!("duplicate member `{name}`"));
        }
        match self.jsonrpc.map(RawValue::get) {
            Some("\"2.0\"") => {}
            Some(_) => return invalid("`jsonrpc` must be \"2.0\""),
            None => return invalid("missing `jsonrpc`"),
        }
        if let Some(method) = self.method {
            if self.result.is_some() || self.error.is_some() {
                return invalid("a message cannot have both `method` and `result`/`error`");
            }
            let Some(method) = read_string(method) else {
                return invalid("`method` must be a string");
            };
            // `"params": null` is read as absent: some clients send it, and nothing is lost.
            let params = match self.params {
                Some(p) if is_null(p) => None,
                Some(p) if is_structured(p) => Some(p.to_owned()),
                Some(_) => return invalid("`params` must be an object or an array"),
                None => None,
            };
            return match id {
                IdState::Valid(id) => Ok(Message::Request(Request {
                    id,
                    method: method.into(),
                    params,
                })),
                IdState::Missing => Ok(Message::Notification(Notification {
                    method: method.into(),
                    params,
                })),
                IdState::Null => invalid("request `id` must not be null"),
                IdState::Invalid(why) => invalid(why),
            };
        }
        if self.params.is_some() {
            return invalid("`params` without `method`");
        }
        match (self.result, self.error) {
            (Some(result), None) => match id {
                IdState::Valid(id) => Ok(Message::Response(Response {
                    id,
                    result: result.to_owned(),
                })),
                IdState::Invalid(why) => invalid(why),
                _ => invalid("a response needs the id of its request"),
            },
            (None, Some(error)) => {
                // serde's derived readers also accept a struct written as an array: refuse that here.
                let parsed = if error.get().starts_with('{') {
                    serde_json::from_str::<ErrorObject>(error.get()).ok()
                } else {
                    None
                };
                let Some(error) = parsed else {
                    return invalid(
                        "`error` must be an object with an integer `code` and a string `message`",
                    );
                };
                match id {
                    IdState::Valid(id) => Ok(Message::Error(ErrorResponse {
                        id: Some(id),
                        error,
                    })),
                    IdState::Null | IdState::Missing => {
                        Ok(Message::Error(ErrorResponse { id: None, error }))
                    }
                    IdState::Invalid(why) => invalid(why),
                }
            }
            (Some(_), Some(_)) => invalid("a response cannot have both `result` and `error`"),
            (None, None) => invalid("a message needs `method`, `result` or `error`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(input: &str) -> i64 {
        parse(input.as_bytes()).unwrap_err().code()
    }

    #[test]
    fn classifies_valid_messages() {
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Ok(Message::Request(_))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Message::Notification(_))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Ok(Message::Response(_))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#),
            Ok(Message::Error(ErrorResponse { id: None, .. }))
        ));
        let Ok(Message::Request(r)) =
            parse(br#"{"method":"m","params":null,"id":-5,"jsonrpc":"2.0","extra":[1,{"a":2}]}"#)
        else {
            panic!()
        };
        assert_eq!(r.id, RequestId::Number(-5));
        assert!(r.params.is_none());
    }

    #[test]
    fn classifies_bad_input() {
        assert_eq!(code_of("{"), -32700);
        assert_eq!(code_of(""), -32700);
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":1,"method":"ping"} x"#),
            -32700
        );
        assert_eq!(code_of("[]"), -32600);
        assert_eq!(code_of("42"), -32600);
        assert_eq!(code_of(r#""str""#), -32600);
        assert_eq!(
            code_of(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#),
            -32600
        );
        assert_eq!(code_of(r#"{"id":1,"method":"ping"}"#), -32600);
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
            -32600
        );
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#),
            -32600
        );
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#),
            -32600
        );
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","id":1,"method":7}"#), -32600);
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":1,"method":"m","params":3}"#),
            -32600
        );
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","id":1}"#), -32600);
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":""}}"#),
            -32600
        );
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":1,"error":{"code":"x"}}"#),
            -32600
        );
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","result":{}}"#), -32600);
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#),
            -32600
        );
    }

    #[test]
    fn keeps_id_for_invalid_requests() {
        let e = parse(br#"{"jsonrpc":"1.0","id":"abc","method":"ping"}"#).unwrap_err();
        assert_eq!(e.id, Some(RequestId::String("abc".into())));
        let resp = serde_json::to_value(e.to_response()).unwrap();
        assert_eq!(resp["id"], "abc");
        assert_eq!(resp["error"]["code"], -32600);
    }

    #[test]
    fn huge_integer_id_is_invalid_request() {
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":99999999999999999999,"method":"ping"}"#),
            -32600
        );
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":1e3,"method":"ping"}"#),
            -32600
        );
    }

    #[test]
    fn depth_limit() {
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{}{}}}"#,
            "[".repeat(70),
            "]".repeat(70)
        );
        assert_eq!(code_of(&deep), -32700);
        let ok = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{}{}}}"#,
            "[".repeat(60),
            "]".repeat(60)
        );
        assert!(parse(ok.as_bytes()).is_ok());
        // Brackets inside strings do not count.
        let s = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{}"}}"#,
            "[\\\"{".repeat(100)
        );
        assert!(parse(s.as_bytes()).is_ok());
    }

    #[test]
    fn invalid_utf8_is_parse_error() {
        let mut bytes = br#"{"jsonrpc":"2.0","id":1,"method":""#.to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(br#""}"#);
        assert_eq!(parse(&bytes).unwrap_err().code(), -32700);
    }

    #[test]
    fn batches() {
        let opts = ParseOptions {
            allow_batch: true,
            ..Default::default()
        };
        let input = br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"},5,{"jsonrpc":"2.0","id":null,"method":"x"}]"#;
        let Ok(Incoming::Batch(items)) = parse_with(input, &opts) else {
            panic!()
        };
        assert_eq!(items.len(), 4);
        assert!(matches!(items[0], Ok(Message::Request(_))));
        assert!(matches!(items[1], Ok(Message::Notification(_))));
        assert_eq!(items[2].as_ref().unwrap_err().code(), -32600);
        assert_eq!(items[3].as_ref().unwrap_err().code(), -32600);
        assert_eq!(parse_with(b"[]", &opts).unwrap_err().code(), -32600);
        assert_eq!(
            parse(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
                .unwrap_err()
                .code(),
            -32600
        );
    }

    #[test]
    fn serializes_back() {
        let input = r#"{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"a","arguments":{"b":[1,2]}}}"#;
        let m = parse(input.as_bytes()).unwrap();
        let out = serde_json::to_string(&m).unwrap();
        let a: serde_json::Value = serde_json::from_str(input).unwrap();
        let b: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(a, b);
    }
}
