//! The example server: every kind of route the SDK offers (see `example_routes.rs`), served over
//! stdio in both protocol eras.
//!
//! Run: `cargo run -p mcp-examples --bin example-server` (then speak MCP on stdin), or point any
//! MCP client at that command.

#[path = "example_routes.rs"]
mod example_routes;

use mcp_server::{Server, ServerOptions};

/// Serves the example routes on stdio until stdin ends.
pub(crate) async fn serve_stdio() -> std::io::Result<()> {
    let options = ServerOptions {
        instructions: Some("An example server: try echo, add and slow_count.".into()),
        ..ServerOptions::default()
    };
    let server = Server::with_options(
        mcp_protocol::types::Implementation::new("example-server", env!("CARGO_PKG_VERSION")),
        example_routes::router(),
        options,
    );
    server.serve_stdio().await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    serve_stdio().await
}
