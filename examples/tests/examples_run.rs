//! The programs that mirror the original SDK's examples, run for real against each other: each
//! server example started as a process (stdio child, or on a free loopback port it prints),
//! each client example run as a process against a server example, outputs and exit codes
//! checked. Every wait is bounded.

use std::collections::BTreeMap;
use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use mcp_client::{Client, ClientOptions, HttpClientOptions, WsClientOptions};
use mcp_protocol::types::{ResourceContents, SubscriptionFilter};
use mcp_transport::child::ChildSpec;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// How long any one step may take on a loaded machine.
const WAIT: Duration = Duration::from_secs(60);

/// A server example listening on a free loopback port; killed on drop unless stopped.
struct Listening {
    child: Child,
    /// The first line it printed: its URL.
    url: String,
    /// The rest of its stdout, kept open: a server printing a second URL into a closed pipe
    /// would fail.
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl Listening {
    /// Starts `program` with `args` (and `env`), and reads the URL it prints once listening.
    async fn start(program: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start the server example");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the server prints its URL in time")
            .expect("read stdout")
            .expect("a URL line");
        assert!(url.contains("://127.0.0.1:"), "{url:?}");
        Self {
            child,
            url,
            _stdout: lines,
        }
    }

    /// Sends SIGTERM and waits for the process to end: a graceful shutdown exits 0.
    async fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().expect("still running").to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("run kill");
        assert!(killed.success());
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the server stops in time")
            .expect("wait for the server");
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = tokio::time::timeout(WAIT, pipe.read_to_string(&mut stderr)).await;
        }
        (status, stderr)
    }
}

/// Runs a client example to completion.
async fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .env_remove("MCP_API_KEY")
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    tokio::time::timeout(WAIT, command.output())
        .await
        .expect("the client example finishes in time")
        .expect("run the client example")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn text(result: &mcp_protocol::types::CallToolResult) -> &str {
    result.content[0].as_text().unwrap_or_default()
}

async fn spawn_stdio(program: &str) -> Client {
    tokio::time::timeout(
        WAIT,
        Client::spawn(
            &ChildSpec::new(program, [] as [&str; 0]),
            ClientOptions::default(),
        ),
    )
    .await
    .expect("connect in time")
    .expect("connect over stdio")
}

#[tokio::test]
async fn simple_server_serves_its_tools_resource_and_prompt_over_stdio() {
    let client = spawn_stdio(env!("CARGO_BIN_EXE_simple-server")).await;
    let mut names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    assert_eq!(names, ["add", "greet", "word_count"]);
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 3.5}))
        .await
        .unwrap();
    assert_eq!(sum.structured_content, Some(json!({"sum": 5.5})));
    let words = client
        .call_tool("word_count", json!({"text": "three words here"}))
        .await
        .unwrap();
    assert_eq!(text(&words), "3");
    let greeting = client.call_tool("greet", json!({})).await.unwrap();
    assert_eq!(text(&greeting), "Hello, world!");
    // Arguments that do not match the schema never reach the function: a tool error.
    let wrong = client
        .call_tool("add", json!({"a": "two", "b": 3}))
        .await
        .unwrap();
    assert!(wrong.is_error());
    let settings = client.read_resource("config://settings").await.unwrap();
    let ResourceContents::Text(settings) = &settings.contents[0] else {
        panic!("text contents expected");
    };
    assert_eq!(
        serde_json::from_str::<Value>(&settings.text).unwrap()["units"],
        "metric"
    );
    let prompt = client
        .get_prompt(
            "summarize",
            BTreeMap::from([("topic".to_owned(), "tides".to_owned())]),
        )
        .await
        .unwrap();
    assert_eq!(
        prompt.messages[0].content.as_text(),
        Some("Summarize what is known about tides in three sentences.")
    );
    client.close().await;
}

