//! The fixtures the conformance suite's server scenarios call, by the names it uses. Each is an
//! ordinary route built with the SDK's handler API; the same routes answer both eras.

use std::time::Duration;

use mcp_protocol::types::{
    ClientCapabilities, ContentBlock, CreateMessageRequestParams, ElicitRequestParams,
    ElicitResult, PromptMessage, ResourceContents, Role, SamplingContentBlock,
};
use mcp_server::{
    Args, Client, Logger, Progress, Prompt, PromptRequest, RawArgs, Resource, ResourceTemplate,
    Router, Tool, ToolError,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::media;

/// Every fixture route.
pub(crate) fn router() -> Router {
    let router = content_tools(Router::new());
    let router = client_tools(router);
    let router = input_required_tools(router);
    let router = resources(router);
    let router = prompts(router);
    let router = schema_tools(router);
    let router = crate::task_fixtures::task_tools(router);
    change_triggers(router)
}

// ---------------------------------------------------------------------------------------------
// Tools returning content.

/// The text of `test_simple_text`.
const SIMPLE_TEXT: &str = "This is a simple text response for testing.";

fn content_tools(router: Router) -> Router {
    router
        .tool(
            Tool::new("test_simple_text")
                .description("Returns a simple text block")
                .handler(|| async { SIMPLE_TEXT }),
        )
        .tool(
            Tool::new("test_image_content")
                .description("Returns a 1x1 red PNG")
                .handler(|| async { ContentBlock::image(&media::red_pixel_png(), "image/png") }),
        )
        .tool(
            Tool::new("test_audio_content")
                .description("Returns a short WAV tone")
                .handler(|| async { ContentBlock::audio(&media::short_tone_wav(), "audio/wav") }),
        )
        .tool(
            Tool::new("test_embedded_resource")
                .description("Returns an embedded text resource")
                .handler(|| async {
                    ContentBlock::resource(ResourceContents::text(
                        "test://embedded-resource",
                        Some("text/plain"),
                        "This is an embedded resource content.",
                    ))
                }),
        )
        .tool(
            Tool::new("test_multiple_content_types")
                .description("Returns text, an image and an embedded JSON resource")
                .handler(|| async {
                    let data = json!({"test": "data", "value": 123}).to_string();
                    vec![
                        ContentBlock::text("Multiple content types test:"),
                        ContentBlock::image(&media::red_pixel_png(), "image/png"),
                        ContentBlock::resource(ResourceContents::text(
                            "test://mixed-content-resource",
                            Some("application/json"),
                            data,
                        )),
                    ]
                }),
        )
        .tool(
            Tool::new("test_error_handling")
                .description("Always fails with a tool error")
                .handler(|| async {
                    Err::<String, _>(ToolError::failed(
                        "This tool intentionally returns an error for testing",
                    ))
                }),
        )
        .tool(
            Tool::new("test_tool_with_logging")
                .description("Sends three info log messages 50 ms apart")
                .handler(with_logging),
        )
        .tool(
            Tool::new("test_logging_tool")
                .description("Logs one info message; clients that set no level hear nothing")
                .handler(|log: Logger| async move {
                    log.info("test_logging_tool ran").await;
                    "logged"
                }),
        )
        .tool(
            Tool::new("test_tool_with_progress")
                .description("Reports progress 0, 50 and 100 of 100, 50 ms apart")
                .handler(with_progress),
        )
}

async fn with_logging(log: Logger) -> &'static str {
    let log = log.named("test_tool_with_logging");
    log.info("Tool execution started").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    log.info("Tool processing data").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    log.info("Tool execution completed").await;
    "Logging test completed: three messages sent"
}

async fn with_progress(progress: Progress) -> &'static str {
    for (step, value) in [0.0, 50.0, 100.0].into_iter().enumerate() {
        if step > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        progress
            .report(value, Some(100.0), Some(&format!("{value}%")))
            .await;
    }
    "Progress test completed"
}

