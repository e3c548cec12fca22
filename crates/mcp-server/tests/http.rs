//! The Streamable HTTP endpoint on 127.0.0.1, driven by a plain hyper client: bad input and the
//! status and JSON-RPC code each gets, 2026-07-28 calls answered with JSON and with SSE,
//! cancellation by closing the stream, the legacy session lifecycle, resumption with
//! `Last-Event-ID` after a cut connection, server-to-client requests answered by POST, the
//! session cap and the idle and pre-initialize timeouts, graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcp_server::http::{AllowedHosts, HttpEndpoint, HttpOptions};
use mcp_server::{
    Args, CancellationToken, Client as McpClient, Progress, RawArgs, Router, Server, Tool,
    ToolError,
};
use mcp_transport::sse::{ReceivedEvent, SseParser};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";

#[derive(Deserialize, JsonSchema)]
struct Text {
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct Steps {
    steps: u32,
    delay_ms: u64,
}

fn router(cancelled: Arc<AtomicBool>) -> Router {
    let region_schema = json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "count": {"type": "integer"}
        },
        "required": ["region"]
    });
    Router::new()
        .tool(Tool::new("echo").handler(|Args(a): Args<Text>| async move { a.text }))
        .tool(Tool::new("count").handler(
            |Args(a): Args<Steps>, progress: Progress, cancel: CancellationToken| async move {
                for step in 1..=a.steps {
                    progress
                        .report(f64::from(step), Some(f64::from(a.steps)), None)
                        .await;
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(a.delay_ms)) => {}
                        () = cancel.cancelled() => return Err(ToolError::Cancelled),
                    }
                }
                Ok(format!("counted to {}", a.steps))
            },
        ))
        .tool(Tool::new("wait_for_cancel").handler(
            move |progress: Progress, cancel: CancellationToken| {
                let cancelled = cancelled.clone();
                async move {
                    // The server may drop the handler on cancellation rather than wait for it
                    // to notice: either way counts.
                    let mut guard = SetOnDrop(Some(cancelled));
                    progress.report(1.0, None, Some("started")).await;
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(30)) => {
                            guard.0 = None;
                            Ok("not cancelled".to_owned())
                        }
                        () = cancel.cancelled() => Err(ToolError::Cancelled),
                    }
                }
            },
        ))
        .tool(Tool::new("roots").handler(|client: McpClient| async move {
            let roots = client.roots().await?;
            Ok::<_, ToolError>(format!("{} roots", roots.roots.len()))
        }))
        .tool(
            Tool::new("region")
                .input_schema(region_schema.as_object().cloned().unwrap())
                .handler(|RawArgs(a): RawArgs| async move { a["region"].to_string() }),
        )
}

