//! `mcp bridge`, run as the real binary: `server-filesystem` (a third-party stdio server)
//! called through it by the TypeScript SDK's client and by `mcp` over Streamable HTTP and
//! WebSocket; authentication in front of it; one child per session; a crashing child.

mod mcp_process;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use mcp_process::raw::Raw;
use mcp_process::{LIMIT, MCP, Served, TempDir, mcp, peers};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The direct children of process `pid` (Linux).
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            found.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    found.sort_unstable();
    found
}

/// Whether process `pid` still runs (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Waits up to [`LIMIT`] for `done`, looking every 50 ms (process states have no event to await).
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let give_up = tokio::time::Instant::now() + LIMIT;
    while !done() {
        assert!(tokio::time::Instant::now() < give_up, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/peers")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn server_filesystem_through_the_bridge_for_the_typescript_sdk_and_mcp() {
    let Some(p) = peers("mcp bridge in front of server-filesystem") else {
        return;
    };
    let dir = TempDir::new("bridge-fs");
    let note = dir.0.join("note.txt");
    std::fs::write(&note, "hello through the bridge\n").unwrap();
    let note = note.to_str().unwrap();
    let bridge = Served::command(&[
        "bridge",
        "--http",
        "127.0.0.1:0",
        "--",
        &p["NODE22"],
        &p["SERVER_FILESYSTEM"],
        dir.0.to_str().unwrap(),
    ])
    .await;

    // The TypeScript SDK's Streamable HTTP client lists the tools and reads the file.
    let output = tokio::time::timeout(
        LIMIT,
        tokio::process::Command::new(&p["NODE22"])
            .arg(fixture("ts-client.mjs"))
            .env("NPM_MODULES", &p["NPM_MODULES"])
            .args(["--server-info", "--list-tools", "--call", "read_file"])
            .arg(json!({ "path": note }).to_string())
            .args(["--url", &bridge.url])
            .stderr(Stdio::inherit())
            .output(),
    )
    .await
    .expect("the TypeScript client finished")
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0]["result"]["serverInfo"]["name"], "secure-filesystem-server",
        "the bridge names itself as the child does: {lines:?}"
    );
    let tools: Vec<&str> = lines[1]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for name in [
        "read_file",
        "read_text_file",
        "write_file",
        "list_directory",
    ] {
        assert!(tools.contains(&name), "{name} not in {tools:?}");
    }
    let read_file = lines[1]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "read_file")
        .unwrap();
    assert_eq!(
        read_file["inputSchema"]["required"],
        json!(["path"]),
        "schemas relayed as they are: {read_file}"
    );
    assert_eq!(
        lines[2]["result"]["content"][0]["text"], "hello through the bridge\n",
        "{lines:?}"
    );

    // `mcp` over Streamable HTTP (2026-07-28 and legacy) and over WebSocket.
    for (url, protocol) in [
        (&bridge.url, "auto"),
        (&bridge.url, "legacy"),
        (&bridge.ws, "auto"),
        (&bridge.sse, "auto"),
    ] {
        let ran = mcp(&["tools", "-s", url, "--protocol", protocol], "").await;
        assert_eq!(ran.code, 0, "{url} {protocol}: {ran:?}");
        assert!(ran.stdout.contains("\nread_file "), "{ran:?}");
        let ran = mcp(
            &[
                "call",
                "read_file",
                "-a",
                &format!("path={note}"),
                "-s",
                url,
                "--protocol",
                protocol,
                "--format",
                "json",
            ],
            "",
        )
        .await;
        assert_eq!(ran.code, 0, "{url} {protocol}: {ran:?}");
        assert_eq!(
            ran.json()["content"][0]["text"],
            "hello through the bridge\n"
        );
    }
    let ran = mcp(&["discover", "-s", &bridge.url, "--format", "json"], "").await;
    assert_eq!(
        ran.json()["era"],
        "modern",
        "the bridge speaks 2026-07-28 to a legacy-only child's clients: {ran:?}"
    );

    // The child's own refusals come back as they were: a path outside its directory is a tool
    // error, an unknown tool a protocol error.
    let ran = mcp(
        &[
            "call",
            "read_file",
            "-a",
            "path=/etc/hostname",
            "-s",
            &bridge.url,
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 5, "{ran:?}");
    assert!(ran.stdout.contains("denied"), "{ran:?}");
    let ran = mcp(&["call", "no_such_tool", "-s", &bridge.url], "").await;
    assert_eq!(ran.code, 6, "{ran:?}");
    assert_eq!(bridge.terminate().await, Some(0));
}

