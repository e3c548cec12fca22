//! The client commands: connect, do one thing, print it (table or JSON), disconnect. Ctrl-C (or
//! SIGTERM) at any point cancels what is in flight at the server, shuts a stdio server down and
//! exits with 130.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use mcp_client::{CallOptions, Client};
use mcp_protocol::types::{
    CallToolResult, CompleteRequestParams, CompleteResult, CompletionArgument, CompletionContext,
    CompletionReference, ContentBlock, DiscoverResult, GetPromptResult, LoggingLevel,
    ReadResourceResult, ResourceContents,
};
use mcp_protocol::{Era, ForRevision, ProtocolVersion};
use serde::Serialize;
use serde_json::{Value, json};

use crate::arguments;
use crate::cli::{Connect, Format, Output};
use crate::connect::{self, Connection};
use crate::exit::{Exit, Failure};
use crate::table::Table;
use crate::terminal::Terminal;

/// What a client command does once connected.
#[derive(Debug)]
pub(crate) enum Job {
    /// `mcp tools`.
    Tools,
    /// `mcp call`.
    Call {
        /// The tool.
        tool: String,
        /// `--arg` pairs.
        args: Vec<String>,
        /// `--json`.
        json: Option<String>,
    },
    /// `mcp resources`.
    Resources,
    /// `mcp read`.
    Read {
        /// The URI.
        uri: String,
    },
    /// `mcp prompts`.
    Prompts,
    /// `mcp prompt`.
    Prompt {
        /// The prompt.
        name: String,
        /// `--arg` pairs.
        args: Vec<String>,
    },
    /// `mcp complete`.
    Complete {
        /// A prompt or a resource template.
        reference: CompletionReference,
        /// The argument.
        argument: String,
        /// Typed so far.
        value: String,
        /// `--context` pairs.
        context: Vec<String>,
    },
    /// `mcp ping`.
    Ping,
    /// `mcp discover`.
    Discover,
}

/// Runs a client command from start to end and says how to exit.
pub(crate) async fn run(job: Job, connect: &Connect, output: &Output) -> Result<Exit, Failure> {
    let terminal = Terminal::new(output.format);
    // Check what can be checked before starting anything.
    let target = connect::resolve(connect)?;
    let headers = connect::headers(connect)?;
    let tls = connect::tls_options(connect)?;
    if let Job::Call { args, json, .. } = &job {
        arguments::pairs(args)?;
        if let Some(j) = json {
            arguments::json_object(j)?;
        }
    }
    if let Job::Prompt { args, .. } | Job::Complete { context: args, .. } = &job {
        arguments::pairs(args)?;
    }
    let options = connect::client_options(connect, &terminal);
    let mut interrupted = std::pin::pin!(interrupted());
    let connection = tokio::select! {
        c = connect::open(target, headers, tls, options) => c?,
        () = &mut interrupted => return Err(Failure::new(Exit::Interrupted, "interrupted while connecting")),
    };
    if output.verbose > 0 {
        show_server_logs(&connection.client, &terminal, output.verbose).await;
    }
    let finished = tokio::select! {
        r = execute(&job, &connection, &terminal, output.format) => Some(r),
        () = &mut interrupted => None,
    };
    // Out of `select!`, the job's future is dropped, and with it the call: the client has
    // queued `notifications/cancelled`. One more round trip makes sure it reached the server
    // before the connection closes.
    let outcome = match finished {
        Some(r) => r,
        None => {
            terminal.clear();
            barrier(&connection.client).await;
            Err(Failure::new(
                Exit::Interrupted,
                "interrupted: the call was cancelled",
            ))
        }
    };
    terminal.clear();
    connection.client.close().await;
    outcome
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminate = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// A round trip (`ping`, or `server/discover` in 2026-07-28) after a cancellation: messages go
/// out in order, so once it is answered the cancellation has been delivered. Bounded: a server
/// that does not answer is not waited for.
async fn barrier(client: &Client) {
    let _ = tokio::time::timeout(Duration::from_secs(2), ping(client)).await;
}

/// `ping` in a legacy session; `server/discover` in 2026-07-28, which has no ping.
async fn ping(client: &Client) -> Result<&'static str, mcp_client::ClientError> {
    if client.session().is_some_and(|s| s.era() == Era::Modern) {
        let _: DiscoverResult = client
            .request("server/discover", &json!({}), &CallOptions::default())
            .await?;
        Ok("server/discover")
    } else {
        client.ping().await?;
        Ok("ping")
    }
}

