//! `mcp-client` against real servers over stdio: our example server in both eras, and the
//! reference `server-everything` (legacy only) through the fallback path. Plus faults: a server
//! that exits mid-call, never answers, writes garbage, floods notifications or ignores SIGTERM.

mod peer_env;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod common;

use common::{options, text};
use mcp_client::{CallOptions, Client, ClientError, ClientOptions, EraPreference, ErrorKind};
use mcp_protocol::Era;
use mcp_protocol::types::*;
use mcp_transport::child::ChildSpec;
use serde_json::{Value, json};

fn example() -> ChildSpec {
    ChildSpec::new(env!("CARGO_BIN_EXE_example-server"), Vec::<String>::new())
}

async fn exercise_example(era: EraPreference, expect: Era) {
    let client = Client::spawn(&example(), options(era))
        .await
        .expect("connect");
    common::exercise(&client, expect).await;
    client.close().await;
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
    peer_env::peers("server-everything tests")
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

/// A -32022 refusal of the probe whose `supported` list names the very version refused.
const REFUSED_PROBE: &str = r#"echo '{"jsonrpc":"2.0","id":ID,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2026-07-28"],"requested":"2026-07-28"}}}'"#;

#[tokio::test]
async fn a_refused_probe_is_retried_once_with_the_mutual_version() {
    // Refused once, then answered: the retry (id 2) settles the modern era.
    let script = format!(
        r#"read probe; {}; read again; echo '{{"jsonrpc":"2.0","id":2,"result":{{"resultType":"complete","supportedVersions":["2026-07-28"],"capabilities":{{}}}}}}'; sleep 100"#,
        REFUSED_PROBE.replace("ID", "1")
    );
    let modern = ClientOptions {
        era: EraPreference::Modern,
        request_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    };
    let client = Client::spawn(&sh(&script), modern.clone()).await.unwrap();
    let session = client.session().unwrap();
    assert_eq!(session.version, mcp_protocol::ProtocolVersion::V2026_07_28);
    assert_eq!(session.supported_versions, ["2026-07-28"]);
    client.close().await;

    // Refused twice: one retry only, then the server is incompatible (no loop).
    let script = format!(
        "read probe; {}; read again; {}; read never; sleep 100",
        REFUSED_PROBE.replace("ID", "1"),
        REFUSED_PROBE.replace("ID", "2")
    );
    let err = Client::spawn(&sh(&script), modern).await.unwrap_err();
    assert!(matches!(err, ClientError::Incompatible(_)), "{err:?}");
}

#[tokio::test]
async fn a_failed_handshake_stops_the_server_process() {
    // A server that reads its requests and never answers: the handshake times out, and the
    // process must not outlive the error (the caller has no handle left to close it with).
    let seconds = 1000 + std::process::id() % 1000;
    let script = format!("read probe; read init; exec sleep {seconds}");
    let opts = ClientOptions {
        probe_timeout: Duration::from_millis(200),
        request_timeout: Duration::from_millis(300),
        ..ClientOptions::default()
    };
    let err = Client::spawn(&sh(&script), opts).await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
    let cmdline = format!("sleep\u{0}{seconds}\u{0}");
    let running = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read_to_string(e.path().join("cmdline")).ok())
            .any(|c| c == cmdline)
    };
    // The shutdown finished before spawn returned; allow the kernel a moment to reap.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while running() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !running(),
        "the server process outlived the failed handshake"
    );
}

#[tokio::test]
async fn close_ends_the_server_input_so_it_can_exit_on_its_own() {
    // The server exits when its stdin ends and leaves a mark; a signal would kill it before
    // that. The grace before signals is long, so only a closed stdin explains the mark.
    let dir = std::env::temp_dir().join(format!("mcp-close-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mark = dir.join("saw-eof");
    let script = format!(
        "{INIT_REPLY} while read line; do :; done; echo eof > '{}'",
        mark.display()
    );
    let mut spec = sh(&script);
    spec.shutdown_grace = Duration::from_secs(30);
    let client = Client::spawn(&spec, legacy_only()).await.unwrap();
    let extra = client.clone(); // clones (the read loop holds one too) must not keep it open
    tokio::time::timeout(Duration::from_secs(20), client.close())
        .await
        .expect("close waits for the server to exit, not for the grace period");
    assert!(mark.exists(), "the server never saw the end of its input");
    drop(extra);
    let _ = std::fs::remove_dir_all(&dir);
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

#[tokio::test]
async fn completion_sees_the_arguments_already_chosen_in_both_eras() {
    use mcp_server::{CompleteWith, CompletionRequest, Prompt, Router, Server};
    let cities = |req: CompletionRequest| async move {
        let known: &[&str] = match req.context.get("country").map(String::as_str) {
            Some("France") => &["Paris", "Lyon"],
            Some("Portugal") => &["Porto", "Lisbon"],
            _ => &["Paris", "Lyon", "Porto", "Lisbon"],
        };
        known
            .iter()
            .filter(|c| c.starts_with(&req.value))
            .map(|c| (*c).to_owned())
            .collect()
    };
    let router = Router::new().prompt(
        Prompt::new("trip")
            .argument("country", "Where", true)
            .argument("city", "Which city", true)
            .complete("city", CompleteWith(cities))
            .handler(|_| async move { Ok(vec![PromptMessage::user("Plan it.")]) }),
    );
    for (options, era) in [
        (ClientOptions::default(), Era::Modern),
        (legacy_only(), Era::Legacy),
    ] {
        let server = Server::new("completion-test", "1", router.clone());
        let (client_end, server_end) = mcp_transport::duplex(1 << 20);
        tokio::spawn(server.serve(server_end.0, server_end.1));
        let client = Client::connect(client_end, options).await.unwrap();
        assert_eq!(client.session().unwrap().era(), era);
        let trip = || CompletionReference::Prompt {
            name: "trip".into(),
            title: None,
        };
        let country = |c: &str| BTreeMap::from([("country".to_owned(), c.to_owned())]);
        let france = client
            .complete_with_context(trip(), "city", "P", country("France"))
            .await
            .unwrap();
        assert_eq!(france.values, ["Paris"], "{era:?}");
        let portugal = client
            .complete_with_context(trip(), "city", "P", country("Portugal"))
            .await
            .unwrap();
        assert_eq!(portugal.values, ["Porto"], "{era:?}");
        let anywhere = client.complete(trip(), "city", "P").await.unwrap();
        assert_eq!(anywhere.values, ["Paris", "Porto"], "{era:?}");
        client.close().await;
    }
}
