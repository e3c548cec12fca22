//! `mcp-client` against real servers over stdio: our example server in both eras, and the
//! reference `server-everything` (legacy only) through the fallback path. Plus faults: a server
//! that exits mid-call, never answers, writes garbage, floods notifications or ignores SIGTERM.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_client::{
    CallOptions, Client, ClientError, ClientOptions, EraPreference, ErrorKind, Handlers,
};
use mcp_protocol::types::*;
use mcp_protocol::{Era, McpError};
use mcp_transport::child::ChildSpec;
use serde_json::{Value, json};

fn example() -> ChildSpec {
    ChildSpec::new(env!("CARGO_BIN_EXE_example-server"), Vec::<String>::new())
}

fn handlers() -> Handlers {
    Handlers::default()
        .on_elicitation(false, |p| async move {
            let ElicitRequestParams::Form(form) = p else {
                return Err(McpError::invalid_params("form only"));
            };
            assert!(form.requested_schema.properties.contains_key("name"));
            Ok(ElicitResult::accept(BTreeMap::from([(
                "name".to_owned(),
                ElicitValue::String("Ada".into()),
            )])))
        })
        .on_sampling(|p| async move {
            assert_eq!(p.max_tokens, 100);
            Ok(CreateMessageResult {
                role: Role::Assistant,
                content: SamplingContent::text("short"),
                model: "test-model".into(),
                stop_reason: Some("endTurn".into()),
                meta: None,
            })
        })
        .on_roots(|| async {
            Ok(ListRootsResult {
                roots: vec![Root {
                    uri: "file:///work".into(),
                    name: None,
                    meta: None,
                }],
                meta: None,
            })
        })
}

fn options(era: EraPreference) -> ClientOptions {
    ClientOptions {
        era,
        handlers: handlers(),
        ..ClientOptions::default()
    }
}

fn text(r: &CallToolResult) -> &str {
    r.content[0].as_text().unwrap_or_default()
}

async fn exercise_example(era: EraPreference, expect: Era) {
    let client = Client::spawn(&example(), options(era))
        .await
        .expect("connect");
    let session = client.session().unwrap();
    assert_eq!(session.era(), expect);
    assert_eq!(session.server_info.as_ref().unwrap().name, "example-server");
    let tools = client.list_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .any(|t| t.name == "add" && t.output_schema.is_some())
    );
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(sum.structured_content, Some(json!({"sum": 5.0})));
    assert_eq!(
        text(&client.call_tool("ask_name", Value::Null).await.unwrap()),
        "Hello, Ada!"
    );
    assert_eq!(
        text(
            &client
                .call_tool("summarize", json!({"text": "long"}))
                .await
                .unwrap()
        ),
        "Summary from test-model: short"
    );
    assert_eq!(
        text(&client.call_tool("list_roots", Value::Null).await.unwrap()),
        "file:///work"
    );
    let failed = client.call_tool("fail", Value::Null).await.unwrap();
    assert!(failed.is_error());
    let unknown = client.call_tool("nope", Value::Null).await.unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.kind()),
        (Some(-32602), ErrorKind::Validation)
    );
    let read = client.read_resource("memo://notes/alpha").await.unwrap();
    assert_eq!(read.contents[0].uri(), "memo://notes/alpha");
    let missing = client.read_resource("memo://nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Resource);
    assert_eq!(client.list_resources().await.unwrap().len(), 2);
    assert_eq!(client.list_resource_templates().await.unwrap().len(), 1);
    assert_eq!(client.list_prompts().await.unwrap()[0].name, "greet");
    let prompt = client
        .get_prompt(
            "greet",
            BTreeMap::from([("name".to_owned(), "Bo".to_owned())]),
        )
        .await
        .unwrap();
    assert_eq!(
        prompt.messages[0].content.as_text(),
        Some("Please greet Bo warmly.")
    );
    let done = client
        .complete(
            CompletionReference::Prompt {
                name: "greet".into(),
                title: None,
            },
            "name",
            "C",
        )
        .await
        .unwrap();
    assert_eq!(done.values, vec!["Carol".to_owned()]);

    // Progress callbacks, in order.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = CallOptions {
        progress: Some(Box::new(move |p| sink.lock().unwrap().push(p.progress))),
        ..CallOptions::default()
    };
    let r = client
        .call_tool_with("slow_count", json!({"steps": 3, "delay_ms": 10}), &opts)
        .await
        .unwrap();
    assert_eq!(text(&r), "counted to 3");
    assert_eq!(*seen.lock().unwrap(), vec![1.0, 2.0, 3.0]);

    // A timeout fails the call, cancels it at the server, and the connection keeps working.
    let opts = CallOptions {
        timeout: Some(Duration::from_millis(100)),
        ..CallOptions::default()
    };
    let slow = client
        .call_tool_with("slow_count", json!({"steps": 100, "delay_ms": 50}), &opts)
        .await
        .unwrap_err();
    assert!(
        matches!(slow, ClientError::Timeout { .. }) && slow.is_retryable(),
        "{slow:?}"
    );
    assert_eq!(
        text(
            &client
                .call_tool("echo", json!({"text": "ok"}))
                .await
                .unwrap()
        ),
        "ok"
    );

    // Many calls in flight at once.
    let calls = (0..50).map(|i| {
        let c = client.clone();
        async move {
            c.call_tool("echo", json!({"text": i.to_string()}))
                .await
                .map(|r| text(&r).to_owned())
        }
    });
    let results = futures_join(calls).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap(), i.to_string());
    }
    client.close().await;
}