#[tokio::test]
async fn credentials_in_front_of_the_bridge() {
    let key = "bridge-key-0123456789abcdef";
    let echo_only = format!("{key}:tools.call.echo");
    let bridge = Served::command(&[
        "bridge",
        "--http",
        "127.0.0.1:0",
        "--api-key",
        &echo_only,
        "--metrics",
        "--",
        MCP,
        "serve",
    ])
    .await;
    let raw = Raw::new(&bridge.url);
    let refused = raw.call("echo", json!({"text": "x"}), &[]).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert!(refused.header("www-authenticate").is_some());
    let ran = mcp(&["tools", "-s", &bridge.url], "").await;
    assert_eq!(ran.code, 3, "{ran:?}");
    let ran = mcp(&["tools", "-s", &bridge.ws], "").await;
    assert_eq!(ran.code, 3, "the WebSocket upgrade is refused too: {ran:?}");
    let ran = mcp(
        &[
            "call",
            "echo",
            "-a",
            "text=hi",
            "-s",
            &bridge.ws,
            "--api-key",
            key,
        ],
        "",
    )
    .await;
    assert_eq!((ran.code, ran.stdout.trim()), (0, "hi"), "{ran:?}");
    let forbidden = raw
        .call("add", json!({"a": 1, "b": 2}), &[("x-api-key", key)])
        .await;
    assert_eq!(forbidden.code(), Some(-31403), "{}", forbidden.text);
    let page = raw.get("/metrics", &[("x-api-key", key)]).await;
    assert!(
        page.text
            .contains(r#"mcp_requests_total{method="tools/call",outcome="success",tool="echo"} 1"#),
        "{}",
        page.text
    );
    let ready = raw.get("/health/ready", &[]).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["components"]["upstream"]["status"], "up");
}

/// A legacy session by hand: `initialize`, `notifications/initialized`; the session id.
async fn open_session(raw: &Raw) -> String {
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}});
    let answer = raw
        .send(hyper::Method::POST, "/mcp", &headers, Some(&init))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let session = answer.header("mcp-session-id").unwrap().to_owned();
    let mut with_session = headers.to_vec();
    with_session.push(("mcp-session-id", &session));
    with_session.push(("mcp-protocol-version", "2025-06-18"));
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let answer = raw
        .send(hyper::Method::POST, "/mcp", &with_session, Some(&note))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text);
    session
}

async fn session_call(raw: &Raw, session: &str, text: &str) -> Value {
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-session-id", session),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": text}}});
    raw.send(hyper::Method::POST, "/mcp", &headers, Some(&call))
        .await
        .body
}

#[tokio::test]
async fn per_session_children_start_and_end_with_their_sessions() {
    let bridge = Served::command(&[
        "bridge",
        "--http",
        "127.0.0.1:0",
        "--per-session",
        "--",
        MCP,
        "serve",
    ])
    .await;
    let pid = bridge.pid();
    eventually("the probe child ended", || children_of(pid).is_empty()).await;
    let raw = Raw::new(&bridge.url);

    // Two sessions, two children.
    let one = open_session(&raw).await;
    let two = open_session(&raw).await;
    assert!(children_of(pid).is_empty(), "a child starts on first use");
    assert_eq!(
        session_call(&raw, &one, "first").await["result"]["content"][0]["text"],
        "first"
    );
    let first_child = children_of(pid);
    assert_eq!(first_child.len(), 1, "{first_child:?}");
    assert_eq!(
        session_call(&raw, &two, "second").await["result"]["content"][0]["text"],
        "second"
    );
    let both = children_of(pid);
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(
        session_call(&raw, &one, "again").await["result"]["content"][0]["text"],
        "again",
        "a session keeps its child"
    );
    assert_eq!(children_of(pid), both);

    // Ending a session ends its child, and only its child.
    let deleted = raw
        .send(
            hyper::Method::DELETE,
            "/mcp",
            &[
                ("mcp-session-id", &one),
                ("mcp-protocol-version", "2025-06-18"),
            ],
            None,
        )
        .await;
    assert!(deleted.status.is_success(), "{deleted:?}");
    let first = first_child[0];
    eventually("the first session's child ended and was reaped", || {
        !alive(first) && !children_of(pid).contains(&first)
    })
    .await;
    let left = children_of(pid);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], first);
    assert_eq!(
        session_call(&raw, &two, "still").await["result"]["content"][0]["text"],
        "still"
    );

    // The modern era has no sessions: our client falls back to a legacy session.
    let ran = mcp(&["discover", "-s", &bridge.url, "--format", "json"], "").await;
    assert_eq!(ran.json()["era"], "legacy", "{ran:?}");
    let modern = raw.call("echo", json!({"text": "x"}), &[]).await;
    assert_eq!(modern.status, 400, "{}", modern.text);
    assert_eq!(modern.code(), Some(-32022), "{}", modern.text);

    // The child's questions reach the session's client: sampling answered by `mcp`'s
    // --sampling-command, over a legacy HTTP session and over WebSocket.
    for url in [&bridge.url, &bridge.ws] {
        let ran = mcp(
            &[
                "call",
                "summarize",
                "-a",
                "text=a long story",
                "-s",
                url,
                "--sampling-command",
                "echo a short one",
            ],
            "",
        )
        .await;
        assert_eq!(ran.code, 0, "{url}: {ran:?}");
        assert_eq!(
            ran.stdout.trim(),
            "Summary from echo: a short one",
            "{ran:?}"
        );
    }
    // Each of those sessions ended with its `mcp` process, and took its child along.
    eventually("only the second session's child is left", || {
        children_of(pid) == left
    })
    .await;
    assert_eq!(bridge.terminate().await, Some(0));
}

