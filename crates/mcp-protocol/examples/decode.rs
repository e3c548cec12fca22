//! Classifies a few JSON-RPC lines the way a server would, and prints one typed result as each
//! MCP revision would see it.
//!
//! Run: `cargo run -p mcp-protocol --example decode`

use mcp_protocol::jsonrpc::{self, Message, Response};
use mcp_protocol::methods;
use mcp_protocol::types::{CallToolRequestParams, CallToolResult, ContentBlock};
use mcp_protocol::{ForRevision, ProtocolVersion};

const LINES: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},"name":"weather","arguments":{"city":"Oslo"}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    r#"{"jsonrpc":"2.0","id":"a","result":{"resultType":"complete","content":[]}}"#,
    r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
    r#"{"jsonrpc":"1.0","id":9,"method":"ping"}"#,
    r#"{"jsonrpc":"2.0","id":3,"method":"tools/list""#,
    "[1,2,3]",
];

fn main() {
    println!("== classifying incoming lines");
    for line in LINES {
        match jsonrpc::parse(line.as_bytes()) {
            Ok(Message::Request(r)) => {
                let known: Vec<_> = ProtocolVersion::ALL
                    .into_iter()
                    .filter(|v| methods::is_known(&r.method, *v))
                    .map(|v| v.as_str())
                    .collect();
                println!(
                    "request {} {:<12} (in revisions {})",
                    r.id,
                    r.method,
                    known.join(", ")
                );
                if r.method == "tools/call" {
                    match r.params_as::<CallToolRequestParams>() {
                        Ok(p) => println!(
                            "  typed params: tool {:?}, arguments {:?}",
                            p.name, p.arguments
                        ),
                        Err(e) => println!("  bad params: {e}"),
                    }
                }
            }
            Ok(Message::Notification(n)) => println!("notification {}", n.method),
            Ok(Message::Response(r)) => println!("response to {}", r.id),
            Ok(Message::Error(e)) => println!("error response {:?}", e.error),
            Err(e) => {
                let reply = serde_json::to_string(&e.to_response()).unwrap_or_default();
                println!("refused with {}: reply {reply}", e.code());
            }
        }
    }

    println!("\n== one result, serialized for each revision");
    let mut result = CallToolResult::structured(serde_json::json!([{"day": "mon", "celsius": 4}]));
    result
        .content
        .push(ContentBlock::audio(b"RIFF", "audio/wav"));
    let response = Response::new(1.into(), result);
    for revision in ProtocolVersion::ALL {
        let json =
            serde_json::to_string(&ForRevision::new(&response, revision)).unwrap_or_default();
        println!("{revision} ({:?}): {json}", revision.era());
    }
}
