//! `#[tool]` and `#[tools]`: the routes they build are the routes the builder builds for the
//! same functions, doc comments become descriptions, `read_only` sets the annotations, and a
//! `#[tools]` router serves real calls over a framed stream.

use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use mcp_server::{Args, Json, Progress, Router, Server, Tool, ToolError, ToolRoute, tool, tools};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// First addend.
    a: i64,
    /// Second addend.
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    /// `a + b`.
    sum: i64,
}

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// Adds two integers.
///
///   Both fit in an `i64`.
#[tool(read_only)]
async fn add(Args(a): Args<AddArgs>) -> Json<Sum> {
    Json(Sum { sum: a.a + a.b })
}

/// This doc comment loses to the attribute's description.
#[tool(name = "echo-text", description = "Echoes the text", title = "Echo")]
async fn echo(Args(a): Args<EchoArgs>, _progress: Progress) -> Result<String, ToolError> {
    Ok(a.text)
}

#[tool]
async fn ping() -> &'static str {
    "pong"
}

/// A raw identifier: the tool is named `type`, its route function `type_tool`.
#[tool]
async fn r#type() -> String {
    "typed".to_owned()
}

#[cfg(any())]
#[tool]
async fn compiled_out() -> String {
    String::new()
}

mod inner {
    use mcp_server::tool;

    /// Lives in a module; the route function has the function's visibility.
    #[tool]
    pub(crate) async fn nested() -> String {
        "nested".to_owned()
    }
}

/// The definition as `tools/list` shows it.
fn json_of(route: &ToolRoute) -> Value {
    serde_json::to_value(route.definition()).expect("a definition serializes")
}

#[test]
fn tool_fn_route_equals_the_builders() {
    let by_hand = Tool::new("add")
        .description("Adds two integers.\n\n  Both fit in an `i64`.")
        .read_only()
        .handler(add);
    assert_eq!(json_of(&add_tool()), json_of(&by_hand));
    assert!(add_tool().definition().output_schema.is_some());
    assert_eq!(
        add_tool().definition().input_schema["required"],
        json!(["a", "b"])
    );

    let by_hand = Tool::new("echo-text")
        .description("Echoes the text")
        .title("Echo")
        .handler(echo);
    assert_eq!(json_of(&echo_tool()), json_of(&by_hand));

    assert_eq!(
        json_of(&ping_tool()),
        json_of(&Tool::new("ping").handler(ping))
    );
    assert_eq!(
        json_of(&type_tool()),
        json_of(
            &Tool::new("type")
                .description(
                    "A raw identifier: the tool is named `type`, its route function `type_tool`."
                )
                .handler(r#type)
        )
    );
    assert_eq!(
        json_of(&inner::nested_tool()),
        json_of(
            &Tool::new("nested")
                .description("Lives in a module; the route function has the function's visibility.")
                .handler(inner::nested)
        )
    );
}

#[test]
fn doc_comments_become_descriptions() {
    assert_eq!(
        add_tool().definition().description.as_deref(),
        Some("Adds two integers.\n\n  Both fit in an `i64`.")
    );
    assert_eq!(
        echo_tool().definition().description.as_deref(),
        Some("Echoes the text"),
        "the attribute's description wins over the doc comment"
    );
    assert_eq!(echo_tool().definition().title.as_deref(), Some("Echo"));
    assert_eq!(ping_tool().definition().description, None);
    let calc = Arc::new(Calculator::default());
    let routes = calc.tool_routes();
    assert_eq!(
        routes[0].definition().description.as_deref(),
        Some("Adds two integers, plus the calculator's offset.")
    );
    assert_eq!(routes[1].definition().description, None);
}

#[test]
fn read_only_sets_the_annotations() {
    let add = json_of(&add_tool());
    assert_eq!(
        add["annotations"],
        json!({"readOnlyHint": true, "idempotentHint": true, "destructiveHint": false})
    );
    assert!(echo_tool().definition().annotations.is_none());
    let routes = Arc::new(Calculator::default()).tool_routes();
    assert_eq!(json_of(&routes[0])["annotations"]["readOnlyHint"], true);
    assert!(routes[1].definition().annotations.is_none());
}

#[derive(Default)]
struct Calculator {
    offset: i64,
    calls: AtomicI64,
}

#[tools]
impl Calculator {
    /// Adds two integers, plus the calculator's offset.
    #[tool(read_only)]
    async fn add(&self, Args(a): Args<AddArgs>) -> Json<Sum> {
        self.count();
        Json(Sum {
            sum: a.a + a.b + self.offset,
        })
    }

    #[tool(name = "calls")]
    async fn calls_so_far(&self, progress: Progress) -> String {
        progress.report(1.0, Some(1.0), None).await;
        self.count().to_string()
    }

    /// Always fails.
    #[mcp_server::tool(title = "Fail")]
    async fn fail(&self) -> Result<String, ToolError> {
        self.count();
        Err(ToolError::failed("failed on purpose"))
    }

    #[cfg(any())]
    #[tool]
    async fn compiled_out(&self) -> String {
        String::new()
    }

    /// Not a tool: left alone.
    fn count(&self) -> i64 {
        self.calls.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A generic type: the generated impl carries the impl's generics and requires
/// `Self: Send + Sync + 'static`.
struct Greeter<T> {
    greeting: T,
}

#[tools]
impl<T: Display + Send + Sync + 'static> Greeter<T> {
    /// Greets.
    #[tool]
    async fn greet(&self, Args(a): Args<EchoArgs>) -> String {
        format!("{}, {}!", self.greeting, a.text)
    }
}

#[test]
fn tools_routes_equal_the_builders() {
    let calc = Arc::new(Calculator {
        offset: 100,
        ..Calculator::default()
    });
    let routes = Arc::clone(&calc).tool_routes();
    let names: Vec<&str> = routes
        .iter()
        .map(|r| r.definition().name.as_str())
        .collect();
    assert_eq!(names, ["add", "calls", "fail"]);

    let c = Arc::clone(&calc);
    let add = Tool::new("add")
        .description("Adds two integers, plus the calculator's offset.")
        .read_only()
        .handler(move |args: Args<AddArgs>| {
            let c = Arc::clone(&c);
            async move { c.add(args).await }
        });
    assert_eq!(json_of(&routes[0]), json_of(&add));

    let c = Arc::clone(&calc);
    let calls = Tool::new("calls").handler(move |p: Progress| {
        let c = Arc::clone(&c);
        async move { c.calls_so_far(p).await }
    });
    assert_eq!(json_of(&routes[1]), json_of(&calls));

    let c = Arc::clone(&calc);
    let fail = Tool::new("fail")
        .description("Always fails.")
        .title("Fail")
        .handler(move || {
            let c = Arc::clone(&c);
            async move { c.fail().await }
        });
    assert_eq!(json_of(&routes[2]), json_of(&fail));

    // The same schemas as a free function with the same parameter and return types.
    assert_eq!(
        json_of(&routes[0])["inputSchema"],
        json_of(&add_tool())["inputSchema"]
    );
    assert_eq!(
        json_of(&routes[0])["outputSchema"],
        json_of(&add_tool())["outputSchema"]
    );

    let router = calc.router();
    assert!(router.has_tool("add") && router.has_tool("calls") && router.has_tool("fail"));
    assert!(!router.has_tool("compiled_out"));

    let greeter = Arc::new(Greeter { greeting: "Hello" });
    let routes = greeter.tool_routes();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].definition().name, "greet");
    assert_eq!(
        routes[0].definition().input_schema["required"],
        json!(["text"])
    );
}