/// Prints the server's log messages (`notifications/message`) while the command runs. A legacy
/// server sends them once asked (`logging/setLevel`: info at -v, debug at -vv).
async fn show_server_logs(client: &Client, terminal: &Terminal, verbose: u8) {
    let session = client.session();
    if session
        .as_ref()
        .is_some_and(|s| s.era() == Era::Legacy && s.capabilities.logging.is_some())
    {
        let level = if verbose > 1 {
            LoggingLevel::Debug
        } else {
            LoggingLevel::Info
        };
        if let Err(e) = client.set_logging_level(level).await {
            terminal.say(&format!("(the server refused logging/setLevel: {e})"));
        }
    }
    let mut notifications = client.notifications();
    let terminal = terminal.clone();
    tokio::spawn(async move {
        loop {
            match notifications.recv().await {
                Ok(n) if n.method == "notifications/message" => {
                    if let Ok(params) = n.params_as::<Value>() {
                        terminal.log(&params);
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// The revision results are printed in (the one in use).
fn revision(client: &Client) -> ProtocolVersion {
    client
        .session()
        .map_or(ProtocolVersion::LATEST, |s| s.version)
}

/// `value` as JSON for `revision`, pretty-printed.
fn json_text<T: Serialize>(value: &T, revision: ProtocolVersion) -> Result<String, Failure> {
    serde_json::to_value(ForRevision::new(value, revision))
        .and_then(|v| serde_json::to_string_pretty(&v))
        .map_err(|e| Failure::new(Exit::Failed, format!("cannot print the result: {e}")))
}

/// Writes to stdout. A reader that stopped reading (`mcp tools | head -1`) is not an error: it
/// has what it wanted.
fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| {
            if text.ends_with('\n') {
                Ok(())
            } else {
                out.write_all(b"\n")
            }
        })
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(
            Exit::Failed,
            format!("cannot write the output: {e}"),
        )),
        _ => Ok(()),
    }
}

async fn execute(
    job: &Job,
    connection: &Connection,
    terminal: &Terminal,
    format: Format,
) -> Result<Exit, Failure> {
    let client = &connection.client;
    let rev = revision(client);
    match job {
        Job::Tools => {
            let tools = if offers(client, terminal, "tools", |c| c.tools.is_some()) {
                client.list_tools().await?
            } else {
                Vec::new()
            };
            if format == Format::Json {
                print(&json_text(
                    &json!({ "tools": tools_json(&tools, rev)? }),
                    rev,
                )?)?;
                return Ok(Exit::Ok);
            }
            let mut table = Table::new(&["NAME", "ARGUMENTS", "DESCRIPTION"]);
            for tool in &tools {
                table.row(vec![
                    tool.name.clone(),
                    argument_summary(&tool.input_schema),
                    tool.description
                        .clone()
                        .or(tool.title.clone())
                        .unwrap_or_default(),
                ]);
            }
            print(&table.render())?;
            Ok(Exit::Ok)
        }
        Job::Call { tool, args, json } => {
            // The schema types --arg values; it costs a tools/list, so only when needed.
            let schema = if args.is_empty() {
                None
            } else {
                client
                    .list_tools()
                    .await?
                    .into_iter()
                    .find(|t| &t.name == tool)
                    .map(|t| t.input_schema)
            };
            let arguments = arguments::tool_arguments(schema.as_ref(), json.as_deref(), args)?;
            let shown = terminal.clone();
            let options = CallOptions {
                progress: Some(Box::new(move |p| shown.progress(&p))),
                ..CallOptions::default()
            };
            let result = client.call_tool_with(tool, arguments, &options).await?;
            terminal.clear();
            if format == Format::Json {
                print(&json_text(&result, rev)?)?;
            } else {
                print(&call_text(&result))?;
            }
            Ok(if result.is_error() {
                Exit::ToolError
            } else {
                Exit::Ok
            })
        }
        Job::Resources => {
            let (resources, templates) =
                if offers(client, terminal, "resources", |c| c.resources.is_some()) {
                    (
                        client.list_resources().await?,
                        client.list_resource_templates().await?,
                    )
                } else {
                    (Vec::new(), Vec::new())
                };
            if format == Format::Json {
                let doc = json!({
                    "resources": to_json(&resources, rev)?,
                    "resourceTemplates": to_json(&templates, rev)?,
                });
                print(&json_text(&doc, rev)?)?;
                return Ok(Exit::Ok);
            }
            let mut table = Table::new(&["URI", "NAME", "MIME TYPE", "DESCRIPTION"]);
            for r in &resources {
                table.row(vec![
                    r.uri.clone(),
                    r.name.clone(),
                    r.mime_type.clone().unwrap_or_default(),
                    r.description
                        .clone()
                        .or(r.title.clone())
                        .unwrap_or_default(),
                ]);
            }
            let mut text = table.render();
            if !templates.is_empty() {
                let mut table = Table::new(&["URI TEMPLATE", "NAME", "MIME TYPE", "DESCRIPTION"]);
                for t in &templates {
                    table.row(vec![
                        t.uri_template.clone(),
                        t.name.clone(),
                        t.mime_type.clone().unwrap_or_default(),
                        t.description
                            .clone()
                            .or(t.title.clone())
                            .unwrap_or_default(),
                    ]);
                }
                text.push('\n');
                text.push_str(&table.render());
            }
            print(&text)?;
            Ok(Exit::Ok)
        }
        Job::Read { uri } => {
            let result: ReadResourceResult = client.read_resource(uri).await?;
            if format == Format::Json {
                print(&json_text(&result, rev)?)?;
            } else {
                let text: Vec<String> = result.contents.iter().map(contents_text).collect();
                print(&text.join("\n"))?;
            }
            Ok(Exit::Ok)
        }
        Job::Prompts => {
            let prompts = if offers(client, terminal, "prompts", |c| c.prompts.is_some()) {
                client.list_prompts().await?
            } else {
                Vec::new()
            };
            if format == Format::Json {
                print(&json_text(
                    &json!({ "prompts": to_json(&prompts, rev)? }),
                    rev,
                )?)?;
                return Ok(Exit::Ok);
            }
            let mut table = Table::new(&["NAME", "ARGUMENTS", "DESCRIPTION"]);
            for p in &prompts {
                let args: Vec<String> = p
                    .arguments
                    .iter()
                    .flatten()
                    .map(|a| {
                        if a.required == Some(true) {
                            a.name.clone()
                        } else {
                            format!("[{}]", a.name)
                        }
                    })
                    .collect();
                table.row(vec![
                    p.name.clone(),
                    args.join(" "),
                    p.description
                        .clone()
                        .or(p.title.clone())
                        .unwrap_or_default(),
                ]);
            }
            print(&table.render())?;
            Ok(Exit::Ok)
        }
        Job::Prompt { name, args } => {
            let arguments: BTreeMap<String, String> = arguments::pairs(args)?.into_iter().collect();
            let result: GetPromptResult = client.get_prompt(name, arguments).await?;
            if format == Format::Json {
                print(&json_text(&result, rev)?)?;
                return Ok(Exit::Ok);
            }
            let mut text = String::new();
            if let Some(d) = &result.description {
                text.push_str(&format!("{d}\n\n"));
            }
            for m in &result.messages {
                let role = json!(m.role);
                text.push_str(&format!(
                    "[{}]\n{}\n",
                    role.as_str().unwrap_or("?"),
                    block_text(&m.content)
                ));
            }
            print(&text)?;
            Ok(Exit::Ok)
        }
        Job::Complete {
            reference,
            argument,
            value,
            context,
        } => {
            let context: BTreeMap<String, String> =
                arguments::pairs(context)?.into_iter().collect();
            let params = CompleteRequestParams {
                reference: reference.clone(),
                argument: CompletionArgument {
                    name: argument.clone(),
                    value: value.clone(),
                },
                context: (!context.is_empty()).then_some(CompletionContext {
                    arguments: Some(context),
                }),
                meta: None,
            };
            let result: CompleteResult = client
                .request("completion/complete", &params, &CallOptions::default())
                .await?;
            if format == Format::Json {
                print(&json_text(&result, rev)?)?;
            } else {
                let mut text = result.completion.values.join("\n");
                if result.completion.has_more == Some(true) {
                    let total = result
                        .completion
                        .total
                        .map_or_else(String::new, |t| format!(" of {t}"));
                    text.push_str(&format!(
                        "\n({} shown{total}; type more to narrow)",
                        result.completion.values.len()
                    ));
                }
                print(&text)?;
            }
            Ok(Exit::Ok)
        }
        Job::Ping => {
            let started = Instant::now();
            let method = ping(client).await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if format == Format::Json {
                print(&json_text(
                    &json!({"ok": true, "method": method, "latencyMs": (ms * 1000.0).round() / 1000.0}),
                    rev,
                )?)?;
            } else {
                print(&format!("ok: {method} answered in {ms:.1} ms"))?;
            }
            Ok(Exit::Ok)
        }
        Job::Discover => {
            let session = client
                .session()
                .ok_or_else(|| Failure::new(Exit::Protocol, "the handshake settled nothing"))?;
            let era = match session.era() {
                Era::Modern => "modern",
                Era::Legacy => "legacy",
            };
            if format == Format::Json {
                let doc = json!({
                    "server": session.server_info,
                    "transport": connection.transport,
                    "era": era,
                    "protocolVersion": session.version.as_str(),
                    "supportedVersions": session.supported_versions,
                    "capabilities": serde_json::to_value(ForRevision::new(&session.capabilities, session.version)).unwrap_or_default(),
                    "instructions": session.instructions,
                    "sessionId": client.http_session_id(),
                });
                print(&serde_json::to_string_pretty(&doc).unwrap_or_default())?;
                return Ok(Exit::Ok);
            }
            let mut table = Table::new(&["", ""]);
            let info = session.server_info.as_ref();
            table.row(vec![
                "server".into(),
                info.map_or_else(
                    || "(did not say)".to_owned(),
                    |i| format!("{} {}", i.name, i.version),
                ),
            ]);
            table.row(vec!["transport".into(), connection.transport.into()]);
            table.row(vec!["era".into(), era.into()]);
            table.row(vec!["protocol".into(), session.version.as_str().into()]);
            if !session.supported_versions.is_empty() {
                table.row(vec![
                    "supported".into(),
                    session.supported_versions.join(", "),
                ]);
            }
            if let Some(id) = client.http_session_id() {
                table.row(vec!["session".into(), id]);
            }
            table.row(vec![
                "capabilities".into(),
                capability_summary(&session.capabilities),
            ]);
            if let Some(i) = &session.instructions {
                table.row(vec!["instructions".into(), i.clone()]);
            }
            // The header row is empty: drop it.
            let text = table.render();
            print(text.split_once('\n').map_or("", |(_, rest)| rest))?;
            Ok(Exit::Ok)
        }
    }
}

/// Whether the server declared the capability a listing needs. One that did not gets no
/// request (it would answer -32601): the list is empty, and stderr says why.
fn offers(
    client: &Client,
    terminal: &Terminal,
    what: &str,
    declared: impl Fn(&mcp_protocol::types::ServerCapabilities) -> bool,
) -> bool {
    let offered = client.session().is_some_and(|s| declared(&s.capabilities));
    if !offered {
        terminal.say(&format!("(the server does not offer {what})"));
    }
    offered
}

/// A list serialized for `revision`.
fn to_json<T: Serialize>(value: &T, revision: ProtocolVersion) -> Result<Value, Failure> {
    serde_json::to_value(ForRevision::new(value, revision))
        .map_err(|e| Failure::new(Exit::Failed, format!("cannot print the result: {e}")))
}

fn tools_json(
    tools: &[mcp_protocol::types::Tool],
    revision: ProtocolVersion,
) -> Result<Value, Failure> {
    to_json(&tools, revision)
}

/// `a b [c]`: the schema's properties, optional ones in brackets.
fn argument_summary(schema: &serde_json::Map<String, Value>) -> String {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return String::new();
    };
    let (mut needed, mut optional): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for name in properties.keys() {
        if required.contains(&name.as_str()) {
            needed.push(name.clone());
        } else {
            optional.push(format!("[{name}]"));
        }
    }
    needed.extend(optional);
    needed.join(" ")
}

/// `tools (listChanged), resources (subscribe), ...`.
fn capability_summary(c: &mcp_protocol::types::ServerCapabilities) -> String {
    let value = serde_json::to_value(c).unwrap_or_default();
    let Some(map) = value.as_object() else {
        return String::new();
    };
    map.iter()
        .map(|(name, v)| {
            let flags: Vec<&str> = v
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(_, f)| f.as_bool() == Some(true) || f.is_object())
                        .map(|(k, _)| k.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if flags.is_empty() {
                name.clone()
            } else {
                format!("{name} ({})", flags.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tool result for people: each content block, then the structured content unless a text
/// block already says the same.
fn call_text(result: &CallToolResult) -> String {
    let mut parts: Vec<String> = result.content.iter().map(block_text).collect();
    if let Some(structured) = &result.structured_content {
        let repeated = result.content.iter().any(|b| {
            b.as_text()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .is_some_and(|v| &v == structured)
        });
        if !repeated {
            parts.push(format!(
                "structured content:\n{}",
                serde_json::to_string_pretty(structured).unwrap_or_default()
            ));
        }
    }
    if result.is_error() && parts.is_empty() {
        parts.push("(the tool failed and said nothing)".into());
    }
    parts.join("\n")
}

/// A size in bytes from base64 text.
fn decoded_len(base64: &str) -> usize {
    let padding = base64.bytes().rev().take_while(|b| *b == b'=').count();
    (base64.len() / 4 * 3).saturating_sub(padding)
}

fn block_text(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Image(i) => {
            format!("[image {}, {} bytes]", i.mime_type, decoded_len(&i.data))
        }
        ContentBlock::Audio(a) => {
            format!("[audio {}, {} bytes]", a.mime_type, decoded_len(&a.data))
        }
        ContentBlock::ResourceLink(l) => format!("[resource link] {} ({})", l.uri, l.name),
        ContentBlock::Resource(r) => contents_text(&r.resource),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn contents_text(contents: &ResourceContents) -> String {
    match contents {
        ResourceContents::Text(t) => t.text.clone(),
        ResourceContents::Blob(b) => format!(
            "[{} {}, {} bytes]",
            b.uri,
            b.mime_type.as_deref().unwrap_or("blob"),
            decoded_len(&b.blob)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_summarized_required_first() {
        let schema = json!({"properties": {"delay_ms": {}, "steps": {}}, "required": ["steps"]});
        assert_eq!(
            argument_summary(schema.as_object().unwrap()),
            "steps [delay_ms]"
        );
    }

    #[test]
    fn base64_lengths() {
        assert_eq!(decoded_len("iVBORw=="), 4);
        assert_eq!(decoded_len(""), 0);
    }

    #[test]
    fn structured_content_is_shown_once() {
        let result: CallToolResult = serde_json::from_value(json!({
            "content": [{"type": "text", "text": "{\"sum\":5.0}"}],
            "structuredContent": {"sum": 5.0}
        }))
        .unwrap();
        assert_eq!(call_text(&result), "{\"sum\":5.0}");
    }
}
