//! The fixtures of the tasks extension's scenarios (`tasks-*`, SEP-2663), by the names the
//! suite uses. The handlers are ordinary tool handlers: whether a call runs as a task is the
//! route's task support and the client's declaration, never the handler's business.

use std::time::Duration;

use mcp_protocol::McpError;
use mcp_protocol::types::ElicitAction;
use mcp_server::tasks::TaskSupport;
use mcp_server::{Args, Client, LongRunning, Router, Tool, ToolError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::fixtures::{accepted, form, name_form};

/// The longest `slow_compute` sleeps, whatever it is asked.
const LONGEST: Duration = Duration::from_secs(600);

#[derive(Deserialize, JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

#[derive(Deserialize, JsonSchema)]
struct SlowArgs {
    /// How long to work, in seconds (0 for an immediate answer).
    seconds: f64,
    /// A label echoed in the result.
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct DeleteArgs {
    /// The file to delete.
    filename: String,
}

async fn slow_compute(Args(a): Args<SlowArgs>) -> String {
    let seconds = Duration::try_from_secs_f64(a.seconds.max(0.0)).unwrap_or(LONGEST);
    tokio::time::sleep(seconds.min(LONGEST)).await;
    let label = a.label.as_deref().unwrap_or("unlabelled");
    format!("slow_compute {label}: done after {} s", a.seconds)
}

/// The confirmation form of `confirm_delete` and `multi_input`.
fn confirm_form(message: &str) -> Result<mcp_protocol::types::ElicitRequestParams, ToolError> {
    form(
        message,
        json!({
            "type": "object",
            "properties": {"confirm": {"type": "boolean"}},
            "required": ["confirm"],
        }),
    )
}

async fn confirm_delete(Args(a): Args<DeleteArgs>, client: Client) -> Result<String, ToolError> {
    let answer = client
        .named("confirm_delete")
        .elicit(confirm_form(&format!("Delete {}?", a.filename))?)
        .await?;
    let confirmed = answer.action == ElicitAction::Accept
        && accepted(&answer, "confirm").as_deref() == Some("true");
    Ok(if confirmed {
        format!("Deleted {}", a.filename)
    } else {
        format!("Kept {}", a.filename)
    })
}

/// Two questions at once: both are outstanding together, and may be answered one at a time.
async fn multi_input(client: Client) -> Result<String, ToolError> {
    let (for_name, for_confirm) = (client.named("name"), client.named("confirm"));
    let (name, confirm) = tokio::join!(
        for_name.elicit(name_form("What is your name?")?),
        for_confirm.elicit(confirm_form("Proceed?")?),
    );
    let (name, confirm) = (name?, confirm?);
    Ok(format!(
        "name={}, confirm={}",
        accepted(&name, "name").unwrap_or_default(),
        accepted(&confirm, "confirm").unwrap_or_default()
    ))
}

/// Asks for a name as a multi-round-trip exchange, then continues as a task (SEP-2663: input
/// needed before the task exists is gathered synchronously).
async fn with_task(client: Client, long: LongRunning) -> Result<String, ToolError> {
    let answer = client
        .named("user_name")
        .elicit(name_form("What is your name?")?)
        .await?;
    let name = accepted(&answer, "name").unwrap_or_else(|| "stranger".to_owned());
    long.begin().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(format!("Hello, {name}! (finished as a task)"))
}

pub(crate) fn task_tools(router: Router) -> Router {
    router
        .tool(
            Tool::new("greet")
                .description("Greets by name; never a task")
                .handler(|Args(a): Args<GreetArgs>| async move { format!("Hello, {}!", a.name) }),
        )
        .tool(
            Tool::new("slow_compute")
                .description("Works for `seconds` seconds; a task for clients that can have one")
                .task_support(TaskSupport::Optional)
                .handler(slow_compute),
        )
        .tool(
            Tool::new("failing_job")
                .description("Fails with a tool error after a second; runs only as a task")
                .task_support(TaskSupport::Required)
                .handler(|| async {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Err::<String, _>(ToolError::failed("failing_job failed, as it always does"))
                }),
        )
        .tool(
            Tool::new("protocol_error_job")
                .description("Ends with a JSON-RPC error: its task fails")
                .task_support(TaskSupport::Optional)
                .handler(|| async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err::<String, _>(ToolError::Protocol(McpError::Internal(
                        "protocol_error_job broke down, as it always does".into(),
                    )))
                }),
        )
        .tool(
            Tool::new("confirm_delete")
                .description("Asks for confirmation, then deletes (nothing: a fixture)")
                .task_support(TaskSupport::Optional)
                .handler(confirm_delete),
        )
        .tool(
            Tool::new("multi_input")
                .description("Asks two questions at once")
                .task_support(TaskSupport::Optional)
                .handler(multi_input),
        )
        .tool(
            Tool::new("test_tool_with_task")
                .description("Asks for a name, then finishes as a task")
                .task_support(TaskSupport::Required)
                .handler(with_task),
        )
}