/// A client speaking raw JSON-RPC lines to a server on the other end of an in-memory pipe.
struct Peer {
    reader: mcp_transport::FrameReader<mcp_transport::BoxReader>,
    writer: mcp_transport::FrameWriter<mcp_transport::BoxWriter>,
}

impl Peer {
    fn serve(router: Router) -> Self {
        let ((reader, writer), (server_reader, server_writer)) = mcp_transport::duplex(1 << 20);
        tokio::spawn(Server::new("t", "1", router).serve(server_reader, server_writer));
        Self { reader, writer }
    }

    async fn send(&mut self, message: Value) {
        let bytes = serde_json::to_vec(&message).expect("serializes");
        self.writer.send(&bytes).await.expect("send");
        self.writer.flush().await.expect("flush");
    }

    /// Sends a request and returns its response, skipping notifications.
    async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let frame = tokio::time::timeout(WAIT, self.reader.next())
                .await
                .unwrap_or_else(|_| panic!("no response to {method} within {WAIT:?}"))
                .expect("the server keeps the stream open")
                .expect("a frame within the size limit");
            let message: Value = serde_json::from_slice(&frame).expect("the server writes JSON");
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
        }
    }

    async fn call(&mut self, id: i64, name: &str, arguments: Value) -> Value {
        let response = self
            .request(
                id,
                "tools/call",
                json!({"name": name, "arguments": arguments}),
            )
            .await;
        assert!(response.get("error").is_none(), "{response}");
        response["result"].clone()
    }
}

#[tokio::test]
async fn tools_router_serves_calls() {
    let calc = Arc::new(Calculator {
        offset: 1000,
        ..Calculator::default()
    });
    let router = Arc::clone(&calc)
        .router()
        .tool(ping_tool())
        .tool(echo_tool());
    let mut peer = Peer::serve(router);

    let init = peer
        .request(
            0,
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "macros-test", "version": "1"}
            }),
        )
        .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "t");
    peer.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;

    let list = peer.request(1, "tools/list", json!({})).await;
    let mut names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .expect("a tool list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "calls", "echo-text", "fail", "ping"]);

    let sum = peer.call(2, "add", json!({"a": 2, "b": 3})).await;
    assert_eq!(sum["structuredContent"], json!({"sum": 1005}));
    assert_eq!(sum["content"][0]["type"], "text");
    assert_ne!(sum["isError"], true);

    let calls = peer.call(3, "calls", json!({})).await;
    assert_eq!(calls["content"][0]["text"], "2", "add counted once before");

    let failed = peer.call(4, "fail", json!({})).await;
    assert_eq!(failed["isError"], true);
    assert_eq!(failed["content"][0]["text"], "failed on purpose");

    let invalid = peer.call(5, "add", json!({"a": "two"})).await;
    assert_eq!(invalid["isError"], true, "{invalid}");

    let echoed = peer.call(6, "echo-text", json!({"text": "hi"})).await;
    assert_eq!(echoed["content"][0]["text"], "hi");
    let pong = peer.call(7, "ping", json!({})).await;
    assert_eq!(pong["content"][0]["text"], "pong");

    // The server's routes share the value the test still holds.
    assert_eq!(calc.calls.load(Ordering::Relaxed), 3);
}
