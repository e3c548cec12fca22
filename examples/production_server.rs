//! A production server: the whole middleware stack (tracing, metrics, API-key authentication, a
//! rate limit, permissions, a response cache, circuit breakers, a timeout) over Streamable HTTP
//! with `/health` and `/metrics`, or over stdio.
//!
//! Mirrors the original Kailash SDK's production server example: `MCPServer(name,
//! enable_cache=True, cache_ttl=..., enable_metrics=True, auth_provider=APIKeyAuth(...),
//! rate_limit_config=..., circuit_breaker_config=...)` with `@server.tool(cache_key=...,
//! required_permission=...)`. What differs: the original served those knobs only on stdio and
//! its own WebSocket router (no HTTP, no `/health` or `/metrics` route), read credentials from
//! tool arguments, failed every call once a circuit breaker was configured and raised
//! `TypeError` on its documented `rate_limit_config` keys. Here credentials are HTTP headers
//! checked before anything runs, refusals are typed (401/403/429/503 over HTTP, -31401/-31403/
//! -31429/-31503 on stdio), keys are configured as SHA-256 digests, and Ctrl-C or SIGTERM shuts
//! the HTTP endpoint down gracefully (open requests finish, sessions end, the process exits 0).
//!
//! ```text
//! production-server --keys KEYS.json [--http ADDR] [--rate-limit N] [--cache-ttl-ms MS]
//!                   [--breaker FAILURES:OPEN_MS]
//! ```
//!
//! - `--keys`: a JSON array of API keys as configuration holds them, digests only:
//!   `[{"id": "ci", "sha256": "<hex of SHA-256 of the key>", "permissions": ["tools.*"]}]`.
//!   A key travels as `X-API-Key: KEY`, `Authorization: ApiKey KEY` or `Authorization: Bearer
//!   KEY` (for clients that only know bearer tokens).
//! - On stdio the caller's key comes from the environment: `MCP_API_KEY` (the `env` block of a
//!   client's server configuration). Without it, or with a wrong one, every request is refused
//!   with -31401.
//! - Over HTTP (`--http 127.0.0.1:8080`) every request carries the key; the URL is printed on
//!   stdout once listening; `/health`, `/health/ready` and `/metrics` (behind the keys) are
//!   served beside `/mcp`. Ctrl-C or SIGTERM stops it gracefully.
//! - `--rate-limit N`: N tool calls per minute per principal (default 600).
//! - `--cache-ttl-ms MS`: how long `lookup`'s results are kept (default 60,000).
//! - `--breaker F:MS`: a tool's breaker opens after F failures in a minute, for MS, and closes
//!   after one successful probe (default: 5 failures, 60 s, 3 successful probes).
//!
//! Tools: `echo {text}`; `lookup {q}` (cacheable: it counts its runs, so a cached answer shows an
//! old count); `flaky` (fails while the backend is down); `set_backend {up}` (needs the
//! permission `ops.backend`); `stats` (how often each handler ran).
//!
//! `client-with-auth` (examples/client_with_auth.rs) is the client to try it with.

mod shutdown;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mcp_auth::rate_limit::{Quota, RateLimiter};
use mcp_auth::{ApiKeyAuthenticator, ApiKeyConfig, Principal, Requirement};
use mcp_server::http::{HealthOptions, HttpAuth, HttpOptions, MetricsOptions};
use mcp_server::middleware::{CircuitBreakerConfig, ProductionLayer};
use mcp_server::{Args, LocalPrincipal, Router, Server, ServerOptions, Tool, ToolError};
use schemars::JsonSchema;
use serde::Deserialize;

/// How often each handler ran.
#[derive(Default)]
struct Runs {
    echo: AtomicUsize,
    lookup: AtomicUsize,
    flaky: AtomicUsize,
    backend_down: AtomicBool,
}

