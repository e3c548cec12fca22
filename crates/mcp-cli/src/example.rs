//! The example server: tools (plain, structured, with progress and logging, asking the user,
//! sampling, roots, ping, a slow one that honours cancellation, one that fails), static and
//! templated resources, a prompt and completions.
//!
//! It lives here because `mcp serve` and `mcp demo` serve it; the programs in `examples/`
//! (`example-server`, `demo`) compile this same file through a `#[path]` module, so there is one
//! copy of the routes and the examples need no dependency on the CLI.

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_protocol::types::{
    CreateMessageRequestParams, ElicitAction, ElicitRequestFormParams, ElicitRequestParams,
    ElicitValue, ElicitationSchema, PrimitiveSchema, PromptMessage, ResourceContents, StringSchema,
};
use mcp_server::{
    Args, CancellationToken, Client, CompleteWith, Json, Logger, Progress, Prompt, Resource,
    ResourceTemplate, Router, Server, ServerOptions, Tool, ToolError,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// First addend.
    a: f64,
    /// Second addend.
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    /// `a + b`.
    sum: f64,
}

#[derive(Deserialize, JsonSchema)]
struct SlowArgs {
    /// How many steps to take.
    steps: u32,
    /// Milliseconds per step.
    #[serde(default = "default_delay")]
    delay_ms: u64,
}

fn default_delay() -> u64 {
    100
}

#[derive(Deserialize, JsonSchema)]
struct SummarizeArgs {
    /// Text for the client's model to summarize.
    text: String,
}

async fn echo(Args(a): Args<EchoArgs>) -> String {
    a.text
}

async fn add(Args(a): Args<AddArgs>) -> Json<Sum> {
    Json(Sum { sum: a.a + a.b })
}

/// Counts to `steps`, reporting progress and logging, and stops as soon as it is cancelled.
async fn slow_count(
    Args(a): Args<SlowArgs>,
    progress: Progress,
    log: Logger,
    cancel: CancellationToken,
) -> Result<String, ToolError> {
    let log = log.named("slow_count");
    for step in 1..=a.steps {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(a.delay_ms)) => {}
            () = cancel.cancelled() => return Err(ToolError::Cancelled),
        }
        progress
            .report(
                f64::from(step),
                Some(f64::from(a.steps)),
                Some(&format!("step {step}")),
            )
            .await;
        log.info(format!("finished step {step} of {}", a.steps))
            .await;
    }
    Ok(format!("counted to {}", a.steps))
}

/// Asks the user for their name (elicitation) and greets them.
async fn ask_name(client: Client) -> Result<String, ToolError> {
    let schema = ElicitationSchema {
        properties: BTreeMap::from([(
            "name".to_owned(),
            PrimitiveSchema::String(StringSchema {
                title: Some("Your name".into()),
                ..StringSchema::default()
            }),
        )]),
        required: Some(vec!["name".into()]),
        ..ElicitationSchema::default()
    };
    let answer = client
        .elicit(ElicitRequestParams::Form(ElicitRequestFormParams {
            mode: None,
            message: "What is your name?".into(),
            requested_schema: schema,
            task: None,
            meta: None,
        }))
        .await?;
    match (
        answer.action,
        answer.content.as_ref().and_then(|c| c.get("name")),
    ) {
        (ElicitAction::Accept, Some(ElicitValue::String(name))) => Ok(format!("Hello, {name}!")),
        (ElicitAction::Accept, _) => Err(ToolError::failed("no name given")),
        (action, _) => Ok(format!("No greeting: the user chose {action:?}.")),
    }
}

/// Asks the client's model for a one-line summary (sampling).
async fn summarize(Args(a): Args<SummarizeArgs>, client: Client) -> Result<String, ToolError> {
    let reply = client
        .sample(CreateMessageRequestParams::user_text(
            format!("Summarize in one line: {}", a.text),
            100,
        ))
        .await?;
    let text = reply.content.blocks().iter().find_map(|b| match b {
        mcp_protocol::types::SamplingContentBlock::Text(t) => Some(t.text.clone()),
        _ => None,
    });
    Ok(format!(
        "Summary from {}: {}",
        reply.model,
        text.unwrap_or_default()
    ))
}

