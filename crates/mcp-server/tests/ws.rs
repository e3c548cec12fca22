//! MCP over WebSocket on 127.0.0.1: our server (`HttpOptions::websocket`) and our client
//! transport (`mcp_transport::ws_client`) exchanging real MCP messages in both eras; a raw
//! tungstenite client for what a well-behaved client never does (oversized and binary frames,
//! a foreign `Origin`, a wrong subprotocol, never answering pings); reconnection after the TCP
//! connection is cut (through a proxy the test controls), with the in-flight request failed and
//! the legacy session re-opened; graceful shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use mcp_server::http::{HttpEndpoint, HttpOptions, WsOptions};
use mcp_server::{Args, Router, Server, Tool};
use mcp_transport::ws_client::{self, Inbound, Reconnect, WsClientOptions, WsError, WsHandle};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";
/// Every wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(10);

#[derive(Deserialize, JsonSchema)]
struct Text {
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct Sleep {
    ms: u64,
}

fn router() -> Router {
    Router::new()
        .tool(Tool::new("echo").handler(|Args(a): Args<Text>| async move { a.text }))
        .tool(
            Tool::new("sleep").handler(|Args(a): Args<Sleep>| async move {
                tokio::time::sleep(Duration::from_millis(a.ms)).await;
                "slept"
            }),
        )
}

struct TestServer {
    addr: SocketAddr,
    endpoint: HttpEndpoint,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = &mut self.served;
        tokio::time::timeout(LIMIT, served)
            .await
            .expect("the server stops in time")
            .expect("the server task")
            .expect("the server");
    }
}

async fn start(ws: WsOptions) -> TestServer {
    let options = HttpOptions {
        websocket: Some(ws),
        shutdown_timeout: Duration::from_secs(2),
        ..HttpOptions::default()
    };
    let endpoint = Server::new("ws-test", "1.0.0", router()).into_http_endpoint(options);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(endpoint.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        endpoint,
        stop: Some(stop),
        served,
    }
}

/// Our client transport with a small JSON-RPC helper on top.
struct Peer {
    tx: mpsc::Sender<Vec<u8>>,
    rx: mpsc::Receiver<Inbound>,
    handle: WsHandle,
}

impl Peer {
    async fn connect(url: &str, options: WsClientOptions) -> Self {
        let (tx, outgoing) = mpsc::channel(64);
        let (rx, handle) = ws_client::connect(url, options, outgoing)
            .await
            .expect("connect");
        Self { tx, rx, handle }
    }

    async fn send(&self, message: Value) {
        self.tx
            .send(serde_json::to_vec(&message).unwrap())
            .await
            .expect("the transport is running");
    }

    async fn next(&mut self) -> Inbound {
        tokio::time::timeout(LIMIT, self.rx.recv())
            .await
            .expect("an answer in time")
            .expect("the transport is running")
    }

    /// The next message that is a response (notifications are skipped).
    async fn response(&mut self) -> Value {
        loop {
            match self.next().await {
                Inbound::Message(bytes) => {
                    let v: Value = serde_json::from_slice(&bytes).unwrap();
                    if v.get("id").is_some() && v.get("method").is_none() {
                        return v;
                    }
                }
                Inbound::Failed { id, error } => panic!("request {id} failed: {error}"),
                Inbound::Closed(error) => panic!("the transport ended: {error}"),
            }
        }
    }

    async fn call(&mut self, message: Value) -> Value {
        let id = message["id"].clone();
        self.send(message).await;
        let response = self.response().await;
        assert_eq!(response["id"], id, "{response}");
        response
    }

    async fn initialize(&mut self) -> Value {
        let response = self
            .call(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": LEGACY,
                    "capabilities": {},
                    "clientInfo": {"name": "ws-test", "version": "1.0.0"}
                }}),
            )
            .await;
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        response
    }
}

fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

fn echo_text(response: &Value) -> &str {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a text result: {response}"))
}

