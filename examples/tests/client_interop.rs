//! `mcp-client` against MCP servers we did not write, over stdio: the reference servers
//! `server-filesystem` and `server-memory`, a TypeScript SDK 1.32 server (legacy era only) and a
//! Python SDK `mcp` 2.3 server (both eras). The peers come from `cargo xtask peers`
//! (docs/peers.md); the two SDK servers are `fixtures/peers/ts-server.mjs` and
//! `fixtures/peers/py-server.py`.
//!
//! Every check that passes prints one line, `<server> <era> <operation> passed`, where the era is
//! `legacy` or `modern` when it was asked for and `auto->legacy` / `auto->modern` when the
//! client's probe settled it. Run with `-- --nocapture` to see them.
//!
//! Without `target/peers/peers.env` the tests print a NOTE and pass, unless `MCP_REQUIRE_PEERS`
//! is set (as `cargo xtask ci` does), in which case they fail.

mod peer_env;
use peer_env::peers;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_client::{Client, ClientOptions, EraPreference, StructuredCheck};
use mcp_protocol::Era;
use mcp_protocol::types::*;
use mcp_transport::child::ChildSpec;
use serde_json::{Value, json};

/// How long one request may wait, and how long the `server/discover` probe waits. The peers
/// answer in milliseconds once started; the margin is for a Python or Node start-up on a loaded
/// two-core machine (the first request's clock starts before the server has read it). The probe
/// must not time out against the Python server: it would then fall back to `initialize`, which a
/// connection the probe already made modern refuses.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The most one whole scenario (spawn, every call, close) may take.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(90);