async fn futures_join<F: Future + Send + 'static>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn our_server_in_the_modern_era() {
    exercise_example(EraPreference::Auto, Era::Modern).await;
}

#[tokio::test]
async fn our_server_in_the_legacy_era() {
    exercise_example(EraPreference::Legacy, Era::Legacy).await;
}

fn peers() -> Option<HashMap<String, String>> {
    let path = std::env::var_os("MCP_PEERS_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/peers/peers.env"));
    match std::fs::read_to_string(&path) {
        Ok(t) => Some(
            t.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ),
        Err(_) if std::env::var_os("MCP_REQUIRE_PEERS").is_some() => {
            panic!("{} missing (MCP_REQUIRE_PEERS is set)", path.display())
        }
        Err(_) => {
            eprintln!(
                "NOTE: server-everything tests did NOT run: {} not found (run `cargo xtask peers`)",
                path.display()
            );
            None
        }
    }
}

#[tokio::test]
async fn server_everything_through_the_legacy_fallback() {
    let Some(p) = peers() else { return };
    let spec = ChildSpec::new(
        p["NODE22"].clone(),
        [p["SERVER_EVERYTHING"].clone(), "stdio".to_owned()],
    );
    let client = Client::spawn(
        &spec,
        ClientOptions {
            probe_timeout: Duration::from_secs(3),
            ..options(EraPreference::Auto)
        },
    )
    .await
    .expect("connect");
    let session = client.session().unwrap();
    assert_eq!(
        session.era(),
        Era::Legacy,
        "server-everything only speaks legacy"
    );
    assert_eq!(
        session.server_info.as_ref().unwrap().name,
        "mcp-servers/everything"
    );
    let tools = client.list_tools().await.unwrap();
    for t in [
        "echo",
        "get-sum",
        "trigger-sampling-request",
        "trigger-elicitation-request",
    ] {
        assert!(tools.iter().any(|x| x.name == t), "{t} missing");
    }
    assert_eq!(
        text(
            &client
                .call_tool("echo", json!({"message": "hi"}))
                .await
                .unwrap()
        ),
        "Echo: hi"
    );
    assert!(
        text(
            &client
                .call_tool("get-sum", json!({"a": 2, "b": 3}))
                .await
                .unwrap()
        )
        .contains('5')
    );
    let sampled = client
        .call_tool(
            "trigger-sampling-request",
            json!({"prompt": "hello", "maxTokens": 100}),
        )
        .await
        .unwrap();
    assert!(
        serde_json::to_string(&sampled).unwrap().contains("short"),
        "{sampled:?}"
    );
    let elicited = client
        .call_tool("trigger-elicitation-request", Value::Null)
        .await
        .unwrap();
    assert!(!elicited.is_error(), "{elicited:?}");
    let count = Arc::new(AtomicUsize::new(0));
    let c2 = count.clone();
    let opts = CallOptions {
        progress: Some(Box::new(move |_| {
            c2.fetch_add(1, Ordering::SeqCst);
        })),
        ..CallOptions::default()
    };
    client
        .call_tool_with(
            "trigger-long-running-operation",
            json!({"duration": 1, "steps": 3}),
            &opts,
        )
        .await
        .unwrap();
    assert!(count.load(Ordering::SeqCst) >= 3);
    let prompt = client
        .get_prompt("simple-prompt", BTreeMap::new())
        .await
        .unwrap();
    assert!(!prompt.messages.is_empty());
    let resources = client.list_resources().await.unwrap();
    let first = client.read_resource(&resources[0].uri).await.unwrap();
    assert!(!first.contents.is_empty());
    client.ping().await.unwrap();
    client.close().await;
}