#[tokio::test]
async fn legacy_session_over_websocket() {
    let server = start(WsOptions::default()).await;
    let mut peer = Peer::connect(&server.url(), WsClientOptions::default()).await;
    assert_eq!(peer.handle.protocol().as_deref(), Some("mcp"));

    let init = peer.initialize().await;
    assert_eq!(init["result"]["protocolVersion"], LEGACY, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "ws-test");

    let list = peer
        .call(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"echo") && names.contains(&"sleep"),
        "{list}"
    );

    let call = peer
        .call(
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
                "name": "echo", "arguments": {"text": "über websocket"}
            }}),
        )
        .await;
    assert_eq!(echo_text(&call), "über websocket");

    // Requests run concurrently on one connection, as on stdio: the slow one answers last.
    peer.send(
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "sleep", "arguments": {"ms": 300}
        }}),
    )
    .await;
    peer.send(
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
            "name": "echo", "arguments": {"text": "fast"}
        }}),
    )
    .await;
    assert_eq!(peer.response().await["id"], 5);
    assert_eq!(peer.response().await["id"], 4);

    peer.handle.close().await;
    assert!(peer.handle.is_closed());
    assert!(
        tokio::time::timeout(LIMIT, peer.rx.recv())
            .await
            .unwrap()
            .is_none(),
        "the receiver ends after close"
    );
    server.stop().await;
}

#[tokio::test]
async fn modern_requests_over_websocket() {
    let server = start(WsOptions::default()).await;
    let mut peer = Peer::connect(&server.url(), WsClientOptions::default()).await;
    let discover = peer
        .call(
            json!({"jsonrpc": "2.0", "id": "d", "method": "server/discover", "params": {
                "_meta": modern_meta()
            }}),
        )
        .await;
    assert!(
        discover["result"]["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x == MODERN)),
        "{discover}"
    );
    let call = peer
        .call(
            json!({"jsonrpc": "2.0", "id": "c", "method": "tools/call", "params": {
                "name": "echo", "arguments": {"text": "modern"}, "_meta": modern_meta()
            }}),
        )
        .await;
    assert_eq!(echo_text(&call), "modern");
    assert_eq!(call["result"]["resultType"], "complete", "{call}");
    // Removed in 2026-07-28: -32601, and the connection goes on.
    let ping = peer
        .call(json!({"jsonrpc": "2.0", "id": "p", "method": "ping", "params": {"_meta": modern_meta()}}))
        .await;
    assert_eq!(ping["error"]["code"], -32601, "{ping}");
    peer.handle.close().await;
    server.stop().await;
}

type Raw = tokio_tungstenite::WebSocketStream<TcpStream>;

/// A raw tungstenite client, for what our transport never does.
async fn raw(
    addr: SocketAddr,
    headers: &[(&'static str, &str)],
) -> Result<Raw, tungstenite::Error> {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    let stream = TcpStream::connect(addr).await.unwrap();
    tokio_tungstenite::client_async(request, stream)
        .await
        .map(|(socket, _)| socket)
}

/// Reads until a close frame; its code.
async fn close_code(socket: &mut Raw) -> Option<CloseCode> {
    tokio::time::timeout(LIMIT, async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame.map(|f| f.code),
                Ok(_) => {}
                Err(e) => panic!("no close frame: {e}"),
            }
        }
        panic!("the connection ended without a close frame")
    })
    .await
    .expect("a close frame in time")
}

#[tokio::test]
async fn oversized_message_closes_with_1009_and_others_keep_being_served() {
    let server = start(WsOptions {
        max_message_size: 1024,
        ..WsOptions::default()
    })
    .await;
    let mut other = Peer::connect(&server.url(), WsClientOptions::default()).await;
    let mut big = raw(server.addr, &[("sec-websocket-protocol", "mcp")])
        .await
        .unwrap();
    let text = "x".repeat(2000);
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "echo", "arguments": {"text": text}, "_meta": modern_meta()
    }});
    big.send(Message::text(message.to_string())).await.unwrap();
    assert_eq!(close_code(&mut big).await, Some(CloseCode::Size));

    // A message just under the limit on the other connection is served.
    let call = other
        .call(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "echo", "arguments": {"text": "y".repeat(600)}, "_meta": modern_meta()
            }}),
        )
        .await;
    assert_eq!(echo_text(&call).len(), 600);
    other.handle.close().await;
    server.stop().await;
}

#[tokio::test]
async fn binary_frame_closes_with_1003() {
    let server = start(WsOptions::default()).await;
    let mut socket = raw(server.addr, &[]).await.unwrap();
    socket
        .send(Message::binary(
            br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.to_vec(),
        ))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Unsupported));
    server.stop().await;
}