// ---------------------------------------------------------------------------------------------
// Tools asking the client (legacy: real requests; 2026-07-28: input_required rounds).

#[derive(Deserialize, JsonSchema)]
struct SamplingArgs {
    /// The prompt to send to the client's model.
    prompt: String,
}

#[derive(Deserialize, JsonSchema)]
struct ElicitationArgs {
    /// The message to show the user.
    message: String,
}

/// An elicitation form from its JSON shape.
pub(crate) fn form(message: &str, schema: Value) -> Result<ElicitRequestParams, ToolError> {
    Ok(serde_json::from_value(
        json!({"message": message, "requestedSchema": schema}),
    )?)
}

/// `action=..., content=...` of an elicitation answer, as the fixtures report it.
fn describe(answer: &ElicitResult) -> String {
    let action = serde_json::to_value(answer.action).unwrap_or(Value::Null);
    let content = serde_json::to_value(&answer.content).unwrap_or(Value::Null);
    format!(
        "action={}, content={content}",
        action.as_str().unwrap_or("?")
    )
}

/// The first text block of a sampling answer.
fn sampled_text(reply: &mcp_protocol::types::CreateMessageResult) -> String {
    reply
        .content
        .blocks()
        .iter()
        .find_map(|b| match b {
            SamplingContentBlock::Text(t) => Some(t.text.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn client_tools(router: Router) -> Router {
    router
        .tool(
            Tool::new("test_sampling")
                .description("Asks the client's model to answer a prompt")
                .handler(|Args(a): Args<SamplingArgs>, client: Client| async move {
                    let reply = client
                        .sample(CreateMessageRequestParams::user_text(a.prompt, 100))
                        .await?;
                    Ok::<_, ToolError>(format!("LLM response: {}", sampled_text(&reply)))
                }),
        )
        .tool(
            Tool::new("test_elicitation")
                .description("Asks the user for a username and an email address")
                .handler(
                    |Args(a): Args<ElicitationArgs>, client: Client| async move {
                        let schema = json!({
                            "type": "object",
                            "properties": {
                                "username": {"type": "string", "description": "User's response"},
                                "email": {"type": "string", "description": "User's email address"},
                            },
                            "required": ["username", "email"],
                        });
                        let answer = client.elicit(form(&a.message, schema)?).await?;
                        Ok::<_, ToolError>(format!("User response: {}", describe(&answer)))
                    },
                ),
        )
        .tool(
            Tool::new("test_elicitation_sep1034_defaults")
                .description("Elicits a form whose fields all carry defaults (SEP-1034)")
                .handler(|client: Client| async move {
                    let schema = json!({
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "description": "User name", "default": "John Doe"},
                            "age": {"type": "integer", "description": "User age", "default": 30},
                            "score": {"type": "number", "description": "User score", "default": 95.5},
                            "status": {
                                "type": "string",
                                "description": "User status",
                                "enum": ["active", "inactive", "pending"],
                                "default": "active",
                            },
                            "verified": {"type": "boolean", "description": "Verified user", "default": true},
                        },
                    });
                    let answer = client
                        .elicit(form("Please review and update the form fields with defaults", schema)?)
                        .await?;
                    Ok::<_, ToolError>(format!("Elicitation completed: {}", describe(&answer)))
                }),
        )
        .tool(
            Tool::new("test_elicitation_sep1330_enums")
                .description("Elicits every enum form of SEP-1330")
                .handler(|client: Client| async move {
                    let schema = json!({
                        "type": "object",
                        "properties": {
                            "untitledSingle": {
                                "type": "string",
                                "description": "Pick one option",
                                "enum": ["option1", "option2", "option3"],
                            },
                            "titledSingle": {
                                "type": "string",
                                "description": "Pick one titled option",
                                "oneOf": [
                                    {"const": "value1", "title": "First Option"},
                                    {"const": "value2", "title": "Second Option"},
                                    {"const": "value3", "title": "Third Option"},
                                ],
                            },
                            "legacyEnum": {
                                "type": "string",
                                "description": "Pick one (legacy titles)",
                                "enum": ["opt1", "opt2", "opt3"],
                                "enumNames": ["Option One", "Option Two", "Option Three"],
                            },
                            "untitledMulti": {
                                "type": "array",
                                "description": "Pick several options",
                                "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
                            },
                            "titledMulti": {
                                "type": "array",
                                "description": "Pick several titled options",
                                "items": {"anyOf": [
                                    {"const": "value1", "title": "First Choice"},
                                    {"const": "value2", "title": "Second Choice"},
                                    {"const": "value3", "title": "Third Choice"},
                                ]},
                            },
                        },
                    });
                    let answer = client
                        .elicit(form("Please select options from the enum fields", schema)?)
                        .await?;
                    Ok::<_, ToolError>(format!("Elicitation completed: {}", describe(&answer)))
                }),
        )
        .tool(
            Tool::new("test_missing_capability")
                .description("Needs sampling: a client that did not declare it is refused")
                .handler(|client: Client| async move {
                    let reply = client
                        .sample(CreateMessageRequestParams::user_text("Say hello.", 20))
                        .await?;
                    Ok::<_, ToolError>(format!("LLM response: {}", sampled_text(&reply)))
                }),
        )
        .tool(
            Tool::new("test_streaming_elicitation")
                .description("Asks the user to confirm before answering")
                .handler(|client: Client| async move {
                    let schema = json!({
                        "type": "object",
                        "properties": {"confirm": {"type": "boolean"}},
                        "required": ["confirm"],
                    });
                    let answer = client.elicit(form("Continue?", schema)?).await?;
                    Ok::<_, ToolError>(format!("Streaming elicitation: {}", describe(&answer)))
                }),
        )
}

// ---------------------------------------------------------------------------------------------
// 2026-07-28 multi-round-trip fixtures (SEP-2322), with the keys the scenarios expect.

/// The elicitation asking for a name.
pub(crate) fn name_form(message: &str) -> Result<ElicitRequestParams, ToolError> {
    form(
        message,
        json!({
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        }),
    )
}

/// The string `field` of an accepted elicitation, if any.
pub(crate) fn accepted(answer: &ElicitResult, field: &str) -> Option<String> {
    let content = serde_json::to_value(&answer.content).ok()?;
    match content.get(field)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

async fn mrtr_elicitation(client: Client) -> Result<String, ToolError> {
    let answer = client
        .named("user_name")
        .elicit(name_form("What is your name?")?)
        .await?;
    let name = accepted(&answer, "name").unwrap_or_else(|| "stranger".to_owned());
    Ok(format!("Hello, {name}!"))
}

async fn mrtr_sampling(client: Client) -> Result<String, ToolError> {
    let reply = client
        .named("capital_question")
        .sample(CreateMessageRequestParams::user_text(
            "What is the capital of France?",
            100,
        ))
        .await?;
    Ok(format!("The model said: {}", sampled_text(&reply)))
}

async fn mrtr_roots(client: Client) -> Result<String, ToolError> {
    let roots = client.named("client_roots").roots().await?;
    let uris: Vec<&str> = roots.roots.iter().map(|r| r.uri.as_str()).collect();
    Ok(format!("Client roots: {}", uris.join(", ")))
}

async fn mrtr_request_state(client: Client) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
    });
    let answer = client
        .named("confirm")
        .elicit(form("Please confirm", schema)?)
        .await?;
    // Reaching here means the server verified the echoed, signed requestState.
    Ok(format!("state-ok: {}", describe(&answer)))
}

