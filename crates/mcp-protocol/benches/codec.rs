//! Codec benchmark: a 300-byte `tools/call` request parsed into typed params and a
//! `CallToolResult` response serialized, against the same work through `serde_json::Value`.
//!
//! Run with `cargo bench -p mcp-protocol` (or `cargo xtask bench`). Criterion prints each side;
//! the last lines give both medians of a direct timing loop and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use mcp_protocol::jsonrpc::{self, Message, Response};
use mcp_protocol::types::{CallToolRequestParams, CallToolResult};
use serde_json::{Value, json};

/// A modern `tools/call` request of about 300 bytes.
const REQUEST: &str = r#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":7},"name":"echo","arguments":{"text":"hello, world of MCP","count":3,"loud":false,"tags":["a","b"]}}}"#;

fn typed(input: &[u8], out: &mut Vec<u8>) {
    let Ok(Message::Request(req)) = jsonrpc::parse(input) else {
        panic!("bench input must parse")
    };
    let params: CallToolRequestParams = req.params_as().expect("typed params");
    let text = params
        .arguments
        .as_ref()
        .and_then(|a| a.get("text"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let result = CallToolResult::text(text);
    out.clear();
    serde_json::to_writer(&mut *out, &Response::new(req.id, result)).expect("serialize");
}

fn dynamic(input: &[u8], out: &mut Vec<u8>) {
    let value: Value = serde_json::from_slice(input).expect("json");
    let text = value["params"]["arguments"]["text"]
        .as_str()
        .unwrap_or_default();
    let response = json!({
        "jsonrpc": "2.0",
        "id": value["id"].clone(),
        "result": {"resultType": "complete", "content": [{"type": "text", "text": text}]}
    });
    out.clear();
    serde_json::to_writer(&mut *out, &response).expect("serialize");
}

fn median_ns(f: fn(&[u8], &mut Vec<u8>)) -> f64 {
    let mut out = Vec::with_capacity(256);
    let mut samples = Vec::new();
    for _ in 0..15 {
        let n = 20_000;
        let start = Instant::now();
        for _ in 0..n {
            f(black_box(REQUEST.as_bytes()), &mut out);
            black_box(&out);
        }
        samples.push(start.elapsed().as_nanos() as f64 / f64::from(n));
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    assert!(
        (280..=320).contains(&REQUEST.len()),
        "request is {} bytes",
        REQUEST.len()
    );
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = c.benchmark_group("tools_call_round_trip");
    let mut out = Vec::with_capacity(256);
    group.bench_function("typed", |b| {
        b.iter(|| typed(black_box(REQUEST.as_bytes()), &mut out))
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| dynamic(black_box(REQUEST.as_bytes()), &mut out))
    });
    group.finish();
    c.final_summary();

    let t = median_ns(typed);
    let v = median_ns(dynamic);
    println!("request bytes: {}", REQUEST.len());
    println!("typed (mcp-protocol): {t:.0} ns per parse + serialize");
    println!("serde_json::Value:    {v:.0} ns per parse + serialize");
    println!("ratio Value / typed:  {:.2}x", v / t);
}
