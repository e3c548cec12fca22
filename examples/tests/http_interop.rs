//! The example server over Streamable HTTP (`example-server --http 127.0.0.1:0`), driven by MCP
//! clients nobody here wrote: the TypeScript SDK's `StreamableHTTPClientTransport` (legacy
//! sessions), the Python SDK's client (legacy sessions, 2026-07-28 with its headers, and the
//! probe-then-fall-back `auto` mode) and the MCP Inspector CLI (`--transport http`, every era). Peers come from `cargo xtask peers`; without them the tests
//! say so and pass, unless `MCP_REQUIRE_PEERS` is set.

mod peer_env;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn peers() -> Option<HashMap<String, String>> {
    peer_env::peers("HTTP interop tests")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/peers")
        .join(name)
}

/// The example server on a free loopback port; killed on drop.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_example-server"))
            .args(["--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start example-server --http");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its URL");
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
        Self { child, url }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command and returns the JSON lines it printed on stdout.
fn run(cmd: &mut Command, what: &str) -> Vec<Value> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: bad JSON {l:?}: {e}")))
        .collect()
}

const OPS: [&str; 13] = [
    "--server-info",
    "--list-tools",
    "--call",
    "add",
    r#"{"a":2,"b":3}"#,
    "--call",
    "slow_count",
    r#"{"steps":3,"delay_ms":10}"#,
    "--read",
    "memo://readme",
    "--get-prompt",
    "greet",
    r#"{"name":"Ada"}"#,
];

fn check(lines: &[Value], what: &str) -> HashMap<String, Value> {
    let mut by_op: HashMap<String, Value> = HashMap::new();
    for l in lines {
        assert!(l.get("error").is_none(), "{what}: {l}");
        let op = l["op"].as_str().unwrap_or_default();
        // Two calls: keep them apart.
        let key = if op == "call" && by_op.contains_key("call") {
            "call2".to_owned()
        } else {
            op.to_owned()
        };
        by_op.insert(key, l["result"].clone());
    }
    assert_eq!(by_op.len(), 6, "{what}: {lines:?}");
    let names: Vec<&str> = by_op["list-tools"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for n in ["add", "echo", "slow_count"] {
        assert!(names.contains(&n), "{what}: {n} not in {names:?}");
    }
    assert_eq!(
        by_op["call"]["structuredContent"]["sum"].as_f64(),
        Some(5.0),
        "{what}"
    );
    assert_eq!(
        by_op["call2"]["content"][0]["text"], "counted to 3",
        "{what}"
    );
    assert_eq!(
        by_op["read"]["contents"][0]["text"], "This is the example server.",
        "{what}"
    );
    assert_eq!(
        by_op["get-prompt"]["messages"][0]["content"]["text"], "Please greet Ada warmly.",
        "{what}"
    );
    println!("{what}: server-info, tools/list, tools/call x2, resources/read, prompts/get passed");
    by_op
}

#[test]
fn typescript_sdk_streamable_http_client() {
    let Some(p) = peers() else { return };
    let server = HttpServer::start();
    let mut cmd = Command::new(&p["NODE22"]);
    cmd.arg(fixture("ts-client.mjs"))
        .env("NPM_MODULES", &p["NPM_MODULES"])
        .args(OPS)
        .args(["--url", &server.url]);
    let by_op = check(&run(&mut cmd, "ts-client http"), "typescript sdk http");
    assert_eq!(by_op["server-info"]["protocolVersion"], "2025-11-25");
}

#[test]
fn typescript_sdk_sse_client_on_the_2024_11_05_transport() {
    let Some(p) = peers() else { return };
    let server = HttpServer::start();
    let sse_url = server.url.replace("/mcp", "/sse");
    let mut cmd = Command::new(&p["NODE22"]);
    cmd.arg(fixture("ts-client.mjs"))
        .env("NPM_MODULES", &p["NPM_MODULES"])
        .args(OPS)
        .args(["--sse", &sse_url]);
    let by_op = check(&run(&mut cmd, "ts-client sse"), "typescript sdk http+sse");
    // The SSE transport carries whatever the client asks for in `initialize`.
    assert_eq!(by_op["server-info"]["protocolVersion"], "2025-11-25");
}

#[test]
fn python_sdk_http_client_in_every_mode() {
    let Some(p) = peers() else { return };
    let server = HttpServer::start();
    for (era, version) in [
        ("legacy", "2025-11-25"),
        ("modern", "2026-07-28"),
        ("auto", "2026-07-28"),
    ] {
        let mut cmd = Command::new(&p["PYTHON"]);
        cmd.arg(fixture("py-client.py"))
            .args(["--era", era])
            .args(OPS)
            .args(["--url", &server.url]);
        let what = format!("python sdk http {era}");
        let by_op = check(&run(&mut cmd, &what), &what);
        assert_eq!(by_op["server-info"]["protocolVersion"], version, "{what}");
    }
}

#[test]
fn inspector_cli_over_http_in_every_era() {
    let Some(p) = peers() else { return };
    let server = HttpServer::start();
    for era in ["legacy", "modern", "auto"] {
        let calls: [&[&str]; 3] = [
            &["--method", "tools/list"],
            &[
                "--method",
                "tools/call",
                "--tool-name",
                "add",
                "--tool-args-json",
                r#"{"a":2,"b":3}"#,
            ],
            &["--method", "resources/read", "--uri", "memo://readme"],
        ];
        let mut results = Vec::new();
        for args in calls {
            let mut cmd = Command::new(&p["NODE22"]);
            cmd.arg(&p["INSPECTOR_CLI"])
                .args(["--cli", &server.url, "--transport", "http"])
                .args(["--protocol-era", era, "--format", "json"])
                .args(args);
            let what = format!("inspector http {era} {args:?}");
            let mut lines = run(&mut cmd, &what);
            results.push(lines.pop().expect("one JSON result")["result"].clone());
        }
        assert!(
            results[0]["tools"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["name"] == "slow_count")),
            "{era}: {}",
            results[0]
        );
        assert_eq!(
            results[1]["structuredContent"]["sum"].as_f64(),
            Some(5.0),
            "{era}"
        );
        assert_eq!(
            results[2]["contents"][0]["text"], "This is the example server.",
            "{era}"
        );
        println!("inspector http {era}: tools/list, tools/call, resources/read passed");
    }
}