async fn mrtr_multiple(client: Client) -> Result<String, ToolError> {
    let (name, greeting, roots) = (
        client.named("user_name"),
        client.named("greeting"),
        client.named("client_roots"),
    );
    let form = name_form("What is your name?")?;
    let (answer, reply, listed) = tokio::join!(
        name.elicit(form),
        greeting.sample(CreateMessageRequestParams::user_text(
            "Generate a greeting",
            50
        )),
        roots.roots(),
    );
    let (answer, reply, listed) = (answer?, reply?, listed?);
    Ok(format!(
        "name={}, greeting={}, roots={}",
        accepted(&answer, "name").unwrap_or_default(),
        sampled_text(&reply),
        listed.roots.len()
    ))
}

async fn mrtr_multi_round(client: Client) -> Result<String, ToolError> {
    let first = client
        .named("step1")
        .elicit(name_form("Step 1: What is your name?")?)
        .await?;
    let color = json!({
        "type": "object",
        "properties": {"color": {"type": "string"}},
        "required": ["color"],
    });
    let second = client
        .named("step2")
        .elicit(form("Step 2: What is your favorite color?", color)?)
        .await?;
    Ok(format!(
        "{} likes {}",
        accepted(&first, "name").unwrap_or_default(),
        accepted(&second, "color").unwrap_or_default()
    ))
}