/// Lists the client's roots.
async fn list_roots(client: Client) -> Result<String, ToolError> {
    let roots = client.roots().await?;
    Ok(roots
        .roots
        .iter()
        .map(|r| r.uri.as_str())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Pings the client (legacy sessions) and says how long the answer took.
async fn ping_client(client: Client) -> Result<String, ToolError> {
    let started = std::time::Instant::now();
    client.ping().await?;
    Ok(format!(
        "the client answered ping in {} ms",
        started.elapsed().as_millis()
    ))
}

async fn fail() -> Result<String, ToolError> {
    Err(ToolError::failed("this tool always fails"))
}

/// The example server, named `name` (`example-server` unless a caller renames it).
pub(crate) fn server(name: &str) -> Server {
    server_with(name, mcp_server::LocalPrincipal::None)
}

/// The example server, with who calls on stdio and sockets settled by `local_principal`.
pub(crate) fn server_with(name: &str, local_principal: mcp_server::LocalPrincipal) -> Server {
    let options = ServerOptions {
        instructions: Some("An example server: try echo, add and slow_count.".into()),
        local_principal,
        ..ServerOptions::default()
    };
    Server::with_options(
        mcp_protocol::types::Implementation::new(name, env!("CARGO_PKG_VERSION")),
        router(),
        options,
    )
}

/// The example server's routes.
pub(crate) fn router() -> Router {
    let router = Router::new()
        .tool(
            Tool::new("echo")
                .description("Echoes the text back")
                .read_only()
                .handler(echo),
        )
        .tool(
            Tool::new("add")
                .description("Adds two numbers; structured output")
                .read_only()
                .handler(add),
        )
        .tool(
            Tool::new("slow_count")
                .description("Counts slowly with progress and logs; honours cancellation")
                .handler(slow_count),
        )
        .tool(
            Tool::new("ask_name")
                .description("Asks the user for their name and greets them")
                .handler(ask_name),
        )
        .tool(
            Tool::new("summarize")
                .description("Asks the client's model to summarize text")
                .handler(summarize),
        )
        .tool(
            Tool::new("list_roots")
                .description("Lists the client's roots")
                .handler(list_roots),
        )
        .tool(
            Tool::new("ping_client")
                .description("Pings the client (legacy sessions)")
                .handler(ping_client),
        )
        .tool(Tool::new("fail").description("Always fails").handler(fail))
        .resource(
            Resource::new("memo://readme", "readme")
                .title("Read me")
                .mime_type("text/plain")
                .text("This is the example server."),
        )
        .resource(
            Resource::new("memo://logo", "logo")
                .mime_type("image/png")
                .handler(|r| async move {
                    Ok(vec![ResourceContents::blob(
                        r.uri,
                        Some("image/png"),
                        &[0x89, b'P', b'N', b'G'],
                    )])
                }),
        )
        .template(
            ResourceTemplate::new("memo://notes/{id}", "notes")
                .description("A note by id")
                .mime_type("text/plain")
                .complete("id", vec!["alpha", "beta", "gamma"])
                .handler(|r| async move {
                    let id = r.vars.get("id").cloned().unwrap_or_default();
                    Ok(vec![ResourceContents::text(
                        r.uri,
                        Some("text/plain"),
                        format!("Note {id}"),
                    )])
                }),
        )
        .prompt(
            Prompt::new("greet")
                .description("Greets someone")
                .argument("name", "Who to greet", true)
                .complete(
                    "name",
                    CompleteWith(|req: mcp_server::CompletionRequest| async move {
                        ["Alice", "Bob", "Carol"]
                            .iter()
                            .filter(|n| n.starts_with(&req.value))
                            .map(|n| (*n).to_owned())
                            .collect()
                    }),
                )
                .handler(|req| async move {
                    let name = req.arg("name").unwrap_or("you").to_owned();
                    Ok(vec![PromptMessage::user(format!(
                        "Please greet {name} warmly."
                    ))])
                }),
        );
    let handle = router.clone();
    router.tool(
        Tool::new("toggle_extra")
            .description("Adds or removes the tool `extra` (a list change)")
            .handler(move || {
                let handle = handle.clone();
                async move {
                    if handle.remove_tool("extra") {
                        "removed extra"
                    } else {
                        handle.add_tool(Tool::new("extra").handler(|| async { "extra!" }));
                        "added extra"
                    }
                }
            }),
    )
}
