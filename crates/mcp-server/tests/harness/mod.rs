//! A server on 127.0.0.1 and a raw HTTP client for the middleware and auth tests: the tests
//! read statuses and headers exactly as they leave the server.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcp_server::Server;
use mcp_server::http::{HttpEndpoint, HttpOptions};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const MODERN: &str = "2026-07-28";

/// How long any single wait may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// A server being served, stopped on drop.
pub struct Running {
    pub addr: SocketAddr,
    pub url: String,
    pub endpoint: HttpEndpoint,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds 127.0.0.1:0 first, so the options (an audience, metadata) can name the address.
pub async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

/// Serves `server` on `listener`.
pub fn serve(listener: TcpListener, server: Server, options: HttpOptions) -> Running {
    let addr = listener.local_addr().expect("addr");
    let endpoint = server.into_http_endpoint(options);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(endpoint.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        url: format!("http://{addr}/mcp"),
        endpoint,
        stop: Some(stop),
    }
}

/// An answer as it came off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON-RPC error code, if the body is an error.
    pub fn code(&self) -> Option<i64> {
        self.body["error"]["code"].as_i64()
    }

    /// The text of the first content block of a tool result.
    pub fn tool_text(&self) -> &str {
        self.body["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
    }
}

/// A plain HTTP/1.1 client.
#[derive(Clone)]
pub struct Raw {
    client: Client<HttpConnector, Full<Bytes>>,
    pub addr: SocketAddr,
}

impl Raw {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            addr,
        }
    }

    /// Sends a request to `path_and_query` with `headers`.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("http://{}{path_and_query}", self.addr));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let request = builder.body(Full::new(Bytes::from(bytes))).unwrap();
        let response = tokio::time::timeout(WAIT, self.client.request(request))
            .await
            .expect("an answer in time")
            .expect("an HTTP answer");
        let status = response.status();
        let headers = response.headers().clone();
        let collected = tokio::time::timeout(WAIT, response.into_body().collect())
            .await
            .expect("a body in time")
            .expect("a body")
            .to_bytes();
        let text = String::from_utf8_lossy(&collected).into_owned();
        // An SSE answer carries its JSON in `data:` lines: take the last message.
        let json_text = if headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
        {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .rfind(|l| !l.is_empty())
                .unwrap_or_default()
                .to_owned()
        } else {
            text.clone()
        };
        let body = serde_json::from_str(&json_text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// A 2026-07-28 `tools/call` with its headers, plus `extra` headers (credentials).
    pub async fn call(&self, tool: &str, arguments: Value, extra: &[(&str, &str)]) -> Answer {
        self.call_at("/mcp", tool, arguments, extra).await
    }

    /// The same at another path (with a query string, say).
    pub async fn call_at(
        &self,
        path_and_query: &str,
        tool: &str,
        arguments: Value,
        extra: &[(&str, &str)],
    ) -> Answer {
        let body = modern_request(
            1,
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
        );
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", tool),
        ];
        headers.extend_from_slice(extra);
        self.send(Method::POST, path_and_query, &headers, Some(&body))
            .await
    }

    /// A 2026-07-28 request of another method (no name header).
    pub async fn request(&self, method: &str, params: Value, extra: &[(&str, &str)]) -> Answer {
        let body = modern_request(1, method, params);
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", MODERN),
            ("mcp-method", method),
        ];
        headers.extend_from_slice(extra);
        self.send(Method::POST, "/mcp", &headers, Some(&body)).await
    }

    /// A GET (health, metrics, metadata).
    pub async fn get(&self, path: &str, extra: &[(&str, &str)]) -> Answer {
        self.send(Method::GET, path, extra, None).await
    }
}

/// A 2026-07-28 request body: `params` with the `_meta` the revision requires.
pub fn modern_request(id: i64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// The value of a sample in a Prometheus text page: the line that starts with `series`
/// (metric name and labels in the order the encoder writes them: sorted by name).
pub fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}
