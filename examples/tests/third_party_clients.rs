//! The example server over stdio, driven by MCP clients nobody here wrote: the MCP Inspector
//! CLI (both eras), the TypeScript SDK client (legacy) and the Python SDK client (both eras).
//! `cargo xtask peers` installs them at pinned versions and writes `target/peers/peers.env`;
//! `cargo xtask ci` does that first and sets `MCP_REQUIRE_PEERS`, so there these tests cannot
//! be skipped. A plain `cargo test` without the peers says plainly that they did not run.

mod peer_env;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn peers() -> Option<HashMap<String, String>> {
    peer_env::peers("third-party client tests")
}

fn server() -> &'static str {
    env!("CARGO_BIN_EXE_example-server")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/peers")
        .join(name)
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

fn inspector(peers: &HashMap<String, String>, era: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new(&peers["NODE22"]);
    cmd.arg(&peers["INSPECTOR_CLI"])
        .arg("--cli")
        .arg(server())
        .args(["--protocol-era", era, "--format", "json"])
        .args(args);
    let mut lines = run(
        &mut cmd,
        &format!("inspector --protocol-era {era} {args:?}"),
    );
    lines
        .pop()
        .expect("one JSON result")
        .get("result")
        .cloned()
        .expect("a result")
}

fn check_tool_list(result: &Value) {
    let names: Vec<&str> = result["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for n in ["add", "echo", "slow_count"] {
        assert!(names.contains(&n), "{n} not in {names:?}");
    }
}

fn check_call(result: &Value) {
    assert_eq!(
        result["structuredContent"]["sum"].as_f64(),
        Some(5.0),
        "{result}"
    );
}

fn check_read(result: &Value) {
    assert_eq!(
        result["contents"][0]["text"], "This is the example server.",
        "{result}"
    );
}

fn check_prompt(result: &Value) {
    assert_eq!(
        result["messages"][0]["content"]["text"], "Please greet Ada warmly.",
        "{result}"
    );
}

#[test]
fn inspector_cli_in_both_eras() {
    let Some(p) = peers() else { return };
    for era in ["legacy", "modern"] {
        check_tool_list(&inspector(&p, era, &["--method", "tools/list"]));
        check_call(&inspector(
            &p,
            era,
            &[
                "--method",
                "tools/call",
                "--tool-name",
                "add",
                "--tool-args-json",
                r#"{"a":2,"b":3}"#,
            ],
        ));
        check_read(&inspector(
            &p,
            era,
            &["--method", "resources/read", "--uri", "memo://readme"],
        ));
        check_prompt(&inspector(
            &p,
            era,
            &[
                "--method",
                "prompts/get",
                "--prompt-name",
                "greet",
                "--prompt-args",
                "name=Ada",
            ],
        ));
        println!("inspector {era}: tools/list, tools/call, resources/read, prompts/get passed");
    }
}

fn sdk_ops() -> [&'static str; 9] {
    [
        "--list-tools",
        "--call",
        "add",
        r#"{"a":2,"b":3}"#,
        "--read",
        "memo://readme",
        "--get-prompt",
        "greet",
        r#"{"name":"Ada"}"#,
    ]
}

fn check_sdk_lines(lines: &[Value], what: &str) {
    let by_op: HashMap<&str, &Value> = lines
        .iter()
        .map(|l| (l["op"].as_str().unwrap_or_default(), &l["result"]))
        .collect();
    assert_eq!(by_op.len(), 4, "{what}: {lines:?}");
    check_tool_list(by_op["list-tools"]);
    check_call(by_op["call"]);
    check_read(by_op["read"]);
    check_prompt(by_op["get-prompt"]);
    println!("{what}: tools/list, tools/call, resources/read, prompts/get passed");
}

#[test]
fn typescript_sdk_client_legacy() {
    let Some(p) = peers() else { return };
    let mut cmd = Command::new(&p["NODE22"]);
    cmd.arg(fixture("ts-client.mjs"))
        .env("NPM_MODULES", &p["NPM_MODULES"])
        .args(sdk_ops())
        .arg("--")
        .arg(server());
    check_sdk_lines(&run(&mut cmd, "ts-client"), "typescript sdk legacy");
}

#[test]
fn python_sdk_client_in_both_eras() {
    let Some(p) = peers() else { return };
    for era in ["legacy", "modern"] {
        let mut cmd = Command::new(&p["PYTHON"]);
        cmd.arg(fixture("py-client.py"))
            .args(["--era", era])
            .args(sdk_ops())
            .arg("--")
            .arg(server());
        let lines = run(&mut cmd, &format!("py-client {era}"));
        check_sdk_lines(&lines, &format!("python sdk {era}"));
        if era == "modern" {
            let listed = lines.iter().find(|l| l["op"] == "list-tools").unwrap();
            assert!(
                listed["result"]["ttlMs"].is_u64(),
                "modern results carry caching hints: {listed}"
            );
        }
    }
}
