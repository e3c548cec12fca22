//! `bench-http-ceiling`: the machine's limit for MCP over HTTP — a bare hyper 1 HTTP/1.1 server,
//! no SDK and no framework, bound to `127.0.0.1:0` with `TCP_NODELAY`.
//!
//! Every POST's body is parsed as a JSON-RPC message with serde_json and answered with
//! `application/json`: `tools/call` with the `echo` result (the text of its arguments), any
//! other request with a minimal `initialize` result and an `Mcp-Session-Id` header (so the load
//! generator's legacy mode runs against it too), a notification with 202. It checks nothing
//! else: this is the floor of what any MCP server over HTTP must do.
//!
//! It prints its URL (`http://127.0.0.1:PORT/mcp`) as the first line of stdout and serves until
//! its stdin ends. Usage: `bench-http-ceiling [--runtime current|multi]` (default `current`).

use std::convert::Infallible;
use std::io::Write as _;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::net::TcpListener;

/// The parts of a JSON-RPC message the ceiling reads.
#[derive(Deserialize)]
struct Message<'a> {
    /// The request id (absent for a notification).
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    /// The method.
    #[serde(borrow)]
    method: &'a str,
    /// The parameters.
    #[serde(default)]
    params: Option<Params>,
}

/// `tools/call` parameters.
#[derive(Deserialize)]
struct Params {
    /// The tool's arguments.
    #[serde(default)]
    arguments: Option<EchoArgs>,
}

/// The arguments of `echo`.
#[derive(Deserialize)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// A JSON-RPC response.
#[derive(Serialize)]
struct Answer<'a, T> {
    /// Always "2.0".
    jsonrpc: &'static str,
    /// The request's id, as sent.
    id: &'a RawValue,
    /// The result.
    result: T,
}

/// The `echo` result.
#[derive(Serialize)]
struct CallResult<'a> {
    /// One text block.
    content: [TextContent<'a>; 1],
}

/// A text content block.
#[derive(Serialize)]
struct TextContent<'a> {
    /// Always "text".
    #[serde(rename = "type")]
    kind: &'static str,
    /// The text.
    text: &'a str,
}

/// The minimal `initialize` result.
const INITIALIZE_RESULT: &str = r#"{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"bench-http-ceiling","version":"0"}}"#;

/// A response with `status` and an optional JSON body.
fn response(status: StatusCode, body: Option<Vec<u8>>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    if body.is_some() {
        builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    builder
        .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Answers one request.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(response(StatusCode::BAD_REQUEST, None)),
    };
    let Ok(message) = serde_json::from_slice::<Message<'_>>(&body) else {
        return Ok(response(StatusCode::BAD_REQUEST, None));
    };
    let Some(id) = message.id else {
        return Ok(response(StatusCode::ACCEPTED, None));
    };
    if message.method == "tools/call" {
        let text = message
            .params
            .as_ref()
            .and_then(|p| p.arguments.as_ref())
            .map_or("", |a| a.text.as_str());
        let answer = Answer {
            jsonrpc: "2.0",
            id,
            result: CallResult {
                content: [TextContent { kind: "text", text }],
            },
        };
        let body = serde_json::to_vec(&answer).unwrap_or_default();
        return Ok(response(StatusCode::OK, Some(body)));
    }
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{},"result":{INITIALIZE_RESULT}}}"#,
        id.get()
    )
    .into_bytes();
    let mut response = response(StatusCode::OK, Some(body));
    response.headers_mut().insert(
        "mcp-session-id",
        hyper::header::HeaderValue::from_static("ceiling"),
    );
    Ok(response)
}

/// Accepts connections until stdin ends.
async fn serve() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{address}/mcp")?;
        stdout.flush()?;
    }
    let closed = stdin_closed();
    tokio::pin!(closed);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut closed => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, hyper::service::service_fn(answer))
                .await;
        });
    }
}

/// Completes when stdin reaches its end (the load generator closes it to stop the server).
async fn stdin_closed() {
    let (done, wait) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            let mut sink = [0_u8; 64];
            let mut stdin = std::io::stdin().lock();
            while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
            let _ = done.send(());
        });
    if spawned.is_ok() {
        let _ = wait.await;
    } else {
        std::future::pending::<()>().await;
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let multi = match (args.next().as_deref(), args.next().as_deref()) {
        (None, _) | (Some("--runtime"), Some("current")) => false,
        (Some("--runtime"), Some("multi")) => true,
        _ => {
            eprintln!("usage: bench-http-ceiling [--runtime current|multi]");
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad arguments",
            ));
        }
    };
    let runtime = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(serve())
}
