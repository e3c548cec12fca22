//! `bench-http-ours`: our server ([`mcp_server::Server`]) exposing one tool, `echo`, over
//! Streamable HTTP on `/mcp` (both protocol eras), bound to `127.0.0.1:0`.
//!
//! The subject of `cargo xtask bench http`; `bench-http-load` drives it. It prints its URL
//! (`http://127.0.0.1:PORT/mcp`) as the first line of stdout and serves until it is killed or
//! its stdin ends.
//!
//! Usage: `bench-http-ours [--runtime current|multi] [--stack none|production] [--auth none|jwt]`.
//! `current` (the default) is a current-thread tokio runtime; `multi` a multi-thread one with a
//! worker per core. See `docs/benchmarks.md` for which was faster and why it is the default.
//!
//! - `--stack production`: the whole middleware stack in front of `echo`
//!   ([`ProductionLayer`] with every layer on: trace, metrics, authentication (the anonymous
//!   principal), a rate limit no call reaches, permissions, the cache (`echo` is not
//!   cacheable, so every call pays the key check and runs), a concurrency limit, a circuit
//!   breaker and a timeout).
//! - `--auth jwt`: every request authenticated by a JWT (RS256, the key configured in-process,
//!   verified principals cached by token digest), as an OAuth resource server would: a request
//!   without a valid token gets 401, and the principal reaches the handler. The token is minted
//!   here and printed after the URL on the first line, for the load generator to send.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use mcp_auth::jwt::JwtAuthenticator;
use mcp_auth::oauth::resource_server::ProtectedResourceMetadata;
use mcp_auth::rate_limit::{Quota, RateLimiter};
use mcp_auth::test_util::{TestClaims, TestKey};
use mcp_server::http::{HttpAuth, HttpOptions};
use mcp_server::middleware::permission::Undeclared;
use mcp_server::middleware::{AuthLayer, PermissionLayer, ProductionLayer};
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

/// What runs in front of `echo`.
#[derive(Debug, Clone, Copy, Default)]
struct Setup {
    /// The whole middleware stack.
    production: bool,
    /// JWT authentication on every request.
    jwt: bool,
}

/// The issuer of the benchmark's tokens.
const ISSUER: &str = "https://issuer.bench";

/// Serves `echo` over HTTP until stdin ends.
async fn serve(setup: Setup) -> std::io::Result<()> {
    let router = Router::new().tool(
        Tool::new("echo")
            .description("Echoes the text back")
            .handler(echo),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let url = format!("http://{address}/mcp");
    let mut server = Server::new("bench-http-ours", env!("CARGO_PKG_VERSION"), router);
    let mut options = HttpOptions::default();
    let mut header = String::new();
    if setup.production {
        let limiter = RateLimiter::new(
            Quota::per_second(1_000_000).map_err(|e| std::io::Error::other(e.to_string()))?,
        );
        server = server.layer(
            ProductionLayer::new()
                .auth(AuthLayer::optional())
                .permissions(PermissionLayer::new().undeclared(Undeclared::Allow))
                .rate_limit(limiter)
                .max_concurrency(1024)
                .timeout(Duration::from_secs(60)),
        );
    }
    if setup.jwt {
        let key = TestKey::rsa();
        let jwt = JwtAuthenticator::builder()
            .key(key.verification_key())
            .issuer(ISSUER)
            .audience(&url)
            .build()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let token = TestClaims::new(ISSUER, &url, "bench")
            .scope("tools.call")
            .expires_in(3600)
            .sign(&key);
        header = format!(" Authorization: Bearer {token}");
        options.auth = Some(HttpAuth::oauth(
            Arc::new(jwt),
            ProtectedResourceMetadata::new(&url, [ISSUER]),
        ));
    }
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{url}{header}")?;
        stdout.flush()?;
    }
    server
        .serve_http_with_shutdown(listener, options, stdin_closed())
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
    let mut multi = false;
    let mut setup = Setup::default();
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next().as_deref()) {
            ("--runtime", Some("current")) => multi = false,
            ("--runtime", Some("multi")) => multi = true,
            ("--stack", Some("none")) => setup.production = false,
            ("--stack", Some("production")) => setup.production = true,
            ("--auth", Some("none")) => setup.jwt = false,
            ("--auth", Some("jwt")) => setup.jwt = true,
            _ => {
                eprintln!(
                    "usage: bench-http-ours [--runtime current|multi] [--stack none|production] \
                     [--auth none|jwt]"
                );
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "bad arguments",
                ));
            }
        }
    }
    let runtime = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(serve(setup))
}
