//! Golden vectors: every example message of the 2026-07-28 schema parses into our type for its
//! folder and serializes back to equal JSON.
//!
//! The examples are read from `$MCP_SPEC_DIR/2026-07-28/examples` (default `../shared/spec`
//! beside the repository). Without the folder these tests say plainly that they did not run,
//! unless `MCP_REQUIRE_SPEC` is set (as `cargo xtask ci` does), in which case they fail.

use std::path::{Path, PathBuf};

use mcp_protocol::jsonrpc::{self, ErrorResponse, Message, Notification, Request, Response};
use mcp_protocol::methods::{self, NotificationMethod, RequestMethod};
use mcp_protocol::types::*;
use mcp_protocol::{ErrorObject, McpError, ProtocolVersion};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn spec_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec"));
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("MCP_REQUIRE_SPEC").is_some() {
        panic!(
            "MCP spec folder {} is missing (MCP_REQUIRE_SPEC is set)",
            dir.display()
        );
    } else {
        eprintln!(
            "NOTE: golden-vector tests did NOT run: spec folder {} not found (set MCP_SPEC_DIR)",
            dir.display()
        );
        None
    }
}

/// JSON equality where numbers compare by value (`50` equals `50.0`), as JSON means them.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn plain<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialize example")
}

fn request<M: RequestMethod>(v: &Value) -> Result<Value, String> {
    let Message::Request(r) = jsonrpc::parse(&bytes(v)).map_err(|e| e.to_string())? else {
        return Err("not a request".into());
    };
    if r.method != M::METHOD {
        return Err(format!("method {} is not {}", r.method, M::METHOD));
    }
    let params: M::Params = r.params_as().map_err(|e| e.to_string())?;
    serde_json::to_value(Request::new(r.id, M::METHOD, params)).map_err(|e| e.to_string())
}

fn notification<M: NotificationMethod>(v: &Value) -> Result<Value, String> {
    let Message::Notification(n) = jsonrpc::parse(&bytes(v)).map_err(|e| e.to_string())? else {
        return Err("not a notification".into());
    };
    if n.method != M::METHOD {
        return Err(format!("method {} is not {}", n.method, M::METHOD));
    }
    let params: M::Params = n.params_as().map_err(|e| e.to_string())?;
    serde_json::to_value(Notification::new(M::METHOD, params)).map_err(|e| e.to_string())
}

fn response<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let Message::Response(r) = jsonrpc::parse(&bytes(v)).map_err(|e| e.to_string())? else {
        return Err("not a response".into());
    };
    let result: T = r.result_as().map_err(|e| e.to_string())?;
    serde_json::to_value(Response::new(r.id, result)).map_err(|e| e.to_string())
}

fn error_response(code: i64) -> impl Fn(&Value) -> Result<Value, String> {
    move |v| {
        let Message::Error(e) = jsonrpc::parse(&bytes(v)).map_err(|e| e.to_string())? else {
            return Err("not an error response".into());
        };
        if e.error.code != code {
            return Err(format!("code {} is not {code}", e.error.code));
        }
        // The typed error must read the data and write it back unchanged.
        let typed = McpError::from_error_object(e.error.clone());
        if matches!(typed, McpError::Other(_)) && code != -32020 {
            return Err(format!("code {code} did not read as a typed error"));
        }
        let back = typed.to_error_object(ProtocolVersion::V2026_07_28);
        if back.data != e.error.data {
            return Err(format!(
                "typed data changed: {:?} -> {:?}",
                e.error.data, back.data
            ));
        }
        serde_json::to_value(ErrorResponse::new(
            e.id,
            ErrorObject {
                message: e.error.message,
                ..back
            },
        ))
        .map_err(|e| e.to_string())
    }
}

fn error_object(code: i64) -> impl Fn(&Value) -> Result<Value, String> {
    move |v| {
        let e: ErrorObject = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        if e.code != code {
            return Err(format!("code {} is not {code}", e.code));
        }
        serde_json::to_value(e).map_err(|e| e.to_string())
    }
}

