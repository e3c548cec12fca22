//! `bench-ceiling`: the machine's ceiling for a stdio tool call — no SDK in the way.
//!
//! A blocking std loop: reads newline-delimited JSON-RPC requests on stdin, parses each with
//! serde_json, and writes a minimal `tools/call` result (the `text` argument echoed as one text
//! content block) with the same id. Output is flushed only when no further input is already
//! buffered, so pipelined requests share a write. Every request gets that answer (`initialize`
//! too, which is all the load generator's handshake needs); lines without an id (notifications)
//! get none. Ends at end of input.

use std::io::{BufRead, BufReader, BufWriter, Write};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The parts of a request the ceiling reads.
#[derive(Deserialize)]
struct Request<'a> {
    /// The request id, echoed verbatim; absent on notifications.
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    /// `params`, of which only `arguments.text` is used.
    #[serde(default)]
    params: Option<Params>,
}

/// `params` of `tools/call`.
#[derive(Deserialize)]
struct Params {
    /// The tool's arguments.
    #[serde(default)]
    arguments: Option<Arguments>,
}

/// The `echo` tool's arguments.
#[derive(Deserialize)]
struct Arguments {
    /// The text to echo.
    #[serde(default)]
    text: String,
}

/// The answer line.
#[derive(Serialize)]
struct Response<'a> {
    /// Always `"2.0"`.
    jsonrpc: &'static str,
    /// The request's id.
    id: &'a RawValue,
    /// A `CallToolResult`.
    result: CallToolResult<'a>,
}

/// A `CallToolResult` with one text block.
#[derive(Serialize)]
struct CallToolResult<'a> {
    /// The content blocks.
    content: [TextContent<'a>; 1],
}

/// A text content block.
#[derive(Serialize)]
struct TextContent<'a> {
    /// Always `"text"`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The text.
    text: &'a str,
}

fn main() -> std::io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, std::io::stdin().lock());
    let mut output = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let request: Request<'_> = match serde_json::from_slice(&line) {
            Ok(request) => request,
            Err(error) => {
                eprintln!("bench-ceiling: ignoring a line that is not a request: {error}");
                continue;
            }
        };
        if let Some(id) = request.id {
            let text = request
                .params
                .as_ref()
                .and_then(|p| p.arguments.as_ref())
                .map_or("", |a| a.text.as_str());
            let response = Response {
                jsonrpc: "2.0",
                id,
                result: CallToolResult {
                    content: [TextContent { kind: "text", text }],
                },
            };
            serde_json::to_writer(&mut output, &response)?;
            output.write_all(b"\n")?;
        }
        if input.buffer().is_empty() {
            output.flush()?;
        }
    }
    output.flush()
}
