//! `mcp-client` over Streamable HTTP: our example server (`example-server --http`) in both eras,
//! a stream cut mid-way and resumed with nothing lost, a session the server forgot re-opened
//! without the caller noticing, and `server-everything` in its `streamableHttp` mode through the
//! fallback from the modern probe to the legacy handshake.

mod common;
mod peer_env;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{options, text};
use mcp_client::{CallOptions, Client, ClientError, EraPreference, HttpClientOptions};
use mcp_protocol::Era;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The example server on a free loopback port; killed on drop.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_example-server"))
            .args(["--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start example-server --http");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server prints its URL");
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
        Self { child, url }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(url: &str, era: EraPreference) -> Client {
    Client::connect_http(url, options(era), HttpClientOptions::default())
        .await
        .expect("connect over HTTP")
}

#[tokio::test]
async fn our_http_server_in_the_modern_era() {
    let server = HttpServer::start();
    let client = connect(&server.url, EraPreference::Auto).await;
    common::exercise(&client, Era::Modern).await;
    client.close().await;
}

#[tokio::test]
async fn our_http_server_in_the_legacy_era() {
    let server = HttpServer::start();
    let client = connect(&server.url, EraPreference::Legacy).await;
    assert!(client.http_session_id().is_some(), "a legacy session id");
    // Server-to-client requests (elicitation, sampling, roots) travel on the POST's event
    // stream and their answers as POSTs: `exercise` checks all three.
    common::exercise(&client, Era::Legacy).await;
    client.close().await;
}

#[tokio::test]
async fn our_2024_11_05_http_sse_endpoint_directly_and_by_fallback() {
    let server = HttpServer::start();
    let sse_url = server.url.replace("/mcp", "/sse");
    // Directly: the event stream names the endpoint to POST to; answers, and the server's own
    // requests (elicitation, sampling, roots), come back on the stream.
    let client = Client::connect_sse(
        &sse_url,
        options(EraPreference::Auto),
        HttpClientOptions::default(),
    )
    .await
    .expect("connect over HTTP+SSE");
    common::exercise(&client, Era::Legacy).await;
    client.close().await;
    // By fallback: Streamable HTTP at the stream's URL is refused (405), so the client steps
    // back to HTTP+SSE as the spec says.
    let client = connect(&sse_url, EraPreference::Auto).await;
    assert_eq!(client.session().unwrap().era(), Era::Legacy);
    let r = client
        .call_tool("echo", json!({"text": "old"}))
        .await
        .unwrap();
    assert_eq!(text(&r), "old");
    assert!(
        client.http_session_id().is_none(),
        "no Streamable HTTP session"
    );
    client.close().await;
}

#[tokio::test]
async fn unreachable_server_is_a_typed_transport_error() {
    // A port nobody listens on: bind one, learn it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let err = Client::connect_http(
        &url,
        options(EraPreference::Legacy),
        HttpClientOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ClientError::Transport(_)) && err.is_retryable(),
        "{err:?}"
    );
}

/// A loopback TCP proxy in front of `upstream` that, once, cuts the first connection whose
/// answer carries `marker` after forwarding `cut_after` bytes of it.
struct CuttingProxy {
    url: String,
    cuts: Arc<AtomicUsize>,
}

impl CuttingProxy {
    async fn start(upstream: &str, marker: &'static [u8], cut_after: usize) -> Self {
        let target = upstream
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let cuts = Arc::new(AtomicUsize::new(0));
        let armed = Arc::new(AtomicBool::new(true));
        let counter = cuts.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let target = target.clone();
                let armed = armed.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let (mut ci, mut co) = inbound.into_split();
                    let (mut si, mut so) = outbound.into_split();
                    let up = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut ci, &mut so).await;
                    });
                    // Downstream: watch for the marker; once seen on an armed proxy, forward
                    // `cut_after` more bytes and drop both sides.
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut seen: Vec<u8> = Vec::new();
                    let mut budget: Option<usize> = None;
                    loop {
                        let n = match si.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let mut chunk = &buf[..n];
                        if budget.is_none() {
                            seen.extend_from_slice(chunk);
                            if seen.windows(marker.len()).any(|w| w == marker)
                                && armed.swap(false, Ordering::SeqCst)
                            {
                                budget = Some(cut_after);
                            }
                            if seen.len() > 64 * 1024 {
                                seen.drain(..32 * 1024);
                            }
                        }
                        if let Some(left) = budget {
                            let take = left.min(chunk.len());
                            chunk = &chunk[..take];
                            budget = Some(left - take);
                        }
                        if co.write_all(chunk).await.is_err() {
                            break;
                        }
                        if budget == Some(0) {
                            counter.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                    }
                    up.abort();
                });
            }
        });
        Self { url, cuts }
    }
}

