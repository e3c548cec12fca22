//! Prompts: listing and getting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::JsonObject;
use crate::meta::Meta;
use crate::types::resources::cacheable_list_result;
use crate::types::result::{CacheScope, Complete, lenient_ttl};
use crate::types::{ContentBlock, Icon, InputResponses, Role};
use crate::wire::skip;

/// A prompt template the server offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    /// A programmatic name.
    pub name: String,
    /// A display name (since 2025-06-18).
    #[serde(default, skip_serializing_if = "skip::unless_2025_06_18")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The arguments it takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<PromptArgument>>,
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

open_deserialize!(Prompt { name: "name", title: "title", description: "description", arguments: "arguments", icons: "icons", meta: "_meta" } required ["name"]);

/// An argument of a prompt.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptArgument {
    /// A programmatic name.
    pub name: String,
    /// A display name (since 2025-06-18).
    #[serde(default, skip_serializing_if = "skip::unless_2025_06_18")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it must be given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Fields this crate does not know, kept for relaying.
    #[serde(flatten)]
    pub extra: JsonObject,
}

open_deserialize!(PromptArgument { name: "name", title: "title", description: "description", required: "required" } required ["name"]);

cacheable_list_result!(
    /// Result of `prompts/list`.
    ListPromptsResult, prompts: Prompt, "prompts"
);

/// Params of `prompts/get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPromptRequestParams {
    /// The prompt's name.
    pub name: String,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<BTreeMap<String, String>>,
    /// Answers to the server's input requests (2026-07-28 multi-round-trip).
    #[serde(default, skip_serializing_if = "skip::unless_2026_07_28")]
    pub input_responses: Option<InputResponses>,
    /// The opaque state the server returned, echoed exactly (2026-07-28).
    #[serde(default, skip_serializing_if = "skip::unless_2026_07_28")]
    pub request_state: Option<String>,
    /// Metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A message of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptMessage {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: ContentBlock,
}

impl PromptMessage {
    /// A user message with text.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: ContentBlock::text(text),
        }
    }

    /// An assistant message with text.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: ContentBlock::text(text),
        }
    }
}

/// Result of `prompts/get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPromptResult {
    /// `"complete"`.
    #[serde(default, skip_serializing_if = "skip::legacy_marker")]
    pub result_type: Complete,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
