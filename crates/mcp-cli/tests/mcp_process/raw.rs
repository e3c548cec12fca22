//! A plain HTTP/1.1 client for what `mcp` does not show: statuses, headers, `/health`,
//! `/metrics`, and 2026-07-28 requests written by hand.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// How long one exchange may take.
const WAIT: Duration = Duration::from_secs(60);

/// An answer as it came off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The JSON body (the last `data:` of an event stream), or null.
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
}

/// Requests to one server, given by its `http://host:port/mcp` URL.
#[derive(Clone)]
pub struct Raw {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Raw {
    pub fn new(mcp_url: &str) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: mcp_url.trim_end_matches("/mcp").to_owned(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
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
        Answer {
            status,
            headers,
            body: serde_json::from_str(&json_text).unwrap_or(Value::Null),
            text,
        }
    }

    /// A 2026-07-28 `tools/call` with its headers, plus `extra` (credentials).
    pub async fn call(&self, tool: &str, arguments: Value, extra: &[(&str, &str)]) -> Answer {
        let body = json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments, "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            }},
        });
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", tool),
        ];
        headers.extend_from_slice(extra);
        self.send(Method::POST, "/mcp", &headers, Some(&body)).await
    }

    /// A GET (health, metrics).
    pub async fn get(&self, path: &str, extra: &[(&str, &str)]) -> Answer {
        self.send(Method::GET, path, extra, None).await
    }
}

/// The value of a sample in a Prometheus text page: the line that starts with `series`.
pub fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}