/// Sets the flag when dropped while still armed: the handler did not finish normally.
struct SetOnDrop(Option<Arc<AtomicBool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

struct TestServer {
    url: String,
    authority: String,
    endpoint: HttpEndpoint,
    router: Router,
    cancelled: Arc<AtomicBool>,
    client: Client<HttpConnector, Full<Bytes>>,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(options: HttpOptions) -> TestServer {
    let cancelled = Arc::new(AtomicBool::new(false));
    let router = router(cancelled.clone());
    let endpoint = Server::new("http-test", "1.0.0", router.clone()).into_http_endpoint(options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(endpoint.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    TestServer {
        url: format!("http://{addr}/mcp"),
        authority: addr.to_string(),
        endpoint,
        router,
        cancelled,
        client: Client::builder(TokioExecutor::new()).build_http(),
        stop: Some(stop),
        served,
    }
}

/// A response with its body read.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    fn code(&self) -> i64 {
        self.json()["error"]["code"]
            .as_i64()
            .expect("an error code")
    }
    fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
    /// The JSON-RPC messages of an SSE body (events with empty data left out).
    fn sse_messages(&self) -> Vec<Value> {
        let mut p = SseParser::new(1 << 20);
        p.push(&self.body).unwrap();
        let mut out = Vec::new();
        while let Some(e) = p.next_event() {
            if !e.data.is_empty() {
                out.push(serde_json::from_str(&e.data).unwrap());
            }
        }
        out
    }
}

impl TestServer {
    fn request(
        &self,
        method: Method,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Request<Full<Bytes>> {
        let mut b = Request::builder().method(method).uri(&self.url);
        let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        if !has("accept") {
            b = b.header("accept", "application/json, text/event-stream");
        }
        if !has("content-type") {
            b = b.header("content-type", "application/json");
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .unwrap()
    }

    async fn open(&self, req: Request<Full<Bytes>>) -> Response<Incoming> {
        tokio::time::timeout(Duration::from_secs(10), self.client.request(req))
            .await
            .expect("response in time")
            .expect("response")
    }

    async fn send(&self, req: Request<Full<Bytes>>) -> Reply {
        let response = self.open(req).await;
        let (parts, body) = response.into_parts();
        let body = tokio::time::timeout(Duration::from_secs(10), body.collect())
            .await
            .expect("body in time")
            .expect("body")
            .to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    async fn post(&self, headers: &[(&str, &str)], body: &str) -> Reply {
        self.send(self.request(Method::POST, headers, body)).await
    }

    async fn post_json(&self, headers: &[(&str, &str)], body: Value) -> Reply {
        self.post(headers, &body.to_string()).await
    }

    /// initialize + notifications/initialized; the session id.
    async fn initialize(&self, version: &str) -> String {
        let r = self
            .post_json(
                &[],
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": version,
                    "capabilities": {"roots": {}},
                    "clientInfo": {"name": "test", "version": "1"}
                }}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.json()["result"]["protocolVersion"], version);
        let id = r.headers["mcp-session-id"].to_str().unwrap().to_owned();
        let r = self
            .post_json(
                &session(&id, version),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        id
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(15), self.served)
            .await
            .expect("shut down in time")
            .unwrap()
            .unwrap();
    }
}

fn session<'a>(id: &'a str, version: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![("mcp-session-id", id), ("mcp-protocol-version", version)]
}

fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

fn modern_call(id: i64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": name, "arguments": arguments, "_meta": modern_meta()
    }})
}

fn modern_headers<'a>(method: &'a str, name: Option<&'a str>) -> Vec<(&'static str, &'a str)> {
    let mut h = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
    if let Some(name) = name {
        h.push(("mcp-name", name));
    }
    h
}

/// Reads SSE events from a streaming body until `want` returns true or the time is up.
struct SseReader {
    body: Incoming,
    parser: SseParser,
}

impl SseReader {
    fn new(response: Response<Incoming>) -> Self {
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "{response:?}"
        );
        Self {
            body: response.into_body(),
            parser: SseParser::new(1 << 20),
        }
    }

    /// The next event (priming events, with empty data, included); `None` at end of stream.
    async fn next(&mut self) -> Option<ReceivedEvent> {
        loop {
            if let Some(e) = self.parser.next_event() {
                return Some(e);
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame())
                .await
                .expect("an SSE event in time")?;
            if let Ok(data) = frame.expect("body frame").into_data() {
                self.parser.push(&data).unwrap();
            }
        }
    }

    /// The next event that carries a message.
    async fn next_message(&mut self) -> Option<(Option<String>, Value)> {
        loop {
            let e = self.next().await?;
            if !e.data.is_empty() {
                return Some((e.id, serde_json::from_str(&e.data).unwrap()));
            }
        }
    }
}