#[tokio::test]
async fn upgrade_refusals() {
    let server = start(WsOptions::default()).await;
    let status = |r: Result<Raw, tungstenite::Error>| match r {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("not an HTTP refusal: {e}"),
        Ok(_) => panic!("upgraded"),
    };
    // DNS-rebinding protection, as on the HTTP endpoint.
    assert_eq!(
        status(raw(server.addr, &[("origin", "http://evil.example.com")]).await),
        403
    );
    assert_eq!(
        status(raw(server.addr, &[("host", "evil.example.com")]).await),
        403
    );
    // A client speaking another subprotocol.
    assert_eq!(
        status(raw(server.addr, &[("sec-websocket-protocol", "graphql-ws")]).await),
        400
    );
    // A same-origin browser page and a client offering no subprotocol are served.
    let origin = format!("http://localhost:{}", server.addr.port());
    raw(server.addr, &[("origin", &origin)]).await.unwrap();

    // A plain GET is not an upgrade.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        format!(
            "GET /ws HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        LIMIT,
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 426"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    server.stop().await;
}

#[tokio::test]
async fn required_subprotocol_and_connection_cap() {
    let server = start(WsOptions {
        require_subprotocol: true,
        max_connections: 1,
        ..WsOptions::default()
    })
    .await;
    match raw(server.addr, &[]).await {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 400),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let first = raw(server.addr, &[("sec-websocket-protocol", "mcp")])
        .await
        .unwrap();
    match raw(server.addr, &[("sec-websocket-protocol", "mcp")]).await {
        Err(tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 503);
            assert_eq!(r.headers()["retry-after"], "1");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    drop(first);
    server.stop().await;
}

#[tokio::test]
async fn keepalive_closes_a_silent_peer() {
    let server = start(WsOptions {
        ping_interval: Duration::from_millis(100),
        keepalive_timeout: Duration::from_millis(500),
        ..WsOptions::default()
    })
    .await;
    let mut silent = raw(server.addr, &[]).await.unwrap();
    // Not reading means not answering pings.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(close_code(&mut silent).await, Some(CloseCode::Error));

    // A peer that reads (and so answers pings) stays connected past the timeout.
    let mut live = Peer::connect(&server.url(), WsClientOptions::default()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let call = live
        .call(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "echo", "arguments": {"text": "still here"}, "_meta": modern_meta()
            }}),
        )
        .await;
    assert_eq!(echo_text(&call), "still here");
    assert_eq!(live.handle.reconnects(), 0);
    live.handle.close().await;
    server.stop().await;
}

/// The handshake callback of a tungstenite server: chooses `mcp`.
#[allow(clippy::result_large_err)] // the signature tungstenite asks for
fn choose_mcp(
    _: &tungstenite::handshake::server::Request,
    mut response: tungstenite::handshake::server::Response,
) -> Result<tungstenite::handshake::server::Response, tungstenite::handshake::server::ErrorResponse>
{
    response
        .headers_mut()
        .insert("sec-websocket-protocol", "mcp".parse().unwrap());
    Ok(response)
}