#[tokio::test]
async fn a_stream_cut_mid_way_is_resumed_and_nothing_is_lost() {
    let server = HttpServer::start();
    // Cut the answer of the `slow_count` call a little after its third progress event.
    let proxy = CuttingProxy::start(&server.url, b"step 3", 40).await;
    let client = connect(&proxy.url, EraPreference::Legacy).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = CallOptions {
        progress: Some(Box::new(move |p| sink.lock().unwrap().push(p.progress))),
        ..CallOptions::default()
    };
    let steps = 12;
    let r = client
        .call_tool_with("slow_count", json!({"steps": steps, "delay_ms": 40}), &opts)
        .await
        .expect("the call survives the cut");
    assert_eq!(text(&r), format!("counted to {steps}"));
    assert_eq!(proxy.cuts.load(Ordering::SeqCst), 1, "the proxy cut once");
    let got = seen.lock().unwrap().clone();
    let want: Vec<f64> = (1..=steps).map(f64::from).collect();
    assert_eq!(got, want, "every progress event exactly once, in order");
    client.close().await;
}

#[tokio::test]
async fn a_forgotten_session_is_reopened_without_the_caller_noticing() {
    let server = HttpServer::start();
    let client = connect(&server.url, EraPreference::Legacy).await;
    let first = client.http_session_id().expect("a session");
    // End the session behind the client's back, as a restarted server would.
    end_session(&server.url, &first).await;
    let r = client
        .call_tool("echo", json!({"text": "still here"}))
        .await
        .expect("the call goes through on a new session");
    assert_eq!(text(&r), "still here");
    let second = client.http_session_id().expect("a new session");
    assert_ne!(first, second);
    client.close().await;
}

/// Sends one bare HTTP/1.1 request and returns the status code.
async fn status_of(url: &str, head: &str, body: &str) -> u16 {
    let authority = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut s = TcpStream::connect(authority).await.unwrap();
    let req = format!(
        "{head}\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 256];
    // The status line is all we need; an SSE answer would never end.
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&answer);
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_http_sse_endpoints_refuse_bad_input() {
    let server = HttpServer::start();
    let messages = server.url.replace("/mcp", "/messages");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let json = "Content-Type: application/json";
    assert_eq!(
        status_of(
            &messages,
            &format!("POST /messages HTTP/1.1\r\n{json}"),
            ping
        )
        .await,
        400,
        "no sessionId"
    );
    assert_eq!(
        status_of(
            &messages,
            &format!("POST /messages?sessionId=00ff HTTP/1.1\r\n{json}"),
            ping
        )
        .await,
        404,
        "unknown session"
    );
    assert_eq!(
        status_of(
            &messages,
            "POST /messages?sessionId=00ff HTTP/1.1\r\nContent-Type: text/plain",
            ping
        )
        .await,
        415,
        "not JSON"
    );
    assert_eq!(
        status_of(
            &messages,
            "GET /sse HTTP/1.1\r\nAccept: text/event-stream\r\nOrigin: http://evil.example.com",
            ""
        )
        .await,
        403,
        "foreign Origin"
    );
    assert_eq!(
        status_of(
            &messages,
            "GET /sse HTTP/1.1\r\nAccept: text/event-stream",
            ""
        )
        .await,
        200,
        "a good stream opens"
    );
}

/// `DELETE`s a session with a bare HTTP/1.1 request.
async fn end_session(url: &str, session: &str) {
    let authority = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut s = TcpStream::connect(authority).await.unwrap();
    let req = format!(
        "DELETE /mcp HTTP/1.1\r\nHost: {authority}\r\nMcp-Session-Id: {session}\r\n\
         MCP-Protocol-Version: 2025-11-25\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 204"),
        "{answer}"
    );
}