#[tokio::test]
async fn bad_input_gets_the_status_and_code_the_spec_names() {
    let s = start(HttpOptions {
        max_body_size: 1024,
        ..HttpOptions::default()
    })
    .await;
    let call = modern_call(1, "echo", json!({"text": "hi"}));
    let h = modern_headers("tools/call", Some("echo"));

    // Transport-level refusals.
    let r = s.post(&h, "{not json").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, -32700));
    let r = s.post(&h, r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, -32600));
    let mut wrong_type = h.clone();
    wrong_type.push(("content-type", "text/plain"));
    let r = s.post(&wrong_type, &call.to_string()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, -32600)
    );
    for accept in ["text/html", "application/json", "text/event-stream"] {
        let mut a = h.clone();
        a.push(("accept", accept));
        let r = s.post(&a, &call.to_string()).await;
        assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "Accept: {accept}");
    }
    let mut no_accept = s.request(Method::POST, &h, &call.to_string());
    no_accept.headers_mut().remove("accept");
    assert_eq!(s.send(no_accept).await.status, StatusCode::NOT_ACCEPTABLE);
    let big = modern_call(1, "echo", json!({"text": "x".repeat(2000)}));
    let r = s.post_json(&h, big).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, -32600)
    );

    // DNS-rebinding protection.
    let mut foreign_host = h.clone();
    foreign_host.push(("host", "evil.example.com"));
    let r = s.post_json(&foreign_host, call.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut foreign_origin = h.clone();
    foreign_origin.push(("origin", "http://evil.example.com"));
    let r = s.post_json(&foreign_origin, call.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut localhost = h.clone();
    let port = s.authority.rsplit_once(':').unwrap().1;
    let host = format!("localhost:{port}");
    let origin = format!("http://localhost:{port}");
    localhost.push(("host", &host));
    localhost.push(("origin", &origin));
    let r = s.post_json(&localhost, call.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // 2026-07-28 headers against the body: -32020.
    type Case<'a> = (Vec<(&'a str, &'a str)>, Value, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![("mcp-method", "tools/call"), ("mcp-name", "echo")],
            call.clone(),
            "no MCP-Protocol-Version",
        ),
        (
            vec![("mcp-protocol-version", MODERN), ("mcp-name", "echo")],
            call.clone(),
            "no Mcp-Method",
        ),
        (
            modern_headers("tools/list", Some("echo")),
            call.clone(),
            "Mcp-Method differs",
        ),
        (
            modern_headers("tools/call", None),
            call.clone(),
            "no Mcp-Name",
        ),
        (
            modern_headers("tools/call", Some("other")),
            call.clone(),
            "Mcp-Name differs",
        ),
        (
            vec![
                ("mcp-protocol-version", "2025-11-25"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "echo"),
            ],
            call.clone(),
            "version differs from _meta",
        ),
        (
            modern_headers("tools/call", Some("region")),
            modern_call(2, "region", json!({"region": "eu"})),
            "no Mcp-Param-Region",
        ),
        (
            [
                modern_headers("tools/call", Some("region")),
                vec![("mcp-param-region", "us")],
            ]
            .concat(),
            modern_call(2, "region", json!({"region": "eu"})),
            "Mcp-Param-Region differs",
        ),
    ];
    for (headers, body, what) in cases {
        let r = s.post_json(&headers, body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, -32020),
            "{what}: {r:?}"
        );
    }
    // Encoded values decode before comparing.
    let r = s
        .post_json(
            &[
                modern_headers("tools/call", Some("region")),
                vec![("mcp-param-region", "=?base64?ZXU=?=")],
            ]
            .concat(),
            modern_call(2, "region", json!({"region": "eu"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // The rest of the 2026-07-28 table.
    let r = s
        .post_json(
            &modern_headers("ping", None),
            json!({"jsonrpc": "2.0", "id": 3, "method": "ping", "params": {"_meta": modern_meta()}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, -32601),
        "removed method"
    );
    let r = s
        .post_json(
            &modern_headers("tools/list", None),
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, -32602),
        "missing _meta"
    );
    let r = s
        .post_json(
            &[
                ("mcp-protocol-version", "2099-01-01"),
                ("mcp-method", "tools/list"),
            ],
            json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {"_meta": {
                "io.modelcontextprotocol/protocolVersion": "2099-01-01",
                "io.modelcontextprotocol/clientCapabilities": {}
            }}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, -32022),
        "unsupported version"
    );
    assert!(r.json()["error"]["data"]["supported"].is_array());
    let r = s
        .post_json(
            &modern_headers("notifications/x", None),
            json!({"jsonrpc": "2.0", "method": "notifications/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = s
        .send(s.request(Method::GET, &[("mcp-protocol-version", MODERN)], ""))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = s.send(s.request(Method::PUT, &[], "")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    // Legacy: no session, unknown session, bad version header.
    let list = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/list"});
    let r = s.post_json(&[], list.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, -32600),
        "no session"
    );
    let r = s
        .post_json(
            &session("0123456789abcdef0123456789abcdef", LEGACY),
            list.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "unknown session");
    let id = s.initialize(LEGACY).await;
    let r = s.post_json(&session(&id, "1999-01-01"), list.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "unsupported MCP-Protocol-Version"
    );
    let r = s
        .send(s.request(
            Method::GET,
            &[("mcp-session-id", &id), ("accept", "application/json")],
            "",
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_ACCEPTABLE,
        "GET without text/event-stream"
    );
    let r = s
        .send(s.request(
            Method::GET,
            &[("mcp-session-id", &id), ("last-event-id", "nonsense")],
            "",
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "bad Last-Event-ID");
    s.stop().await;
}

#[tokio::test]
async fn modern_call_answers_json() {
    let s = start(HttpOptions::default()).await;
    let r = s
        .post_json(
            &modern_headers("tools/call", Some("echo")),
            modern_call(1, "echo", json!({"text": "hello"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    let v = r.json();
    assert_eq!(v["id"], 1);
    assert_eq!(v["result"]["content"][0]["text"], "hello");
    assert_eq!(v["result"]["resultType"], "complete");
    assert!(
        r.headers.get("mcp-session-id").is_none(),
        "2026-07-28 has no sessions"
    );
    let r = s
        .post_json(
            &modern_headers("server/discover", None),
            json!({"jsonrpc": "2.0", "id": 2, "method": "server/discover", "params": {"_meta": modern_meta()}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.json()["result"]["supportedVersions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == MODERN)
    );
    s.stop().await;
}

#[tokio::test]
async fn modern_call_streams_progress_as_sse() {
    let s = start(HttpOptions::default()).await;
    let mut body = modern_call(7, "count", json!({"steps": 3, "delay_ms": 5}));
    body["params"]["_meta"]["progressToken"] = json!("p7");
    let r = s
        .post_json(&modern_headers("tools/call", Some("count")), body)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "text/event-stream");
    assert_eq!(r.headers["x-accel-buffering"], "no");
    let messages = r.sse_messages();
    assert_eq!(messages.len(), 4, "{messages:?}");
    for (i, m) in messages[..3].iter().enumerate() {
        assert_eq!(m["method"], "notifications/progress");
        assert_eq!(m["params"]["progressToken"], "p7");
        assert_eq!(m["params"]["progress"], i as f64 + 1.0);
    }
    assert_eq!(messages[3]["id"], 7);
    assert_eq!(messages[3]["result"]["content"][0]["text"], "counted to 3");
    s.stop().await;
}

#[tokio::test]
async fn modern_client_closing_the_stream_cancels_the_handler() {
    let s = start(HttpOptions::default()).await;
    let mut body = modern_call(8, "wait_for_cancel", json!({}));
    body["params"]["_meta"]["progressToken"] = json!(8);
    let response = s
        .open(s.request(
            Method::POST,
            &modern_headers("tools/call", Some("wait_for_cancel")),
            &body.to_string(),
        ))
        .await;
    let mut sse = SseReader::new(response);
    let (_, first) = sse.next_message().await.unwrap();
    assert_eq!(first["method"], "notifications/progress");
    assert!(!s.cancelled.load(Ordering::SeqCst));
    drop(sse);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !s.cancelled.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the handler was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn legacy_session_lifecycle() {
    let s = start(HttpOptions::default()).await;
    let id = s.initialize(LEGACY).await;
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(s.endpoint.session_count(), 1);
    let h = session(&id, LEGACY);

    let r = s
        .post_json(&h, json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "legacy"}}}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["result"]["content"][0]["text"], "legacy");
    assert!(
        r.json()["result"].get("resultType").is_none(),
        "no 2026-07-28 fields in legacy"
    );

    // The GET stream: a priming event (id, retry, empty data), then server-initiated messages.
    let get = s.open(s.request(Method::GET, &h, "")).await;
    assert_eq!(get.status(), StatusCode::OK);
    let mut sse = SseReader::new(get);
    let priming = sse.next().await.unwrap();
    assert_eq!(priming.data, "");
    assert!(priming.id.is_some());
    assert_eq!(sse.parser.retry(), Some(1000));
    s.router
        .add_tool(Tool::new("late").handler(|| async { "late" }));
    let (event_id, notification) = sse.next_message().await.unwrap();
    assert_eq!(notification["method"], "notifications/tools/list_changed");
    assert!(event_id.unwrap().starts_with("0-"));

    // DELETE ends the session: its stream ends, its id is unknown from then on.
    let r = s.send(s.request(Method::DELETE, &h, "")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        sse.next().await.is_none(),
        "the GET stream ends with the session"
    );
    let r = s
        .post_json(
            &h,
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.send(s.request(Method::GET, &h, "")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.send(s.request(Method::DELETE, &h, "")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.endpoint.session_count(), 0);
    s.stop().await;
}

#[tokio::test]
async fn legacy_get_stream_resumes_with_last_event_id() {
    let s = start(HttpOptions::default()).await;
    let id = s.initialize(LEGACY).await;
    let h = session(&id, LEGACY);
    let mut sse = SseReader::new(s.open(s.request(Method::GET, &h, "")).await);
    let mut last_id = sse.next().await.unwrap().id.unwrap();
    const TOTAL: usize = 20;
    let mut received = 0;
    for i in 0..TOTAL / 2 {
        s.router
            .add_tool(Tool::new(format!("t{i}")).handler(|| async { "x" }));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Read a few, then cut the connection mid-stream.
    for _ in 0..3 {
        let (event_id, m) = sse.next_message().await.unwrap();
        assert_eq!(m["method"], "notifications/tools/list_changed");
        last_id = event_id.unwrap();
        received += 1;
    }
    drop(sse);
    for i in TOTAL / 2..TOTAL {
        s.router
            .add_tool(Tool::new(format!("t{i}")).handler(|| async { "x" }));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut resumed = h.clone();
    resumed.push(("last-event-id", &last_id));
    let mut sse = SseReader::new(s.open(s.request(Method::GET, &resumed, "")).await);
    let mut ids = vec![last_id.clone()];
    while received < TOTAL {
        let (event_id, m) = sse.next_message().await.expect("the stream stays open");
        assert_eq!(m["method"], "notifications/tools/list_changed");
        ids.push(event_id.unwrap());
        received += 1;
    }
    // Nothing lost, nothing twice: the ids after the cut are distinct and increasing.
    let seqs: Vec<u64> = ids
        .iter()
        .map(|i| i.split_once('-').unwrap().1.parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(received, TOTAL);
    s.stop().await;
}

#[tokio::test]
async fn legacy_post_stream_resumes_after_a_cut() {
    let s = start(HttpOptions::default()).await;
    let id = s.initialize(LEGACY).await;
    let h = session(&id, LEGACY);
    const STEPS: u32 = 10;
    let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
        "name": "count", "arguments": {"steps": STEPS, "delay_ms": 20}, "_meta": {"progressToken": "c"}
    }});
    let mut sse = SseReader::new(s.open(s.request(Method::POST, &h, &call.to_string())).await);
    let priming = sse.next().await.unwrap();
    assert_eq!(priming.data, "");
    let mut progress = Vec::new();
    let mut last_id = priming.id.unwrap();
    for _ in 0..2 {
        let (event_id, m) = sse.next_message().await.unwrap();
        progress.push(m["params"]["progress"].as_f64().unwrap());
        last_id = event_id.unwrap();
    }
    drop(sse); // the connection is cut; in legacy the request goes on
    tokio::time::sleep(Duration::from_millis(60)).await;
    let mut resumed = h.clone();
    resumed.push(("last-event-id", &last_id));
    let mut sse = SseReader::new(s.open(s.request(Method::GET, &resumed, "")).await);
    let result = loop {
        let (_, m) = sse
            .next_message()
            .await
            .expect("the stream ends with the response");
        if m.get("id").is_some() {
            break m;
        }
        progress.push(m["params"]["progress"].as_f64().unwrap());
    };
    assert_eq!(
        result["result"]["content"][0]["text"],
        format!("counted to {STEPS}")
    );
    let expected: Vec<f64> = (1..=STEPS).map(f64::from).collect();
    assert_eq!(
        progress, expected,
        "every progress notification exactly once"
    );
    assert!(
        sse.next().await.is_none(),
        "the stream ends after the response"
    );
    s.stop().await;
}

#[tokio::test]
async fn legacy_server_to_client_request_is_answered_by_post() {
    let s = start(HttpOptions::default()).await;
    let id = s.initialize(LEGACY).await;
    let h = session(&id, LEGACY);
    let call = json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "roots", "arguments": {}}});
    let mut sse = SseReader::new(s.open(s.request(Method::POST, &h, &call.to_string())).await);
    let (_, request) = sse.next_message().await.unwrap();
    assert_eq!(request["method"], "roots/list");
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {"roots": [{"uri": "file:///a"}, {"uri": "file:///b"}]}});
    let r = s.post_json(&h, answer).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let (_, result) = sse.next_message().await.unwrap();
    assert_eq!(result["id"], 10);
    assert_eq!(result["result"]["content"][0]["text"], "2 roots");
    s.stop().await;
}

#[tokio::test]
async fn legacy_cancellation_by_notification() {
    let s = start(HttpOptions::default()).await;
    let id = s.initialize(LEGACY).await;
    let h = session(&id, LEGACY);
    let call = json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {"name": "wait_for_cancel", "arguments": {}, "_meta": {"progressToken": 1}}});
    let mut sse = SseReader::new(s.open(s.request(Method::POST, &h, &call.to_string())).await);
    sse.next_message().await.unwrap();
    let cancel =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 11}});
    assert_eq!(s.post_json(&h, cancel).await.status, StatusCode::ACCEPTED);
    assert!(
        sse.next_message().await.is_none(),
        "a cancelled request gets no response"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !s.cancelled.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the handler was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn legacy_batch_in_2025_03_26() {
    let s = start(HttpOptions::default()).await;
    let id = s.initialize("2025-03-26").await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "a"}}},
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "x", "progress": 1}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "b"}}}
    ]);
    let r = s
        .post_json(&session(&id, "2025-03-26"), batch.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut texts: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v["result"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    texts.sort();
    assert_eq!(texts, ["a", "b"]);
    // Not in later revisions.
    let id = s.initialize(LEGACY).await;
    let r = s.post_json(&session(&id, LEGACY), batch).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn session_cap_evicts_the_longest_idle() {
    let s = start(HttpOptions {
        max_sessions: 2,
        ..HttpOptions::default()
    })
    .await;
    let first = s.initialize(LEGACY).await;
    let second = s.initialize(LEGACY).await;
    // Touch the first so the second is the longest idle.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(
        s.post_json(&session(&first, LEGACY), ping.clone())
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let third = s.initialize(LEGACY).await;
    assert_eq!(s.endpoint.session_count(), 2);
    assert_eq!(
        s.post_json(&session(&second, LEGACY), ping.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post_json(&session(&first, LEGACY), ping.clone())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        s.post_json(&session(&third, LEGACY), ping.clone())
            .await
            .status,
        StatusCode::OK
    );

    // A session with an open stream is busy and never evicted: when all are busy, 503.
    let g1 = s
        .open(s.request(Method::GET, &session(&first, LEGACY), ""))
        .await;
    let g3 = s
        .open(s.request(Method::GET, &session(&third, LEGACY), ""))
        .await;
    let r = s
        .post_json(&[], json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}
        }}))
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    drop((g1, g3));
    s.stop().await;
}