/// The inventory tools through `client`, from an empty inventory.
async fn exercise_inventory(client: &Client) {
    let added = client
        .call_tool("add_item", json!({"name": "apples", "quantity": 3}))
        .await
        .unwrap();
    assert_eq!(text(&added), "apples: 3");
    let added = client
        .call_tool("add_item", json!({"name": "apples", "quantity": 2}))
        .await
        .unwrap();
    assert_eq!(text(&added), "apples: 5", "the state outlives the call");
    client
        .call_tool("add_item", json!({"name": "pears", "quantity": 1}))
        .await
        .unwrap();
    let listed = client.call_tool("list_items", json!({})).await.unwrap();
    assert_eq!(
        listed.structured_content,
        Some(json!({"items": {"apples": 5, "pears": 1}, "total": 6}))
    );
    let removed = client
        .call_tool("remove_item", json!({"name": "pears"}))
        .await
        .unwrap();
    assert_eq!(text(&removed), "removed 1 pears");
    let missing = client
        .call_tool("remove_item", json!({"name": "pears"}))
        .await
        .unwrap();
    assert!(missing.is_error());
    assert_eq!(text(&missing), "no item named pears");
    let read = client.read_resource("inventory://items").await.unwrap();
    let ResourceContents::Text(items) = &read.contents[0] else {
        panic!("text contents expected");
    };
    assert_eq!(
        serde_json::from_str::<Value>(&items.text).unwrap(),
        json!({"apples": 5})
    );
}

#[tokio::test]
async fn base_class_server_keeps_its_state_over_stdio_and_http_and_stops_gracefully() {
    let program = env!("CARGO_BIN_EXE_base-class-server");
    let client = spawn_stdio(program).await;
    let session = client.session().unwrap();
    assert_eq!(
        session.server_info.as_ref().unwrap().name,
        "inventory-server"
    );
    exercise_inventory(&client).await;
    client.close().await;

    let server = Listening::start(program, &["--http", "127.0.0.1:0"], &[]).await;
    let client = Client::connect_http(
        &server.url,
        ClientOptions::default(),
        HttpClientOptions::default(),
    )
    .await
    .expect("connect over HTTP");
    exercise_inventory(&client).await;
    client.close().await;
    let (status, _) = server.terminate().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn websocket_server_checks_the_key_runs_calls_concurrently_and_notifies() {
    const KEY: &str = "ws-key-5d0c3b9a8e7f6a41";
    let server = Listening::start(
        env!("CARGO_BIN_EXE_websocket-server"),
        &["--listen", "127.0.0.1:0"],
        &[("MCP_SERVER_API_KEY", KEY)],
    )
    .await;
    assert!(server.url.starts_with("ws://") && server.url.ends_with("/ws"));
    let with_key = |key: &str| WsClientOptions {
        headers: vec![("X-API-Key".to_owned(), key.to_owned())],
        ..WsClientOptions::default()
    };

    // A wrong key or none: the handshake is refused with 401, before any MCP message.
    for key in ["wrong-key-0000000000000", ""] {
        let refused =
            Client::connect_ws(&server.url, ClientOptions::default(), with_key(key)).await;
        let error = refused.expect_err("refused");
        assert!(error.to_string().contains("401"), "{error}");
    }

    // The client example over WebSocket: the key in the handshake, a refusal told apart.
    let client_with_auth = env!("CARGO_BIN_EXE_client-with-auth");
    let ok = run(client_with_auth, &[&server.url, "--api-key", KEY], &[]).await;
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("echo -> hello"), "{}", stdout(&ok));
    let wrong = run(
        client_with_auth,
        &[&server.url, "--bearer", "wrong-key-0000000000000"],
        &[],
    )
    .await;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("401 Unauthorized"),
        "{}",
        stderr(&wrong)
    );

    let client = Client::connect_ws(&server.url, ClientOptions::default(), with_key(KEY))
        .await
        .expect("connect over WebSocket");
    // A slow call does not hold up the socket: echo answers while slow_count still runs.
    let mut slow = Box::pin(client.call_tool("slow_count", json!({"steps": 600, "delay_ms": 100})));
    tokio::select! {
        done = &mut slow => panic!("slow_count finished first: {done:?}"),
        echo = client.call_tool("echo", json!({"text": "meanwhile"})) => {
            assert_eq!(text(&echo.unwrap()), "meanwhile");
        }
    }
    // A short count finishes with its result.
    let counted = client
        .call_tool("slow_count", json!({"steps": 3, "delay_ms": 10}))
        .await
        .unwrap();
    assert_eq!(text(&counted), "counted to 3");

    // A change to the resource reaches its subscriber.
    let mut subscription = client
        .listen(SubscriptionFilter {
            resource_subscriptions: Some(vec!["status://current".into()]),
            ..SubscriptionFilter::default()
        })
        .await
        .expect("listen");
    let set = client
        .call_tool("set_status", json!({"text": "green"}))
        .await
        .unwrap();
    assert_eq!(text(&set), "status: green");
    let heard = tokio::time::timeout(WAIT, subscription.next())
        .await
        .expect("notified in time")
        .expect("a notification");
    assert_eq!(heard.method, "notifications/resources/updated");
    let read = client.read_resource("status://current").await.unwrap();
    let ResourceContents::Text(status) = &read.contents[0] else {
        panic!("text contents expected");
    };
    assert_eq!(status.text, "green");
    drop(subscription);
    // Dropping the call sends `notifications/cancelled`; the echo after it is a barrier
    // (messages go out in order), so the server has stopped the count before the socket
    // closes and the shutdown has nothing to wait for.
    drop(slow);
    client
        .call_tool("echo", json!({"text": "barrier"}))
        .await
        .unwrap();
    client.close().await;

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("websocket-server: stopped"), "{stderr}");
}

