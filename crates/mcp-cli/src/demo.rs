//! `mcp demo`: the SDK's main job end to end in one command. It starts the example server on a
//! loopback port (Streamable HTTP for both eras, HTTP+SSE and WebSocket on one listener),
//! connects a client over each, discovers and calls tools (one asks the user a question, which
//! the demo answers), reads a resource, completes an argument, and prints the results and a few
//! figures (latency percentiles, calls per second, sessions the server holds).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_client::{
    CallOptions, Client, ClientError, ClientOptions, EraPreference, Handlers, HttpClientOptions,
    WsClientOptions,
};
use mcp_protocol::types::{CompletionReference, ElicitResult, ElicitValue, ResourceContents};
use mcp_server::http::{HttpOptions, WsOptions};
use serde_json::json;

use crate::cli::DemoArgs;
use crate::example;
use crate::exit::{Exit, Failure};

/// Stops the in-process server when dropped, so an error on the way out leaves nothing running.
#[derive(Debug)]
struct StopOnDrop(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// One way in: a transport and an era.
struct Leg {
    label: &'static str,
    url: String,
    transport: Transport,
    era: EraPreference,
    figures: bool,
}

#[derive(Clone, Copy)]
enum Transport {
    Http,
    Sse,
    Ws,
}

/// Runs the demo; any failure is the SDK's, reported with the exit code of its kind.
pub(crate) async fn run(args: &DemoArgs) -> Result<Exit, Failure> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Failure::new(Exit::Failed, format!("cannot listen on loopback: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
    let options = HttpOptions {
        websocket: Some(WsOptions::default()),
        ..HttpOptions::default()
    };
    let endpoint = example::server("example-server").into_http_endpoint(options);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stop = StopOnDrop(Some(stop));
    let serving = tokio::spawn(endpoint.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    println!(
        "The example MCP server is listening on http://{local}/mcp (both eras), \
         http://{local}/sse (HTTP+SSE) and ws://{local}/ws.\nA client connects over each, \
         discovers the server and calls it.\n"
    );
    let legs = [
        Leg {
            label: "Streamable HTTP, era auto",
            url: format!("http://{local}/mcp"),
            transport: Transport::Http,
            era: EraPreference::Auto,
            figures: true,
        },
        Leg {
            label: "Streamable HTTP, legacy era",
            url: format!("http://{local}/mcp"),
            transport: Transport::Http,
            era: EraPreference::Legacy,
            figures: true,
        },
        Leg {
            label: "WebSocket, era auto",
            url: format!("ws://{local}/ws"),
            transport: Transport::Ws,
            era: EraPreference::Auto,
            figures: true,
        },
        Leg {
            label: "HTTP+SSE (2024-11-05 transport)",
            url: format!("http://{local}/sse"),
            transport: Transport::Sse,
            era: EraPreference::Legacy,
            figures: false,
        },
    ];
    for leg in &legs {
        let client = connect(leg).await?;
        let outcome = exercise(&client, leg, args, &endpoint).await;
        client.close().await;
        outcome?;
    }
    // Closing a legacy client ends its session at once (DELETE); a closed HTTP+SSE stream is
    // noticed by the server at its next write, so it is not counted here.
    println!(
        "\nAfter the clients closed, the server holds {} legacy sessions.",
        endpoint.session_count()
    );
    drop(stop);
    let _ = tokio::time::timeout(Duration::from_secs(15), serving).await;
    Ok(Exit::Ok)
}

/// The demo's answers to the server's questions: "Ada" for every name asked.
fn handlers() -> Handlers {
    Handlers::default().on_elicitation(false, |_params| async {
        Ok(ElicitResult::accept(BTreeMap::from([(
            "name".to_owned(),
            ElicitValue::String("Ada".into()),
        )])))
    })
}

async fn connect(leg: &Leg) -> Result<Client, Failure> {
    let options = ClientOptions {
        era: leg.era,
        handlers: handlers(),
        client_info: mcp_protocol::types::Implementation::new(
            "mcp-demo",
            env!("CARGO_PKG_VERSION"),
        ),
        ..ClientOptions::default()
    };
    let client = match leg.transport {
        Transport::Http => {
            Client::connect_http(&leg.url, options, HttpClientOptions::default()).await
        }
        Transport::Sse => {
            Client::connect_sse(&leg.url, options, HttpClientOptions::default()).await
        }
        Transport::Ws => Client::connect_ws(&leg.url, options, WsClientOptions::default()).await,
    };
    client.map_err(|e| {
        let mut f = Failure::from(e);
        f.message = format!("{}: {}", leg.label, f.message);
        f
    })
}

async fn exercise(
    client: &Client,
    leg: &Leg,
    args: &DemoArgs,
    endpoint: &mcp_server::http::HttpEndpoint,
) -> Result<(), Failure> {
    let started = Instant::now();
    let session = client
        .session()
        .ok_or_else(|| Failure::new(Exit::Protocol, "no session"))?;
    let info = session.server_info.as_ref().map_or_else(
        || "a server".to_owned(),
        |i| format!("{} {}", i.name, i.version),
    );
    println!(
        "{}: connected to {info}, protocol {} ({:?} era)",
        leg.label,
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
    let templates = client.list_resource_templates().await?;
    let prompts = client.list_prompts().await?;
    println!(
        "  {} resources, {} resource template, {} prompt",
        resources.len(),
        templates.len(),
        prompts.len()
    );
    let sum = client
        .call_tool("add", json!({"a": 19.5, "b": 22.5}))
        .await?;
    println!(
        "  add(19.5, 22.5) -> structured {}",
        sum.structured_content.unwrap_or_default()
    );
    let greeting = client.call_tool("ask_name", json!({})).await?;
    println!(
        "  ask_name -> {} (the server asked for a name; the demo answered \"Ada\")",
        greeting
            .content
            .first()
            .and_then(|c| c.as_text())
            .unwrap_or_default()
    );
    let steps = Arc::new(AtomicUsize::new(0));
    let counter = steps.clone();
    let options = CallOptions {
        progress: Some(Box::new(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        })),
        ..CallOptions::default()
    };
    let slow = client
        .call_tool_with("slow_count", json!({"steps": 5, "delay_ms": 20}), &options)
        .await?;
    println!(
        "  slow_count(5) -> {} ({} progress notifications)",
        slow.content
            .first()
            .and_then(|c| c.as_text())
            .unwrap_or_default(),
        steps.load(Ordering::Relaxed)
    );
    if let Some(ResourceContents::Text(t)) = client
        .read_resource("memo://notes/alpha")
        .await?
        .contents
        .first()
    {
        println!("  read memo://notes/alpha -> {:?}", t.text);
    }
    let names = client
        .complete(
            CompletionReference::Prompt {
                name: "greet".into(),
                title: None,
            },
            "name",
            "",
        )
        .await?;
    println!("  complete greet(name) -> {}", names.values.join(", "));
    let failed = client.call_tool("fail", json!({})).await?;
    println!(
        "  fail -> isError {} ({})",
        failed.is_error(),
        failed
            .content
            .first()
            .and_then(|c| c.as_text())
            .unwrap_or_default()
    );
    println!(
        "  all of the above in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    if leg.figures {
        figures(client, args).await?;
    }
    match leg.transport {
        Transport::Http if matches!(leg.era, EraPreference::Legacy) => println!(
            "  the server holds {} legacy session(s) while this client is connected",
            endpoint.session_count()
        ),
        Transport::Sse => println!(
            "  the server holds {} HTTP+SSE stream(s) while this client is connected",
            endpoint.legacy_sse_stream_count()
        ),
        _ => {}
    }
    Ok(())
}

/// Sequential latency and a concurrent burst of `echo` calls.
async fn figures(client: &Client, args: &DemoArgs) -> Result<(), Failure> {
    if args.calls > 0 {
        let began = Instant::now();
        let mut latencies = Vec::with_capacity(args.calls);
        for i in 0..args.calls {
            let t = Instant::now();
            client
                .call_tool("echo", json!({"text": i.to_string()}))
                .await?;
            latencies.push(t.elapsed());
        }
        let elapsed = began.elapsed();
        latencies.sort();
        let at = |q: f64| {
            // An index into a sorted, non-empty list.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = ((latencies.len() - 1) as f64 * q) as usize;
            latencies[i]
        };
        #[allow(clippy::cast_precision_loss)]
        let rate = args.calls as f64 / elapsed.as_secs_f64();
        println!(
            "  {} sequential echo calls: {rate:.0} calls/s, p50 {:?}, p99 {:?}",
            args.calls,
            at(0.5),
            at(0.99)
        );
    }
    if args.burst > 0 {
        let began = Instant::now();
        let calls: Vec<_> = (0..args.burst)
            .map(|i| {
                let c = client.clone();
                tokio::spawn(
                    async move { c.call_tool("echo", json!({"text": i.to_string()})).await },
                )
            })
            .collect();
        for call in calls {
            call.await
                .map_err(|e| ClientError::Protocol(e.to_string()))??;
        }
        println!(
            "  {} concurrent echo calls in {:.1} ms",
            args.burst,
            began.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