fn sh(script: &str) -> ChildSpec {
    let mut spec = ChildSpec::new("sh", ["-c", script]);
    spec.shutdown_grace = Duration::from_millis(300);
    spec
}

const INIT_REPLY: &str = r#"read line; echo '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"1"}}}'; read line;"#;

fn legacy_only() -> ClientOptions {
    ClientOptions {
        era: EraPreference::Legacy,
        request_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn a_server_that_exits_mid_call_fails_the_call_at_once() {
    let client = Client::spawn(
        &sh(&format!("{INIT_REPLY} read line; exit 3")),
        legacy_only(),
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let err = client.call_tool("x", Value::Null).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed at once, not at the timeout"
    );
    assert!(
        client
            .call_tool("x", Value::Null)
            .await
            .unwrap_err()
            .is_retryable()
    );
    client.close().await;
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let client = Client::spawn(
        &sh(&format!("{INIT_REPLY} sleep 100")),
        ClientOptions {
            request_timeout: Duration::from_millis(200),
            ..legacy_only()
        },
    )
    .await
    .unwrap();
    let err = client.call_tool("x", Value::Null).await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
    client.close().await;
}

#[tokio::test]
async fn garbage_and_floods_on_stdout_do_not_hang_the_client() {
    let script = format!(
        r#"{INIT_REPLY} read line; echo 'not json at all'; i=0; while [ $i -lt 2000 ]; do echo '{{"jsonrpc":"2.0","method":"notifications/message","params":{{"level":"info","data":"spam"}}}}'; i=$((i+1)); done; echo '{{"jsonrpc":"2.0","id":2,"result":{{"content":[{{"type":"text","text":"done"}}]}}}}'; sleep 100"#
    );
    let client = Client::spawn(&sh(&script), legacy_only()).await.unwrap();
    let r = client.call_tool("x", Value::Null).await.unwrap();
    assert_eq!(text(&r), "done");
    client.close().await;
}

#[tokio::test]
async fn a_modern_probe_answered_by_silence_falls_back_to_initialize() {
    // The first line (the probe) gets no answer; the initialize (id 2) does.
    let script = r#"read probe; read init; echo '{"jsonrpc":"2.0","id":2,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"quiet","version":"1"}}}'; read line; sleep 100"#;
    let opts = ClientOptions {
        probe_timeout: Duration::from_millis(300),
        ..ClientOptions::default()
    };
    let client = Client::spawn(&sh(script), opts).await.unwrap();
    assert_eq!(
        client.session().unwrap().version,
        mcp_protocol::ProtocolVersion::V2025_06_18
    );
    client.close().await;
}

#[tokio::test]
async fn a_server_ignoring_sigterm_leaves_nothing_behind() {
    let script = format!("trap '' TERM; {INIT_REPLY} sleep 1000 & sleep 1000");
    let client = Client::spawn(&sh(&script), legacy_only()).await.unwrap();
    client.close().await;
    // Give the kernel a moment to remove the killed processes from /proc.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let survivors: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("cmdline")).ok())
        .filter(|c| c.contains("sleep\u{0}1000"))
        .collect();
    assert!(survivors.is_empty(), "left behind: {survivors:?}");
}

#[tokio::test]
async fn list_changes_as_a_listen_stream_and_as_legacy_notifications() {
    let client = Client::spawn(&example(), options(EraPreference::Modern))
        .await
        .unwrap();
    let mut sub = client
        .listen(SubscriptionFilter {
            tools_list_changed: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sub.acknowledged().tools_list_changed, Some(true));
    client.call_tool("toggle_extra", Value::Null).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.method, "notifications/tools/list_changed");
    drop(sub);
    client.close().await;

    let client = Client::spawn(&example(), options(EraPreference::Legacy))
        .await
        .unwrap();
    assert!(
        client.listen(SubscriptionFilter::default()).await.is_err(),
        "listen is modern-only"
    );
    let mut notes = client.notifications();
    client.call_tool("toggle_extra", Value::Null).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), notes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.method, "notifications/tools/list_changed");
    assert!(
        client
            .list_tools()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "extra")
    );
    client.close().await;
}