type Check = Box<dyn Fn(&Value) -> Result<Value, String>>;

fn check_for(folder: &str) -> Option<Check> {
    Some(match folder {
        "AudioContent" | "ImageContent" | "TextContent" | "ResourceLink" | "EmbeddedResource" => {
            Box::new(plain::<ContentBlock>)
        }
        "ToolUseContent" | "ToolResultContent" => Box::new(plain::<SamplingContentBlock>),
        "BlobResourceContents" => Box::new(plain::<BlobResourceContents>),
        "TextResourceContents" => Box::new(plain::<TextResourceContents>),
        "BooleanSchema"
        | "NumberSchema"
        | "StringSchema"
        | "TitledMultiSelectEnumSchema"
        | "TitledSingleSelectEnumSchema"
        | "UntitledMultiSelectEnumSchema"
        | "UntitledSingleSelectEnumSchema" => Box::new(plain::<PrimitiveSchema>),
        "ClientCapabilities" => Box::new(plain::<ClientCapabilities>),
        "ServerCapabilities" => Box::new(plain::<ServerCapabilities>),
        "ModelPreferences" => Box::new(plain::<ModelPreferences>),
        "Resource" => Box::new(plain::<Resource>),
        "Root" => Box::new(plain::<Root>),
        "SamplingMessage" => Box::new(plain::<SamplingMessage>),
        "Tool" => Box::new(plain::<Tool>),
        "CallToolRequest" => Box::new(request::<methods::CallTool>),
        "CallToolRequestParams" => Box::new(plain::<CallToolRequestParams>),
        "CallToolResult" => Box::new(plain::<CallToolResult>),
        "CallToolResultResponse" => Box::new(response::<CallOutcome<CallToolResult>>),
        "CancelledNotification" => Box::new(notification::<methods::Cancelled>),
        "CancelledNotificationParams" => Box::new(plain::<CancelledNotificationParams>),
        "CompleteRequest" => Box::new(request::<methods::Complete>),
        "CompleteRequestParams" => Box::new(plain::<CompleteRequestParams>),
        "CompleteResult" => Box::new(plain::<CompleteResult>),
        "CompleteResultResponse" => Box::new(response::<CompleteResult>),
        "CreateMessageRequest" | "ElicitRequest" | "ListRootsRequest" => {
            Box::new(plain::<InputRequest>)
        }
        "CreateMessageRequestParams" => Box::new(plain::<CreateMessageRequestParams>),
        "CreateMessageResult" => Box::new(plain::<CreateMessageResult>),
        "DiscoverRequest" => Box::new(request::<methods::Discover>),
        "DiscoverResult" => Box::new(plain::<DiscoverResult>),
        "DiscoverResultResponse" => Box::new(response::<DiscoverResult>),
        "ElicitRequestFormParams" => Box::new(plain::<ElicitRequestFormParams>),
        "ElicitRequestURLParams" => Box::new(plain::<ElicitRequestUrlParams>),
        "ElicitResult" => Box::new(plain::<ElicitResult>),
        "GetPromptRequest" => Box::new(request::<methods::GetPrompt>),
        "GetPromptRequestParams" => Box::new(plain::<GetPromptRequestParams>),
        "GetPromptResult" => Box::new(plain::<GetPromptResult>),
        "GetPromptResultResponse" => Box::new(response::<CallOutcome<GetPromptResult>>),
        "InputRequests" => Box::new(plain::<InputRequests>),
        "InputResponses" => Box::new(plain::<InputResponses>),
        "InputRequiredResult" => Box::new(plain::<InputRequiredResult>),
        "ListPromptsRequest" => Box::new(request::<methods::ListPrompts>),
        "ListPromptsResult" => Box::new(plain::<ListPromptsResult>),
        "ListPromptsResultResponse" => Box::new(response::<ListPromptsResult>),
        "ListResourceTemplatesRequest" => Box::new(request::<methods::ListResourceTemplates>),
        "ListResourceTemplatesResult" => Box::new(plain::<ListResourceTemplatesResult>),
        "ListResourceTemplatesResultResponse" => Box::new(response::<ListResourceTemplatesResult>),
        "ListResourcesRequest" => Box::new(request::<methods::ListResources>),
        "ListResourcesResult" => Box::new(plain::<ListResourcesResult>),
        "ListResourcesResultResponse" => Box::new(response::<ListResourcesResult>),
        "ListRootsResult" => Box::new(plain::<ListRootsResult>),
        "ListToolsRequest" => Box::new(request::<methods::ListTools>),
        "ListToolsResult" => Box::new(plain::<ListToolsResult>),
        "ListToolsResultResponse" => Box::new(response::<ListToolsResult>),
        "LoggingMessageNotification" => Box::new(notification::<methods::LoggingMessage>),
        "LoggingMessageNotificationParams" => Box::new(plain::<LoggingMessageNotificationParams>),
        "PaginatedRequestParams" => Box::new(plain::<PaginatedRequestParams>),
        "ProgressNotification" => Box::new(notification::<methods::Progress>),
        "ProgressNotificationParams" => Box::new(plain::<ProgressNotificationParams>),
        "PromptListChangedNotification" => Box::new(notification::<methods::PromptListChanged>),
        "ResourceListChangedNotification" => Box::new(notification::<methods::ResourceListChanged>),
        "ToolListChangedNotification" => Box::new(notification::<methods::ToolListChanged>),
        "ResourceUpdatedNotification" => Box::new(notification::<methods::ResourceUpdated>),
        "ResourceUpdatedNotificationParams" => Box::new(plain::<ResourceUpdatedNotificationParams>),
        "ReadResourceRequest" => Box::new(request::<methods::ReadResource>),
        "ReadResourceResult" => Box::new(plain::<ReadResourceResult>),
        "ReadResourceResultResponse" => Box::new(response::<CallOutcome<ReadResourceResult>>),
        "SubscriptionsAcknowledgedNotification" => {
            Box::new(notification::<methods::SubscriptionsAcknowledged>)
        }
        "SubscriptionsListenRequest" => Box::new(request::<methods::Listen>),
        "SubscriptionsListenResult" => Box::new(plain::<SubscriptionsListenResult>),
        "SubscriptionsListenResultResponse" => Box::new(response::<SubscriptionsListenResult>),
        "HeaderMismatchError" => Box::new(error_response(-32020)),
        "MissingRequiredClientCapabilityError" => Box::new(error_response(-32021)),
        "UnsupportedProtocolVersionError" => Box::new(error_response(-32022)),
        "InternalError" => Box::new(error_object(-32603)),
        "InvalidParamsError" => Box::new(error_object(-32602)),
        "MethodNotFoundError" => Box::new(error_object(-32601)),
        "ParseError" => Box::new(error_object(-32700)),
        _ => return None,
    })
}

#[test]
fn every_2026_example_round_trips() {
    let Some(spec) = spec_dir() else { return };
    let examples = spec.join("2026-07-28/examples");
    let mut folders: Vec<_> = std::fs::read_dir(&examples)
        .expect("examples folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for folder in &folders {
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let Some(check) = check_for(&name) else {
            failures.push(format!("{name}: no type is mapped to this folder"));
            continue;
        };
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .expect("folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "json"))
        {
            let text = std::fs::read_to_string(file).expect("read example");
            let original: Value = serde_json::from_str(&text).expect("example is JSON");
            checked += 1;
            match check(&original) {
                Ok(back) if json_eq(&original, &back) => {}
                Ok(back) => failures.push(format!(
                    "{}: round trip differs\n  in:  {original}\n  out: {back}",
                    file.display()
                )),
                Err(e) => failures.push(format!("{}: {e}", file.display())),
            }
        }
    }
    println!(
        "golden vectors: {checked} files in {} folders checked",
        folders.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} golden files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 100, "only {checked} golden files found");
}
