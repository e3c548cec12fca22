//! `bench-http-ours`: our server ([`mcp_server::Server`]) exposing one tool, `echo`, over
//! Streamable HTTP on `/mcp` (both protocol eras), bound to `127.0.0.1:0`.
//!
//! The subject of `cargo xtask bench http`; `bench-http-load` drives it. It prints its URL
//! (`http://127.0.0.1:PORT/mcp`) as the first line of stdout and serves until it is killed or
//! its stdin ends.
//!
//! Usage: `bench-http-ours [--runtime current|multi]`. `current` (the default) is a
//! current-thread tokio runtime; `multi` a multi-thread one with a worker per core. See
//! `docs/benchmarks.md` for which was faster and why it is the default.

use std::io::Write as _;

use mcp_server::http::HttpOptions;
use mcp_server::{Args, Router, Server, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::net::TcpListener;

/// The arguments of `echo`.
#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// The `echo` tool: returns its text.
async fn echo(Args(args): Args<EchoArgs>) -> String {
    args.text
}

/// Serves `echo` over HTTP until stdin ends.
async fn serve() -> std::io::Result<()> {
    let router = Router::new().tool(
        Tool::new("echo")
            .description("Echoes the text back")
            .handler(echo),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{address}/mcp")?;
        stdout.flush()?;
    }
    let server = Server::new("bench-http-ours", env!("CARGO_PKG_VERSION"), router);
    server
        .serve_http_with_shutdown(listener, HttpOptions::default(), stdin_closed())
        .await
}

/// Completes when stdin reaches its end (the load generator closes it to stop the server).
async fn stdin_closed() {
    let (done, wait) = tokio::sync::oneshot::channel::<()>();
    // A plain thread: a blocking read of stdin must not occupy a runtime worker.
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
            eprintln!("usage: bench-http-ours [--runtime current|multi]");
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