#[tokio::test]
async fn idle_and_pre_initialize_timeouts_end_sessions() {
    let s = start(HttpOptions {
        session_idle_timeout: Duration::from_millis(400),
        pre_initialize_timeout: Duration::from_millis(200),
        ..HttpOptions::default()
    })
    .await;
    // Never sends notifications/initialized: ends after the pre-initialize timeout.
    let r = s
        .post_json(&[], json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}
        }}))
        .await;
    let silent = r.headers["mcp-session-id"].to_str().unwrap().to_owned();
    let active = s.initialize(LEGACY).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    // Keep `active` busy past both timeouts with requests.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            s.post_json(&session(&active, LEGACY), ping.clone())
                .await
                .status,
            StatusCode::OK
        );
    }
    assert_eq!(
        s.post_json(&session(&silent, LEGACY), ping.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.endpoint.session_count(), 1);
    // An open GET stream keeps a session alive however long it is quiet.
    let get = s
        .open(s.request(Method::GET, &session(&active, LEGACY), ""))
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s.endpoint.session_count(), 1);
    drop(get);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while s.endpoint.session_count() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "idle session not ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        s.post_json(&session(&active, LEGACY), ping).await.status,
        StatusCode::NOT_FOUND
    );
    s.stop().await;
}

#[tokio::test]
async fn many_abandoned_sessions_leave_nothing() {
    // Long enough that none ends while the 200 are opened on a loaded machine.
    let s = start(HttpOptions {
        session_idle_timeout: Duration::from_secs(2),
        ..HttpOptions::default()
    })
    .await;
    let t0 = std::time::Instant::now();
    for _ in 0..200 {
        s.initialize(LEGACY).await;
    }
    eprintln!("ELAPSED {:?}", t0.elapsed());
    assert_eq!(s.endpoint.session_count(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while s.endpoint.session_count() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sessions left: {}",
            s.endpoint.session_count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn trusted_proxy_forwarded_host() {
    let s = start(HttpOptions {
        allowed_hosts: AllowedHosts::List(vec!["mcp.example.com".into()]),
        trust_forwarded_host: true,
        ..HttpOptions::default()
    })
    .await;
    let call = modern_call(1, "echo", json!({"text": "via proxy"}));
    let mut h = modern_headers("tools/call", Some("echo"));
    h.push(("x-forwarded-host", "mcp.example.com"));
    h.push(("origin", "https://mcp.example.com"));
    let r = s.post_json(&h, call.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // Without the forwarded host, the loopback Host is not on the list.
    let r = s
        .post_json(&modern_headers("tools/call", Some("echo")), call)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_ends_streams_and_sessions() {
    let s = start(HttpOptions::default()).await;
    let id = s.initialize(LEGACY).await;
    let mut sse = SseReader::new(
        s.open(s.request(Method::GET, &session(&id, LEGACY), ""))
            .await,
    );
    sse.next().await.unwrap();
    let endpoint = s.endpoint.clone();
    s.stop().await;
    assert!(sse.next().await.is_none());
    assert_eq!(endpoint.session_count(), 0);
}

#[tokio::test]
async fn modern_listen_stream_ends_with_its_result_on_shutdown() {
    let s = start(HttpOptions::default()).await;
    let listen = json!({"jsonrpc": "2.0", "id": "l1", "method": "subscriptions/listen", "params": {
        "notifications": {"toolsListChanged": true}, "_meta": modern_meta()
    }});
    let response = s
        .open(s.request(
            Method::POST,
            &modern_headers("subscriptions/listen", None),
            &listen.to_string(),
        ))
        .await;
    let mut sse = SseReader::new(response);
    let (id, ack) = sse.next_message().await.unwrap();
    assert!(id.is_none(), "2026-07-28 events carry no ids");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    s.router
        .add_tool(Tool::new("late").handler(|| async { "late" }));
    let (_, changed) = sse.next_message().await.unwrap();
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "l1"
    );
    let stopping = tokio::spawn(s.stop());
    let (_, result) = sse.next_message().await.expect("a final result");
    assert_eq!(result["id"], "l1");
    assert!(result.get("result").is_some(), "{result}");
    assert!(sse.next().await.is_none());
    stopping.await.unwrap();
}