/// Writes a key file for `production-server` (digests only) and returns its path.
fn production_keys() -> std::path::PathBuf {
    let entries = json!([
        {"id": "ops", "sha256": mcp_auth::sha256_hex(OPS_KEY), "permissions": ["tools.*", "ops.*"]},
        {"id": "reader", "sha256": mcp_auth::sha256_hex(READER_KEY),
         "permissions": ["tools.call.echo", "tools.call.stats"]},
    ]);
    let path = std::env::temp_dir().join(format!("examples-run-keys-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_vec(&entries).unwrap()).expect("write the key file");
    path
}

const OPS_KEY: &str = "ops-key-8b2e4f6a1c3d5e79";
const READER_KEY: &str = "reader-key-3f9a7c5e1b2d4068";

/// `GET path` on the server's port, raw: the status line and the body.
async fn get(url: &str, path: &str) -> String {
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut answer))
        .await
        .expect("answered in time")
        .unwrap();
    answer
}

#[tokio::test]
async fn client_with_auth_against_production_server_right_wrong_and_missing_keys() {
    let keys = production_keys();
    let server = Listening::start(
        env!("CARGO_BIN_EXE_production-server"),
        &["--keys", keys.to_str().unwrap(), "--http", "127.0.0.1:0"],
        &[],
    )
    .await;
    let _ = std::fs::remove_file(&keys);
    let client = env!("CARGO_BIN_EXE_client-with-auth");
    let url = server.url.as_str();

    // The right key, from the environment: every tool listed, the call answered.
    let ok = run(client, &[url], &[("MCP_API_KEY", OPS_KEY)]).await;
    assert!(ok.status.success(), "{}", stderr(&ok));
    let out = stdout(&ok);
    assert!(out.contains("connected to production-server"), "{out}");
    assert!(
        out.contains("tools (5): echo, flaky, lookup, set_backend, stats"),
        "{out}"
    );
    assert!(out.contains("echo -> hello"), "{out}");

    // A narrower key as a bearer token: the list holds only what it may call.
    let reader = run(
        client,
        &[url, "--bearer", READER_KEY, "--args", r#"{"text": "hi"}"#],
        &[],
    )
    .await;
    assert!(reader.status.success(), "{}", stderr(&reader));
    let out = stdout(&reader);
    assert!(out.contains("tools (2): echo, stats"), "{out}");
    assert!(out.contains("echo -> hi"), "{out}");

    // A wrong key: 401, exit 3, and a message that says the credentials were refused.
    let wrong = run(
        client,
        &[url, "--api-key", "wrong-key-000000000000000"],
        &[],
    )
    .await;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    let err = stderr(&wrong);
    assert!(
        err.contains("refused the credentials (401 Unauthorized)"),
        "{err}"
    );
    assert!(
        stdout(&wrong).is_empty(),
        "nothing listed: {}",
        stdout(&wrong)
    );

    // No key at all: 401, exit 3, and how to give one.
    let missing = run(client, &[url], &[]).await;
    assert_eq!(missing.status.code(), Some(3), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("requires credentials (401 Unauthorized)"),
        "{}",
        stderr(&missing)
    );

    // A valid key without the permission: 403, exit 3, naming what is missing.
    let forbidden = run(
        client,
        &[
            url,
            "--api-key",
            READER_KEY,
            "--tool",
            "set_backend",
            "--args",
            r#"{"up": true}"#,
        ],
        &[],
    )
    .await;
    assert_eq!(forbidden.status.code(), Some(3), "{}", stderr(&forbidden));
    let err = stderr(&forbidden);
    assert!(err.contains("403 Forbidden"), "{err}");
    assert!(err.contains("ops.backend"), "{err}");

    // /health answers beside /mcp.
    let health = get(url, "/health").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""status":"ok""#), "{health}");

    // An address where nothing listens: exit 4.
    let nobody = run(
        client,
        &["http://127.0.0.1:1/mcp", "--api-key", OPS_KEY],
        &[],
    )
    .await;
    assert_eq!(nobody.status.code(), Some(4), "{}", stderr(&nobody));

    // SIGTERM: a graceful shutdown, exit 0.
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("production-server: stopped"), "{stderr}");
}

