//! An MCP server over WebSocket: concurrent requests on one socket, progress, cancellation,
//! resource-change notifications, an optional API key checked at the handshake, and a graceful
//! shutdown on Ctrl-C or SIGTERM.
//!
//! Mirrors the original Kailash SDK's WebSocket server example: `MCPServer("ws-server",
//! transport="websocket", websocket_host="0.0.0.0", websocket_port=3001,
//! enable_subscriptions=True, enable_websocket_compression=True)` then `server.run()`. What
//! differs:
//! - the original's `initialize` answer was rejected by the official client, so Kailash's own
//!   client could not talk to its own WebSocket server; here any client of this SDK connects
//!   (`Client::connect_ws`, `mcp tools -s ws://...`), in both protocol eras;
//! - it handled one client's messages strictly one after another (a slow tool blocked the
//!   socket and cancellation could not work); here requests on one socket run concurrently and
//!   `notifications/cancelled` stops a running tool;
//! - it accepted an `auth_provider` but never authenticated connections; here, with
//!   `MCP_SERVER_API_KEY` set, the upgrade request must carry that key (`X-API-Key` or
//!   `Authorization: Bearer`), or it is refused with 401 before any MCP message;
//! - it bound `0.0.0.0` by default; here the default is loopback;
//! - its "compression" hex-encoded gzip inside a JSON envelope, which made messages larger;
//!   here messages are plain JSON text frames (no `permessage-deflate`, see docs/websocket.md);
//! - the same port also serves Streamable HTTP at `/mcp` (the WebSocket route sits on the HTTP
//!   endpoint's router, sharing its `Host`/`Origin` guard and limits).
//!
//! ```text
//! websocket-server [--listen ADDR]   # default 127.0.0.1:3001; prints ws://ADDR/ws when listening
//! ```
//!
//! Tools: `echo {text}`; `slow_count {steps, delay_ms}` (progress per step, stops when
//! cancelled); `set_status {text}` (changes the resource `status://current` and notifies its
//! subscribers).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

mod shutdown;

use mcp_auth::{ApiKeyAuthenticator, AuthMethod, Principal};
use mcp_protocol::types::ResourceContents;
use mcp_server::http::{HttpAuth, HttpOptions, WsOptions};
use mcp_server::middleware::AuthLayer;
use mcp_server::{Args, CancellationToken, Progress, Resource, Router, Server, Tool, ToolError};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct CountArgs {
    /// How many steps to take.
    steps: u32,
    /// Milliseconds per step (default 100).
    #[serde(default = "default_delay_ms")]
    delay_ms: u64,
}

fn default_delay_ms() -> u64 {
    100
}

#[derive(Deserialize, JsonSchema)]
struct StatusArgs {
    /// The new status text.
    text: String,
}

const STATUS_URI: &str = "status://current";

/// Counts slowly, reporting progress at each step; stops as soon as the call is cancelled.
async fn slow_count(
    Args(args): Args<CountArgs>,
    progress: Progress,
    cancelled: CancellationToken,
) -> Result<String, ToolError> {
    for step in 1..=args.steps {
        tokio::select! {
            () = cancelled.cancelled() => {
                return Err(ToolError::failed(format!("cancelled at step {step}")));
            }
            () = tokio::time::sleep(Duration::from_millis(args.delay_ms)) => {}
        }
        progress
            .report(f64::from(step), Some(f64::from(args.steps)), None)
            .await;
    }
    Ok(format!("counted to {}", args.steps))
}

fn router() -> Router {
    let status = Arc::new(Mutex::new("starting".to_owned()));
    let read_status = Arc::clone(&status);
    let router = Router::new()
        .tool(
            Tool::new("echo")
                .description("Echoes the text back")
                .read_only()
                .handler(|Args(args): Args<EchoArgs>| async move { args.text }),
        )
        .tool(
            Tool::new("slow_count")
                .description("Counts slowly with progress; honours cancellation")
                .handler(slow_count),
        )
        .resource(
            Resource::new(STATUS_URI, "status")
                .description("The current status; set_status changes it")
                .mime_type("text/plain")
                .handler(move |request| {
                    let text = read_status
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone();
                    async move {
                        Ok(vec![ResourceContents::text(
                            request.uri,
                            Some("text/plain"),
                            text,
                        )])
                    }
                }),
        );
    // The router is a handle: the tool keeps one to announce the change to subscribers.
    let handle = router.clone();
    router.tool(
        Tool::new("set_status")
            .description("Sets the status and notifies the subscribers of status://current")
            .handler(move |Args(args): Args<StatusArgs>| {
                *status.lock().unwrap_or_else(PoisonError::into_inner) = args.text.clone();
                handle.resource_updated(STATUS_URI);
                async move { format!("status: {}", args.text) }
            }),
    )
}

fn invalid(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message.into())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listen = match args.as_slice() {
        [] => "127.0.0.1:3001".to_owned(),
        [flag, addr] if flag == "--listen" => addr.clone(),
        _ => return Err(invalid("usage: websocket-server [--listen ADDR]")),
    };
    let mut server = Server::new("websocket-server", env!("CARGO_PKG_VERSION"), router());
    let mut options = HttpOptions {
        websocket: Some(WsOptions::default()),
        // WebSocket and Streamable HTTP only: the 2024-11-05 HTTP+SSE endpoints are left out.
        legacy_sse: None,
        ..HttpOptions::default()
    };
    // The key is checked once, on the upgrade request, for the whole connection.
    if let Ok(key) = std::env::var("MCP_SERVER_API_KEY") {
        let client = Principal::new("ws-client", AuthMethod::ApiKey).with_permissions(["tools.*"]);
        let keys = ApiKeyAuthenticator::new()
            .key(&key, client)
            .map_err(|e| invalid(format!("MCP_SERVER_API_KEY: {e}")))?
            .accept_bearer(true);
        options.auth = Some(HttpAuth::new(Arc::new(keys)));
        server = server.layer(AuthLayer::required());
    }
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let local = listener.local_addr()?;
    let ws_path = options
        .websocket
        .as_ref()
        .map_or("/ws", |ws| ws.path.as_str());
    println!("ws://{local}{ws_path}");
    server
        .serve_http_with_shutdown(listener, options, shutdown::interrupted())
        .await?;
    eprintln!("websocket-server: stopped");
    Ok(())
}
