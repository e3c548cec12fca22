//! Implementation info and icons.

use serde::{Deserialize, Serialize};

use crate::JsonObject;
use crate::wire::skip;

/// Name and version of an MCP implementation (client or server).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// A programmatic name.
    pub name: String,
    /// A display name (since 2025-06-18).
    #[serde(default, skip_serializing_if = "skip::unless_2025_06_18")]
    pub title: Option<String>,
    /// The version.
    pub version: String,
    /// A description (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub description: Option<String>,
    /// Icons (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub icons: Option<Vec<Icon>>,
    /// The project's website (since 2025-11-25).
    #[serde(default, skip_serializing_if = "skip::unless_2025_11_25")]
    pub website_url: Option<String>,
    /// Fields this crate does not know, kept for relaying.
    #[serde(flatten)]
    pub extra: JsonObject,
}

open_deserialize!(Implementation { name: "name", title: "title", version: "version", description: "description", icons: "icons", website_url: "websiteUrl" } required ["name", "version"]);

impl Implementation {
    /// An implementation with a name and version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            ..Self::default()
        }
    }
}

/// The theme an icon is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IconTheme {
    /// For light backgrounds.
    Light,
    /// For dark backgrounds.
    Dark,
}

/// An icon for an implementation, tool, prompt, resource or template. Since 2025-11-25.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    /// An `https:` or `data:` URI.
    pub src: String,
    /// The MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes such as `"48x48"` or `"any"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<String>>,
    /// The theme the icon suits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<IconTheme>,
}

impl Icon {
    /// Whether the icon's URI uses a scheme a client may load: `https:` or `data:`.
    /// Clients must refuse `javascript:`, `file:`, `ftp:`, `ws:` and the like.
    pub fn has_safe_scheme(&self) -> bool {
        let lower = self.src.trim_start().to_ascii_lowercase();
        lower.starts_with("https:") || lower.starts_with("data:")
    }
}
