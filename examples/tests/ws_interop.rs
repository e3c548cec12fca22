//! The example server over WebSocket (`example-server --http 127.0.0.1:0 --ws`), driven by a
//! WebSocket client nobody here wrote: Node's `ws` package with its defaults
//! (`fixtures/peers/ws-client.mjs`). Both eras, a 1 MB message, a binary frame (1003), an
//! oversized message (1009), a foreign `Origin` (403), and the `permessage-deflate` offer `ws`
//! makes, declined. Peers come from `cargo xtask peers`; without them the test says so and
//! passes, unless `MCP_REQUIRE_PEERS` is set.

mod peer_env;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn peers() -> Option<HashMap<String, String>> {
    peer_env::peers("WebSocket interop test")
}

/// The example server with WebSocket on a free loopback port; killed on drop.
struct WsServer {
    child: Child,
    url: String,
}

impl WsServer {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_example-server"))
            .args(["--http", "127.0.0.1:0", "--ws"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start example-server --http --ws");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let http = lines.next().expect("the HTTP URL").expect("stdout");
        assert!(http.starts_with("http://127.0.0.1:"), "{http:?}");
        let url = lines.next().expect("the WebSocket URL").expect("stdout");
        assert!(
            url.starts_with("ws://127.0.0.1:") && url.ends_with("/ws"),
            "{url:?}"
        );
        Self { child, url }
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn node_ws_client_speaks_mcp_with_our_websocket_server() {
    let Some(p) = peers() else { return };
    let server = WsServer::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/peers/ws-client.mjs");
    let out = Command::new(&p["NODE22"])
        .arg(script)
        .args(["--url", &server.url, "--oversized", "5000000"])
        .env("NPM_MODULES", &p["NPM_MODULES"])
        .output()
        .expect("run node ws-client.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ws-client.mjs failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let by_op: HashMap<String, Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .map(|v| (v["op"].as_str().unwrap_or_default().to_owned(), v))
        .collect();

    // `ws` offers permessage-deflate by default; the server declines it (no extension in the
    // answer), so every frame travels uncompressed. The subprotocol is `mcp`.
    let handshake = &by_op["handshake"];
    assert!(
        handshake["offered"]
            .as_str()
            .is_some_and(|o| o.contains("permessage-deflate")),
        "{handshake}"
    );
    assert_eq!(handshake["responseExtensions"], Value::Null, "{handshake}");
    assert_eq!(handshake["extensions"], "", "{handshake}");
    assert_eq!(handshake["protocol"], "mcp", "{handshake}");

    let legacy = &by_op["legacy"];
    assert_eq!(
        legacy["initialize"]["protocolVersion"], "2025-11-25",
        "{legacy}"
    );
    assert_eq!(
        legacy["initialize"]["serverInfo"]["name"], "example-server",
        "{legacy}"
    );
    let tools: Vec<&str> = legacy["tools"]
        .as_array()
        .expect("tool names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tools.contains(&"add") && tools.contains(&"echo"),
        "{legacy}"
    );
    assert_eq!(
        legacy["call"]["structuredContent"]["sum"].as_f64(),
        Some(5.0),
        "{legacy}"
    );

    let modern = &by_op["modern"];
    assert!(
        modern["discover"]["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x == "2026-07-28")),
        "{modern}"
    );
    assert_eq!(
        modern["call"]["content"][0]["text"], "hello from ws",
        "{modern}"
    );
    assert_eq!(modern["call"]["resultType"], "complete", "{modern}");

    let large = &by_op["large"];
    assert_eq!(large["sent"], 1_000_000, "{large}");
    assert_eq!(large["received"], 1_000_000, "{large}");

    assert_eq!(by_op["binary"]["code"], 1003, "{stdout}");
    assert_eq!(by_op["oversized"]["code"], 1009, "{stdout}");
    assert_eq!(by_op["origin"]["status"], 403, "{stdout}");
    println!(
        "node ws 8.23: handshake (mcp, deflate declined), legacy, modern, 1 MB echo, 1003, 1009, 403 passed"
    );
}
