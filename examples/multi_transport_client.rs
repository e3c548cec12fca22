//! One client, many servers, every transport: the same health check, tool discovery and tool
//! call over stdio, Streamable HTTP, the 2024-11-05 HTTP+SSE transport and WebSocket.
//!
//! Mirrors the original Kailash SDK's multi-transport client example: one `MCPClient` and a
//! list of `server_config` dicts (`{"transport": "stdio", "command", "args"}`, `{"transport":
//! "sse" | "http" | "websocket", "url"}`), each passed to `health_check`, `discover_tools` and
//! `call_tool`. What differs: the original started a stdio server again for every call, its
//! `"http"` transport failed to import (so only stdio, SSE and WebSocket worked at all), its
//! WebSocket pool deadlocked on its first eviction, `health_check` could never report a server
//! unhealthy, and failures came back as `[]`. Here [`MultiClient`] keeps one pooled connection
//! per server (one process per stdio server), settles each server's protocol era by itself,
//! retries only what is safe to repeat, and reports every failure typed, per server.
//!
//! ```text
//! multi-transport-client [--config FILE] [--stdio 'PROGRAM ARGS...'] [--http URL] [--sse URL]
//!                        [--ws URL] [--tool NAME] [--args JSON]
//! ```
//!
//! - `--config FILE`: servers in the original's dicts, `{"mcpServers": {...}}` or
//!   `{"servers": [...]}` (JSON; `${VAR}` from the environment).
//! - `--stdio`, `--http`, `--sse`, `--ws`: one server each (repeatable); the stdio command is
//!   split on spaces.
//! - `--tool` (default `echo`) is called with `--args` (default `{"text": "hello over
//!   <transport>"}`) on every server that lists it.
//!
//! Prints one line per server: its transport, health, tool count, era and protocol, and the
//! call's result; exits 1 if any server was unhealthy or a call failed.
//!
//! Try it against the example server: `example-server --http 127.0.0.1:8080 --ws`, then
//! `multi-transport-client --stdio target/debug/example-server --http
//! http://127.0.0.1:8080/mcp --sse http://127.0.0.1:8080/sse --ws ws://127.0.0.1:8080/ws`.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mcp_client::config::{ServerConfig, TransportConfig};
use mcp_client::multi::{MultiClient, MultiClientOptions};
use serde_json::{Value, json};

/// What the command line asked for.
struct Plan {
    servers: Vec<ServerConfig>,
    tool: String,
    arguments: Option<Value>,
}

fn usage(message: &str) -> String {
    format!(
        "{message}\nusage: multi-transport-client [--config FILE] [--stdio 'PROGRAM ARGS...'] \
         [--http URL] [--sse URL] [--ws URL] [--tool NAME] [--args JSON]"
    )
}

fn parse() -> Result<Plan, String> {
    let mut servers = Vec::new();
    let mut tool = "echo".to_owned();
    let mut arguments = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| usage(&format!("{arg} needs a value")))?;
        let name = format!("{}-{}", arg.trim_start_matches('-'), servers.len() + 1);
        match arg.as_str() {
            "--config" => servers
                .extend(ServerConfig::load(&value).map_err(|e| usage(&format!("{value}: {e}")))?),
            "--stdio" => {
                let mut words = value.split_whitespace();
                let program = words.next().ok_or_else(|| usage("--stdio is empty"))?;
                servers.push(ServerConfig::stdio(name, program, words));
            }
            "--http" => servers.push(ServerConfig::http(name, value)),
            "--sse" => servers.push(ServerConfig::new(
                name,
                TransportConfig::Sse {
                    url: value,
                    headers: BTreeMap::new(),
                },
            )),
            "--ws" => servers.push(ServerConfig::websocket(name, value)),
            "--tool" => tool = value,
            "--args" => {
                arguments = Some(
                    serde_json::from_str(&value)
                        .map_err(|e| usage(&format!("--args is not JSON: {e}")))?,
                );
            }
            other => return Err(usage(&format!("unknown argument {other}"))),
        }
    }
    if servers.is_empty() {
        return Err(usage("no server given"));
    }
    Ok(Plan {
        servers,
        tool,
        arguments,
    })
}

/// Checks, discovers and calls one server; the line to print and whether all went well.
async fn visit(multi: &MultiClient, server: &ServerConfig, plan: &Plan) -> (String, bool) {
    let transport = server.transport.kind();
    let health = multi.health_check(server).await;
    if !health.healthy {
        let why = health
            .error
            .map_or_else(|| "no answer".to_owned(), |e| e.to_string());
        return (
            format!("{transport:<9} {}: UNHEALTHY: {why}", server.name),
            false,
        );
    }
    // The pool connected during the health check: the connection settled the era.
    let era = multi
        .pooled_client(server)
        .and_then(|client| client.session())
        .map_or_else(String::new, |s| {
            format!(", protocol {} ({:?} era)", s.version, s.era())
        });
    let mut line = format!(
        "{transport:<9} {}: healthy in {:.1} ms, {} tools{era}",
        server.name,
        health.latency.as_secs_f64() * 1000.0,
        health.tools_available.unwrap_or_default()
    );
    // Health checks bypass the discovery cache: this is one more `tools/list`, which the
    // cache keeps for the next caller.
    let tools = match multi.discover_tools(server, false).await {
        Ok(tools) => tools,
        Err(e) => return (format!("{line}; discovery failed: {e}"), false),
    };
    if !tools.iter().any(|t| t.name == plan.tool) {
        line.push_str(&format!("; no tool {:?} here", plan.tool));
        return (line, true);
    }
    let arguments = plan
        .arguments
        .clone()
        .unwrap_or_else(|| json!({"text": format!("hello over {transport}")}));
    match multi
        .call_tool(server, &plan.tool, arguments, Some(Duration::from_secs(20)))
        .await
    {
        Ok(result) => {
            let text: Vec<&str> = result.content.iter().filter_map(|c| c.as_text()).collect();
            line.push_str(&format!("; {} -> {}", plan.tool, text.join(" ")));
            (line, true)
        }
        Err(e) => {
            line.push_str(&format!(
                "; {} failed ({:?}, retryable {}): {e}",
                plan.tool,
                e.kind(),
                e.is_retryable()
            ));
            (line, false)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let plan = match parse() {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("multi-transport-client: {message}");
            return ExitCode::from(2);
        }
    };
    let multi = match MultiClient::new(MultiClientOptions::default()) {
        Ok(multi) => multi,
        Err(e) => {
            eprintln!("multi-transport-client: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Every server at once: a slow or dead one does not hold up the others.
    let plan = Arc::new(plan);
    let visits: Vec<_> = (0..plan.servers.len())
        .map(|i| {
            let (multi, plan) = (multi.clone(), Arc::clone(&plan));
            tokio::spawn(async move { visit(&multi, &plan.servers[i], &plan).await })
        })
        .collect();
    let mut all_ok = true;
    for visit in visits {
        let (line, ok) = visit
            .await
            .unwrap_or_else(|e| (format!("a visit failed: {e}"), false));
        println!("{line}");
        all_ok &= ok;
    }
    let stats = multi.pool_stats();
    println!(
        "pool: {} connections started ({} restarts), {} calls found one open, {} had to open one",
        stats.connections_started, stats.restarts, stats.hits, stats.misses
    );
    multi.close().await;
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
