//! The example server: every kind of route the SDK offers (see `crates/mcp-cli/src/example.rs`,
//! which `mcp serve` serves too), served over
//! stdio, or Streamable HTTP with `--http ADDR`, in both protocol eras.
//!
//! Run: `cargo run -p mcp-examples --bin example-server` (then speak MCP on stdin), or point any
//! MCP client at that command. With `--http 127.0.0.1:8080` it serves `http://127.0.0.1:8080/mcp`
//! instead and prints that URL on stdout once listening (port 0 picks a free port). Adding `--ws`
//! (`--http 127.0.0.1:8080 --ws`) serves MCP over WebSocket at `ws://127.0.0.1:8080/ws` too, on
//! the same port, and prints that URL on a second line.

#[path = "../crates/mcp-cli/src/example.rs"]
mod example;

use mcp_server::Server;

/// The example routes with their options.
fn server() -> Server {
    example::server("example-server")
}

use std::io::Write as _;

/// Serves the example routes on stdio until stdin ends.
pub(crate) async fn serve_stdio() -> std::io::Result<()> {
    server().serve_stdio().await
}

/// Serves the example routes over Streamable HTTP at `http://ADDR/mcp` (and, with `ws`, over
/// WebSocket at `ws://ADDR/ws`) until the process is stopped.
async fn serve_http(addr: &str, ws: bool) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let mut urls = format!("http://{local}/mcp\n");
    let mut options = mcp_server::http::HttpOptions::default();
    if ws {
        let ws = mcp_server::http::WsOptions::default();
        urls.push_str(&format!("ws://{local}{}\n", ws.path));
        options.websocket = Some(ws);
    }
    // One write, and its failure ignored: a caller that reads the first line and closes the
    // pipe must not take the server down (`println!` panics on a closed stdout).
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(urls.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    server().serve_http(listener, options).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => serve_stdio().await,
        [flag, addr] if flag == "--http" => serve_http(addr, false).await,
        [flag, addr, ws] if flag == "--http" && ws == "--ws" => serve_http(addr, true).await,
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "usage: example-server [--http ADDR [--ws]]",
        )),
    }
}