#[tokio::test]
async fn the_shared_child_is_restarted_and_the_bridge_is_unready_meanwhile() {
    let dir = TempDir::new("bridge-crash");
    let broken = dir.0.join("broken");
    // The child: the example server, unless the flag file exists.
    let script = format!(
        "if [ -e '{}' ]; then exit 3; fi; exec '{MCP}' serve",
        broken.display()
    );
    let bridge =
        Served::command(&["bridge", "--http", "127.0.0.1:0", "--", "sh", "-c", &script]).await;
    let pid = bridge.pid();
    let raw = Raw::new(&bridge.url);
    let call = |text: &'static str| {
        let raw = raw.clone();
        async move { raw.call("echo", json!({"text": text}), &[]).await }
    };
    assert_eq!(call("up").await.status, 200);
    // Sampling is not forwarded by a shared child: the child is told the client cannot, and
    // (speaking 2026-07-28 to the bridge) answers -32021.
    let ran = mcp(
        &[
            "call",
            "summarize",
            "-a",
            "text=x",
            "-s",
            &bridge.url,
            "--sampling-command",
            "echo no",
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 6, "{ran:?}");
    assert!(ran.stderr.contains("-32021"), "{ran:?}");

    // A call in flight when the child dies fails at once with -31503.
    let mut slow = tokio::process::Command::new(MCP)
        .args([
            "call",
            "slow_count",
            "-a",
            "steps=600",
            "-a",
            "delay_ms=100",
            "-s",
            &bridge.url,
            "--format",
            "json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(slow.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(LIMIT, stderr.next_line())
        .await
        .expect("progress in time")
        .unwrap()
        .unwrap();
    assert!(first.starts_with(r#"{"progress":"#), "{first}");
    std::fs::write(&broken, "").unwrap();
    let child = children_of(pid);
    assert_eq!(child.len(), 1, "{child:?}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child[0]).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let mut rest = String::new();
    while let Ok(Some(line)) = stderr.next_line().await {
        rest.push_str(&line);
        rest.push('\n');
    }
    let status = tokio::time::timeout(LIMIT, slow.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(rest.contains("-31503"), "{rest}");
    assert!(rest.contains("went away"), "{rest}");

    // While it cannot restart: unready, and calls get 503 / -31503 at once.
    let mut not_ready = None;
    let give_up = tokio::time::Instant::now() + LIMIT;
    while not_ready.is_none() {
        let ready = raw.get("/health/ready", &[]).await;
        if ready.status == 503 {
            not_ready = Some(ready);
        } else {
            assert!(tokio::time::Instant::now() < give_up, "never unready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let not_ready = not_ready.unwrap();
    assert_eq!(
        not_ready.body["components"]["upstream"]["status"], "down",
        "{}",
        not_ready.text
    );
    let refused = call("down").await;
    assert_eq!(refused.code(), Some(-31503), "{}", refused.text);
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(raw.get("/health", &[]).await.status, 200, "still alive");

    // Once the child can start again, the bridge is ready and calls work.
    std::fs::remove_file(&broken).unwrap();
    let give_up = tokio::time::Instant::now() + LIMIT;
    while raw.get("/health/ready", &[]).await.status != 200 {
        assert!(tokio::time::Instant::now() < give_up, "never ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back = call("back").await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.body["result"]["content"][0]["text"], "back");
    assert_eq!(bridge.terminate().await, Some(0));
}

#[tokio::test]
async fn bad_bridge_command_lines_are_usage_errors() {
    let ran = mcp(&["bridge", "--http", "127.0.0.1:0"], "").await;
    assert_eq!(ran.code, 2, "no command: {ran:?}");
    let ran = mcp(
        &[
            "bridge",
            "--http",
            "127.0.0.1:0",
            "--",
            "/nonexistent/server",
        ],
        "",
    )
    .await;
    assert_eq!(ran.code, 4, "a child that cannot start: {ran:?}");
    assert!(ran.stderr.contains("/nonexistent/server"), "{ran:?}");
}
