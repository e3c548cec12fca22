//! The SDK's main job end to end, in one command: start the example MCP server (this binary,
//! with `--serve-stdio`) as a child process, connect to it with the client over stdio in both protocol eras, discover its tools,
//! resources and prompts, call tools (one asks the user a question, answered here), and print
//! the results and a few figures.
//!
//! Run: `cargo run -p mcp-examples --bin demo`

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mcp_client::{CallOptions, Client, ClientError, ClientOptions, EraPreference, Handlers};
use mcp_protocol::types::{ElicitResult, ElicitValue, ResourceContents};
use mcp_transport::child::ChildSpec;
use serde_json::json;

#[path = "../crates/mcp-cli/src/example.rs"]
mod example;

/// This very binary, which serves the example routes on stdio when given `--serve-stdio`.
fn server_path() -> PathBuf {
    std::env::current_exe().unwrap_or_default()
}

async fn serve_stdio() -> std::io::Result<()> {
    example::server("example-server").serve_stdio().await
}

async fn run(era: EraPreference) -> Result<(), ClientError> {
    let handlers = Handlers::default().on_elicitation(false, |_params| async {
        println!("    (the server asked for a name; the demo answers \"Ada\")");
        Ok(ElicitResult::accept(BTreeMap::from([(
            "name".to_owned(),
            ElicitValue::String("Ada".into()),
        )])))
    });
    let spec = ChildSpec::new(server_path().display().to_string(), ["--serve-stdio"]);
    let started = Instant::now();
    let client = Client::spawn(
        &spec,
        ClientOptions {
            era,
            handlers,
            ..ClientOptions::default()
        },
    )
    .await?;
    let session = client
        .session()
        .ok_or_else(|| ClientError::Protocol("no session".into()))?;
    println!(
        "connected to {} {} in {:.1} ms: protocol {} ({:?} era)",
        session
            .server_info
            .as_ref()
            .map_or("?", |i| i.name.as_str()),
        session
            .server_info
            .as_ref()
            .map_or("?", |i| i.version.as_str()),
        started.elapsed().as_secs_f64() * 1000.0,
        session.version,
        session.era()
    );

    let tools = client.list_tools().await?;
    println!(
        "  {} tools: {}",
        tools.len(),
        tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let resources = client.list_resources().await?;
    let prompts = client.list_prompts().await?;
    println!("  {} resources, {} prompts", resources.len(), prompts.len());

    let sum = client
        .call_tool("add", json!({"a": 19.5, "b": 22.5}))
        .await?;
    println!(
        "  add(19.5, 22.5) -> structured {}",
        sum.structured_content.unwrap_or_default()
    );
    let greeting = client.call_tool("ask_name", json!({})).await?;
    println!(
        "  ask_name -> {}",
        greeting.content[0].as_text().unwrap_or_default()
    );
    let steps = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = steps.clone();
    let options = CallOptions {
        progress: Some(Box::new(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })),
        ..CallOptions::default()
    };
    let slow = client
        .call_tool_with("slow_count", json!({"steps": 5, "delay_ms": 20}), &options)
        .await?;
    println!(
        "  slow_count -> {} ({} progress notifications)",
        slow.content[0].as_text().unwrap_or_default(),
        steps.load(std::sync::atomic::Ordering::Relaxed)
    );
    if let Some(ResourceContents::Text(t)) = client
        .read_resource("memo://notes/alpha")
        .await?
        .contents
        .first()
    {
        println!("  read memo://notes/alpha -> {:?}", t.text);
    }

    let calls = 2_000;
    let began = Instant::now();
    let mut latencies = Vec::with_capacity(calls);
    for i in 0..calls {
        let t = Instant::now();
        client
            .call_tool("echo", json!({"text": i.to_string()}))
            .await?;
        latencies.push(t.elapsed());
    }
    let elapsed = began.elapsed();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "  {calls} sequential echo calls: {:.0} calls/s, p50 {:?}, p99 {:?}",
        calls as f64 / elapsed.as_secs_f64(),
        p(0.5),
        p(0.99)
    );
    let burst = 1_000;
    let began = Instant::now();
    let handles: Vec<_> = (0..burst)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.call_tool("echo", json!({"text": i.to_string()})).await })
        })
        .collect();
    for h in handles {
        h.await
            .map_err(|e| ClientError::Protocol(e.to_string()))??;
    }
    println!("  {burst} concurrent echo calls in {:?}", began.elapsed());
    client.close().await;
    Ok(())
}

#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("--serve-stdio") {
        if let Err(e) = serve_stdio().await {
            eprintln!("serving failed: {e}");
            std::process::exit(1);
        }
        return;
    }
    println!("Starting the example MCP server as a child process and talking to it over stdio.\n");
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        if let Err(e) = tokio::time::timeout(Duration::from_secs(60), run(era))
            .await
            .unwrap_or_else(|_| Err(ClientError::Transport("timed out".into())))
        {
            eprintln!("demo failed: {e}");
            std::process::exit(1);
        }
    }
}