/// A fresh directory, removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "mcp-interop-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        // The filesystem server compares real paths: hand it the canonical one.
        Self(dir.canonicalize().expect("canonical temporary directory"))
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn join(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(era: EraPreference) -> ClientOptions {
    ClientOptions {
        era,
        request_timeout: REQUEST_TIMEOUT,
        probe_timeout: REQUEST_TIMEOUT,
        // Every structuredContent these servers send must match the schema they published.
        structured_output: StructuredCheck::Error,
        ..ClientOptions::default()
    }
}

fn spec(command: &str, args: &[&str]) -> ChildSpec {
    let mut spec = ChildSpec::new(command, args.iter().copied());
    spec.shutdown_grace = Duration::from_millis(500);
    spec
}

/// `<server> <era>`, the prefix of every pass line.
fn label(server: &str, asked: EraPreference, settled: Era) -> String {
    let era = match (asked, settled) {
        (EraPreference::Auto, Era::Legacy) => "auto->legacy",
        (EraPreference::Auto, Era::Modern) => "auto->modern",
        (_, Era::Legacy) => "legacy",
        (_, Era::Modern) => "modern",
    };
    format!("{server} {era}")
}

fn passed(label: &str, operation: &str) {
    println!("{label} {operation} passed");
}

async fn bounded<F: Future<Output = ()>>(what: &str, scenario: F) {
    if tokio::time::timeout(SCENARIO_TIMEOUT, scenario)
        .await
        .is_err()
    {
        panic!("{what} did not finish within {SCENARIO_TIMEOUT:?}");
    }
}

fn text(r: &CallToolResult) -> &str {
    r.content
        .first()
        .and_then(ContentBlock::as_text)
        .unwrap_or_default()
}

fn tool_names(tools: &[Tool]) -> Vec<&str> {
    tools.iter().map(|t| t.name.as_str()).collect()
}

async fn call_ok(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let r = client
        .call_tool(tool, args.clone())
        .await
        .unwrap_or_else(|e| panic!("{tool} {args}: {e:?}"));
    assert!(!r.is_error(), "{tool} {args} failed: {r:?}");
    r
}

#[tokio::test]
async fn server_filesystem_writes_reads_and_lists_real_files() {
    let Some(p) = peers("server-filesystem") else {
        return;
    };
    let allowed = TempDir::new("fs");
    let outside = TempDir::new("fs-outside");
    bounded("server-filesystem", async {
        let client = Client::spawn(
            &spec(
                &p["NODE22"],
                &[&p["SERVER_FILESYSTEM"], &allowed.path().to_string_lossy()],
            ),
            options(EraPreference::Auto),
        )
        .await
        .expect("connect to server-filesystem");
        let session = client.session().expect("a session");
        // Its SDK answers the server/discover probe with -32601: the client falls back.
        assert_eq!(session.era(), Era::Legacy);
        assert_eq!(session.version.as_str(), "2025-11-25");
        let l = label("server-filesystem", EraPreference::Auto, session.era());
        passed(&l, "connect");

        let tools = client.list_tools().await.expect("tools/list");
        let names = tool_names(&tools);
        for t in ["write_file", "list_directory"] {
            assert!(names.contains(&t), "{t} missing from {names:?}");
        }
        // `read_file` is deprecated in favour of `read_text_file`; use what is there.
        let read_tool = ["read_text_file", "read_file"]
            .into_iter()
            .find(|t| names.contains(t))
            .unwrap_or_else(|| panic!("no read tool in {names:?}"));
        passed(&l, "list_tools");

        let file = allowed.join("hello.txt");
        let content = "hello from mcp-client\nsecond line: ünïcødé\n";
        let wrote = call_ok(
            &client,
            "write_file",
            json!({"path": file, "content": content}),
        )
        .await;
        assert!(text(&wrote).contains("hello.txt"), "{wrote:?}");
        assert_eq!(
            std::fs::read_to_string(&file).expect("the file exists on disk"),
            content
        );
        passed(&l, "write_file");

        let read = call_ok(&client, read_tool, json!({"path": file})).await;
        assert_eq!(text(&read), content);
        passed(&l, read_tool);

        let listed = call_ok(
            &client,
            "list_directory",
            json!({"path": allowed.path().to_string_lossy()}),
        )
        .await;
        assert!(
            text(&listed).lines().any(|l| l == "[FILE] hello.txt"),
            "{listed:?}"
        );
        passed(&l, "list_directory");

        // Outside the allowed directory: a tool error, and nothing is written.
        let stray = outside.join("stray.txt");
        let refused = client
            .call_tool("write_file", json!({"path": stray, "content": "no"}))
            .await
            .expect("a tool result");
        assert!(refused.is_error(), "{refused:?}");
        assert!(!Path::new(&stray).exists());
        passed(&l, "write_file-outside-refused");

        client.close().await;
    })
    .await;
}

#[tokio::test]
async fn server_memory_keeps_entities_in_its_file() {
    let Some(p) = peers("server-memory") else {
        return;
    };
    let dir = TempDir::new("memory");
    let memory_file = dir.join("memory.jsonl");
    let mut server = spec(&p["NODE22"], &[&p["SERVER_MEMORY"]]);
    server
        .env
        .insert("MEMORY_FILE_PATH".into(), memory_file.clone());
    bounded("server-memory", async {
        let client = Client::spawn(&server, options(EraPreference::Auto))
            .await
            .expect("connect to server-memory");
        let session = client.session().expect("a session");
        assert_eq!(session.era(), Era::Legacy);
        let l = label("server-memory", EraPreference::Auto, session.era());
        passed(&l, "connect");

        let names = client.list_tools().await.expect("tools/list");
        let names = tool_names(&names);
        for t in ["create_entities", "read_graph", "search_nodes"] {
            assert!(names.contains(&t), "{t} missing from {names:?}");
        }
        passed(&l, "list_tools");

        let entity = json!({
            "name": "Ada Lovelace",
            "entityType": "person",
            "observations": ["wrote the first program"],
        });
        let created = call_ok(
            &client,
            "create_entities",
            json!({"entities": [entity.clone()]}),
        )
        .await;
        assert_eq!(
            created.structured_content,
            Some(json!({"entities": [entity.clone()]}))
        );
        let on_disk = std::fs::read_to_string(&memory_file).expect("MEMORY_FILE_PATH written");
        assert!(on_disk.contains("Ada Lovelace"), "{on_disk}");
        passed(&l, "create_entities");

        let graph = call_ok(&client, "read_graph", json!({})).await;
        assert_eq!(
            graph.structured_content,
            Some(json!({"entities": [entity.clone()], "relations": []}))
        );
        passed(&l, "read_graph");

        let found = call_ok(&client, "search_nodes", json!({"query": "Lovelace"})).await;
        assert_eq!(
            found.structured_content,
            Some(json!({"entities": [entity.clone()], "relations": []}))
        );
        let none = call_ok(&client, "search_nodes", json!({"query": "Babbage"})).await;
        assert_eq!(
            none.structured_content,
            Some(json!({"entities": [], "relations": []}))
        );
        passed(&l, "search_nodes");
        client.close().await;

        // A second server process on the same file sees the entity.
        let again = Client::spawn(&server, options(EraPreference::Legacy))
            .await
            .expect("reconnect to server-memory");
        let l = label("server-memory", EraPreference::Legacy, Era::Legacy);
        let found = call_ok(&again, "search_nodes", json!({"query": "first program"})).await;
        assert!(text(&found).contains("Ada Lovelace"), "{found:?}");
        passed(&l, "search_nodes-after-restart");
        again.close().await;
    })
    .await;
}

/// What `ts-server.mjs` and `py-server.py` both serve, checked in one era.
struct SdkServer<'a> {
    /// The name in pass lines and in `serverInfo`.
    name: &'a str,
    spec: ChildSpec,
    /// The static resource and its text.
    resource: &'a str,
    resource_text: &'a str,
}