#[tokio::test]
async fn client_keepalive_notices_a_silent_server() {
    // A "server" that completes the handshake and then never reads again.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        // Nobody accepts the reconnect.
        drop(listener);
        let _socket = tokio_tungstenite::accept_hdr_async(stream, choose_mcp)
            .await
            .unwrap();
        tokio::time::sleep(LIMIT).await;
    });
    let options = WsClientOptions {
        ping_interval: Duration::from_millis(50),
        keepalive_timeout: Duration::from_millis(200),
        reconnect: Reconnect {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        },
        ..WsClientOptions::default()
    };
    let mut peer = Peer::connect(&format!("ws://{addr}/ws"), options).await;
    // The keepalive gives up on the connection; the one reconnect attempt finds nobody
    // accepting; the transport says why, and the receiver ends.
    match tokio::time::timeout(LIMIT, peer.rx.recv())
        .await
        .expect("the transport ends in time")
    {
        Some(Inbound::Closed(WsError::ConnectionLost(why))) => {
            assert!(why.contains("keepalive"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(peer.rx.recv().await.is_none());
    assert!(peer.handle.is_closed());
    hold.abort();
}

/// A TCP proxy the test can cut: every accepted connection is piped to `target` until `cut`.
struct Proxy {
    addr: SocketAddr,
    cut: tokio::sync::watch::Sender<u64>,
    task: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, cuts) = tokio::sync::watch::channel(0u64);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut cuts = cuts.clone();
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { addr, cut, task }
    }

    fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}

#[tokio::test]
async fn client_reconnects_fails_the_in_flight_request_and_reopens_the_session() {
    let server = start(WsOptions::default()).await;
    let proxy = Proxy::start(server.addr).await;
    let options = WsClientOptions {
        reconnect: Reconnect {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
        },
        ..WsClientOptions::default()
    };
    let mut peer = Peer::connect(&format!("ws://{}/ws", proxy.addr), options).await;
    peer.initialize().await;

    // A slow call in flight when the connection is cut.
    peer.send(
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "sleep", "arguments": {"ms": 2000}
        }}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.cut();
    match peer.next().await {
        Inbound::Failed { id, error } => {
            assert_eq!(id.to_string(), "7");
            assert!(matches!(error, WsError::ConnectionLost(_)), "{error}");
            assert!(error.is_retryable());
        }
        other => panic!("{other:?}"),
    }

    // The legacy session was opened again on the new connection: a call works without a new
    // `initialize` from the caller.
    let call = peer
        .call(
            json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {
                "name": "echo", "arguments": {"text": "after the cut"}
            }}),
        )
        .await;
    assert_eq!(echo_text(&call), "after the cut");
    assert_eq!(peer.handle.reconnects(), 1);

    // With the server gone for good, reconnecting gives up and the receiver ends.
    proxy.task.abort();
    proxy.cut();
    server.stop().await;
    let last = tokio::time::timeout(LIMIT, async {
        let mut last = None;
        while let Some(item) = peer.rx.recv().await {
            last = Some(item);
        }
        last
    })
    .await
    .expect("the receiver ends after the attempts");
    assert!(
        matches!(last, Some(Inbound::Closed(WsError::ConnectionLost(_)))),
        "{last:?}"
    );
    assert!(peer.handle.is_closed());
}

#[tokio::test]
async fn graceful_shutdown_answers_in_flight_requests_then_closes_with_1001() {
    let server = start(WsOptions::default()).await;
    let mut socket = raw(server.addr, &[]).await.unwrap();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "sleep", "arguments": {"ms": 300}, "_meta": modern_meta()
    }});
    socket.send(Message::text(call.to_string())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.endpoint.session_count(), 0);
    let stopping = tokio::spawn(server.stop());
    let mut answered = false;
    let code = tokio::time::timeout(LIMIT, async {
        while let Some(message) = socket.next().await {
            match message.expect("a clean close") {
                Message::Text(text) => {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["id"], 1, "{v}");
                    answered = true;
                }
                Message::Close(frame) => return frame.map(|f| f.code),
                _ => {}
            }
        }
        None
    })
    .await
    .unwrap();
    assert!(
        answered,
        "the in-flight request is answered before the close"
    );
    assert_eq!(code, Some(CloseCode::Away));
    stopping.await.unwrap();
}

#[tokio::test]
async fn client_refusals() {
    let (_tx, outgoing) = mpsc::channel(1);
    let err = ws_client::connect(
        "http://127.0.0.1:1/ws",
        WsClientOptions::default(),
        outgoing,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, WsError::InvalidUrl(_)), "{err}");
    let (_tx, outgoing) = mpsc::channel(1);
    // (`wss://` is a valid URL with the transport's `tls` feature: examples/tests/tls.rs.)
    let err = ws_client::connect("ftp://127.0.0.1:1/ws", WsClientOptions::default(), outgoing)
        .await
        .unwrap_err();
    assert!(matches!(err, WsError::InvalidUrl(_)), "{err}");

    let server = start(WsOptions::default()).await;
    let (_tx, outgoing) = mpsc::channel(1);
    let options = WsClientOptions {
        headers: vec![("origin".to_owned(), "http://evil.example.com".to_owned())],
        ..WsClientOptions::default()
    };
    let err = ws_client::connect(&server.url(), options, outgoing)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsError::Refused { status: 403, body } if body.contains("Origin")),
        "{err}"
    );
    server.stop().await;
}
