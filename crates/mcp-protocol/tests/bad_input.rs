//! Bad input: arbitrary bytes and mutated valid messages never panic the parser and always get
//! the right code, judged against an independent classifier built on `serde_json::Value`.

use std::fmt;

use mcp_protocol::jsonrpc::{self, DEFAULT_MAX_DEPTH, Incoming, Message, ParseOptions};
use mcp_protocol::types::CallToolRequestParams;
use proptest::prelude::*;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// What the reference classifier expects.
#[derive(Debug, PartialEq)]
enum Expected {
    Request,
    Notification,
    Response,
    Error,
    Code(i64),
    /// Valid JSON syntax holding a number past `f64`'s range: the envelope carries it raw, so
    /// any classification but -32700 is right.
    NotParseError,
}

/// A JSON object's members in order, duplicates kept.
struct Pairs(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Pairs, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry::<String, Value>()? {
                    v.push(e);
                }
                Ok(Pairs(v))
            }
        }
        d.deserialize_map(V)
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn valid_id(v: &Value) -> bool {
    v.is_string() || v.is_i64()
}

/// The reference: JSON-RPC 2.0 as MCP uses it, decided on a fully parsed `Value`.
fn expected(input: &[u8]) -> Expected {
    let Ok(text) = std::str::from_utf8(input) else {
        return Expected::Code(-32700);
    };
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
        return Expected::Code(-32700);
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Expected::NotParseError;
    };
    if depth(&value) > DEFAULT_MAX_DEPTH {
        return Expected::Code(-32700);
    }
    let Value::Object(obj) = &value else {
        return Expected::Code(-32600);
    };
    let Ok(Pairs(pairs)) = serde_json::from_slice::<Pairs>(input) else {
        return Expected::Code(-32600);
    };
    let envelope = ["jsonrpc", "id", "method", "params", "result", "error"];
    for key in envelope {
        if pairs.iter().filter(|(k, _)| k == key).count() > 1 {
            return Expected::Code(-32600);
        }
    }
    if obj.get("jsonrpc") != Some(&Value::String("2.0".into())) {
        return Expected::Code(-32600);
    }
    let id = obj.get("id");
    if let Some(method) = obj.get("method") {
        if obj.contains_key("result") || obj.contains_key("error") || !method.is_string() {
            return Expected::Code(-32600);
        }
        if let Some(p) = obj.get("params")
            && !(p.is_object() || p.is_array() || p.is_null())
        {
            return Expected::Code(-32600);
        }
        return match id {
            None => Expected::Notification,
            Some(id) if valid_id(id) => Expected::Request,
            Some(_) => Expected::Code(-32600),
        };
    }
    if obj.contains_key("params") {
        return Expected::Code(-32600);
    }
    match (obj.get("result"), obj.get("error")) {
        (Some(_), None) if id.is_some_and(valid_id) => Expected::Response,
        (None, Some(e)) => {
            // Duplicate members inside `error` are refused like duplicates in the envelope.
            let error_has_duplicates = error_member_duplicates(input);
            let shape_ok = !error_has_duplicates
                && e.get("code").is_some_and(Value::is_i64)
                && e.get("message").is_some_and(Value::is_string);
            match id {
                _ if !shape_ok => Expected::Code(-32600),
                None | Some(Value::Null) => Expected::Error,
                Some(id) if valid_id(id) => Expected::Error,
                Some(_) => Expected::Code(-32600),
            }
        }
        _ => Expected::Code(-32600),
    }
}

fn check(input: &[u8]) -> Result<(), String> {
    let (a, e) = (actual(input), expected(input));
    let ok = match e {
        Expected::NotParseError => a != Expected::Code(-32700),
        ref e => a == *e,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("parser said {a:?}, reference says {e:?}"))
    }
}

/// Whether the top-level `error` object repeats `code`, `message` or `data`.
fn error_member_duplicates(input: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Outer {
        error: Option<Pairs>,
    }
    let Ok(Outer {
        error: Some(Pairs(members)),
    }) = serde_json::from_slice::<Outer>(input)
    else {
        return false;
    };
    ["code", "message", "data"]
        .iter()
        .any(|k| members.iter().filter(|(m, _)| m == k).count() > 1)
}

fn actual(input: &[u8]) -> Expected {
    match jsonrpc::parse(input) {
        Ok(Message::Request(_)) => Expected::Request,
        Ok(Message::Notification(_)) => Expected::Notification,
        Ok(Message::Response(_)) => Expected::Response,
        Ok(Message::Error(_)) => Expected::Error,
        Err(e) => Expected::Code(e.code()),
    }
}

const CORPUS: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi","n":[1,2.5,-3e2]}}}"#,
    r#"{"jsonrpc":"2.0","id":"abc","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}"#,
    r#"{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"\u00e9\n"}],"isError":false}}"#,
    r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
    r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32022,"message":"Unsupported","data":{"supported":["2026-07-28"],"requested":"x"}}}"#,
    r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"}]"#,
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b']'),
        Just(b'"'),
        Just(b','),
        Just(b':'),
        Just(b'\\'),
        Just(b'0'),
        Just(b'-'),
        Just(b'n'),
        Just(0xff),
        Just(0xc3),
        any::<u8>()
    ];
    prop_oneof![
        (any::<usize>(), interesting.clone()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Duplicate(a, b)),
    ]
}