async fn mrtr_tampered(client: Client) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
    });
    let answer = client
        .named("confirm")
        .elicit(form("Please confirm", schema)?)
        .await?;
    Ok(format!("confirmed: {}", describe(&answer)))
}

/// Asks only for what the client declared: sampling and elicitation, each when supported.
async fn mrtr_capabilities(client: Client, caps: ClientCapabilities) -> Result<String, ToolError> {
    let (sampler, elicitor) = (client.named("sampling_input"), client.named("elicit_input"));
    let sample = async {
        if caps.sampling.is_some() {
            sampler
                .sample(CreateMessageRequestParams::user_text("Say hi", 20))
                .await
                .map(|r| Some(sampled_text(&r)))
        } else {
            Ok(None)
        }
    };
    let elicit = async {
        if caps.supports_elicitation_form() {
            elicitor
                .elicit(name_form("What is your name?")?)
                .await
                .map(|a| Some(describe(&a)))
        } else {
            Ok(None)
        }
    };
    let (sampled, elicited) = tokio::join!(sample, elicit);
    let (sampled, elicited) = (sampled?, elicited?);
    Ok(format!(
        "sampling: {}; elicitation: {}",
        sampled.as_deref().unwrap_or("not declared"),
        elicited.as_deref().unwrap_or("not declared")
    ))
}

fn input_required_tools(router: Router) -> Router {
    router
        .tool(
            Tool::new("test_input_required_result_elicitation")
                .description("Asks the user's name (input request `user_name`)")
                .handler(mrtr_elicitation),
        )
        .tool(
            Tool::new("test_input_required_result_sampling")
                .description("Asks the client's model a question (`capital_question`)")
                .handler(mrtr_sampling),
        )
        .tool(
            Tool::new("test_input_required_result_list_roots")
                .description("Asks for the client's roots (`client_roots`)")
                .handler(mrtr_roots),
        )
        .tool(
            Tool::new("test_input_required_result_request_state")
                .description("Asks for a confirmation; answers state-ok once the state verifies")
                .handler(mrtr_request_state),
        )
        .tool(
            Tool::new("test_input_required_result_multiple_inputs")
                .description("Asks for an elicitation, a sampling call and the roots at once")
                .handler(mrtr_multiple),
        )
        .tool(
            Tool::new("test_input_required_result_multi_round")
                .description("Asks in two rounds (`step1`, then `step2`)")
                .handler(mrtr_multi_round),
        )
        .tool(
            Tool::new("test_input_required_result_tampered_state")
                .description("Asks for a confirmation under a signed requestState")
                .handler(mrtr_tampered),
        )
        .tool(
            Tool::new("test_input_required_result_capabilities")
                .description("Asks only for what the client declared it supports")
                .handler(mrtr_capabilities),
        )
}

