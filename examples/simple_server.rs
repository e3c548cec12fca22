//! A simple server over stdio: three tools, a resource and a prompt, in a few lines each.
//!
//! Mirrors the original Kailash SDK's simple server example: `server =
//! SimpleMCPServer("my-tools")`, `@server.tool("Add two numbers") def add(a, b)`,
//! `@server.resource("config://settings")` and `server.run()`. What differs: the original needed
//! the undeclared `fastmcp` package, had no `run()` method, registered the description as the
//! tool's *name*, and its `resource(uri, description)` raised `TypeError`. Here `#[tool]` takes
//! the name from the function and the description from its doc comment, the input schema comes
//! from the arguments' type (arguments that do not match it are refused before the function
//! runs), and `serve_stdio()` serves until stdin ends, in both protocol eras.
//!
//! Run: `cargo run -p mcp-examples --bin simple-server`, then point any MCP client at that
//! command, for example `mcp tools -- target/debug/simple-server` or a desktop host's
//! `{"mcpServers": {"simple": {"command": "target/debug/simple-server"}}}`.

use mcp_protocol::types::PromptMessage;
use mcp_server::{Args, Json, Prompt, Resource, Router, Server, Tool, tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// Adds two numbers.
#[tool(read_only)]
async fn add(Args(args): Args<AddArgs>) -> Json<Sum> {
    Json(Sum {
        sum: args.a + args.b,
    })
}

#[derive(Deserialize, JsonSchema)]
struct TextArgs {
    /// The text to count the words of.
    text: String,
}

/// Counts the words of a text.
#[tool(name = "word_count", read_only)]
async fn count_words(Args(args): Args<TextArgs>) -> String {
    args.text.split_whitespace().count().to_string()
}

#[derive(Deserialize, JsonSchema)]
struct GreetArgs {
    /// Who to greet (default: "world").
    #[serde(default)]
    name: Option<String>,
}

/// The routes: two tools from `#[tool]` functions, one from the builder (what the macro writes),
/// a static resource and a prompt.
fn router() -> Router {
    Router::new()
        .tool(add_tool())
        .tool(count_words_tool())
        .tool(
            Tool::new("greet")
                .description("Greets someone by name")
                .handler(|Args(args): Args<GreetArgs>| async move {
                    format!("Hello, {}!", args.name.as_deref().unwrap_or("world"))
                }),
        )
        .resource(
            Resource::new("config://settings", "settings")
                .description("The server's settings")
                .mime_type("application/json")
                .text(r#"{"units": "metric", "language": "en"}"#),
        )
        .prompt(
            Prompt::new("summarize")
                .description("Asks for a summary of a topic")
                .argument("topic", "What to summarize", true)
                .handler(|request| async move {
                    let topic = request.arg("topic").unwrap_or_default().to_owned();
                    Ok(vec![PromptMessage::user(format!(
                        "Summarize what is known about {topic} in three sentences."
                    ))])
                }),
        )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // stdout carries the protocol: logs go to stderr.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    Server::new("simple-server", env!("CARGO_PKG_VERSION"), router())
        .serve_stdio()
        .await
}
