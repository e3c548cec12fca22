//! `bench-ours`: our server ([`mcp_server::Server`]) exposing one tool, `echo`, over stdio.
//!
//! The benchmark's subject. `cargo xtask bench stdio` drives it with `bench-load`.
//!
//! Usage: `bench-ours [--runtime current|multi]`. The default, `current` (a current-thread tokio
//! runtime), was the faster of the two on the project's 2-core machine at both 1 and 16 calls in
//! flight; `multi` (a multi-thread runtime, one worker per core) is kept to re-check that (see
//! `docs/benchmarks.md`).

use mcp_server::{Args, Router, Server, Tool};
use schemars::JsonSchema;
use serde::Deserialize;

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

/// Serves `echo` on stdin/stdout until stdin ends.
async fn serve() -> std::io::Result<()> {
    let router = Router::new().tool(
        Tool::new("echo")
            .description("Echoes the text back")
            .handler(echo),
    );
    Server::new("bench-ours", env!("CARGO_PKG_VERSION"), router)
        .serve_stdio()
        .await
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let multi = match (args.next().as_deref(), args.next().as_deref()) {
        (None, _) | (Some("--runtime"), Some("current")) => false,
        (Some("--runtime"), Some("multi")) => true,
        _ => {
            eprintln!("usage: bench-ours [--runtime current|multi]");
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