// ---------------------------------------------------------------------------------------------
// Resources.

fn resources(router: Router) -> Router {
    router
        .resource(
            Resource::new("test://static-text", "static-text")
                .description("A static text resource")
                .mime_type("text/plain")
                .text("This is the content of the static text resource."),
        )
        .resource(
            Resource::new("test://static-binary", "static-binary")
                .description("A static binary resource (a 1x1 red PNG)")
                .mime_type("image/png")
                .handler(|r| async move {
                    Ok(vec![ResourceContents::blob(
                        r.uri,
                        Some("image/png"),
                        &media::red_pixel_png(),
                    )])
                }),
        )
        .resource(
            Resource::new("test://watched-resource", "watched-resource")
                .description("A resource clients may subscribe to")
                .mime_type("text/plain")
                .text("This resource can be watched for updates."),
        )
        .template(
            ResourceTemplate::new("test://template/{id}/data", "template-data")
                .description("Data for an id, from a template")
                .mime_type("application/json")
                .complete("id", vec!["123", "456", "789"])
                .handler(|r| async move {
                    let id = r.vars.get("id").cloned().unwrap_or_default();
                    let text = json!({
                        "id": id,
                        "templateTest": true,
                        "data": format!("Data for ID: {id}"),
                    });
                    Ok(vec![ResourceContents::text(
                        r.uri,
                        Some("application/json"),
                        text.to_string(),
                    )])
                }),
        )
}

// ---------------------------------------------------------------------------------------------
// Prompts.

/// A user message with one content block.
fn user(content: ContentBlock) -> PromptMessage {
    PromptMessage {
        role: Role::User,
        content,
    }
}

async fn prompt_needing_input(req: PromptRequest) -> Result<Vec<PromptMessage>, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {"context": {"type": "string"}},
        "required": ["context"],
    });
    let answer = req
        .ctx
        .client()
        .named("user_context")
        .elicit(form("What context should the prompt use?", schema)?)
        .await?;
    let context = accepted(&answer, "context").unwrap_or_default();
    Ok(vec![PromptMessage::user(format!(
        "Answer with this context in mind: {context}"
    ))])
}

fn prompts(router: Router) -> Router {
    router
        .prompt(
            Prompt::new("test_simple_prompt")
                .description("A prompt without arguments")
                .handler(|_req| async {
                    Ok(vec![PromptMessage::user(
                        "This is a simple prompt for testing.",
                    )])
                }),
        )
        .prompt(
            Prompt::new("test_prompt_with_arguments")
                .description("A prompt with two required arguments")
                .argument("arg1", "First test argument", true)
                .argument("arg2", "Second test argument", true)
                .complete("arg1", vec!["paris", "park", "party", "test", "testing"])
                .complete("arg2", vec!["world", "wonder"])
                .handler(|req| async move {
                    Ok(vec![PromptMessage::user(format!(
                        "Prompt with arguments: arg1='{}', arg2='{}'",
                        req.arg("arg1").unwrap_or_default(),
                        req.arg("arg2").unwrap_or_default()
                    ))])
                }),
        )
        .prompt(
            Prompt::new("test_prompt_with_embedded_resource")
                .description("A prompt embedding the resource it is given")
                .argument("resourceUri", "URI of the resource to embed", true)
                .handler(|req| async move {
                    let uri = req.arg("resourceUri").unwrap_or_default().to_owned();
                    Ok(vec![
                        user(ContentBlock::resource(ResourceContents::text(
                            uri,
                            Some("text/plain"),
                            "Embedded resource content for testing.",
                        ))),
                        PromptMessage::user("Please process the embedded resource above."),
                    ])
                }),
        )
        .prompt(
            Prompt::new("test_prompt_with_image")
                .description("A prompt with an image")
                .handler(|_req| async {
                    Ok(vec![
                        user(ContentBlock::image(&media::red_pixel_png(), "image/png")),
                        PromptMessage::user("Please analyze the image above."),
                    ])
                }),
        )
        .prompt(
            Prompt::new("test_input_required_result_prompt")
                .description("Asks the user for context before it is built (`user_context`)")
                .handler(prompt_needing_input),
        )
}

