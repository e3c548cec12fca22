//! Resources and resource templates: listing, reading, legacy subscriptions.

use serde::{Deserialize, Serialize};

use crate::JsonObject;
use crate::meta::Meta;
use crate::types::result::{CacheScope, Complete, lenient_ttl};
use crate::types::{Annotations, Icon, InputResponses, ResourceContents};
use crate::wire::skip;

/// A resource the server offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// The resource's URI.
    pub uri: String,
    /// A programmatic name.
    pub name: String,
    /// A display name (since 2025-06-18).
    #[serde(default, skip_serializing_if = "skip::unless_2025_06_18")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size in bytes, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Icons (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub icons: Option<Vec<Icon>>,
    /// Display hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept for relaying.
    #[serde(flatten)]
    pub extra: JsonObject,
}

open_deserialize!(Resource { uri: "uri", name: "name", title: "title", description: "description", mime_type: "mimeType", size: "size", icons: "icons", annotations: "annotations", meta: "_meta" } required ["uri", "name"]);

impl Resource {
    /// A resource with a URI and name.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            name: name.into(),
            ..Self::default()
        }
    }
}

/// A family of resources named by an RFC 6570 URI template.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// The URI template.
    pub uri_template: String,
    /// A programmatic name.
    pub name: String,
    /// A display name (since 2025-06-18).
    #[serde(default, skip_serializing_if = "skip::unless_2025_06_18")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type of every matching resource, if they share one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Icons (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub icons: Option<Vec<Icon>>,
    /// Display hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept for relaying.
    #[serde(flatten)]
    pub extra: JsonObject,
}

open_deserialize!(ResourceTemplate { uri_template: "uriTemplate", name: "name", title: "title", description: "description", mime_type: "mimeType", icons: "icons", annotations: "annotations", meta: "_meta" } required ["uriTemplate", "name"]);

macro_rules! cacheable_list_result {
    ($(#[$doc:meta])* $name:ident, $field:ident: $item:ty, $wire:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// `"complete"`.
            #[serde(default, skip_serializing_if = "skip::legacy_marker")]
            pub result_type: Complete,
            /// The items on this page.
            #[serde(rename = $wire)]
            pub $field: Vec<$item>,
            /// Where the next page starts; absent on the last page.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
            /// How long the result stays fresh, in milliseconds (2026-07-28).
            #[serde(default, deserialize_with = "lenient_ttl", skip_serializing_if = "skip::unless_2026_07_28")]
            pub ttl_ms: Option<u64>,
            /// Who may share the cached result (2026-07-28).
            #[serde(default, skip_serializing_if = "skip::unless_2026_07_28")]
            pub cache_scope: Option<CacheScope>,
            /// Metadata.
            #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
            pub meta: Option<Meta>,
        }
    };
}
pub(crate) use cacheable_list_result;

cacheable_list_result!(
    /// Result of `resources/list`.
    ListResourcesResult, resources: Resource, "resources"
);
cacheable_list_result!(
    /// Result of `resources/templates/list`.
    ListResourceTemplatesResult, resource_templates: ResourceTemplate, "resourceTemplates"
);

/// Params of `resources/read`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResourceRequestParams {
    /// The URI to read.
    pub uri: String,
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

/// Result of `resources/read`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResourceResult {
    /// `"complete"`.
    #[serde(default, skip_serializing_if = "skip::legacy_marker")]
    pub result_type: Complete,
    /// The contents (a resource may have several parts).
    pub contents: Vec<ResourceContents>,
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

/// Params of `resources/subscribe` and `resources/unsubscribe` (legacy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubscribeRequestParams {
    /// The URI.
    pub uri: String,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of `notifications/resources/updated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceUpdatedNotificationParams {
    /// The URI that changed (may be a sub-resource of the subscribed one).
    pub uri: String,
    /// Metadata (`subscriptionId` on a listen stream).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
