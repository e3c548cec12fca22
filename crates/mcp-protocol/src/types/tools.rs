//! Tools: listing, calling, results, annotations and name rules.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::meta::Meta;
use crate::types::result::{CacheScope, Complete, lenient_ttl};
use crate::types::{ContentBlock, Icon, InputResponses, TaskMetadata};
use crate::wire::{skip, wire_revision};
use crate::{JsonObject, ProtocolVersion};

/// A tool the server offers.
///
/// `input_schema` and `output_schema` are kept as the JSON objects they are, every keyword
/// included, so a client relaying a tool loses nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The tool's name (see [`validate_tool_name`]).
    pub name: String,
    /// A display name (since 2025-06-18).
    #[serde(default, skip_serializing_if = "skip::unless_2025_06_18")]
    pub title: Option<String>,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments; `"type": "object"` at the root.
    pub input_schema: JsonObject,
    /// JSON Schema of `structuredContent` (since 2025-06-18; any schema since 2026-07-28, object
    /// schemas only before: a non-object schema is left out for older revisions).
    #[serde(default, skip_serializing_if = "skip_output_schema")]
    pub output_schema: Option<JsonObject>,
    /// Behaviour hints (since 2025-03-26).
    #[serde(default, skip_serializing_if = "skip::unless_2025_03_26")]
    pub annotations: Option<ToolAnnotations>,
    /// Task support (2025-11-25 experimental tasks only).
    #[serde(default, skip_serializing_if = "skip::unless_exactly_2025_11_25")]
    pub execution: Option<ToolExecution>,
    /// Icons (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub icons: Option<Vec<Icon>>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept for relaying.
    #[serde(flatten)]
    pub extra: JsonObject,
}

open_deserialize!(Tool { name: "name", title: "title", description: "description", input_schema: "inputSchema", output_schema: "outputSchema", annotations: "annotations", execution: "execution", icons: "icons", meta: "_meta" } required ["name", "inputSchema"]);

fn is_object_schema(schema: &JsonObject) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

fn skip_output_schema(schema: &Option<JsonObject>) -> bool {
    match schema {
        None => true,
        Some(s) => {
            let rev = wire_revision();
            rev < ProtocolVersion::V2025_06_18 || (rev.is_legacy() && !is_object_schema(s))
        }
    }
}

impl Tool {
    /// A tool with a name and an input schema.
    pub fn new(name: impl Into<String>, input_schema: JsonObject) -> Self {
        Self {
            name: name.into(),
            input_schema,
            ..Self::default()
        }
    }

    /// The name to show: `title`, then `annotations.title`, then `name`.
    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .or_else(|| self.annotations.as_ref().and_then(|a| a.title.as_deref()))
            .unwrap_or(&self.name)
    }
}

/// Hints about a tool's behaviour. Untrusted unless the server is trusted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not change its environment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy data (default true; meaningful only when not read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling twice with the same arguments has no further effect (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool reaches an open world of external entities (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
    /// Fields this crate does not know, kept for relaying.
    #[serde(flatten)]
    pub extra: JsonObject,
}

open_deserialize!(ToolAnnotations { title: "title", read_only_hint: "readOnlyHint", destructive_hint: "destructiveHint", idempotent_hint: "idempotentHint", open_world_hint: "openWorldHint" } required []);

impl ToolAnnotations {
    /// `readOnlyHint` with its default applied.
    pub fn is_read_only(&self) -> bool {
        self.read_only_hint.unwrap_or(false)
    }
    /// `idempotentHint` with its default applied.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent_hint.unwrap_or(false)
    }
    /// `destructiveHint` with its default applied.
    pub fn is_destructive(&self) -> bool {
        !self.is_read_only() && self.destructive_hint.unwrap_or(true)
    }
    /// `openWorldHint` with its default applied.
    pub fn is_open_world(&self) -> bool {
        self.open_world_hint.unwrap_or(true)
    }
}

/// Whether a tool can run as a task (2025-11-25 experimental tasks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// `forbidden`, `optional` or `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
}

/// Task support of a tool (2025-11-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never as a task.
    Forbidden,
    /// Either way.
    Optional,
    /// Only as a task.
    Required,
}

