//! `bench-http-rmcp`: the rival over HTTP. The same `echo` tool written with rmcp 3.11 (the
//! official Rust SDK) as its documentation shows (`#[tool_router]` / `#[tool]` /
//! `#[tool_handler]`), served by its Streamable HTTP server (`StreamableHttpService` with the
//! in-memory `LocalSessionManager`) nested at `/mcp` in an axum router, as rmcp's examples do,
//! on a multi-thread tokio runtime (`#[tokio::main]`), bound to `127.0.0.1:0` with
//! `TCP_NODELAY` on every connection (as our server sets it).
//!
//! It prints its URL (`http://127.0.0.1:PORT/mcp`) as the first line of stdout and serves until
//! its stdin ends.
//!
//! Usage: `bench-http-rmcp [--json-response]`. By default rmcp's defaults: legacy sessions on
//! (`legacy_session_mode`), every answer an SSE stream. `--json-response` sets rmcp's
//! `json_response`, which answers 2026-07-28 (stateless) requests with `application/json`.

use std::io::Write as _;

use axum::serve::ListenerExt as _;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

/// The arguments of `echo`.
#[derive(Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// The server: rmcp's generated tool router.
#[derive(Debug, Clone)]
struct EchoServer {
    /// The tools, built by `#[tool_router]`.
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl EchoServer {
    /// A server with the `echo` tool.
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// The `echo` tool: returns its text.
    #[tool(description = "Echoes the text back")]
    async fn echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        args.text
    }
}

// The stored router, as rmcp documents (not rebuilt on every call).
#[tool_handler(router = self.tool_router)]
impl ServerHandler for EchoServer {}

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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let json_response = match args.next().as_deref() {
        None => false,
        Some("--json-response") => true,
        Some(_) => return Err("usage: bench-http-rmcp [--json-response]".into()),
    };
    let config = StreamableHttpServerConfig::default().with_json_response(json_response);
    let service = StreamableHttpService::new(
        || Ok(EchoServer::new()),
        LocalSessionManager::default().into(),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{address}/mcp")?;
        stdout.flush()?;
    }
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(stdin_closed())
        .await?;
    Ok(())
}