#[tokio::test]
async fn structured_content_is_checked_against_the_output_schema() {
    let list = r#"{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"t","inputSchema":{"type":"object"},"outputSchema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}}]}}"#;
    let call = r#"{"jsonrpc":"2.0","id":3,"result":{"content":[],"structuredContent":{"n":"not a number"}}}"#;
    let script = format!("{INIT_REPLY} read l; echo '{list}'; read l; echo '{call}'; sleep 100");
    let strict = ClientOptions {
        structured_output: mcp_client::StructuredCheck::Error,
        ..legacy_only()
    };
    let client = Client::spawn(&sh(&script), strict).await.unwrap();
    client.list_tools().await.unwrap();
    let err = client.call_tool("t", Value::Null).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Protocol(m) if m.contains("output schema")),
        "{err:?}"
    );
    client.close().await;

    let lenient = Client::spawn(&sh(&script), legacy_only()).await.unwrap();
    lenient.list_tools().await.unwrap();
    assert!(
        lenient.call_tool("t", Value::Null).await.is_ok(),
        "warn mode returns the result"
    );
    lenient.close().await;
}

#[tokio::test]
async fn servers_from_the_configuration_shapes_users_have() {
    let hosts = json!({"mcpServers": {"example": {"command": env!("CARGO_BIN_EXE_example-server"), "env": {"RUST_LOG": "warn"}}}});
    let original = json!({"name": "example", "transport": "stdio", "command": env!("CARGO_BIN_EXE_example-server"), "args": []});
    for config in [hosts, original] {
        let servers = mcp_client::config::ServerConfig::from_value(config).unwrap();
        let spec = servers[0].child_spec().expect("a stdio server");
        let client = Client::spawn(&spec, ClientOptions::default())
            .await
            .unwrap();
        assert_eq!(
            text(
                &client
                    .call_tool("echo", json!({"text": servers[0].name}))
                    .await
                    .unwrap()
            ),
            "example"
        );
        client.close().await;
    }
}

#[tokio::test]
async fn results_are_cached_for_their_ttl_and_dropped_on_update() {
    use mcp_server::{Resource, Router, Server, ServerOptions};
    let reads = Arc::new(AtomicUsize::new(0));
    let counter = reads.clone();
    let router = Router::new().resource(Resource::new("memo://counter", "counter").handler(
        move |r| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Ok(vec![ResourceContents::text(r.uri, None, n.to_string())]) }
        },
    ));
    let handle = router.clone();
    let options = ServerOptions {
        cache_ttl_ms: 60_000,
        cache_scope: CacheScope::Public,
        ..ServerOptions::default()
    };
    let server = Server::with_options(Implementation::new("cache-test", "1"), router, options);
    let (client_end, server_end) = mcp_transport::duplex(1 << 20);
    tokio::spawn(server.serve(server_end.0, server_end.1));
    let client = Client::connect(client_end, ClientOptions::default())
        .await
        .unwrap();
    assert_eq!(client.session().unwrap().era(), Era::Modern);

    let read = |c: &Client| {
        let c = c.clone();
        async move { c.read_resource("memo://counter").await.unwrap().contents[0].clone() }
    };
    let text_of = |c: ResourceContents| match c {
        ResourceContents::Text(t) => t.text,
        ResourceContents::Blob(_) => String::new(),
    };
    assert_eq!(text_of(read(&client).await), "1");
    assert_eq!(
        text_of(read(&client).await),
        "1",
        "served from the cache within its TTL"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 1);

    // An update heard on a listen stream drops the entry.
    let mut sub = client
        .listen(SubscriptionFilter {
            resource_subscriptions: Some(vec!["memo://counter".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    handle.resource_updated("memo://counter");
    let n = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.method, "notifications/resources/updated");
    assert_eq!(text_of(read(&client).await), "2");
    assert_eq!(reads.load(Ordering::SeqCst), 2);

    // With caching off, every read goes to the server.
    let (client_end, server_end) = mcp_transport::duplex(1 << 20);
    let server = Server::with_options(
        Implementation::new("cache-test", "1"),
        handle.clone(),
        ServerOptions {
            cache_ttl_ms: 60_000,
            ..ServerOptions::default()
        },
    );
    tokio::spawn(server.serve(server_end.0, server_end.1));
    let uncached = Client::connect(
        client_end,
        ClientOptions {
            cache_capacity: 0,
            ..ClientOptions::default()
        },
    )
    .await
    .unwrap();
    read(&uncached).await;
    read(&uncached).await;
    assert_eq!(reads.load(Ordering::SeqCst), 4);
}