fn peers() -> Option<HashMap<String, String>> {
    peer_env::peers("the server-everything and SDK-server HTTP tests")
}

/// `server-everything` in `streamableHttp` mode, kept on loopback by a preload that pins every
/// `listen` to 127.0.0.1 (it binds all interfaces otherwise); killed on drop.
struct Everything {
    child: Child,
    url: String,
}

impl Everything {
    fn start(peers: &HashMap<String, String>) -> Self {
        Self::start_mode(peers, "streamableHttp", "/mcp")
    }

    fn start_mode(peers: &HashMap<String, String>, mode: &str, path: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let preload =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/peers/loopback-only.cjs");
        let mut child = Command::new(&peers["NODE22"])
            .arg("--require")
            .arg(preload)
            .arg(&peers["SERVER_EVERYTHING"])
            .arg(mode)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server-everything");
        let url = format!("http://127.0.0.1:{port}{path}");
        // Wait until it accepts connections (bounded: Node takes a few seconds on a busy machine).
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, url };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("server-everything did not listen on {url}");
    }
}

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn server_everything_over_streamable_http_falls_back_to_legacy() {
    let Some(peers) = peers() else { return };
    let server = Everything::start(&peers);
    let client = connect(&server.url, EraPreference::Auto).await;
    let session = client.session().unwrap();
    assert_eq!(
        session.era(),
        Era::Legacy,
        "server-everything is legacy only"
    );
    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
    let echoed = client
        .call_tool("echo", json!({"message": "over http"}))
        .await
        .unwrap();
    assert!(text(&echoed).contains("over http"), "{echoed:?}");
    let sum = client
        .call_tool("get-sum", json!({"a": 2, "b": 40}))
        .await
        .unwrap();
    assert!(text(&sum).contains("42"), "{sum:?}");
    // Progress notifications arrive on the POST's event stream.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = CallOptions {
        progress: Some(Box::new(move |p| sink.lock().unwrap().push(p.progress))),
        ..CallOptions::default()
    };
    client
        .call_tool_with(
            "trigger-long-running-operation",
            json!({"duration": 1, "steps": 4}),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 4);
    let resources = client.list_resources().await.unwrap();
    assert!(!resources.is_empty());
    client.close().await;
    println!(
        "server-everything streamableHttp auto->legacy tools/list tools/call progress resources/list passed"
    );
}

#[tokio::test]
async fn server_everything_over_http_sse_through_the_fallback() {
    let Some(peers) = peers() else { return };
    let server = Everything::start_mode(&peers, "sse", "/sse");
    let client = connect(&server.url, EraPreference::Auto).await;
    assert_eq!(client.session().unwrap().era(), Era::Legacy);
    let echoed = client
        .call_tool("echo", json!({"message": "over sse"}))
        .await
        .unwrap();
    assert!(text(&echoed).contains("over sse"), "{echoed:?}");
    let sum = client
        .call_tool("get-sum", json!({"a": 1, "b": 2}))
        .await
        .unwrap();
    assert!(text(&sum).contains('3'), "{sum:?}");
    assert!(!client.list_prompts().await.unwrap().is_empty());
    client.close().await;
    println!("server-everything sse auto->legacy(http+sse) tools/call prompts/list passed");
}

/// One request as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// `GET`, `POST tools/call`, ...
    what: String,
    last_event_id: Option<String>,
    at: std::time::Instant,
}

/// Reads one HTTP/1.1 request (head and `Content-Length` body) from `s`; `None` at the end of
/// the connection.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, String)> {
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = s.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    buf.drain(..head_end + length);
    Some((head, body))
}

