//! `bench-rmcp`: the rival. The same `echo` tool written with rmcp (the official Rust SDK) the way
//! its documentation shows — `#[tool_router]` / `#[tool]` / `#[tool_handler]` (which also generates
//! `get_info` with the tools capability), served with `ServiceExt::serve` on its stdio transport —
//! on a multi-thread tokio runtime (`#[tokio::main]`), as rmcp's examples use.
//!
//! Usage: `bench-rmcp [--transport stdio|pipes]`. The default, `stdio`, is the transport rmcp's
//! documentation uses (`rmcp::transport::stdio()`, tokio's blocking-pool stdin/stdout): the
//! benchmark's "x rmcp" column divides by it. `pipes` uses `rmcp::transport::io::stdio_pipes()`,
//! rmcp's newer reactor-registered pipes, shown as a second row for reference.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
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

// `#[tool_handler]` alone would call `Self::tool_router()`, rebuilding the router on every call;
// rmcp documents passing the stored router instead, which is the faster of the two.
#[tool_handler(router = self.tool_router)]
impl ServerHandler for EchoServer {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let pipes = match (args.next().as_deref(), args.next().as_deref()) {
        (None, _) | (Some("--transport"), Some("stdio")) => false,
        (Some("--transport"), Some("pipes")) => true,
        _ => return Err("usage: bench-rmcp [--transport stdio|pipes]".into()),
    };
    let service = if pipes {
        EchoServer::new()
            .serve(rmcp::transport::io::stdio_pipes())
            .await?
    } else {
        EchoServer::new().serve(rmcp::transport::stdio()).await?
    };
    service.waiting().await?;
    Ok(())
}
