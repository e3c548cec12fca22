//! The middleware over stdio: `production-server` (the production stack) as a child process
//! driven by our client, the caller's API key in its environment. Refusals are JSON-RPC errors
//! with the documented codes: -31401 for a missing or wrong key, -31403 for a key without the
//! permission, -31429 past the rate limit, -31503 while a breaker is open. Executions are
//! counted by the server's `stats` tool.

use std::time::{Duration, Instant};

use mcp_client::{Client, ClientError, ClientOptions, EraPreference};
use mcp_protocol::types::CallToolResult;
use mcp_transport::child::ChildSpec;
use serde_json::{Value, json};

const OPS_KEY: &str = "ops-key-2f7a9c1e5b3d8046";
const READER_KEY: &str = "reader-key-6e1d4b8a2c9f0735";

/// Writes the key file (digests only, as configuration holds them) and returns its path.
fn key_file() -> std::path::PathBuf {
    let entries = json!([
        {"id": "ops", "sha256": mcp_auth::sha256_hex(OPS_KEY),
         "permissions": ["tools.*", "ops.*"]},
        {"id": "reader", "sha256": mcp_auth::sha256_hex(READER_KEY),
         "permissions": ["tools.call.echo", "tools.call.lookup", "tools.call.stats"]},
    ]);
    let path = std::env::temp_dir().join(format!(
        "middleware-keys-{}-{}.json",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&path, serde_json::to_vec(&entries).unwrap()).expect("write the key file");
    path
}

/// Distinguishes the key files of tests running at once in this process.
fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// Starts the server with the caller's key in its environment (the key file is removed once
/// the server has read it, which it does before answering).
async fn spawn(key: Option<&str>, args: &[&str]) -> Result<Client, ClientError> {
    let keys = key_file();
    let mut all = vec!["--keys".to_owned(), keys.display().to_string()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let mut spec = ChildSpec::new(env!("CARGO_BIN_EXE_production-server"), all);
    // The test's own environment may hold a key: the child gets exactly the one asked for.
    spec.env
        .insert("MCP_API_KEY".into(), key.unwrap_or_default().into());
    let client = Client::spawn(&spec, options()).await;
    let _ = std::fs::remove_file(&keys);
    client
}

fn options() -> ClientOptions {
    ClientOptions {
        era: EraPreference::Modern,
        cache_capacity: 0,
        ..ClientOptions::default()
    }
}

async fn connect(key: Option<&str>, args: &[&str]) -> Client {
    spawn(key, args).await.expect("connect")
}

fn text(result: &CallToolResult) -> String {
    serde_json::to_value(result).unwrap()["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn refusal(result: Result<CallToolResult, ClientError>) -> mcp_protocol::ErrorObject {
    match result {
        Err(ClientError::Server(e)) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

async fn stats(client: &Client) -> Value {
    let result = client.call_tool("stats", json!({})).await.expect("stats");
    serde_json::from_str(&text(&result)).unwrap()
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_refused_with_31401() {
    for key in [None, Some("ops-key-2f7a9c1e5b3d8047")] {
        let error = match spawn(key, &[]).await {
            Err(ClientError::Server(e)) => e,
            Err(other) => panic!("{key:?}: expected -31401, got {other}"),
            Ok(_) => panic!("{key:?}: the server accepted the connection"),
        };
        assert_eq!(error.code, -31401, "{key:?}: {error}");
        assert_eq!(error.data.as_ref().unwrap()["reason"], "unauthenticated");
    }
}

#[tokio::test]
async fn a_key_without_the_permission_is_refused_with_31403() {
    let reader = connect(Some(READER_KEY), &[]).await;
    reader
        .call_tool("echo", json!({"text": "allowed"}))
        .await
        .expect("echo is allowed");
    let error = refusal(reader.call_tool("set_backend", json!({"up": false})).await);
    assert_eq!(error.code, -31403);
    assert_eq!(error.data.as_ref().unwrap()["required"][0], "ops.backend");
    // What the reader may not call, it does not see.
    let names: Vec<String> = reader
        .list_tools()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["echo", "lookup", "stats"]);
    reader.close().await;
}

#[tokio::test]
async fn the_101st_call_under_a_100_per_minute_limit_is_refused_with_31429() {
    let client = connect(Some(OPS_KEY), &["--rate-limit", "100"]).await;
    let started = Instant::now();
    for i in 0..100 {
        let result = client
            .call_tool("echo", json!({"text": format!("{i}")}))
            .await;
        assert!(result.is_ok(), "call {} was refused: {result:?}", i + 1);
    }
    // One call comes back every 600 ms: a slow machine may earn a few before the refusal.
    let earned = (started.elapsed().as_millis() / 600) as usize + 1;
    let mut extra = 0;
    let error = loop {
        match client.call_tool("echo", json!({"text": "one more"})).await {
            Ok(_) => {
                extra += 1;
                assert!(extra <= earned, "{extra} calls past the 100th went through");
            }
            Err(e) => break refusal(Err(e)),
        }
    };
    assert_eq!(error.code, -31429);
    assert!(
        error.data.as_ref().unwrap()["retryAfterSecs"]
            .as_u64()
            .unwrap()
            >= 1
    );
    client.close().await;
}

#[tokio::test]
async fn a_cached_tool_runs_once_within_its_ttl_and_again_after() {
    let ttl = Duration::from_secs(3);
    let client = connect(Some(OPS_KEY), &["--cache-ttl-ms", "3000"]).await;
    let first_at = Instant::now();
    for _ in 0..4 {
        let result = client
            .call_tool("lookup", json!({"q": "mcp"}))
            .await
            .expect("lookup");
        assert_eq!(text(&result), "ops mcp run 1");
    }
    let other = client
        .call_tool("lookup", json!({"q": "rust"}))
        .await
        .expect("lookup");
    assert_eq!(text(&other), "ops rust run 2");
    assert_eq!(stats(&client).await["lookup"], 2);
    assert!(first_at.elapsed() < ttl, "too slow for this TTL");
    tokio::time::sleep(ttl.saturating_sub(first_at.elapsed()) + Duration::from_millis(300)).await;
    let later = client
        .call_tool("lookup", json!({"q": "mcp"}))
        .await
        .expect("lookup");
    assert_eq!(text(&later), "ops mcp run 3");
    assert_eq!(stats(&client).await["lookup"], 3);
    client.close().await;
}

#[tokio::test]
async fn a_failing_tool_opens_its_breaker_and_recovers() {
    let client = connect(Some(OPS_KEY), &["--breaker", "3:800"]).await;
    client
        .call_tool("set_backend", json!({"up": false}))
        .await
        .expect("set_backend");
    for _ in 0..3 {
        let result = client
            .call_tool("flaky", json!({}))
            .await
            .expect("a result");
        assert_eq!(result.is_error, Some(true));
    }
    let error = refusal(client.call_tool("flaky", json!({})).await);
    assert_eq!(error.code, -31503);
    assert_eq!(error.data.as_ref().unwrap()["reason"], "circuit_open");
    assert_eq!(
        stats(&client).await["flaky"],
        3,
        "refused fast: the handler did not run"
    );
    client
        .call_tool("set_backend", json!({"up": true}))
        .await
        .expect("set_backend");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let probe = client.call_tool("flaky", json!({})).await.expect("probe");
    assert_eq!(text(&probe), "the backend answered");
    let after = client.call_tool("flaky", json!({})).await.expect("closed");
    assert_eq!(text(&after), "the backend answered");
    assert_eq!(stats(&client).await["flaky"], 5);
    client.close().await;
}