/// A legacy server, written out by hand, whose `tools/call` stream sends only a priming event
/// (an id and `retry: 300`) and closes; the answer waits for a GET that resumes after that
/// event. Its own GET stream opens 100 ms after it is asked for. Records every request it gets.
async fn closing_stream_server() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let pending_call = Arc::new(Mutex::new(None::<serde_json::Value>));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let log = log.clone();
            let pending_call = pending_call.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some((head, body)) = read_request(&mut s, &mut buf).await {
                    let method = head.split(' ').next().unwrap_or_default().to_owned();
                    let header = |name: &str| {
                        head.lines().find_map(|l| {
                            let (n, v) = l.split_once(':')?;
                            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                        })
                    };
                    let message: serde_json::Value =
                        serde_json::from_str(&body).unwrap_or_default();
                    let rpc = message["method"].as_str().unwrap_or_default().to_owned();
                    log.lock().unwrap().push(Seen {
                        what: format!("{method} {rpc}").trim().to_owned(),
                        last_event_id: header("last-event-id"),
                        at: std::time::Instant::now(),
                    });
                    let sse_head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nmcp-session-id: s1\r\nConnection: close\r\n\r\n";
                    let json = |value: serde_json::Value| {
                        let body = value.to_string();
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nmcp-session-id: s1\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    let answer = match (method.as_str(), rpc.as_str()) {
                        ("POST", "initialize") => {
                            json(json!({"jsonrpc": "2.0", "id": message["id"], "result": {
                            "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                            "serverInfo": {"name": "closing-stream", "version": "1"}}}))
                        }
                        ("POST", "tools/call") => {
                            *pending_call.lock().unwrap() = Some(message["id"].clone());
                            let _ = s.write_all(sse_head.as_bytes()).await;
                            let _ = s.write_all(b"id: call-1\nretry: 300\ndata: \n\n").await;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            log.lock().unwrap().push(Seen {
                                what: "closed".into(),
                                last_event_id: None,
                                at: std::time::Instant::now(),
                            });
                            return;
                        }
                        ("POST", _) => "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".into(),
                        ("GET", _) => {
                            let resumed = header("last-event-id").as_deref() == Some("call-1");
                            if !resumed {
                                // A server a little slow to open its stream.
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                            let _ = s.write_all(sse_head.as_bytes()).await;
                            log.lock().unwrap().push(Seen {
                                what: "GET answered".into(),
                                last_event_id: None,
                                at: std::time::Instant::now(),
                            });
                            let id = if resumed {
                                pending_call.lock().unwrap().take()
                            } else {
                                None
                            };
                            if let Some(id) = id {
                                let result = json!({"jsonrpc": "2.0", "id": id, "result": {
                                    "content": [{"type": "text", "text": "resumed"}]}});
                                let _ = s
                                    .write_all(format!("id: call-2\ndata: {result}\n\n").as_bytes())
                                    .await;
                            } else {
                                let _ = s.write_all(b"id: get-1\ndata: \n\n").await;
                            }
                            // Held open until the client goes.
                            let _ = s.read(&mut [0u8; 1]).await;
                            return;
                        }
                        _ => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into(),
                    };
                    if s.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_closed_stream_is_resumed_by_get_after_its_retry_with_the_stream_opened_first() {
    let (url, seen) = closing_stream_server().await;
    let client = connect(&url, EraPreference::Legacy).await;
    let r = client
        .call_tool("anything", json!({}))
        .await
        .expect("the answer arrives on the resumed stream");
    assert_eq!(text(&r), "resumed");
    client.close().await;

    let seen = seen.lock().unwrap().clone();
    let order: Vec<&str> = seen.iter().map(|s| s.what.as_str()).collect();
    let position = |what: &str| order.iter().position(|w| *w == what).unwrap();
    // The GET stream for the server's own messages was open before the next request went out.
    assert!(
        position("GET answered") < position("POST tools/call"),
        "GET stream opened first: {order:?}"
    );
    let closed = &seen[position("closed")];
    let resumed = seen
        .iter()
        .find(|s| s.last_event_id.is_some())
        .expect("a GET resuming the closed stream");
    assert_eq!(resumed.last_event_id.as_deref(), Some("call-1"));
    let waited = resumed.at.duration_since(closed.at);
    assert!(
        waited >= Duration::from_millis(280),
        "the stream's retry (300 ms) was honoured; waited {waited:?}"
    );
}

/// The example server with `--ws` too; killed on drop.
fn start_with_ws() -> HttpServer {
    let mut child = Command::new(env!("CARGO_BIN_EXE_example-server"))
        .args(["--http", "127.0.0.1:0", "--ws"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start example-server --http --ws");
    // It prints two lines, the HTTP and the WebSocket URL; read both so it never writes to a
    // closed pipe.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("the server prints its URL");
    let mut ws_line = String::new();
    stdout
        .read_line(&mut ws_line)
        .expect("the server prints its WebSocket URL");
    assert!(ws_line.starts_with("ws://127.0.0.1:"), "{ws_line:?}");
    let url = line.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
    HttpServer { child, url }
}

#[tokio::test]
async fn our_websocket_endpoint_in_both_eras() {
    let server = start_with_ws();
    let ws_url = server
        .url
        .replace("http://", "ws://")
        .replace("/mcp", "/ws");
    for (era, expect) in [
        (EraPreference::Auto, Era::Modern),
        (EraPreference::Legacy, Era::Legacy),
    ] {
        let client = Client::connect_ws(
            &ws_url,
            options(era),
            mcp_client::WsClientOptions::default(),
        )
        .await
        .expect("connect over WebSocket");
        common::exercise(&client, expect).await;
        client.close().await;
    }
}

/// A scripted SDK server (`fixtures/peers/`) on Streamable HTTP; killed on drop.
struct ScriptServer {
    child: Child,
    url: String,
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/peers")
        .join(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) until `port` accepts connections.
fn wait_for_port(child: &mut Child, port: u16, what: &str) {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} did not listen on port {port}");
}

/// `add`, `echo`, the `*://hello` resource and the `greet` prompt, as both scripts serve them.
async fn check_script_server(client: &Client, scheme: &str, who: &str, era: &str) {
    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "add"), "{tools:?}");
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(text(&sum), "5");
    assert_eq!(sum.structured_content, Some(json!({"sum": 5})));
    let echoed = client
        .call_tool("echo", json!({"text": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "hi");
    let read = client
        .read_resource(&format!("{scheme}://hello"))
        .await
        .unwrap();
    assert_eq!(read.contents[0].uri(), format!("{scheme}://hello"));
    let prompt = client
        .get_prompt(
            "greet",
            std::collections::BTreeMap::from([("name".to_owned(), "Bo".to_owned())]),
        )
        .await
        .unwrap();
    assert_eq!(
        prompt.messages[0].content.as_text(),
        Some("Please greet Bo warmly.")
    );
    println!("{who} http {era} tools/list tools/call x2 resources/read prompts/get passed");
}

#[tokio::test]
async fn typescript_sdk_http_server() {
    let Some(peers) = peers() else { return };
    let mut child = Command::new(&peers["NODE22"])
        .arg(fixture("ts-server.mjs"))
        .args(["--http", "0"])
        .env("NPM_MODULES", &peers["NPM_MODULES"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ts-server --http");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ts-server prints its URL");
    let server = ScriptServer {
        child,
        url: line.trim().to_owned(),
    };
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{:?}",
        server.url
    );
    // The SDK 1.32 server is legacy only: the modern probe falls back.
    let client = connect(&server.url, EraPreference::Auto).await;
    assert_eq!(client.session().unwrap().era(), Era::Legacy);
    check_script_server(&client, "ts", "typescript-sdk", "auto->legacy").await;
    client.close().await;
}

#[tokio::test]
async fn python_sdk_http_server_in_both_eras() {
    let Some(peers) = peers() else { return };
    let port = free_port();
    let mut child = Command::new(&peers["PYTHON"])
        .arg(fixture("py-server.py"))
        .args(["--http", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start py-server --http");
    wait_for_port(&mut child, port, "py-server");
    let server = ScriptServer {
        child,
        url: format!("http://127.0.0.1:{port}/mcp"),
    };
    for (era, expect, label) in [
        (EraPreference::Auto, Era::Modern, "auto->modern"),
        (EraPreference::Legacy, Era::Legacy, "legacy"),
    ] {
        let client = connect(&server.url, era).await;
        assert_eq!(client.session().unwrap().era(), expect);
        check_script_server(&client, "py", "python-sdk", label).await;
        client.close().await;
    }
}