// ---------------------------------------------------------------------------------------------
// Tools whose input schemas the suite inspects.

/// The object a JSON literal must be.
fn object(value: Value) -> mcp_protocol::JsonObject {
    match value {
        Value::Object(map) => map,
        _ => mcp_protocol::JsonObject::new(),
    }
}

/// A JSON Schema 2020-12 input schema using `$defs` with an `$anchor`, `$ref`, composition
/// (`allOf`/`anyOf`), conditionals (`if`/`then`/`else`) and `additionalProperties`: the
/// keywords a server must pass through untouched (SEP-1613, SEP-2106).
fn contact_schema() -> mcp_protocol::JsonObject {
    object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "postalAddress",
                "type": "object",
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string"},
                    "postcode": {"type": "string"},
                },
                "required": ["city"],
            },
        },
        "properties": {
            "name": {"type": "string", "description": "Who to contact"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"},
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {
            "properties": {"contactMethod": {"const": "phone"}},
            "required": ["contactMethod"],
        },
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false,
    }))
}

/// An input schema whose `region` argument is mirrored in the `Mcp-Param-Region` header.
fn region_schema() -> mcp_protocol::JsonObject {
    object(json!({
        "type": "object",
        "properties": {
            "region": {
                "type": "string",
                "description": "Where to run; sent in the Mcp-Param-Region header too",
                "x-mcp-header": "Region",
            },
            "query": {"type": "string", "description": "What to look up"},
        },
        "required": ["region"],
    }))
}

fn schema_tools(router: Router) -> Router {
    router
        .tool(
            Tool::new("json_schema_2020_12_tool")
                .description("Takes contact details under a JSON Schema 2020-12 input schema")
                .input_schema(contact_schema())
                .handler(|RawArgs(args): RawArgs| async move {
                    let name = args
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("someone");
                    format!("Will contact {name}")
                }),
        )
        .tool(
            Tool::new("test_custom_header")
                .description("Echoes its region, which clients also send as a header")
                .input_schema(region_schema())
                .handler(|RawArgs(args): RawArgs| async move {
                    let region = args.get("region").and_then(Value::as_str).unwrap_or("");
                    format!("Region: {region}")
                }),
        )
}

// ---------------------------------------------------------------------------------------------
// Hooks that change the lists, so that listen streams and sessions hear of it.

/// The temporary route a trigger adds and removes again.
const TEMPORARY: &str = "test_temporary_route";

fn change_triggers(router: Router) -> Router {
    let tools = router.clone();
    let prompts = router.clone();
    router
        .tool(
            Tool::new("test_trigger_tool_change")
                .description("Adds a tool and removes it again: two tools/list_changed")
                .handler(move || {
                    let tools = tools.clone();
                    async move {
                        tools.add_tool(
                            Tool::new(TEMPORARY)
                                .description("Exists for a moment")
                                .handler(|| async { "temporary" }),
                        );
                        tools.remove_tool(TEMPORARY);
                        "the tool list changed"
                    }
                }),
        )
        .tool(
            Tool::new("test_trigger_prompt_change")
                .description("Adds a prompt and removes it again: two prompts/list_changed")
                .handler(move || {
                    let prompts = prompts.clone();
                    async move {
                        prompts.add_prompt(
                            Prompt::new(TEMPORARY)
                                .description("Exists for a moment")
                                .handler(|_req| async { Ok(vec![PromptMessage::user("hi")]) }),
                        );
                        prompts.remove_prompt(TEMPORARY);
                        "the prompt list changed"
                    }
                }),
        )
}