#[derive(Deserialize, JsonSchema)]
struct Text {
    /// The text to send back.
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct Query {
    /// What to look up.
    q: String,
}

#[derive(Deserialize, JsonSchema)]
struct Backend {
    /// Whether the backend `flaky` depends on is up.
    up: bool,
}

fn router(runs: &Arc<Runs>, cache_ttl: Duration) -> Router {
    let (echo, lookup, flaky, backend, stats) = (
        runs.clone(),
        runs.clone(),
        runs.clone(),
        runs.clone(),
        runs.clone(),
    );
    Router::new()
        .tool(
            Tool::new("echo")
                .description("Echoes the text back")
                .handler(move |Args(a): Args<Text>| {
                    echo.echo.fetch_add(1, Ordering::SeqCst);
                    async move { a.text }
                }),
        )
        .tool(
            Tool::new("lookup")
                .description("Looks a word up (slowly); results are cached")
                .cache_ttl(cache_ttl)
                .handler(move |Args(a): Args<Query>, who: Arc<Principal>| {
                    let run = lookup.lookup.fetch_add(1, Ordering::SeqCst) + 1;
                    async move { format!("{} {} run {run}", who.id, a.q) }
                }),
        )
        .tool(
            Tool::new("flaky")
                .description("Works while the backend is up")
                .handler(move || {
                    flaky.flaky.fetch_add(1, Ordering::SeqCst);
                    let down = flaky.backend_down.load(Ordering::SeqCst);
                    async move {
                        if down {
                            Err(ToolError::failed("the backend is down"))
                        } else {
                            Ok("the backend answered".to_owned())
                        }
                    }
                }),
        )
        .tool(
            Tool::new("set_backend")
                .description("Takes the backend up or down")
                .handler(move |Args(b): Args<Backend>| {
                    backend.backend_down.store(!b.up, Ordering::SeqCst);
                    async move { format!("backend up: {}", b.up) }
                })
                .requires(Requirement::permission("ops.backend")),
        )
        .tool(
            Tool::new("stats")
                .description("How often each handler ran")
                .handler(move || {
                    let text = serde_json::json!({
                        "echo": stats.echo.load(Ordering::SeqCst),
                        "lookup": stats.lookup.load(Ordering::SeqCst),
                        "flaky": stats.flaky.load(Ordering::SeqCst),
                    })
                    .to_string();
                    async move { text }
                }),
        )
}

/// The command line.
struct Config {
    keys: Arc<ApiKeyAuthenticator>,
    http: Option<String>,
    rate_limit: u32,
    cache_ttl: Duration,
    breaker: CircuitBreakerConfig,
}

fn invalid(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message.into())
}

fn parse() -> std::io::Result<Config> {
    let mut keys = None;
    let mut http = None;
    let mut rate_limit = 600;
    let mut cache_ttl = Duration::from_secs(60);
    let mut breaker = CircuitBreakerConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| invalid(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--keys" => {
                let path = value()?;
                let entries: Vec<ApiKeyConfig> = serde_json::from_slice(&std::fs::read(&path)?)
                    .map_err(|e| invalid(format!("{path}: {e}")))?;
                let authenticator = ApiKeyAuthenticator::from_config(entries)
                    .map_err(|e| invalid(e.to_string()))?
                    .accept_bearer(true);
                keys = Some(Arc::new(authenticator));
            }
            "--http" => http = Some(value()?),
            "--rate-limit" => {
                rate_limit = value()?
                    .parse()
                    .map_err(|e| invalid(format!("--rate-limit: {e}")))?;
            }
            "--cache-ttl-ms" => {
                let ms: u64 = value()?
                    .parse()
                    .map_err(|e| invalid(format!("--cache-ttl-ms: {e}")))?;
                cache_ttl = Duration::from_millis(ms);
            }
            "--breaker" => {
                let v = value()?;
                let (failures, ms) = v
                    .split_once(':')
                    .ok_or_else(|| invalid("--breaker takes FAILURES:OPEN_MS"))?;
                breaker.failure_threshold = failures
                    .parse()
                    .map_err(|e| invalid(format!("--breaker: {e}")))?;
                breaker.open_for = Duration::from_millis(
                    ms.parse().map_err(|e| invalid(format!("--breaker: {e}")))?,
                );
                breaker.success_threshold = 1;
            }
            other => return Err(invalid(format!("unknown argument {other:?}"))),
        }
    }
    Ok(Config {
        keys: keys.ok_or_else(|| invalid("--keys KEYS.json is required"))?,
        http,
        rate_limit,
        cache_ttl,
        breaker,
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let config = parse()?;
    let runs = Arc::new(Runs::default());
    let limiter =
        RateLimiter::new(Quota::per_minute(config.rate_limit).map_err(|e| invalid(e.to_string()))?);
    let production = ProductionLayer::new()
        .require_auth()
        .rate_limit(limiter)
        .circuit_breaker(config.breaker);
    let metrics = production.metrics().cloned();
    let breakers = production.circuit_breakers().cloned();
    let options = ServerOptions {
        // stdio: the caller's key is in the environment, checked like an HTTP request's.
        local_principal: LocalPrincipal::environment(
            "MCP_API_KEY",
            mcp_auth::API_KEY_HEADER,
            config.keys.clone(),
        ),
        ..ServerOptions::default()
    };
    let server = Server::with_options(
        mcp_protocol::types::Implementation::new("production-server", env!("CARGO_PKG_VERSION")),
        router(&runs, config.cache_ttl),
        options,
    )
    .layer(production);
    let Some(addr) = config.http else {
        return server.serve_stdio().await;
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("http://{}/mcp", listener.local_addr()?);
    let mut health = HealthOptions::default();
    if let Some(breakers) = breakers {
        health = health.circuit_breakers(breakers);
    }
    let options = HttpOptions {
        auth: Some(HttpAuth::new(config.keys)),
        health: Some(health),
        metrics: metrics.map(|m| MetricsOptions::new(m).require_auth()),
        ..HttpOptions::default()
    };
    server
        .serve_http_with_shutdown(listener, options, shutdown::interrupted())
        .await?;
    eprintln!("production-server: stopped");
    Ok(())
}