fn apply(base: &str, muts: &[Mutation]) -> Vec<u8> {
    let mut v = base.as_bytes().to_vec();
    for m in muts {
        if v.is_empty() {
            break;
        }
        let len = v.len();
        match *m {
            Mutation::Flip(i, b) => v[i % len] = b,
            Mutation::Insert(i, b) => v.insert(i % (len + 1), b),
            Mutation::Delete(i) => {
                v.remove(i % len);
            }
            Mutation::Truncate(i) => v.truncate(i % len),
            Mutation::Duplicate(a, b) => {
                let (a, b) = (a % len, b % len);
                let (lo, hi) = (a.min(b), a.max(b));
                let chunk = v[lo..hi].to_vec();
                v.splice(hi..hi, chunk);
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_get_the_right_code(input in proptest::collection::vec(any::<u8>(), 0..256)) {
        prop_assert_eq!(check(&input), Ok(()));
    }

    #[test]
    fn mutated_messages_get_the_right_code(i in 0..CORPUS.len(), muts in proptest::collection::vec(mutation(), 1..6)) {
        let input = apply(CORPUS[i], &muts);
        prop_assert_eq!(check(&input), Ok(()), "input: {}", String::from_utf8_lossy(&input));
        // Typed params never panic either, whatever survived the envelope.
        if let Ok(Message::Request(r)) = jsonrpc::parse(&input) {
            let _ = r.params_as::<CallToolRequestParams>();
        }
        let opts = ParseOptions { allow_batch: true, ..ParseOptions::default() };
        let _ = jsonrpc::parse_with(&input, &opts);
    }

    #[test]
    fn json_shaped_values_get_the_right_code(v in json_value(4)) {
        let input = serde_json::to_vec(&v).unwrap();
        prop_assert_eq!(check(&input), Ok(()));
    }
}

/// Arbitrary JSON, biased toward message-like objects.
fn json_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("2.0".to_owned()),
            Just("tools/call".to_owned()),
            ".{0,8}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("jsonrpc"),
                    Just("id"),
                    Just("method"),
                    Just("params"),
                    Just("result"),
                    Just("error"),
                    Just("code"),
                    Just("message"),
                    Just("x")
                ]
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn huge_numbers_have_defined_behaviour() {
    // Integers past 64 bits in params survive the envelope verbatim and read as floats.
    let big = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"n":123456789012345678901234567890}}}"#;
    let Ok(Message::Request(r)) = jsonrpc::parse(big) else {
        panic!()
    };
    assert!(
        r.params
            .as_ref()
            .unwrap()
            .get()
            .contains("123456789012345678901234567890")
    );
    let p: CallToolRequestParams = r.params_as().unwrap();
    assert!(p.arguments.unwrap()["n"].is_f64());
    // A number past f64's range is valid JSON syntax: the envelope carries it raw (a relay
    // forwards it untouched) and a typed read of the params refuses it as -32602.
    let inf = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"n":1e400}}}"#;
    let Ok(Message::Request(r)) = jsonrpc::parse(inf) else {
        panic!()
    };
    assert_eq!(
        r.params_as::<CallToolRequestParams>()
            .unwrap_err()
            .code(mcp_protocol::ProtocolVersion::LATEST),
        -32602
    );
    assert_eq!(check(inf), Ok(()));
    // An id past the 64-bit range is an invalid request, answered with a null id.
    let id = br#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"ping"}"#;
    assert_eq!(jsonrpc::parse(id).unwrap_err().code(), -32600);
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    for depth in [65, 1_000, 100_000] {
        let input = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            jsonrpc::parse(input.as_bytes()).unwrap_err().code(),
            -32700,
            "depth {depth}"
        );
        let open_only = "{\"a\":".repeat(depth);
        assert_eq!(
            jsonrpc::parse(open_only.as_bytes()).unwrap_err().code(),
            -32700
        );
    }
}

#[test]
fn invalid_utf8_is_a_parse_error_everywhere() {
    for bad in [
        &b"\xff"[..],
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xc3\x28\"}",
        b"{\"a\xff\":1}",
    ] {
        assert_eq!(actual(bad), Expected::Code(-32700));
    }
}

#[test]
fn duplicate_keys() {
    // Envelope members: refused. Inside params: the typed reader refuses a repeated known field
    // (-32602 from `params_as`); unknown and nested repeats keep the last value.
    let dup_envelope = br#"{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}"#;
    assert_eq!(jsonrpc::parse(dup_envelope).unwrap_err().code(), -32600);
    let dup_params =
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#;
    let Ok(Message::Request(r)) = jsonrpc::parse(dup_params) else {
        panic!()
    };
    assert_eq!(
        r.params_as::<CallToolRequestParams>()
            .unwrap_err()
            .code(mcp_protocol::ProtocolVersion::LATEST),
        -32602
    );
    let dup_args = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":1,"x":2}}}"#;
    let Ok(Message::Request(r)) = jsonrpc::parse(dup_args) else {
        panic!()
    };
    assert_eq!(
        r.params_as::<CallToolRequestParams>()
            .unwrap()
            .arguments
            .unwrap()["x"],
        2
    );
}

#[test]
fn positional_params_are_refused_by_the_typed_reader() {
    let input = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["echo",{}]}"#;
    let Ok(Message::Request(r)) = jsonrpc::parse(input) else {
        panic!()
    };
    assert_eq!(
        r.params_as::<CallToolRequestParams>()
            .unwrap_err()
            .code(mcp_protocol::ProtocolVersion::LATEST),
        -32602
    );
}

#[test]
fn batches_are_classified_per_element() {
    let opts = ParseOptions {
        allow_batch: true,
        ..ParseOptions::default()
    };
    let Ok(Incoming::Batch(items)) = jsonrpc::parse_with(CORPUS[6].as_bytes(), &opts) else {
        panic!()
    };
    assert_eq!(items.len(), 2);
}