#[tokio::test]
async fn multi_transport_client_makes_the_same_calls_over_every_transport() {
    let server = Listening::start(
        env!("CARGO_BIN_EXE_example-server"),
        &["--http", "127.0.0.1:0", "--ws"],
        &[],
    )
    .await;
    let http = server.url.clone();
    let sse = http.replace("/mcp", "/sse");
    let ws = http.replace("http://", "ws://").replace("/mcp", "/ws");
    let output = run(
        env!("CARGO_BIN_EXE_multi-transport-client"),
        &[
            "--stdio",
            env!("CARGO_BIN_EXE_example-server"),
            "--http",
            &http,
            "--sse",
            &sse,
            "--ws",
            &ws,
        ],
        &[],
    )
    .await;
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    for (line, transport) in lines.iter().zip(["stdio", "http", "sse", "websocket"]) {
        assert!(line.starts_with(transport), "{line}");
        assert!(line.contains(": healthy in "), "{line}");
        assert!(
            line.contains(&format!("echo -> hello over {transport}")),
            "{line}"
        );
    }
    // HTTP+SSE carries only the legacy era; the others settle on the newest revision.
    assert!(lines[2].contains("(Legacy era)"), "{}", lines[2]);
    for line in [lines[0], lines[1], lines[3]] {
        assert!(line.contains("(Modern era)"), "{line}");
    }
    assert!(
        lines[4].starts_with("pool: 4 connections started"),
        "{}",
        lines[4]
    );

    // A server that is not there is reported unhealthy, typed, and the run fails.
    let output = run(
        env!("CARGO_BIN_EXE_multi-transport-client"),
        &["--http", &http, "--http", "http://127.0.0.1:1/mcp"],
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("http-1: healthy"), "{out}");
    assert!(out.contains("http-2: UNHEALTHY"), "{out}");
    drop(server);
}