/// Result of `tools/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// `"complete"`.
    #[serde(default, skip_serializing_if = "skip::legacy_marker")]
    pub result_type: Complete,
    /// The tools on this page.
    pub tools: Vec<Tool>,
    /// Where the next page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// How long the result stays fresh, in milliseconds (2026-07-28).
    #[serde(
        default,
        deserialize_with = "lenient_ttl",
        skip_serializing_if = "skip::unless_2026_07_28"
    )]
    pub ttl_ms: Option<u64>,
    /// Who may share the cached result (2026-07-28).
    #[serde(default, skip_serializing_if = "skip::unless_2026_07_28")]
    pub cache_scope: Option<CacheScope>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of `tools/call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// The tool's name.
    pub name: String,
    /// The arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// Answers to the server's input requests (2026-07-28 multi-round-trip).
    #[serde(default, skip_serializing_if = "skip::unless_2026_07_28")]
    pub input_responses: Option<InputResponses>,
    /// The opaque state the server returned with its input requests, echoed exactly.
    #[serde(default, skip_serializing_if = "skip::unless_2026_07_28")]
    pub request_state: Option<String>,
    /// Run as a task (2025-11-25 experimental tasks).
    #[serde(default, skip_serializing_if = "skip::unless_exactly_2025_11_25")]
    pub task: Option<TaskMetadata>,
    /// Metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `tools/call`.
///
/// `structured_content` may be any JSON value in 2026-07-28; older revisions allow only objects,
/// so a non-object is left out when serializing for them (the JSON text block that
/// [`CallToolResult::structured`] adds still carries it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// `"complete"`.
    #[serde(default, skip_serializing_if = "skip::legacy_marker")]
    pub result_type: Complete,
    /// The unstructured result.
    pub content: Vec<ContentBlock>,
    /// The structured result, conforming to the tool's output schema (since 2025-06-18).
    #[serde(default, skip_serializing_if = "skip_structured")]
    pub structured_content: Option<Value>,
    /// Whether the tool failed (execution and input-validation errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Metadata. Boxed: most results have none, and the result is moved by value on its way
    /// to the caller (288 bytes with it inline, 72 boxed).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Box<Meta>>,
}

fn skip_structured(value: &Option<Value>) -> bool {
    match value {
        None => true,
        Some(v) => {
            let rev = wire_revision();
            rev < ProtocolVersion::V2025_06_18 || (rev.is_legacy() && !v.is_object())
        }
    }
}

impl CallToolResult {
    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(text)],
            ..Self::default()
        }
    }

    /// A successful result with structured content and, for clients that do not read it, the
    /// same JSON as a text block.
    pub fn structured(value: Value) -> Self {
        Self {
            content: vec![ContentBlock::text(value.to_string())],
            structured_content: Some(value),
            ..Self::default()
        }
    }

    /// A failed result (`isError: true`) with one text block.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(text)],
            is_error: Some(true),
            ..Self::default()
        }
    }

    /// Whether the tool reported failure.
    pub fn is_error(&self) -> bool {
        self.is_error.unwrap_or(false)
    }
}

/// Why a tool name breaks the spec's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolNameError {
    /// Empty.
    #[error("tool name is empty")]
    Empty,
    /// Longer than 128 characters.
    #[error("tool name is {0} characters long; at most 128 are allowed")]
    TooLong(usize),
    /// Holds a character other than `A-Z a-z 0-9 _ - .`.
    #[error("tool name holds {0:?}; only A-Z, a-z, 0-9, '_', '-' and '.' are allowed")]
    InvalidChar(char),
}

/// The longest tool name the spec allows.
pub const MAX_TOOL_NAME_LEN: usize = 128;

/// Checks a tool name: 1 to 128 characters of `A-Z a-z 0-9 _ - .`.
///
/// ```
/// use mcp_protocol::types::validate_tool_name;
/// assert!(validate_tool_name("get_weather.v2").is_ok());
/// assert!(validate_tool_name("get weather").is_err());
/// ```
pub fn validate_tool_name(name: &str) -> Result<(), ToolNameError> {
    if name.is_empty() {
        return Err(ToolNameError::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(ToolNameError::InvalidChar(c));
    }
    if name.len() > MAX_TOOL_NAME_LEN {
        return Err(ToolNameError::TooLong(name.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::to_value_for;

    #[test]
    fn names() {
        assert_eq!(validate_tool_name(""), Err(ToolNameError::Empty));
        assert_eq!(
            validate_tool_name(&"a".repeat(129)),
            Err(ToolNameError::TooLong(129))
        );
        assert!(validate_tool_name(&"a".repeat(128)).is_ok());
        assert_eq!(
            validate_tool_name("a/b"),
            Err(ToolNameError::InvalidChar('/'))
        );
        assert_eq!(
            validate_tool_name("é"),
            Err(ToolNameError::InvalidChar('é'))
        );
    }

    #[test]
    fn array_structured_content_only_in_2026() {
        let r = CallToolResult::structured(serde_json::json!([1, 2]));
        let modern = to_value_for(&r, ProtocolVersion::V2026_07_28).unwrap();
        assert_eq!(modern["structuredContent"], serde_json::json!([1, 2]));
        let legacy = to_value_for(&r, ProtocolVersion::V2025_11_25).unwrap();
        assert!(legacy.get("structuredContent").is_none());
        assert_eq!(legacy["content"][0]["text"], "[1,2]");
        let obj = CallToolResult::structured(serde_json::json!({"a": 1}));
        let legacy = to_value_for(&obj, ProtocolVersion::V2025_06_18).unwrap();
        assert_eq!(legacy["structuredContent"]["a"], 1);
        let older = to_value_for(&obj, ProtocolVersion::V2025_03_26).unwrap();
        assert!(older.get("structuredContent").is_none());
    }

    #[test]
    fn unknown_schema_keywords_survive() {
        let json = serde_json::json!({
            "name": "t",
            "inputSchema": {"type": "object", "$defs": {"x": {"type": "string"}}, "x-custom": [1], "unevaluatedProperties": false},
            "x-vendor": {"keep": true}
        });
        let tool: Tool = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&tool).unwrap(), json);
    }
}