async fn exercise_sdk_server(server: &SdkServer<'_>, asked: EraPreference, expect: Era) {
    let client = Client::spawn(&server.spec, options(asked))
        .await
        .unwrap_or_else(|e| panic!("connect to {} ({asked:?}): {e:?}", server.name));
    let session = client.session().expect("a session");
    assert_eq!(session.era(), expect, "{} asked {asked:?}", server.name);
    let l = label(server.name, asked, session.era());
    assert_eq!(
        session.server_info.as_ref().map(|i| i.name.as_str()),
        Some(server.name),
        "{session:?}"
    );
    match expect {
        Era::Legacy => assert_eq!(session.version.as_str(), "2025-11-25"),
        Era::Modern => {
            assert_eq!(session.version.as_str(), "2026-07-28");
            assert!(
                session.supported_versions.iter().any(|v| v == "2026-07-28"),
                "{session:?}"
            );
        }
    }
    assert!(session.capabilities.tools.is_some(), "{session:?}");
    passed(&l, "connect");

    let tools = client.list_tools().await.expect("tools/list");
    let add = tools
        .iter()
        .find(|t| t.name == "add")
        .unwrap_or_else(|| panic!("no add in {:?}", tool_names(&tools)));
    let schema = add.output_schema.as_ref().expect("add has an outputSchema");
    assert_eq!(schema["properties"]["sum"]["type"], "number");
    assert!(tools.iter().any(|t| t.name == "echo"));
    passed(&l, "list_tools");

    // StructuredCheck::Error: the sum also passed the client's check against that schema.
    let sum = call_ok(&client, "add", json!({"a": 2, "b": 3})).await;
    assert_eq!(text(&sum), "5");
    assert_eq!(sum.structured_content, Some(json!({"sum": 5})));
    passed(&l, "add");

    let echoed = call_ok(&client, "echo", json!({"text": "héllo, wörld"})).await;
    assert_eq!(text(&echoed), "héllo, wörld");
    passed(&l, "echo");

    let resources = client.list_resources().await.expect("resources/list");
    assert!(
        resources.iter().any(|r| r.uri == server.resource),
        "{resources:?}"
    );
    passed(&l, "list_resources");

    let read = client
        .read_resource(server.resource)
        .await
        .expect("resources/read");
    match read.contents.as_slice() {
        [ResourceContents::Text(t)] => {
            assert_eq!(t.uri, server.resource);
            assert_eq!(t.text, server.resource_text);
            assert_eq!(t.mime_type.as_deref(), Some("text/plain"));
        }
        other => panic!("unexpected contents {other:?}"),
    }
    passed(&l, "read_resource");

    let prompts = client.list_prompts().await.expect("prompts/list");
    let greet = prompts
        .iter()
        .find(|p| p.name == "greet")
        .unwrap_or_else(|| panic!("no greet in {prompts:?}"));
    assert!(
        greet
            .arguments
            .iter()
            .flatten()
            .any(|a| a.name == "name" && a.required == Some(true)),
        "{greet:?}"
    );
    passed(&l, "list_prompts");

    let prompt = client
        .get_prompt("greet", BTreeMap::from([("name".into(), "Bo".into())]))
        .await
        .expect("prompts/get");
    assert_eq!(prompt.messages.len(), 1);
    assert_eq!(prompt.messages[0].role, Role::User);
    assert_eq!(
        prompt.messages[0].content.as_text(),
        Some("Please greet Bo warmly.")
    );
    passed(&l, "get_prompt");

    // An unknown tool: an error either way (a JSON-RPC error or an `isError` result).
    match client.call_tool("nope", json!({})).await {
        Ok(r) => assert!(r.is_error(), "{r:?}"),
        Err(e) => assert!(e.code().is_some(), "{e:?}"),
    }
    passed(&l, "unknown-tool-refused");

    client.close().await;
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/peers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn typescript_sdk_server_in_the_legacy_era() {
    let Some(p) = peers("ts-server") else { return };
    let mut spec = spec(&p["NODE22"], &[&fixture("ts-server.mjs")]);
    // Where the script loads the SDK from, whichever peers.env this test read.
    spec.env
        .insert("NPM_MODULES".into(), p["NPM_MODULES"].clone());
    let server = SdkServer {
        name: "ts-server",
        spec,
        resource: "ts://hello",
        resource_text: "hello from ts",
    };
    bounded("ts-server", async {
        // SDK 1.32 knows no 2026-07-28: it answers the server/discover probe with -32601 Method
        // not found, and the client falls back to `initialize` at once.
        exercise_sdk_server(&server, EraPreference::Auto, Era::Legacy).await;
        exercise_sdk_server(&server, EraPreference::Legacy, Era::Legacy).await;
    })
    .await;
}

#[tokio::test]
async fn python_sdk_server_in_both_eras() {
    let Some(p) = peers("py-server") else { return };
    let server = SdkServer {
        name: "py-server",
        spec: spec(&p["PYTHON"], &[&fixture("py-server.py")]),
        resource: "py://hello",
        resource_text: "hello from py",
    };
    bounded("py-server", async {
        // `mcp` 2.3's `MCPServer.run("stdio")` serves through `serve_dual_era_loop`
        // (mcp/server/runner.py): the first request decides the connection's era. Our probe,
        // `server/discover` with `io.modelcontextprotocol/protocolVersion` in its `_meta`,
        // opens a modern connection, and the low-level server's default discover handler
        // answers with `supportedVersions: ["2026-07-28"]`, the capabilities and `_meta`
        // `serverInfo`. So Auto settles on 2026-07-28 with no fallback.
        exercise_sdk_server(&server, EraPreference::Auto, Era::Modern).await;
        exercise_sdk_server(&server, EraPreference::Modern, Era::Modern).await;
        // With no probe, `initialize` is the first request: a legacy connection at 2025-11-25.
        exercise_sdk_server(&server, EraPreference::Legacy, Era::Legacy).await;
    })
    .await;
}
